"""``trolyso chat``: the assistant in this terminal."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from core.config import load_config

__all__ = ["register"]


def register(sub: Any) -> None:
    chat = sub.add_parser("chat", help="chat with the assistant in this terminal")
    chat.set_defaults(func=_chat)


def _chat(args: argparse.Namespace) -> int:
    from bot.app import build_app
    from bot.channels.terminal import run_terminal

    settings = load_config(args.config)
    logging.getLogger().setLevel(logging.WARNING)

    async def main() -> None:
        app = await build_app(settings)
        try:
            await run_terminal(app)
        finally:
            await app.close()

    asyncio.run(main())
    return 0
