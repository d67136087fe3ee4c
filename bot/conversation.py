"""Runs one incoming message through the assistant inside one database transaction.

State is read from the database on every update and written back with a compare-and-set on its
version (plus a row lock on PostgreSQL), so several processes can serve the same citizens without
corrupting each other's state. Redelivered updates (same platform id) are answered once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from core.db import utcnow, write_lock
from core.models import Conversation, MessageLog, User
from flows.assistant import Assistant, Outcome
from flows.ports import Context, State
from flows.types import Incoming, Reply

__all__ = ["Conversations", "Recorder", "StateConflict"]

log = logging.getLogger(__name__)

_SEEN_PRECISION = dt.timedelta(minutes=10)

# The statements run on every message, built once with bound parameters: constructing them per
# message (and computing their cache keys) cost more than executing them.
_T = cast(Table, Conversation.__table__)
_C = _T.c
_SELECT = (select(_C.state, _C.version, _C.updated_at)
           .where(_C.channel == bindparam("ch"), _C.user_id == bindparam("uid"))
           .with_for_update())
_INSERT = insert(_T).values(
    channel=bindparam("ch"), user_id=bindparam("uid"), state=bindparam("state"), version=1,
    updated_at=bindparam("now"))
_UPDATE = (update(_T)
           .where(_C.channel == bindparam("ch"), _C.user_id == bindparam("uid"),
                  _C.version == bindparam("v"))
           .values(state=bindparam("state"), version=bindparam("v") + 1,
                   updated_at=bindparam("now")))
_LOG = insert(cast(Table, MessageLog.__table__))
_U = cast(Table, User.__table__)
#: Someone writing to us has not blocked us (and was seen now), per dialect.
_SEEN_USER = {
    name: ins(_U).values(channel=bindparam("ch"), user_id=bindparam("uid"),
                         created_at=bindparam("now"), last_seen=bindparam("now"))
    .on_conflict_do_update(index_elements=[_U.c.channel, _U.c.user_id],
                           set_={"last_seen": bindparam("now"), "blocked_at": None})
    for name, ins in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))}
_SEEN = "_updates"  # recent platform update keys, inside the conversation's state JSON
_SEEN_KEEP = 30


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class Recorder(Protocol):
    """Where the decided replies are kept, in the same transaction as the state they follow
    from (the inbox row of the update, ``bot.inbox``)."""

    #: The sessions that transaction runs in (the inbox's: its commit need not wait for the
    #: disk, the update being stored already).
    sessionmaker: async_sessionmaker[AsyncSession]

    async def begin(self, conn: AsyncConnection) -> bool:
        """Lock the record; False when this update was decided already."""

    async def decided(self, conn: AsyncConnection, replies: list[Reply]) -> None:
        """Keep the replies; committed with the conversation's new state."""


class StateConflict(Exception):
    """Another process changed this conversation while we were handling it."""


@dataclass
class Conversations:
    sessionmaker: async_sessionmaker[AsyncSession]
    assistant: Assistant
    make_context: Callable[[AsyncSession, Incoming], Context]
    max_attempts: int = 5

    async def handle(self, msg: Incoming, update_key: str | None = None, *,
                     record: Recorder | None = None) -> list[Reply] | None:
        """Replies to send, or None when this update was already handled. With ``record``
        the replies are stored by it in the transaction that decides them."""
        last: Exception | None = None
        for attempt in range(self.max_attempts):
            try:
                return await self._once(msg, update_key, record)
            except (StateConflict, IntegrityError, OperationalError) as exc:
                # A concurrent writer won the race: start again from the fresh state.
                last = exc
                log.info("conversation conflict for %s (attempt %d): %s", msg.channel,
                         attempt + 1, type(exc).__name__)
        raise RuntimeError("conversation state kept changing underneath us") from last

    async def _once(self, msg: Incoming, update_key: str | None,
                    record: Recorder | None) -> list[Reply] | None:
        sessions = self.sessionmaker if record is None else record.sessionmaker
        async with write_lock(sessions.kw["bind"]), sessions() as session, session.begin():
            conn = await session.connection()  # Core, not the ORM: this runs on every message
            if record is not None and not await record.begin(conn):
                return None
            row = (await conn.execute(_SELECT, {"ch": msg.channel, "uid": msg.user_id})).first()
            raw = dict(row.state) if row else {}
            # A redelivered update comes from the same user: its key is among the last ones
            # this conversation handled (kept in the state row, so the check costs nothing).
            seen = [str(k) for k in raw.pop(_SEEN, [])] if isinstance(raw.get(_SEEN), list) else []
            if update_key is not None:
                key = update_key[:160]
                if key in seen:
                    log.info("duplicate %s update %s ignored", msg.channel, update_key)
                    return None
                seen = [*seen, key][-_SEEN_KEEP:]
            state = State.from_json(raw)
            outcome = await self.assistant.handle(msg, state, self.make_context(session, msg))
            if not outcome.forget:
                await self._save(conn, session, msg, row.version if row else None,
                                 row.updated_at if row else None, outcome, seen)
            if record is not None:
                await session.flush()  # a deletion (/xoadulieu) goes before the record
                await record.decided(conn, outcome.replies)
            return outcome.replies

    async def _save(self, conn: AsyncConnection, session: AsyncSession, msg: Incoming,
                    version: int | None, last: dt.datetime | None, outcome: Outcome,
                    seen: list[str]) -> None:
        await session.flush()  # rows the flows added (feedback...) go first, in order
        now = utcnow()
        new_state = outcome.state.to_json()
        if seen:
            new_state[_SEEN] = seen
        key = {"ch": msg.channel, "uid": msg.user_id, "state": new_state, "now": now}
        if version is None:
            # IntegrityError here means another process inserted first: the caller retries.
            await conn.execute(_INSERT, key)
        else:
            res = await conn.execute(_UPDATE, {**key, "v": version})
            if _rowcount(res) != 1:
                raise StateConflict(msg.user_id)
        if last is None or now - last > _SEEN_PRECISION:
            # Someone writing to us has not blocked us. last_seen (the Zalo OA window) needs no
            # better precision than this, which saves a statement on most messages.
            await conn.execute(_SEEN_USER[conn.dialect.name],
                               {"ch": msg.channel, "uid": msg.user_id, "now": now})
        p = outcome.parse
        await conn.execute(_LOG, {
            "channel": msg.channel, "user_id": msg.user_id, "text": outcome.log_text,
            "intent": p.intent if p else None, "label": (p.label or p.service) if p else None,
            "decision": p.decision if p else None, "confidence": p.confidence if p else None,
            "created_at": now,
        })

    async def load_state(self, channel: str, user_id: str) -> State:
        async with self.sessionmaker() as session:
            row = await session.get(Conversation, (channel, user_id))
            return State.from_json(row.state if row else None)
