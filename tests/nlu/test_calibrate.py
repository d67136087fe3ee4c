"""Choosing the decision thresholds: answered messages are right, suggestions hold the answer."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from nlu.calibrate import ANSWER_PRECISION, SUGGEST_TOP3, calibrate, choose, choose_sources


def test_the_answer_threshold_keeps_answers_right_and_a_useless_low_band_hands_over() -> None:
    outcomes = (
        [(0.9, True, True)] * 95 + [(0.9, False, True)] * 3      # answered: right 97 %
        + [(0.5, False, True)] * 20 + [(0.45, True, True)] * 5   # middle: top-3 holds it
        + [(0.15, False, False)] * 20                            # low: guesses are noise
    )
    answer, suggest = choose(outcomes)
    assert 0.5 < answer <= 0.9
    assert 0.15 < suggest <= 0.45


def test_each_source_keeps_its_answers_right_not_only_the_pooled_ones() -> None:
    easy = [(0.4, True, True)] * 300 + [(0.9, True, True)] * 300
    real = [(0.4, False, True)] * 8 + [(0.4, True, True)] * 22 + [(0.9, True, True)] * 30
    pooled, _ = choose(easy + real)
    each, _ = choose(easy + real, [easy, real])
    assert pooled <= 0.4 < each <= 0.9
    # A source with too few answered messages to measure does not decide alone.
    few = [(0.4, False, True)] * 3 + [(0.9, True, True)] * 5
    assert choose(easy + few, [easy, few])[0] <= 0.4


def _noisy(seed: int, n: int = 1500) -> list[tuple[float, bool, bool]]:
    """Outcomes whose top-3 hit rate rises with the confidence and crosses 0.75 at 0.25
    (few messages at low confidence, as in the real data)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        c = rng.uniform(0.05, 1.0) if rng.random() < 0.3 else rng.betavariate(5, 1.3)
        top3 = rng.random() < 1 / (1 + math.exp(-(math.log(3) + 12 * (c - 0.25))))
        right = top3 and rng.random() < min(1.0, 0.2 + c)
        out.append((round(c, 4), right, top3))
    return out


def test_a_noisy_curve_gives_a_stable_suggest_threshold_near_its_crossing() -> None:
    # Close versions of the data: the same messages with 3 % of them left out, eight ways.
    data = _noisy(11)
    rngs = [random.Random(k) for k in range(8)]
    chosen = [choose([o for o in data if rng.random() > 0.03]) for rng in rngs]
    suggests = [s for _, s in chosen]
    assert max(suggests) - min(suggests) <= 0.04, suggests
    assert all(0.18 <= s <= 0.32 for s in suggests), suggests


def test_the_answer_precision_target_is_met_and_the_lowest_guesses_are_useful() -> None:
    for seed in range(5):
        outcomes = _noisy(seed)
        answer, suggest = choose(outcomes)
        answered = [ok for c, ok, _ in outcomes if c >= answer]
        assert sum(answered) / len(answered) >= ANSWER_PRECISION
        # The answer threshold is the lowest that meets it.
        lower = [ok for c, ok, _ in outcomes if c >= answer - 0.01]
        assert sum(lower) / len(lower) < ANSWER_PRECISION
        # Just above the suggest threshold the guesses mostly hold the answer ...
        band = [t3 for c, _, t3 in outcomes if suggest <= c < suggest + 0.1]
        assert sum(band) / len(band) >= SUGGEST_TOP3 - 0.1
        # ... and what is handed over would mostly not have been helped by guesses.
        handed = [t3 for c, _, t3 in outcomes if c < suggest]
        assert not handed or sum(handed) / len(handed) < SUGGEST_TOP3


def test_guesses_stop_where_a_useless_tail_begins_however_good_the_band_above() -> None:
    outcomes = ([(0.9, True, True)] * 200 + [(0.5, False, True)] * 60
                + [(0.3, False, True)] * 20 + [(0.3, False, False)] * 20
                + [(0.1, False, False)] * 40)
    answer, suggest = choose(outcomes)
    assert answer > 0.5
    assert 0.3 < suggest <= 0.5


def test_too_few_messages_below_the_answer_threshold_fit_no_curve() -> None:
    top = [(0.9, True, True)] * 100
    assert choose(top) == (0.0, 0.0)
    # Ten wrong answers at 0.2 push the answer threshold above them; the ten are too few
    # to fit a curve, so they decide alone whether guesses are worth offering.
    assert choose(top + [(0.2, False, True)] * 10) == (0.21, 0.0)
    assert choose(top + [(0.2, False, False)] * 10) == (0.21, 0.21)


def test_the_cross_validation_weighs_as_one_run_whatever_its_seeds() -> None:
    eval_file = [(0.9, True, True)] * 50 + [(0.3, False, False)] * 40
    cv = [(0.9, True, True)] * 50 + [(0.3, False, True)] * 40
    one = choose_sources({"eval": [eval_file], "cv": [cv]})
    three = choose_sources({"eval": [eval_file], "cv": [cv, cv, cv]})
    assert (one.answer, one.suggest) == (three.answer, three.suggest)
    assert one.below == three.below == 80


def test_the_held_out_real_questions_are_never_used_to_calibrate(content: Any) -> None:
    with pytest.raises(ValueError, match="held out"):
        calibrate(content, [Path("tests/data/nlu_real.yml")], write=False)


def test_a_finer_label_is_right_when_its_intent_is(engine: Any) -> None:
    from nlu.calibrate import _outcome

    conf, right, top3 = _outcome(engine, "thủ tục nhận con nuôi", "other_procedure")
    assert engine.parse("thủ tục nhận con nuôi").label == "other_procedure"
    assert right and top3 and conf > 0.5
    assert _outcome(engine, "thủ tục nhận con nuôi", "out_of_scope")[1:] == (True, True)
