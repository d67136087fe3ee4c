"""Handover requests, the queue, claims, messages and the transcript.

A :class:`Desk` is bound to one transaction (like the notice store): the citizen's side uses
it inside the conversation's transaction, the console inside the request's. Every change moves
the request's ``changed_at``, which long polls wait for (``console.handover.live``).

Guarantees kept by the database, not by one process's memory:

* one open request per chat (a unique constraint over channel, user and ``open``);
* one operator per chat: a claim is ``UPDATE ... WHERE state = 'queued'``, so of two claims at
  once exactly one changes a row (PostgreSQL re-checks the condition after the first commits;
  SQLite writes one transaction at a time);
* an operator message is one row, written before it is sent and sent by whichever process
  claims it (``console.handover.sender``): none is lost when a process dies, none is sent by
  two processes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from console.handover import hours
from core.config import Settings
from core.db import utcnow
from core.models import (
    ConsoleUser,
    Conversation,
    Handover,
    HandoverMessage,
    MessageLog,
    OperatorDuty,
)
from core.storage import insert_for

__all__ = [
    "FEEDBACK_REF",
    "OPEN_FLAG",
    "Desk",
    "Line",
    "NotYours",
    "QueueFull",
    "QueueItem",
    "Requested",
]

#: The conversation state key that says this chat has (or had) a request: its id. Only chats
#: with it look the request up, so the others pay nothing per message.
OPEN_FLAG = "ho"
#: The answer id of the 👍/👎 asked when an operator closes a chat: ``ho:<request id>``.
FEEDBACK_REF = "ho:{id}"
#: Who may take chats: team members of the area (admins cover every area).
OPERATOR_ROLES = ("member", "admin")

Author = Literal["citizen", "assistant", "operator", "system", "note", "alert"]


class QueueFull(Exception):
    """The ward's queue holds ``handover.queue_size`` citizens already."""


class NotYours(Exception):
    """The chat is not (or no longer) claimed by this operator."""


@dataclass(frozen=True)
class Requested:
    """A citizen's place in the queue, or the chat they are already in."""

    id: int
    state: str  # queued | claimed
    place: int  # 1 = next; 0 when claimed
    wait_min: int
    staffed: bool  # someone of the ward is on duty now
    new: bool  # False: the chat was already waiting or talking to someone
    hours: str = ""  # the ward's office hours, in words


@dataclass(frozen=True)
class QueueItem:
    id: int
    area: str
    channel: str
    requested_at: dt.datetime
    place: int


@dataclass(frozen=True)
class Line:
    """One line of what an operator reads."""

    id: int | None  # None for earlier messages (from the message log)
    author: str  # history | citizen | assistant | operator | system | note
    text: str
    at: dt.datetime
    state: str | None = None  # delivery of operator and system messages
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "author": self.author, "text": self.text,
                "at": self.at.isoformat(), "state": self.state, "reason": self.reason}


