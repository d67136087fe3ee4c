"""Accounts and sessions: the CLI, setup links, passwords, throttling, cookies, timeouts,
logout everywhere, and linking a chat account (same person, same rights)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.cli import main
from broadcast import teams
from broadcast.types import Actor
from console import accounts
from core.config import ENV_KEYS
from core.models import AuditEntry, ConsoleSession, ConsoleUser, LoginThrottle, TeamMember
from tests.broadcast.conftest import say
from tests.conftest import ROOT
from tests.console.conftest import AREA, AREA2, PASSWORD, Browser, Server

Browsers = Callable[..., Awaitable[Browser]]


async def audit_actions(server: Server) -> list[tuple[str, str]]:
    async with server.core.sessionmaker() as s:
        return [(e.actor, e.action) for e in (await s.execute(
            select(AuditEntry).order_by(AuditEntry.id))).scalars()]


Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> Cli:
    """``trolyso --config CFG ARGS`` with DATABASE_URL=db, run through the CLI's ``main`` in
    this process (an interpreter started for each call cost ~1.5 CPU s): its status, stdout
    and stderr, as the process gives them. No other setting comes from the environment."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text((ROOT / "config.yaml").read_text(encoding="utf-8")
                   .replace('dir: "content"', f'dir: "{ROOT / "content"}"'), encoding="utf-8")
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TROLYSO_LOG_LEVEL", "WARNING")

    def run(db: str, *args: str) -> subprocess.CompletedProcess[str]:
        monkeypatch.setenv("DATABASE_URL", db)
        capsys.readouterr()
        code = main(["--config", str(cfg), *args])
        out = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out.out, out.err)

    return run


def test_the_cli_adds_lists_resets_and_removes_accounts(tmp_path: Path, cli: Cli) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    out = cli(db, "console", "user", "add", "Chi.Lan", "--role", "member",
              "--areas", AREA)
    assert out.returncode == 0, out.stderr
    link = out.stdout.split()[-1]
    assert link.startswith("http://127.0.0.1:8080/console/setup/") and len(link) > 70
    bad = cli(db, "console", "user", "add", "minh", "--role", "member")
    assert bad.returncode == 1 and "areas" in bad.stderr
    bad = cli(db, "console", "user", "add", "chi.lan", "--role", "admin")
    assert bad.returncode == 1 and "exists" in bad.stderr
    listed = json.loads(cli(db, "console", "user", "list", "--json").stdout)
    assert [(a["name"], a["role"], a["areas"], a["password_set"]) for a in listed] == \
        [("chi.lan", "member", [AREA], False)]
    reset = cli(db, "console", "user", "reset", "chi.lan")
    assert reset.returncode == 0 and reset.stdout.split()[-1] != link
    gone = cli(db, "console", "user", "remove", "chi.lan")
    assert gone.returncode == 0
    assert cli(db, "console", "user", "remove", "chi.lan").returncode == 1
    assert json.loads(cli(db, "console", "user", "list", "--json").stdout) == []


async def test_setup_link_sets_a_password_once_and_is_audited(server: Server,
                                                              browsers: Browsers) -> None:
    link = await server.add_user("lan", "member", [AREA], password=None)
    b = await browsers()
    path = link.split("8080", 1)[1]
    status, page = await b.get(path)
    assert status == 200 and "Đặt mật khẩu" in page and "lan" in page
    status, page = await b.post(path, {"password": "ngắn", "password2": "ngắn"})
    assert status == 400 and "ít nhất 10 ký tự" in page
    status, page = await b.post(path, {"password": PASSWORD, "password2": PASSWORD + "x"})
    assert status == 400 and "không giống nhau" in page
    status, page = await b.post(path, {"password": PASSWORD, "password2": PASSWORD})
    assert status == 200 and "Đã đặt mật khẩu" in page
    status, page = await b.get(path)
    assert status == 404 and "không dùng được" in page  # used once
    async with server.core.sessionmaker() as s:
        user = (await s.execute(select(ConsoleUser))).scalar_one()
        assert user.password_hash and user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash and user.setup_hash is None
    status, _ = await b.login("lan", PASSWORD)
    assert status == 200
    assert ("console:lan", "console.password_set") in await audit_actions(server)
    assert ("console:lan", "console.login") in await audit_actions(server)


