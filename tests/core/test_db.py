"""Pooled PostgreSQL connections: one killed while it waited in the pool is replaced unseen."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import core.db
from core.db import make_engine


async def test_a_connection_killed_while_idle_in_the_pool_is_replaced(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core.db, "PING_IDLE_S", 0.0)  # every checkout counts as after a pause
    engine = make_engine(pg_url)
    admin = make_engine(pg_url)
    try:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with admin.connect() as conn:  # a server restart, an idle timeout...
            await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        async with engine.connect() as conn:
            again = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != pid
    finally:
        await engine.dispose()
        await admin.dispose()


async def test_a_connection_used_a_moment_ago_is_not_pinged(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ping is three round trips with asyncpg: busy connections skip it."""
    engine = make_engine(pg_url)
    pings: list[object] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or real(c))
    try:
        for _ in range(3):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert pings == []
        monkeypatch.setattr(core.db, "PING_IDLE_S", 0.0)
        paused = make_engine(pg_url)
        monkeypatch.setattr(paused.dialect, "do_ping", lambda c: pings.append(c) or real(c))
        try:
            for _ in range(3):
                async with paused.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        finally:
            await paused.dispose()
        assert len(pings) == 2  # the first checkout opened the connection
    finally:
        await engine.dispose()
