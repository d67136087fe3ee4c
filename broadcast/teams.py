"""Team members and radio operators: one-time invite codes, roles, areas.

Admins of every area come from ``admins:`` in config.yaml (or are console admins). Everyone else
joins with a code an admin created (in chat, in the console or with ``trolyso team invite``),
redeemed once with ``/thamgia``: a member, a radio operator or an area's admin (who invites for
their own areas only). Only the SHA-256 of a code is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast import audit
from broadcast.types import ROLES, Actor, Member, NoticeError
from core.config import Settings
from core.db import utcnow
from core.models import AuditEntry, ConsoleUser, Invite, TeamMember, User

__all__ = ["BROADCAST_ROLES", "MAX_TTL_HOURS", "InviteError", "check_areas", "code_hash",
           "create_invite", "find_member", "last_activity", "link_chat_account", "list_invites",
           "list_members", "new_code", "normalize_code", "redeem_invite", "remove_member",
           "revoke_invite"]

#: Roles that may send notices (a console ``editor`` works on content only).
BROADCAST_ROLES = ("admin", "member", "radio")

#: No 0/O, 1/I/L: codes are read aloud and typed on phones by older people.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LEN = 8
#: The longest an invite may stay valid (a code read aloud should not live for months).
MAX_TTL_HOURS = 24 * 30


class InviteError(ValueError):
    """A bad role or area for an invite (English, for the CLI and logs)."""


def normalize_code(text: str) -> str:
    """What was typed, reduced to the code's letters: case, spaces and dashes do not matter."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def code_hash(code: str) -> str:
    """What is stored of a one-time code (invites, console links): its SHA-256."""
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


_hash = code_hash


def new_code() -> str:
    """A fresh one-time code as shown to people: ``ABCD-EFGH``."""
    code = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LEN))
    return f"{code[:4]}-{code[4:]}"


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
                        areas: Sequence[str], now: dt.datetime | None = None, *,
                        ttl_hours: int | None = None) -> str:
    """A new one-time code, shown once as ``ABCD-EFGH``; valid ``ttl_hours`` (by default
    ``invite_ttl_hours``, at most :data:`MAX_TTL_HOURS`)."""
    if role not in ROLES:
        raise InviteError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    codes = check_areas(settings, areas)
    hours = settings.broadcast.invite_ttl_hours if ttl_hours is None else ttl_hours
    if not 1 <= hours <= MAX_TTL_HOURS:
        raise InviteError(f"an invite is valid 1 to {MAX_TTL_HOURS} hours, not {hours}")
    now = now or utcnow()
    code = normalize_code(new_code())
    ttl = dt.timedelta(hours=hours)
    session.add(Invite(code_hash=_hash(code), role=role, areas=codes, created_by=by.label,
                       created_at=now, expires_at=now + ttl))
    await audit.record(session, by, "team.invite", at=now,
                       details={"role": role, "expires_at": (now + ttl).isoformat()},
                       targets={"areas": codes})
    return f"{code[:4]}-{code[4:]}"


