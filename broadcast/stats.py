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

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.models import AnnouncementArea, OutboxItem, Run, SubscriberCount, Subscription
from core.storage import insert_for

__all__ = ["failure_reasons", "messages_per_day", "snapshot", "subscribers_over_time"]


def _local_day(session: AsyncSession, col: Any, tz: ZoneInfo, now: dt.datetime) -> Any:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return func.to_char(func.timezone(tz.key, col), "YYYY-MM-DD")
    # SQLite keeps UTC text; Vietnam has had no daylight saving time since 1975.
    offset = now.astimezone(tz).utcoffset() or dt.timedelta()
    return func.date(col, f"{int(offset.total_seconds()) // 60:+d} minutes")


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
    stmt = (select(day, OutboxItem.channel, func.count())
            .where(OutboxItem.sent_at >= since, OutboxItem.kind == "notice",
                   OutboxItem.state == "sent")
            .group_by(day, OutboxItem.channel))
    within = _within(allowed_areas)
    if within is not None:
        stmt = stmt.join(Run, Run.id == OutboxItem.run_id).where(within)
    out: dict[str, dict[str, int]] = {}
    for d, channel, n in await session.execute(stmt):
        out.setdefault(str(d), {})[channel] = n
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


async def snapshot(session: AsyncSession, settings: Settings, now: dt.datetime) -> str:
    """Write today's subscriber counts per area and topic (again, if already written)."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    counts: Counter[tuple[str, str]] = Counter()
    for areas, topics in await session.execute(select(Subscription.areas,
                                                      Subscription.topics)):
        for a in set(areas):
            counts[(a, "*")] += 1
            for t in set(topics):
                counts[(a, t)] += 1
    rows = [{"day": today, "area": a.code, "topic": t, "count": counts.get((a.code, t), 0)}
            for a in settings.areas for t in ["*", *(t.id for t in settings.topics)]]
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
