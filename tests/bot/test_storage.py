"""Storage on SQLite and PostgreSQL: migrations, state round trips, concurrent processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from bot.app import build_app
from core.models import Conversation, MessageLog
from flows.types import Incoming
from tests.conftest import settings_for
from tests.fakes import KeywordNlu


async def test_state_survives_a_restart_on_both_databases(db_url: str, tmp_path: Path) -> None:
    settings = settings_for(db_url, tmp_path)
    first = await build_app(settings, nlu=KeywordNlu())
    await first.handle(Incoming("telegram", "7", button="st:cap-ho-chieu:2", kind="button"))
    await first.close()
    second = await build_app(settings, nlu=KeywordNlu())
    try:
        state = await second.conversations.load_state("telegram", "7")
        assert state.service == "cap-ho-chieu" and state.flow == "service"
        replies = await second.handle(Incoming("telegram", "7", text="hết bao nhiêu tiền")) or []
        assert "Lệ phí" in replies[0].text
    finally:
        await second.close()


async def test_two_processes_serving_the_same_user_lose_no_update(db_url: str,
                                                                  tmp_path: Path) -> None:
    """Two cores with their own connection pools stand in for two processes."""
    settings = settings_for(db_url, tmp_path)
    a = await build_app(settings, nlu=KeywordNlu())
    b = await build_app(settings, migrate=False, nlu=KeywordNlu())
    try:
        n = 15
        jobs = []
        for i in range(n):
            core = a if i % 2 else b
            jobs.append(core.handle(Incoming("zalo_bot", "same-user", text="làm hộ chiếu"),
                                    update_key=f"m{i}"))
        results = await asyncio.gather(*jobs)
        assert all(results)
        async with a.sessionmaker() as s:
            version = (await s.execute(select(Conversation.version))).scalar_one()
            logged = (await s.execute(select(func.count()).select_from(MessageLog))).scalar_one()
        assert version == n and logged == n
    finally:
        await a.close()
        await b.close()


async def test_the_same_update_through_two_processes_is_answered_once(db_url: str,
                                                                      tmp_path: Path) -> None:
    settings = settings_for(db_url, tmp_path)
    a = await build_app(settings, nlu=KeywordNlu())
    b = await build_app(settings, migrate=False, nlu=KeywordNlu())
    try:
        msg = Incoming("telegram", "9", text="/start")
        results = await asyncio.gather(a.handle(msg, "u-1"), b.handle(msg, "u-1"))
        assert sum(1 for r in results if r) == 1
    finally:
        await a.close()
        await b.close()
