"""One notice sender process for the broadcast benchmark: the real Sender and the real
TelegramChannel (python-telegram-bot over HTTP), pointed at a Bot API double.

    python bench/broadcast/sender_proc.py --db URL --base-url URL --token T [--lease 10]

Runs until SIGTERM; SIGKILL is what the crash test sends.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.app import build_app  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from broadcast.sender import Sender  # noqa: E402
from core.config import load_config  # noqa: E402
from nlu.types import Parse  # noqa: E402


class NoNlu:
    """Senders never read chat messages: no understanding engine to load."""

    def parse(self, text: str) -> Parse:
        return Parse(text, "out_of_scope", None, 0.0, "handover", None, None, [])

    async def aparse(self, text: str) -> Parse:
        return self.parse(text)


async def main(args: argparse.Namespace) -> None:
    settings = load_config(ROOT / "config.yaml", env={
        "DATABASE_URL": args.db, "TELEGRAM_TOKEN": args.token,
        "TELEGRAM_BASE_URL": args.base_url,
        # webhook mode: the bench's double sees no getUpdates long polls
        "TELEGRAM_WEBHOOK_URL": "https://bench.invalid/webhooks/telegram",
        "TELEGRAM_WEBHOOK_SECRET": "bench-secret"})
    settings = settings.model_copy(update={"broadcast": settings.broadcast.model_copy(update={
        "lease_s": args.lease, "send_timeout_s": min(args.lease / 2, 15.0),
        "poll_s": 0.2})})
    core = await build_app(settings, migrate=False, nlu=NoNlu())
    channel = TelegramChannel(core, settings.telegram)
    await channel.start()
    sender = Sender(core.sessionmaker, settings, core.content.texts, {"telegram": channel},
                    name=args.name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    try:
        await sender.run(stop)
    finally:
        await channel.stop()
        await core.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--lease", type=float, default=10.0)
    parser.add_argument("--name", default="bench")
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(main(parser.parse_args()))
