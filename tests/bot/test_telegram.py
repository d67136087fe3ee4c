"""Telegram end to end: python-telegram-bot talks HTTP to our Bot API double on loopback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select, text

from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel
from bot.web import make_web_app
from core.models import Conversation, User
from tests.conftest import settings_for
from tests.doubles.telegram_api import BotApiDouble, Fault
from tests.fakes import KeywordNlu

CHAT = 5551234


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    double = await BotApiDouble().start()
    yield double
    await double.stop()


async def _core(sqlite_url: str, tmp_path: Path, api: BotApiDouble, **env: str) -> App:
    settings = settings_for(sqlite_url, tmp_path, TELEGRAM_TOKEN=api.token,
                            TELEGRAM_BASE_URL=api.base_url, **env)
    return await build_app(settings, nlu=KeywordNlu())


@pytest.fixture
async def polling(sqlite_url: str, tmp_path: Path,
                  api: BotApiDouble) -> AsyncIterator[tuple[App, TelegramChannel]]:
    core = await _core(sqlite_url, tmp_path, api)
    channel = TelegramChannel(core, core.settings.telegram.model_copy(
        update={"poll_timeout_s": 1}))
    await channel.start()
    yield core, channel
    await channel.stop()
    await core.close()


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row]


async def test_start_menu_taps_and_a_full_walkthrough(
        polling: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    core, _ = polling
    await api.send_text(CHAT, "/start")
    [menu] = await api.wait_sent(CHAT, 1)
    assert "Xin chào" in menu["text"] and menu["parse_mode"] == "HTML"
    assert buttons(menu) == ["svc", "t:crime", "t:legal", "t:vneid", "t:scam", "sub", "em", "hu"]

    await api.tap(CHAT, "svc")
    groups = (await api.wait_sent(CHAT, 2))[-1]
    assert "g:cu-tru" in buttons(groups)
    assert len(api.answered_callbacks()) == 1  # the spinner is always stopped

    steps = len(core.content.services["cap-ho-chieu"].steps)
    await api.tap(CHAT, "s:cap-ho-chieu")
    await api.wait_sent(CHAT, 3)
    for i in range(steps + 1):
        await api.tap(CHAT, f"st:cap-ho-chieu:{i}")
        last = (await api.wait_sent(CHAT, 4 + i))[-1]
    assert "Tóm tắt" in last["text"] and "Lệ phí" in last["text"]
    assert all(len(d.encode()) <= 64 for m in api.sent for d in buttons(m))


async def test_free_text_and_emergency_first(
        polling: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    await api.send_text(CHAT, "làm hộ chiếu hết bao nhiêu tiền")
    [fee] = await api.wait_sent(CHAT, 1)
    assert "Lệ phí" in fee["text"].split("\n")[0]
    await api.send_text(CHAT, "cháy nhà rồi cứu với")
    emergency = (await api.wait_sent(CHAT, 2))[-1]
    assert "114" in emergency["text"] and "113" in emergency["text"]


async def test_text_is_escaped_for_html(
        polling: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    await api.send_text(CHAT, "<b>gia vang</b> & <script>")
    [reply] = await api.wait_sent(CHAT, 1)
    assert "<script>" not in reply["text"]


async def test_unsure_offers_guesses_and_a_person(
        polling: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    await api.send_text(CHAT, "cái này mơ hồ")
    [reply] = await api.wait_sent(CHAT, 1)
    assert buttons(reply)[:3] == ["s:cap-ho-chieu", "i:legal_help", "s:dang-ky-khai-sinh"]
    assert "hu" in buttons(reply)


async def test_a_user_who_blocked_the_bot_is_marked_blocked(
        polling: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    core, _ = polling
    api.blocked.add(str(CHAT))
    await api.send_text(CHAT, "/start")
    deadline = time.monotonic() + 10
    blocked_at = None
    while time.monotonic() < deadline and blocked_at is None:
        await asyncio.sleep(0.05)
        async with core.sessionmaker() as s:
            blocked_at = (await s.execute(select(User.blocked_at).where(
                User.user_id == str(CHAT)))).scalar_one_or_none()
    assert blocked_at is not None


async def test_a_429_waits_retry_after_then_delivers(
        polling: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    api.faults.append(Fault("sendMessage", 429, "Too Many Requests: retry after 1",
                            retry_after=1))
    started = time.monotonic()
    await api.send_text(CHAT, "/start")
    [menu] = await api.wait_sent(CHAT, 1)
    assert menu["at"] - started >= 1.0
    assert sum(1 for m, _ in api.calls if m == "sendMessage") == 2


async def test_a_malformed_update_is_rejected_and_the_next_one_answered(
        polling: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    await api.push({"message": "not an object", "update_id": 1})
    await api.push({"callback_query": {"id": "x", "data": "svc"}})  # missing required fields
    await api.send_text(CHAT, "/start")
    [menu] = await api.wait_sent(CHAT, 1)
    assert "Xin chào" in menu["text"]


async def test_polling_confirms_an_update_only_once_it_is_stored(
        polling: tuple[App, TelegramChannel], api: BotApiDouble,
        caplog: pytest.LogCaptureFixture) -> None:
    """The getUpdates offset moves past an update only after the inbox committed it: while the
    database refuses it, Telegram keeps it; once it accepts, it is answered."""
    core, _ = polling
    caplog.set_level(logging.WARNING, logger="bot.channels.telegram")
    async with core.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))
    await api.send_text(CHAT, "/start")
    deadline = time.monotonic() + 10  # the poller fetched it and could not store it
    while not any("updates not stored" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the poller never tried to store the update"
        await asyncio.sleep(0.02)
    assert api.messages_to(CHAT) == []
    assert [u["update_id"] for u in api._updates]  # not confirmed by an offset
    async with core.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))
    [menu] = await api.wait_sent(CHAT, 1, wait_s=30)
    assert "Xin chào" in menu["text"]


async def test_unknown_callback_data_gets_a_clear_answer(
        polling: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    await api.tap(CHAT, "x" * 64)
    [reply] = await api.wait_sent(CHAT, 1)
    assert "cũ" in reply["text"]


async def test_long_answers_are_split_under_4096_characters(
        polling: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    from flows.types import Reply

    _, channel = polling
    long = "\n\n".join(f"Đoạn {i}. " + "chữ " * 200 for i in range(12))
    assert await channel.send(str(CHAT), [Reply(long)])
    sent = api.messages_to(CHAT)
    assert len(sent) > 1 and all(len(m["text"]) <= 4096 for m in sent)


async def test_webhook_checks_the_secret(sqlite_url: str, tmp_path: Path,
                                         api: BotApiDouble) -> None:
    core = await _core(sqlite_url, tmp_path, api,
                       TELEGRAM_WEBHOOK_URL="https://example.vn/webhooks/telegram",
                       TELEGRAM_WEBHOOK_SECRET="s3cret-Token_1")
    channel = TelegramChannel(core, core.settings.telegram)
    await channel.start()
    assert api.webhook == {"url": "https://example.vn/webhooks/telegram",
                           "secret_token": "s3cret-Token_1"}
    runner = web.AppRunner(make_web_app(core, routes=channel.routes()))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/webhooks/telegram"
    update = api.message_update(CHAT, "/start")
    try:
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, json=update, headers=headers) as resp:
                    assert resp.status == 403
            await asyncio.sleep(0.2)
            assert api.messages_to(CHAT) == []
            async with core.sessionmaker() as s:
                assert (await s.execute(select(Conversation))).first() is None
            good = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}
            async with http.post(url, data=b"{not json", headers=good) as resp:
                assert resp.status == 400
            # Not stored, not acknowledged: Telegram sends it again.
            async with core.engine.begin() as conn:
                await conn.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))
            async with http.post(url, json=update, headers=good) as resp:
                assert resp.status == 503
            async with core.engine.begin() as conn:
                await conn.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))
            async with http.post(url, json=update, headers=good) as resp:
                assert resp.status == 200
            [menu] = await api.wait_sent(CHAT, 1)
            assert "Xin chào" in menu["text"]
            async with http.post(url, json=update, headers=good) as resp:  # a redelivery
                assert resp.status == 200
            await asyncio.sleep(0.3)
            assert len(api.messages_to(CHAT)) == 1
    finally:
        await runner.cleanup()
        await channel.stop()
        await core.close()
