"""Shared fixtures: configuration, databases (SQLite file and PostgreSQL), the core.

Each test gets its own database, copied from a template migrated once per test worker (a file
copy for SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL) instead of running every
migration again; the migrations themselves are tested on empty databases
(``fresh_db_url``). Tests run in parallel (pytest-xdist): templates, databases and the trained
NLU cache are per worker, so workers share nothing.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import App, build_app
from core.config import Settings, load_config
from core.db import upgrade, upgrade_sync
from tests.fakes import KeywordNlu

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

_nlu_cache: Path | None = None


def _needs_engine(item: pytest.Item) -> bool:
    """The test uses the engine trained on content/ (``trained_nlu_file``, directly or not)."""
    return "trained_nlu_file" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files holding a test marked ``slow`` run first, each file's tests kept together and in
    their order (issue 14). With ``--dist worksteal`` the run then ends on short tests, which
    the two workers share, instead of one worker finishing a minute-long test while the other
    core idles. Within both parts, files that need the trained engine come after the others:
    the engine is trained in the background from the first test on (``nlu_cache``), and a
    worker starting with such a file would wait idle for it (~15 s, one core of two)."""
    slow = {item.nodeid.split("::", 1)[0] for item in items if item.get_closest_marker("slow")}
    engine = {item.nodeid.split("::", 1)[0] for item in items if _needs_engine(item)}
    items.sort(key=lambda item: (item.nodeid.split("::", 1)[0] not in slow,
                                 item.nodeid.split("::", 1)[0] in engine))  # stable


#: Trains the engine on content/ into the cache folder given, under the lock that
#: ``trained_nlu_file`` takes (the lock first: a worker that comes later waits for the file).
_TRAINER = """
import fcntl, sys
from pathlib import Path
cache = Path(sys.argv[1])
with (cache / ".train.lock").open("w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    from core.config import NluSettings
    from flows.content import load_content
    from nlu import build_builtin
    build_builtin(NluSettings(), load_content(Path("content"), strict=False), cache)
"""


@pytest.fixture(scope="session", autouse=True)
def nlu_cache(tmp_path_factory: pytest.TempPathFactory,
              request: pytest.FixtureRequest) -> Iterator[Path]:
    """The trained-engine cache of this test run. Keyed by a hash of the content, so every test
    that does not test training itself loads the engine the first one trained. Shared by the
    run's xdist workers (their base folders are siblings): the engine is trained once per run,
    not once per worker (~13 CPU s each); ``trained_nlu_cache`` trains it under a file lock.

    When a collected test needs that engine, the first worker here starts its training in a
    process of its own, in the background: the workers run the tests that do not need it
    meanwhile (they come first, see ``pytest_collection_modifyitems``) instead of one core
    idling while the other trains."""
    global _nlu_cache
    base = tmp_path_factory.getbasetemp()
    if WORKER != "main":
        base = base.parent
    _nlu_cache = base / "nlu-cache"
    _nlu_cache.mkdir(exist_ok=True)
    trainer: subprocess.Popen[bytes] | None = None
    if any(_needs_engine(item) for item in request.session.items):
        try:
            (_nlu_cache / ".train.started").touch(exist_ok=False)  # one worker starts it
        except FileExistsError:
            pass
        else:
            with (_nlu_cache / "trainer.log").open("wb") as log:
                trainer = subprocess.Popen(
                    [sys.executable, "-c", _TRAINER, str(_nlu_cache)], cwd=ROOT,
                    env={**os.environ, "PYTHONPATH": os.pathsep.join(
                        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])},
                    stdout=log, stderr=subprocess.STDOUT)
    yield _nlu_cache
    if trainer is not None:  # a failed training is done again by trained_nlu_file
        try:
            trainer.wait(300)
        except subprocess.TimeoutExpired:
            trainer.kill()
            trainer.wait()


_contents: OrderedDict[tuple[str, str], bytes] = OrderedDict()


