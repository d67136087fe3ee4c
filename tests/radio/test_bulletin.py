"""Bulletins built offline with espeak-ng: structure, loudness, true peak, MP3 and tags."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import soundfile as sf
from mutagen.mp3 import MP3

from broadcast.radio.audio import Heard, LoudnessMeter, alert_tone, chime, true_peak_db
from broadcast.radio.bulletin import (
    Bulletin,
    build_bulletin,
    bulletin_dir,
    bulletin_stem,
    station_line,
)
from broadcast.radio.normalize import Normalizer
from broadcast.radio.tts import EspeakEngine
from core.config import RadioSettings

NOTICE = (
    "UBND phường Trần Lãm thông báo: từ 7h30 ngày 15/11/2025, tổ chức tiêm vắc xin sởi "
    "cho trẻ từ 1-5 tuổi tại TYT phường. Phụ huynh mang theo sổ tiêm chủng và thẻ BHYT."
)
WHEN = datetime(2025, 11, 14, 17, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def _build(tmp: Path, priority: str = "normal", **kw: object) -> Bulletin:
    return build_bulletin(
        NOTICE, title="Tiêm vắc xin sởi", area_code="12454", area_name="Phường Trần Lãm",
        priority=priority, when=WHEN, settings=RadioSettings(**kw),  # type: ignore[arg-type]
        lexicon=Normalizer.from_file(), out_dir=tmp, engine=EspeakEngine(),
    )


@pytest.fixture(scope="module")
def bulletin(tmp_path_factory: pytest.TempPathFactory, espeak: str) -> Bulletin:
    return _build(tmp_path_factory.mktemp("bulletin"))


def _decode(path: Path) -> tuple[np.ndarray, int]:
    data, rate = sf.read(io.BytesIO(path.read_bytes()), dtype="float32")
    return data, int(rate)


def test_mp3_is_mono_and_readable_with_its_tags(bulletin: Bulletin) -> None:
    mp3 = MP3(bulletin.mp3)
    assert mp3.info.channels == 1 and mp3.info.sample_rate == 24000
    assert mp3.info.bitrate == 64000
    tags = mp3.tags
    assert tags is not None
    assert str(tags["TIT2"]) == "Tiêm vắc xin sởi"
    assert str(tags["TXXX:AREA_CODE"]) == "12454"
    assert str(tags["TXXX:AREA"]) == "Phường Trần Lãm"
    assert str(tags["TXXX:PRIORITY"]) == "normal"
    assert str(tags["TDRC"]).startswith("2025-11-14")


def test_integrated_loudness_is_within_one_lu_of_target(bulletin: Bulletin) -> None:
    data, rate = _decode(bulletin.mp3)
    meter = LoudnessMeter(rate)
    meter.feed(data)
    assert abs(meter.loudness - (-16.0)) <= 1.0
    assert abs(bulletin.loudness_lufs - meter.loudness) < 0.05


def test_true_peak_stays_under_minus_one_dbtp(bulletin: Bulletin) -> None:
    data, _ = _decode(bulletin.mp3)
    assert true_peak_db([data]) <= -1.0


def test_duration_matches_the_notice_read_twice(bulletin: Bulletin) -> None:
    words = len(" ".join(bulletin.script).split())
    speech_s = words / 140 * 60  # espeak-ng at the configured 140 words per minute
    tones_and_pauses = 2 * 1.7 + 6.0
    assert 0.6 * speech_s <= bulletin.duration_s - tones_and_pauses <= 1.5 * speech_s
    assert MP3(bulletin.mp3).info.length == pytest.approx(bulletin.duration_s, abs=0.5)


def test_transcript_is_the_spoken_script_with_the_notice_twice(bulletin: Bulletin) -> None:
    text = bulletin.transcript.read_text(encoding="utf-8")
    assert text.startswith("Đài truyền thanh phường Trần Lãm xin thông báo: Tiêm vắc xin sởi.")
    assert text.count("ủy ban nhân dân phường Trần Lãm thông báo: từ bảy giờ ba mươi") == 2
    assert not any(ch.isdigit() for ch in text)


def test_metadata_describes_the_files(bulletin: Bulletin) -> None:
    meta = json.loads(bulletin.metadata.read_text(encoding="utf-8"))
    assert meta["mp3"] == bulletin.mp3.name and meta["transcript"] == bulletin.transcript.name
    assert meta["area_code"] == "12454" and meta["priority"] == "normal"
    assert meta["size_bytes"] == bulletin.mp3.stat().st_size
    assert meta["engine"] == "espeak" and meta["created_at"].startswith("2025-11-14T17:00")


def _dominant_hz(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[int(np.argmax(spec))])


def test_emergency_bulletin_opens_with_the_alert_tone(tmp_path: Path, espeak: str) -> None:
    emergency = _build(tmp_path, "emergency")
    data, rate = _decode(emergency.mp3)
    opening = data[int(0.1 * rate): int(1.1 * rate)]
    assert _dominant_hz(opening, rate) in (pytest.approx(960, abs=15), pytest.approx(770, abs=15))
    text = emergency.transcript.read_text(encoding="utf-8")
    assert text.startswith("Thông báo khẩn cấp!")


def test_alert_tone_and_chime_sound_different() -> None:
    rate = 24000
    a, c = alert_tone(rate)[:rate], chime(rate)[:rate]
    assert abs(_dominant_hz(a, rate) - _dominant_hz(c, rate)) > 100


def test_loudness_target_is_configurable(tmp_path: Path, espeak: str) -> None:
    quiet = _build(tmp_path, loudness_lufs=-20.0)
    assert abs(quiet.loudness_lufs - (-20.0)) <= 1.0


def test_default_folder_is_area_then_local_date(tmp_path: Path) -> None:
    late = datetime(2025, 11, 14, 23, 30, tzinfo=ZoneInfo("UTC"))  # 06:30 next day in Hà Nội
    assert bulletin_dir(tmp_path, "12454", late) == tmp_path / "12454" / "2025-11-15"


def test_files_are_named_by_date_time_area_and_title(bulletin: Bulletin) -> None:
    stem = "2025-11-14_17h00_12454_tiem-vac-xin-soi"
    assert bulletin.mp3.name == f"{stem}.mp3"
    assert bulletin.transcript.name == f"{stem}.txt"
    assert bulletin.metadata.name == f"{stem}.json"
    assert bulletin.id == "12454-20251114-1700-tiem-vac-xin-soi"


def test_the_time_in_a_file_name_cannot_pass_for_a_year(tmp_path: Path) -> None:
    evening = datetime(2026, 12, 2, 20, 36, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert bulletin_stem(tmp_path, evening, "12454", "Lịch tiêm chủng") == (
        "2026-12-02_20h36_12454_lich-tiem-chung"
    )
    utc = datetime(2026, 12, 2, 13, 36, tzinfo=ZoneInfo("UTC"))  # the same moment
    assert bulletin_stem(tmp_path, utc, "12454", "Lịch tiêm chủng").startswith(
        "2026-12-02_20h36_"
    )
    assert bulletin_stem(tmp_path, evening, "12454", "") == "2026-12-02_20h36_12454_ban-tin"


def test_areas_sharing_one_folder_get_their_own_names(tmp_path: Path) -> None:
    when = datetime(2026, 12, 2, 6, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    names = []
    for area in ("12454", "12452", "12451"):
        stem = bulletin_stem(tmp_path, when, area, "")
        (tmp_path / f"{stem}.json").write_text("{}", encoding="utf-8")
        names.append(stem)
    assert names == ["2026-12-02_06h00_12454_ban-tin", "2026-12-02_06h00_12452_ban-tin",
                     "2026-12-02_06h00_12451_ban-tin"]
    # Only a second bulletin of the same area, minute and title needs a counter.
    assert bulletin_stem(tmp_path, when, "12454", "") == "2026-12-02_06h00_12454_ban-tin-2"


def test_station_name_is_not_repeated() -> None:
    assert station_line("Đài truyền thanh phường", "Phường Trần Lãm") == (
        "Đài truyền thanh phường Trần Lãm"
    )


def test_loudness_lands_close_to_the_target(bulletin: Bulletin) -> None:
    # Aimed at the decoded MP3 (LAME's level change included), corrected when it misses.
    assert abs(bulletin.loudness_lufs - (-16.0)) <= 0.5


def test_both_readings_decode_to_the_same_audio(
    tmp_path: Path, espeak: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import broadcast.radio.bulletin as bulletin_module

    found: list[Heard] = []
    real = bulletin_module.encode_streams

    def spy(*args: Any, **kwargs: Any) -> Any:
        mp3, heard = real(*args, **kwargs)
        found[:] = heard
        return mp3, heard

    monkeypatch.setattr(bulletin_module, "encode_streams", spy)
    b = _build(tmp_path)
    data, _ = _decode(b.mp3)
    repeated = [h for h in found if len(h.bins) == 2]
    assert repeated, "the notice should be encoded once and played twice"
    for h in repeated:  # the MP3 frames are the same; decoding them gives the same samples
        (s1, _, _), (s2, _, _) = h.bins
        first, second = data[s1:s1 + h.length], data[s2:s2 + h.length]
        assert float(np.abs(first - second).max()) < 1e-3
    assert sum(h.length * len(h.bins) for h in found) == len(data)


def test_without_pauses_between_parts_the_bulletin_is_still_right(
    tmp_path: Path, espeak: str
) -> None:
    b = _build(tmp_path, pause_s=0.0, repeat_pause_s=0.0)
    data, rate = _decode(b.mp3)
    meter = LoudnessMeter(rate)
    meter.feed(data)
    assert abs(meter.loudness - (-16.0)) <= 1.0
    assert true_peak_db([data]) <= -1.0
    assert MP3(b.mp3).info.length == pytest.approx(b.duration_s, abs=0.5)
