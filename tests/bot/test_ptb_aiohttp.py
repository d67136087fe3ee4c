"""The aiohttp request backend for python-telegram-bot, against a loopback server."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

os.environ.setdefault("PTB_TIMEDELTA", "true")  # as bot/channels/telegram.py does

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import RequestData

from bot.channels.ptb_aiohttp import AiohttpRequest

TOKEN = "123456:TEST-token"


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A minimal Bot API: records each call's content type and fields."""
    seen: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        fields: dict[str, Any] = {}
        if request.content_type == "application/json":
            fields = {k: v if isinstance(v, (dict, list)) else str(v)
                      for k, v in (await request.json()).items()}
        for k, v in (await request.post()).items():
            fields[k] = ({"filename": v.filename, "bytes": v.file.read()}
                         if hasattr(v, "file") else v)
        seen.append({"method": method, "ctype": request.content_type, "fields": fields,
                     "agent": request.headers.get("User-Agent", "")})
        if method == "getMe":
            return web.json_response({"ok": True, "result": {
                "id": 1, "is_bot": True, "first_name": "Test", "username": "test_bot"}})
        if method == "slow":
            await asyncio.sleep(2)
        if method == "flood":
            return web.json_response({"ok": False, "error_code": 429, "description": "Too Many",
                                      "parameters": {"retry_after": 7}}, status=429)
        if fields.get("chat_id") == "400":
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": "Bad Request: chat not found"}, status=400)
        return web.json_response({"ok": True, "result": {
            "message_id": 5, "date": 0, "chat": {"id": int(fields.get("chat_id", 1)),
                                                 "type": "private"},
            "text": fields.get("text", "")}})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
    # The slow handler is cancelled at teardown, not waited for (aiohttp waits up to
    # shutdown_timeout for handlers in flight).
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/bot", seen
    await runner.cleanup()


async def test_a_bot_sends_text_as_a_json_body(server: Any) -> None:
    base, seen = server
    keys = InlineKeyboardMarkup([[InlineKeyboardButton("Tiếp", callback_data="next")]])
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest(4)) as bot:
        msg = await bot.send_message(42, "Xin chào <b>bà</b>", parse_mode="HTML",
                                     reply_markup=keys)
    assert msg.message_id == 5 and msg.text == "Xin chào <b>bà</b>"
    call = seen[-1]
    assert call["method"] == "sendMessage"
    assert call["ctype"] == "application/json"
    assert call["fields"]["chat_id"] == "42" and call["fields"]["parse_mode"] == "HTML"
    assert call["fields"]["reply_markup"] == {
        "inline_keyboard": [[{"text": "Tiếp", "callback_data": "next"}]]}
    assert "python-telegram-bot" in call["agent"]


async def test_files_go_as_multipart(server: Any) -> None:
    base, seen = server
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest(4)) as bot:
        await bot.send_voice(42, voice=b"OggS-voice-bytes", caption="Bản tin")
    call = seen[-1]
    assert call["method"] == "sendVoice" and call["ctype"] == "multipart/form-data"
    assert call["fields"]["voice"]["bytes"] == b"OggS-voice-bytes"
    assert call["fields"]["caption"] == "Bản tin"


async def test_status_codes_become_ptb_errors(server: Any) -> None:
    base, _ = server
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest(4)) as bot:
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(400, "x")
        with pytest.raises(RetryAfter) as exc:
            await bot.do_api_request("flood")
    assert exc.value.retry_after.total_seconds() == 7  # type: ignore[union-attr]


async def test_a_slow_server_is_a_timeout(server: Any) -> None:
    base, _ = server
    request = AiohttpRequest(4, read_timeout=0.3)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{base}{TOKEN}/slow", RequestData())
    finally:
        await request.shutdown()


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    request = AiohttpRequest(4)
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="aiohttp"):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe", RequestData())
    finally:
        await request.shutdown()


async def test_not_initialized_and_shutdown_twice() -> None:
    request = AiohttpRequest(2)
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post("http://127.0.0.1:9/x", RequestData())
    await request.initialize()
    await request.shutdown()
    await request.shutdown()


async def test_the_proxy_from_the_environment_is_used(
        server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY points at our loopback server; the Bot API host does not resolve at all, so
    the call only succeeds if it went through the proxy."""
    base, seen = server
    proxy = base.rsplit("/", 1)[0]
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with Bot(TOKEN, base_url="http://api.telegram.invalid/bot",
                   request=AiohttpRequest(4)) as bot:
        await bot.send_message(42, "qua proxy")
    assert seen[-1]["method"] == "sendMessage" and seen[-1]["fields"]["text"] == "qua proxy"


async def test_no_proxy_hosts_are_reached_directly(
        server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    base, seen = server
    with socket.socket() as s:  # a proxy address where nothing listens
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("HTTP_PROXY", dead)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest(4)) as bot:
        await bot.send_message(42, "thẳng")
    assert seen[-1]["fields"]["text"] == "thẳng"
