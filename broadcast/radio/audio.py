"""Audio for bulletins: tones, loudness (BS.1770), true-peak limiting, MP3 and ID3 tags.

A 1,000-word bulletin is about 15 minutes of audio; measuring it in one piece with pyloudnorm
takes over 600 MB, so loudness and true peak are measured block by block with pyloudnorm's own
K-weighting filters (the result matches ``pyloudnorm.Meter.integrated_loudness``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import lameenc
import numpy as np
import pyloudnorm as pyln
import soundfile as sf
from mutagen.id3 import ID3, TALB, TCON, TDRC, TIT2, TLAN, TPE1, TXXX
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import butter, firwin, lfilter, lfilter_zi, resample_poly, sosfilt, sosfilt_zi

__all__ = [
    "LoudnessMeter",
    "alert_tone",
    "chime",
    "encode_mp3",
    "highpass",
    "integrated_loudness",
    "limit_true_peak",
    "resample",
    "silence",
    "tag_mp3",
    "true_peak_db",
]

_BLOCK = 1 << 17
_OVERSAMPLE = 4
_EDGE = 64  # context samples around a block so that oversampling sees its neighbours
# A 48-tap interpolator for 4x true-peak oversampling (the length BS.1770-4 annex 2 uses).
_TP_FIR = firwin(48, 1 / _OVERSAMPLE, window="hann").astype(np.float32)  # scaled by scipy


def silence(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(round(seconds * rate), dtype=np.float32)


def _envelope(n: int, rate: int, attack_s: float, decay_s: float) -> np.ndarray:
    t = np.arange(n) / rate
    env = np.exp(-t / decay_s)
    a = max(1, int(attack_s * rate))
    env[:a] *= np.linspace(0.0, 1.0, a)
    return env


def chime(rate: int, *, rising: bool = False) -> np.ndarray:
    """A three-note bell (G5 E5 C5; rising C5 E5 G5 for the outro), about 1.6 s."""
    notes = [784.0, 659.25, 523.25]
    if rising:
        notes.reverse()
    note_len = int(0.42 * rate)
    tail = int(0.8 * rate)
    out = np.zeros(note_len * len(notes) + tail, dtype=np.float64)
    t = np.arange(note_len + tail) / rate
    for i, f in enumerate(notes):
        bell = (np.sin(2 * np.pi * f * t) + 0.35 * np.sin(2 * np.pi * 2 * f * t)
                + 0.12 * np.sin(2 * np.pi * 3.01 * f * t))
        tone = bell * _envelope(len(t), rate, 0.004, 0.45)
        out[i * note_len: i * note_len + len(t)] += tone
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def alert_tone(rate: int, seconds: float = 3.0) -> np.ndarray:
    """The emergency signal: a hi-lo two-tone (960/770 Hz) with odd harmonics, never a chime."""
    seg = int(0.25 * rate)
    n_seg = max(2, int(seconds / 0.25))
    t = np.arange(seg) / rate
    fade = np.ones(seg)
    k = int(0.005 * rate)
    fade[:k] = np.linspace(0, 1, k)
    fade[-k:] = np.linspace(1, 0, k)
    parts = []
    for i in range(n_seg):
        f = 960.0 if i % 2 == 0 else 770.0
        wave = sum(np.sin(2 * np.pi * h * f * t) / h for h in (1, 3, 5))
        parts.append(wave * fade)
    out = np.concatenate(parts)
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Polyphase resampling (22050 -> 24000 Hz is 160/147), block by block."""
    if src == dst:
        return x.astype(np.float32, copy=False)
    g = math.gcd(src, dst)
    up, down = dst // g, src // g
    step = _BLOCK // down * down  # whole input periods per block keep the phase aligned
    out = []
    for start in range(0, len(x), step):
        lo = max(0, start - _EDGE * down)
        block = x[lo:start + step + _EDGE * down].astype(np.float32)
        y = resample_poly(block, up, down)
        skip = (start - lo) * up // down
        n = (min(step, len(x) - start) * up + down - 1) // down
        out.append(y[skip:skip + n].astype(np.float32))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def highpass(x: np.ndarray, rate: int, hz: float) -> np.ndarray:
    """Remove what horn loudspeakers cannot reproduce (2nd-order Butterworth)."""
    if hz <= 0 or not len(x):
        return x
    sos = butter(2, hz, btype="highpass", fs=rate, output="sos")
    zi = sosfilt_zi(sos) * 0.0
    out = np.empty(len(x), dtype=np.float32)
    for start in range(0, len(x), _BLOCK):
        y, zi = sosfilt(sos, x[start:start + _BLOCK], zi=zi)
        out[start:start + len(y)] = y
    return out


