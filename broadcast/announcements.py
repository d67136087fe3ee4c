"""Notices: create, release (a run and its outbox rows), cancel, status, and ending runs.

Releasing writes one outbox row per recipient in the transaction that marks the notice as
sending, so a notice is either released to everyone or to no one. A repeating notice gets a
new run per occurrence, unique per (notice, occurrence): a release that happens twice (a job
fired twice, two schedulers) creates one run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast import attachments, audit
from broadcast.compose import notice_title, render_notice, render_report
from broadcast.schedule import latest_fire, next_fire
from broadcast.subscriptions import matching
from broadcast.types import (
    PRIORITIES,
    RANK,
    Actor,
    Draft,
    NoticeError,
    NoticeSummary,
)
from core.config import Settings
from core.db import utcnow
from core.files import OutgoingFile
from core.models import Announcement, AnnouncementArea, OutboxItem, Run, User
from core.storage import insert_for

__all__ = [
    "FOLLOW_KINDS",
    "OPEN",
    "NoticeError",
    "Recent",
    "approve",
    "cancel",
    "create",
    "find",
    "finish_runs",
    "finishable_run",
    "follow_up",
    "needs_approval",
    "reasons",
    "recent",
    "reject",
    "release",
    "run_counts",
    "summaries",
    "summary",
]

#: A sent notice can be followed by a correction or a withdrawal, to the same recipients.
FOLLOW_KINDS = ("correction", "withdrawal")

log = logging.getLogger(__name__)

#: Outbox states of a row not yet done with (counted as ``pending`` in status).
OPEN = ("pending", "claimed", "sending")
_CHUNK = 500


def _tz(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def validate(settings: Settings, draft: Draft, allowed_areas: Sequence[str] | None,
             now: dt.datetime) -> Draft:
    """The draft with areas/topics checked and ordered; raises NoticeError."""
    text = draft.text.strip()
    if not text:
        raise NoticeError("empty", "the notice text is empty")
    limit = settings.broadcast.notice_max_chars
    if len(text) > limit:
        raise NoticeError("too_long", f"the notice text has {len(text)} characters; "
                                      f"at most {limit} (broadcast.notice_max_chars)")
    if draft.title and len(draft.title) > 120:
        raise NoticeError("too_long", "the title has more than 120 characters")
    known_areas = [a.code for a in settings.areas]
    known_topics = [t.id for t in settings.topics]
    for code in draft.areas:
        if code not in known_areas:
            raise NoticeError("unknown_area", f"unknown area {code!r} "
                                              f"(configured: {', '.join(known_areas)})")
    for tid in draft.topics:
        if tid not in known_topics:
            raise NoticeError("unknown_topic", f"unknown topic {tid!r} "
                                               f"(configured: {', '.join(known_topics)})")
    if not draft.areas:
        raise NoticeError("no_area", "choose at least one area")
    if not draft.topics:
        raise NoticeError("no_topic", "choose at least one topic")
    if allowed_areas is not None:
        outside = [a for a in draft.areas if a not in allowed_areas]
        if outside:
            raise NoticeError("forbidden_area", f"you may not send to {', '.join(outside)}")
    if draft.priority not in PRIORITIES:
        raise NoticeError("bad_priority", f"priority must be one of {', '.join(PRIORITIES)}")
    if draft.repeat not in ("none", "daily", "weekly"):
        raise NoticeError("bad_repeat", "repeat must be daily or weekly")
    if draft.at is not None and draft.at.tzinfo is None:
        raise NoticeError("bad_time", "the time needs a time zone")
    if draft.at is not None and draft.at <= now:
        raise NoticeError("past", f"{draft.at.isoformat()} is in the past")
    return Draft(text=text, title=(draft.title or "").strip() or None,
                 areas=[a for a in known_areas if a in draft.areas],
                 topics=[t for t in known_topics if t in draft.topics],
                 priority=draft.priority, at=draft.at, repeat=draft.repeat, radio=draft.radio)


def needs_approval(settings: Settings, areas: Sequence[str],
                   allowed_areas: Sequence[str] | None) -> bool:
    """A notice by a member (not an admin: ``allowed_areas`` is None) to an area listed under
    ``broadcast.approval`` waits for an approver."""
    return allowed_areas is not None and bool(set(areas) & set(settings.broadcast.approval))


async def _store(session: AsyncSession, ann: Announcement) -> None:
    session.add(ann)
    await session.flush()
    session.add_all([AnnouncementArea(announcement_id=ann.id, area=a)
                     for a in dict.fromkeys(ann.areas)])


async def create(session: AsyncSession, settings: Settings, texts: Mapping[str, str],
                 by: Actor, draft: Draft, *, allowed_areas: Sequence[str] | None = None,
                 attachment: OutgoingFile | None = None,
                 now: dt.datetime | None = None) -> Announcement:
    """Store a notice (audited) with its attachment, if any (checked by
    ``broadcast.attachments.check``). Without a time it is released at once, in this
    transaction, unless it waits for approval (``broadcast.approval``)."""
    now = now or utcnow()
    d = validate(settings, draft, allowed_areas, now)
    waiting = needs_approval(settings, d.areas, allowed_areas)
    ann = Announcement(
        author=by.label, author_channel=by.channel, author_user_id=by.user_id,
        title=d.title, text=d.text, areas=d.areas, topics=d.topics, priority=d.priority,
        radio=d.radio, repeat=d.repeat, first_at=d.at or now, state="scheduled",
        created_at=now, updated_at=now, approval="waiting" if waiting else None)
    await _store(session, ann)
    if attachment is not None:
        await attachments.attach(session, ann.id, attachment)
    await audit.record(session, by, "announce.create", at=now, details={
        "id": ann.id, "title": notice_title(d.title, d.text), "priority": d.priority,
        "at": "now" if d.at is None else d.at.isoformat(), "repeat": d.repeat,
        "radio": d.radio, "approval": ann.approval,
        "attachment": None if attachment is None else {
            "file": attachment.filename, "bytes": len(attachment.data),
            "sha256": attachment.sha256}},
        targets={"areas": d.areas, "topics": d.topics})
    if d.at is None and not waiting:
        await release(session, settings, texts, ann.id, now=now, by=by)
    return ann


async def _locked(session: AsyncSession, announcement_id: int) -> Announcement | None:
    return (await session.execute(select(Announcement).where(
        Announcement.id == announcement_id).with_for_update())).scalar_one_or_none()


def may_approve(settings: Settings, ann: Announcement, approver: str | None) -> bool:
    """Whether ``approver`` (a console account name; None for an admin) may approve ``ann``:
    an approver of every area of it that needs approval."""
    if approver is None:
        return True
    rules = settings.broadcast.approval
    return all(approver in rules[a] for a in ann.areas if a in rules)


async def approve(session: AsyncSession, settings: Settings, texts: Mapping[str, str],
                  by: Actor, announcement_id: int, *, approver: str | None,
                  now: dt.datetime | None = None) -> Announcement | None:
    """Let a waiting notice go out: at once when its time has come, else at its time.
    ``approver`` is the console account name (None: an admin). An author never approves
    their own notice unless they are an admin."""
    now = now or utcnow()
    ann = await _locked(session, announcement_id)
    if ann is None:
        return None
    if ann.approval != "waiting" or ann.state != "scheduled":
        raise NoticeError("not_waiting", f"notice {ann.id} is not waiting for approval")
    if not may_approve(settings, ann, approver):
        raise NoticeError("forbidden_area", f"you may not approve notices to {ann.areas}")
    if approver is not None and ann.author == by.label:
        raise NoticeError("own_notice", "an approver cannot approve their own notice")
    ann.approval, ann.approved_by, ann.updated_at = "approved", by.label, now
    await audit.record(session, by, "announce.approve", at=now, details={"id": ann.id},
                       targets={"areas": ann.areas, "topics": ann.topics})
    if ann.repeat == "none" and ann.first_at <= now:
        await release(session, settings, texts, ann.id, now=now, by=by)
    return ann


async def reject(session: AsyncSession, by: Actor, announcement_id: int, *,
                 settings: Settings, approver: str | None, reason: str = "",
                 now: dt.datetime | None = None) -> Announcement | None:
    """Refuse a waiting notice: it is cancelled, never sent."""
    now = now or utcnow()
    ann = await _locked(session, announcement_id)
    if ann is None:
        return None
    if ann.approval != "waiting" or ann.state != "scheduled":
        raise NoticeError("not_waiting", f"notice {ann.id} is not waiting for approval")
    if not may_approve(settings, ann, approver):
        raise NoticeError("forbidden_area", f"you may not approve notices to {ann.areas}")
    ann.approval, ann.approved_by, ann.state, ann.updated_at = \
        "rejected", by.label, "cancelled", now
    await audit.record(session, by, "announce.reject", at=now,
                       details={"id": ann.id, "reason": reason[:300]},
                       targets={"areas": ann.areas, "topics": ann.topics})
    return ann


async def follow_up(session: AsyncSession, settings: Settings, texts: Mapping[str, str],
                    by: Actor, announcement_id: int, kind: str, text: str, *,
                    allowed_areas: Sequence[str] | None = None,
                    now: dt.datetime | None = None) -> Announcement:
    """A correction or withdrawal of a notice that went out: a short message, released now,
    to the people the first one reached, linked to it. A withdrawal also stops what is left
    to send of the first one. Raises NoticeError (never sent, not yours, bad text)."""
    now = now or utcnow()
    if kind not in FOLLOW_KINDS:
        raise NoticeError("bad_kind", f"kind must be one of {', '.join(FOLLOW_KINDS)}")
    first = (await session.execute(select(Announcement).where(
        Announcement.id == announcement_id))).scalar_one_or_none()
    if first is None:
        raise NoticeError("not_found", f"no notice {announcement_id}")
    if allowed_areas is not None and not set(first.areas) <= set(allowed_areas):
        raise NoticeError("forbidden_area", f"notice {first.id} targets areas outside yours")
    sent_runs = (await session.execute(select(Run.id).where(
        Run.announcement_id == first.id, Run.recipients > 0).limit(1))).first()
    if sent_runs is None:
        raise NoticeError("not_sent", f"notice {first.id} has not gone out to anyone: "
                                      "change or cancel it instead")
    d = validate(settings, Draft(text=text, areas=list(first.areas), topics=list(first.topics),
                                 priority=first.priority), None, now)  # type: ignore[arg-type]
    if kind == "withdrawal" and first.state in ("scheduled", "sending"):
        await cancel(session, by, first.id, now=now)
    title = notice_title(first.title, first.text)
    ann = Announcement(
        author=by.label, author_channel=by.channel, author_user_id=by.user_id,
        title=title, text=d.text, areas=list(first.areas), topics=list(first.topics),
        priority=first.priority, radio=False, repeat="none", first_at=now, state="scheduled",
        created_at=now, updated_at=now, follows_id=first.id, follow_kind=kind)
    await _store(session, ann)
    action = "announce.correct" if kind == "correction" else "announce.withdraw"
    await audit.record(session, by, action, at=now,
                       details={"id": ann.id, "follows": first.id, "title": title},
                       targets={"areas": ann.areas, "topics": ann.topics})
    await release(session, settings, texts, ann.id, now=now, by=by)
    return ann


async def _reached(session: AsyncSession, announcement_id: int) -> list[tuple[str, str]]:
    """Who a notice reached (or was being sent to): the recipients of its follow-ups."""
    runs = select(Run.id).where(Run.announcement_id == announcement_id).scalar_subquery()
    rows = await session.execute(
        select(OutboxItem.channel, OutboxItem.user_id)
        .where(OutboxItem.run_id.in_(runs), OutboxItem.kind == "notice",
               OutboxItem.state.in_(("sent", "sending")))
        .distinct().order_by(OutboxItem.channel, OutboxItem.user_id))
    return [(c, u) for c, u in rows]


async def release(session: AsyncSession, settings: Settings, texts: Mapping[str, str],
                  announcement_id: int, *, now: dt.datetime | None = None,
                  by: Actor = audit.SYSTEM) -> Run | None:
    """Create the run of the current occurrence and one outbox row per recipient.

    None when there is nothing to release: the notice is cancelled or done, or this
    occurrence was released already."""
    now = now or utcnow()
    ann = (await session.execute(select(Announcement).where(
        Announcement.id == announcement_id).with_for_update())).scalar_one_or_none()
    if ann is None or ann.state in ("cancelled", "done") or ann.approval == "waiting":
        return None
    if ann.repeat == "none" and (await session.execute(
            select(Run.id).where(Run.announcement_id == ann.id).limit(1))).first():
        return None
    planned = latest_fire(ann.first_at, ann.repeat, now, _tz(settings))
    text = render_notice(texts, title=ann.title, text=ann.text, priority=ann.priority,
                         area_names=[settings.area_name(a) for a in ann.areas],
                         kind=ann.follow_kind)
    run_id = (await session.execute(
        insert_for(session, Run)
        .values(announcement_id=ann.id, planned_for=planned, released_at=now, recipients=0,
                text=text)
        .on_conflict_do_nothing()
        .returning(Run.id))).scalar_one_or_none()
    if run_id is None:
        return None
    recipients = (await _reached(session, ann.follows_id) if ann.follows_id is not None
                  else await matching(session, ann.areas, ann.topics))
    blocked = {(c, u) for c, u in await session.execute(select(User.channel, User.user_id)
                                                       .where(User.blocked_at.is_not(None)))}
    rows: list[dict[str, Any]] = []
    for channel, user_id in recipients:
        row: dict[str, Any] = {
            "run_id": run_id, "kind": "notice", "channel": channel, "user_id": user_id,
            "rank": RANK[ann.priority], "priority": ann.priority, "state": "pending",
            "attempts": 0, "not_before": now, "created_at": now, "reason": None}
        if (channel, user_id) in blocked:
            # Counted, never sent: the platform told us this person blocked the bot.
            row.update(state="blocked", reason="blocked the bot before this notice")
        elif channel not in settings.push_channels:
            row.update(state="failed", reason=f"{channel} cannot send notices")
        rows.append(row)
    stmt = insert_for(session, OutboxItem).on_conflict_do_nothing()
    for i in range(0, len(rows), _CHUNK):
        await session.execute(stmt, rows[i:i + _CHUNK])
    run = await session.get(Run, run_id)
    assert run is not None
    run.recipients = len(rows)
    ann.state, ann.updated_at = "sending", now
    await audit.record(session, by, "announce.release", at=now, details={
        "id": ann.id, "run": run_id, "planned_for": planned.isoformat(),
        "recipients": len(rows)}, targets={"areas": ann.areas, "topics": ann.topics})
    if not any(r["state"] == "pending" for r in rows):
        await finish_runs(session, settings, texts, now=now, run_ids=[run_id])
    log.info("notice %s released: run %s, %d recipients", ann.id, run_id, len(rows))
    return run


async def run_counts(session: AsyncSession, run_id: int) -> dict[str, int]:
    """recipients, sent, failed, blocked, pending (not yet sent, deferred included), cancelled."""
    rows = (await session.execute(
        select(OutboxItem.state, func.count())
        .where(OutboxItem.run_id == run_id, OutboxItem.kind == "notice")
        .group_by(OutboxItem.state))).all()
    by_state: dict[str, int] = {state: n for state, n in rows}
    return {
        "recipients": sum(by_state.values()),
        "sent": by_state.get("sent", 0),
        "failed": by_state.get("failed", 0),
        "blocked": by_state.get("blocked", 0),
        "pending": sum(by_state.get(s, 0) for s in OPEN),
        "cancelled": by_state.get("cancelled", 0),
    }


def _open_rows(run_id: Any) -> Any:
    return exists().where(OutboxItem.run_id == run_id, OutboxItem.kind == "notice",
                          OutboxItem.state.in_(OPEN))


def finishable_run() -> Any:
    """True when some run has no row left to send and is not ended yet (what
    :func:`finish_runs` would end)."""
    return exists().where(Run.finished_at.is_(None), ~_open_rows(Run.id))


async def finish_runs(session: AsyncSession, settings: Settings, texts: Mapping[str, str], *,
                      now: dt.datetime | None = None,
                      run_ids: Sequence[int] | None = None) -> list[int]:
    """End every run with no row left to send: keep its figures, move the notice on (done, or
    back to scheduled for a repeating one) and queue the delivery report to its author.

    The guarded UPDATE makes each run end once even when several senders sweep at once."""
    now = now or utcnow()
    stmt = select(Run.id).where(Run.finished_at.is_(None), ~_open_rows(Run.id))
    if run_ids is not None:
        stmt = stmt.where(Run.id.in_(run_ids))
    ended: list[int] = []
    for run_id in (await session.execute(stmt)).scalars().all():
        counts = await run_counts(session, run_id)
        done = await session.execute(
            update(Run).where(Run.id == run_id, Run.finished_at.is_(None), ~_open_rows(run_id))
            .values(finished_at=now, counts=counts)
            .execution_options(synchronize_session=False))
        if not getattr(done, "rowcount", 0):
            continue
        ended.append(run_id)
        run = await session.get(Run, run_id)
        assert run is not None
        ann = (await session.execute(select(Announcement).where(
            Announcement.id == run.announcement_id).with_for_update())).scalar_one()
        others = (await session.execute(select(Run.id).where(
            Run.announcement_id == ann.id, Run.id != run_id,
            Run.finished_at.is_(None)).limit(1))).first()
        if ann.state == "sending" and others is None:
            ann.state = "done" if ann.repeat == "none" else "scheduled"
            ann.updated_at = now
        await audit.record(session, audit.SYSTEM, "announce.sent", at=now,
                           details={"id": ann.id, "run": run_id, **counts},
                           targets={"areas": ann.areas, "topics": ann.topics})
        if ann.author_channel in settings.push_channels and ann.author_user_id:
            title = notice_title(ann.title, ann.text)
            await session.execute(insert_for(session, OutboxItem).values(
                run_id=run_id, kind="report", channel=ann.author_channel,
                user_id=ann.author_user_id, rank=RANK["priority"], priority="priority",
                state="pending", attempts=0, not_before=now, created_at=now,
                text=render_report(texts, notice_id=ann.id, title=title, counts=counts),
            ).on_conflict_do_nothing())
        log.info("notice %s run %s ended: %s", ann.id, run_id, counts)
    return ended


async def report_missed(session: AsyncSession, settings: Settings, texts: Mapping[str, str],
                        ann: Announcement, now: dt.datetime) -> None:
    """Tell a chat author that their one-off notice was not sent because its time passed while
    nothing was running. The report rides the outbox like a delivery report, on a run that
    records the missed occurrence (0 recipients, finished at once)."""
    if ann.author_channel not in settings.push_channels or not ann.author_user_id:
        return
    run_id = (await session.execute(
        insert_for(session, Run)
        .values(announcement_id=ann.id, planned_for=ann.first_at, released_at=now,
                recipients=0, text="", finished_at=now, counts={"recipients": 0, "missed": 1})
        .on_conflict_do_nothing()
        .returning(Run.id))).scalar_one_or_none()
    if run_id is None:
        return
    due = ann.first_at.astimezone(_tz(settings))
    title = notice_title(ann.title, ann.text)
    await session.execute(insert_for(session, OutboxItem).values(
        run_id=run_id, kind="report", channel=ann.author_channel, user_id=ann.author_user_id,
        rank=RANK["priority"], priority="priority", state="pending", attempts=0,
        not_before=now, created_at=now,
        text=texts["report.missed"].format(id=ann.id, title=title,
                                           due=due.strftime("%H:%M ngày %d/%m/%Y")),
    ).on_conflict_do_nothing())


async def cancel(session: AsyncSession, by: Actor, announcement_id: int, *,
                 allowed_areas: Sequence[str] | None = None,
                 now: dt.datetime | None = None) -> Announcement | None:
    """Stop a notice: no further run, and rows not yet handed to a platform are dropped.
    None when there is no such notice; NoticeError when it is over or not the actor's."""
    now = now or utcnow()
    ann = (await session.execute(select(Announcement).where(
        Announcement.id == announcement_id).with_for_update())).scalar_one_or_none()
    if ann is None:
        return None
    if allowed_areas is not None and not set(ann.areas) <= set(allowed_areas):
        raise NoticeError("forbidden_area", f"notice {ann.id} targets areas outside yours")
    if ann.state in ("done", "cancelled"):
        raise NoticeError("over", f"notice {ann.id} is already {ann.state}")
    ann.state, ann.updated_at = "cancelled", now
    runs = select(Run.id).where(Run.announcement_id == ann.id).scalar_subquery()
    dropped = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.run_id.in_(runs), OutboxItem.kind == "notice",
               OutboxItem.state.in_(("pending", "claimed")))
        .values(state="cancelled", claim_token=None, lease_until=None,
                reason=f"cancelled by {by.label}")
        .execution_options(synchronize_session=False))
    await audit.record(session, by, "announce.cancel", at=now,
                       details={"id": ann.id, "dropped": int(getattr(dropped, "rowcount", 0))},
                       targets={"areas": ann.areas, "topics": ann.topics})
    return ann


