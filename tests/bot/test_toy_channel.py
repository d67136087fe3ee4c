"""A new channel is one file plus one registry line: a toy channel added that way answers a
chat and receives a notice, with the pace, buttons and push its declaration gives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

import bot.channels
from bot.app import App, build_app
from bot.channels import configured, delivery_rules
from bot.web import make_web_app
from broadcast.service import BroadcastService
from tests.bot.toy_channel import ToyChannel
from tests.broadcast.conftest import announce, broadcast_settings, status, subscribe
from tests.doubles.toy_api import ToyApiDouble
from tests.fakes import KeywordNlu


@pytest.fixture
async def toy(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path
              ) -> AsyncIterator[tuple[App, ToyApiDouble, str]]:
    api = await ToyApiDouble().start()
    # The one line a new channel adds to bot/channels/__init__.py:
    monkeypatch.setattr(bot.channels, "CHANNELS", [*bot.channels.CHANNELS, ToyChannel])
    monkeypatch.setattr(ToyChannel, "api_url", api.url)
    app = await build_app(broadcast_settings(sqlite_url, tmp_path), nlu=KeywordNlu())
    channels = configured(app)
    assert list(channels) == ["toy"]  # no credentials for the others in this test
    runner = web.AppRunner(make_web_app(app, routes=channels["toy"].routes()))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await channels["toy"].start()
    notices = BroadcastService(app.engine, app.sessionmaker, app.settings, app.content.texts,
                               channels, rules=delivery_rules(app.settings), schedule=False)
    await notices.start()
    try:
        yield app, api, f"http://127.0.0.1:{port}/webhooks/toy"
    finally:
        await notices.stop()
        await channels["toy"].stop()
        await runner.cleanup()
        await app.close()
        await api.stop()


async def test_the_toy_channel_answers_a_chat_with_numbered_options(
        toy: tuple[App, ToyApiDouble, str]) -> None:
    app, api, webhook = toy
    assert await api.say(webhook, "t1", "/start") == 200
    [menu] = await api.wait_sent("t1", 1)
    assert "Xin chào" in menu and "\n1. " in menu  # no buttons declared: options numbered
    assert await api.say(webhook, "t1", "/dangky") == 200
    sent = await api.wait_sent("t1", 2)
    # A push channel may subscribe; the consent text is cut under the declared 500 characters.
    assert app.content.text("sub.consent")[:40] in sent[1]
    assert all(len(m) <= 500 for m in sent) and "1. ✅ Tôi đồng ý" in sent[-1]


async def test_the_toy_channel_receives_a_notice_and_a_refusal_is_mapped_once(
        toy: tuple[App, ToyApiDouble, str]) -> None:
    app, api, _ = toy
    api.refuse.add("t3")
    await subscribe(app, ["t2", "t3"], channel="toy")
    nid = await announce(app, "Lịch tiêm chủng\nSáng thứ Bảy tại trạm y tế.")
    for _ in range(200):
        if api.to("t2") and (await status(app, nid)).pending == 0:
            break
        await asyncio.sleep(0.05)
    [notice] = api.to("t2")
    assert "Lịch tiêm chủng" in notice
    s = await status(app, nid)
    assert (s.sent, s.failed, s.pending) == (1, 1, 0)
