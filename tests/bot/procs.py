"""Real ``trolyso run`` processes for tests: a config in a temporary directory (the session's
trained engine, the inbox's lease short so a killed process's messages come back quickly),
start, wait for /healthz, kill."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.conftest import ROOT

__all__ = ["Proc", "free_port", "prepare", "start"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(tmp: Path, nlu_cache: Path, *, lease_s: float = 3,
            replies_per_second: float | None = None) -> Path:
    """A config for processes sharing ``tmp``: content and the trained engine copied there.
    ``replies_per_second``: the Telegram and Zalo reply paces instead of the shipped 30 and
    10 per second (a test whose subject is not the pace need not wait for it)."""
    if not (tmp / "content").exists():
        shutil.copytree(ROOT / "content", tmp / "content")
        (tmp / "nlu-cache").mkdir()
        for f in nlu_cache.glob("nlu-*.pkl"):  # the session's engine: no training at start
            shutil.copy2(f, tmp / "nlu-cache" / f.name)
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace('dir: "content"', f'dir: "{tmp / "content"}"')
    text = text.replace('cache_dir: "data/nlu-cache"', f'cache_dir: "{tmp / "nlu-cache"}"')
    text, n = re.subn(r"(?m)^  lease_s: 30 (.*)$", f"  lease_s: {lease_s} \\1", text)
    assert n == 1, "the inbox's lease_s line moved in config.yaml"
    text = re.sub(r"(?m)^  resume_s: 2 ", "  resume_s: 0.5 ", text)
    if replies_per_second is not None:
        for key in ("replies_per_second", "zalo_per_second"):
            text, n = re.subn(rf"(?m)^(  {key}:) \d+ ", f"\\1 {replies_per_second:g} ", text)
            assert n == 1, f"the {key} line moved in config.yaml"
    path = tmp / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class Proc:
    """One ``trolyso run``; its output in ``tmp/<name>.log``."""

    def __init__(self, popen: subprocess.Popen[bytes], log: Path, base: str) -> None:
        self.popen, self.log, self.base = popen, log, base

    def kill9(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(30)

    async def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.popen.wait, 30)
            except subprocess.TimeoutExpired:
                self.popen.kill()


async def start(tmp: Path, name: str, config: Path, db: str, port: int,
                env: dict[str, str]) -> Proc:
    """Start ``trolyso run`` on ``port`` and wait until /healthz answers."""
    full = dict(os.environ, TROLYSO_PORT=str(port), DATABASE_URL=db, **env)
    for var in ("TELEGRAM_TOKEN", "ZALO_BOT_TOKEN", "ZALO_OA_APP_ID"):
        if var not in env:
            full.pop(var, None)
    log = tmp / f"{name}.log"
    with log.open("ab") as out:
        popen = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"],
                                 env=full, cwd=tmp, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(900):
            if popen.poll() is not None:
                raise AssertionError(log.read_text())
            try:
                async with http.get(base + "/healthz") as r:
                    if r.status == 200:
                        return Proc(popen, log, base)
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    popen.kill()
    raise AssertionError(f"{name} did not start:\n{log.read_text()[-3000:]}")
