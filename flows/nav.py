"""Typed words that act as the buttons of a walkthrough or a questionnaire.

Older citizens often type "tiếp", "quay lại", "có", "không" instead of tapping. A whole message
that is one of these words (with or without diacritics, with a polite particle or two) picks the
button with that role among the buttons shown last; anything longer is a question and goes to
the understanding engine.
"""

from __future__ import annotations

import re

from nlu.normalize import fold

__all__ = ["typed_payload"]

# Each phrase lists the roles it can mean, the most likely first: "rồi" after a step means
# "done, next", after a yes/no question it means "yes".
_PHRASES: dict[str, tuple[str, ...]] = {}


def _add(roles: tuple[str, ...], *phrases: str) -> None:
    for p in phrases:
        _PHRASES[fold(p)] = roles


_add(("next", "done"), "tiếp", "tiếp theo", "tiếp tục", "bước tiếp", "bước tiếp theo",
     "sang bước", "đi tiếp", "làm tiếp", "xem tiếp", "next", "tiep", "tiep theo")
_add(("done", "next"), "xong", "xong rồi", "làm xong", "làm xong rồi", "đã xong", "hết")
_add(("next", "done", "yes"), "rồi", "được rồi", "ok", "oke", "okay", "đã làm")
_add(("back",), "quay lại", "lùi", "lùi lại", "trở lại", "quay về", "bước trước",
     "quay lại bước trước", "back")
_add(("yes",), "có", "vâng", "dạ", "dạ có", "dạ vâng", "ừ", "ừm", "uh", "đúng", "đúng rồi",
     "phải", "có rồi", "yes", "co", "có chứ")
_add(("no",), "không", "ko", "k", "kg", "hông", "hổng", "hok", "không có", "chưa",
     "không phải", "không đúng", "chưa có", "no", "khong")
_add(("unsure",), "không rõ", "không biết", "chưa rõ", "không chắc", "ko biết", "hổng biết")
_add(("menu",), "menu", "về menu", "menu chính", "trang chủ", "quay về menu", "về trang chủ",
     "/menu")

# Polite particles and fillers that do not change what the word means.
_FILLERS = {"a", "nhe", "nha", "nhen", "di", "ha", "vay", "thoi", "nao", "ban", "em",
            "chau", "con", "toi", "minh", "ad", "bot"}
_TOKEN = re.compile(r"[a-z0-9/]+")


def _phrase(text: str) -> str | None:
    """The message reduced to a known phrase, or None when it says more than a button word."""
    if len(text) > 40:
        return None
    words = _TOKEN.findall(fold(text))
    while words and words[-1] in _FILLERS:
        words.pop()
    while words and words[0] in ("da", "thi") and " ".join(words) not in _PHRASES:
        words.pop(0)  # "dạ tiếp" = "tiếp"
    phrase = " ".join(words)
    return phrase if phrase in _PHRASES else None


def typed_payload(text: str, nav: dict[str, str]) -> str | None:
    """The payload of the shown button that ``text`` names, if it names one."""
    if not nav:
        return None
    phrase = _phrase(text)
    if phrase is None:
        return None
    for role in _PHRASES[phrase]:
        if role in nav:
            return nav[role]
    return None
