"""Console accounts: created only from the command line, each with a one-time setup link where
the person chooses their password; argon2id hashes; removal; the code that links an account
to a chat account.

Roles: ``admin`` (everything, every area), ``member`` and ``radio`` (bound to areas, as in
chat), ``editor`` (content; no notices). Every change is audited as ``cli:<user>`` or
``console:<name>``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast import audit, teams
from broadcast.types import Actor
from core.config import Settings
from core.db import utcnow
from core.models import ConsoleSession, ConsoleUser

__all__ = [
    "AREA_ROLES",
    "ROLES",
    "Account",
    "AccountError",
    "add_user",
    "find_user",
    "hash_password",
    "list_users",
    "new_link_code",
    "password_problem",
    "remove_user",
    "reset_user",
    "set_password",
    "setup_url",
    "user_for_setup",
    "verify_password",
]

ROLES = ("admin", "member", "radio", "editor")
#: Roles bound to areas (as in chat); admins act on every area, editors on content.
AREA_ROLES = ("member", "radio")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")


class AccountError(ValueError):
    """A request about accounts that cannot be done (English, for the CLI)."""


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    areas: tuple[str, ...]
    linked: str | None  # "telegram:123" when linked to a chat account
    has_password: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    @classmethod
    def of(cls, u: ConsoleUser) -> Account:
        linked = f"{u.linked_channel}:{u.linked_user_id}" if u.linked_channel else None
        return cls(u.id, u.name, u.role, tuple(u.areas or ()), linked,
                   u.password_hash is not None, u.created_at, u.last_login_at)


# argon2id with the library's defaults (RFC 9106's second recommended option: 3 passes over
# 64 MiB, 4 lanes): memory-hard, about 0.1 s per check here.
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def verify_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not the account exists (no timing hint about names)."""
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def setup_url(settings: Settings, token: str) -> str:
    """The link printed by ``console user add``: ``web.public_url`` or the local address."""
    base = settings.web.public_url or f"http://{settings.web.host}:{settings.web.port}"
    return f"{base.rstrip('/')}/console/setup/{token}"


def _check(settings: Settings, name: str, role: str, areas: Sequence[str]) -> list[str]:
    if not _NAME.match(name):
        raise AccountError(f"name {name!r}: 2-32 characters of a-z, 0-9, '.', '_', '-', "
                           "starting with a letter or digit")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role in AREA_ROLES:
        try:
            return teams.check_areas(settings, areas)
        except teams.InviteError as exc:
            raise AccountError(f"--areas: {exc} (a {role} account is bound to areas)") from exc
    if areas:
        raise AccountError(f"a {role} account is not bound to areas: leave out --areas")
    return []