def _blocks(x: np.ndarray) -> Iterator[tuple[int, np.ndarray, int]]:
    """Blocks of ``x`` with context: (start, padded block, offset of the block inside it)."""
    for start in range(0, len(x), _BLOCK):
        lo = max(0, start - _EDGE)
        hi = min(len(x), start + _BLOCK + _EDGE)
        yield start, x[lo:hi], start - lo


def _oversampled_peaks(x: np.ndarray) -> np.ndarray:
    """Per input sample, the largest magnitude among its oversampled neighbours."""
    env = np.abs(x).astype(np.float32)
    for start, block, off in _blocks(x):
        n = min(_BLOCK, len(x) - start)
        up = np.abs(resample_poly(block.astype(np.float32), _OVERSAMPLE, 1, window=_TP_FIR))
        up = up[off * _OVERSAMPLE: (off + n) * _OVERSAMPLE]
        phases = [up[k::_OVERSAMPLE][:n] for k in range(_OVERSAMPLE)]
        peak = np.maximum(np.maximum(phases[0], phases[1]), np.maximum(phases[2], phases[3]))
        np.maximum(env[start:start + len(peak)], peak, out=env[start:start + len(peak)])
    return env


def true_peak_db(segments: Iterable[np.ndarray]) -> float:
    """True peak (dBTP) by 4x oversampling (ITU-R BS.1770-4 annex 2)."""
    peak = 0.0
    for x in segments:
        if len(x):
            peak = max(peak, float(_oversampled_peaks(x).max()))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def limit_true_peak(x: np.ndarray, rate: int, ceiling_db: float) -> np.ndarray:
    """Look-ahead peak limiter: the true peak of the result stays under ``ceiling_db``.

    The gain is the minimum of what each sample needs over +-hold, then smoothed by a moving
    average no wider than that window, so it never exceeds the need of any sample.
    """
    ceiling = 10 ** (ceiling_db / 20)
    env = _oversampled_peaks(x)
    if env.max() <= ceiling:
        return x
    need = np.minimum(1.0, ceiling / np.maximum(env, 1e-9)).astype(np.float32)
    hold = max(3, int(0.01 * rate))
    gain = uniform_filter1d(minimum_filter1d(need, size=2 * hold + 1), size=hold)
    return (x * gain).astype(np.float32)


