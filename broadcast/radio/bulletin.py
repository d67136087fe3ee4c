"""Broadcast-ready bulletins (`trolyso radio build`).

A bulletin is: intro chime (an alert tone for emergencies), the station's opening line, the
notice, "Xin nhắc lại", the notice again, the closing line and an outro chime, with pauses
between parts. It is normalized to the configured loudness (default -16 LUFS) under a true-peak
ceiling (default -1 dBTP), encoded as mono CBR MP3 with ID3 tags, and written with its
transcript (the spoken script) and a metadata JSON beside it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from broadcast.radio.audio import (
    LoudnessMeter,
    alert_tone,
    chime,
    decoded_blocks,
    encode_mp3,
    highpass,
    integrated_loudness,
    limit_true_peak,
    resample,
    silence,
    tag_mp3,
)
from broadcast.radio.normalize import Normalizer
from broadcast.radio.settings import RadioSettings
from broadcast.radio.tts import Speech, TtsEngine

__all__ = [
    "PRIORITIES",
    "Bulletin",
    "Priority",
    "build_bulletin",
    "bulletin_dir",
    "script_for",
    "station_line",
]

Priority = Literal["normal", "priority", "emergency"]
PRIORITIES: tuple[str, ...] = ("normal", "priority", "emergency")
_LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_TP_MARGIN_DB = 0.3  # MP3 encoding adds overshoot; limit this much below the ceiling
_TONE_BELOW_SPEECH_LU = 4.0


@dataclass(frozen=True)
class Bulletin:
    """What ``build_bulletin`` wrote and measured."""

    id: str
    mp3: Path
    transcript: Path
    metadata: Path
    duration_s: float
    loudness_lufs: float
    true_peak_dbtp: float
    engine: str
    script: tuple[str, ...]


@dataclass(frozen=True)
class Script:
    """The spoken parts of a bulletin, in order of speaking (the notice once)."""

    opening: str
    notice: str
    repeat_line: str
    closing: str

    def transcript(self) -> str:
        parts = [self.opening, self.notice, self.repeat_line, self.notice, self.closing]
        return "\n\n".join(p for p in parts if p) + "\n"


def station_line(station_name: str, area_name: str) -> str:
    """The station as announced: "Đài truyền thanh phường" + "Phường Trần Lãm" -> one name."""
    station = station_name.strip()
    area = area_name.strip()
    if not area:
        return station
    first_word = area.split()[0].lower()
    if station.lower().endswith(first_word):
        area = area[len(first_word):].strip()
    return f"{station} {area}".strip()


def _fill(template: str, station: str, title: str) -> str:
    line = template.format(station=station, title=title.strip())
    if not title.strip():  # "xin thông báo: ." -> "xin thông báo."
        line = re.sub(r"\s*[:,]\s*([.!?]|$)", r"\1", line)
    return line.strip()


def script_for(
    text: str,
    *,
    title: str,
    area_name: str,
    priority: str,
    settings: RadioSettings,
    normalizer: Normalizer,
    already_spoken: bool = False,
) -> Script:
    """The spoken script of a bulletin (what the transcript shows and the engine reads)."""
    station = station_line(settings.station_name, area_name)
    spoken_title = normalizer.spoken_line(" ".join(title.split()))
    opening_tpl = settings.emergency_opening if priority == "emergency" else settings.opening
    lines = [ln.strip() for ln in text.strip().split("\n")]
    notice = "\n".join(ln for ln in lines if ln)
    if not already_spoken:
        notice = normalizer.spoken(notice)
    if not notice.strip():
        raise ValueError("the notice is empty")
    return Script(
        opening=normalizer.spoken_line(_fill(opening_tpl, station, spoken_title)),
        notice=notice,
        repeat_line=normalizer.spoken_line(_fill(settings.repeat_line, station, spoken_title)),
        closing=normalizer.spoken_line(_fill(settings.closing, station, spoken_title)),
    )


def bulletin_dir(output_root: str | Path, area_code: str, when: datetime) -> Path:
    """The default folder of a bulletin: ``<output root>/<area code>/<YYYY-MM-DD>/``."""
    return Path(output_root) / area_code / _local(when).strftime("%Y-%m-%d")


def _local(when: datetime) -> datetime:
    return when.replace(tzinfo=_LOCAL_TZ) if when.tzinfo is None else when.astimezone(_LOCAL_TZ)


def _slug(text: str, limit: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:limit].rstrip("-") or "ban-tin"


def _speak(engine: TtsEngine, texts: list[str]) -> list[Speech]:
    """Speak every part with one voice: if the engine fell back midway, speak them again."""
    speeches = [engine.synthesize(t) for t in texts]
    if len({s.engine for s in speeches}) > 1:
        speeches = [engine.synthesize(t) for t in texts]
    return speeches


def _prepare(speech: Speech, settings: RadioSettings) -> np.ndarray:
    x = resample(speech.samples, speech.rate, settings.sample_rate)
    x = highpass(x, settings.sample_rate, settings.highpass_hz)
    return np.trim_zeros(np.where(np.abs(x) < 1e-4, 0, x)).astype(np.float32) if x.size else x


def _level(x: np.ndarray, rate: int, target: float) -> np.ndarray:
    """Scale one part to a loudness (parts shorter than a gating block are left alone)."""
    if len(x) < int(0.5 * rate):
        return x
    loud = integrated_loudness([x], rate)
    if not math.isfinite(loud):
        return x
    return (x * np.float32(10 ** ((target - loud) / 20))).astype(np.float32)


def build_bulletin(
    text: str,
    *,
    title: str,
    area_code: str,
    area_name: str,
    priority: str,
    when: datetime,
    settings: RadioSettings,
    lexicon: Mapping[str, str] | Normalizer,
    out_dir: str | Path | None,
    engine: TtsEngine,
    already_spoken: bool = False,
) -> Bulletin:
    """Speak, assemble, level and write one bulletin; returns its files and measurements.

    ``out_dir`` None means the default layout under ``settings.output_dir`` (relative paths
    resolve against the working directory; the caller may pass ``bulletin_dir(...)``).
    ``already_spoken`` skips normalization, for a script the operator has corrected.
    """
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)} (got {priority!r})")
    when = _local(when)
    normalizer = lexicon if isinstance(lexicon, Normalizer) else Normalizer(lexicon)
    script = script_for(text, title=title, area_name=area_name, priority=priority,
                        settings=settings, normalizer=normalizer, already_spoken=already_spoken)
    rate = settings.sample_rate
    target = settings.loudness_lufs

    texts = [script.opening, script.notice, script.repeat_line, script.closing]
    spoken = [p for p in texts if p]
    speeches = dict(zip(spoken, _speak(engine, spoken), strict=True))
    voice = {t: _level(_prepare(s, settings), rate, target) for t, s in speeches.items()}
    intro = alert_tone(rate) if priority == "emergency" else chime(rate)
    tone_target = target - _TONE_BELOW_SPEECH_LU
    intro, outro = _level(intro, rate, tone_target), _level(chime(rate, rising=True), rate,
                                                            tone_target)
    pause, short = silence(settings.pause_s, rate), silence(settings.pause_s / 2, rate)

    def programme(v: dict[str, np.ndarray], tones: tuple[np.ndarray, np.ndarray]
                  ) -> list[np.ndarray]:
        segs = [tones[0], pause]
        if script.opening:
            segs += [v[script.opening], pause]
        segs += [v[script.notice], silence(settings.repeat_pause_s, rate)]
        if script.repeat_line:
            segs += [v[script.repeat_line], short]
        segs += [v[script.notice], pause]
        if script.closing:
            segs += [v[script.closing], pause]
        return [*segs, tones[1], short]

    # Level the programme: gain, then the true-peak limiter; the limiter lowers loudness a
    # little, so measure again and redo it once with the difference.
    ceiling = settings.true_peak_dbtp - _TP_MARGIN_DB
    unique = {**voice, "\0intro": intro, "\0outro": outro}

    def tones(v: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return v["\0intro"], v["\0outro"]

    gain_db = target - integrated_loudness(programme(voice, (intro, outro)), rate)
    for _ in range(3):
        scaled = {k: limit_true_peak(x * np.float32(10 ** (gain_db / 20)), rate, ceiling)
                  for k, x in unique.items()}
        loud = integrated_loudness(programme(scaled, tones(scaled)), rate)
        if abs(loud - target) < 0.2:
            break
        # The limiter takes back part of any increase, hence the over-correction.
        gain_db += (target - loud) * (1.4 if loud < target else 1.0)
    del unique, voice

    # Encode; check what listeners will hear (the decoded MP3) and correct if needed.
    for _ in range(3):
        mp3 = encode_mp3(programme(scaled, tones(scaled)), rate, settings.bitrate_kbps)
        meter = LoudnessMeter(rate)
        for block in decoded_blocks(mp3):
            meter.feed(block, true_peak=True)
        tp, loudness = meter.true_peak_db, meter.loudness
        if tp <= settings.true_peak_dbtp:
            break
        trim = np.float32(10 ** (-(tp - settings.true_peak_dbtp + 0.1) / 20))
        scaled = {k: x * trim for k, x in scaled.items()}
    duration = sum(len(s) for s in programme(scaled, tones(scaled))) / rate
    return _write(
        mp3, script, title=title, area_code=area_code, area_name=area_name, priority=priority,
        when=when, settings=settings, out_dir=out_dir, duration=duration, loudness=loudness,
        true_peak=tp, engine=next(iter(speeches.values())).engine, text=text,
    )


def _write(
    mp3: bytes,
    script: Script,
    *,
    title: str,
    area_code: str,
    area_name: str,
    priority: str,
    when: datetime,
    settings: RadioSettings,
    out_dir: str | Path | None,
    duration: float,
    loudness: float,
    true_peak: float,
    engine: str,
    text: str,
) -> Bulletin:
    folder = Path(out_dir) if out_dir is not None else bulletin_dir(
        settings.output_dir, area_code, when)
    folder.mkdir(parents=True, exist_ok=True)
    base = f"{when:%H%M}-{priority}-{_slug(title)}"
    stem, n = base, 1
    while (folder / f"{stem}.json").exists() or (folder / f"{stem}.mp3").exists():
        n += 1
        stem = f"{base}-{n}"
    mp3_path = folder / f"{stem}.mp3"
    txt_path = folder / f"{stem}.txt"
    meta_path = folder / f"{stem}.json"
    station = station_line(settings.station_name, area_name)
    mp3_path.write_bytes(mp3)
    tag_mp3(mp3_path, title=title or station, station=station, area_code=area_code,
            area_name=area_name, when=when, priority=priority)
    txt_path.write_text(script.transcript(), encoding="utf-8")
    bulletin_id = f"{area_code}-{when:%Y%m%d-%H%M}-{stem.split('-', 2)[-1]}"
    meta = {
        "id": bulletin_id,
        "title": title,
        "area_code": area_code,
        "area_name": area_name,
        "station": station,
        "priority": priority,
        "created_at": when.isoformat(),
        "date": when.strftime("%Y-%m-%d"),
        "duration_s": round(duration, 2),
        "loudness_lufs": round(loudness, 2),
        "true_peak_dbtp": round(true_peak, 2),
        "engine": engine,
        "mp3": mp3_path.name,
        "transcript": txt_path.name,
        "size_bytes": mp3_path.stat().st_size,
        "sample_rate": settings.sample_rate,
        "bitrate_kbps": settings.bitrate_kbps,
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }
    # The JSON is written last and atomically: listings only see finished bulletins.
    tmp = meta_path.with_suffix(f".json.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, meta_path)
    return Bulletin(
        id=bulletin_id, mp3=mp3_path, transcript=txt_path, metadata=meta_path,
        duration_s=duration, loudness_lufs=loudness, true_peak_dbtp=true_peak, engine=engine,
        script=tuple(p for p in (script.opening, script.notice, script.repeat_line,
                                 script.notice, script.closing) if p),
    )
