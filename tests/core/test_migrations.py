"""The migrations create exactly the tables the models describe, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

import core.models  # noqa: F401  (registers the tables)
from core.db import Base, _alembic_config, make_engine, upgrade


def _diff(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(ctx, Base.metadata))


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_matches_the_models(fresh_db_url: str) -> None:
    await upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_downgrade_removes_the_broadcast_tables_and_upgrade_restores_them(
        fresh_db_url: str) -> None:
    await upgrade(fresh_db_url)
    await asyncio.to_thread(command.downgrade, _alembic_config(fresh_db_url), "0002")
    assert not {"outbox", "announcements", "subscriptions"} & await _tables(fresh_db_url)
    await upgrade(fresh_db_url)
    assert {"outbox", "announcements", "subscriptions", "broadcast_jobs"} <= \
        await _tables(fresh_db_url)


async def test_a_database_made_before_the_core_floor_upgrades_in_place(
        fresh_db_url: str) -> None:
    """The migrations moved from bot/ to core/ with the same revision ids: a database the old
    code left at 0004 upgrades to the head, keeps its rows and loses only processed_updates."""
    await upgrade(fresh_db_url, "0004")
    engine = make_engine(fresh_db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO users (channel, user_id, created_at, last_seen) "
                "VALUES ('telegram', '42', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        assert "processed_updates" in await _tables(fresh_db_url)
        await upgrade(fresh_db_url)
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))
                       ).scalar_one()
            users = (await conn.execute(text("SELECT user_id FROM users"))).scalars().all()
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()
    assert version == "0005" and users == ["42"]
    assert "processed_updates" not in await _tables(fresh_db_url)
