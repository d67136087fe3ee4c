"""Notices in the console: the live preview (reach per area, the spoken form, warnings), the
warnings to read before confirming, approval, corrections and withdrawals to the same people,
the progress figures, duplicating, the delivery charts, and "Thông báo gần đây" in chat."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from broadcast import announcements
from broadcast.types import Actor, Draft
from core.config import Settings
from core.models import Announcement, OutboxItem
from tests.broadcast.conftest import (
    FakeChannel,
    sender_for,
    settle,
    subscribe,
    tap,
)
from tests.console.conftest import AREA, AREA2, Browser, Server

Browsers = Callable[..., Awaitable[Browser]]
FORM = {"title": "", "text": "Lịch tiêm chủng\nSáng thứ Bảy tại trạm y tế.", "areas": AREA,
        "topics": "chung", "priority": "normal", "when": "now"}


async def preview(b: Browser, **form: str) -> dict:  # type: ignore[type-arg]
    async with b.http.post(b.base + "/console/notices/preview", data={**FORM, **form},
                           headers={"X-CSRF-Token": b.csrf}) as r:
        assert r.status == 200, await r.text()
        return json.loads(await r.text())  # type: ignore[no-any-return]


def with_approval(server: Server, rules: dict[str, list[str]]) -> None:
    """Approval rules as if written in config.yaml (the console reads the same object)."""
    bc = server.core.settings.broadcast
    object.__setattr__(bc, "approval", rules)


async def test_preview_counts_people_per_area_and_shows_each_channel(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("admin1", "admin")
    await subscribe(server.core, ["a1", "a2"], areas=[AREA])
    await subscribe(server.core, ["b1"], areas=[AREA2])
    await subscribe(server.core, ["z1"], channel="zalo_oa", areas=[AREA, AREA2])
    b = await browsers("admin1")
    await b.get("/console/notices/new")
    got = await preview(b, areas=AREA)
    assert got["reach"]["total"] == 3 and got["reach"]["channels"] == {"telegram": 2,
                                                                        "zalo_oa": 1}
    async with b.http.post(b.base + "/console/notices/preview",
                           data=[*FORM.items(), ("areas", AREA2)],
                           headers={"X-CSRF-Token": b.csrf}) as r:
        both = json.loads(await r.text())
    assert {a["code"]: a["n"] for a in both["reach"]["areas"]} == {AREA: 3, AREA2: 2}
    assert both["reach"]["total"] == 4
    names = [c["name"] for c in got["channels"]]
    assert names == ["telegram", "zalo_oa", "web"]
    telegram = got["channels"][0]["parts"][0]
    assert telegram.startswith("<b>📢 THÔNG BÁO: Lịch tiêm chủng</b>")
    assert "Phường Trần Lãm" in telegram and "/huy" in telegram
    assert got["errors"] == []
    # (zalo_quiet depends on the hour the test runs at: see the test below)
    assert [w for w in got["warnings"] if w["code"] != "zalo_quiet"] == []


async def test_preview_warns_about_nobody_emoji_leftovers_and_is_escaped(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("lan", "member", [AREA])
    b = await browsers("lan")
    await b.get("/console/notices/new")
    got = await preview(b, text="🎉🎉🎉", topics="an-ninh")
    codes = [w["code"] for w in got["warnings"]]
    assert codes == ["nobody", "emoji_only"]
    got = await preview(b, text="<script>alert(1)</script> Họp lúc 7h30 tại UBND", radio="1")
    assert "<script>" not in json.dumps(got["channels"]) and "&lt;script&gt;" in \
        got["channels"][0]["parts"][0]
    assert got["spoken"] and "bảy giờ ba mươi" in got["spoken"]
    assert "ủy ban nhân dân" in got["spoken"]
    got = await preview(b, text="Mã hồ sơ XK-2 nộp trước 30/11", radio="1")
    leftovers = [w for w in got["warnings"] if w["code"] == "spoken_leftovers"]
    assert leftovers and "XK" in leftovers[0]["text"]


async def test_preview_warns_that_zalo_oa_waits_for_morning_at_night(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("lan", "member", [AREA])
    await subscribe(server.core, ["z1"], channel="zalo_oa", areas=[AREA])
    b = await browsers("lan")
    await b.get("/console/notices/new")
    got = await preview(b, when="at", date="2030-01-02", time="23:15")
    [w] = [w for w in got["warnings"] if w["code"] == "zalo_quiet"]
    assert "06:00" in w["text"]
    got = await preview(b, when="at", date="2030-01-02", time="23:15", priority="emergency")
    assert not [w for w in got["warnings"] if w["code"] == "zalo_quiet"]


async def test_warnings_are_read_before_a_notice_is_sent(server: Server,
                                                         browsers: Browsers) -> None:
    await server.add_user("lan", "member", [AREA])
    b = await browsers("lan")
    await b.get("/console/notices/new")
    before = await server.counts()
    status, page = await b.post("/console/notices", FORM)  # nobody subscribed yet
    assert status == 409 and "Chưa có ai đăng ký" in page and 'name="ack"' in page
    assert await server.counts() == before
    status, page = await b.post("/console/notices", {**FORM, "ack": "1"})
    assert status == 200 and "Đã tạo thông báo" in page


async def test_a_member_cannot_send_outside_their_areas_even_by_crafting_the_form(
        server: Server, browsers: Browsers) -> None:
    await server.add_user("lan", "member", [AREA])
    b = await browsers("lan")
    await b.get("/console/notices/new")
    before = await server.counts()
    status, _ = await b.post("/console/notices", {**FORM, "areas": AREA2, "ack": "1"})
    assert status == 403
    assert await server.counts() == before


async def test_a_members_notice_waits_for_an_approver_of_its_area(
        server: Server, browsers: Browsers) -> None:
    with_approval(server, {AREA: ["binh", "lan"]})
    await server.add_user("lan", "member", [AREA])
    await server.add_user("binh", "member", [AREA])
    await server.add_user("hung", "member", [AREA2])
    await subscribe(server.core, ["u1", "u2"], areas=[AREA])
    lan = await browsers("lan")
    await lan.get("/console/notices/new")
    status, page = await lan.post("/console/notices", FORM)
    assert status == 200 and "đang chờ người duyệt" in page
    notice_id = int(re.search(r"Thông báo số (\d+)", page).group(1))  # type: ignore[union-attr]
    assert "binh" in page and await _outbox(server) == 0  # nothing goes out yet
    status, page = await lan.post(f"/console/notices/{notice_id}/approve", {})
    assert status == 200 and "không tự duyệt" in page and await _outbox(server) == 0
    hung = await browsers("hung")
    await hung.get("/console/")
    status, _ = await hung.post(f"/console/notices/{notice_id}/approve", {})
    assert status == 403 and await _outbox(server) == 0
    binh = await browsers("binh")
    status, page = await binh.get(f"/console/notices/{notice_id}")
    assert "Duyệt và gửi" in page
    status, page = await binh.post(f"/console/notices/{notice_id}/approve", {})
    assert status == 200 and "Đã duyệt" in page
    assert await _outbox(server) == 2
    async with server.core.sessionmaker() as s:
        ann = await s.get(Announcement, notice_id)
        assert ann is not None and ann.approved_by == "console:binh"


async def test_chat_notices_of_members_wait_for_approval_too(server: Server) -> None:
    """The same service: /thongbao by a member in an approval area waits as well."""
    with_approval(server, {AREA: []})
    core = server.core
    async with core.sessionmaker() as s, s.begin():
        ann = await announcements.create(s, core.settings, core.content.texts,
                                         Actor.chat("telegram", "7"),
                                         Draft(text="Họp", areas=[AREA], topics=["chung"]),
                                         allowed_areas=[AREA])
        assert ann.approval == "waiting" and ann.state == "scheduled"
        admin_made = await announcements.create(s, core.settings, core.content.texts,
                                                Actor.cli("root"),
                                                Draft(text="Họp", areas=[AREA],
                                                      topics=["chung"]))
        assert admin_made.approval is None and admin_made.state == "done"


async def test_rejecting_cancels_and_the_author_sees_why(server: Server,
                                                         browsers: Browsers) -> None:
    with_approval(server, {AREA: []})
    await server.add_user("lan", "member", [AREA])
    await server.add_user("admin1", "admin")
    lan = await browsers("lan")
    await lan.get("/console/notices/new")
    _, page = await lan.post("/console/notices", {**FORM, "ack": "1"})
    notice_id = int(re.search(r"Thông báo số (\d+)", page).group(1))  # type: ignore[union-attr]
    admin = await browsers("admin1")
    await admin.get("/console/")
    status, page = await admin.post(f"/console/notices/{notice_id}/reject",
                                    {"reason": "Sai ngày"})
    assert status == 200 and "Không được duyệt" in page
    async with server.core.sessionmaker() as s:
        ann = await s.get(Announcement, notice_id)
        assert ann is not None and ann.state == "cancelled"


async def _outbox(server: Server) -> int:
    async with server.core.sessionmaker() as s:
        return len((await s.execute(select(OutboxItem.id).where(
            OutboxItem.kind == "notice"))).all())


async def test_a_correction_reaches_exactly_who_got_the_notice(
        server: Server, browsers: Browsers) -> None:
    core = server.core
    await server.add_user("lan", "member", [AREA])
    await subscribe(core, ["u1", "u2"], areas=[AREA])
    tg = FakeChannel()
    lan = await browsers("lan")
    await lan.get("/console/notices/new")
    _, page = await lan.post("/console/notices", FORM)
    notice_id = int(re.search(r"Thông báo số (\d+)", page).group(1))  # type: ignore[union-attr]
    await settle(sender_for(core, tg), core)
    await subscribe(core, ["u3"], areas=[AREA])  # subscribed after: must not get the correction
    status, page = await lan.post(f"/console/notices/{notice_id}/follow-up",
                                  {"kind": "correction", "text": "Đổi sang sáng Chủ Nhật."})
    assert status == 200 and "Đính chính" in page
    await settle(sender_for(core, tg), core)
    assert tg.to("u3") == []
    for user in ("u1", "u2"):
        _first, fix = tg.to(user)
        assert fix.startswith("✏️ ĐÍNH CHÍNH THÔNG BÁO: Lịch tiêm chủng")
        assert "Đổi sang sáng Chủ Nhật." in fix
    async with core.sessionmaker() as s:
        follow = (await s.execute(select(Announcement).where(
            Announcement.follows_id == notice_id))).scalar_one()
        assert follow.follow_kind == "correction" and follow.author == "console:lan"


async def test_a_withdrawal_stops_what_is_left_and_tells_who_got_it(
        server: Server, browsers: Browsers) -> None:
    core = server.core
    await server.add_user("lan", "member", [AREA])
    await subscribe(core, ["u1", "u2"], areas=[AREA])
    lan = await browsers("lan")
    await lan.get("/console/notices/new")
    _, page = await lan.post("/console/notices", FORM)
    notice_id = int(re.search(r"Thông báo số (\d+)", page).group(1))  # type: ignore[union-attr]
    async with core.sessionmaker() as s, s.begin():  # u1 got it, u2 not yet
        row = (await s.execute(select(OutboxItem).where(OutboxItem.user_id == "u1"))
               ).scalar_one()
        row.state = "sent"
    status, _ = await lan.post(f"/console/notices/{notice_id}/follow-up",
                               {"kind": "withdrawal", "text": "Thông báo trên bị nhầm."})
    assert status == 200
    async with core.sessionmaker() as s:
        rows = {(r.run_id, r.user_id): r.state for r in (await s.execute(
            select(OutboxItem).where(OutboxItem.kind == "notice"))).scalars()}
        first = await s.get(Announcement, notice_id)
    assert first is not None and first.state == "cancelled"
    assert sorted(v for (_, u), v in rows.items() if u == "u2") == ["cancelled"]
    assert sorted(u for (_, u), v in rows.items() if v == "pending") == ["u1"]


async def test_progress_json_follows_the_sending(server: Server, browsers: Browsers) -> None:
    core = server.core
    await server.add_user("lan", "member", [AREA])
    await subscribe(core, ["u1", "u2", "u3"], areas=[AREA])
    lan = await browsers("lan")
    await lan.get("/console/notices/new")
    _, page = await lan.post("/console/notices", FORM)
    notice_id = int(re.search(r"Thông báo số (\d+)", page).group(1))  # type: ignore[union-attr]
    assert 'data-url="/console/notices/' in page
    _, body = await lan.get(f"/console/notices/{notice_id}/progress")
    got = json.loads(body)
    assert (got["state"], got["recipients"], got["sent"], got["pending"]) == \
        ("sending", 3, 0, 3)
    from core.delivery import Delivery

    tg = FakeChannel(script={"u2": [Delivery("failed", reason="Telegram refused: chat not "
                                                               "found")]})
    await settle(sender_for(core, tg), core)
    got = json.loads((await lan.get(f"/console/notices/{notice_id}/progress"))[1])
    assert (got["state"], got["sent"], got["failed"], got["pending"]) == ("done", 2, 1, 0)
    assert got["reasons"] == [{"state": "failed", "reason": "Telegram refused: chat not found",
                               "n": 1}]


async def test_list_filters_and_duplicate(server: Server, browsers: Browsers) -> None:
    core = server.core
    await server.add_user("lan", "member", [AREA])
    async with core.sessionmaker() as s, s.begin():
        for text, area in (("Cắt điện", AREA), ("Tiêm phòng", AREA), ("Khác", AREA2)):
            await announcements.create(s, core.settings, core.content.texts, Actor.cli("x"),
                                       Draft(text=text, areas=[area], topics=["chung"]))
    lan = await browsers("lan")
    _, page = await lan.get("/console/notices")
    assert "Cắt điện" in page and "Tiêm phòng" in page and "Khác" not in page
    _, page = await lan.get("/console/notices?q=điện")
    assert "Cắt điện" in page and "Tiêm phòng" not in page
    async with core.sessionmaker() as s:
        first = (await s.execute(select(Announcement).where(
            Announcement.text == "Cắt điện"))).scalar_one()
    status, page = await lan.get(f"/console/notices/new?from={first.id}")
    assert status == 200 and ">Cắt điện</textarea>" in page


async def test_delivery_page_draws_charts_from_the_figures(server: Server,
                                                           browsers: Browsers) -> None:
    core = server.core
    await server.add_user("admin1", "admin")
    await subscribe(core, ["u1", "u2"], areas=[AREA])
    async with core.sessionmaker() as s, s.begin():
        await announcements.create(s, core.settings, core.content.texts, Actor.cli("x"),
                                   Draft(text="Họp", areas=[AREA], topics=["chung"]))
    from core.delivery import Delivery

    await settle(sender_for(core, FakeChannel(script={"u2": [Delivery(
        "failed", reason="Telegram refused: chat not found")]})), core)
    b = await browsers("admin1")
    status, page = await b.get("/console/delivery")
    assert status == 200 and page.count("<svg") == 4
    assert "Telegram (1)" in page  # one sent in the legend
    assert "Telegram refused: chat not found" in page
    assert "Phường Trần Lãm (2)" in page  # subscribers of the area today


async def test_recent_notices_in_chat_show_the_citizens_areas(server: Server) -> None:
    core = server.core
    await subscribe(core, ["u1"], areas=[AREA])
    async with core.sessionmaker() as s, s.begin():
        await announcements.create(s, core.settings, core.content.texts, Actor.cli("x"),
                                   Draft(text="Cắt điện\nSáng mai từ 7h.", areas=[AREA],
                                         topics=["chung"]))
        await announcements.create(s, core.settings, core.content.texts, Actor.cli("x"),
                                   Draft(text="Ở phường khác", areas=[AREA2],
                                         topics=["chung"]))
    replies = await tap(core, "sub:recent", user="u1")
    texts = "\n".join(r.text for r in replies)
    assert "Cắt điện" in texts and "Sáng mai từ 7h." in texts and "phường khác" not in texts
    web = await tap(core, "sub:recent", user="w1", channel="web")  # not subscribed: every area
    assert "phường khác" in "\n".join(r.text for r in web)


def test_settings_approval_keys_are_area_codes() -> None:
    import pytest

    from core.config import ConfigError, load_config
    from tests.conftest import ROOT

    s = load_config(ROOT / "config.yaml")
    raw = s.model_dump()
    raw["broadcast"]["approval"] = {12454: ["lan"]}
    assert Settings.model_validate(raw).broadcast.approval == {"12454": ["lan"]}
    raw["broadcast"]["approval"] = {"99999": []}
    with pytest.raises(ValueError, match="unknown area"):
        Settings.model_validate(raw)
    del ConfigError


async def test_a_photo_is_attached_from_the_form_and_a_fake_one_refused(
        server: Server, browsers: Browsers) -> None:
    import aiohttp

    await server.add_user("lan", "member", [AREA])
    lan = await browsers("lan")
    await lan.get("/console/notices/new")

    async def send(data: bytes, name: str) -> tuple[int, str]:
        form = aiohttp.FormData()
        for k, v in {**FORM, "ack": "1", "csrf": lan.csrf}.items():
            form.add_field(k, v)
        form.add_field("attachment", data, filename=name, content_type="image/png")
        async with lan.http.post(lan.base + "/console/notices", data=form) as r:
            return r.status, await r.text()

    before = await server.counts()
    status, page = await send(b"MZ\x90\x00 not a picture", "anh.png")
    assert status == 400 and "Chỉ gửi kèm được ảnh" in page
    assert await server.counts() == before
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 3_000_000  # bigger than the chat API's 64 KiB
    status, page = await send(png, "lịch tiêm.png")
    assert status == 200 and "lich-tiem.png" in page
    notice_id = int(re.search(r"Thông báo số (\d+)", page).group(1))  # type: ignore[union-attr]
    async with lan.http.get(f"{lan.base}/console/notices/{notice_id}/attachment") as r:
        assert r.status == 200 and await r.read() == png


async def test_the_audio_preview_reads_the_spoken_form_and_is_cached(
        server: Server, browsers: Browsers) -> None:
    import shutil

    import pytest

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (make test installs it)")
    settings = server.core.settings
    # The console reads the same settings object: offline engine, cache in the test folder.
    object.__setattr__(settings.radio, "engine", "espeak")
    await server.add_user("lan", "member", [AREA])
    lan = await browsers("lan")
    await lan.get("/console/notices/new")
    data = {**FORM, "text": "Họp lúc 7h30 tại UBND phường", "radio": "1"}
    async with lan.http.post(lan.base + "/console/notices/audio", data=data,
                             headers={"X-CSRF-Token": lan.csrf}) as r:
        assert r.status == 200, await r.text()
        got = json.loads(await r.text())
    assert "bảy giờ ba mươi" in got["spoken"] and "ủy ban nhân dân" in got["spoken"]
    assert got["engine"].startswith("espeak")
    async with lan.http.get(lan.base + got["url"]) as r:
        audio = await r.read()
        assert r.status == 200 and r.headers["Content-Type"] == "audio/ogg"
    assert audio[:4] == b"OggS" and len(audio) > 2000
    cached = list(settings.path(settings.console.audio_cache_dir).glob("*.ogg"))
    assert len(cached) == 1
    async with lan.http.post(lan.base + "/console/notices/audio", data=data,
                             headers={"X-CSRF-Token": lan.csrf}) as r:
        again = json.loads(await r.text())
    assert again["url"] == got["url"]
    async with lan.http.get(lan.base + "/console/audio/..%2F..%2Fetc%2Fpasswd") as r:
        assert r.status == 404
