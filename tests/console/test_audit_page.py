"""The audit log page: filters by person, action, area and local dates, pages of 50, and a CSV
export Excel opens in Vietnamese without running formulas, itself written in the log."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import insert

from broadcast import audit
from broadcast.types import Actor
from console.pages.audit import PAGE, safe_cell
from core.models import AuditEntry
from tests.console.conftest import AREA, AREA2, Browser, Server, serve
from tests.console.test_handover import ask_person, handover_core, operator, the_request

Browsers = Callable[..., Awaitable[Browser]]
DAY1 = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)  # 10:00 local
LATE = dt.datetime(2026, 11, 20, 17, 30, tzinfo=dt.UTC)  # 00:30 on 21/11 local


async def _log(server: Server) -> None:
    async with server.core.sessionmaker() as s, s.begin():
        await audit.record(s, Actor("console:lan"), "announce.create", at=DAY1,
                           details={"id": 7}, targets={"areas": [AREA]})
        await audit.record(s, Actor("console:hung"), "announce.create", at=DAY1,
                           details={"id": 8}, targets={"areas": [AREA2]})
        await audit.record(s, Actor("telegram:42"), "team.join", at=LATE,
                           details={"role": "member"}, targets={"areas": [AREA, AREA2]})
        # A label no real actor has, to prove a cell Excel would run is defused.
        await audit.record(s, Actor('=HYPERLINK("http://x")'), "handover.claim", at=LATE,
                           details={"handover": 3}, targets={"areas": [AREA]})


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [r for r in body.split("<tr>")[1:]]


async def test_each_filter_narrows_the_log(server: Server, browsers: Browsers) -> None:
    await server.add_user("admin1", "admin")
    await _log(server)
    b = await browsers("admin1")
    cases = {
        "person=lan": {"announce.create:console:lan"},
        "person=HYPERLINK": {"handover.claim"},
        "action=team.join": {"team.join"},
        f"area={AREA2}": {"console:hung", "team.join"},
        "from=2026-11-21&to=2026-11-21": {"team.join", "handover.claim"},  # local dates
        "to=2026-11-20": {"console:hung", "announce.create:console:lan"},
        f"person=lan&area={AREA}&action=announce.create": {"announce.create:console:lan"},
        f"person=lan&area={AREA2}": set(),
    }
    for query, expect in cases.items():
        status, html = await b.get(f"/console/audit?{query}")
        assert status == 200, query
        rows = _rows(html)
        assert len(rows) == len(expect), (query, rows)
        for word in expect:
            parts = word.split(":", 1)
            assert any(all(p in r for p in parts) for r in rows), (query, word)
    _, html = await b.get(f"/console/audit?area={AREA2}")
    assert "Phường" in _rows(html)[0]  # areas by name
    assert "Vào tổ bằng mã mời" in _rows(html)[0]  # what was done, in words
    assert '<option value="team.join">Vào tổ bằng mã mời</option>' in html


async def test_moments_in_the_details_are_shown_in_local_time(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("admin1", "admin")
    async with server.core.sessionmaker() as s, s.begin():
        await audit.record(s, Actor("console:admin1"), "team.invite", at=DAY1, details={
            "role": "member", "expires_at": "2026-11-20T17:30:00.123456+00:00",
            "note": "2026-11-20T17:30 is text"})
    b = await browsers("admin1")
    _, html = await b.get("/console/audit?action=team.invite")
    assert "expires_at: 2026-11-21 00:30:00; note: 2026-11-20T17:30 is text" in html
    async with b.http.get(f"{b.base}/console/audit.csv?action=team.invite") as r:
        rows = list(csv.reader(io.StringIO((await r.read()).decode("utf-8-sig"))))
    assert rows[1][4] == ("role: member; expires_at: 2026-11-21 00:30:00; "
                          "note: 2026-11-20T17:30 is text")


async def test_a_bad_date_or_area_is_explained(server: Server, browsers: Browsers) -> None:
    await server.add_user("admin1", "admin")
    b = await browsers("admin1")
    for query, words in (("from=20-11-2026", "không đúng dạng ngày"),
                         ("from=2026-11-21&to=2026-11-20", "phải sau"),
                         ("area=99999", "Khu vực không có")):
        status, html = await b.get(f"/console/audit?{query}")
        assert status == 400 and words in html, query


async def test_the_log_comes_in_pages_newest_first(server: Server, browsers: Browsers) -> None:
    await server.add_user("admin1", "admin")
    async with server.core.sessionmaker() as s, s.begin():
        for i in range(PAGE * 2 + 5):
            await audit.record(s, Actor("cli:tester"), "test.step", details={"n": i},
                               at=DAY1 + dt.timedelta(minutes=i))
    b = await browsers("admin1")
    _, html = await b.get("/console/audit?action=test.step")
    rows = _rows(html)
    assert len(rows) == PAGE and f"n: {PAGE * 2 + 4}" in rows[0]
    assert "page=2" in html and "page=0" not in html
    _, html = await b.get("/console/audit?action=test.step&page=3")
    rows = _rows(html)
    assert len(rows) == 5 and "n: 0<" in rows[-1].replace("</td>", "<")
    assert "page=2" in html and "page=4" not in html


async def test_the_csv_opens_in_excel_without_formulas_and_the_download_is_logged(
        db_server: Server) -> None:
    server = db_server
    await server.add_user("admin1", "admin")
    await _log(server)
    b = await server.client("admin1")
    _, html = await b.get(f"/console/audit?area={AREA}")
    assert f'href="/console/audit.csv?area={AREA}"' in html
    async with b.http.get(f"{b.base}/console/audit.csv?area={AREA}") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/csv")
        assert r.headers["Content-Disposition"].startswith("attachment; filename=")
        raw = await r.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["Thời gian", "Người thực hiện", "Việc", "Khu vực", "Chi tiết"]
    assert [r[2] for r in rows[1:]] == ["handover.claim", "team.join", "announce.create"]
    assert rows[-1][0] == "2026-11-20 10:00:00"  # local time
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    async with server.core.sessionmaker() as s:
        logged = await audit.entries(s, action="audit.export")
    assert len(logged) == 1 and logged[0].actor == "console:admin1"
    assert logged[0].details["rows"] == 3 and logged[0].targets == {"areas": [AREA]}
    await b.close()


async def test_a_big_export_holds_every_row_once_and_not_its_own_log_entry(
        db_server: Server) -> None:
    """Thousands of rows come in several pieces, newest first, each row once; the download's
    own entry in the log (written before the first row) is not among them."""
    server = db_server
    await server.add_user("admin1", "admin")
    n = 2600  # more than one batch of the stream
    async with server.core.sessionmaker() as s, s.begin():
        await s.execute(insert(AuditEntry), [
            {"at": DAY1 + dt.timedelta(seconds=i), "actor": f"console:u{i % 7}",
             "action": "announce.create", "details": {"id": i, "note": "Họp tổ"},
             "targets": {"areas": [AREA], "notice": i}} for i in range(n)])
    b = await server.client("admin1")
    async with b.http.get(f"{b.base}/console/audit.csv") as r:  # the whole log
        assert r.status == 200
        assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
        rows = list(csv.reader(io.StringIO((await r.read()).decode("utf-8-sig"))))
    await b.close()
    body = [r for r in rows[1:] if r[2] == "announce.create"]
    assert len(body) == n
    assert [r[4] for r in body[:2]] == [f"id: {n - 1}; note: Họp tổ; notice: {n - 1}",
                                        f"id: {n - 2}; note: Họp tổ; notice: {n - 2}"]
    assert body[-1][0] == "2026-11-20 10:00:00" and body[-1][3] == AREA
    assert len({r[4] for r in body}) == n
    assert "audit.export" not in {r[2] for r in rows[1:]}
    async with server.core.sessionmaker() as s:
        (logged,) = await audit.entries(s, action="audit.export")
    assert logged.details["rows"] == len(rows) - 1 > n  # the logins are in the log too


def test_cells_that_excel_would_run_get_a_quote() -> None:
    for bad in ("=1+1", "+84912", "-2", "@SUM(A1)", "\t=x"):
        assert safe_cell(bad) == "'" + bad
    for fine in ("console:lan", "2026-11-20 10:00:00", "", "Phường Trần Lãm"):
        assert safe_cell(fine) == fine


async def test_the_handover_actions_are_logged_with_the_requests_area(
        sqlite_url: str, tmp_path: Path) -> None:
    """"Gặp cán bộ" in the log can be read per area: claim, message and close carry it."""
    core = await handover_core(sqlite_url, tmp_path)
    try:
        await operator(core, "lan", [AREA])
        await ask_person(core, "c1")
        h = await the_request(core, "c1")
        async for url in serve(core):
            b = await Server(core, url).client("lan")
            try:
                await b.get("/console/handover")
                for path, data in ((f"/console/handover/{h.id}/claim", {}),
                                   (f"/console/handover/{h.id}/send", {"text": "Chào bác"}),
                                   (f"/console/handover/{h.id}/close", {})):
                    status, _ = await b.post(path, data)
                    assert status == 200, path
                    await b.get("/console/handover")
                await b.post("/console/handover/duty", {"on": "0"})
            finally:
                await b.close()
        async with core.sessionmaker() as s:
            logged = {e.action: e for e in await audit.entries(s)
                      if e.action.startswith("handover.")}
        assert {"handover.claim", "handover.say", "handover.close",
                "handover.duty_off"} <= set(logged)
        for action in ("handover.claim", "handover.say", "handover.close", "handover.duty_off"):
            assert logged[action].targets == {"areas": [AREA]}, action
            assert logged[action].actor == "console:lan"
    finally:
        await core.close()
