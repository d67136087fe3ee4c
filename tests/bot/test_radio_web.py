"""Radio feeds served by the web server: RSS podcast feed, M3U playlist and the MP3 files."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import App
from bot.web import make_web_app
from broadcast.radio.bulletin import build_bulletin, bulletin_dir
from broadcast.radio.engines import normalizer_for
from broadcast.radio.tts import EspeakEngine


@pytest.fixture
async def base(core: App) -> AsyncIterator[str]:
    runner = web.AppRunner(make_web_app(core))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    await runner.cleanup()


def _publish(core: App, title: str, when: dt.datetime) -> Path:
    s = core.settings
    out = bulletin_dir(s.path(s.radio.output_dir), "12454", when)
    b = build_bulletin("Ngày 15/12 tiêm chủng tại trạm y tế phường.", title=title,
                       area_code="12454", area_name="Phường Trần Lãm", priority="normal",
                       when=when, settings=s.radio, lexicon=normalizer_for(core.content.lexicon),
                       out_dir=out, engine=EspeakEngine(s.radio.espeak))
    return b.mp3


async def test_feed_playlist_and_files(core: App, base: str) -> None:
    tz = dt.timezone(dt.timedelta(hours=7))
    _publish(core, "Tiêm chủng & <vắc-xin>", dt.datetime(2026, 11, 20, 6, 0, tzinfo=tz))
    _publish(core, "Lịch cắt điện", dt.datetime(2026, 11, 21, 17, 0, tzinfo=tz))
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/radio/12454/feed.xml") as r:
            assert r.status == 200 and "rss" in r.headers["Content-Type"]
            feed = ET.fromstring(await r.text())
        items = feed.findall("./channel/item")
        assert [i.findtext("title") for i in items] == ["Lịch cắt điện", "Tiêm chủng & <vắc-xin>"]
        enclosure = items[0].find("enclosure")
        assert enclosure is not None and enclosure.get("type") == "audio/mpeg"
        url = enclosure.get("url") or ""
        # Links come from configuration (web.host and web.port here), not from the request.
        configured = core.settings.web.base_url
        assert url.startswith(configured + "/radio/files/12454/2026-11-21/")
        url = base + url[len(configured):]
        async with http.get(url) as r:
            data = await r.read()
            assert r.status == 200 and r.headers["Content-Type"] == "audio/mpeg"
            assert data[:3] == b"ID3" and len(data) == int(enclosure.get("length") or 0)
        async with http.get(f"{base}/radio/12454/playlist.m3u") as r:
            m3u = await r.text()
        assert m3u.startswith("#EXTM3U") and url.replace(base, configured) in m3u
        for bad in ("/radio/99999/feed.xml", "/radio/files/..%2F..%2Fconfig.yaml",
                    "/radio/files/12454/nope.mp3"):
            async with http.get(base + bad) as r:
                assert r.status == 404, bad


async def test_feed_links_ignore_the_host_header(core: App, base: str) -> None:
    _publish(core, "Lịch cắt điện", dt.datetime(2026, 11, 21, 17, 0,
                                                tzinfo=dt.timezone(dt.timedelta(hours=7))))
    async with aiohttp.ClientSession() as http:
        for path in ("/radio/12454/feed.xml", "/radio/12454/playlist.m3u"):
            async with http.get(base + path, headers={"Host": "evil.example"}) as r:
                body = await r.text()
            assert r.status == 200 and "evil.example" not in body
            assert f"{core.settings.web.base_url}/radio/files/12454/" in body


async def test_feed_links_use_the_public_url(core: App) -> None:
    core.settings = core.settings.model_copy(update={"web": core.settings.web.model_copy(
        update={"public_url": "https://trolyso.example.vn/"})})
    _publish(core, "Lịch cắt điện", dt.datetime(2026, 11, 21, 17, 0,
                                                tzinfo=dt.timezone(dt.timedelta(hours=7))))
    runner = web.AppRunner(make_web_app(core))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{port}/radio/12454/playlist.m3u") as r:
            m3u = await r.text()
    finally:
        await runner.cleanup()
    assert "https://trolyso.example.vn/radio/files/12454/2026-11-21/" in m3u
