"""Zalo Official Account channel (OA API v3): signed webhook in, customer-service messages out.

Incoming: ``POST /webhooks/zalo-oa``. Zalo signs each event with the header
``X-ZEvent-Signature: mac=<hex sha256(app_id + raw body + timestamp + OA secret key)>``, app_id
and timestamp read from the JSON body. Events that fail the check, or are older than
``zalo.oa.max_event_age_s``, get 403 and change nothing; good ones are acknowledged at once and
handled in the background (Zalo expects an answer within about 2 s [U]).

Outgoing: customer-service ("tư vấn") messages, ``POST {base_url}/v3.0/oa/message/cs`` with
the header ``access_token``. Buttons are ``oa.query.show`` buttons whose payload comes back as a
``user_send_text`` event carrying exactly that string; we mark ours with a leading "#".

Tokens: the access token lasts about 25 h, the refresh token is single-use. Both live in the
``oauth_tokens`` table; a refresh stores the new pair, in one transaction with a version check,
before the new access token is used (:class:`OaTokens`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.channels.base import Delivery, Route
from bot.channels.zalo_common import (
    TEXT_LIMIT,
    Handlers,
    ZaloError,
    next_local_time,
    resend_transient,
)
from bot.render import numbered, split_text
from bot.web import check_secret
from core.config import ZaloOaCfg
from core.db import utcnow, write_lock
from core.models import OAuthToken, User
from core.storage import insert_for
from flows.types import Button, Incoming, IncomingKind, Reply

__all__ = [
    "BUTTON_PREFIX",
    "SIGNATURE_HEADER",
    "OaTokens",
    "Rejected",
    "TokenError",
    "ZaloOaChannel",
    "sign",
    "to_incoming",
    "verify_event",
]

log = logging.getLogger(__name__)

PROVIDER = "zalo_oa"
SIGNATURE_HEADER = "X-ZEvent-Signature"
WEBHOOK_PATH = "/webhooks/zalo-oa"
#: Our button payloads start with this, so a tap is told apart from typed text.
BUTTON_PREFIX = "#"
#: Zalo caps button titles at 100 characters [C public code; not on developers.zalo.me].
BUTTON_TITLE_MAX = 100

#: -216 access token invalid, -220 expired or removed [C chatwoot, integration guide].
TOKEN_ERRORS = frozenset({-216, -220})
#: Our code for "no usable token" (refresh refused or impossible); not a Zalo code.
TOKEN_TROUBLE = -1
#: The user has not interacted with the OA in the last 7 days: no customer-service messages.
NO_INTERACTION = -230
#: Promotion messages are refused at night (22:00-06:00 Vietnam time [C integration guide]).
NIGHT_WINDOW = -234

#: A refresh may take this long. Give up sooner and a refresh token Zalo already consumed could
#: be lost with its reply; on SQLite other writers wait this long at most.
REFRESH_TIMEOUT_S = 20.0
#: Refresh a little before the known expiry rather than after a refused call.
REFRESH_EARLY = dt.timedelta(minutes=5)

_EVENT_KINDS: dict[str, IncomingKind] = {
    "user_send_text": "text",
    "user_send_image": "image",
    "user_send_gif": "image",
    "user_send_sticker": "sticker",
    "user_send_audio": "voice",
    "user_send_video": "unsupported",
    "user_send_link": "unsupported",
    "user_send_location": "unsupported",
    "user_send_file": "unsupported",
    "user_send_business_card": "unsupported",
    "follow": "follow",
    "unfollow": "unfollow",
}


# ---------------------------------------------------------------------- webhook events


class Rejected(Exception):
    """A webhook request that fails its checks: answered with ``status``, changes nothing."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sign(app_id: str, raw: bytes, timestamp: str, secret_key: str) -> str:
    """The X-ZEvent-Signature value Zalo sends: ``mac=`` + hex sha256 over the raw body."""
    digest = hashlib.sha256(app_id.encode() + raw + timestamp.encode() + secret_key.encode())
    return "mac=" + digest.hexdigest()


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value)


