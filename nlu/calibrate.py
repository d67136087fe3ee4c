"""Choosing the decision thresholds (``trolyso nlu calibrate``).

The answer threshold is the lowest confidence at which the answered messages are right at
least ``ANSWER_PRECISION`` of the time, pooled and in each source. Below it, the three best
guesses are offered down to the confidence where the chance that they hold the right answer
falls under ``SUGGEST_TOP3``; below that, a person takes over. That chance is a logistic
curve of "the right answer is in the top three" against the confidence, fitted on every
message below the answer threshold, so that a good upper band does not hide a useless lower
one and yet the choice does not hang on the dozen messages nearest the line (the band rule
used before 2026-12-04 moved between 0.17 and 0.30 when a few examples were added).

Measured on the evaluation files and on out-of-fold predictions of a cross-validation over
the training examples, dealt to the folds with several seeds (``CV_SEEDS``; each seed's
outcomes weigh 1 / len(CV_SEEDS), so the cross-validation weighs as one run), so one file or
one dealing does not decide alone. The held-out real citizens' questions
(tests/data/nlu_real.yml) are never used here.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nlu.builtin import THRESHOLDS_FILE, BuiltinEngine, TrainParams, train
from nlu.data import Example, label_of, load_eval, split_label, training_examples

__all__ = ["ANSWER_PRECISION", "CV_SEEDS", "SUGGEST_TOP3", "Choice", "calibrate", "choose",
           "choose_sources", "cv_outcomes", "measure"]

ANSWER_PRECISION = 0.95
SUGGEST_TOP3 = 0.75
#: Fold dealings of the cross-validation: one seed's threshold moved by up to 0.07 between
#: close data versions, the three pooled by 0.03 (bench/calib_stability.py).
CV_SEEDS = (1, 2, 3)
#: Thresholds are multiples of 1 / GRID.
GRID = 100
#: With fewer messages (weighted) below the answer threshold there is no curve to fit.
MIN_FIT = 20
#: Ridge on the slope of the fitted curve: keeps it finite when the data separate perfectly.
RIDGE = 1e-3

Outcome = tuple[float, bool, bool]  # confidence, top guess right, right answer in the top 3


def _outcome(engine: BuiltinEngine, text: str, label: str) -> Outcome:
    """Right when the intent and service are: a finer label ("other_procedure") is its
    intent ("out_of_scope"), as an evaluation file writes it."""
    p = engine.parse(text)
    want = label_of(*split_label(label))
    top3 = [label_of(a.intent, a.service) for a in p.alternatives[:3]]
    return p.confidence, label_of(p.intent, p.service) == want, want in top3


def cv_outcomes(examples: Sequence[Example], content: Any, folds: int = 5,
                params: TrainParams | None = None, seed: int = 1) -> list[Outcome]:
    """Out-of-fold outcomes over the hand-written examples (names, aliases, FAQs stay in);
    ``seed`` deals the examples to the folds."""
    own = [e for e in examples if e.source == "nlu"]
    extra = [e for e in examples if e.source != "nlu"]
    order = list(range(len(own)))
    random.Random(seed).shuffle(order)
    out: list[Outcome] = []
    for k in range(folds):
        held = set(order[k::folds])
        engine = train([own[i] for i in order if i not in held] + extra, content, params)
        out.extend(_outcome(engine, own[i].text, own[i].label) for i in sorted(held))
    return out


#: A source whose answered messages are fewer than this does not decide the answer threshold
#: on its own (its precision would swing by a message).
MIN_ANSWERED = 20

Histogram = NDArray[np.float64]  # per 1 / GRID bin of confidence: messages, top right, top 3


def _histogram(runs: Sequence[Sequence[Outcome]]) -> Histogram:
    """Counts per confidence bin, the mean over ``runs`` (the cross-validation seeds)."""
    h = np.zeros((GRID + 1, 3))
    for outcomes in runs:
        for c, right, top3 in outcomes:
            b = min(GRID, max(0, math.floor(c * GRID + 1e-9)))
            h[b] += (1.0, float(right), float(top3))
    return h / max(1, len(runs))


def _precise(above: Histogram, i: int, at_least: float = 1) -> bool:
    n, right = above[i, 0], above[i, 1]
    return bool(n < at_least or (n > 0 and right >= ANSWER_PRECISION * n - 1e-9))


def _fit(x: NDArray[np.float64], n: NDArray[np.float64],
         hits: NDArray[np.float64]) -> tuple[float, float]:
    """(intercept, slope) of P(hit) = 1 / (1 + exp(-(a + b x))), maximum likelihood with a
    ridge ``RIDGE`` on b, by Newton steps with step halving."""
    def loglik(beta: NDArray[np.float64]) -> float:
        z = beta[0] + beta[1] * x
        return float(np.sum(hits * z - n * np.logaddexp(0.0, z)) - RIDGE / 2 * beta[1] ** 2)

    beta = np.zeros(2)
    design = np.stack([np.ones_like(x), x], axis=1)
    for _ in range(200):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        grad = design.T @ (hits - n * p) - np.array([0.0, RIDGE * beta[1]])
        hess = (design * (n * p * (1 - p))[:, None]).T @ design + np.diag([1e-12, RIDGE])
        step = np.linalg.solve(hess, grad)
        base, scale = loglik(beta), 1.0
        while loglik(beta + scale * step) < base - 1e-12 and scale > 1e-6:
            scale /= 2
        beta = beta + scale * step
        if float(np.max(np.abs(scale * step))) < 1e-9:
            break
    return float(beta[0]), float(beta[1])


@dataclass(frozen=True)
class Choice:
    answer: float
    suggest: float
    #: The fitted curve (None when fewer than MIN_FIT messages lie below the answer threshold).
    intercept: float | None
    slope: float | None
    below: float  # messages (weighted) below the answer threshold


def _choose(pooled: Histogram, groups: Sequence[Histogram]) -> Choice:
    above = pooled[::-1].cumsum(axis=0)[::-1]
    group_above = [g[::-1].cumsum(axis=0)[::-1] for g in groups]
    a = GRID
    for i in range(GRID + 1):
        if above[i, 0] > 0 and _precise(above, i) and all(
                _precise(g, i, MIN_ANSWERED) for g in group_above):
            a = i
            break
    low = pooled[:a]
    below = float(low[:, 0].sum())
    if below < MIN_FIT:
        # Nothing to fit: guesses are offered unless the few messages show they are useless.
        useless = below > 0 and low[:, 2].sum() < SUGGEST_TOP3 * below
        return Choice(a / GRID, a / GRID if useless else 0.0, None, None, below)
    x = (np.arange(a) + 0.5) / GRID
    intercept, slope = _fit(x, low[:, 0], low[:, 2])
    s = a
    for i in range(a - 1, -1, -1):  # down from the answer threshold while the curve holds
        if 1.0 / (1.0 + math.exp(-(intercept + slope * i / GRID))) < SUGGEST_TOP3:
            break
        s = i
    return Choice(a / GRID, s / GRID, intercept, slope, below)


def choose(outcomes: Sequence[Outcome],
           groups: Sequence[Sequence[Outcome]] = ()) -> tuple[float, float]:
    """(answer, suggest) thresholds for the targets above.

    ``groups``: the sources the outcomes were pooled from (evaluation files, cross-validation).
    The answers must be right ``ANSWER_PRECISION`` of the time in each of them, not only
    pooled: a large easy source would otherwise hide a source of long real questions whose
    answers are wrong one time in twelve.
    """
    c = _choose(_histogram([outcomes]), [_histogram([g]) for g in groups])
    return c.answer, c.suggest


def choose_sources(sources: Mapping[str, Sequence[Sequence[Outcome]]]) -> Choice:
    """The thresholds from each source's runs (one for an evaluation file, one per fold seed
    for the cross-validation): a source weighs as one run, the mean of its runs."""
    hists = [_histogram(runs) for runs in sources.values()]
    return _choose(sum(hists, np.zeros((GRID + 1, 3))), hists)


def _summary(runs: Sequence[Sequence[Outcome]], answer: float, suggest: float) -> dict[str, Any]:
    outcomes = [o for run in runs for o in run]
    n = len(outcomes) or 1
    answered = [ok for c, ok, _ in outcomes if c >= answer]
    band = [t3 for c, _, t3 in outcomes if suggest <= c < answer]
    handed = sum(1 for c, _, _ in outcomes if c < suggest)
    return {
        "n": len(outcomes),
        "runs": len(runs),
        "answered": round(len(answered) / n, 4),
        "answered_precision": round(sum(answered) / len(answered), 4) if answered else None,
        "suggested": round(len(band) / n, 4),
        "suggested_top3": round(sum(band) / len(band), 4) if band else None,
        "handed_over": round(handed / n, 4),
        "counts": {"answered": len(answered), "answered_right": sum(answered),
                   "suggested": len(band), "suggested_top3": sum(band), "handed_over": handed},
    }


def _bands(sources: Mapping[str, Sequence[Sequence[Outcome]]], choice: Choice,
           width: float = 0.05) -> list[dict[str, Any]]:
    """Messages (weighted as in the choice) and top-3 hits per band below the answer."""
    pooled = sum((_histogram(r) for r in sources.values()), np.zeros((GRID + 1, 3)))
    step = round(width * GRID)
    out = []
    for lo in range(0, round(choice.answer * GRID), step):
        hi = min(lo + step, round(choice.answer * GRID))
        n, _, top3 = pooled[lo:hi].sum(axis=0)
        row: dict[str, Any] = {"from": lo / GRID, "to": hi / GRID, "messages": round(float(n), 1),
                               "top3": round(float(top3), 1)}
        if choice.slope is not None and choice.intercept is not None:
            x = (np.arange(lo, hi) + 0.5) / GRID
            p = 1.0 / (1.0 + np.exp(-(choice.intercept + choice.slope * x)))
            row["top3_fitted"] = round(float((pooled[lo:hi, 0] * p).sum()), 1)
        out.append(row)
    return out


def measure(content: Any, eval_files: Sequence[Path], folds: int = 5,
            cv_seeds: Sequence[int] = CV_SEEDS) -> dict[str, list[list[Outcome]]]:
    """Runs of outcomes per source: each evaluation file (one run, scored by the model trained
    on everything) and the out-of-fold cross-validation (one run per fold seed)."""
    held_out = [p for p in eval_files if Path(p).name == "nlu_real.yml"]
    if held_out:
        raise ValueError(f"{held_out[0]} is held out: score it, never calibrate on it")
    examples = training_examples(content.nlu_files, content)
    engine = train(examples, content)
    sources: dict[str, list[list[Outcome]]] = {}
    for path in eval_files:
        items = load_eval(path)
        sources[Path(path).name] = [[
            _outcome(engine, it["text"], label_of(it["intent"], it.get("service")))
            for it in items
        ]]
    sources["cross-validation"] = [cv_outcomes(examples, content, folds, seed=seed)
                                   for seed in cv_seeds]
    return sources


def calibrate(content: Any, eval_files: Sequence[Path], write: bool = True,
              cv_seeds: Sequence[int] = CV_SEEDS) -> dict[str, Any]:
    """Choose thresholds on the evaluation files plus cross-validation; store them."""
    sources = measure(content, eval_files, cv_seeds=cv_seeds)
    choice = choose_sources(sources)
    answer, suggest = choice.answer, choice.suggest
    result: dict[str, Any] = {
        "answer": answer,
        "suggest": suggest,
        "faq": 0.3,
        "soft_emergency": 0.08,
        "targets": {"answer_precision": ANSWER_PRECISION, "suggest_top3": SUGGEST_TOP3},
        "method": {
            "answer": "lowest multiple of 0.01 whose answers are right at the target, pooled "
                      f"and in each source with {MIN_ANSWERED} or more answers",
            "suggest": "lowest multiple of 0.01 down to which a logistic fit of top-3 hit "
                       "against confidence (messages below the answer threshold) stays at "
                       "the target",
            "cv_folds": 5, "cv_seeds": list(cv_seeds),
            "cv_weight": "each seed's outcomes weigh 1/len(cv_seeds)",
        },
        "suggest_fit": {
            "intercept": None if choice.intercept is None else round(choice.intercept, 4),
            "slope": None if choice.slope is None else round(choice.slope, 4),
            "messages_below_answer": round(choice.below, 1),
            "bands": _bands(sources, choice),
        },
        "measured": {name: _summary(runs, answer, suggest) for name, runs in sources.items()},
    }
    if write:
        THRESHOLDS_FILE.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n",
                                   encoding="utf-8")
    return result
