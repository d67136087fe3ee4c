"""Radio: an area's bulletins of a day (player, duration, loudness, download, the feed and
playlist links), build one now or again, the area's daily slots, and an operator's own
recorded announcement published like a synthesised bulletin.

Building goes through the component ``trolyso run`` uses (:class:`RadioBulletins`), so a
bulletin made here is the same files, row, feeds and audit entry as one made at a slot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.bulletins import (
    RadioBulletins,
    SlotError,
    area_slots,
    parse_slots,
    set_area_slots,
)
from broadcast.radio.publish import BulletinInfo, list_bulletins, resolve_file
from broadcast.types import PRIORITIES
from console.routing import Ctx, NavItem, Route, ctx
from core.config import Settings
from core.models import RadioBulletin

__all__ = ["NAV", "RADIO", "RADIO_ROLES", "routes"]

log = logging.getLogger(__name__)

RADIO_ROLES = frozenset({"admin", "radio"})
#: ``Deps.extra`` key of the :class:`RadioBulletins` the pages use (made on first use).
RADIO = "radio_bulletins"

NAV = [NavItem("Phát thanh", "/console/radio", RADIO_ROLES, 30)]

MESSAGES = {
    "built": "Đã tạo bản tin.",
    "rebuilt": "Đã tạo lại bản tin. Tệp cũ đã được thay.",
    "empty": "Không có thông báo phát thanh nào để đọc: bản tin không được tạo.",
    "failed": "Không tạo được bản tin. Xem lý do trong danh sách bên dưới.",
    "busy": "Bản tin này đang được tạo. Bạn đợi một lát rồi tải lại trang.",
    "slots": "Đã lưu giờ phát.",
    "uploaded": "Đã đăng bản ghi âm. Bản tin đã có trong danh sách và trong kênh RSS.",
}
UPLOAD_ERRORS = {
    "format": "Chỉ nhận tệp âm thanh WAV, MP3 hoặc OGG.",
    "unreadable": "Không đọc được tệp âm thanh này. Bạn lưu lại dạng WAV, MP3 hoặc OGG rồi "
                  "gửi lại.",
    "too_long": "Bản ghi dài quá {max_min} phút.",
    "silent": "Bản ghi không có tiếng (hoặc quá ngắn).",
    "none": "Bạn chưa chọn tệp ghi âm.",
}
STATES = {"ready": "Sẵn sàng", "empty": "Không có thông báo", "failed": "Lỗi",
          "building": "Đang tạo"}


# ---------------------------------------------------------------------------- scopes

def _area_or_none(settings: Settings, area: str) -> list[str] | None:
    return [area] if area in {a.code for a in settings.areas} else None


async def query_scope(request: web.Request, session: AsyncSession) -> Sequence[str] | None:
    """The area a page asks for (``?area=``); none asked: the person's first area."""
    area = request.query.get("area", "")
    return _known(request, area) if area else []


def _known(request: web.Request, area: str) -> list[str] | None:
    return _area_or_none(ctx(request).settings, area)


async def form_scope(request: web.Request, session: AsyncSession) -> Sequence[str] | None:
    """The area a form names (``area``)."""
    area = (await request.post()).get("area", "")
    return _known(request, area) if isinstance(area, str) and area else None


async def file_scope(request: web.Request, session: AsyncSession) -> Sequence[str] | None:
    """A bulletin's file: the area is the first folder of its path."""
    return _known(request, request.match_info["file"].split("/", 1)[0])


async def bulletin_scope(request: web.Request, session: AsyncSession) -> Sequence[str] | None:
    """The area of the bulletin named in the path."""
    area = (await session.execute(select(RadioBulletin.area_code).where(
        RadioBulletin.id == int(request.match_info["id"])))).scalar_one_or_none()
    return None if area is None else [area]


# ---------------------------------------------------------------------------- helpers

def component(c: Ctx) -> RadioBulletins:
    """The bulletins component: the one ``trolyso run`` gives (with the chat channels, so
    what is made here also reaches the operators in chat), else one made on first use without
    channels (the page and the feeds only)."""
    made = c.deps.extra.get(RADIO)
    if made is None:
        lexicon = c.deps.lexicon
        if lexicon is None:
            from flows.lexicon import load_lexicon

            lexicon = c.deps.lexicon = load_lexicon(
                c.settings.path(c.settings.content.dir) / "lexicon.yaml")
        made = c.deps.extra[RADIO] = RadioBulletins(
            c.deps.engine, c.deps.sessionmaker, c.settings, c.deps.texts, lexicon, {})
    assert isinstance(made, RadioBulletins)
    return made


