"""A photo or PDF sent with a notice: checked by content, sent with sendPhoto/sendDocument
over the Bot API double (uploaded once, then by file_id), a link for channels without files,
served at /files/<token>."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.web import make_web_app
from broadcast import announcements, attachments
from broadcast.types import Actor, Draft, NoticeError
from tests.broadcast.conftest import FakeChannel, make_core, sender_for, settle, subscribe
from tests.doubles.telegram_api import BotApiDouble

AREA = "12454"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"x" * 300


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    double = await BotApiDouble().start()
    yield double
    await double.stop()


@pytest.fixture
async def tg(sqlite_url: str, tmp_path: Path,
             api: BotApiDouble) -> AsyncIterator[tuple[App, TelegramChannel]]:
    core = await make_core(sqlite_url, tmp_path, {"TELEGRAM_TOKEN": api.token,
                                                  "TELEGRAM_BASE_URL": api.base_url})
    core.settings = core.settings.model_copy(update={"web": core.settings.web.model_copy(
        update={"public_url": "https://trolyso.example.vn"})})
    channel = TelegramChannel(core, core.settings.telegram)
    yield core, channel
    await channel.stop()
    await core.close()


def test_files_are_checked_by_content_and_size(tmp_path: Path) -> None:
    from tests.conftest import settings_for

    s = settings_for("sqlite://", tmp_path)
    assert attachments.check(s, "Ảnh lịch tiêm.png", PNG).kind == "photo"
    f = attachments.check(s, "C:\\docs\\Quyết định số 12.PDF", PDF)
    assert (f.kind, f.mime, f.filename) == ("document", "application/pdf", "Quyet-dinh-so-12.pdf")
    with pytest.raises(NoticeError) as bad:
        attachments.check(s, "photo.png", b"<html><script>alert(1)</script>")
    assert bad.value.code == "bad_file"
    with pytest.raises(NoticeError) as big:
        attachments.check(s, "big.pdf", PDF + b"x" * s.broadcast.attachment_max_bytes)
    assert big.value.code == "too_big"


async def _notice(core: App, data: bytes, name: str, text: str = "Lịch tiêm\nSáng mai.") -> int:
    async with core.sessionmaker() as s, s.begin():
        ann = await announcements.create(
            s, core.settings, core.content.texts, Actor.cli("t"),
            Draft(text=text, areas=[AREA], topics=["chung"]),
            attachment=attachments.check(core.settings, name, data))
        return ann.id


async def test_telegram_gets_the_photo_with_the_notice_as_caption_uploaded_once(
        tg: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    core, channel = tg
    await subscribe(core, ["101", "102", "103"], areas=[AREA])
    await _notice(core, PNG, "lich.png")
    sender = sender_for(core)
    sender.channels = {"telegram": channel}
    await settle(sender, core)
    photos = [m for m in api.sent if m["method"] == "sendPhoto"]
    assert sorted(m["chat_id"] for m in photos) == ["101", "102", "103"]
    assert all(m["caption"].startswith("<b>📢 THÔNG BÁO: Lịch tiêm</b>") for m in photos)
    uploads = [m for m in photos if isinstance(m["photo"], dict)]
    assert len(uploads) == 1 and uploads[0]["photo"]["size"] == len(PNG)
    assert not [m for m in api.sent if m["method"] == "sendMessage"]


async def test_a_long_notice_goes_first_and_the_pdf_follows_with_the_title(
        tg: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    core, channel = tg
    await subscribe(core, ["201"], areas=[AREA])
    await _notice(core, PDF, "qd.pdf", text="Quyết định mới\n" + "Nội dung dài. " * 100)
    sender = sender_for(core)
    sender.channels = {"telegram": channel}
    await settle(sender, core)
    methods = [m["method"] for m in api.sent if m["chat_id"] == "201"]
    assert methods == ["sendMessage", "sendDocument"]
    doc = api.sent[-1]
    assert doc["caption"] == "<b>📢 THÔNG BÁO: Quyết định mới</b>"
    assert doc["document"]["filename"] == "qd.pdf"


async def test_channels_without_files_get_a_link_that_serves_the_file(
        tg: tuple[App, TelegramChannel]) -> None:
    core, _ = tg
    await subscribe(core, ["z1"], channel="zalo_bot", areas=[AREA])
    notice_id = await _notice(core, PDF, "qd.pdf")
    zalo = FakeChannel(name="zalo_bot")
    await settle(sender_for(core, zalo), core)
    [text] = zalo.to("z1")
    line = text.rsplit("\n", 1)[-1]
    assert line.startswith("📎 Xem văn bản, hình ảnh kèm theo: https://trolyso.example.vn/files/")
    token = line.rsplit("/", 1)[1]
    runner = web.AppRunner(make_web_app(core, console=False))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/files/{token}") as r:
                assert r.status == 200 and await r.read() == PDF
                assert r.headers["Content-Type"] == "application/pdf"
                assert "sandbox" in r.headers["Content-Security-Policy"]
            async with http.get(f"http://127.0.0.1:{port}/files/{'x' * 32}") as r:
                assert r.status == 404
    finally:
        await runner.cleanup()
    assert notice_id
