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
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast import audit
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
from core.models import Announcement, OutboxItem, Run, User
from core.storage import insert_for

__all__ = [
    "OPEN",
    "NoticeError",
    "cancel",
    "create",
    "finish_runs",
    "release",
    "run_counts",
    "summaries",
    "summary",
]

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


async def create(session: AsyncSession, settings: Settings, texts: Mapping[str, str],
                 by: Actor, draft: Draft, *, allowed_areas: Sequence[str] | None = None,
                 now: dt.datetime | None = None) -> Announcement:
    """Store a notice (audited). Without a time it is released at once, in this transaction."""
    now = now or utcnow()
    d = validate(settings, draft, allowed_areas, now)
    ann = Announcement(
        author=by.label, author_channel=by.channel, author_user_id=by.user_id,
        title=d.title, text=d.text, areas=d.areas, topics=d.topics, priority=d.priority,
        radio=d.radio, repeat=d.repeat, first_at=d.at or now, state="scheduled",
        created_at=now, updated_at=now)
    session.add(ann)
    await session.flush()
    await audit.record(session, by, "announce.create", at=now, details={
        "id": ann.id, "title": notice_title(d.title, d.text), "priority": d.priority,
        "at": "now" if d.at is None else d.at.isoformat(), "repeat": d.repeat,
        "radio": d.radio}, targets={"areas": d.areas, "topics": d.topics})
    if d.at is None:
        await release(session, settings, texts, ann.id, now=now, by=by)
    return ann


async def release(session: AsyncSession, settings: Settings, texts: Mapping[str, str],
                  announcement_id: int, *, now: dt.datetime | None = None,
                  by: Actor = audit.SYSTEM) -> Run | None:
    """Create the run of the current occurrence and one outbox row per recipient.

    None when there is nothing to release: the notice is cancelled or done, or this
    occurrence was released already."""
    now = now or utcnow()
    ann = (await session.execute(select(Announcement).where(
        Announcement.id == announcement_id).with_for_update())).scalar_one_or_none()
    if ann is None or ann.state in ("cancelled", "done"):
        return None
    if ann.repeat == "none" and (await session.execute(
            select(Run.id).where(Run.announcement_id == ann.id).limit(1))).first():
        return None
    planned = latest_fire(ann.first_at, ann.repeat, now, _tz(settings))
    text = render_notice(texts, title=ann.title, text=ann.text, priority=ann.priority,
                         area_names=[settings.area_name(a) for a in ann.areas])
    run_id = (await session.execute(
        insert_for(session, Run)
        .values(announcement_id=ann.id, planned_for=planned, released_at=now, recipients=0,
                text=text)
        .on_conflict_do_nothing()
        .returning(Run.id))).scalar_one_or_none()
    if run_id is None:
        return None
    recipients = await matching(session, ann.areas, ann.topics)
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
        author=ann.author, runs=len(runs), extra={"cancelled": counts.get("cancelled", 0)})


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
