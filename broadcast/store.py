"""The chat flows' :class:`~broadcast.types.NoticeStore`, on the session of one update."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast import announcements, subscriptions, teams
from broadcast.types import Actor, Draft, Member, NoticeSummary, Subscription
from core.config import Settings
from core.db import utcnow
from core.models import Announcement

__all__ = ["SqlNoticeStore"]


def _actor(m: Member) -> Actor:
    return Actor.chat(m.channel, m.user_id)


def _allowed(m: Member) -> list[str] | None:
    """Areas a member may target; None for an admin of every area."""
    return None if m.everywhere else list(m.areas)


class SqlNoticeStore:
    """Everything here joins the update's transaction: nothing is kept if the update fails."""

    def __init__(self, session: AsyncSession, settings: Settings,
                 texts: Mapping[str, str]) -> None:
        self.session = session
        self.settings = settings
        self.texts = texts
        self.tz = ZoneInfo(settings.timezone)
        self.max_chars = settings.broadcast.notice_max_chars
        self.invite_ttl_hours = settings.broadcast.invite_ttl_hours
        self.recent_days = settings.broadcast.recent_days

    def now(self) -> dt.datetime:
        return utcnow()

    async def subscription(self, channel: str, user_id: str) -> Subscription | None:
        return await subscriptions.get_subscription(self.session, channel, user_id)

    async def subscribe(self, channel: str, user_id: str, areas: list[str], topics: list[str],
                        consent: str) -> None:
        await subscriptions.save_subscription(self.session, channel, user_id, areas, topics,
                                              consent)

    async def unsubscribe(self, channel: str, user_id: str) -> bool:
        return await subscriptions.delete_subscription(self.session, channel, user_id)

    async def member(self, channel: str, user_id: str) -> Member | None:
        return await teams.find_member(self.session, self.settings, channel, user_id)

    async def join(self, channel: str, user_id: str, code: str) -> Member | None:
        return await teams.redeem_invite(self.session, channel, user_id, code)

    async def invite(self, by: Member, role: str, areas: list[str]) -> str:
        if by.role != "admin":
            raise PermissionError("only admins create invites")
        if not by.everywhere and not set(areas) <= set(by.areas):
            raise PermissionError("an area's admin invites for their own areas only")
        return await teams.create_invite(self.session, self.settings, _actor(by), role, areas)

    async def count_recipients(self, areas: list[str], topics: list[str]) -> int:
        return len(await subscriptions.matching(self.session, areas, topics))

    async def create(self, by: Member, draft: Draft) -> NoticeSummary:
        ann = await announcements.create(self.session, self.settings, self.texts, _actor(by),
                                         draft, allowed_areas=_allowed(by))
        return await announcements.summary(self.session, ann)

    async def notices(self, by: Member, limit: int = 10) -> list[NoticeSummary]:
        return await announcements.summaries(self.session, areas=_allowed(by),
                                             active_only=True, limit=limit)

    async def cancel(self, by: Member, notice_id: int) -> NoticeSummary | None:
        ann = await announcements.cancel(self.session, _actor(by), notice_id,
                                         allowed_areas=_allowed(by))
        return None if ann is None else await announcements.summary(self.session, ann)

    async def link(self, channel: str, user_id: str, code: str) -> tuple[str, str] | None:
        user = await teams.link_chat_account(self.session, channel, user_id, code)
        return None if user is None else (user.name, user.role)

    async def recent(self, areas: list[str]) -> list[tuple[dt.datetime, str]]:
        cfg = self.settings.broadcast
        since = utcnow() - dt.timedelta(days=cfg.recent_days)
        return [(r.released_at, r.text) for r in await announcements.recent(
            self.session, areas, limit=cfg.recent_notices, since=since)]

    async def get(self, notice_id: int) -> Announcement | None:
        return (await self.session.execute(select(Announcement).where(
            Announcement.id == notice_id))).scalar_one_or_none()
