"""Never drop an accepted message: every platform update is stored before it is acknowledged.

A channel calls :meth:`Inbox.accept` with the update as the platform sent it; only after that
commit does it answer the webhook (or move Telegram's ``getUpdates`` offset). The row is then
handled at once by this process (the fast path) and, should the process die, resumed by any
process once its lease ends (:meth:`Inbox.run`). Handling one row:

1. ``new``: the channel turns the payload into an :class:`~flows.types.Incoming`; the
   conversation core decides the replies, and the replies are written to the row in the
   transaction that writes the conversation's state (``replying``);
2. ``replying``: the replies go out from the stored record, each marked sent after it went;
3. ``done``: the message itself is cleared; the delivery key stays ``inbox.keep_hours`` so a
   redelivered update is recognised (the key is unique per channel).

After a kill -9 a reply may go out twice only if it was in flight (sent, not yet marked). A
process holds the rows it handles with a lease it renews while it works, and never resumes a
row it holds itself, so two processes never handle one row at the same time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.conversation import Conversations
from core.config import Settings
from core.db import make_engine, make_sessionmaker, probe, utcnow, write_lock
from core.models import InboxItem
from flows.types import Button, Incoming, Reply

__all__ = ["Inbox", "InboxPort", "Mark", "Row", "reply_from_json", "reply_to_json"]

log = logging.getLogger(__name__)

_T = cast(Table, InboxItem.__table__)
_C = _T.c
#: Rows that still need work.
_OPEN = ("new", "replying")

# The statements run for every update, built once with bound parameters (building them per
# update, and computing their cache keys, costs more than running them).
_ROW = {"channel": bindparam("channel"), "key": bindparam("key"),
        "user_id": bindparam("user_id"), "payload": bindparam("payload"), "state": "new",
        "attempts": 1, "lease_until": bindparam("lease"), "sent": 0,
        "created_at": bindparam("now")}
_ACCEPT = {
    name: ins(_T).values(**_ROW).on_conflict_do_nothing(index_elements=["channel", "key"])
    .returning(_C.id)
    for name, ins in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))}
_LOCK = select(_C.state).where(_C.id == bindparam("rid")).with_for_update()
_DECIDED = update(_T).where(_C.id == bindparam("rid"), _C.state == "new").values(
    state="replying", replies=bindparam("replies"), sent=0)
#: PostgreSQL: what follows the update's storing (the decision, the sent marks) commits without
#: waiting for the write-ahead log to reach the disk: a kill of our process loses nothing (the
#: server has the commit); a crash of the database server itself may lose the last fraction of
#: a second of them, and those rows are then decided or sent again, as rows in flight at a kill
#: are. Storing the update before its acknowledgement stays a durable commit. Waiting for the
#: disk on every commit was most of an update's time at 100 updates/s. The setting belongs to
#: the connections of the inbox's own small pool (no SET statement per transaction).
_RELAXED = {"server_settings": {"synchronous_commit": "off"}}
#: The relaxed pool: the rows handled at once (``_Runner``'s limit) and a few more.
_RELAXED_POOL = 12

_MARK = update(_T).where(_C.id == bindparam("rid")).values(sent=bindparam("n"))
_FINISH = update(_T).where(_C.id == bindparam("rid")).values(
    state="done", payload=bindparam("empty"), replies=None, sent=bindparam("n"),
    lease_until=None, processed_at=bindparam("now"))

#: Called with the number of replies sent so far, after each one went out.
Mark = Callable[[int], Awaitable[None]]


class InboxPort(Protocol):
    """What a channel gives the inbox: its reading of a stored update, and its sending."""

    async def incoming(self, payload: dict[str, Any]) -> Incoming | None:
        """The message in a stored update (platform side effects such as stopping a button's
        spinner happen here), or None for an update nobody answers."""

    async def send(self, user_id: str, replies: list[Reply], *, first: int = 0,
                   mark: Mark | None = None) -> bool:
        """Send ``replies[first:]`` in order, calling ``mark(i + 1)`` after reply ``i``."""


_REPLY_FIELDS = tuple(f.name for f in dataclasses.fields(Reply))


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """What :func:`dataclasses.asdict` gives, at a fraction of its cost (it deep-copies)."""
    out = {name: getattr(reply, name) for name in _REPLY_FIELDS}
    out["buttons"] = [dict(vars(b)) for b in reply.buttons]
    out["numbers"] = list(reply.numbers)
    return out


def reply_from_json(data: dict[str, Any]) -> Reply:
    fields = {f.name for f in dataclasses.fields(Reply)}
    kw = {k: v for k, v in data.items() if k in fields}
    kw["buttons"] = [Button(**b) for b in kw.get("buttons") or []]
    kw["numbers"] = tuple(kw.get("numbers") or ())
    return Reply(**kw)


@dataclass
class Row:
    """One stored update on its way through this process."""

    id: int
    channel: str
    key: str
    user_id: str | None
    payload: dict[str, Any]
    state: str = "new"
    replies: list[dict[str, Any]] | None = None
    sent: int = 0


@dataclass
class _Record:
    """The conversation core's :class:`~bot.conversation.Recorder` for one row."""

    row: Row
    lease_s: float
    #: The inbox's relaxed sessions: the update itself is stored already.
    sessionmaker: async_sessionmaker[AsyncSession]

    async def begin(self, conn: AsyncConnection) -> bool:
        return True  # checked by the decision's own UPDATE (one statement fewer per update)

    async def decided(self, conn: AsyncConnection, replies: list[Reply]) -> None:
        stored = [reply_to_json(r) for r in replies]
        res = await conn.execute(_DECIDED, {"rid": self.row.id, "replies": stored})
        if int(getattr(res, "rowcount", 0) or 0) == 0:
            if (await conn.execute(_LOCK, {"rid": self.row.id})).first() is not None:
                raise _DecidedElsewhere(self.row.id)  # rolls this decision back
            # /xoadulieu deleted the user's rows, this one too: keep the key and the answer,
            # not the message.
            self.row.payload = {}
            await conn.execute(insert(_T).values(
                id=self.row.id, channel=self.row.channel, key=self.row.key,
                user_id=self.row.user_id, payload={}, state="replying", attempts=1,
                lease_until=utcnow() + dt.timedelta(seconds=self.lease_s), replies=stored,
                sent=0, created_at=utcnow()))
        self.row.replies, self.row.state = stored, "replying"


