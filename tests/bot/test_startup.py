"""Every start-up fault is one line on stderr and an exit status (2 configuration, 1 other),
never a traceback: the real ``trolyso`` command, mostly ``trolyso run --check``."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.doubles.telegram_api import BotApiDouble

ROOT = Path(__file__).resolve().parents[2]
_ENV_VARS = ("DATABASE_URL", "TELEGRAM_TOKEN", "TELEGRAM_BASE_URL", "TELEGRAM_WEBHOOK_URL",
             "TELEGRAM_WEBHOOK_SECRET", "ZALO_BOT_TOKEN", "ZALO_OA_APP_ID", "ZALO_OA_APP_SECRET",
             "ZALO_OA_SECRET_KEY", "TROLYSO_PORT", "TROLYSO_HOST", "TROLYSO_CONFIG",
             "TROLYSO_LOG_LEVEL")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(folder: Path, extra: str = "", content: str | None = None) -> Path:
    """The shipped config.yaml copied into ``folder`` (content.dir absolute unless given)."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace('dir: "content"', f'dir: "{content or ROOT / "content"}"')
    cfg = folder / "config.yaml"
    cfg.write_text(text + "\n" + extra + "\n", encoding="utf-8")
    return cfg


async def _trolyso(cfg: Path, *args: str, **env: str) -> tuple[int, str]:
    base = {k: v for k, v in os.environ.items() if k not in _ENV_VARS}
    base.update(DATABASE_URL=f"sqlite+aiosqlite:///{cfg.parent / 'ok.db'}",
                TROLYSO_PORT=str(_free_port()))
    base.update(env)
    base = {k: v for k, v in base.items() if v != ""}  # "" = unset
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(cfg), *(args or ("run", "--check")),
        env=base, cwd=cfg.parent, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def _one_line(err: str, *words: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("trolyso: "), err
    for word in words:
        assert word in lines[0], err


@pytest.mark.parametrize("extra,env,code,words", [
    ("", {"DATABASE_URL": "mongodb://x/y"}, 2, ["DATABASE_URL", "unknown database kind"]),
    ("", {"DATABASE_URL": "not a url"}, 2, ["DATABASE_URL", "not a database URL"]),
    ("", {"DATABASE_URL": "mysql+aiomysql://u@127.0.0.1/x"}, 2, ["driver 'aiomysql'"]),
    ("", {"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/x"}, 1,
     ["127.0.0.1:1 refused the connection"]),
    ("", {"TROLYSO_PORT": "80a"}, 2, ["web.port", "TROLYSO_PORT"]),
    ("web:\n  port: 70000", {"TROLYSO_PORT": ""}, 2, ["web.port", "65535"]),
    ("", {"ZALO_OA_APP_ID": "123"}, 2, ["half-configured Zalo OA", "ZALO_OA_SECRET_KEY"]),
    ("web: [", {}, 2, ["not valid YAML", "line"]),
    ("colour: red", {}, 2, ["colour: unknown key"]),
    ("retention_days: many", {}, 2, ["retention_days", "integer"]),
    ("timezone: Mars/Base", {}, 2, ["timezone", "Mars/Base"]),
    ("log_level: LOUD", {}, 2, ["log_level", "LOUD"]),
    ("", {"TROLYSO_LOG_LEVEL": "loud"}, 2, ["TROLYSO_LOG_LEVEL"]),
    ("retention_days: 0\nweb:\n  prot: 1", {}, 2, ["retention_days", "web.prot"]),
], ids=["db-scheme", "db-not-url", "db-driver", "db-refused", "env-port", "file-port",
        "half-zalo-oa", "yaml", "unknown-key", "wrong-type", "timezone", "log-level",
        "env-log-level", "two-problems-one-line"])
async def test_a_configuration_fault_is_one_line(tmp_path: Path, extra: str,
                                                 env: dict[str, str], code: int,
                                                 words: list[str]) -> None:
    rc, err = await _trolyso(_config(tmp_path, extra), **env)
    _one_line(err, *words)
    assert rc == code, err


async def test_a_wrong_database_login_is_one_line(tmp_path: Path) -> None:
    url = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    host = url.split("@", 1)[1]
    rc, err = await _trolyso(_config(tmp_path),
                             DATABASE_URL=f"postgresql+asyncpg://nobody:wrong@{host}")
    if "refused the connection" in err:
        pytest.skip("no PostgreSQL server here")
    _one_line(err, "refused the login", "DATABASE_URL")
    assert rc == 2


async def test_a_missing_config_file_is_one_line(tmp_path: Path) -> None:
    rc, err = await _trolyso(tmp_path / "nowhere.yaml")
    _one_line(err, "nowhere.yaml", "not found")
    assert rc == 2


async def test_a_copied_config_with_a_relative_content_dir_names_the_folder(
        tmp_path: Path) -> None:
    cfg = _config(tmp_path, content="content")  # relative: tmp_path/content does not exist
    rc, err = await _trolyso(cfg, "content", "check")
    _one_line(err, "content.dir", str(tmp_path / "content"))
    assert rc == 2
    (tmp_path / "content").symlink_to(ROOT / "content")  # the folder beside the copy: fine
    rc, err = await _trolyso(cfg)
    assert rc == 0, err


async def test_a_read_only_database_is_one_line(tmp_path: Path) -> None:
    # Tests may run as root, whom file modes do not stop: SQLite's read-only mode is.
    db = tmp_path / "ro.db"
    db.touch()
    rc, err = await _trolyso(_config(tmp_path),
                             DATABASE_URL=f"sqlite+aiosqlite:///file:{db}?mode=ro&uri=true")
    _one_line(err, "read-only")
    assert rc == 1


async def test_a_port_in_use_is_found_before_the_migrations(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db = tmp_path / "new.db"
        rc, err = await _trolyso(_config(tmp_path), "run", TROLYSO_PORT=str(port),
                                 DATABASE_URL=f"sqlite+aiosqlite:///{db}")
    _one_line(err, f"port {port}", "already in use", "TROLYSO_PORT")
    assert rc == 1
    assert not db.exists()  # nothing was migrated


async def test_a_token_telegram_refuses_is_one_line(tmp_path: Path) -> None:
    tg = await BotApiDouble().start()
    try:
        rc, err = await _trolyso(_config(tmp_path), TELEGRAM_TOKEN="1:refused",
                                 TELEGRAM_BASE_URL=tg.base_url)
        _one_line(err, "TELEGRAM_TOKEN was refused by Telegram")
        assert rc == 2
        rc, err = await _trolyso(_config(tmp_path), TELEGRAM_TOKEN=tg.token,
                                 TELEGRAM_BASE_URL=tg.base_url)
        assert rc == 0, err
    finally:
        await tg.stop()


async def test_other_commands_name_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    rc, err = await _trolyso(_config(tmp_path), "db", "upgrade",
                             DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/x")
    _one_line(err, "127.0.0.1:1 refused the connection")
    assert rc == 1