def test_passwords_are_hashed_with_argon2id_at_rfc_9106_cost(
        production_password_hasher: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The assistant's own cost (the suite hashes cheaply, see tests/conftest.py): argon2id,
    3 passes over 64 MiB, 4 lanes; a check with no account does the same work."""
    monkeypatch.setattr(accounts, "_HASHER", production_password_hasher)
    accounts._dummy_hash.cache_clear()
    stored = accounts.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts._dummy_hash().startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts.verify_password(stored, PASSWORD)
    assert not accounts.verify_password(stored, PASSWORD + "x")
    assert not accounts.verify_password(None, PASSWORD)
    accounts._dummy_hash.cache_clear()


async def test_an_expired_setup_link_does_nothing(server: Server, browsers: Browsers) -> None:
    link = await server.add_user("lan", "member", [AREA], password=None)
    async with server.core.sessionmaker() as s, s.begin():
        await s.execute(update(ConsoleUser).values(
            setup_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    b = await browsers()
    path = link.split("8080", 1)[1]
    await b.get("/console/login")
    status, _ = await b.post(path, {"password": PASSWORD, "password2": PASSWORD})
    assert status == 404


async def test_session_cookie_is_httponly_strict_and_the_token_is_stored_hashed(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("lan", "member", [AREA])
    b = await browsers()
    await b.get("/console/login")
    async with b.http.post(b.base + "/console/login", allow_redirects=False, data={
            "csrf": b.csrf, "name": "lan", "password": PASSWORD}) as r:
        assert r.status == 303
        cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # web.public_url is not https here
    token = cookie.split("=", 1)[1].split(";", 1)[0]
    async with server.core.sessionmaker() as s:
        stored = (await s.execute(select(ConsoleSession.token_hash))).scalars().all()
    assert len(stored) == 1 and token not in stored


async def test_login_is_locked_after_five_failures_per_account_and_per_address(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("lan", "member", [AREA])
    await server.add_user("hung", "member", [AREA2])
    b = await browsers()
    for _ in range(5):
        status, page = await b.login("lan", "sai mật khẩu rồi")
        assert status == 401
    assert "tạm bị khóa 15 phút" in page
    status, page = await b.login("lan", PASSWORD)  # even the right password
    assert status == 401 and "tạm bị khóa" in page
    # The address is locked too: another account from here is refused as well.
    status, _ = await b.login("hung", PASSWORD)
    assert status == 401
    actions = [a for _, a in await audit_actions(server)]
    assert actions.count("console.login_failed") == 5 and "console.login" not in actions
    # Fifteen minutes later (moved back in the database) the right password works.
    async with server.core.sessionmaker() as s, s.begin():
        await s.execute(update(LoginThrottle).values(
            locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    status, _ = await b.login("lan", PASSWORD)
    assert status == 200


async def test_failures_against_one_name_from_many_addresses_lock_that_name(
        server: Server) -> None:
    from console import sessions

    await server.add_user("lan", "member", [AREA])
    settings = server.core.settings
    async with server.core.sessionmaker() as s, s.begin():
        for i in range(5):
            got = await sessions.login(s, settings, "lan", "sai", address=f"10.0.0.{i}")
            assert isinstance(got, sessions.LoginRefused)
        got = await sessions.login(s, settings, "lan", PASSWORD, address="10.0.0.99")
        assert isinstance(got, sessions.LoginRefused) and got.reason == "locked"


async def test_idle_sessions_end_and_logout_everywhere_ends_every_session(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("lan", "member", [AREA])
    phone, office = await browsers("lan"), await browsers("lan")
    assert (await phone.get("/console/notices"))[0] == 200
    status, _ = await office.post("/console/logout-everywhere", {})
    assert status == 200
    async with phone.http.get(phone.base + "/console/notices", allow_redirects=False) as r:
        assert r.status == 303 and r.headers["Location"].startswith("/console/login")
    phone = await browsers("lan")
    async with server.core.sessionmaker() as s, s.begin():
        await s.execute(update(ConsoleSession).values(
            last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)))
    async with phone.http.get(phone.base + "/console/", allow_redirects=False) as r:
        assert r.status == 303
    assert ("console:lan", "console.logout_everywhere") in await audit_actions(server)


async def test_removing_an_account_ends_its_sessions(server: Server, browsers: Browsers) -> None:
    await server.add_user("lan", "member", [AREA])
    b = await browsers("lan")
    async with server.core.sessionmaker() as s, s.begin():
        assert await accounts.remove_user(s, Actor.cli("test"), "lan")
    async with b.http.get(b.base + "/console/", allow_redirects=False) as r:
        assert r.status == 303
    assert ("cli:test", "console.user_remove") in await audit_actions(server)


async def test_a_chat_account_linked_with_a_code_has_the_console_rights(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("lan", "member", [AREA2])
    core = server.core
    async with core.sessionmaker() as s, s.begin():  # the chat account had its own seat
        code = await teams.create_invite(s, core.settings, Actor.cli("t"), "member", [AREA])
    await say(core, f"/thamgia {code}", user="555")
    b = await browsers("lan")
    status, page = await b.post("/console/account/link-code", {})
    assert status == 200
    link_code = page.split('id="link-code">', 1)[1].split("<", 1)[0]
    [reply] = await say(core, f"/lienket {link_code}", user="555")
    assert "Đã liên kết" in reply.text and "lan" in reply.text
    async with core.sessionmaker() as s:
        member = await teams.find_member(s, core.settings, "telegram", "555")
        seats = (await s.execute(select(TeamMember))).scalars().all()
    assert member is not None and member.areas == (AREA2,) and member.role == "member"
    assert seats == []  # one membership record: the console account
    [again] = await say(core, f"/lienket {link_code}", user="556")
    assert "không đúng" in again.text  # one time only
    [menu] = await say(core, "/thongbao", user="555")
    assert "Phường Trần Hưng Đạo" in menu.text
    status, page = await b.get("/console/account")
    assert "telegram:555" in page
    async with core.sessionmaker() as s, s.begin():
        await accounts.remove_user(s, Actor.cli("t"), "lan")
    [after] = await say(core, "/thongbao", user="555")
    assert "dành cho Tổ công nghệ số" in after.text  # the rights went with the account


@pytest.mark.parametrize("role", ["editor", "admin"])
async def test_roles_without_areas_refuse_areas(server: Server, role: str) -> None:
    async with server.core.sessionmaker() as s, s.begin():
        with pytest.raises(accounts.AccountError):
            await accounts.add_user(s, server.core.settings, Actor.cli("t"), "x1", role, [AREA])


async def test_behind_https_the_cookie_is_secure_and_host_prefixed(server: Server) -> None:
    from aiohttp import ClientSession, CookieJar, web

    from console.web import make_console

    core = server.core
    settings = core.settings.model_copy(update={"web": core.settings.web.model_copy(
        update={"public_url": "https://trolyso.example.vn"})})
    await server.add_user("lan", "member", [AREA])
    app = web.Application()
    app.add_subapp("/console", make_console(settings, core.engine, core.sessionmaker,
                                            core.content.texts))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:
            async with http.get(f"http://127.0.0.1:{port}/console/login") as r:
                csrf = (await r.text()).split('name="csrf-token" content="')[1].split('"')[0]
                pre = r.cookies["trolyso_console_pre"]
            async with http.post(f"http://127.0.0.1:{port}/console/login",
                                 allow_redirects=False,
                                 data={"csrf": csrf, "name": "lan", "password": PASSWORD},
                                 cookies={"trolyso_console_pre": pre.value}) as r:
                assert r.status == 303
                cookie = r.headers["Set-Cookie"]
    finally:
        await runner.cleanup()
    assert cookie.startswith("__Host-trolyso_console=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
