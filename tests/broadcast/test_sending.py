"""Releasing a notice and sending it through the outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from broadcast import announcements, outbox
from broadcast.types import Actor
from core.db import utcnow
from core.delivery import Delivery
from core.models import Announcement, OutboxItem, Run, User
from core.storage import mark_blocked
from tests.broadcast.conftest import (
    ADMIN,
    AREA2,
    FakeChannel,
    announce,
    make_core,
    outbox_count,
    sender_for,
    settle,
    status,
    subscribe,
)


async def test_a_released_notice_reaches_every_subscriber_once_and_reports(
        bcore: App) -> None:
    users = [f"u{i}" for i in range(25)]
    await subscribe(bcore, users)
    await subscribe(bcore, ["other"], areas=[AREA2])
    nid = await announce(bcore)
    assert (await status(bcore, nid)).state == "sending"
    tg = FakeChannel()
    await sender_for(bcore, tg).drain()
    assert sorted(uid for uid, *_ in tg.sent if uid != ADMIN) == sorted(users)
    assert all("Lịch tiêm chủng" in t for uid, t, *_ in tg.sent if uid != ADMIN)
    s = await status(bcore, nid)
    assert (s.state, s.recipients, s.sent, s.pending) == ("done", 25, 25, 0)
    [report] = tg.to(ADMIN)
    assert "Đã gửi: 25/25" in report


async def test_status_counts_sent_failed_blocked_and_pending(bcore: App) -> None:
    await subscribe(bcore, ["ok", "gone", "refused", "later"])
    await mark_blocked(bcore.sessionmaker, "telegram", "gone")
    tg = FakeChannel(script={
        "refused": [Delivery("failed", reason="Bad Request: chat not found")],
        "later": [Delivery("retry", reason="quiet", retry_at=utcnow() + dt.timedelta(hours=1))]})
    nid = await announce(bcore)
    await sender_for(bcore, tg).drain()
    s = await status(bcore, nid)
    assert (s.state, s.recipients, s.sent, s.failed, s.blocked, s.pending) == \
        ("sending", 4, 1, 1, 1, 1)
    assert tg.to("gone") == []  # blocked earlier: counted, never sent
    async with bcore.sessionmaker() as s_:
        reason = await s_.scalar(select(OutboxItem.reason).where(OutboxItem.user_id == "refused"))
    assert reason == "Bad Request: chat not found"


async def test_a_403_marks_the_user_blocked_and_stops_sending_to_them(bcore: App) -> None:
    await subscribe(bcore, ["u1", "u2"])
    tg = FakeChannel(script={"u1": [Delivery("blocked", reason="bot was blocked by the user")]})
    sender = sender_for(bcore, tg)
    first = await announce(bcore)
    await sender.drain()
    second = await announce(bcore, "Cắt điện")
    await settle(sender, bcore)  # u2 waits a second between two messages
    assert tg.to("u1") == []
    assert len(tg.to("u2")) == 2
    assert len([c for c in tg.calls if c[0] == "u1"]) == 1  # never tried again
    assert (await status(bcore, first)).blocked == 1
    assert (await status(bcore, second)).blocked == 1
    async with bcore.sessionmaker() as s:
        assert await s.scalar(select(User.blocked_at).where(User.user_id == "u1")) is not None


async def test_timeouts_are_retried_with_backoff_then_sent(bcore: App) -> None:
    await subscribe(bcore, ["u1"])
    tg = FakeChannel(script={"u1": [Delivery("retry", reason="Timed out"),
                                    Delivery("retry", reason="Bad Gateway")]})
    nid = await announce(bcore)
    await settle(sender_for(bcore, tg), bcore)
    assert len([c for c in tg.calls if c[0] == "u1"]) == 3
    assert (await status(bcore, nid)).sent == 1


async def test_after_max_attempts_a_row_fails_with_the_reason(db_url: str,
                                                              tmp_path: Path) -> None:
    core = await make_core(db_url, tmp_path, max_attempts=3)
    try:
        await subscribe(core, ["u1"])
        tg = FakeChannel(script={"u1": [Delivery("retry", reason="Bad Gateway")] * 5})
        nid = await announce(core)
        await settle(sender_for(core, tg), core)
        s = await status(core, nid)
        assert (s.state, s.failed, s.sent) == ("done", 1, 0)
        async with core.sessionmaker() as ss:
            reason = await ss.scalar(select(OutboxItem.reason).where(
                OutboxItem.user_id == "u1"))
        assert reason == "gave up after 3 attempts: Bad Gateway"
        assert "Không gửi được: 1" in tg.to(ADMIN)[0]
    finally:
        await core.close()


async def test_a_429_defers_the_row_and_pauses_the_whole_channel(bcore: App) -> None:
    await subscribe(bcore, ["u1", "u2"])
    started = time.monotonic()  # measured from when Telegram's retry_after starts
    retry_at = utcnow() + dt.timedelta(seconds=1)
    tg = FakeChannel(script={"u1": [Delivery("retry", reason="Telegram 429, retry after 1 s",
                                             retry_at=retry_at, pause_channel=True)]})
    nid = await announce(bcore)
    sender = sender_for(bcore, tg)
    sender.cfg = sender.cfg.model_copy(update={"sender_concurrency": 1})
    await settle(sender, bcore)
    u1_sent = [at for uid, _, _, at in tg.sent if uid == "u1"]
    u2_sent = [at for uid, _, _, at in tg.sent if uid == "u2"]
    assert u1_sent and u1_sent[0] - started >= 0.9  # waited retry_after
    assert u2_sent and u2_sent[0] - started >= 0.9  # the pause held back everyone
    s = await status(bcore, nid)
    assert (s.sent, s.failed) == (2, 0)  # a 429 is not a failed attempt


async def test_emergency_rows_jump_the_queue(bcore: App) -> None:
    users = [f"u{i}" for i in range(30)]
    await subscribe(bcore, users)
    normal = await announce(bcore, "Họp tổ dân phố")
    urgent = await announce(bcore, "Bão số 3 đổ bộ đêm nay", priority="emergency")
    assert normal < urgent
    tg = FakeChannel()
    sender = sender_for(bcore, tg)
    sender.cfg = sender.cfg.model_copy(update={"sender_concurrency": 1, "sender_batch": 10})
    await sender.drain()
    firsts = [t.split("\n")[0] for uid, t, *_ in tg.sent if uid != ADMIN][:30]
    assert all("KHẨN CẤP" in f for f in firsts)
    assert [p for _, _, p, _ in tg.sent[:30]] == ["emergency"] * 30


async def test_one_chat_gets_at_most_one_message_per_interval(bcore: App) -> None:
    await subscribe(bcore, ["u1"])
    await announce(bcore, "Thông báo một")
    await announce(bcore, "Thông báo hai")
    tg = FakeChannel()
    await settle(sender_for(bcore, tg), bcore)
    times = [at for uid, _, _, at in tg.sent if uid == "u1"]
    assert len(times) == 2 and times[1] - times[0] >= 0.95


async def test_cancelling_mid_send_stops_the_rest(bcore: App) -> None:
    await subscribe(bcore, [f"u{i}" for i in range(10)])
    nid = await announce(bcore)
    tg = FakeChannel()
    sender = sender_for(bcore, tg)
    sender.cfg = sender.cfg.model_copy(update={"sender_batch": 3, "sender_concurrency": 1})
    await sender.step()
    async with bcore.sessionmaker() as s, s.begin():
        await announcements.cancel(s, Actor.cli("tester"), nid)
    await sender.drain()
    st = await status(bcore, nid)
    assert (st.state, st.sent, st.pending, st.extra["cancelled"]) == ("cancelled", 3, 0, 7)
    assert len([1 for uid, *_ in tg.sent if uid != ADMIN]) == 3
    assert "Không gửi vì đã hủy: 7" in tg.to(ADMIN)[0]


async def test_rows_of_a_sender_that_died_are_sent_once_by_another(bcore: App) -> None:
    await subscribe(bcore, [f"u{i}" for i in range(12)])
    nid = await announce(bcore)
    now = utcnow()
    async with bcore.sessionmaker() as s, s.begin():  # a sender claims 12 rows, then dies
        dead = await outbox.claim(s, ["telegram"], 12, now, lease_s=60)
        assert len(dead) == 12
        for c in dead[:2]:  # two were in flight (handed to Telegram) when it died
            assert await outbox.begin_send(s, c, now, lease_s=60)
    tg = FakeChannel()
    await sender_for(bcore, tg, clock=lambda: time.time() + 61).drain()  # after the lease
    assert sorted(uid for uid, *_ in tg.sent if uid != ADMIN) == sorted(
        f"u{i}" for i in range(12))
    assert (await status(bcore, nid)).sent == 12


async def test_two_senders_never_send_the_same_row(bcore: App) -> None:
    users = [f"u{i}" for i in range(60)]
    await subscribe(bcore, users)
    await announce(bcore)
    tg = FakeChannel(delay_s=0.005)
    a, b = sender_for(bcore, tg), sender_for(bcore, tg)
    for s in (a, b):
        s.cfg = s.cfg.model_copy(update={"sender_batch": 7})
    await asyncio.gather(a.drain(), b.drain())
    await a.drain()
    notices = [uid for uid, *_ in tg.sent if uid != ADMIN]
    assert sorted(notices) == sorted(users)
    assert tg.to(ADMIN) and len(tg.to(ADMIN)) == 1


async def test_the_same_occurrence_is_released_once(bcore: App) -> None:
    await subscribe(bcore, ["u1"])
    first = utcnow() + dt.timedelta(minutes=5)
    nid = await announce(bcore, at=first, repeat="daily")
    async with bcore.sessionmaker() as s, s.begin():
        one = await announcements.release(s, bcore.settings, bcore.content.texts, nid,
                                          now=first + dt.timedelta(seconds=1))
    async with bcore.sessionmaker() as s, s.begin():
        again = await announcements.release(s, bcore.settings, bcore.content.texts, nid,
                                            now=first + dt.timedelta(seconds=30))
    async with bcore.sessionmaker() as s, s.begin():
        next_day = await announcements.release(s, bcore.settings, bcore.content.texts, nid,
                                               now=first + dt.timedelta(days=1, seconds=2))
    assert one is not None and again is None and next_day is not None
    assert await outbox_count(bcore, kind="notice") == 2  # one row per run
    async with bcore.sessionmaker() as s:
        planned = sorted((await s.execute(select(Run.planned_for))).scalars())
    assert planned == [first, first + dt.timedelta(days=1)]


async def test_a_repeating_notice_goes_back_to_scheduled_after_each_run(bcore: App) -> None:
    await subscribe(bcore, ["u1"])
    first = utcnow() + dt.timedelta(minutes=5)
    nid = await announce(bcore, at=first, repeat="weekly")
    async with bcore.sessionmaker() as s, s.begin():
        await announcements.release(s, bcore.settings, bcore.content.texts, nid)
    assert (await status(bcore, nid)).state == "sending"
    await sender_for(bcore, FakeChannel()).drain()
    s = await status(bcore, nid)
    assert (s.state, s.sent, s.runs) == ("scheduled", 1, 1)
    async with bcore.sessionmaker() as ss:
        ann = await ss.get(Announcement, nid)
        assert ann is not None
        later = await announcements.summary(ss, ann, now=first + dt.timedelta(minutes=1))
    assert later.at == first + dt.timedelta(days=7)
