"""When a notice goes out: parsing times typed in chat or given on the command line.

All times are aware. A time without an offset is local (Asia/Ho_Chi_Minh by default). A
repeating notice is stored as its first occurrence: later ones keep its local time of day
(daily) or its weekday and time (weekly).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

__all__ = [
    "ScheduleError",
    "latest_fire",
    "next_at_time",
    "next_fire",
    "parse_at",
    "parse_chat_when",
    "parse_hhmm",
]

_HHMM = re.compile(r"^\s*([01]?\d|2[0-3])\s*(?:[:.]\s*([0-5]\d)|(?:h|g|giờ)\s*([0-5]\d)?)\s*$",
                   re.IGNORECASE)
_DATE = re.compile(r"(\d{1,2})\s*[/-]\s*(\d{1,2})(?:\s*[/-]\s*(\d{4}))?")


class ScheduleError(ValueError):
    """A time that cannot be used; the message says why (English, for the CLI)."""


def parse_hhmm(text: str) -> tuple[int, int] | None:
    """``"8:00"``, ``"08h30"``, ``"8h"``, ``"17.45"`` → (hour, minute); None otherwise."""
    m = _HHMM.match(text)  # a bare number ("8") is too ambiguous to be a time
    if not m:
        return None
    return int(m.group(1)), int(m.group(2) or m.group(3) or 0)


def next_at_time(hour: int, minute: int, now: dt.datetime, tz: ZoneInfo,
                 weekday: int | None = None) -> dt.datetime:
    """The next local ``hour:minute`` strictly after ``now`` (on ``weekday``, 0 = Monday)."""
    local = now.astimezone(tz)
    cand = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if weekday is not None:
        cand += dt.timedelta(days=(weekday - cand.weekday()) % 7)
    step = dt.timedelta(days=7 if weekday is not None else 1)
    while cand <= local:
        cand += step
    return cand


def parse_at(value: str, now: dt.datetime, tz: ZoneInfo) -> dt.datetime | None:
    """The CLI's ``--at``: ``now`` (None), ISO 8601, or ``HH:MM`` (the next such time)."""
    value = value.strip()
    if value.lower() == "now":
        return None
    hm = parse_hhmm(value)
    if hm is not None:
        return next_at_time(*hm, now, tz)
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ScheduleError(f"--at: {value!r} is not 'now', HH:MM or an ISO 8601 date and time"
                            ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when


def parse_chat_when(text: str, now: dt.datetime, tz: ZoneInfo) -> dt.datetime | None:
    """A time typed by a team member: ``8:00`` (next such time), ``25/12 8:00``,
    ``8:00 25/12/2026``. None when it cannot be read or is already past."""
    text = text.strip()
    local = now.astimezone(tz)
    d = _DATE.search(text)
    rest = (text[:d.start()] + " " + text[d.end():]).strip() if d else text
    hm = parse_hhmm(rest)
    if hm is None:
        return None
    if d is None:
        return next_at_time(*hm, now, tz)
    day, month = int(d.group(1)), int(d.group(2))
    year = int(d.group(3)) if d.group(3) else local.year
    try:
        when = dt.datetime(year, month, day, hm[0], hm[1], tzinfo=tz)
    except ValueError:
        return None
    if when <= local and not d.group(3):
        try:  # "25/01" typed in December means next January
            when = when.replace(year=year + 1)
        except ValueError:
            return None
    return when if when > local else None


def latest_fire(first: dt.datetime, repeat: str, now: dt.datetime,
                tz: ZoneInfo) -> dt.datetime:
    """The occurrence a release at ``now`` belongs to: the last one at or before ``now``.

    Two releases of the same occurrence (a job fired twice, two schedulers) get the same value,
    which the database keeps unique per notice."""
    if repeat == "none" or now <= first:
        return first
    step = dt.timedelta(days=7 if repeat == "weekly" else 1)
    local_first = first.astimezone(tz)
    n = int((now - first) / step)
    cand = local_first + n * step
    while cand + step <= now:
        cand += step
    return cand.astimezone(dt.UTC)


def next_fire(first: dt.datetime, repeat: str, now: dt.datetime) -> dt.datetime | None:
    """The next time a notice goes out after ``now``, or None for a one-off already past."""
    if first > now:
        return first
    if repeat == "none":
        return None
    step = dt.timedelta(days=7 if repeat == "weekly" else 1)
    n = int((now - first) / step) + 1
    return first + n * step
