"""The radio page: an operator's areas' bulletins of a day (player, duration, loudness,
download, feed and playlist links), build and rebuild through the bulletins component,
per-area slots that the scheduler follows, and an operator's own recording (WAV/MP3/OGG,
size-limited before the body is read, levelled, in the feed). Everything authorized on the
server and audited."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select, update

from bot.app import App
from broadcast import announcements, audit
from broadcast.bulletins import RadioBulletins, SlotError, parse_slots, set_area_slots
from broadcast.radio.tts import EspeakEngine
from broadcast.types import Actor, Draft
from core.models import Announcement, RadioBulletin, RadioSlots, TeamMember
from tests.broadcast.conftest import make_core
from tests.console.conftest import AREA, AREA2, Browser, Server, serve

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LIMIT = 400_000  # radio.upload_max_bytes in these tests


def _component(core: App) -> RadioBulletins:
    return RadioBulletins(core.engine, core.sessionmaker, core.settings, core.content.texts,
                          core.content.lexicon, {}, tts=EspeakEngine(core.settings.radio.espeak))


@pytest.fixture
async def rserver(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    core = await make_core(sqlite_url, tmp_path)
    core.settings = core.settings.model_copy(update={
        # The page speaks with espeak-ng (offline), as "auto" does without internet.
        "radio": core.settings.radio.model_copy(update={"upload_max_bytes": LIMIT,
                                                        "engine": "espeak"}),
        "broadcast": core.settings.broadcast.model_copy(update={
            "attachment_max_bytes": 10_000})})
    try:
        async for url in serve(core):
            yield Server(core, url)
    finally:
        await core.close()


@pytest.fixture
async def people(rserver: Server) -> AsyncIterator[dict[str, Browser]]:
    await rserver.add_user("tam", "radio", [AREA])
    await rserver.add_user("binh", "radio", [AREA2])
    await rserver.add_user("lan", "member", [AREA])
    await rserver.add_user("admin1", "admin")
    made = {name: await rserver.client(name) for name in ("tam", "binh", "lan", "admin1")}
    for b in made.values():
        await b.get("/console/")
    yield made
    for b in made.values():
        await b.close()


async def radio_notice(core: App, text: str, area: str = AREA, *, radio: bool = True) -> int:
    async with core.sessionmaker() as s, s.begin():
        ann = await announcements.create(
            s, core.settings, core.content.texts, Actor("cli:test"),
            Draft(text=text, areas=[area], topics=["chung"], radio=radio))
        return ann.id


async def rows(core: App) -> list[RadioBulletin]:
    async with core.sessionmaker() as s:
        return list((await s.execute(select(RadioBulletin).order_by(RadioBulletin.id)))
                    .scalars())


def jsons(core: App, area: str = AREA) -> list[dict[str, object]]:
    root = core.settings.path(core.settings.radio.output_dir) / area
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(root.glob("*/*.json"))]


async def fetch(b: Browser, path: str) -> tuple[int, dict[str, str], bytes]:
    async with b.http.get(b.base + path, allow_redirects=False) as r:
        return r.status, dict(r.headers), await r.read()


def tone(seconds: float = 3.0, rate: int = 22050, channels: int = 2,
         level: float = 0.05) -> np.ndarray:
    """A voice-like test signal: a 220 Hz tone with harmonics, syllable by syllable."""
    t = np.arange(int(seconds * rate)) / rate
    x = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in (1, 2, 3, 4))
    x *= 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    x = (level * x / np.max(np.abs(x))).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def encoded(fmt: str, x: np.ndarray, rate: int = 22050, **kw: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, rate, format=fmt, **kw)
    return buf.getvalue()


def form(b: Browser, data: bytes, filename: str, *, area: str = AREA,
         title: str = "Lịch cắt điện") -> aiohttp.FormData:
    f = aiohttp.FormData()
    f.add_field("csrf", b.csrf)
    f.add_field("area", area)
    f.add_field("title", title)
    f.add_field("priority", "normal")
    f.add_field("recording", data, filename=filename, content_type="application/octet-stream")
    return f


# ---------------------------------------------------------------------------- the page

async def test_an_operator_builds_plays_and_downloads_their_areas_bulletin_with_its_feed(
        rserver: Server, people: dict[str, Browser]) -> None:
    core = rserver.core
    await radio_notice(core, "Lịch tiêm chủng\nSáng thứ Bảy tiêm vắc-xin tại trạm y tế.")
    tam = people["tam"]
    status, page = await tam.get("/console/radio")
    assert status == 200 and "Chưa có bản tin nào" in page
    assert f"http://127.0.0.1:{rserver.url.rsplit(':', 1)[1]}/radio/{AREA}/feed.xml" in page
    assert f"/radio/{AREA}/playlist.m3u" in page

    status, page = await tam.post("/console/radio/build", {"area": AREA})
    assert status == 200 and "Đã tạo bản tin." in page
    [row] = await rows(core)
    assert row.state == "ready" and row.area_code == AREA and row.key.startswith("manual:")
    [meta] = jsons(core)
    assert abs(float(meta["loudness_lufs"]) + 16) <= 1  # type: ignore[arg-type]
    assert f'<audio controls preload="none" src="/console/radio/files/{row.mp3}"' in page
    assert "LUFS" in page and re.search(r"\d+ giây", page)
    assert "Tạo lại bản tin" in page

    status, headers, body = await fetch(tam, f"/console/radio/files/{row.mp3}")
    assert status == 200 and headers["Content-Type"] == "audio/mpeg"
    assert body[:3] == b"ID3" and len(body) == meta["size_bytes"]
    status, headers, _ = await fetch(tam, f"/console/radio/files/{row.mp3}?download=1")
    assert status == 200 and headers["Content-Disposition"].startswith("attachment;")
    # Published: the area's public feed lists it.
    status, _, feed = await fetch(tam, f"/radio/{AREA}/feed.xml")
    assert status == 200 and row.mp3.split("/")[-1].encode() in feed
    async with core.sessionmaker() as s:
        [entry] = await audit.entries(s, action="radio.build")
    assert entry.actor == "console:tam" and entry.targets == {"areas": [AREA]}


async def test_a_day_without_radio_notices_builds_nothing_and_says_so(
        rserver: Server, people: dict[str, Browser]) -> None:
    await radio_notice(rserver.core, "Họp tổ dân phố tối nay.", radio=False)
    status, page = await people["tam"].post("/console/radio/build", {"area": AREA})
    assert status == 200 and "Không có thông báo phát thanh nào" in page
    assert [r.state for r in await rows(rserver.core)] == ["empty"]
    assert jsons(rserver.core) == []


async def test_rebuild_replaces_the_files_and_drops_a_cancelled_notice(
        rserver: Server, people: dict[str, Browser]) -> None:
    core = rserver.core
    notice_id = await radio_notice(core, "Lịch tiêm chủng\nSáng thứ Bảy tại trạm y tế.")
    tam = people["tam"]
    await tam.post("/console/radio/build", {"area": AREA})
    [row] = await rows(core)
    first = row.mp3
    status, page = await tam.post(f"/console/radio/{row.id}/rebuild", {})
    assert status == 200 and "Đã tạo lại bản tin" in page
    [row] = await rows(core)
    assert row.state == "ready" and row.mp3 != first
    assert [m["mp3"] for m in jsons(core)] == [row.mp3.split("/")[-1]]  # the old one is gone
    status, _, _ = await fetch(tam, f"/console/radio/files/{first}")
    assert status == 404

    async with core.sessionmaker() as s, s.begin():  # cancelled while it was still sending
        await s.execute(update(Announcement).where(Announcement.id == notice_id)
                        .values(state="cancelled"))
    status, page = await tam.post(f"/console/radio/{row.id}/rebuild", {})
    assert status == 200 and "Không có thông báo phát thanh nào" in page
    [row] = await rows(core)
    assert row.state == "empty" and row.mp3 is None and jsons(core) == []
    async with core.sessionmaker() as s:
        assert len(await audit.entries(s, action="radio.rebuild")) == 2


async def test_the_bulletins_component_builds_rebuilds_and_follows_slots_on_both_databases(
        db_url: str, tmp_path: Path) -> None:
    core = await make_core(db_url, tmp_path)
    try:
        radio = _component(core)
        who = Actor("console:tam")
        await radio_notice(core, "Lịch tiêm chủng\nSáng thứ Bảy tại trạm y tế.")
        built = await radio.build_now(AREA, who)
        assert built is not None and built.state == "ready" and built.mp3
        again = await radio.rebuild(built.id, who)
        assert again is not None and again.state == "ready" and again.mp3 != built.mp3
        assert len(jsons(core)) == 1
        async with core.sessionmaker() as s, s.begin():
            await set_area_slots(s, who, AREA, ["09:15"])
        assert (await radio.slots_by_area())[AREA] == ["09:15"]
        assert (await radio.slots_by_area())[AREA2] == ["06:00", "17:00"]
        at = dt.datetime(2026, 12, 3, 9, 15, tzinfo=VN).astimezone(dt.UTC)
        assert {r.area_code for r in await radio.tick(at)} == {AREA}
        async with core.sessionmaker() as s:
            actions = [e.action for e in await audit.entries(s)]
        assert actions[:3] == ["radio.slots", "radio.rebuild", "radio.build"]
    finally:
        await core.close()


def test_a_recording_longer_than_the_limit_is_refused_before_it_is_decoded() -> None:
    from broadcast.radio.bulletin import RecordingError, read_recording

    data = encoded("WAV", tone(seconds=3))
    with pytest.raises(RecordingError) as err:
        read_recording(data, max_s=2)
    assert err.value.code == "too_long"
    samples, rate = read_recording(data, max_s=5)
    assert rate == 22050 and samples.ndim == 1 and len(samples) == 3 * 22050


# ---------------------------------------------------------------------------- slots

def test_slots_are_read_as_people_type_them() -> None:
    assert parse_slots("6:00, 17h30;17:30  09.05") == ["06:00", "09:05", "17:30"]
    assert parse_slots("  ") == []
    for bad in ("25:00", "6", "sáng", "06:60"):
        with pytest.raises(SlotError):
            parse_slots(bad)


async def test_an_areas_own_slots_replace_the_configured_ones_in_the_scheduler(
        rserver: Server, people: dict[str, Browser]) -> None:
    core = rserver.core
    assert core.settings.radio.slots == ["06:00", "17:00"]
    tam = people["tam"]
    status, page = await tam.post("/console/radio/slots", {"area": AREA, "slots": "9:15, 18h"})
    assert status == 200 and "Đã lưu giờ phát." in page
    assert 'value="09:15, 18:00"' in page
    radio = _component(core)
    day = dt.date(2026, 12, 3)

    async def due(h: int, m: int) -> set[tuple[str, str]]:
        at = dt.datetime.combine(day, dt.time(h, m), tzinfo=VN).astimezone(dt.UTC)
        return {(r.area_code, r.key) for r in await radio.tick(at)
                if r.area_code in (AREA, AREA2)}

    assert await due(6, 0) == {(AREA2, "slot:2026-12-03T06:00")}
    assert await due(9, 15) == {(AREA, "slot:2026-12-03T09:15")}
    # Emptied: the area is back on the configured slots.
    status, page = await tam.post("/console/radio/slots", {"area": AREA, "slots": ""})
    assert status == 200
    async with core.sessionmaker() as s:
        assert (await s.execute(select(RadioSlots))).scalars().all() == []
        entries = await audit.entries(s, action="radio.slots")
    assert [e.details["slots"] for e in entries] == [[], ["09:15", "18:00"]]
    assert await due(17, 0) == {(AREA, "slot:2026-12-03T17:00"),
                                (AREA2, "slot:2026-12-03T17:00")}


async def test_slots_that_cannot_be_read_are_refused_and_nothing_changes(
        rserver: Server, people: dict[str, Browser]) -> None:
    before = await rserver.counts()
    status, page = await people["tam"].post("/console/radio/slots",
                                            {"area": AREA, "slots": "6 giờ sáng"})
    assert status == 400 and "Giờ phát viết theo dạng 06:00" in page
    assert 'value="6 giờ sáng"' in page  # what was typed is kept
    assert await rserver.counts() == before


# ---------------------------------------------------------------------------- uploads

@pytest.mark.parametrize(("fmt", "name", "kw"), [
    ("WAV", "loa.wav", {"subtype": "PCM_16"}),
    ("MP3", "loa.mp3", {}),
    ("OGG", "loa.ogg", {"subtype": "VORBIS"}),
])
async def test_an_uploaded_recording_is_levelled_and_published_like_a_bulletin(
        rserver: Server, people: dict[str, Browser], fmt: str, name: str,
        kw: dict[str, str]) -> None:
    core = rserver.core
    tam = people["tam"]
    data = encoded(fmt, tone(level=0.02), **kw)  # recorded much quieter than -16 LUFS
    assert len(data) < LIMIT
    async with tam.http.post(f"{tam.base}/console/radio/upload", data=form(tam, data, name)) as r:
        page = await r.text()
        assert r.status == 200, page
    assert "Đã đăng bản ghi âm" in page and "Bản ghi âm" in page
    [row] = await rows(core)
    assert row.state == "ready" and row.key.startswith("upload:") and row.mp3
    assert "Tạo lại bản tin" not in page  # a recording is not rebuilt from notices
    [meta] = jsons(core)
    assert meta["engine"] == "recording" and meta["title"] == "Lịch cắt điện"
    assert abs(float(meta["loudness_lufs"]) + 16) <= 1  # type: ignore[arg-type]
    assert float(meta["true_peak_dbtp"]) <= -1 + 0.05  # type: ignore[arg-type]
    # The chimes and pauses around the 3 s recording.
    assert 3 + 2 < float(meta["duration_s"]) < 3 + 8  # type: ignore[arg-type]
    status, _, feed = await fetch(tam, f"/radio/{AREA}/feed.xml")
    assert status == 200 and b"L\xe1\xbb\x8bch c\xe1\xba\xaft \xc4\x91i\xe1\xbb\x87n" in feed
    async with core.sessionmaker() as s:
        [entry] = await audit.entries(s, action="radio.upload")
    assert entry.actor == "console:tam" and entry.details["file"] == name


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"day khong phai am thanh" * 100, "ghi.wav", "Không đọc được tệp âm thanh này"),
    (encoded("FLAC", tone()), "ghi.flac", "Chỉ nhận tệp âm thanh WAV, MP3 hoặc OGG."),
    (encoded("WAV", np.zeros(22050 * 3, dtype=np.float32)), "lang.wav",
     "Bản ghi không có tiếng"),
    (b"", "rong.wav", "Bạn chưa chọn tệp ghi âm."),
])
async def test_a_file_that_is_not_usable_audio_is_refused_with_a_clear_message(
        rserver: Server, people: dict[str, Browser], data: bytes, name: str,
        message: str) -> None:
    tam = people["tam"]
    before = await rserver.counts()
    async with tam.http.post(f"{tam.base}/console/radio/upload",
                             data=form(tam, data, name, title="Giữ tiêu đề")) as r:
        page = await r.text()
        assert r.status == 400
    assert message in page and 'value="Giữ tiêu đề"' in page
    assert await rserver.counts() == before and jsons(rserver.core) == []


async def test_a_recording_over_the_size_limit_is_refused_before_its_body_is_read(
        rserver: Server, people: dict[str, Browser]) -> None:
    tam = people["tam"]
    before = await rserver.counts()
    big = encoded("WAV", tone(seconds=10), subtype="PCM_16")  # about 0.9 MB
    assert len(big) > LIMIT + 256 * 1024
    async with tam.http.post(f"{tam.base}/console/radio/upload", data=form(tam, big, "x.wav"),
                             allow_redirects=False) as r:
        assert r.status == 413
        page = await r.text()
    assert "Tệp gửi lên lớn quá giới hạn 400 KB" in page and "Tệp quá lớn" in page

    # Without a Content-Length (chunked), it is cut off at the limit while reading.
    body = form(tam, big, "x.wav")()

    async def chunks() -> AsyncIterator[bytes]:
        buf = io.BytesIO()

        class Sink:
            async def write(self, data: bytes) -> None:
                buf.write(data)

        await body.write(Sink())  # type: ignore[arg-type]
        data = buf.getvalue()
        for i in range(0, len(data), 64 * 1024):
            yield data[i:i + 64 * 1024]

    async with tam.http.post(f"{tam.base}/console/radio/upload", data=chunks(),
                             headers={"Content-Type": body.content_type},
                             allow_redirects=False) as r:
        assert r.status == 413
        assert "lớn quá giới hạn" in await r.text()
    assert await rserver.counts() == before and jsons(rserver.core) == []
    # A file just under the limit goes through.
    ok = encoded("WAV", tone(seconds=2, channels=1), subtype="PCM_16")
    assert len(ok) < LIMIT
    async with tam.http.post(f"{tam.base}/console/radio/upload",
                             data=form(tam, ok, "ok.wav")) as r:
        assert r.status == 200


async def test_a_notices_attachment_keeps_its_own_limit_with_the_same_page(
        rserver: Server, people: dict[str, Browser]) -> None:
    lan = people["lan"]
    await lan.get("/console/notices/new")
    f = aiohttp.FormData()
    for k, v in (("csrf", lan.csrf), ("text", "Họp tổ dân phố"), ("areas", AREA),
                 ("topics", "chung"), ("when", "now"), ("ack", "1")):
        f.add_field(k, v)
    f.add_field("attachment", b"%PDF-1.4\n" + b"0" * LIMIT, filename="qd.pdf",
                content_type="application/pdf")
    before = await rserver.counts()
    async with lan.http.post(f"{lan.base}/console/notices", data=f,
                             allow_redirects=False) as r:
        assert r.status == 413
        assert "lớn quá giới hạn 10 KB" in await r.text()
    assert await rserver.counts() == before


async def test_under_the_assistant_an_uploaded_recording_reaches_the_operators_in_chat(
        rserver: Server) -> None:
    from aiohttp import web

    from bot.web import make_web_app
    from tests.broadcast.test_radio_bulletins import FakeOperatorChannel

    core = rserver.core
    async with core.sessionmaker() as s, s.begin():
        s.add(TeamMember(channel="telegram", user_id="op1", role="radio", areas=[AREA],
                         invited_by="cli:test"))
        s.add(TeamMember(channel="telegram", user_id="op2", role="radio", areas=[AREA2],
                         invited_by="cli:test"))
    chat = FakeOperatorChannel()
    radio = RadioBulletins(core.engine, core.sessionmaker, core.settings, core.content.texts,
                           core.content.lexicon, {"telegram": chat})
    runner = web.AppRunner(make_web_app(core, console=True, radio=radio))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await rserver.add_user("tam", "radio", [AREA])
    tam = await Server(core, f"http://127.0.0.1:{port}").client("tam")
    try:
        await tam.get("/console/radio")
        async with tam.http.post(f"{tam.base}/console/radio/upload",
                                 data=form(tam, encoded("WAV", tone()), "loa.wav")) as r:
            assert r.status == 200
    finally:
        await tam.close()
        await runner.cleanup()
    [(user, path, caption)] = chat.audio
    assert user == "op1" and path.suffix == ".mp3" and "Lịch cắt điện" in caption
    [row] = await rows(core)
    assert row.sent_to == ["telegram:op1"]


# ---------------------------------------------------------------------------- authorization

async def test_only_radio_operators_of_the_area_and_admins_use_it(
        rserver: Server, people: dict[str, Browser]) -> None:
    core = rserver.core
    await radio_notice(core, "Lịch tiêm chủng\nSáng thứ Bảy tại trạm y tế.")
    await people["tam"].post("/console/radio/build", {"area": AREA})
    [row] = await rows(core)
    assert row.mp3
    before = await rserver.counts()
    files = len(jsons(core))

    binh, lan, admin = people["binh"], people["lan"], people["admin1"]
    status, page = await binh.get("/console/radio")
    assert status == 200 and AREA2 in page and f"/radio/{AREA}/feed.xml" not in page
    assert "Phát thanh" in page
    for path in (f"/console/radio?area={AREA}", f"/console/radio/files/{row.mp3}"):
        assert (await fetch(binh, path))[0] == 403, path
        assert (await fetch(lan, path))[0] == 403, path
    status, page = await lan.get("/console/")
    assert 'href="/console/radio"' not in page
    for b in (binh, lan):
        for path, data in ((f"/console/radio/{row.id}/rebuild", {}),
                           ("/console/radio/build", {"area": AREA}),
                           ("/console/radio/slots", {"area": AREA, "slots": "08:00"})):
            status, _ = await b.post(path, data)
            assert status == 403, (path, status)
        async with b.http.post(f"{b.base}/console/radio/upload",
                               data=form(b, encoded("WAV", tone()), "a.wav")) as r:
            assert r.status == 403
    anonymous = await rserver.client()
    try:
        assert (await fetch(anonymous, f"/console/radio/files/{row.mp3}"))[0] == 303
        status, _ = await anonymous.post("/console/radio/build", {"area": AREA}, csrf=False)
        assert status == 401
    finally:
        await anonymous.close()
    assert await rserver.counts() == before and len(jsons(core)) == files
    # Outside the output folder or an unknown area: not found.
    assert (await fetch(people["tam"], f"/console/radio/files/{AREA}/../../x.mp3"))[0] == 404
    assert (await fetch(admin, "/console/radio/files/99999/x.mp3"))[0] == 404
    # The admin sees every area.
    status, page = await admin.get(f"/console/radio?area={AREA2}")
    assert status == 200 and f"/radio/{AREA2}/feed.xml" in page
    assert (await fetch(admin, f"/console/radio/files/{row.mp3}"))[0] == 200
