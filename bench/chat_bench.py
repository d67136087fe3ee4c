"""Chat throughput and latency through the whole path, and idle memory.

Path measured: HTTP POST to /webhooks/telegram → python-telegram-bot → conversation core
(understanding, flows, database transaction) → sendMessage to a Bot API double on loopback.
The ceiling is a bare python-telegram-bot echo bot fed the same way and talking to the same
double. Latency is from the webhook POST to the reply arriving at the double.

    .venv/bin/python bench/chat_bench.py [--updates 2000] [--rate 100] [--no-postgres]
                                         [--no-sqlite] [--no-echo]

CPU per update is this process's CPU time (the assistant's side; the load runs elsewhere)
divided by the updates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.channels.ptb_aiohttp import AiohttpRequest  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.web import make_web_app  # noqa: E402
from core.config import load_config  # noqa: E402

SECRET = "bench-secret"
TOKEN = "123456:TEST-token"


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/webhooks/telegram"


class Load:
    """The Bot API double and the update driver, running in their own process (core)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench/chat_load.py")], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        self.base_url = f"http://127.0.0.1:{line[1]}/bot"

    async def go(self, webhook: str, n: int, rate: float | None) -> dict[str, float]:
        def ask() -> dict[str, float]:
            assert self.proc.stdin is not None and self.proc.stdout is not None
            self.proc.stdin.write(f"GO {webhook} {n} {rate or 0}\n")
            self.proc.stdin.flush()
            return dict(json.loads(self.proc.stdout.readline()))

        return await asyncio.to_thread(ask)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(30)


async def bench_assistant(load: Load, db_url: str, n: int,
                          rate: float | None) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp())
    settings = load_config(ROOT / "config.yaml", env={
        "DATABASE_URL": db_url, "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_BASE_URL": load.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://example.vn/webhooks/telegram",
        "TELEGRAM_WEBHOOK_SECRET": SECRET})
    # The reply cap (telegram.replies_per_second, 30 by default) is switched off here so the
    # figure measures the pipeline, as the echo bot's does.
    settings = settings.model_copy(update={
        "nlu": settings.nlu.model_copy(update={"cache_dir": str(tmp / "nlu")}),
        "telegram": settings.telegram.model_copy(update={"replies_per_second": 0})})
    core = await build_app(settings)
    channel = TelegramChannel(core, settings.telegram)
    await channel.start()
    runner, url = await _serve(make_web_app(core, routes=channel.routes()))
    try:
        cpu = time.process_time()
        result = await load.go(url, n, rate)
        result["cpu_ms_per_update"] = (time.process_time() - cpu) * 1000 / n
        return result
    finally:
        await runner.cleanup()
        await channel.stop()
        await core.close()


