"""Loopback doubles of the two Zalo APIs, speaking real HTTP to our channels.

:class:`ZaloBotApiDouble` is the Bot Platform (``/bot<token>/<method>``, POST JSON, answers
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description"}``): getUpdates
returns one update per call and 408 when the long poll ends empty; sendMessage refuses texts
outside 1-2000 characters and has no buttons.

:class:`ZaloOaApiDouble` is the Official Account API v3 and its OAuth server on one port:
customer-service and promotion messages (header ``access_token``, answers ``{"error": 0, ...}``
with HTTP 200, errors as ``{"error": -216, ...}``) and the refresh of the single-use refresh
token (form POST with header ``secret_key``). It also builds and signs webhook events the way
Zalo does (``X-ZEvent-Signature: mac=sha256(app_id + body + timestamp + OA secret key)``).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from aiohttp import web

__all__ = ["BotFault", "OaFault", "ZaloBotApiDouble", "ZaloOaApiDouble", "eventually"]

BOT_INFO = {"id": "1459232241454765289", "account_name": "bot.TroLySo",
            "display_name": "Bot Trợ lý số", "account_type": "BASIC", "can_join_groups": False}


async def _serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = cast(asyncio.Server, site._server)
    assert server is not None and server.sockets
    return runner, server.sockets[0].getsockname()[1]


async def eventually(cond: Callable[[], bool], what: str, wait_s: float = 5) -> None:
    """Wait until ``cond()`` holds (work done by the channel in the background)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


# ---------------------------------------------------------------------- Bot Platform


@dataclass
class BotFault:
    """Answer the next ``times`` calls of ``method`` with this error instead."""

    method: str
    status: int
    description: str
    times: int = 1


@dataclass
class ZaloBotApiDouble:
    token: str = "1459232241454765289:TEST-secret-token"
    host: str = "127.0.0.1"
    port: int = 0

    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    faults: list[BotFault] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._updates: deque[dict[str, Any]] = deque()
        self._ids = itertools.count(1)
        self._cond: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    async def start(self) -> ZaloBotApiDouble:
        self._cond = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner, self.port = await _serve(app, self.host, self.port)
        return self

    async def stop(self) -> None:
        # A pending long poll is answered now: the server's shutdown waits for its handlers,
        # and the poll's timeout would otherwise add up to its wait to every teardown.
        self._closing = True
        if self._cond is not None:
            async with self._cond:
                self._cond.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ user side

    def _mid(self) -> str:
        return f"{next(self._ids):020x}"

    def update(self, chat_id: str, text: str | None = None, *, kind: str = "text",
               event_name: bool = True, chat_type: str = "PRIVATE",
               message_id: str | None = None) -> dict[str, Any]:
        """One update as the Bot Platform shows it. ``event_name=False`` is the shape of the
        official getUpdates example, which has none."""
        msg: dict[str, Any] = {
            "from": {"id": chat_id, "display_name": "Bác Ba", "is_bot": False},
            "chat": {"id": chat_id, "chat_type": chat_type},
            "message_id": message_id or self._mid(), "date": int(time.time() * 1000)}
        if kind == "text":
            msg["text"] = text or ""
        elif kind == "image":
            msg.update(photo_url="https://photo.example/1.jpg", message_type="CHAT_PHOTO",
                       caption="")
        elif kind == "sticker":
            msg.update(sticker="bfe4e2b9e0fd09a350ec", url="https://sticker.example/1.png")
        out: dict[str, Any] = {"message": msg}
        if event_name:
            out["event_name"] = f"message.{kind}.received"
        return out

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        assert self._cond is not None
        async with self._cond:
            self._updates.append(update)
            self._cond.notify_all()
        return update

    async def send_text(self, chat_id: str, text: str) -> dict[str, Any]:
        return await self.push(self.update(chat_id, text, event_name=False))

    def messages_to(self, chat_id: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["chat_id"] == chat_id]

    async def wait_sent(self, chat_id: str, count: int,
                        wait_s: float = 10) -> list[dict[str, Any]]:
        await eventually(lambda: len(self.messages_to(chat_id)) >= count,
                        f"{count} messages to {chat_id}", wait_s)
        return self.messages_to(chat_id)

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.calls if m == method)

    # ------------------------------------------------------------------ server side

    @staticmethod
    def _error(status: int, description: str) -> web.Response:
        return web.json_response({"ok": False, "error_code": status,
                                  "description": description}, status=status)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        if request.method != "POST" or request.content_type != "application/json":
            return self._error(400, "Bad Request: POST with a JSON body expected")
        params = await request.json()
        method = request.match_info["method"]
        self.calls.append((method, params))
        for fault in self.faults:
            if fault.method == method:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return self._error(fault.status, fault.description)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: unknown method")
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _m_getMe(self, p: dict[str, Any]) -> Any:
        return BOT_INFO

    async def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        if self.webhook.get("url"):
            return self._error(409, "Conflict: a webhook is set")  # wording unknown [U]
        wait_s = float(p.get("timeout") or 30)  # a string of seconds in the docs
        assert self._cond is not None
        if not self._updates and not self._closing:
            async with self._cond:
                try:
                    await asyncio.wait_for(self._cond.wait(), wait_s)
                except TimeoutError:
                    pass
        if not self._updates:
            return self._error(408, "Request timeout")
        return self._updates.popleft()  # one update, and the server's cursor moves on

    async def _m_setWebhook(self, p: dict[str, Any]) -> Any:
        url, secret = str(p.get("url") or ""), str(p.get("secret_token") or "")
        if not url.startswith("https://"):
            return self._error(400, "Bad Request: url must be https")
        if not 8 <= len(secret) <= 256:
            return self._error(400, "Bad Request: secret_token must be 8-256 characters")
        self.webhook = {"url": url, "secret_token": secret}
        return {"url": url, "updated_at": int(time.time() * 1000)}

    async def _m_deleteWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = {}
        return {"url": "", "updated_at": int(time.time() * 1000)}

    async def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        chat_id, text = p.get("chat_id"), p.get("text")
        if not isinstance(chat_id, str) or not chat_id:
            return self._error(400, "Bad Request: chat_id is required")
        if not isinstance(text, str) or not 1 <= len(text) <= 2000:
            return self._error(400, "Bad Request: text must be 1-2000 characters")
        extra = sorted(set(p) - {"chat_id", "text"})  # no reply_markup, no parse_mode
        if extra:
            return self._error(400, f"Bad Request: unknown fields {extra}")
        self.sent.append({"chat_id": chat_id, "text": text, "at": time.time()})
        return {"message_id": self._mid(), "date": int(time.time() * 1000)}


