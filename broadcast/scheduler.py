"""Scheduling: APScheduler 3 releases notices at their time; one process schedules.

The announcements table is the source of truth; the job store (APScheduler's
SQLAlchemyJobStore, Asia/Ho_Chi_Minh) remembers each job's next run across restarts, so an
occurrence missed while the program was down still runs within ``scheduler_misfire_grace_s``
(several missed occurrences of a repeating notice run once). Every ``scheduler_poll_s`` the
leader adds jobs for new notices (created by the CLI or another process) and removes those of
cancelled ones. A job only releases a notice (run + outbox rows); senders send.

Leadership: on PostgreSQL a session advisory lock held on one connection; if the process dies
its connection closes and another process takes over. On SQLite (one process) a file lock
beside the database. Even with two schedulers a release happens once: runs are unique per
(notice, occurrence).

SQLite keeps the job store in its own file (``<database>.jobs``): APScheduler writes through a
blocking driver on the event loop, and waiting for the main file's write lock there would
stall the very transaction holding it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, or_, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from broadcast import announcements, audit
from core.config import Settings
from core.db import utcnow, write_lock
from core.models import JOBS_TABLE, Announcement, Run

__all__ = ["Scheduler", "jobstore_url", "release_job"]

log = logging.getLogger(__name__)

_LOCK_KEY = 0x7472_6F62  # "trob": the scheduling leader's advisory lock
_ACTIVE: Scheduler | None = None  # this process's leader, for jobs read back from the store


async def release_job(announcement_id: int) -> None:
    """The function every stored job calls (by reference, so it survives restarts)."""
    if _ACTIVE is None:
        log.warning("notice %s is due but this process does not schedule", announcement_id)
        return
    await _ACTIVE.release(announcement_id)


def jobstore_url(db_url: str) -> str:
    """The blocking driver's URL for APScheduler: psycopg for PostgreSQL, a side file for
    SQLite."""
    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    db = url.database or ""
    if not db or db == ":memory:":
        return "sqlite://"
    return f"sqlite:///{db}.jobs"


class _Leadership:
    """Who schedules: a PostgreSQL advisory lock, or a file lock for SQLite."""

    def __init__(self, engine: AsyncEngine, db_url: str) -> None:
        self.engine = engine
        self.pg = make_url(db_url).get_backend_name() == "postgresql"
        db = make_url(db_url).database or ""
        self.lock_path = Path(f"{db}.scheduler.lock") if not self.pg and db and \
            db != ":memory:" else None
        self._conn: AsyncConnection | None = None
        self._file: TextIO | None = None
        self.held = False

    async def acquire(self) -> bool:
        if self.held:
            return await self._alive()
        if self.pg:
            conn = await self.engine.connect()
            try:
                got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                          {"k": _LOCK_KEY})).scalar_one()
                await conn.commit()  # the session-level lock outlives the transaction
            except SQLAlchemyError:
                await conn.close()
                raise
            if not got:
                await conn.close()
                return False
            self._conn = conn
        elif self.lock_path is not None:
            import fcntl

            f = self.lock_path.open("a")
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                return False
            self._file = f
        self.held = True
        return True

    async def _alive(self) -> bool:
        if self._conn is None:
            return True
        try:
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
            return True
        except SQLAlchemyError:
            log.warning("scheduler: lost the database connection that held the lock")
            await self.release()
            return False

    async def release(self) -> None:
        self.held = False
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                await conn.commit()
            except SQLAlchemyError:
                await conn.invalidate()
            finally:
                await conn.close()
        if self._file is not None:
            self._file.close()  # closing the file drops the flock
            self._file = None


class Scheduler:
    """Runs APScheduler while this process holds the leadership."""

    def __init__(self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession],
                 settings: Settings, texts: Mapping[str, str]) -> None:
        self.engine = engine
        self.sm = sessionmaker
        self.settings = settings
        self.texts = texts
        self.tz = ZoneInfo(settings.timezone)
        self.grace = settings.broadcast.scheduler_misfire_grace_s
        self.leadership = _Leadership(engine, settings.db_url)
        self.aps: Any = None
        self._store_engine: Engine | None = None

    @property
    def leading(self) -> bool:
        return self.aps is not None

    async def run(self, stop: asyncio.Event) -> None:
        """Try to lead; while leading, keep the jobs in line with the notices."""
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:  # database away, job store trouble: step down, try again
                    log.exception("scheduler: error; stepping down and trying again")
                    await self.step_down()
                try:
                    await asyncio.wait_for(stop.wait(), self.settings.broadcast.scheduler_poll_s)
                except TimeoutError:
                    pass
        finally:
            await self.step_down()

    async def tick(self) -> None:
        """One round: keep or take the leadership, then synchronize the jobs."""
        if await self.leadership.acquire():
            if self.aps is None:
                self._start()
            await self.sync()
        elif self.aps is not None:
            await self.step_down()

    def _start(self) -> None:
        global _ACTIVE
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        url = jobstore_url(self.settings.db_url)
        try:
            self._store_engine = create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:  # psycopg is needed for PostgreSQL
            raise RuntimeError(f"the scheduler's job store needs {exc.name} "
                               "(pip install 'psycopg[binary]')") from exc
        store = SQLAlchemyJobStore(engine=self._store_engine, tablename=JOBS_TABLE.name)
        self.aps = AsyncIOScheduler(
            jobstores={"default": store}, timezone=self.tz,
            job_defaults={"coalesce": True, "misfire_grace_time": self.grace,
                          "max_instances": 1})
        self.aps.start()
        _ACTIVE = self
        log.info("scheduler: this process schedules notices")

    async def step_down(self) -> None:
        global _ACTIVE
        if self.aps is not None:
            aps, self.aps = self.aps, None
            if aps.running:
                aps.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the next loop turn
            if _ACTIVE is self:
                _ACTIVE = None
        if self._store_engine is not None:
            self._store_engine.dispose()
            self._store_engine = None
        await self.leadership.release()

    # ------------------------------------------------------------------ jobs

    def _trigger(self, first: dt.datetime, repeat: str) -> Any:
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.date import DateTrigger

        if repeat == "none":
            return DateTrigger(run_date=first, timezone=self.tz)
        local = first.astimezone(self.tz)
        dow = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
        return CronTrigger(hour=local.hour, minute=local.minute, second=local.second,
                           day_of_week=dow if repeat == "weekly" else None,
                           start_date=local, timezone=self.tz)

    async def sync(self, now: dt.datetime | None = None) -> None:
        """Add a job for each notice waiting for its time, drop jobs of notices that no longer
        need one, and give up (cancel, audited) a one-off whose time passed beyond the grace."""
        if self.aps is None:
            return
        now = now or utcnow()
        async with self.sm() as s:
            rows = (await s.execute(select(
                Announcement.id, Announcement.first_at, Announcement.repeat, Announcement.state)
                .where(Announcement.state.in_(("scheduled", "sending")),
                       # A notice waiting for approval has no job until it is approved.
                       or_(Announcement.approval.is_(None),
                           Announcement.approval != "waiting")))).all()
            released = set((await s.execute(select(Run.announcement_id).where(
                Run.announcement_id.in_([r[0] for r in rows if r[2] == "none"])))).scalars())
        want: dict[str, tuple[int, dt.datetime, str]] = {}
        missed: list[int] = []
        for ann_id, first, repeat, _state in rows:
            if repeat == "none":
                if ann_id in released:
                    continue
                if first < now - dt.timedelta(seconds=self.grace):
                    missed.append(ann_id)
                    continue
            want[f"notice-{ann_id}"] = (ann_id, first, repeat)
        have = {job.id for job in self.aps.get_jobs()}
        for job_id in have - want.keys():
            self.aps.remove_job(job_id)
        for job_id in want.keys() - have:
            ann_id, first, repeat = want[job_id]
            self.aps.add_job(release_job, self._trigger(first, repeat), args=[ann_id],
                             id=job_id, name=f"release notice {ann_id}",
                             replace_existing=True)
            log.info("scheduler: notice %s scheduled (%s, from %s)", ann_id, repeat,
                     first.isoformat())
        if missed:
            await self._missed(missed, now)

    async def _missed(self, ids: list[int], now: dt.datetime) -> None:
        async with write_lock(self.engine), self.sm() as s, s.begin():
            for ann_id in ids:
                ann = (await s.execute(select(Announcement).where(
                    Announcement.id == ann_id).with_for_update())).scalar_one()
                if ann.state != "scheduled":
                    continue
                ann.state, ann.updated_at = "cancelled", now
                await audit.record(s, audit.SYSTEM, "announce.missed", at=now, details={
                    "id": ann_id, "due": ann.first_at.isoformat(),
                    "grace_s": self.grace}, targets={"areas": ann.areas, "topics": ann.topics})
                await announcements.report_missed(s, self.settings, self.texts, ann, now)
                log.error("notice %s was due at %s, more than %s s ago, while nothing was "
                          "scheduling; it was not sent", ann_id, ann.first_at.isoformat(),
                          self.grace)

    async def release(self, announcement_id: int) -> None:
        """Release the current occurrence; a conflict with another releaser is retried."""
        for attempt in range(3):
            try:
                async with write_lock(self.engine), self.sm() as s, s.begin():
                    await announcements.release(s, self.settings, self.texts, announcement_id)
                return
            except SQLAlchemyError:
                log.exception("scheduler: releasing notice %s failed (try %d)",
                              announcement_id, attempt + 1)
                await asyncio.sleep(0.5 * (attempt + 1))
