"""Voice answers (OGG/Opus for Telegram) and the `trolyso radio` commands."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mutagen.oggopus import OggOpus

import broadcast.radio.opus as opus
import broadcast.radio.voice as voice
from bot.cli import main
from broadcast.radio.normalize import Normalizer
from broadcast.radio.tts import EspeakEngine, Speech
from broadcast.radio.voice import voice_message

CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


class Recorder:
    name = "rec"
    cache_key = "rec"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def synthesize(self, text: str) -> Speech:
        self.texts.append(text)
        return EspeakEngine().synthesize(text)


def test_voice_message_is_ogg_opus_of_the_spoken_form(espeak: str) -> None:
    engine = Recorder()
    data = voice_message("Gọi 113 hoặc đến UBND phường.", engine, Normalizer.from_file())
    info = sf.info(io.BytesIO(data))
    assert data[:4] == b"OggS" and info.subtype == "OPUS" and info.channels == 1
    assert info.duration > 1.0
    assert engine.texts == ["Gọi một một ba hoặc đến ủy ban nhân dân phường."]


def test_long_voice_message_stays_under_the_limit(espeak: str) -> None:
    text = "Xin chào bà con, đây là thông báo của ủy ban nhân dân phường. " * 8
    data = voice_message(text, EspeakEngine(), Normalizer.from_file(), max_bytes=12_000)
    assert len(data) <= 12_000 and sf.info(io.BytesIO(data)).duration > 2


LONG = "Xin chào bà con, đây là thông báo của ủy ban nhân dân phường về lịch tiêm chủng. " * 5


class Once:
    """Speaks once (espeak-ng) and then returns the same speech: times the encoding alone."""

    name = "once"
    cache_key = "once"

    def __init__(self) -> None:
        self.speech: Speech | None = None

    def synthesize(self, text: str) -> Speech:
        if self.speech is None:
            self.speech = EspeakEngine().synthesize(text)
        return self.speech


def test_voice_message_is_a_voice_note_encoded_once(
    espeak: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = voice.encode_ogg_opus

    def counting(x: np.ndarray, rate: int, bitrate: int) -> bytes:
        calls.append(bitrate)
        return real(x, rate, bitrate)

    monkeypatch.setattr(voice, "encode_ogg_opus", counting)
    engine = Once()
    normalizer = Normalizer.from_file()
    voice_message(LONG, engine, normalizer)  # speaks
    calls.clear()
    started = time.perf_counter()
    data = voice_message(LONG, engine, normalizer)
    elapsed = time.perf_counter() - started
    assert calls == [voice.VOICE_BITRATE]
    info = OggOpus(io.BytesIO(data)).info  # mutagen's own Ogg reader
    assert engine.speech is not None
    assert info.channels == 1
    assert info.length == pytest.approx(engine.speech.duration_s, abs=0.05)
    assert 8 * len(data) / info.length == pytest.approx(voice.VOICE_BITRATE, rel=0.15)
    assert elapsed < 3.0  # about 0.2 s for this half minute; generous for a loaded machine


def test_voice_message_without_libopus_falls_back_to_soundfile(
    espeak: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opus, "_libopus", lambda: None)
    data = voice_message("Xin chào bà con.", EspeakEngine(), Normalizer.from_file())
    info = sf.info(io.BytesIO(data))
    assert data[:4] == b"OggS" and info.subtype == "OPUS" and info.duration > 0.5


def test_ogg_pages_carry_the_ogg_checksum() -> None:
    def reference(data: bytes) -> int:
        crc = 0
        for byte in data:
            crc ^= byte << 24
            for _ in range(8):
                crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
        return crc

    for data in (b"", b"OggS", bytes(range(256)) * 2):
        assert opus.ogg_crc(data) == reference(data)
    x = (0.3 * np.sin(np.arange(24000) / 7)).astype(np.float32)
    page_data = opus.encode_ogg_opus(x, 24000, 32000)
    pos = 0
    while pos < len(page_data):  # every page's CRC checks out
        n = page_data[pos + 26]
        size = 27 + n + sum(page_data[pos + 27:pos + 27 + n])
        page = page_data[pos:pos + size]
        stored = int.from_bytes(page[22:26], "little")
        assert stored == reference(page[:22] + b"\0\0\0\0" + page[26:])
        pos += size


def test_opus_takes_only_its_own_rates() -> None:
    with pytest.raises(ValueError, match="Opus"):
        opus.encode_ogg_opus(np.zeros(100, dtype=np.float32), 22050, 32000)


def test_cli_normalize_prints_one_spoken_line_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "n.txt"
    src.write_text("Họp lúc 7h30.\nGọi 113.\n", encoding="utf-8")
    assert main(["--config", str(CONFIG), "radio", "normalize", "--file", str(src)]) == 0
    assert capsys.readouterr().out == "Họp lúc bảy giờ ba mươi phút.\nGọi một một ba.\n"


def test_cli_build_prints_the_three_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], espeak: str
) -> None:
    src = tmp_path / "notice.txt"
    src.write_text("Ngày 20/11 cắt điện từ 7h đến 11h tại tổ dân phố số 3.", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["--config", str(CONFIG), "radio", "build", "--text-file", str(src),
                 "--out", str(out), "--engine", "espeak", "--title", "Lịch cắt điện"])
    assert code == 0
    paths = [Path(p) for p in capsys.readouterr().out.splitlines()]
    assert [p.suffix for p in paths] == [".mp3", ".txt", ".json"]
    assert all(p.parent == out and p.is_file() for p in paths)


def test_cli_build_refuses_an_unknown_area(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "notice.txt"
    src.write_text("Thông báo.", encoding="utf-8")
    code = main(["--config", str(CONFIG), "radio", "build", "--text-file", str(src),
                 "--area", "99999", "--engine", "espeak"])
    assert code == 2 and "99999" in capsys.readouterr().err


def _offline_config(tmp_path: Path) -> Path:
    """The shipped configuration with Google's voice pointed at a closed port (no internet)."""
    cfg = tmp_path / "config.yaml"
    text = CONFIG.read_text(encoding="utf-8").replace(
        'dir: "content"', f'dir: "{CONFIG.parent / "content"}"')
    cfg.write_text(text + '\nradio:\n  gtts:\n    base_url: "http://127.0.0.1:1"\n'
                   "    connect_timeout_s: 2\n", encoding="utf-8")
    return cfg


def test_cli_build_says_in_plain_words_that_it_fell_back_to_the_offline_voice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], espeak: str
) -> None:
    src = tmp_path / "notice.txt"
    src.write_text("Chiều nay cắt điện.", encoding="utf-8")
    code = main(["--config", str(_offline_config(tmp_path)), "radio", "build", "--text-file",
                 str(src), "--out", str(tmp_path / "out"), "--engine", "auto"])
    assert code == 0
    err = capsys.readouterr().err
    assert "Voice: espeak-ng (offline" in err and "because Google's voice" in err


def test_cli_build_with_gtts_and_no_internet_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "notice.txt"
    src.write_text("Chiều nay cắt điện.", encoding="utf-8")
    code = main(["--config", str(_offline_config(tmp_path)), "radio", "build", "--text-file",
                 str(src), "--out", str(tmp_path / "out"), "--engine", "gtts"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    [line] = [x for x in err.splitlines() if x.startswith("trolyso:")]
    assert "cannot be reached" in line and "--engine espeak" in line
