"""The week's figures for the content team: questions per day and channel, how many were
answered, only suggested or handed over, 👍/👎 per answer, the biggest groups of unanswered
questions, and the services asked about most.

Counts only, grouped in SQL by local day; the unanswered groups are named by the words several
of their questions share (``console.inbox.key_terms``), never by one citizen's text. Nothing
here identifies anyone, so the page and its CSV may leave the server.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from console import inbox
from core.config import Settings
from core.models import Feedback, MessageLog

__all__ = ["OUTCOMES", "Figures", "gather", "outcome_of"]

#: How a question ended, in the order shown.
OUTCOMES = ("answered", "out_of_scope", "suggested", "handed_over")


def outcome_of(decision: str | None, intent: str | None) -> str:
    """answered | out_of_scope (said so, with where to ask) | suggested (three guesses) |
    handed_over (the way to a person: unsure, or the citizen asked for one)."""
    if decision == "handover" or intent == "human":
        return "handed_over"
    if decision == "suggest":
        return "suggested"
    if intent == "out_of_scope":
        return "out_of_scope"
    return "answered"


@dataclass
class Figures:
    days: list[str]  # local dates, oldest first
    per_day: dict[str, dict[str, int]]  # day -> channel -> questions
    outcomes: Counter[str]
    feedback: list[tuple[str, int, int]]  # (answer reference, 👍, 👎), most votes first
    unanswered: list[inbox.Item]  # of the period, reviewed or not (see :meth:`group`)
    services: list[tuple[str, int]]  # (service id, questions answered), most first
    channels: list[str] = field(default_factory=list)
    groups: list[inbox.Group] = field(default_factory=list)  # unanswered, biggest first

    def group(self, similarity: float, space: inbox.Space | None, top: int = 10) -> None:
        """Group the unanswered questions (CPU work: run it in a thread)."""
        groups = (inbox.cluster(self.unanswered, similarity, space) if space is not None
                  else inbox.by_guess(self.unanswered))
        self.groups = [g for g in groups if g.count > 1][:top]

    @property
    def questions(self) -> int:
        return sum(self.outcomes.values())

    def share(self, outcome: str) -> float:
        return self.outcomes[outcome] / self.questions if self.questions else 0.0


def _local_day(session: AsyncSession, col: Any, tz: ZoneInfo, now: dt.datetime) -> Any:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return func.to_char(func.timezone(tz.key, col), "YYYY-MM-DD")
    # SQLite keeps UTC text; Vietnam has had no daylight saving time since 1975.
    offset = now.astimezone(tz).utcoffset() or dt.timedelta()
    return func.date(col, f"{int(offset.total_seconds()) // 60:+d} minutes")


async def gather(session: AsyncSession, settings: Settings, *, days: int, now: dt.datetime,
                 top: int = 10) -> Figures:
    """The figures of the ``days`` local days up to today."""
    tz = ZoneInfo(settings.timezone)
    today = now.astimezone(tz).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    asked = MessageLog.intent.is_not(None)  # typed questions, not buttons or commands
    day = _local_day(session, MessageLog.created_at, tz, now)
    per_day: dict[str, dict[str, int]] = {}
    for d, channel, n in await session.execute(
            select(day, MessageLog.channel, func.count()).where(
                asked, MessageLog.created_at >= since).group_by(day, MessageLog.channel)):
        per_day.setdefault(str(d), {})[channel] = int(n)
    outcomes: Counter[str] = Counter({o: 0 for o in OUTCOMES})
    for decision, intent, n in await session.execute(
            select(MessageLog.decision, MessageLog.intent, func.count()).where(
                asked, MessageLog.created_at >= since).group_by(
                MessageLog.decision, MessageLog.intent)):
        outcomes[outcome_of(decision, intent)] += int(n)
    votes: dict[str, list[int]] = {}
    for answer, value, n in await session.execute(
            select(Feedback.answer, Feedback.value, func.count()).where(
                Feedback.created_at >= since).group_by(Feedback.answer, Feedback.value)):
        v = votes.setdefault(answer, [0, 0])
        v[0 if value > 0 else 1] += int(n)
    feedback = sorted(((a, up, down) for a, (up, down) in votes.items()),
                      key=lambda x: (-(x[1] + x[2]), -x[2], x[0]))[:top * 2]
    label = MessageLog.label
    services = [(str(lb)[4:], int(n)) for lb, n in await session.execute(
        select(label, func.count()).where(asked, MessageLog.created_at >= since,
                                          MessageLog.decision == "answer",
                                          label.like("svc\\_%", escape="\\"))
        .group_by(label).order_by(func.count().desc(), label).limit(top))]
    found = await inbox.items(session, limit=settings.learning.inbox_max, since=since)
    found += await inbox.items(session, limit=settings.learning.inbox_max, since=since,
                               reviewed=True)
    days_list = [(first + dt.timedelta(days=i)).isoformat() for i in range(days)]
    channels = sorted({ch for v in per_day.values() for ch in v})
    return Figures(days_list, per_day, outcomes, feedback, found, services, channels)
