"""The OA's access and refresh tokens, kept in the ``oauth_tokens`` table.

The access token lasts about 25 h, the refresh token is single-use. A refresh stores the new
pair with a version check, one refresher at a time across processes, before the new access
token is used (:class:`OaTokens`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.config import ZaloOaCfg
from core.db import READ_ONLY, utcnow, write_lock
from core.models import OAuthToken
from core.storage import insert_for

__all__ = ["PROVIDER", "OaTokens", "Token", "TokenError"]

log = logging.getLogger(__name__)

PROVIDER = "zalo_oa"
#: A refresh may take this long. Give up sooner and a refresh token Zalo already consumed could
#: be lost with its reply; on SQLite other writers wait this long at most.
REFRESH_TIMEOUT_S = 20.0
#: Refresh a little before the known expiry rather than after a refused call.
REFRESH_EARLY = dt.timedelta(minutes=5)


class TokenError(Exception):
    """No usable OA token: none stored, or the refresh was refused."""


@dataclass(frozen=True)
class Token:
    access: str
    version: int
    expires_at: dt.datetime | None


class OaTokens:
    """The OA's access and refresh tokens, kept in ``oauth_tokens`` (provider ``zalo_oa``).

    The refresh token is single-use: each refresh returns a new pair and the old refresh token
    stops working. So refreshers take turns across processes, call Zalo, and write the new pair
    with a version check before anyone uses it; a second process that wanted to refresh at the
    same time waits, then finds a newer version and uses that token instead of spending the
    refresh token again.

    Taking turns: PostgreSQL locks the row (``SELECT ... FOR UPDATE``), which stops no other
    writer. SQLite has one writer for the whole database, so holding a transaction open while
    Zalo answers (up to ``REFRESH_TIMEOUT_S``) would hold up every write, the storing of
    webhook events before their acknowledgement included (Zalo expects it within about 2 s).
    There the processes take turns on a lock file beside the database instead
    (``<database>.zalo-oa-refresh.lock``, released by the system if a process dies), and the
    database is written only for the short version-checked update.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cfg: ZaloOaCfg) -> None:
        self.sessionmaker = sessionmaker
        self.engine = sessionmaker.kw["bind"]
        self.cfg = cfg
        self._cached: Token | None = None
        self._lock = asyncio.Lock()  # one refresh at a time inside this process
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        self._lock_file = (Path(f"{database}.zalo-oa-refresh.lock")
                           if database and database != ":memory:" else None)

    async def seed(self) -> None:
        """Store the first tokens from the environment, only when the table has none."""
        if self.cfg.access_token and self.cfg.refresh_token:
            async with write_lock(self.engine), self.sessionmaker() as session, \
                    session.begin():
                stmt = insert_for(session, OAuthToken).values(
                    provider=PROVIDER, access_token=self.cfg.access_token,
                    refresh_token=self.cfg.refresh_token, expires_at=None, version=1,
                    updated_at=utcnow())
                await session.execute(stmt.on_conflict_do_nothing(
                    index_elements=[OAuthToken.provider]))
        self._cached = await self._read()

    async def _read(self) -> Token:
        async with self.sessionmaker() as session:
            await session.connection(execution_options={READ_ONLY: True})
            row = await session.get(OAuthToken, PROVIDER)
            if row is None:
                raise TokenError("no Zalo OA tokens stored: set ZALO_OA_ACCESS_TOKEN and "
                                 "ZALO_OA_REFRESH_TOKEN for the first start")
            return Token(row.access_token, row.version, row.expires_at)

    async def current(self, http: aiohttp.ClientSession) -> Token:
        token = self._cached or await self._read()
        if token.expires_at is not None and utcnow() >= token.expires_at - REFRESH_EARLY:
            token = await self.refresh(http, token.version)
        self._cached = token
        return token

    async def refresh(self, http: aiohttp.ClientSession, seen_version: int) -> Token:
        """A token newer than ``seen_version``: another process's, or a fresh one from Zalo."""
        async with self._lock:
            if self._lock_file is None:
                token = await self._refresh_in_row_lock(http, seen_version)
            else:
                token = await self._refresh_in_file_lock(http, seen_version, self._lock_file)
        # Committed: only now is the new access token handed out.
        self._cached = token
        return token

    async def _refresh_in_row_lock(self, http: aiohttp.ClientSession,
                                   seen_version: int) -> Token:
        async with write_lock(self.engine), self.sessionmaker() as session, session.begin():
            row = (await session.execute(
                select(OAuthToken).where(OAuthToken.provider == PROVIDER).with_for_update()
            )).scalar_one_or_none()
            if row is None:
                raise TokenError("no Zalo OA tokens stored")
            if row.version != seen_version:  # someone refreshed while we waited
                return Token(row.access_token, row.version, row.expires_at)
            access, refresh, expires_at = await self._exchange(http, row.refresh_token)
            await self._store(session, row.version, access, refresh, expires_at)
        return self._refreshed(access, row.version + 1, expires_at)

    async def _refresh_in_file_lock(self, http: aiohttp.ClientSession, seen_version: int,
                                    lock_file: Path) -> Token:
        async with _file_lock(lock_file, wait_s=2 * REFRESH_TIMEOUT_S):
            async with self.sessionmaker() as session:
                await session.connection(execution_options={READ_ONLY: True})
                row = await session.get(OAuthToken, PROVIDER, populate_existing=True)
                if row is None:
                    raise TokenError("no Zalo OA tokens stored")
                version, refresh_token = row.version, row.refresh_token
                if version != seen_version:  # someone refreshed while we waited
                    return Token(row.access_token, version, row.expires_at)
            # No transaction is open while Zalo answers: the other writers go on.
            access, refresh, expires_at = await self._exchange(http, refresh_token)
            async with write_lock(self.engine), self.sessionmaker() as session, \
                    session.begin():
                await self._store(session, version, access, refresh, expires_at)
        return self._refreshed(access, version + 1, expires_at)

    @staticmethod
    async def _store(session: AsyncSession, version: int, access: str, refresh: str,
                     expires_at: dt.datetime | None) -> None:
        done = await session.execute(
            update(OAuthToken)
            .where(OAuthToken.provider == PROVIDER, OAuthToken.version == version)
            .values(access_token=access, refresh_token=refresh, expires_at=expires_at,
                    version=version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False))
        if int(getattr(done, "rowcount", 0) or 0) != 1:
            # Nobody refreshes outside the turns; someone edited the row by hand meanwhile.
            raise TokenError("the token row changed during a refresh; the new pair from Zalo "
                             "was not stored (see docs/zalo.md 'New tokens')")

    @staticmethod
    def _refreshed(access: str, version: int, expires_at: dt.datetime | None) -> Token:
        log.info("Zalo OA access token refreshed (version %d)", version)
        return Token(access, version, expires_at)

    async def _exchange(self, http: aiohttp.ClientSession,
                        refresh_token: str) -> tuple[str, str, dt.datetime | None]:
        url = f"{self.cfg.oauth_base_url}/v4/oa/access_token"
        form = {"app_id": self.cfg.app_id or "", "grant_type": "refresh_token",
                "refresh_token": refresh_token}
        try:
            async with http.post(url, data=form, headers={"secret_key": self.cfg.app_secret or ""},
                                 timeout=aiohttp.ClientTimeout(total=REFRESH_TIMEOUT_S)) as resp:
                status, raw = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TokenError(f"token refresh failed: {type(exc).__name__}") from None
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise TokenError(f"token refresh failed: HTTP {status}, not JSON")
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            # Error fields are not documented [U]: show what there is, never the tokens.
            detail = {k: data[k] for k in ("error", "error_name", "error_description", "message")
                      if k in data}
            raise TokenError(f"Zalo refused the token refresh (HTTP {status}): {detail}. If the "
                             "refresh token is dead, see docs/zalo.md 'New tokens'")
        # expires_in is in seconds; some answers give it as a string [U].
        raw_exp = data.get("expires_in")
        expires_in = int(str(raw_exp)) if str(raw_exp).isdigit() else None
        expires_at = utcnow() + dt.timedelta(seconds=expires_in) if expires_in else None
        return access, refresh, expires_at


@contextlib.asynccontextmanager
async def _file_lock(path: Path, *, wait_s: float) -> AsyncIterator[None]:
    """An exclusive lock on ``path`` shared by the processes of one host (flock), taken
    without blocking the event loop; a process that dies releases it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TokenError("another process has been refreshing the Zalo OA token "
                                     f"for {wait_s:.0f} s") from None
                await asyncio.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock
