"""Tables of the conversation core: users, conversation state, logs, feedback."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow

__all__ = [
    "Conversation", "Feedback", "MessageLog", "OAuthToken", "ProcessedUpdate", "Unanswered",
    "User",
]


class User(Base):
    """A citizen on one channel. Holds no name: only the platform's opaque id."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The platform refuses messages to this user (Telegram 403 "bot was blocked by the user").
    blocked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Zalo OA -230: no interaction in 7 days, customer-service messages are refused.
    unreachable_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Conversation(Base):
    """Where a citizen is in the conversation. Read and written on every update.

    ``version`` makes the write a compare-and-set, so two processes handling the same user's
    messages at once cannot overwrite each other's state.
    """

    __tablename__ = "conversations"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class ProcessedUpdate(Base):
    """Ids of platform updates already handled, so a redelivery is answered once."""

    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class MessageLog(Base):
    """One exchange: what was understood (identifiers and numbers masked), kept retention_days."""

    __tablename__ = "message_log"
    __table_args__ = (Index("ix_message_log_user", "channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str | None] = mapped_column(Text, default=None)
    intent: Mapped[str | None] = mapped_column(String(64), default=None)
    label: Mapped[str | None] = mapped_column(String(96), default=None)
    decision: Mapped[str | None] = mapped_column(String(16), default=None)
    confidence: Mapped[float | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class Unanswered(Base):
    """A question the assistant was unsure about, for the content team. No user link."""

    __tablename__ = "unanswered"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    guesses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    decision: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class Feedback(Base):
    """👍/👎 on an answer."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_user", "channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    answer: Mapped[str] = mapped_column(String(96))
    value: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class OAuthToken(Base):
    """Platform tokens that rotate (Zalo OA: the refresh token is single-use).

    A refresh writes the new pair here, in one transaction guarded by ``version``, before the
    new access token is used, so a crash or a second process can never lose the only valid
    refresh token.
    """

    __tablename__ = "oauth_tokens"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
