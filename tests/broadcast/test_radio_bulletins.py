"""Notices flagged for radio become bulletins: daily slots per area, emergencies at once, sent
to the area's radio operators; each bulletin is built once."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import App
from broadcast import announcements
from broadcast.bulletins import RadioBulletins
from broadcast.radio.tts import EspeakEngine
from broadcast.types import Actor, Draft
from core.delivery import Delivery
from core.models import RadioBulletin, TeamMember
from tests.broadcast.conftest import AREA, AREA2, make_core

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parents[2]


class FakeOperatorChannel:
    """A chat channel that records what the radio operators received."""

    def __init__(self) -> None:
        self.audio: list[tuple[str, Path, str]] = []

    async def deliver_audio(self, user_id: str, path: Path, caption: str) -> Delivery:
        self.audio.append((user_id, Path(path), caption))
        return Delivery("sent")

    async def deliver(self, user_id: str, text: str, *, priority: str = "normal") -> Delivery:
        return Delivery("sent")


@pytest.fixture
async def rcore(sqlite_url: str, tmp_path: Path) -> AsyncIterator[App]:
    core = await make_core(sqlite_url, tmp_path)
    async with core.sessionmaker() as s, s.begin():
        s.add(TeamMember(channel="telegram", user_id="op1", role="radio", areas=[AREA],
                         invited_by="cli:test"))
        s.add(TeamMember(channel="telegram", user_id="m1", role="member", areas=[AREA],
                         invited_by="cli:test"))
    yield core
    await core.close()


async def notice(core: App, text: str, *, at: dt.datetime, areas: list[str],
                 priority: str = "normal", radio: bool = True) -> int:
    async with core.sessionmaker() as s, s.begin():
        ann = await announcements.create(
            s, core.settings, core.content.texts, Actor("cli:test"),
            Draft(text=text, areas=areas, topics=["chung"], priority=priority,  # type: ignore[arg-type]
                  radio=radio), now=at.astimezone(dt.UTC))
        return ann.id


def component(core: App, channel: FakeOperatorChannel) -> RadioBulletins:
    return RadioBulletins(core.engine, core.sessionmaker, core.settings, core.content.texts,
                          core.content.lexicon, {"telegram": channel},
                          tts=EspeakEngine(core.settings.radio.espeak))


async def rows(core: App) -> list[RadioBulletin]:
    async with core.sessionmaker() as s:
        return list((await s.execute(select(RadioBulletin).order_by(RadioBulletin.id)))
                    .scalars())


async def test_a_slot_compiles_the_days_radio_notices_per_area_once(rcore: App) -> None:
    day = dt.date(2026, 11, 27)
    await notice(rcore, "Lịch tiêm chủng\nNgày 30/11 tiêm vắc-xin tại trạm y tế.",
                 at=dt.datetime.combine(day, dt.time(9), VN), areas=[AREA])
    await notice(rcore, "Cắt điện\nSáng mai cắt điện từ 7h30 đến 11h.",
                 at=dt.datetime.combine(day, dt.time(10), VN), areas=[AREA, AREA2],
                 priority="priority")
    await notice(rcore, "Không lên loa\nChỉ gửi tin nhắn.",
                 at=dt.datetime.combine(day, dt.time(11), VN), areas=[AREA], radio=False)
    ops = FakeOperatorChannel()
    radio = component(rcore, ops)
    assert await radio.tick(dt.datetime.combine(day, dt.time(16, 59), VN)) == []
    at_slot = dt.datetime.combine(day, dt.time(17, 0, 30), VN)
    handled = await radio.tick(at_slot)
    by_area = {r.area_code: r for r in handled}
    assert by_area[AREA].state == "ready" and by_area[AREA2].state == "ready"
    assert by_area["13225"].state == "empty"  # no radio notice for Phường Thái Bình
    assert sorted(by_area[AREA].announcement_ids) == [1, 2]
    assert by_area[AREA].priority == "priority"
    mp3 = rcore.settings.path(rcore.settings.radio.output_dir) / (by_area[AREA].mp3 or "")
    assert mp3.is_file() and mp3.parent.name == "2026-11-27" and mp3.parent.parent.name == AREA
    transcript = mp3.with_suffix(".txt").read_text()
    assert "cắt điện" in transcript.lower() and "chỉ gửi tin nhắn" not in transcript.lower()
    # the area's radio operator got the MP3 in chat; team members without the role did not
    assert [(u, p.name) for u, p, _ in ops.audio] == [("op1", mp3.name)]
    assert by_area[AREA].sent_to == ["telegram:op1"]
    assert await radio.tick(at_slot + dt.timedelta(minutes=1)) == []  # built once
    assert len(await rows(rcore)) == 5


async def test_an_emergency_radio_notice_is_built_and_sent_at_once(rcore: App) -> None:
    now = dt.datetime(2026, 11, 27, 14, 5, tzinfo=VN)
    await notice(rcore, "Bão số 3\nSơ tán ngay khỏi nhà yếu, gọi 112 khi cần cứu nạn.", at=now,
                 areas=[AREA], priority="emergency")
    ops = FakeOperatorChannel()
    handled = await component(rcore, ops).tick(now + dt.timedelta(seconds=20))
    assert [(r.area_code, r.key.split(":")[0], r.state) for r in handled] == [
        (AREA, "emergency", "ready")]
    assert len(ops.audio) == 1 and "khẩn cấp" in ops.audio[0][2]


async def test_a_slot_missed_beyond_the_grace_is_not_built_late(rcore: App) -> None:
    day = dt.date(2026, 11, 27)
    await notice(rcore, "Họp tổ dân phố\nTối nay 19h30 họp.",
                 at=dt.datetime.combine(day, dt.time(9), VN), areas=[AREA])
    late = dt.datetime.combine(day, dt.time(17), VN) + dt.timedelta(
        seconds=rcore.settings.broadcast.scheduler_misfire_grace_s + 60)
    assert await component(rcore, FakeOperatorChannel()).tick(late) == []


async def test_radio_build_from_a_stored_announcement(rcore: App, tmp_path: Path) -> None:
    ann = await notice(rcore, "Thu gom rác\nThứ bảy tổng vệ sinh đường phố.",
                       at=dt.datetime.now(VN), areas=[AREA, AREA2])
    cfg = tmp_path / "c.yaml"
    cfg.write_text((ROOT / "config.yaml").read_text().replace(
        'dir: "content"', f'dir: "{ROOT / "content"}"'))
    env: dict[str, Any] = {"DATABASE_URL": rcore.settings.db_url, "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(cfg), "radio", "build", "--announcement",
         str(ann), "--engine", "espeak", "--area", AREA2, "--out", str(tmp_path / "b")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    mp3, txt, meta = out.stdout.split()
    assert Path(mp3).parent == tmp_path / "b" and mp3.endswith(".mp3")
    assert "tổng vệ sinh" in Path(txt).read_text()
    assert f'"area_code": "{AREA2}"' in Path(meta).read_text()
