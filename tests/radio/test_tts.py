"""Speech engines: gTTS against a local double of batchexecute, espeak-ng, fallback, cache."""

from __future__ import annotations

import logging
import socket
import time
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from broadcast.radio.tts import (
    CachedEngine,
    EspeakEngine,
    FallbackEngine,
    FptEngine,
    GttsEngine,
    Speech,
    TtsError,
    ZaloAiEngine,
    _pieces,
    make_engine,
)
from core.config import FptSettings, GttsSettings, RadioSettings, ZaloAiSettings
from tests.radio.doubles import TtsDouble

TEXT = (
    "ủy ban nhân dân phường Trần Lãm xin thông báo: từ bảy giờ ba mươi phút ngày mười lăm "
    "tháng mười một năm hai nghìn không trăm hai mươi ba, tổ chức tiêm vắc xin tại trạm y tế."
)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def _gtts(double: TtsDouble, sleeps: Sleeps | None = None, retries: int = 3) -> GttsEngine:
    settings = GttsSettings(base_url=double.url, retries=retries, backoff_s=0.5)
    return GttsEngine(settings, sleep=sleeps or Sleeps())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gtts_sends_each_chunk_and_returns_the_decoded_voice(tts_double: TtsDouble) -> None:
    speech = _gtts(tts_double).synthesize(TEXT)
    assert len(tts_double.texts) == 3 and all(len(t) <= 100 for t in tts_double.texts)
    assert speech.engine == "gtts" and speech.rate == 24000
    assert speech.duration_s == pytest.approx(0.05 * sum(map(len, tts_double.texts)), rel=0.2)


def test_gtts_chunks_decomposed_text_as_composed(tts_double: TtsDouble) -> None:
    engine = _gtts(tts_double)
    assert engine.chunks(unicodedata.normalize("NFD", TEXT)) == engine.chunks(TEXT)


def test_gtts_retries_after_429_with_backoff(tts_double: TtsDouble) -> None:
    tts_double.script = [429, 429]
    sleeps = Sleeps()
    speech = _gtts(tts_double, sleeps).synthesize("xin chào bà con")
    assert tts_double.statuses == [429, 429, 200]
    assert sleeps.calls == [0.5, 1.0]
    assert speech.duration_s > 0


def test_gtts_gives_up_after_persistent_server_errors(tts_double: TtsDouble) -> None:
    tts_double.script = [500] * 10
    with pytest.raises(TtsError, match="500"):
        _gtts(tts_double, retries=2).synthesize("xin chào")
    assert tts_double.statuses == [500, 500, 500]


def test_gtts_does_not_retry_a_refusal(tts_double: TtsDouble) -> None:
    tts_double.script = [403]
    with pytest.raises(TtsError, match="403"):
        _gtts(tts_double).synthesize("xin chào")
    assert tts_double.statuses == [403]


def test_espeak_speaks_vietnamese_offline(espeak: str) -> None:
    short = EspeakEngine().synthesize("xin chào bà con")
    long = EspeakEngine().synthesize(TEXT)
    assert short.rate == 22050 and short.samples.dtype == np.float32
    assert long.duration_s > 3 * short.duration_s


def test_auto_falls_back_to_espeak_and_logs_it_once(
    espeak: str, tts_double: TtsDouble, caplog: pytest.LogCaptureFixture
) -> None:
    tts_double.script = [503] * 50
    engine = FallbackEngine(_gtts(tts_double, retries=1), EspeakEngine())
    with caplog.at_level(logging.WARNING, logger="broadcast.radio.tts"):
        first = engine.synthesize("xin chào")
        second = engine.synthesize("tạm biệt")
    assert (first.engine, second.engine) == ("espeak", "espeak")
    assert tts_double.statuses == [503, 503]  # the second part went straight to espeak-ng
    warnings = [r for r in caplog.records if "falling back to espeak" in r.getMessage()]
    assert len(warnings) == 1


def test_unreachable_gtts_falls_back_at_once(espeak: str) -> None:
    settings = GttsSettings(base_url=f"http://127.0.0.1:{_free_port()}", retries=3)
    engine = FallbackEngine(GttsEngine(settings), EspeakEngine())
    started = time.monotonic()
    assert engine.synthesize("xin chào").engine == "espeak"
    assert time.monotonic() - started < 5


