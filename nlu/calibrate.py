"""Choosing the decision thresholds (``trolyso nlu calibrate``).

The answer threshold is the lowest confidence at which the answered messages are right at
least ``ANSWER_PRECISION`` of the time, pooled and in each source; below it, the top three
are offered while they still hold the right answer at least ``SUGGEST_TOP3`` of the time,
band by band (messages of confidence in [t, t + 0.1)), so that a good upper band does not
hide a useless lower one; below that, a person takes over. Measured on the evaluation files
and on out-of-fold predictions of a cross-validation over the training examples, so one file
does not decide alone. The held-out real citizens' questions (tests/data/nlu_real.yml) are
never used here.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nlu.builtin import THRESHOLDS_FILE, BuiltinEngine, TrainParams, train
from nlu.data import Example, label_of, load_eval, split_label, training_examples

__all__ = ["ANSWER_PRECISION", "SUGGEST_TOP3", "calibrate", "choose", "cv_outcomes"]

ANSWER_PRECISION = 0.95
SUGGEST_TOP3 = 0.75
SUGGEST_BAND = 0.1

Outcome = tuple[float, bool, bool]  # confidence, top guess right, right answer in the top 3


def _outcome(engine: BuiltinEngine, text: str, label: str) -> Outcome:
    """Right when the intent and service are: a finer label ("other_procedure") is its
    intent ("out_of_scope"), as an evaluation file writes it."""
    p = engine.parse(text)
    want = label_of(*split_label(label))
    top3 = [label_of(a.intent, a.service) for a in p.alternatives[:3]]
    return p.confidence, label_of(p.intent, p.service) == want, want in top3


def cv_outcomes(examples: Sequence[Example], content: Any, folds: int = 5,
                params: TrainParams | None = None) -> list[Outcome]:
    """Out-of-fold outcomes over the hand-written examples (names, aliases, FAQs stay in)."""
    own = [e for e in examples if e.source == "nlu"]
    extra = [e for e in examples if e.source != "nlu"]
    order = list(range(len(own)))
    random.Random(1).shuffle(order)
    out: list[Outcome] = []
    for k in range(folds):
        held = set(order[k::folds])
        engine = train([own[i] for i in order if i not in held] + extra, content, params)
        out.extend(_outcome(engine, own[i].text, own[i].label) for i in sorted(held))
    return out


#: A source whose answered messages are fewer than this does not decide the answer threshold
#: on its own (its precision would swing by a message).
MIN_ANSWERED = 20


def _precise(outcomes: Sequence[Outcome], t: float, at_least: int = 1) -> bool:
    answered = [ok for c, ok, _ in outcomes if c >= t]
    return len(answered) < at_least or (
        bool(answered) and sum(answered) / len(answered) >= ANSWER_PRECISION)


def choose(outcomes: Sequence[Outcome],
           groups: Sequence[Sequence[Outcome]] = ()) -> tuple[float, float]:
    """(answer, suggest) thresholds for the targets above.

    ``groups``: the sources the outcomes were pooled from (evaluation files, cross-validation).
    The answers must be right ``ANSWER_PRECISION`` of the time in each of them, not only
    pooled: a large easy source would otherwise hide a source of long real questions whose
    answers are wrong one time in twelve.
    """
    grid = [i / 100 for i in range(101)]
    answer = 1.0
    for t in grid:
        answered = [ok for c, ok, _ in outcomes if c >= t]
        if answered and _precise(outcomes, t) and all(
                _precise(g, t, MIN_ANSWERED) for g in groups):
            answer = t
            break
    suggest = answer
    for t in reversed([g for g in grid if g < answer]):
        band = [top3 for c, _, top3 in outcomes if t <= c < min(answer, t + SUGGEST_BAND)]
        if len(band) >= 5 and sum(band) / len(band) < SUGGEST_TOP3:
            break
        suggest = t
    return answer, suggest


def _summary(outcomes: Sequence[Outcome], answer: float, suggest: float) -> dict[str, Any]:
    n = len(outcomes) or 1
    answered = [ok for c, ok, _ in outcomes if c >= answer]
    band = [t3 for c, _, t3 in outcomes if suggest <= c < answer]
    return {
        "n": len(outcomes),
        "answered": round(len(answered) / n, 4),
        "answered_precision": round(sum(answered) / len(answered), 4) if answered else None,
        "suggested": round(len(band) / n, 4),
        "suggested_top3": round(sum(band) / len(band), 4) if band else None,
        "handed_over": round(sum(1 for c, _, _ in outcomes if c < suggest) / n, 4),
    }


def calibrate(content: Any, eval_files: Sequence[Path], write: bool = True) -> dict[str, Any]:
    """Choose thresholds on the evaluation files plus cross-validation; store them."""
    held_out = [p for p in eval_files if Path(p).name == "nlu_real.yml"]
    if held_out:
        raise ValueError(f"{held_out[0]} is held out: score it, never calibrate on it")
    examples = training_examples(content.nlu_files, content)
    engine = train(examples, content)
    sources: dict[str, list[Outcome]] = {}
    for path in eval_files:
        items = load_eval(path)
        sources[path.name] = [
            _outcome(engine, it["text"], label_of(it["intent"], it.get("service")))
            for it in items
        ]
    sources["cross-validation"] = cv_outcomes(examples, content)
    pooled = [o for outs in sources.values() for o in outs]
    answer, suggest = choose(pooled, list(sources.values()))
    result: dict[str, Any] = {
        "answer": answer,
        "suggest": suggest,
        "faq": 0.3,
        "soft_emergency": 0.08,
        "targets": {"answer_precision": ANSWER_PRECISION, "suggest_top3": SUGGEST_TOP3},
        "measured": {name: _summary(outs, answer, suggest) for name, outs in sources.items()},
    }
    if write:
        THRESHOLDS_FILE.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n",
                                   encoding="utf-8")
    return result

