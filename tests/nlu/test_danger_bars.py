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
}


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
