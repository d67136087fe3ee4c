"""A person takes over: being on duty, the queue of the person's areas, a chat with a citizen.

Any team member of the area (role member; admins cover every area) may be on duty, claim a
waiting chat (one operator at a time: the database refuses a second claim), read the
citizen's last messages and write. Pages refresh themselves with long polls
(``/console/handover/events`` and ``/console/handover/<id>/events``), which also tell the
server the page is open: a chat whose operator's page went silent goes back to the queue after
``handover.release_after_s``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast import audit
from console.handover import hours
from console.handover.desk import Desk, NotYours
from console.handover.live import Changes, long_poll
from console.routing import MESSAGES, NavItem, Route, ctx
from console.routing import Ctx as PageCtx
from core.models import ConsoleUser, Handover

__all__ = ["CHANGES", "NAV", "NUDGE", "OPERATORS", "routes"]

#: Who takes chats: team members of an area, and admins (every area).
OPERATORS = frozenset({"admin", "member"})
#: ``Deps.extra`` keys the assembly fills: the process's change watcher, and a callable that
#: wakes this process's handover sender (so an operator's message leaves at once).
CHANGES = "handover.changes"
NUDGE = "handover.nudge"

NAV = [NavItem("Gặp cán bộ", "/console/handover", OPERATORS, 15)]

CHANNELS = {"telegram": "Telegram", "zalo_bot": "Zalo (bot)", "zalo_oa": "Zalo (OA)",
            "web": "Trang web", "terminal": "Dòng lệnh"}
AUTHORS = {"history": "Trước đó (người dân)", "citizen": "Người dân", "assistant": "Trợ lý",
           "operator": "Cán bộ", "system": "Tin tự động", "note": "Ghi chú"}
DELIVERY = {"pending": "đang chờ gửi", "sending": "đang gửi", "sent": "đã gửi",
            "failed": "KHÔNG GỬI ĐƯỢC"}

MESSAGES.update({
    "duty_on": "Bạn đang trực. Người dân của khu vực bạn sẽ vào hàng chờ.",
    "duty_off": "Bạn đã nghỉ trực.",
    "duty_closed": "Ngoài giờ làm việc nên chưa bắt đầu trực được.",
    "claimed": "Bạn đã nhận cuộc trò chuyện.",
    "taken": "Cán bộ khác đã nhận cuộc trò chuyện này trước bạn.",
    "released": "Đã trả cuộc trò chuyện về hàng chờ.",
    "closed": "Đã kết thúc. Trợ lý số trả lời người dân trở lại.",
    "not_yours": "Cuộc trò chuyện này không còn do bạn phụ trách.",
})


async def handover_scope(request: web.Request, session: AsyncSession) -> Sequence[str] | None:
    """The area of the request named in the path (None when there is none)."""
    h = await session.get(Handover, int(request.match_info["hid"]))
    return None if h is None else [h.area]


async def _where(s: AsyncSession, hid: int) -> dict[str, Any]:
    """The audit entry's targets: the request's area, so the log can be read per area."""
    h = await s.get(Handover, hid)
    return {"areas": [h.area]} if h is not None else {}


def _desk(c: PageCtx, s: AsyncSession) -> Desk:
    return Desk(s, c.settings, c.deps.texts)


def _changes(c: PageCtx) -> Changes:
    changes = c.deps.extra.get(CHANGES)
    if changes is None:
        changes = c.deps.extra[CHANGES] = Changes(c.deps.sessionmaker, c.settings.handover.watch_s)
    assert isinstance(changes, Changes)
    return changes


def _nudge(c: PageCtx) -> None:
    nudge: Callable[[], None] | None = c.deps.extra.get(NUDGE)
    if nudge is not None:
        nudge()


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _wait(request: web.Request, c: PageCtx) -> float:
    try:
        wait = float(request.query.get("wait", "0"))
    except ValueError:
        return 0.0
    return max(0.0, min(wait, c.settings.handover.long_poll_s))



def _int(raw: str | None) -> int:
    try:
        return max(0, int(raw or "0"))
    except ValueError:
        return 0


def _version(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _minutes(since: dt.datetime, now: dt.datetime) -> int:
    return max(0, int((now - since).total_seconds() // 60))


# ------------------------------------------------------------------ the queue page


async def _overview(c: PageCtx, s: AsyncSession) -> dict[str, Any]:
    desk = _desk(c, s)
    who = c.who
    areas = who.allowed_areas()
    my_areas = areas if areas is not None else [a.code for a in c.settings.areas]
    queue = await desk.queue(areas)
    mine = await desk.claimed_by(who.id)
    until = await desk.on_duty_until(who.id)
    open_now = any(hours.is_open(c.settings, a, desk.now) for a in my_areas)
    return {
        "duty_until": until.isoformat() if until else None,
        "open_now": open_now,
        "queue": [{"id": q.id, "ward": c.settings.area_name(q.area), "place": q.place,
                   "channel": CHANNELS.get(q.channel, q.channel),
                   "minutes": _minutes(q.requested_at, desk.now)} for q in queue],
        "mine": [{"id": h.id, "ward": c.settings.area_name(h.area),
                  "channel": CHANNELS.get(h.channel, h.channel),
                  "minutes": _minutes(h.claimed_at or h.requested_at, desk.now)}
                 for h in mine],
    }


async def page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    async with c.tx() as s:
        await _desk(c, s).touch(c.who.id)
        data = await _overview(c, s)
        until = await _desk(c, s).on_duty_until(c.who.id)
    areas = c.who.allowed_areas() or [a.code for a in c.settings.areas]
    office = [(c.settings.area_name(a), hours.hours_text(c.settings, a)) for a in areas]
    return c.render("handover.html", data=data, until=until, office=office,
                    version=_version(data))


async def events(request: web.Request) -> web.StreamResponse:
    """The queue and the person's chats as JSON; with ``wait`` and ``v`` it answers when they
    differ from version ``v`` (or after ``wait`` seconds)."""
    c = ctx(request)
    seen = request.query.get("v", "")

    async def fetch() -> dict[str, Any]:
        async with c.tx() as s:
            await _desk(c, s).touch(c.who.id)
            data = await _overview(c, s)
        data["v"] = _version({k: v for k, v in data.items() if k != "v"})
        return data

    data = await long_poll(_changes(c), fetch, lambda d: d["v"] != seen, _wait(request, c))
    return web.json_response(data)


async def duty(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    on = (await request.post()).get("on") == "1"
    mine = {} if c.who.is_admin else {"areas": list(c.who.areas)}
    async with c.tx() as s:
        user = await s.get(ConsoleUser, c.who.id)
        assert user is not None
        until = await _desk(c, s).duty(user, on)
        if on and until is not None:
            await audit.record(s, c.who.actor, "handover.duty_on",
                               details={"until": until.isoformat()}, targets=mine)
        elif not on:
            await audit.record(s, c.who.actor, "handover.duty_off", targets=mine)
    code = "duty_off" if not on else ("duty_on" if until else "duty_closed")
    if _wants_json(request):
        return web.json_response({"ok": bool(until) or not on, "message": MESSAGES[code]})
    raise c.back("/handover", ok=code)


# ------------------------------------------------------------------ one chat


async def claim(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    hid = int(request.match_info["hid"])
    async with c.tx() as s:
        user = await s.get(ConsoleUser, c.who.id)
        assert user is not None
        got = await _desk(c, s).claim(hid, user)
        if got:
            await audit.record(s, c.who.actor, "handover.claim", details={"handover": hid},
                               targets=await _where(s, hid))
    if _wants_json(request):
        return web.json_response({"ok": got, "message": MESSAGES["claimed" if got else "taken"]},
                                 status=200 if got else 409)
    if not got:
        raise c.back("/handover", ok="taken")
    raise c.back(f"/handover/{hid}", ok="claimed")


async def chat_page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    hid = int(request.match_info["hid"])
    async with c.tx() as s:
        desk = _desk(c, s)
        await desk.touch(c.who.id)
        h = await desk.get(hid)
        assert h is not None  # the scope found it
        mine = h.state == "claimed" and h.claimed_by == c.who.id
        lines = await desk.transcript(h) if mine else []
        place = await desk.place(h)
    last = max((ln.id for ln in lines if ln.id is not None), default=0)
    deliveries = {ln.id: ln for ln in lines if ln.author in ("operator", "system")}
    return c.render("handover_chat.html", h=h, mine=mine, lines=lines, last=last, place=place,
                    channel=CHANNELS.get(h.channel, h.channel), authors=AUTHORS,
                    delivery=DELIVERY, deliveries_version=_deliveries_version(
                        list(deliveries.values())), max_chars=c.settings.handover.max_chars)


def _deliveries_version(lines: Sequence[Any]) -> str:
    return _version([(ln.id, ln.state, ln.reason) for ln in lines])


async def chat_events(request: web.Request) -> web.StreamResponse:
    """New lines of a chat after ``after``, and where each message to the citizen stands."""
    c = ctx(request)
    hid = int(request.match_info["hid"])
    after = _int(request.query.get("after"))
    seen = request.query.get("v", "")
    state_seen = request.query.get("state", "")

    async def fetch() -> dict[str, Any]:
        async with c.tx() as s:
            desk = _desk(c, s)
            await desk.touch(c.who.id)
            h = await desk.get(hid)
            assert h is not None
            mine = h.state == "claimed" and h.claimed_by == c.who.id
            lines = await desk.lines_after(h, after) if mine else []
            sent = await desk.deliveries(h) if mine else []
        tz = ZoneInfo(c.settings.timezone)
        return {"state": h.state, "mine": mine,
                "lines": [{**ln.as_json(), "local": ln.at.astimezone(tz).strftime("%H:%M %d/%m")}
                          for ln in lines],
                "deliveries": [{"id": d.id, "state": d.state, "reason": d.reason}
                               for d in sent],
                "v": _deliveries_version(sent)}

    data = await long_poll(
        _changes(c), fetch,
        lambda d: bool(d["lines"]) or d["v"] != seen or (state_seen and d["state"] != state_seen)
        or not d["mine"], _wait(request, c))
    return web.json_response(data)


async def send(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    hid = int(request.match_info["hid"])
    text = str((await request.post()).get("text") or "").strip()
    if not text:
        if _wants_json(request):
            return web.json_response({"error": "Tin nhắn trống."}, status=400)
        raise c.back(f"/handover/{hid}")
    async with c.tx() as s:
        user = await s.get(ConsoleUser, c.who.id)
        assert user is not None
        try:
            row = await _desk(c, s).say(hid, user, text)
        except NotYours:
            row = None
        if row is not None:
            await audit.record(s, c.who.actor, "handover.say", details={"handover": hid},
                               targets=await _where(s, hid))
    if row is None:
        if _wants_json(request):
            return web.json_response({"error": MESSAGES["not_yours"]}, status=409)
        raise c.back("/handover", ok="not_yours")
    _nudge(c)
    if _wants_json(request):
        return web.json_response({"ok": True, "id": row.id, "state": row.state})
    raise c.back(f"/handover/{hid}")


async def _end(request: web.Request, action: str) -> web.StreamResponse:
    c = ctx(request)
    hid = int(request.match_info["hid"])
    async with c.tx() as s:
        desk = _desk(c, s)
        if action == "release":
            done = await desk.release(hid, c.who.id, "operator")
        else:
            done = await desk.close(hid, c.who.id, c.who.actor.label)
        if done:
            await audit.record(s, c.who.actor, f"handover.{action}", details={"handover": hid},
                               targets=await _where(s, hid))
    if done:
        _nudge(c)
    code = ("released" if action == "release" else "closed") if done else "not_yours"
    if _wants_json(request):
        return web.json_response({"ok": done, "message": MESSAGES[code]},
                                 status=200 if done else 409)
    raise c.back("/handover", ok=code)


async def release(request: web.Request) -> web.StreamResponse:
    return await _end(request, "release")


async def close(request: web.Request) -> web.StreamResponse:
    return await _end(request, "close")


def routes() -> list[Route]:
    h = r"/handover/{hid:\d+}"
    return [
        Route("GET", "/handover", page, "handover", OPERATORS),
        Route("GET", "/handover/events", events, "handover.events", OPERATORS, api=True),
        Route("POST", "/handover/duty", duty, "handover.duty", OPERATORS),
        Route("GET", h, chat_page, "handover.chat", OPERATORS, scope=handover_scope),
        Route("GET", h + "/events", chat_events, "handover.chat_events", OPERATORS,
              scope=handover_scope, api=True),
        Route("POST", h + "/claim", claim, "handover.claim", OPERATORS, scope=handover_scope),
        Route("POST", h + "/send", send, "handover.send", OPERATORS, scope=handover_scope),
        Route("POST", h + "/release", release, "handover.release", OPERATORS,
              scope=handover_scope),
        Route("POST", h + "/close", close, "handover.close", OPERATORS, scope=handover_scope),
    ]