async def summary(session: AsyncSession, ann: Announcement,
                  now: dt.datetime | None = None) -> NoticeSummary:
    """State and the figures of the latest run (a repeating notice has one run per day/week)."""
    now = now or utcnow()
    runs = (await session.execute(select(Run).where(Run.announcement_id == ann.id)
                                  .order_by(Run.id.desc()))).scalars().all()
    counts: dict[str, int] = {}
    if runs:
        latest = runs[0]
        counts = dict(latest.counts) if latest.counts else await run_counts(session, latest.id)
    when = None
    if ann.state == "scheduled" or (ann.state == "sending" and ann.repeat != "none"):
        when = next_fire(ann.first_at, ann.repeat, now)
    return NoticeSummary(
        id=ann.id, title=notice_title(ann.title, ann.text), state=ann.state,
        priority=ann.priority, repeat=ann.repeat, at=when, areas=tuple(ann.areas),
        topics=tuple(ann.topics), recipients=counts.get("recipients", 0),
        sent=counts.get("sent", 0), failed=counts.get("failed", 0),
        blocked=counts.get("blocked", 0), pending=counts.get("pending", 0), radio=ann.radio,
        author=ann.author, runs=len(runs), extra={"cancelled": counts.get("cancelled", 0)},
        approval=ann.approval, follows=ann.follows_id, follow_kind=ann.follow_kind)


