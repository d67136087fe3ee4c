"""``trolyso announce ...`` and ``trolyso team invite`` as an operator types them."""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app import build_app
from bot.cli import main
from broadcast import audit, subscriptions
from flows.types import Incoming
from tests.broadcast.conftest import broadcast_settings
from tests.conftest import ROOT
from tests.fakes import KeywordNlu

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run the command line against a fresh database; (exit status, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)

    def run(*args: str) -> tuple[int, str, str]:
        status = main(["--config", str(ROOT / "config.yaml"), *args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def _subscribe(url: str, tmp: Path, users: list[str]) -> None:
    async def go() -> None:
        core = await build_app(broadcast_settings(url, tmp), nlu=KeywordNlu())
        try:
            async with core.sessionmaker() as s, s.begin():
                for u in users:
                    await subscriptions.save_subscription(s, "telegram", u, ["12454"],
                                                          ["chung"], "test")
        finally:
            await core.close()

    asyncio.run(go())


def test_create_now_prints_the_id_last_and_status_json_has_the_contract_keys(
        cli: Cli, sqlite_url: str, tmp_path: Path) -> None:
    _subscribe(sqlite_url, tmp_path, ["a", "b"])
    status, out, _ = cli("announce", "create", "--text", "Họp tổ dân phố tối nay",
                         "--areas", "12454", "--topics", "chung")
    assert status == 0
    nid = out.split()[-1]
    assert nid.isdigit() and "2 recipients" in out
    status, out, _ = cli("announce", "status", nid, "--json")
    assert json.loads(out) == {"id": int(nid), "state": "sending", "recipients": 2, "sent": 0,
                               "failed": 0, "blocked": 0, "pending": 2}


def test_a_notice_to_nobody_is_created_with_a_warning(cli: Cli, sqlite_url: str,
                                                      tmp_path: Path) -> None:
    status, out, err = cli("announce", "create", "--text", "Họp tổ dân phố",
                           "--areas", "12454", "--topics", "chung")
    assert status == 0 and "0 recipients" in out
    assert "warning" in err and "chưa tới được ai" in err
    status, out, err = cli("announce", "status", out.split()[-1])
    assert status == 0 and "chưa tới được ai" in err
    _subscribe(sqlite_url, tmp_path, ["a"])
    status, out, err = cli("announce", "create", "--text", "Họp", "--areas", "12454",
                           "--topics", "chung")
    assert status == 0 and "warning" not in err


def test_cli_actions_are_audited_as_the_operating_system_user(
        cli: Cli, sqlite_url: str) -> None:
    cli("announce", "create", "--text", "Cắt nước", "--at", "23:59")

    async def actors() -> list[tuple[str, str]]:
        from core.db import make_engine, make_sessionmaker

        engine = make_engine(sqlite_url)
        try:
            async with make_sessionmaker(engine)() as s:
                return [(e.actor, e.action) for e in await audit.entries(s)]
        finally:
            await engine.dispose()

    assert asyncio.run(actors()) == [(f"cli:{getpass.getuser()}", "announce.create")]


def test_a_daily_notice_is_listed_with_its_next_time(cli: Cli) -> None:
    status, out, _ = cli("announce", "create", "--text", "Nhắc đóng BHYT", "--at", "07:00",
                         "--repeat", "daily", "--priority", "priority", "--radio")
    assert status == 0 and "then daily" in out
    _, out, _ = cli("announce", "list", "--json")
    [item] = json.loads(out)
    assert (item["state"], item["repeat"], item["priority"], item["radio"]) == \
        ("scheduled", "daily", "priority", True)
    assert item["next_at"][11:16] == "00:00"  # 07:00 in Asia/Ho_Chi_Minh is 00:00 UTC


def test_bad_input_names_what_is_wrong(cli: Cli) -> None:
    status, _, err = cli("announce", "create", "--text", "x", "--areas", "99999")
    assert status == 1 and "unknown area '99999'" in err
    status, _, err = cli("announce", "create", "--text", "x", "--repeat", "daily")
    assert status == 1 and "--repeat needs --at" in err
    status, _, err = cli("announce", "create", "--text", "x", "--at", "2020-01-01T08:00")
    assert status == 1 and "in the past" in err
    status, _, err = cli("announce", "create", "--text", "x", "--at", "tomorrow")
    assert status == 1 and "--at" in err


def test_cancel_stops_a_notice_once(cli: Cli) -> None:
    _, out, _ = cli("announce", "create", "--text", "Phun thuốc diệt muỗi", "--at", "23:58")
    nid = out.split()[-1]
    assert cli("announce", "cancel", nid)[0] == 0
    status, _, err = cli("announce", "cancel", nid)
    assert status == 1 and "already cancelled" in err
    assert json.loads(cli("announce", "status", nid, "--json")[1])["state"] == "cancelled"
    assert cli("announce", "status", "999")[0] == 1


def test_an_invite_code_from_the_cli_lets_a_member_join_in_chat(
        cli: Cli, sqlite_url: str, tmp_path: Path) -> None:
    status, out, _ = cli("team", "invite", "--role", "member", "--areas", "12454,12452")
    assert status == 0
    code = out.split()[-1]

    async def join() -> str:
        core = await build_app(broadcast_settings(sqlite_url, tmp_path), nlu=KeywordNlu())
        try:
            [reply] = await core.handle(Incoming("telegram", "77", text=f"/thamgia {code}")) \
                or []
            return reply.text
        finally:
            await core.close()

    text = asyncio.run(join())
    assert "Bạn đã vào tổ" in text and "Phường Trần Hưng Đạo" in text


def test_an_invite_can_be_valid_for_a_chosen_time_within_a_month(cli: Cli) -> None:
    status, out, _ = cli("team", "invite", "--role", "radio", "--areas", "12454",
                         "--hours", "168")
    assert status == 0 and "valid 168 h" in out
    status, _, err = cli("team", "invite", "--role", "radio", "--areas", "12454",
                         "--hours", "0")
    assert status != 0 and "1 to 720 hours" in err


def test_list_prints_a_table(cli: Cli) -> None:
    cli("announce", "create", "--text", "Tiêm phòng dại cho chó mèo", "--at", "23:57")
    status, out, _ = cli("announce", "list")
    assert status == 0
    header, row = out.strip().splitlines()
    assert header.split()[:3] == ["ID", "STATE", "PRIORITY"]
    assert "scheduled" in row and "Tiêm phòng dại" in row



def test_a_member_who_left_is_listed_then_removed_and_loses_the_right_to_broadcast(
        cli: Cli, sqlite_url: str, tmp_path: Path) -> None:
    code = cli("team", "invite", "--role", "member", "--areas", "12454")[1].split()[-1]

    async def say(text: str) -> str:
        core = await build_app(broadcast_settings(sqlite_url, tmp_path), nlu=KeywordNlu())
        try:
            replies = await core.handle(Incoming("telegram", "77", text=text)) or []
            return "\n".join(r.text for r in replies)
        finally:
            await core.close()

    asyncio.run(say(f"/thamgia {code}"))
    composing = asyncio.run(say("/thongbao"))
    status, out, _ = cli("team", "list", "--json")
    [row] = json.loads(out)
    assert status == 0 and row["member"] == "telegram:77" and row["areas"] == ["12454"]
    assert "telegram:77" in cli("team", "list")[1]

    assert cli("team", "remove", "telegram:77")[0] == 0
    assert json.loads(cli("team", "list", "--json")[1]) == []
    assert asyncio.run(say("/huy")) != ""  # leave the composing conversation
    refused = asyncio.run(say("/thongbao"))
    assert "thành viên tổ công nghệ số" in composing
    assert "dành cho Tổ công nghệ số" in refused and "/thamgia" in refused

    status, _, err = cli("team", "remove", "telegram:77")
    assert status == 1 and "not a team member" in err
    assert cli("team", "remove", "77")[0] == 1

    async def actions() -> list[str]:
        from core.db import make_engine, make_sessionmaker

        engine = make_engine(sqlite_url)
        try:
            async with make_sessionmaker(engine)() as s:
                return [e.action for e in await audit.entries(s)]
        finally:
            await engine.dispose()

    assert "team.remove" in asyncio.run(actions())
