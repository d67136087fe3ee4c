"""Sparse TF-IDF features of normalized text, computed without scikit-learn at parse time.

Two blocks, each L2-normalized: word unigrams and bigrams, and character 2-5-grams inside
each space-padded word (so typos still share most of their n-grams with the right word). The
character n-grams of a word are looked up once and remembered, which keeps a parse fast.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Featurizer", "raw_features"]

CHAR_MIN, CHAR_MAX = 2, 5
_EMPTY = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)


def char_grams(word: str) -> list[str]:
    """Character 2-5-grams of one space-padded word."""
    padded = f" {word} "
    n = len(padded)
    return [padded[i:i + k] for k in range(CHAR_MIN, CHAR_MAX + 1) for i in range(n - k + 1)]


def raw_features(norm: str) -> tuple[Counter[str], Counter[str]]:
    """Word and character n-gram counts of a normalized message."""
    words = norm.split()
    wc: Counter[str] = Counter(words)
    wc.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    cc: Counter[str] = Counter()
    for w in words:
        cc.update(char_grams(w))
    return wc, cc


def _unique_counts(ids: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``np.unique(ids, return_counts=True)`` for a non-empty 1-d array, without its
    general-purpose overhead (a parse weighs several small arrays)."""
    a = np.sort(ids)
    n = a.size
    edge = np.empty(n + 1, dtype=bool)  # where a run of equal ids starts, and the end
    edge[0] = edge[n] = True
    np.not_equal(a[1:], a[:-1], out=edge[1:n])
    at = edge.nonzero()[0]
    return a[at[:-1]], at[1:] - at[:-1]


class _Grams(dict[str, NDArray[np.int64]]):
    """Word -> its feature ids (``Featurizer._word_ids``), looked up when first met."""

    def __init__(self, featurizer: Featurizer) -> None:
        super().__init__()
        self.featurizer = featurizer

    def __missing__(self, word: str) -> NDArray[np.int64]:
        return self.featurizer._word_ids(word)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled empty: a memo
        return (_Grams, (self.featurizer,))


class Featurizer:
    """Vocabulary and IDF weights learnt from training texts; ``transform`` is pure Python."""

    def __init__(self, word_weight: float = 1.0, min_df_char: int = 2) -> None:
        self.word_weight = word_weight
        self.min_df_char = min_df_char
        self.word_vocab: dict[str, int] = {}
        self.char_vocab: dict[str, int] = {}
        self.word_idf: list[float] = []
        self.char_idf: list[float] = []
        self._grams = _Grams(self)
        self.idf: NDArray[np.float64] = np.zeros(0)

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        del state["_grams"]  # a parse-time memo, rebuilt on use
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._grams = _Grams(self)

    def clear_memo(self) -> None:
        """Forget the remembered n-grams of words (to time a parse of unseen words)."""
        self._grams.clear()

    def _word_ids(self, word: str) -> NDArray[np.int64]:
        """The word's own id (if in the vocabulary) and the ids of its character n-grams."""
        found = self._grams.get(word)
        if found is None:
            vocab = self.char_vocab
            own = self.word_vocab.get(word)
            found = np.fromiter(itertools.chain(
                () if own is None else (own,),
                (j for g in char_grams(word) if (j := vocab.get(g)) is not None)),
                dtype=np.int64)
            if len(self._grams) < 200_000:
                self._grams[word] = found
        return found

    @property
    def size(self) -> int:
        return len(self.word_vocab) + len(self.char_vocab)

    def fit(self, norms: Sequence[str]) -> Featurizer:
        wdf: Counter[str] = Counter()
        cdf: Counter[str] = Counter()
        for norm in norms:
            wc, cc = raw_features(norm)
            wdf.update(wc.keys())
            cdf.update(cc.keys())
        n = len(norms)
        words = sorted(wdf)
        chars = sorted(k for k, v in cdf.items() if v >= self.min_df_char)
        self.word_vocab = {w: i for i, w in enumerate(words)}
        offset = len(words)
        self.char_vocab = {c: offset + i for i, c in enumerate(chars)}
        self.word_idf = [math.log((1 + n) / (1 + wdf[w])) + 1 for w in words]
        self.char_idf = [math.log((1 + n) / (1 + cdf[c])) + 1 for c in chars]
        self.idf = np.asarray(self.word_idf + self.char_idf, dtype=np.float64)
        return self

    def ids(self, norm: str) -> NDArray[np.int64]:
        """Feature ids of one normalized text, with repeats: each word's own id and character
        n-grams (remembered per word), then the word bigrams.

        The ids of a message's sentences, concatenated, weigh like the whole message (bigrams
        across a sentence end excepted): a long message is looked up once per sentence.
        """
        arrays = self.id_pieces(norm)
        if not arrays:
            return _EMPTY
        return np.concatenate(arrays) if len(arrays) > 1 else arrays[0]

    def id_pieces(self, norm: str) -> list[NDArray[np.int64]]:
        """``ids`` in pieces, not joined (each word's, then the bigrams'): the pieces of a
        message's sentences are joined once, for the whole message."""
        words = norm.split()
        arrays = list(map(self._grams.__getitem__, words))
        if len(words) > 1:
            vocab = self.word_vocab
            arrays.append(np.asarray(
                [j for a, b in itertools.pairwise(words) if (j := vocab.get(f"{a} {b}"))
                 is not None], dtype=np.int64))
        return arrays

    def weigh(self, ids: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """TF-IDF weights of feature ids (word and character blocks, each L2-normalized)."""
        if ids.size == 0:
            return _EMPTY, _EMPTY_F
        uniq, counts = _unique_counts(ids)
        vals = np.log(counts)  # (1 + log tf) * idf, in place
        vals += 1.0
        vals *= self.idf[uniq]
        k = int(uniq.searchsorted(len(self.word_vocab)))  # word ids come before char ids
        words, chars = vals[:k], vals[k:]
        if k:
            words *= self.word_weight / np.sqrt(words @ words)
        if k < vals.size:
            chars *= 1.0 / np.sqrt(chars @ chars)
        return uniq, vals

    def transform_one(self, norm: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Feature indices and weights of one normalized message."""
        return self.weigh(self.ids(norm))

    def transform(self, norms: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int32],
                                                       NDArray[np.float64]]:
        """CSR parts (indptr, indices, data) for many messages."""
        parts = [self.transform_one(norm) for norm in norms]
        indptr = np.zeros(len(parts) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(i) for i, _ in parts])
        if not parts:
            return indptr, np.zeros(0, dtype=np.int32), np.zeros(0)
        return (indptr, np.concatenate([i for i, _ in parts]).astype(np.int32),
                np.concatenate([v for _, v in parts]))
