"""A private development set: held-out training examples made hard the way citizens write.

Used for cross-validation (``bench/nlu_bench.py --cv``) so that model choices are not tuned
on the project's evaluation files. Transforms: telex leftovers, teencode and regional words,
dropped diacritics, typos, and chatter around the request.
"""

from __future__ import annotations

import random
import re
import unicodedata

from nlu.augment import typo
from nlu.normalize import fold

__all__ = ["harden", "telex"]

_MARKS = {"\u0302": "^", "\u0306": "w", "\u031b": "w"}  # circumflex, breve, horn
_TONES = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_TEEN = [
    (r"\bkhông\b", ("ko", "k", "hông", "hok", "khum")), (r"\bđược\b", ("dc", "đc", "đk")),
    (r"\bgì\b", ("j", "chi")), (r"\bnhư thế nào\b", ("ntn", "răng")), (r"\bthế nào\b", ("ntn",)),
    (r"\bcăn cước công dân\b", ("cccd",)), (r"\bbảo hiểm y tế\b", ("bhyt",)),
    (r"\bbảo hiểm xã hội\b", ("bhxh",)), (r"\bgiấy phép lái xe\b", ("gplx",)),
    (r"\bsố điện thoại\b", ("sdt", "sđt")), (r"\bđăng ký\b", ("dk", "đk", "đăng kí")),
    (r"\btôi\b", ("tui", "t", "mình")), (r"\blàm\b", ("mần", "lm")), (r"\bở đâu\b", ("ở mô",)),
    (r"\bbao nhiêu\b", ("nhiêu", "bn")), (r"\bvậy\b", ("z", "dzậy", "rứa")),
    (r"\bmật khẩu\b", ("mk", "pass")), (r"\btài khoản\b", ("tk",)), (r"\brồi\b", ("r", "gòi")),
    (r"\bvới\b", ("vs",)), (r"\bbiết\b", ("bít", "bik")), (r"\bmuốn\b", ("mún",)),
]
_CHATTER_BEFORE = (
    "con chào cô chú ạ. ", "dạ cho em hỏi xíu, ", "trời ơi khổ quá, ", "bà con ơi, ",
    "tui ở dưới quê lên, không rành mấy cái này. ", "con tôi đi làm xa nên tôi tự hỏi. ",
    "hồi sáng ra phường mà đông quá nên về. ", "nói thiệt là tui hổng biết chữ nhiều, ",
)
_CHATTER_AFTER = (
    ". cảm ơn nhiều nha", ". mong được giúp đỡ", " nha con", ". tui chờ tin", " gấp lắm",
    ". xin cảm ơn ạ", ", chỉ giùm với", ". hỏi hoài mà hông ai chỉ",
)


def telex(text: str) -> str:
    """How the text looks when typed with telex keys and the IME switched off."""
    out = []
    for word in text.split(" "):
        tone = ""
        chars: list[str] = []
        for ch in unicodedata.normalize("NFD", word):
            if ch in _TONES:
                tone = _TONES[ch]
            elif ch in _MARKS:
                base = chars[-1] if chars else ""
                chars.append(base if _MARKS[ch] == "^" else "w")
            elif ch in "đĐ":
                chars.append("dd")
            else:
                chars.append(ch)
        out.append("".join(chars) + tone)
    return " ".join(out)


def harden(text: str, rng: random.Random) -> str:
    """A harder variant of a message: regional words, teencode, telex or no diacritics,
    typos, chatter."""
    t = unicodedata.normalize("NFC", text.lower())
    for pattern, choices in _TEEN:
        if rng.random() < 0.6:
            t = re.sub(pattern, rng.choice(choices), t)
    r = rng.random()
    if r < 0.3:
        t = telex(t)
    elif r < 0.8:
        t = fold(t)
    t = typo(t, rng, rate=0.3)
    if rng.random() < 0.4:
        t = rng.choice(_CHATTER_BEFORE) + t
    if rng.random() < 0.4:
        t = t + rng.choice(_CHATTER_AFTER)
    return t
