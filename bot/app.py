"""Assembly: one object that owns the database, content, understanding engine and assistant.

Channels (Telegram, Zalo, web, terminal) get an :class:`App` and call :meth:`App.handle` with
an :class:`~flows.types.Incoming`; they never talk to the database or the flows directly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.conversation import Conversations
from bot.inbox import Inbox
from broadcast.chat import NOTICES
from broadcast.store import SqlNoticeStore
from console.handover.chat import HANDOVER
from console.handover.desk import Desk
from console.handover.live import Changes
from core.config import Settings
from core.db import READ_ONLY, make_engine, make_sessionmaker, upgrade
from core.storage import SqlStore, mark_blocked, purge_expired
from flows.assistant import Assistant
from flows.content import Content, load_content
from flows.ports import Context, FlowSettings, Ports, Speech
from flows.types import Incoming, Reply
from nlu.data import Example
from nlu.live import LiveEngine
from nlu.types import Engine

if TYPE_CHECKING:
    from bot.channels.base import ChannelBase
    from bot.live import LiveUpdates

__all__ = ["App", "build_app"]

log = logging.getLogger(__name__)

@dataclass
class App:
    """``content`` and ``nlu`` are replaced while the assistant runs (``bot.live``): each
    message takes both once, when its handling starts."""

    settings: Settings
    content: Content
    nlu: LiveEngine
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    assistant: Assistant
    speech: Speech | None = None
    conversations: Conversations = field(init=False)
    #: Platform updates stored before they are acknowledged (bot.inbox).
    inbox: Inbox = field(init=False)
    live: LiveUpdates = field(init=False)
    #: Wakes long polls (web chat, console) when a handover changed, in any process.
    changes: Changes = field(init=False)
    #: Wakes this process's handover sender (set by ``trolyso run`` when it starts one).
    nudge: Callable[[], None] = field(default=lambda: None)
    #: The channels ``trolyso run`` started (for ``/healthz`` and the outage monitor).
    channels: dict[str, ChannelBase] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from bot.live import LiveUpdates

        if not isinstance(self.nlu, LiveEngine):
            self.nlu = LiveEngine(self.nlu)
        self.live = LiveUpdates(self)
        self.flow_settings = FlowSettings(
            areas=[(a.code, a.name) for a in self.settings.areas],
            topics=[(t.id, t.name) for t in self.settings.topics],
            retention_days=self.settings.retention_days,
            max_text_chars=self.settings.web.max_text_chars,
        )
        self.conversations = Conversations(self.sessionmaker, self.assistant, self._context)
        self.inbox = Inbox(self.sessionmaker, self.settings, self.conversations)
        self.changes = Changes(self.sessionmaker, self.settings.handover.watch_s)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def today(self) -> dt.date:
        return dt.datetime.now(self.tz).date()

    def _context(self, session: AsyncSession, msg: Incoming) -> Context:
        return Context(
            content=self.content, nlu=self.nlu.current, store=SqlStore(session),
            settings=self.flow_settings, today=self.today(), speech=self.speech,
            channel=self.settings.channels[msg.channel],
            ports=self._ports(session),
        )

    def _ports(self, session: AsyncSession) -> Ports:
        """What the plugged-in conversations need, bound to this update's transaction."""
        ports = Ports()
        ports.set(NOTICES, SqlNoticeStore(session, self.settings, self.content.texts))
        if self.settings.handover.enabled:
            ports.set(HANDOVER, Desk(session, self.settings, self.content.texts))
        return ports

    async def handle(self, msg: Incoming, update_key: str | None = None) -> list[Reply] | None:
        return await self.conversations.handle(msg, update_key)

    async def mark_blocked(self, channel: str, user_id: str, *, unreachable: bool = False) -> None:
        await mark_blocked(self.sessionmaker, channel, user_id, unreachable=unreachable)

    async def healthy(self) -> bool:
        """The database answers a read within 5 s (no write lock: a long writer elsewhere
        does not make the server look down). A read still stuck after 5 s is left to finish
        on its own; the answer does not wait for it."""
        check = asyncio.ensure_future(self._read_one())
        done, _ = await asyncio.wait({check}, timeout=5)
        if not done:
            check.add_done_callback(lambda t: t.cancelled() or t.exception())
            log.warning("database health check: no answer within 5 s")
            return False
        exc = check.exception()
        if exc is not None:
            log.warning("database health check failed: %s: %s", type(exc).__name__, exc)
        return exc is None

    async def _read_one(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execution_options(**{READ_ONLY: True})
            await conn.execute(text("SELECT 1"))

    def channel_health(self) -> dict[str, str]:
        """The running channels' state: "ok" or "degraded" (platform unreachable)."""
        return {"web": "ok", **{name: ch.health() for name, ch in self.channels.items()}}

    async def purge(self) -> dict[str, int]:
        counts = await purge_expired(self.sessionmaker, self.settings.retention_days)
        log.info("retention: deleted %s", counts)
        return counts

    async def close(self) -> None:
        await self.changes.close()
        await self.inbox.close()
        await self.engine.dispose()


def load_nlu(settings: Settings, content: Content, extra: Sequence[Example] = ()) -> Engine:
    """The configured engine, trained on the content and on ``extra`` (taught examples)."""
    from nlu import load_engine

    return load_engine(settings.nlu, content, cache_dir=settings.path(settings.nlu.cache_dir),
                       extra=extra)


async def build_app(settings: Settings, *, migrate: bool = True,
                     nlu: Engine | None = None, speech: Speech | None = None) -> App:
    """Load content, train or load the understanding engine, connect and migrate the database.

    The settings are bound to the declared channels first (``bot.channels``): a key naming an
    unknown channel stops here with a ConfigError."""
    from bot.channels import bind
    from bot.startup import check_content

    settings = bind(settings)
    check_content(settings)  # a missing folder is one configuration error, not a traceback
    # A broken entry must not take the whole assistant (and its emergency answers) down: the
    # valid content is served and every problem is logged; `trolyso content check` is the gate.
    content = load_content(settings.path(settings.content.dir), strict=False)
    for problem in content.problems:
        log.error("content problem, entry skipped: %s", problem)
    if migrate:
        await upgrade(settings.db_url)
    engine = make_engine(settings.db_url)
    sessionmaker = make_sessionmaker(engine)
    live: LiveEngine
    if nlu is None:
        # The engine the database says to serve: trained on the content and on the examples
        # editors taught (the cache holds it when this host trained it before).
        version, key, extra = await _accepted(sessionmaker, settings)
        live = LiveEngine(await asyncio.to_thread(load_nlu, settings, content, extra),
                          version, key)
    else:
        live = LiveEngine(nlu)
    assistant = build_assistant()
    return App(settings=settings, content=content, nlu=live, engine=engine,
               sessionmaker=sessionmaker, assistant=assistant, speech=speech)


async def _accepted(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
                    ) -> tuple[int, str | None, list[Example]]:
    from bot.live import accepted_examples

    try:
        async with sessionmaker() as session:
            return await accepted_examples(session, settings)
    except SQLAlchemyError as exc:  # not migrated yet (migrate=False): the content alone
        log.warning("NLU: taught examples not read (%s)", type(exc).__name__)
        return 0, None, []


def build_assistant() -> Assistant:
    """The assistant with every plug-in flow installed."""
    from broadcast import chat
    from console.handover import chat as handover

    assistant = Assistant()
    chat.install(assistant)
    handover.install(assistant)  # a person takes over a chat (when handover.enabled)
    return assistant

