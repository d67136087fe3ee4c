"""``trolyso chat``: the same assistant in a terminal, buttons shown as numbered options."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.channels.base import ChannelBase, Host
from bot.render import render
from core.channels import ChannelSpec
from flows.types import Incoming, Reply

__all__ = ["SPEC", "TerminalChannel", "render_terminal", "run_terminal"]

# `trolyso chat` is a citizen's session; local administration is the CLI's other commands.
SPEC = ChannelSpec(name="terminal", push=False, buttons=0, audio=False, text_limit=0,
                   rights=False)


class TerminalChannel(ChannelBase):
    """``trolyso chat``: one local user; not started by ``trolyso run``."""

    SPEC = SPEC


def render_terminal(replies: list[Reply]) -> str:
    """What a terminal shows: every button becomes a numbered line (like the Zalo Bot)."""
    out = []
    for reply, pieces in render(replies, SPEC):
        out += [p.text for p in pieces]
        if reply.audio_path:
            out.append(f"[âm thanh: {reply.audio_path}]")
    return "\n\n".join(out)


async def run_terminal(app: Host, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
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
