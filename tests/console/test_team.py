"""The team page: chat invite codes made, listed and revoked, members listed with their last
activity and removed, through the same service as the chat and ``trolyso team``; members and
radio operators see their own areas read-only; every action audited with the console user."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from broadcast import audit, teams
from broadcast.store import SqlNoticeStore
from broadcast.types import Actor
from core.db import utcnow
from core.models import AuditEntry, Invite, TeamMember, User
from tests.broadcast.conftest import make_core
from tests.console.conftest import AREA, AREA2, Browser, Server

Browsers = Callable[..., Awaitable[Browser]]
_CODE = re.compile(r'id="invite-code">([A-Z0-9]{4}-[A-Z0-9]{4})<')


async def _invite(b: Browser, **form: str | list[str]) -> tuple[int, str]:
    await b.get("/console/team")
    data: list[tuple[str, str]] = []
    for k, v in {"role": "member", "areas": [AREA], "ttl": "72", **form}.items():
        data += [(k, x) for x in ([v] if isinstance(v, str) else v)]
    return await b.post("/console/team/invites", data)


async def _entries(server: Server, action: str) -> list[AuditEntry]:
    async with server.core.sessionmaker() as s:
        return await audit.entries(s, action=action)


async def test_an_admin_makes_a_code_the_chat_redeems_with_the_chosen_role_areas_and_expiry(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("admin1", "admin")
    b = await browsers("admin1")
    before = utcnow()
    status, html = await _invite(b, role="radio", areas=[AREA, AREA2], ttl="168")
    assert status == 200, html
    m = _CODE.search(html)
    assert m, html
    code = m.group(1)
    assert f"/thamgia {code}" in html
    async with server.core.sessionmaker() as s:
        row = (await s.execute(select(Invite))).scalar_one()
    assert row.role == "radio" and sorted(row.areas) == sorted([AREA, AREA2])
    assert abs(row.expires_at - before - dt.timedelta(hours=168)) < dt.timedelta(minutes=1)
    assert row.created_by == "console:admin1"
    async with server.core.sessionmaker() as s, s.begin():
        member = await teams.redeem_invite(s, "telegram", "555", code)
    assert member is not None and member.role == "radio"
    (entry,) = await _entries(server, "team.invite")
    assert entry.actor == "console:admin1" and sorted(entry.targets["areas"]) == sorted(
        [AREA, AREA2])
    _, html = await b.get("/console/team")
    assert "Đã dùng (telegram:555" in html
    assert code not in html  # shown once only


async def test_a_bad_invite_form_says_what_is_wrong_and_makes_no_code(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("admin1", "admin")
    b = await browsers("admin1")
    for form, words in (({"areas": []}, "ít nhất một khu vực"),
                        ({"areas": ["99999"]}, "ít nhất một khu vực"),
                        ({"role": "editor"}, "Bạn chọn vai trò"),
                        ({"ttl": "abc"}, "Thời hạn"), ({"ttl": "100000"}, "Thời hạn")):
        status, html = await _invite(b, **form)
        assert status == 400 and words in html, (form, status)
    async with server.core.sessionmaker() as s:
        assert (await s.execute(select(Invite))).first() is None
    assert await _entries(server, "team.invite") == []


async def test_a_revoked_code_no_longer_works_and_the_revoke_is_audited(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("admin1", "admin")
    b = await browsers("admin1")
    _, html = await _invite(b)
    code = _CODE.search(html).group(1)  # type: ignore[union-attr]
    async with server.core.sessionmaker() as s:
        invite_id = (await s.execute(select(Invite.id))).scalar_one()
    _, html = await b.get("/console/team")
    assert f'action="/console/team/invites/{invite_id}/revoke"' in html
    status, html = await b.post(f"/console/team/invites/{invite_id}/revoke", {})
    assert status == 200 and "Đã thu hồi mã mời" in html
    async with server.core.sessionmaker() as s, s.begin():
        assert await teams.redeem_invite(s, "telegram", "556", code) is None
    (entry,) = await _entries(server, "team.revoke")
    assert entry.actor == "console:admin1" and entry.targets == {"areas": [AREA]}
    status, html = await b.post(f"/console/team/invites/{invite_id}/revoke", {})
    assert "đã được dùng hoặc đã hết hạn" in html
    assert len(await _entries(server, "team.revoke")) == 1


async def _seat(server: Server, channel: str, user_id: str, role: str, areas: list[str],
                seen: dt.datetime | None = None) -> None:
    async with server.core.sessionmaker() as s, s.begin():
        s.add(TeamMember(channel=channel, user_id=user_id, role=role, areas=areas,
                         invited_by="console:admin1", joined_at=utcnow()))
        if seen is not None:
            s.add(User(channel=channel, user_id=user_id, last_seen=seen))


async def test_members_show_role_areas_channel_and_last_activity_and_can_be_removed(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("admin1", "admin")
    seen = dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC)
    await _seat(server, "telegram", "901", "member", [AREA], seen=seen)
    await _seat(server, "zalo_bot", "z-7", "radio", [AREA2])
    # A notice they sent later than their last chat message counts as activity.
    async with server.core.sessionmaker() as s, s.begin():
        await audit.record(s, Actor.chat("zalo_bot", "z-7"), "announce.create",
                           at=dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC))
    b = await browsers("admin1")
    _, html = await b.get("/console/team")
    row = html.split('data-member="telegram:901"', 1)[1].split("</tr>", 1)[0]
    assert "Telegram · 901" in row and "Thành viên tổ công nghệ số" in row
    assert "08:30 20/11/2026" in row  # local time (Asia/Ho_Chi_Minh)
    row = html.split('data-member="zalo_bot:z-7"', 1)[1].split("</tr>", 1)[0]
    assert "Zalo (bot) · z-7" in row and "Phát thanh viên" in row and "09:00 25/11/2026" in row
    status, html = await b.post("/console/team/members/remove", {"member": "telegram:901"})
    assert status == 200 and "Đã bỏ quyền" in html
    assert 'data-member="telegram:901"' not in html
    async with server.core.sessionmaker() as s:
        assert await teams.find_member(s, server.core.settings, "telegram", "901") is None
    (entry,) = await _entries(server, "team.remove")
    assert entry.actor == "console:admin1" and entry.targets == {"areas": [AREA]}
    status, html = await b.post("/console/team/members/remove", {"member": "nonsense"})
    assert "không còn trong tổ" in html


async def test_a_member_sees_only_their_areas_read_only(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("admin1", "admin")
    await server.add_user("lan", "member", [AREA])
    await _seat(server, "telegram", "901", "member", [AREA])
    await _seat(server, "telegram", "902", "radio", [AREA2])
    admin = await browsers("admin1")
    await _invite(admin, areas=[AREA2])
    lan = await browsers("lan")
    status, html = await lan.get("/console/team")
    assert status == 200
    assert 'data-member="telegram:901"' in html and 'data-member="telegram:902"' not in html
    assert "data-invite=" not in html  # the only code is for the other area
    assert "<form method=\"post\" action=\"/console/team" not in html
    assert "Chỉ quản trị viên mời" in html
    before = await server.counts()
    status, _ = await lan.post("/console/team/members/remove", {"member": "telegram:901"})
    assert status == 403
    status, _ = await lan.post("/console/team/invites", {"role": "member", "areas": AREA,
                                                         "ttl": "24"})
    assert status == 403
    assert await server.counts() == before


async def test_the_services_behind_the_pages_work_on_sqlite_and_postgresql(
        db_url: str, tmp_path: Path) -> None:
    core = await make_core(db_url, tmp_path)
    settings, by = core.settings, Actor("console:admin1")
    try:
        now = utcnow()
        async with core.sessionmaker() as s, s.begin():
            await teams.create_invite(s, settings, by, "member", [AREA], now, ttl_hours=24)
            gone = await teams.create_invite(s, settings, by, "radio", [AREA2], now)
            s.add(TeamMember(channel="telegram", user_id="901", role="member", areas=[AREA],
                             invited_by="console:admin1", joined_at=now))
            s.add(User(channel="telegram", user_id="901", last_seen=now - dt.timedelta(days=2)))
            await audit.record(s, Actor.chat("telegram", "901"), "announce.create",
                               at=now - dt.timedelta(hours=1), targets={"areas": [AREA]})
        async with core.sessionmaker() as s, s.begin():
            mine = await teams.list_invites(s, areas=[AREA2], now=now)
            assert [i.role for i in mine] == ["radio"]
            assert await teams.revoke_invite(s, by, mine[0].id, now)
            assert await teams.redeem_invite(s, "telegram", "902", gone) is None
            assert len(await teams.list_invites(s, now=now)) == 1
            seen = await teams.last_activity(s, [("telegram", "901"), ("zalo_bot", "901")])
            assert seen == {("telegram", "901"): now - dt.timedelta(hours=1)}
        async with core.sessionmaker() as s:
            by_area = await audit.search(s, audit.AuditFilter(area=AREA2))
            assert [e.action for e in by_area] == ["team.revoke", "team.invite"]
            by_person = await audit.search(s, audit.AuditFilter(person="telegram:9"))
            assert [e.action for e in by_person] == ["announce.create"]
            odd = await audit.search(s, audit.AuditFilter(person="100%_"))
            assert odd == []  # LIKE's wildcards are taken literally
            assert "team.revoke" in await audit.actions(s)
    finally:
        await core.close()


async def test_an_admin_code_from_the_console_makes_an_admin_of_those_areas_only(
        db_server: Server) -> None:
    """The ward's team leader gets an admin code: in chat they invite people to their ward,
    and to no other."""
    server = db_server
    await server.add_user("admin1", "admin")
    b = await server.client("admin1")
    _, html = await b.get("/console/team")
    assert 'name="role" value="admin"' in html and "Quản trị viên khu vực" in html
    status, html = await _invite(b, role="admin", areas=[AREA])
    assert status == 200 and "Quản trị viên khu vực" in html
    code = _CODE.search(html).group(1)  # type: ignore[union-attr]
    async with server.core.sessionmaker() as s, s.begin():
        leader = await teams.redeem_invite(s, "telegram", "777", code)
    assert leader is not None and leader.role == "admin" and leader.areas == (AREA,)
    async with server.core.sessionmaker() as s, s.begin():
        store = SqlNoticeStore(s, server.core.settings, server.core.content.texts)
        found = await store.member("telegram", "777")
        assert found is not None and not found.everywhere
        assert await store.invite(found, "radio", [AREA])
        with pytest.raises(PermissionError):
            await store.invite(found, "member", [AREA2])
    _, html = await b.get("/console/team")
    row = html.split('data-member="telegram:777"', 1)[1].split("</tr>", 1)[0]
    assert "Quản trị viên khu vực" in row
    await b.close()


async def test_a_member_or_radio_operator_cannot_make_any_code(db_server: Server) -> None:
    server = db_server
    await server.add_user("lan", "member", [AREA])
    await server.add_user("tam", "radio", [AREA])
    for name in ("lan", "tam"):
        b = await server.client(name)
        for role in ("admin", "member"):
            status, _ = await _invite(b, role=role, areas=[AREA])
            assert status == 403, (name, role)
        await b.close()
    async with server.core.sessionmaker() as s:
        assert (await s.execute(select(Invite))).first() is None
    assert await _entries(server, "team.invite") == []
