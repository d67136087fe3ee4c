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
