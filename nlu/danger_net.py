"""A second net under the danger phrase tables: a small statistical model of danger wordings.

The phrase tables (``nlu.danger``) miss 5-30 % of the danger wordings of each new blind batch:
they generalise poorly. This model reads the words and the pieces of words of a message
(folded, repaired: "nga t xiu", "ngất xỉu" and "ngat xiu" look alike) and gives how sure it is
that someone is in danger. It is only a second net: when the tables see no danger word at all
and the model is very sure, ``assess`` answers ``soft`` (the answer, then one short line of
the emergency numbers); it never raises the emergency screen on its own.

Trained by ``bench/danger_net_train.py`` on the dev danger files and their calm look-alikes,
with the NLU training texts as everyday calm messages; the weights are in ``danger_net.json``.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from nlu.normalize import normalize

__all__ = ["WINDOW", "features", "score", "very_sure"]

_PATH = Path(__file__).with_name("danger_net.json")
#: The model reads the last ``WINDOW`` characters of a long message (the danger of a long
#: story is mostly at its end; the tables read the whole of it).
WINDOW = 1200


def features(text: str) -> set[str]:
    """Word 1-2-grams and 3-5-letter pieces (inside words) of the normalized message."""
    words = normalize(text[-WINDOW:]).split()
    out = {f"w:{w}" for w in words}
    out.update(f"b:{a} {b}" for a, b in pairwise(words))
    for w in words:
        padded = f" {w} "
        for n in (3, 4, 5):
            out.update(f"c:{padded[i:i + n]}" for i in range(len(padded) - n + 1))
    return out


@lru_cache(maxsize=1)
def _model() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_PATH.read_text(encoding="utf-8"))
    return data


#: Each word's own features that the model weighs (its unigram and letter pieces), remembered:
#: the letter pieces of a 100-word message were most of the cost of ``score`` (0.33 of 0.38 ms),
#: and most of them carry no weight.
_WORD_FEATURES: dict[str, tuple[str, ...]] = {}
_WORD_MEMO_MAX = 50_000


def _word_features(word: str, weights: dict[str, float]) -> tuple[str, ...]:
    got = _WORD_FEATURES.get(word)
    if got is None:
        padded = f" {word} "
        pieces = {f"w:{word}"}
        for n in (3, 4, 5):
            pieces.update(f"c:{padded[i:i + n]}" for i in range(len(padded) - n + 1))
        got = tuple(f for f in pieces if f in weights)
        if len(_WORD_FEATURES) < _WORD_MEMO_MAX:
            _WORD_FEATURES[word] = got
    return got


def score(text: str) -> float:
    """How sure the model is that the message speaks of danger now (0-1). The same sum as
    over ``features(text)``, each weighed feature counted once."""
    model = _model()
    weights: dict[str, float] = model["weights"]
    words = normalize(text[-WINDOW:]).split()
    seen: set[str] = set()
    for w in set(words):
        seen.update(_word_features(w, weights))
    seen.update(b for b in (f"b:{a} {b}" for a, b in pairwise(words)) if b in weights)
    z = float(model["bias"]) + sum(weights[f] for f in seen)
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def very_sure(text: str) -> bool:
    """Whether the model is sure enough for a closing line of numbers (its threshold was set
    on held-out folds of the training data, for at most 1 % of calm messages)."""
    return score(text) >= float(_model()["threshold"])
