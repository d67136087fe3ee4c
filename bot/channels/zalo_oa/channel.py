"""The Zalo Official Account channel (OA API v3): signed webhook in, customer-service
messages out, notices as customer-service or promotion messages.

Incoming: ``POST /webhooks/zalo-oa`` (:mod:`.signature`, :mod:`.events`); good events are
acknowledged at once and handled in the background (Zalo expects an answer within about 2 s
[U]). Outgoing: ``POST {base_url}/v3.0/oa/message/cs`` with the header ``access_token``
(:mod:`.tokens`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from dataclasses import replace
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.base import ChannelBase, Host, Route
from bot.channels.body import BadBody, read_body, refuse
from bot.channels.zalo_common import (
    ACK_S,
    TEXT_LIMIT,
    ZaloError,
    next_local_time,
    resend_transient,
)
from bot.channels.zalo_oa.events import BUTTON_PREFIX, to_incoming
from bot.channels.zalo_oa.rules import ZaloOaRules
from bot.channels.zalo_oa.signature import SIGNATURE_HEADER, WebhookRefused, scalar, verify_event
from bot.channels.zalo_oa.tokens import OaTokens, TokenError
from bot.inbox import Mark
from bot.pacing import Pacer
from bot.render import render, split_text
from broadcast.rules import DeliveryRule
from core.channels import ChannelSpec
from core.config import Settings, ZaloOaCfg
from core.db import utcnow
from core.delivery import Delivery, DeliveryError, Retry
from core.delivery import Rejected as Refused
from core.storage import last_seen as user_last_seen
from flows.types import Button, Incoming, Reply

__all__ = ["SPEC", "ZaloOaChannel", "mapped"]

log = logging.getLogger(__name__)

SPEC = ChannelSpec(
    name="zalo_oa", push=True, buttons=5, audio=False, text_limit=TEXT_LIMIT,
    # No published rate: broadcast.zalo_per_second (10) and the per-chat interval apply;
    # zalo.oa.max_buttons sets the buttons.
    rate_per_s=10.0, per_chat_interval_s=1.0,
)
WEBHOOK_PATH = "/webhooks/zalo-oa"
#: Zalo caps button titles at 100 characters [C public code; not on developers.zalo.me].
BUTTON_TITLE_MAX = 100

#: -216 access token invalid, -220 expired or removed [C chatwoot, integration guide].
TOKEN_ERRORS = frozenset({-216, -220})
#: -219 the app is disabled, -223 the OA has not authorised the API [C integration guide]: the
#: channel cannot work until the operator acts.
ACCESS_DENIED = frozenset({-219, -223})
#: Our code for "no usable token" (refresh refused or impossible); not a Zalo code.
TOKEN_TROUBLE = -1
#: The user has not interacted with the OA in the last 7 days: no customer-service messages.
NO_INTERACTION = -230
#: Promotion messages are refused at night (22:00-06:00 Vietnam time [C integration guide]).
NIGHT_WINDOW = -234


def mapped(exc: ZaloError, *, quiet_end: str) -> DeliveryError:
    """The OA API's errors in our terms, once: 429, 5xx, timeouts and token trouble → retry;
    -234 (promotion at night) → retry when the quiet hours end (``quiet_end``, HH:MM Vietnam
    time); anything else (-230 included, once the promotion fallback failed) → refused."""
    if exc.transient or exc.code in TOKEN_ERRORS or exc.code == TOKEN_TROUBLE:
        return Retry(str(exc))
    if exc.code == NIGHT_WINDOW:
        return Retry(str(exc), at=next_local_time(quiet_end))
    return Refused(f"Zalo OA refused: {exc}")


class ZaloOaChannel(ChannelBase):
    """A Zalo Official Account as a channel of the conversation core."""

    SPEC = SPEC
    name = "zalo_oa"
    #: While degraded, the OA API is probed after 1 s, 2 s, 4 s... up to this pause (a read
    #: that sends nothing: GET /v2.0/oa/getoa, the OA's own profile [C public code, several
    #: integrations]; it refreshes the token on the way when Zalo refuses it).
    PROBE_FIRST_WAIT_S = 1.0
    PROBE_MAX_WAIT_S = 60.0
    PROBE_PATH = "/v2.0/oa/getoa"
    #: The probe's own time-out (start-up waits for one probe).
    PROBE_TIMEOUT_S = 5.0

    @classmethod
    def declare(cls, settings: Settings) -> ChannelSpec:
        b = settings.broadcast
        return replace(SPEC, buttons=settings.zalo.oa.max_buttons, rate_per_s=b.zalo_per_second,
                       per_chat_interval_s=b.telegram_per_chat_interval_s)

    @classmethod
    def delivery_rules(cls, settings: Settings) -> list[DeliveryRule]:
        b = settings.broadcast
        return [ZaloOaRules(ZoneInfo(settings.timezone), b.zalo_quiet_hours,
                            b.zalo_oa_daily_limit)]

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return bool(settings.zalo.oa.app_id)

    @classmethod
    def create(cls, host: Host) -> ZaloOaChannel:
        return cls(host, host.settings.zalo.oa)

    def __init__(self, app: Host, cfg: ZaloOaCfg) -> None:
        missing = [var for var, value in (("ZALO_OA_APP_ID", cfg.app_id),
                                          ("ZALO_OA_APP_SECRET", cfg.app_secret),
                                          ("ZALO_OA_SECRET_KEY", cfg.secret_key)) if not value]
        if missing:
            raise ValueError(f"the Zalo OA channel needs {', '.join(missing)}")
        self.app = app
        self.spec = self.declare(app.settings)
        self.cfg = cfg
        self.tokens = OaTokens(app.sessionmaker, cfg)
        # Replies take their slots from the bucket notices and live chats use (per channel, in
        # the database): together they stay within broadcast.zalo_per_second across processes.
        self.pace = Pacer(app.sessionmaker, self.name, self.spec.rate_per_s)
        self._http: aiohttp.ClientSession | None = None
        # Degraded: the OA API did not answer (network, time-out, 5xx) or no usable token
        # (the refresh failed). Learnt from real calls; the probe finds the way back.
        self._degraded_since: float | None = None  # monotonic
        self._lost = asyncio.Event()
        self._probe: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.app.inbox.register(self.name, self)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15),
                                           trust_env=True)  # HTTPS_PROXY, NO_PROXY
        try:
            await self.tokens.seed()
        except TokenError as exc:
            await self._http.close()
            self._http = None
            raise RuntimeError(f"Zalo OA: {exc}") from exc
        # One probe at start, so /healthz tells at once whether the OA API answers and the
        # token works (an expired one is refreshed here); an outage does not stop start-up.
        await self._check()
        self._probe = asyncio.create_task(self._watch())
        log.info("Zalo OA: webhook at %s%s", WEBHOOK_PATH,
                 "" if self._degraded_since is None else " (OA API degraded; probing)")

    async def stop(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)
            self._probe = None
        await self.app.inbox.drain()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def routes(self) -> list[Route]:
        return [("POST", WEBHOOK_PATH, self._on_webhook)]

    # ------------------------------------------------------------------ health

    def health(self) -> str:
        """"degraded" while the OA API cannot be reached or no usable token is left."""
        return "ok" if self._degraded_since is None else "degraded"

    def degraded_for(self) -> float:
        return 0.0 if self._degraded_since is None else time.monotonic() - self._degraded_since

    def _trouble(self, why: str) -> None:
        if self._degraded_since is None:
            self._degraded_since = time.monotonic()
            log.warning("Zalo OA degraded: %s", why)
        self._lost.set()

    def _reached(self) -> None:
        if self._degraded_since is not None:
            log.info("Zalo OA reachable again after %.0f s", self.degraded_for())
            self._degraded_since = None

    async def _watch(self) -> None:
        """While degraded, probe the OA API with a growing pause until it answers again."""
        while True:
            await self._lost.wait()
            self._lost.clear()
            wait = self.PROBE_FIRST_WAIT_S
            while self._degraded_since is not None:
                await asyncio.sleep(wait)
                wait = min(wait * 2, self.PROBE_MAX_WAIT_S)
                if self._degraded_since is None:  # a reply or notice got through meanwhile
                    break
                await self._check()

    async def _check(self) -> None:
        """One probe: the OA's profile, a read that sends nothing; the call sets the health."""
        try:
            await self._api(self.PROBE_PATH, None, timeout_s=self.PROBE_TIMEOUT_S)
        except Exception as exc:
            log.info("Zalo OA probe: %s: %s", type(exc).__name__, exc)

    # ------------------------------------------------------------------ incoming

    async def _on_webhook(self, request: web.Request) -> web.Response:
        try:
            raw = await read_body(request)
        except BadBody as exc:
            return refuse("Zalo OA webhook", request, exc.status, exc.reason)
        try:
            event = verify_event(raw, request.headers.get(SIGNATURE_HEADER),
                                 app_id=self.cfg.app_id or "",
                                 secret_key=self.cfg.secret_key or "",
                                 max_age_s=self.cfg.max_event_age_s)
        except WebhookRefused as exc:
            return refuse("Zalo OA webhook", request, exc.status,
                          "forbidden" if exc.status == 403 else exc.reason)
        parsed = to_incoming(event)
        if parsed is not None:
            msg, key = parsed
            try:  # acknowledged once stored; a replayed event's key is already there
                await self.app.inbox.take_within(ACK_S, self.name, key, msg.user_id, event)
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                log.error("Zalo OA webhook: event not stored (%s); answered 503",
                          type(exc).__name__)
                return web.json_response({"error": "try again later"}, status=503)
        return web.json_response({"ok": True})

    async def incoming(self, payload: dict[str, Any]) -> Incoming | None:
        """The message in a stored event (the inbox's port)."""
        parsed = to_incoming(payload)
        return None if parsed is None else parsed[0]

    # ------------------------------------------------------------------ outgoing

    async def _post(self, path: str, body: dict[str, Any] | None, access: str, *,
                    timeout_s: float | None = None) -> dict[str, Any]:
        """POST ``body`` to ``path`` (GET when ``body`` is None); the answer's JSON. Sets the
        channel's health: unreachable, time-out or 5xx → degraded; an answer that is not a
        token refusal → reachable."""
        assert self._http is not None, "channel not started"
        url, headers = f"{self.cfg.base_url}{path}", {"access_token": access}
        timeout = aiohttp.ClientTimeout(total=timeout_s) if timeout_s else None
        try:
            async with (self._http.get(url, headers=headers, timeout=timeout) if body is None
                        else self._http.post(url, json=body, headers=headers)) as resp:
                status, raw = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._trouble(f"{path}: {type(exc).__name__}")
            raise ZaloError(0, f"{path}: {type(exc).__name__}", transient=True) from None
        if status == 429:  # reachable, only busy: not degraded
            raise ZaloError(status, f"{path}: HTTP {status}", transient=True)
        if status >= 500:
            self._trouble(f"{path}: HTTP {status}")
            raise ZaloError(status, f"{path}: HTTP {status}", transient=True)
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        # Application errors come as HTTP 200 with "error" != 0.
        if not isinstance(data, dict) or not isinstance(data.get("error"), int):
            raise ZaloError(status, f"{path}: unexpected answer (HTTP {status})")
        if data["error"] in ACCESS_DENIED:
            self._trouble(f"{path}: Zalo error {data['error']} {data.get('message') or ''}")
        elif data["error"] not in TOKEN_ERRORS:
            self._reached()
        return data

    async def _api(self, path: str, body: dict[str, Any] | None, *,
                   timeout_s: float | None = None) -> dict[str, Any]:
        """Call the OA API (GET when ``body`` is None). A token error (-216, -220) refreshes the
        token once and repeats the call once; any other error raises ZaloError."""
        assert self._http is not None, "channel not started"
        try:
            token = await self.tokens.current(self._http)
            data = await self._post(path, body, token.access, timeout_s=timeout_s)
            if data["error"] in TOKEN_ERRORS:
                log.info("Zalo OA refused the access token (%s); refreshing", data["error"])
                token = await self.tokens.refresh(self._http, token.version)
                data = await self._post(path, body, token.access, timeout_s=timeout_s)
                if data["error"] in TOKEN_ERRORS:
                    self._trouble(f"the refreshed access token was refused ({data['error']})")
        except TokenError as exc:
            # Not transient: resending at once would spend more refresh attempts. Notices map it
            # to "retry" (deliver), so they go out once the operator has fixed the tokens.
            self._trouble(str(exc))
            raise ZaloError(TOKEN_TROUBLE, str(exc)) from exc
        if data["error"] != 0:
            raise ZaloError(data["error"], f"{path}: {data.get('message') or ''}".strip())
        result = data.get("data")
        return result if isinstance(result, dict) else {}

    def _message(self, text: str, buttons: list[Button]) -> dict[str, Any]:
        message: dict[str, Any] = {"text": text}
        if buttons:
            # Plain "buttons" payload without template_type: the form several integrations use
            # [C public code]; one guide shows template_type "button" instead [U].
            message["attachment"] = {"type": "template", "payload": {"buttons": [
                {"title": b.label[:BUTTON_TITLE_MAX], "type": self.cfg.button_type,
                 "payload": BUTTON_PREFIX + b.payload} for b in buttons]}}
        return message

    async def _cs(self, user_id: str, message: dict[str, Any]) -> str | None:
        data = await self._api("/v3.0/oa/message/cs",
                               {"recipient": {"user_id": user_id}, "message": message})
        return scalar(data.get("message_id"))

    async def _paced_cs(self, user_id: str, message: dict[str, Any]) -> str | None:
        async with self.pace.turn():
            return await self._cs(user_id, message)

    async def _unreachable(self, user_id: str, exc: ZaloError) -> None:
        # -230: no interaction for 7 days. Retrying cannot help until the user writes again.
        log.info("Zalo OA user %s is outside the interaction window: %s", user_id, exc)
        await self.app.mark_blocked(self.name, user_id, unreachable=True)

    async def send(self, user_id: str, replies: list[Reply], *, first: int = 0,
                   mark: Mark | None = None) -> bool:
        """Send ``replies[first:]`` as customer-service messages with up to ``max_buttons``
        buttons each, the rest as numbered options (``mark(i + 1)`` after reply ``i``); False
        when Zalo refused one."""
        for i, (_, pieces) in enumerate(render(replies, self.spec)):
            if i < first:
                continue
            for piece in pieces:
                if not piece.text:
                    continue
                message = self._message(piece.text, piece.buttons)
                try:
                    await resend_transient(partial(self._paced_cs, user_id, message))
                except ZaloError as exc:
                    if exc.code == NO_INTERACTION:
                        await self._unreachable(user_id, exc)
                    else:
                        log.warning("Zalo OA reply to %s not sent: %s", user_id, exc)
                    return False
            if mark is not None:
                await mark(i + 1)
        return True

    async def _in_window(self, user_id: str) -> bool:
        """Whether the user wrote to us recently enough for a customer-service message."""
        row = await user_last_seen(self.app.sessionmaker, self.name, user_id)
        if row is None:
            return False
        last_seen, unreachable_at = row
        if unreachable_at is not None and unreachable_at >= last_seen:
            return False  # Zalo said -230 since the user last wrote
        return utcnow() - last_seen < dt.timedelta(days=self.cfg.cs_window_days)

    async def _promotion(self, user_id: str, text: str) -> str | None:
        """One promotion message ("tin truyền thông cá nhân", to followers, at most one a day).

        Body as built by several public integrations (docs/zalo.md) [C public code]: template
        "promotion" with a header and a text element. Element length limits are not sourced
        [U]; we keep the header to one line of 100 characters and the text to 2000. A
        third-party note says this endpoint was shut down on 2026-03-01 in favour of ZBS
        templates [U]: if Zalo refuses, the notice is reported failed with Zalo's answer.
        """
        first, _, rest = text.strip().partition("\n")
        header = first if len(first) <= 100 else first[:99].rsplit(" ", 1)[0] + "…"
        body = rest.strip() or text.strip()
        if len(body) > TEXT_LIMIT:
            log.warning("notice cut to %d characters for a Zalo promotion", TEXT_LIMIT)
            body = body[:TEXT_LIMIT - 1] + "…"
        data = await self._api("/v3.0/oa/message/promotion", {
            "recipient": {"user_id": user_id},
            "message": {"attachment": {"type": "template", "payload": {
                "template_type": "promotion", "language": "VI",
                "elements": [{"type": "header", "content": header},
                             {"type": "text", "content": body}]}}}})
        return scalar(data.get("message_id"))

    async def deliver_reply(self, user_id: str, reply: Reply) -> Delivery:
        """A live-chat message: only ever a customer-service message (never a promotion).
        Outside the interaction window, or when Zalo answers -230, it is refused with the
        reason, for the operator to see."""
        window = self.cfg.cs_window_days
        outside = (f"ngoài khung tin tư vấn của Zalo OA: người dân chưa nhắn cho OA trong "
                   f"{window} ngày qua, nên Zalo không nhận tin tư vấn tới họ")
        if not await self._in_window(user_id):
            return Delivery("failed", reason=outside)
        first_id: str | None = None
        for _, pieces in render([reply], self.spec):
            for piece in pieces:
                if not piece.text:
                    continue
                try:
                    mid = await self._cs(user_id, self._message(piece.text, piece.buttons))
                except ZaloError as exc:
                    if exc.code == NO_INTERACTION:
                        await self._unreachable(user_id, exc)
                        return Delivery("failed", reason=f"{outside} (Zalo: {exc})")
                    if first_id is not None:
                        return Delivery("sent", platform_id=first_id,
                                        reason=f"cut short: {exc}")
                    quiet_end = self.app.settings.broadcast.zalo_quiet_hours[1]
                    return Delivery.of(mapped(exc, quiet_end=quiet_end))
                first_id = first_id or mid
        return Delivery("sent", platform_id=first_id)

    async def deliver(self, user_id: str, text: str, *, priority: str = "normal") -> Delivery:
        """Send one notice: a customer-service message inside the interaction window, else a
        promotion message. Mapping: 429, 5xx, timeouts and token trouble → retry; -234 (night)
        → retry at the end of the quiet hours; -230 → mark unreachable, then promotion; other
        refusals → failed with Zalo's code and message."""
        cs_refusal: ZaloError | None = None
        try:
            if await self._in_window(user_id):
                try:
                    first_id: str | None = None
                    for piece in split_text(text, TEXT_LIMIT):
                        mid = await self._cs(user_id, {"text": piece})
                        first_id = first_id or mid
                    return Delivery("sent", platform_id=first_id)
                except ZaloError as exc:
                    if exc.code != NO_INTERACTION:
                        raise
                    await self._unreachable(user_id, exc)
                    cs_refusal = exc
            if not self.cfg.promotion:
                why = f"customer-service message refused ({cs_refusal})" if cs_refusal else \
                    "the user has not written within the customer-service window"
                return Delivery("failed", reason=f"{why}; promotion messages are off "
                                                 "(zalo.oa.promotion)")
            return Delivery("sent", platform_id=await self._promotion(user_id, text))
        except ZaloError as exc:
            error = mapped(exc, quiet_end=self.app.settings.broadcast.zalo_quiet_hours[1])
            if isinstance(error, Refused) and cs_refusal is not None:
                error = Refused(f"customer-service message refused ({cs_refusal}); "
                                f"{error.reason}")
            return Delivery.of(error)
