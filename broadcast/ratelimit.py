"""Rate limits shared by every sender process, kept in the database (not in one process's
memory): a per-channel message rate (Telegram: about 30/s for the whole bot) and a minimum
interval per chat (Telegram: about 1/s per chat).

The channel rate is one row per channel, locked while a sender takes a time slot:

* GCRA spacing: slots are 1/rate apart (``tat``), so processes never burst together;
* a rolling window: a slot is never less than one second (plus ``WINDOW_MARGIN_S``) after the
  N-th previous request (N = the rate). ``recent`` holds each request's planned slot, replaced
  by the time it really left right after the send. Spacing alone is not enough: a sender that
  wakes 40 ms late followed by one on time would put 31 requests in one second.

The window is exact while a request takes less than (N - sender_concurrency) / rate seconds
(about 0.7 s for Telegram); slower requests fall back to the spacing. Times are epoch seconds
from the senders' clocks (one host, or NTP-synchronised hosts).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import ChatPace, RateBucket
from core.storage import insert_for

__all__ = ["WINDOW_MARGIN_S", "chat_sent", "chat_set", "chat_turn", "pause", "record",
           "release", "reserve"]

#: Room for the time between "the request leaves" and "the platform counts it".
WINDOW_MARGIN_S = 0.025


async def _bucket(session: AsyncSession, name: str) -> RateBucket:
    """The channel's row, locked until the transaction ends (PostgreSQL; SQLite has one
    writer at a time)."""
    stmt = select(RateBucket).where(RateBucket.name == name).with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        await session.execute(insert_for(session, RateBucket)
                              .values(name=name, tat=0.0, recent=[])
                              .on_conflict_do_nothing())
        row = (await session.execute(stmt)).scalar_one()
    return row


def _window(per_second: float) -> int:
    return max(1, int(per_second))


#: Requests kept in ``recent`` whatever the caller's rate. Callers of one bucket may pace at
#: different rates (replies at 90 % of the platform's, notices at 100 %): cut to the slower
#: caller's window, the list was too short for the faster caller's check, which then fell back
#: to the spacing alone (32 requests in one second seen with 30 allowed).
_KEEP = 64


def _kept(times: list[float], per_second: float) -> list[float]:
    return sorted(times)[-max(_window(per_second), _KEEP):]


async def reserve(session: AsyncSession, bucket: str, per_second: float, now: float) -> float:
    """The time slot (epoch seconds, >= ``now``) at which the caller may send one message."""
    row = await _bucket(session, bucket)
    slot = max(row.tat, now)
    n = _window(per_second)
    recent = list(row.recent or [])
    if len(recent) >= n:
        slot = max(slot, recent[-n] + 1.0 + WINDOW_MARGIN_S)
    row.tat = slot + 1.0 / per_second
    # Counted at its planned time until the sender says when it really left (record()).
    row.recent = _kept([*recent, slot], per_second)
    await session.flush()
    return slot


async def record(session: AsyncSession, bucket: str, slot: float, started: float,
                 per_second: float) -> None:
    """The request planned for ``slot`` left at ``started``: correct the rolling window."""
    row = await _bucket(session, bucket)
    recent = list(row.recent or [])
    if slot in recent:
        recent.remove(slot)
    row.recent = _kept([*recent, started], per_second)
    await session.flush()


async def release(session: AsyncSession, bucket: str, slot: float) -> None:
    """Nothing was sent at ``slot`` (its sender woke too late to use it): forget it."""
    row = await _bucket(session, bucket)
    recent = list(row.recent or [])
    if slot in recent:
        recent.remove(slot)
        row.recent = recent
        await session.flush()


async def pause(session: AsyncSession, bucket: str, until: float) -> None:
    """Nobody sends on this channel before ``until`` (a 429 ``retry_after`` is for the bot)."""
    row = await _bucket(session, bucket)
    row.tat = max(row.tat, until)
    await session.flush()


async def chat_turn(session: AsyncSession, channel: str, user_id: str, at: float,
                    interval: float) -> float | None:
    """Take this chat's turn for a message at ``at``: None when taken, else the time the chat
    is free again. The upsert locks the chat's row, so two processes cannot both take it."""
    ins = insert_for(session, ChatPace).values(channel=channel, user_id=user_id,
                                               next_at=at + interval)
    stmt = ins.on_conflict_do_update(
        index_elements=[ChatPace.channel, ChatPace.user_id],
        set_={"next_at": at + interval},
        where=ChatPace.next_at <= at,
    ).returning(ChatPace.next_at)
    if (await session.execute(stmt)).first() is not None:
        return None
    busy = (await session.execute(select(ChatPace.next_at).where(
        ChatPace.channel == channel, ChatPace.user_id == user_id))).scalar_one()
    return float(busy)


async def chat_set(session: AsyncSession, channel: str, user_id: str, next_at: float) -> None:
    """Move this chat's next turn to ``next_at`` (never earlier than it is)."""
    row = (await session.execute(select(ChatPace).where(
        ChatPace.channel == channel, ChatPace.user_id == user_id)
        .with_for_update())).scalar_one_or_none()
    if row is not None and row.next_at < next_at:
        row.next_at = next_at
        await session.flush()


async def chat_sent(session: AsyncSession, channel: str, user_id: str, sent_at: float,
                    interval: float) -> None:
    """A message went to this chat at ``sent_at``: its next turn is not before then+interval."""
    await chat_set(session, channel, user_id, sent_at + interval)
