"""Mono CBR MP3 (LAME) of a programme, encoded as independent streams in parallel.

An MP3 file is a plain sequence of frames, and a frame after a LAME stream restart is as valid
as any other (its bit reservoir starts empty). So a programme may be cut in silence and each
piece encoded on its own, on its own thread, and the pieces joined; a piece that occurs twice
(the notice, read twice) is encoded once.

Timing is kept exact. LAME (as lameenc drives it, without a Xing/LAME tag) delays the content by
``DELAY`` = 1105 samples and ends every stream with two frames beyond its last full frame, so a
stream of ``m`` whole frames of content decodes to ``m + 2`` frames. A stream that starts at
programme sample ``T`` (a multiple of the frame) and holds ``T .. T' - TAIL`` therefore decodes
to exactly ``T .. T'``, with the content where one stream for the whole programme puts it: the
``TAIL`` samples before each cut are not encoded, so they must be silent (checked here, with a
frame of margin on each side; a cut that is not valid is skipped).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import lameenc
import numpy as np
import soundfile as sf

__all__ = ["DELAY", "FRAME", "TAIL", "encode_mp3", "encode_streams", "level_change_db",
           "valid_cut"]

FRAME = 576  # samples per MPEG-2 layer III frame (16, 22.05 and 24 kHz)
DELAY = 1105  # LAME's encoder delay plus the decoder's, in samples
TAIL = 2 * FRAME  # what a stream adds beyond its whole frames of content
_GUARD = FRAME  # silence kept on each side of the samples a cut drops
_BLOCK = 1 << 16
_QUALITY = 5
_T = TypeVar("_T")


@dataclass(frozen=True)
class _Piece:
    seg: int  # index into the segments; -1 for silence
    start: int
    stop: int


class _Layout:
    """Where each segment sits in the programme, and which ones are all silence."""

    def __init__(self, segments: Sequence[np.ndarray]) -> None:
        self.segments = segments
        self.starts = np.cumsum([0, *(len(s) for s in segments)])
        self.total = int(self.starts[-1])
        self.silent = [not np.any(s) for s in segments]

    def pieces(self, a: int, b: int) -> list[_Piece]:
        out: list[_Piece] = []
        i = max(0, int(np.searchsorted(self.starts, a, side="right")) - 1)
        while i < len(self.segments) and self.starts[i] < b:
            s0 = int(self.starts[i])
            lo, hi = max(a, s0) - s0, min(b, int(self.starts[i + 1])) - s0
            if hi > lo:
                if self.silent[i]:
                    if out and out[-1].seg == -1:
                        prev = out.pop()
                        out.append(_Piece(-1, 0, prev.stop + hi - lo))
                    else:
                        out.append(_Piece(-1, 0, hi - lo))
                else:
                    out.append(_Piece(i, lo, hi))
            i += 1
        return out

    def is_silent(self, a: int, b: int) -> bool:
        if a < 0 or b > self.total:
            return False
        return not any(np.any(self.segments[p.seg][p.start:p.stop])
                       for p in self.pieces(a, b) if p.seg >= 0)

    def key(self, a: int, b: int) -> tuple[tuple[int, int, int], ...]:
        """Identical keys mean identical samples (the same arrays at the same offsets)."""
        return tuple((id(self.segments[p.seg]) if p.seg >= 0 else -1, p.start, p.stop)
                     for p in self.pieces(a, b))


def valid_cut(segments: Sequence[np.ndarray], cut: int) -> bool:
    """Whether the programme may be cut at sample ``cut`` (see the module docstring)."""
    return _valid(_Layout(segments), cut)


def _valid(layout: _Layout, cut: int) -> bool:
    return cut % FRAME == 0 and 0 < cut < layout.total and layout.is_silent(
        cut - TAIL - _GUARD, min(layout.total, cut + _GUARD))


def _pcm(layout: _Layout, pieces: Iterable[_Piece]) -> Iterator[bytes]:
    for p in pieces:
        if p.seg < 0:
            for start in range(0, p.stop, _BLOCK):
                yield bytes(2 * min(_BLOCK, p.stop - start))
            continue
        seg = layout.segments[p.seg]
        for start in range(p.start, p.stop, _BLOCK):
            block = seg[start:min(p.stop, start + _BLOCK)]
            pcm = np.clip(block, -1.0, 32767 / 32768) * np.float32(32768.0)
            yield np.rint(pcm).astype("<i2").tobytes()


def _encode(layout: _Layout, pieces: list[_Piece], rate: int, kbps: int) -> bytes:
    enc = lameenc.Encoder()
    enc.set_channels(1)
    enc.set_in_sample_rate(rate)
    enc.set_out_sample_rate(rate)
    enc.set_bit_rate(kbps)
    enc.set_quality(_QUALITY)
    out = bytearray()
    for pcm in _pcm(layout, pieces):
        out += enc.encode(pcm)
    out += enc.flush()
    return bytes(out)


def _plan(layout: _Layout, rate: int, cuts: Iterable[int]) -> list[tuple[int, int]]:
    """The streams: (start, end of content); each decodes to ``start .. next start``."""
    points = [0]
    if rate < 32000:
        for cut in sorted(set(cuts)):
            if cut - points[-1] >= TAIL + FRAME and _valid(layout, cut):
                points.append(cut)
    return [(a, points[k + 1] - TAIL if k + 1 < len(points) else layout.total)
            for k, a in enumerate(points)]


def encode_streams(
    segments: Sequence[np.ndarray],
    rate: int,
    kbps: int,
    *,
    cuts: Iterable[int] = (),
    workers: int | None = None,
    inspect: Callable[[bytes, list[int]], _T] | None = None,
) -> tuple[bytes, list[_T]]:
    """The programme as one MP3, and what ``inspect`` found in each distinct stream (in the
    order they are first played).

    ``inspect(mp3 bytes of the stream, [programme sample where each of its occurrences
    starts])`` runs on the encoding thread right after the stream is encoded (to decode and
    measure it while other streams are still being encoded).
    """
    layout = _Layout(segments)
    streams = _plan(layout, rate, cuts)
    unique: dict[tuple[tuple[int, int, int], ...], tuple[list[_Piece], list[int]]] = {}
    keys = []
    for a, b in streams:
        key = layout.key(a, b)
        keys.append(key)
        unique.setdefault(key, (layout.pieces(a, b), []))[1].append(a)
    order = sorted(unique, key=lambda k: -sum(p.stop - p.start for p in unique[k][0]))

    def job(key: tuple[tuple[int, int, int], ...]) -> tuple[bytes, _T | None]:
        pieces, starts = unique[key]
        data = _encode(layout, pieces, rate, kbps)
        return data, (inspect(data, starts) if inspect is not None else None)

    n = workers if workers is not None else min(4, os.cpu_count() or 1)
    if n <= 1 or len(order) == 1:
        done = {k: job(k) for k in order}
    else:
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="radio-mp3") as pool:
            futures = {k: pool.submit(job, k) for k in order}
            done = {k: f.result() for k, f in futures.items()}
    found = [r for r in (done[k][1] for k in unique) if r is not None]
    return b"".join(done[k][0] for k in keys), found


def encode_mp3(
    segments: Sequence[np.ndarray],
    rate: int,
    kbps: int,
    *,
    cuts: Iterable[int] = (),
    workers: int | None = None,
) -> bytes:
    """The programme (segments played in order) as one mono CBR MP3.

    ``cuts`` are samples where the programme may be split into independent streams (multiples
    of :data:`FRAME` in silence); invalid ones are skipped. Without cuts, or above 24 kHz
    (MPEG-1 frames), the programme is one stream.
    """
    return encode_streams(segments, rate, kbps, cuts=cuts, workers=workers)[0]


@lru_cache(maxsize=16)
def level_change_db(rate: int, kbps: int) -> float:
    """How much louder (dB, usually negative) the decoded MP3 is than the PCM encoded.

    LAME as lameenc drives it decodes about 0.45 dB quieter than its input, whatever the
    signal; measured once per rate and bitrate on a speech-band tone.
    """
    t = np.arange(rate) / rate
    x = (0.25 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 1330 * t))
    data = _encode(_Layout([x.astype(np.float32)]), [_Piece(0, 0, rate)], rate, kbps)
    with sf.SoundFile(io.BytesIO(data)) as f:
        y = f.read(dtype="float64")
    if y.ndim > 1:
        y = y.mean(axis=1)
    mid = slice(rate // 4, 3 * rate // 4)
    got = float(np.sqrt(np.mean(np.square(y[DELAY:][mid]))))
    want = float(np.sqrt(np.mean(np.square(x[mid]))))
    return 20 * math.log10(got / want) if got > 0 else 0.0
