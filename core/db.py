"""Database plumbing: the declarative base, engines, sessions and migrations.

SQLite (aiosqlite) by default, PostgreSQL (asyncpg) via ``DATABASE_URL``. The schema is owned by
Alembic migrations in ``core/migrations``; ``trolyso db upgrade`` (and ``trolyso run``) apply them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import weakref
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

__all__ = [
    "PING_IDLE_S",
    "READ_ONLY",
    "Base",
    "UTCDateTime",
    "make_engine",
    "make_sessionmaker",
    "probe",
    "upgrade",
    "utcnow",
    "write_lock",
]

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_SQLITE_LOCKS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def write_lock(engine: AsyncEngine) -> AbstractAsyncContextManager[Any]:
    """Serialize this process's write transactions on SQLite.

    SQLite has one writer at a time. Letting many coroutines race for its lock makes them wait in
    SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and collapses throughput;
    queueing on an asyncio lock instead hands the database over without sleeping. Other
    processes are still kept out by SQLite's own lock (busy_timeout). PostgreSQL: no-op.
    """
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    lock = _SQLITE_LOCKS.get(engine.sync_engine)
    if lock is None:
        lock = _SQLITE_LOCKS[engine.sync_engine] = asyncio.Lock()
    return lock


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON, dt.datetime: UTCDateTime,
    }


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event below start transactions instead of the driver.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # WAL lets readers run while one writer writes; busy_timeout makes concurrent writers wait
    # instead of failing with "database is locked".
    cur.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts the database; a power cut may lose the last commits,
    # not earlier ones. FULL would fsync on every message.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


#: Execution option of a connection that only reads (``/healthz``): a deferred BEGIN, so it
#: answers while another connection holds SQLite's write lock.
READ_ONLY = "trolyso_read_only"


def _sqlite_begin(conn: Any) -> None:
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
        return
    # BEGIN IMMEDIATE takes the write lock up front. A deferred transaction that reads and then
    # writes can fail with SQLITE_BUSY_SNAPSHOT when another process wrote in between, which
    # busy_timeout does not retry; taking the lock first makes writers queue instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kw: Any) -> AsyncEngine:
    """An async engine; creates the SQLite file's folder and sets pragmas for SQLite."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Every transaction ends in COMMIT or ROLLBACK; skip the pool's extra rollback (one
        # more round trip to SQLite's thread per checkout).
        kw.setdefault("pool_reset_on_return", None)
        engine = create_async_engine(url, **kw)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    ping = False
    if "poolclass" not in kw:
        kw.setdefault("pool_size", 10)
        kw.setdefault("max_overflow", 10)
        # Our pre-ping below, unless the caller chose SQLAlchemy's (or none).
        ping = "pool_pre_ping" not in kw
    engine = create_async_engine(url, **kw)
    if ping:
        _ping_when_idle(engine)
    return engine


#: A pooled PostgreSQL connection that sat unused this long is checked before use.
PING_IDLE_S = 5.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for connections idle ``PING_IDLE_S`` or longer only.

    A server restart, an idle timeout or a firewall kills connections while they wait in the
    pool; a ping on checkout finds them and opens fresh ones. With asyncpg a ping is three
    round trips (BEGIN, an empty query, ROLLBACK): on every checkout that was about 0.3 ms of
    CPU and nine extra statements per chat update. A connection used a moment ago is taken
    without one; should it be dead after all, its statement fails with a disconnect error,
    after which SQLAlchemy replaces every pooled connection of that time (the inbox resumes
    the update; a webhook not stored answers 503 and is sent again)."""
    dialect = engine.dialect
    idle_s = PING_IDLE_S

    def checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["trolyso_idle_since"] = time.monotonic()

    def checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("trolyso_idle_since", None)
        if since is None or time.monotonic() - since < idle_s:
            return  # just opened, or used a moment ago
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool discards it and checks out another (or a new one)
            raise DisconnectionError(f"pooled connection lost: {type(exc).__name__}") from exc

    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)


async def probe(engine: AsyncEngine, stmt: Any,
                params: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The first row of ``stmt`` (a SELECT), read outside any write transaction: a background
    loop's "is there anything to do?" check before the transaction that does it.

    On PostgreSQL it is one statement in autocommit mode (no BEGIN and COMMIT round trips, no
    ORM session), about a quarter of the CPU of the claim it spares; an idle process polls
    several such loops every second or two, and with N processes that cost is paid N times.
    On SQLite it is a deferred read, which never waits for the write lock. The answer is a
    hint: work that arrives just after is found at the next poll, as it would be by a claim
    that found nothing."""
    options = ({"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql"
               else {READ_ONLY: True})
    async with engine.connect() as conn:
        conn = await conn.execution_options(**options)
        row = (await conn.execute(stmt, params or {})).first()
    return tuple(row) if row is not None else ()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    here = Path(__file__).resolve().parent
    cfg = Config()
    cfg.set_main_option("script_location", str(here / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Apply migrations (blocking). Safe to run from several processes: Alembic serializes."""
    from alembic import command

    command.upgrade(_alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade_sync, url, revision)