async def summaries(session: AsyncSession, *, areas: Sequence[str] | None = None,
                    active_only: bool = False, limit: int = 100,
                    now: dt.datetime | None = None) -> list[NoticeSummary]:
    """Newest first; ``areas`` keeps notices entirely within those areas."""
    stmt = select(Announcement).order_by(Announcement.id.desc())
    if active_only:
        stmt = stmt.where(Announcement.state.in_(("scheduled", "sending")))
    out: list[NoticeSummary] = []
    for ann in (await session.execute(stmt)).scalars().all():
        if areas is not None and not set(ann.areas) <= set(areas):
            continue
        out.append(await summary(session, ann, now))
        if len(out) >= limit:
            break
    return out


@dataclass(frozen=True)
class Recent:
    """A notice as citizens can read it again ("Thông báo gần đây")."""

    id: int
    text: str  # as it was sent (header, title, body, areas)
    released_at: dt.datetime


async def recent(session: AsyncSession, areas: Sequence[str], *, limit: int,
                 since: dt.datetime) -> list[Recent]:
    """The last notices that went out to any of ``areas`` since ``since``, newest first, as
    they were sent. A notice later withdrawn is left out (its withdrawal is listed)."""
    withdrawn = select(Announcement.follows_id).where(
        Announcement.follow_kind == "withdrawal", Announcement.follows_id.is_not(None))
    latest = (select(Run.announcement_id, func.max(Run.id).label("run_id"))
              .join(AnnouncementArea, AnnouncementArea.announcement_id == Run.announcement_id)
              .join(Announcement, Announcement.id == Run.announcement_id)
              .where(AnnouncementArea.area.in_(list(areas)), Run.released_at >= since,
                     Announcement.state != "cancelled",
                     Announcement.id.not_in(withdrawn))
              .group_by(Run.announcement_id).subquery())
    rows = await session.execute(
        select(Run.announcement_id, Run.text, Run.released_at)
        .join(latest, latest.c.run_id == Run.id)
        .order_by(Run.released_at.desc(), Run.id.desc()).limit(limit))
    return [Recent(i, text, at) for i, text, at in rows]