async def bench_echo(load: Load, n: int, rate: float | None,
                     aiohttp_client: bool = False) -> dict[str, float]:
    """The ceiling: a bare PTB echo bot, webhook-fed through aiohttp like the assistant.

    With ``aiohttp_client`` it sends through the same request backend as the assistant
    (bot/channels/ptb_aiohttp.py) instead of PTB's default httpx client."""
    builder = (Application.builder().token(TOKEN).base_url(load.base_url)
               .concurrent_updates(64).updater(None))
    if aiohttp_client:
        builder = builder.request(AiohttpRequest(16))
    app = builder.build()

    async def echo(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        await update.effective_chat.send_message(update.effective_message.text or "")

    app.add_handler(MessageHandler(filters.TEXT, echo))

    async def hook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != SECRET:
            return web.Response(status=403)
        await app.update_queue.put(Update.de_json(await request.json(), app.bot))
        return web.json_response({"ok": True})

    web_app = web.Application()
    web_app.router.add_post("/webhooks/telegram", hook)
    await app.initialize()
    await app.start()
    runner, url = await _serve(web_app)
    try:
        return await load.go(url, n, rate)
    finally:
        await runner.cleanup()
        await app.stop()
        await app.shutdown()


async def _pg_database() -> tuple[str, str] | None:
    admin_url = os.environ.get("TEST_DATABASE_URL",
                               "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    name = f"trolyso_bench_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL not available ({exc}); skipping", file=sys.stderr)
        return None
    finally:
        await engine.dispose()
    return admin_url, admin_url.rsplit("/", 1)[0] + "/" + name


async def _drop(admin_url: str, url: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" '
                                "WITH (FORCE)"))
    await engine.dispose()


def idle_rss_mb() -> float:
    """Resident memory of an idle `trolyso run` (SQLite, web chat only)."""
    tmp = Path(tempfile.mkdtemp())
    env = dict(os.environ, DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'idle.db'}",
               TROLYSO_PORT="18089")
    env.pop("TELEGRAM_TOKEN", None)
    proc = subprocess.Popen([str(ROOT / ".venv/bin/trolyso"), "--config",
                             str(ROOT / "config.yaml"), "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import urllib.request

        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:18089/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        time.sleep(3)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines()
                  if line.startswith("VmRSS"))
        return kb / 1024
    finally:
        proc.terminate()
        proc.wait(10)


def _row(name: str, r: dict[str, float]) -> str:
    cpu = f"  CPU {r['cpu_ms_per_update']:.2f} ms/update" if "cpu_ms_per_update" in r else ""
    return (f"{name:<28} {r['answered']:>5}/{r['updates']:<5} {r['per_second']:>8.1f}/s "
            f"p50 {r['p50_ms']:>7.1f} ms  p99 {r['p99_ms']:>7.1f} ms  "
            f"p99.9 {r.get('p999_ms', float('nan')):>7.1f} ms{cpu}")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--updates", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=100.0, help="open-loop rate for latency")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--no-echo", action="store_true", help="skip the echo bots (the ceiling)")
    args = ap.parse_args()
    results: dict[str, Any] = {}
    load = Load()

    if not args.no_echo:
        results["echo_max"] = await bench_echo(load, args.updates, None)
        print(_row("echo bot, max rate", results["echo_max"]))
        results["echo_100"] = await bench_echo(load, min(args.updates, 1500), args.rate)
        print(_row(f"echo bot, {args.rate:.0f}/s", results["echo_100"]))
        results["echo_aiohttp_max"] = await bench_echo(load, args.updates, None,
                                                       aiohttp_client=True)
        print(_row("echo bot (aiohttp), max rate", results["echo_aiohttp_max"]))
    tmp = Path(tempfile.mkdtemp())
    dbs: list[tuple[str, str, str | None]] = []
    if not args.no_sqlite:
        dbs.append(("sqlite", f"sqlite+aiosqlite:///{tmp / 'bench.db'}", None))
    if not args.no_postgres:
        pg = await _pg_database()
        if pg:
            dbs.append(("postgres", pg[1], pg[0]))
    for name, url, admin in dbs:
        results[f"{name}_max"] = await bench_assistant(load, url, args.updates, None)
        print(_row(f"assistant {name}, max rate", results[f"{name}_max"]))
        results[f"{name}_100"] = await bench_assistant(load, url, min(args.updates, 1500),
                                                       args.rate)
        print(_row(f"assistant {name}, {args.rate:.0f}/s", results[f"{name}_100"]))
        if admin:
            await _drop(admin, url)
    for name, _, _ in dbs if not args.no_echo else []:
        ratio = results[f"{name}_max"]["per_second"] / results["echo_max"]["per_second"]
        same = results[f"{name}_max"]["per_second"] / results["echo_aiohttp_max"]["per_second"]
        print(f"{name}: {ratio:.0%} of the bare echo bot's throughput (target ≥ 50%), "
              f"{same:.0%} of an echo bot on the same aiohttp client; p99 at "
              f"{args.rate:.0f}/s = {results[f'{name}_100']['p99_ms']:.1f} ms (target < 50 ms)")
    load.close()
    rss = idle_rss_mb()
    print(f"idle resident memory of `trolyso run`: {rss:.0f} MB (target < 150 MB)")
    results["idle_rss_mb"] = rss
    print(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    try:  # the same event loop `trolyso run` uses (uvloop when installed)
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
