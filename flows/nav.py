"""Typed words that act as the buttons of a walkthrough or a questionnaire.

Older citizens often type "tiếp", "quay lại", "có", "không" instead of tapping. A whole message
that is one of these words (with or without diacritics, with a polite particle or two) picks the
button with that role among the buttons shown last; anything longer is a question and goes to
the understanding engine.
"""

from __future__ import annotations

import re

from nlu.normalize import fold

__all__ = ["asks_back", "asks_more", "asks_next", "closes", "typed_payload"]

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


# Said when no button of that role is shown: "ok" or "không cần nữa" after an answer closes the
# thread politely; "còn gì nữa", "giờ làm sao" after a question-and-answer asks for more of it.
_CLOSING = frozenset(fold(p) for p in (
    "ok", "oke", "okay", "ok rồi", "ừ", "ừm", "uh", "vâng", "dạ", "dạ vâng", "vâng ạ",
    "được rồi", "được", "không", "ko", "k", "không cần", "không cần nữa", "thôi",
    "thôi không cần", "thôi không cần nữa", "không hỏi nữa", "không có gì", "hết rồi",
    "vậy thôi", "thế thôi", "biết rồi", "hiểu rồi", "rõ rồi", "tôi hiểu rồi", "tôi biết rồi",
    "không còn gì", "không còn gì nữa", "vậy là đủ", "đủ rồi"))
_MORE = frozenset(fold(p) for p in (
    "còn gì nữa", "còn gì nữa không", "còn gì không", "còn gì khác không", "còn gì khác",
    "còn cách nào khác không", "còn cách nào khác", "có cách nào khác không", "cách khác",
    "còn cách khác không", "giờ làm sao", "giờ làm sao đây", "giờ phải làm sao",
    "bây giờ làm sao", "làm sao bây giờ", "giờ tôi phải làm gì", "giờ phải làm gì",
    "rồi sao nữa", "rồi sao", "thế thì sao", "vậy thì sao", "thế giờ làm sao",
    "vậy giờ làm sao", "sao nữa", "rồi làm gì nữa", "xong rồi làm gì", "còn nữa không",
    "nói thêm", "nói rõ hơn", "chi tiết hơn", "cụ thể hơn", "giải thích thêm", "xem thêm",
    # It did not work: the rest of the answer, then the topic's other questions.
    "vẫn không được", "vẫn không vào được", "vẫn chưa được", "vẫn lỗi", "vẫn bị lỗi",
    "làm rồi mà không được", "làm rồi vẫn không được", "thử rồi không được",
    "thử rồi vẫn không được", "không ăn thua", "vẫn không ăn thua"))


def _said(text: str) -> str | None:
    """The message folded and without trailing polite particles, when it is short."""
    if len(text) > 40:
        return None
    words = _TOKEN.findall(fold(text))
    whole = " ".join(words)
    while words and words[-1] in _FILLERS and " ".join(words) not in _CLOSING | _MORE:
        words.pop()
    return " ".join(words) or whole


_THANKS = re.compile(r"\s*\b(cam on|thank|thanks|tks|thank you)\b.*$")


def closes(text: str) -> str | None:
    """"ok", "không cần nữa", "thôi": done with the answer ("ack"); with a thank-you
    ("thôi không cần nữa, cảm ơn"): "thanks". None otherwise."""
    said = _said(text)
    if said is None:
        return None
    if said in _CLOSING:
        return "ack"
    return "thanks" if _THANKS.sub("", said) in _CLOSING else None


def asks_more(text: str) -> bool:
    """"còn gì nữa", "giờ làm sao": more about the answer just given."""
    return _said(text) in _MORE


def asks_back(text: str) -> bool:
    """"quay lại", "lùi" typed when no back button is shown."""
    phrase = _phrase(text)
    return phrase is not None and _PHRASES[phrase] == ("back",)


def asks_next(text: str) -> bool:
    """"tiếp", "tiếp theo" typed when no next button is shown (a service card: start)."""
    phrase = _phrase(text)
    return phrase is not None and _PHRASES[phrase] == ("next", "done")
