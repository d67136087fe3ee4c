"""Outages: the admins are told on a working channel when a channel stays degraded or its
notice deliveries keep failing, once per episode (the ``health:`` section).

An episode starts when the condition has held long enough and ends when it no longer holds;
a new episode is reported again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelBase
from core.config import Settings
from core.db import READ_ONLY, utcnow
from core.models import OutboxItem

__all__ = ["OutageMonitor", "failing_deliveries"]

log = logging.getLogger(__name__)


async def failing_deliveries(session: AsyncSession, since: dt.datetime
                             ) -> dict[str, tuple[int, str]]:
    """Per channel with no notice sent since ``since``: the failed attempts since then and the
    last reason given."""
    attempted = OutboxItem.attempted_at >= since
    sent: dict[str, int] = dict((await session.execute(
        select(OutboxItem.channel, func.count()).where(OutboxItem.sent_at >= since)
        .group_by(OutboxItem.channel))).all())
    rows = (await session.execute(
        select(OutboxItem.channel, func.count(), func.max(OutboxItem.reason))
        .where(attempted, OutboxItem.sent_at.is_(None), OutboxItem.reason.is_not(None))
        .group_by(OutboxItem.channel))).all()
    return {str(ch): (int(n), str(reason or "")) for ch, n, reason in rows if not sent.get(ch)}


class OutageMonitor:
    """Looks every ``health.check_s``; tells every admin reachable on a healthy channel."""

    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession],
                 texts: Mapping[str, str], channels: Mapping[str, ChannelBase]) -> None:
        self.settings = settings
        self.cfg = settings.health
        self.sessionmaker = sessionmaker
        self.texts = texts
        self.channels = channels
        self.open: set[tuple[str, str]] = set()  # (kind, channel) of the episodes reported

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.check()
            except Exception:
                log.exception("outage check failed")
            try:
                await asyncio.wait_for(stop.wait(), self.cfg.check_s)
            except TimeoutError:
                pass

    async def check(self) -> list[str]:
        """One look; returns the alerts sent (their texts)."""
        now: dict[tuple[str, str], str] = {}
        for name, channel in self.channels.items():
            if channel.health() != "ok" and channel.degraded_for() >= self.cfg.degraded_alert_s:
                now[("degraded", name)] = self.texts["health.degraded"].format(
                    channel=name, minutes=max(1, round(channel.degraded_for() / 60)))
        since = utcnow() - dt.timedelta(seconds=self.cfg.window_s)
        async with self.sessionmaker() as session:
            await session.connection(execution_options={READ_ONLY: True})
            failing = await failing_deliveries(session, since)
        for name, (count, reason) in failing.items():
            if count >= self.cfg.failed_deliveries:
                now[("failing", name)] = self.texts["health.failing"].format(
                    channel=name, count=count, minutes=round(self.cfg.window_s / 60),
                    reason=reason[:120])
        self.open &= set(now)  # an episode that ended can be reported again later
        sent = []
        for key, text in now.items():
            if key in self.open:
                continue
            self.open.add(key)  # told or logged: once per episode either way
            if await self._tell_admins(text, broken=key[1]):
                sent.append(text)
        return sent

    async def _tell_admins(self, text: str, broken: str) -> bool:
        told = False
        for admin in self.settings.admins:
            channel = self.channels.get(admin.channel)
            if channel is None or admin.channel == broken or channel.health() != "ok" \
                    or not channel.spec.push:
                continue
            try:
                result = await channel.deliver(admin.user_id, text)
            except Exception as exc:
                log.warning("outage alert to %s:%s failed: %s", admin.channel, admin.user_id,
                            exc)
                continue
            told = told or result.status == "sent"
        if not told:
            log.error("outage not told to any admin (no admin on a working channel): %s", text)
        return told
