"""Telegram channel: python-telegram-bot 22 as the Bot API client, our assistant as the brain.

PTB provides the HTTP client, typed updates, long polling and AIORateLimiter (which also waits
out 429 ``retry_after`` and resends). Conversation state is NOT kept in PTB (no
ConversationHandler): every update goes to the host's ``handle``, which reads and writes the
database. Updates of one chat are handled in order; different chats concurrently.

Error policy (written once, :func:`mapped`): 429 → wait ``retry_after`` (for the whole bot);
403 → the user blocked the bot; 400 → refused, never retried; timeouts, network errors, 5xx and
a bad token → retry with backoff; anything else Telegram refuses → failed with its words.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import os
import time
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.constants import ChatMemberStatus, MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ExtBot

from bot.channels.base import ChannelBase, Host, Route, check_secret
from bot.channels.body import BadBody, read_json, refuse
from bot.channels.ptb_aiohttp import AiohttpRequest
from bot.inbox import Mark
from bot.pacing import Pacer
from bot.render import render
from core.channels import ChannelSpec
from core.config import Settings, TelegramCfg
from core.delivery import (
    Blocked,
    Delivery,
    DeliveryError,
    RateLimited,
    Rejected,
    Retry,
)
from core.files import OutgoingFile
from flows.types import Button, Incoming, IncomingKind, Reply

__all__ = ["COMMANDS", "SPEC", "SafeBot", "TelegramChannel", "check_token", "mapped",
           "to_incoming"]

log = logging.getLogger(__name__)

# Opt in to PTB's future behaviour (time periods as timedelta) instead of deprecation warnings.
os.environ.setdefault("PTB_TIMEDELTA", "true")

SPEC = ChannelSpec(
    name="telegram", push=True, buttons=100, audio=True, files=True,
    text_limit=MessageLimit.MAX_TEXT_LENGTH,  # 4096 (sendMessage)
    # About 30 messages per second over the whole bot and one per second per chat (Bot API
    # FAQ); broadcast.telegram_per_second and telegram_per_chat_interval_s override them.
    rate_per_s=30.0, per_chat_interval_s=1.0,
)
#: Room left under the text limit for the HTML markup added to a reply (bold title, escapes).
_HTML_ROOM = 96
#: sendPhoto / sendDocument captions (after entities parsing).
_CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH
WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_ALLOWED = ["message", "edited_message", "callback_query", "my_chat_member"]
#: Updates kept parsed between the webhook and the fast path (see ``_parsed``).
_PARSED_MAX = 1000


def mapped(exc: TelegramError) -> DeliveryError:
    """Telegram's errors in our terms, once. Order matters: in python-telegram-bot
    ``BadRequest`` (400) and ``TimedOut`` are subclasses of ``NetworkError``, so a 400 must be
    recognised before the network failures it would otherwise be retried as."""
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        secs = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
        return RateLimited(f"rate_limited: Telegram 429, retry after {secs:g} s", secs)
    if isinstance(exc, Forbidden):
        return Blocked(exc.message)
    if isinstance(exc, BadRequest):
        return Rejected(f"Telegram refused: {exc.message}")
    if isinstance(exc, (NetworkError, InvalidToken)):  # timeouts, 5xx, a token being changed
        return Retry(f"Telegram: {exc.message}")
    return Rejected(f"Telegram refused: {exc.message}")  # a group that moved, a conflict...


def _token_refused() -> Exception:
    from bot.startup import CONFIG, StartupError

    # Not exc.message: PTB puts the token in it, and this line goes to logs.
    return StartupError("TELEGRAM_TOKEN was refused by Telegram (401 Unauthorized): copy the "
                        "token again from @BotFather, or unset it to run without Telegram",
                        CONFIG)


async def check_token(cfg: TelegramCfg) -> None:
    """``getMe`` once (``trolyso run --check``): a refused token raises StartupError; an
    unreachable Telegram is only logged, as ``run`` would retry it."""
    bot = Bot(cfg.token or "", base_url=cfg.base_url,
              request=AiohttpRequest(1, read_timeout=10, connect_timeout=10))
    try:
        await bot.initialize()  # getMe
    except InvalidToken as exc:
        raise _token_refused() from exc
    except NetworkError as exc:
        log.warning("Telegram unreachable now (%s): `trolyso run` would retry it", exc.message)
    finally:
        await bot.shutdown()


#: Chat commands shown in Telegram's menu (interfaces.md).
COMMANDS = [
    ("start", "Bắt đầu, menu chính"),
    ("menu", "Menu chính"),
    ("dangky", "Đăng ký nhận thông báo"),
    ("huy", "Thôi nhận thông báo"),
    ("dulieucuatoi", "Xem dữ liệu tôi lưu về bạn"),
    ("xoadulieu", "Xóa dữ liệu của tôi"),
    ("thongbao", "Soạn thông báo (tổ công nghệ số)"),
    ("thamgia", "Tham gia tổ bằng mã mời"),
    ("lienket", "Liên kết tài khoản trang quản trị"),
    ("trogiup", "Hướng dẫn và tổng đài"),
]


class SafeBot(ExtBot[Any]):
    """An ExtBot whose ``get_updates`` survives one malformed update.

    PTB parses a getUpdates batch as a whole; one update it cannot parse would make the poller
    fetch the same batch forever. Here each update is parsed alone and a broken one becomes an
    empty Update with its id, so the offset moves past it and the rejection is logged.
    """

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        original = Update.de_list

        def tolerant(data: Any, bot: Any) -> tuple[Update, ...]:
            out = []
            for raw in data or []:
                try:
                    out.append(Update.de_json(raw, bot))
                except Exception:
                    uid = raw.get("update_id") if isinstance(raw, dict) else None
                    log.warning("rejected malformed Telegram update %r", uid)
                    if isinstance(uid, int):
                        out.append(Update(update_id=uid))
            return tuple(out)

        Update.de_list = tolerant  # type: ignore[method-assign,assignment]
        try:
            return await super().get_updates(*args, **kwargs)
        finally:
            Update.de_list = original  # type: ignore[method-assign]

    async def post_message(self, chat_id: str, html_text: str,
                           markup: dict[str, Any] | None) -> None:
        """``sendMessage`` in HTML without link previews, through the same request, rate
        limiter and errors as :meth:`send_message`, but nothing built from Telegram's answer:
        a chat reply does not use it, and turning it and the keyboard into PTB objects was a
        good part of a reply's CPU."""
        data: dict[str, Any] = {"chat_id": chat_id, "text": html_text, "parse_mode": "HTML",
                                "link_preview_options": {"is_disabled": True}}
        if markup is not None:
            data["reply_markup"] = markup
        await self._post("sendMessage", data)


