"""Authorization in one place: the route table and the navigation registry.

Every console route is a :class:`Route`: method, path, handler, the roles that may use it and,
when it touches notices of particular areas, a *scope* that finds those areas. One middleware
(:func:`guard`) checks, before any handler runs: the session (else the login page for a page,
401 for the rest), the role (403), the CSRF token of every state-changing request (403), the
request's origin, and that the person covers every area in scope (403; 404 for something that
does not exist). Handlers never check rights themselves; a route that is not in the table is
not served (``tests/console/test_routes.py`` enumerates the router to prove it).

A page group adds itself by listing its routes and its menu entries (:class:`NavItem`) in a
module of ``console/pages/`` named in ``console.web.PAGES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute
from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from console.accounts import ROLES
from console.ports import Live
from console.sessions import Principal, Signed, csrf_ok, resolve
from core.config import Settings
from core.db import write_lock
from flows.lexicon import Lexicon

__all__ = [
    "ANY",
    "BROADCASTERS",
    "PUBLIC",
    "Ctx",
    "Deps",
    "NavItem",
    "Route",
    "Scope",
    "ctx",
    "guard",
]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: The areas a request touches (from the path or the form), or None when what it names does
#: not exist. Runs inside the guard's transaction.
Scope = Callable[[web.Request, AsyncSession], Awaitable[Sequence[str] | None]]

PUBLIC: frozenset[str] = frozenset()  # no session needed (login, password setup, static)
ANY = frozenset(ROLES)  # any signed-in account
BROADCASTERS = frozenset({"admin", "member", "radio"})  # who may send notices (as in chat)

COOKIE = "trolyso_console"
SECURE_COOKIE = "__Host-trolyso_console"  # the __Host- prefix: Secure, Path=/, no Domain
PRE_COOKIE = "trolyso_console_pre"  # CSRF token of the forms shown before login


@dataclass(frozen=True)
class Route:
    method: Literal["GET", "POST"]
    path: str  # under /console
    handler: Handler
    name: str
    roles: frozenset[str]  # PUBLIC or the roles allowed
    scope: Scope | None = None
    api: bool = False  # answers JSON: 401 rather than the login redirect
    upload: bool = False  # may carry a file (body up to broadcast.attachment_max_bytes)
    #: For an upload: its own size limit from the configuration (else the attachments').
    max_body: Callable[[Settings], int] | None = None

    @property
    def public(self) -> bool:
        return not self.roles


@dataclass(frozen=True)
class NavItem:
    label: str  # Vietnamese, short
    path: str
    roles: frozenset[str]
    order: int = 50


@dataclass
class Deps:
    """What the console needs from the assembly (``bot``)."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    texts: Mapping[str, str]
    env: Environment
    #: The content's speech lexicon (what the loudspeakers' spoken form is made with).
    lexicon: Lexicon | None = None
    #: Renders a notice as each channel shows it (a port: the channels live in ``bot``).
    previews: Sequence[Any] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    #: The running assistant (engine, content, live reloads), for the editors' pages.
    live: Live | None = None

    @property
    def secure(self) -> bool:
        return (self.settings.web.public_url or "").startswith("https://")

    @property
    def cookie(self) -> str:
        return SECURE_COOKIE if self.secure else COOKIE

    @contextlib.asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncSession]:
        """One transaction (on SQLite this process's writers queue for it)."""
        async with write_lock(self.engine), self.sessionmaker() as s, s.begin():
            yield s


#: What a page says after a form, by the code in ``?ok=`` (see :meth:`Ctx.back`).
MESSAGES: dict[str, str] = {
    "password": "Đã đặt mật khẩu. Bạn đăng nhập bằng tên tài khoản và mật khẩu mới.",
    "created": "Đã tạo thông báo.",
    "waiting": "Đã tạo thông báo. Thông báo đang chờ người duyệt.",
    "cancelled": "Đã hủy thông báo.",
    "approved": "Đã duyệt. Thông báo sẽ được gửi đúng giờ.",
    "rejected": "Đã từ chối thông báo. Thông báo sẽ không được gửi.",
    "followed": "Đã gửi tin đính chính/thu hồi tới những người đã nhận.",
    "everywhere": "Đã đăng xuất ở mọi nơi, cả máy này. Bạn đăng nhập lại để làm tiếp.",
    "loggedout": "Bạn đã đăng xuất.",
    "revoked": "Đã thu hồi mã mời. Mã này không dùng được nữa.",
    "not_revoked": "Mã này đã được dùng hoặc đã hết hạn: không cần thu hồi.",
    "removed": "Đã bỏ quyền của thành viên. Thông báo họ đã hẹn giờ vẫn gửi nếu không hủy.",
    "not_member": "Người này không còn trong tổ.",
}

