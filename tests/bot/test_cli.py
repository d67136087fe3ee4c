"""The command line as an operator uses it: config errors, db upgrade, content, terminal chat."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import App
from bot.channels.terminal import run_terminal
from bot.cli import main
from core.config import ENV_KEYS, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def trolyso(*args: str, env: dict[str, str] | None = None,
            cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


@pytest.mark.parametrize("bad,named", [
    ("retention_days: 0", "retention_days"),
    ("web:\n  prot: 80", "web.prot: unknown key"),
    ("areas:\n  - {code: '123', name: x}", "areas.0.code"),
    ("radio:\n  slots: ['25:00']", "radio.slots"),
    ("nlu:\n  backend: watson", "nlu.backend"),
])
def test_a_wrong_key_or_value_is_named(tmp_path: Path, bad: str, named: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text((ROOT / "config.yaml").read_text() + "\n" + bad + "\n")
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(cfg, env={})


def test_the_cli_stops_with_the_config_problem_and_a_non_zero_status(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("areas: []\ntopics: []\n")
    out = trolyso("--config", str(cfg), "content", "check")
    assert out.returncode == 2 and "areas" in out.stderr and "configuration error" in out.stderr


def test_environment_overrides_the_file() -> None:
    s = load_config(ROOT / "config.yaml", env={"TROLYSO_PORT": "9999",
                                               "TELEGRAM_TOKEN": "1:x"})
    assert s.web.port == 9999 and s.telegram.token == "1:x"


def test_db_upgrade_and_content_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Through the CLI's main() in this process (a process start is tested above; each cost
    ~1.5 CPU s), with only DATABASE_URL from the environment."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")
    monkeypatch.chdir(ROOT)
    assert main(["db", "upgrade"]) == 0, capsys.readouterr().err
    assert (tmp_path / "u.db").exists()
    capsys.readouterr()
    assert main(["content", "export", "--json"]) == 0
    services = json.loads(capsys.readouterr().out)
    assert len(services) == 53
    keys = {"id", "name", "group", "agency", "summary", "where", "steps", "documents",
            "legal_basis", "mistakes", "fee", "duration", "eligibility", "sources", "reviewed",
            "unconfirmed"}
    assert all(set(s) == keys for s in services)
    passport = next(s for s in services if s["id"] == "cap-ho-chieu")
    assert passport["where"][0]["channel"] == "bocongan" and passport["reviewed"]


async def test_terminal_chat_numbers_the_buttons_and_accepts_numbers(core: App) -> None:
    stdin = io.StringIO("1\nlàm hộ chiếu\n/thoat\n")
    stdout = io.StringIO()
    await run_terminal(core, stdin=stdin, stdout=stdout)
    shown = stdout.getvalue()
    assert "1. 🏛 Dịch vụ công trực tuyến" in shown and "Gõ số để chọn" in shown
    assert "Các thủ tục được chia theo nhóm" in shown  # "1" chose the first door
    assert "Cấp, cấp lại hộ chiếu" in shown
