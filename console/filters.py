"""Jinja filters: dates in the configured time zone, and the Vietnamese words of states,
roles and priorities used on every page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context

__all__ = ["PRIORITY", "ROLE", "STATE", "TEAM_ROLE", "install"]

ROLE = {"admin": "Quản trị viên", "member": "Thành viên tổ công nghệ số",
        "radio": "Phát thanh viên", "editor": "Biên tập nội dung"}
#: Roles of the chat team (``/thamgia``): an invited admin is an admin of their areas only.
TEAM_ROLE = {**ROLE, "admin": "Quản trị viên khu vực"}
STATE = {"scheduled": "Chờ đến giờ gửi", "sending": "Đang gửi", "done": "Đã gửi xong",
         "cancelled": "Đã hủy", "waiting": "Chờ duyệt", "rejected": "Không được duyệt"}
PRIORITY = {"normal": "Thông thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}
REPEAT = {"none": "Một lần", "daily": "Hằng ngày", "weekly": "Hằng tuần"}
FOLLOW = {"correction": "Đính chính", "withdrawal": "Thu hồi"}


@pass_context
def _local(context: Any, value: dt.datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    if value is None:
        return "—"
    tz = ZoneInfo(context["settings"].timezone)
    return value.astimezone(tz).strftime(fmt)


@pass_context
def _area(context: Any, code: str) -> str:
    return str(context["settings"].area_name(code))


@pass_context
def _topic(context: Any, tid: str) -> str:
    return next((t.name for t in context["settings"].topics if t.id == tid), tid)


def install(env: Environment) -> None:
    env.filters.update(local=_local, area=_area, topic=_topic,
                       role=lambda r: ROLE.get(r, r), team_role=lambda r: TEAM_ROLE.get(r, r),
                       state=lambda s: STATE.get(s, s),
                       priority=lambda p: PRIORITY.get(p, p), repeat=lambda r: REPEAT.get(r, r),
                       follow=lambda k: FOLLOW.get(k, k or ""))
