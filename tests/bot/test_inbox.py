"""The inbox in one process: replies decided but not sent go out from the stored record (never
decided twice), a held row is not resumed, /xoadulieu deletes the stored messages, keys are kept
for the accepted event age, and a stored update survives until handled."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.app import App, build_app
from bot.inbox import Inbox, Mark, reply_from_json, reply_to_json
from core.db import utcnow
from core.models import InboxItem, MessageLog
from flows.types import Button, Incoming, Reply
from tests.conftest import settings_for
from tests.fakes import KeywordNlu


@dataclass
class Port:
    """A channel for the inbox: reads ``{"text"}`` payloads; records what it sends and can
    fail (like a process dying) before a given reply."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    fail_at: int | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def incoming(self, payload: dict[str, Any]) -> Incoming | None:
        self.seen.append(payload)
        if "button" in payload:
            return Incoming("telegram", payload["user"], button=payload["button"], kind="button")
        return Incoming("telegram", payload["user"], text=payload["text"], kind="command"
                        if payload["text"].startswith("/") else "text")

    async def send(self, user_id: str, replies: list[Reply], *, first: int = 0,
                   mark: Mark | None = None) -> bool:
        for i, r in enumerate(replies):
            if i < first:
                continue
            if self.fail_at is not None and i >= self.fail_at:
                raise ConnectionError("the process died here")
            self.sent.append((user_id, r.text))
            if mark is not None:
                await mark(i + 1)
        return True


@pytest.fixture
async def core(db_url: str, tmp_path: Path) -> AsyncIterator[App]:
    app = await build_app(settings_for(db_url, tmp_path), nlu=KeywordNlu())
    yield app
    await app.close()


async def _rows(core: App) -> list[InboxItem]:
    async with core.sessionmaker() as s:
        return list((await s.execute(select(InboxItem).order_by(InboxItem.id))).scalars())


async def _settle(core: App) -> None:
    for _ in range(500):
        if not core.inbox.held:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("rows still in hand")


async def _expire(core: App) -> None:
    async with core.sessionmaker() as s, s.begin():
        await s.execute(update(InboxItem).values(
            lease_until=utcnow() - dt.timedelta(seconds=1)))


def test_replies_round_trip_through_json() -> None:
    r = Reply("Chào", [Button("Có", "y", role="yes"), Button("Web", "w", url="https://x")],
              kind="menu", numbers=("113",))
    assert reply_from_json(reply_to_json(r)) == r


async def test_a_duplicate_key_is_not_accepted_twice(core: App) -> None:
    port = Port()
    core.inbox.register("telegram", port)
    assert await core.inbox.take("telegram", "1", "u1", {"user": "u1", "text": "/start"})
    assert not await core.inbox.take("telegram", "1", "u1", {"user": "u1", "text": "/start"})
    await _settle(core)
    assert len(port.sent) == 1
    [row] = await _rows(core)
    assert row.state == "done" and row.payload == {}  # the key stays, the message goes


async def test_replies_decided_but_not_sent_go_out_from_the_stored_record(core: App) -> None:
    dying = Port(fail_at=0)
    core.inbox.register("telegram", dying)
    await core.inbox.take("telegram", "7", "u7", {"user": "u7", "text": "/start"})
    await _settle(core)
    [row] = await _rows(core)
    assert row.state == "replying" and row.replies and row.sent == 0
    assert dying.sent == []
    # Another process finds it once the lease ended: it sends the stored replies without
    # reading the message again or deciding anew.
    port = Port()
    core.inbox.register("telegram", port)
    await _expire(core)
    assert await core.inbox.resume() == 1
    await _settle(core)
    assert [t for _, t in port.sent] == [r["text"] for r in row.replies]
    assert port.seen == []
    async with core.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(MessageLog))).scalar() == 1
    [row] = await _rows(core)
    assert row.state == "done" and row.attempts == 2


async def test_only_the_replies_not_marked_sent_are_resent(core: App) -> None:
    port = Port()
    core.inbox.register("telegram", port)
    # Three decided replies, the first marked sent before the process died.
    [row] = await core.inbox.accept_many("telegram", [("k", "u9", {})])
    assert row is not None
    replies = [reply_to_json(Reply(t)) for t in ("một", "hai", "ba")]
    async with core.sessionmaker() as s, s.begin():
        await s.execute(update(InboxItem).where(InboxItem.id == row.id).values(
            state="replying", replies=replies, sent=1))
    core.inbox.held.clear()
    await _expire(core)
    await core.inbox.resume()
    await _settle(core)
    assert port.sent == [("u9", "hai"), ("u9", "ba")]


