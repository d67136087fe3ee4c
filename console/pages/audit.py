"""Audit log: who did what, when, in which area; filters, pages and a CSV export for Excel
(the export itself is audited). Admins only: the log names every person and action."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast import audit
from broadcast.audit import AuditFilter
from console.filters import ACTION
from console.routing import Ctx, NavItem, Route, ctx
from core.db import READ_ONLY

__all__ = ["EXPORT_MAX", "NAV", "PAGE", "routes", "safe_cell"]

ADMINS = frozenset({"admin"})
NAV = [NavItem("Nhật ký", "/console/audit", ADMINS, 80)]

PAGE = 50
#: The most rows one export holds (a bigger period: export it in parts).
EXPORT_MAX = 50_000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
ACTIONS_TTL_S = 60.0


class BadFilter(ValueError):
    """A filter value the page cannot use (Vietnamese, shown as is)."""


@dataclass(frozen=True)
class Form:
    person: str = ""
    action: str = ""
    area: str = ""
    since: str = ""  # YYYY-MM-DD, local dates, both included
    until: str = ""

    def query(self, **extra: Any) -> str:
        values = {k: v for k, v in (("person", self.person), ("action", self.action),
                                    ("area", self.area), ("from", self.since),
                                    ("to", self.until)) if v}
        values.update(extra)
        return urlencode(values)

    @property
    def used(self) -> bool:
        return any((self.person, self.action, self.area, self.since, self.until))


def _form(c: Ctx) -> Form:
    q = c.request.query
    return Form(person=q.get("person", "").strip()[:100], action=q.get("action", "").strip()[:48],
                area=q.get("area", "").strip()[:32], since=q.get("from", "").strip()[:10],
                until=q.get("to", "").strip()[:10])


def _day(text: str, what: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadFilter(f"{what} không đúng dạng ngày (ví dụ 2026-12-03).") from None


def to_filter(c: Ctx, f: Form) -> AuditFilter:
    """The form as a query; raises BadFilter with a message for the person."""
    tz = ZoneInfo(c.settings.timezone)
    if f.area and f.area not in {a.code for a in c.settings.areas}:
        raise BadFilter("Khu vực không có trong danh sách.")
    since, until = _day(f.since, "Từ ngày"), _day(f.until, "Đến ngày")
    if since and until and until < since:
        raise BadFilter("“Đến ngày” phải sau hoặc bằng “Từ ngày”.")

    def start(d: dt.date) -> dt.datetime:
        return dt.datetime.combine(d, dt.time(), tz).astimezone(dt.UTC)

    return AuditFilter(person=f.person, action=f.action, area=f.area,
                       since=start(since) if since else None,
                       until=start(until + dt.timedelta(days=1)) if until else None)


def _areas(e: Row[Any]) -> list[str]:
    areas = (e.targets or {}).get("areas") if isinstance(e.targets, dict) else None
    return [str(a) for a in areas] if isinstance(areas, list) else []


def _details(e: Row[Any], tz: ZoneInfo) -> str:
    parts = {**(e.details or {}), **{k: v for k, v in (e.targets or {}).items()
                                     if k != "areas"}}
    return "; ".join(f"{k}: {_plain(v, tz)}" for k, v in parts.items() if v is not None)


async def page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    f = _form(c)
    try:
        page_no = max(1, min(int(request.query.get("page", "1")), 10_000))
    except ValueError:
        page_no = 1
    error = None
    entries: list[Row[Any]] = []
    try:
        flt = to_filter(c, f)
    except BadFilter as exc:
        error, flt = str(exc), None
    if flt is not None:
        entries, actions = await c.read(
            lambda s: audit.search(s, flt, offset=(page_no - 1) * PAGE, limit=PAGE + 1),
            lambda s: _actions(c, s))
    else:
        (actions,) = await c.read(lambda s: _actions(c, s))
    if f.action and f.action not in actions:
        actions = [*actions, f.action]
    actions = sorted(actions, key=lambda a: ACTION.get(a, a))  # as the list shows them
    tz = ZoneInfo(c.settings.timezone)
    rows = [{"at": e.at, "actor": e.actor, "action": e.action, "areas": _areas(e),
             "details": _details(e, tz)} for e in entries[:PAGE]]
    return c.render("audit.html", status=400 if error else 200, f=f, rows=rows,
                    error=error, actions=actions, page=page_no, more=len(entries) > PAGE,
                    areas=[(a.code, a.name) for a in c.settings.areas])


_ACTIONS = "audit_actions"


async def _actions(c: Ctx, s: AsyncSession) -> list[str]:
    """The log's action names for the filter; read again at most once a minute (a DISTINCT
    over the whole log on every page view would cost more than the page)."""
    cached = c.deps.extra.get(_ACTIONS)
    now = time.monotonic()
    if cached is not None and now - cached[0] < ACTIONS_TTL_S:
        return list(cached[1])
    names = await audit.actions(s)
    c.deps.extra[_ACTIONS] = (now, names)
    return names


def safe_cell(value: str) -> str:
    """A cell Excel will not run as a formula (OWASP's CSV injection guard)."""
    return "'" + value if value.startswith(_FORMULA) else value


class _CsvRows:
    """Export rows as CSV cells, from the log's stored JSON text: an area list or a target
    seen before is not decoded again (an export of thousands repeats a few dozen)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._targets: dict[str | None, tuple[str, dict[str, Any]]] = {}

    def _target(self, text: str | None) -> tuple[str, dict[str, Any]]:
        known = self._targets.get(text)
        if known is None:
            value = json.loads(text) if text else {}
            value = value if isinstance(value, dict) else {}
            areas = value.get("areas")
            known = self._targets[text] = (
                safe_cell(", ".join(str(a) for a in areas) if isinstance(areas, list) else ""),
                {k: v for k, v in value.items() if k != "areas"})
        return known

    def row(self, entry: Sequence[Any]) -> tuple[str, str, str, str, str]:
        at, actor, action, details, targets = entry
        areas, extra = self._target(targets)
        parts = json.loads(details) if details and details != "{}" else {}
        if not isinstance(parts, dict):
            parts = {}
        if extra:
            parts = {**parts, **extra}
        tz = self.tz
        text = "; ".join(f"{k}: {_plain(v, tz)}" for k, v in parts.items() if v is not None)
        return at, safe_cell(actor), safe_cell(action), areas, safe_cell(text)


_json = json.JSONEncoder(ensure_ascii=False).encode


def _plain(value: Any, tz: ZoneInfo) -> str:
    """A detail's value as people read it: a moment (stored in UTC, ISO 8601) in local time,
    other text as is, anything else as JSON."""
    kind = type(value)
    if kind is str:
        return _local(value, tz) if len(value) >= 25 and value[10:11] == "T" else value
    return str(value) if kind is int else _json(value)


def _local(text: str, tz: ZoneInfo) -> str:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if when.tzinfo is None:
        return text
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _csv(rows: Iterable[Sequence[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


HEADER = ("Thời gian", "Người thực hiện", "Việc", "Khu vực", "Chi tiết")


async def export(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    f = _form(c)
    try:
        flt = to_filter(c, f)
    except BadFilter as exc:
        return c.render("error.html", status=400, status_code=400, message=str(exc))
    tz = ZoneInfo(c.settings.timezone)
    async with c.tx() as s:  # in the log before the first row leaves
        last, count = await audit.export_bounds(s, flt, limit=EXPORT_MAX)
        await audit.record(s, c.who.actor, "audit.export", details={
            "filters": {k: v for k, v in (("person", f.person), ("action", f.action),
                                          ("from", f.since), ("to", f.until)) if v},
            "rows": count}, targets={"areas": [f.area]} if f.area else {})
    stamp = dt.datetime.now(tz).strftime("%Y%m%d-%H%M")
    response = await c.stream("text/csv", {
        "Content-Disposition": f'attachment; filename="nhat-ky-{stamp}.csv"'})
    # Excel reads UTF-8 (Vietnamese) only with the byte-order mark.
    await response.write("\ufeff".encode() + _csv([HEADER]))
    rows = _CsvRows(tz)
    async with c.deps.sessionmaker() as s:
        # Only reads: on SQLite it must not hold the write lock while a slow client downloads.
        await s.connection(execution_options={READ_ONLY: True})
        async for batch in audit.export_rows(s, flt, up_to=last, limit=EXPORT_MAX,
                                             tz=c.settings.timezone):
            await response.write(_csv(map(rows.row, batch)))
    await response.write_eof()
    return response


def routes() -> list[Route]:
    return [
        Route("GET", "/audit", page, "audit", ADMINS),
        Route("GET", "/audit.csv", export, "audit.export", ADMINS),
    ]
