"""Configuration of the understanding engine (the ``nlu:`` section of config.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["NluSettings"]


class NluSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["builtin", "rasa"] = "builtin"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # After a failed call, Rasa is tried again only after this many seconds.
    rasa_retry_after_s: float = Field(default=30.0, ge=0, le=3600)
    # Decision thresholds on the top intent's confidence, calibrated on tests/data.
    answer_threshold: float | None = Field(default=None, ge=0, le=1)
    suggest_threshold: float | None = Field(default=None, ge=0, le=1)
    cache_dir: str = "data/nlu-cache"
