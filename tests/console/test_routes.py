"""Route enumeration: every console route is in the route table, and none of them can be used
by someone who is not signed in, signed in with the wrong role, or working for another area,
nor without the page's CSRF token. Refused requests change nothing (row counts)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest

from bot.web import make_console_app
from broadcast import announcements, attachments
from broadcast.types import Actor, Draft
from console.pages.learning import EDITORS
from console.routing import BROADCASTERS, TABLE, Route
from core.models import Handover, RadioBulletin
from tests.console.conftest import AREA, AREA2, Browser, Server

#: Routes anyone may open: the login and password-setup forms and the console's CSS/JS. A new
#: public route must be added here on purpose.
PUBLIC = {"login", "login.post", "setup", "setup.post", "static"}


def _table(server: Server) -> list[Route]:
    app = make_console_app(server.core)
    table = app[TABLE]
    registered = [r for r in app.router.routes() if r.method != "HEAD"]
    missing = [r for r in registered if r not in table]
    assert not missing, f"routes outside the route table: {missing}"
    return list(table.values())


def _path(route: Route, notice_id: int) -> str:
    # A notice and a handover request (in the owner's area) share the id.
    path = re.sub(r"\{h?id[^}]*\}", str(notice_id), route.path)
    path = path.replace("{token}", "x" * 43).replace("{name}", "0" * 32 + ".ogg")
    path = re.sub(r"\{iid[^}]*\}", str(notice_id), path)  # a team invite
    path = re.sub(r"\{sid[^}]*\}", "cap-ho-chieu", path)
    path = re.sub(r"\{fid[^}]*\}", "legal-ket-hon-tuoi", path)
    path = re.sub(r"\{file[^}]*\}", f"{AREA}/2026-12-03/ban-tin.mp3", path)  # a bulletin
    assert "{" not in path, path
    if route.name == "notices.new":
        path += f"?from={notice_id}"
    if route.name == "radio":
        path += f"?area={AREA}"
    return "/console" + path


async def _try(b: Browser, route: Route, path: str, *, csrf: bool = True) -> int:
    if route.method == "GET":
        async with b.http.get(b.base + path, allow_redirects=False) as r:
            if r.status == 303:
                assert r.headers["Location"].startswith("/console/login"), r.headers
            return r.status
    data = [("areas", AREA), ("topics", "chung"), ("role", "member"), ("ttl", "24"),
            ("member", "telegram:1"), ("text", "Họp tổ dân phố"), ("when", "now"),
            ("kind", "correction"), ("ack", "1"), ("area", AREA), ("slots", "08:00")]
    if csrf:
        data.insert(0, ("csrf", b.csrf))
    async with b.http.post(b.base + path, data=data, allow_redirects=False) as r:
        return r.status


@pytest.fixture
async def world(server: Server, browsers: Callable[..., Awaitable[Browser]]
                ) -> tuple[Server, int, dict[str, Browser]]:
    await server.add_user("admin1", "admin")
    await server.add_user("lan", "member", [AREA])
    await server.add_user("hung", "member", [AREA2])
    await server.add_user("bientap", "editor")
    await server.add_user("binh", "radio", [AREA2])
    async with server.core.sessionmaker() as s, s.begin():
        ann = await announcements.create(
            s, server.core.settings, server.core.content.texts, Actor("console:lan"),
            Draft(text="Lịch tiêm chủng\nSáng thứ Bảy.", areas=[AREA], topics=["chung"]),
            attachment=attachments.check(server.core.settings, "lich.png",
                                         b"\x89PNG\r\n\x1a\n" + b"\x00" * 64))
        notice_id = ann.id
        # A citizen of the owner's area waiting for a person, under the same id.
        s.add(Handover(id=notice_id, channel="web", user_id="citizen-1", area=AREA))
        # A radio bulletin of the owner's area, under the same id.
        s.add(RadioBulletin(id=notice_id, area_code=AREA, key="slot:2026-12-03T06:00",
                            state="empty", announcement_ids=[], sent_to=[]))
    people = {"anonymous": await browsers(), "other_area": await browsers("hung"),
              "editor": await browsers("bientap"), "owner": await browsers("lan"),
              "other_radio": await browsers("binh")}
    await people["anonymous"].get("/console/login")
    for b in people.values():
        await b.get("/console/")  # the page's CSRF token
    return server, notice_id, people


async def test_every_route_is_in_the_table_and_the_public_ones_are_known(
        server: Server) -> None:
    table = _table(server)
    assert {r.name for r in table if r.public} == PUBLIC
    assert len(table) >= 20


async def test_nobody_without_the_right_session_role_area_or_token_gets_through(
        world: tuple[Server, int, dict[str, Browser]]) -> None:
    server, notice_id, people = world
    table = _table(server)
    before = await server.counts()
    checked = 0
    for route in table:
        if route.public:
            continue
        path = _path(route, notice_id)
        status = await _try(people["anonymous"], route, path)
        expected = {303} if route.method == "GET" and not route.api else {401}
        assert status in expected, f"anonymous {route.method} {path}: {status}"
        wrong = next((who for who, role in (("editor", "editor"), ("owner", "member"))
                      if role not in route.roles), None)
        if route.roles != frozenset({"admin", "member", "radio", "editor"}):
            assert wrong is not None, f"no wrong role to try on {route.path}"
            status = await _try(people[wrong], route, path)
            assert status == 403, f"{wrong} {route.method} {path}: {status}"
        if route.scope is not None:
            status = await _try(people["other_area"], route, path)
            assert status == 403, f"member of another area {route.method} {path}: {status}"
            if "radio" in route.roles:
                status = await _try(people["other_radio"], route, path)
                assert status == 403, f"radio of another area {route.method} {path}: {status}"
        if route.method == "POST":
            status = await _try(people["owner"], route, path, csrf=False)
            assert status == 403, f"no CSRF token {route.method} {path}: {status}"
        checked += 1
        assert await server.counts() == before, f"{route.method} {path} changed something"
    assert checked >= 15


async def test_the_owner_does_get_through_so_the_refusals_mean_something(
        world: tuple[Server, int, dict[str, Browser]]) -> None:
    server, notice_id, people = world
    owner = people["owner"]
    for route in _table(server):
        if route.method == "GET" and not route.public and route.name != "notices.audio_file" \
                and owner_may(route):
            status = await _try(owner, route, _path(route, notice_id))
            assert status == 200, f"{route.path}: {status}"


def owner_may(route: Route) -> bool:
    return "member" in route.roles or route.roles == BROADCASTERS


async def test_the_editor_does_get_through_the_editors_pages(
        world: tuple[Server, int, dict[str, Browser]]) -> None:
    server, notice_id, people = world
    editor = people["editor"]
    opened = 0
    for route in _table(server):
        if route.method == "GET" and not route.public and route.roles == EDITORS:
            status = await _try(editor, route, _path(route, notice_id))
            assert status == 200, f"{route.path}: {status}"
            opened += 1
    assert opened >= 3


async def test_a_form_posted_from_another_site_is_refused(
        world: tuple[Server, int, dict[str, Browser]]) -> None:
    server, notice_id, people = world
    owner = people["owner"]
    before = await server.counts()
    async with owner.http.post(f"{owner.base}/console/notices/{notice_id}/cancel",
                               data={"csrf": owner.csrf},
                               headers={"Origin": "https://evil.example"},
                               allow_redirects=False) as r:
        assert r.status == 403
    assert await server.counts() == before


async def test_unknown_console_paths_are_404_and_pages_carry_security_headers(
        world: tuple[Server, int, dict[str, Browser]]) -> None:
    _, notice_id, people = world
    owner = people["owner"]
    async with owner.http.get(f"{owner.base}/console/notices/99999") as r:
        assert r.status == 404
    async with owner.http.get(f"{owner.base}/console/notices/{notice_id}") as r:
        assert r.status == 200
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Cache-Control"] == "no-store"


async def test_the_team_and_audit_actions_are_the_admins_alone(
        world: tuple[Server, int, dict[str, Browser]]) -> None:
    """Team members see their team read-only; inviting, revoking, removing and the audit log
    (which names everyone) are refused to them with the right token in hand."""
    server, notice_id, people = world
    admin_only = [r for r in _table(server) if r.name.startswith(("team.", "audit"))]
    assert {r.name for r in admin_only} >= {"team.invite", "team.revoke", "team.remove",
                                            "audit", "audit.export"}
    before = await server.counts()
    for route in admin_only:
        assert route.roles == frozenset({"admin"}), route.name
        for who in ("owner", "other_area", "editor"):
            status = await _try(people[who], route, _path(route, notice_id))
            assert status == 403, f"{who} {route.method} {route.path}: {status}"
    assert await server.counts() == before
