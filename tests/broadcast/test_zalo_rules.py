"""Zalo rules are kept by deferring, never by dropping (channels.md §C4, §D4)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable

from sqlalchemy import select

from bot.app import App
from core.delivery import Delivery
from core.models import OutboxItem
from tests.broadcast.conftest import FakeChannel, announce, sender_for, status, subscribe


def fake_clock(when: dt.datetime) -> Callable[[], float]:
    """A clock that runs from ``when``."""
    start, real = when.timestamp(), time.time()
    return lambda: start + (time.time() - real)


def tomorrow_at(core: App, hour: int, minute: int = 0, days: int = 1) -> dt.datetime:
    d = dt.datetime.now(core.tz).date() + dt.timedelta(days=days)
    return dt.datetime(d.year, d.month, d.day, hour, minute, tzinfo=core.tz)


async def not_before(core: App, user: str) -> list[dt.datetime]:
    async with core.sessionmaker() as s:
        return list((await s.execute(select(OutboxItem.not_before).where(
            OutboxItem.user_id == user, OutboxItem.state == "pending")
            .order_by(OutboxItem.id))).scalars())


async def test_oa_notices_wait_for_the_morning_and_then_go(score: App) -> None:
    await subscribe(score, ["z1"], channel="zalo_oa")
    nid = await announce(score, "Lịch cắt điện ngày mai")
    oa = FakeChannel("zalo_oa")
    night = tomorrow_at(score, 23, 0)
    await sender_for(score, oa, clock=fake_clock(night)).drain()
    assert oa.calls == []  # nothing sent at night
    morning = tomorrow_at(score, 6, 0, days=2)
    assert await not_before(score, "z1") == [morning.astimezone(dt.UTC)]
    s = await status(score, nid)
    assert (s.pending, s.failed, s.sent) == (1, 0, 0)  # deferred, not dropped
    await sender_for(score, oa, clock=fake_clock(morning + dt.timedelta(minutes=1))).drain()
    assert len(oa.to("z1")) == 1
    assert (await status(score, nid)).sent == 1


async def test_an_emergency_is_handed_to_the_oa_channel_even_at_night(score: App) -> None:
    await subscribe(score, ["z1"], channel="zalo_oa")
    await announce(score, "Bão số 3 đổ bộ, sơ tán ngay", priority="emergency")
    oa = FakeChannel("zalo_oa")
    await sender_for(score, oa, clock=fake_clock(tomorrow_at(score, 23, 30))).drain()
    assert [p for _, _, p, _ in oa.calls] == ["emergency"]


async def test_at_most_one_oa_notice_per_follower_per_day(score: App) -> None:
    await subscribe(score, ["z1"], channel="zalo_oa")
    await subscribe(score, ["t1"])  # Telegram has no such rule
    first = await announce(score, "Thông báo một")
    second = await announce(score, "Thông báo hai")
    oa, tg = FakeChannel("zalo_oa"), FakeChannel("telegram")
    ten = tomorrow_at(score, 10, 0)
    sender = sender_for(score, oa, tg, clock=fake_clock(ten))
    for _ in range(3):
        await sender.drain()
        await asyncio.sleep(0.6)  # past Telegram's one-message-per-second per chat
    await sender.drain()
    assert len(oa.to("z1")) == 1 and len(tg.to("t1")) == 2
    assert await not_before(score, "z1") == [tomorrow_at(score, 6, 0, days=2)
                                            .astimezone(dt.UTC)]
    assert (await status(score, first)).sent + (await status(score, second)).sent == 3


async def test_a_recipient_the_platform_refuses_is_failed_with_the_reason(
        score: App) -> None:
    await subscribe(score, ["b1"], channel="zalo_bot")
    why = "this user never wrote to the Zalo bot"
    bot = FakeChannel("zalo_bot", script={"b1": [Delivery("failed", reason=why)]})
    nid = await announce(score)
    await sender_for(score, bot).drain()
    s = await status(score, nid)
    assert (s.failed, s.pending) == (1, 0)
    async with score.sessionmaker() as ss:
        assert await ss.scalar(select(OutboxItem.reason)) == why


async def test_rows_for_a_channel_this_process_lacks_stay_pending(score: App) -> None:
    await subscribe(score, ["z1"], channel="zalo_oa")
    await subscribe(score, ["t1"])
    nid = await announce(score)
    await sender_for(score, FakeChannel("telegram")).drain()
    s = await status(score, nid)
    assert (s.state, s.sent, s.pending) == ("sending", 1, 1)