def verify_event(raw: bytes, signature: str | None, *, app_id: str, secret_key: str,
                 max_age_s: int, now: float | None = None) -> dict[str, Any]:
    """The event in ``raw`` if Zalo signed it for our app recently; raises :class:`Rejected`.

    The hash covers the raw bytes as received (re-serialised JSON would differ). chatwoot's
    implementation takes app_id and timestamp from the body; a third-party guide uses the OA id
    and a timestamp header instead [U]; we follow chatwoot and interfaces.md.
    """
    if not signature:
        raise Rejected(403, "missing signature")
    try:
        event = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Rejected(400, "body is not JSON") from None
    if not isinstance(event, dict):
        raise Rejected(400, "body is not a JSON object")
    event_app, stamp = _scalar(event.get("app_id")), _scalar(event.get("timestamp"))
    if event_app is None or stamp is None:
        raise Rejected(403, "event without app_id or timestamp")
    if not check_secret(signature.strip().lower(), sign(event_app, raw, stamp, secret_key)):
        raise Rejected(403, "wrong signature")
    if event_app != app_id:
        raise Rejected(403, "event for another app")
    try:
        stamp_ms = int(stamp)
    except ValueError:
        raise Rejected(403, "timestamp is not a number") from None
    age_s = (now if now is not None else time.time()) - stamp_ms / 1000
    if abs(age_s) > max_age_s:  # a replay, or a clock far off
        raise Rejected(403, f"event timestamp {age_s:.0f} s away from now")
    return event


def _str_at(data: Any, *path: str) -> str | None:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return _scalar(data)


def to_incoming(event: dict[str, Any]) -> tuple[Incoming, str] | None:
    """Our view of one verified event and its de-duplication key; None for events we do not
    answer (delivery and seen receipts, echoes of the OA's own messages, anonymous chats)."""
    name = _scalar(event.get("event_name")) or ""
    kind = _EVENT_KINDS.get(name)
    if kind is None:
        return None
    stamp = _scalar(event.get("timestamp")) or ""
    if kind in ("follow", "unfollow"):
        user_id = _str_at(event, "follower", "id")
        if not user_id:
            return None
        return Incoming("zalo_oa", user_id, kind=kind), f"{name}:{user_id}:{stamp}"
    user_id = _str_at(event, "sender", "id")
    if not user_id:
        return None
    msg_id = _str_at(event, "message", "msg_id")
    key = f"{name}:{msg_id}" if msg_id else f"{name}:{user_id}:{stamp}"
    if kind != "text":
        return Incoming("zalo_oa", user_id, kind=kind, message_id=msg_id), key
    text = _str_at(event, "message", "text") or ""
    if text.startswith(BUTTON_PREFIX) and len(text) > len(BUTTON_PREFIX):
        payload = text[len(BUTTON_PREFIX):]
        return Incoming("zalo_oa", user_id, button=payload, kind="button", message_id=msg_id), key
    kind = "command" if text.startswith("/") else "text"
    return Incoming("zalo_oa", user_id, text=text, kind=kind, message_id=msg_id), key


# ---------------------------------------------------------------------- tokens


class TokenError(Exception):
    """No usable OA token: none stored, or the refresh was refused."""


@dataclass(frozen=True)
class Token:
    access: str
    version: int
    expires_at: dt.datetime | None


