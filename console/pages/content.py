"""Content editors change a service or a FAQ entry in the page; it is checked and served live.

Files edited on disk are picked up too (``bot.live``); this page also says whether the content
folder as it is now was accepted or refused, and why.
"""

from __future__ import annotations

from aiohttp import web

from broadcast import audit
from console import content_edit
from console.pages.learning import EDITORS, live_of
from console.routing import Ctx, NavItem, Route, ctx

__all__ = ["NAV", "routes"]

NAV = [NavItem("Nội dung", "/console/content", EDITORS, 33)]

SAVED = "Đã lưu. Trợ lý trả lời theo nội dung mới ngay bây giờ."


async def list_page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    live = live_of(c)
    content = live.content
    groups = [(name, [s for s in content.services_in_group(gid)])
              for gid, name in content.catalogue.groups.items()]
    return c.render("content.html", status_=live.content_status, groups=groups,
                    faqs=list(content.faqs.values()), editable=c.settings.learning.edit_content,
                    message=SAVED if request.query.get("ok") == "saved" else None)


def _edit_page(c: Ctx, kind: str, key: str, title: str, text: str, problems: list[str],
               status: int) -> web.Response:
    return c.render("content_edit.html", status=status, kind=kind, key=key, title=title,
                    text=text, problems=problems, editable=c.settings.learning.edit_content)


async def service_page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    live = live_of(c)
    sid = request.match_info["sid"]
    source = content_edit.service_source(live, sid)
    if source is None:
        raise web.HTTPNotFound()
    return _edit_page(c, "service", sid, live.content.services[sid].name, source.text, [], 200)


async def faq_page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    live = live_of(c)
    fid = request.match_info["fid"]
    source = content_edit.faq_source(live, fid)
    found = live.content.faq(fid)
    if source is None or found is None:
        raise web.HTTPNotFound()
    return _edit_page(c, "faq", fid, found[1].question, source.text, [], 200)


async def _save(request: web.Request, kind: str) -> web.StreamResponse:
    c = ctx(request)
    live = live_of(c)
    key = request.match_info["sid" if kind == "service" else "fid"]
    text = str((await request.post()).get("text", "")).replace("\r\n", "\n")
    title = key
    if not c.settings.learning.edit_content:
        return _edit_page(c, kind, key, title, text, [
            "Sửa nội dung trong trang quản trị đang tắt (learning.edit_content)."], 403)
    if kind == "service":
        if key not in live.content.services:
            raise web.HTTPNotFound()
        title = live.content.services[key].name
        problems = await content_edit.save_service(live, key, text)
    else:
        found = live.content.faq(key)
        if found is None:
            raise web.HTTPNotFound()
        title = found[1].question
        problems = await content_edit.save_faq(live, key, text)
    if problems:
        return _edit_page(c, kind, key, title, text, problems, 400)
    async with c.tx() as s:
        await audit.record(s, c.who.actor, "content.edit", details={"kind": kind, "id": key})
    raise c.back("/content", ok="saved")


async def save_service(request: web.Request) -> web.StreamResponse:
    return await _save(request, "service")


async def save_faq(request: web.Request) -> web.StreamResponse:
    return await _save(request, "faq")


def routes() -> list[Route]:
    sid = r"/content/service/{sid:[a-z0-9-]+}"
    fid = r"/content/faq/{fid:[a-z0-9-]+}"
    return [
        Route("GET", "/content", list_page, "content", EDITORS),
        Route("GET", sid, service_page, "content.service", EDITORS),
        Route("POST", sid, save_service, "content.service.save", EDITORS),
        Route("GET", fid, faq_page, "content.faq", EDITORS),
        Route("POST", fid, save_faq, "content.faq.save", EDITORS),
    ]
