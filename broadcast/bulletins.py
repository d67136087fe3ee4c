"""Radio bulletins from notices: daily slots per area, emergencies at once, sent to operators.

Notices flagged ``radio`` become audio for the ward's loudspeakers:

* at each daily slot (``radio.slots``, Asia/Ho_Chi_Minh) every area gets one bulletin with the
  radio notices released since the previous day's last slot (so an evening notice is read the
  next morning, and the day's notices are read again in the evening);
* an emergency radio notice is built for each of its areas as soon as it is released;
* each bulletin is published in the area's folder (RSS/M3U feeds) and sent to the area's radio
  operators in chat (Telegram: the MP3 itself; other channels: a link when ``web.public_url`` is
  set).

Every bulletin has a row in ``radio_bulletins`` unique per (area, key); the process that inserts
the row builds it, so restarts and several processes never build one twice, and a slot missed
while the assistant was down is still built within ``broadcast.scheduler_misfire_grace_s``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broadcast.compose import notice_title, priority_label
from broadcast.radio.engines import normalizer_for
from broadcast.radio.normalize import Normalizer
from broadcast.sender import Deliverer
from broadcast.types import RANK
from core.db import utcnow, write_lock
from core.delivery import Delivery
from core.models import Announcement, RadioBulletin, Run, TeamMember
from core.storage import insert_for

if TYPE_CHECKING:
    from broadcast.radio.bulletin import Bulletin
    from broadcast.radio.tts import TtsEngine
    from core.config import Settings
    from flows.lexicon import Lexicon

__all__ = ["AudioDeliverer", "NoticeForRadio", "RadioBulletins", "build_for_notices",
           "notices_for_radio"]

log = logging.getLogger(__name__)

_ORDINAL = ["nhất", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười"]
_STALE_BUILD = dt.timedelta(minutes=15)


class AudioDeliverer(Deliverer, Protocol):
    """A channel declared with ``files``: the bulletin goes to operators as the MP3 itself."""

    async def deliver_audio(self, user_id: str, path: Path, caption: str) -> Delivery: ...


@dataclass(frozen=True)
class NoticeForRadio:
    id: int
    title: str
    text: str
    priority: str


def for_radio(ann: Announcement, priority: str | None = None) -> NoticeForRadio:
    """What a bulletin reads of a stored notice."""
    return NoticeForRadio(ann.id, notice_title(ann.title, ann.text), ann.text,
                          priority or ann.priority)


def compile_text(notices: Sequence[NoticeForRadio]) -> tuple[str, str]:
    """(title, text) of one bulletin reading several notices in order of priority."""
    ordered = sorted(notices, key=lambda n: (RANK.get(n.priority, 2), n.id))
    if len(ordered) == 1:
        return ordered[0].title, ordered[0].text
    parts = []
    for i, n in enumerate(ordered):
        ordinal = _ORDINAL[i] if i < len(_ORDINAL) else str(i + 1)
        parts.append(f"Thông báo thứ {ordinal}: {n.title}.\n{n.text}")
    return "", "\n\n".join(parts)


def top_priority(notices: Sequence[NoticeForRadio]) -> str:
    return min((n.priority for n in notices), key=lambda p: RANK.get(p, 2), default="normal")


async def notices_for_radio(session: AsyncSession, area: str, start: dt.datetime,
                            end: dt.datetime) -> list[NoticeForRadio]:
    """Radio notices for ``area`` with a run released in [start, end), not cancelled."""
    rows = (await session.execute(
        select(Announcement).join(Run, Run.announcement_id == Announcement.id)
        .where(Announcement.radio.is_(True), Announcement.state != "cancelled",
               Run.released_at >= start, Run.released_at < end)
        .distinct())).scalars().all()
    return [for_radio(a) for a in rows if area in (a.areas or [])]


def build_for_notices(settings: Settings, engine: TtsEngine, normalizer: Normalizer,
                      notices: Sequence[NoticeForRadio], area: str, when: dt.datetime, *,
                      title: str | None = None, out_dir: Path | None = None) -> Bulletin:
    """Build the bulletin of ``notices`` for ``area`` (blocking: call it in a thread)."""
    from broadcast.radio.bulletin import build_bulletin, bulletin_dir

    root = settings.path(settings.radio.output_dir)
    heading, text = compile_text(notices)
    if not heading:
        local = when.astimezone(ZoneInfo(settings.timezone))
        heading = title or f"Bản tin {local:%H} giờ {local:%M} ngày {local:%d/%m/%Y}"
    return build_bulletin(
        text, title=heading, area_code=area, area_name=settings.area_name(area),
        priority=top_priority(notices), when=when,
        settings=settings.radio.model_copy(update={"output_dir": str(root)}),
        lexicon=normalizer, out_dir=out_dir or bulletin_dir(root, area, when),
        engine=engine)


class RadioBulletins:
    """The component of ``trolyso run`` that builds and sends bulletins."""

    def __init__(self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession],
                 settings: Settings, texts: Mapping[str, str], lexicon: Lexicon,
                 channels: Mapping[str, Deliverer], *,
                 tts: TtsEngine | None = None, poll_s: float = 15.0) -> None:
        self.db = engine
        self.settings = settings
        self.texts = texts
        self.normalizer = normalizer_for(lexicon)
        self.sm = sessionmaker
        self.channels = channels
        self.poll_s = poll_s
        self._tts = tts
        self.tz = ZoneInfo(self.settings.timezone)

    @property
    def tts(self) -> TtsEngine:
        if self._tts is None:
            from broadcast.radio.engines import engine_for

            self._tts = engine_for(self.settings)
        return self._tts

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # keep the loop alive; the next tick retries
                log.exception("radio: bulletin round failed")
            try:
                await asyncio.wait_for(stop.wait(), self.poll_s)
            except TimeoutError:
                pass

    async def tick(self, now: dt.datetime | None = None) -> list[RadioBulletin]:
        """Build what is due now: emergencies first, then slots. Returns the rows handled."""
        now = now or utcnow()
        done = await self._emergencies(now)
        done += await self._slots(now)
        return done

    # ------------------------------------------------------------------ what is due

    def _slot_times(self, day: dt.date) -> list[dt.datetime]:
        out = []
        for s in self.settings.radio.slots:
            h, m = (int(x) for x in s.split(":"))
            out.append(dt.datetime.combine(day, dt.time(h, m), tzinfo=self.tz))
        return sorted(out)

    async def _slots(self, now: dt.datetime) -> list[RadioBulletin]:
        grace = dt.timedelta(seconds=self.settings.broadcast.scheduler_misfire_grace_s)
        local = now.astimezone(self.tz)
        handled = []
        today = self._slot_times(local.date())
        yesterday = self._slot_times(local.date() - dt.timedelta(days=1))
        for slot in today:
            if not slot <= local <= slot + grace:
                continue
            start = yesterday[-1] if yesterday else slot - dt.timedelta(days=1)
            key = f"slot:{slot:%Y-%m-%dT%H:%M}"
            for area in (a.code for a in self.settings.areas):
                row = await self._claim(area, key, now)
                if row is None:
                    continue
                async with self.sm() as session:
                    notices = await notices_for_radio(session, area, start, slot)
                handled.append(await self._build(row, notices, slot))
        return handled

    async def _emergencies(self, now: dt.datetime) -> list[RadioBulletin]:
        grace = dt.timedelta(seconds=self.settings.broadcast.scheduler_misfire_grace_s)
        async with self.sm() as session:
            rows = (await session.execute(
                select(Run.id, Run.released_at, Announcement)
                .join(Announcement, Run.announcement_id == Announcement.id)
                .where(Announcement.radio.is_(True), Announcement.priority == "emergency",
                       Announcement.state != "cancelled", Run.released_at >= now - grace))).all()
        handled = []
        for run_id, released_at, ann in rows:
            notice = for_radio(ann)
            for area in ann.areas or []:
                row = await self._claim(area, f"emergency:{run_id}", now)
                if row is not None:
                    handled.append(await self._build(row, [notice], released_at))
        return handled

    # ------------------------------------------------------------------ build and send

    async def _claim(self, area: str, key: str, now: dt.datetime) -> RadioBulletin | None:
        """Insert the bulletin's row (or take over one whose builder died); None if taken."""
        async with write_lock(self.db), self.sm() as session, session.begin():
            new_id = (await session.execute(
                insert_for(session, RadioBulletin)
                .values(area_code=area, key=key, state="building", announcement_ids=[],
                        priority="normal", sent_to=[], created_at=now)
                .on_conflict_do_nothing().returning(RadioBulletin.id))).scalar_one_or_none()
            if new_id is None:
                new_id = (await session.execute(
                    update(RadioBulletin)
                    .where(RadioBulletin.area_code == area, RadioBulletin.key == key,
                           RadioBulletin.state == "building",
                           RadioBulletin.created_at < now - _STALE_BUILD)
                    .values(created_at=now).returning(RadioBulletin.id))).scalar_one_or_none()
            if new_id is None:
                return None
            return await session.get(RadioBulletin, new_id)

    async def _finish(self, row_id: int, **values: object) -> RadioBulletin:
        async with write_lock(self.db), self.sm() as session, session.begin():
            row = await session.get(RadioBulletin, row_id)
            assert row is not None
            for k, v in values.items():
                setattr(row, k, v)
            row.finished_at = utcnow()
            return row

    async def _build(self, row: RadioBulletin, notices: Sequence[NoticeForRadio],
                     when: dt.datetime) -> RadioBulletin:
        ids = [n.id for n in notices]
        if not notices:
            return await self._finish(row.id, state="empty")
        try:
            bulletin = await asyncio.to_thread(build_for_notices, self.settings, self.tts,
                                               self.normalizer, notices, row.area_code, when)
        except Exception as exc:
            log.exception("radio: building %s for %s failed", row.key, row.area_code)
            return await self._finish(row.id, state="failed", announcement_ids=ids,
                                      error=str(exc)[:300])
        root = self.settings.path(self.settings.radio.output_dir)
        rel = bulletin.mp3.resolve().relative_to(root.resolve()).as_posix()
        log.info("radio: bulletin %s for %s ready (%d notices, %.0f s)", row.key, row.area_code,
                 len(notices), bulletin.duration_s)
        titles = "; ".join(n.title for n in notices)
        sent = await self._send(row.area_code, bulletin, rel, top_priority(notices), titles)
        return await self._finish(row.id, state="ready", announcement_ids=ids, mp3=rel,
                                  priority=top_priority(notices), sent_to=sent)

    async def _send(self, area: str, bulletin: Bulletin, rel: str, priority: str,
                    titles: str) -> list[str]:
        """Send the bulletin to the area's radio operators; returns who it reached."""
        async with self.sm() as session:
            operators = (await session.execute(
                select(TeamMember).where(TeamMember.role == "radio"))).scalars().all()
        label = priority_label(self.texts, priority)
        caption = (f"📻 Bản tin {self.settings.area_name(area)} ({label}), "
                   f"dài {round(bulletin.duration_s)} giây: {titles}")[:1000]
        link = (f"{self.settings.web.public_url.rstrip('/')}/radio/files/{rel}"
                if self.settings.web.public_url else None)
        reached = []
        for op in operators:
            if area not in (op.areas or []):
                continue
            channel = self.channels.get(op.channel)
            if channel is None:
                continue
            try:
                if self.settings.channels[op.channel].files:
                    result = await cast(AudioDeliverer, channel).deliver_audio(
                        op.user_id, bulletin.mp3, caption)
                else:
                    text = caption + (f"\nTải tệp MP3: {link}" if link else
                                      "\nTệp MP3 có trên máy chủ của phường.")
                    result = await channel.deliver(op.user_id, text, priority=priority)
            except Exception:
                log.exception("radio: sending the bulletin to %s failed", op.channel)
                continue
            if result.status == "sent":
                reached.append(f"{op.channel}:{op.user_id}")
            else:
                log.warning("radio: bulletin not delivered to an operator on %s: %s",
                            op.channel, result.reason)
        return reached
