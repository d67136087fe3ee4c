"""Configuration of radio bulletins (the ``radio:`` section of config.yaml)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["RadioSettings"]


class RadioSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slots: list[str] = Field(default_factory=lambda: ["06:00", "17:00"])
    loudness_lufs: float = Field(default=-16.0, ge=-40, le=-5)
    true_peak_dbtp: float = Field(default=-1.0, ge=-9, le=0)
    engine: Literal["auto", "gtts", "espeak"] = "auto"
    station_name: str = "Đài truyền thanh phường"
    output_dir: str = "data/radio"

    @field_validator("slots")
    @classmethod
    def _slots(cls, v: list[str]) -> list[str]:
        for s in v:
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", s):
                raise ValueError(f"slot {s!r} is not HH:MM (24-hour)")
        return v
