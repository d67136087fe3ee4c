"""Team members and radio operators: one-time invite codes, roles, areas.

Admins come from ``admins:`` in config.yaml and may act on every area. Everyone else joins with
a code an admin created (in chat or ``trolyso team invite``), redeemed once with ``/thamgia``.
Only the SHA-256 of a code is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast import audit
from broadcast.types import ROLES, Actor, Member
from core.config import Settings
from core.db import utcnow
from core.models import Invite, TeamMember

__all__ = ["InviteError", "check_areas", "create_invite", "find_member", "list_members",
           "normalize_code", "redeem_invite", "remove_member"]

#: No 0/O, 1/I/L: codes are read aloud and typed on phones by older people.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LEN = 8


class InviteError(ValueError):
    """A bad role or area for an invite (English, for the CLI and logs)."""


def normalize_code(text: str) -> str:
    """What was typed, reduced to the code's letters: case, spaces and dashes do not matter."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def _hash(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def check_areas(settings: Settings, areas: Sequence[str]) -> list[str]:
    """The area codes, validated against config.yaml; raises InviteError naming a bad one."""
    known = [a.code for a in settings.areas]
    out: list[str] = []
    for code in areas:
        code = code.strip()
        if code not in known:
            raise InviteError(f"unknown area {code!r} (configured: {', '.join(known)})")
        if code not in out:
            out.append(code)
    if not out:
        raise InviteError("at least one area is needed")
    return out


async def create_invite(session: AsyncSession, settings: Settings, by: Actor, role: str,
                        areas: Sequence[str], now: dt.datetime | None = None) -> str:
    """A new one-time code, shown once as ``ABCD-EFGH``; valid ``invite_ttl_hours``."""
    if role not in ROLES:
        raise InviteError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    codes = check_areas(settings, areas)
    now = now or utcnow()
    code = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LEN))
    ttl = dt.timedelta(hours=settings.broadcast.invite_ttl_hours)
    session.add(Invite(code_hash=_hash(code), role=role, areas=codes, created_by=by.label,
                       created_at=now, expires_at=now + ttl))
    await audit.record(session, by, "team.invite", at=now,
                       details={"role": role, "expires_at": (now + ttl).isoformat()},
                       targets={"areas": codes})
    return f"{code[:4]}-{code[4:]}"


async def redeem_invite(session: AsyncSession, channel: str, user_id: str, code: str,
                        now: dt.datetime | None = None) -> Member | None:
    """Join with a code: None when it is unknown, used or expired. A member who joins again
    keeps their areas and gains the new ones; the role is the invite's."""
    now = now or utcnow()
    who = Actor.chat(channel, user_id)
    taken = (await session.execute(
        update(Invite)
        .where(Invite.code_hash == _hash(code), Invite.used_at.is_(None),
               Invite.expires_at > now)
        .values(used_at=now, used_by=who.label)
        .returning(Invite.role, Invite.areas, Invite.created_by)
        .execution_options(synchronize_session=False)
    )).first()
    if taken is None:
        return None
    role, areas, created_by = taken
    row = await session.get(TeamMember, (channel, user_id), with_for_update=True)
    if row is None:
        row = TeamMember(channel=channel, user_id=user_id, role=role, areas=list(areas),
                         invited_by=created_by, joined_at=now)
        session.add(row)
    else:
        row.role = role
        row.areas = sorted(set(row.areas) | set(areas))
        row.invited_by = created_by
    await audit.record(session, who, "team.join", at=now,
                       details={"role": role, "invited_by": created_by},
                       targets={"areas": list(row.areas)})
    await session.flush()
    return Member(channel, user_id, role, tuple(row.areas))  # type: ignore[arg-type]


async def find_member(session: AsyncSession, settings: Settings, channel: str,
                      user_id: str) -> Member | None:
    """The person's broadcasting rights, or None for a citizen."""
    if settings.is_admin(channel, user_id):
        return Member(channel, user_id, "admin", tuple(a.code for a in settings.areas))
    row = (await session.execute(select(TeamMember).where(
        TeamMember.channel == channel, TeamMember.user_id == user_id))).scalar_one_or_none()
    if row is None:
        return None
    return Member(channel, user_id, row.role, tuple(row.areas))  # type: ignore[arg-type]


async def list_members(session: AsyncSession) -> list[TeamMember]:
    """Invited team members and radio operators (admins are in config.yaml), oldest first."""
    return list((await session.execute(
        select(TeamMember).order_by(TeamMember.joined_at, TeamMember.channel,
                                    TeamMember.user_id))).scalars())


async def remove_member(session: AsyncSession, by: Actor, channel: str, user_id: str,
                        now: dt.datetime | None = None) -> bool:
    """Take away a member's rights (a volunteer who left). Their past notices and the audit
    log stay; notices already scheduled still go out unless cancelled. False when unknown."""
    gone = (await session.execute(
        delete(TeamMember).where(TeamMember.channel == channel, TeamMember.user_id == user_id)
        .returning(TeamMember.role, TeamMember.areas)
        .execution_options(synchronize_session=False))).first()
    if gone is None:
        return False
    await audit.record(session, by, "team.remove", at=now or utcnow(),
                       details={"member": f"{channel}:{user_id}", "role": gone[0]},
                       targets={"areas": list(gone[1])})
    return True
