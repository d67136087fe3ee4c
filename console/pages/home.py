"""The home page: what needs this person's attention, per role."""

from __future__ import annotations

from aiohttp import web

from broadcast import announcements
from broadcast.preview import reach
from console.routing import ANY, BROADCASTERS, NavItem, Route, ctx

__all__ = ["NAV", "routes"]

NAV = [NavItem("Trang chính", "/console/", ANY, 0)]


async def home(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    who = c.who
    waiting: list = []
    active: list = []
    recent: list = []
    audience = None
    if who.role in BROADCASTERS:
        allowed = who.allowed_areas()
        areas = allowed if allowed is not None else [a.code for a in c.settings.areas]
        waiting, sending, scheduled, recent, audience = await c.read(
            lambda s: announcements.find(s, allowed_areas=allowed, state="waiting", limit=20),
            lambda s: announcements.find(s, allowed_areas=allowed, state="sending", limit=20),
            lambda s: announcements.find(s, allowed_areas=allowed, state="scheduled",
                                         limit=20),
            lambda s: announcements.find(s, allowed_areas=allowed, state="done", limit=5),
            lambda s: reach(s, areas, [t.id for t in c.settings.topics]))
        active = [n for n in [*sending, *scheduled] if n.approval != "waiting"]
    return c.render("home.html", waiting=waiting, active=active, recent=recent,
                    audience=audience)


def routes() -> list[Route]:
    return [Route("GET", "/", home, "home", ANY)]