async def test_a_row_this_process_holds_is_not_resumed(core: App) -> None:
    core.inbox.register("telegram", Port())
    row = await core.inbox.accept("telegram", "h", "uh", {"user": "uh", "text": "/start"})
    assert row is not None and row.id in core.inbox.held
    await _expire(core)  # even when a renewal came late
    assert await core.inbox.resume() == 0
    await core.inbox.renew()
    [item] = await _rows(core)
    assert item.lease_until is not None and item.lease_until > utcnow()


async def test_a_row_failing_every_time_ends_failed(core: App) -> None:
    core.inbox.register("telegram", Port(fail_at=0))
    await core.inbox.take("telegram", "f", "uf", {"user": "uf", "text": "/start"})
    await _settle(core)
    for _ in range(core.settings.inbox.max_attempts):
        await _expire(core)
        await core.inbox.resume()
        await _settle(core)
    [row] = await _rows(core)
    assert row.state == "failed"


async def test_deleting_my_data_deletes_my_stored_messages(core: App) -> None:
    port = Port()
    core.inbox.register("telegram", port)
    await core.inbox.take("telegram", "a1", "ua", {"user": "ua", "text": "/start"})
    await core.inbox.take("telegram", "b1", "ub", {"user": "ub", "text": "/start"})
    await _settle(core)
    # A message of ua's still waiting (left by a killed process).
    async with core.sessionmaker() as s, s.begin():
        s.add(InboxItem(channel="telegram", key="a0", user_id="ua",
                        payload={"user": "ua", "text": "số điện thoại tôi 0912345678"},
                        lease_until=utcnow() + dt.timedelta(hours=1)))
    await core.inbox.take("telegram", "a2", "ua", {"user": "ua", "text": "/xoadulieu"})
    await core.inbox.take("telegram", "a3", "ua", {"user": "ua", "button": "del:y"})
    await _settle(core)
    # The confirmation went out from its stored record.
    assert port.sent[-1][0] == "ua" and len(port.sent) == 4
    rows = {(r.key, r.user_id): r for r in await _rows(core)}
    assert set(rows) == {("a3", "ua"), ("b1", "ub")}
    assert rows[("a3", "ua")].payload == {}  # only the key, so a redelivery is recognised


async def test_keys_are_kept_for_the_accepted_event_age(core: App) -> None:
    core.inbox.register("telegram", Port())
    await core.inbox.take("telegram", "old", "u", {"user": "u", "text": "/start"})
    await core.inbox.take("telegram", "new", "u", {"user": "u", "text": "/start"})
    await _settle(core)
    keep = core.inbox.keep
    # An event stamped max_event_age_s ahead is accepted, and replayable, for twice that.
    assert keep >= dt.timedelta(seconds=2 * core.settings.zalo.oa.max_event_age_s)
    async with core.sessionmaker() as s, s.begin():
        await s.execute(update(InboxItem).where(InboxItem.key == "old").values(
            created_at=utcnow() - keep - dt.timedelta(minutes=1)))
    assert await core.inbox.purge() == 1
    assert [r.key for r in await _rows(core)] == ["new"]


def test_keys_outlive_an_event_stamped_ahead_and_replayed_late(core: App) -> None:
    """An OA event whose timestamp is max_event_age_s ahead of our clock is accepted, and can
    be replayed until max_event_age_s after that timestamp: twice the age after it was first
    accepted, however short inbox.keep_hours is."""
    s = core.settings
    settings = s.model_copy(update={
        "inbox": s.inbox.model_copy(update={"keep_hours": 1}),
        "zalo": s.zalo.model_copy(update={"oa": s.zalo.oa.model_copy(
            update={"max_event_age_s": 2 * 3600})})})
    keep = Inbox(core.sessionmaker, settings, core.conversations).keep
    assert keep > dt.timedelta(hours=4)


async def test_a_row_decided_by_another_process_is_not_decided_again(core: App) -> None:
    port = Port()
    core.inbox.register("telegram", port)
    row = await core.inbox.accept("telegram", "d", "ud", {"user": "ud", "text": "/start"})
    assert row is not None
    async with core.sessionmaker() as s, s.begin():  # another process got there first
        await s.execute(update(InboxItem).where(InboxItem.id == row.id).values(
            state="replying", replies=[reply_to_json(Reply("từ tiến trình khác"))]))
    core.inbox.start(row)
    await _settle(core)
    assert port.sent == []  # its replies are the other process's to send
    async with core.sessionmaker() as s:  # and this decision was rolled back
        assert (await s.execute(select(func.count()).select_from(MessageLog))).scalar() == 0
