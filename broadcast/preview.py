"""What a notice will do before it is confirmed: whom it reaches (per area and channel), what
the loudspeakers will say, and what should be looked at first (warnings).

Used by the console's compose page; the chat preview (``broadcast.chat``) shows the same count
and spoken form. Warnings are codes; each interface words them in its own language.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Text, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.radio.normalize import Normalizer
from broadcast.types import Draft
from core.config import Settings
from core.models import Subscription, User

__all__ = ["Reach", "Warning", "leftovers", "only_emoji", "quiet_until", "reach", "spoken_form",
           "subscriber_groups", "warnings"]


@dataclass(frozen=True)
class Reach:
    """Subscribers a notice will go to (people who blocked the bot are counted apart)."""

    total: int = 0
    by_area: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    blocked: int = 0


@dataclass(frozen=True)
class Warning:
    code: str  # nobody | spoken_leftovers | emoji_only | zalo_quiet
    detail: str = ""


async def subscriber_groups(session: AsyncSession
                            ) -> list[tuple[str, list[str], list[str], bool, int]]:
    """Subscribers grouped by (channel, areas, topics, blocked the bot), with a count each.

    A ward has thousands of subscribers but few distinct choices of areas and topics: the
    database groups them (the same SQL on SQLite and PostgreSQL) and Python only sees groups."""
    areas_t, topics_t = cast(Subscription.areas, Text), cast(Subscription.topics, Text)
    blocked = User.blocked_at.is_not(None)
    rows = await session.execute(
        select(Subscription.channel, areas_t, topics_t, blocked, func.count())
        .select_from(Subscription)
        .outerjoin(User, and_(User.channel == Subscription.channel,
                              User.user_id == Subscription.user_id))
        .group_by(Subscription.channel, areas_t, topics_t, blocked))
    return [(channel, json.loads(a), json.loads(t), bool(b), int(n))
            for channel, a, t, b, n in rows]


async def reach(session: AsyncSession, areas: Sequence[str], topics: Sequence[str]) -> Reach:
    """The same match as releasing (an area and a topic in common), counted per group."""
    want_a, want_t = set(areas), set(topics)
    if not want_a or not want_t:
        return Reach()
    by_area: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    total = n_blocked = 0
    for channel, sub_areas, sub_topics, blocked, n in await subscriber_groups(session):
        common = want_a.intersection(sub_areas)
        if not common or not want_t.intersection(sub_topics):
            continue
        if blocked:
            n_blocked += n
            continue
        total += n
        by_channel[channel] += n
        for a in common:
            by_area[a] += n
    return Reach(total, {a: by_area.get(a, 0) for a in areas}, dict(by_channel), n_blocked)


# A digit, a capitalised abbreviation (UBND, QĐ), a code mixing letters and digits, or a
# slash: what the spoken form should no longer hold when it goes to the loudspeakers.
_LEFTOVER = re.compile(r"\d+|\b[A-ZĐ]{2,}\b|\b\w*\d\w*\b|/")


def leftovers(spoken: str, spelled: Sequence[str] = ()) -> list[str]:
    """What an announcer or the speech engine could still misread: digits or abbreviations
    left in the spoken form, and abbreviations that will be read letter by letter."""
    found = [m.group(0) for m in _LEFTOVER.finditer(spoken)]
    return list(dict.fromkeys([*spelled, *found]))[:10]


def only_emoji(text: str) -> bool:
    """True when the text has symbols but no letter or digit to read."""
    stripped = "".join(ch for ch in text if not ch.isspace())
    return bool(stripped) and not any(unicodedata.category(ch)[0] in "LN" for ch in stripped)


def _hm(text: str) -> dt.time:
    h, m = text.split(":")
    return dt.time(int(h), int(m))


def quiet_until(settings: Settings, when: dt.datetime) -> dt.datetime | None:
    """When Zalo OA's quiet hours (``broadcast.zalo_quiet_hours``) hold a notice sent at
    ``when`` back to; None when they do not."""
    tz = ZoneInfo(settings.timezone)
    start, end = (_hm(x) for x in settings.broadcast.zalo_quiet_hours)
    local = when.astimezone(tz)
    t = local.time()
    quiet = start <= t < end if start <= end else (t >= start or t < end)
    if not quiet:
        return None
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += dt.timedelta(days=1)
    return until


def warnings(settings: Settings, draft: Draft, got: Reach, spoken: str | None,
             now: dt.datetime, spelled: Sequence[str] = ()) -> list[Warning]:
    """What to look at before confirming."""
    out: list[Warning] = []
    if got.total == 0:
        out.append(Warning("nobody"))
    if only_emoji(draft.text) or (draft.title is not None and only_emoji(draft.title)):
        out.append(Warning("emoji_only"))
    if spoken is not None:
        left = leftovers(spoken, spelled)
        if left:
            out.append(Warning("spoken_leftovers", ", ".join(left)))
    if got.by_channel.get("zalo_oa") and draft.priority != "emergency":
        until = quiet_until(settings, draft.at or now)
        if until is not None:
            out.append(Warning("zalo_quiet", until.strftime("%H:%M")))
    return out


def spoken_form(normalizer: Normalizer, title: str | None, text: str) -> str:
    """What the loudspeakers will read: the title, then the notice."""
    body = f"{title.strip()}.\n{text}" if title and title.strip() else text
    return normalizer.spoken(body).strip()
