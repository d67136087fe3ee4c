"""Figures for the console's charts and preview, on SQLite and PostgreSQL: subscribers reached
per area and channel (blocked users apart), messages per local day and channel, failure
reasons, subscriber counts per day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from bot.app import App
from broadcast import preview, stats
from core.db import utcnow
from core.delivery import Delivery
from core.models import OutboxItem
from core.storage import mark_blocked
from tests.broadcast.conftest import (
    AREA,
    AREA2,
    FakeChannel,
    announce,
    sender_for,
    settle,
    subscribe,
)


async def test_reach_counts_per_area_and_channel_and_leaves_out_blocked_users(
        bcore: App) -> None:
    await subscribe(bcore, ["a", "b"], areas=[AREA])
    await subscribe(bcore, ["c"], areas=[AREA, AREA2])
    await subscribe(bcore, ["z"], channel="zalo_oa", areas=[AREA2], topics=["chung"])
    await subscribe(bcore, ["t"], areas=[AREA], topics=["an-ninh"])
    await mark_blocked(bcore.sessionmaker, "telegram", "b")
    async with bcore.sessionmaker() as s:
        got = await preview.reach(s, [AREA, AREA2], ["chung"])
    assert got.total == 3 and got.blocked == 1
    assert got.by_area == {AREA: 2, AREA2: 2} and got.by_channel == {"telegram": 2, "zalo_oa": 1}


async def test_messages_per_local_day_and_failure_reasons(bcore: App) -> None:
    await subscribe(bcore, ["u1", "u2", "u3"], areas=[AREA])
    await announce(bcore)
    ch = FakeChannel(script={"u3": [Delivery("failed", reason="Telegram refused: chat not "
                                                              "found")]})
    await settle(sender_for(bcore, ch), bcore)
    now = utcnow()
    local = now.astimezone(bcore.tz)
    # One delivery was sent at 23:30 local time yesterday: it counts for yesterday, not today.
    late = (local - dt.timedelta(days=1)).replace(hour=23, minute=30)
    async with bcore.sessionmaker() as s, s.begin():
        await s.execute(update(OutboxItem).where(OutboxItem.user_id == "u2")
                        .values(sent_at=late.astimezone(dt.UTC)))
    async with bcore.sessionmaker() as s:
        days = await stats.messages_per_day(s, bcore.settings, now=now)
        mine = await stats.messages_per_day(s, bcore.settings, now=now, allowed_areas=[AREA2])
        reasons = await stats.failure_reasons(s, now=now)
    assert days == {local.date().isoformat(): {"telegram": 1},
                    late.date().isoformat(): {"telegram": 1}}
    assert mine == {}  # the notice was for AREA, not only AREA2
    assert reasons == [("failed", "Telegram refused: chat not found", 1)]


async def test_subscriber_counts_are_kept_per_day(bcore: App) -> None:
    await subscribe(bcore, ["a", "b"], areas=[AREA], topics=["chung"])
    now = utcnow()
    async with bcore.sessionmaker() as s, s.begin():
        day = await stats.snapshot(s, bcore.settings, now)
        await stats.snapshot(s, bcore.settings, now)  # again the same day: updated, not doubled
    async with bcore.sessionmaker() as s:
        got = await stats.subscribers_over_time(s, now=now, settings=bcore.settings)
    assert got[day][(AREA, "*")] == 2 and got[day][(AREA, "chung")] == 2
    assert got[day][(AREA2, "*")] == 0
