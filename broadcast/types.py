"""Plain data of notices and the store the chat flows use; no database or platform imports.

The chat flows (``broadcast/chat.py``) talk to the database only through :class:`NoticeStore`,
implemented by :class:`broadcast.store.SqlNoticeStore` on the update's session.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

__all__ = [
    "PRIORITIES",
    "RANK",
    "ROLES",
    "STATES",
    "Actor",
    "Draft",
    "Member",
    "NoticeError",
    "NoticeStore",
    "NoticeSummary",
    "Priority",
    "Repeat",
    "Role",
    "Subscription",
]

#: The three levels of Thông tư 39/2020/TT-BTTTT: thông thường, ưu tiên, khẩn cấp.
Priority = Literal["normal", "priority", "emergency"]
PRIORITIES: tuple[Priority, ...] = ("normal", "priority", "emergency")
#: Outbox order: emergency rows are claimed first (lower rank first).
RANK: dict[str, int] = {"emergency": 0, "priority": 1, "normal": 2}

Repeat = Literal["none", "daily", "weekly"]
Role = Literal["admin", "member", "radio"]
#: Roles an invite can give. An invited ``admin`` is an area's admin: the rights of a member in
#: the invite's areas plus invite codes for those areas only. Admins of every area come from
#: ``admins:`` in config.yaml (or are console admins linked to a chat account).
ROLES: tuple[str, ...] = ("member", "radio", "admin")
STATES = ("scheduled", "sending", "done", "cancelled")


class NoticeError(ValueError):
    """A notice that cannot be created or changed. ``code`` lets the chat explain it in
    Vietnamese; the message is for the CLI."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Actor:
    """Who does something, as written in the audit log: ``telegram:123`` or ``cli:alice``."""

    label: str
    channel: str | None = None
    user_id: str | None = None

    @classmethod
    def chat(cls, channel: str, user_id: str) -> Actor:
        return cls(f"{channel}:{user_id}", channel, user_id)

    @classmethod
    def cli(cls, os_user: str) -> Actor:
        return cls(f"cli:{os_user}")


@dataclass(frozen=True)
class Member:
    """A person allowed to broadcast: an admin of every area (``everywhere``: config.yaml's
    ``admins:`` or a console admin) or an invited team member, radio operator or area admin,
    who act only on ``areas``."""

    channel: str
    user_id: str
    role: Role
    areas: tuple[str, ...]
    everywhere: bool = False


@dataclass(frozen=True)
class Subscription:
    areas: tuple[str, ...]
    topics: tuple[str, ...]
    consent_at: dt.datetime


@dataclass
class Draft:
    """A notice being composed. ``at`` is the first (or only) time, aware; None means now."""

    text: str
    areas: list[str]
    topics: list[str]
    title: str | None = None
    priority: Priority = "normal"
    at: dt.datetime | None = None
    repeat: Repeat = "none"
    radio: bool = False


@dataclass(frozen=True)
class NoticeSummary:
    id: int
    title: str
    state: str
    priority: str
    repeat: str
    at: dt.datetime | None  # the (next) time it goes out; None once sent
    areas: tuple[str, ...]
    topics: tuple[str, ...]
    recipients: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    pending: int = 0
    radio: bool = False
    author: str = ""
    runs: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    approval: str | None = None  # waiting | approved | rejected; None: not needed
    follows: int | None = None  # the notice this one corrects or withdraws
    follow_kind: str | None = None  # correction | withdrawal


class NoticeStore(Protocol):
    """What the chat flows need from the broadcast database, within the update's transaction."""

    tz: ZoneInfo  # schedules are read and shown in this time zone
    max_chars: int  # longest notice text
    invite_ttl_hours: int
    recent_days: int  # "Thông báo gần đây" looks this far back

    def now(self) -> dt.datetime: ...

    async def subscription(self, channel: str, user_id: str) -> Subscription | None: ...

    async def subscribe(self, channel: str, user_id: str, areas: list[str],
                        topics: list[str], consent: str) -> None: ...

    async def unsubscribe(self, channel: str, user_id: str) -> bool: ...

    async def member(self, channel: str, user_id: str) -> Member | None: ...

    async def join(self, channel: str, user_id: str, code: str) -> Member | None: ...

    async def invite(self, by: Member, role: str, areas: list[str]) -> str: ...

    async def count_recipients(self, areas: list[str], topics: list[str]) -> int: ...

    async def create(self, by: Member, draft: Draft) -> NoticeSummary: ...

    async def notices(self, by: Member, limit: int = 10) -> list[NoticeSummary]: ...

    async def cancel(self, by: Member, notice_id: int) -> NoticeSummary | None: ...

    async def link(self, channel: str, user_id: str, code: str) -> tuple[str, str] | None:
        """``/lienket CODE``: the console account (name, role) now linked, or None."""
        ...

    async def recent(self, areas: list[str]) -> list[tuple[dt.datetime, str]]:
        """The last notices that went out to these areas: (when, text as sent)."""
        ...
