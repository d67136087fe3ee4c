"""Replies paced with notices, across processes: one rate for the whole bot (Telegram: about 30
messages per second), kept in the database bucket the notice sender uses
(:mod:`broadcast.ratelimit`), so replies from every process and notices together stay under it.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broadcast import ratelimit
from core.db import write_lock

__all__ = ["Pacer"]


class Pacer:
    """Waits for a time slot in the channel's shared bucket before each message.

    ``per_second`` 0 turns pacing off (the platform's 429s are then the only brake)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], bucket: str,
                 per_second: float) -> None:
        self.sessionmaker = sessionmaker
        self.engine = sessionmaker.kw["bind"]
        self.bucket = bucket
        # 10 % under the platform's rate: a request reaches the platform some milliseconds
        # after its slot, and those delays differ from one request to the next.
        self.per_second = per_second * 0.9
        # One reservation at a time per process: the bucket's row lock serialises them anyway,
        # and senders queueing on it in the database would each hold a pooled connection.
        self._lock = asyncio.Lock()

    async def turn(self) -> None:
        """Return when one message may leave now.

        A slot is only good at its time: a sender that wakes later than ``WINDOW_MARGIN_S``
        (a busy event loop, a slow database) could put more than the limit in one second with
        the slots planned after its own, so it gives the slot back and takes a new one."""
        if self.per_second <= 0:
            return
        late: float | None = None
        while True:
            async with self._lock, write_lock(self.engine), self.sessionmaker() as s, \
                    s.begin():
                if late is not None:
                    await ratelimit.release(s, self.bucket, late)
                slot = await ratelimit.reserve(s, self.bucket, self.per_second, time.time())
            wait = slot - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if time.time() - slot <= ratelimit.WINDOW_MARGIN_S:
                return
            late = slot