async def redeem_invite(session: AsyncSession, channel: str, user_id: str, code: str,
                        now: dt.datetime | None = None) -> Member | None:
    """Join with a code: None when it is unknown, used or expired. Joining again with the same
    role keeps one's areas and gains the code's; a code with another role gives that role for
    the code's areas only (so no one's rights in an area come from an admin of another one).

    Raises :class:`NoticeError` ``linked_admin`` (the code stays unused) for an admin code sent
    from a chat account linked to a console account that is not an admin: the console has no
    area admins, and its admins act on every area."""
    now = now or utcnow()
    who = Actor.chat(channel, user_id)
    linked = await _linked(session, channel, user_id)
    if linked is not None and linked.role != "admin":
        pending = (await session.execute(select(Invite.role).where(
            Invite.code_hash == _hash(code), Invite.used_at.is_(None),
            Invite.expires_at > now))).scalar_one_or_none()
        if pending == "admin":
            raise NoticeError("linked_admin", f"{who.label} is linked to console account "
                              f"{linked.name!r} ({linked.role}); console accounts have no "
                              "area admins")
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
    if linked is not None:
        # The console account is this person's one membership record: it gains the areas.
        if linked.role != "admin":
            linked.areas = _joined(linked.role, list(linked.areas or []), role, areas)
            linked.role = role
        await audit.record(session, who, "team.join", at=now,
                           details={"role": linked.role, "invited_by": created_by,
                                    "console": linked.name},
                           targets={"areas": list(linked.areas)})
        await session.flush()
        return _member_of(settings_areas=None, user=linked, channel=channel, user_id=user_id)
    row = await session.get(TeamMember, (channel, user_id), with_for_update=True)
    if row is None:
        row = TeamMember(channel=channel, user_id=user_id, role=role, areas=list(areas),
                         invited_by=created_by, joined_at=now)
        session.add(row)
    else:
        row.areas = _joined(row.role, list(row.areas), role, areas)
        row.role = role
        row.invited_by = created_by
    await audit.record(session, who, "team.join", at=now,
                       details={"role": role, "invited_by": created_by},
                       targets={"areas": list(row.areas)})
    await session.flush()
    return Member(channel, user_id, role, tuple(row.areas))  # type: ignore[arg-type]


def _joined(role: str, areas: list[str], new_role: str, new_areas: Sequence[str]) -> list[str]:
    """The areas after joining again: the same role adds the code's areas; another role
    holds only the code's (a role is the same in all of one's areas)."""
    return sorted(set(areas) | set(new_areas)) if role == new_role else sorted(set(new_areas))


async def _linked(session: AsyncSession, channel: str, user_id: str) -> ConsoleUser | None:
    return (await session.execute(select(ConsoleUser).where(
        ConsoleUser.linked_channel == channel, ConsoleUser.linked_user_id == user_id)
    )).scalar_one_or_none()


def _member_of(settings_areas: Sequence[str] | None, user: ConsoleUser, channel: str,
               user_id: str) -> Member | None:
    if user.role not in BROADCAST_ROLES:
        return None
    if user.role == "admin":  # a console admin acts on every area
        areas = tuple(settings_areas) if settings_areas is not None else tuple(user.areas)
        return Member(channel, user_id, "admin", areas, everywhere=True)
    return Member(channel, user_id, user.role, tuple(user.areas))  # type: ignore[arg-type]


async def find_member(session: AsyncSession, settings: Settings, channel: str,
                      user_id: str) -> Member | None:
    """The person's broadcasting rights, or None for a citizen. A chat account linked to a
    console account has that account's rights (and no separate team seat). The web chat's
    and the terminal's sessions never have rights (:meth:`Settings.may_hold_rights`)."""
    if not settings.may_hold_rights(channel):
        return None
    if settings.is_admin(channel, user_id):
        return Member(channel, user_id, "admin", tuple(a.code for a in settings.areas),
                      everywhere=True)
    linked = await _linked(session, channel, user_id)
    if linked is not None:
        return _member_of([a.code for a in settings.areas], linked, channel, user_id)
    row = (await session.execute(select(TeamMember).where(
        TeamMember.channel == channel, TeamMember.user_id == user_id))).scalar_one_or_none()
    if row is None:
        return None
    return Member(channel, user_id, row.role, tuple(row.areas))  # type: ignore[arg-type]


async def list_members(session: AsyncSession) -> list[TeamMember]:
    """Invited team members, radio operators and area admins (admins of every area are in
    config.yaml), oldest first."""
    return list((await session.execute(
        select(TeamMember).order_by(TeamMember.joined_at, TeamMember.channel,
                                    TeamMember.user_id))).scalars())


def _touches(areas: Sequence[str], within: Sequence[str] | None) -> bool:
    return within is None or bool(set(areas) & set(within))


