"""Office hours: when operators may be on duty, and how the hours read to a citizen."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from core.config import Settings

__all__ = ["duty_end", "hours_text", "is_open", "next_opening"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def _spans(settings: Settings, area: str, day: dt.date) -> list[tuple[dt.time, dt.time]]:
    out = []
    for span in settings.handover.hours_of(area).get(_DAYS[day.weekday()], []):
        a, b = span.split("-")
        end = dt.time.max if b == "24:00" else dt.time.fromisoformat(b)
        out.append((dt.time.fromisoformat(a), end))
    return out


def _local(settings: Settings, now: dt.datetime) -> dt.datetime:
    return now.astimezone(ZoneInfo(settings.timezone))


def is_open(settings: Settings, area: str, now: dt.datetime) -> bool:
    """Whether ``now`` falls within the area's office hours."""
    local = _local(settings, now)
    return any(a <= local.time() < b for a, b in _spans(settings, area, local.date()))


def duty_end(settings: Settings, area: str, now: dt.datetime) -> dt.datetime | None:
    """When a duty started now ends: the end of today's last office period (so an operator
    marks themselves once a day), or None when the office is closed now."""
    if not is_open(settings, area, now):
        return None
    local = _local(settings, now)
    last = max(b for _, b in _spans(settings, area, local.date()))
    return dt.datetime.combine(local.date(), last, local.tzinfo).astimezone(dt.UTC)


def next_opening(settings: Settings, area: str, now: dt.datetime) -> dt.datetime | None:
    """The next start of office hours after ``now`` (within two weeks)."""
    local = _local(settings, now)
    for i in range(15):
        day = local.date() + dt.timedelta(days=i)
        for a, _ in sorted(_spans(settings, area, day)):
            start = dt.datetime.combine(day, a, local.tzinfo)
            if start > local:
                return start.astimezone(dt.UTC)
    return None


def _hm(t: str) -> str:
    h, m = t.split(":")
    return f"{int(h)}h{m}" if m != "00" else f"{int(h)}h"


def hours_text(settings: Settings, area: str) -> str:
    """The office hours in plain Vietnamese: "Thứ Hai đến Thứ Sáu: 7h30-11h30, 13h30-17h;
    Thứ Bảy: 7h30-11h30"."""
    hours = settings.handover.hours_of(area)
    groups: list[tuple[int, int, list[str]]] = []
    for i, d in enumerate(_DAYS):
        spans = hours.get(d)
        if not spans:
            continue
        if groups and groups[-1][1] == i - 1 and groups[-1][2] == spans:
            groups[-1] = (groups[-1][0], i, spans)
        else:
            groups.append((i, i, spans))
    parts = []
    for a, b, spans in groups:
        days = _DAY_NAMES[a] if a == b else f"{_DAY_NAMES[a]} đến {_DAY_NAMES[b]}"
        times = ", ".join("-".join(_hm(t) for t in s.split("-")) for s in spans)
        parts.append(f"{days}: {times}")
    return "; ".join(parts)
