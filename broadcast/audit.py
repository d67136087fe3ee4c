"""The audit log: who did what, when, to whom. Written in the transaction of the action."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.types import Actor
from core.db import utcnow
from core.models import AuditEntry

__all__ = ["SYSTEM", "entries", "record"]

#: The actor of what the program does by itself (releasing a scheduled notice, ending a run).
SYSTEM = Actor("system")


async def record(session: AsyncSession, actor: Actor, action: str, *,
                 details: dict[str, Any] | None = None, targets: dict[str, Any] | None = None,
                 at: dt.datetime | None = None) -> None:
    """Add one entry; it commits or rolls back with the action it describes."""
    session.add(AuditEntry(actor=actor.label, action=action, details=details or {},
                           targets=targets or {}, at=at or utcnow()))


async def entries(session: AsyncSession, *, action: str | None = None,
                  limit: int = 100) -> list[AuditEntry]:
    """Newest first."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    return list((await session.execute(stmt)).scalars())
