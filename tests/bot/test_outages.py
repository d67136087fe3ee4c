"""Outages: Telegram unreachable at start does not stop the server; /healthz says which channel
is degraded and answers from a read; the admins hear about it once, on a channel that works."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import bot.channels
from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel
from bot.health import OutageMonitor
from bot.web import make_web_app
from core.config import AdminCfg
from core.db import utcnow
from core.models import Announcement, OutboxItem, Run
from tests.bot.toy_channel import ToyChannel
from tests.conftest import settings_for
from tests.doubles.telegram_api import BotApiDouble
from tests.doubles.toy_api import ToyApiDouble
from tests.fakes import KeywordNlu

CHAT = 5550001


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _serve(app: App) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(make_web_app(app))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def _get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        return r.status, await r.json()


async def _until(check: Any, wait_s: float = 20) -> None:
    deadline = time.monotonic() + wait_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


@pytest.fixture
async def down(sqlite_url: str, tmp_path: Path) -> AsyncIterator[tuple[App, BotApiDouble, str]]:
    """The server with Telegram unreachable: the double's port is closed until started."""
    tg = BotApiDouble(port=_free_port())
    settings = settings_for(sqlite_url, tmp_path, TELEGRAM_TOKEN=tg.token,
                            TELEGRAM_BASE_URL=tg.base_url)
    settings = settings.model_copy(update={"telegram": settings.telegram.model_copy(
        update={"poll_timeout_s": 1, "reconnect_max_s": 1})})
    app = await build_app(settings, nlu=KeywordNlu())
    channel = TelegramChannel(app, app.settings.telegram)
    await channel.start()  # returns: the retries run in the background
    app.channels = {"telegram": channel}
    runner, base = await _serve(app)
    try:
        yield app, tg, base
    finally:
        await channel.stop()
        await runner.cleanup()
        await app.close()
        await tg.stop()


async def test_telegram_down_at_start_web_chat_answers_and_health_says_degraded(
        down: tuple[App, BotApiDouble, str]) -> None:
    app, tg, base = down
    status, health = await _get(base + "/healthz")
    assert status == 200 and health["status"] == "ok" and health["database"] == "ok"
    assert health["channels"] == {"web": "ok", "telegram": "degraded"}

    async with aiohttp.ClientSession() as http, http.post(
            base + "/api/chat", json={"session": "w1", "text": "/start"}) as r:
        assert r.status == 200 and "Xin chào" in (await r.json())["replies"][0]["text"]

    await tg.start()  # Telegram is back: the channel connects without a restart
    await _until(lambda: app.channels["telegram"].health() == "ok")
    await tg.send_text(CHAT, "/start")
    [menu] = await tg.wait_sent(CHAT, 1, wait_s=20)
    assert "Xin chào" in menu["text"]
    _, health = await _get(base + "/healthz")
    assert health["channels"]["telegram"] == "ok"


async def test_healthz_answers_while_another_process_holds_the_write_lock(
        core: App, sqlite_url: str) -> None:
    runner, base = await _serve(core)
    db = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")  # another writer, for as long as this test runs
        db.execute("UPDATE users SET channel = channel")
        started = time.monotonic()
        status, health = await _get(base + "/healthz")
        assert time.monotonic() - started < 2
        assert status == 200 and health["status"] == "ok"
    finally:
        db.execute("ROLLBACK")
        db.close()
        await runner.cleanup()


@pytest.fixture
async def watched(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path
                  ) -> AsyncIterator[tuple[App, ToyApiDouble, TelegramChannel]]:
    """Telegram down, an admin on a working (toy) channel, alerts after 0 s."""
    toy = await ToyApiDouble().start()
    monkeypatch.setattr(bot.channels, "CHANNELS", [*bot.channels.CHANNELS, ToyChannel])
    monkeypatch.setattr(ToyChannel, "api_url", toy.url)
    settings = settings_for(sqlite_url, tmp_path, TELEGRAM_TOKEN="1:x",
                            TELEGRAM_BASE_URL=f"http://127.0.0.1:{_free_port()}/bot")
    settings = settings.model_copy(update={
        "admins": [AdminCfg(channel="toy", user_id="admin1"),
                   AdminCfg(channel="telegram", user_id="42")],
        "health": settings.health.model_copy(update={"degraded_alert_s": 0,
                                                     "failed_deliveries": 3}),
        "telegram": settings.telegram.model_copy(update={"reconnect_max_s": 1})})
    app = await build_app(settings, nlu=KeywordNlu())
    tg = TelegramChannel(app, app.settings.telegram)
    await tg.start()
    toy_channel = ToyChannel(app)
    await toy_channel.start()
    app.channels = {"telegram": tg, "toy": toy_channel}
    try:
        yield app, toy, tg
    finally:
        await toy_channel.stop()
        await tg.stop()
        await app.close()
        await toy.stop()


