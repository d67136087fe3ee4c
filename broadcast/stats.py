"""Figures about delivery and subscribers over time, for the console's charts.

Days are local days (``timezone`` in config.yaml), grouped in SQL so a page stays fast with
hundreds of thousands of deliveries. Subscriber counts per area and topic are kept once a day
in ``subscriber_counts`` (:func:`snapshot`), since subscriptions themselves have no history.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.preview import subscriber_groups
from core.config import Settings
from core.models import AnnouncementArea, OutboxItem, Run, SubscriberCount
from core.storage import insert_for

__all__ = ["counts_now", "failure_reasons", "messages_per_day", "snapshot",
           "subscribers_over_time"]


def _local_day(session: AsyncSession, col: Any, tz: ZoneInfo, now: dt.datetime) -> Any:
    """The local day of a UTC timestamp column, cheap enough for every delivery row
    (PostgreSQL: ``col AT TIME ZONE tz`` as a date; SQLite keeps UTC text and Vietnam has had
    no daylight saving time since 1975, so a fixed offset is exact there)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return cast(func.timezone(tz.key, col), Date)
    offset = int((now.astimezone(tz).utcoffset() or dt.timedelta()).total_seconds())
    return func.date(col, f"{offset // 60:+d} minutes")


def _day_label(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _within(allowed_areas: Sequence[str] | None) -> Any:
    """Deliveries of notices entirely within these areas."""
    if allowed_areas is None:
        return None
    return ~exists().where(
        AnnouncementArea.announcement_id == Run.announcement_id,
        AnnouncementArea.area.not_in(list(allowed_areas)))


async def messages_per_day(session: AsyncSession, settings: Settings, *, days: int = 30,
                           allowed_areas: Sequence[str] | None = None,
                           now: dt.datetime) -> dict[str, dict[str, int]]:
    """Notices delivered per local day and channel: {"2026-12-01": {"telegram": 120}}."""
    tz = ZoneInfo(settings.timezone)
    since = now - dt.timedelta(days=days)
    day = _local_day(session, OutboxItem.sent_at, tz, now)
    # sent_at is set when, and only when, a row is sent (outbox.mark): no need to read state.
    stmt = (select(day, OutboxItem.channel, func.count())
            .where(OutboxItem.sent_at >= since, OutboxItem.kind == "notice")
            .group_by(day, OutboxItem.channel))
    within = _within(allowed_areas)
    if within is not None:
        stmt = stmt.join(Run, Run.id == OutboxItem.run_id).where(within)
    out: dict[str, dict[str, int]] = {}
    for d, channel, n in await session.execute(stmt):
        out.setdefault(_day_label(d), {})[channel] = n
    return out


async def failure_reasons(session: AsyncSession, *, days: int = 30,
                          allowed_areas: Sequence[str] | None = None, now: dt.datetime,
                          limit: int = 8) -> list[tuple[str, str, int]]:
    """(state, reason, count) of deliveries that failed or met a blocked user, most first."""
    since = now - dt.timedelta(days=days)
    stmt = (select(OutboxItem.state, OutboxItem.reason, func.count())
            .where(OutboxItem.state.in_(("failed", "blocked")), OutboxItem.kind == "notice",
                   OutboxItem.created_at >= since)
            .group_by(OutboxItem.state, OutboxItem.reason)
            .order_by(func.count().desc()).limit(limit))
    within = _within(allowed_areas)
    if within is not None:
        stmt = stmt.join(Run, Run.id == OutboxItem.run_id).where(within)
    return [(st, reason or "", n) for st, reason, n in await session.execute(stmt)]


async def counts_now(session: AsyncSession, settings: Settings
                     ) -> dict[tuple[str, str], int]:
    """Subscribers per (area, topic) now; topic "*" is everyone in the area."""
    counts: Counter[tuple[str, str]] = Counter()
    for _, areas, topics, _, n in await subscriber_groups(session):
        for a in set(areas):
            counts[(a, "*")] += n
            for t in set(topics):
                counts[(a, t)] += n
    return {(a.code, t): counts.get((a.code, t), 0)
            for a in settings.areas for t in ["*", *(t.id for t in settings.topics)]}


async def snapshot(session: AsyncSession, settings: Settings, now: dt.datetime) -> str:
    """Write today's subscriber counts per area and topic (again, if already written).
    ``trolyso run`` does it every few hours; the chart adds the live figures for today."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    rows = [{"day": today, "area": a, "topic": t, "count": n}
            for (a, t), n in (await counts_now(session, settings)).items()]
    stmt = insert_for(session, SubscriberCount)
    stmt = stmt.on_conflict_do_update(index_elements=["day", "area", "topic"],
                                      set_={"count": stmt.excluded["count"]})
    await session.execute(stmt, rows)
    return today


async def subscribers_over_time(session: AsyncSession, *, days: int = 30,
                                areas: Sequence[str] | None = None, now: dt.datetime,
                                settings: Settings) -> dict[str, dict[tuple[str, str], int]]:
    """{day: {(area, topic): count}}; topic "*" is everyone in the area."""
    first = (now.astimezone(ZoneInfo(settings.timezone)).date()
             - dt.timedelta(days=days)).isoformat()
    stmt = select(SubscriberCount.day, SubscriberCount.area, SubscriberCount.topic,
                  SubscriberCount.count).where(SubscriberCount.day >= first)
    if areas is not None:
        stmt = stmt.where(SubscriberCount.area.in_(list(areas)))
    out: dict[str, dict[tuple[str, str], int]] = {}
    for d, a, t, n in await session.execute(stmt):
        out.setdefault(d, {})[(a, t)] = n
    return out