async def find(session: AsyncSession, *, allowed_areas: Sequence[str] | None = None,
               area: str | None = None, state: str | None = None,
               priority: str | None = None, text: str | None = None, limit: int = 50,
               offset: int = 0, now: dt.datetime | None = None) -> list[NoticeSummary]:
    """Notices newest first, filtered in SQL, with the figures of each one's latest run
    (three queries whatever the page size). ``allowed_areas`` keeps notices entirely within
    those areas; ``state`` may also be ``waiting`` (for approval)."""
    now = now or utcnow()
    stmt = select(Announcement).order_by(Announcement.id.desc()).limit(limit).offset(offset)
    if allowed_areas is not None:
        stmt = stmt.where(~exists().where(
            AnnouncementArea.announcement_id == Announcement.id,
            AnnouncementArea.area.not_in(list(allowed_areas))))
    if area:
        stmt = stmt.where(exists().where(AnnouncementArea.announcement_id == Announcement.id,
                                         AnnouncementArea.area == area))
    if state == "waiting":
        stmt = stmt.where(Announcement.approval == "waiting",
                          Announcement.state == "scheduled")
    elif state:
        stmt = stmt.where(Announcement.state == state)
    if priority:
        stmt = stmt.where(Announcement.priority == priority)
    if text:
        like = f"%{text.replace('%', '').replace('_', '')[:100]}%"
        stmt = stmt.where(Announcement.title.ilike(like) | Announcement.text.ilike(like))
    anns = list((await session.execute(stmt)).scalars())
    return await _summarize(session, anns, now)