def _areas(c: Ctx) -> list[tuple[str, str]]:
    return [(a.code, a.name) for a in c.settings.areas if c.who.is_admin or a.code in c.who.areas]


def _base_url(c: Ctx) -> str:
    """Where citizens' players find the feeds: ``web.public_url`` or this server."""
    return (c.settings.web.public_url or f"{c.request.scheme}://{c.request.host}").rstrip("/")


@dataclass(frozen=True)
class Item:
    """One line of the day's list: a bulletin file, its row, or both."""

    info: BulletinInfo | None
    row: RadioBulletin | None
    at: dt.datetime

    @property
    def state(self) -> str:
        return self.row.state if self.row is not None else "ready"

    @property
    def kind(self) -> str:
        key = self.row.key if self.row is not None else ""
        if key.startswith("upload:") or (self.info and self.info.engine == "recording"):
            return "Bản ghi âm"
        if key.startswith("emergency:"):
            return "Khẩn cấp"
        if key.startswith("slot:"):
            return "Theo giờ phát"
        if key.startswith("manual:"):
            return "Tạo từ trang quản trị"
        return "Tạo bằng dòng lệnh"

    @property
    def rebuildable(self) -> bool:
        return self.row is not None and not self.row.key.startswith("upload:") \
            and self.row.state != "building"


def duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60} phút {s % 60:02d} giây" if s >= 60 else f"{s} giây"


async def _day_rows(s: AsyncSession, area: str, start: dt.datetime, end: dt.datetime
                    ) -> list[RadioBulletin]:
    return list((await s.execute(
        select(RadioBulletin).where(RadioBulletin.area_code == area,
                                    RadioBulletin.created_at >= start,
                                    RadioBulletin.created_at < end)
        .order_by(RadioBulletin.created_at.desc()))).scalars())


def _merge(infos: list[BulletinInfo], rows: list[RadioBulletin]) -> list[Item]:
    by_mp3 = {r.mp3: r for r in rows if r.mp3}
    items = [Item(i, by_mp3.pop(i.relpath, None), i.created_at) for i in infos]
    taken = {id(it.row) for it in items if it.row is not None}
    items += [Item(None, r, r.created_at) for r in rows if id(r) not in taken]
    return sorted(items, key=lambda it: it.at, reverse=True)


# ---------------------------------------------------------------------------- the page

async def page(request: web.Request) -> web.StreamResponse:
    return await _render(ctx(request))


async def _render(c: Ctx, status: int = 200, error: str | None = None,
                  form: dict[str, str] | None = None) -> web.Response:
    q = c.request.query
    mine = _areas(c)
    if not mine:
        return c.render("radio.html", status=status, areas=[], area=None, items=[],
                        error=error, message=None)
    area = (form or {}).get("area") or q.get("area", "")
    area = area if area in {code for code, _ in mine} else mine[0][0]
    tz = ZoneInfo(c.settings.timezone)
    today = dt.datetime.now(tz).date()
    try:
        day = dt.date.fromisoformat((form or {}).get("day") or q.get("day", ""))
    except ValueError:
        day = today
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    root = c.settings.path(c.settings.radio.output_dir)
    infos, (rows, own) = await asyncio.gather(
        asyncio.to_thread(list_bulletins, root, area, day),
        _read_rows(c, area, start))
    slots = own.get(area)
    base = _base_url(c)
    return c.render(
        "radio.html", status=status, areas=mine, area=area, day=day.isoformat(),
        today=today.isoformat(), items=_merge(infos, rows), error=error,
        feed=f"{base}/radio/{area}/feed.xml", playlist=f"{base}/radio/{area}/playlist.m3u",
        slots=", ".join(slots) if slots else "", default_slots=", ".join(
            c.settings.radio.slots), own_slots=slots is not None,
        slots_typed=(form or {}).get("slots"), upload_title=(form or {}).get("title", ""),
        priorities=PRIORITIES, states=STATES, duration=duration,
        max_mb=c.settings.radio.upload_max_bytes / 1_000_000,
        message=MESSAGES.get(q.get("ok", "")) if status == 200 else None)


