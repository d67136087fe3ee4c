"""Live versions and the retrain claim on PostgreSQL, with two assistants as two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App, build_app
from bot.live import bump
from broadcast.types import Actor
from console.teaching import Retrainer, request_retrain
from core.db import utcnow
from core.models import LiveVersion, NluModel, TaughtExample
from tests.conftest import settings_for
from tests.fakes import KeywordNlu

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pair(pg_url: str, tmp_path: Path) -> AsyncIterator[tuple[App, App]]:
    a = await build_app(settings_for(pg_url, tmp_path), nlu=KeywordNlu())
    b = await build_app(settings_for(pg_url, tmp_path), migrate=False, nlu=KeywordNlu())
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_versions_are_bumped_once_per_call_even_by_two_processes_at_once(
        pair: tuple[App, App]) -> None:
    a, b = pair

    async def one(app: App) -> int:
        async with app.sessionmaker() as s, s.begin():
            return await bump(s, "content")

    got = await asyncio.gather(*(one(app) for app in (a, b, a, b)))
    assert sorted(got) == [1, 2, 3, 4]
    async with a.sessionmaker() as s:
        assert (await s.get(LiveVersion, "content")).version == 4  # type: ignore[union-attr]


async def test_only_one_process_claims_a_retrain(pair: tuple[App, App]) -> None:
    a, b = pair
    async with a.sessionmaker() as s, s.begin():
        s.add(TaughtExample(text="xe rác mấy giờ đến", label="out_of_scope", state="pending",
                            taught_by="console:x"))
        first = await request_retrain(s, Actor("console:x"))
        second = await request_retrain(s, Actor("console:y"))
    assert first == second  # a retrain already waiting is joined, not doubled
    async with a.sessionmaker() as s, s.begin():
        s.add(NluModel(state="queued", requested_by="console:z", examples=[], report={},
                       reasons=[]))
    claims = await asyncio.gather(*(Retrainer(app.settings, app.engine, app.sessionmaker,
                                              app.live)._claim() for app in (a, b, a, b)))
    won = [c for c in claims if c is not None]
    assert len(won) == 1
    model_id, examples = won[0]
    assert model_id == first and [t for _, t, _ in examples] == ["xe rác mấy giờ đến"]
    async with a.sessionmaker() as s:
        states = dict((await s.execute(select(NluModel.id, NluModel.state))).all())
    assert sorted(states.values()) == ["merged", "training"]


async def test_a_retrain_whose_process_died_is_failed_after_the_timeout(
        pair: tuple[App, App]) -> None:
    import datetime as dt

    a, _ = pair
    long_ago = utcnow() - dt.timedelta(seconds=a.settings.learning.train_timeout_s + 5)
    async with a.sessionmaker() as s, s.begin():
        s.add(NluModel(state="training", requested_by="console:x", started_at=long_ago,
                       examples=[], report={}, reasons=[]))
        s.add(NluModel(state="queued", requested_by="console:x", examples=[], report={},
                       reasons=[]))
    claimed = await Retrainer(a.settings, a.engine, a.sessionmaker, a.live)._claim()
    assert claimed is not None
    async with a.sessionmaker() as s:
        states = [st for st, in (await s.execute(select(NluModel.state).order_by(NluModel.id)))]
    assert states == ["failed", "training"]
