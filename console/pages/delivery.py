"""Delivery: messages per day and channel, failure reasons, subscribers per area and topic
over time (SVG drawn on the server; the same figures as tables)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web

from broadcast import stats
from console import charts
from console.routing import BROADCASTERS, NavItem, Route, ctx
from core.db import utcnow

__all__ = ["NAV", "routes"]

NAV = [NavItem("Kết quả gửi", "/console/delivery", BROADCASTERS, 20)]

CHANNELS = {"telegram": "Telegram", "zalo_bot": "Zalo (bot)", "zalo_oa": "Zalo (OA)",
            "web": "Trang web", "terminal": "Dòng lệnh"}
DAYS = 30


async def page(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    now = utcnow()
    allowed = c.who.allowed_areas()
    areas = allowed if allowed is not None else [a.code for a in c.settings.areas]
    async with c.tx() as s:
        # Past days come from the counts `trolyso run` keeps; today is counted live.
        today_counts = await stats.counts_now(s, c.settings)
        per_day = await stats.messages_per_day(s, c.settings, days=DAYS,
                                               allowed_areas=allowed, now=now)
        reasons = await stats.failure_reasons(s, days=DAYS, allowed_areas=allowed, now=now)
        subs = await stats.subscribers_over_time(s, days=DAYS, areas=areas, now=now,
                                                 settings=c.settings)
    tz = ZoneInfo(c.settings.timezone)
    today = now.astimezone(tz).date()
    subs[today.isoformat()] = today_counts
    days = [(today - dt.timedelta(days=DAYS - 1 - i)).isoformat() for i in range(DAYS)]
    labels = [d[8:10] + "/" + d[5:7] for d in days]
    channels = sorted({ch for v in per_day.values() for ch in v})
    sent = {ch: [per_day.get(d, {}).get(ch, 0) for d in days] for ch in channels}
    area_lines = {c.settings.area_name(a): [subs.get(d, {}).get((a, "*")) for d in days]
                  for a in areas}
    topic_lines = {t.name: [_sum_topic(subs.get(d), t.id, areas) for d in days]
                   for t in c.settings.topics}
    reason_items = [(("Đã chặn trợ lý: " if st == "blocked" else "") + (r or "không rõ"), n)
                    for st, r, n in reasons]
    return c.render(
        "delivery.html", days=days, labels=labels, sent=sent, channels=channels,
        names=CHANNELS, reasons=reason_items, area_lines=area_lines, topic_lines=topic_lines,
        chart_sent=charts.stacked_bars(f"Tin đã gửi mỗi ngày, {DAYS} ngày qua", labels, sent,
                                       CHANNELS),
        chart_reasons=charts.hbars("Lý do không gửi được", reason_items),
        chart_areas=charts.lines("Người đăng ký theo khu vực", labels, area_lines),
        chart_topics=charts.lines("Người đăng ký theo chủ đề", labels, topic_lines))


def _sum_topic(day: dict[tuple[str, str], int] | None, topic: str,
               areas: list[str]) -> int | None:
    if day is None:
        return None
    return sum(day.get((a, topic), 0) for a in areas)


def routes() -> list[Route]:
    return [Route("GET", "/delivery", page, "delivery", BROADCASTERS)]
