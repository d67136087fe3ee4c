"""Helpers for notice tests: a core on SQLite or PostgreSQL, in-test channels, subscribers."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App, build_app
from bot.channels import delivery_rules
from broadcast import announcements, subscriptions
from broadcast.sender import Sender
from broadcast.types import Actor, Draft, NoticeSummary
from core.config import AdminCfg, Settings
from core.delivery import Delivery
from core.models import Announcement, OutboxItem
from flows.types import Incoming, Reply
from tests.conftest import settings_for
from tests.fakes import KeywordNlu

ADMIN = "900001"
AREA, AREA2 = "12454", "12452"  # Phường Trần Lãm, Phường Trần Hưng Đạo
ALL_TOPICS = ["tiem-chung", "thien-tai", "dien-nuoc", "giay-to", "an-ninh", "chung"]


def broadcast_settings(db_url: str, tmp: Path, env: dict[str, str] | None = None,
                       **cfg: Any) -> Settings:
    """Test settings: one Telegram admin, fast retries, and ``cfg`` overrides of broadcast:."""
    s = settings_for(db_url, tmp, **(env or {}))
    base = {"telegram_per_second": 1000.0, "retry_base_s": 0.01, "retry_max_s": 0.05,
            "poll_s": 0.05, "scheduler_poll_s": 0.2}
    base.update(cfg)
    return s.model_copy(update={
        "admins": [AdminCfg(channel="telegram", user_id=ADMIN)],
        "broadcast": s.broadcast.model_copy(update=base)})


async def make_core(db_url: str, tmp: Path, env: dict[str, str] | None = None,
                    **cfg: Any) -> App:
    return await build_app(broadcast_settings(db_url, tmp, env, **cfg), nlu=KeywordNlu())


@pytest.fixture
async def bcore(db_url: str, tmp_path: Path) -> AsyncIterator[App]:
    """A core on SQLite and on PostgreSQL."""
    core = await make_core(db_url, tmp_path)
    try:
        yield core
    finally:
        await core.close()


@pytest.fixture
async def score(sqlite_url: str, tmp_path: Path) -> AsyncIterator[App]:
    """A core on SQLite only (conversation tests)."""
    core = await make_core(sqlite_url, tmp_path)
    try:
        yield core
    finally:
        await core.close()


async def say(core: App, text: str, user: str = "u1", channel: str = "telegram"
              ) -> list[Reply]:
    return await core.handle(Incoming(channel, user, text=text)) or []


async def tap(core: App, payload: str, user: str = "u1", channel: str = "telegram"
              ) -> list[Reply]:
    return await core.handle(Incoming(channel, user, button=payload, kind="button")) or []


def payloads(replies: list[Reply]) -> list[str]:
    return [b.payload for r in replies for b in r.buttons]


@dataclass
class FakeChannel:
    """A channel for notices inside the test: scripted outcomes per user, a log of sends."""

    name: str = "telegram"
    script: dict[str, list[Delivery]] = field(default_factory=dict)
    delay_s: float = 0.0
    calls: list[tuple[str, str, str, float]] = field(default_factory=list)
    sent: list[tuple[str, str, str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)

    async def deliver(self, user_id: str, text: str, *, priority: str = "normal") -> Delivery:
        call = (user_id, text, priority, time.monotonic())
        self.calls.append(call)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        outcomes = self.script.get(user_id)
        result = outcomes.pop(0) if outcomes else Delivery("sent",
                                                          platform_id=str(next(self._ids)))
        if result.status == "sent":
            self.sent.append(call)
        return result

    def to(self, user_id: str) -> list[str]:
        return [text for uid, text, _, _ in self.sent if uid == user_id]


async def subscribe(core: App, users: list[str], *, channel: str = "telegram",
                    areas: list[str] | None = None, topics: list[str] | None = None) -> None:
    async with core.sessionmaker() as s, s.begin():
        for u in users:
            await subscriptions.save_subscription(s, channel, u, areas or [AREA],
                                                  topics or ALL_TOPICS, "test")


async def announce(core: App, text: str = "Lịch tiêm chủng\nSáng thứ Bảy tại trạm y tế.",
                   *, by: Actor | None = None, **kw: Any) -> int:
    """Create a notice (released now unless ``at`` is given); its id."""
    draft = Draft(text=text, areas=kw.pop("areas", [AREA]), topics=kw.pop("topics", ALL_TOPICS),
                  **kw)
    async with core.sessionmaker() as s, s.begin():
        ann = await announcements.create(s, core.settings, core.content.texts,
                                         by or Actor.chat("telegram", ADMIN), draft)
        return ann.id


async def status(core: App, notice_id: int) -> NoticeSummary:
    async with core.sessionmaker() as s:
        ann = await s.get(Announcement, notice_id)
        assert ann is not None
        return await announcements.summary(s, ann)


async def outbox_count(core: App, **where: Any) -> int:
    async with core.sessionmaker() as s:
        stmt = select(func.count()).select_from(OutboxItem)
        for k, v in where.items():
            stmt = stmt.where(getattr(OutboxItem, k) == v)
        return int((await s.execute(stmt)).scalar_one())


def sender_for(core: App, *channels: FakeChannel, clock: Callable[[], float] | None = None,
               settings: Settings | None = None) -> Sender:
    settings = settings or core.settings
    return Sender(core.sessionmaker, settings, core.content.texts,
                  {c.name: c for c in channels}, rules=delivery_rules(settings),
                  **({"clock": clock} if clock else {}))


async def settle(sender: Sender, core: App, limit_s: float = 20.0) -> None:
    """Drain, waiting for deferred rows (backoff) to come due, until nothing is pending."""
    deadline = time.monotonic() + limit_s
    while True:
        await sender.drain()
        if not await outbox_count(core, state="pending") and \
                not await outbox_count(core, state="claimed"):
            await sender.drain()
            return
        if time.monotonic() > deadline:
            raise AssertionError("rows still pending")
        await asyncio.sleep(0.02)


def local(core: App, y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=core.tz)
