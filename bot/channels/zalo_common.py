"""What the two Zalo channels (Bot Platform and Official Account) share.

An error type that says whether trying later may help, Vietnam time for Zalo's quiet hours, the
resend policy for replies a citizen is waiting for, and a small runner that handles updates in
the background (one user's updates in order, different users concurrently) so webhooks can be
acknowledged at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

__all__ = [
    "TEXT_LIMIT",
    "VN_TZ",
    "Handlers",
    "ZaloError",
    "next_local_time",
    "resend_transient",
]

log = logging.getLogger(__name__)

#: Zalo applies its quiet hours in Vietnam time, whatever the server's zone.
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

#: Both products refuse longer texts: Bot Platform sendMessage 1-2000 characters [C official-docs
#: mirror]; OA customer-service messages answer -210 above 2000 [C a pilot's notes, public code].
TEXT_LIMIT = 2000

T = TypeVar("T")


class ZaloError(Exception):
    """A Zalo API call failed. ``transient``: 429, 5xx, timeouts, network; later may work."""

    def __init__(self, code: int, message: str, *, transient: bool = False) -> None:
        super().__init__(f"{code} {message}".strip())
        self.code = code
        self.message = message
        self.transient = transient


def next_local_time(hhmm: str, now: dt.datetime | None = None) -> dt.datetime:
    """The next moment the Vietnam clock shows ``hhmm`` (e.g. the end of the night window)."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    local = (now or dt.datetime.now(dt.UTC)).astimezone(VN_TZ)
    at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at <= local:
        at = (at + dt.timedelta(days=1)).replace(hour=hour, minute=minute)
    return at.astimezone(dt.UTC)


async def resend_transient(send: Callable[[], Awaitable[T]], *, attempts: int = 3,
                           first_wait_s: float = 1.0) -> T:
    """Call ``send``; on a transient error wait 1 s, 2 s... and call again, ``attempts`` in all.

    Policy for replies a citizen is waiting for: a short outage or a 429 should not lose the
    answer, but a long one must not pile up work either. Notices do not use this: the outbox
    retries them later (Delivery "retry").
    """
    wait = first_wait_s
    for attempt in range(attempts):
        try:
            return await send()
        except ZaloError as exc:
            if not exc.transient or attempt == attempts - 1:
                raise
            log.info("Zalo send failed (%s), trying again in %.0f s", exc, wait)
            await asyncio.sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")


class Handlers:
    """Runs update handlers as background tasks.

    Updates of one user run in arrival order (a FIFO lock per user); at most ``limit`` run at
    once; :meth:`drain` waits for those in flight when the channel stops.
    """

    def __init__(self, limit: int = 64) -> None:
        self._sem = asyncio.Semaphore(limit)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._pending: defaultdict[str, int] = defaultdict(int)
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, user_id: str, handler: Callable[[], Awaitable[Any]]) -> None:
        self._pending[user_id] += 1
        task = asyncio.create_task(self._run(user_id, handler))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, user_id: str, handler: Callable[[], Awaitable[Any]]) -> None:
        try:
            async with self._locks[user_id], self._sem:
                await handler()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("error handling a Zalo update")
        finally:
            self._pending[user_id] -= 1
            if self._pending[user_id] <= 0:
                self._pending.pop(user_id, None)
                self._locks.pop(user_id, None)

    async def drain(self, wait_s: float = 10.0) -> None:
        """Wait for running handlers; cancel those still running after ``wait_s``."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=wait_s)
        for task in late:
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)
