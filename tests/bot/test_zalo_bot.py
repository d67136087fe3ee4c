"""Zalo Bot Platform end to end: our channel talks HTTP to a loopback double of the Bot API."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from bot.app import App, build_app
from bot.channels.zalo_bot import SECRET_HEADER, ZaloBotChannel
from bot.web import make_web_app
from core.models import Conversation
from flows.types import Button, Incoming, Reply
from tests.bot.test_reply_pace import busiest_second
from tests.conftest import settings_for
from tests.doubles.zalo_api import BotFault, ZaloBotApiDouble
from tests.fakes import KeywordNlu

CHAT = "e4ea2cd5189df1c3a88c"
SECRET = "zalo-bot-webhook-secret-1"
HOOK_URL = "https://trolyso.example.vn/webhooks/zalo-bot"


@pytest.fixture
async def api() -> AsyncIterator[ZaloBotApiDouble]:
    double = await ZaloBotApiDouble().start()
    yield double
    await double.stop()


async def _core(sqlite_url: str, tmp_path: Path, api: ZaloBotApiDouble, **env: str) -> App:
    settings = settings_for(sqlite_url, tmp_path, ZALO_BOT_TOKEN=api.token,
                            ZALO_BOT_BASE_URL=api.base_url, **env)
    return await build_app(settings, nlu=KeywordNlu())


@pytest.fixture
async def polling(sqlite_url: str, tmp_path: Path,
                  api: ZaloBotApiDouble) -> AsyncIterator[tuple[App, ZaloBotChannel]]:
    core = await _core(sqlite_url, tmp_path, api)
    channel = ZaloBotChannel(core, core.settings.zalo.bot.model_copy(
        update={"poll_timeout_s": 1}))
    await channel.start()
    yield core, channel
    await channel.stop()
    await core.close()


@pytest.fixture
async def webhook(sqlite_url: str, tmp_path: Path,
                  api: ZaloBotApiDouble) -> AsyncIterator[tuple[App, str]]:
    core = await _core(sqlite_url, tmp_path, api, ZALO_BOT_WEBHOOK_URL=HOOK_URL,
                       ZALO_BOT_WEBHOOK_SECRET=SECRET)
    channel = ZaloBotChannel(core, core.settings.zalo.bot)
    await channel.start()
    runner = web.AppRunner(make_web_app(core, routes=channel.routes()))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield core, f"http://127.0.0.1:{port}/webhooks/zalo-bot"
    await runner.cleanup()
    await channel.stop()
    await core.close()


async def post(url: str, body: Any, secret: str | None = SECRET) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as http:
        kwargs: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
        async with http.post(url, headers=headers, **kwargs) as resp:
            return resp.status


async def count(core: App, model: type) -> int:
    async with core.sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


def options(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d+)\. ", text, flags=re.MULTILINE)]


async def test_a_full_conversation_with_numbered_options(
        polling: tuple[App, ZaloBotChannel], api: ZaloBotApiDouble) -> None:
    core, _ = polling
    await api.send_text(CHAT, "/start")
    [menu] = await api.wait_sent(CHAT, 1)
    assert "Xin chào" in menu["text"]
    assert options(menu["text"]) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert "Gõ số để chọn" in menu["text"]

    await api.send_text(CHAT, "1")  # the first door: public services
    groups = (await api.wait_sent(CHAT, 2))[-1]
    assert "nhóm" in groups["text"] and options(groups["text"])[0] == 1

    await api.send_text(CHAT, "làm hộ chiếu")
    intro = (await api.wait_sent(CHAT, 3))[-1]
    assert "hộ chiếu" in intro["text"].lower()
    await api.send_text(CHAT, "1")  # start the walkthrough
    step = (await api.wait_sent(CHAT, 4))[-1]
    steps = len(core.content.services["cap-ho-chieu"].steps)
    assert f"Bước 1/{steps}" in step["text"]
    for i in range(steps):
        await api.send_text(CHAT, "2")  # "next" is the second option on every step
        last = (await api.wait_sent(CHAT, 5 + i))[-1]
    assert "Tóm tắt" in last["text"] and "Lệ phí" in last["text"]


async def test_polling_clears_a_webhook_first(
        polling: tuple[App, ZaloBotChannel], api: ZaloBotApiDouble) -> None:
    await api.send_text(CHAT, "/start")
    await api.wait_sent(CHAT, 1)
    assert api.calls[0][0] == "deleteWebhook"


async def test_polling_rides_out_an_outage(
        polling: tuple[App, ZaloBotChannel], api: ZaloBotApiDouble) -> None:
    _, channel = polling
    api.faults.append(BotFault("getUpdates", 502, "Bad Gateway", times=2))
    await api.send_text(CHAT, "/start")
    [menu] = await api.wait_sent(CHAT, 1)
    assert "Xin chào" in menu["text"]
    assert channel.health() == "ok"  # /healthz: degraded only while the platform is lost


@pytest.mark.parametrize("error", ["operational", "refused"])
async def test_polled_updates_wait_out_a_database_outage_and_are_answered_once(
        db_url: str, tmp_path: Path, api: ZaloBotApiDouble, monkeypatch: pytest.MonkeyPatch,
        error: str) -> None:
    """getUpdates has no offset: a fetched update exists only in memory until stored. The
    database refuses the inbox 8 times (the old code gave up after 6 and lost the update); the
    update is held, nothing more is fetched meanwhile, and every update is answered once."""
    monkeypatch.setattr(ZaloBotChannel, "STORE_FIRST_WAIT_S", 0.01)
    monkeypatch.setattr(ZaloBotChannel, "STORE_MAX_WAIT_S", 0.05)
    core = await _core(db_url, tmp_path, api)
    channel = ZaloBotChannel(core, core.settings.zalo.bot.model_copy(
        update={"poll_timeout_s": 1}))
    refusals = 8
    fetched_at_refusal: list[int] = []
    health_at_refusal: list[str] = []

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal refusals
        if refusals > 0 and statement.lstrip().upper().startswith("INSERT INTO INBOX"):
            refusals -= 1
            fetched_at_refusal.append(api.count("getUpdates"))
            health_at_refusal.append(channel.health())
            if error == "refused":  # asyncpg's own error when the server is gone: not wrapped
                raise ConnectionRefusedError(111, "Connection refused")
            raise OperationalError(statement, None, Exception("database is unavailable"))

    event.listen(core.engine.sync_engine, "before_cursor_execute", refuse)
    chats = ["zb-outage-1", "zb-outage-2", "zb-outage-3"]
    try:
        await channel.start()
        for chat in chats:
            await api.send_text(chat, "/start")
        for chat in chats:
            [menu] = await api.wait_sent(chat, 1, wait_s=20)
            assert "Xin chào" in menu["text"]
        assert refusals == 0
        # The first update was held through all 8 refusals without fetching the next one.
        assert len(set(fetched_at_refusal)) == 1
        assert health_at_refusal[1:] == ["degraded"] * 7
        assert channel.health() == "ok"
        await asyncio.sleep(1.2)  # a further long poll: nothing is answered twice
        assert [len(api.messages_to(c)) for c in chats] == [1, 1, 1]
        assert await core.inbox.counts() == {"done": 3}
    finally:
        await channel.stop()
        event.remove(core.engine.sync_engine, "before_cursor_execute", refuse)
        await core.close()


async def test_replies_of_two_processes_share_the_zalo_pace(
        db_url: str, tmp_path: Path, api: ZaloBotApiDouble) -> None:
    """Two processes (two engines on one database) replying at once stay within
    broadcast.zalo_per_second together: one bucket in the database, shared with notices."""
    cores = [await _core(db_url, tmp_path / str(i), api) for i in range(2)]
    channels = [ZaloBotChannel(c, c.settings.zalo.bot.model_copy(update={"poll_timeout_s": 1}))
                for c in cores]
    for ch in channels:
        await ch.start()
    try:
        ok = await asyncio.gather(*(channels[i % 2].send(f"zb-{i}", [Reply(f"Trả lời {i}")])
                                    for i in range(30)))
        assert ok == [True] * 30
        times = [m["at"] for m in api.sent]
        rate = cores[0].settings.broadcast.zalo_per_second
        print(f"\n30 replies in {max(times) - min(times):.1f} s; busiest second "
              f"{busiest_second(times)} (rate {rate})")
        assert len(times) == 30 and busiest_second(times) <= rate
    finally:
        for ch in channels:
            await ch.stop()
        for c in cores:
            await c.close()


async def test_images_and_stickers_get_a_short_polite_text_answer(
        polling: tuple[App, ZaloBotChannel], api: ZaloBotApiDouble) -> None:
    await api.push(api.update(CHAT, kind="image"))
    await api.push(api.update(CHAT, kind="sticker", event_name=False))
    sent = await api.wait_sent(CHAT, 2)
    assert all("chỉ đọc được tin nhắn chữ" in m["text"] for m in sent)


async def test_group_messages_are_not_answered(
        polling: tuple[App, ZaloBotChannel], api: ZaloBotApiDouble) -> None:
    await api.push(api.update("group-1", "/start", chat_type="GROUP"))
    await api.send_text(CHAT, "/start")
    await api.wait_sent(CHAT, 1)
    assert api.messages_to("group-1") == []


async def test_long_answers_are_split_under_2000_characters_with_the_options_last(
        polling: tuple[App, ZaloBotChannel], api: ZaloBotApiDouble) -> None:
    _, channel = polling
    long = "\n\n".join(f"Đoạn {i}. " + "Chữ rất dài. " * 60 for i in range(6))
    reply = Reply(long, [Button("Có", "y"), Button("Không", "n")])
    assert await channel.send(CHAT, [reply])
    sent = [m["text"] for m in api.messages_to(CHAT)]
    assert len(sent) > 1 and all(len(t) <= 2000 for t in sent)
    assert all(t.endswith(".") for t in sent[:-1])  # cut between sentences, not inside words
    assert options(sent[-1]) == [1, 2] and not any(options(t) for t in sent[:-1])


async def test_a_wrong_token_stops_start_with_a_clear_error(
        sqlite_url: str, tmp_path: Path, api: ZaloBotApiDouble) -> None:
    core = await _core(sqlite_url, tmp_path, api)
    channel = ZaloBotChannel(core, core.settings.zalo.bot.model_copy(update={"token": "1:bad"}))
    try:
        with pytest.raises(RuntimeError, match="refused"):
            await channel.start()
    finally:
        await channel.stop()
        await core.close()


async def test_webhook_mode_registers_the_url_and_secret(
        webhook: tuple[App, str], api: ZaloBotApiDouble) -> None:
    assert api.webhook == {"url": HOOK_URL, "secret_token": SECRET}


async def test_webhook_refuses_a_wrong_or_missing_secret_and_changes_nothing(
        webhook: tuple[App, str], api: ZaloBotApiDouble) -> None:
    core, url = webhook
    update = {"ok": True, "result": api.update(CHAT, "/start")}
    assert await post(url, update, secret=None) == 403
    assert await post(url, update, secret="wrong-secret-value") == 403
    await asyncio.sleep(0.3)
    assert api.messages_to(CHAT) == []
    assert await count(core, Conversation) == 0


async def test_webhook_answers_400_to_a_body_that_is_not_json(
        webhook: tuple[App, str], api: ZaloBotApiDouble) -> None:
    _, url = webhook
    assert await post(url, b"{not json") == 400


async def test_webhook_accepts_wrapped_and_flat_bodies(
        webhook: tuple[App, str], api: ZaloBotApiDouble) -> None:
    _, url = webhook
    assert await post(url, {"ok": True, "result": api.update(CHAT, "/start")}) == 200
    assert await post(url, api.update("flat-user", "/start")) == 200
    assert "Xin chào" in (await api.wait_sent(CHAT, 1))[0]["text"]
    assert "Xin chào" in (await api.wait_sent("flat-user", 1))[0]["text"]


async def test_a_duplicate_delivery_is_answered_once(
        webhook: tuple[App, str], api: ZaloBotApiDouble) -> None:
    _, url = webhook
    update = {"ok": True, "result": api.update(CHAT, "/start")}
    assert await post(url, update) == 200
    await api.wait_sent(CHAT, 1)
    assert await post(url, update) == 200
    await asyncio.sleep(0.5)
    assert len(api.messages_to(CHAT)) == 1


async def test_an_update_that_cannot_be_stored_is_not_acknowledged(
        webhook: tuple[App, str], api: ZaloBotApiDouble) -> None:
    core, url = webhook
    update = {"ok": True, "result": api.update(CHAT, "/start")}
    async with core.engine.begin() as conn:  # the database refuses writes to the inbox
        await conn.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))
    assert await post(url, update) == 503  # Zalo delivers it again
    async with core.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))
    assert await post(url, update) == 200
    assert "Xin chào" in (await api.wait_sent(CHAT, 1))[0]["text"]


async def test_a_stalled_database_gets_a_503_in_time_and_the_update_is_answered_once(
        webhook: tuple[App, str], api: ZaloBotApiDouble, sqlite_url: str) -> None:
    """Another process holds SQLite's write lock for 3 s: the webhook answers 503 in time
    instead of after the lock, the update is stored once the lock goes and answered, and a
    redelivery is recognised."""
    _, url = webhook
    update = {"ok": True, "result": api.update(CHAT, "/start")}
    other = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        status = await post(url, update)
        took = time.monotonic() - started
        await asyncio.sleep(max(0.0, 3.0 - took))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert status == 503 and took < 2.0
    assert "Xin chào" in (await api.wait_sent(CHAT, 1))[0]["text"]
    assert await post(url, update) == 200
    await asyncio.sleep(0.5)
    assert len(api.messages_to(CHAT)) == 1


async def test_a_notice_reaches_a_user_who_wrote_to_the_bot(
        polling: tuple[App, ZaloBotChannel], api: ZaloBotApiDouble) -> None:
    core, channel = polling
    await core.handle(Incoming("zalo_bot", CHAT, text="/start"))
    outcome = await channel.deliver(CHAT, "Lịch tiêm chủng tuần này: thứ Bảy, 7 giờ.")
    assert outcome.status == "sent" and outcome.platform_id
    assert api.messages_to(CHAT)[-1]["text"] == "Lịch tiêm chủng tuần này: thứ Bảy, 7 giờ."


async def test_a_notice_to_a_user_who_never_wrote_fails_with_a_reason(
        polling: tuple[App, ZaloBotChannel], api: ZaloBotApiDouble) -> None:
    _, channel = polling
    outcome = await channel.deliver("stranger", "Thông báo")
    assert outcome.status == "failed" and "never wrote" in (outcome.reason or "")
    assert api.count("sendMessage") == 0


@pytest.mark.parametrize("status", [429, 502])
async def test_a_notice_hit_by_429_or_5xx_is_retried_later(
        polling: tuple[App, ZaloBotChannel], api: ZaloBotApiDouble, status: int) -> None:
    core, channel = polling
    await core.handle(Incoming("zalo_bot", CHAT, text="/start"))
    api.faults.append(BotFault("sendMessage", status, "Too Many Requests or Bad Gateway"))
    outcome = await channel.deliver(CHAT, "Thông báo")
    assert outcome.status == "retry"
