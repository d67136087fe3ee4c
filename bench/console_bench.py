"""Console benchmark: every console page's server time on a big ward's data, PostgreSQL.

Generates 10,000 notices (over 60 days, one to three areas each, the newest ones still
sending), 100,000 deliveries (sent over the last 30 days, some failed or blocked, with reasons),
5,000 subscribers (60 % of them on every topic, as "Nhận tất cả" in chat, the others on one to
three topics), 30 days of subscriber counts, an audit log of 30,000 entries (each notice's
creation and end, logins, team changes), 120 team members and 300 invite codes, then asks
each console page 100 times as an admin and as a member of one area (one request at a time;
the audit log is the admins' alone) and prints p50 / p95 / max of the time
spent in the server (handler and middlewares, measured inside the server, loopback excluded).
The radio pages are asked as an admin and as a radio operator of one area, with 60 days of
bulletin rows (two slots a day per area) and 8 bulletins (files) on each of the last 7 days.
The bar: p95 ≤ 200 ms for every page.

    .venv/bin/python bench/console_bench.py [--notices 10000] [--deliveries 100000]
                                            [--requests 100] [--pages REGEX] [--keep]

Figures measured while other work runs on the machine are noise: run it when it is quiet.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.web import make_web_app  # noqa: E402
from broadcast import stats  # noqa: E402
from broadcast.types import Actor  # noqa: E402
from console import accounts  # noqa: E402
from core.config import load_config  # noqa: E402
from core.db import utcnow  # noqa: E402
from core.models import (  # noqa: E402
    Announcement,
    AnnouncementArea,
    AuditEntry,
    Invite,
    OutboxItem,
    RadioBulletin,
    Run,
    SubscriberCount,
    Subscription,
    TeamMember,
)
from tests.fakes import KeywordNlu  # noqa: E402

PG_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
PASSWORD = "mật khẩu của bài đo 2026"
REASONS = ["Telegram refused: Bad Request: chat not found", "gave up after 6 attempts: "
           "Telegram: Timed out", "this user never wrote to the Zalo bot; the Bot Platform "
           "only sends to users who wrote first", "Zalo OA refused: -213 user not follow OA"]
CHANNELS = ["telegram"] * 6 + ["zalo_oa"] * 3 + ["zalo_bot"]


def radio_files(root: Path, settings: Any, area: str, days: int = 7, per_day: int = 8) -> str:
    """Bulletin files as ``radio build`` writes them (one real MP3, shared); returns the
    relative path of one of them."""
    import json

    import numpy as np

    from broadcast.radio.mp3 import encode_mp3

    mp3 = encode_mp3([np.zeros(24000 * 5, dtype=np.float32)], 24000, 64)
    tz = dt.timezone(dt.timedelta(hours=7))
    now = dt.datetime.now(tz)
    rel = ""
    for d in range(days):
        day = (now - dt.timedelta(days=d)).date()
        folder = root / area / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(per_day):
            when = dt.datetime.combine(day, dt.time(6 + k, 0), tzinfo=tz)
            stem = f"{day}_{6 + k:02d}h00_{area}_ban-tin-{k}"
            (folder / f"{stem}.mp3").write_bytes(mp3)
            (folder / f"{stem}.txt").write_text("Đài truyền thanh phường xin thông báo.\n"
                                                * 20, encoding="utf-8")
            (folder / f"{stem}.json").write_text(json.dumps({
                "id": stem, "title": f"Bản tin {k}", "area_code": area,
                "area_name": settings.area_name(area), "priority": "normal",
                "created_at": when.isoformat(), "duration_s": 5.0, "loudness_lufs": -16.0,
                "engine": "espeak", "mp3": f"{stem}.mp3", "transcript": f"{stem}.txt"},
                ensure_ascii=False), encoding="utf-8")
            rel = f"{area}/{day.isoformat()}/{stem}.mp3"
    return rel


async def radio_rows(url: str, settings: Any, days: int = 60) -> None:
    """Two slot bulletins a day per area for ``days`` days."""
    tz = dt.timezone(dt.timedelta(hours=7))
    today = dt.datetime.now(tz).date()
    rows = []
    for d in range(days):
        day = today - dt.timedelta(days=d)
        for a in settings.areas:
            for h in (6, 17):
                at = dt.datetime.combine(day, dt.time(h, 0), tzinfo=tz)
                rows.append({"area_code": a.code, "key": f"slot:{day}T{h:02d}:00",
                             "state": "ready" if d else "empty", "announcement_ids": [],
                             "priority": "normal", "sent_to": [], "created_at": at,
                             "mp3": f"{a.code}/{day}/x.mp3" if d else None})
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await _chunks(conn, insert(RadioBulletin), rows)
    await engine.dispose()


async def _chunks(conn: Any, stmt: Any, rows: list[dict[str, Any]], size: int = 5000) -> None:
    for i in range(0, len(rows), size):
        await conn.execute(stmt, rows[i:i + size])


async def generate(url: str, settings: Any, n_notices: int, n_deliveries: int) -> None:
    rnd = random.Random(7)
    now = utcnow()
    areas = [a.code for a in settings.areas]
    topics = [t.id for t in settings.topics]
    engine = create_async_engine(url)
    anns, areas_rows, runs, outbox = [], [], [], []
    per_run = n_deliveries // n_notices
    sending_from = n_notices - 20  # the newest ones are still going out
    for i in range(1, n_notices + 1):
        when = now - dt.timedelta(days=60) + dt.timedelta(minutes=i * 60 * 24 * 59 / n_notices)
        targets = sorted(rnd.sample(areas, rnd.choice((1, 1, 1, 2, 3))))
        state = "sending" if i > sending_from else rnd.choice(["done"] * 20 + ["cancelled"])
        anns.append({"id": i, "author": f"console:user{i % 7}", "title": f"Thông báo {i}",
                     "text": f"Nội dung thông báo số {i}: họp tổ dân phố, lịch tiêm chủng.",
                     "areas": targets, "topics": rnd.sample(topics, 2),
                     "priority": rnd.choice(["normal"] * 8 + ["priority", "emergency"]),
                     "radio": i % 5 == 0, "repeat": "none", "first_at": when, "state": state,
                     "created_at": when, "updated_at": when, "approval": None})
        areas_rows += [{"announcement_id": i, "area": a} for a in targets]
        counts: dict[str, Any] | None = None
        run_rows = []
        for j in range(per_run):
            st = rnd.choice(["sent"] * 17 + ["failed", "blocked", "pending"]) \
                if i > sending_from else rnd.choice(["sent"] * 18 + ["failed", "blocked"])
            sent_at = min(now, when + dt.timedelta(seconds=j)) if st == "sent" else None
            run_rows.append({
                "id": (i - 1) * per_run + j + 1, "run_id": i, "kind": "notice",
                "channel": rnd.choice(CHANNELS), "user_id": str(100000 + j + i % 997),
                "rank": 2, "priority": "normal", "state": st, "attempts": 1,
                "not_before": when, "created_at": when, "sent_at": sent_at,
                "reason": rnd.choice(REASONS) if st in ("failed", "blocked") else None})
        if i <= sending_from:
            counts = {"recipients": per_run, "pending": 0, "cancelled": 0,
                      **{k: sum(1 for r in run_rows if r["state"] == k)
                         for k in ("sent", "failed", "blocked")}}
        outbox += run_rows
        runs.append({"id": i, "announcement_id": i, "planned_for": when, "released_at": when,
                     "recipients": per_run, "text": anns[-1]["text"],
                     "finished_at": None if counts is None else when, "counts": counts})
    # As people subscribe in chat: most tap "Nhận tất cả" (every topic), the others pick one
    # to three topics; most follow their own ward, some a second one.
    subs = [{"channel": rnd.choice(CHANNELS), "user_id": str(500000 + k),
             "areas": rnd.sample(areas, rnd.choice((1,) * 6 + (2,))),
             "topics": list(topics) if rnd.random() < 0.6 else rnd.sample(topics,
                                                                          rnd.randint(1, 3)),
             "consent_at": now, "consent_text": "bench", "created_at": now, "updated_at": now}
            for k in range(5000)]
    # The audit log: every notice created and ended, logins, the team's comings and goings.
    log = []
    for a in anns:
        targets = {"areas": a["areas"]}
        log.append({"at": a["created_at"], "actor": a["author"], "action": "announce.create",
                    "details": {"id": a["id"]}, "targets": targets})
        log.append({"at": a["created_at"] + dt.timedelta(minutes=5), "actor": "system",
                    "action": "announce.done", "details": {"id": a["id"]}, "targets": targets})
        log.append({"at": a["created_at"] - dt.timedelta(minutes=2), "actor": a["author"],
                    "action": rnd.choice(["console.login", "team.invite", "handover.claim"]),
                    "details": {"address": "127.0.0.1"},
                    "targets": {"areas": [rnd.choice(areas)]}})
    members = [{"channel": rnd.choice(CHANNELS), "user_id": str(900000 + k),
                "role": rnd.choice(["member"] * 3 + ["radio"]),
                "areas": rnd.sample(areas, rnd.choice((1, 1, 2))),
                "invited_by": "console:quantri", "joined_at": now - dt.timedelta(days=k % 60)}
               for k in range(120)]
    invites = [{"code_hash": uuid.uuid4().hex * 2, "role": "member",
                "areas": [rnd.choice(areas)], "created_by": "console:quantri",
                "created_at": now - dt.timedelta(hours=k * 3),
                "expires_at": now - dt.timedelta(hours=k * 3) + dt.timedelta(hours=72),
                "used_at": None if k % 3 else now - dt.timedelta(hours=k * 3 - 1),
                "used_by": None if k % 3 else f"telegram:{900000 + k}"} for k in range(300)]
    snaps = [{"day": (now - dt.timedelta(days=d)).date().isoformat(), "area": a, "topic": t,
              "count": 1000 - d * 10} for d in range(1, 31) for a in areas for t in
             ["*", *topics]]
    async with engine.begin() as conn:
        for model, rows in ((Announcement, anns), (AnnouncementArea, areas_rows), (Run, runs),
                            (OutboxItem, outbox), (Subscription, subs),
                            (SubscriberCount, snaps), (AuditEntry, log),
                            (TeamMember, members), (Invite, invites)):
            await _chunks(conn, insert(model), rows)
        for table in ("announcements", "announcement_runs", "outbox", "audit_log",
                      "team_invites"):
            await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
    await engine.dispose()
    # A database that has been running: statistics and the visibility map are up to date.
    vac = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with vac.connect() as conn:
        await conn.execute(text("VACUUM ANALYZE"))
    await vac.dispose()


_TIMES: dict[str, list[float]] = defaultdict(list)


@web.middleware
async def timing(request: web.Request, handler: Callable[[web.Request],
                 Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        key = request.headers.get("X-Bench-Page")
        if key:
            _TIMES[key].append((time.perf_counter() - started) * 1000)


async def login(base: str, name: str) -> tuple[aiohttp.ClientSession, str]:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.get(base + "/console/login") as r:
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', await r.text()).group(1)  # type: ignore[union-attr]
    async with http.post(base + "/console/login", data={"csrf": csrf, "name": name,
                                                        "password": PASSWORD}) as r:
        page = await r.text()
        assert r.status == 200, page[:500]
    return http, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--notices", type=int, default=10_000)
    ap.add_argument("--deliveries", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    ap.add_argument("--pages", default="", help="only the pages whose label matches this "
                    "regular expression (e.g. 'audit')")
    args = ap.parse_args()
    name = f"trolyso_console_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    try:
        settings = load_config(ROOT / "config.yaml", env={"DATABASE_URL": url})
        import tempfile

        radio_root = Path(tempfile.mkdtemp(prefix="trolyso-radio-bench-"))
        settings = settings.model_copy(update={"radio": settings.radio.model_copy(
            update={"output_dir": str(radio_root)})})
        app = await build_app(settings, nlu=KeywordNlu())
        t0 = time.perf_counter()
        await generate(url, app.settings, args.notices, args.deliveries)
        print(f"generated {args.notices:,} notices and {args.deliveries:,} deliveries "
              f"in {time.perf_counter() - t0:.1f} s")
        area = app.settings.areas[1].code
        await radio_rows(url, app.settings)
        radio_file = radio_files(radio_root, app.settings, area)
        async with app.sessionmaker() as s, s.begin():
            for user, role, areas in (("quantri", "admin", []), ("lan", "member", [area]),
                                      ("tam", "radio", [area])):
                _, link = await accounts.add_user(s, app.settings, Actor.cli("bench"), user,
                                                  role, areas)
                await accounts.set_password(s, app.settings, link.rsplit("/", 1)[1], PASSWORD)
            await stats.snapshot(s, app.settings, utcnow())
        web_app = make_web_app(app, console=True)
        web_app.middlewares.insert(0, timing)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        rnd = random.Random(3)
        today = dt.date.today()
        month_ago = (today - dt.timedelta(days=30)).isoformat()
        today_s = today.isoformat()
        form = {"text": "Lịch tiêm chủng\nSáng thứ Bảy 7h30 tại trạm y tế.", "areas": area,
                "topics": "chung", "priority": "normal", "when": "now", "radio": "1"}
        pages: list[tuple[str, str, Callable[[], str], dict[str, str] | None]] = [
            ("home", "GET", lambda: "/console/", None),
            ("notices", "GET", lambda: "/console/notices", None),
            ("notices?state=done&area", "GET",
             lambda: f"/console/notices?state=done&area={area}", None),
            ("notices?q", "GET", lambda: "/console/notices?q=ti%C3%AAm", None),
            ("notices?page=20", "GET", lambda: "/console/notices?page=20", None),
            ("notice", "GET", lambda: f"/console/notices/{rnd.randint(1, args.notices)}", None),
            ("notice/progress", "GET",
             lambda: f"/console/notices/{args.notices - rnd.randint(0, 15)}/progress", None),
            ("notices/new", "GET", lambda: "/console/notices/new", None),
            ("notices/preview", "POST", lambda: "/console/notices/preview", form),
            ("delivery", "GET", lambda: "/console/delivery", None),
            ("account", "GET", lambda: "/console/account", None),
            ("team", "GET", lambda: "/console/team", None),
            ("audit", "GET", lambda: "/console/audit", None),
            ("audit?person", "GET", lambda: "/console/audit?person=user3", None),
            ("audit?area&from&to", "GET",
             lambda: f"/console/audit?area={area}&from={month_ago}&to={today_s}", None),
            ("audit?action&page=20", "GET",
             lambda: "/console/audit?action=announce.create&page=20", None),
            ("audit.csv?area&from&to", "GET",
             lambda: f"/console/audit.csv?area={area}&from={month_ago}&to={today_s}", None),
        ]
        admin_only = {"audit", "audit?person", "audit?area&from&to", "audit?action&page=20",
                      "audit.csv?area&from&to"}
        yesterday = (dt.datetime.now(dt.timezone(dt.timedelta(hours=7)))
                     - dt.timedelta(days=1)).date().isoformat()
        radio_pages: list[tuple[str, str, Callable[[], str], dict[str, str] | None]] = [
            ("radio", "GET", lambda: f"/console/radio?area={area}", None),
            ("radio?day", "GET", lambda: f"/console/radio?area={area}&day={yesterday}", None),
            ("radio/file", "GET", lambda: f"/console/radio/files/{radio_file}", None),
        ]
        print(f"\n{'page':<26} {'who':<7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}  status")
        worst = 0.0
        for who, group in (("quantri", pages + radio_pages), ("lan", pages),
                           ("tam", radio_pages)):
            http, csrf = await login(base, who)
            try:
                async with app.sessionmaker() as s:  # the member sees notices of their area
                    mine = (await s.execute(text(
                        "SELECT a.id FROM announcements a WHERE NOT EXISTS (SELECT 1 FROM "
                        "announcement_areas x WHERE x.announcement_id = a.id AND x.area <> "
                        ":a) ORDER BY a.id"), {"a": area})).scalars().all()
                for label, method, path, data in group:
                    if who != "quantri" and label in admin_only:
                        continue
                    if args.pages and not re.search(args.pages, label):
                        continue
                    key = f"{label}:{who}"
                    statuses: set[int] = set()
                    for _ in range(args.requests):
                        p = path()
                        if who == "lan" and label.startswith("notice") and p[-1].isdigit():
                            p = re.sub(r"/notices/\d+", f"/notices/{rnd.choice(mine)}", p)
                        if who == "lan" and label == "notice/progress":
                            p = f"/console/notices/{mine[-1 - rnd.randint(0, 3)]}/progress"
                        headers = {"X-Bench-Page": key, "X-CSRF-Token": csrf}
                        async with http.request(method, base + p, data=data,
                                                headers=headers) as r:
                            await r.read()
                            statuses.add(r.status)
                    t = sorted(_TIMES[key])
                    p95 = t[int(len(t) * 0.95) - 1]
                    worst = max(worst, p95)
                    print(f"{label:<26} {who:<7} {statistics.median(t):>7.1f} {p95:>7.1f} "
                          f"{t[-1]:>7.1f}  {sorted(statuses)}")
            finally:
                await http.close()
        print(f"\nworst p95: {worst:.1f} ms (bar: 200 ms) — "
              f"{'OK' if worst <= 200 else 'OVER THE BAR'}")
        await runner.cleanup()
        await app.close()
        import shutil

        shutil.rmtree(radio_root, ignore_errors=True)
    finally:
        if args.keep:
            print(f"kept: {url}")
        else:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
