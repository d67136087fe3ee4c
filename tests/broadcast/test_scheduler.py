"""The scheduler releases notices at their time, survives restarts, and runs in one process."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bot.app import App
from broadcast import announcements, audit
from broadcast.scheduler import Scheduler, jobstore_url
from broadcast.types import Actor, Draft
from core.db import utcnow
from core.models import JOBS_TABLE, OutboxItem, Run
from tests.broadcast.conftest import (
    ADMIN,
    FakeChannel,
    announce,
    make_core,
    outbox_count,
    sender_for,
    settle,
    status,
    subscribe,
)


def scheduler(core: App) -> Scheduler:
    return Scheduler(core.engine, core.sessionmaker, core.settings, core.content.texts)


@pytest.fixture
async def running() -> AsyncIterator[list[Scheduler]]:
    """Schedulers started by a test are stopped after it."""
    started: list[Scheduler] = []
    yield started
    for s in started:
        await s.step_down()


async def stored_next_runs(core: App) -> list[float]:
    """What the job store table holds (a side file on SQLite, the database on PostgreSQL)."""

    def read() -> list[float]:
        engine = create_engine(jobstore_url(core.settings.db_url))
        try:
            with engine.connect() as conn:
                return list(conn.execute(select(JOBS_TABLE.c.next_run_time)).scalars())
        finally:
            engine.dispose()

    return await asyncio.to_thread(read)


async def wait_for_state(core: App, nid: int, state: str, limit_s: float = 10) -> float:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if (await status(core, nid)).state == state:
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise AssertionError(f"notice {nid} never became {state}")


async def test_a_notice_is_released_at_its_time(bcore: App,
                                                running: list[Scheduler]) -> None:
    await subscribe(bcore, ["u1"])
    nid = await announce(bcore, at=utcnow() + dt.timedelta(seconds=1.5))
    started = time.monotonic()
    sched = scheduler(bcore)
    running.append(sched)
    stop = asyncio.Event()
    task = asyncio.create_task(sched.run(stop))
    await asyncio.sleep(0.5)
    assert (await status(bcore, nid)).state == "scheduled"
    released = await wait_for_state(bcore, nid, "sending")
    stop.set()
    await task
    assert 1.2 <= released - started <= 4.0
    assert (await status(bcore, nid)).recipients == 1


async def test_a_daily_time_missed_while_down_runs_after_restart(
        bcore: App, running: list[Scheduler]) -> None:
    await subscribe(bcore, ["u1"])
    first = (utcnow() + dt.timedelta(seconds=2)).replace(microsecond=0)
    nid = await announce(bcore, at=first, repeat="daily")
    before = scheduler(bcore)
    running.append(before)
    await before.tick()  # the job and its next run time are stored
    await before.step_down()  # the process goes down before the time comes
    assert await stored_next_runs(bcore) == [first.timestamp()]
    await asyncio.sleep((first - utcnow()).total_seconds() + 1)
    after = scheduler(bcore)  # restarted after the time, within the grace
    running.append(after)
    await after.tick()
    await wait_for_state(bcore, nid, "sending")
    async with bcore.sessionmaker() as s:
        assert (await s.execute(select(Run.planned_for))).scalar_one() == first


async def test_beyond_the_grace_a_one_off_is_given_up_and_audited(
        sqlite_url: str, tmp_path: Path, running: list[Scheduler]) -> None:
    core = await make_core(sqlite_url, tmp_path, scheduler_misfire_grace_s=1)
    try:
        nid = await announce(core, at=utcnow() + dt.timedelta(seconds=0.5))
        cli_nid = await announce(core, at=utcnow() + dt.timedelta(seconds=0.5),
                                 by=Actor.cli("tester"))
        await asyncio.sleep(2.0)  # nothing was scheduling at that time
        sched = scheduler(core)
        running.append(sched)
        await sched.tick()
        assert (await status(core, nid)).state == "cancelled"
        assert (await status(core, cli_nid)).state == "cancelled"
        async with core.sessionmaker() as s:
            assert [e.action for e in await audit.entries(s)][:2] == ["announce.missed"] * 2
            [report] = (await s.execute(select(OutboxItem))).scalars().all()
        # The chat author is told, in the outbox that survives restarts; the CLI author (no
        # chat to reach) only gets the log line and the audit entry.
        assert (report.kind, report.channel, report.user_id) == ("report", "telegram", ADMIN)
        assert f"Thông báo số {nid}" in (report.text or "")
        assert "CHƯA được gửi" in (report.text or "") and "/thongbao" in (report.text or "")
        assert (await status(core, nid)).recipients == 0
        await sched.tick()  # a second pass tells nobody twice
        assert await outbox_count(core, kind="report") == 1
        tg = FakeChannel()
        await settle(sender_for(core, tg), core)
        assert tg.to(ADMIN) == [report.text]
    finally:
        await core.close()


async def test_a_cancelled_notice_loses_its_job(bcore: App,
                                                running: list[Scheduler]) -> None:
    nid = await announce(bcore, at=utcnow() + dt.timedelta(hours=3), repeat="weekly")
    sched = scheduler(bcore)
    running.append(sched)
    await sched.tick()
    assert [j.id for j in sched.aps.get_jobs()] == [f"notice-{nid}"]
    async with bcore.sessionmaker() as s, s.begin():
        await announcements.cancel(s, Actor.cli("tester"), nid)
    await sched.tick()
    assert sched.aps.get_jobs() == []


async def test_only_one_process_schedules(db_url: str, tmp_path: Path,
                                          running: list[Scheduler]) -> None:
    one, two = await make_core(db_url, tmp_path), await make_core(db_url, tmp_path)
    try:
        a, b = scheduler(one), scheduler(two)
        running.extend([a, b])
        await a.tick()
        await b.tick()
        assert (a.leading, b.leading) == (True, False)
        await a.step_down()  # the leader stops (or dies: its connection closes)
        await b.tick()
        assert b.leading
    finally:
        for s in running:
            await s.step_down()
        await one.close()
        await two.close()


async def test_a_notice_waiting_for_approval_gets_a_job_only_once_approved(
        bcore: App, running: list[Scheduler]) -> None:
    object.__setattr__(bcore.settings.broadcast, "approval", {"12454": ["lan"]})
    draft = Draft(text="Họp tổ dân phố", areas=["12454"], topics=["chung"],
                  at=utcnow() + dt.timedelta(hours=2))
    async with bcore.sessionmaker() as s, s.begin():
        ann = await announcements.create(s, bcore.settings, bcore.content.texts,
                                         Actor("console:hoa"), draft, allowed_areas=["12454"])
    assert ann.approval == "waiting"
    sched = scheduler(bcore)
    running.append(sched)
    await sched.tick()
    assert sched.aps.get_jobs() == []
    async with bcore.sessionmaker() as s, s.begin():
        await announcements.approve(s, bcore.settings, bcore.content.texts,
                                    Actor("console:lan"), ann.id, approver="lan")
    await sched.tick()
    assert [j.id for j in sched.aps.get_jobs()] == [f"notice-{ann.id}"]
