"""Login, password setup (the one-time link from ``console user add``), logout, logout
everywhere, and the console's own static files."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from aiohttp import web

from console import accounts, sessions
from console.routing import ANY, PUBLIC, Route, client_address, ctx
from core.db import utcnow

__all__ = ["NAV", "routes"]

STATIC = Path(__file__).resolve().parent.parent / "static"
NAV: list = []


def _cookie(response: web.StreamResponse, c_secure: bool, name: str, token: str,
            max_age: int) -> None:
    response.set_cookie(name, token, httponly=True, samesite="Strict", secure=c_secure,
                        path="/", max_age=max_age)


def _safe_next(value: str | None) -> str:
    """Only a console path of this site (no open redirect)."""
    if value and value.startswith("/console/") and not value.startswith("//") \
            and "\\" not in value:
        return value
    return "/console/"


async def login_page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    return c.render("login.html", next=_safe_next(request.query.get("next")), error=None,
                    name="")


async def login_post(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    form = await request.post()
    name = str(form.get("name", ""))[:64]
    password = str(form.get("password", ""))[:300]
    nxt = _safe_next(str(form.get("next", "")))
    async with c.tx() as s:
        got = await sessions.login(s, c.settings, name, password,
                                   address=client_address(request, c.settings),
                                   agent=request.headers.get("User-Agent", ""))
    if isinstance(got, sessions.LoginRefused):
        if got.reason == "locked":
            minutes = c.settings.console.login_lockout_min
            error = (f"Đăng nhập sai quá nhiều lần. Tài khoản hoặc máy này tạm bị khóa "
                     f"{minutes} phút. Bạn đợi rồi thử lại, hoặc nhờ quản trị viên.")
        else:
            error = "Tên tài khoản hoặc mật khẩu không đúng."
        return c.render("login.html", status=401, next=nxt, error=error, name=name)
    token, _ = got
    response = web.HTTPSeeOther(nxt)
    _cookie(response, c.deps.secure, c.deps.cookie, token,
            c.settings.console.session_max_hours * 3600)
    raise response


async def setup_page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    async with c.tx() as s:
        user = await accounts.user_for_setup(s, request.match_info["token"])
    if user is None:
        return c.render("setup.html", status=404, user=None, error=None)
    return c.render("setup.html", user=accounts.Account.of(user), error=None)


async def setup_post(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    form = await request.post()
    password = str(form.get("password", ""))
    again = str(form.get("password2", ""))
    token = request.match_info["token"]
    async with c.tx() as s:
        user = await accounts.user_for_setup(s, token)
        if user is None:
            return c.render("setup.html", status=404, user=None, error=None)
        account = accounts.Account.of(user)
        if password != again:
            return c.render("setup.html", status=400, user=account,
                            error="Hai lần nhập mật khẩu không giống nhau.")
        try:
            await accounts.set_password(s, c.settings, token, password)
        except accounts.AccountError as exc:
            return c.render("setup.html", status=400, user=account, error=str(exc))
    raise c.back("/login", ok="password")


async def logout(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    assert c.signed is not None
    async with c.tx() as s:
        await sessions.logout(s, c.signed)
    response = c.back("/login", ok="loggedout")
    response.del_cookie(c.deps.cookie, path="/")
    raise response


async def logout_everywhere(request: web.Request) -> web.StreamResponse:
    """End every session of this account, this one included."""
    c = ctx(request)
    async with c.tx() as s:
        await sessions.logout_everywhere(s, c.who, utcnow())
    response = c.back("/login", ok="everywhere")
    response.del_cookie(c.deps.cookie, path="/")
    raise response


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise web.HTTPNotFound()
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return web.Response(body=path.read_bytes(), content_type=ctype,
                        headers={"Cache-Control": "max-age=3600"})


def routes() -> list[Route]:
    return [
        Route("GET", "/login", login_page, "login", PUBLIC),
        Route("POST", "/login", login_post, "login.post", PUBLIC),
        Route("GET", "/setup/{token}", setup_page, "setup", PUBLIC),
        Route("POST", "/setup/{token}", setup_post, "setup.post", PUBLIC),
        Route("GET", "/static/{name}", static, "static", PUBLIC),
        Route("POST", "/logout", logout, "logout", ANY),
        Route("POST", "/logout-everywhere", logout_everywhere, "logout.everywhere", ANY),
    ]
