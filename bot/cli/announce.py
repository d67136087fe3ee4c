"""``trolyso announce create|list|cancel|status`` (interfaces.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import actor, fail, in_db, list_arg, load_settings, load_texts
from broadcast import announcements, attachments, subscriptions
from broadcast.schedule import ScheduleError, parse_at
from broadcast.types import PRIORITIES, Draft, NoticeError, NoticeSummary
from core.db import utcnow
from core.models import Announcement

__all__ = ["register", "status_json"]


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
    create.add_argument("--attach", metavar="FILE",
                        help="a photo (JPEG, PNG) or PDF sent with the notice")
    create.set_defaults(func=_create)
    lst = asub.add_parser("list", help="notices, newest first")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--limit", type=int, default=50)
    lst.set_defaults(func=_list)
    cancel = asub.add_parser("cancel", help="stop a scheduled or sending notice")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(func=_cancel)
    for name, kind, helptext in (
            ("correct", "correction", "a short correction to the people a notice reached"),
            ("withdraw", "withdrawal", "withdraw a notice: stop it and tell the people it "
                                       "reached")):
        fol = asub.add_parser(name, help=helptext + "; prints the new notice's id last")
        fol.add_argument("id", type=int)
        fol.add_argument("--text", required=True, help="the correction or the reason")
        fol.set_defaults(func=_follow_up, kind=kind)
    approve = asub.add_parser("approve", help="let a notice waiting for approval go out")
    approve.add_argument("id", type=int)
    approve.set_defaults(func=_approve)
    status = asub.add_parser("status", help="state and delivery counts of a notice")
    status.add_argument("id", type=int)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=_status)


def status_json(n: NoticeSummary) -> dict[str, Any]:
    """The status object of interfaces.md: exactly these keys."""
    return {"id": n.id, "state": n.state, "recipients": n.recipients, "sent": n.sent,
            "failed": n.failed, "blocked": n.blocked, "pending": n.pending}


def _list_json(n: NoticeSummary) -> dict[str, Any]:
    return {**status_json(n), "title": n.title, "priority": n.priority, "repeat": n.repeat,
            "next_at": n.at.isoformat() if n.at else None, "areas": list(n.areas),
            "topics": list(n.topics), "radio": n.radio, "author": n.author, "runs": n.runs}


def _no_recipients(command: str, texts: dict[str, str]) -> None:
    print(f"trolyso: {command}: warning: {texts['nb.no_recipients']}", file=sys.stderr)


def _create(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    tz = ZoneInfo(settings.timezone)
    try:
        at = parse_at(args.at, utcnow(), tz)
    except ScheduleError as exc:
        return fail("announce create", str(exc))
    if args.repeat and at is None:
        return fail("announce create", "--repeat needs --at HH:MM or a date and time")
    draft = Draft(text=args.text, title=args.title,
                  areas=list_arg(args.areas) or [a.code for a in settings.areas],
                  topics=list_arg(args.topics) or [t.id for t in settings.topics],
                  priority=args.priority, at=at, repeat=args.repeat or "none", radio=args.radio)
    texts = load_texts(settings)
    file = None
    if args.attach:
        try:
            data = Path(args.attach).read_bytes()
            file = attachments.check(settings, Path(args.attach).name, data)
        except OSError as exc:
            return fail("announce create", f"--attach {args.attach}: {exc.strerror}")
        except NoticeError as exc:
            return fail("announce create", f"--attach {args.attach}: {exc}")

    async def work(session: AsyncSession) -> tuple[NoticeSummary, int]:
        ann = await announcements.create(session, settings, texts, actor(), draft,
                                         attachment=file)
        reach = len(await subscriptions.matching(session, draft.areas, draft.topics))
        return await announcements.summary(session, ann), reach

    try:
        made, reach = in_db(settings, work)
    except NoticeError as exc:
        return fail("announce create", str(exc))
    if reach == 0:
        _no_recipients("announce create", texts)
    if at is None:
        print(f"announcement sending now to {made.recipients} recipients: {made.id}")
    else:
        when = at.astimezone(tz).isoformat(timespec="minutes")
        every = f", then {args.repeat}" if args.repeat else ""
        print(f"announcement scheduled for {when}{every}: {made.id}")
    return 0


def _follow_up(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    texts = load_texts(settings)

    async def work(session: AsyncSession) -> int:
        ann = await announcements.follow_up(session, settings, texts, actor(), args.id,
                                            args.kind, args.text)
        return ann.id

    try:
        made = in_db(settings, work)
    except NoticeError as exc:
        return fail(f"announce {args.kind}", str(exc))
    print(f"{args.kind} of announcement {args.id} sending now: {made}")
    return 0


def _approve(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    texts = load_texts(settings)

    async def work(session: AsyncSession) -> bool:
        return await announcements.approve(session, settings, texts, actor(), args.id,
                                           approver=None) is not None

    try:
        found = in_db(settings, work)
    except NoticeError as exc:
        return fail("announce approve", str(exc))
    if not found:
        return fail("announce approve", f"no announcement {args.id}")
    print(f"announcement {args.id} approved")
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = load_settings(args)

    async def work(session: AsyncSession) -> list[NoticeSummary]:
        return await announcements.summaries(session, limit=args.limit)

    items = in_db(settings, work)
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
    settings = load_settings(args)

    async def work(session: AsyncSession) -> Announcement | None:
        return await announcements.cancel(session, actor(), args.id)

    try:
        ann = in_db(settings, work)
    except NoticeError as exc:
        return fail("announce cancel", str(exc))
    if ann is None:
        return fail("announce cancel", f"no announcement {args.id}")
    print(f"cancelled announcement {args.id}")
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = load_settings(args)

    async def work(session: AsyncSession) -> tuple[NoticeSummary | None, int]:
        ann = (await session.execute(select(Announcement).where(
            Announcement.id == args.id))).scalar_one_or_none()
        if ann is None:
            return None, 0
        n = await announcements.summary(session, ann)
        # Sent: whom it reached; not sent yet: whom it would reach now.
        reach = n.recipients if n.runs else len(
            await subscriptions.matching(session, list(n.areas), list(n.topics)))
        return n, reach

    n, reach = in_db(settings, work)
    if n is None:
        return fail("announce status", f"no announcement {args.id}")
    if reach == 0 and n.state != "cancelled":
        _no_recipients("announce status", load_texts(settings))
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
