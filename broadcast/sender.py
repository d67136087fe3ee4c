"""Senders: take due outbox rows and hand them to the channels, at the platforms' pace.

Several sender processes can run against one PostgreSQL database: claims never overlap
(``FOR UPDATE SKIP LOCKED``) and the rate limits live in the database. Per message:

1. mark the row ``sending`` (only if still ours and not cancelled);
2. skip users who blocked the bot; defer rows a platform rule holds back (Zalo OA night and
   daily quota), or whose chat got a message less than ``telegram_per_chat_interval_s`` ago;
3. take a slot of the channel's shared rate, wait for it and for the rolling window to let
   the request leave (``broadcast.ratelimit``: counted from its start to its answer);
4. send, then write the result (and when the request ended) at once in its own transaction.

Policy for what a channel answers (``core.delivery.Delivery``): ``sent``, ``blocked``
(the user refuses the bot: never sent to again until they write), ``failed`` (the platform will
not take this recipient: kept with the reason), ``retry`` with ``retry_at`` (deferred, not a
failed attempt; with ``pause_channel`` the whole channel also waits until then, as Telegram's
429 is for the whole bot) and ``retry`` without it (timeout, 5xx: backoff, ``failed`` after
``max_attempts``). Each channel's pace comes from its declaration (``core.channels``), its
platform rules from its own file, handed over by the assembly.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Protocol, cast

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broadcast import announcements, attachments, outbox, ratelimit
from broadcast.outbox import Claim
from broadcast.rules import DeliveryRule
from core.config import Settings
from core.db import probe, write_lock
from core.delivery import Delivery
from core.files import OutgoingFile
from core.models import ChatPace, OutboxItem, User

__all__ = ["Deliverer", "FileDeliverer", "Sender"]

log = logging.getLogger(__name__)

_SWEEP_S = 1.0
_PRUNE_S = 600.0


class FileDeliverer(Protocol):
    """A channel that takes files (``ChannelSpec.files``): the notice goes with its
    attachment (the photo or PDF of the official document)."""

    async def deliver_file(self, user_id: str, text: str, file: OutgoingFile, *,
                           priority: str = "normal") -> Delivery: ...


class Deliverer(Protocol):
    """What a channel offers for notices (``bot.channels.base.Channel.deliver``): it maps
    its platform's errors to a :class:`~core.delivery.Delivery`."""

    async def deliver(self, user_id: str, text: str, *, priority: str = "normal"
                      ) -> Delivery: ...