def test_gtts_is_tried_again_after_the_outage_window(espeak: str, tts_double: TtsDouble) -> None:
    now = [0.0]
    tts_double.script = [500, 500]
    engine = FallbackEngine(
        _gtts(tts_double, retries=1), EspeakEngine(), retry_after_s=60, clock=lambda: now[0]
    )
    assert engine.synthesize("một").engine == "espeak"
    now[0] = 61.0
    assert engine.synthesize("hai").engine == "gtts"


class Counting:
    name = "count"

    def __init__(self, voice: str = "a") -> None:
        self.voice = voice
        self.calls = 0

    @property
    def cache_key(self) -> str:
        return f"count:{self.voice}"

    def synthesize(self, text: str) -> Speech:
        self.calls += 1
        return Speech(np.full(800, 0.1, dtype=np.float32), 8000, self.name)


def test_cache_serves_the_same_text_from_disk(tmp_path: Path) -> None:
    inner = Counting()
    engine = CachedEngine(inner, tmp_path)
    first = engine.synthesize("xin chào")
    again = CachedEngine(inner, tmp_path).synthesize("xin chào")
    assert inner.calls == 1
    assert np.allclose(first.samples, again.samples, atol=1e-4) and again.rate == 8000


def test_cache_keys_on_the_voice(tmp_path: Path) -> None:
    a, b = CachedEngine(Counting("a"), tmp_path), CachedEngine(Counting("b"), tmp_path)
    assert a.path_for("xin chào") != b.path_for("xin chào")


def test_fpt_engine_fetches_the_async_audio(tts_double: TtsDouble) -> None:
    settings = FptSettings(url=f"{tts_double.url}/fpt", api_key="k", poll_interval_s=0)
    speech = FptEngine(settings).synthesize(TEXT)
    assert tts_double.texts == [TEXT] and tts_double.headers[0]["api-key"] == "k"
    assert speech.engine == "fpt" and speech.duration_s > 1


def test_zalo_engine_posts_the_form_and_downloads(tts_double: TtsDouble) -> None:
    settings = ZaloAiSettings(url=f"{tts_double.url}/zalo", api_key="z")
    speech = ZaloAiEngine(settings).synthesize(TEXT)
    assert tts_double.texts == [TEXT] and tts_double.headers[0]["apikey"] == "z"
    assert speech.engine == "zalo_ai" and speech.duration_s > 1


def test_commercial_engine_needs_a_key() -> None:
    with pytest.raises(TtsError, match="api_key"):
        make_engine(RadioSettings(engine="fpt"))


def test_auto_engine_is_gtts_with_espeak_fallback() -> None:
    engine = make_engine(RadioSettings())
    assert isinstance(engine, FallbackEngine)
    assert (engine.primary.name, engine.fallback.name) == ("gtts", "espeak")


def test_long_text_pieces_cut_only_after_sentences() -> None:
    text = " ".join(f"Câu số {i} nói về lịch tiêm chủng của phường." for i in range(60))
    pieces = _pieces(text, 3)
    assert len(pieces) == 3 and "".join(pieces) == text
    assert all(p.rstrip().endswith(".") for p in pieces)
    assert max(map(len, pieces)) < 0.5 * len(text)
    assert _pieces("Không có dấu chấm nào ở đây", 4) == ["Không có dấu chấm nào ở đây"]


def test_espeak_speaks_a_long_text_in_parallel_pieces_like_one(
    espeak: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = " ".join([TEXT] * 12)  # about 2,000 characters: two pieces on two CPUs
    monkeypatch.setattr("broadcast.radio.tts.workers", lambda: 2)
    pieces = EspeakEngine().synthesize(text)
    monkeypatch.setattr("broadcast.radio.tts.workers", lambda: 1)
    whole = EspeakEngine().synthesize(text)
    assert pieces.rate == whole.rate and pieces.samples.dtype == np.float32
    assert pieces.duration_s == pytest.approx(whole.duration_s, rel=0.01)
