"""Broadcast benchmark: one notice to N subscribers through the real outbox, sender processes
and python-telegram-bot, against a Bot API double that allows 30 messages per second (and
answers 429 beyond) and notes any chat that gets two messages within a second.

Scenarios (each on a fresh database):
  throughput  one sender process; sustained rate over the whole notice
  kill        kill -9 the sender halfway, start a new one; misses and duplicates counted from
              the double's log, against the rows that were in flight ("sending") at the kill
  two         two sender processes on PostgreSQL; duplicates

    .venv/bin/python bench/broadcast_bench.py [--n 3000] [--only throughput,kill,two]
                                              [--databases sqlite,postgres] [--lease 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.channels import bind  # noqa: E402
from broadcast import announcements  # noqa: E402
from broadcast.types import Actor, Draft  # noqa: E402
from core.config import load_config  # noqa: E402
from core.db import make_engine, make_sessionmaker, upgrade, utcnow  # noqa: E402
from core.models import OutboxItem, Subscription  # noqa: E402
from flows.content import load_texts  # noqa: E402
from tests.doubles.telegram_api import BotApiDouble  # noqa: E402

PG_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
AREA = "12454"
TEXT = ("Lịch tiêm chủng mở rộng tháng 12\n"
        "Trạm y tế phường tiêm vắc-xin sởi - rubella cho trẻ từ 9 tháng đến 2 tuổi vào sáng "
        "thứ Bảy, từ 7 giờ 30 đến 11 giờ. Phụ huynh mang theo sổ tiêm chủng và căn cước của "
        "mình. Trẻ đang sốt, ho thì báo cán bộ y tế trước khi tiêm.")


# ------------------------------------------------------------------ databases

async def fresh_database(kind: str, tmp: Path) -> tuple[str, Callable[[], Any]]:
    """A new empty database and a coroutine function that drops it."""
    if kind == "sqlite":
        path = tmp / f"bench-{uuid.uuid4().hex[:6]}.db"

        async def nothing() -> None:
            return None

        return f"sqlite+aiosqlite:///{path}", nothing
    name = f"trolyso_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))

    async def drop() -> None:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), drop


async def prepare(url: str, n: int) -> int:
    """N subscribers in one ward and one released notice to all of them: N outbox rows."""
    await upgrade(url)
    settings = bind(load_config(ROOT / "config.yaml", env={"DATABASE_URL": url}))
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    now = utcnow()
    try:
        async with sm() as s, s.begin():
            rows = [{"channel": "telegram", "user_id": str(10_000_000 + i), "areas": [AREA],
                     "topics": ["chung"], "consent_at": now, "consent_text": "bench",
                     "created_at": now, "updated_at": now} for i in range(n)]
            for i in range(0, n, 500):
                await s.execute(insert(Subscription), rows[i:i + 500])
        async with sm() as s, s.begin():
            texts = load_texts(settings.path(settings.content.dir))
            ann = await announcements.create(s, settings, texts,
                                             Actor.cli("bench"),
                                             Draft(text=TEXT, areas=[AREA], topics=["chung"]))
            return ann.id
    finally:
        await engine.dispose()


async def rows_by_state(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(select(OutboxItem.state, func.count())
                                        .group_by(OutboxItem.state))
            return {state: int(count) for state, count in result}
    finally:
        await engine.dispose()


# ------------------------------------------------------------------ sender processes

class SenderProc:
    def __init__(self, url: str, api: BotApiDouble, name: str, lease: float, log: Path) -> None:
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench/broadcast/sender_proc.py"), "--db", url,
             "--base-url", api.base_url, "--token", api.token, "--lease", str(lease),
             "--name", name],
            stdout=subprocess.PIPE, stderr=self.log)

    async def ready(self) -> None:
        assert self.proc.stdout is not None
        line = await asyncio.to_thread(self.proc.stdout.readline)
        if b"ready" not in line:
            raise RuntimeError(f"sender did not start; see {self.log.name}")

    async def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            await asyncio.to_thread(self.proc.wait, 60)
        self.log.close()

    async def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.proc.wait, 10)
        self.log.close()


# ------------------------------------------------------------------ measuring

def notices(api: BotApiDouble) -> list[dict[str, Any]]:
    return [m for m in api.sent if m["method"] == "sendMessage"]


def distinct(api: BotApiDouble) -> int:
    return len({m["chat_id"] for m in notices(api)})


async def wait_until(cond: Callable[[], bool], limit_s: float, what: str) -> float:
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > limit_s:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)
    return time.monotonic() - start


def analyse(api: BotApiDouble, n: int) -> dict[str, Any]:
    sent = notices(api)
    times = sorted(m["at"] for m in sent)
    chats = [m["chat_id"] for m in sent]
    most, j = 0, 0
    for i, t in enumerate(times):  # the busiest rolling second, as the double counts it
        while times[j] <= t - 1.0:
            j += 1
        most = max(most, i - j + 1)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return {
        "recipients": n, "delivered": len(set(chats)), "missed": n - len(set(chats)),
        "duplicates": len(chats) - len(set(chats)),
        "rate_per_s": round((len(times) - 1) / span, 2) if span else None,
        "busiest_second": most, "answered_429": api.rate_limited,
        "same_chat_within_1s": api.per_chat_violations, "span_s": round(span, 1),
    }


# ------------------------------------------------------------------ scenarios

async def scenario(kind: str, db: str, n: int, lease: float, tmp: Path) -> dict[str, Any]:
    api = await BotApiDouble(max_per_second=30, per_chat_interval_s=1.0).start()
    url, drop = await fresh_database(db, tmp)
    extra: dict[str, Any] = {}
    procs: list[SenderProc] = []
    try:
        await prepare(url, n)
        budget = n / 20 + lease + 120
        log = tmp / f"{kind}-{db}.log"
        if kind == "two":
            procs = [SenderProc(url, api, f"s{i}", lease, log) for i in range(2)]
        else:
            procs = [SenderProc(url, api, "s0", lease, log)]
        for p in procs:
            await p.ready()
        if kind == "kill":
            await wait_until(lambda: len(notices(api)) >= n // 2, budget, "half the notice")
            await procs[0].kill9()
            at_kill = len(notices(api))
            states = await rows_by_state(url)
            extra = {"sent_before_kill": at_kill, "in_flight_at_kill": states.get("sending", 0),
                     "claimed_at_kill": states.get("claimed", 0)}
            procs = [SenderProc(url, api, "s1", lease, log)]
            await procs[0].ready()
            extra["recovery_s"] = round(await wait_until(
                lambda: len(notices(api)) > at_kill, budget, "the restarted sender"), 1)
        await wait_until(lambda: distinct(api) >= n, budget, "every recipient")
        await asyncio.sleep(1.0)  # anything sent twice arrives now
        for p in procs:
            await p.stop()
        procs = []
        states = await rows_by_state(url)
        return {"scenario": kind, "database": db, **analyse(api, n), **extra,
                "rows_sent": states.get("sent", 0), "rows_pending": states.get("pending", 0)}
    finally:
        for p in procs:
            await p.stop()
        await api.stop()
        await drop()


def show(r: dict[str, Any]) -> None:
    head = f"== {r['scenario']} on {r['database']}"
    print(head)
    for k, v in r.items():
        if k not in ("scenario", "database"):
            print(f"   {k:<22} {v}")
    sys.stdout.flush()


async def main(args: argparse.Namespace) -> int:
    only = args.only.split(",")
    dbs = args.databases.split(",")
    plan = [(k, d) for k in ("throughput", "kill") if k in only for d in dbs]
    if "two" in only and "postgres" in dbs:
        plan.append(("two", "postgres"))
    results = []
    with tempfile.TemporaryDirectory(prefix="broadcast-bench-") as t:
        for kind, db in plan:
            r = await scenario(kind, db, args.n, args.lease, Path(t))
            show(r)
            results.append(r)
    failed = [r for r in results if r["missed"] or (r["scenario"] != "kill" and r["duplicates"])
              or (r["scenario"] == "kill" and r["duplicates"] > r["in_flight_at_kill"])
              or (r["scenario"] == "throughput" and (r["rate_per_s"] or 0) < 28)]
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=2))
    print("RESULT:", "ok" if not failed else f"{len(failed)} scenario(s) below target")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="recipients (default 3000)")
    parser.add_argument("--only", default="throughput,kill,two")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--lease", type=float, default=10.0,
                        help="sender lease in seconds (how long a dead sender's rows wait)")
    parser.add_argument("--json", help="also write the results to this file")
    sys.exit(asyncio.run(main(parser.parse_args())))