def _chat_id(value: Any) -> str | None:
    """A chat or user id as our user key; None for what no Bot API update carries."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
        return None
    return str(value)


def chat_of(update: Update) -> str | None:
    """The chat an update belongs to (its updates are handled in order), if any."""
    if update.callback_query is not None:
        q = update.callback_query
        chat = getattr(q.message, "chat", None) if q.message is not None else None
        return _chat_id(getattr(chat if chat is not None else q.from_user, "id", None))
    msg = update.message or update.edited_message
    if msg is not None and msg.chat is not None:
        return _chat_id(msg.chat.id)
    # PTB builds a ChatMemberUpdated without its chat when the network sent none.
    member = update.my_chat_member
    return _chat_id(getattr(getattr(member, "chat", None), "id", None))


def to_incoming(update: Update) -> Incoming | None:
    """Our view of a Telegram update, or None for updates we do not answer. Fields of the
    wrong type (a number as the text) count as absent: updates come from the network."""
    if update.callback_query is not None:
        q = update.callback_query
        chat = getattr(q.message, "chat", None) if q.message is not None else None
        user_id = _chat_id(getattr(chat, "id", None)) if chat is not None \
            else _chat_id(getattr(q.from_user, "id", None))
        if user_id is None:
            return None
        data = q.data if isinstance(q.data, str) else ""
        return Incoming("telegram", user_id, button=data, kind="button",
                        message_id=str(update.update_id))
    msg = update.message or update.edited_message
    if msg is None or msg.chat is None:
        return None
    if msg.chat.type != "private":
        return None  # the assistant talks one-to-one; group broadcasts go through notices
    user_id = _chat_id(msg.chat.id)
    if user_id is None:
        return None
    kind: IncomingKind
    if isinstance(msg.text, str):
        kind = "command" if msg.text.startswith("/") else "text"
        return Incoming("telegram", user_id, text=msg.text, kind=kind,
                        message_id=str(update.update_id))
    if msg.photo or msg.document:
        kind = "image"
    elif msg.sticker:
        kind = "sticker"
    elif msg.voice or msg.audio:
        kind = "voice"
    else:
        kind = "unsupported"
    return Incoming("telegram", user_id, kind=kind, message_id=str(update.update_id))


def blocked_by(update: Update) -> str | None:
    """The private chat that blocked the bot ("kicked" in ``my_chat_member``), or None."""
    m = update.my_chat_member
    chat = getattr(m, "chat", None)
    if chat is None or getattr(chat, "type", None) != "private":
        return None
    if getattr(getattr(m, "new_chat_member", None), "status", None) != ChatMemberStatus.BANNED:
        return None
    return _chat_id(getattr(chat, "id", None))


def _layout(buttons: list[Button]) -> list[list[Button]]:
    """Short labels two or three to a row, long labels one to a row."""
    rows: list[list[Button]] = []
    row: list[Button] = []
    for b in buttons:
        short = len(b.label) <= 14
        if short and len(row) < 3 and all(len(x.label) <= 14 for x in row):
            row.append(b)
            continue
        if row:
            rows.append(row)
        row = [b]
        if not short:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return rows


def keyboard(buttons: list[Button]) -> InlineKeyboardMarkup | None:
    """The buttons as an inline keyboard (see ``_layout``)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(b.label, url=b.url) if b.url
         else InlineKeyboardButton(b.label, callback_data=b.payload) for b in row]
        for row in _layout(buttons)])


