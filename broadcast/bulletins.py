"""Radio bulletins from notices: daily slots per area, emergencies at once, sent to operators.

Notices flagged ``radio`` become audio for the ward's loudspeakers:

* at each daily slot (``radio.slots``, Asia/Ho_Chi_Minh) every area gets one bulletin with the
  radio notices released since the previous day's last slot (so an evening notice is read the
  next morning, and the day's notices are read again in the evening);
* an emergency radio notice is built for each of its areas as soon as it is released;
* each bulletin is published in the area's folder (RSS/M3U feeds) and sent to the area's radio
  operators in chat (Telegram: the MP3 itself; other channels: a link when ``web.public_url`` is
  set).

An area's own slots (table ``radio_slots``, edited in the console) replace the configured ones
for that area. The console builds a bulletin at once (:meth:`RadioBulletins.build_now`), builds
one again (:meth:`RadioBulletins.rebuild`) and publishes an operator's own recording
(:meth:`RadioBulletins.publish_recording`) through this same component, audited.

Every bulletin has a row in ``radio_bulletins`` unique per (area, key); the process that inserts
the row builds it, so restarts and several processes never build one twice, and a slot missed
while the assistant was down is still built within ``broadcast.scheduler_misfire_grace_s``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broadcast import audit
from broadcast.compose import notice_title, priority_label
from broadcast.radio.engines import normalizer_for
from broadcast.radio.normalize import Normalizer
from broadcast.sender import Deliverer
from broadcast.types import RANK, Actor
from core.db import utcnow, write_lock
from core.delivery import Delivery
from core.models import Announcement, RadioBulletin, RadioSlots, Run, TeamMember
from core.storage import insert_for

if TYPE_CHECKING:
    from broadcast.radio.bulletin import Bulletin
    from broadcast.radio.tts import TtsEngine
    from core.config import Settings
    from flows.lexicon import Lexicon

__all__ = ["AudioDeliverer", "NoticeForRadio", "RadioBulletins", "SlotError", "area_slots",
           "build_for_notices", "notices_for_radio", "parse_slots", "set_area_slots"]

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


# ---------------------------------------------------------------------------- slots per area

class SlotError(ValueError):
    """Slot times typed by a person that cannot be read."""


_SLOT_RE = re.compile(r"([01]?\d|2[0-3])(?:[:hH.]([0-5]\d)|[hH])")


def parse_slots(text: str) -> list[str]:
    """"6:00, 17h30, 18h" -> ["06:00", "17:30", "18:00"] (sorted, no repeats); raises
    SlotError."""
    out = set()
    for part in re.split(r"[,;\s]+", text.strip()):
        if not part:
            continue
        m = _SLOT_RE.fullmatch(part)
        if m is None:
            raise SlotError(part)
        out.add(f"{int(m.group(1)):02d}:{m.group(2) or '00'}")
    if len(out) > 24:
        raise SlotError("too many")
    return sorted(out)


async def area_slots(session: AsyncSession) -> dict[str, list[str]]:
    """The areas that have their own slots, with them."""
    rows = (await session.execute(select(RadioSlots.area_code, RadioSlots.slots))).all()
    return {area: list(slots) for area, slots in rows if slots}


async def set_area_slots(session: AsyncSession, actor: Actor, area: str,
                         slots: Sequence[str]) -> None:
    """Give ``area`` its own slots (validated "HH:MM"); none: back to the configured ones."""
    for slot in slots:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", slot):
            raise SlotError(slot)
    before = (await session.execute(select(RadioSlots.slots).where(
        RadioSlots.area_code == area))).scalar_one_or_none()
    await session.execute(delete(RadioSlots).where(RadioSlots.area_code == area))
    if slots:
        session.add(RadioSlots(area_code=area, slots=sorted(set(slots)), updated_by=actor.label,
                               updated_at=utcnow()))
    await audit.record(session, actor, "radio.slots",
                       details={"before": list(before or []), "slots": sorted(set(slots))},
                       targets={"areas": [area]})


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
    # A subquery rather than DISTINCT over the join: PostgreSQL has no equality for JSON.
    released = select(Run.announcement_id).where(Run.released_at >= start,
                                                 Run.released_at < end)
    rows = (await session.execute(
        select(Announcement)
        .where(Announcement.radio.is_(True), Announcement.state != "cancelled",
               Announcement.id.in_(released)))).scalars().all()
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

    def _slot_times(self, day: dt.date, slots: Sequence[str] | None = None
                    ) -> list[dt.datetime]:
        out = []
        for s in self.settings.radio.slots if slots is None else slots:
            h, m = (int(x) for x in s.split(":"))
            out.append(dt.datetime.combine(day, dt.time(h, m), tzinfo=self.tz))
        return sorted(out)

    async def slots_by_area(self) -> dict[str, list[str]]:
        """Every configured area's daily slots: its own (console) or the configuration's."""
        async with self.sm() as session:
            own = await area_slots(session)
        return {a.code: own.get(a.code) or list(self.settings.radio.slots)
                for a in self.settings.areas}

    def _window_start(self, before: dt.datetime, slots: Sequence[str]) -> dt.datetime:
        """Where the notices of a bulletin at ``before`` start: the previous day's last slot."""
        local = before.astimezone(self.tz)
        yesterday = self._slot_times(local.date() - dt.timedelta(days=1), slots)
        return yesterday[-1] if yesterday else local - dt.timedelta(days=1)

    async def _slots(self, now: dt.datetime) -> list[RadioBulletin]:
        grace = dt.timedelta(seconds=self.settings.broadcast.scheduler_misfire_grace_s)
        local = now.astimezone(self.tz)
        handled = []
        for area, slots in (await self.slots_by_area()).items():
            for slot in self._slot_times(local.date(), slots):
                if not slot <= local <= slot + grace:
                    continue
                row = await self._claim(area, f"slot:{slot:%Y-%m-%dT%H:%M}", now)
                if row is None:
                    continue
                async with self.sm() as session:
                    notices = await notices_for_radio(
                        session, area, self._window_start(slot, slots), slot)
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

    # ------------------------------------------------------------------ from the console

    async def build_now(self, area: str, actor: Actor, now: dt.datetime | None = None
                        ) -> RadioBulletin | None:
        """A bulletin for ``area`` now, with the radio notices a slot now would read (since
        the previous day's last slot); sent to the operators. None if one is being built for
        this very second already (a double click)."""
        now = now or utcnow()
        row = await self._claim(area, f"manual:{now.astimezone(self.tz):%Y-%m-%dT%H:%M:%S}",
                                now)
        if row is None:
            return None
        slots = (await self.slots_by_area()).get(area, list(self.settings.radio.slots))
        async with self.sm() as session:
            notices = await notices_for_radio(session, area, self._window_start(now, slots),
                                              now + dt.timedelta(seconds=1))
        done = await self._build(row, notices, now)
        await self._audit(actor, "radio.build", done)
        return done

    async def rebuild(self, row_id: int, actor: Actor, now: dt.datetime | None = None
                      ) -> RadioBulletin | None:
        """Build a slot's, an emergency's or a manual bulletin again (after its notices were
        corrected, or it failed); the new files replace the old ones. None when it cannot be
        (being built now, or an uploaded recording)."""
        now = now or utcnow()
        async with write_lock(self.db), self.sm() as session, session.begin():
            taken = (await session.execute(
                update(RadioBulletin)
                .where(RadioBulletin.id == row_id, ~RadioBulletin.key.startswith("upload:"),
                       (RadioBulletin.state != "building")
                       | (RadioBulletin.created_at < now - _STALE_BUILD))
                .values(state="building").returning(RadioBulletin.id))).scalar_one_or_none()
            row = await session.get(RadioBulletin, row_id) if taken is not None else None
        if row is None:
            return None
        when = self._when_of(row)
        old_mp3 = row.mp3
        async with self.sm() as session:
            if row.key.startswith("slot:") or row.key.startswith("manual:"):
                slots = (await self.slots_by_area()).get(row.area_code,
                                                         list(self.settings.radio.slots))
                notices = await notices_for_radio(session, row.area_code,
                                                  self._window_start(when, slots),
                                                  when + dt.timedelta(seconds=1))
            else:
                anns = (await session.execute(select(Announcement).where(
                    Announcement.id.in_(row.announcement_ids or []),
                    Announcement.state != "cancelled"))).scalars().all()
                notices = [for_radio(a) for a in anns]
        done = await self._build(row, notices, when, send=False)
        if old_mp3 and done.mp3 != old_mp3:
            await asyncio.to_thread(self._remove_files, old_mp3)
        await self._audit(actor, "radio.rebuild", done)
        return done

    async def publish_recording(self, area: str, data: bytes, actor: Actor, *, title: str,
                                priority: str = "normal", filename: str = "",
                                now: dt.datetime | None = None) -> RadioBulletin:
        """Publish an operator's own recording (WAV/MP3/OGG) for ``area`` as a bulletin:
        levelled with the chimes, in the feeds, sent to the area's operators. Raises
        ``broadcast.radio.bulletin.RecordingError`` for a file that is not usable audio."""
        from broadcast.radio.bulletin import build_recording, bulletin_dir

        now = now or utcnow()
        root = self.settings.path(self.settings.radio.output_dir)
        radio = self.settings.radio.model_copy(update={"output_dir": str(root)})
        heading = title.strip() or f"Bản ghi âm {now.astimezone(self.tz):%H:%M %d/%m/%Y}"
        bulletin = await asyncio.to_thread(
            build_recording, data, title=heading, area_code=area,
            area_name=self.settings.area_name(area), priority=priority, when=now,
            settings=radio, out_dir=bulletin_dir(root, area, now), source_name=filename,
            max_s=self.settings.radio.upload_max_s)
        rel = bulletin.mp3.resolve().relative_to(root.resolve()).as_posix()
        key = f"upload:{now.astimezone(self.tz):%Y-%m-%dT%H:%M:%S.%f}"
        async with write_lock(self.db), self.sm() as session, session.begin():
            row = RadioBulletin(area_code=area, key=key, state="building", announcement_ids=[],
                                priority=priority, mp3=rel, sent_to=[], created_at=now)
            session.add(row)
            await session.flush()
            row_id = row.id
        sent = await self._send(area, bulletin, rel, priority, heading)
        done = await self._finish(row_id, state="ready", sent_to=sent)
        await self._audit(actor, "radio.upload", done, {"file": filename[:100],
                                                        "duration_s": bulletin.duration_s})
        return done

    def _when_of(self, row: RadioBulletin) -> dt.datetime:
        """The time a bulletin is for: its slot, else when it was first made."""
        if row.key.startswith("slot:"):
            try:
                return dt.datetime.strptime(row.key[5:], "%Y-%m-%dT%H:%M").replace(
                    tzinfo=self.tz)
            except ValueError:
                pass
        return row.created_at

    def _remove_files(self, rel: str) -> None:
        """A replaced bulletin's MP3, transcript and metadata (so the feeds drop it)."""
        from broadcast.radio.publish import resolve_file

        mp3 = resolve_file(self.settings.path(self.settings.radio.output_dir), rel)
        if mp3 is None:
            return
        for path in (mp3.with_suffix(".json"), mp3, mp3.with_suffix(".txt")):
            path.unlink(missing_ok=True)

    async def _audit(self, actor: Actor, action: str, row: RadioBulletin,
                     extra: dict[str, object] | None = None) -> None:
        async with write_lock(self.db), self.sm() as session, session.begin():
            await audit.record(session, actor, action, details={
                "bulletin": row.id, "key": row.key, "state": row.state, "mp3": row.mp3,
                "notices": list(row.announcement_ids or []), **(extra or {})},
                targets={"areas": [row.area_code]})

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
                     when: dt.datetime, *, send: bool = True) -> RadioBulletin:
        ids = [n.id for n in notices]
        if not notices:
            return await self._finish(row.id, state="empty", announcement_ids=[], mp3=None)
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
        sent = (await self._send(row.area_code, bulletin, rel, top_priority(notices), titles)
                if send else list(row.sent_to or []))
        return await self._finish(row.id, state="ready", announcement_ids=ids, mp3=rel,
                                  priority=top_priority(notices), sent_to=sent, error=None)

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
