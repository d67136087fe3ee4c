"""Configuration of radio bulletins (the ``radio:`` section of config.yaml)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "EspeakSettings",
    "FptSettings",
    "GttsSettings",
    "RadioSettings",
    "ZaloAiSettings",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GttsSettings(_Section):
    """Google Translate's TTS endpoint as used by the gTTS library (online, no key)."""

    base_url: str = "https://translate.google.com"  # tests point this at a local double
    lang: str = "vi"
    slow: bool = False
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    read_timeout_s: float = Field(default=20.0, gt=0, le=300)
    retries: int = Field(default=3, ge=0, le=10)  # on 429 and 5xx, per chunk
    backoff_s: float = Field(default=1.0, ge=0, le=60)  # first wait; doubles each retry
    max_backoff_s: float = Field(default=30.0, ge=0, le=600)


class EspeakSettings(_Section):
    """espeak-ng, the offline engine (Debian package ``espeak-ng``)."""

    binary: str = "espeak-ng"
    voice: str = "vi"  # vi (Northern) | vi-VN-x-central | vi-VN-x-south
    speed_wpm: int = Field(default=140, ge=80, le=450)
    pitch: int = Field(default=50, ge=0, le=99)
    timeout_s: float = Field(default=120.0, gt=0)


class FptSettings(_Section):
    """FPT.AI TTS v5 (commercial; enabled with ``engine: fpt`` and an API key)."""

    url: str = "https://api.fpt.ai/hmi/tts/v5"
    api_key: str | None = None
    voice: str = "banmai"
    speed: str = ""  # "" or -3..3
    timeout_s: float = Field(default=20.0, gt=0)
    poll_interval_s: float = Field(default=1.0, ge=0)
    max_wait_s: float = Field(default=60.0, gt=0)  # for the audio behind the "async" link
    max_chars: int = Field(default=2000, ge=100, le=5000)
    retries: int = Field(default=3, ge=0, le=10)
    backoff_s: float = Field(default=1.0, ge=0, le=60)


class ZaloAiSettings(_Section):
    """Zalo AI TTS (commercial; enabled with ``engine: zalo_ai`` and an API key)."""

    url: str = "https://api.zalo.ai/v1/tts/synthesize"
    api_key: str | None = None
    speaker_id: int = 1
    speed: float = Field(default=1.0, ge=0.8, le=1.2)
    encode_type: int = Field(default=1, ge=0, le=1)
    timeout_s: float = Field(default=20.0, gt=0)
    max_chars: int = Field(default=2000, ge=100, le=5000)
    retries: int = Field(default=3, ge=0, le=10)
    backoff_s: float = Field(default=1.0, ge=0, le=60)


class RadioSettings(_Section):
    slots: list[str] = Field(default_factory=lambda: ["06:00", "17:00"])
    loudness_lufs: float = Field(default=-16.0, ge=-40, le=-5)
    true_peak_dbtp: float = Field(default=-1.0, ge=-9, le=0)
    engine: Literal["auto", "gtts", "espeak", "fpt", "zalo_ai"] = "auto"
    station_name: str = "Đài truyền thanh phường"
    output_dir: str = "data/radio"

    # Speech engines. "auto", "fpt" and "zalo_ai" fall back to espeak-ng when the online
    # engine fails; "gtts" and "espeak" use that engine only.
    gtts: GttsSettings = Field(default_factory=GttsSettings)
    espeak: EspeakSettings = Field(default_factory=EspeakSettings)
    fpt: FptSettings = Field(default_factory=FptSettings)
    zalo_ai: ZaloAiSettings = Field(default_factory=ZaloAiSettings)
    cache_dir: str = "data/radio-cache"  # synthesized speech, keyed by engine, voice and text
    fallback_retry_s: float = Field(default=300.0, ge=0)  # after a failure, offline this long

    # Bulletin audio.
    sample_rate: Literal[16000, 22050, 24000] = 24000
    bitrate_kbps: Literal[32, 40, 48, 56, 64, 80, 96, 112, 128, 160] = 64
    highpass_hz: float = Field(default=100.0, ge=0, le=400)  # horn speakers reproduce no bass
    pause_s: float = Field(default=1.0, ge=0, le=10)  # between the parts of a bulletin
    repeat_pause_s: float = Field(default=1.5, ge=0, le=10)  # before the notice is read again

    # What the station says; {station} is the station's name with the area, {title} the title.
    opening: str = "{station} xin thông báo: {title}."
    emergency_opening: str = "Thông báo khẩn cấp! {station} xin phát thông báo khẩn: {title}."
    repeat_line: str = "Xin nhắc lại."
    closing: str = "{station} vừa phát thông báo: {title}. Xin trân trọng cảm ơn."

    # Voice answers in chat (Telegram voice message, OGG/Opus).
    voice_max_bytes: int = Field(default=1_000_000, ge=50_000, le=20_000_000)

    @field_validator("slots")
    @classmethod
    def _slots(cls, v: list[str]) -> list[str]:
        for s in v:
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", s):
                raise ValueError(f"slot {s!r} is not HH:MM (24-hour)")
        return v

    @field_validator("opening", "emergency_opening", "repeat_line", "closing")
    @classmethod
    def _template(cls, v: str) -> str:
        try:
            v.format(station="", title="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{station}} and {{title}} may be used: {exc}") from exc
        return v