class Sender:
    """One sender: a feeder claims rows, ``sender_concurrency`` workers send them."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 texts: Mapping[str, str], channels: Mapping[str, Deliverer], *,
                 rules: Mapping[str, Sequence[DeliveryRule]] | None = None,
                 clock: Callable[[], float] = time.time, name: str | None = None) -> None:
        self.sm = sessionmaker
        self.engine: AsyncEngine = sessionmaker.kw["bind"]
        self.settings = settings
        self.cfg = settings.broadcast
        self.texts = texts
        self.channels = dict(channels)
        self.clock = clock
        self.name = name or uuid.uuid4().hex[:8]
        self.specs = settings.channels
        self.rules = {name: list(r) for name, r in (rules or {}).items()}
        self._run_texts: dict[int, str] = {}
        self._run_files: dict[int, tuple[OutgoingFile, str] | None] = {}
        self._last_sweep = 0.0
        self._last_prune = 0.0
        self._stopping = False
        self.in_flight = 0
        #: An idle sender's one statement a poll: is a row due, is there a sweep to do?
        self._idle_probe: Select[tuple[bool, bool]] = select(
            outbox.due_row(self.channels), outbox.expired_lease()
            | announcements.finishable_run())

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        """A short write transaction; on SQLite this process's writers queue for it."""
        async with write_lock(self.engine), self.sm() as s, s.begin():
            yield s

    def _rate(self, channel: str) -> float:
        return self.specs[channel].rate_per_s

    # ------------------------------------------------------------------ loops

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; then finish the sends in flight and give back the rest."""
        queue: asyncio.PriorityQueue[tuple[int, int, Claim | None]] = asyncio.PriorityQueue()
        self._stopping = False
        workers = [asyncio.create_task(self._worker(queue))
                   for _ in range(self.cfg.sender_concurrency)]
        batch = self.cfg.sender_batch
        idle = False
        try:
            while not stop.is_set():
                got = 0
                try:
                    due = sweep = True
                    if idle:  # found nothing last time: ask first, in one statement
                        due, sweep = await self._anything()
                    await self._sweep(expire=sweep)
                    if due and queue.qsize() <= batch // 2:
                        claims = await self._claim(batch - queue.qsize())
                        for c in claims:
                            queue.put_nowait((c.rank, c.id, c))
                        got = len(claims)
                except Exception:  # the database went away: keep trying, never stop sending
                    log.exception("sender %s: feeding failed; trying again", self.name)
                idle = not got and queue.empty() and not self.in_flight
                wait = 0.05 if got or not queue.empty() else self.cfg.poll_s
                try:
                    await asyncio.wait_for(stop.wait(), wait)
                except TimeoutError:
                    pass
        finally:
            self._stopping = True
            for i in range(len(workers)):  # ahead of every row (ranks are 0 and up)
                queue.put_nowait((-1, -1 - i, None))
            await asyncio.gather(*workers, return_exceptions=True)
            left = []
            while not queue.empty():
                rest = queue.get_nowait()[2]
                if rest is not None:
                    left.append(rest)
            await self._give_back(left)

    async def _worker(self, queue: asyncio.PriorityQueue[tuple[int, int, Claim | None]]
                      ) -> None:
        """Send rows from the queue until a stop mark (``None``) comes: an idle worker
        sleeps on the queue (no timer waking it several times a second)."""
        while not self._stopping:
            _, _, c = await queue.get()
            if c is None:
                return
            try:
                await self.send(c)
            except Exception:  # the row's lease runs out and it is sent again later
                log.exception("sender %s: row %s could not be handled", self.name, c.id)

    async def step(self) -> int:
        """Sweep, claim one batch, send it, sweep again. Returns how much was found (rows
        claimed, leases expired, runs ended): 0 means there is nothing left to do now."""
        found = await self._sweep(force=True)
        claims = await self._claim(self.cfg.sender_batch)
        sem = asyncio.Semaphore(self.cfg.sender_concurrency)

        async def one(c: Claim) -> None:
            async with sem:
                await self.send(c)

        await asyncio.gather(*(one(c) for c in claims))
        found += await self._sweep(force=True)
        return len(claims) + found

    async def drain(self, limit_s: float = 60.0) -> None:
        """Send everything due now, reports included (tests, benchmarks)."""
        deadline = time.monotonic() + limit_s
        while await self.step():
            if time.monotonic() > deadline:
                raise TimeoutError("the outbox did not drain in time")

    # ------------------------------------------------------------------ claims

    async def _claim(self, limit: int) -> list[Claim]:
        try:
            async with self._tx() as s:
                claims = await outbox.claim(s, self.channels.keys(), limit, self.now(),
                                            self.cfg.lease_s)
                missing = {c.run_id for c in claims
                           if c.kind == "notice" and c.run_id not in self._run_texts}
                if missing:
                    self._run_texts.update(await outbox.run_texts(s, missing))
                    self._run_files.update(await attachments.for_runs(s, missing))
            return claims
        except SQLAlchemyError:
            log.exception("sender %s: claiming failed; trying again shortly", self.name)
            return []

    async def _give_back(self, claims: list[Claim]) -> None:
        """Unsent claims go back to pending at once (instead of when their lease ends)."""
        if not claims:
            return
        try:
            async with self._tx() as s:
                for c in claims:
                    await s.execute(update(OutboxItem).where(
                        OutboxItem.id == c.id, OutboxItem.claim_token == c.token,
                        OutboxItem.state == "claimed").values(
                        state="pending", claim_token=None, lease_until=None)
                        .execution_options(synchronize_session=False))
        except SQLAlchemyError:
            log.exception("sender %s: could not give back %d rows (their lease will expire)",
                          self.name, len(claims))

    async def _anything(self) -> tuple[bool, bool]:
        """(a row is due, a lease expired or a run can end), in one statement outside a
        transaction: an idle sender costs one statement a poll, not three transactions."""
        row = await probe(self.engine, self._idle_probe, {"now": self.now()})
        return bool(row[0]), bool(row[1])

    async def _sweep(self, force: bool = False, *, expire: bool = True) -> int:
        """Expired leases back to pending; end runs with nothing left; prune chat pacing.
        Returns the number of leases expired plus runs ended. ``expire=False`` (the idle
        probe found neither) does the pruning only."""
        mono = time.monotonic()
        if not force and mono - self._last_sweep < _SWEEP_S:
            return 0
        ended: list[int] = []
        n = 0
        now = self.now()
        try:
            if expire or force:
                self._last_sweep = mono
                async with self._tx() as s:
                    n = await outbox.expire_leases(s, now)
                    if n:
                        log.warning("sender %s: %d rows had an expired lease (a sender "
                                    "stopped?)", self.name, n)
                    ended = await announcements.finish_runs(s, self.settings, self.texts,
                                                            now=now)
            if mono - self._last_prune > _PRUNE_S:
                self._last_prune = mono
                async with self._tx() as s:
                    await s.execute(delete(ChatPace).where(ChatPace.next_at < self.clock() - 60))
        except SQLAlchemyError:
            log.exception("sender %s: sweep failed", self.name)
        return n + len(ended)

    # ------------------------------------------------------------------ one message

    async def send(self, c: Claim) -> None:
        """Send one claimed row and record the outcome."""
        deliverer = self.channels[c.channel]
        text = c.text if c.kind == "report" else self._run_texts.get(c.run_id)
        if text is None or (c.kind == "notice" and c.run_id not in self._run_files):
            async with self.sm() as s:
                self._run_texts.update(await outbox.run_texts(s, [c.run_id]))
                self._run_files.update(await attachments.for_runs(s, [c.run_id]))
            text = c.text if c.kind == "report" else self._run_texts[c.run_id]
        assert text is not None
        attached = self._run_files.get(c.run_id) if c.kind == "notice" else None
        send: Awaitable[Delivery]
        try:
            async with self._tx() as s:
                slot = await self._prepare(s, c)
        except SQLAlchemyError:
            log.exception("sender %s: could not prepare row %s", self.name, c.id)
            return
        if slot is None:
            return
        self.in_flight += 1
        try:
            try:
                started = await ratelimit.admitted(self._tx, c.channel, self._rate(c.channel),
                                                   slot, self.clock)
            except SQLAlchemyError:  # not sent: the row's lease runs out, it is sent later
                log.exception("sender %s: could not start row %s", self.name, c.id)
                return
            if attached is not None and self.specs[c.channel].files:
                send = cast(FileDeliverer, deliverer).deliver_file(
                    c.user_id, text, attached[0], priority=c.priority)
            else:
                if attached is not None:  # a channel without files gets the link, if any
                    line = attachments.link_line(self.settings, self.texts, attached[1])
                    text = f"{text}\n\n{line}" if line else text
                send = deliverer.deliver(c.user_id, text, priority=c.priority)
            try:
                result = await asyncio.wait_for(send, self.cfg.send_timeout_s)
            except TimeoutError:
                result = Delivery("retry", reason="no answer within send_timeout_s")
            except Exception as exc:  # a channel bug must not stop the other recipients
                log.exception("sender %s: %s deliver() raised", self.name, c.channel)
                result = Delivery("retry", reason=f"{type(exc).__name__}: {exc}")
            await self._record(c, result, started, self.clock())
        finally:
            self.in_flight -= 1

    async def _prepare(self, s: AsyncSession, c: Claim) -> float | None:
        """Steps 1-3 in one transaction; the time slot to send at, or None when not now."""
        now_f = self.clock()
        now = dt.datetime.fromtimestamp(now_f, dt.UTC)
        if not await outbox.begin_send(s, c, now, self.cfg.lease_s):
            return None
        blocked = (await s.execute(select(User.blocked_at).where(
            User.channel == c.channel, User.user_id == c.user_id))).scalar_one_or_none()
        if blocked is not None:
            await outbox.mark(s, c, "blocked", now, reason="blocked the bot")
            return None
        for rule in self.rules.get(c.channel, ()):
            until = await rule.defer_until(s, c, now)
            if until is not None:
                await outbox.defer(s, c, until, reason=f"{c.channel} rules: wait until "
                                                       f"{until.isoformat()}")
                return None
        interval = self.specs[c.channel].per_chat_interval_s
        busy = await ratelimit.chat_turn(s, c.channel, c.user_id, now_f, interval)
        if busy is not None:
            await outbox.defer(s, c, dt.datetime.fromtimestamp(busy, dt.UTC))
            return None
        slot = await ratelimit.reserve(s, c.channel, self._rate(c.channel), now_f)
        if slot - now_f > self.cfg.lease_s - self.cfg.send_timeout_s:
            # The channel is paused for longer than our lease: let the row wait in the table.
            await ratelimit.release(s, c.channel, slot)
            await outbox.defer(s, c, dt.datetime.fromtimestamp(slot, dt.UTC))
            return None
        if slot > now_f:
            await ratelimit.chat_set(s, c.channel, c.user_id, slot + interval)
        return slot

    async def _record(self, c: Claim, d: Delivery, started: float, ended: float) -> None:
        """Write the outcome; retried a few times because a lost "sent" means a resend."""
        for attempt in range(5):
            try:
                async with self._tx() as s:
                    await self._apply(s, c, d)
                    # Locks in the same order as _prepare (chat, then channel): no deadlock.
                    if d.status == "sent":
                        # The chat's next turn counts from when this request really left.
                        await ratelimit.chat_sent(s, c.channel, c.user_id, started,
                                                  self.specs[c.channel].per_chat_interval_s)
                    # The request no longer counts as possibly arriving after ``ended``.
                    await ratelimit.record(s, c.channel, [(started, ended)])
                return
            except SQLAlchemyError:
                log.exception("sender %s: recording row %s failed (try %d)", self.name, c.id,
                              attempt + 1)
                await asyncio.sleep(0.2 * 2 ** attempt)

    async def _apply(self, s: AsyncSession, c: Claim, d: Delivery) -> None:
        now = self.now()
        if d.status in ("sent", "blocked", "failed"):
            await outbox.mark(s, c, d.status, now, reason=d.reason, platform_id=d.platform_id)
            if d.status == "failed":
                log.info("row %s to %s failed: %s", c.id, c.channel, d.reason)
            return
        reason = d.reason or "retry"
        if d.retry_at is not None:
            until = max(d.retry_at, now)
            await outbox.defer(s, c, until, reason=reason)
            if d.pause_channel:
                await ratelimit.pause(s, c.channel, until.timestamp())
                log.warning("%s flood control: channel paused until %s", c.channel,
                            until.isoformat())
            return
        await outbox.retry_later(s, c, now, reason, max_attempts=self.cfg.max_attempts,
                                 base_s=self.cfg.retry_base_s, max_s=self.cfg.retry_max_s)
