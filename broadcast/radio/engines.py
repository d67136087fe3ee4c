"""The configured speech engine and the content's normalizer, for bulletins, voice answers, the
chat preview of a notice and the CLI.

The audio stack (numpy, scipy, codecs) is imported only when an engine is built, so that an
idle assistant and every other command start small and quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from broadcast.radio.normalize import Normalizer
from core.config import Settings
from flows.lexicon import Lexicon

if TYPE_CHECKING:
    from broadcast.radio.tts import TtsEngine

__all__ = ["engine_for", "normalizer_for"]


def engine_for(settings: Settings, engine: str | None = None) -> TtsEngine:
    """The configured speech engine with its on-disk cache (``engine`` overrides the choice)."""
    from broadcast.radio.tts import make_engine

    radio = settings.radio
    return make_engine(radio, engine=engine, cache_dir=settings.path(radio.cache_dir))


_normalizers: dict[int, tuple[Lexicon, Normalizer]] = {}


def normalizer_for(lexicon: Lexicon) -> Normalizer:
    """The normalizer of a loaded lexicon (``Content.lexicon``), built once: it compiles big
    regular expressions."""
    cached = _normalizers.get(id(lexicon))
    if cached is None or cached[0] is not lexicon:
        _normalizers.clear()
        cached = _normalizers[id(lexicon)] = (lexicon, Normalizer.of(lexicon))
    return cached[1]
