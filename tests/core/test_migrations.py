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


def _head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


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
    assert version == _head() and users == ["42"]
    assert "processed_updates" not in await _tables(fresh_db_url)


async def test_the_console_revision_keeps_notices_and_runs_and_indexes_their_areas(
        fresh_db_url: str) -> None:
    """0006 adds columns to a table other rows reference: existing runs must survive (SQLite
    would cascade-delete them if the table were rebuilt), both ways."""
    await upgrade(fresh_db_url, "0004")
    engine = make_engine(fresh_db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO announcements (id, author, title, text, areas, topics, priority,"
                " radio, repeat, first_at, state, created_at, updated_at) VALUES (1, 'cli:a',"
                " NULL, 'x', :areas, '[\"chung\"]', 'normal', false, 'none',"
                " '2026-12-01 00:00:00+00', 'done', '2026-12-01 00:00:00+00',"
                " '2026-12-01 00:00:00+00')"), {"areas": '["12454", "12452"]'})
            await conn.execute(text(
                "INSERT INTO announcement_runs (id, announcement_id, planned_for, released_at,"
                " recipients, text) VALUES (1, 1, '2026-12-01 00:00:00+00',"
                " '2026-12-01 00:00:00+00', 0, 'x')"))
        await upgrade(fresh_db_url)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM announcement_runs"))
                    ).scalar_one() == 1
            areas = (await conn.execute(text(
                "SELECT area FROM announcement_areas ORDER BY area"))).scalars().all()
            assert areas == ["12452", "12454"]
        await asyncio.to_thread(command.downgrade, _alembic_config(fresh_db_url), "0004")
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM announcement_runs"))
                    ).scalar_one() == 1
    finally:
        await engine.dispose()
