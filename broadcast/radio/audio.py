"""Audio for bulletins: tones, loudness (BS.1770), true-peak limiting, MP3 and ID3 tags.

A 1,000-word bulletin is about 17 minutes of audio (25 million samples at 24 kHz). Everything
here is float32, block by block, in place where the caller owns the array, and spreads the
heavy filters over the CPUs with threads (scipy and numpy release the GIL in them):

- loudness: pyloudnorm's own K-weighting filters and BS.1770-4 gating (the result matches
  ``pyloudnorm.Meter.integrated_loudness``);
- true peak: 4x oversampling with a 48-tap interpolator (BS.1770-4 annex 2), computed only where
  a cheap bound (``sum |taps| * |x|``) says a sample could be over the level of interest;
- :class:`PeakLimiter`: the envelope of a signal is found once; limiting it at any gain then
  only touches the stretches that go over the ceiling.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyloudnorm as pyln
import soundfile as sf
from mutagen.id3 import ID3, TALB, TCON, TDRC, TIT2, TLAN, TPE1, TXXX
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import correlate1d, minimum_filter1d, uniform_filter1d
from scipy.signal import butter, firwin, resample_poly, sosfilt, sosfilt_zi, tf2sos

from broadcast.radio.mp3 import encode_mp3

__all__ = [
    "Heard",
    "LoudnessMeter",
    "PeakLimiter",
    "alert_tone",
    "block_powers",
    "chime",
    "decoded_blocks",
    "encode_mp3",
    "gated_loudness",
    "hear_mp3",
    "heard_programme",
    "highpass",
    "integrated_loudness",
    "k_weighting",
    "limit_true_peak",
    "resample",
    "silence",
    "tag_mp3",
    "true_peak_db",
    "workers",
]

_BLOCK = 1 << 17
_OVERSAMPLE = 4
_EDGE = 64  # context samples around a block so that resampling sees its neighbours
# A 48-tap interpolator for 4x true-peak oversampling (the length BS.1770-4 annex 2 uses).
_TP_FIR = firwin(48, 1 / _OVERSAMPLE, window="hann").astype(np.float32)  # scaled by scipy
_T = TypeVar("_T")
# Added to what goes into the recursive filters: after a pause their state would otherwise
# decay into denormal floats, which the CPU handles about 4x slower. The filters here block DC
# (high pass), so the offset leaves their output unchanged (by 1e-20 at most).
_GUARD = 1e-20


def workers() -> int:
    """Threads for block-parallel work: the CPUs this process may use (at most 4)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    return max(1, min(4, n))


