"""Rate limits shared by every sender process, kept in the database (not in one process's
memory): a per-channel message rate (Telegram: about 30/s for the whole bot) and a minimum
interval per chat (Telegram: about 1/s per chat).

The channel rate is one row per channel, locked while a sender plans or starts a request. A
platform counts a request when it *arrives*, which is somewhere between the moment our sender
started it and the moment the answer came back: the event loop, the database and the network add
a delay that varies from request to request, so no schedule of planned slots alone can keep a
platform's count (a sender 40 ms late followed by one on time put 31 in one second). Hence two
steps per request:

* :func:`reserve` plans a slot: GCRA spacing (slots 1/rate apart, ``tat``, so processes never
  burst together) and an estimate of the rolling window from the requests planned, in flight and
  done. It orders the senders and tells each how long to wait; it proves nothing.
* :func:`admit`, at the slot, is the check that holds: a request may start at ``now`` only if
  fewer than N (the rate) requests admitted before it *ended* after ``now - 1 s``; a request
  still in flight counts as ending never. Every earlier request that could arrive in the same
  platform second as this one ended after ``now - 1 s`` (it arrived before it ended, this one
  arrives after ``now``), so at most N arrive in any one second, whatever the delays.
  :func:`record` writes when the request ended; until then it holds its place.

The price is the request's round trip: a saturated channel sends about N per (1 s + round trip).
A request still in flight after ``STALE_S`` (its process died) counts as ended then. Times are
epoch seconds from the senders' clocks (one host, or NTP-synchronised hosts: ``WINDOW_MARGIN_S``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import ChatPace, RateBucket
from core.storage import insert_for

__all__ = ["STALE_S", "WINDOW_MARGIN_S", "admit", "admitted", "chat_sent", "chat_set",
           "chat_turn", "pause", "record", "release", "reserve"]


#: Room for clocks of different hosts (one host: one clock) and the platform's rounding.
WINDOW_MARGIN_S = 0.01
#: A request in flight this long is taken as ended (its sender died before recording it).
STALE_S = 60.0
#: Done requests kept after the window they count in, for the latency estimate.
_KEEP_S = 2.0

Tx = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def _bucket(session: AsyncSession, name: str) -> RateBucket:
    """The channel's row, locked until the transaction ends (PostgreSQL; SQLite has one
    writer at a time)."""
    stmt = select(RateBucket).where(RateBucket.name == name).with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        await session.execute(insert_for(session, RateBucket)
                              .values(name=name, tat=0.0, recent={})
                              .on_conflict_do_nothing())
        row = (await session.execute(stmt)).scalar_one()
    return row


def _window(per_second: float) -> int:
    return max(1, int(per_second))


class _Requests:
    """The row's ``recent``: ``planned`` slots not yet admitted and ``sent`` requests as
    ``[started, ended]`` (``ended`` None while in flight). A list of floats (the former shape,
    when each was a request's time) reads as requests done at those times."""

    def __init__(self, row: RateBucket, now: float) -> None:
        raw: Any = row.recent or {}
        if isinstance(raw, list):
            raw = {"sent": [[float(t), float(t)] for t in raw]}
        self.row = row
        self.now = now
        self.planned: list[float] = [p for p in raw.get("planned", []) if p > now - STALE_S]
        # Copies: the loaded value must stay as it was for the ORM to see the change.
        self.sent: list[list[float | None]] = [
            list(e) for e in raw.get("sent", []) if self._end(e) > now - 1.0 - _KEEP_S]

    def save(self) -> None:
        self.row.recent = {"planned": self.planned, "sent": self.sent}

    def _end(self, e: list[float | None]) -> float:
        started, ended = float(e[0] or 0.0), e[1]
        if ended is not None:
            return ended
        return started + STALE_S if self.now - started > STALE_S else math.inf

    def latency(self) -> float:
        """A usual round trip (the median of the requests kept): for planning only."""
        done = sorted(e[1] - float(e[0] or 0.0) for e in self.sent if e[1] is not None)
        return done[len(done) // 2] if done else 0.0

    def ends(self) -> list[float]:
        """When each admitted request ended; never (inf) while it is in flight."""
        return sorted(self._end(e) for e in self.sent)

    def expected_ends(self, planned: bool) -> list[float]:
        """:meth:`ends` with a usual round trip for those in flight (and those planned)."""
        lat = self.latency()
        out = [end if end < math.inf else max(self.now, float(e[0] or 0.0) + lat)
               for e, end in ((e, self._end(e)) for e in self.sent)]
        if planned:
            out += [max(self.now, p) + lat for p in self.planned]
        return sorted(out)


def _after(ends: list[float], n: int) -> float:
    """The earliest start with fewer than ``n`` of ``ends`` in the second before it."""
    return ends[-n] + 1.0 + WINDOW_MARGIN_S if len(ends) >= n else -math.inf


async def reserve(session: AsyncSession, bucket: str, per_second: float, now: float) -> float:
    """The time slot (epoch seconds, >= ``now``) at which the caller asks :func:`admit`."""
    row = await _bucket(session, bucket)
    reqs = _Requests(row, now)
    slot = max(row.tat, now, _after(reqs.expected_ends(planned=True), _window(per_second)))
    row.tat = slot + 1.0 / per_second
    reqs.planned.append(slot)
    reqs.save()
    await session.flush()
    return slot


async def admit(session: AsyncSession, bucket: str, per_second: float, slot: float,
                now: float) -> float | None:
    """Start the request planned for ``slot`` at ``now``: None when it may leave now (it is
    in flight until :func:`record`), else the time to ask again."""
    row = await _bucket(session, bucket)
    reqs = _Requests(row, now)
    n = _window(per_second)
    if now < _after(reqs.ends(), n):
        return max(now, _after(reqs.expected_ends(planned=False), n))
    if slot in reqs.planned:
        reqs.planned.remove(slot)
    reqs.sent.append([now, None])
    reqs.save()
    await session.flush()
    return None


async def record(session: AsyncSession, bucket: str,
                 done: Sequence[tuple[float, float]]) -> None:
    """Each request admitted at ``started`` got its answer (or gave up) at ``ended``."""
    if not done:
        return
    row = await _bucket(session, bucket)
    reqs = _Requests(row, max(ended for _, ended in done))
    for started, ended in done:
        for e in reqs.sent:
            if e[0] == started and e[1] is None:
                e[1] = max(ended, started)
                break
    reqs.save()
    await session.flush()


async def release(session: AsyncSession, bucket: str, slot: float) -> None:
    """Nothing will be sent for ``slot`` (a reserved request given up): forget it."""
    row = await _bucket(session, bucket)
    reqs = _Requests(row, slot)
    if slot in reqs.planned:
        reqs.planned.remove(slot)
        reqs.save()
        await session.flush()


async def admitted(tx: Tx, bucket: str, per_second: float, slot: float,
                   clock: Callable[[], float] = time.time, *, at: float | None = None
                   ) -> float:
    """Wait for ``slot`` (or ``at``, a time :func:`admit` gave), then until :func:`admit` lets
    the request leave; returns its start, for :func:`record` once the request is answered."""
    at = slot if at is None else at
    while True:
        wait = at - clock()
        if wait > 0:
            await asyncio.sleep(wait)
        async with tx() as s:
            now = clock()
            again = await admit(s, bucket, per_second, slot, now)
        if again is None:
            return now
        at = again


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
