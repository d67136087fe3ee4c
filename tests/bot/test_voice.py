"""🔊 Nghe: answers as voice messages on the web and on Telegram (offline espeak-ng voice)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel
from bot.speech import VoiceSpeech, speakable
from bot.web import make_web_app
from flows.types import Incoming
from tests.conftest import settings_for
from tests.doubles.telegram_api import BotApiDouble
from tests.fakes import KeywordNlu

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture
async def voiced(sqlite_url: str, tmp_path: Path) -> AsyncIterator[App]:
    settings = settings_for(sqlite_url, tmp_path)
    settings = settings.model_copy(update={
        "radio": settings.radio.model_copy(update={"engine": "espeak"}),
        "base_dir": tmp_path})
    core = await build_app(settings.model_copy(update={
        "content": settings.content.model_copy(update={
            "dir": str(CONTENT)})}),
        nlu=KeywordNlu(), speech=None)
    core.speech = VoiceSpeech(core.settings, core.content.lexicon)
    yield core
    await core.close()


def test_source_lines_and_emoji_are_not_read_aloud() -> None:
    assert speakable("💰 Lệ phí: 200.000 đồng\n\n📚 Nguồn: a.vn") == "Lệ phí: 200.000 đồng"


async def test_web_answer_offers_listen_and_serves_ogg(voiced: App) -> None:
    replies = await voiced.handle(Incoming("web", "w", button="a:cap-ho-chieu:fee",
                                           kind="button")) or []
    listen = [b.payload for b in replies[0].buttons if b.label == "🔊 Nghe"]
    assert listen == ["v:a:cap-ho-chieu:fee"]
    runner = web.AppRunner(make_web_app(voiced))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/chat",
                                 json={"session": "w", "button": listen[0]}) as r:
                body = await r.json()
            url = body["replies"][0]["audio_url"]
            assert url.startswith("/api/audio/") and url.endswith(".ogg")
            async with http.get(base + url) as r:
                data = await r.read()
            assert r.status == 200 and data[:4] == b"OggS" and len(data) < 1_000_000
            async with http.get(base + "/api/audio/..%2Fconfig.yaml") as r:
                assert r.status == 404
    finally:
        await runner.cleanup()


async def test_telegram_listen_sends_a_voice_message(voiced: App) -> None:
    api = await BotApiDouble().start()
    cfg = voiced.settings.telegram.model_copy(update={
        "token": api.token, "base_url": api.base_url, "poll_timeout_s": 1})
    channel = TelegramChannel(voiced, cfg)
    await channel.start()
    try:
        await api.tap(77, "v:a:cap-ho-chieu:fee")
        sent = await api.wait_sent(77, 2, wait_s=60)
        voice = [m for m in sent if m["method"] == "sendVoice"]
        assert voice and voice[0]["voice"]["size"] > 1000
    finally:
        await channel.stop()
        await api.stop()