class OaTokens:
    """The OA's access and refresh tokens, kept in ``oauth_tokens`` (provider ``zalo_oa``).

    The refresh token is single-use: each refresh returns a new pair and the old refresh token
    stops working. So a refresh locks the row (``SELECT ... FOR UPDATE`` on PostgreSQL; on
    SQLite the transaction begins IMMEDIATE and holds the database write lock, and this
    process's other writers queue on :func:`core.db.write_lock`), calls Zalo, and writes the new
    pair with a version check before anyone uses it. A second process that wanted to refresh at
    the same time waits, then finds a newer version and uses that token instead of spending the
    refresh token again.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cfg: ZaloOaCfg) -> None:
        self.sessionmaker = sessionmaker
        self.engine = sessionmaker.kw["bind"]
        self.cfg = cfg
        self._cached: Token | None = None
        self._lock = asyncio.Lock()  # one refresh at a time inside this process

    async def seed(self) -> None:
        """Store the first tokens from the environment, only when the table has none."""
        if self.cfg.access_token and self.cfg.refresh_token:
            async with write_lock(self.engine), self.sessionmaker() as session, \
                    session.begin():
                stmt = insert_for(session, OAuthToken).values(
                    provider=PROVIDER, access_token=self.cfg.access_token,
                    refresh_token=self.cfg.refresh_token, expires_at=None, version=1,
                    updated_at=utcnow())
                await session.execute(stmt.on_conflict_do_nothing(
                    index_elements=[OAuthToken.provider]))
        self._cached = await self._read()

    async def _read(self) -> Token:
        async with self.sessionmaker() as session:
            row = await session.get(OAuthToken, PROVIDER)
            if row is None:
                raise TokenError("no Zalo OA tokens stored: set ZALO_OA_ACCESS_TOKEN and "
                                 "ZALO_OA_REFRESH_TOKEN for the first start")
            return Token(row.access_token, row.version, row.expires_at)

    async def current(self, http: aiohttp.ClientSession) -> Token:
        token = self._cached or await self._read()
        if token.expires_at is not None and utcnow() >= token.expires_at - REFRESH_EARLY:
            token = await self.refresh(http, token.version)
        self._cached = token
        return token

    async def refresh(self, http: aiohttp.ClientSession, seen_version: int) -> Token:
        """A token newer than ``seen_version``: another process's, or a fresh one from Zalo."""
        async with self._lock, write_lock(self.engine), self.sessionmaker() as session, \
                session.begin():
            row = (await session.execute(
                select(OAuthToken).where(OAuthToken.provider == PROVIDER).with_for_update()
            )).scalar_one_or_none()
            if row is None:
                raise TokenError("no Zalo OA tokens stored")
            if row.version != seen_version:  # someone refreshed while we waited
                self._cached = Token(row.access_token, row.version, row.expires_at)
                return self._cached
            access, refresh, expires_in = await self._exchange(http, row.refresh_token)
            expires_at = utcnow() + dt.timedelta(seconds=expires_in) if expires_in else None
            done = await session.execute(
                update(OAuthToken)
                .where(OAuthToken.provider == PROVIDER, OAuthToken.version == row.version)
                .values(access_token=access, refresh_token=refresh, expires_at=expires_at,
                        version=row.version + 1, updated_at=utcnow())
                .execution_options(synchronize_session=False))
            if int(getattr(done, "rowcount", 0) or 0) != 1:  # impossible while the row is locked
                raise TokenError("the token row changed during a refresh")
            token = Token(access, row.version + 1, expires_at)
        # Committed: only now is the new access token handed out.
        self._cached = token
        log.info("Zalo OA access token refreshed (version %d)", token.version)
        return token

    async def _exchange(self, http: aiohttp.ClientSession,
                        refresh_token: str) -> tuple[str, str, int | None]:
        url = f"{self.cfg.oauth_base_url}/v4/oa/access_token"
        form = {"app_id": self.cfg.app_id or "", "grant_type": "refresh_token",
                "refresh_token": refresh_token}
        try:
            async with http.post(url, data=form, headers={"secret_key": self.cfg.app_secret or ""},
                                 timeout=aiohttp.ClientTimeout(total=REFRESH_TIMEOUT_S)) as resp:
                status, raw = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TokenError(f"token refresh failed: {type(exc).__name__}") from None
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise TokenError(f"token refresh failed: HTTP {status}, not JSON")
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            # Error fields are not documented [U]: show what there is, never the tokens.
            detail = {k: data[k] for k in ("error", "error_name", "error_description", "message")
                      if k in data}
            raise TokenError(f"Zalo refused the token refresh (HTTP {status}): {detail}. If the "
                             "refresh token is dead, see docs/zalo.md 'New tokens'")
        # expires_in is in seconds; some answers give it as a string [U].
        raw_exp = data.get("expires_in")
        expires_in = int(str(raw_exp)) if str(raw_exp).isdigit() else None
        return access, refresh, expires_in


# ---------------------------------------------------------------------- channel


