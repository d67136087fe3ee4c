"""The configured speech engine and normalizer, for bulletins, voice answers and the CLI.

The audio stack (numpy, scipy, codecs) is imported only when an engine is built, so that an
idle assistant and every other command start small and quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from broadcast.radio.normalize import Normalizer
from core.config import Settings

if TYPE_CHECKING:
    from broadcast.radio.tts import TtsEngine

__all__ = ["engine_for", "normalizer_for"]


def engine_for(settings: Settings, engine: str | None = None) -> TtsEngine:
    """The configured speech engine with its on-disk cache (``engine`` overrides the choice)."""
    from broadcast.radio.tts import make_engine

    radio = settings.radio
    return make_engine(radio, engine=engine, cache_dir=settings.path(radio.cache_dir))


def normalizer_for(settings: Settings) -> Normalizer:
    """The normalizer reading the configured content folder's lexicon.yaml."""
    path = settings.path(settings.content.dir) / "lexicon.yaml"
    return Normalizer.from_file(path) if path.exists() else Normalizer.from_file()
