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


def test_the_held_out_real_questions_are_never_used_to_calibrate(content: Any) -> None:
    with pytest.raises(ValueError, match="held out"):
        calibrate(content, [Path("tests/data/nlu_real.yml")], write=False)