class _DecidedElsewhere(Exception):
    """Another process decided this row first (it held it after our lease ended)."""


class _Runner:
    """Handles rows as background tasks: one user's rows in order (a FIFO lock per user),
    different users concurrently, at most ``limit`` at once."""

    def __init__(self, limit: int) -> None:
        self._sem = asyncio.Semaphore(limit)
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._pending: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, who: tuple[str, str], job: Callable[[], Awaitable[None]]) -> None:
        self._pending[who] += 1
        task = asyncio.create_task(self._run(who, job))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, who: tuple[str, str], job: Callable[[], Awaitable[None]]) -> None:
        try:
            async with self._locks[who], self._sem:
                await job()
        finally:
            self._pending[who] -= 1
            if self._pending[who] <= 0:
                self._pending.pop(who, None)
                self._locks.pop(who, None)

    async def drain(self, wait_s: float) -> None:
        if not self.tasks:
            return
        _, late = await asyncio.wait(set(self.tasks), timeout=wait_s)
        for task in late:
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)


def _stored_late(channel: str, key: str, task: asyncio.Task[bool]) -> None:
    """How the storing of an update ended after its webhook had answered 503."""
    if task.cancelled():
        log.warning("%s update %s: storing cancelled; the platform's redelivery is the only "
                    "copy", channel, key)
    elif task.exception() is not None:
        log.warning("%s update %s not stored (%s); the platform's redelivery is the only copy",
                    channel, key, type(task.exception()).__name__)
    else:
        log.info("%s update %s stored after its webhook answered 503; handled", channel, key)


