"""Long polls that wake when a handover changed, in any process.

One watcher per process looks at ``max(handovers.changed_at)`` every ``handover.watch_s``
while someone is waiting (one indexed query, whatever the number of open pages) and wakes the
waiting requests when it moved; each request then reads what concerns it. The state is in the
database, so a message written through one process reaches a page served by another.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Handover

__all__ = ["Changes", "long_poll"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: A waiting request also looks for itself this often (a change the watcher could not tell
#: apart from the previous one, such as two in the same microsecond).
_RECHECK_S = 5.0


class Changes:
    """Wakes long polls when a handover changed."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval_s: float) -> None:
        self.sm = sessionmaker
        self.interval_s = interval_s
        self._mark: dt.datetime | None = None
        self._generation = 0
        self._cond: asyncio.Condition | None = None
        self._task: asyncio.Task[None] | None = None
        self._waiters = 0
        self._released = False

    async def _watch(self) -> None:
        assert self._cond is not None
        idle = 0
        while idle < 3:  # stop a few intervals after the last waiter left
            try:
                async with self.sm() as s:
                    mark = (await s.execute(select(func.max(Handover.changed_at)))).scalar()
            except Exception:
                log.exception("handover watcher: reading changes failed")
                mark = self._mark
            if mark != self._mark:
                self._mark = mark
                self._generation += 1
                async with self._cond:
                    self._cond.notify_all()
            idle = idle + 1 if self._waiters == 0 else 0
            await asyncio.sleep(self.interval_s)

    @property
    def released(self) -> bool:
        return self._released

    def reopen(self) -> None:
        """Long polls wait again (a web server starts)."""
        self._released = False

    async def release(self) -> None:
        """Answer every waiting long poll now, and each later one at once, until
        :meth:`reopen`: the web server is shutting down, and aiohttp lets running requests
        finish first (a page's long poll held every stop up to ``handover.long_poll_s``)."""
        self._released = True
        if self._cond is not None:
            async with self._cond:
                self._cond.notify_all()

    async def wait(self, timeout_s: float) -> None:
        """Return when something changed, or after ``timeout_s``."""
        if self._released:
            return
        if self._cond is None:
            self._cond = asyncio.Condition()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch())
        seen = self._generation
        self._waiters += 1
        try:
            async with self._cond:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._cond.wait_for(
                            lambda: self._generation != seen or self._released), timeout_s)
        finally:
            self._waiters -= 1

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


async def long_poll(changes: Changes, fetch: Callable[[], Awaitable[T]],
                    ready: Callable[[T], bool], wait_s: float) -> T:
    """``fetch()`` until ``ready`` says there is news or ``wait_s`` passed."""
    deadline = time.monotonic() + max(0.0, wait_s)
    while True:
        got = await fetch()
        left = deadline - time.monotonic()
        if ready(got) or left <= 0 or changes.released:
            return got
        await changes.wait(min(_RECHECK_S, left))
