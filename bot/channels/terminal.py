"""``trolyso chat``: the same assistant in a terminal, buttons shown as numbered options."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.app import App
from bot.render import numbered
from flows.types import Incoming, Reply

__all__ = ["render_terminal", "run_terminal"]


def render_terminal(replies: list[Reply]) -> str:
    """What a terminal shows: every button becomes a numbered line (like the Zalo Bot)."""
    out = []
    for reply, pieces in numbered(replies, limit=100_000, native_max=0):
        out += [p.text for p in pieces]
        if reply.audio_path:
            out.append(f"[âm thanh: {reply.audio_path}]")
    return "\n\n".join(out)


async def run_terminal(app: App, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
                       user_id: str = "local") -> None:
    """Read lines until end of input or "/thoat"; print the assistant's replies."""
    loop = asyncio.get_running_loop()

    async def say(text: str) -> None:
        replies = await app.handle(Incoming("terminal", user_id, text=text)) or []
        print(render_terminal(replies), file=stdout, flush=True)
        print("─" * 40, file=stdout, flush=True)

    await say("/start")
    while True:
        print("> ", end="", file=stdout, flush=True)
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        line = line.rstrip("\n")
        if line.strip().lower() in ("/thoat", "/quit", "/exit"):
            break
        await say(line)
