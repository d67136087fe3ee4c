"""Notices: list with filters, compose with a live preview, detail with a live progress bar,
cancel, duplicate, approve or reject, correct or withdraw, and an audio preview of what the
loudspeakers will say.

Everything goes through the same services as the CLI and chat (``broadcast.announcements``);
this module only turns forms into drafts and results into pages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiMapping
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast import announcements, attachments, preview
from broadcast.compose import render_notice
from broadcast.radio.normalize import Normalizer
from broadcast.schedule import next_at_time
from broadcast.types import PRIORITIES, Draft, NoticeError, Priority, Repeat
from console.routing import BROADCASTERS, Ctx, NavItem, Route, ctx
from core.db import utcnow
from core.models import Announcement, ConsoleUser, Run

__all__ = ["NAV", "notice_scope", "routes"]

log = logging.getLogger(__name__)

NAV = [NavItem("Thông báo", "/console/notices", BROADCASTERS, 10),
       NavItem("Soạn thông báo", "/console/notices/new", BROADCASTERS, 11)]

PAGE = 50
_STATES = ("scheduled", "sending", "done", "cancelled", "waiting")

#: The warnings of broadcast.preview, in the operators' words.
WARNINGS = {
    "nobody": "Chưa có ai đăng ký nhận tin ở khu vực và chủ đề này: thông báo sẽ không đến "
              "ai. Bạn kiểm tra lại khu vực và chủ đề.",
    "emoji_only": "Nội dung chỉ có biểu tượng, không có chữ: người già và loa phát thanh "
                  "không đọc được.",
    "spoken_leftovers": "Loa sẽ đọc từng chữ cái hoặc còn chữ số, chữ viết tắt ({detail}): "
                        "bạn viết rõ ra để phát thanh viên và máy đọc không đọc sai.",
    "zalo_quiet": "Zalo OA không cho gửi tin vào ban đêm: người nhận qua Zalo OA sẽ nhận "
                  "lúc {detail}.",
}
ERRORS = {
    "empty": "Bạn chưa viết nội dung thông báo.",
    "too_long": "Nội dung hoặc tiêu đề dài quá giới hạn.",
    "unknown_area": "Có khu vực không có trong danh sách.",
    "unknown_topic": "Có chủ đề không có trong danh sách.",
    "no_area": "Bạn chọn ít nhất một khu vực.",
    "no_topic": "Bạn chọn ít nhất một chủ đề.",
    "forbidden_area": "Bạn chỉ gửi được cho khu vực mình phụ trách.",
    "bad_priority": "Mức độ không hợp lệ.",
    "bad_repeat": "Cách lặp lại không hợp lệ.",
    "bad_time": "Bạn nhập ngày và giờ gửi (giờ theo dạng 07:30).",
    "past": "Giờ gửi đã qua. Bạn chọn giờ sau bây giờ.",
    "over": "Thông báo đã gửi xong hoặc đã hủy.",
    "not_waiting": "Thông báo này không chờ duyệt.",
    "own_notice": "Bạn không tự duyệt thông báo của mình được. Nhờ người duyệt khác.",
    "not_sent": "Thông báo chưa đến ai: bạn hủy hoặc soạn lại thay vì đính chính.",
    "not_found": "Không tìm thấy thông báo.",
    "bad_kind": "Chọn đính chính hoặc thu hồi.",
    "bad_file": "Chỉ gửi kèm được ảnh (JPEG, PNG) hoặc tệp PDF.",
    "too_big": "Tệp đính kèm lớn quá giới hạn.",
}


# ---------------------------------------------------------------------------- scopes

async def notice_scope(request: web.Request, session: AsyncSession) -> Sequence[str] | None:
    """The areas of the notice named in the path."""
    return await _areas_of(session, int(request.match_info["id"]))


async def _areas_of(session: AsyncSession, notice_id: int) -> Sequence[str] | None:
    areas = (await session.execute(select(Announcement.areas).where(
        Announcement.id == notice_id))).scalar_one_or_none()
    return None if areas is None else list(areas)


async def form_scope(request: web.Request, session: AsyncSession) -> Sequence[str] | None:
    """The areas a posted notice targets."""
    form = await request.post()
    return [str(a) for a in form.getall("areas", [])]


async def duplicate_scope(request: web.Request, session: AsyncSession) -> Sequence[str] | None:
    """Composing from an earlier notice (``?from=ID``) shows its text: it must be yours."""
    src = request.query.get("from", "")
    if not src:
        return []
    if not src.isdigit():
        return None
    return await _areas_of(session, int(src))


# ---------------------------------------------------------------------------- forms

@dataclass
class Form:
    """The compose form as typed (kept to show it again)."""

    title: str = ""
    text: str = ""
    areas: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    priority: str = "normal"
    when: str = "now"  # now | at | daily | weekly
    date: str = ""
    time: str = ""
    weekday: str = "0"
    radio: bool = False

    @classmethod
    def parse(cls, form: MultiMapping[Any]) -> Form:
        def one(key: str, default: str = "") -> str:
            v = form.get(key, default)
            return v.strip() if isinstance(v, str) else default

        return cls(title=one("title")[:200], text=one("text")[:10_000],
                   areas=tuple(str(a) for a in form.getall("areas", [])),
                   topics=tuple(str(t) for t in form.getall("topics", [])),
                   priority=one("priority", "normal"), when=one("when", "now"),
                   date=one("date"), time=one("time"), weekday=one("weekday", "0"),
                   radio=one("radio") == "1")

    def draft(self, tz: ZoneInfo, now: dt.datetime) -> Draft:
        """The draft; raises NoticeError("bad_time") for a time that cannot be read."""
        at: dt.datetime | None = None
        repeat: Repeat = "none"
        if self.when != "now":
            m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", self.time)
            if not m:
                raise NoticeError("bad_time", "time must be HH:MM")
            h, mi = int(m.group(1)), int(m.group(2))
            if self.when == "at" or (self.when == "daily" and self.date):
                try:
                    day = dt.date.fromisoformat(self.date)
                except ValueError as exc:
                    raise NoticeError("bad_time", "date must be YYYY-MM-DD") from exc
                at = dt.datetime.combine(day, dt.time(h, mi), tzinfo=tz)
            elif self.when == "weekly":
                wd = int(self.weekday) if self.weekday.isdigit() else 0
                at = next_at_time(h, mi, now, tz, min(wd, 6))
            else:
                at = next_at_time(h, mi, now, tz)
            repeat = "daily" if self.when == "daily" else \
                "weekly" if self.when == "weekly" else "none"
        priority: Priority = "normal"
        for p in PRIORITIES:
            if p == self.priority:
                priority = p
        return Draft(text=self.text, title=self.title or None, areas=list(self.areas),
                     topics=list(self.topics), priority=priority,
                     at=at, repeat=repeat, radio=self.radio)


def _normalizer(c: Ctx) -> Normalizer:
    """The normalizer of the assistant's content (the configured content folder's lexicon
    when the console runs without the assistant)."""
    from broadcast.radio.engines import normalizer_for

    lexicon = c.deps.lexicon
    if lexicon is None:
        from flows.lexicon import load_lexicon

        lexicon = c.deps.lexicon = load_lexicon(
            c.settings.path(c.settings.content.dir) / "lexicon.yaml")
    return normalizer_for(lexicon)


def _mine(c: Ctx) -> list[tuple[str, str]]:
    return [(a.code, a.name) for a in c.settings.areas
            if c.who.is_admin or a.code in c.who.areas]


def _error(exc: NoticeError) -> str:
    return ERRORS.get(exc.code, str(exc))


async def _check(c: Ctx, form: Form) -> dict[str, Any]:
    """Everything the preview and the confirmation show."""
    now = utcnow()
    out: dict[str, Any] = {"errors": [], "warnings": [], "channels": [], "spoken": None,
                           "reach": None}
    try:
        draft = form.draft(ZoneInfo(c.settings.timezone), now)
        announcements.validate(c.settings, draft, c.who.allowed_areas(), now)
    except NoticeError as exc:
        out["errors"].append(_error(exc))
        draft = Draft(text=form.text or " ", title=form.title or None, areas=list(form.areas),
                      topics=list(form.topics))
    title = draft.title
    rendered = render_notice(c.deps.texts, title=title, text=draft.text or "…",
                             priority=draft.priority,
                             area_names=[c.settings.area_name(a) for a in draft.areas] or ["…"])
    out["channels"] = [{"name": p.name, "label": p.label, "parts": p.render(rendered)}
                       for p in c.deps.previews]
    async with c.tx() as s:
        got = await preview.reach(s, draft.areas, draft.topics)
    out["reach"] = {"total": got.total, "blocked": got.blocked,
                    "areas": [{"code": a, "name": c.settings.area_name(a), "n": n}
                              for a, n in got.by_area.items()],
                    "channels": got.by_channel}
    spoken = None
    spelled: list[str] = []
    if draft.radio and draft.text.strip():
        spoken = await asyncio.to_thread(preview.spoken_form, _normalizer(c), title, draft.text)
        spelled = _normalizer(c).spelled_out(f"{title or ''}\n{draft.text}")
        out["spoken"] = spoken
    out["warnings"] = [{"code": w.code, "text": WARNINGS[w.code].format(detail=w.detail)}
                       for w in preview.warnings(c.settings, draft, got, spoken, now, spelled)]
    out["when"] = draft.at.isoformat() if draft.at else None
    return out


# ---------------------------------------------------------------------------- handlers

async def list_page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    q = request.query
    state = q.get("state", "")
    state = state if state in _STATES else ""
    area = q.get("area", "")
    area = area if area in {code for code, _ in _mine(c)} else ""
    priority = q.get("priority", "")
    priority = priority if priority in PRIORITIES else ""
    text = q.get("q", "")[:100]
    page = max(int(q["page"]) if q.get("page", "").isdigit() else 1, 1)
    async with c.tx() as s:
        items = await announcements.find(s, allowed_areas=c.who.allowed_areas(), area=area,
                                         state=state, priority=priority, text=text,
                                         limit=PAGE + 1, offset=(page - 1) * PAGE)
    return c.render("notices.html", items=items[:PAGE], more=len(items) > PAGE, page=page,
                    f={"state": state, "area": area, "priority": priority, "q": text},
                    areas=_mine(c), states=_STATES)


async def new_page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    form = Form(areas=tuple(code for code, _ in _mine(c)) if len(_mine(c)) == 1 else ())
    src = request.query.get("from", "")
    if src.isdigit():
        async with c.tx() as s:
            ann = await s.get(Announcement, int(src))
        if ann is not None:
            form = Form(title=ann.title or "", text=ann.text, areas=tuple(ann.areas),
                        topics=tuple(ann.topics), priority=ann.priority, radio=ann.radio)
    return _compose(c, form, [], [], 200)


def _compose(c: Ctx, form: Form, errors: list[str], warnings: list[dict[str, str]],
             status: int) -> web.Response:
    return c.render("notice_new.html", status=status, form=form, areas=_mine(c),
                    topics=[(t.id, t.name) for t in c.settings.topics], errors=errors,
                    warnings=warnings, priorities=PRIORITIES,
                    max_chars=c.settings.broadcast.notice_max_chars,
                    weekdays=["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy",
                              "Chủ Nhật"])


async def preview_api(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    form = Form.parse(await request.post())
    return web.json_response(await _check(c, form))


async def create(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    posted = await request.post()
    form = Form.parse(posted)
    checked = await _check(c, form)
    if checked["errors"]:
        return _compose(c, form, checked["errors"], checked["warnings"], 400)
    if checked["warnings"] and posted.get("ack") != "1":
        # Warnings are read before confirming: the form comes back with them and a box to tick.
        return _compose(c, form, [], checked["warnings"], 409)
    now = utcnow()
    try:
        upload = posted.get("attachment")
        file = None
        if isinstance(upload, web.FileField) and upload.filename:
            data = upload.file.read()
            if data:
                # Some clients percent-encode a non-ASCII file name (RFC 7578 allows it).
                file = attachments.check(c.settings, unquote(upload.filename), data)
        draft = form.draft(ZoneInfo(c.settings.timezone), now)
        async with c.tx() as s:
            ann = await announcements.create(s, c.settings, c.deps.texts, c.who.actor, draft,
                                             allowed_areas=c.who.allowed_areas(),
                                             attachment=file, now=now)
            notice_id, waiting = ann.id, ann.approval == "waiting"
    except NoticeError as exc:
        status = 403 if exc.code == "forbidden_area" else 400
        return _compose(c, form, [_error(exc)], checked["warnings"], status)
    raise c.back(f"/notices/{notice_id}", ok="waiting" if waiting else "created")


async def _approver_of(c: Ctx, s: AsyncSession, ann: Announcement) -> bool:
    if ann.approval != "waiting" or ann.state != "scheduled":
        return False
    if c.who.is_admin:
        return True
    return ann.author != c.who.actor.label and announcements.may_approve(
        c.settings, ann, c.who.name)


async def detail(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    notice_id = int(request.match_info["id"])
    async with c.tx() as s:
        ann = await s.get(Announcement, notice_id)
        assert ann is not None  # the scope found it
        summary = await announcements.summary(s, ann)
        runs = list((await s.execute(select(Run).where(Run.announcement_id == ann.id)
                                     .order_by(Run.id.desc()).limit(10))).scalars())
        reasons = await announcements.reasons(s, ann.id)
        follows = list((await s.execute(select(Announcement).where(
            Announcement.follows_id == ann.id).order_by(Announcement.id))).scalars())
        first = await s.get(Announcement, ann.follows_id) if ann.follows_id else None
        can_approve = await _approver_of(c, s, ann)
        attached = await attachments.get(s, ann.id)
        approvers = await _approvers(c, s, ann)
    sent_text = runs[0].text if runs else render_notice(
        c.deps.texts, title=ann.title, text=ann.text, priority=ann.priority,
        area_names=[c.settings.area_name(a) for a in ann.areas], kind=ann.follow_kind)
    return c.render("notice.html", n=summary, ann=ann, runs=runs, reasons=reasons,
                    follows=follows, first=first, can_approve=can_approve,
                    approvers=approvers, sent_text=sent_text,
                    attached=attached[0] if attached else None,
                    public_link=attachments.link(c.settings, attached[1]) if attached else None,
                    can_cancel=ann.state in ("scheduled", "sending"),
                    can_follow=any(r.recipients for r in runs),
                    error=ERRORS.get(request.query.get("err", ""), None))


async def _approvers(c: Ctx, s: AsyncSession, ann: Announcement) -> list[str]:
    """Who may approve a waiting notice (shown to its author)."""
    if ann.approval != "waiting":
        return []
    rules = c.settings.broadcast.approval
    names = set.intersection(*(set(rules[a]) for a in ann.areas if a in rules)) \
        if any(a in rules for a in ann.areas) else set()
    admins = (await s.execute(select(ConsoleUser.name).where(
        ConsoleUser.role == "admin"))).scalars().all()
    return sorted(names | set(admins))


async def progress(request: web.Request) -> web.StreamResponse:
    """The figures of the latest run, for the progress bar (polled while sending)."""
    c = ctx(request)
    notice_id = int(request.match_info["id"])
    async with c.tx() as s:
        ann = await s.get(Announcement, notice_id)
        assert ann is not None
        n = await announcements.summary(s, ann)
        reasons = await announcements.reasons(s, ann.id)
    state = "waiting" if ann.approval == "waiting" and ann.state == "scheduled" else n.state
    return web.json_response({
        "id": n.id, "state": state, "recipients": n.recipients, "sent": n.sent,
        "failed": n.failed, "blocked": n.blocked, "pending": n.pending,
        "cancelled": n.extra.get("cancelled", 0),
        "reasons": [{"state": st, "reason": r, "n": k} for st, r, k in reasons]})


async def _act(request: web.Request, action: str) -> web.StreamResponse:
    c = ctx(request)
    notice_id = int(request.match_info["id"])
    form = await request.post()
    ok = {"cancel": "cancelled", "approve": "approved", "reject": "rejected",
          "follow": "followed"}[action]
    try:
        async with c.tx() as s:
            who, allowed = c.who, c.who.allowed_areas()
            approver = None if who.is_admin else who.name
            if action == "cancel":
                await announcements.cancel(s, who.actor, notice_id, allowed_areas=allowed)
            elif action == "approve":
                await announcements.approve(s, c.settings, c.deps.texts, who.actor, notice_id,
                                            approver=approver)
            elif action == "reject":
                await announcements.reject(s, who.actor, notice_id, settings=c.settings,
                                           approver=approver,
                                           reason=str(form.get("reason", ""))[:300])
            else:
                kind = str(form.get("kind", ""))
                text = str(form.get("text", "")).strip()
                made = await announcements.follow_up(s, c.settings, c.deps.texts, who.actor,
                                                     notice_id, kind, text,
                                                     allowed_areas=allowed)
                notice_id = made.id
    except NoticeError as exc:
        if exc.code == "forbidden_area":
            return c.render("error.html", status=403, status_code=403, message=_error(exc))
        raise c.back(f"/notices/{notice_id}", err=exc.code) from None
    raise c.back(f"/notices/{notice_id}", ok=ok)


async def cancel(request: web.Request) -> web.StreamResponse:
    return await _act(request, "cancel")


async def approve(request: web.Request) -> web.StreamResponse:
    return await _act(request, "approve")


async def reject(request: web.Request) -> web.StreamResponse:
    return await _act(request, "reject")


async def follow_up(request: web.Request) -> web.StreamResponse:
    return await _act(request, "follow")


# ---------------------------------------------------------------------------- audio preview

_KEY = re.compile(r"^[0-9a-f]{32}\.ogg$")


def _engine(c: Ctx) -> Any:
    extra = c.deps.extra
    if "tts" not in extra:  # one engine per process: it remembers when Google is unreachable
        from broadcast.radio.engines import engine_for

        extra["tts"] = engine_for(c.settings)
    return extra["tts"]


def _audio_dir(c: Ctx) -> Path:
    return c.settings.path(c.settings.console.audio_cache_dir)


async def audio(request: web.Request) -> web.StreamResponse:
    """Synthesize the spoken form with the configured engine (cached by engine and text)."""
    c = ctx(request)
    form = Form.parse(await request.post())
    if not form.text:
        return web.json_response({"error": ERRORS["empty"]}, status=400)
    spoken = await asyncio.to_thread(preview.spoken_form, _normalizer(c), form.title or None,
                                     form.text[:c.settings.broadcast.notice_max_chars + 200])
    engine = _engine(c)
    key = hashlib.sha256(f"{engine.cache_key}\n{spoken}".encode()).hexdigest()[:32]
    path = _audio_dir(c) / f"{key}.ogg"
    if not path.exists():
        from broadcast.radio.voice import voice_message

        try:
            data = await asyncio.to_thread(
                voice_message, spoken, engine, _normalizer(c),
                loudness_lufs=c.settings.radio.loudness_lufs)
        except Exception as exc:  # the engine is down, espeak-ng missing: say so plainly
            log.warning("console audio preview failed: %s", exc)
            return web.json_response({"error": "Chưa tạo được bản nghe thử. Máy đọc đang "
                                               "lỗi, bạn thử lại sau."}, status=503)
        await asyncio.to_thread(_write, path, data)
    used = getattr(engine, "name", "")
    if getattr(engine, "degraded", False):
        used = "espeak-ng (không kết nối được dịch vụ đọc trực tuyến)"
    return web.json_response({"url": f"/console/audio/{key}.ogg", "engine": used,
                              "spoken": spoken})


async def attachment_file(request: web.Request) -> web.StreamResponse:
    """The notice's attachment, for the people who may see the notice."""
    c = ctx(request)
    async with c.tx() as s:
        got = await attachments.get(s, int(request.match_info["id"]))
    if got is None:
        raise web.HTTPNotFound()
    f = got[0]
    return web.Response(body=f.data, content_type=f.mime, headers={
        "Content-Disposition": f'inline; filename="{f.filename}"'})


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


