"""`trolyso run` as a user starts it: a real process, real NLU, doubles of Telegram and Zalo."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.doubles.telegram_api import BotApiDouble
from tests.doubles.zalo_api import ZaloBotApiDouble

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def running(tmp_path: Path, trained_nlu_cache: Path
                  ) -> AsyncIterator[tuple[str, BotApiDouble, ZaloBotApiDouble,
                                       subprocess.Popen[bytes]]]:
    tg = await BotApiDouble().start()
    zb = await ZaloBotApiDouble().start()
    port = _free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text((ROOT / "config.yaml").read_text().replace(
        'dir: "content"', f'dir: "{ROOT / "content"}"').replace(
        'cache_dir: "data/nlu-cache"', f'cache_dir: "{trained_nlu_cache}"').replace(
        "poll_timeout_s: 30 ", "poll_timeout_s: 1 "))
    env = dict(os.environ, TROLYSO_PORT=str(port), TELEGRAM_TOKEN=tg.token,
               TELEGRAM_BASE_URL=tg.base_url, ZALO_BOT_TOKEN=zb.token,
               ZALO_BOT_BASE_URL=zb.base_url,
               DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}")
    for var in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "ZALO_OA_APP_ID"):
        env.pop(var, None)
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(cfg), "run"],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                if proc.poll() is not None:
                    raise AssertionError((tmp_path / "run.log").read_text())
                try:
                    async with http.get(base + "/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        yield base, tg, zb, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        await tg.stop()
        await zb.stop()


@pytest.mark.slow
async def test_run_serves_web_telegram_and_zalo_and_stops_cleanly(
        running: tuple[str, BotApiDouble, ZaloBotApiDouble, subprocess.Popen[bytes]]) -> None:
    base, tg, zb, proc = running
    async with aiohttp.ClientSession() as http, http.post(
            base + "/api/chat", json={"session": "r", "text": "lam ho chieu het bao nhieu tien"}
    ) as r:
        body = await r.json()
    assert "Lệ phí" in body["replies"][0]["text"]

    await tg.send_text(4242, "cháy nhà rồi cứu với")
    [first] = await tg.wait_sent(4242, 1, wait_s=30)
    assert "114" in first["text"]

    await zb.send_text("zuser1", "/start")
    [menu] = await zb.wait_sent("zuser1", 1, wait_s=30)
    assert "1. " in menu["text"] and len(menu["text"]) <= 2000
    await zb.send_text("zuser1", "1")  # numbered choice: the first door, public services
    services = (await zb.wait_sent("zuser1", 2, wait_s=30))[-1]
    assert "nhóm" in services["text"]

    proc.send_signal(signal.SIGTERM)
    # wait in a thread: the doubles live on this event loop and must keep answering
    assert await asyncio.to_thread(proc.wait, 30) == 0
