"""Voice answers (OGG/Opus for Telegram) and the `trolyso radio` commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import soundfile as sf

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
