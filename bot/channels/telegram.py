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
import json
import logging
import os
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

__all__ = ["COMMANDS", "SPEC", "SafeBot", "TelegramChannel", "mapped", "to_incoming"]

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


#: Chat commands shown in Telegram's menu (interfaces.md).
COMMANDS = [
    ("start", "Bắt đầu, menu chính"),
    ("menu", "Menu chính"),
    ("dangky", "Đăng ký nhận thông báo"),
    ("huy", "Thôi nhận thông báo"),
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


def chat_of(update: Update) -> str | None:
    """The chat an update belongs to (its updates are handled in order), if any."""
    if update.callback_query is not None:
        q = update.callback_query
        return str(q.message.chat.id if q.message else q.from_user.id)
    msg = update.message or update.edited_message
    if msg is not None and msg.chat is not None:
        return str(msg.chat.id)
    if update.my_chat_member is not None:
        return str(update.my_chat_member.chat.id)
    return None


def to_incoming(update: Update) -> Incoming | None:
    """Our view of a Telegram update, or None for updates we do not answer."""
    if update.callback_query is not None:
        q = update.callback_query
        chat_id = q.message.chat.id if q.message else q.from_user.id
        return Incoming("telegram", str(chat_id), button=q.data or "", kind="button",
                        message_id=str(update.update_id))
    msg = update.message or update.edited_message
    if msg is None or msg.chat is None:
        return None
    if msg.chat.type != "private":
        return None  # the assistant talks one-to-one; group broadcasts go through notices
    user_id = str(msg.chat.id)
    kind: IncomingKind
    if msg.text is not None:
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


def keyboard(buttons: list[Button]) -> InlineKeyboardMarkup | None:
    """Short labels two or three to a row, long labels one to a row."""
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    row: list[InlineKeyboardButton] = []
    for b in buttons:
        ib = (InlineKeyboardButton(b.label, url=b.url) if b.url
              else InlineKeyboardButton(b.label, callback_data=b.payload))
        short = len(b.label) <= 14
        if short and len(row) < 3 and all(len(x.text) <= 14 for x in row):
            row.append(ib)
            continue
        if row:
            rows.append(row)
        row = [ib]
        if not short:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return InlineKeyboardMarkup(rows)


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
        bot = SafeBot(
            cfg.token,
            base_url=cfg.base_url,
            base_file_url=base_file,
            request=AiohttpRequest(16, read_timeout=15, write_timeout=30),
            # Two connections: on shutdown PTB makes one last getUpdates call while the
            # cancelled long poll may still hold the first connection.
            get_updates_request=AiohttpRequest(2, read_timeout=cfg.poll_timeout_s + 10),
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
        self.pace = Pacer(app.sessionmaker, "telegram", cfg.replies_per_second)
        self._poller: asyncio.Task[None] | None = None
        self._notices: Bot | None = None
        self._notices_lock = asyncio.Lock()
        self._file_ids: dict[str, str] = {}  # attachment sha256 -> Telegram file_id

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.app.inbox.register(self.name, self)
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

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        await self.app.inbox.drain()
        await self.ptb.shutdown()
        if self._notices is not None:
            await self._notices.shutdown()

    def routes(self) -> list[Route]:
        return [("POST", WEBHOOK_PATH, self._on_webhook)] if self.webhook else []

    async def _on_webhook(self, request: web.Request) -> web.Response:
        if not check_secret(request.headers.get(SECRET_HEADER), self.cfg.webhook_secret):
            log.warning("Telegram webhook: wrong or missing secret from %s", request.remote)
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("Telegram webhook: body is not JSON")
            return web.json_response({"error": "body is not JSON"}, status=400)
        try:
            if not await self.feed_webhook(data):
                return web.json_response({"error": "not a Telegram update"}, status=400)
        except SQLAlchemyError as exc:
            # Not stored, so not acknowledged: Telegram sends it again.
            log.error("Telegram webhook: update not stored (%s); answered 503",
                      type(exc).__name__)
            return web.json_response({"error": "try again later"}, status=503)
        return web.json_response({"ok": True})

    async def feed_webhook(self, data: Any) -> bool:
        """Store one webhook update in the inbox and handle it; False when it is not a
        Telegram update. Raises SQLAlchemyError when it could not be stored."""
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return False
        try:
            update = Update.de_json(data, self.ptb.bot)
        except Exception:
            log.warning("rejected malformed Telegram webhook update %r", data.get("update_id"))
            return False
        await self.app.inbox.take(self.name, str(update.update_id), chat_of(update), data)
        return True

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
                log.warning("Telegram polling error (%s); next try in %.0f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            if updates:
                offset = max(u.update_id for u in updates) + 1
            for row in rows:
                if row is not None:
                    self.app.inbox.start(row)

    # ------------------------------------------------------------------ handling

    async def incoming(self, payload: dict[str, Any]) -> Incoming | None:
        """The message in a stored update (the inbox's port); membership changes and button
        spinners are dealt with here."""
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
        m = update.my_chat_member
        assert m is not None
        if m.chat.type != "private":
            return
        if m.new_chat_member.status == ChatMemberStatus.BANNED:  # "kicked": the user blocked us
            await self.app.mark_blocked("telegram", str(m.chat.id))

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
                        await self.pace.turn()
                        await self.ptb.bot.send_message(
                            chat_id, to_html(piece.text), parse_mode=ParseMode.HTML,
                            reply_markup=keyboard(piece.buttons),
                            disable_web_page_preview=True,
                        )
                if r.audio_path:
                    voice = await asyncio.to_thread(Path(r.audio_path).read_bytes)
                    await self.pace.turn()
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
                await bot.initialize()
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
