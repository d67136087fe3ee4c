"""Shared fixtures: configuration, databases (SQLite file and PostgreSQL), the core."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import App, build_app
from core.config import Settings, load_config
from tests.fakes import KeywordNlu

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def settings_for(db_url: str, tmp: Path, **env: str) -> Settings:
    base = {"DATABASE_URL": db_url}
    base.update(env)
    s = load_config(ROOT / "config.yaml", env=base)
    # Anything the process writes (voice files, radio, NLU cache) goes under the test's folder.
    return s.model_copy(update={"radio": s.radio.model_copy(update={
        "output_dir": str(tmp / "radio")}),
        "nlu": s.nlu.model_copy(update={"cache_dir": str(tmp / "nlu-cache")}),
        "console": s.console.model_copy(update={"audio_cache_dir": str(tmp / "console-audio")})})


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


async def _pg_available(url: str) -> str | None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards.

    Without PostgreSQL the test is skipped locally, but fails when CI=true: CI must prove the
    PostgreSQL path works.
    """
    admin_url = os.environ.get("TEST_DATABASE_URL", PG_DEFAULT)
    problem = await _pg_available(admin_url)
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI ({admin_url}): {problem}")
        pytest.skip(f"PostgreSQL not available: {problem}")
    name = f"trolyso_t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both databases: tests using this run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def core(sqlite_url: str, tmp_path: Path) -> AsyncIterator[App]:
    c = await build_app(settings_for(sqlite_url, tmp_path), nlu=KeywordNlu())
    try:
        yield c
    finally:
        await c.close()


def reply_texts(replies: Any) -> list[str]:
    return [r.text for r in replies or []]
