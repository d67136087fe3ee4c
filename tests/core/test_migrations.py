"""The migrations create exactly the tables the models describe, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
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


async def test_upgrade_matches_the_models(db_url: str) -> None:
    await upgrade(db_url)
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_downgrade_removes_the_broadcast_tables_and_upgrade_restores_them(
        db_url: str) -> None:
    await upgrade(db_url)
    await asyncio.to_thread(command.downgrade, _alembic_config(db_url), "0002")
    assert not {"outbox", "announcements", "subscriptions"} & await _tables(db_url)
    await upgrade(db_url)
    assert {"outbox", "announcements", "subscriptions", "broadcast_jobs"} <= \
        await _tables(db_url)


async def test_the_console_revision_keeps_notices_and_runs_and_indexes_their_areas(
        db_url: str) -> None:
    """0005 adds columns to a table other rows reference: existing runs must survive (SQLite
    would cascade-delete them if the table were rebuilt), both ways."""
    from sqlalchemy import text

    await upgrade(db_url, "0004")
    engine = make_engine(db_url)
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
        await upgrade(db_url)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM announcement_runs"))
                    ).scalar_one() == 1
            areas = (await conn.execute(text(
                "SELECT area FROM announcement_areas ORDER BY area"))).scalars().all()
            assert areas == ["12452", "12454"]
        await asyncio.to_thread(command.downgrade, _alembic_config(db_url), "0004")
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM announcement_runs"))
                    ).scalar_one() == 1
    finally:
        await engine.dispose()
