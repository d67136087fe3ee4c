"""The outbox: claiming rows to send, and recording what happened to each.

A sender claims a batch with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
senders never claim the same row; SQLite runs one writer at a time). Just before the request
goes out the row becomes ``sending``; right after, the result is written in its own short
transaction. A sender killed in between leaves ``sending`` rows whose lease runs out: they are
sent again, so after a crash at most the rows in flight at that moment can reach a citizen
twice. Rows it had only claimed go back to pending and are sent once.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import OutboxItem, Run, User
from core.storage import insert_for

__all__ = [
    "Claim",
    "backoff",
    "begin_send",
    "claim",
    "defer",
    "due_row",
    "expire_leases",
    "expired_lease",
    "mark",
    "retry_later",
    "run_texts",
]


@dataclass(frozen=True)
class Claim:
    """One claimed row, as a sender holds it in memory."""

    id: int
    run_id: int
    kind: str
    channel: str
    user_id: str
    rank: int
    priority: str
    attempts: int
    text: str | None  # reports carry their text; notices use their run's
    token: str


def _lease(now: dt.datetime, lease_s: float) -> dt.datetime:
    return now + dt.timedelta(seconds=lease_s)


def expired_lease() -> Any:
    """True when some row's lease ran out (what :func:`expire_leases` gives back); the time
    is the bound parameter ``now``."""
    return exists().where(OutboxItem.state.in_(("claimed", "sending")),
                          OutboxItem.lease_until < bindparam("now"))


def due_row(channels: Collection[str]) -> Any:
    """True when :func:`claim` would find a row for these channels (at ``now``)."""
    return exists().where(OutboxItem.state == "pending",
                          OutboxItem.not_before <= bindparam("now"),
                          OutboxItem.channel.in_(sorted(channels)))


async def expire_leases(session: AsyncSession, now: dt.datetime) -> int:
    """Rows whose sender stopped answering go back to pending."""
    result = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.state.in_(("claimed", "sending")), OutboxItem.lease_until < now)
        .values(state="pending", claim_token=None, lease_until=None)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def claim(session: AsyncSession, channels: Collection[str], limit: int,
                now: dt.datetime, lease_s: float) -> list[Claim]:
    """Up to ``limit`` due rows for these channels, most urgent first (emergency, then
    priority, then normal; oldest first within a level)."""
    if not channels or limit <= 0:
        return []
    token = uuid.uuid4().hex
    due = (select(OutboxItem.id)
           .where(OutboxItem.state == "pending", OutboxItem.not_before <= now,
                  OutboxItem.channel.in_(sorted(channels)))
           .order_by(OutboxItem.rank, OutboxItem.not_before, OutboxItem.id)
           .limit(limit)
           .with_for_update(skip_locked=True))
    rows = (await session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(due.scalar_subquery()))
        .values(state="claimed", claim_token=token, lease_until=_lease(now, lease_s))
        .returning(OutboxItem.id, OutboxItem.run_id, OutboxItem.kind, OutboxItem.channel,
                   OutboxItem.user_id, OutboxItem.rank, OutboxItem.priority,
                   OutboxItem.attempts, OutboxItem.text)
        .execution_options(synchronize_session=False))).all()
    claims = [Claim(*row, token=token) for row in rows]
    claims.sort(key=lambda c: (c.rank, c.id))
    return claims


async def run_texts(session: AsyncSession, run_ids: Collection[int]) -> dict[int, str]:
    """The rendered notice of each run."""
    rows = await session.execute(select(Run.id, Run.text).where(Run.id.in_(list(run_ids))))
    return {run_id: text for run_id, text in rows}


async def begin_send(session: AsyncSession, c: Claim, now: dt.datetime,
                     lease_s: float) -> bool:
    """Mark the row as going out now. False when it is no longer ours to send: cancelled,
    or its lease ran out and another sender may have claimed it."""
    result = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == c.id, OutboxItem.state == "claimed",
               OutboxItem.claim_token == c.token, OutboxItem.lease_until > now)
        .values(state="sending", attempted_at=now, lease_until=_lease(now, lease_s))
        .execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0))


async def mark(session: AsyncSession, c: Claim, state: str, now: dt.datetime, *,
               reason: str | None = None, platform_id: str | None = None) -> None:
    """A final state: sent, failed or blocked. ``sent`` is written whoever holds the row now,
    because the message did go out; this also stops a second sender that reclaimed it."""
    stmt = update(OutboxItem).where(OutboxItem.id == c.id)
    if state != "sent":
        stmt = stmt.where(OutboxItem.claim_token == c.token)
    values: dict[str, object] = {"state": state, "claim_token": None, "lease_until": None,
                                 "reason": (reason or "")[:300] or None}
    if state == "sent":
        values.update(sent_at=now, platform_id=(platform_id or "")[:64] or None)
    await session.execute(stmt.values(**values).execution_options(synchronize_session=False))
    if state == "blocked":
        up = insert_for(session, User).values(channel=c.channel, user_id=c.user_id,
                                              blocked_at=now)
        await session.execute(up.on_conflict_do_update(
            index_elements=[User.channel, User.user_id], set_={"blocked_at": now}))


async def defer(session: AsyncSession, c: Claim, until: dt.datetime,
                reason: str | None = None) -> None:
    """Back to pending until ``until``, not counted as a failed attempt (a platform's quiet
    hours or quota, a chat that just got a message, a 429)."""
    values: dict[str, object] = {"state": "pending", "not_before": until, "claim_token": None,
                                 "lease_until": None}
    if reason is not None:
        values["reason"] = reason[:300]
    await session.execute(update(OutboxItem)
                          .where(OutboxItem.id == c.id, OutboxItem.claim_token == c.token)
                          .values(**values).execution_options(synchronize_session=False))


def backoff(attempt: int, base_s: float, max_s: float) -> float:
    """Exponential backoff with jitter: about base, 2×base, 4×base... capped at ``max_s``."""
    delay: float = min(max_s, base_s * (2 ** max(attempt - 1, 0)))
    return delay * random.uniform(0.8, 1.2)


async def retry_later(session: AsyncSession, c: Claim, now: dt.datetime, reason: str, *,
                      max_attempts: int, base_s: float, max_s: float) -> bool:
    """A failed try (timeout, 5xx): try again with backoff, or give up after ``max_attempts``.
    True when it will be retried."""
    attempts = c.attempts + 1
    if attempts >= max_attempts:
        await session.execute(
            update(OutboxItem).where(OutboxItem.id == c.id, OutboxItem.claim_token == c.token)
            .values(state="failed", attempts=attempts, claim_token=None, lease_until=None,
                    reason=f"gave up after {attempts} attempts: {reason}"[:300])
            .execution_options(synchronize_session=False))
        return False
    until = now + dt.timedelta(seconds=backoff(attempts, base_s, max_s))
    await session.execute(
        update(OutboxItem).where(OutboxItem.id == c.id, OutboxItem.claim_token == c.token)
        .values(state="pending", attempts=attempts, not_before=until, claim_token=None,
                lease_until=None, reason=reason[:300])
        .execution_options(synchronize_session=False))
    return True
