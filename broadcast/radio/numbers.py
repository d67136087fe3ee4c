"""Vietnamese number words as read on Northern commune radio (shared spec speech.md).

Cardinals follow the announcer's rules: "mốt" for a final 1 after twenty, "lăm" for a final 5
after ten, "tư" for a final 4 after twenty, "linh" for an empty tens place and "không trăm" for
an empty hundreds place inside a larger number (2023 "hai nghìn không trăm hai mươi ba").
"""

from __future__ import annotations

import re

__all__ = [
    "DIGITS",
    "read_decimal_part",
    "read_digits",
    "read_int",
    "read_leading_zero",
    "read_ordinal",
    "roman_to_int",
]

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_BILLION = 1_000_000_000
_SCALES = ("", "nghìn", "triệu")
_ROMAN_RE = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def _triple(n: int, full: bool) -> list[str]:
    """Words for 0 < n < 1000; ``full`` reads an empty hundreds place ("không trăm")."""
    h, rest = divmod(n, 100)
    t, u = divmod(rest, 10)
    words: list[str] = []
    if h or full:
        words += [DIGITS[h], "trăm"]
    if t == 0:
        if u:
            if h or full:
                words.append("linh")
            words.append(DIGITS[u])
    elif t == 1:
        words.append("mười")
        if u:
            words.append("lăm" if u == 5 else DIGITS[u])
    else:
        words += [DIGITS[t], "mươi"]
        if u:
            words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(u, DIGITS[u]))
    return words


def _below_billion(n: int, full: bool) -> list[str]:
    groups = []
    while n:
        n, g = divmod(n, 1000)
        groups.append(g)
    words: list[str] = []
    first = True
    for idx in range(len(groups) - 1, -1, -1):
        g = groups[idx]
        if not g:
            continue
        words += _triple(g, full=full or not first)
        if _SCALES[idx]:
            words.append(_SCALES[idx])
        first = False
    return words


def _int_words(n: int, full: bool = False) -> list[str]:
    if n >= _BILLION:
        hi, lo = divmod(n, _BILLION)
        words = [*_int_words(hi), "tỷ"]
        if lo:
            words += _below_billion(lo, full=True)
        return words
    return _below_billion(n, full)


def read_int(n: int) -> str:
    """Cardinal reading of a non-negative integer: 2023 -> "hai nghìn không trăm hai mươi ba"."""
    if n < 0:
        return "âm " + read_int(-n)
    if n == 0:
        return "không"
    return " ".join(_int_words(n))


def read_digits(digits: str) -> str:
    """Digit by digit, as phone numbers and hotlines are read: "113" -> "một một ba"."""
    return " ".join(DIGITS[int(d)] for d in digits if d.isdigit())


def read_leading_zero(digits: str) -> str:
    """A number written with leading zeros, keeping them: "06" -> "không sáu"."""
    stripped = digits.lstrip("0")
    zeros = len(digits) - len(stripped)
    head = ["không"] * zeros
    if stripped:
        head.append(read_int(int(stripped)))
    return " ".join(head) if head else "không"


def read_decimal_part(digits: str) -> str:
    """What follows "phẩy": 5 -> "năm", 25 -> "hai mươi lăm", 05 -> "không năm"."""
    if len(digits) > 3:
        return read_digits(digits)
    return read_leading_zero(digits)


def read_ordinal(n: int) -> str:
    """Ordinal after "thứ": 1 -> "nhất", 4 -> "tư", others as cardinals."""
    return {1: "nhất", 4: "tư"}.get(n, read_int(n))


def roman_to_int(token: str) -> int | None:
    """The value of a well-formed Roman numeral (upper case), else None."""
    if not token or not _ROMAN_RE.fullmatch(token):
        return None
    total = 0
    for i, ch in enumerate(token):
        v = _ROMAN[ch]
        nxt = _ROMAN[token[i + 1]] if i + 1 < len(token) else 0
        total += -v if v < nxt else v
    return total
