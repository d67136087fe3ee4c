"""The audit log: who did what, when, to whom. Written in the transaction of the action."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, String, Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.types import Actor
from core.db import utcnow
from core.models import AuditEntry

__all__ = ["SYSTEM", "AuditFilter", "actions", "entries", "export_bounds", "export_rows",
           "record", "search"]

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


_S = TypeVar("_S", bound=Select)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(stmt: _S, f: AuditFilter) -> _S:
    e = AuditEntry
    if f.person:
        stmt = stmt.where(e.actor.like(f"%{_like(f.person)}%", escape="\\"))
    if f.action:
        stmt = stmt.where(e.action == f.action)
    if f.area:
        # Targets are stored as JSON text ({"areas": ["12454"]}) on SQLite and PostgreSQL.
        stmt = stmt.where(cast(e.targets, String).like(f'%"{_like(f.area)}"%', escape="\\"))
    if f.since is not None:
        stmt = stmt.where(e.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(e.at < f.until)
    return stmt


async def search(session: AsyncSession, f: AuditFilter, *, offset: int = 0,
                 limit: int = 50) -> list[Row[Any]]:
    """Entries matching every part of ``f``, newest first: rows with the columns of
    :class:`AuditEntry` (plain rows, not ORM objects)."""
    e = AuditEntry
    stmt = _where(select(e.id, e.at, e.actor, e.action, e.details, e.targets), f).order_by(
        e.at.desc(), e.id.desc())
    return list((await session.execute(stmt.offset(offset).limit(limit))).all())


async def export_bounds(session: AsyncSession, f: AuditFilter, *,
                        limit: int) -> tuple[int, int]:
    """(the newest entry's id now, how many entries up to it match ``f``, at most ``limit``):
    an export counted and logged first, then streamed up to that id, holds exactly that many
    rows (its own log entry, written in between, is not among them)."""
    last = (await session.execute(select(func.max(AuditEntry.id)))).scalar() or 0
    matching = _where(select(AuditEntry.id), f).where(AuditEntry.id <= last).limit(limit)
    count = (await session.execute(
        select(func.count()).select_from(matching.subquery()))).scalar_one()
    return last, int(count)


async def export_rows(session: AsyncSession, f: AuditFilter, *, up_to: int, limit: int,
                      tz: str, batch: int = 1000) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """The entries of ``f`` with ids up to ``up_to``, newest first, ``batch`` rows at a time
    (a server-side cursor on PostgreSQL), as text: ``(local time "YYYY-MM-DD HH:MM:SS" in
    ``tz``, actor, action, details, targets)``, the two JSON columns as stored."""
    e = AuditEntry
    pg = (await session.connection()).dialect.name == "postgresql"
    # PostgreSQL writes the local time itself (a third of the export's work in Python).
    at = func.to_char(func.timezone(tz, e.at), "YYYY-MM-DD HH24:MI:SS") if pg else e.at
    stmt = _where(select(at, e.actor, e.action, cast(e.details, Text), cast(e.targets, Text)),
                  f).where(e.id <= up_to).order_by(e.at.desc(), e.id.desc()).limit(limit)
    result = await session.stream(stmt.execution_options(yield_per=batch))
    zone = ZoneInfo(tz)
    async for part in result.partitions():
        yield part if pg else [(r[0].astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), *r[1:])
                               for r in part]


async def actions(session: AsyncSession) -> list[str]:
    """Every action name the log holds, for the page's filter."""
    return sorted((await session.execute(select(AuditEntry.action).distinct())).scalars())