async def _read_rows(c: Ctx, area: str, start: dt.datetime
                     ) -> tuple[list[RadioBulletin], dict[str, list[str]]]:
    rows, own = await c.read(lambda s: _day_rows(s, area, start, start + dt.timedelta(days=1)),
                             area_slots)
    return rows, own


async def audio_file(request: web.Request) -> web.StreamResponse:
    """A bulletin's MP3, to play in the page or (``?download=1``) to save."""
    c = ctx(request)
    root = c.settings.path(c.settings.radio.output_dir)
    path = await asyncio.to_thread(resolve_file, root, request.match_info["file"])
    if path is None:
        raise web.HTTPNotFound()
    headers = {"Content-Type": "audio/mpeg"}
    if request.query.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return web.FileResponse(path, headers=headers)


def _back(c: Ctx, area: str, row: RadioBulletin | None, ok: str) -> web.HTTPSeeOther:
    tz = ZoneInfo(c.settings.timezone)
    day = (row.created_at if row is not None else dt.datetime.now(tz)).astimezone(tz).date()
    return c.back("/radio", area=area, day=day.isoformat(), ok=ok)


def _outcome(row: RadioBulletin, done: str) -> str:
    return {"ready": done, "empty": "empty", "failed": "failed"}.get(row.state, done)


async def build(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    area = str((await request.post())["area"])
    row = await component(c).build_now(area, c.who.actor)
    if row is None:
        raise _back(c, area, None, "busy")
    raise _back(c, area, row, _outcome(row, "built"))


async def rebuild(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    row_id = int(request.match_info["id"])
    row = await component(c).rebuild(row_id, c.who.actor)
    if row is None:
        async with c.tx() as s:
            row = await s.get(RadioBulletin, row_id)
        assert row is not None  # the scope found it
        raise _back(c, row.area_code, row, "busy")
    raise _back(c, row.area_code, row, _outcome(row, "rebuilt"))


async def save_slots(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    form = await request.post()
    area = str(form["area"])
    typed = str(form.get("slots", ""))[:300]
    try:
        slots = parse_slots(typed)
    except SlotError:
        return await _render(c, 400, "Giờ phát viết theo dạng 06:00, nhiều giờ cách nhau bằng "
                                     "dấu phẩy (ví dụ: 06:00, 17:30).",
                             {"area": area, "slots": typed})
    async with c.tx() as s:
        await set_area_slots(s, c.who.actor, area, slots)
    raise c.back("/radio", area=area, ok="slots")


async def upload(request: web.Request) -> web.StreamResponse:
    from broadcast.radio.bulletin import RecordingError

    c = ctx(request)
    form = await request.post()
    area = str(form["area"])
    title = str(form.get("title", "")).strip()[:200]
    priority = str(form.get("priority", "normal"))
    priority = priority if priority in PRIORITIES else "normal"
    typed = {"area": area, "title": title}
    file = form.get("recording")
    data = file.file.read() if isinstance(file, web.FileField) else b""
    if not data:
        return await _render(c, 400, UPLOAD_ERRORS["none"], typed)
    name = unquote(file.filename or "") if isinstance(file, web.FileField) else ""
    try:
        row = await component(c).publish_recording(area, data, c.who.actor, title=title,
                                                   priority=priority, filename=name[:100])
    except RecordingError as exc:
        message = UPLOAD_ERRORS.get(exc.code, UPLOAD_ERRORS["unreadable"]).format(
            max_min=round(c.settings.radio.upload_max_s / 60))
        return await _render(c, 400, message, typed)
    raise _back(c, area, row, "uploaded")


def _upload_limit(settings: Settings) -> int:
    return settings.radio.upload_max_bytes


def routes() -> list[Route]:
    return [
        Route("GET", "/radio", page, "radio", RADIO_ROLES, scope=query_scope),
        Route("GET", "/radio/files/{file:.+}", audio_file, "radio.file", RADIO_ROLES,
              scope=file_scope),
        Route("POST", "/radio/build", build, "radio.build", RADIO_ROLES, scope=form_scope),
        Route("POST", r"/radio/{id:\d+}/rebuild", rebuild, "radio.rebuild", RADIO_ROLES,
              scope=bulletin_scope),
        Route("POST", "/radio/slots", save_slots, "radio.slots", RADIO_ROLES,
              scope=form_scope),
        Route("POST", "/radio/upload", upload, "radio.upload", RADIO_ROLES, scope=form_scope,
              upload=True, max_body=_upload_limit),
    ]