def _rows(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class Desk:
    """Handover operations in the caller's transaction."""

    def __init__(self, session: AsyncSession, settings: Settings, texts: Mapping[str, str],
                 now: dt.datetime | None = None) -> None:
        self.s = session
        self.settings = settings
        self.cfg = settings.handover
        self.texts = texts
        self.now = now or utcnow()

    def text(self, key: str, **kw: Any) -> str:
        raw = self.texts.get(key, key)
        return raw.format(**kw) if kw else raw

    # ------------------------------------------------------------------ reading

    async def get(self, hid: int, *, lock: bool = False) -> Handover | None:
        stmt = select(Handover).where(Handover.id == hid)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def open_for(self, channel: str, user_id: str) -> Handover | None:
        return (await self.s.execute(select(Handover).where(
            Handover.channel == channel, Handover.user_id == user_id,
            Handover.open == 1))).scalar_one_or_none()

    async def subscription_areas(self, channel: str, user_id: str) -> list[str]:
        from core.models import Subscription

        areas = (await self.s.execute(select(Subscription.areas).where(
            Subscription.channel == channel, Subscription.user_id == user_id))).scalar()
        return [str(a) for a in areas] if isinstance(areas, list) else []

    async def on_duty(self, area: str) -> list[ConsoleUser]:
        """Operators of ``area`` on duty now (and the area's office is open now)."""
        if not hours.is_open(self.settings, area, self.now):
            return []
        rows = (await self.s.execute(
            select(ConsoleUser)
            .join(OperatorDuty, OperatorDuty.operator_id == ConsoleUser.id)
            .where(OperatorDuty.until > self.now, ConsoleUser.role.in_(OPERATOR_ROLES),
                   ConsoleUser.password_hash.is_not(None)))).scalars()
        return [u for u in rows if u.role == "admin" or area in (u.areas or [])]

    async def waiting(self, area: str) -> int:
        return int((await self.s.execute(select(func.count()).select_from(Handover).where(
            Handover.state == "queued", Handover.area == area))).scalar_one())

    async def place(self, h: Handover) -> int:
        """1 for the next citizen of the ward's queue."""
        if h.state != "queued":
            return 0
        ahead = (await self.s.execute(select(func.count()).select_from(Handover).where(
            Handover.state == "queued", Handover.area == h.area,
            (Handover.requested_at < h.requested_at)
            | ((Handover.requested_at == h.requested_at) & (Handover.id < h.id))))).scalar_one()
        return int(ahead) + 1

    async def handling_min(self, area: str) -> float:
        """The average length (minutes) of the ward's recent handled chats; the configured
        default before there are any."""
        async def recent(where: Any) -> list[tuple[dt.datetime, dt.datetime]]:
            stmt = (select(Handover.claimed_at, Handover.closed_at)
                    .where(Handover.close_reason == "operator",
                           Handover.claimed_at.is_not(None), where)
                    .order_by(Handover.closed_at.desc()).limit(self.cfg.handling_sample))
            return [(a, b) for a, b in (await self.s.execute(stmt)).all() if a and b]

        rows = await recent(Handover.area == area)
        if len(rows) < 3:
            rows = await recent(Handover.id.is_not(None))
        if not rows:
            return float(self.cfg.default_handling_min)
        return max(1.0, sum((b - a).total_seconds() for a, b in rows) / len(rows) / 60)

    async def expected_wait(self, place: int, area: str, staff: int) -> int:
        """Minutes until a citizen at ``place`` is taken, from the recent handling time."""
        if place <= 0:
            return 0
        per = await self.handling_min(area)
        return max(1, round(place * per / max(1, staff)))

    async def status(self, h: Handover, *, new: bool = False) -> Requested:
        staff = len(await self.on_duty(h.area))
        place = await self.place(h)
        return Requested(h.id, h.state, place, await self.expected_wait(place, h.area, staff),
                         staff > 0, new, hours.hours_text(self.settings, h.area))

    # ------------------------------------------------------------------ the citizen's side

    async def request(self, channel: str, user_id: str, area: str) -> Requested:
        """Put the chat in the ward's queue (or say where it already is). Operators of the ward
        on duty with a linked chat account get a short alert."""
        existing = await self.open_for(channel, user_id)
        if existing is not None:
            return await self.status(existing)
        if await self.waiting(area) >= self.cfg.queue_size:
            raise QueueFull(area)
        h = Handover(channel=channel, user_id=user_id, area=area, state="queued", open=1,
                     requested_at=self.now, changed_at=self.now)
        self.s.add(h)
        await self.s.flush()
        self._add(h, "note", self.text("handover.note.requested"))
        status = await self.status(h, new=True)
        if status.staffed:
            for u in await self.on_duty(area):
                if u.linked_channel and u.linked_user_id and \
                        self._push(u.linked_channel):
                    self._add(h, "alert", self.text(
                        "handover.alert", ward=self.settings.area_name(area),
                        place=status.place, url=self._console_url()),
                        to=(u.linked_channel, u.linked_user_id))
        return status

    def _console_url(self) -> str:
        base = (self.settings.web.public_url or
                f"http://{self.settings.web.host}:{self.settings.web.port}").rstrip("/")
        return f"{base}/console/handover"

    async def record(self, h: Handover, author: Author, text: str) -> None:
        """A line of the transcript (what the citizen wrote, the assistant's emergency reply)."""
        self._add(h, author, text)

    async def citizen_cancel(self, h: Handover) -> None:
        """The citizen ended the request or the chat themselves."""
        await self._close(h.id, "citizen", "citizen", patch_state=False)

    async def messages_for(self, channel: str, user_id: str, after: int,
                           limit: int = 50) -> list[HandoverMessage]:
        """Operator and system messages to this citizen after ``after`` (the web chat pulls
        them), from an open request or one closed in the last day."""
        recent = self.now - dt.timedelta(days=1)
        stmt = (select(HandoverMessage)
                .join(Handover, Handover.id == HandoverMessage.handover_id)
                .where(HandoverMessage.channel == channel, HandoverMessage.user_id == user_id,
                       HandoverMessage.author.in_(("operator", "system")),
                       HandoverMessage.id > after,
                       (Handover.open == 1) | (Handover.closed_at > recent))
                .order_by(HandoverMessage.id).limit(limit))
        return list((await self.s.execute(stmt)).scalars())

    # ------------------------------------------------------------------ the operator's side

    async def duty(self, operator: ConsoleUser, on: bool) -> dt.datetime | None:
        """Start or end a duty; returns when it ends (None: off, or the office is closed)."""
        until = None
        if on:
            areas = list(operator.areas or []) or [a.code for a in self.settings.areas]
            ends = [e for a in areas if (e := hours.duty_end(self.settings, a, self.now))]
            until = max(ends) if ends else None
        await self._presence(operator.id, until=until, set_until=True)
        return until

    async def on_duty_until(self, operator_id: int) -> dt.datetime | None:
        until = (await self.s.execute(select(OperatorDuty.until).where(
            OperatorDuty.operator_id == operator_id))).scalar_one_or_none()
        return until if until is not None and until > self.now else None

    async def touch(self, operator_id: int) -> None:
        """The operator's page is open (it asked for news): their chats stay theirs."""
        await self._presence(operator_id)

    async def _presence(self, operator_id: int, *, until: dt.datetime | None = None,
                        set_until: bool = False) -> None:
        values: dict[str, Any] = {"last_seen_at": self.now}
        if set_until:
            values["until"] = until
        stmt = insert_for(self.s, OperatorDuty).values(operator_id=operator_id, **values)
        await self.s.execute(stmt.on_conflict_do_update(
            index_elements=[OperatorDuty.operator_id], set_=values))

    async def queue(self, areas: Sequence[str] | None) -> list[QueueItem]:
        """Citizens waiting, oldest first, in ``areas`` (None: every area)."""
        stmt = select(Handover).where(Handover.state == "queued")
        if areas is not None:
            stmt = stmt.where(Handover.area.in_(list(areas)))
        items: list[QueueItem] = []
        per_area: dict[str, int] = {}
        for h in (await self.s.execute(stmt.order_by(Handover.requested_at,
                                                     Handover.id))).scalars():
            per_area[h.area] = per_area.get(h.area, 0) + 1
            items.append(QueueItem(h.id, h.area, h.channel, h.requested_at, per_area[h.area]))
        return items

    async def claimed_by(self, operator_id: int) -> list[Handover]:
        return list((await self.s.execute(select(Handover).where(
            Handover.state == "claimed", Handover.claimed_by == operator_id)
            .order_by(Handover.claimed_at))).scalars())

    async def claim(self, hid: int, operator: ConsoleUser) -> bool:
        """Take a waiting chat. False when someone else took it first (or it ended)."""
        result = await self.s.execute(
            update(Handover).where(Handover.id == hid, Handover.state == "queued")
            .values(state="claimed", claimed_by=operator.id, claimed_at=self.now,
                    changed_at=self.now).execution_options(synchronize_session=False))
        if _rows(result) != 1:
            return False
        h = await self.get(hid)
        assert h is not None
        await self.s.refresh(h)
        self._add(h, "note", self.text("handover.note.claimed", name=operator.name))
        self._add(h, "system", self.text("handover.claimed"))
        await self._presence(operator.id)
        return True

    async def say(self, hid: int, operator: ConsoleUser, text: str) -> HandoverMessage:
        """An operator's message to the citizen (sent by the handover sender)."""
        h = await self.get(hid, lock=True)
        if h is None or h.state != "claimed" or h.claimed_by != operator.id:
            raise NotYours(hid)
        row = self._add(h, "operator", text.strip()[:self.cfg.max_chars],
                        operator_id=operator.id)
        await self.s.flush()
        return row

    async def release(self, hid: int, operator_id: int | None, reason: str) -> bool:
        """Back to the queue (the operator let it go, or their page went silent)."""
        stmt = update(Handover).where(Handover.id == hid, Handover.state == "claimed")
        if operator_id is not None:
            stmt = stmt.where(Handover.claimed_by == operator_id)
        result = await self.s.execute(stmt.values(
            state="queued", claimed_by=None, claimed_at=None, changed_at=self.now)
            .execution_options(synchronize_session=False))
        if _rows(result) != 1:
            return False
        h = await self.get(hid)
        assert h is not None
        await self.s.refresh(h)
        self._add(h, "note", self.text(f"handover.note.released_{reason}"))
        self._add(h, "system", self.text("handover.released"))
        return True

    async def close(self, hid: int, operator_id: int | None, by: str,
                    reason: str = "operator") -> bool:
        """End the chat: the assistant answers again and asks the citizen for 👍/👎."""
        return await self._close(hid, by, reason, operator_id=operator_id)

    async def _close(self, hid: int, by: str, reason: str, *, operator_id: int | None = None,
                     patch_state: bool = True) -> bool:
        stmt = update(Handover).where(Handover.id == hid, Handover.open == 1)
        if operator_id is not None:
            stmt = stmt.where(Handover.state == "claimed", Handover.claimed_by == operator_id)
        result = await self.s.execute(stmt.values(
            state="closed", open=None, closed_at=self.now, closed_by=by[:160],
            close_reason=reason, changed_at=self.now)
            .execution_options(synchronize_session=False))
        if _rows(result) != 1:
            return False
        h = await self.get(hid)
        assert h is not None
        await self.s.refresh(h)
        self._add(h, "note", self.text(f"handover.note.closed_{reason}"))
        options: list[str] = []
        if reason == "operator":
            ref = FEEDBACK_REF.format(id=hid)
            buttons = [[self.text("handover.btn.good"), f"f:+:{ref}"],
                       [self.text("handover.btn.bad"), f"f:-:{ref}"]]
            self._add(h, "system", self.text("handover.closed"), buttons=buttons)
            options = [b[1] for b in buttons]
        elif reason == "expired":
            self._add(h, "system", self.text("handover.expired"))
        if patch_state:
            await self._hand_back(h, options)
        return True

    async def _hand_back(self, h: Handover, options: list[str]) -> None:
        """The conversation forgets the request and offers the 👍/👎 as numbered options (a
        compare-and-set write: a message being handled at this moment starts again)."""
        row = (await self.s.execute(select(Conversation).where(
            Conversation.channel == h.channel, Conversation.user_id == h.user_id)
            .with_for_update())).scalar_one_or_none()
        if row is None:
            return
        state = dict(row.state or {})
        data = dict(state.get("data") or {})
        if data.pop(OPEN_FLAG, None) is None and not options:
            return
        state["data"] = data
        if options:
            state["options"] = options
            state.pop("flow", None)
        row.state = state
        row.version = (row.version or 0) + 1
        row.updated_at = self.now

    async def transcript(self, h: Handover) -> list[Line]:
        """The citizen's earlier messages (masked, as logged) and this chat, oldest first."""
        lines: list[Line] = []
        if self.cfg.history_messages:
            earlier = (await self.s.execute(
                select(MessageLog.id, MessageLog.text, MessageLog.created_at)
                .where(MessageLog.channel == h.channel, MessageLog.user_id == h.user_id,
                       MessageLog.created_at < h.requested_at, MessageLog.text.is_not(None),
                       # what the citizen wrote, not the buttons they tapped or commands
                       ~MessageLog.text.startswith("["), ~MessageLog.text.startswith("/"))
                .order_by(MessageLog.id.desc()).limit(self.cfg.history_messages))).all()
            lines += [Line(None, "history", t or "", at) for _, t, at in reversed(earlier)]
        rows = (await self.s.execute(select(HandoverMessage).where(
            HandoverMessage.handover_id == h.id, HandoverMessage.author != "alert")
            .order_by(HandoverMessage.id))).scalars()
        lines += [Line(r.id, r.author, r.text, r.created_at, r.state, r.reason) for r in rows]
        return lines

    async def lines_after(self, h: Handover, after: int) -> list[Line]:
        rows = (await self.s.execute(select(HandoverMessage).where(
            HandoverMessage.handover_id == h.id, HandoverMessage.author != "alert",
            HandoverMessage.id > after).order_by(HandoverMessage.id))).scalars()
        return [Line(r.id, r.author, r.text, r.created_at, r.state, r.reason) for r in rows]

    async def deliveries(self, h: Handover) -> list[Line]:
        """Where each message to the citizen stands (sent, failed and why)."""
        rows = (await self.s.execute(select(HandoverMessage).where(
            HandoverMessage.handover_id == h.id,
            HandoverMessage.author.in_(("operator", "system")))
            .order_by(HandoverMessage.id))).scalars()
        return [Line(r.id, r.author, r.text, r.created_at, r.state, r.reason) for r in rows]

    # ------------------------------------------------------------------ housekeeping

    async def sweep(self) -> dict[str, int]:
        """Release chats whose operator's page went silent; close requests nobody took."""
        silent = self.now - dt.timedelta(seconds=self.cfg.release_after_s)
        idle = (await self.s.execute(
            select(Handover.id, Handover.claimed_by)
            .outerjoin(OperatorDuty, OperatorDuty.operator_id == Handover.claimed_by)
            .where(Handover.state == "claimed",
                   (OperatorDuty.last_seen_at.is_(None)) | (OperatorDuty.last_seen_at < silent))
        )).all()
        released = 0
        for hid, op in idle:
            released += await self.release(hid, op, "timeout")
        old = self.now - dt.timedelta(hours=self.cfg.max_wait_hours)
        stale = (await self.s.execute(select(Handover.id).where(
            Handover.state == "queued", Handover.requested_at < old))).scalars().all()
        expired = 0
        for hid in stale:
            expired += await self._close(hid, "system", "expired")
        return {"released": released, "expired": expired}

    # ------------------------------------------------------------------ rows

    def _push(self, channel: str) -> bool:
        spec = self.settings.channels.get(channel)
        return bool(spec and spec.push)

    def _add(self, h: Handover, author: Author, text: str, *, operator_id: int | None = None,
             buttons: list[list[str]] | None = None,
             to: tuple[str, str] | None = None) -> HandoverMessage:
        """A transcript row; messages to the citizen on a push channel (and alerts) wait for
        the sender, web chat messages are ready for the page at once."""
        state: str | None = None
        sent_at: dt.datetime | None = None
        if author in ("operator", "system"):
            if self._push(h.channel):
                to = (h.channel, h.user_id)
                state = "pending"
            else:
                state, sent_at = "sent", self.now
        elif author == "alert":
            state = "pending"
        row = HandoverMessage(
            handover_id=h.id, channel=h.channel, user_id=h.user_id, author=author,
            operator_id=operator_id, text=text, buttons=buttons or [],
            to_channel=to[0] if to else None, to_user=to[1] if to else None, state=state,
            attempts=0, not_before=self.now if state == "pending" else None, sent_at=sent_at,
            created_at=self.now)
        self.s.add(row)
        h.changed_at = self.now
        return row
