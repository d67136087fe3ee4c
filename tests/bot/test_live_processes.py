"""Two real ``trolyso run`` processes on one database: a content edit saved in one process's
console is served by the other within seconds, through the database's content version (the
second process does not watch the files)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from broadcast.types import Actor
from console import accounts
from core.config import load_config
from core.db import make_engine, make_sessionmaker, upgrade
from tests.conftest import ROOT

OLD = "Làm hộ chiếu (passport) để đi nước ngoài, nộp hồ sơ trên mạng bằng tài khoản VNeID."
NEW = "Hộ chiếu để đi nước ngoài: nộp hồ sơ trên mạng bằng VNeID, nhận hộ chiếu qua bưu điện."
PASSWORD = "một mật khẩu đủ dài 2026"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp: Path, name: str, watch: bool) -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace('dir: "content"', f'dir: "{tmp / "content"}"')
    text = text.replace('cache_dir: "data/nlu-cache"', f'cache_dir: "{tmp / "nlu-cache"}"')
    text = re.sub(r"(?m)^  poll_s: 2 .*$", "  poll_s: 0.5", text)
    text = re.sub(r"(?m)^  watch_content: true .*$", f"  watch_content: {str(watch).lower()}",
                  text)
    path = tmp / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path).learning.watch_content is watch
    return path


async def _start(tmp: Path, name: str, watch: bool, db: str
                 ) -> tuple[str, subprocess.Popen[bytes]]:
    port = _free_port()
    env = dict(os.environ, TROLYSO_PORT=str(port), DATABASE_URL=db)
    for var in ("TELEGRAM_TOKEN", "ZALO_BOT_TOKEN", "ZALO_OA_APP_ID"):
        env.pop(var, None)
    log = (tmp / f"{name}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config",
                             str(_config(tmp, name, watch)), "run"],
                            env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if proc.poll() is not None:
                raise AssertionError((tmp / f"{name}.log").read_text())
            try:
                async with http.get(base + "/healthz") as r:
                    if r.status == 200:
                        return base, proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("did not start")


@pytest.fixture
async def two(tmp_path: Path, trained_nlu_cache: Path) -> AsyncIterator[tuple[str, str]]:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    (tmp_path / "nlu-cache").mkdir()
    for f in trained_nlu_cache.glob("nlu-*.pkl"):  # the session's engine: no training at start
        shutil.copy2(f, tmp_path / "nlu-cache" / f.name)
    db = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    await upgrade(db)
    engine = make_engine(db)
    settings = load_config(ROOT / "config.yaml", env={"DATABASE_URL": db})
    async with make_sessionmaker(engine)() as s, s.begin():
        _, link = await accounts.add_user(s, settings, Actor.cli("test"), "mai", "editor", [])
    async with make_sessionmaker(engine)() as s, s.begin():
        await accounts.set_password(s, settings, link.rsplit("/", 1)[1], PASSWORD)
    await engine.dispose()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        # Both start at once (each start is mostly waiting: imports, the engine's file).
        started = await asyncio.gather(_start(tmp_path, "a", True, db),
                                       _start(tmp_path, "b", False, db),
                                       return_exceptions=True)
        procs.extend(got[1] for got in started if not isinstance(got, BaseException))
        for got in started:
            if isinstance(got, BaseException):
                raise got
        a, b = (got[0] for got in started if not isinstance(got, BaseException))
        yield a, b
    finally:
        for proc in procs:  # both stop at once
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _intro(http: aiohttp.ClientSession, base: str) -> str:
    async with http.post(base + "/api/chat", json={"session": "s", "text": "làm hộ chiếu"}) as r:
        return str((await r.json())["replies"][0]["text"])


async def test_an_edit_in_one_process_is_served_by_the_other(two: tuple[str, str],
                                                             tmp_path: Path) -> None:
    a, b = two
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        assert OLD in await _intro(http, a) and OLD in await _intro(http, b)
        async with http.get(a + "/console/login") as r:
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', await r.text())
        assert csrf is not None
        async with http.post(a + "/console/login", data={
                "csrf": csrf.group(1), "name": "mai", "password": PASSWORD}) as r:
            page = await r.text()
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert csrf is not None
        text = (tmp_path / "content/services/cap-ho-chieu.yaml").read_text(encoding="utf-8")
        started = time.monotonic()
        async with http.post(a + "/console/content/service/cap-ho-chieu", data={
                "csrf": csrf.group(1), "text": text.replace(OLD, NEW)},
                allow_redirects=False) as r:
            assert r.status == 303, await r.text()
        assert NEW in await _intro(http, a)
        while NEW not in await _intro(http, b):
            assert time.monotonic() - started < 15, "the other process did not follow"
            await asyncio.sleep(0.2)
        print(f"\nother process served the edit {time.monotonic() - started:.1f} s after "
              "it was saved")
