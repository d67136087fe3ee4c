"""MP3 encoded as independent streams: same timing as one stream, repeats encoded once, and the
measurements of the streams equal those of the whole decoded file."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from broadcast.radio.audio import (
    LoudnessMeter,
    decoded_blocks,
    hear_mp3,
    heard_programme,
    true_peak_db,
)
from broadcast.radio.mp3 import (
    DELAY,
    FRAME,
    TAIL,
    encode_mp3,
    encode_streams,
    level_change_db,
    valid_cut,
)

RATE = 24000


def _burst(seconds: float, freq: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.4 * np.sin(2 * np.pi * freq * t) * np.sin(np.pi * t / seconds)).astype(np.float32)


def _programme() -> tuple[list[np.ndarray], list[int]]:
    """tone, pause, notice, pause, line, pause, notice, pause, tone; the notice has a pause
    inside; both readings start on the same phase of the frame grid."""
    half = RATE // 2
    notice = np.concatenate([_burst(2.0, 440), np.zeros(half, np.float32), _burst(1.5, 550)])
    head = [_burst(1.0, 660), np.zeros(RATE, np.float32)]
    first = sum(map(len, head))
    between = [np.zeros(RATE, np.float32), _burst(0.7, 330)]
    gap = len(notice) + sum(map(len, between))
    between.append(np.zeros(half + (-(gap + half)) % FRAME, np.float32))
    segments = [*head, notice, *between, notice, np.zeros(RATE, np.float32), _burst(1.0, 880)]
    second = first + gap + len(between[-1])
    inside = 2 * RATE + half // 2
    cuts = []
    for start in (first, second):
        r = -(-(start + inside) // FRAME) * FRAME
        cuts += [(start - FRAME) // FRAME * FRAME, r,
                 -(-(start + len(notice) + TAIL + FRAME) // FRAME) * FRAME]
    return segments, cuts


def _decode(mp3: bytes) -> np.ndarray:
    data, _ = sf.read(io.BytesIO(mp3), dtype="float32")
    return np.asarray(data)


def test_streams_decode_like_one_stream() -> None:
    segments, cuts = _programme()
    assert all(valid_cut(segments, c) for c in cuts)
    whole = _decode(encode_mp3(segments, RATE, 64))
    split = _decode(encode_mp3(segments, RATE, 64, cuts=cuts, workers=2))
    assert len(split) == len(whole)
    assert float(np.abs(split - whole).max()) < 1e-3  # encoder noise, nothing displaced
    source = np.concatenate(segments)
    aligned = split[DELAY:DELAY + len(source)]
    assert float(np.corrcoef(aligned, source)[0, 1]) > 0.999


def test_a_repeated_stream_is_encoded_once() -> None:
    segments, cuts = _programme()
    mp3, found = encode_streams(segments, RATE, 64, cuts=cuts, workers=2,
                                inspect=lambda data, starts: (list(starts), len(data)))
    # before, the notice's two pieces (each played twice), between, after
    assert [len(starts) for starts, _ in found] == [1, 2, 2, 1, 1]
    assert [starts[0] for starts, _ in found] == sorted(starts[0] for starts, _ in found)
    assert sum(n * len(starts) for starts, n in found) == len(mp3)


def test_a_cut_in_sound_is_skipped() -> None:
    segments, _ = _programme()
    noisy_cut = 10 * FRAME  # inside the first tone
    assert not valid_cut(segments, noisy_cut)
    assert encode_mp3(segments, RATE, 64, cuts=[noisy_cut]) == encode_mp3(segments, RATE, 64)


def test_measuring_the_streams_equals_measuring_the_file() -> None:
    segments, cuts = _programme()
    mp3, heard = encode_streams(segments, RATE, 64, cuts=cuts, workers=2,
                                inspect=lambda data, starts: hear_mp3(data, starts, RATE))
    loudness, peak = heard_programme(heard, RATE)
    meter = LoudnessMeter(RATE)
    whole = np.concatenate(list(decoded_blocks(mp3)))
    meter.feed(whole)
    assert loudness == pytest.approx(meter.loudness, abs=0.01)
    assert peak == pytest.approx(true_peak_db([whole]), abs=0.05)


def test_lame_decodes_a_little_quieter_than_its_input() -> None:
    shift = level_change_db(RATE, 64)
    assert -0.6 < shift < -0.3
    x = _burst(3.0, 500) * np.float32(0.5)
    y = _decode(encode_mp3([x], RATE, 64))[DELAY:DELAY + len(x)]
    measured = 20 * np.log10(np.sqrt(np.mean(y**2)) / np.sqrt(np.mean(x**2)))
    assert measured == pytest.approx(shift, abs=0.05)