DEPS: web.AppKey[Deps] = web.AppKey("console_deps", Deps)
TABLE: web.AppKey[dict[AbstractRoute, Route]] = web.AppKey("console_table", dict)
NAV: web.AppKey[list[NavItem]] = web.AppKey("console_nav", list)
_SIGNED: web.RequestKey[Signed] = web.RequestKey("console_signed", Signed)
_PRE: web.RequestKey[str] = web.RequestKey("console_pre_csrf", str)


@dataclass(frozen=True)
class Ctx:
    """What a handler works with."""

    request: web.Request
    deps: Deps
    signed: Signed | None

    @property
    def who(self) -> Principal:
        assert self.signed is not None, "a public route asked for the signed-in person"
        return self.signed.principal

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    @property
    def csrf(self) -> str:
        if self.signed is not None:
            return self.signed.csrf
        return str(self.request.get(_PRE, ""))

    def tx(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        return self.deps.tx()

    async def read(self, *work: Callable[[AsyncSession], Awaitable[Any]]) -> list[Any]:
        """Independent read-only queries: on PostgreSQL each on its own connection at once
        (a page's figures come in the time of the slowest), on SQLite one after the other."""
        if self.deps.engine.dialect.name != "postgresql":
            async with self.tx() as s:
                return [await w(s) for w in work]

        async def one(w: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
            async with self.deps.sessionmaker() as s:
                return await w(s)

        return list(await asyncio.gather(*(one(w) for w in work)))

    def nav(self) -> list[NavItem]:
        if self.signed is None:
            return []
        role = self.who.role
        return sorted((n for n in self.request.app[NAV] if role in n.roles),
                      key=lambda n: (n.order, n.label))

    def current(self) -> str | None:
        """The menu entry of this page: the longest menu path the page's path starts with."""
        path = self.request.path
        hits = [n.path for n in self.nav()
                if path == n.path or (n.path.rstrip("/") != "/console"
                                      and path.startswith(n.path.rstrip("/") + "/"))]
        return max(hits, key=len, default=None)

    def render(self, template: str, status: int = 200, **values: Any) -> web.Response:
        values.setdefault("message", MESSAGES.get(self.request.query.get("ok", "")))
        page = self.deps.env.get_template(template).render(
            c=self, who=self.signed.principal if self.signed else None,
            csrf=self.csrf, nav=self.nav(), path=self.request.path,
            settings=self.settings, **values)
        return web.Response(text=page, status=status, content_type="text/html",
                            charset="utf-8")

    async def stream(self, content_type: str, headers: Mapping[str, str]
                     ) -> web.StreamResponse:
        """A response written piece by piece (a download), already started: it carries the
        guard's security headers itself, as the guard cannot add them once it is under way."""
        response = web.StreamResponse(headers={**_HEADERS, **headers})
        response.content_type = content_type
        response.charset = "utf-8"
        await response.prepare(self.request)
        return response

    def back(self, path: str, **query: str | int) -> web.HTTPSeeOther:
        """Redirect after a form (POST, then GET), with a message code in the query."""
        q = "&".join(f"{k}={quote(str(v))}" for k, v in query.items())
        return web.HTTPSeeOther(f"/console{path}" + (f"?{q}" if q else ""))


def ctx(request: web.Request) -> Ctx:
    return Ctx(request, request.app[DEPS], request.get(_SIGNED))


# ---------------------------------------------------------------------------- the guard

_HEADERS = {
    # No inline scripts or styles, nothing from elsewhere: the pages need only themselves.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data: blob:; media-src 'self' blob:; "
                               "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
                               "form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Setup links carry their token in the path: never sent to another site. ("no-referrer"
    # would make browsers send "Origin: null" on our own form posts.)
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_SAFE = ("GET", "HEAD")


def client_address(request: web.Request, settings: Settings) -> str:
    """The client's address; through a trusted reverse proxy, X-Forwarded-For's last entry."""
    remote = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and remote in settings.console.trusted_proxies:
        return forwarded.split(",")[-1].strip()[:64] or remote
    return remote


def _same_origin(request: web.Request, deps: Deps) -> bool:
    """A browser sends Origin on POST; it must be this site (or the configured public URL)."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    here = f"{request.scheme}://{request.host}"
    allowed = {here}
    public = deps.settings.web.public_url
    if public:
        parts = urlsplit(public)
        allowed.add(f"{parts.scheme}://{parts.netloc}")
    return origin in allowed


def _refuse(route: Route, status: int, message: str, request: web.Request) -> web.Response:
    if route.api or request.method not in _SAFE:
        return web.json_response({"error": message}, status=status)
    c = ctx(request)
    return c.render("error.html", status=status, status_code=status, message=message)


def _too_big(route: Route, request: web.Request, limit: int) -> web.Response:
    size = max(limit - 256 * 1024, 0)  # the file's own limit (without the form's allowance)
    shown = (f"{size / 1000:.0f} KB" if size < 1_000_000 else
             f"{size / 1_000_000:.1f}".replace(".0", "").replace(".", ",") + " MB")
    message = (f"Tệp gửi lên lớn quá giới hạn {shown}. Bạn chọn tệp nhỏ hơn (ví dụ ghi âm "
               "ngắn hơn hoặc lưu dạng MP3) rồi gửi lại.")
    c = ctx(request)
    response = c.render("error.html", status=413, status_code=413, message=message)
    response.force_close()  # the rest of the body is not read
    return response


async def _csrf_given(request: web.Request) -> str | None:
    header = request.headers.get("X-CSRF-Token")
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get("csrf")
        return value if isinstance(value, str) else None
    return None


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, authorize and check CSRF for every console route, then add the security
    headers to whatever is answered."""
    try:
        response = await _guarded(request, handler)
    except web.HTTPException as exc:
        exc.headers.update(_HEADERS)
        raise
    response.headers.update(_HEADERS)
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    table = request.app[TABLE]
    route = table.get(request.match_info.route)
    if route is None:  # 404 / 405 from the router
        return await handler(request)
    deps = request.app[DEPS]
    limit = 0
    if route.upload:
        limit = (route.max_body(deps.settings) if route.max_body is not None
                 else deps.settings.broadcast.attachment_max_bytes) + 256 * 1024  # the form
        request = request.clone(client_max_size=limit)
    unsafe = request.method not in _SAFE
    if route.public:
        pre = request.cookies.get(PRE_COOKIE)
        if unsafe:
            if not pre or not csrf_ok(pre, await _csrf_given(request)) or \
                    not _same_origin(request, deps):
                return _refuse(route, 403, "Phiên làm việc của trang đã hết. Bạn tải lại "
                                           "trang rồi thử lại.", request)
        request[_PRE] = pre or secrets.token_urlsafe(24)
        response = await handler(request)
        if not pre:
            response.set_cookie(PRE_COOKIE, request[_PRE], httponly=True, samesite="Strict",
                                secure=deps.secure, path="/console")
        return response
    async with deps.tx() as session:
        signed = await resolve(session, deps.settings, request.cookies.get(deps.cookie))
        if signed is None:
            if route.api or unsafe:
                return web.json_response({"error": "chưa đăng nhập"}, status=401)
            return web.Response(status=303, headers={
                "Location": f"/console/login?next={quote(request.path_qs)}"})
        request[_SIGNED] = signed
        if signed.principal.role not in route.roles:
            return _refuse(route, 403, "Tài khoản của bạn không dùng được chức năng này.",
                           request)
        if limit and (request.content_length or 0) > limit:
            # Refused from the announced length, before the body is read.
            return _too_big(route, request, limit)
        try:
            token = await _csrf_given(request) if unsafe else None
        except web.HTTPRequestEntityTooLarge:  # a body without a length, over the limit
            return _too_big(route, request, limit)
        if unsafe and (not csrf_ok(signed.csrf, token) or not _same_origin(request, deps)):
            return _refuse(route, 403, "Phiên làm việc của trang đã hết. Bạn tải lại trang "
                                       "rồi thử lại.", request)
        if route.scope is not None:
            areas = await route.scope(request, session)
            if areas is None:
                return _refuse(route, 404, "Không tìm thấy.", request)
            if not signed.principal.covers(areas):
                return _refuse(route, 403, "Việc này thuộc khu vực bạn không phụ trách.",
                               request)
    return await handler(request)


def mount(app: web.Application, routes: Sequence[Route], nav: Sequence[NavItem]) -> None:
    """Register every route of the table (and nothing else) and the menu."""
    table: dict[AbstractRoute, Route] = {}
    for r in routes:
        table[app.router.add_route(r.method, r.path, r.handler, name=r.name)] = r
    app[TABLE] = table
    app[NAV] = list(nav)