class Inbox:
    """The inbox of one process: accepts updates, handles them, resumes what others left."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 conversations: Conversations) -> None:
        self.sessionmaker = sessionmaker
        self.engine = sessionmaker.kw["bind"]
        self.cfg = settings.inbox
        # A signed Zalo OA event is accepted while its timestamp is within max_event_age_s of
        # now, either side (clocks differ): one stamped that far ahead can be replayed until
        # twice that after it was first accepted. Its key is kept as long, and an hour more.
        self.keep = dt.timedelta(hours=max(self.cfg.keep_hours,
                                           2 * settings.zalo.oa.max_event_age_s / 3600 + 1))
        self.conversations = conversations
        self.owner = uuid.uuid4().hex[:12]
        self.ports: dict[str, InboxPort] = {}
        #: Rows this process handles now (leases renewed; never resumed by this process).
        self.held: set[int] = set()
        # Rows handled at once: fewer than the database pool (20), so storing new updates
        # (the webhooks' acknowledgements) always finds a connection.
        self._runner = _Runner(limit=_RELAXED_POOL)
        #: Webhook updates still being stored after their webhook answered (take_within).
        self._late: set[asyncio.Task[bool]] = set()
        self._pg = self.engine.dialect.name == "postgresql"
        #: Sessions for deciding a row (SQLite: the same as the app's).
        self.relaxed = sessionmaker
        if self._pg:
            # Storing an update is one statement, its own durable transaction: no BEGIN and
            # COMMIT round trips. So is a sent mark, on the relaxed pool.
            self._store = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._relaxed_engine = make_engine(
                self.engine.url.render_as_string(hide_password=False), connect_args=_RELAXED,
                pool_size=_RELAXED_POOL, max_overflow=4)
            self._marks = self._relaxed_engine.execution_options(isolation_level="AUTOCOMMIT")
            self.relaxed = make_sessionmaker(self._relaxed_engine)

    def register(self, channel: str, port: InboxPort) -> None:
        self.ports[channel] = port

    def _lease(self) -> dt.datetime:
        return utcnow() + dt.timedelta(seconds=self.cfg.lease_s)

    # ------------------------------------------------------------------ accepting

    async def accept(self, channel: str, key: str, user_id: str | None,
                     payload: dict[str, Any]) -> Row | None:
        """Store one update durably (committed when this returns) and hold it; None when an
        update with this key was accepted before. Raises SQLAlchemyError when the database
        cannot take it: the caller must then not acknowledge the update."""
        rows = await self.accept_many(channel, [(key, user_id, payload)])
        return rows[0]

    async def accept_many(self, channel: str,
                          items: Sequence[tuple[str, str | None, dict[str, Any]]]
                          ) -> list[Row | None]:
        """:meth:`accept` for a batch, in one transaction."""
        out: list[Row | None] = []
        now = utcnow()
        lease = self._lease()
        stmt = _ACCEPT[self.engine.dialect.name]
        if self._pg and len(items) == 1:
            key, user_id, payload = items[0]
            key = key[:160]
            async with self._store.connect() as conn:
                got = (await conn.execute(stmt, {
                    "channel": channel, "key": key, "user_id": user_id, "payload": payload,
                    "lease": lease, "now": now})).first()
            if got is None:
                return [None]
            self.held.add(int(got[0]))
            return [Row(int(got[0]), channel, key, user_id, payload)]
        async with write_lock(self.engine), self.engine.begin() as conn:
            for key, user_id, payload in items:
                key = key[:160]
                got = (await conn.execute(stmt, {
                    "channel": channel, "key": key, "user_id": user_id, "payload": payload,
                    "lease": lease, "now": now})).first()
                out.append(None if got is None else
                           Row(int(got[0]), channel, key, user_id, payload))
        for row in out:
            if row is not None:
                self.held.add(row.id)
        return out

    def start(self, row: Row) -> None:
        """Handle a row accepted by this process, in the background (the fast path)."""
        self.held.add(row.id)
        self._runner.spawn((row.channel, row.user_id or f"#{row.id}"),
                           lambda: self._process(row))

    async def take(self, channel: str, key: str, user_id: str | None,
                   payload: dict[str, Any]) -> bool:
        """Accept and start one update; False when it was a duplicate."""
        row = await self.accept(channel, key, user_id, payload)
        if row is None:
            log.info("duplicate %s update %s ignored", channel, key)
            return False
        self.start(row)
        return True

    async def take_within(self, wait_s: float, channel: str, key: str, user_id: str | None,
                          payload: dict[str, Any]) -> bool:
        """:meth:`take` for a webhook that must answer in time. Raises TimeoutError when the
        update is not stored within ``wait_s`` (the caller answers "try again later"; it was
        not acknowledged). The storing goes on: once stored the update is handled, and the
        platform's redelivery is then recognised by its key; a failure is logged."""
        task = asyncio.create_task(self.take(channel, key, user_id, payload))
        self._late.add(task)
        task.add_done_callback(self._late.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(task), wait_s)
        except TimeoutError:
            task.add_done_callback(partial(_stored_late, channel, key))
            raise

    # ------------------------------------------------------------------ handling

    async def _process(self, row: Row) -> None:
        try:
            port = self.ports.get(row.channel)
            if port is None:
                raise RuntimeError(f"no running {row.channel} channel in this process")
            if row.state == "new":
                msg = await port.incoming(row.payload)
                if msg is None:
                    await self._finish(row)
                    return
                try:
                    await self.conversations.handle(
                        msg, record=_Record(row, self.cfg.lease_s, self.relaxed))
                except _DecidedElsewhere:
                    # Its replies are the other process's to send, or the resume loop's if it
                    # died.
                    log.warning("%s update %s was decided elsewhere; left to it", row.channel,
                                row.key)
                    return
            replies = [reply_from_json(r) for r in row.replies or []]
            if row.sent < len(replies) and row.user_id is not None:
                await port.send(row.user_id, replies, first=row.sent,
                                mark=lambda n: self._mark(row, n, len(replies)))
            await self._finish(row)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s update %s (inbox row %s) failed", row.channel, row.key, row.id)
            await self._failed(row)
        finally:
            self.held.discard(row.id)

    async def _mark(self, row: Row, n: int, total: int) -> None:
        row.sent = n
        if n >= total:
            return  # the last one is marked with the row's end (_finish)
        await self._write(_MARK, {"rid": row.id, "n": n})

    async def _finish(self, row: Row) -> None:
        await self._write(_FINISH, {"rid": row.id, "n": row.sent, "empty": {}, "now": utcnow()})

    async def _write(self, stmt: Any, params: dict[str, Any]) -> None:
        """One statement that follows a row's decision (relaxed on PostgreSQL, see above)."""
        if self._pg:
            async with self._marks.connect() as conn:
                await conn.execute(stmt, params)
            return
        async with write_lock(self.engine), self.engine.begin() as conn:
            await conn.execute(stmt, params)

    async def _failed(self, row: Row) -> None:
        try:
            async with write_lock(self.engine), self.sessionmaker() as s, s.begin():
                attempts = (await s.execute(select(_C.attempts).where(_C.id == row.id)
                                            )).scalar_one_or_none()
                if attempts is None:
                    return
                done = attempts >= self.cfg.max_attempts
                # Tried again by the resume loop after a pause that grows with each attempt.
                wait = min(self.cfg.lease_s, 2.0 ** attempts)
                await s.execute(update(_T).where(_C.id == row.id).values(
                    state="failed" if done else _C.state,
                    lease_until=utcnow() + dt.timedelta(seconds=wait),
                    processed_at=utcnow() if done else None))
            if done:
                log.error("%s update %s gave up after %d attempts", row.channel, row.key,
                          attempts)
        except Exception:
            log.exception("inbox row %s: recording the failure failed", row.id)

    # ------------------------------------------------------------------ resuming

    async def resume(self, limit: int = 200) -> int:
        """Claim rows whose lease ended (a process died, or a try failed) and handle them;
        the number claimed."""
        if not self.ports:
            return 0
        now = utcnow()
        channels = sorted(self.ports)
        left = [_C.state.in_(_OPEN), _C.channel.in_(channels),
                or_(_C.lease_until.is_(None), _C.lease_until < now)]
        if self.held:  # never our own rows, even when a renewal came late
            left.append(_C.id.notin_(sorted(self.held)))
        # Nearly always nothing is left: one statement outside a transaction says so.
        if not await probe(self.engine, select(_C.id).where(*left).limit(1)):
            return 0
        async with write_lock(self.engine), self.sessionmaker() as s, s.begin():
            stmt = select(_T).where(*left).order_by(_C.id).limit(limit)
            if self._pg:  # several processes claim side by side without waiting for each other
                stmt = stmt.with_for_update(skip_locked=True)
            found = (await s.execute(stmt)).all()
            if not found:
                return 0
            give_up = [r.id for r in found if r.attempts >= self.cfg.max_attempts]
            claim = [r for r in found if r.attempts < self.cfg.max_attempts]
            if give_up:
                await s.execute(update(_T).where(_C.id.in_(give_up)).values(
                    state="failed", processed_at=now, lease_until=None))
                log.error("inbox: %d updates gave up after %d attempts", len(give_up),
                          self.cfg.max_attempts)
            if claim:
                await s.execute(update(_T).where(_C.id.in_([r.id for r in claim])).values(
                    lease_until=self._lease(), attempts=_C.attempts + 1))
        for r in claim:
            row = Row(r.id, r.channel, r.key, r.user_id, r.payload or {}, r.state, r.replies,
                      r.sent)
            if r.state == "replying":
                log.info("inbox: resuming the replies of %s update %s from reply %d",
                         r.channel, r.key, r.sent)
            self.start(row)
        if claim:
            log.info("inbox: resumed %d updates", len(claim))
        return len(claim)

    async def renew(self) -> None:
        """Extend the leases of the rows this process is handling."""
        held = sorted(self.held)
        if not held:
            return
        async with write_lock(self.engine), self.sessionmaker() as s, s.begin():
            for i in range(0, len(held), 500):
                await s.execute(update(_T).where(and_(_C.id.in_(held[i:i + 500]),
                                                      _C.state.in_(_OPEN)))
                                .values(lease_until=self._lease()))

    async def purge(self, now: dt.datetime | None = None) -> int:
        """Forget handled rows older than the keep time (their keys with them)."""
        cutoff = (now or utcnow()) - self.keep
        async with write_lock(self.engine), self.sessionmaker() as s, s.begin():
            res = await s.execute(delete(_T).where(_C.created_at < cutoff,
                                                   _C.state.in_(("done", "failed"))))
        return int(getattr(res, "rowcount", 0) or 0)

    async def counts(self) -> dict[str, int]:
        """Rows per state (for reports and tests)."""
        async with self.sessionmaker() as s:
            rows = (await s.execute(select(_C.state, func.count()).group_by(_C.state))).all()
        return {str(state): int(n) for state, n in rows}

    async def run(self, stop: asyncio.Event) -> None:
        """Resume left rows, renew this process's leases, purge old keys, until ``stop``."""
        renew_every = self.cfg.lease_s / 3
        last_renew = last_purge = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            now = loop.time()
            try:
                if now - last_renew >= renew_every:
                    last_renew = now
                    await self.renew()
                await self.resume()
                if now - last_purge >= 3600:
                    last_purge = now
                    gone = await self.purge()
                    if gone:
                        log.info("inbox: forgot %d handled updates", gone)
            except Exception:
                log.exception("inbox loop failed; trying again")
            try:
                await asyncio.wait_for(stop.wait(), min(self.cfg.resume_s, renew_every))
            except TimeoutError:
                pass

    async def drain(self, wait_s: float = 10.0) -> None:
        """Let the rows in hand finish (a stop); rows cut short are resumed after a restart."""
        if self._late:  # updates still being stored after their webhook answered
            await asyncio.wait(set(self._late), timeout=wait_s)
        await self._runner.drain(wait_s)

    async def close(self) -> None:
        """Close the inbox's own connections (after :meth:`drain`)."""
        if self._pg:
            await self._relaxed_engine.dispose()

