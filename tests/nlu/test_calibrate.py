"""Choosing the decision thresholds: answered messages are right, suggestions hold the answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nlu.calibrate import calibrate, choose


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


def test_the_held_out_real_questions_are_never_used_to_calibrate(content: Any) -> None:
    with pytest.raises(ValueError, match="held out"):
        calibrate(content, [Path("tests/data/nlu_real.yml")], write=False)


def test_a_finer_label_is_right_when_its_intent_is(engine: Any) -> None:
    from nlu.calibrate import _outcome

    conf, right, top3 = _outcome(engine, "thủ tục nhận con nuôi", "other_procedure")
    assert engine.parse("thủ tục nhận con nuôi").label == "other_procedure"
    assert right and top3 and conf > 0.5
    assert _outcome(engine, "thủ tục nhận con nuôi", "out_of_scope")[1:] == (True, True)
