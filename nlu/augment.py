"""Training-time augmentation: typos and everyday chatter around the request.

Citizens' messages carry typing slips and greetings, thanks and stories around the one thing
they ask. Adding noisy copies of each example teaches the linear model which words matter.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from nlu.data import Example
from nlu.normalize import fold

__all__ = ["augment", "typo"]

_SOCIAL = frozenset({"greet", "goodbye", "thanks"})
_NEIGHBOURS = {
    "a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "g": "fh", "h": "gj", "i": "uo",
    "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et",
    "s": "ad", "t": "ry", "u": "yi", "v": "cb", "x": "zc", "y": "tu",
}
_PREFIXES = (
    "chào em, ", "cho tôi hỏi ", "bạn ơi cho hỏi ", "dạ cho cháu hỏi ", "em ơi ", "alo ",
    "xin chào, tôi muốn hỏi ", "bác muốn hỏi ", "ad ơi ", "tôi già rồi không rành, ",
    "chị ơi cho em hỏi chút ", "nhờ bạn chỉ giúp ", "hỏi chút ", "cho hỏi với ",
    "nhà tôi ở quê, ", "con tôi bảo hỏi ở đây, ",
)
_SUFFIXES = (
    " ạ", " với", " nhé", " cảm ơn", " cảm ơn nhiều", " giúp tôi với", " vậy", " nha",
    " được không", " thế", ", tôi cảm ơn", " nhờ chỉ giúp", " gấp", " hả em",
)


def typo(text: str, rng: random.Random, rate: float = 0.25) -> str:
    """The text with slips: dropped, doubled, swapped or neighbouring letters."""
    words = text.split()
    out = []
    for w in words:
        if len(w) >= 3 and rng.random() < rate:
            i = rng.randrange(len(w))
            op = rng.randrange(4)
            if op == 0:
                w = w[:i] + w[i + 1:]
            elif op == 1:
                w = w[:i] + w[i] + w[i:]
            elif op == 2 and i + 1 < len(w):
                w = w[:i] + w[i + 1] + w[i] + w[i + 2:]
            else:
                base = fold(w[i])
                if base in _NEIGHBOURS:
                    w = w[:i] + rng.choice(_NEIGHBOURS[base]) + w[i + 1:]
        out.append(w)
    return " ".join(out)


def augment(examples: Sequence[Example], copies: int = 2, seed: int = 13) -> list[Example]:
    """The examples plus noisy copies (typos, folded, chatter around the request)."""
    from nlu.rules import question_part, sentences

    rng = random.Random(seed)
    out = list(examples)
    for e in examples:
        if e.source != "nlu":
            continue  # names, aliases and FAQ questions are plentiful enough as they are
        parts = sentences(e.text) if len(e.text) > 80 else []
        asked = question_part(parts)
        if asked and len(asked) < len(parts):
            # A letter also teaches its question alone: the engine weighs the question most.
            out.append(Example(" ".join(parts[i].raw for i in asked), e.label, e.aspect,
                               "augmented"))
        for k in range(copies):
            text = e.text
            if k % 2 == 0:
                text = fold(text)
            text = typo(text, rng)
            if e.label not in _SOCIAL and rng.random() < 0.5:
                if rng.random() < 0.6:
                    text = rng.choice(_PREFIXES) + text
                if rng.random() < 0.5:
                    text = text + rng.choice(_SUFFIXES)
            out.append(Example(text, e.label, e.aspect, "augmented"))
    return out
