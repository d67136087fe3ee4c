"""The database side of conversations: the flows' Store, per-user deletion and retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Delete, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from core.db import Base, utcnow
from core.models import (
    ChatPace,
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


class SqlStore:
    """The flows' Store, bound to the session (and transaction) of one update."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_feedback(self, channel: str, user_id: str, answer: str, value: int, *,
                           question: str | None = None, label: str | None = None) -> None:
        self.session.add(Feedback(channel=channel, user_id=user_id, answer=answer, value=value,
                                  question=question, label=label[:96] if label else None))

    async def log_unanswered(self, text: str, guesses: dict[str, Any], decision: str) -> None:
        self.session.add(Unanswered(text=text, guesses=guesses, decision=decision))

    async def delete_user_data(self, channel: str, user_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for model, ch_col, user_col in USER_DATA:
            stmt: Delete = delete(model).where(ch_col == channel, user_col == user_id)
            result = await self.session.execute(stmt)
            counts[model.__tablename__] = int(getattr(result, "rowcount", 0) or 0)
        return counts

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