async def _summarize(session: AsyncSession, anns: Sequence[Announcement],
                     now: dt.datetime) -> list[NoticeSummary]:
    ids = [a.id for a in anns]
    if not ids:
        return []
    latest: dict[int, tuple[int, int, dict[str, Any] | None]] = {}
    rows = await session.execute(
        select(Run.announcement_id, func.count(), func.max(Run.id))
        .where(Run.announcement_id.in_(ids)).group_by(Run.announcement_id))
    run_ids = {}
    for ann_id, n, run_id in rows:
        run_ids[run_id] = ann_id
        latest[ann_id] = (n, run_id, None)
    if run_ids:
        for run_id, counts in await session.execute(
                select(Run.id, Run.counts).where(Run.id.in_(list(run_ids)))):
            ann_id = run_ids[run_id]
            latest[ann_id] = (latest[ann_id][0], run_id, counts)
    live = [rid for rid, aid in run_ids.items() if latest[aid][2] is None]
    by_run: dict[int, dict[str, int]] = {}
    if live:
        for run_id, st, n in await session.execute(
                select(OutboxItem.run_id, OutboxItem.state, func.count())
                .where(OutboxItem.run_id.in_(live), OutboxItem.kind == "notice")
                .group_by(OutboxItem.run_id, OutboxItem.state)):
            by_run.setdefault(run_id, {})[st] = n
    out = []
    for ann in anns:
        n_runs, run_id, counts = latest.get(ann.id, (0, 0, None))
        if counts is None:
            got = by_run.get(run_id, {})
            counts = {"recipients": sum(got.values()), "sent": got.get("sent", 0),
                      "failed": got.get("failed", 0), "blocked": got.get("blocked", 0),
                      "pending": sum(got.get(x, 0) for x in OPEN),
                      "cancelled": got.get("cancelled", 0)}
        when = None
        if ann.state == "scheduled" or (ann.state == "sending" and ann.repeat != "none"):
            when = next_fire(ann.first_at, ann.repeat, now)
        out.append(NoticeSummary(
            id=ann.id, title=notice_title(ann.title, ann.text), state=ann.state,
            priority=ann.priority, repeat=ann.repeat, at=when, areas=tuple(ann.areas),
            topics=tuple(ann.topics), recipients=counts.get("recipients", 0),
            sent=counts.get("sent", 0), failed=counts.get("failed", 0),
            blocked=counts.get("blocked", 0), pending=counts.get("pending", 0),
            radio=ann.radio, author=ann.author, runs=n_runs,
            extra={"cancelled": counts.get("cancelled", 0)}, approval=ann.approval,
            follows=ann.follows_id, follow_kind=ann.follow_kind))
    return out


async def reasons(session: AsyncSession, announcement_id: int, limit: int = 8
                  ) -> list[tuple[str, str, int]]:
    """Why deliveries of a notice failed or were held, most frequent first:
    (state, reason, count) over its latest run."""
    run_id = (await session.execute(select(func.max(Run.id)).where(
        Run.announcement_id == announcement_id))).scalar_one_or_none()
    if run_id is None:
        return []
    rows = await session.execute(
        select(OutboxItem.state, OutboxItem.reason, func.count())
        .where(OutboxItem.run_id == run_id, OutboxItem.kind == "notice",
               OutboxItem.state.in_(("failed", "blocked", "pending")),
               OutboxItem.reason.is_not(None))
        .group_by(OutboxItem.state, OutboxItem.reason)
        .order_by(func.count().desc()).limit(limit))
    return [(st, reason or "", n) for st, reason, n in rows]
