"""Every table of the project, in one metadata: the conversation core (users, state, logs,
feedback, platform tokens), notices (subscriptions, teams, audit, announcements, runs, the
outbox, rate limits, the scheduler's jobs, radio bulletins), the operator console and a
person taking over a chat (handovers, their transcript, who is on duty).

The schema is owned by the Alembic migrations in ``core/migrations``."""

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

from core.db import Base, utcnow

__all__ = [
    "JOBS_TABLE",
    "Announcement",
    "AnnouncementArea",
    "AuditEntry",
    "ChatPace",
    "ConsoleSession",
    "ConsoleUser",
    "Conversation",
    "Feedback",
    "Handover",
    "HandoverMessage",
    "InboxItem",
    "Invite",
    "LiveVersion",
    "LoginThrottle",
    "MessageLog",
    "NluModel",
    "NoticeAttachment",
    "OAuthToken",
    "OperatorDuty",
    "OutboxItem",
    "RadioBulletin",
    "RadioSlots",
    "RateBucket",
    "Run",
    "SubscriberCount",
    "Subscription",
    "TaughtExample",
    "TeamMember",
    "Unanswered",
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
    """A question the assistant was unsure about, for the content team. Who asked is not
    shown: only ``user_key`` (:func:`core.privacy.user_key`), so /xoadulieu can delete it."""

    __tablename__ = "unanswered"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    user_key: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    guesses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    decision: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # Set when an editor taught a label from it (or put it aside) in the console's inbox.
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    reviewed_label: Mapped[str | None] = mapped_column(String(96), default=None)


class Feedback(Base):
    """👍/👎 on an answer, with the question it answered (masked as logged) and the label the
    understanding chose, so the content team can see what went wrong."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_user", "channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    answer: Mapped[str] = mapped_column(String(96))
    value: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    question: Mapped[str | None] = mapped_column(Text, default=None)
    label: Mapped[str | None] = mapped_column(String(96), default=None)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    reviewed_label: Mapped[str | None] = mapped_column(String(96), default=None)


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


# ---------------------------------------------------------------------- notices

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
    # Approval (broadcast.approval): None = not needed; waiting | approved | rejected.
    approval: Mapped[str | None] = mapped_column(String(12), default=None)
    approved_by: Mapped[str | None] = mapped_column(String(160), default=None)
    # A correction or withdrawal is a short follow-up to the recipients of ``follows_id``.
    # (No foreign key: adding one to an existing SQLite table means rebuilding it.)
    follows_id: Mapped[int | None] = mapped_column(BigId, default=None, index=True)
    follow_kind: Mapped[str | None] = mapped_column(String(12), default=None)


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
        # The console's messages-per-day chart reads only this index (sent_at is set when,
        # and only when, a row is sent).
        Index("ix_outbox_sent", "sent_at", "kind", "channel"),
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
    the earliest slot for the next message (GCRA spacing); ``recent`` holds the slots planned
    and when the last requests started and ended (``broadcast.ratelimit``), so no rolling
    second at the platform ever holds more than the limit."""

    __tablename__ = "rate_buckets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    tat: Mapped[float] = mapped_column(Float, default=0.0)
    recent: Mapped[dict[str, Any] | list[float]] = mapped_column(JSON, default=dict)


class InboxItem(Base):
    """One update a platform delivered, stored before it is acknowledged (issue 13).

    ``state``: new (accepted, not decided), replying (the replies are decided and stored in
    ``replies``; ``replies[:sent]`` went out), done, failed (``attempts`` reached
    ``inbox.max_attempts``). ``lease_until``: the process handling it holds it until then
    (renewed while it works); an expired lease on a row not done is resumed by any process.
    A done row keeps only its delivery key (duplicate detection), not the message.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "key"),
        Index("ix_inbox_user", "channel", "user_id"),
        Index("ix_inbox_pending", "state", "lease_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(160))
    user_id: Mapped[str | None] = mapped_column(String(128), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default="new")
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    replies: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    sent: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    processed_at: Mapped[dt.datetime | None] = mapped_column(default=None)


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


class RadioSlots(Base):
    """An area's own daily bulletin times, set in the console; they replace ``radio.slots``
    of the configuration for that area (an area without a row keeps the configured ones)."""

    __tablename__ = "radio_slots"

    area_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    slots: Mapped[list[str]] = mapped_column(JSON, default=list)  # "HH:MM", sorted
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------------- operator console


class AnnouncementArea(Base):
    """One row per area of a notice: lets lists filter notices by area in SQL (the areas JSON
    of :class:`Announcement` stays the record; this table is kept in step with it)."""

    __tablename__ = "announcement_areas"
    __table_args__ = (Index("ix_announcement_areas_area", "area", "announcement_id"),)

    announcement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True)
    area: Mapped[str] = mapped_column(String(8), primary_key=True)


class NoticeAttachment(Base):
    """A photo or PDF sent with a notice (one per notice), kept in the database so every
    process can send it. ``token`` names it in the public link for channels without files."""

    __tablename__ = "notice_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("announcements.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # photo | document
    mime: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(String(43), unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ConsoleUser(Base):
    """An account of the operator console, created only by ``trolyso console user add``.

    Passwords are argon2id hashes; the setup link and the chat-link code are stored as SHA-256
    only. A linked chat account (``linked_channel``/``linked_user_id``) has this account's
    rights in chat: the account is the one team-membership record of that person.
    """

    __tablename__ = "console_users"
    __table_args__ = (UniqueConstraint("linked_channel", "linked_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | member | radio | editor
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    password_set_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    setup_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    setup_expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    link_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    link_expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    linked_channel: Mapped[str | None] = mapped_column(String(16), default=None)
    linked_user_id: Mapped[str | None] = mapped_column(String(128), default=None)
    created_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class ConsoleSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    address: Mapped[str] = mapped_column(String(64), default="")
    agent: Mapped[str] = mapped_column(String(200), default="")


class LoginThrottle(Base):
    """Failed console logins per account name (``account:NAME``) and per address
    (``address:IP``): after ``console.login_max_failures`` the key is locked for a while."""

    __tablename__ = "console_login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)


class SubscriberCount(Base):
    """Subscribers per area and topic on one day (local date), for the console's charts."""

    __tablename__ = "subscriber_counts"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    area: Mapped[str] = mapped_column(String(8), primary_key=True)
    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


# ---------------------------------------------------------------------- learning

class TaughtExample(Base):
    """A question an editor labelled in the console: a training example with no link to the
    citizen who asked it (masked text, the label, who taught it and when).

    ``state``: ``pending`` (waiting for the next retrain), ``accepted`` (in the serving
    engine), ``refused`` (a retrain that used it lowered the evaluation figures).
    """

    __tablename__ = "taught_examples"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(96))  # svc_<id>, intent/faq-id, out_of_scope
    # Examples taught together under a catch-all label (out_of_scope, other_procedure) are one
    # topic, learnt as a class of its own (nlu.retrain.training_label).
    topic: Mapped[str | None] = mapped_column(String(32), default=None)
    state: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    taught_by: Mapped[str] = mapped_column(String(160))  # console:<name>
    model_id: Mapped[int | None] = mapped_column(BigInteger, default=None)  # the retrain
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NluModel(Base):
    """One retrain of the understanding engine with the taught examples, and its verdict.

    ``state``: queued → training → accepted | refused | failed. ``report`` holds the
    figures before and after on every evaluation file; an accepted engine is the pickle
    ``nlu-<key>.pkl`` in ``nlu.cache_dir`` (``sha256`` of the file), which is also what a
    process starting later loads for the same training inputs.
    """

    __tablename__ = "nlu_models"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    state: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    requested_by: Mapped[str] = mapped_column(String(160))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    examples: Mapped[list[int]] = mapped_column(JSON, default=list)  # taught example ids used
    key: Mapped[str | None] = mapped_column(String(64), default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Why refused or failed: {"file", "metric", "before", "after"} per finding (nlu.gate).
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    train_s: Mapped[float | None] = mapped_column(Float, default=None)


class LiveVersion(Base):
    """What every server process should be serving: ``nlu`` (the accepted NluModel id, 0 for
    the engine trained from content/ alone) and ``content`` (bumped by each accepted content
    edit). Processes poll this small table and swap between two messages."""

    __tablename__ = "live_versions"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
# ---------------------------------------------------------------------- a person takes over


class Handover(Base):
    """A citizen's request to talk to a person, and the chat with the operator who took it.

    ``state``: queued -> claimed (by one operator) -> closed; a claimed chat whose operator's
    page went silent goes back to queued. ``open`` is 1 while queued or claimed and NULL once
    closed, so the unique (channel, user_id, open) constraint allows one open request per chat
    (NULLs never collide, on SQLite as on PostgreSQL). A claim is one conditional UPDATE
    (``WHERE state = 'queued'``): of two operators claiming at once, exactly one succeeds.
    ``changed_at`` moves on every change (a message, a claim, a delivery result): long polls
    wait for it.
    """

    __tablename__ = "handovers"
    __table_args__ = (
        UniqueConstraint("channel", "user_id", "open"),
        Index("ix_handovers_queue", "state", "area", "requested_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    area: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(12), default="queued")
    open: Mapped[int | None] = mapped_column(default=1)
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    claimed_by: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("console_users.id", ondelete="SET NULL"), default=None, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str | None] = mapped_column(String(160), default=None)
    close_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class HandoverMessage(Base):
    """One line of a handover: what the citizen wrote, what the operator wrote, the emergency
    reply the assistant still gave, notes for the operator, and alerts to operators' chats.

    ``author``: citizen | assistant (transcript only) | operator | system (to the citizen) |
    note (to the operator's page only) | alert (to an on-duty operator's linked chat). Rows to
    push (operator and system messages on push channels, alerts) go out through the handover
    sender: ``state`` pending -> sending -> sent | failed (``reason`` says why, shown to the
    operator); web chat rows are ``sent`` at once and fetched by the page. ``channel`` and
    ``user_id`` are the citizen's: /xoadulieu and ``retention_days`` delete by them.
    """

    __tablename__ = "handover_messages"
    __table_args__ = (
        Index("ix_handover_messages_user", "channel", "user_id"),
        Index("ix_handover_messages_due", "state", "not_before"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    handover_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("handovers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    author: Mapped[str] = mapped_column(String(12))
    operator_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("console_users.id", ondelete="SET NULL"), default=None)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[list[str]]] = mapped_column(JSON, default=list)  # [[label, payload]]
    to_channel: Mapped[str | None] = mapped_column(String(16), default=None)
    to_user: Mapped[str | None] = mapped_column(String(128), default=None)
    state: Mapped[str | None] = mapped_column(String(12), default=None)
    reason: Mapped[str | None] = mapped_column(String(300), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[dt.datetime | None] = mapped_column(default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    claim_token: Mapped[str | None] = mapped_column(String(32), default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class OperatorDuty(Base):
    """An operator on duty for handovers (until ``until``, the end of today's office hours),
    and when their console page last asked for news (``last_seen_at``): a claimed chat whose
    operator's page stayed silent for ``handover.release_after_s`` goes back to the queue."""

    __tablename__ = "operator_duty"

    operator_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("console_users.id", ondelete="CASCADE"), primary_key=True)
    until: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(default=None)
