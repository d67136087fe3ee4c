"""The weekly figures page for content editors, and its CSV export (no personal data)."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

from aiohttp import web

from console import charts, inbox
from console.figures import OUTCOMES, Figures, gather
from console.pages.learning import EDITORS
from console.routing import Ctx, NavItem, Route, ctx
from core.db import utcnow

__all__ = ["NAV", "routes"]

NAV = [NavItem("Số liệu hỏi đáp", "/console/figures", EDITORS, 32)]

CHANNELS = {"telegram": "Telegram", "zalo_bot": "Zalo (bot)", "zalo_oa": "Zalo (OA)",
            "web": "Trang web", "terminal": "Dòng lệnh"}
OUTCOME = {"answered": "Trả lời được", "out_of_scope": "Ngoài phạm vi",
           "suggested": "Chỉ gợi ý", "handed_over": "Chuyển người"}


def _days(request: web.Request) -> int:
    raw = request.query.get("days", "7")
    return min(max(int(raw), 1), 90) if raw.isdigit() else 7


async def _figures(c: Ctx, days: int) -> Figures:
    async with c.tx() as s:
        figs = await gather(s, c.settings, days=days, now=utcnow())
    live = c.deps.live
    space = await asyncio.to_thread(inbox.Space.of, live.content) if live else None
    await asyncio.to_thread(figs.group, c.settings.learning.cluster_similarity, space)
    return figs


def _content(c: Ctx) -> Any:
    return c.deps.live.content if c.deps.live else None


async def page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    days = _days(request)
    figs = await _figures(c, days)
    content = _content(c)
    labels = [d[8:10] + "/" + d[5:7] for d in figs.days]
    per_channel = {ch: [figs.per_day.get(d, {}).get(ch, 0) for d in figs.days]
                   for ch in figs.channels}
    outcome_items = [(f"{OUTCOME[o]} ({100 * figs.share(o):.0f} %)", figs.outcomes[o])
                     for o in OUTCOMES]
    service_items = [(content.services[sid].name if content and sid in content.services
                      else sid, n) for sid, n in figs.services]
    group_items = [(", ".join(g.terms) or inbox.label_name(content, g.guess), g.count)
                   for g in figs.groups] if content else []
    return c.render(
        "figures.html", days=days, figs=figs, labels=labels, per_channel=per_channel,
        names=CHANNELS, outcome=OUTCOME, outcomes=OUTCOMES, services=service_items,
        groups=group_items, describe=lambda ref: inbox.describe(content, ref) if content else ref,
        name=lambda lb: inbox.label_name(content, lb) if content else lb,
        chart_days=charts.stacked_bars(f"Câu hỏi mỗi ngày theo kênh, {days} ngày qua", labels,
                                       per_channel, CHANNELS),
        chart_outcomes=charts.hbars("Kết quả các câu hỏi", outcome_items),
        chart_services=charts.hbars("Dịch vụ được hỏi nhiều nhất", service_items),
        chart_groups=charts.hbars("Nhóm câu chưa trả lời được lớn nhất", group_items))


async def export(request: web.Request) -> web.StreamResponse:
    """The same figures as CSV: table, day, channel, item, value."""
    c = ctx(request)
    days = _days(request)
    figs = await _figures(c, days)
    content = _content(c)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["bang", "ngay", "kenh", "muc", "so"])
    for d in figs.days:
        for ch in figs.channels:
            w.writerow(["cau_hoi_moi_ngay", d, ch, "", figs.per_day.get(d, {}).get(ch, 0)])
    for o in OUTCOMES:
        w.writerow(["ket_qua", "", "", o, figs.outcomes[o]])
    for ref, up, down in figs.feedback:
        item = inbox.describe(content, ref) if content else ref
        w.writerow(["danh_gia_len", "", "", item, up])
        w.writerow(["danh_gia_xuong", "", "", item, down])
    for g in figs.groups:
        item = ", ".join(g.terms) or (inbox.label_name(content, g.guess) if content else "")
        w.writerow(["nhom_chua_tra_loi", "", "", item, g.count])
    for sid, n in figs.services:
        item = content.services[sid].name if content and sid in content.services else sid
        w.writerow(["dich_vu_hoi_nhieu", "", "", item, n])
    name = f"so-lieu-{days}-ngay.csv"
    return web.Response(body=out.getvalue().encode("utf-8-sig"), content_type="text/csv",
                        charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


def routes() -> list[Route]:
    return [Route("GET", "/figures", page, "figures", EDITORS),
            Route("GET", "/figures.csv", export, "figures.csv", EDITORS)]
