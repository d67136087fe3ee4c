"""``trolyso db upgrade``, ``trolyso db backup FILE``, ``trolyso db restore FILE``.

SQLite is copied with its online backup API (the server may keep running: the copy is one
consistent moment). PostgreSQL is dumped with ``pg_dump`` in its custom format when the tool is
installed; otherwise, and for restoring, the command to run is printed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from core.config import load_config

__all__ = ["register"]


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema")
    dsub = db.add_subparsers(dest="db_command", required=True)
    up = dsub.add_parser("upgrade", help="apply migrations")
    up.set_defaults(func=_db_upgrade)
    backup = dsub.add_parser("backup", help="copy the database to FILE (SQLite: online backup; "
                                            "PostgreSQL: pg_dump, custom format)")
    backup.add_argument("file", type=Path)
    backup.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    backup.set_defaults(func=_db_backup)
    restore = dsub.add_parser("restore", help="put a backup back (SQLite; PostgreSQL: prints "
                                              "the pg_restore command)")
    restore.add_argument("file", type=Path)
    restore.add_argument("--force", action="store_true",
                         help="replace a database that already holds data")
    restore.set_defaults(func=_db_restore)


def _db_upgrade(args: argparse.Namespace) -> int:
    from core.db import upgrade_sync

    settings = load_config(args.config)
    upgrade_sync(settings.db_url)
    print(f"database at {_safe_url(settings.db_url)} is up to date")
    return 0


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url


def _sqlite_file(url: str) -> Path | None:
    u = make_url(url)
    return Path(u.database) if u.get_backend_name() == "sqlite" and u.database else None


def _libpq(url: str) -> tuple[str, str]:
    """The URL for pg_dump/pg_restore (no +driver) and the same with the password hidden."""
    u = make_url(url).set(drivername="postgresql")
    return (u.render_as_string(hide_password=False),
            u.render_as_string(hide_password=True))


def _fail(message: str) -> int:
    print(f"trolyso: db: {message}", file=sys.stderr)
    return 1


def _db_backup(args: argparse.Namespace) -> int:
    settings = load_config(args.config)
    target: Path = args.file
    if target.exists() and not args.force:
        return _fail(f"{target} exists; give another name, or --force to overwrite it")
    db = _sqlite_file(settings.db_url)
    if db is not None:
        if not db.exists():
            return _fail(f"no database at {db} yet (run `trolyso db upgrade` first)")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # SQLite's online backup: one consistent copy, writers may go on
        finally:
            dst.close()
            src.close()
        os.replace(tmp, target)
        print(f"database {db} backed up to {target} ({target.stat().st_size:,} bytes)")
        return 0
    url, shown = _libpq(settings.db_url)
    command = ["pg_dump", "--format=custom", "--no-owner", f"--file={target}"]
    if shutil.which("pg_dump") is None:
        print("pg_dump is not installed here (Debian: apt install postgresql-client); "
              "run on a machine that has it:")
        print("  " + shlex.join([*command, shown]))
        return 1
    done = subprocess.run([*command, url], capture_output=True, text=True)
    if done.returncode != 0:
        return _fail(f"pg_dump failed: {' '.join(done.stderr.split())[:300]}")
    print(f"database {shown} dumped to {target} ({target.stat().st_size:,} bytes, "
          "pg_dump custom format)")
    return 0


def _holds_data(db: Path) -> bool:
    if not db.exists() or db.stat().st_size == 0:
        return False
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'alembic_version'")]
        return any(con.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() for t in tables)
    finally:
        con.close()


def _is_backup(file: Path) -> bool:
    try:
        con = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            return con.execute("SELECT 1 FROM sqlite_master WHERE type='table' "
                               "AND name='alembic_version'").fetchone() is not None
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return False


def _db_restore(args: argparse.Namespace) -> int:
    from core.db import upgrade_sync

    settings = load_config(args.config)
    source: Path = args.file
    if not source.is_file():
        return _fail(f"{source}: no such backup file")
    db = _sqlite_file(settings.db_url)
    if db is None:
        _, shown = _libpq(settings.db_url)
        print("Restore a PostgreSQL dump with pg_restore (stop `trolyso run` first; "
              "--clean replaces what the database holds):")
        print("  " + shlex.join(["pg_restore", "--clean", "--if-exists", "--no-owner",
                                 f"--dbname={shown}", str(source)]))
        return 0
    if not _is_backup(source):
        return _fail(f"{source} is not a backup of this assistant (no SQLite database with "
                     "migrations)")
    if _holds_data(db) and not args.force:
        return _fail(f"{db} already holds data; stop the server and add --force to replace "
                     "it with the backup")
    db.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(db, timeout=30)
    try:
        src.backup(dst)  # page by page into the live file, under SQLite's own locks
    finally:
        dst.close()
        src.close()
    upgrade_sync(settings.db_url)  # a backup from an older version gets the newer schema
    print(f"database {db} restored from {source}")
    return 0