async def list_invites(session: AsyncSession, *, areas: Sequence[str] | None = None,
                       now: dt.datetime | None = None, days: int = 7,
                       limit: int = 200) -> list[Invite]:
    """Invites still open and those created in the last ``days`` (used, expired), newest
    first, at most ``limit``; with ``areas``, only those for at least one of them."""
    now = now or utcnow()
    rows = (await session.execute(
        select(Invite).where((Invite.created_at > now - dt.timedelta(days=days))
                             | (Invite.used_at.is_(None) & (Invite.expires_at > now)))
        .order_by(Invite.created_at.desc(), Invite.id.desc()).limit(limit))).scalars()
    return [r for r in rows if _touches(r.areas, areas)]


async def revoke_invite(session: AsyncSession, by: Actor, invite_id: int,
                        now: dt.datetime | None = None) -> bool:
    """Withdraw a code not used yet (sent to the wrong person): it can no longer be redeemed.
    False when it is unknown, used or expired already."""
    now = now or utcnow()
    gone = (await session.execute(
        delete(Invite).where(Invite.id == invite_id, Invite.used_at.is_(None),
                             Invite.expires_at > now)
        .returning(Invite.role, Invite.areas, Invite.created_by, Invite.created_at)
        .execution_options(synchronize_session=False))).first()
    if gone is None:
        return False
    await audit.record(session, by, "team.revoke", at=now,
                       details={"invite": invite_id, "role": gone[0], "created_by": gone[2],
                                "created_at": gone[3].isoformat()},
                       targets={"areas": list(gone[1])})
    return True


async def last_activity(session: AsyncSession, people: Sequence[tuple[str, str]]
                        ) -> dict[tuple[str, str], dt.datetime]:
    """When each ``(channel, user_id)`` last wrote to the assistant or did something the
    audit log holds (a notice, an invite), whichever is later."""
    if not people:
        return {}
    out: dict[tuple[str, str], dt.datetime] = {}

    def later(key: tuple[str, str], at: dt.datetime | None) -> None:
        if at is not None and (key not in out or at > out[key]):
            out[key] = at

    wanted = set(people)
    for channel, user_id, seen in (await session.execute(
            select(User.channel, User.user_id, User.last_seen)
            .where(User.user_id.in_({u for _, u in people})))).all():
        if (channel, user_id) in wanted:
            later((channel, user_id), seen)
    labels = {f"{c}:{u}": (c, u) for c, u in people}
    for label, at in (await session.execute(
            select(AuditEntry.actor, func.max(AuditEntry.at))
            .where(AuditEntry.actor.in_(list(labels))).group_by(AuditEntry.actor))).all():
        later(labels[label], at)
    return out


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


async def link_chat_account(session: AsyncSession, channel: str, user_id: str, code: str,
                            now: dt.datetime | None = None) -> ConsoleUser | None:
    """``/lienket CODE``: tie this chat account to the console account that showed the code.

    From then on the person has the console account's rights in chat; a team seat the chat
    account had is removed (audited with its role and areas), so one record holds the rights.
    None when the code is unknown, used or expired. Linking again moves the link."""
    now = now or utcnow()
    user = (await session.execute(
        select(ConsoleUser).where(ConsoleUser.link_hash == code_hash(code),
                                  ConsoleUser.link_expires_at > now)
        .with_for_update())).scalar_one_or_none()
    if user is None:
        return None
    who = Actor.chat(channel, user_id)
    await session.execute(
        update(ConsoleUser)
        .where(ConsoleUser.linked_channel == channel, ConsoleUser.linked_user_id == user_id,
               ConsoleUser.id != user.id)
        .values(linked_channel=None, linked_user_id=None)
        .execution_options(synchronize_session=False))
    user.link_hash, user.link_expires_at = None, None
    user.linked_channel, user.linked_user_id = channel, user_id
    seat = (await session.execute(
        delete(TeamMember).where(TeamMember.channel == channel, TeamMember.user_id == user_id)
        .returning(TeamMember.role, TeamMember.areas)
        .execution_options(synchronize_session=False))).first()
    await audit.record(session, who, "console.link", at=now, details={
        "console": user.name, "role": user.role,
        "replaced_seat": None if seat is None else {"role": seat[0], "areas": list(seat[1])}},
        targets={"areas": list(user.areas)})
    await session.flush()
    return user
