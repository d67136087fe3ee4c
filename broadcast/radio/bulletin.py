"""Broadcast-ready bulletins (`trolyso radio build`).

A bulletin is: intro chime (an alert tone for emergencies), the station's opening line, the
notice, "Xin nhắc lại", the notice again, the closing line and an outro chime, with pauses
between parts. It is normalized to the configured loudness (default -16 LUFS) under a true-peak
ceiling (default -1 dBTP), encoded as mono CBR MP3 with ID3 tags, and written with its
transcript (the spoken script) and a metadata JSON beside it.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import soundfile as sf

from broadcast.radio.audio import (
    PeakLimiter,
    alert_tone,
    block_powers,
    chime,
    gated_loudness,
    hear_mp3,
    heard_programme,
    highpass,
    integrated_loudness,
    resample,
    silence,
    tag_mp3,
    workers,
)
from broadcast.radio.mp3 import FRAME, TAIL, encode_streams, level_change_db
from broadcast.radio.normalize import Normalizer
from broadcast.radio.tts import Speech, TtsEngine
from broadcast.types import PRIORITIES, Priority
from core.config import RadioSettings

__all__ = [
    "PRIORITIES",
    "RECORDING_FORMATS",
    "Bulletin",
    "Priority",
    "RecordingError",
    "build_bulletin",
    "build_recording",
    "bulletin_dir",
    "bulletin_stem",
    "read_recording",
    "script_for",
    "station_line",
]

_LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_TP_MARGIN_DB = 1.0  # MP3 encoding adds overshoot; limit this much below the ceiling
_TONE_BELOW_SPEECH_LU = 4.0
_BLOCK = 1 << 17


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

    def parts(self) -> tuple[str, ...]:
        """What is spoken, in order (the notice twice)."""
        return tuple(p for p in (self.opening, self.notice, self.repeat_line, self.notice,
                                 self.closing) if p)

    def transcript(self) -> str:
        return "\n\n".join(self.parts()) + "\n"


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


def bulletin_stem(folder: Path, when: datetime, area_code: str, title: str) -> str:
    """The file name, without extension, shared by a bulletin's MP3, transcript and JSON.

    ``2026-12-02_20h36_12454_lich-tiem-chung``: local date, time ("20h36", which cannot be
    mistaken for a year), area code and title, so that bulletins of several areas or days can
    share one folder and still sort by time. A counter is added only when a bulletin with the
    same date, minute, area and title is already in ``folder``.
    """
    local = _local(when)
    base = f"{local:%Y-%m-%d}_{local:%H}h{local:%M}_{_slug(area_code, 12, 'vung')}_{_slug(title)}"
    stem, n = base, 1
    while any((folder / f"{stem}{ext}").exists() for ext in (".json", ".mp3", ".txt")):
        n += 1
        stem = f"{base}-{n}"
    return stem


def _slug(text: str, limit: int = 40, empty: str = "ban-tin") -> str:
    ascii_text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:limit].rstrip("-") or empty


def _speak(engine: TtsEngine, texts: list[str]) -> list[Speech]:
    """Speak every part with one voice: if the engine fell back midway, speak them again.

    Parts are spoken one after the other (online engines are not sent concurrent requests);
    espeak-ng speaks a long notice in parallel pieces itself.
    """
    speeches = [engine.synthesize(t) for t in texts]
    if len({s.engine for s in speeches}) > 1:
        speeches = [engine.synthesize(t) for t in texts]
    return speeches


def _prepare(speech: Speech, settings: RadioSettings) -> np.ndarray:
    """Resample, high-pass, silence what is below -80 dBFS and trim it off the ends."""
    return _prepare_samples(speech.samples, speech.rate, settings)


def _prepare_samples(samples: np.ndarray, src_rate: int, settings: RadioSettings
                     ) -> np.ndarray:
    rate = settings.sample_rate
    x = resample(samples, src_rate, rate)
    if x is samples or not x.flags.writeable:
        x = x.copy()
    highpass(x, rate, settings.highpass_hz, out=x)
    first = last = -1
    for start in range(0, len(x), _BLOCK):  # in place, block by block
        block = x[start:start + _BLOCK]
        block[np.abs(block) < 1e-4] = 0
        nz = np.flatnonzero(block)
        if len(nz):
            first = start + int(nz[0]) if first < 0 else first
            last = start + int(nz[-1])
    return x[first:last + 1] if first >= 0 else x[:0]


def _level(x: np.ndarray, rate: int, target: float) -> np.ndarray:
    """Scale one part to a loudness, in place (parts shorter than a gating block are left)."""
    if len(x) < int(0.5 * rate):
        return x
    loud = integrated_loudness([x], rate)
    if math.isfinite(loud):
        x *= np.float32(10 ** ((target - loud) / 20))
    return x


@dataclass
class _Programme:
    """The bulletin as segments played in order, and where the MP3 may be cut."""

    segments: list[np.ndarray]
    parts: dict[str, np.ndarray]  # the distinct sounds, each once
    counts: dict[str, int]  # how often each is played
    cuts: list[int]  # programme samples where the MP3 may be split into streams

    @property
    def length(self) -> int:
        return sum(len(s) for s in self.segments)


def _programme(script: Script, voice: dict[str, np.ndarray], intro: np.ndarray,
               outro: np.ndarray, settings: RadioSettings) -> _Programme:
    """Tones, lines and pauses in order (the notice twice, the same array both times).

    The pause before the second reading is lengthened by under one MP3 frame (24 ms) so that
    both readings start at the same phase of the MP3 frame grid, and the pause after it
    shortened as much: both readings then encode to the same frames (see ``mp3``).
    """
    rate = settings.sample_rate
    pause_n = round(settings.pause_s * rate)
    pause, short = silence(settings.pause_s, rate), silence(settings.pause_s / 2, rate)
    notice = voice[script.notice]
    before: list[np.ndarray] = [intro, pause]
    if script.opening:
        before += [voice[script.opening], pause]
    between: list[np.ndarray] = [silence(settings.repeat_pause_s, rate)]
    if script.repeat_line:
        between += [voice[script.repeat_line], short]
    after: list[np.ndarray] = [pause]
    if script.closing:
        after += [voice[script.closing], pause]
    after += [outro, short]
    gap = len(notice) + sum(len(s) for s in between)
    delta = -gap % FRAME
    if delta:
        between[0] = np.zeros(len(between[0]) + delta, dtype=np.float32)
        if pause_n > 2 * delta:
            after[0] = np.zeros(pause_n - delta, dtype=np.float32)
    segments = [*before, notice, *between, notice, *after]
    first = sum(len(s) for s in before)
    second = first + len(notice) + sum(len(s) for s in between)

    parts = {"\0intro": intro, "\0outro": outro}
    parts.update({t: voice[t] for t in (script.opening, script.notice, script.repeat_line,
                                        script.closing) if t})
    counts = {k: sum(s is x for s in segments) for k, x in parts.items()}
    # Cut the MP3 just before and after each reading, and inside the notice where it pauses
    # (one piece per CPU): the readings then encode to the same streams, in parallel.
    splits = _splits(notice, first, workers())
    cuts = []
    for start in (first, second):
        cuts.append((start - FRAME) // FRAME * FRAME)
        cuts += [start + r for r in splits]
        cuts.append(-(-(start + len(notice) + TAIL + FRAME) // FRAME) * FRAME)
    return _Programme(segments, parts, counts, cuts)


def _splits(x: np.ndarray, offset: int, pieces: int) -> list[int]:
    """Up to ``pieces - 1`` offsets in ``x``, near equal shares, where the MP3 may be cut:
    ``offset + r`` on the frame grid, inside a silence long enough (see ``mp3``)."""
    need = TAIL + 2 * FRAME  # silent samples around a cut: TAIL + FRAME before, FRAME after
    found: list[int] = []
    window = 5 * FRAME * 50  # search about six seconds either side of each target
    for k in range(1, pieces):
        target = len(x) * k // pieces
        lo, hi = max(0, target - window), min(len(x), target + window)
        nz = np.flatnonzero(x[lo:hi]) + lo
        if len(nz) < 2:
            continue
        gaps = np.flatnonzero(np.diff(nz) > need + FRAME)
        best: int | None = None
        for g in gaps.tolist():
            a, b = int(nz[g]) + 1, int(nz[g + 1])  # zeros in [a, b)
            r = -(-(offset + a + TAIL + FRAME) // FRAME) * FRAME - offset
            if r + FRAME <= b and (best is None or abs(r - target) < abs(best - target)):
                best = r
        if best is not None and (not found or best > found[-1]):
            found.append(best)
    return found


def _estimate(prog: _Programme, limiters: dict[str, PeakLimiter], gain: float,
              ceiling: float, rate: int) -> float:
    """Programme loudness at ``gain`` after limiting, from its parts measured one by one.

    Each part sits between pauses in the programme, so it is measured as if surrounded by
    silence, and counted as often as it is played (the exact figure is measured on the MP3).
    """
    pooled = []
    for key in prog.parts:
        powers = block_powers(limiters[key].blocks(gain, ceiling), rate)
        pooled += [powers] * prog.counts[key]
    return gated_loudness(pooled)


def _loudness_and_limit(prog: _Programme, rate: int, target: float, ceiling: float,
                        gain_db: float) -> float:
    """Find the gain that puts the limited programme at ``target``, apply it in place and
    return the loudness estimated for it.

    Loudness against gain (dB) is close to a straight line whose slope is under 1: the
    limiter takes back part of any increase (about half of it for espeak-ng's peaky voice at
    -16 LUFS). The first step assumes half, the next ones follow the secant.
    """
    limiters = {k: PeakLimiter(x, rate) for k, x in prog.parts.items()}
    tried: list[tuple[float, float]] = []  # (gain dB, loudness)
    for _ in range(4):
        loud = _estimate(prog, limiters, 10 ** (gain_db / 20), ceiling, rate)
        tried.append((gain_db, loud))
        if abs(loud - target) < 0.1 or not math.isfinite(loud):
            break
        slope = 0.5
        if len(tried) > 1:
            (g0, l0), (g1, l1) = tried[-2], tried[-1]
            if abs(g1 - g0) > 1e-3 and 0.05 < (l1 - l0) / (g1 - g0) <= 1.5:
                slope = (l1 - l0) / (g1 - g0)
        gain_db += (target - loud) / slope
    gain_db, loud = min(tried, key=lambda t: abs(t[1] - target))
    gain = 10 ** (gain_db / 20)
    for key, x in prog.parts.items():
        limiters.pop(key).apply(gain, ceiling, out=x)
    return loud


def build_bulletin(
    text: str,
    *,
    title: str,
    area_code: str,
    area_name: str,
    priority: str,
    when: datetime,
    settings: RadioSettings,
    lexicon: Normalizer,
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
    normalizer = lexicon
    script = script_for(text, title=title, area_name=area_name, priority=priority,
                        settings=settings, normalizer=normalizer, already_spoken=already_spoken)
    rate = settings.sample_rate
    target = settings.loudness_lufs

    texts = [script.opening, script.notice, script.repeat_line, script.closing]
    spoken = list(dict.fromkeys(p for p in texts if p))
    speeches = _speak(engine, spoken)
    engine_name = speeches[0].engine
    voice: dict[str, np.ndarray] = {}
    for t in spoken:  # each raw voice is freed as soon as it is prepared
        voice[t] = _level(_prepare(speeches.pop(0), settings), rate, target)
    intro = alert_tone(rate) if priority == "emergency" else chime(rate)
    tone_target = target - _TONE_BELOW_SPEECH_LU
    intro = _level(intro, rate, tone_target)
    outro = _level(chime(rate, rising=True), rate, tone_target)
    prog = _programme(script, voice, intro, outro, settings)
    del voice
    mp3, loudness, tp = _level_and_encode(prog, settings)
    return _write(
        mp3, script.transcript(), script.parts(), title=title, area_code=area_code,
        area_name=area_name, priority=priority, when=when, settings=settings, out_dir=out_dir,
        duration=prog.length / rate, loudness=loudness, true_peak=tp, engine=engine_name,
        text=text,
    )


def _level_and_encode(prog: _Programme, settings: RadioSettings) -> tuple[bytes, float, float]:
    """The programme as MP3 at the configured loudness under the true-peak ceiling; returns
    (MP3, loudness LUFS, true peak dBTP) as measured on the decoded MP3.

    Gain, then the true-peak limiter, both aimed at what listeners will hear: the decoded MP3,
    which LAME makes a little quieter and whose peaks overshoot (hence the margin). Encode,
    decode and measure; if it still peaks over or misses the loudness, limit lower or correct
    the gain and encode again.
    """
    rate = settings.sample_rate
    target = settings.loudness_lufs
    limit = settings.true_peak_dbtp
    shift = level_change_db(rate, settings.bitrate_kbps)
    aim = target - shift
    ceiling = 10 ** ((limit - _TP_MARGIN_DB - shift) / 20)
    gain_db = -shift  # every part is already at the target loudness
    for _ in range(3):
        estimate = _loudness_and_limit(prog, rate, aim, ceiling, gain_db)
        mp3, heard = encode_streams(
            prog.segments, rate, settings.bitrate_kbps, cuts=prog.cuts, workers=workers(),
            inspect=lambda data, starts: hear_mp3(data, starts, rate))
        loudness, tp = heard_programme(heard, rate)
        if tp <= limit and abs(loudness - target) <= 0.5:
            break
        if tp > limit:
            ceiling *= 10 ** (-(tp - limit + 0.1) / 20)
        aim = estimate + target - loudness  # what the MP3 changed, measured
        gain_db = aim - estimate  # on the programme as it is now (limited, at ``estimate``)
    return mp3, loudness, tp


#: What an operator may upload as their own recorded announcement (libsndfile's names).
RECORDING_FORMATS = {"WAV": "WAV", "WAVEX": "WAV", "MP3": "MP3", "OGG": "OGG"}


class RecordingError(ValueError):
    """An uploaded recording that cannot be published; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # format | unreadable | too_long | silent