def _load_content_once(root: Path | None = None, *, strict: bool = True) -> Any:
    """``load_content`` for ``build_app``, which hundreds of tests call on the same folder:
    parsed once per worker and folder state (~80 CPU ms), then a fresh copy for each caller
    (unpickled, ~7 ms: no test sees another's changes). The key holds every file's bytes, so
    a test that edits its folder gets what it wrote."""
    from flows.content import load_content

    if root is None or strict:
        return load_content(root, strict=strict)
    folder = Path(root)
    digest = hashlib.blake2b()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder)}\0".encode())
        digest.update(path.read_bytes())
    key = (str(folder), digest.hexdigest())
    blob = _contents.get(key)
    if blob is not None:
        _contents.move_to_end(key)
        return pickle.loads(blob)
    content = load_content(folder, strict=False)
    _contents[key] = pickle.dumps(content, protocol=pickle.HIGHEST_PROTOCOL)
    while len(_contents) > 8:
        _contents.popitem(last=False)
    return content


@pytest.fixture(scope="session", autouse=True)
def content_parsed_once() -> Iterator[None]:
    import bot.app

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bot.app, "load_content", _load_content_once)
        yield


@pytest.fixture(scope="session", autouse=True)
def production_password_hasher() -> Iterator[Any]:
    """Console passwords are hashed with argon2id at its smallest cost in this test process:
    the same code path, but ~0.22 CPU s less per hash or check at the production cost, and
    console tests set passwords and log in hundreds of times. Yields the production hasher,
    whose cost ``tests/console/test_accounts.py`` checks. Child processes (``trolyso run``)
    keep the production cost."""
    from argon2 import PasswordHasher

    from console import accounts

    with pytest.MonkeyPatch.context() as mp:
        production = accounts._HASHER
        mp.setattr(accounts, "_HASHER",
                   PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        accounts._dummy_hash.cache_clear()
        yield production
    accounts._dummy_hash.cache_clear()


def shared_nlu_cache() -> Path:
    assert _nlu_cache is not None, "the nlu_cache fixture runs first (autouse)"
    return _nlu_cache


_settings: dict[tuple[bytes, tuple[tuple[str, str], ...]], bytes] = {}


def settings_for(db_url: str, tmp: Path, **env: str) -> Settings:
    base = {"DATABASE_URL": db_url}
    base.update(env)
    # config.yaml read and validated once per text and environment but the database (each
    # test has its own; the setting is a plain string), ~13 CPU ms; then a fresh copy for
    # each test (unpickled, ~0.1 ms) given its database.
    key = ((ROOT / "config.yaml").read_bytes(),
           tuple(sorted((k, v) for k, v in base.items() if k != "DATABASE_URL")))
    blob = _settings.get(key)
    if blob is None:
        s = load_config(ROOT / "config.yaml", env=base)
        _settings[key] = pickle.dumps(s, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        s = pickle.loads(blob).model_copy(update={"database_url": base["DATABASE_URL"]})
    # Anything the process writes (voice files, radio) goes under the test's folder.
    return s.model_copy(update={"radio": s.radio.model_copy(update={
        "output_dir": str(tmp / "radio")}),
        "nlu": s.nlu.model_copy(update={"cache_dir": str(shared_nlu_cache())}),
        "console": s.console.model_copy(update={"audio_cache_dir": str(tmp / "console-audio")})})


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as conn:  # everything into the main file: one file to copy
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A SQLite database with the schema at the head revision, for this test only."""
    shutil.copyfile(sqlite_template, tmp_path / "test.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


_pg_reached: set[str] = set()


async def _pg_available(url: str) -> str | None:
    if url in _pg_reached:  # asked once per worker; a server lost later fails the test itself
        return None
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        _pg_reached.add(url)
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()


_pg_templates: dict[str, str] = {}


async def _pg_template(admin_url: str) -> str:
    """This worker's PostgreSQL database migrated to the head, copied by each test."""
    if admin_url not in _pg_templates:
        name = f"trolyso_tpl_{WORKER}_{uuid.uuid4().hex[:8]}"
        admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await admin.dispose()
        await upgrade(make_url(admin_url).set(database=name).render_as_string(
            hide_password=False))
        _pg_templates[admin_url] = name
    return _pg_templates[admin_url]


# Test databases are created and dropped by this worker's thread, over the sync driver: the
# database of the next PostgreSQL test is created while the current test runs, and a test's
# database is dropped while the next test runs. CREATE and DROP DATABASE wait for the server's
# disk (about 0.3-1 s each), not for this process's CPU (issue 14).
_pg_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-databases")
_pg_next: dict[tuple[str, str | None], Future[str]] = {}
_drops: list[Future[None]] = []


def _admin_sql(admin_url: str, sql: str) -> None:
    import psycopg

    url = make_url(admin_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(sql.encode())


def _create_database(admin_url: str, template: str | None) -> str:
    # One database per test, named after the xdist worker too: parallel workers never share one.
    name = f"trolyso_t_{WORKER}_{uuid.uuid4().hex[:12]}"
    _admin_sql(admin_url, f'CREATE DATABASE "{name}"' +
               (f' TEMPLATE "{template}"' if template else ""))
    return name


def _drop_database(admin_url: str, name: str | Future[str]) -> None:
    if isinstance(name, Future):
        name = name.result()
    _admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_templates() -> Iterator[None]:
    yield
    for (admin_url, _), created in _pg_next.items():  # made for a test that did not come
        _drops.append(_pg_thread.submit(_drop_database, admin_url, created))
    _pg_thread.shutdown(wait=True)
    for done in _drops:
        done.result()  # a drop that failed fails the session here

    async def drop() -> None:
        for admin_url, name in _pg_templates.items():
            admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
            try:
                async with admin.connect() as conn:
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            finally:
                await admin.dispose()

    if _pg_templates:
        asyncio.run(drop())


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A PostgreSQL database at the head revision for one test, dropped afterwards.

    Without PostgreSQL the test is skipped locally, but fails when CI=true: CI must prove the
    PostgreSQL path works.
    """
    async for url in _pg_database(migrated=True):
        yield url


@pytest.fixture
async def pg_empty_url() -> AsyncIterator[str]:
    """An empty PostgreSQL database (no tables), for the migration tests."""
    async for url in _pg_database(migrated=False):
        yield url


async def _pg_database(*, migrated: bool) -> AsyncIterator[str]:
    admin_url = os.environ.get("TEST_DATABASE_URL", PG_DEFAULT)
    problem = await _pg_available(admin_url)
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI ({admin_url}): {problem}")
        pytest.skip(f"PostgreSQL not available: {problem}")
    template = await _pg_template(admin_url) if migrated else None
    key = (admin_url, template)
    created = _pg_next.pop(key, None) or _pg_thread.submit(_create_database, admin_url, template)
    name = await asyncio.wrap_future(created)
    _pg_next[key] = _pg_thread.submit(_create_database, admin_url, template)  # the next test's
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _drops.append(_pg_thread.submit(_drop_database, admin_url, name))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both databases: tests using this run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both databases, empty: for the migrations themselves."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    return str(request.getfixturevalue("pg_empty_url"))


@pytest.fixture
async def core(sqlite_url: str, tmp_path: Path) -> AsyncIterator[App]:
    c = await build_app(settings_for(sqlite_url, tmp_path), nlu=KeywordNlu())
    try:
        yield c
    finally:
        await c.close()


def reply_texts(replies: Any) -> list[str]:
    return [r.text for r in replies or []]


@pytest.fixture(scope="session")
def trained_nlu_file(nlu_cache: Path) -> Path:
    """The engine trained on content/ in the run's cache (trained here, once per run under a
    lock shared by the workers, when no test did yet): tests that run the real engine in their
    own folder copy it from here."""
    from core.config import NluSettings
    from flows.content import load_content
    from nlu import build_builtin, cache_key
    from nlu.builtin import TrainParams
    from nlu.data import training_examples

    content = load_content(ROOT / "content", strict=False)
    with (nlu_cache / ".train.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker trains: wait, then load its file
        build_builtin(NluSettings(), content, nlu_cache)
    key = cache_key(training_examples(content.nlu_files, content), content, TrainParams())
    path = nlu_cache / f"nlu-{key}.pkl"
    assert path.exists(), path
    return path


@pytest.fixture(scope="session")
def trained_nlu_cache(trained_nlu_file: Path) -> Path:
    """The run's engine cache, holding the engine trained on content/."""
    return trained_nlu_file.parent