async def test_admins_hear_of_a_degraded_channel_once_per_episode_on_a_working_one(
        watched: tuple[App, ToyApiDouble, TelegramChannel]) -> None:
    app, toy, tg = watched
    monitor = OutageMonitor(app.settings, app.sessionmaker, app.content.texts, app.channels)
    [alert] = await monitor.check()
    assert "telegram" in alert and "không kết nối được" in alert
    assert toy.to("admin1") == [alert]  # not to the admin on Telegram, which is down
    assert await monitor.check() == []  # the same episode: told once
    tg._degraded_since = None  # Telegram came back: the episode ends...
    assert await monitor.check() == []
    tg._degraded_since = time.monotonic() - 1  # ...and a new one is told again
    assert len(await monitor.check()) == 1 and len(toy.to("admin1")) == 2


async def test_admins_hear_when_notice_deliveries_keep_failing(
        watched: tuple[App, ToyApiDouble, TelegramChannel]) -> None:
    app, toy, tg = watched
    tg._degraded_since = None  # only the deliveries fail here
    now = utcnow()
    async with app.sessionmaker() as s, s.begin():
        ann = Announcement(title="t", text="b", author="cli:test", areas=["13225"],
                           topics=["chung"], priority="normal", state="sending", first_at=now)
        s.add(ann)
        await s.flush()
        run = Run(announcement_id=ann.id, planned_for=now, text="b")
        s.add(run)
        await s.flush()
        for i in range(3):
            s.add(OutboxItem(run_id=run.id, channel="telegram", user_id=str(i), state="pending",
                             attempts=2, attempted_at=now - dt.timedelta(seconds=30),
                             reason="Telegram: connection refused"))
    monitor = OutageMonitor(app.settings, app.sessionmaker, app.content.texts, app.channels)
    [alert] = await monitor.check()
    assert "3 lần" in alert and "connection refused" in alert
    assert toy.to("admin1") == [alert]
    async with app.sessionmaker() as s, s.begin():  # one notice goes out: not failing now
        s.add(OutboxItem(run_id=run.id, channel="telegram", user_id="9", state="sent",
                         attempted_at=now, sent_at=now))
    assert await monitor.check() == []
    assert json.dumps(app.channel_health()) == '{"web": "ok", "telegram": "ok", "toy": "ok"}'


async def test_zalo_bot_unreachable_at_start_is_degraded_until_it_answers(
        sqlite_url: str, tmp_path: Path) -> None:
    from bot.channels.zalo_bot import ZaloBotChannel
    from tests.doubles.zalo_api import ZaloBotApiDouble

    zb = ZaloBotApiDouble(port=_free_port())
    settings = settings_for(sqlite_url, tmp_path, ZALO_BOT_TOKEN=zb.token,
                            ZALO_BOT_BASE_URL=zb.base_url)
    app = await build_app(settings, nlu=KeywordNlu())
    channel = ZaloBotChannel(app, app.settings.zalo.bot.model_copy(update={"poll_timeout_s": 1}))
    try:
        await channel.start()
        assert channel.health() == "degraded" and channel.degraded_for() >= 0
        await zb.start()
        await _until(lambda: channel.health() == "ok")
    finally:
        await channel.stop()
        await app.close()
        await zb.stop()


async def test_zalo_oa_unreachable_at_start_is_degraded_until_it_answers(
        monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path) -> None:
    from bot.channels.zalo_oa import ZaloOaChannel
    from tests.doubles.zalo_api import ZaloOaApiDouble

    monkeypatch.setattr(ZaloOaChannel, "PROBE_FIRST_WAIT_S", 0.05)
    monkeypatch.setattr(ZaloOaChannel, "PROBE_MAX_WAIT_S", 0.2)
    oa = ZaloOaApiDouble(port=_free_port())  # not started: nothing listens
    settings = settings_for(
        sqlite_url, tmp_path, ZALO_OA_APP_ID=oa.app_id, ZALO_OA_APP_SECRET=oa.app_secret,
        ZALO_OA_SECRET_KEY=oa.secret_key, ZALO_OA_ACCESS_TOKEN="AT-1",
        ZALO_OA_REFRESH_TOKEN="RT-1", ZALO_OA_BASE_URL=oa.base_url,
        ZALO_OAUTH_BASE_URL=oa.base_url)
    app = await build_app(settings, nlu=KeywordNlu())
    channel = ZaloOaChannel(app, app.settings.zalo.oa)
    try:
        await channel.start()  # does not stop start-up
        assert channel.health() == "degraded"
        await oa.start()
        await _until(lambda: channel.health() == "ok", wait_s=10)
        assert oa.sent == [] and oa.count("/v2.0/oa/getoa") >= 1
    finally:
        await channel.stop()
        await app.close()
        await oa.stop()


