"""Scale-out: one and then two ``trolyso run`` processes on one PostgreSQL, the same updates.

Each server runs in webhook mode against a Bot API double (bench/chat_load.py, in its own
process, which also drives the load and alternates between the servers' ports like a
round-robin load balancer). Each case (one process, two processes) has its own database; all
servers start first and are warmed up (not measured), then the cases take turns, several
repetitions, the order swapped each repetition so a change in the machine's load falls on both.
Printed per case and repetition: CPU time per update of the server processes (user + system
from /proc via psutil, not wall time), CPU of the PostgreSQL backends serving that database
(shown apart), lock waits (``pg_locks`` sampled every 50 ms, plus the conversation conflicts
the servers log), and lost and duplicate replies counted at the double. The summary gives the
median and the spread (min-max) of each case and of the per-repetition ratio, the idle CPU of
one process (its polling loops) and the machine's load average.
Goal: two processes cost at most 1.15x the CPU per update of one, 0 lost, 0 duplicates.

    .venv/bin/python bench/scaleout_bench.py [--updates 1500] [--rate 100] [--reps 3]
                                             [--processes 1,2] [--warmup 300] [--idle-s 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
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


BENCH_APP = "trolyso-scaleout-bench"  # the bench's own connections, left out of the figures


async def _lock_sampler(engine: AsyncEngine, stop: asyncio.Event) -> dict[str, int]:
    """Samples of lock waits: how often any backend of the bench database waited on a lock."""
    samples = waiting_samples = waits = 0
    async with engine.connect() as conn:
        while not stop.is_set():
            n = (await conn.execute(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE NOT l.granted AND a.datname = current_database()"))).scalar_one()
            samples += 1
            waits += int(n)
            waiting_samples += 1 if n else 0
            try:
                await asyncio.wait_for(stop.wait(), 0.05)
            except TimeoutError:
                pass
    return {"samples": samples, "samples_with_waits": waiting_samples, "waiting_locks": waits}


async def _backend_cpu(engine: AsyncEngine) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the database (not the bench's)."""
    async with engine.connect() as conn:
        pids = (await conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name <> :me"), {"me": BENCH_APP})).scalars().all()
    out: dict[int, float] = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        out[pid] = float(t.user + t.system)
    return out


class Case:
    """``processes`` servers on their own database."""

    def __init__(self, processes: int, load: Load, config: Path, tmp: Path) -> None:
        self.processes = processes
        self.load, self.config, self.tmp = load, config, tmp
        self.name = f"trolyso_scaleout_{uuid.uuid4().hex[:8]}"
        self.db_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{self.name}"
        self.servers: list[Server] = []
        self.watcher: AsyncEngine | None = None

    @property
    def urls(self) -> str:
        return ",".join(s.url for s in self.servers)

    async def start(self, admin: AsyncEngine) -> None:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.watcher = create_async_engine(
            self.db_url, isolation_level="AUTOCOMMIT",
            connect_args={"server_settings": {"application_name": BENCH_APP}})
        for i in range(self.processes):
            self.servers.append(Server(self.config, self.db_url, self.load.base_url,
                                       self.tmp / f"run-{self.processes}-{i}.log"))
            await self.servers[-1].ready()  # one at a time: the first applies the migrations

    def cpu(self) -> list[float]:
        return [s.cpu_s() for s in self.servers]

    async def measure(self, updates: int, rate: float) -> dict[str, Any]:
        assert self.watcher is not None
        async with self.watcher.connect() as conn:
            before_db = (await conn.execute(text(
                "SELECT deadlocks, xact_commit FROM pg_stat_database "
                "WHERE datname = current_database()"))).one()
        conflicts_before = sum(s.conflicts() for s in self.servers)
        pg_before = await _backend_cpu(self.watcher)
        cpu_before = self.cpu()
        stop = asyncio.Event()
        sampler = asyncio.create_task(_lock_sampler(self.watcher, stop))
        try:
            result = await self.load.go(self.urls, updates, rate)
        finally:
            stop.set()
            locks = await sampler
        cpu = sum(a - b for a, b in zip(self.cpu(), cpu_before, strict=True))
        pg_after = await _backend_cpu(self.watcher)
        pg = sum(t - pg_before.get(pid, 0.0) for pid, t in pg_after.items())
        async with self.watcher.connect() as conn:
            after_db = (await conn.execute(text(
                "SELECT deadlocks, xact_commit FROM pg_stat_database "
                "WHERE datname = current_database()"))).one()
        return {
            "processes": self.processes, **result,
            "cpu_ms_per_update": 1000 * cpu / updates,
            "pg_cpu_ms_per_update": 1000 * pg / updates,
            "lock_wait_samples": f"{locks['samples_with_waits']}/{locks['samples']}",
            "waiting_locks_sampled": locks["waiting_locks"],
            "conversation_conflicts": sum(s.conflicts() for s in self.servers) - conflicts_before,
            "deadlocks": after_db[0] - before_db[0],
            "commits_per_update": (after_db[1] - before_db[1]) / updates,
            "load_1min": os.getloadavg()[0],
        }

    async def close(self, admin: AsyncEngine) -> None:
        for s in self.servers:
            s.stop()
        if self.watcher is not None:
            await self.watcher.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def _spread(values: list[float], fmt: str = "{:.2f}") -> str:
    return (f"{fmt.format(statistics.median(values))} "
            f"({fmt.format(min(values))}-{fmt.format(max(values))})")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--updates", type=int, default=1500, help="updates per case and repetition")
    ap.add_argument("--rate", type=float, default=100.0, help="updates per second offered")
    ap.add_argument("--warmup", type=int, default=300, help="updates per case, not measured")
    ap.add_argument("--reps", type=int, default=3, help="repetitions (the order alternates)")
    ap.add_argument("--idle-s", type=float, default=10.0,
                    help="seconds of idle CPU measured before the load")
    ap.add_argument("--processes", default="1,2")
    args = ap.parse_args()
    load = Load()
    load_start = os.getloadavg()
    admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    rows: list[dict[str, Any]] = []
    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="trolyso-scaleout-") as tmp_name:
        tmp = Path(tmp_name)
        config = _config(tmp)
        try:
            for n in (int(x) for x in args.processes.split(",")):
                cases.append(Case(n, load, config, tmp))
                await cases[-1].start(admin)
            for case in cases:  # warm-up: caches, prepared statements, pools (not measured)
                await load.go(case.urls, args.warmup, args.rate)
            await asyncio.sleep(2)  # the warm-up's last replies and marks
            idle_before = [c.cpu() for c in cases]
            await asyncio.sleep(args.idle_s)
            idle = [1000 * (a - b) / args.idle_s for c, before in zip(cases, idle_before,
                                                                     strict=True)
                    for a, b in zip(c.cpu(), before, strict=True)]
            for rep in range(args.reps):
                for case in (cases if rep % 2 == 0 else cases[::-1]):
                    row = {"rep": rep + 1, **await case.measure(args.updates, args.rate)}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
        finally:
            for case in cases:
                await case.close(admin)
            await admin.dispose()
            load.close()
    print(f"\n{'rep':>3} {'processes':>9} {'CPU ms/update':>13} {'PG ms/update':>12} "
          f"{'answered/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'lost':>5} {'dups':>5} "
          f"{'lock waits':>11} {'conflicts':>9} {'load':>5}")
    for r in rows:
        print(f"{r['rep']:>3} {r['processes']:>9} {r['cpu_ms_per_update']:>13.2f} "
              f"{r['pg_cpu_ms_per_update']:>12.2f} {r['per_second']:>10.1f} "
              f"{r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['lost']:>5} {r['duplicates']:>5} "
              f"{r['lock_wait_samples']:>11} {r['conversation_conflicts']:>9} "
              f"{r['load_1min']:>5.1f}")
    print(f"\nidle CPU per process (its polling loops): {_spread(idle, '{:.1f}')} ms per second")
    by_n: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_n.setdefault(r["processes"], []).append(r)
    for n, rs in by_n.items():
        print(f"{n} process(es): server CPU {_spread([r['cpu_ms_per_update'] for r in rs])} "
              f"ms/update, PostgreSQL {_spread([r['pg_cpu_ms_per_update'] for r in rs])} "
              f"ms/update, lost {sum(r['lost'] for r in rs)}, "
              f"duplicates {sum(r['duplicates'] for r in rs)}, "
              f"webhooks answered 503 and sent again {sum(r['redelivered_503'] for r in rs)}, "
              f"conflicts {sum(r['conversation_conflicts'] for r in rs)}, "
              f"deadlocks {sum(r['deadlocks'] for r in rs)}")
    if len(by_n) >= 2:
        one, many = min(by_n), max(by_n)
        ratios = [b["cpu_ms_per_update"] / a["cpu_ms_per_update"]
                  for a, b in zip(by_n[one], by_n[many], strict=True)]
        with_pg = [(b["cpu_ms_per_update"] + b["pg_cpu_ms_per_update"])
                   / (a["cpu_ms_per_update"] + a["pg_cpu_ms_per_update"])
                   for a, b in zip(by_n[one], by_n[many], strict=True)]
        print(f"\nCPU per update, {many} processes vs {one}: {_spread(ratios)}x per repetition "
              f"(goal <= 1.15x); with PostgreSQL's backends: {_spread(with_pg)}x")
    end = os.getloadavg()
    print(f"load average (1 min): {load_start[0]:.2f} at the start, {end[0]:.2f} at the end "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    asyncio.run(main())
