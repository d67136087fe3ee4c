"""Block-wise audio against whole-signal references: true peak, limiter, loudness, resampling."""

from __future__ import annotations

import numpy as np
import pyloudnorm as pyln
import pytest
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from broadcast.radio.audio import (
    _BLOCK,
    _TP_FIR,
    LoudnessMeter,
    PeakLimiter,
    block_powers,
    gated_loudness,
    highpass,
    integrated_loudness,
    limit_true_peak,
    resample,
    true_peak_db,
)

RATE = 24000


def _speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """Pitch pulses through a resonance, in syllables separated by pauses (peaky, like espeak)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    pulses = np.zeros(n)
    pulses[:: RATE // 120] = 1.0
    voiced = np.convolve(pulses, np.exp(-np.arange(200) / 30) * np.sin(np.arange(200) / 3))[:n]
    envelope = (np.sin(2 * np.pi * 3 * t) > 0.2) * (0.5 + 0.5 * rng.random(n))
    x = voiced * envelope + 0.01 * rng.standard_normal(n) * envelope
    return (0.6 * x / np.abs(x).max()).astype(np.float32)


def _reference_envelope(x: np.ndarray) -> np.ndarray:
    """Per sample, the largest magnitude among its 4x-oversampled neighbours (whole signal)."""
    up = np.abs(resample_poly(x, 4, 1, window=_TP_FIR)).reshape(len(x), 4)
    return np.maximum(up.max(axis=1), np.abs(x))


@pytest.mark.parametrize("seed", [0, 1])
def test_true_peak_matches_whole_signal_oversampling(seed: int) -> None:
    x = _speechlike(12.0, seed) * np.float32(1.7)
    reference = float(_reference_envelope(x).max())
    assert true_peak_db([x]) == pytest.approx(20 * np.log10(reference), abs=1e-4)
    noise = np.random.default_rng(seed).standard_normal(3 * _BLOCK + 17).astype(np.float32)
    assert true_peak_db([noise]) == pytest.approx(
        20 * np.log10(_reference_envelope(noise).max()), abs=1e-4)


def test_true_peak_of_an_intersample_peak_exceeds_the_sample_peak() -> None:
    n = np.arange(4800)
    x = (0.9 * np.sin(2 * np.pi * (RATE / 4) * n / RATE + np.pi / 4)).astype(np.float32)
    assert 20 * np.log10(np.abs(x).max()) < -3.5  # samples at +-0.64
    assert true_peak_db([x]) == pytest.approx(20 * np.log10(0.9), abs=0.1)  # crest between


def _reference_limit(x: np.ndarray, gain: float, ceiling: float) -> np.ndarray:
    """The limiter on the whole signal at once (the algorithm before it went block-wise)."""
    y = x * np.float32(gain)
    env = _reference_envelope(y)
    need = np.minimum(1.0, ceiling / np.maximum(env, 1e-9)).astype(np.float32)
    hold = int(0.01 * RATE)
    return y * uniform_filter1d(minimum_filter1d(need, size=2 * hold + 1), size=hold)


@pytest.mark.parametrize("gain_db", [0.0, 3.0, 6.0])
def test_peak_limiter_matches_the_whole_signal_limiter(gain_db: float) -> None:
    x = _speechlike(20.0)
    ceiling = 10 ** (-1.5 / 20)
    limiter = PeakLimiter(x, RATE)
    gain = 10 ** (gain_db / 20)
    got = limiter.apply(gain, ceiling)
    np.testing.assert_allclose(got, _reference_limit(x, gain, ceiling), atol=2e-6)
    assert true_peak_db([got]) <= -1.5 + 1e-3
    assert np.array_equal(np.concatenate(list(limiter.blocks(gain, ceiling))), got)
    part = np.concatenate(list(limiter.blocks(gain, ceiling, 1000, 5 * _BLOCK // 2)))
    assert np.array_equal(part, got[1000:5 * _BLOCK // 2])


def test_limiter_leaves_quiet_audio_alone_and_works_in_place() -> None:
    x = _speechlike(3.0) * np.float32(0.2)
    assert limit_true_peak(x, RATE, -1.0) is x
    y = _speechlike(3.0)
    expected = PeakLimiter(y.copy(), RATE).apply(2.0, 0.5)
    PeakLimiter(y, RATE).apply(2.0, 0.5, out=y)
    np.testing.assert_array_equal(y, expected)


def test_loudness_meter_matches_pyloudnorm() -> None:
    x = _speechlike(30.0) * np.float32(0.5)
    expected = pyln.Meter(RATE).integrated_loudness(x.astype(np.float64))
    meter = LoudnessMeter(RATE)
    for start in range(0, len(x), 40_000):  # fed in uneven blocks
        meter.feed(x[start:start + 40_000])
    assert meter.loudness == pytest.approx(expected, abs=0.01)
    assert integrated_loudness([x[:300_000], x[300_000:]], RATE) == pytest.approx(expected,
                                                                                abs=0.01)


def test_parts_measured_apart_estimate_the_programme() -> None:
    a, b = _speechlike(20.0, 0), _speechlike(8.0, 1) * np.float32(0.5)
    pause = np.zeros(RATE, dtype=np.float32)
    programme = [a, pause, b, pause, a]
    exact = integrated_loudness(programme, RATE)
    pa, pb = block_powers([a], RATE), block_powers([b[:5000], b[5000:]], RATE)
    assert gated_loudness([pa, pb, pa]) == pytest.approx(exact, abs=0.05)


def test_resample_matches_whole_signal_resample_poly() -> None:
    x = _speechlike(2 * _BLOCK / 22050 + 0.37)[: int((2 * _BLOCK / 22050 + 0.37) * 22050)]
    y = resample(x, 22050, RATE)
    ref = resample_poly(x, 160, 147).astype(np.float32)
    assert len(y) == len(ref)
    np.testing.assert_allclose(y, ref, atol=1e-5)


def test_highpass_in_place_equals_a_copy() -> None:
    x = _speechlike(7.0) + np.float32(0.05)  # with a DC offset to remove
    copy = highpass(x, RATE, 100.0)
    highpass(x, RATE, 100.0, out=x)
    np.testing.assert_array_equal(x, copy)
    assert abs(float(copy[RATE:].mean())) < 1e-3
