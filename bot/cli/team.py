"""``trolyso team invite|list|remove``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import actor, fail, in_db, list_arg, load_settings
from broadcast import teams
from broadcast.teams import InviteError
from broadcast.types import ROLES

__all__ = ["register"]


def register(sub: Any) -> None:
    team = sub.add_parser("team", help="community digital technology team")
    tsub = team.add_subparsers(dest="team_command", required=True)
    invite = tsub.add_parser("invite", help="a one-time invite code; prints the code last")
    invite.add_argument("--role", choices=ROLES, required=True)
    invite.add_argument("--areas", required=True, help="comma-separated area codes")
    invite.add_argument("--hours", type=int, default=None,
                        help="how long the code stays valid (default broadcast.invite_ttl_hours, "
                             f"at most {teams.MAX_TTL_HOURS})")
    invite.set_defaults(func=_invite)
    members = tsub.add_parser("list", help="team members and radio operators")
    members.add_argument("--json", action="store_true")
    members.set_defaults(func=_members)
    remove = tsub.add_parser("remove", help="take away a member's rights (audited)")
    remove.add_argument("member", help="CHANNEL:USER_ID, as `trolyso team list` shows it")
    remove.set_defaults(func=_remove)


def _invite(args: argparse.Namespace) -> int:
    settings = load_settings(args)

    async def work(session: AsyncSession) -> str:
        return await teams.create_invite(session, settings, actor(), args.role,
                                         list_arg(args.areas), ttl_hours=args.hours)

    try:
        code = in_db(settings, work)
    except InviteError as exc:
        return fail("team invite", str(exc))
    hours = settings.broadcast.invite_ttl_hours if args.hours is None else args.hours
    print(f"one-time invite ({args.role}, areas {args.areas}, valid {hours} h; redeem with "
          f"/thamgia CODE): {code}")
    return 0


def _members(args: argparse.Namespace) -> int:
    settings = load_settings(args)

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [{"member": f"{m.channel}:{m.user_id}", "role": m.role, "areas": list(m.areas),
                 "invited_by": m.invited_by, "joined_at": m.joined_at.isoformat()}
                for m in await teams.list_members(session)]

    rows = in_db(settings, work)
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
    settings = load_settings(args)
    channel, sep, user_id = args.member.partition(":")
    if not sep or not channel or not user_id:
        return fail("team remove", f"expected CHANNEL:USER_ID, got {args.member!r}")

    async def work(session: AsyncSession) -> bool:
        return await teams.remove_member(session, actor(), channel, user_id)

    if not in_db(settings, work):
        return fail("team remove", f"{args.member} is not a team member")
    print(f"removed {args.member}; their scheduled notices still go out unless cancelled "
          "(trolyso announce list / cancel)")
    return 0
