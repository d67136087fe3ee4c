"""Zalo Bot Platform channel (the Telegram-like bots made with "Zalo Bot Manager").

Text only: sendMessage takes plain text of 1-2000 characters, with no buttons and no parse mode
(official docs, Dec 2025), so every button becomes a numbered option and the citizen types
"1", "2"... Updates arrive by long polling (getUpdates, one update per call, no offset: the
server moves its own cursor) or by webhook (POST /webhooks/zalo-bot with the header
X-Bot-Api-Secret-Token). All calls are POST with a JSON body to
``{base_url}{token}/{method}``; answers are ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": "..."}``.

Error policy (:func:`mapped`): 429, 5xx, timeouts and the network → retry; any other refusal →
failed with Zalo's words. A bot can only write to users who wrote to it first.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import replace
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.base import ChannelBase, Host, Route, check_secret
from bot.channels.body import BadBody, read_json, refuse
from bot.channels.zalo_common import ACK_S, TEXT_LIMIT, ZaloError, resend_transient
from bot.inbox import Mark
from bot.pacing import Pacer
from bot.render import render, split_text
from core.channels import ChannelSpec
from core.config import Settings, ZaloBotCfg
from core.delivery import Delivery, DeliveryError, Rejected, Retry
from core.storage import has_written
from flows.types import Incoming, IncomingKind, Reply

__all__ = ["SECRET_HEADER", "SPEC", "ZaloBotChannel", "mapped", "to_incoming"]

log = logging.getLogger(__name__)

SPEC = ChannelSpec(
    name="zalo_bot", push=True, buttons=0, audio=False, text_limit=TEXT_LIMIT,
    # No published rate: broadcast.zalo_per_second (10) and the per-chat interval apply.
    rate_per_s=10.0, per_chat_interval_s=1.0,
)
SECRET_HEADER = "X-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/webhooks/zalo-bot"

#: Event names [C official docs / SDK models]; voice is seen in community docs only [U].
_EVENT_KINDS: dict[str, IncomingKind] = {
    "message.text.received": "text",
    "message.image.received": "image",
    "message.sticker.received": "sticker",
    "message.voice.received": "voice",
    # Sent instead of the content for protected users (children and others).
    "message.unsupported.received": "unsupported",
}


def _event_name(update: dict[str, Any], msg: dict[str, Any]) -> str:
    name = update.get("event_name")
    if isinstance(name, str) and name:
        return name
    # The getUpdates example in the official docs carries no event_name [C]: infer it. Images
    # come as photo_url with message_type CHAT_PHOTO in real payloads, photo in the docs.
    if isinstance(msg.get("text"), str):
        return "message.text.received"
    if msg.get("photo_url") or msg.get("photo") or msg.get("message_type") == "CHAT_PHOTO":
        return "message.image.received"
    if msg.get("sticker"):
        return "message.sticker.received"
    if msg.get("voice_url") or msg.get("voice"):
        return "message.voice.received"
    return "message.unsupported.received"


def mapped(exc: ZaloError) -> DeliveryError:
    """The Bot Platform's errors in our terms, once."""
    if exc.transient:
        return Retry(str(exc))
    return Rejected(f"Zalo Bot Platform refused: {exc}")


def to_incoming(body: Any) -> tuple[Incoming, str | None] | None:
    """Our view of one update (wrapped in ``{"ok", "result"}`` or flat) and its de-duplication
    key ``event_name:message_id``; None for what we do not answer (groups, non-message events).
    """
    if not isinstance(body, dict):
        return None
    update = body.get("result", body)
    if not isinstance(update, dict):
        return None
    msg = update.get("message")
    if not isinstance(msg, dict):
        return None
    raw_chat, raw_from = msg.get("chat"), msg.get("from")
    chat: dict[str, Any] = raw_chat if isinstance(raw_chat, dict) else {}
    sender: dict[str, Any] = raw_from if isinstance(raw_from, dict) else {}
    if str(chat.get("chat_type") or "PRIVATE").upper() != "PRIVATE":
        return None  # the assistant talks one-to-one; in groups a bot only sees @mentions
    chat_id = chat.get("id") or sender.get("id")
    if not isinstance(chat_id, (str, int)) or isinstance(chat_id, bool) or not str(chat_id):
        return None
    name = _event_name(update, msg)
    kind: IncomingKind = _EVENT_KINDS.get(name, "unsupported")
    text = msg.get("text") if kind == "text" else None
    if kind == "text":
        if not isinstance(text, str):
            kind, text = "unsupported", None
        elif text.startswith("/"):
            kind = "command"
    mid = msg.get("message_id")
    message_id = str(mid) if isinstance(mid, (str, int)) and str(mid) else None
    key = f"{name}:{message_id}" if message_id else None
    return Incoming("zalo_bot", str(chat_id), text=text, kind=kind, message_id=message_id), key


