"""What flows need from the outside world, as protocols the assembly (``bot/``) implements.

Flows never import a platform library or an ORM: storage and speech are reached through these
small interfaces, so a flow can be tested with an in-memory fake and run behind any channel.
A higher floor that plugs its own conversations into the assistant (the notices of
``broadcast/``) declares a typed :class:`PortKey` for what it needs per update; the assembly puts
the implementation in :attr:`Context.ports`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast

from core.channels import ChannelSpec
from flows.content import Content
from nlu.types import Engine

__all__ = ["Context", "FlowSettings", "PortKey", "Ports", "Speech", "State", "Store"]

T = TypeVar("T")


class Store(Protocol):
    """Side effects of a conversation; all happen in the update's transaction."""

    async def add_feedback(self, channel: str, user_id: str, answer: str, value: int, *,
                           question: str | None = None, label: str | None = None) -> None:
        """👍 (1) or 👎 (-1) on the answer ``answer``; ``question``: what the citizen had
        asked (masked), ``label``: what the understanding made of it."""
        ...

    async def log_unanswered(self, text: str, guesses: dict[str, Any], decision: str, *,
                             channel: str | None = None, user_id: str | None = None) -> None:
        """A question for the content team's inbox; ``channel``/``user_id`` only key it for
        /xoadulieu (the inbox does not show who asked)."""
        ...

    async def delete_user_data(self, channel: str, user_id: str) -> dict[str, int]: ...

    async def user_data(self, channel: str, user_id: str) -> dict[str, int]:
        """How many rows about the citizen each table holds (``/dulieucuatoi``)."""
        ...

    async def recent_questions(self, channel: str, user_id: str, limit: int = 3) -> list[str]:
        """The citizen's latest logged messages, masked as stored, newest first."""
        ...

    async def subscription_areas(self, channel: str, user_id: str) -> list[str]:
        """Area codes of the citizen's notice subscription (empty when not subscribed)."""
        ...


class Speech(Protocol):
    """Turns an answer into a voice message file (OGG/Opus); returns its path."""

    async def voice(self, text: str) -> str: ...


class PortKey(Generic[T]):
    """A typed name for a port, like aiohttp's ``AppKey``: ``NOTICES: PortKey[NoticeStore] =
    PortKey("notices")``. Keys compare by identity, so two packages never collide."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<PortKey {self.name}>"


class Ports:
    """What higher floors provide to one update's handling, found by typed key."""

    def __init__(self) -> None:
        self._items: dict[PortKey[Any], object] = {}

    def set(self, key: PortKey[T], value: T) -> None:
        self._items[key] = value

    def get(self, key: PortKey[T]) -> T:
        try:
            return cast(T, self._items[key])
        except KeyError:
            raise LookupError(f"no {key.name!r} port is plugged into this assistant") from None

    def __contains__(self, key: PortKey[Any]) -> bool:
        return key in self._items


@dataclass(frozen=True)
class FlowSettings:
    areas: list[tuple[str, str]]  # (code, name)
    topics: list[tuple[str, str]]  # (id, name)
    retention_days: int = 90
    max_text_chars: int = 4000


@dataclass
class State:
    """A citizen's place in the conversation, stored as JSON between updates.

    Everything the conversation learns about a citizen lives here (never in process memory),
    so any process can serve the next message: the service being discussed, the ward they said
    they live in, and the current run of messages (when it started, the last message, and which
    once-per-run notes such as the legal disclaimer were already shown).
    """

    flow: str | None = None
    service: str | None = None
    options: list[str] = field(default_factory=list)  # payloads of the last buttons shown
    data: dict[str, Any] = field(default_factory=dict)
    nav: dict[str, str] = field(default_factory=dict)  # button role -> payload, last shown
    ward: str | None = None  # area code the citizen chose (asked once; /xoadulieu deletes it)
    run_started: dt.datetime | None = None  # first message of this conversation run (UTC)
    last_at: dt.datetime | None = None  # the previous message (UTC)
    shown: list[str] = field(default_factory=list)  # once-per-run notes already shown

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> State:
        raw = raw or {}
        opts = raw.get("options")
        nav = raw.get("nav")
        shown = raw.get("shown")
        return cls(
            flow=raw.get("flow") if isinstance(raw.get("flow"), str) else None,
            service=raw.get("service") if isinstance(raw.get("service"), str) else None,
            options=[str(o) for o in opts] if isinstance(opts, list) else [],
            data=dict(raw["data"]) if isinstance(raw.get("data"), dict) else {},
            nav={str(k): str(v) for k, v in nav.items()} if isinstance(nav, dict) else {},
            ward=raw.get("ward") if isinstance(raw.get("ward"), str) else None,
            run_started=_time(raw.get("run_started")),
            last_at=_time(raw.get("last_at")),
            shown=[str(x) for x in shown] if isinstance(shown, list) else [],
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.flow:
            out["flow"] = self.flow
        if self.service:
            out["service"] = self.service
        if self.options:
            out["options"] = self.options
        if self.data:
            out["data"] = self.data
        if self.nav:
            out["nav"] = self.nav
        if self.ward:
            out["ward"] = self.ward
        if self.run_started:
            out["run_started"] = self.run_started.isoformat()
        if self.last_at:
            out["last_at"] = self.last_at.isoformat()
        if self.shown:
            out["shown"] = self.shown
        return out


def _time(raw: Any) -> dt.datetime | None:
    """An aware UTC time from its ISO form in the state JSON (None when absent or unreadable)."""
    if not isinstance(raw, str):
        return None
    try:
        t = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


@dataclass
class Context:
    """Everything one update's handling may use."""

    content: Content
    nlu: Engine
    store: Store
    settings: FlowSettings
    today: dt.date
    channel: ChannelSpec  # what the citizen's channel can do (push, buttons, audio...)
    speech: Speech | None = None
    is_team: bool = False
    ports: Ports = field(default_factory=Ports)
    now: dt.datetime | None = None  # the update's time (UTC); None: the clock is read
