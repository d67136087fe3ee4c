"""The console as an aiohttp sub-application, mounted by ``bot`` at ``/console``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from console import filters
from console.pages import (
    account,
    audit,
    auth,
    content,
    delivery,
    figures,
    handover,
    home,
    learning,
    notices,
    radio,
    team,
)
from console.ports import Live
from console.routing import DEPS, Deps, NavItem, Route, guard, mount
from core.config import Settings
from flows.lexicon import Lexicon

__all__ = ["PAGES", "make_console"]

HERE = Path(__file__).resolve().parent

#: The page groups. Each module has ``routes() -> list[Route]`` and ``NAV: list[NavItem]``;
#: a new group (radio, team, audit, learning) is one module added here.
PAGES: tuple[Any, ...] = (auth, home, notices, delivery, handover, learning, figures, content,
                          account, team, audit, radio)


def make_env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    filters.install(env)
    return env


def make_console(settings: Settings, engine: AsyncEngine,
                 sessionmaker: async_sessionmaker[AsyncSession], texts: Mapping[str, str], *,
                 lexicon: Lexicon | None = None, previews: Sequence[Any] = (),
                 pages: Sequence[Any] = PAGES,
                 extra: dict[str, Any] | None = None, live: Live | None = None
                 ) -> web.Application:
    """The console application (to be added with ``app.add_subapp("/console", ...)``).

    ``live``: the running assistant, for the editors' pages (inbox, teaching, content)."""
    app = web.Application(middlewares=[guard])
    app[DEPS] = Deps(settings=settings, engine=engine, sessionmaker=sessionmaker, texts=texts,
                     env=make_env(), lexicon=lexicon, previews=previews,
                     extra=dict(extra or {}), live=live)
    routes: list[Route] = []
    nav: list[NavItem] = []
    for page in pages:
        routes += page.routes()
        nav += getattr(page, "NAV", [])
    mount(app, routes, nav)
    if live is not None:
        # Retrains the editors ask for run in the background of this process (one at a time
        # over all processes).
        from console.teaching import Retrainer

        retrainer = Retrainer(settings, engine, sessionmaker, live)
        app[learning.RETRAINER] = retrainer

        async def start(_: web.Application) -> None:
            await retrainer.start()

        async def stop(_: web.Application) -> None:
            await retrainer.stop()

        app.on_startup.append(start)
        app.on_cleanup.append(stop)
    return app
