"""End to end: a citizen subscribes on Telegram, an operator announces with the CLI, and the
running ``trolyso run`` process sends it (now, and at a later time through the scheduler)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.doubles.telegram_api import BotApiDouble

ROOT = Path(__file__).resolve().parents[2]
CHAT = 4242


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def running(tmp_path: Path, trained_nlu_cache: Path
                  ) -> AsyncIterator[tuple[BotApiDouble, list[str], dict[str, str]]]:
    tg = await BotApiDouble(max_per_second=30).start()
    port = _free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text((ROOT / "config.yaml").read_text()
                   .replace('dir: "content"', f'dir: "{ROOT / "content"}"')
                   .replace('cache_dir: "data/nlu-cache"', f'cache_dir: "{trained_nlu_cache}"')
                   .replace("poll_timeout_s: 30 ", "poll_timeout_s: 1 ")
                   .replace("scheduler_poll_s: 10 ", "scheduler_poll_s: 0.3 ")
                   .replace("poll_s: 1.0 ", "poll_s: 0.2 "))
    env = dict(os.environ, TROLYSO_PORT=str(port), TELEGRAM_TOKEN=tg.token,
               TELEGRAM_BASE_URL=tg.base_url, TROLYSO_LOG_LEVEL="WARNING",
               DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}")
    for var in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "ZALO_OA_APP_ID",
                "ZALO_BOT_TOKEN"):
        env.pop(var, None)
    log = (tmp_path / "run.log").open("wb")
    cmd = [sys.executable, "-m", "bot", "--config", str(cfg)]
    proc = subprocess.Popen(
        [*cmd, "run"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                if proc.poll() is not None:
                    raise AssertionError((tmp_path / "run.log").read_text())
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        yield tg, cmd, env
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, 30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        await tg.stop()


async def _cli(cmd: list[str], env: dict[str, str], *args: str) -> str:
    done = await asyncio.to_thread(subprocess.run, [*cmd, *args], env=env, capture_output=True,
                                   text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
async def test_subscribe_in_chat_then_the_cli_announces_now_and_later(
        running: tuple[BotApiDouble, list[str], dict[str, str]]) -> None:
    tg, cmd, env = running
    await tg.send_text(CHAT, "/dangky")
    await tg.wait_sent(CHAT, 1, wait_s=20)
    for n, payload in enumerate(("sub:y", "sub:a:12454", "sub:a:ok", "sub:t:*"), start=2):
        await tg.tap(CHAT, payload)
        await tg.wait_sent(CHAT, n, wait_s=20)
    assert "Đã đăng ký" in tg.messages_to(CHAT)[-1]["text"]

    started = time.monotonic()
    out = await _cli(cmd, env, "announce", "create", "--text", "Cắt điện sáng mai\nTừ 7 giờ.",
                     "--areas", "12454")
    cli_s = time.monotonic() - started
    nid = out.split()[-1]
    notice = (await tg.wait_sent(CHAT, 6, wait_s=20))[-1]
    assert notice["text"].startswith("<b>📢 THÔNG BÁO: Cắt điện sáng mai</b>")

    # Far enough ahead that the CLI, started on a busy machine, still finds it in the future:
    # three times what the first CLI call took (one took over 15 s at a load average of 15),
    # at least 4 s (a fixed 15 s floor was most of this test's time on a quiet machine).
    ahead = max(4.0, 3 * cli_s)
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ahead)
    await _cli(cmd, env, "announce", "create", "--text", "Họp tổ dân phố", "--at",
               when.isoformat(), "--priority", "priority")
    later = (await tg.wait_sent(CHAT, 7, wait_s=45 + ahead))[-1]
    assert "THÔNG BÁO ƯU TIÊN: Họp tổ dân phố" in later["text"]
    sent_at = time.time() - (time.monotonic() - later["at"])  # the double's clock is monotonic
    assert sent_at >= when.timestamp() - 0.5, "the scheduled notice went out before its time"

    status = json.loads(await _cli(cmd, env, "announce", "status", nid, "--json"))
    assert status == {"id": int(nid), "state": "done", "recipients": 1, "sent": 1,
                      "failed": 0, "blocked": 0, "pending": 0}
