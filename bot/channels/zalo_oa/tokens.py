"""The OA's access and refresh tokens, kept in the ``oauth_tokens`` table.

The access token lasts about 25 h, the refresh token is single-use. A refresh stores the new
pair, in one transaction with a version check and a row lock, before the new access token is
used (:class:`OaTokens`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.config import ZaloOaCfg
from core.db import utcnow, write_lock
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
    stops working. So a refresh locks the row (``SELECT ... FOR UPDATE`` on PostgreSQL; on
    SQLite the transaction begins IMMEDIATE and holds the database write lock, and this
    process's other writers queue on :func:`core.db.write_lock`), calls Zalo, and writes the new
    pair with a version check before anyone uses it. A second process that wanted to refresh at
    the same time waits, then finds a newer version and uses that token instead of spending the
    refresh token again.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cfg: ZaloOaCfg) -> None:
        self.sessionmaker = sessionmaker
        self.engine = sessionmaker.kw["bind"]
        self.cfg = cfg
        self._cached: Token | None = None
        self._lock = asyncio.Lock()  # one refresh at a time inside this process

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
        async with self._lock, write_lock(self.engine), self.sessionmaker() as session, \
                session.begin():
            row = (await session.execute(
                select(OAuthToken).where(OAuthToken.provider == PROVIDER).with_for_update()
            )).scalar_one_or_none()
            if row is None:
                raise TokenError("no Zalo OA tokens stored")
            if row.version != seen_version:  # someone refreshed while we waited
                self._cached = Token(row.access_token, row.version, row.expires_at)
                return self._cached
            access, refresh, expires_in = await self._exchange(http, row.refresh_token)
            expires_at = utcnow() + dt.timedelta(seconds=expires_in) if expires_in else None
            done = await session.execute(
                update(OAuthToken)
                .where(OAuthToken.provider == PROVIDER, OAuthToken.version == row.version)
                .values(access_token=access, refresh_token=refresh, expires_at=expires_at,
                        version=row.version + 1, updated_at=utcnow())
                .execution_options(synchronize_session=False))
            if int(getattr(done, "rowcount", 0) or 0) != 1:  # impossible while the row is locked
                raise TokenError("the token row changed during a refresh")
            token = Token(access, row.version + 1, expires_at)
        # Committed: only now is the new access token handed out.
        self._cached = token
        log.info("Zalo OA access token refreshed (version %d)", token.version)
        return token

    async def _exchange(self, http: aiohttp.ClientSession,
                        refresh_token: str) -> tuple[str, str, int | None]:
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
        return access, refresh, expires_in