class ZaloBotChannel(ChannelBase):
    """The Zalo Bot Platform as a channel of the conversation core."""

    SPEC = SPEC
    name = "zalo_bot"
    #: A fetched update that cannot be stored is tried again after 0.5 s, 1 s, 2 s... up to
    #: this pause, for as long as it takes.
    STORE_FIRST_WAIT_S = 0.5
    STORE_MAX_WAIT_S = 30.0

    @classmethod
    def declare(cls, settings: Settings) -> ChannelSpec:
        b = settings.broadcast
        return replace(SPEC, rate_per_s=b.zalo_per_second,
                       per_chat_interval_s=b.telegram_per_chat_interval_s)

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return bool(settings.zalo.bot.token)

    @classmethod
    def create(cls, host: Host) -> ZaloBotChannel:
        return cls(host, host.settings.zalo.bot)

    def __init__(self, app: Host, cfg: ZaloBotCfg) -> None:
        if not cfg.token:
            raise ValueError("ZALO_BOT_TOKEN is not set")
        self.app = app
        self.spec = self.declare(app.settings)
        self.cfg = cfg
        self.webhook = bool(cfg.webhook_url and cfg.webhook_secret)
        # Replies take their slots from the bucket notices and live chats use (per channel, in
        # the database): together they stay within broadcast.zalo_per_second across processes.
        self.pace = Pacer(app.sessionmaker, self.name, self.spec.rate_per_s)
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._degraded_since: float | None = None  # monotonic time the platform was lost
        # monotonic time a fetched update first failed to be stored (the database is down)
        self._store_failing_since: float | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.app.inbox.register(self.name, self)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15),
                                           trust_env=True)  # HTTPS_PROXY, NO_PROXY
        try:
            await self._prepare()
        except ZaloError as exc:
            if not exc.transient:  # a wrong token or URL: say so at start, not in a log later
                await self._http.close()
                raise RuntimeError(f"Zalo Bot Platform refused the setup call: {exc}") from exc
            # An outage must not keep the rest of the assistant from starting.
            log.warning("Zalo Bot Platform unreachable at start (%s); retrying", exc)
            self._degraded_since = time.monotonic()
            self._task = asyncio.create_task(self._run(prepared=False))
            return
        if not self.webhook:
            self._task = asyncio.create_task(self._run(prepared=True))
        log.info("Zalo Bot Platform: %s", "webhook" if self.webhook else "long polling")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.app.inbox.drain()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def routes(self) -> list[Route]:
        return [("POST", WEBHOOK_PATH, self._on_webhook)] if self.webhook else []

    def health(self) -> str:
        """"degraded" while the platform is lost or a fetched update cannot be stored."""
        return "ok" if self._since() is None else "degraded"

    def degraded_for(self) -> float:
        since = self._since()
        return 0.0 if since is None else time.monotonic() - since

    def _since(self) -> float | None:
        times = [t for t in (self._degraded_since, self._store_failing_since) if t is not None]
        return min(times) if times else None

    async def _prepare(self) -> None:
        if self.webhook:
            await self._call("setWebhook", {"url": self.cfg.webhook_url,
                                            "secret_token": self.cfg.webhook_secret})
        else:  # getUpdates and a webhook are mutually exclusive
            await self._call("deleteWebhook", {})

    async def _run(self, *, prepared: bool) -> None:
        backoff = 1.0
        while not prepared:
            try:
                await self._prepare()
                prepared = True
                self._degraded_since = None
            except ZaloError as exc:
                log.warning("Zalo Bot Platform setup failed (%s); next try in %.0f s",
                            exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
        if not self.webhook:
            await self._poll()

    async def _poll(self) -> None:
        backoff = 1.0
        while True:
            try:
                result = await self._call("getUpdates", {"timeout": str(self.cfg.poll_timeout_s)},
                                          wait_s=self.cfg.poll_timeout_s + 10)
            except ZaloError as exc:
                if exc.code == 408:  # the long poll ended without a message: normal
                    backoff = 1.0
                    continue
                # 502/504 for hours have been seen on all bots: back off, keep polling.
                if self._degraded_since is None:
                    self._degraded_since = time.monotonic()
                log.warning("Zalo getUpdates failed (%s); next try in %.0f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            self._degraded_since = None
            # One update per call in the docs [C]; a list is taken too.
            for update in result if isinstance(result, list) else [result]:
                await self._hold(update)

    async def _hold(self, update: Any) -> None:
        """Store one fetched update, however long the database takes.

        getUpdates has no offset: the server moved its cursor when it answered, and it never
        sends an update again [C channels.md C2]. Until the inbox commit the update exists only
        in this process's memory, so it is kept and the commit retried with a growing pause
        (never given up), and no further update is fetched meanwhile: Zalo keeps the next ones.
        The channel reports "degraded" while updates cannot be stored.
        """
        wait, failures = self.STORE_FIRST_WAIT_S, 0
        try:
            while True:
                try:
                    await self._take(update)
                    break
                # SQLAlchemyError, and the driver's own errors that it does not wrap (asyncpg
                # raises OSError when the server refuses the connection); any other failure
                # is retried as well: dropping the update is never the answer.
                except Exception as exc:
                    failures += 1
                    if self._store_failing_since is None:
                        self._store_failing_since = time.monotonic()
                    level = logging.ERROR if failures == 1 else logging.WARNING
                    log.log(level, "Zalo Bot update fetched but not stored (%s, try %d); held "
                            "in memory, next try in %.1f s", type(exc).__name__, failures, wait)
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, self.STORE_MAX_WAIT_S)
        except asyncio.CancelledError:
            # Stopped before the database took it: nothing can keep it now.
            log.error("Zalo Bot update fetched but not stored when the channel stopped: lost "
                      "(getUpdates does not send it again)")
            raise
        if failures:
            log.warning("Zalo Bot update stored after %d failed tries", failures)
        self._store_failing_since = None

    # ------------------------------------------------------------------ incoming

    async def _take(self, body: Any, *, within: float | None = None) -> bool:
        """Store one update in the inbox and handle it; False when it is nothing we answer.
        Raises SQLAlchemyError when it could not be stored, TimeoutError when it was not
        stored ``within`` seconds (see Inbox.take_within)."""
        parsed = to_incoming(body)
        if parsed is None:
            return False
        msg, key = parsed
        if key is None:  # no message id: the update's own bytes identify it
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            key = f"sha256:{digest[:40]}"
        if within is None:
            await self.app.inbox.take(self.name, key, msg.user_id, body)
        else:
            await self.app.inbox.take_within(within, self.name, key, msg.user_id, body)
        return True

    async def incoming(self, payload: dict[str, Any]) -> Incoming | None:
        """The message in a stored update (the inbox's port)."""
        parsed = to_incoming(payload)
        return None if parsed is None else parsed[0]

    async def _on_webhook(self, request: web.Request) -> web.Response:
        if not check_secret(request.headers.get(SECRET_HEADER), self.cfg.webhook_secret):
            log.warning("Zalo Bot webhook: wrong or missing secret from %s", request.remote)
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            body = await read_json(request)
        except BadBody as exc:
            return refuse("Zalo Bot webhook", request, exc.status, exc.reason)
        if not isinstance(body, dict):
            return refuse("Zalo Bot webhook", request, 400, "body must be a JSON object")
        # Acknowledged once stored; events we do not answer are acknowledged too, so Zalo
        # does not send them again.
        try:
            await self._take(body, within=ACK_S)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.error("Zalo Bot webhook: update not stored (%s); answered 503",
                      type(exc).__name__)
            return web.json_response({"error": "try again later"}, status=503)
        return web.json_response({"ok": True})

    # ------------------------------------------------------------------ outgoing

    async def _call(self, method: str, body: dict[str, Any], *,
                    wait_s: float | None = None) -> Any:
        """One API call; raises ZaloError (transient for 429, 5xx, timeouts and network)."""
        assert self._http is not None, "channel not started"
        url = f"{self.cfg.base_url}{self.cfg.token}/{method}"
        timeout = aiohttp.ClientTimeout(total=wait_s) if wait_s else None
        try:
            async with self._http.post(url, json=body, timeout=timeout) as resp:
                status = resp.status
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The URL holds the token: log the kind of failure, never the URL.
            raise ZaloError(0, f"{method}: {type(exc).__name__}", transient=True) from None
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict) and data.get("ok") is True:
            return data.get("result")
        code, desc = status, f"HTTP {status}"
        if isinstance(data, dict):
            raw_code = data.get("error_code")
            if isinstance(raw_code, int) or (isinstance(raw_code, str) and raw_code.isdigit()):
                code = int(raw_code)
            desc = str(data.get("description") or desc)
        # The 429 shape is not documented [U]: treat both the status and the error code alike.
        transient = code == 429 or status == 429 or code >= 500 or status >= 500
        raise ZaloError(code, f"{method}: {desc}", transient=transient)

    async def _send_text(self, chat_id: str, text: str) -> Any:
        return await self._call("sendMessage", {"chat_id": chat_id, "text": text})

    async def _paced_text(self, chat_id: str, text: str) -> Any:
        async with self.pace.turn():
            return await self._send_text(chat_id, text)

    async def send(self, chat_id: str, replies: list[Reply], *, first: int = 0,
                   mark: Mark | None = None) -> bool:
        """Send ``replies[first:]`` as text with numbered options (``mark(i + 1)`` after reply
        ``i``); False when Zalo refused one."""
        for i, (_, pieces) in enumerate(render(replies, self.spec)):
            if i < first:
                continue
            for piece in pieces:
                if not piece.text:
                    continue
                try:
                    await resend_transient(partial(self._paced_text, chat_id, piece.text))
                except ZaloError as exc:
                    log.warning("Zalo Bot reply to %s not sent: %s", chat_id, exc)
                    return False
            if mark is not None:
                await mark(i + 1)
        # Voice answers are not offered here (SPEC.audio): sendVoice is not in the official
        # docs [U].
        return True

    async def deliver_reply(self, user_id: str, reply: Reply) -> Delivery:
        """A live-chat message, its buttons as numbered options."""
        first_id: str | None = None
        for _, pieces in render([reply], self.spec):
            for piece in pieces:
                if not piece.text:
                    continue
                try:
                    result = await self._send_text(user_id, piece.text)
                except ZaloError as exc:
                    if first_id is not None:
                        return Delivery("sent", platform_id=first_id,
                                        reason=f"cut short: {exc}")
                    return Delivery.of(mapped(exc))
                if first_id is None and isinstance(result, dict) and result.get("message_id"):
                    first_id = str(result["message_id"])
        return Delivery("sent", platform_id=first_id)

    async def deliver(self, user_id: str, text: str, *, priority: str = "normal") -> Delivery:
        """Send one notice. A bot can only write to users who wrote to it first."""
        if not await has_written(self.app.sessionmaker, self.name, user_id):
            return Delivery("failed", reason="this user never wrote to the Zalo bot; the Bot "
                                             "Platform only sends to users who wrote first")
        first_id: str | None = None
        for piece in split_text(text, TEXT_LIMIT):
            try:
                result = await self._send_text(user_id, piece)
            except ZaloError as exc:
                return Delivery.of(mapped(exc))
            if first_id is None and isinstance(result, dict) and result.get("message_id"):
                first_id = str(result["message_id"])
        return Delivery("sent", platform_id=first_id)
