"""What the commands that change the database share: the CLI actor, transactions, errors.

The command line acts as the local administrator (every area); the audit log records it as
``cli:<operating-system user>``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.types import Actor
from core.config import Settings, load_config
from core.db import make_engine, make_sessionmaker, upgrade

__all__ = ["actor", "fail", "in_db", "list_arg", "load_settings", "load_texts"]

T = TypeVar("T")


def load_settings(args: argparse.Namespace) -> Settings:
    """The configuration, bound to the declared channels (which take notices, and so on)."""
    from bot.channels import bind

    return bind(load_config(args.config))


def actor() -> Actor:
    return Actor.cli(getpass.getuser())


def list_arg(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def load_texts(settings: Settings) -> dict[str, str]:
    """The interface texts of the configured content (notices and reports are rendered from
    them), read and checked by the content's own reader."""
    from flows.content import ContentError
    from flows.content import load_texts as read_texts

    try:
        return read_texts(settings.path(settings.content.dir))
    except ContentError as exc:
        raise SystemExit(f"trolyso: {exc}") from exc


def in_db(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Migrate, then run ``work`` in one transaction."""

    async def main() -> T:
        await upgrade(settings.db_url)
        engine = make_engine(settings.db_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def fail(command: str, message: str) -> int:
    print(f"trolyso: {command}: {message}", file=sys.stderr)
    return 1