async def audio_file(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    name = request.match_info["name"]
    path = _audio_dir(c) / name
    if not _KEY.match(name) or not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(body=await asyncio.to_thread(path.read_bytes),
                        content_type="audio/ogg")


def routes() -> list[Route]:
    n = r"/notices/{id:\d+}"
    return [
        Route("GET", "/notices", list_page, "notices", BROADCASTERS),
        Route("GET", "/notices/new", new_page, "notices.new", BROADCASTERS,
              scope=duplicate_scope),
        Route("POST", "/notices/preview", preview_api, "notices.preview", BROADCASTERS,
              scope=form_scope, api=True),
        Route("POST", "/notices", create, "notices.create", BROADCASTERS, scope=form_scope,
              upload=True),
        Route("POST", "/notices/audio", audio, "notices.audio", BROADCASTERS, api=True),
        Route("GET", "/audio/{name}", audio_file, "notices.audio_file", BROADCASTERS),
        Route("GET", n, detail, "notice", BROADCASTERS, scope=notice_scope),
        Route("GET", n + "/attachment", attachment_file, "notice.attachment", BROADCASTERS,
              scope=notice_scope),
        Route("GET", n + "/progress", progress, "notice.progress", BROADCASTERS,
              scope=notice_scope, api=True),
        Route("POST", n + "/cancel", cancel, "notice.cancel", BROADCASTERS,
              scope=notice_scope),
        Route("POST", n + "/approve", approve, "notice.approve", BROADCASTERS,
              scope=notice_scope),
        Route("POST", n + "/reject", reject, "notice.reject", BROADCASTERS,
              scope=notice_scope),
        Route("POST", n + "/follow-up", follow_up, "notice.follow_up", BROADCASTERS,
              scope=notice_scope),
    ]

