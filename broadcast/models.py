"""Tables of notices: subscriptions, teams, audit, announcements, runs and the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow

__all__ = [
    "JOBS_TABLE",
    "Announcement",
    "AuditEntry",
    "ChatPace",
    "Invite",
    "OutboxItem",
    "RateBucket",
    "Run",
    "Subscription",
    "TeamMember",
]

#: An id column that autoincrements on both PostgreSQL (BIGINT) and SQLite (INTEGER rowid).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Subscription(Base):
    """A citizen who agreed to receive notices. The row exists only after consent."""

    __tablename__ = "subscriptions"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    areas: Mapped[list[str]] = mapped_column(JSON)
    topics: Mapped[list[str]] = mapped_column(JSON)
    # When the citizen tapped "I agree", and which wording they agreed to.
    consent_at: Mapped[dt.datetime]
    consent_text: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TeamMember(Base):
    """A community digital technology team member or radio operator, bound to areas."""

    __tablename__ = "team_members"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    areas: Mapped[list[str]] = mapped_column(JSON)
    invited_by: Mapped[str] = mapped_column(String(160))
    joined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Invite(Base):
    """A one-time invite code. Only its SHA-256 is stored: the code is shown once."""

    __tablename__ = "team_invites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    areas: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[dt.datetime]
    used_by: Mapped[str | None] = mapped_column(String(160), default=None)
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class AuditEntry(Base):
    """Who did what, when, to whom. Kept: not pruned with the conversation logs."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(160), index=True)
    action: Mapped[str] = mapped_column(String(48))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    targets: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Announcement(Base):
    """A notice. ``state``: scheduled, sending, done or cancelled (interfaces.md).

    ``first_at`` is the only time of a one-off notice and the first occurrence of a repeating
    one; later occurrences keep its local time (and weekday for ``weekly``).
    """

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    author: Mapped[str] = mapped_column(String(160))  # audit label: telegram:123, cli:alice
    author_channel: Mapped[str | None] = mapped_column(String(16), default=None)
    author_user_id: Mapped[str | None] = mapped_column(String(128), default=None)
    title: Mapped[str | None] = mapped_column(String(200), default=None)
    text: Mapped[str] = mapped_column(Text)
    areas: Mapped[list[str]] = mapped_column(JSON)
    topics: Mapped[list[str]] = mapped_column(JSON)
    priority: Mapped[str] = mapped_column(String(16))
    radio: Mapped[bool] = mapped_column(default=False)  # also read on the ward's loudspeakers
    repeat: Mapped[str] = mapped_column(String(8), default="none")
    first_at: Mapped[dt.datetime]
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Run(Base):
    """One release of a notice: a repeating notice gets a run per occurrence.

    Unique per (notice, occurrence), so a job that fires twice releases once. ``counts`` keeps
    the final figures once sending ends, so status survives the pruning of outbox rows.
    """

    __tablename__ = "announcement_runs"
    __table_args__ = (UniqueConstraint("announcement_id", "planned_for"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("announcements.id", ondelete="CASCADE"), index=True)
    planned_for: Mapped[dt.datetime]
    released_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recipients: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)  # what citizens receive, rendered at release
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class OutboxItem(Base):
    """One message to one recipient. ``kind``: ``notice`` (to a subscriber) or ``report`` (the
    delivery report to the author).

    ``state``: pending → claimed (by a sender, until ``lease_until``) → sending (the request is
    out) → sent | failed | blocked; or cancelled. A claim whose lease ran out goes back to
    pending: that is how a crashed sender's rows are picked up by another.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("run_id", "kind", "channel", "user_id"),
        Index("ix_outbox_claim", "state", "rank", "not_before"),
        Index("ix_outbox_run_state", "run_id", "state"),
        Index("ix_outbox_user", "channel", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("announcement_runs.id",
                                                          ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8), default="notice")
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    rank: Mapped[int] = mapped_column(default=2)  # 0 emergency first
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    claim_token: Mapped[str | None] = mapped_column(String(32), default=None)
    attempted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)  # reports only
    reason: Mapped[str | None] = mapped_column(String(300), default=None)
    platform_id: Mapped[str | None] = mapped_column(String(64), default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class RateBucket(Base):
    """A channel's message rate, shared by every sender process. ``tat`` (epoch seconds) is
    the earliest slot for the next message (GCRA spacing); ``recent`` holds when the last
    messages really left, so no rolling second ever holds more than the limit."""

    __tablename__ = "rate_buckets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    tat: Mapped[float] = mapped_column(Float, default=0.0)
    recent: Mapped[list[float]] = mapped_column(JSON, default=list)


class ChatPace(Base):
    """Earliest time (epoch seconds) the next message may go to one chat (about 1/s)."""

    __tablename__ = "chat_pace"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float, index=True)


#: APScheduler 3's SQLAlchemyJobStore table, created by our migrations (same columns as
#: APScheduler's own definition) so that schema comparisons know it.
JOBS_TABLE = Table(
    "broadcast_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class RadioBulletin(Base):
    """A radio bulletin built (or being built) for one area: a daily slot or an emergency.

    ``key`` is unique per area ("slot:2026-11-27T06:00", "emergency:<run id>"): the process that
    inserts the row builds the bulletin, so several processes never build the same one.
    """

    __tablename__ = "radio_bulletins"
    __table_args__ = (UniqueConstraint("area_code", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))  # building | ready | empty | failed
    announcement_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    mp3: Mapped[str | None] = mapped_column(String(300), default=None)  # relative to output_dir
    error: Mapped[str | None] = mapped_column(String(300), default=None)
    sent_to: Mapped[list[str]] = mapped_column(JSON, default=list)  # operators it reached
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


def _register() -> None:
    """/xoadulieu deletes a citizen's subscription, team seat, deliveries and pacing too;
    delivery rows and invites are pruned after ``retention_days`` like the logs."""
    from bot.storage import RETAINED, USER_DATA

    per_user: list[tuple[type[Base], Any, Any]] = [
        (Subscription, Subscription.channel, Subscription.user_id),
        (TeamMember, TeamMember.channel, TeamMember.user_id),
        (OutboxItem, OutboxItem.channel, OutboxItem.user_id),
        (ChatPace, ChatPace.channel, ChatPace.user_id),
    ]
    for model, ch, uid in per_user:
        if all(m is not model for m, _, _ in USER_DATA):
            USER_DATA.append((model, ch, uid))
    dated: list[tuple[type[Base], Any]] = [(OutboxItem, OutboxItem.created_at),
                                           (Invite, Invite.created_at)]
    for model, col in dated:
        if all(m is not model for m, _ in RETAINED):
            RETAINED.append((model, col))


_register()
