"""Zalo OA's platform rules for notices, kept by the sender by deferring rows (channels.md
§D4): promotion messages not at night and at most one per follower per day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.outbox import Claim
from core.models import OutboxItem

__all__ = ["ZaloOaRules"]


def _hm(text: str) -> dt.time:
    h, m = text.split(":")
    return dt.time(int(h), int(m))


class ZaloOaRules:
    """Promotion messages (tin truyền thông) are refused at night (error -234, 22:00-06:00)
    and allowed at most once per follower per day (channels.md §D4). The channel decides per
    message whether it can use a customer-service message instead, which we cannot know
    beforehand, so every non-emergency notice follows both rules, kept by deferring the row,
    never by dropping it. Emergency notices go straight to the channel: whatever it answers (a
    retry time, a refusal) is kept."""

    channel = "zalo_oa"

    def __init__(self, tz: ZoneInfo, quiet_hours: tuple[str, str], daily_limit: int) -> None:
        self.tz = tz
        self.start, self.end = _hm(quiet_hours[0]), _hm(quiet_hours[1])
        self.daily_limit = daily_limit

    def quiet(self, when: dt.datetime) -> bool:
        t = when.astimezone(self.tz).time()
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def quiet_end(self, when: dt.datetime) -> dt.datetime:
        """The first moment at or after ``when`` outside the quiet hours."""
        local = when.astimezone(self.tz)
        if not self.quiet(local):
            return when
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0,
                            microsecond=0)
        if end <= local:
            end += dt.timedelta(days=1)
        return end.astimezone(dt.UTC)

    async def defer_until(self, session: AsyncSession, c: Claim,
                          now: dt.datetime) -> dt.datetime | None:
        """When this row may go out, or None when it may go now."""
        if c.channel != self.channel or c.kind != "notice" or c.priority == "emergency":
            return None
        if self.quiet(now):
            return self.quiet_end(now)
        local = now.astimezone(self.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        sent_today = (await session.execute(
            select(func.count()).select_from(OutboxItem).where(
                OutboxItem.channel == c.channel, OutboxItem.user_id == c.user_id,
                OutboxItem.kind == "notice", OutboxItem.id != c.id,
                OutboxItem.state.in_(("sent", "sending")),
                OutboxItem.attempted_at >= midnight.astimezone(dt.UTC)))).scalar_one()
        if sent_today >= self.daily_limit:
            return self.quiet_end((midnight + dt.timedelta(days=1)).astimezone(dt.UTC))
        return None
