"""Every endpoint that takes a body (``POST /api/chat`` and the Telegram, Zalo Bot and Zalo OA
webhooks) on one server in a thread of its own, with the platforms' doubles on loopback.

Tests (plain functions, so hypothesis can drive them) post raw bytes with ``http.client`` and
read what the server logged and stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo_bot import ZaloBotChannel
from bot.channels.zalo_oa import ZaloOaChannel
from bot.web import make_web_app
from tests.conftest import settings_for
from tests.doubles.telegram_api import BotApiDouble
from tests.doubles.zalo_api import ZaloBotApiDouble, ZaloOaApiDouble
from tests.fakes import KeywordNlu

__all__ = ["CHAT", "PATHS", "TG_SECRET", "ZB_SECRET", "Endpoints", "LogLines", "serve"]

CHAT, TG_SECRET, ZB_SECRET = "/api/chat", "tg-Secret_1", "zalo-bot-secret-1"
TELEGRAM, ZALO_BOT, ZALO_OA = "/webhooks/telegram", "/webhooks/zalo-bot", "/webhooks/zalo-oa"
PATHS = (CHAT, TELEGRAM, ZALO_BOT, ZALO_OA)
#: Tables a refused request must leave empty.
CITIZEN_TABLES = ("users", "conversations", "message_log", "unanswered", "feedback")


class LogLines(logging.Handler):
    """Every record logged in the process (any thread), kept for the test to read."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock2:
            self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        with self._lock2:
            out, self.records = self.records, []
        return out

    @staticmethod
    def warnings(records: Iterable[logging.LogRecord]) -> list[logging.LogRecord]:
        return [r for r in records if r.levelno >= logging.WARNING]

    @staticmethod
    def tracebacks(records: Iterable[logging.LogRecord]) -> list[logging.LogRecord]:
        return [r for r in records if r.exc_info or r.exc_text or r.stack_info
                or "Traceback" in r.getMessage()]


