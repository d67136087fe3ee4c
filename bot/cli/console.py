"""``trolyso console user add|list|remove|reset`` (interfaces.md): console accounts come only
from here. ``add`` and ``reset`` print a one-time setup link, last on the line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import actor, fail, in_db, list_arg, load_settings
from console import accounts
from console.accounts import ROLES, AccountError

__all__ = ["register"]


def register(sub: Any) -> None:
    con = sub.add_parser("console", help="the operator console at /console: accounts")
    csub = con.add_subparsers(dest="console_command", required=True)
    user = csub.add_parser("user", help="console accounts")
    usub = user.add_subparsers(dest="user_command", required=True)
    add = usub.add_parser("add", help="a new account; prints its one-time setup link last")
    add.add_argument("name", help="2-32 characters: a-z, 0-9, '.', '_', '-'")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--areas", default="",
                     help="comma-separated area codes (member and radio accounts need them)")
    add.set_defaults(func=_add)
    lst = usub.add_parser("list", help="console accounts")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=_list)
    rm = usub.add_parser("remove", help="delete an account (audited); its sessions end")
    rm.add_argument("name")
    rm.set_defaults(func=_remove)
    reset = usub.add_parser("reset", help="a forgotten password: a new setup link (audited)")
    reset.add_argument("name")
    reset.set_defaults(func=_reset)


def _add(args: argparse.Namespace) -> int:
    settings = load_settings(args)

    async def work(session: AsyncSession) -> tuple[accounts.Account, str]:
        return await accounts.add_user(session, settings, actor(), args.name, args.role,
                                       list_arg(args.areas))

    try:
        account, link = in_db(settings, work)
    except AccountError as exc:
        return fail("console user add", str(exc))
    hours = settings.console.setup_link_ttl_hours
    areas = f", areas {','.join(account.areas)}" if account.areas else ""
    print(f"console account {account.name} ({account.role}{areas}); send this one-time link to "
          f"the person to set their password (valid {hours} h): {link}")
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = load_settings(args)

    async def work(session: AsyncSession) -> list[accounts.Account]:
        return await accounts.list_users(session)

    rows = in_db(settings, work)
    if args.json:
        print(json.dumps([{"name": a.name, "role": a.role, "areas": list(a.areas),
                           "linked": a.linked, "password_set": a.has_password,
                           "created_at": a.created_at.isoformat(),
                           "last_login_at": a.last_login_at.isoformat()
                           if a.last_login_at else None} for a in rows], ensure_ascii=False))
        return 0
    if not rows:
        print("no console accounts yet: trolyso console user add NAME --role admin")
    for a in rows:
        state = "password set" if a.has_password else "setup link not used yet"
        print(f"{a.name:<20} {a.role:<7} {','.join(a.areas) or '-':<24} {state}"
              + (f", linked to {a.linked}" if a.linked else ""))
    return 0


def _remove(args: argparse.Namespace) -> int:
    settings = load_settings(args)

    async def work(session: AsyncSession) -> bool:
        return await accounts.remove_user(session, actor(), args.name)

    if not in_db(settings, work):
        return fail("console user remove", f"no console account named {args.name!r}")
    print(f"removed console account {args.name}; its sessions ended")
    return 0


def _reset(args: argparse.Namespace) -> int:
    settings = load_settings(args)

    async def work(session: AsyncSession) -> str:
        return await accounts.reset_user(session, settings, actor(), args.name)

    try:
        link = in_db(settings, work)
    except AccountError as exc:
        return fail("console user reset", str(exc))
    print(f"the password of {args.name} no longer works and its sessions ended; new one-time "
          f"setup link: {link}")
    return 0