class ZaloOaChannel:
    """A Zalo Official Account as a channel of the conversation app."""

    name = "zalo_oa"

    def __init__(self, app: App, cfg: ZaloOaCfg) -> None:
        missing = [var for var, value in (("ZALO_OA_APP_ID", cfg.app_id),
                                          ("ZALO_OA_APP_SECRET", cfg.app_secret),
                                          ("ZALO_OA_SECRET_KEY", cfg.secret_key)) if not value]
        if missing:
            raise ValueError(f"the Zalo OA channel needs {', '.join(missing)}")
        self.app = app
        self.cfg = cfg
        self.tokens = OaTokens(app.sessionmaker, cfg)
        self._http: aiohttp.ClientSession | None = None
        self._handlers = Handlers()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15),
                                           trust_env=True)  # HTTPS_PROXY, NO_PROXY
        try:
            await self.tokens.seed()
        except TokenError as exc:
            await self._http.close()
            self._http = None
            raise RuntimeError(f"Zalo OA: {exc}") from exc
        log.info("Zalo OA: webhook at %s", WEBHOOK_PATH)

    async def stop(self) -> None:
        await self._handlers.drain()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def routes(self) -> list[Route]:
        return [("POST", WEBHOOK_PATH, self._on_webhook)]

    # ------------------------------------------------------------------ incoming

    async def _on_webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            event = verify_event(raw, request.headers.get(SIGNATURE_HEADER),
                                 app_id=self.cfg.app_id or "",
                                 secret_key=self.cfg.secret_key or "",
                                 max_age_s=self.cfg.max_event_age_s)
        except Rejected as exc:
            log.warning("Zalo OA webhook refused (%s) from %s", exc.reason, request.remote)
            return web.json_response({"error": "forbidden" if exc.status == 403 else exc.reason},
                                     status=exc.status)
        parsed = to_incoming(event)
        if parsed is not None:
            msg, key = parsed
            self._handlers.spawn(msg.user_id, lambda: self._handle(msg, key))
        return web.json_response({"ok": True})

    async def _handle(self, msg: Incoming, key: str) -> None:
        replies = await self.app.handle(msg, update_key=key)
        if replies:  # None: a redelivery already answered
            await self.send(msg.user_id, replies)

    # ------------------------------------------------------------------ outgoing

    async def _post(self, path: str, body: dict[str, Any], access: str) -> dict[str, Any]:
        assert self._http is not None, "channel not started"
        try:
            async with self._http.post(f"{self.cfg.base_url}{path}", json=body,
                                       headers={"access_token": access}) as resp:
                status, raw = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ZaloError(0, f"{path}: {type(exc).__name__}", transient=True) from None
        if status == 429 or status >= 500:
            raise ZaloError(status, f"{path}: HTTP {status}", transient=True)
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        # Application errors come as HTTP 200 with "error" != 0.
        if not isinstance(data, dict) or not isinstance(data.get("error"), int):
            raise ZaloError(status, f"{path}: unexpected answer (HTTP {status})")
        return data

    async def _api(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Call the OA API. A token error (-216, -220) refreshes the token once and repeats the
        call once; any other error raises ZaloError."""
        assert self._http is not None, "channel not started"
        try:
            token = await self.tokens.current(self._http)
            data = await self._post(path, body, token.access)
            if data["error"] in TOKEN_ERRORS:
                log.info("Zalo OA refused the access token (%s); refreshing", data["error"])
                token = await self.tokens.refresh(self._http, token.version)
                data = await self._post(path, body, token.access)
        except TokenError as exc:
            # Not transient: resending at once would spend more refresh attempts. Notices map it
            # to "retry" (deliver), so they go out once the operator has fixed the tokens.
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
        return _scalar(data.get("message_id"))

    async def _unreachable(self, user_id: str, exc: ZaloError) -> None:
        # -230: no interaction for 7 days. Retrying cannot help until the user writes again.
        log.info("Zalo OA user %s is outside the interaction window: %s", user_id, exc)
        await self.app.mark_blocked(self.name, user_id, unreachable=True)

    async def send(self, user_id: str, replies: list[Reply]) -> bool:
        """Send replies as customer-service messages with up to ``max_buttons`` buttons each,
        the rest as numbered options; False when Zalo refused one."""
        for _, pieces in numbered(replies, limit=TEXT_LIMIT, native_max=self.cfg.max_buttons):
            for piece in pieces:
                if not piece.text:
                    continue
                message = self._message(piece.text, piece.buttons)
                try:
                    await resend_transient(partial(self._cs, user_id, message))
                except ZaloError as exc:
                    if exc.code == NO_INTERACTION:
                        await self._unreachable(user_id, exc)
                    else:
                        log.warning("Zalo OA reply to %s not sent: %s", user_id, exc)
                    return False
        return True

    async def _in_window(self, user_id: str) -> bool:
        """Whether the user wrote to us recently enough for a customer-service message."""
        async with self.app.sessionmaker() as session:
            row = (await session.execute(select(User.last_seen, User.unreachable_at).where(
                User.channel == self.name, User.user_id == user_id))).first()
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
        return _scalar(data.get("message_id"))

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
            if exc.transient or exc.code in TOKEN_ERRORS or exc.code == TOKEN_TROUBLE:
                return Delivery("retry", reason=str(exc))
            if exc.code == NIGHT_WINDOW:
                resume = self.app.settings.broadcast.zalo_quiet_hours[1]
                return Delivery("retry", reason=str(exc), retry_at=next_local_time(resume))
            before = f"customer-service message refused ({cs_refusal}); " if cs_refusal else ""
            return Delivery("failed", reason=f"{before}Zalo OA refused: {exc}")
