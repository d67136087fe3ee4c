"""``trolyso db backup`` and ``trolyso db restore``: back up, change data, restore, check."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def trolyso(*args: str, db_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_"))}
    env["DATABASE_URL"] = db_url
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)


def _names(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [r[0] for r in con.execute("SELECT user_id FROM users ORDER BY user_id")]
    finally:
        con.close()


def _add_user(db: Path, user_id: str) -> None:
    con = sqlite3.connect(db)
    try:
        con.execute("INSERT INTO users (channel, user_id, created_at, last_seen) "
                    "VALUES ('web', ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
                    (user_id,))
        con.commit()
    finally:
        con.close()


def test_sqlite_backup_then_restore_brings_the_data_back(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    url = f"sqlite+aiosqlite:///{db}"
    assert trolyso("db", "upgrade", db_url=url).returncode == 0
    _add_user(db, "before")
    backup = tmp_path / "backups" / "b.db"

    out = trolyso("db", "backup", str(backup), db_url=url)
    assert out.returncode == 0, out.stderr
    assert "backed up" in out.stdout and backup.is_file()
    again = trolyso("db", "backup", str(backup), db_url=url)  # never overwritten silently
    assert again.returncode == 1 and "--force" in again.stderr

    _add_user(db, "after")  # the data changes after the backup
    assert _names(db) == ["after", "before"]

    refused = trolyso("db", "restore", str(backup), db_url=url)
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert _names(db) == ["after", "before"]  # nothing lost by the refusal

    out = trolyso("db", "restore", str(backup), "--force", db_url=url)
    assert out.returncode == 0, out.stderr
    assert _names(db) == ["before"]


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("hello")
    out = trolyso("db", "restore", str(bogus), db_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert out.returncode == 1 and "not a backup" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "x.db").exists()


def test_postgresql_backup_uses_pg_dump_and_restore_prints_pg_restore(
        pg_url: str, tmp_path: Path) -> None:
    dump = tmp_path / "pg.dump"
    out = trolyso("db", "backup", str(dump), db_url=pg_url)
    if shutil.which("pg_dump") is None:
        assert out.returncode == 1 and "pg_dump --format=custom" in out.stdout
    else:
        assert out.returncode == 0, out.stderr
        assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    restore = trolyso("db", "restore", str(dump), db_url=pg_url)
    if dump.exists():
        assert restore.returncode == 0 and "pg_restore --clean" in restore.stdout
        assert "asyncpg" not in restore.stdout


@pytest.mark.parametrize("bad", ["sqlite+aiosqlite:///{tmp}/missing/none.db"])
def test_backup_of_a_database_not_created_yet_is_one_line(tmp_path: Path, bad: str) -> None:
    out = trolyso("db", "backup", str(tmp_path / "b.db"),
                  db_url=bad.format(tmp=tmp_path))
    assert out.returncode == 1 and "db upgrade" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
