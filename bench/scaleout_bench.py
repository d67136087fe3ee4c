"""Scale-out: one and then two ``trolyso run`` processes on one PostgreSQL, the same updates.

Each server runs in webhook mode against a Bot API double (bench/chat_load.py, in its own
process, which also drives the load and alternates between the servers' ports like a
round-robin load balancer). Printed per case: CPU time per update of the server processes
(user + system, psutil), lock waits (PostgreSQL ``pg_locks`` sampled every 50 ms, plus the
conversation conflicts the servers log), and lost and duplicate replies counted at the double.
Goal: two processes cost at most 1.15x the CPU per update of one, 0 lost, 0 duplicates.

    .venv/bin/python bench/scaleout_bench.py [--updates 3000] [--rate 100] [--processes 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chat_bench import SECRET, TOKEN, Load  # noqa: E402

PG_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp: Path) -> Path:
    """The shipped configuration with absolute content, caches under ``tmp``, no reply cap."""
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    cfg["content"]["dir"] = str(ROOT / "content")
    cfg.setdefault("nlu", {})["cache_dir"] = str(tmp / "nlu-cache")
    radio = cfg.setdefault("radio", {})
    radio["output_dir"], radio["cache_dir"] = str(tmp / "radio"), str(tmp / "radio-cache")
    # The reply cap (30/s per bot) is a platform courtesy, not work: off, as in chat_bench.
    cfg.setdefault("telegram", {})["replies_per_second"] = 0
    cfg["log_level"] = "INFO"
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


class Server:
    """One ``trolyso run`` process."""

    def __init__(self, config: Path, db_url: str, api_base: str, log: Path) -> None:
        self.port = _free_port()
        self.log = log
        env = {**os.environ, "DATABASE_URL": db_url, "TELEGRAM_TOKEN": TOKEN,
               "TELEGRAM_BASE_URL": api_base,
               "TELEGRAM_WEBHOOK_URL": "https://example.vn/webhooks/telegram",
               "TELEGRAM_WEBHOOK_SECRET": SECRET, "TROLYSO_PORT": str(self.port),
               "TROLYSO_LOG_LEVEL": "INFO"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"], env=env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=log.open("w"))
        self.ps = psutil.Process(self.proc.pid)
        self.url = f"http://127.0.0.1:{self.port}/webhooks/telegram"

    async def ready(self, wait_s: float = 180) -> None:
        deadline = time.monotonic() + wait_s
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"trolyso run exited: see {self.log}")
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"trolyso run not ready: see {self.log}")

    def cpu_s(self) -> float:
        t = self.ps.cpu_times()
        return float(t.user + t.system + t.children_user + t.children_system)

    def conflicts(self) -> int:
        return sum(1 for line in self.log.read_text(errors="replace").splitlines()
                   if "conversation conflict" in line)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


async def _lock_sampler(engine: AsyncEngine, stop: asyncio.Event) -> dict[str, int]:
    """Samples of lock waits: how often any backend of the bench database waited on a lock."""
    samples = waiting_samples = waits = 0
    async with engine.connect() as conn:
        while not stop.is_set():
            n = (await conn.execute(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE NOT l.granted AND a.datname = current_database()"))).scalar_one()
            await conn.commit()
            samples += 1
            waits += int(n)
            waiting_samples += 1 if n else 0
            try:
                await asyncio.wait_for(stop.wait(), 0.05)
            except TimeoutError:
                pass
    return {"samples": samples, "samples_with_waits": waiting_samples, "waiting_locks": waits}


async def _case(processes: int, load: Load, config: Path, tmp: Path, updates: int,
                rate: float, warmup: int) -> dict[str, Any]:
    name = f"trolyso_scaleout_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    servers: list[Server] = []
    watcher = create_async_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        for i in range(processes):
            servers.append(Server(config, db_url, load.base_url, tmp / f"run-{processes}-{i}.log"))
            await servers[-1].ready()  # one at a time: the first applies the migrations
        urls = ",".join(s.url for s in servers)
        await load.go(urls, warmup, rate)
        async with watcher.connect() as conn:
            before_db = (await conn.execute(text(
                "SELECT deadlocks, conflicts, xact_commit FROM pg_stat_database "
                "WHERE datname = current_database()"))).one()
        conflicts_before = sum(s.conflicts() for s in servers)
        cpu_before = [s.cpu_s() for s in servers]
        stop = asyncio.Event()
        sampler = asyncio.create_task(_lock_sampler(watcher, stop))
        result = await load.go(urls, updates, rate)
        stop.set()
        locks = await sampler
        cpu = sum(s.cpu_s() - b for s, b in zip(servers, cpu_before, strict=True))
        async with watcher.connect() as conn:
            after_db = (await conn.execute(text(
                "SELECT deadlocks, conflicts, xact_commit FROM pg_stat_database "
                "WHERE datname = current_database()"))).one()
        return {
            "processes": processes, **result,
            "cpu_ms_per_update": 1000 * cpu / updates,
            "lock_wait_samples": f"{locks['samples_with_waits']}/{locks['samples']}",
            "waiting_locks_sampled": locks["waiting_locks"],
            "conversation_conflicts": sum(s.conflicts() for s in servers) - conflicts_before,
            "deadlocks": after_db[0] - before_db[0],
            "commits_per_update": (after_db[2] - before_db[2]) / updates,
        }
    finally:
        for s in servers:
            s.stop()
        await watcher.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--updates", type=int, default=3000)
    ap.add_argument("--rate", type=float, default=100.0, help="updates per second offered")
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--processes", default="1,2")
    args = ap.parse_args()
    load = Load()
    rows = []
    with tempfile.TemporaryDirectory(prefix="trolyso-scaleout-") as tmp_name:
        tmp = Path(tmp_name)
        config = _config(tmp)
        try:
            for n in (int(x) for x in args.processes.split(",")):
                row = await _case(n, load, config, tmp, args.updates, args.rate, args.warmup)
                rows.append(row)
                print(json.dumps(row), flush=True)
        finally:
            load.close()
    print(f"\n{'processes':>9} {'CPU ms/update':>13} {'answered/s':>10} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'lost':>5} {'dups':>5} {'lock waits':>11} {'conflicts':>9}")
    for r in rows:
        print(f"{r['processes']:>9} {r['cpu_ms_per_update']:>13.2f} {r['per_second']:>10.1f} "
              f"{r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['lost']:>5} {r['duplicates']:>5} "
              f"{r['lock_wait_samples']:>11} {r['conversation_conflicts']:>9}")
    if len(rows) >= 2:
        ratio = rows[-1]["cpu_ms_per_update"] / rows[0]["cpu_ms_per_update"]
        print(f"\nCPU per update, {rows[-1]['processes']} processes vs 1: {ratio:.2f}x "
              f"(goal <= 1.15x)")
    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average at the end)")


if __name__ == "__main__":
    asyncio.run(main())