@pytest.mark.parametrize("cause", ["api unreachable", "token refresh fails"])
async def test_zalo_oa_in_trouble_is_degraded_told_and_recovers_by_itself(
        monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path, cause: str) -> None:
    """The OA API unreachable, or the token cannot be refreshed (the OAuth server is down):
    /healthz says degraded, the admins hear it on a working channel, and once Zalo answers
    again the channel's own probe (a read that sends nothing) brings it back to ok."""
    from bot.channels.zalo_oa import ZaloOaChannel
    from tests.doubles.zalo_api import ZaloOaApiDouble

    monkeypatch.setattr(ZaloOaChannel, "PROBE_FIRST_WAIT_S", 0.05)
    monkeypatch.setattr(ZaloOaChannel, "PROBE_MAX_WAIT_S", 0.2)
    oa = await ZaloOaApiDouble(port=_free_port()).start()
    toy = await ToyApiDouble().start()
    monkeypatch.setattr(bot.channels, "CHANNELS", [*bot.channels.CHANNELS, ToyChannel])
    monkeypatch.setattr(ToyChannel, "api_url", toy.url)
    settings = settings_for(
        sqlite_url, tmp_path, ZALO_OA_APP_ID=oa.app_id, ZALO_OA_APP_SECRET=oa.app_secret,
        ZALO_OA_SECRET_KEY=oa.secret_key, ZALO_OA_ACCESS_TOKEN="AT-1",
        ZALO_OA_REFRESH_TOKEN="RT-1", ZALO_OA_BASE_URL=oa.base_url,
        ZALO_OAUTH_BASE_URL=oa.base_url)
    settings = settings.model_copy(update={
        "admins": [AdminCfg(channel="toy", user_id="admin1")],
        "health": settings.health.model_copy(update={"degraded_alert_s": 0})})
    app = await build_app(settings, nlu=KeywordNlu())
    channel = ZaloOaChannel(app, app.settings.zalo.oa)
    toy_channel = ToyChannel(app)
    await channel.start()
    await toy_channel.start()
    app.channels = {"zalo_oa": channel, "toy": toy_channel}
    runner, base = await _serve(app)
    monitor = OutageMonitor(app.settings, app.sessionmaker, app.content.texts, app.channels)
    try:
        assert channel.health() == "ok"
        if cause == "api unreachable":
            await oa.stop()  # nothing listens on its port
        else:
            oa.expire_access_token()
            oa.oauth_down = True
        outcome = await channel.deliver("8756287263669629130", "Thông báo họp tổ dân phố.")
        assert outcome.status == "retry"  # the notice waits in the outbox
        _, health = await _get(base + "/healthz")
        assert health["status"] == "ok" and health["channels"]["zalo_oa"] == "degraded"
        [alert] = await monitor.check()
        assert "zalo_oa" in alert and toy.to("admin1") == [alert]
        await asyncio.sleep(0.5)  # probes while Zalo is still in trouble
        assert channel.health() == "degraded" and await monitor.check() == []  # told once

        if cause == "api unreachable":
            await oa.start()  # the same port: Zalo answers again
        else:
            oa.oauth_down = False
        await _until(lambda: channel.health() == "ok", wait_s=10)  # no message needed
        _, health = await _get(base + "/healthz")
        assert health["channels"]["zalo_oa"] == "ok"
        assert await monitor.check() == [] and monitor.open == set()
        assert oa.sent == []  # the probe sends nothing to anyone
        if cause == "token refresh fails":
            assert set(oa.refresh_attempts) == {"RT-1"} and len(oa.refresh_attempts) >= 2
            assert oa.access_token == "AT-2"
    finally:
        await runner.cleanup()
        await toy_channel.stop()
        await channel.stop()
        await app.close()
        await toy.stop()
        await oa.stop()