def _map(fn: Callable[[int], _T], starts: Sequence[int]) -> list[_T]:
    """``fn`` over block starts, on a few threads when there is more than one block."""
    n = workers()
    if n == 1 or len(starts) < 2:
        return [fn(s) for s in starts]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="radio-audio") as pool:
        return list(pool.map(fn, starts))


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
    """Polyphase resampling (22050 -> 24000 Hz is 160/147), block by block, into one array."""
    if src == dst:
        return x.astype(np.float32, copy=False)
    g = math.gcd(src, dst)
    up, down = dst // g, src // g
    step = _BLOCK // down * down  # whole input periods per block keep the phase aligned
    out = np.empty((len(x) * up + down - 1) // down, dtype=np.float32)

    def one(start: int) -> None:
        lo = max(0, start - _EDGE * down)
        block = x[lo:start + step + _EDGE * down].astype(np.float32, copy=False)
        y = resample_poly(block, up, down)
        skip = (start - lo) * up // down
        n = (min(step, len(x) - start) * up + down - 1) // down
        first = start * up // down
        out[first:first + n] = y[skip:skip + n]

    _map(one, range(0, len(x), step))
    return out


def highpass(x: np.ndarray, rate: int, hz: float, *, out: np.ndarray | None = None) -> np.ndarray:
    """Remove what horn loudspeakers cannot reproduce (2nd-order Butterworth).

    ``out=x`` filters in place (the caller owns ``x``).
    """
    if hz <= 0 or not len(x):
        return x
    sos = butter(2, hz, btype="highpass", fs=rate, output="sos")
    zi = sosfilt_zi(sos) * 0.0
    if out is None:
        out = np.empty(len(x), dtype=np.float32)
    for start in range(0, len(x), _BLOCK):
        y, zi = sosfilt(sos, x[start:start + _BLOCK] + np.float32(_GUARD), zi=zi)
        out[start:start + len(y)] = y
    return out


def _interpolator() -> tuple[np.ndarray, np.ndarray, int]:
    """resample_poly's 4x interpolation with ``_TP_FIR`` as a matrix ``W`` (taps x phases):
    the four oversampled values of sample k are ``x[k + lo : k + lo + taps] @ W``; also the
    largest magnitude of each tap over the phases (for a bound) and ``lo``."""
    reach = 8
    centre = _OVERSAMPLE * reach
    impulse = np.zeros(2 * centre + 1)
    impulse[centre] = 1.0
    up = resample_poly(impulse, _OVERSAMPLE, 1, window=_TP_FIR.astype(np.float64))
    w = np.array([[up[_OVERSAMPLE * (centre - d) + p] for p in range(_OVERSAMPLE)]
                  for d in range(-reach, reach + 1)])
    used = np.flatnonzero(np.abs(w).sum(axis=1) > 0)
    return w[used].astype(np.float32), np.abs(w[used]).max(axis=1).astype(np.float32), \
        int(used[0]) - reach


_W, _W_BOUND, _W_LO = _interpolator()
_TAPS = len(_W)
_CTX = _TAPS + 2  # context samples a block needs on each side


def _envelope_over(x: np.ndarray, start: int, n: int, floor: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The samples of ``x[start:start+n]`` whose true-peak envelope (the largest magnitude
    among their 4x-oversampled neighbours and themselves) is over ``floor``: (index, envelope).

    ``sum |W| * |x|`` bounds the envelope, so the interpolation only runs where that bound is
    over the floor: speech is mostly well under its peaks.
    """
    lo, hi = max(0, start - _CTX), min(len(x), start + n + _CTX)
    local = x[lo:hi].astype(np.float32, copy=False)
    mag = np.abs(local)
    bound = correlate1d(mag, _W_BOUND, mode="constant", origin=-(_TAPS // 2) - _W_LO)
    off = start - lo
    cand = np.flatnonzero((bound[off:off + n] > floor) | (mag[off:off + n] > floor)) + off
    if not len(cand):
        return cand, np.zeros(0, dtype=np.float32)
    padded = np.concatenate([np.zeros(-_W_LO, dtype=np.float32), local,
                             np.zeros(_TAPS + _W_LO, dtype=np.float32)])
    windows = sliding_window_view(padded, _TAPS)
    env = np.empty(len(cand), dtype=np.float32)
    for a in range(0, len(cand), 1 << 15):
        c = cand[a:a + (1 << 15)]
        env[a:a + len(c)] = np.maximum(np.abs(windows[c] @ _W).max(axis=1), mag[c])
    keep = env > floor
    return cand[keep] + lo, env[keep]


def _block_peak(x: np.ndarray, *, threads: bool = True) -> float:
    """True peak (linear) of one block on its own (zeros around it)."""
    if not len(x):
        return 0.0
    floor = float(np.abs(x).max())  # the true peak is at least the sample peak
    starts = range(0, len(x), _BLOCK)

    def one(s: int) -> float:
        _, env = _envelope_over(x, s, min(_BLOCK, len(x) - s), floor)
        return float(env.max()) if len(env) else 0.0

    return max(floor, *(_map(one, starts) if threads else [one(s) for s in starts]))


def true_peak_db(segments: Iterable[np.ndarray]) -> float:
    """True peak (dBTP) by 4x oversampling (ITU-R BS.1770-4 annex 2)."""
    peak = 0.0
    for x in segments:
        peak = max(peak, _block_peak(x))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


class PeakLimiter:
    """Look-ahead true-peak limiter for one signal, at any gain.

    The oversampled envelope is computed once; for a gain ``g`` and a ceiling, each sample needs
    ``min(1, ceiling / (g * env))``, and the applied gain is the minimum of that need over
    +-hold, smoothed by a moving average no wider than that window, so it never exceeds the need
    of any sample. Only the samples whose envelope could go over the ceiling are kept: the
    envelope is computed on first use, for the gain asked, and again if a much larger gain is.
    """

    def __init__(self, x: np.ndarray, rate: int) -> None:
        self.x = x
        self.hold = max(3, int(0.01 * rate))
        self._floor = math.inf  # nothing scanned yet
        self._idx = np.zeros(0, dtype=np.int64)
        self._env = np.zeros(0, dtype=np.float32)
        self._runs: tuple[float, float, list[tuple[int, np.ndarray]]] | None = None

    def _scan(self, floor: float) -> None:
        x = self.x

        def one(start: int) -> tuple[np.ndarray, np.ndarray]:
            return _envelope_over(x, start, min(_BLOCK, len(x) - start), floor)

        found = _map(one, range(0, len(x), _BLOCK))
        self._idx = np.concatenate([i for i, _ in found]) if found else self._idx[:0]
        self._env = np.concatenate([e for _, e in found]) if found else self._env[:0]
        self._floor = floor

    def peak(self, floor: float) -> float:
        """The true peak of the signal (linear), or 0 when it stays under ``floor``."""
        if floor < self._floor:
            self._scan(floor)
        return float(np.max(self._env)) if len(self._env) else 0.0

    def gains(self, gain: float, ceiling: float) -> list[tuple[int, np.ndarray]]:
        """(start, gain) runs where the limiter lowers ``gain * x``; elsewhere it leaves it."""
        if gain <= 0 or not math.isfinite(ceiling):
            return []
        if self._runs is not None and self._runs[:2] == (gain, ceiling):
            return self._runs[2]
        self._runs = None  # one set of runs at a time
        if ceiling / gain < self._floor:
            # Keep what a gain up to 6 dB higher could need: the search rarely goes further.
            self._scan(0.5 * ceiling / gain)
        over = self._env * np.float32(gain) > ceiling
        idx = self._idx[over]
        runs: list[tuple[int, np.ndarray]] = []
        if len(idx):
            need = np.minimum(1.0, ceiling / np.maximum(self._env[over] * np.float32(gain),
                                                        1e-9)).astype(np.float32)
            runs = self._smooth(idx, need)
        self._runs = (gain, ceiling, runs)
        return runs

    def _smooth(self, idx: np.ndarray, need: np.ndarray) -> list[tuple[int, np.ndarray]]:
        n, hold = len(self.x), self.hold
        ctx = 2 * hold + 2  # the gain at i depends on the need within i +- (hold + hold // 2)
        runs: list[tuple[int, np.ndarray]] = []
        # Stretches of samples that need limiting, each with its context; merged when close.
        starts = np.flatnonzero(np.diff(idx) > 4 * ctx) + 1
        for group in np.split(np.arange(len(idx)), starts):
            first, last = int(idx[group[0]]), int(idx[group[-1]])
            lo, hi = max(0, first - 2 * ctx), min(n, last + 2 * ctx + 1)
            local = np.ones(hi - lo, dtype=np.float32)
            local[idx[group] - lo] = need[group]
            g = uniform_filter1d(minimum_filter1d(local, size=2 * hold + 1), size=hold)
            below = np.flatnonzero(g < 1.0)
            if len(below):
                a, b = int(below[0]), int(below[-1]) + 1
                runs.append((lo + a, g[a:b]))
        return runs

    def apply(self, gain: float, ceiling: float, out: np.ndarray | None = None) -> np.ndarray:
        """``gain * x`` limited under ``ceiling`` (linear); ``out=x`` works in place."""
        runs = self.gains(gain, ceiling)
        if out is None:
            out = np.empty(len(self.x), dtype=np.float32)
        g = np.float32(gain)
        for start in range(0, len(self.x), _BLOCK):
            np.multiply(self.x[start:start + _BLOCK], g, out=out[start:start + _BLOCK])
        for start, run in runs:
            out[start:start + len(run)] *= run
        return out

    def blocks(self, gain: float, ceiling: float, start: int = 0,
               stop: int | None = None) -> Iterator[np.ndarray]:
        """``x[start:stop]`` limited, block by block (nothing of its size is allocated)."""
        runs = self.gains(gain, ceiling)
        stop = len(self.x) if stop is None else stop
        g = np.float32(gain)
        r = 0
        for lo in range(start, stop, _BLOCK):
            hi = min(stop, lo + _BLOCK)
            block = self.x[lo:hi] * g
            while r < len(runs) and runs[r][0] + len(runs[r][1]) <= lo:
                r += 1
            k = r
            while k < len(runs) and runs[k][0] < hi:
                rs, run = runs[k]
                a, b = max(rs, lo), min(rs + len(run), hi)
                block[a - lo:b - lo] *= run[a - rs:b - rs]
                k += 1
            yield block


def limit_true_peak(x: np.ndarray, rate: int, ceiling_db: float) -> np.ndarray:
    """Look-ahead peak limiter: the true peak of the result stays under ``ceiling_db``."""
    ceiling = 10 ** (ceiling_db / 20)
    limiter = PeakLimiter(x, rate)
    if limiter.peak(0.5 * ceiling) <= ceiling:
        return x
    return limiter.apply(1.0, ceiling)


def k_weighting(rate: int) -> np.ndarray:
    """pyloudnorm's K-weighting (high shelf, then high pass) as second-order sections."""
    meter = pyln.Meter(rate)
    return np.vstack([tf2sos(f.b, f.a) for f in meter._filters.values()])


class LoudnessMeter:
    """Integrated loudness (BS.1770-4 gating) and true peak, fed block by block."""

    def __init__(self, rate: int) -> None:
        self._sos = k_weighting(rate)
        self._zi = np.zeros((len(self._sos), 2))
        self._step = round(0.1 * rate)
        self._energies: list[np.ndarray] = []
        self._carry = np.zeros(0, dtype=np.float64)
        self.peak = 0.0

    def feed(self, x: np.ndarray, *, true_peak: bool = False) -> None:
        for start in range(0, len(x), _BLOCK):
            block = x[start:start + _BLOCK]
            if true_peak and len(block):
                self.peak = max(self.peak, _block_peak(block))
            y, self._zi = sosfilt(self._sos, np.add(block, _GUARD, dtype=np.float64),
                                  zi=self._zi)
            if len(self._carry):
                y = np.concatenate([self._carry, y])
            whole = len(y) // self._step * self._step
            if whole:
                self._energies.append(np.square(y[:whole]).reshape(-1, self._step).sum(axis=1))
            self._carry = y[whole:]

    @property
    def true_peak_db(self) -> float:
        return 20 * math.log10(self.peak) if self.peak > 0 else -math.inf

    @property
    def loudness(self) -> float:
        e = np.concatenate(self._energies) if self._energies else np.zeros(0)
        if len(e) < 4:
            raise ValueError("audio shorter than one 400 ms gating block")
        z = (e[:-3] + e[1:-2] + e[2:-1] + e[3:]) / (4 * self._step)
        return gated_loudness([z])


def block_powers(blocks: Iterable[np.ndarray], rate: int) -> np.ndarray:
    """Mean square of each 400 ms gating block (75 % overlap) of a signal given block by block,
    measured as if silence surrounded it (one part of a programme, between pauses).

    For estimates: the K-weighting runs in float32 (about 0.001 LU from the float64 meter).
    """
    sos = _k_weighting32(rate)
    zi = np.zeros((len(sos), 2), dtype=np.float32)
    step = round(0.1 * rate)
    parts: list[np.ndarray] = [np.zeros(3)]
    carry = np.zeros(0, dtype=np.float32)
    for block in blocks:
        y, zi = sosfilt(sos, np.add(block, _GUARD, dtype=np.float32), zi=zi)
        if len(carry):
            y = np.concatenate([carry, y])
        whole = len(y) // step * step
        if whole:
            parts.append(np.square(y[:whole]).reshape(-1, step).sum(axis=1, dtype=np.float64))
        carry = y[whole:]
    parts += [np.array([np.square(carry).sum(dtype=np.float64)]), np.zeros(3)]
    e = np.concatenate(parts)
    return (e[:-3] + e[1:-2] + e[2:-1] + e[3:]) / (4 * step)


@lru_cache(maxsize=8)
def _k_weighting32(rate: int) -> np.ndarray:
    return k_weighting(rate).astype(np.float32)


def gated_loudness(powers: Iterable[np.ndarray]) -> float:
    """BS.1770-4 integrated loudness of gating-block powers (absolute and relative gates)."""
    parts = [p for p in powers if len(p)]
    z = np.concatenate(parts) if parts else np.zeros(0)
    with np.errstate(divide="ignore"):
        loud = -0.691 + 10 * np.log10(z)
    gated = z[loud >= -70.0]
    if not len(gated):
        return -math.inf
    rel = -0.691 + 10 * math.log10(float(gated.mean())) - 10.0
    final = z[(loud > rel) & (loud > -70.0)]
    return -0.691 + 10 * math.log10(float(final.mean())) if len(final) else -math.inf


@dataclass(frozen=True)
class Heard:
    """One decoded MP3 stream, measured: its true peak (linear), its length, and the
    K-weighted energy of each 100 ms block of the file's grid it covers, for each place in the
    file where it is played (``(first block, energies)``)."""

    peak: float
    length: int
    bins: tuple[tuple[int, int, np.ndarray], ...]  # (start sample, first block, energies)


def hear_mp3(data: bytes, starts: Sequence[int], rate: int) -> Heard:
    """Decode one MP3 stream played at ``starts`` (file samples) and measure it.

    Runs on one thread (it is meant for the MP3 encoding threads). The K-weighting filters
    start at rest: the streams of a bulletin begin and end in silence.
    """
    sos = k_weighting(rate)
    zi = np.zeros((len(sos), 2))
    step = round(0.1 * rate)
    carries = [np.zeros(s % step) for s in starts]
    energies: list[list[np.ndarray]] = [[] for _ in starts]
    peak, length = 0.0, 0
    for block in decoded_blocks(data):
        length += len(block)
        peak = max(peak, _block_peak(block, threads=False))
        y, zi = sosfilt(sos, np.add(block, _GUARD, dtype=np.float64), zi=zi)
        sq = np.square(y)
        for i, carry in enumerate(carries):
            z = np.concatenate([carry, sq])
            whole = len(z) // step * step
            energies[i].append(z[:whole].reshape(-1, step).sum(axis=1))
            carries[i] = z[whole:]
    bins = []
    for s, parts, carry in zip(starts, energies, carries, strict=True):
        e = np.concatenate([*parts, np.array([carry.sum()] if len(carry) else [])])
        bins.append((s, s // step, e))
    return Heard(peak, length, tuple(bins))


def heard_programme(streams: Iterable[Heard], rate: int) -> tuple[float, float]:
    """(integrated loudness, true peak dBTP) of the file the streams make up, as
    :class:`LoudnessMeter` measures the whole decoded file."""
    step = round(0.1 * rate)
    streams = list(streams)
    total = max((s + h.length for h in streams for s, _, _ in h.bins), default=0)
    e = np.zeros(total // step + 2)
    for h in streams:
        for _, first, bins in h.bins:
            n = min(len(bins), len(e) - first)
            e[first:first + n] += bins[:n]
    e = e[:total // step]  # the meter drops the last, partial block
    if len(e) < 4:
        raise ValueError("audio shorter than one 400 ms gating block")
    z = (e[:-3] + e[1:-2] + e[2:-1] + e[3:]) / (4 * step)
    peak = max((h.peak for h in streams), default=0.0)
    return gated_loudness([z]), 20 * math.log10(peak) if peak > 0 else -math.inf


def integrated_loudness(segments: Iterable[np.ndarray], rate: int) -> float:
    """Integrated loudness (LUFS) of the concatenated segments, measured block by block."""
    meter = LoudnessMeter(rate)
    for seg in segments:
        meter.feed(seg)
    return meter.loudness


def decoded_blocks(mp3: bytes) -> Iterator[np.ndarray]:
    """Decode MP3 bytes in blocks (for checking what listeners will hear)."""
    # Read whole MP3 frames (1152 samples for MPEG-1, 576 for MPEG-2): libsndfile's decoder
    # reports corrupt frames when a read ends inside one.
    with sf.SoundFile(io.BytesIO(mp3)) as f:
        while True:
            block = f.read(1152 * 128, dtype="float32", always_2d=True)
            if not len(block):
                return
            yield block[:, 0] if block.shape[1] == 1 else block.mean(axis=1)


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
