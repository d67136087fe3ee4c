"""Start-up checks and start-up faults in one line.

Every fault an operator can meet when starting ``trolyso`` (a bad configuration, a database
that cannot be reached or written, a port already taken, a token Telegram refuses) ends as a
:class:`StartupError`: one line naming the problem and what to do, and an exit status (2 for a
configuration error, 1 for anything else). :func:`describe` turns the exceptions raised by the
libraries underneath (SQLAlchemy, asyncpg, sqlite3, the socket layer) into such a line, so the
command line never shows a traceback for them.
"""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.config import ConfigError, Settings

__all__ = [
    "CONFIG",
    "OTHER",
    "StartupError",
    "bind_port",
    "check_content",
    "check_database",
    "describe",
]

CONFIG = 2  #: exit status of a configuration error
OTHER = 1  #: exit status of any other start-up fault

_URL_HINT = ("expected sqlite+aiosqlite:///PATH or "
             "postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DATABASE")


class StartupError(Exception):
    """A start-up fault: one line for the operator and the exit status."""

    def __init__(self, message: str, code: int = OTHER) -> None:
        super().__init__(message)
        self.code = code


def one_line(message: str) -> str:
    """Several problems (a configuration with two bad keys) on one line."""
    return "; ".join(part.strip() for part in str(message).splitlines() if part.strip())


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]


def _where(url: str) -> str:
    try:
        u = make_url(url)
    except sa_exc.ArgumentError:
        return "the database"
    if u.get_backend_name() == "sqlite":
        return f"the SQLite database {u.database or ':memory:'}"
    return f"the database at {u.host or 'localhost'}:{u.port or 5432}"


_DB_PACKAGES = ("asyncpg", "sqlite3", "aiosqlite", "psycopg", "sqlalchemy", "alembic")


def _from_database(exc: BaseException) -> bool:
    """Whether ``exc`` came through the database layers (its type or its traceback): a
    refused connection from asyncpg is a plain OSError."""
    for e in _chain(exc):
        if isinstance(e, sa_exc.SQLAlchemyError) or \
                type(e).__module__.split(".")[0] in _DB_PACKAGES:
            return True
        tb = e.__traceback__
        while tb is not None:
            name = tb.tb_frame.f_globals.get("__name__", "")
            if name.split(".")[0] in _DB_PACKAGES:
                return True
            tb = tb.tb_next
    return False


def describe(exc: BaseException, db_url: str | None = None, *,
             database: bool = False) -> StartupError | None:
    """The one-line fault for ``exc``, or None when it is not a known start-up fault.
    Network failures are said to be the database's when ``database`` is true or the
    exception came through the database layers."""
    where = _where(db_url) if db_url else "the database"
    database = database or _from_database(exc)
    for e in _chain(exc):
        if isinstance(e, StartupError):
            return e
        if isinstance(e, ConfigError):
            return StartupError(f"configuration error: {one_line(str(e))}", CONFIG)
        name = type(e).__name__
        msg = str(e).strip().splitlines()[0] if str(e).strip() else name
        if isinstance(e, sa_exc.NoSuchModuleError):
            return StartupError(f"DATABASE_URL: unknown database kind ({msg}); {_URL_HINT}",
                                CONFIG)
        if isinstance(e, sa_exc.ArgumentError):
            return StartupError(f"DATABASE_URL: not a database URL; {_URL_HINT}", CONFIG)
        if isinstance(e, sa_exc.InvalidRequestError) and "async" in msg:
            return StartupError("DATABASE_URL: the driver is not an asyncio driver; "
                                f"{_URL_HINT}", CONFIG)
        if isinstance(e, ModuleNotFoundError):
            return StartupError(f"DATABASE_URL: the database driver {e.name!r} is not "
                                f"installed; {_URL_HINT}", CONFIG)
        if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
            return StartupError(f"{where} refused the login: {msg} (check the user and "
                                "password in DATABASE_URL)", CONFIG)
        if name == "InvalidCatalogNameError":
            return StartupError(f"{where}: {msg} (create it, or fix DATABASE_URL)", CONFIG)
        if isinstance(e, sqlite3.OperationalError) or name == "OperationalError":
            low = msg.lower()
            if "readonly" in low or "read-only" in low:
                return StartupError(f"{where} is read-only: give the server's user write "
                                    "access to the file and its folder")
            if "unable to open" in low:
                return StartupError(f"cannot open {where}: the folder is missing or not "
                                    "writable")
            if "locked" in low:
                return StartupError(f"{where} is locked by another program; try again")
        if isinstance(e, PermissionError):
            return StartupError(f"no permission: {e.filename or msg} ({e.strerror or msg})")
        if not database:
            continue
        if isinstance(e, (ConnectionRefusedError, ConnectionResetError)):
            return StartupError(f"{where} refused the connection: is the database server "
                                "running, and are host and port in DATABASE_URL right?")
        if isinstance(e, socket.gaierror):
            return StartupError(f"{where}: the host name is unknown ({msg})")
        if isinstance(e, TimeoutError):
            return StartupError(f"{where} did not answer in time")
    return None


def check_content(settings: Settings) -> None:
    """The content folder exists (a relative ``content.dir`` is relative to the config file)."""
    folder = settings.path(settings.content.dir)
    if not folder.is_dir():
        raise ConfigError(
            f"content.dir: folder {folder} not found (a relative path is taken from the "
            f"configuration file's folder {settings.base_dir})")


def _sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


async def check_database(url: str) -> None:
    """Connect once and make sure the database can be written, before any migration runs."""
    from core.db import make_engine

    try:
        path = _sqlite_path(url)
    except sa_exc.ArgumentError as exc:
        raise describe(exc, url, database=True) or exc from exc
    if path is not None:
        target = path if path.exists() else path.parent
        while not target.exists():  # make_engine creates missing folders: check the first one
            target = target.parent
        if not os.access(target, os.W_OK) or (path.exists() and not os.access(
                path.parent, os.W_OK)):
            # SQLite needs the file and its folder (the -wal and -shm files live beside it).
            raise StartupError(f"{_where(url)} is read-only: give the server's user write "
                               f"access to {path} and its folder")
    try:
        engine = make_engine(url)
    except Exception as exc:
        raise describe(exc, url, database=True) or exc from exc
    try:
        async with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                ro = (await conn.execute(text("SHOW transaction_read_only"))).scalar()
                if ro == "on":
                    raise StartupError(f"{_where(url)} is read-only (a standby, or "
                                       "default_transaction_read_only is on)")
            else:  # a table created and rolled back: the file can really be written
                await conn.execute(text("CREATE TABLE _trolyso_write_check (x INTEGER)"))
                await conn.rollback()
    except StartupError:
        raise
    except Exception as exc:
        raise describe(exc, url, database=True) or exc from exc
    finally:
        await engine.dispose()


def bind_port(host: str, port: int, origin: str) -> socket.socket:
    """The web server's listening socket, taken before anything else starts, so a port in
    use is found before the migrations run. ``origin`` names where the port came from."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(f"port {port} on {host} is already in use (another trolyso, "
                               f"or another server?): change {origin}") from exc
        if exc.errno == errno.EACCES:
            raise StartupError(f"no permission to listen on port {port} (ports below 1024 "
                               f"need root): change {origin}") from exc
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                           f"(check web.host / TROLYSO_HOST and {origin})") from exc
    sock.setblocking(False)
    return sock
