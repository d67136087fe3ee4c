"""Runs one incoming message through the assistant inside one database transaction.

State is read from the database on every update and written back with a compare-and-set on its
version (plus a row lock on PostgreSQL), so several processes can serve the same citizens without
corrupting each other's state. Redelivered updates (same platform id) are answered once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import utcnow, write_lock
from bot.models import Conversation, MessageLog, ProcessedUpdate, User
from bot.storage import insert_for
from flows.assistant import Assistant, Outcome
from flows.ports import Context, State
from flows.types import Incoming, Reply

__all__ = ["Conversations", "StateConflict"]

log = logging.getLogger(__name__)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class StateConflict(Exception):
    """Another process changed this conversation while we were handling it."""


@dataclass
class Conversations:
    sessionmaker: async_sessionmaker[AsyncSession]
    assistant: Assistant
    make_context: Callable[[AsyncSession, Incoming], Context]
    max_attempts: int = 5

    async def handle(self, msg: Incoming, update_key: str | None = None) -> list[Reply] | None:
        """Replies to send, or None when this update was already handled."""
        last: Exception | None = None
        for attempt in range(self.max_attempts):
            try:
                return await self._once(msg, update_key)
            except (StateConflict, IntegrityError, OperationalError) as exc:
                # A concurrent writer won the race: start again from the fresh state.
                last = exc
                log.info("conversation conflict for %s (attempt %d): %s", msg.channel,
                         attempt + 1, type(exc).__name__)
        raise RuntimeError("conversation state kept changing underneath us") from last

    async def _once(self, msg: Incoming, update_key: str | None) -> list[Reply] | None:
        engine = self.sessionmaker.kw["bind"]
        async with write_lock(engine), self.sessionmaker() as session, session.begin():
            if update_key is not None:
                ins = insert_for(session, ProcessedUpdate).values(
                    channel=msg.channel, key=update_key[:160], created_at=utcnow())
                res = await session.execute(ins.on_conflict_do_nothing())
                if not _rowcount(res):
                    log.info("duplicate %s update %s ignored", msg.channel, update_key)
                    return None
            row = (await session.execute(
                select(Conversation)
                .where(Conversation.channel == msg.channel, Conversation.user_id == msg.user_id)
                .with_for_update()
            )).scalar_one_or_none()
            state = State.from_json(row.state if row else None)
            outcome = await self.assistant.handle(msg, state, self.make_context(session, msg))
            if not outcome.forget:
                await self._save(session, msg, row, outcome)
            return outcome.replies

    async def _save(self, session: AsyncSession, msg: Incoming, row: Conversation | None,
                    outcome: Outcome) -> None:
        now = utcnow()
        new_state = outcome.state.to_json()
        if row is None:
            session.add(Conversation(channel=msg.channel, user_id=msg.user_id, state=new_state,
                                     version=1, updated_at=now))
            await session.flush()  # IntegrityError here means another process inserted first
        else:
            res = await session.execute(
                update(Conversation)
                .where(Conversation.channel == msg.channel, Conversation.user_id == msg.user_id,
                       Conversation.version == row.version)
                .values(state=new_state, version=row.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(res) != 1:
                raise StateConflict(msg.user_id)
        up = insert_for(session, User).values(channel=msg.channel, user_id=msg.user_id,
                                              created_at=now, last_seen=now)
        await session.execute(up.on_conflict_do_update(
            index_elements=[User.channel, User.user_id],
            set_={"last_seen": now, "blocked_at": None}))
        p = outcome.parse
        session.add(MessageLog(
            channel=msg.channel, user_id=msg.user_id, text=outcome.log_text,
            intent=p.intent if p else None, label=(p.label or p.service) if p else None,
            decision=p.decision if p else None, confidence=p.confidence if p else None,
            created_at=now,
        ))

    async def load_state(self, channel: str, user_id: str) -> State:
        async with self.sessionmaker() as session:
            row = await session.get(Conversation, (channel, user_id))
            return State.from_json(row.state if row else None)
