"""Replies paced with notices, across processes: one rate for the whole bot (Telegram: about 30
messages per second), kept in the database bucket the notice sender uses
(:mod:`broadcast.ratelimit`), so replies from every process and notices together stay under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broadcast import ratelimit
from core.db import write_lock

__all__ = ["Pacer"]

log = logging.getLogger(__name__)


class Pacer:
    """Holds each message's place in the channel's shared bucket while it is sent.

    ``per_second`` 0 turns pacing off (the platform's 429s are then the only brake)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], bucket: str,
                 per_second: float) -> None:
        self.sessionmaker = sessionmaker
        self.engine = sessionmaker.kw["bind"]
        self.bucket = bucket
        self.per_second = per_second
        # One bucket transaction at a time per process: the bucket's row lock serialises them
        # anyway, and senders queueing on it in the database would each hold a pooled connection.
        self._lock = asyncio.Lock()
        #: (started, ended) of requests answered, written by this process's next transaction.
        self._ended: list[tuple[float, float]] = []

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            ended, self._ended = self._ended, []
            try:
                async with write_lock(self.engine), self.sessionmaker() as s, s.begin():
                    await ratelimit.record(s, self.bucket, ended)
                    yield s
            except BaseException:
                self._ended[:0] = ended
                raise

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wrap one request to the platform: entered when it may leave (no rolling second at
        the platform gets more than the rate, see :mod:`broadcast.ratelimit`), left when its
        answer came, which is when the bucket stops counting it as possibly arriving."""
        if self.per_second <= 0:
            yield
            return
        async with self._tx() as s:
            now = time.time()
            slot = await ratelimit.reserve(s, self.bucket, self.per_second, now)
            # A quiet channel: take the slot in the same transaction.
            again = await ratelimit.admit(s, self.bucket, self.per_second, slot, now) \
                if slot <= now else slot
        started = now if again is None else await ratelimit.admitted(
            self._tx, self.bucket, self.per_second, slot, at=again)
        try:
            yield
        finally:
            self._ended.append((started, time.time()))
            await self._write_ends()

    async def _write_ends(self) -> None:
        """Write the ends still waiting, unless a transaction queued before did (busy: the next
        reservation carries them, and no transaction is spent on them alone)."""
        await self._lock.acquire()
        pending = bool(self._ended)
        self._lock.release()
        if not pending:
            return
        try:
            async with self._tx():
                pass
        except Exception:  # the request holds its place in the window until STALE_S
            log.exception("pacing %s: could not record when requests ended", self.bucket)