# ---------------------------------------------------------------------- Official Account


@dataclass
class OaFault:
    """Answer the next ``times`` calls to ``path`` with HTTP ``status`` and this body."""

    path: str
    status: int = 200
    error: int = 0
    message: str = ""
    times: int = 1


@dataclass
class ZaloOaApiDouble:
    app_id: str = "4318842736473265432"
    app_secret: str = "APP-secret-for-tests"
    secret_key: str = "OA-secret-key-for-tests"
    oa_id: str = "579745863508352884"
    access_token: str | None = "AT-1"
    refresh_token: str = "RT-1"
    host: str = "127.0.0.1"
    port: int = 0
    #: how long a refresh takes (so two refreshing processes overlap)
    refresh_latency_s: float = 0.0
    max_buttons: int = 5

    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refresh_attempts: list[str] = field(default_factory=list)
    out_of_window: set[str] = field(default_factory=set)
    non_followers: set[str] = field(default_factory=set)
    night: bool = False
    faults: list[OaFault] = field(default_factory=list)
    #: the OAuth server answers 503 with an HTML page (an outage of oauth.zaloapp.com)
    oauth_down: bool = False

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._generation = 1
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> ZaloOaApiDouble:
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._cs)
        app.router.add_post("/v3.0/oa/message/promotion", self._promotion)
        app.router.add_post("/v4/oa/access_token", self._access_token)
        app.router.add_get("/v2.0/oa/getoa", self._getoa)
        self._runner, self.port = await _serve(app, self.host, self.port)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def expire_access_token(self) -> None:
        """From now on the current access token is refused (-216) until a refresh."""
        self.access_token = None

    # ------------------------------------------------------------------ user side

    def event(self, event_name: str, user_id: str, text: str | None = None, *,
              msg_id: str | None = None, timestamp_ms: int | None = None) -> dict[str, Any]:
        """A webhook event shaped like Zalo's (ids and timestamp as strings)."""
        stamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        event: dict[str, Any] = {"app_id": self.app_id, "user_id_by_app": f"9{user_id}",
                                 "event_name": event_name, "timestamp": stamp}
        if event_name in ("follow", "unfollow"):
            event.update(oa_id=self.oa_id, source="oa_profile", follower={"id": user_id})
            return event
        message: dict[str, Any] = {"msg_id": msg_id or f"m{next(self._ids):016d}"}
        if text is not None:
            message["text"] = text
        if event_name == "user_send_image":
            message["attachments"] = [{"type": "image", "payload": {
                "url": "https://photo.example/1.jpg", "thumbnail": "https://photo.example/t.jpg"}}]
        if event_name == "user_send_sticker":
            message["attachments"] = [{"type": "sticker", "payload": {
                "id": "123", "url": "https://sticker.example/1.png"}}]
        event.update(sender={"id": user_id}, recipient={"id": self.oa_id}, message=message)
        return event

    def signed(self, event: dict[str, Any], *, secret_key: str | None = None
               ) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers Zalo would POST for ``event``."""
        raw = json.dumps(event, ensure_ascii=False).encode()
        mac = hashlib.sha256(str(event["app_id"]).encode() + raw + str(event["timestamp"]).encode()
                             + (secret_key or self.secret_key).encode()).hexdigest()
        return raw, {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}

    def messages_to(self, user_id: str, kind: str = "cs") -> list[dict[str, Any]]:
        return [m for m in self.sent if m["user_id"] == user_id and m["kind"] == kind]

    async def wait_sent(self, user_id: str, count: int, kind: str = "cs",
                        wait_s: float = 10) -> list[dict[str, Any]]:
        await eventually(lambda: len(self.messages_to(user_id, kind)) >= count,
                        f"{count} {kind} messages to {user_id}", wait_s)
        return self.messages_to(user_id, kind)

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.calls if p == path)

    # ------------------------------------------------------------------ server side

    @staticmethod
    def _answer(error: int, message: str, data: dict[str, Any] | None = None,
                status: int = 200) -> web.Response:
        body: dict[str, Any] = {"error": error, "message": message}
        if data is not None:
            body["data"] = data
        return web.json_response(body, status=status)

    def _checked(self, path: str, token: str | None) -> web.Response | None:
        """The planned fault for ``path``, or -216 for a token that is not the current one."""
        for fault in self.faults:
            if fault.path == path:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return self._answer(fault.error, fault.message, status=fault.status)
        if self.access_token is None or token != self.access_token:
            return self._answer(-216, "Access token is invalid")
        return None

    async def _common(self, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        path = request.path
        body = await request.json() if request.content_type == "application/json" else {}
        self.calls.append((path, body))
        refused = self._checked(path, request.headers.get("access_token"))
        if refused is not None:
            return body, refused
        user_id = (body.get("recipient") or {}).get("user_id")
        if not isinstance(user_id, str) or not user_id:
            return body, self._answer(-201, "Parameters are invalid: recipient.user_id")
        return body, None

    async def _getoa(self, request: web.Request) -> web.Response:
        """The OA's profile (GET, header access_token) [C public code]."""
        self.calls.append((request.path, {}))
        refused = self._checked(request.path, request.headers.get("access_token"))
        if refused is not None:
            return refused
        return self._answer(0, "Success", {"oa_id": self.oa_id, "name": "UBND phường (test)"})

    async def _cs(self, request: web.Request) -> web.Response:
        body, refused = await self._common(request)
        if refused is not None:
            return refused
        user_id = body["recipient"]["user_id"]
        message = body.get("message") or {}
        text = message.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= 2000:
            return self._answer(-210, "Parameters exceeds the limit: text")
        buttons = (((message.get("attachment") or {}).get("payload")) or {}).get("buttons", [])
        if len(buttons) > self.max_buttons:
            return self._answer(-210, "Parameters exceeds the limit: buttons")
        for b in buttons:
            if b.get("type") not in ("oa.query.show", "oa.query.hide", "oa.open.url"):
                return self._answer(-201, f"Parameters are invalid: button type {b.get('type')}")
        if user_id in self.out_of_window:
            return self._answer(-230, "User has not interacted with the OA in the past 7 days")
        self.sent.append({"kind": "cs", "user_id": user_id, "text": text, "buttons": buttons,
                          "at": time.time()})
        return self._answer(0, "Success", {"message_id": f"cs{next(self._ids)}",
                                           "user_id": user_id})

    async def _promotion(self, request: web.Request) -> web.Response:
        body, refused = await self._common(request)
        if refused is not None:
            return refused
        user_id = body["recipient"]["user_id"]
        payload = (((body.get("message") or {}).get("attachment") or {}).get("payload")) or {}
        elements = payload.get("elements") or []
        if payload.get("template_type") != "promotion" or not elements:
            return self._answer(-201, "Parameters are invalid: template")
        if self.night:
            return self._answer(-234, "Promotion messages cannot be sent from 22:00 to 06:00")
        if user_id in self.non_followers:
            return self._answer(-213, "User has not followed the OA")
        text = "\n".join(str(e.get("content", "")) for e in elements)
        self.sent.append({"kind": "promotion", "user_id": user_id, "text": text,
                          "elements": elements, "at": time.time()})
        return self._answer(0, "Success", {"message_id": f"pr{next(self._ids)}",
                                           "user_id": user_id})

    async def _access_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        presented = str(form.get("refresh_token", ""))
        self.refresh_attempts.append(presented)
        if self.refresh_latency_s:
            await asyncio.sleep(self.refresh_latency_s)
        if self.oauth_down:
            return web.Response(status=503, text="<html>Service Unavailable</html>",
                                content_type="text/html")
        if request.headers.get("secret_key") != self.app_secret:
            return web.json_response({"error": -14001, "error_name": "Invalid secret key"})
        if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
            return web.json_response({"error": -14002, "error_name": "Invalid app or grant"})
        if presented != self.refresh_token:  # single use: an old one is dead
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
        self._generation += 1
        self.access_token = f"AT-{self._generation}"
        self.refresh_token = f"RT-{self._generation}"
        return web.json_response({"access_token": self.access_token,
                                  "refresh_token": self.refresh_token, "expires_in": "90000"})
