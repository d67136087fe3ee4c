"""Replies from two ``trolyso run`` processes together stay within Telegram's 30 messages per
second (one pace in the database, shared with notices): the Bot API double, which answers 429
above 30 in any second, never has to."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.pacing import Pacer
from broadcast import ratelimit
from core.db import make_engine, make_sessionmaker
from tests.bot.procs import Proc, free_port, prepare, start
from tests.bot.test_inbox_kill import SECRET, _post_all
from tests.doubles.telegram_api import BotApiDouble

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@contextlib.asynccontextmanager
async def _tx(sm: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sm() as s, s.begin():
        yield s


def busiest_second(times: list[float]) -> int:
    """The most messages in any one-second window."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


async def test_two_processes_share_30_replies_per_second(
        pg_url: str, tmp_path: Path, trained_nlu_cache: Path) -> None:
    api = await BotApiDouble(max_per_second=30).start()
    procs: list[Proc] = []
    try:
        config = prepare(tmp_path, trained_nlu_cache)
        ports = [free_port()]
        while len(ports) < 2:
            ports += {free_port()} - set(ports)
        urls = [f"http://127.0.0.1:{port}/webhooks/telegram" for port in ports]
        # Both start at once (each start is mostly waiting: imports, the engine's file).
        started = await asyncio.gather(*(start(tmp_path, name, config, pg_url, port, {
            "TELEGRAM_TOKEN": api.token, "TELEGRAM_BASE_URL": api.base_url,
            "TELEGRAM_WEBHOOK_URL": url, "TELEGRAM_WEBHOOK_SECRET": SECRET})
            for name, port, url in zip("ab", ports, urls, strict=True)),
            return_exceptions=True)
        procs.extend(p for p in started if isinstance(p, Proc))
        for p in started:
            if isinstance(p, BaseException):
                raise p
        head = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        chats = [str(8_000_000 + i) for i in range(240)]
        bodies = [json.dumps(api.message_update(c, "/start")).encode() for c in chats]
        statuses = await asyncio.gather(_post_all(urls[0], bodies[0::2], head),
                                        _post_all(urls[1], bodies[1::2], head))
        assert statuses[0] + statuses[1] == [200] * len(chats)
        for _ in range(600):
            if {m["chat_id"] for m in api.sent} >= set(chats):
                break
            await asyncio.sleep(0.1)
        times = [m["at"] for m in api.sent if m["method"] == "sendMessage"]
        top = busiest_second(times)
        print(f"\n{len(times)} replies from two processes in {max(times) - min(times):.1f} s; "
              f"busiest second {top}; 429s {api.rate_limited}")
        assert {m["chat_id"] for m in api.sent} >= set(chats)
        assert api.rate_limited == 0
        assert top <= 30
    finally:
        await asyncio.gather(*(p.stop() for p in procs))  # both stop at once
        await api.stop()


def test_busiest_second_counts_a_rolling_window() -> None:
    assert busiest_second([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert busiest_second([float(i) / 40 for i in range(40)]) == 40


async def test_replies_of_two_processes_and_notices_share_one_pace(db_url: str) -> None:
    """Two processes' pacers (each its own engine) and the notice sender's reservations take
    slots from one bucket: 150 messages at once never put more than 30 in a second."""
    engines = [make_engine(db_url) for _ in range(2)]
    try:
        pacers = [Pacer(make_sessionmaker(e), "telegram", 30) for e in engines]
        left: list[float] = []

        async def reply(p: Pacer) -> None:
            async with p.turn():
                left.append(time.time())

        async def notice() -> None:  # what broadcast.sender does for each notice
            sm = make_sessionmaker(engines[0])
            async with sm() as s, s.begin():
                slot = await ratelimit.reserve(s, "telegram", 30, time.time())
            started = await ratelimit.admitted(lambda: _tx(sm), "telegram", 30, slot)
            left.append(time.time())
            async with sm() as s, s.begin():
                await ratelimit.record(s, "telegram", [(started, time.time())])

        started = time.time()
        await asyncio.gather(*(reply(pacers[i % 2]) for i in range(120)),
                             *(notice() for _ in range(30)))
        took = time.time() - started
        print(f"\n150 messages in {took:.1f} s; busiest second {busiest_second(left)}")
        assert busiest_second(left) <= 30
        assert took >= (150 - 30) / 30
    finally:
        for e in engines:
            await e.dispose()


async def test_zero_turns_the_pace_off(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        pacer = Pacer(make_sessionmaker(engine), "telegram", 0)
        cpu = time.process_time()
        for _ in range(200):
            async with pacer.turn():
                pass
        assert time.process_time() - cpu < 0.5  # no database round trip, no waiting
    finally:
        await engine.dispose()