def _new_setup(settings: Settings, user: ConsoleUser, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(32)
    user.setup_hash = _digest(token)
    user.setup_expires_at = now + dt.timedelta(hours=settings.console.setup_link_ttl_hours)
    return token


async def add_user(session: AsyncSession, settings: Settings, by: Actor, name: str, role: str,
                   areas: Sequence[str] = (), now: dt.datetime | None = None
                   ) -> tuple[Account, str]:
    """A new account without a password, and its one-time setup link."""
    now = now or utcnow()
    name = name.strip().lower()
    codes = _check(settings, name, role, areas)
    if await find_user(session, name) is not None:
        raise AccountError(f"an account named {name!r} exists (remove it first, or "
                           f"`console user reset {name}` for a new setup link)")
    user = ConsoleUser(name=name, role=role, areas=codes, created_by=by.label, created_at=now)
    token = _new_setup(settings, user, now)
    session.add(user)
    await session.flush()
    await audit.record(session, by, "console.user_add", at=now,
                       details={"name": name, "role": role,
                                "setup_expires_at": user.setup_expires_at.isoformat()
                                if user.setup_expires_at else None},
                       targets={"areas": codes})
    return Account.of(user), setup_url(settings, token)


async def reset_user(session: AsyncSession, settings: Settings, by: Actor, name: str,
                     now: dt.datetime | None = None) -> str:
    """A forgotten password: the old one stops working, every session ends, and a new
    one-time setup link is returned."""
    now = now or utcnow()
    user = await find_user(session, name, lock=True)
    if user is None:
        raise AccountError(f"no console account named {name!r}")
    user.password_hash = None
    token = _new_setup(settings, user, now)
    await session.execute(delete(ConsoleSession).where(ConsoleSession.account_id == user.id))
    await audit.record(session, by, "console.user_reset", at=now, details={"name": user.name},
                       targets={"areas": list(user.areas)})
    return setup_url(settings, token)


async def find_user(session: AsyncSession, name: str, *, lock: bool = False
                    ) -> ConsoleUser | None:
    stmt = select(ConsoleUser).where(ConsoleUser.name == name.strip().lower())
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_users(session: AsyncSession) -> list[Account]:
    rows = await session.execute(select(ConsoleUser).order_by(ConsoleUser.name))
    return [Account.of(u) for u in rows.scalars()]


async def remove_user(session: AsyncSession, by: Actor, name: str,
                      now: dt.datetime | None = None) -> bool:
    """Delete an account; its sessions end at once and a linked chat account loses the rights.
    The audit log keeps what it did."""
    user = await find_user(session, name, lock=True)
    if user is None:
        return False
    await audit.record(session, by, "console.user_remove", at=now or utcnow(), details={
        "name": user.name, "role": user.role,
        "linked": f"{user.linked_channel}:{user.linked_user_id}" if user.linked_channel
        else None}, targets={"areas": list(user.areas)})
    await session.execute(delete(ConsoleSession).where(ConsoleSession.account_id == user.id))
    await session.delete(user)
    return True


async def user_for_setup(session: AsyncSession, token: str, now: dt.datetime | None = None,
                         *, lock: bool = False) -> ConsoleUser | None:
    """The account a setup link belongs to, while the link is valid."""
    now = now or utcnow()
    stmt = select(ConsoleUser).where(ConsoleUser.setup_hash == _digest(token),
                                     ConsoleUser.setup_expires_at > now)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


def password_problem(settings: Settings, name: str, password: str) -> str | None:
    """Why a new password is refused, in plain Vietnamese; None when it is fine."""
    if len(password) < settings.console.min_password_chars:
        return (f"Mật khẩu cần ít nhất {settings.console.min_password_chars} ký tự. "
                "Bạn có thể dùng một câu ngắn dễ nhớ.")
    if len(password) > 256:
        return "Mật khẩu dài quá 256 ký tự."
    if name.lower() in password.lower() or len(set(password)) < 4:
        return "Mật khẩu quá dễ đoán. Bạn đừng dùng tên tài khoản hay ký tự lặp lại."
    return None


async def set_password(session: AsyncSession, settings: Settings, token: str, password: str,
                       now: dt.datetime | None = None) -> ConsoleUser | None:
    """Use a setup link: set the password, spend the link. None when the link is not valid;
    AccountError (its message in Vietnamese) when the password is refused."""
    now = now or utcnow()
    user = await user_for_setup(session, token, now, lock=True)
    if user is None:
        return None
    problem = password_problem(settings, user.name, password)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    user.password_set_at = now
    user.setup_hash, user.setup_expires_at = None, None
    await session.execute(delete(ConsoleSession).where(ConsoleSession.account_id == user.id))
    await audit.record(session, Actor(f"console:{user.name}"), "console.password_set", at=now,
                       details={"name": user.name})
    return user


async def new_link_code(session: AsyncSession, settings: Settings, user_id: int, by: Actor,
                        now: dt.datetime | None = None) -> tuple[str, dt.datetime]:
    """A one-time code the person sends to the bot (``/lienket CODE``); valid
    ``console.link_code_ttl_min``. Only its hash is stored."""
    now = now or utcnow()
    user = await session.get(ConsoleUser, user_id, with_for_update=True)
    if user is None:
        raise AccountError("the account is gone")
    code = teams.new_code()
    user.link_hash = teams.code_hash(code)
    user.link_expires_at = now + dt.timedelta(minutes=settings.console.link_code_ttl_min)
    await audit.record(session, by, "console.link_code", at=now, details={"name": user.name,
                       "expires_at": user.link_expires_at.isoformat()})
    return code, user.link_expires_at
