"""A Telegram Bot API double on loopback that python-telegram-bot talks to over real HTTP.

It speaks the Bot API's shapes (``{"ok": true, "result": ...}``, error objects with
``error_code``, ``description`` and ``parameters.retry_after``), long-polls ``getUpdates`` with
offsets, records what the bot sent, and can inject failures: a 429 with ``retry_after``, a 403
"bot was blocked by the user", 5xx, timeouts, and a global messages-per-second limit.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["BotApiDouble", "Fault"]

BOT_USER = {"id": 777000111, "is_bot": True, "first_name": "Trợ lý số", "username": "trolyso_bot",
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


@dataclass
class Fault:
    """A failure to return instead of success for the next matching call."""

    method: str
    status: int
    description: str
    chat_id: str | None = None
    retry_after: int | None = None
    delay_s: float = 0.0
    times: int = 1


@dataclass
class BotApiDouble:
    token: str = "123456:TEST-token"
    host: str = "127.0.0.1"
    port: int = 0
    #: messages per second over all chats before answering 429 (None = no limit)
    max_per_second: float | None = None
    per_chat_interval_s: float | None = None
    latency_s: float = 0.0

    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._cond: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._window: deque[float] = deque()
        self._last_chat: dict[str, float] = {}
        self.rate_limited = 0
        self.per_chat_violations = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    async def start(self) -> BotApiDouble:
        self._cond = asyncio.Condition()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        # A pending long poll is answered now: the server's shutdown waits for its handlers,
        # and the poll's timeout would otherwise add up to poll_timeout_s to every teardown.
        self._closing = True
        if self._cond is not None:
            async with self._cond:
                self._cond.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ user side

    def user(self, chat_id: int | str) -> dict[str, Any]:
        return {"id": int(chat_id), "is_bot": False, "first_name": "Bác", "language_code": "vi"}

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update.setdefault("update_id", next(self._update_ids))
        assert self._cond is not None
        async with self._cond:
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def message_update(self, chat_id: int | str, text: str) -> dict[str, Any]:
        chat = {"id": int(chat_id), "type": "private", "first_name": "Bác"}
        return {"update_id": next(self._update_ids),
                "message": {"message_id": next(self._message_ids), "date": int(time.time()),
                            "chat": chat, "from": self.user(chat_id), "text": text}}

    def callback_update(self, chat_id: int | str, data: str) -> dict[str, Any]:
        chat = {"id": int(chat_id), "type": "private", "first_name": "Bác"}
        msg = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
               "from": BOT_USER, "text": "…"}
        return {"update_id": next(self._update_ids),
                "callback_query": {"id": str(next(self._message_ids)),
                                   "from": self.user(chat_id), "chat_instance": "ci",
                                   "message": msg, "data": data}}

    async def send_text(self, chat_id: int | str, text: str) -> dict[str, Any]:
        return await self.push(self.message_update(chat_id, text))

    async def tap(self, chat_id: int | str, data: str) -> dict[str, Any]:
        return await self.push(self.callback_update(chat_id, data))

    def messages_to(self, chat_id: int | str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["chat_id"] == str(chat_id)]

    async def wait_sent(self, chat_id: int | str, count: int, wait_s: float = 10) -> list[
            dict[str, Any]]:
        """Wait until at least ``count`` messages went to ``chat_id``; return them."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            got = self.messages_to(chat_id)
            if len(got) >= count:
                return got
            await asyncio.sleep(0.01)
        raise AssertionError(f"expected {count} messages to {chat_id}, got "
                             f"{[m.get('text', '')[:60] for m in self.messages_to(chat_id)]}")

    def answered_callbacks(self) -> list[str]:
        return [p.get("callback_query_id", "") for m, p in self.calls
                if m == "answerCallbackQuery"]

    # ------------------------------------------------------------------ server side

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                params.update(await request.json())
            else:
                form = await request.post()
                for k, v in form.items():
                    if hasattr(v, "file"):
                        params[k] = {"filename": v.filename, "size": len(v.file.read())}
                        continue
                    try:
                        params[k] = json.loads(v)  # PTB sends JSON-encoded form values
                    except (TypeError, ValueError):
                        params[k] = v
        return params

    def _error(self, status: int, description: str,
               retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    def _fault_for(self, method: str, chat_id: str | None) -> Fault | None:
        for f in self.faults:
            if f.method == method and (f.chat_id is None or f.chat_id == chat_id):
                f.times -= 1
                if f.times <= 0:
                    self.faults.remove(f)
                return f
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        chat_id = str(params["chat_id"]) if "chat_id" in params else None
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        fault = self._fault_for(method, chat_id)
        if fault is not None:
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            return self._error(fault.status, fault.description, fault.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return web.json_response({"ok": True, "result": True})
        result = await handler(params, chat_id)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _m_getMe(self, p: dict[str, Any], chat_id: str | None) -> Any:
        return BOT_USER

    async def _m_getUpdates(self, p: dict[str, Any], chat_id: str | None) -> Any:
        if self.webhook.get("url"):
            return self._error(409, "Conflict: can't use getUpdates method while webhook is "
                               "active; use deleteWebhook to delete the webhook first")
        offset = int(p.get("offset") or 0)
        timeout = float(p.get("timeout") or 0)
        assert self._cond is not None
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()  # confirmed by the offset
        if not self._updates and timeout and not self._closing:
            async with self._cond:
                try:
                    await asyncio.wait_for(self._cond.wait(), timeout)
                except TimeoutError:
                    pass
        limit = int(p.get("limit") or 100)
        return [u for u in list(self._updates) if u["update_id"] >= offset][:limit]

    async def _m_setWebhook(self, p: dict[str, Any], chat_id: str | None) -> Any:
        self.webhook = {"url": p.get("url"), "secret_token": p.get("secret_token")}
        return True

    async def _m_deleteWebhook(self, p: dict[str, Any], chat_id: str | None) -> Any:
        self.webhook = {}
        return True

    def _limited(self, chat_id: str | None) -> web.Response | None:
        now = time.monotonic()
        if chat_id is not None and chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        if self.max_per_second:
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self.max_per_second:
                self.rate_limited += 1
                return self._error(429, "Too Many Requests: retry after 1", retry_after=1)
            self._window.append(now)
        if self.per_chat_interval_s and chat_id is not None:
            last = self._last_chat.get(chat_id)
            if last is not None and now - last < self.per_chat_interval_s:
                self.per_chat_violations += 1
            self._last_chat[chat_id] = now
        return None

    def _message(self, chat_id: str, text: str | None = None) -> dict[str, Any]:
        chat = {"id": int(chat_id), "type": "private", "first_name": "Bác"}
        msg: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                               "chat": chat, "from": BOT_USER}
        if text is not None:
            msg["text"] = text
        return msg

    async def _m_sendMessage(self, p: dict[str, Any], chat_id: str | None) -> Any:
        assert chat_id is not None
        refused = self._limited(chat_id)
        if refused is not None:
            return refused
        text = str(p.get("text", ""))
        if not 1 <= len(text) <= 4096:
            return self._error(400, "Bad Request: message text is empty or too long")
        for row in (p.get("reply_markup") or {}).get("inline_keyboard", []):
            for b in row:
                data = b.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    return self._error(400, "Bad Request: BUTTON_DATA_INVALID")
        self.sent.append({"method": "sendMessage", "chat_id": chat_id, "text": text,
                          "parse_mode": p.get("parse_mode"),
                          "reply_markup": p.get("reply_markup"), "at": time.monotonic()})
        return self._message(chat_id, text)

    async def _m_sendVoice(self, p: dict[str, Any], chat_id: str | None) -> Any:
        assert chat_id is not None
        refused = self._limited(chat_id)
        if refused is not None:
            return refused
        self.sent.append({"method": "sendVoice", "chat_id": chat_id, "voice": p.get("voice"),
                          "text": "", "at": time.monotonic()})
        msg = self._message(chat_id)
        msg["voice"] = {"file_id": "v1", "file_unique_id": "v1", "duration": 1}
        return msg

    async def _m_sendAudio(self, p: dict[str, Any], chat_id: str | None) -> Any:
        assert chat_id is not None
        refused = self._limited(chat_id)
        if refused is not None:
            return refused
        self.sent.append({"method": "sendAudio", "chat_id": chat_id, "audio": p.get("audio"),
                          "caption": p.get("caption"), "text": "", "at": time.monotonic()})
        msg = self._message(chat_id)
        msg["audio"] = {"file_id": "a1", "file_unique_id": "a1", "duration": 1}
        return msg

    async def _file_message(self, method: str, field: str, p: dict[str, Any],
                            chat_id: str | None) -> Any:
        """sendPhoto / sendDocument: an upload (recorded with its size) or a file_id."""
        assert chat_id is not None
        refused = self._limited(chat_id)
        if refused is not None:
            return refused
        given = p.get(field)
        self.sent.append({"method": method, "chat_id": chat_id, field: given,
                          "caption": p.get("caption"), "text": "", "at": time.monotonic()})
        msg = self._message(chat_id)
        file_id = given if isinstance(given, str) else f"{field}-{len(self.sent)}"
        entry = {"file_id": file_id, "file_unique_id": file_id}
        if field == "photo":
            msg["photo"] = [{**entry, "width": 800, "height": 600}]
        else:
            msg["document"] = {**entry, "file_name": "f.pdf"}
        return msg

    async def _m_sendPhoto(self, p: dict[str, Any], chat_id: str | None) -> Any:
        return await self._file_message("sendPhoto", "photo", p, chat_id)

    async def _m_sendDocument(self, p: dict[str, Any], chat_id: str | None) -> Any:
        return await self._file_message("sendDocument", "document", p, chat_id)

    async def _m_answerCallbackQuery(self, p: dict[str, Any], chat_id: str | None) -> Any:
        return True
