"""The broadcast component of ``trolyso run``: a sender for the channels this process has, and
the scheduler (which only acts while this process holds the scheduling lock)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broadcast.rules import DeliveryRule
from broadcast.scheduler import Scheduler
from broadcast.sender import Deliverer, Sender
from core.config import Settings

__all__ = ["BroadcastService"]

log = logging.getLogger(__name__)


class BroadcastService:
    def __init__(self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession],
                 settings: Settings, texts: Mapping[str, str],
                 channels: Mapping[str, Deliverer], *,
                 rules: Mapping[str, Sequence[DeliveryRule]] | None = None,
                 schedule: bool = True) -> None:
        self.sender = (Sender(sessionmaker, settings, texts, channels, rules=rules)
                       if channels else None)
        self.scheduler = Scheduler(engine, sessionmaker, settings, texts) if schedule else None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._stop.clear()
        if self.sender is not None:
            self._tasks.append(asyncio.create_task(self.sender.run(self._stop)))
            log.info("notices: sending on %s", ", ".join(sorted(self.sender.channels)))
        else:
            log.info("notices: no channel can send notices in this process")
        if self.scheduler is not None:
            self._tasks.append(asyncio.create_task(self.scheduler.run(self._stop)))

    async def stop(self) -> None:
        self._stop.set()
        for result in await asyncio.gather(*self._tasks, return_exceptions=True):
            if isinstance(result, BaseException):
                log.error("notices: a task ended with %r", result)
        self._tasks.clear()
