"""Team: chat invite codes (``/thamgia``: role, areas, expiry), the list of codes with revoke,
and the members with their role, areas, channel and last activity, with remove.

Everything goes through ``broadcast.teams``, the service the chat and ``trolyso team`` use.
Admins act; members and radio operators see their own areas' codes and members, read-only.
A code for the ``admin`` role makes an area's admin in chat: a member of those areas who may
also invite people to them (console admins act on every area, so only they make such codes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from broadcast import teams
from broadcast.teams import InviteError
from broadcast.types import ROLES
from console.routing import BROADCASTERS, NavItem, Route, ctx
from core.db import utcnow
from core.models import Invite

__all__ = ["NAV", "TTL_CHOICES", "routes"]

NAV = [NavItem("Tổ công nghệ số", "/console/team", BROADCASTERS, 70)]

ADMINS = frozenset({"admin"})
#: How long a new code stays valid, in hours (the form's choices; config's default added).
TTL_CHOICES = (24, 72, 168)
CHANNELS = {"telegram": "Telegram", "zalo_bot": "Zalo (bot)", "zalo_oa": "Zalo (OA)",
            "web": "Trang web", "terminal": "Dòng lệnh"}
ERRORS = {
    "role": "Bạn chọn vai trò: thành viên tổ công nghệ số, phát thanh viên hoặc quản trị viên "
            "khu vực.",
    "areas": "Bạn chọn ít nhất một khu vực.",
    "ttl": "Thời hạn của mã không hợp lệ.",
}


@dataclass(frozen=True)
class InviteRow:
    id: int
    role: str
    areas: list[str]
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_by: str | None
    used_at: dt.datetime | None
    status: str  # open | used | expired

    @classmethod
    def of(cls, i: Invite, now: dt.datetime) -> InviteRow:
        status = "used" if i.used_at else ("open" if i.expires_at > now else "expired")
        return cls(i.id, i.role, list(i.areas), i.created_by, i.created_at, i.expires_at,
                   i.used_by, i.used_at, status)


@dataclass(frozen=True)
class MemberRow:
    channel: str
    user_id: str
    role: str
    areas: list[str]
    invited_by: str
    joined_at: dt.datetime
    last_active: dt.datetime | None

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.user_id}"


def _ttl_choices(default: int) -> list[int]:
    return sorted({*TTL_CHOICES, default})


async def page(request: web.Request, *, code: str | None = None, made: dict[str, object]
               | None = None, error: str | None = None, picked: dict[str, Any] | None = None,
               status: int = 200) -> web.StreamResponse:
    c = ctx(request)
    allowed = c.who.allowed_areas()
    now = utcnow()
    async with c.tx() as s:
        invites = [InviteRow.of(i, now)
                   for i in await teams.list_invites(s, areas=allowed, now=now)]
        members = [m for m in await teams.list_members(s)
                   if allowed is None or set(m.areas) & set(allowed)]
        active = await teams.last_activity(s, [(m.channel, m.user_id) for m in members])
    rows = [MemberRow(m.channel, m.user_id, m.role, list(m.areas), m.invited_by, m.joined_at,
                      active.get((m.channel, m.user_id))) for m in members]
    default_ttl = c.settings.broadcast.invite_ttl_hours
    picked = picked or {"role": "", "areas": [], "ttl": str(default_ttl)}
    return c.render("team.html", status=status, invites=invites, members=rows, code=code,
                    made=made, error=error, picked=picked, roles=ROLES,
                    areas=[(a.code, a.name) for a in c.settings.areas],
                    ttls=_ttl_choices(default_ttl), channels=CHANNELS,
                    can_act=c.who.is_admin)


async def team_page(request: web.Request) -> web.StreamResponse:
    return await page(request)


async def invite(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    form = await request.post()
    role = str(form.get("role", ""))
    areas = [str(a) for a in form.getall("areas", [])]
    known = {a.code for a in c.settings.areas}
    given = str(form.get("ttl", ""))
    picked = {"role": role, "areas": areas, "ttl": given}
    try:
        ttl = int(given)
    except ValueError:
        ttl = 0
    problem = ("role" if role not in ROLES else "areas" if not areas or not set(areas) <= known
               else "ttl" if not 1 <= ttl <= teams.MAX_TTL_HOURS else None)
    if problem is not None:
        return await page(request, error=ERRORS[problem], picked=picked, status=400)
    try:
        async with c.tx() as s:
            code = await teams.create_invite(s, c.settings, c.who.actor, role, areas,
                                             ttl_hours=ttl)
    except InviteError:  # checked above; a config changed underneath
        return await page(request, error=ERRORS["areas"], picked=picked, status=400)
    made = {"role": role, "areas": areas, "hours": ttl}
    return await page(request, code=code, made=made)


async def revoke(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    try:
        invite_id = int(request.match_info["iid"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with c.tx() as s:
        done = await teams.revoke_invite(s, c.who.actor, invite_id)
    raise c.back("/team", ok="revoked" if done else "not_revoked")


async def remove(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    form = await request.post()
    channel, sep, user_id = str(form.get("member", "")).partition(":")
    if not sep or not channel or not user_id:
        raise c.back("/team", ok="not_member")
    async with c.tx() as s:
        done = await teams.remove_member(s, c.who.actor, channel, user_id)
    raise c.back("/team", ok="removed" if done else "not_member")


def routes() -> list[Route]:
    return [
        Route("GET", "/team", team_page, "team", BROADCASTERS),
        Route("POST", "/team/invites", invite, "team.invite", ADMINS),
        Route("POST", "/team/invites/{iid}/revoke", revoke, "team.revoke", ADMINS),
        Route("POST", "/team/members/remove", remove, "team.remove", ADMINS),
    ]

