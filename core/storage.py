"""The database side of conversations: the flows' Store, per-user deletion and retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Delete, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from core.db import Base, utcnow
from core.models import (
    ChatPace,
    ConsoleUser,
    Conversation,
    Feedback,
    Handover,
    HandoverMessage,
    InboxItem,
    Invite,
    MessageLog,
    OutboxItem,
    Subscription,
    TeamMember,
    Unanswered,
    User,
)
from core.privacy import mask_numbers, user_key

__all__ = [
    "RETAINED",
    "USER_DATA",
    "SqlStore",
    "has_written",
    "insert_for",
    "last_seen",
    "mark_blocked",
    "purge_expired",
]

_Column = InstrumentedAttribute[Any]

#: Every table holding data about one citizen: (model, channel column, user column).
#: /xoadulieu deletes from all of them. A new table with a user id belongs here:
#: tests/core/test_storage.py fails until it is listed.
USER_DATA: tuple[tuple[type[Base], _Column, _Column], ...] = (
    (MessageLog, MessageLog.channel, MessageLog.user_id),
    # Updates as the platform sent them (the one being answered keeps only its key).
    (InboxItem, InboxItem.channel, InboxItem.user_id),
    (Feedback, Feedback.channel, Feedback.user_id),
    (Conversation, Conversation.channel, Conversation.user_id),
    # Notices: the subscription, a team seat, deliveries and chat pacing.
    (Subscription, Subscription.channel, Subscription.user_id),
    (TeamMember, TeamMember.channel, TeamMember.user_id),
    (OutboxItem, OutboxItem.channel, OutboxItem.user_id),
    (ChatPace, ChatPace.channel, ChatPace.user_id),
    # A person took over: the transcript first, then the requests it belongs to.
    (HandoverMessage, HandoverMessage.channel, HandoverMessage.user_id),
    (Handover, Handover.channel, Handover.user_id),
    (User, User.channel, User.user_id),
)

#: Tables pruned after ``retention_days``: (model, timestamp column).
RETAINED: tuple[tuple[type[Base], _Column], ...] = (
    (MessageLog, MessageLog.created_at),
    (Unanswered, Unanswered.created_at),
    (Feedback, Feedback.created_at),
    (Conversation, Conversation.updated_at),
    # Delivery rows and invites are pruned like the logs.
    (OutboxItem, OutboxItem.created_at),
    (Invite, Invite.created_at),
    # Handover transcripts like the logs; a request with them once it is old (open or not).
    (HandoverMessage, HandoverMessage.created_at),
    (Handover, Handover.changed_at),
)


def insert_for(session: AsyncSession, model: type[Base]) -> Any:
    """A dialect-specific INSERT that supports ``on_conflict_do_*``."""
    name = session.bind.dialect.name if session.bind else "sqlite"
    return (postgresql.insert(model) if name == "postgresql" else sqlite.insert(model))


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class SqlStore:
    """The flows' Store, bound to the session (and transaction) of one update."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_feedback(self, channel: str, user_id: str, answer: str, value: int, *,
                           question: str | None = None, label: str | None = None) -> None:
        self.session.add(Feedback(channel=channel, user_id=user_id, answer=answer, value=value,
                                  question=question, label=label[:96] if label else None))

    async def log_unanswered(self, text: str, guesses: dict[str, Any], decision: str, *,
                             channel: str | None = None, user_id: str | None = None) -> None:
        key = user_key(channel, user_id) if channel and user_id else None
        self.session.add(Unanswered(text=mask_numbers(text), guesses=guesses,
                                    decision=decision, user_key=key))

    async def delete_user_data(self, channel: str, user_id: str) -> dict[str, int]:
        """Delete every row about this citizen; the counts by table. Rows that only name the
        chat account (a console account linked to it, an invite it redeemed) lose the name;
        the audit log of what a team member did stays, as the record of an official act."""
        counts: dict[str, int] = {}
        for model, ch_col, user_col in USER_DATA:
            stmt: Delete = delete(model).where(ch_col == channel, user_col == user_id)
            result = await self.session.execute(stmt)
            counts[model.__tablename__] = _rowcount(result)
        result = await self.session.execute(
            delete(Unanswered).where(Unanswered.user_key == user_key(channel, user_id)))
        counts[Unanswered.__tablename__] = _rowcount(result)
        result = await self.session.execute(
            update(ConsoleUser).where(ConsoleUser.linked_channel == channel,
                                      ConsoleUser.linked_user_id == user_id)
            .values(linked_channel=None, linked_user_id=None)
            .execution_options(synchronize_session=False))
        counts["console_links"] = _rowcount(result)
        result = await self.session.execute(
            update(Invite).where(Invite.used_by == f"{channel}:{user_id}")
            .values(used_by=None).execution_options(synchronize_session=False))
        counts["invites_used"] = _rowcount(result)
        return counts

    async def user_data(self, channel: str, user_id: str) -> dict[str, int]:
        """How many rows about this citizen each table holds (what /dulieucuatoi shows)."""
        counts: dict[str, int] = {}
        for model, ch_col, user_col in USER_DATA:
            counts[model.__tablename__] = int((await self.session.execute(
                select(func.count()).select_from(model)
                .where(ch_col == channel, user_col == user_id))).scalar_one())
        counts[Unanswered.__tablename__] = int((await self.session.execute(
            select(func.count()).select_from(Unanswered)
            .where(Unanswered.user_key == user_key(channel, user_id)))).scalar_one())
        counts["console_links"] = int((await self.session.execute(
            select(func.count()).select_from(ConsoleUser)
            .where(ConsoleUser.linked_channel == channel,
                   ConsoleUser.linked_user_id == user_id))).scalar_one())
        return counts

    async def recent_questions(self, channel: str, user_id: str, limit: int = 3) -> list[str]:
        """The citizen's latest logged messages as stored (masked), newest first."""
        rows = (await self.session.execute(
            select(MessageLog.text).where(MessageLog.channel == channel,
                                          MessageLog.user_id == user_id,
                                          MessageLog.text.is_not(None))
            .order_by(MessageLog.id.desc()).limit(limit))).scalars()
        return [str(t) for t in rows]

    async def subscription_areas(self, channel: str, user_id: str) -> list[str]:
        areas = (await self.session.execute(
            select(Subscription.areas).where(Subscription.channel == channel,
                                             Subscription.user_id == user_id))).scalar()
        return [str(a) for a in areas] if isinstance(areas, list) else []


