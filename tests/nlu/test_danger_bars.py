"""The bars of issue 11 on the frozen danger test pair, and on the tuning pair.

tests/data/danger_now.yml and danger_calm.yml were written by a separate writer before any
tuning and are frozen (tests/data/README.md): every danger-now message must be caught, and at
most 1 % of the calm look-alikes may get the emergency screen (``soft`` is not an alarm).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nlu.danger import assess

ROOT = Path(__file__).resolve().parents[2]
PAIRS = {
    "test": (ROOT / "tests/data/danger_now.yml", ROOT / "tests/data/danger_calm.yml"),
    "dev": (ROOT / "bench/data/danger_dev_now.yml", ROOT / "bench/data/danger_dev_calm.yml"),
    # Blind probe batches, written before the fixes they led to (2026-12-03).
    "dev_r8": (ROOT / "bench/data/danger_dev_r8_now.yml",
               ROOT / "bench/data/danger_dev_r8_calm.yml"),
    "dev_r9": (ROOT / "bench/data/danger_dev_r9_now.yml",
               ROOT / "bench/data/danger_dev_r9_calm.yml"),
    "dev_r10": (ROOT / "bench/data/danger_dev_r10_now.yml",
                ROOT / "bench/data/danger_dev_r10_calm.yml"),
}
#: At most this share of calm look-alikes get the closing line of numbers (``soft``): it was
#: 32 % on the dev pair and 16 % on the frozen pair, too noisy for elderly readers.
CLOSING_LINE_BAR = {"test": 0.10, "dev": 0.15, "dev_r8": 0.20, "dev_r9": 0.20, "dev_r10": 0.20}


def _texts(path: Path) -> list[str]:
    return [str(item["text"]) for item in yaml.safe_load(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_every_danger_now_message_is_caught(pair: str) -> None:
    missed = [t for t in _texts(PAIRS[pair][0]) if assess(t).level != "now"]
    assert missed == []


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_at_most_one_percent_of_calm_look_alikes_raise_an_alarm(pair: str) -> None:
    calm = _texts(PAIRS[pair][1])
    alarms = [t for t in calm if assess(t).level == "now"]
    assert len(alarms) <= 0.01 * len(calm), alarms


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_few_calm_look_alikes_get_the_closing_line_of_numbers(pair: str) -> None:
    calm = _texts(PAIRS[pair][1])
    soft = sum(d.level == "soft" or d.hunch for d in map(assess, calm))  # a count only
    assert soft <= CLOSING_LINE_BAR[pair] * len(calm), f"{soft}/{len(calm)}"


def test_the_frozen_pair_is_as_large_as_the_issue_asks() -> None:
    now, calm = (_texts(p) for p in PAIRS["test"])
    assert len(now) >= 150 and len(calm) >= 500


def test_calm_questions_typed_with_or_without_diacritics_raise_no_alarm(content: Any) -> None:
    """Every training example and evaluation item that is not an emergency, as written and
    folded (no diacritics: "sap nhap", "dang ky", "tu van" look like danger words)."""
    from nlu.data import read_rasa_yaml
    from nlu.normalize import fold

    texts = [e.text for f in content.nlu_files for e in read_rasa_yaml(f)
             if e.label != "emergency"]
    for path in (ROOT / "tests/data/nlu_eval.yml", ROOT / "tests/data/nlu_eval_hard.yml"):
        texts += [str(i["text"]) for i in yaml.safe_load(path.read_text(encoding="utf-8"))
                  if i["intent"] != "emergency"]
    alarms = [t for text in texts for t in (text, fold(text)) if assess(t).level == "now"]
    assert alarms == []
