"""An idle process polls cheaply: one statement outside a transaction per loop, and nothing
is missed because of it (issue 14: N processes pay the idle cost N times)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import exists, literal, select

from bot.app import App
from bot.live import signature
from broadcast.sender import Sender
from core.db import probe
from core.models import OutboxItem
from tests.broadcast.conftest import (
    ADMIN,
    FakeChannel,
    announce,
    make_core,
    outbox_count,
    sender_for,
    subscribe,
)
from tests.doubles.zalo_api import eventually


def _count(sender: Sender, name: str) -> list[int]:
    calls = [0]
    real = getattr(sender, name)

    async def counted(*a: Any, **kw: Any) -> Any:
        calls[0] += 1
        return await real(*a, **kw)

    setattr(sender, name, counted)
    return calls


async def test_probe_reads_the_first_row_or_nothing(bcore: App) -> None:
    assert await probe(bcore.engine, select(OutboxItem.id).limit(1)) == ()
    row = await probe(bcore.engine, select(exists().where(OutboxItem.id > 0), literal(2)))
    assert row == (False, 2)


async def test_an_idle_sender_only_asks_and_still_sends_what_comes(bcore: App) -> None:
    fake = FakeChannel()
    sender = sender_for(bcore, fake)  # polls every 0.05 s (tests/broadcast/conftest.py)
    claims, probes = _count(sender, "_claim"), _count(sender, "_anything")
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        # The first round claims, then it only asks (waited for, not slept: on a loaded
        # machine the first round alone took longer than the 0.6 s once slept here).
        await eventually(lambda: probes[0] >= 3, "three idle probes", 15)
        assert claims[0] == 1
        await subscribe(bcore, ["a1", "a2", "a3"])
        await announce(bcore)
        # The three notices, then the report to the author once the run ended (a sweep the
        # probe found due).
        await eventually(lambda: bool(fake.to(ADMIN)), "the delivery report", 15)
        assert sorted(u for u, *_ in fake.sent) == sorted(["a1", "a2", "a3", ADMIN])
    finally:
        stop.set()
        began = time.monotonic()
        await task
    assert time.monotonic() - began < 1.0  # idle workers wake for the stop at once


async def test_a_stop_gives_back_what_the_workers_had_not_taken(
        db_url: str, tmp_path: Path) -> None:
    core = await make_core(db_url, tmp_path, sender_concurrency=1)
    try:
        await subscribe(core, [f"u{i}" for i in range(5)])
        await announce(core)
        fake = FakeChannel(delay_s=0.3)
        sender = sender_for(core, fake)
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        await eventually(lambda: bool(fake.calls), "the first send")
        stop.set()
        await asyncio.wait_for(task, 5)
        assert len(fake.calls) == 1  # the one in hand finished; no worker took another
        assert await outbox_count(core, state="sent") == 1
        assert await outbox_count(core, state="pending") == 4
        assert await outbox_count(core, state="claimed") == 0
    finally:
        await core.close()


def test_the_content_signature_sees_edits_additions_and_removals(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text("a", encoding="utf-8")
    (tmp_path / "sub" / "b.md").write_text("b", encoding="utf-8")
    (tmp_path / ".hidden").write_text("x", encoding="utf-8")
    first = signature(tmp_path)
    assert [name for name, _, _ in first] == ["a.yaml", os.path.join("sub", "b.md")]
    assert signature(tmp_path) == first
    (tmp_path / "sub" / "b.md").write_text("bb", encoding="utf-8")
    edited = signature(tmp_path)
    assert edited != first
    (tmp_path / "sub" / "c.md").write_text("c", encoding="utf-8")
    added = signature(tmp_path)
    assert len(added) == 3
    (tmp_path / "a.yaml").unlink()
    assert [name for name, _, _ in signature(tmp_path)] == [os.path.join("sub", "b.md"),
                                                            os.path.join("sub", "c.md")]