def read_recording(data: bytes, max_s: float) -> tuple[np.ndarray, int]:
    """Decode an uploaded WAV, MP3 or OGG to mono float32 samples and their rate."""
    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise RecordingError("unreadable", f"not a readable audio file: {exc}") from exc
    if info.format not in RECORDING_FORMATS:
        raise RecordingError("format", f"{info.format} is not WAV, MP3 or OGG")
    if info.frames <= 0 or info.samplerate <= 0:
        raise RecordingError("unreadable", "no audio in the file")
    if info.frames / info.samplerate > max_s:
        raise RecordingError("too_long", f"{info.frames / info.samplerate:.0f} s > {max_s:.0f} s")
    try:
        x, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise RecordingError("unreadable", f"the audio cannot be decoded: {exc}") from exc
    mono = x[:, 0] if x.shape[1] == 1 else x.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate)


def build_recording(
    data: bytes,
    *,
    title: str,
    area_code: str,
    area_name: str,
    priority: str,
    when: datetime,
    settings: RadioSettings,
    out_dir: str | Path | None,
    source_name: str = "",
    max_s: float = 900.0,
) -> Bulletin:
    """Publish an operator's own recording (WAV/MP3/OGG bytes) as a bulletin: the chime (the
    alert tone for emergencies), the recording once, the closing chime, levelled and limited
    as a synthesised bulletin is, written in the same layout (so the feeds list it).

    Raises :class:`RecordingError` for a file that is not usable audio."""
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)} (got {priority!r})")
    when = _local(when)
    samples, src_rate = read_recording(data, max_s)
    rate = settings.sample_rate
    target = settings.loudness_lufs
    rec = _prepare_samples(samples, src_rate, settings)
    del samples
    if len(rec) < int(0.5 * rate) or not math.isfinite(integrated_loudness([rec], rate)):
        raise RecordingError("silent", "the recording has no audible sound")
    rec = _level(rec, rate, target)
    intro = alert_tone(rate) if priority == "emergency" else chime(rate)
    intro = _level(intro, rate, target - _TONE_BELOW_SPEECH_LU)
    outro = _level(chime(rate, rising=True), rate, target - _TONE_BELOW_SPEECH_LU)
    pause, short = silence(settings.pause_s, rate), silence(settings.pause_s / 2, rate)
    segments = [intro, pause, rec, pause, outro, short]
    first = len(intro) + len(pause)
    cuts = [(first - FRAME) // FRAME * FRAME, *(first + r for r in _splits(rec, first, workers())),
            -(-(first + len(rec) + TAIL + FRAME) // FRAME) * FRAME]
    parts = {"\0intro": intro, "\0rec": rec, "\0outro": outro}
    prog = _Programme(segments, parts, dict.fromkeys(parts, 1), cuts)
    mp3, loudness, tp = _level_and_encode(prog, settings)
    note = f"[Bản ghi âm của phát thanh viên{': ' + source_name if source_name else ''}]"
    return _write(
        mp3, note + "\n", (note,), title=title, area_code=area_code, area_name=area_name,
        priority=priority, when=when, settings=settings, out_dir=out_dir,
        duration=prog.length / rate, loudness=loudness, true_peak=tp, engine="recording",
        text=hashlib.sha256(data).hexdigest(),
    )


def _write(
    mp3: bytes,
    transcript: str,
    script: tuple[str, ...],
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
    stem = bulletin_stem(folder, when, area_code, title)
    mp3_path = folder / f"{stem}.mp3"
    txt_path = folder / f"{stem}.txt"
    meta_path = folder / f"{stem}.json"
    station = station_line(settings.station_name, area_name)
    mp3_path.write_bytes(mp3)
    tag_mp3(mp3_path, title=title or station, station=station, area_code=area_code,
            area_name=area_name, when=when, priority=priority)
    txt_path.write_text(transcript, encoding="utf-8")
    bulletin_id = f"{area_code}-{when:%Y%m%d-%H%M}-{stem.split('_', 3)[-1]}"
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
        script=script,
    )
