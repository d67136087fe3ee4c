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

import numpy as np
from numpy.typing import NDArray

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


class _WordRows(dict[str, "NDArray[np.intp]"]):
    """Word -> the rows of its own weighed features (its unigram and letter pieces), worked
    out when first met: ``map`` reads the known ones at C speed."""

    MEMO_MAX = 50_000

    def __init__(self, row: dict[str, int]) -> None:
        super().__init__()
        self.row = row

    def __missing__(self, word: str) -> NDArray[np.intp]:
        padded = f" {word} "
        pieces = {f"w:{word}"}
        for n in (3, 4, 5):
            pieces.update(f"c:{padded[i:i + n]}" for i in range(len(padded) - n + 1))
        row = self.row
        got = np.asarray([row[f] for f in pieces if f in row], dtype=np.intp)
        if len(self) < self.MEMO_MAX:
            self[word] = got
        return got


class _Weights:
    """The model's weights as an array, each weighed feature by its row, and each word's own
    features as rows (remembered: the letter pieces of a 100-word message were most of the
    cost of ``score``, and most of them carry no weight). A message's features are marked in a
    0/1 vector, so each one counts once, however many words share it."""

    def __init__(self, model: dict[str, Any]) -> None:
        weights: dict[str, float] = model["weights"]
        self.row = {f: i for i, f in enumerate(weights)}
        self.values = np.asarray(list(weights.values()), dtype=np.float64)
        self.bias = float(model["bias"])
        self.words = _WordRows(self.row)
        #: Word pairs ("b:a b") by their two words: a pair of words is looked up as it is.
        self.pairs = {tuple(f[2:].split(" ")): i for f, i in self.row.items()
                      if f.startswith("b:") and f.count(" ") == 1}


@lru_cache(maxsize=1)
def _weights() -> _Weights:
    return _Weights(_model())


def score(text: str) -> float:
    """How sure the model is that the message speaks of danger now (0-1). The same sum as
    over ``features(text)``, each weighed feature counted once."""
    w = _weights()
    words = normalize(text[-WINDOW:]).split()
    found = list(map(w.words.__getitem__, set(words)))
    found.append(np.asarray([j for j in map(w.pairs.get, pairwise(words))
                             if j is not None], dtype=np.intp))
    marked = np.zeros(w.values.size, dtype=np.float64)
    marked[np.concatenate(found)] = 1.0
    z = w.bias + float(w.values @ marked)
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def very_sure(text: str) -> bool:
    """Whether the model is sure enough for a closing line of numbers (its threshold was set
    on held-out folds of the training data, for at most 1 % of calm messages)."""
    return score(text) >= float(_model()["threshold"])