@dataclass
class Endpoints:
    port: int
    db: Path
    oa: ZaloOaApiDouble
    telegram: BotApiDouble
    zalo_bot: ZaloBotApiDouble
    logs: LogLines
    loop: asyncio.AbstractEventLoop
    app: App
    _stop: asyncio.Event = field(repr=False)
    baseline: int = 0

    def headers(self, path: str) -> dict[str, str]:
        """The headers that pass the endpoint's check (OA: see :meth:`oa_signature`)."""
        if path == TELEGRAM:
            return {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
        if path == ZALO_BOT:
            return {"X-Bot-Api-Secret-Token": ZB_SECRET}
        return {}

    def oa_signature(self, raw: bytes, stamp: str) -> dict[str, str]:
        """A valid X-ZEvent-Signature for ``raw`` (whatever it holds) and ``stamp``."""
        mac = hashlib.sha256(self.oa.app_id.encode() + raw + stamp.encode()
                             + self.oa.secret_key.encode()).hexdigest()
        return {"X-ZEvent-Signature": f"mac={mac}"}

    def post(self, path: str, raw: bytes | Iterable[bytes], headers: dict[str, str] | None = None,
             *, chunked: bool = False) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            hdrs = {"Content-Type": "application/json", **(headers or {})}
            if chunked:
                conn.request("POST", path, body=iter(raw), headers=hdrs, encode_chunked=True)
            else:
                assert isinstance(raw, bytes)
                conn.request("POST", path, body=raw, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (ConnectionError, http.client.HTTPException) as exc:
            # The server may close a connection it refused before reading it all.
            return 0, str(exc).encode()
        finally:
            conn.close()

    def stored(self) -> dict[str, int]:
        with sqlite3.connect(self.db) as conn:
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in CITIZEN_TABLES}

    def settle(self, wait_s: float = 10.0) -> None:
        """Wait until updates acknowledged by the webhooks are handled: the server's loop is
        back to the tasks it had when it started listening."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            fut = asyncio.run_coroutine_threadsafe(self._tasks(), self.loop)
            if fut.result(10) <= self.baseline:
                return
            time.sleep(0.02)
        raise AssertionError(f"the server's loop did not settle in {wait_s} s")

    async def _tasks(self) -> int:
        return _work() - 1  # not this probe


def _work() -> int:
    """Tasks of the loop that do work: an open connection's task (aiohttp's
    RequestHandler.start: the channels' keep-alive connections to the doubles, closed by the
    client after its 15 s idle time) is no work left to settle."""
    return sum(1 for t in asyncio.all_tasks()
               if getattr(t.get_coro(), "__qualname__", "") != "RequestHandler.start")


def serve(template: Path, tmp: Path) -> Iterator[Endpoints]:
    """Start everything in a thread; yield when it listens; stop it after."""
    db = tmp / "endpoints.db"
    shutil.copyfile(template, db)
    ready = threading.Event()
    box: dict[str, object] = {}
    logs = LogLines()
    logging.getLogger().addHandler(logs)

    async def main() -> None:
        tg, zb, oa = BotApiDouble(), ZaloBotApiDouble(), ZaloOaApiDouble()
        await tg.start()
        await zb.start()
        await oa.start()
        settings = settings_for(
            f"sqlite+aiosqlite:///{db}", tmp,
            TELEGRAM_TOKEN=tg.token, TELEGRAM_BASE_URL=tg.base_url,
            TELEGRAM_WEBHOOK_URL="https://example.vn/webhooks/telegram",
            TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
            ZALO_BOT_TOKEN=zb.token, ZALO_BOT_BASE_URL=zb.base_url,
            ZALO_BOT_WEBHOOK_URL="https://example.vn/webhooks/zalo-bot",
            ZALO_BOT_WEBHOOK_SECRET=ZB_SECRET,
            ZALO_OA_APP_ID=oa.app_id, ZALO_OA_APP_SECRET=oa.app_secret,
            ZALO_OA_SECRET_KEY=oa.secret_key, ZALO_OA_ACCESS_TOKEN="AT-1",
            ZALO_OA_REFRESH_TOKEN="RT-1", ZALO_OA_BASE_URL=oa.base_url,
            ZALO_OAUTH_BASE_URL=oa.base_url)
        core = await build_app(settings, nlu=KeywordNlu())
        channels = [TelegramChannel(core, settings.telegram),
                    ZaloBotChannel(core, settings.zalo.bot),
                    ZaloOaChannel(core, settings.zalo.oa)]
        for ch in channels:
            await ch.start()
        runner = web.AppRunner(make_web_app(core, routes=[r for ch in channels
                                                          for r in ch.routes()]))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        stop = asyncio.Event()
        box["endpoints"] = Endpoints(
            port=site._server.sockets[0].getsockname()[1],  # type: ignore[union-attr]
            db=db, oa=oa, telegram=tg, zalo_bot=zb, logs=logs,
            loop=asyncio.get_running_loop(), app=core, _stop=stop)
        await asyncio.sleep(0.2)  # the channels' own loops are running
        box["endpoints"].baseline = _work()  # type: ignore[attr-defined]
        ready.set()
        await stop.wait()
        await runner.cleanup()
        for ch in channels:
            await ch.stop()
        await core.close()
        for double in (tg, zb, oa):
            await double.stop()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # told to the waiting test instead of lost in the thread
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, name="endpoints", daemon=True)
    thread.start()
    try:
        assert ready.wait(120), "the server did not start"
        if "error" in box:
            raise RuntimeError("the server did not start") from box["error"]  # type: ignore[misc]
        ep = box["endpoints"]
        assert isinstance(ep, Endpoints)
        ep.logs.take()  # start-up lines are not the tests' business
        yield ep
    finally:
        ep2 = box.get("endpoints")
        if isinstance(ep2, Endpoints):
            ep2.loop.call_soon_threadsafe(ep2._stop.set)
        thread.join(60)
        logging.getLogger().removeHandler(logs)
