"""Jinja filters: dates in the configured time zone, and the Vietnamese words of states,
roles and priorities used on every page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context

__all__ = ["ACTION", "PRIORITY", "ROLE", "STATE", "TEAM_ROLE", "install"]

ROLE = {"admin": "Quản trị viên", "member": "Thành viên tổ công nghệ số",
        "radio": "Phát thanh viên", "editor": "Biên tập nội dung"}
#: Roles of the chat team (``/thamgia``): an invited admin is an admin of their areas only.
TEAM_ROLE = {**ROLE, "admin": "Quản trị viên khu vực"}
STATE = {"scheduled": "Chờ đến giờ gửi", "sending": "Đang gửi", "done": "Đã gửi xong",
         "cancelled": "Đã hủy", "waiting": "Chờ duyệt", "rejected": "Không được duyệt"}
#: What the audit log's action names mean (the page shows these; an unknown name as it is).
ACTION = {
    "announce.create": "Tạo thông báo", "announce.release": "Bắt đầu gửi thông báo",
    "announce.sent": "Gửi xong một lượt thông báo", "announce.cancel": "Hủy thông báo",
    "announce.missed": "Thông báo lỡ giờ, không gửi", "announce.approve": "Duyệt thông báo",
    "announce.reject": "Từ chối thông báo", "announce.correct": "Đính chính thông báo",
    "announce.withdraw": "Thu hồi thông báo",
    "team.invite": "Tạo mã mời vào tổ", "team.revoke": "Thu hồi mã mời",
    "team.join": "Vào tổ bằng mã mời", "team.remove": "Bỏ khỏi tổ",
    "console.login": "Đăng nhập", "console.login_failed": "Đăng nhập sai",
    "console.logout": "Đăng xuất", "console.logout_everywhere": "Đăng xuất ở mọi nơi",
    "console.password_set": "Đặt mật khẩu", "console.user_add": "Tạo tài khoản",
    "console.user_remove": "Xóa tài khoản", "console.user_reset": "Cấp lại đường dẫn đặt mật khẩu",
    "console.link_code": "Lấy mã liên kết chat", "console.link": "Liên kết tài khoản chat",
    "audit.export": "Tải nhật ký về",
    "radio.build": "Tạo bản tin phát thanh", "radio.rebuild": "Tạo lại bản tin phát thanh",
    "radio.upload": "Đăng bản ghi âm", "radio.slots": "Đổi giờ phát thanh",
    "handover.duty_on": "Bắt đầu trực", "handover.duty_off": "Kết thúc trực",
    "handover.claim": "Nhận trò chuyện với người dân", "handover.say": "Nhắn người dân",
    "handover.release": "Trả trò chuyện về hàng chờ", "handover.close": "Kết thúc trò chuyện",
    "content.edit": "Sửa nội dung", "learning.teach": "Dạy câu hỏi mới",
    "learning.dismiss": "Bỏ qua câu hỏi", "learning.remove_example": "Xóa câu ví dụ",
    "learning.retry": "Thử lại câu hỏi", "learning.retrain_request": "Yêu cầu huấn luyện lại",
    "learning.retrain": "Huấn luyện lại",
}
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
                       state=lambda s: STATE.get(s, s), action=lambda a: ACTION.get(a, a),
                       priority=lambda p: PRIORITY.get(p, p), repeat=lambda r: REPEAT.get(r, r),
                       follow=lambda k: FOLLOW.get(k, k or ""))