async def mark_blocked(sm: async_sessionmaker[AsyncSession], channel: str, user_id: str,
                       *, unreachable: bool = False) -> None:
    """Remember that the platform refuses messages to this user (403 / Zalo -230)."""
    col = "unreachable_at" if unreachable else "blocked_at"
    async with sm() as session, session.begin():
        stmt = insert_for(session, User).values(channel=channel, user_id=user_id,
                                                **{col: utcnow()})
        stmt = stmt.on_conflict_do_update(index_elements=[User.channel, User.user_id],
                                          set_={col: utcnow()})
        await session.execute(stmt)


async def has_written(sm: async_sessionmaker[AsyncSession], channel: str, user_id: str) -> bool:
    """Whether this user ever wrote to us on ``channel`` (Zalo's bot may only answer them)."""
    async with sm() as session:
        found = await session.execute(select(User.id).where(
            User.channel == channel, User.user_id == user_id))
        return found.first() is not None


async def last_seen(sm: async_sessionmaker[AsyncSession], channel: str, user_id: str
                    ) -> tuple[dt.datetime, dt.datetime | None] | None:
    """(when the user last wrote, when the platform last said they are unreachable)."""
    async with sm() as session:
        row = (await session.execute(select(User.last_seen, User.unreachable_at).where(
            User.channel == channel, User.user_id == user_id))).first()
    return None if row is None else (row[0], row[1])


async def purge_expired(sm: async_sessionmaker[AsyncSession], retention_days: int,
                        now: dt.datetime | None = None) -> dict[str, int]:
    """Delete logs, feedback and idle conversations older than ``retention_days``."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    counts: dict[str, int] = {}
    async with sm() as session, session.begin():
        for model, col in RETAINED:
            result = await session.execute(delete(model).where(col < cutoff))
            counts[model.__tablename__] = int(getattr(result, "rowcount", 0) or 0)
    return counts
