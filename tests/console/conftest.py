"""Console fixtures: an assistant with the console mounted on a loopback server, accounts,
and an HTTP client that logs in as a browser does (cookies, CSRF token from the page)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

import core.models
from bot.app import App
from bot.web import make_web_app
from broadcast.types import Actor
from console import accounts
from core.db import Base
from tests.broadcast.conftest import make_core

AREA, AREA2 = "12454", "12452"
PASSWORD = "mật khẩu dài dễ nhớ 2026"


@dataclass
class Server:
    core: App
    url: str

    async def add_user(self, name: str, role: str, areas: list[str] | None = None,
                       password: str | None = PASSWORD) -> str:
        """An account, its password set through its setup link; returns the link."""
        async with self.core.sessionmaker() as s, s.begin():
            _, link = await accounts.add_user(s, self.core.settings, Actor.cli("test"), name,
                                              role, areas or [])
        if password is not None:
            token = link.rsplit("/", 1)[1]
            async with self.core.sessionmaker() as s, s.begin():
                await accounts.set_password(s, self.core.settings, token, password)
        return link

    async def client(self, name: str | None = None, password: str = PASSWORD) -> Browser:
        b = Browser(self.url, aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)))
        if name is not None:
            status, _ = await b.login(name, password)
            assert status == 200, f"login of {name} failed"
        return b

    async def counts(self) -> dict[str, int]:
        """Rows in every table: an action refused must change none."""
        out = {}
        async with self.core.sessionmaker() as s:
            for table in Base.metadata.sorted_tables:
                out[table.name] = int((await s.execute(
                    select(func.count()).select_from(table))).scalar_one())
        return out


_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class Browser:
    base: str
    http: aiohttp.ClientSession
    csrf: str = ""

    async def get(self, path: str, **kw: Any) -> tuple[int, str]:
        async with self.http.get(self.base + path, **kw) as r:
            text = await r.text()
            m = _CSRF.search(text)
            if m:
                self.csrf = m.group(1)
            return r.status, text

    async def post(self, path: str, data: Any = None, *, csrf: bool = True,
                   **kw: Any) -> tuple[int, str]:
        if csrf and isinstance(data, dict):
            data = {"csrf": self.csrf, **data}
        elif csrf and isinstance(data, list):
            data = [("csrf", self.csrf), *data]
        async with self.http.post(self.base + path, data=data, **kw) as r:
            text = await r.text()
            m = _CSRF.search(text)
            if m:
                self.csrf = m.group(1)
            return r.status, text

    async def login(self, name: str, password: str) -> tuple[int, str]:
        await self.get("/console/login")
        return await self.post("/console/login", {"name": name, "password": password})

    async def close(self) -> None:
        await self.http.close()


async def serve(core: App) -> AsyncIterator[str]:
    runner = web.AppRunner(make_web_app(core, console=True))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    core = await make_core(sqlite_url, tmp_path)
    try:
        async for url in serve(core):
            yield Server(core, url)
    finally:
        await core.close()


@pytest.fixture
async def db_server(db_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    """The console on SQLite and on PostgreSQL."""
    core = await make_core(db_url, tmp_path)
    try:
        async for url in serve(core):
            yield Server(core, url)
    finally:
        await core.close()


@pytest.fixture
async def browsers(server: Server) -> AsyncIterator[Callable[..., Awaitable[Browser]]]:
    made: list[Browser] = []

    async def make(name: str | None = None, password: str = PASSWORD) -> Browser:
        b = await server.client()
        made.append(b)
        if name is not None:
            status, _ = await b.login(name, password)
            assert status == 200, f"login of {name} failed"
        return b

    yield make
    for b in made:
        await b.close()


__all__ = ["AREA", "AREA2", "PASSWORD", "Browser", "Server", "core"]
