"""The handover sender: operator messages (and the handover's own messages, and alerts to
operators on duty) go out on the citizen's channel, at the platforms' pace.

Every process of ``trolyso run`` runs one; they share the work through the database:

1. a row is claimed with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), only when no
   older row to the same chat is still waiting or being sent, so a chat's messages keep their
   order whichever process sends them;
2. the chat's turn and a slot of the channel's rate are taken in the same database tables as
   notices (``broadcast.ratelimit``): live chats and notices together stay within Telegram's
   30 messages per second and about one per second per chat;
3. the channel sends it as a chat reply (``deliver_reply``); the outcome is written at once:
   ``sent``, ``failed`` with the platform's reason (shown to the operator: for example outside
   Zalo OA's customer-service window), or back to pending for a later try (429, 5xx, timeouts),
   ``failed`` after ``handover.max_attempts``.

A process killed between 1 and 3 leaves a ``sending`` row whose lease runs out: it is sent
again, so only a message in flight at a crash can reach the citizen twice. The same loop
sweeps idle claims (an operator whose page went silent) and requests nobody took.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Protocol

from sqlalchemy import Select, and_, bindparam, exists, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from broadcast import ratelimit
from console.handover.desk import Desk
from core.config import Settings
from core.db import probe, write_lock
from core.delivery import Delivery
from core.models import Handover, HandoverMessage
from flows.types import Button, Reply

__all__ = ["HandoverSender", "ReplyChannel"]

log = logging.getLogger(__name__)

_SWEEP_S = 5.0
_BATCH = 20


class ReplyChannel(Protocol):
    """What a channel offers for live chats (``bot.channels.base.ChannelBase``)."""

    async def deliver_reply(self, user_id: str, reply: Reply) -> Delivery: ...


class HandoverSender:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 texts: Mapping[str, str], channels: Mapping[str, ReplyChannel], *,
                 clock: Callable[[], float] = time.time) -> None:
        self.sm = sessionmaker
        self.engine: AsyncEngine = sessionmaker.kw["bind"]
        self.settings = settings
        self.cfg = settings.handover
        self.texts = texts
        self.channels = dict(channels)
        self.clock = clock
        self._wake = asyncio.Event()
        self._last_sweep = 0.0
        self.sent = 0
        #: One statement before a claim: is any message due for these channels? (An idle
        #: process asks every ``sender_poll_s``; the claim is a transaction with row locks.)
        self._due: Select[tuple[bool]] = select(exists().where(
            HandoverMessage.state == "pending", HandoverMessage.not_before <= bindparam("now"),
            HandoverMessage.to_channel.in_(sorted(self.channels))))

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    def nudge(self) -> None:
        """Something was written to send: look now rather than at the next poll."""
        self._wake.set()

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        async with write_lock(self.engine), self.sm() as s, s.begin():
            yield s

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            found = 0
            try:
                found = await self.step()
            except Exception:  # the database went away: keep trying
                log.exception("handover sender: step failed; trying again")
            if found:
                continue
            self._wake.clear()
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waits, timeout=self.cfg.sender_poll_s,
                               return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()

    async def step(self, *, sweep: bool = False) -> int:
        """Sweep when due, then send what is due. Returns how many rows were handled."""
        mono = time.monotonic()
        if sweep or mono - self._last_sweep >= _SWEEP_S:
            self._last_sweep = mono
            if sweep or await self._sweep_due():
                await self._sweep()
        claimed = await self._claim()
        for row in claimed:
            await self._send(row)
        return len(claimed)

    async def _sweep_due(self) -> bool:
        """Whether :meth:`_sweep` may find anything (one statement): a chat held by an
        operator, a request waiting too long, or a message whose sending lease ran out."""
        now = self.now()
        old = now - dt.timedelta(hours=self.settings.handover.max_wait_hours)
        row = await probe(self.engine, select(
            exists().where(Handover.state == "claimed")
            | exists().where(Handover.state == "queued", Handover.requested_at < old)
            | exists().where(HandoverMessage.state == "sending",
                             HandoverMessage.lease_until < now)))
        return bool(row[0])

    async def _sweep(self) -> None:
        async with self._tx() as s:
            counts = await Desk(s, self.settings, self.texts, self.now()).sweep()
            await self._expire(s)
        if any(counts.values()):
            log.info("handover sweep: %s", counts)

    async def drain(self, limit_s: float = 30.0) -> None:
        """Send everything waiting, deferred rows included (tests)."""
        deadline = time.monotonic() + limit_s
        while True:
            if not await self.step(sweep=True):
                async with self.sm() as s:
                    left = (await s.execute(select(HandoverMessage.id).where(
                        HandoverMessage.state.in_(("pending", "sending")),
                        HandoverMessage.to_channel.in_(sorted(self.channels))).limit(1))
                    ).first()
                if left is None:
                    return
                await asyncio.sleep(0.05)
            if time.monotonic() > deadline:
                raise TimeoutError("handover messages did not drain in time")

    async def _expire(self, s: AsyncSession) -> None:
        await s.execute(update(HandoverMessage).where(
            HandoverMessage.state == "sending", HandoverMessage.lease_until < self.now())
            .values(state="pending", claim_token=None, lease_until=None)
            .execution_options(synchronize_session=False))

    async def _claim(self) -> list[HandoverMessage]:
        if not self.channels:
            return []
        now = self.now()
        try:
            if not (await probe(self.engine, self._due, {"now": now}))[0]:
                return []
        except SQLAlchemyError:
            log.exception("handover sender: looking for messages failed")
            return []
        older = aliased(HandoverMessage)
        blocked_by_older = exists().where(and_(
            older.to_channel == HandoverMessage.to_channel,
            older.to_user == HandoverMessage.to_user, older.id < HandoverMessage.id,
            older.state.in_(("pending", "sending"))))
        token = uuid.uuid4().hex
        try:
            async with self._tx() as s:
                rows = list((await s.execute(
                    select(HandoverMessage)
                    .where(HandoverMessage.state == "pending",
                           HandoverMessage.not_before <= now,
                           HandoverMessage.to_channel.in_(sorted(self.channels)),
                           ~blocked_by_older)
                    .order_by(HandoverMessage.id).limit(_BATCH)
                    .with_for_update(skip_locked=True, of=HandoverMessage))).scalars())
                for r in rows:
                    r.state, r.claim_token = "sending", token
                    r.lease_until = now + dt.timedelta(seconds=self.cfg.lease_s)
                    r.attempts += 1
            return rows
        except SQLAlchemyError:
            log.exception("handover sender: claiming failed")
            return []

    def _reply(self, row: HandoverMessage) -> Reply:
        text = row.text
        if row.author == "operator":
            text = f"{self.texts.get('handover.operator_prefix', '')}\n{text}".strip()
        buttons = [Button(label, payload) for label, payload in row.buttons or []]
        return Reply(text, buttons, kind="system")

    async def _send(self, row: HandoverMessage) -> None:
        channel, user = row.to_channel or "", row.to_user or ""
        spec = self.settings.channels[channel]
        try:
            async with self._tx() as s:
                now_f = self.clock()
                busy = await ratelimit.chat_turn(s, channel, user, now_f,
                                                 spec.per_chat_interval_s)
                if busy is not None:
                    await self._back(s, row, dt.datetime.fromtimestamp(busy, dt.UTC), None,
                                     count=False)
                    return
                slot = await ratelimit.reserve(s, channel, spec.rate_per_s or 30.0, now_f)
        except SQLAlchemyError:
            log.exception("handover sender: could not take a turn for row %s", row.id)
            return
        rate = spec.rate_per_s or 30.0
        try:
            started = await ratelimit.admitted(self._tx, channel, rate, slot, self.clock)
        except SQLAlchemyError:  # not sent: the row's lease runs out, it is sent later
            log.exception("handover sender: could not start row %s", row.id)
            return
        try:
            result = await asyncio.wait_for(
                self.channels[channel].deliver_reply(user, self._reply(row)),
                self.settings.broadcast.send_timeout_s)
        except TimeoutError:
            result = Delivery("retry", reason="no answer from the platform in time")
        except Exception as exc:  # a channel bug must not stop the other chats
            log.exception("handover sender: %s deliver_reply raised", channel)
            result = Delivery("retry", reason=f"{type(exc).__name__}: {exc}")
        await self._record(row, result, started, self.clock())

    async def _back(self, s: AsyncSession, row: HandoverMessage, at: dt.datetime,
                    reason: str | None, *, count: bool = True) -> None:
        await s.execute(update(HandoverMessage).where(
            HandoverMessage.id == row.id, HandoverMessage.claim_token == row.claim_token)
            .values(state="pending", claim_token=None, lease_until=None, not_before=at,
                    reason=reason, attempts=row.attempts if count else row.attempts - 1)
            .execution_options(synchronize_session=False))

    async def _record(self, row: HandoverMessage, d: Delivery, started: float,
                      ended: float) -> None:
        channel, user = row.to_channel or "", row.to_user or ""
        spec = self.settings.channels[channel]
        for attempt in range(5):
            try:
                async with self._tx() as s:
                    now = self.now()
                    if d.status in ("sent", "failed", "blocked") or (
                            d.status == "retry" and d.retry_at is None
                            and row.attempts >= self.cfg.max_attempts):
                        state = "sent" if d.status == "sent" else "failed"
                        reason = d.reason
                        if d.status == "blocked":
                            reason = f"người dân đã chặn trợ lý ({d.reason})"
                        await s.execute(update(HandoverMessage).where(
                            HandoverMessage.id == row.id,
                            HandoverMessage.claim_token == row.claim_token)
                            .values(state=state, reason=(reason or None) and reason[:300],
                                    sent_at=now if state == "sent" else None,
                                    claim_token=None, lease_until=None)
                            .execution_options(synchronize_session=False))
                        if state == "sent":
                            self.sent += 1
                            await ratelimit.chat_sent(s, channel, user, started,
                                                      spec.per_chat_interval_s)
                    else:
                        wait = min(60.0, 2.0 ** row.attempts)
                        at = d.retry_at or now + dt.timedelta(seconds=wait)
                        await self._back(s, row, max(at, now), d.reason)
                        if d.pause_channel and d.retry_at is not None:
                            await ratelimit.pause(s, channel, d.retry_at.timestamp())
                    await ratelimit.record(s, channel, [(started, ended)])
                    await s.execute(update(Handover).where(Handover.id == row.handover_id)
                                    .values(changed_at=now)
                                    .execution_options(synchronize_session=False))
                return
            except SQLAlchemyError:
                log.exception("handover sender: recording row %s failed (try %d)", row.id,
                              attempt + 1)
                await asyncio.sleep(0.2 * 2 ** attempt)
