"""The audit log: who did what, when, to whom. Written in the transaction of the action."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.types import Actor
from core.db import utcnow
from core.models import AuditEntry

__all__ = ["SYSTEM", "AuditFilter", "actions", "entries", "record", "search"]

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


@dataclass(frozen=True)
class AuditFilter:
    """What the audit log page asks for. ``person`` is part of the actor's label (``lan``
    finds ``console:lan``); ``area`` an area code among the entry's targets; ``since`` and
    ``until`` bound ``at`` (``until`` excluded)."""

    person: str = ""
    action: str = ""
    area: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(session: AsyncSession, f: AuditFilter, *, offset: int = 0,
                 limit: int = 50) -> list[Row[Any]]:
    """Entries matching every part of ``f``, newest first: rows with the columns of
    :class:`AuditEntry` (plain rows: an export of thousands stays fast)."""
    e = AuditEntry
    stmt = select(e.id, e.at, e.actor, e.action, e.details, e.targets).order_by(
        e.at.desc(), e.id.desc())
    if f.person:
        stmt = stmt.where(AuditEntry.actor.like(f"%{_like(f.person)}%", escape="\\"))
    if f.action:
        stmt = stmt.where(AuditEntry.action == f.action)
    if f.area:
        # Targets are stored as JSON text ({"areas": ["12454"]}) on SQLite and PostgreSQL.
        stmt = stmt.where(cast(AuditEntry.targets, String).like(
            f'%"{_like(f.area)}"%', escape="\\"))
    if f.since is not None:
        stmt = stmt.where(AuditEntry.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEntry.at < f.until)
    return list((await session.execute(stmt.offset(offset).limit(limit))).all())


async def actions(session: AsyncSession) -> list[str]:
    """Every action name the log holds, for the page's filter."""
    return sorted((await session.execute(select(AuditEntry.action).distinct())).scalars())
