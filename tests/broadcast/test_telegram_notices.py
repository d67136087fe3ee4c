"""Notices over Telegram: python-telegram-bot talks HTTP to the Bot API double on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.channels.telegram import TelegramChannel
from broadcast.sender import Sender
from tests.broadcast.conftest import (
    FakeChannel,
    announce,
    make_core,
    sender_for,
    settle,
    status,
    subscribe,
)
from tests.doubles.telegram_api import BotApiDouble, Fault

CHAT = "5551234"


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    double = await BotApiDouble(max_per_second=30, per_chat_interval_s=1.0).start()
    yield double
    await double.stop()


@pytest.fixture
async def tg(sqlite_url: str, tmp_path: Path,
             api: BotApiDouble) -> AsyncIterator[tuple[App, TelegramChannel]]:
    core = await make_core(sqlite_url, tmp_path, {"TELEGRAM_TOKEN": api.token,
                                                  "TELEGRAM_BASE_URL": api.base_url},
                           telegram_per_second=30.0)
    channel = TelegramChannel(core, core.settings.telegram.model_copy(
        update={"poll_timeout_s": 1}))
    await channel.start()
    yield core, channel
    await channel.stop()
    await core.close()


async def test_a_notice_is_sent_with_its_title_in_bold(
        tg: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    _, channel = tg
    result = await channel.deliver(CHAT, "📢 THÔNG BÁO: Cắt điện\n\nTừ 8 giờ <sáng> mai.")
    assert result.status == "sent" and result.platform_id
    [msg] = api.messages_to(CHAT)
    assert msg["text"].startswith("<b>📢 THÔNG BÁO: Cắt điện</b>")
    assert "&lt;sáng&gt;" in msg["text"] and msg["parse_mode"] == "HTML"


async def test_telegram_errors_become_delivery_outcomes(
        tg: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    _, channel = tg
    api.blocked.add("1")
    assert (await channel.deliver("1", "x")).status == "blocked"
    api.faults.append(Fault("sendMessage", 429, "Too Many Requests: retry after 7",
                            retry_after=7))
    flood = await channel.deliver("2", "x")
    assert flood.status == "retry" and (flood.reason or "").startswith("rate_limited")
    assert flood.retry_at is not None
    assert 6 <= (flood.retry_at - dt.datetime.now(dt.UTC)).total_seconds() <= 7.5
    api.faults.append(Fault("sendMessage", 502, "Bad Gateway"))
    down = await channel.deliver("3", "x")
    assert down.status == "retry" and down.retry_at is None
    api.faults.append(Fault("sendMessage", 400, "Bad Request: chat not found"))
    assert await channel.deliver("4", "x") == await _failed("Telegram refused: Chat not found")
    assert sum(1 for m, _ in api.calls if m == "sendMessage") == 4  # no hidden resends


async def _failed(reason: str) -> object:
    from core.delivery import Delivery

    return Delivery("failed", reason=reason)


async def test_a_broadcast_stays_under_30_per_second_and_1_per_chat(
        tg: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    core, channel = tg
    users = [str(6000 + i) for i in range(60)]
    await subscribe(core, users)
    await subscribe(core, ["9"])
    nid = await announce(core, "Thông báo một")
    await announce(core, "Thông báo hai", areas=["12454"])
    sender = Sender(core.sessionmaker, core.settings, core.content.texts, {"telegram": channel})
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        await api.wait_sent("9", 2, wait_s=15)
        await api.wait_sent(users[-1], 2, wait_s=15)
    finally:
        stop.set()
        await task
    assert api.rate_limited == 0 and api.per_chat_violations == 0
    times = sorted(m["at"] for m in api.sent)
    assert max(sum(1 for u in times if t <= u < t + 1.0) for t in times) <= 30
    assert (await status(core, nid)).sent == 61


async def test_the_rate_is_shared_by_sender_processes(db_url: str, tmp_path: Path) -> None:
    one = await make_core(db_url, tmp_path, telegram_per_second=20.0)
    two = await make_core(db_url, tmp_path, telegram_per_second=20.0)
    try:
        await subscribe(one, [f"u{i}" for i in range(40)])
        await announce(one)
        fake = FakeChannel()
        a, b = sender_for(one, fake), sender_for(two, fake)
        await asyncio.gather(settle(a, one), settle(b, two))
        times = sorted(at for *_, at in fake.sent)
        assert len(times) == 41  # 40 notices and the report
        assert times[-1] - times[0] >= 39 / 20 - 0.1  # together, not 20/s each
        assert max(sum(1 for u in times if t <= u < t + 1.0) for t in times) <= 21
    finally:
        await one.close()
        await two.close()


def test_telegram_errors_are_mapped_once_and_a_400_is_never_a_network_failure() -> None:
    from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

    from bot.channels.telegram import mapped
    from core.delivery import Blocked, RateLimited, Rejected, Retry

    assert issubclass(BadRequest, NetworkError)  # why the order of the mapping matters
    assert type(mapped(BadRequest("Chat not found"))) is Rejected
    assert type(mapped(Forbidden("bot was blocked by the user"))) is Blocked
    assert type(mapped(TimedOut())) is Retry
    assert type(mapped(NetworkError("Bad Gateway"))) is Retry
    flood = mapped(RetryAfter(dt.timedelta(seconds=3)))
    assert isinstance(flood, RateLimited) and flood.retry_after_s == 3


async def test_a_400_on_a_bulletin_mp3_is_failed_not_retried(
        tg: tuple[App, TelegramChannel], api: BotApiDouble, tmp_path: Path) -> None:
    _, channel = tg
    mp3 = tmp_path / "ban-tin.mp3"
    mp3.write_bytes(b"ID3" + b"\0" * 64)
    api.faults.append(Fault("sendAudio", 400, "Bad Request: chat not found"))
    result = await channel.deliver_audio("7", mp3, "Bản tin")
    assert result.status == "failed" and "chat not found" in (result.reason or "").lower()
    assert sum(1 for m, _ in api.calls if m == "sendAudio") == 1


async def test_a_reply_refused_with_400_is_not_sent_again(
        tg: tuple[App, TelegramChannel], api: BotApiDouble) -> None:
    from flows.types import Reply

    _, channel = tg
    api.faults.append(Fault("sendMessage", 400, "Bad Request: chat not found"))
    assert await channel.send("8", [Reply("Xin chào")]) is False
    assert sum(1 for m, _ in api.calls if m == "sendMessage") == 1