def keyboard_json(buttons: list[Button]) -> dict[str, Any] | None:
    """:func:`keyboard` as the Bot API's JSON, without PTB's objects (a reply's fast path)."""
    if not buttons:
        return None
    return {"inline_keyboard": [
        [{"text": b.label, "url": b.url} if b.url
         else {"text": b.label, "callback_data": b.payload} for b in row]
        for row in _layout(buttons)]}


def to_html(text: str) -> str:
    """Escape for HTML parse mode; the first line of an answer is its bold title."""
    first, sep, rest = text.partition("\n")
    return f"<b>{html.escape(first)}</b>{sep}{html.escape(rest)}" if sep else html.escape(text)


class TelegramChannel(ChannelBase):
    SPEC = SPEC
    name = "telegram"

    @classmethod
    def declare(cls, settings: Settings) -> ChannelSpec:
        b = settings.broadcast
        return replace(SPEC, rate_per_s=b.telegram_per_second,
                       per_chat_interval_s=b.telegram_per_chat_interval_s)

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        if not settings.telegram.token:
            log.info("Telegram is off. To enable it, create a bot with @BotFather and set "
                     "TELEGRAM_TOKEN (see README, 'Telegram').")
        return bool(settings.telegram.token)

    @classmethod
    def create(cls, host: Host) -> TelegramChannel:
        return cls(host, host.settings.telegram)

    def __init__(self, app: Host, cfg: TelegramCfg) -> None:
        if not cfg.token:
            raise ValueError("TELEGRAM_TOKEN is not set")
        self.app = app
        self.spec = self.declare(app.settings)
        self.cfg = cfg
        self.webhook = bool(cfg.webhook_url and cfg.webhook_secret)
        base_file = cfg.base_file_url or cfg.base_url.replace("/bot", "/file/bot")
        self._requests = (
            AiohttpRequest(16, read_timeout=15, write_timeout=30),
            # Two connections: on shutdown PTB makes one last getUpdates call while the
            # cancelled long poll may still hold the first connection.
            AiohttpRequest(2, read_timeout=cfg.poll_timeout_s + 10),
        )
        bot = SafeBot(
            cfg.token,
            base_url=cfg.base_url,
            base_file_url=base_file,
            request=self._requests[0],
            get_updates_request=self._requests[1],
            # The bot-wide rate is the database-shared pace (self.pace); AIORateLimiter
            # keeps waiting out 429s and resending.
            rate_limiter=AIORateLimiter(overall_max_rate=0, max_retries=cfg.max_retries),
        )
        # Updates are not dispatched by PTB: they go through the inbox (bot.inbox), stored
        # before they are acknowledged. PTB is the Bot API client.
        builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder().bot(bot).updater(None)
        )
        self.ptb: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self._bot = bot
        self.pace = Pacer(app.sessionmaker, "telegram", cfg.replies_per_second)
        self._poller: asyncio.Task[None] | None = None
        self._notices: Bot | None = None
        self._notices_lock = asyncio.Lock()
        self._file_ids: dict[str, str] = {}  # attachment sha256 -> Telegram file_id
        self._retry: asyncio.Task[None] | None = None
        # Updates parsed at the webhook, kept for the fast path so each is parsed once (PTB's
        # de_json is a good part of an update's CPU); a resumed row is parsed again.
        self._parsed: OrderedDict[int, Update] = OrderedDict()
        self._degraded_since: float | None = None  # monotonic time Telegram was lost

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Connect; a refused token stops start-up (one line), an unreachable Telegram does
        not: the channel retries with backoff while the other channels serve."""
        self.app.inbox.register(self.name, self)
        try:
            await self._connect()
        except InvalidToken as exc:
            raise _token_refused() from exc
        except NetworkError as exc:
            self._degraded_since = time.monotonic()
            log.warning("Telegram unreachable at start (%s); retrying in the background, "
                        "the other channels serve meanwhile", exc.message)
            self._retry = asyncio.create_task(self._reconnect())

    async def _connect(self) -> None:
        await self.ptb.initialize()
        await self._notices_bot()  # ready before the first notice (its getMe is not a send)
        try:
            await self.ptb.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
        except TelegramError as exc:  # not fatal: commands still work when typed
            log.warning("could not set the Telegram command menu: %s", exc)
        if self.webhook:
            await self.ptb.bot.set_webhook(
                url=self.cfg.webhook_url or "", secret_token=self.cfg.webhook_secret,
                allowed_updates=_ALLOWED,
            )
            log.info("Telegram: webhook mode at %s", self.cfg.webhook_url)
        else:
            await self.ptb.bot.delete_webhook()  # getUpdates and a webhook exclude each other
            self._poller = asyncio.create_task(self._poll())
            log.info("Telegram: long polling")
        self._degraded_since = None

    async def _reconnect(self) -> None:
        """Try again after 1 s, 2 s, 4 s... up to ``telegram.reconnect_max_s``."""
        wait = 1.0
        while True:
            await asyncio.sleep(wait)
            try:
                await self._connect()
            except TelegramError as exc:
                refused = isinstance(exc, InvalidToken)  # its message holds the token
                log.log(logging.ERROR if refused else logging.WARNING,
                        "Telegram still unreachable (%s); next try in %.0f s",
                        "the token was refused" if refused else exc.message,
                        min(wait * 2, self.cfg.reconnect_max_s))
                wait = min(wait * 2, self.cfg.reconnect_max_s)
                continue
            log.info("Telegram reachable again: channel started")
            return

    def _polling_error(self, exc: TelegramError) -> None:
        log.warning("Telegram polling error: %s", exc)
        if isinstance(exc, (NetworkError, InvalidToken)) and self._degraded_since is None:
            self._degraded_since = time.monotonic()

    def health(self) -> str:
        """"ok", or "degraded" while Telegram cannot be reached (start-up retries, polling
        errors since the last update that came through)."""
        return "ok" if self._degraded_since is None else "degraded"

    def degraded_for(self) -> float:
        return 0.0 if self._degraded_since is None else time.monotonic() - self._degraded_since

    async def stop(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            await asyncio.gather(self._retry, return_exceptions=True)
            self._retry = None
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        await self.app.inbox.drain()
        await self.ptb.shutdown()
        for request in self._requests:  # Telegram never reached: PTB did not initialize
            await request.shutdown()
        if self._notices is not None:
            await self._notices.shutdown()

    def routes(self) -> list[Route]:
        return [("POST", WEBHOOK_PATH, self._on_webhook)] if self.webhook else []

    async def _on_webhook(self, request: web.Request) -> web.Response:
        if not check_secret(request.headers.get(SECRET_HEADER), self.cfg.webhook_secret):
            log.warning("Telegram webhook: wrong or missing secret from %s", request.remote)
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            data = await read_json(request)
        except BadBody as exc:
            return refuse("Telegram webhook", request, exc.status, exc.reason)
        try:
            problem = await self._feed(data)
        except SQLAlchemyError as exc:
            # Not stored, so not acknowledged: Telegram sends it again.
            log.error("Telegram webhook: update not stored (%s); answered 503",
                      type(exc).__name__)
            return web.json_response({"error": "try again later"}, status=503)
        if problem is not None:
            return refuse("Telegram webhook", request, 400, problem)
        return web.json_response({"ok": True})

    async def feed_webhook(self, data: Any) -> bool:
        """Store one webhook update in the inbox and handle it; False when it is not a
        Telegram update. Raises SQLAlchemyError when it could not be stored."""
        problem = await self._feed(data)
        if problem is not None:
            log.warning("rejected Telegram webhook update: %s", problem)
        return problem is None

    async def _feed(self, data: Any) -> str | None:
        """Store one webhook update and handle it; what is wrong with it when it is not a
        Telegram update."""
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int) \
                or isinstance(data.get("update_id"), bool):
            return "not a Telegram update"
        try:
            update = Update.de_json(data, self.ptb.bot)
            # A wrongly typed field is refused here, not in a handler after the 200.
            to_incoming(update)
            blocked_by(update)
            chat_of(update)
        except Exception as exc:  # PTB raises whatever the field's constructor raised
            return f"malformed Telegram update {data.get('update_id')} ({type(exc).__name__})"
        self._parsed[update.update_id] = update
        if len(self._parsed) > _PARSED_MAX:
            self._parsed.popitem(last=False)
        if not await self.app.inbox.take(self.name, str(update.update_id), chat_of(update),
                                         data):
            self._parsed.pop(update.update_id, None)
        self._degraded_since = None  # an update came through: Telegram is reachable
        return None

    async def _poll(self) -> None:
        """Long polling whose offset moves past a batch only once the batch is stored: a
        kill between the two gets the batch again, and the inbox drops the duplicates."""
        bot = self.ptb.bot
        offset: int | None = None
        backoff = 1.0
        while True:
            try:
                updates = await bot.get_updates(offset=offset, timeout=self.cfg.poll_timeout_s,
                                                allowed_updates=_ALLOWED)
                rows = await self.app.inbox.accept_many(self.name, [
                    (str(u.update_id), chat_of(u), u.to_dict()) for u in updates])
            except asyncio.CancelledError:
                raise
            except (TelegramError, SQLAlchemyError) as exc:
                if isinstance(exc, TelegramError):
                    self._polling_error(exc)
                else:
                    log.warning("Telegram updates not stored (%s); fetched again in %.0f s",
                                type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            self._degraded_since = None
            if updates:
                offset = max(u.update_id for u in updates) + 1
            for row in rows:
                if row is not None:
                    self.app.inbox.start(row)

    # ------------------------------------------------------------------ handling

    async def incoming(self, payload: dict[str, Any]) -> Incoming | None:
        """The message in a stored update (the inbox's port); membership changes and button
        spinners are dealt with here."""
        update = self._parsed.pop(payload.get("update_id", -1), None)
        if update is None:
            update = Update.de_json(payload, self.ptb.bot)
        if update.my_chat_member is not None:
            await self._membership(update)
            return None
        if update.callback_query is not None:
            try:  # stop the button's spinner first, whatever happens next
                await update.callback_query.answer()
            except TelegramError as exc:
                log.info("answerCallbackQuery failed: %s", exc)
        return to_incoming(update)

    async def _membership(self, update: Update) -> None:
        user_id = blocked_by(update)
        if user_id is not None:
            await self.app.mark_blocked("telegram", user_id)

    async def send(self, chat_id: str, replies: list[Reply], *, first: int = 0,
                   mark: Mark | None = None) -> bool:
        """Send ``replies[first:]`` in order (``mark(i + 1)`` after reply ``i``), each with its
        voice after its text; False when Telegram refuses (the user blocked the bot)."""
        try:
            rendered = render(replies, self.spec, limit=self.spec.text_limit - _HTML_ROOM)
            for i, (r, pieces) in enumerate(rendered):
                if i < first:
                    continue
                for piece in pieces:
                    if piece.text:
                        async with self.pace.turn():
                            await self._bot.post_message(chat_id, to_html(piece.text),
                                                         keyboard_json(piece.buttons))
                if r.audio_path:
                    voice = await asyncio.to_thread(Path(r.audio_path).read_bytes)
                    async with self.pace.turn():
                        await self.ptb.bot.send_voice(chat_id, voice=voice)
                if mark is not None:
                    await mark(i + 1)
        except TelegramError as exc:
            # A reply is not resent later: the citizen asks again (AIORateLimiter has already
            # waited out 429s max_retries times).
            error = mapped(exc)
            if isinstance(error, Blocked):
                log.info("Telegram refused chat %s: %s", chat_id, error.reason)
                await self.app.mark_blocked("telegram", chat_id)
            else:
                log.warning("Telegram send to %s failed: %s", chat_id, error.reason)
            return False
        return True

    # ------------------------------------------------------------------ notices

    async def _notices_bot(self) -> Bot:
        """A plain Bot for notices: no AIORateLimiter, so a 429 comes straight back to the
        outbox (which owns retries) and pacing is the database-shared limit's job."""
        async with self._notices_lock:
            if self._notices is None:
                bot = Bot(self.cfg.token or "", base_url=self.cfg.base_url,
                          request=AiohttpRequest(32, read_timeout=15, write_timeout=15,
                                                 connect_timeout=10))
                try:
                    await bot.initialize()
                except BaseException:  # Telegram unreachable: no session left open
                    await bot.shutdown()
                    await bot.request.shutdown()
                    raise
                self._notices = bot
            return self._notices

    async def deliver_audio(self, user_id: str, path: Path, caption: str) -> Delivery:
        """Send an MP3 (a radio bulletin) to a radio operator, with the same error policy."""
        try:
            bot = await self._notices_bot()
            data = await asyncio.to_thread(Path(path).read_bytes)
            msg = await bot.send_audio(user_id, audio=data, filename=Path(path).name,
                                       caption=caption[:1024], title=Path(path).stem)
        except TelegramError as exc:
            return Delivery.of(mapped(exc))
        return Delivery("sent", platform_id=str(msg.message_id))

    async def deliver_file(self, user_id: str, text: str, file: OutgoingFile, *,
                           priority: str = "normal") -> Delivery:
        """A notice with its photo (sendPhoto) or PDF (sendDocument). The notice is the
        caption when it fits Telegram's 1,024 characters; otherwise it goes first as a message
        and the file follows with the title. The file is uploaded once per process, then sent
        by the file_id Telegram gave it. A file refused after the text went out is reported in
        the reason, never resent with the text."""
        first, _, _ = text.partition("\n")
        whole = len(to_html(text)) <= _CAPTION_LIMIT
        caption = to_html(text) if whole else f"<b>{html.escape(first)}</b>"
        try:
            bot = await self._notices_bot()
            sent_text = None
            if not whole:
                sent_text = await bot.send_message(user_id, to_html(text),
                                                   parse_mode=ParseMode.HTML,
                                                   disable_web_page_preview=True)
        except TelegramError as exc:
            return Delivery.of(mapped(exc))
        known = self._file_ids.get(file.sha256)
        payload: Any = known or InputFile(file.data, filename=file.filename)
        send = bot.send_photo if file.kind == "photo" else bot.send_document
        field = "photo" if file.kind == "photo" else "document"
        try:
            msg = await send(user_id, payload, caption=caption,
                             parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            if sent_text is None:
                return Delivery.of(mapped(exc))
            return Delivery("sent", platform_id=str(sent_text.message_id),
                            reason=f"the {field} was not sent: {exc.message}")
        got = msg.photo[-1].file_id if file.kind == "photo" and msg.photo else \
            msg.document.file_id if msg.document else None
        if got:
            self._file_ids[file.sha256] = got
        return Delivery("sent", platform_id=str((sent_text or msg).message_id))

    async def deliver_reply(self, user_id: str, reply: Reply) -> Delivery:
        """A live-chat message (no bold title line, buttons as an inline keyboard), through
        the notices' plain bot: a 429 comes back to the caller's shared rate limit."""
        first_id: str | None = None
        try:
            bot = await self._notices_bot()
            for _, pieces in render([reply], self.spec, limit=self.spec.text_limit - _HTML_ROOM):
                for piece in pieces:
                    if not piece.text:
                        continue
                    msg = await bot.send_message(user_id, html.escape(piece.text),
                                                 parse_mode=ParseMode.HTML,
                                                 reply_markup=keyboard(piece.buttons),
                                                 disable_web_page_preview=True)
                    first_id = first_id or str(msg.message_id)
        except TelegramError as exc:
            if first_id is not None:  # the start went out: never resend it
                return Delivery("sent", platform_id=first_id, reason=f"cut short: {exc}")
            return Delivery.of(mapped(exc))
        return Delivery("sent", platform_id=first_id)

    async def deliver(self, user_id: str, text: str, *, priority: str = "normal") -> Delivery:
        """Send one notice; Telegram's errors become outcomes by :func:`mapped`."""
        try:
            bot = await self._notices_bot()
            msg = await bot.send_message(user_id, to_html(text), parse_mode=ParseMode.HTML,
                                         disable_web_page_preview=True)
        except TelegramError as exc:
            return Delivery.of(mapped(exc))
        return Delivery("sent", platform_id=str(msg.message_id))
