"""The person's own account: linking a chat account (a one-time code sent to the bot as
``/lienket CODE``) and logging out everywhere."""

from __future__ import annotations

from aiohttp import web

from console import accounts
from console.routing import ANY, NavItem, Route, ctx
from core.models import ConsoleUser

__all__ = ["NAV", "routes"]

NAV = [NavItem("Tài khoản", "/console/account", ANY, 90)]


async def page(request: web.Request, code: str | None = None, expires: object = None
               ) -> web.StreamResponse:
    c = ctx(request)
    async with c.tx() as s:
        user = await s.get(ConsoleUser, c.who.id)
        assert user is not None  # the guard found the session and its account
        account = accounts.Account.of(user)
    return c.render("account.html", account=account, code=code, expires=expires)


async def account_page(request: web.Request) -> web.StreamResponse:
    return await page(request)


async def link_code(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    async with c.tx() as s:
        code, expires = await accounts.new_link_code(s, c.settings, c.who.id, c.who.actor)
    return await page(request, code, expires)


def routes() -> list[Route]:
    return [
        Route("GET", "/account", account_page, "account", ANY),
        Route("POST", "/account/link-code", link_code, "account.link_code", ANY),
    ]