class LoudnessMeter:
    """Integrated loudness (BS.1770-4 gating) and true peak, fed block by block."""

    def __init__(self, rate: int) -> None:
        meter = pyln.Meter(rate)
        self._filters = [(f.b, f.a) for f in meter._filters.values()]
        self._states = [lfilter_zi(b, a) * 0.0 for b, a in self._filters]
        self._step = round(0.1 * rate)
        self._energies: list[float] = []
        self._carry = np.zeros(0, dtype=np.float64)
        self.peak = 0.0

    def feed(self, x: np.ndarray, *, true_peak: bool = False) -> None:
        for start in range(0, len(x), _BLOCK):
            block = x[start:start + _BLOCK]
            if true_peak and len(block):
                self.peak = max(self.peak, float(_oversampled_peaks(block).max()))
            y = block.astype(np.float64)
            for i, (b, a) in enumerate(self._filters):
                y, self._states[i] = lfilter(b, a, y, zi=self._states[i])
            y = np.concatenate([self._carry, y])
            whole = len(y) // self._step * self._step
            if whole:
                sums = np.square(y[:whole]).reshape(-1, self._step).sum(axis=1)
                self._energies.extend(sums.tolist())
            self._carry = y[whole:]

    @property
    def true_peak_db(self) -> float:
        return 20 * math.log10(self.peak) if self.peak > 0 else -math.inf

    @property
    def loudness(self) -> float:
        e = np.asarray(self._energies)
        if len(e) < 4:
            raise ValueError("audio shorter than one 400 ms gating block")
        z = (e[:-3] + e[1:-2] + e[2:-1] + e[3:]) / (4 * self._step)
        with np.errstate(divide="ignore"):
            loud = -0.691 + 10 * np.log10(z)
        gated = z[loud >= -70.0]
        if not len(gated):
            return -math.inf
        rel = -0.691 + 10 * math.log10(float(gated.mean())) - 10.0
        final = z[(loud > rel) & (loud > -70.0)]
        return -0.691 + 10 * math.log10(float(final.mean())) if len(final) else -math.inf


def integrated_loudness(segments: Iterable[np.ndarray], rate: int) -> float:
    """Integrated loudness (LUFS) of the concatenated segments, measured block by block."""
    meter = LoudnessMeter(rate)
    for seg in segments:
        meter.feed(seg)
    return meter.loudness


def encode_mp3(segments: Iterable[np.ndarray], rate: int, kbps: int) -> bytes:
    """Mono CBR MP3 (LAME), fed segment by segment so that memory stays small."""
    enc = lameenc.Encoder()
    enc.set_channels(1)
    enc.set_in_sample_rate(rate)
    enc.set_out_sample_rate(rate)
    enc.set_bit_rate(kbps)
    enc.set_quality(5)
    out = bytearray()
    for seg in segments:
        for start in range(0, len(seg), _BLOCK):
            pcm = np.clip(seg[start:start + _BLOCK], -1.0, 32767 / 32768) * 32768.0
            out += enc.encode(np.round(pcm).astype("<i2").tobytes())
    out += enc.flush()
    return bytes(out)


def decoded_blocks(mp3: bytes) -> Iterator[np.ndarray]:
    """Decode MP3 bytes in blocks (for checking what listeners will hear)."""
    # Read whole MP3 frames (1152 samples for MPEG-1, 576 for MPEG-2): libsndfile's decoder
    # reports corrupt frames when a read ends inside one.
    with sf.SoundFile(io.BytesIO(mp3)) as f:
        while True:
            block = f.read(1152 * 128, dtype="float32", always_2d=True)
            if not len(block):
                return
            yield block.mean(axis=1)


def tag_mp3(
    path: Path,
    *,
    title: str,
    station: str,
    area_code: str,
    area_name: str,
    when: datetime,
    priority: str,
) -> None:
    """ID3v2.3 tags (widest player support): title, station, area, date, priority."""
    tags = ID3()
    tags.add(TIT2(encoding=1, text=title))
    tags.add(TPE1(encoding=1, text=station))
    tags.add(TALB(encoding=1, text=area_name))
    tags.add(TDRC(encoding=1, text=when.strftime("%Y-%m-%dT%H:%M")))
    tags.add(TCON(encoding=1, text="Speech"))
    tags.add(TLAN(encoding=1, text="vie"))
    tags.add(TXXX(encoding=1, desc="AREA_CODE", text=area_code))
    tags.add(TXXX(encoding=1, desc="AREA", text=area_name))
    tags.add(TXXX(encoding=1, desc="PRIORITY", text=priority))
    tags.save(str(path), v2_version=3)
