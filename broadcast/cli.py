"""``trolyso announce create|list|cancel|status`` and ``trolyso team invite`` (interfaces.md).

The command line acts as the local administrator (every area); the audit log records it as
``cli:<operating-system user>``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast import announcements, teams
from broadcast.schedule import ScheduleError, parse_at
from broadcast.teams import InviteError
from broadcast.types import PRIORITIES, ROLES, Actor, Draft, NoticeError, NoticeSummary
from core.config import Settings, load_config
from core.db import make_engine, make_sessionmaker, upgrade, utcnow
from core.models import Announcement

__all__ = ["register", "status_json"]

T = TypeVar("T")


def register(sub: Any) -> None:
    ann = sub.add_parser("announce", help="notices to subscribers: create, list, cancel, status")
    asub = ann.add_subparsers(dest="announce_command", required=True)
    create = asub.add_parser("create", help="schedule a notice; prints its id last")
    create.add_argument("--text", required=True, help="the notice (first line: title)")
    create.add_argument("--title", help="a title; default: the text's first line")
    create.add_argument("--areas", default="", help="comma-separated area codes (default all)")
    create.add_argument("--topics", default="", help="comma-separated topic ids (default all)")
    create.add_argument("--at", default="now",
                        help="now (default), HH:MM (next such time) or ISO 8601; no offset "
                             "means the configured time zone")
    create.add_argument("--repeat", choices=("daily", "weekly"),
                        help="repeat at the --at time every day or week")
    create.add_argument("--radio", action="store_true", help="also read on the loudspeakers")
    create.add_argument("--priority", choices=PRIORITIES, default="normal",
                        help="Thông tư 39/2020/TT-BTTTT levels (default normal)")
    create.set_defaults(func=_create)
    lst = asub.add_parser("list", help="notices, newest first")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--limit", type=int, default=50)
    lst.set_defaults(func=_list)
    cancel = asub.add_parser("cancel", help="stop a scheduled or sending notice")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(func=_cancel)
    status = asub.add_parser("status", help="state and delivery counts of a notice")
    status.add_argument("id", type=int)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=_status)

    team = sub.add_parser("team", help="community digital technology team")
    tsub = team.add_subparsers(dest="team_command", required=True)
    invite = tsub.add_parser("invite", help="a one-time invite code; prints the code last")
    invite.add_argument("--role", choices=ROLES, required=True)
    invite.add_argument("--areas", required=True, help="comma-separated area codes")
    invite.set_defaults(func=_invite)
    members = tsub.add_parser("list", help="team members and radio operators")
    members.add_argument("--json", action="store_true")
    members.set_defaults(func=_members)
    remove = tsub.add_parser("remove", help="take away a member's rights (audited)")
    remove.add_argument("member", help="CHANNEL:USER_ID, as `trolyso team list` shows it")
    remove.set_defaults(func=_remove)


# ------------------------------------------------------------------ plumbing

def _actor() -> Actor:
    return Actor.cli(getpass.getuser())


def _list_arg(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def load_texts(settings: Settings) -> dict[str, str]:
    """The interface texts only (notices and reports are rendered from them)."""
    path = settings.path(settings.content.dir) / "texts.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): unicodedata.normalize("NFC", str(v)) for k, v in raw.items()}


def _in_db(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Migrate, then run ``work`` in one transaction."""

    async def main() -> T:
        await upgrade(settings.db_url)
        engine = make_engine(settings.db_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _fail(command: str, message: str) -> int:
    print(f"trolyso: {command}: {message}", file=sys.stderr)
    return 1


def status_json(n: NoticeSummary) -> dict[str, Any]:
    """The status object of interfaces.md: exactly these keys."""
    return {"id": n.id, "state": n.state, "recipients": n.recipients, "sent": n.sent,
            "failed": n.failed, "blocked": n.blocked, "pending": n.pending}


def _list_json(n: NoticeSummary) -> dict[str, Any]:
    return {**status_json(n), "title": n.title, "priority": n.priority, "repeat": n.repeat,
            "next_at": n.at.isoformat() if n.at else None, "areas": list(n.areas),
            "topics": list(n.topics), "radio": n.radio, "author": n.author, "runs": n.runs}


# ------------------------------------------------------------------ commands

def _create(args: argparse.Namespace) -> int:
    settings = load_config(args.config)
    tz = ZoneInfo(settings.timezone)
    try:
        at = parse_at(args.at, utcnow(), tz)
    except ScheduleError as exc:
        return _fail("announce create", str(exc))
    if args.repeat and at is None:
        return _fail("announce create", "--repeat needs --at HH:MM or a date and time")
    draft = Draft(text=args.text, title=args.title,
                  areas=_list_arg(args.areas) or [a.code for a in settings.areas],
                  topics=_list_arg(args.topics) or [t.id for t in settings.topics],
                  priority=args.priority, at=at, repeat=args.repeat or "none", radio=args.radio)
    texts = load_texts(settings)

    async def work(session: AsyncSession) -> NoticeSummary:
        ann = await announcements.create(session, settings, texts, _actor(), draft)
        return await announcements.summary(session, ann)

    try:
        made = _in_db(settings, work)
    except NoticeError as exc:
        return _fail("announce create", str(exc))
    if at is None:
        print(f"announcement sending now to {made.recipients} recipients: {made.id}")
    else:
        when = at.astimezone(tz).isoformat(timespec="minutes")
        every = f", then {args.repeat}" if args.repeat else ""
        print(f"announcement scheduled for {when}{every}: {made.id}")
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = load_config(args.config)

    async def work(session: AsyncSession) -> list[NoticeSummary]:
        return await announcements.summaries(session, limit=args.limit)

    items = _in_db(settings, work)
    if args.json:
        print(json.dumps([_list_json(n) for n in items], ensure_ascii=False, indent=2))
        return 0
    if not items:
        print("no announcements")
        return 0
    tz = ZoneInfo(settings.timezone)
    print(f"{'ID':>5}  {'STATE':<9}  {'PRIORITY':<9}  {'NEXT':<16}  "
          f"{'SENT/RCPT':>9}  {'FAIL':>4}  {'BLCK':>4}  {'PEND':>4}  TITLE")
    for n in items:
        nxt = n.at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if n.at else "-"
        if n.repeat != "none":
            nxt += "*"
        print(f"{n.id:>5}  {n.state:<9}  {n.priority:<9}  {nxt:<16}  "
              f"{f'{n.sent}/{n.recipients}':>9}  {n.failed:>4}  {n.blocked:>4}  {n.pending:>4}"
              f"  {n.title[:50]}")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    settings = load_config(args.config)

    async def work(session: AsyncSession) -> Announcement | None:
        return await announcements.cancel(session, _actor(), args.id)

    try:
        ann = _in_db(settings, work)
    except NoticeError as exc:
        return _fail("announce cancel", str(exc))
    if ann is None:
        return _fail("announce cancel", f"no announcement {args.id}")
    print(f"cancelled announcement {args.id}")
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = load_config(args.config)

    async def work(session: AsyncSession) -> NoticeSummary | None:
        ann = (await session.execute(select(Announcement).where(
            Announcement.id == args.id))).scalar_one_or_none()
        return None if ann is None else await announcements.summary(session, ann)

    n = _in_db(settings, work)
    if n is None:
        return _fail("announce status", f"no announcement {args.id}")
    if args.json:
        print(json.dumps(status_json(n)))
        return 0
    tz = ZoneInfo(settings.timezone)
    nxt = n.at.astimezone(tz).isoformat(timespec="minutes") if n.at else "-"
    print(f"announcement {n.id}: {n.title}\n"
          f"state: {n.state} (priority {n.priority}, repeat {n.repeat}, next {nxt}, "
          f"runs {n.runs})\n"
          f"recipients: {n.recipients}  sent: {n.sent}  failed: {n.failed}  "
          f"blocked: {n.blocked}  pending: {n.pending}  "
          f"cancelled: {n.extra.get('cancelled', 0)}")
    return 0


def _invite(args: argparse.Namespace) -> int:
    settings = load_config(args.config)

    async def work(session: AsyncSession) -> str:
        return await teams.create_invite(session, settings, _actor(), args.role,
                                         _list_arg(args.areas))

    try:
        code = _in_db(settings, work)
    except InviteError as exc:
        return _fail("team invite", str(exc))
    hours = settings.broadcast.invite_ttl_hours
    print(f"one-time invite ({args.role}, areas {args.areas}, valid {hours} h; redeem with "
          f"/thamgia CODE): {code}")
    return 0


def _members(args: argparse.Namespace) -> int:
    settings = load_config(args.config)

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [{"member": f"{m.channel}:{m.user_id}", "role": m.role, "areas": list(m.areas),
                 "invited_by": m.invited_by, "joined_at": m.joined_at.isoformat()}
                for m in await teams.list_members(session)]

    rows = _in_db(settings, work)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    if not rows:
        print("no team members yet (admins are listed under admins: in config.yaml)")
    for r in rows:
        print(f"{r['member']:<28} {r['role']:<7} {','.join(r['areas']):<24} "
              f"joined {r['joined_at'][:16]} (invited by {r['invited_by']})")
    return 0


def _remove(args: argparse.Namespace) -> int:
    settings = load_config(args.config)
    channel, sep, user_id = args.member.partition(":")
    if not sep or not channel or not user_id:
        return _fail("team remove", f"expected CHANNEL:USER_ID, got {args.member!r}")

    async def work(session: AsyncSession) -> bool:
        return await teams.remove_member(session, _actor(), channel, user_id)

    if not _in_db(settings, work):
        return _fail("team remove", f"{args.member} is not a team member")
    print(f"removed {args.member}; their scheduled notices still go out unless cancelled "
          "(trolyso announce list / cancel)")
    return 0
