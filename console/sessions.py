"""Server-side sessions, CSRF tokens and login throttling.

The browser holds only a random token in an HttpOnly, SameSite=Strict cookie (``Secure`` when
``web.public_url`` is https); the database holds its SHA-256, the account, a CSRF token, and when
it was last used. A session ends after ``console.idle_timeout_min`` unused or
``console.session_max_hours`` in any case, at logout, at "log out everywhere", when the password
is set again, and when the account is removed.

Login throttling: ``console.login_max_failures`` failures in a row for one account name, or from
one address, lock that name or address for ``console.login_lockout_min`` (whichever is hit
first). A success clears both counters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast import audit
from broadcast.types import Actor
from console.accounts import find_user, verify_password
from core.config import Settings
from core.db import utcnow
from core.models import ConsoleSession, ConsoleUser, LoginThrottle

__all__ = [
    "LoginRefused",
    "Principal",
    "Signed",
    "csrf_ok",
    "login",
    "logout",
    "logout_everywhere",
    "resolve",
    "token_hash",
]

#: Writing ``last_seen_at`` on every request would make every page view a write.
_TOUCH_EVERY = dt.timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


@dataclass(frozen=True)
class Principal:
    """The signed-in person as every page sees them."""

    id: int
    name: str
    role: str
    areas: tuple[str, ...]
    linked: str | None = None

    @property
    def actor(self) -> Actor:
        """How the audit log names them; a linked chat account also gets delivery reports."""
        if self.linked:
            channel, _, user_id = self.linked.partition(":")
            return Actor(f"console:{self.name}", channel, user_id)
        return Actor(f"console:{self.name}")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def allowed_areas(self) -> list[str] | None:
        """Areas this person may act on; None for an admin (every area)."""
        return None if self.is_admin else list(self.areas)

    def covers(self, areas: Sequence[str]) -> bool:
        """Whether every one of ``areas`` is this person's."""
        return self.is_admin or set(areas) <= set(self.areas)

    @classmethod
    def of(cls, u: ConsoleUser) -> Principal:
        linked = f"{u.linked_channel}:{u.linked_user_id}" if u.linked_channel else None
        return cls(u.id, u.name, u.role, tuple(u.areas or ()), linked)


@dataclass(frozen=True)
class Signed:
    """A valid session."""

    token_hash: str
    csrf: str
    principal: Principal


@dataclass(frozen=True)
class LoginRefused:
    reason: str  # "bad" (wrong name or password) | "locked"
    until: dt.datetime | None = None


def _keys(name: str, address: str) -> list[str]:
    return [f"account:{name.strip().lower()[:100]}", f"address:{address[:80]}"]


async def _locked_until(session: AsyncSession, keys: list[str],
                        now: dt.datetime) -> dt.datetime | None:
    rows = [t for t in (await session.execute(select(LoginThrottle.locked_until).where(
        LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now))).scalars() if t]
    return max(rows) if rows else None


async def _fail(session: AsyncSession, settings: Settings, keys: list[str],
                now: dt.datetime) -> dt.datetime | None:
    cfg = settings.console
    locked: dt.datetime | None = None
    for key in keys:
        row = await session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_at=now)
            session.add(row)
        # Failures "in a row": a quiet spell as long as the lockout starts the count again.
        if now - row.last_failure_at > dt.timedelta(minutes=cfg.login_lockout_min):
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= cfg.login_max_failures:
            row.failures = 0
            row.locked_until = now + dt.timedelta(minutes=cfg.login_lockout_min)
            locked = row.locked_until
    return locked


async def login(session: AsyncSession, settings: Settings, name: str, password: str, *,
                address: str, agent: str = "", now: dt.datetime | None = None
                ) -> tuple[str, Signed] | LoginRefused:
    """Check a name and password; on success a new session (its cookie token and state)."""
    now = now or utcnow()
    keys = _keys(name, address)
    until = await _locked_until(session, keys, now)
    if until is not None:
        return LoginRefused("locked", until)
    user = await find_user(session, name) if name.strip() else None
    if not verify_password(user.password_hash if user else None, password) or user is None:
        locked = await _fail(session, settings, keys, now)
        if user is not None:
            await audit.record(session, Actor(f"console:{user.name}"), "console.login_failed",
                               at=now, details={"address": address,
                                                "locked_until": locked.isoformat()
                                                if locked else None})
        return LoginRefused("locked", locked) if locked else LoginRefused("bad")
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(ConsoleSession(token_hash=token_hash(token), account_id=user.id, csrf=csrf,
                               created_at=now, last_seen_at=now, address=address[:64],
                               agent=agent[:200]))
    user.last_login_at = now
    await audit.record(session, Actor(f"console:{user.name}"), "console.login", at=now,
                       details={"address": address})
    return token, Signed(token_hash(token), csrf, Principal.of(user))


async def resolve(session: AsyncSession, settings: Settings, token: str | None,
                  now: dt.datetime | None = None) -> Signed | None:
    """The session behind a cookie token, or None (unknown, idle too long, too old)."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    digest = token_hash(token)
    row = (await session.execute(
        select(ConsoleSession, ConsoleUser)
        .join(ConsoleUser, ConsoleUser.id == ConsoleSession.account_id)
        .where(ConsoleSession.token_hash == digest))).first()
    if row is None:
        return None
    sess, user = row
    cfg = settings.console
    if (now - sess.last_seen_at > dt.timedelta(minutes=cfg.idle_timeout_min)
            or now - sess.created_at > dt.timedelta(hours=cfg.session_max_hours)
            or user.password_hash is None):
        await session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == digest))
        return None
    if now - sess.last_seen_at > _TOUCH_EVERY:
        sess.last_seen_at = now
    return Signed(digest, sess.csrf, Principal.of(user))


async def logout(session: AsyncSession, signed: Signed, now: dt.datetime | None = None) -> None:
    await session.execute(delete(ConsoleSession).where(
        ConsoleSession.token_hash == signed.token_hash))
    await audit.record(session, signed.principal.actor, "console.logout", at=now or utcnow())


async def logout_everywhere(session: AsyncSession, who: Principal,
                            now: dt.datetime | None = None) -> int:
    """End every session of this account (a lost phone, a shared computer)."""
    result = await session.execute(delete(ConsoleSession).where(
        ConsoleSession.account_id == who.id))
    n = int(getattr(result, "rowcount", 0) or 0)
    await audit.record(session, who.actor, "console.logout_everywhere", at=now or utcnow(),
                       details={"sessions": n})
    return n
