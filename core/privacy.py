"""What is never stored as typed: phone and ID numbers, e-mail addresses; and the key that
ties a row without a user column to its citizen, so /xoadulieu can find it.

Numbers are written every which way: ``0912 345 678``, ``0912.345.678``, ``0912-345-678``,
``0912,345,678``, ``0912/345/678``, ``+84 912 345 678``, ``(+84) 912-345-678``,
``(028) 3823 4567``, ``079 123 456 789`` (a 12-digit citizen ID), ``0 9 1 2 3 4 5 6 7 8``. A run
of digits joined by such separators is masked when it holds 9 digits or more (phones are 10,
ID numbers 9 or 12); shorter runs are masked as before when they are 7 characters or more of
digits, spaces, dots and dashes (landlines, old IDs). Dates (8 digits) and small sums stay.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["NUMBER_MASK", "mask_numbers", "user_key"]

NUMBER_MASK = "<số>"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
#: Digits with up to three separators between them (space, no-break space, . , - / ( ) +).
_RUN = re.compile(r"[+(]{0,2}\d(?:[ \u00a0\t.,/()+\-]{0,3}\d)+\)?")
_SHORT = re.compile(r"\+?\d[\d .\-]{5,}\d")


def _mask_run(m: re.Match[str]) -> str:
    run = m.group(0)
    if sum(c.isdigit() for c in run) >= 9:
        return NUMBER_MASK
    return _SHORT.sub(NUMBER_MASK, run)


def mask_numbers(text: str) -> str:
    """``text`` with e-mail addresses, phone and ID numbers masked (idempotent)."""
    text = _EMAIL.sub("<email>", text)
    return _RUN.sub(_mask_run, text)


def user_key(channel: str, user_id: str) -> str:
    """A stable key for one citizen (SHA-256 of channel and id) for rows that must not show
    who asked, such as the unanswered-questions log read by the content team."""
    return hashlib.sha256(f"{channel}\x1f{user_id}".encode()).hexdigest()
