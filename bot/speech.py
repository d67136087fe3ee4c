"""Voice answers ("🔊 Nghe"): the spoken version of an answer as an OGG/Opus file."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from broadcast.radio.engines import engine_for, normalizer_for
from core.config import Settings
from flows.lexicon import Lexicon

if TYPE_CHECKING:
    from broadcast.radio.tts import TtsEngine

__all__ = ["VoiceSpeech"]

log = logging.getLogger(__name__)

# Pictographs and dingbats: read aloud they would be noise ("📚", "👍", "➡️").
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2190-\u21FF\u2300-\u27BF\u2B00-\u2BFF\uFE0F]")


def speakable(text: str) -> str:
    """The part of an answer worth reading aloud: no source lines, no emoji."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("📚")]
    return _EMOJI.sub("", "\n".join(lines)).strip()


class VoiceSpeech:
    """Implements flows' ``Speech``; files are cached by text, so a repeat costs nothing."""

    def __init__(self, settings: Settings, lexicon: Lexicon,
                 engine: TtsEngine | None = None) -> None:
        self.settings = settings
        self.out_dir = settings.path("data/voice")
        self._engine = engine
        self.normalizer = normalizer_for(lexicon)
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def engine(self) -> TtsEngine:
        # The audio stack (numpy, scipy, codecs) loads on the first voice answer, not at
        # start-up: an idle assistant stays small.
        if self._engine is None:
            self._engine = engine_for(self.settings)
        return self._engine

    async def voice(self, text: str) -> str:
        body = speakable(text)
        key = hashlib.sha256(body.encode()).hexdigest()[:24]
        path = self.out_dir / f"{key}.ogg"
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if not path.exists():
                from broadcast.radio.voice import voice_message

                data = await asyncio.to_thread(
                    voice_message, body, self.engine, self.normalizer,
                    max_bytes=self.settings.radio.voice_max_bytes,
                    loudness_lufs=self.settings.radio.loudness_lufs)
                await asyncio.to_thread(_write_atomic, path, data)
        self._locks.pop(key, None)
        return str(path)

    def prune(self, max_age_days: float = 7) -> int:
        """Delete voice files not created for ``max_age_days``."""
        if not self.out_dir.exists():
            return 0
        cutoff = time.time() - max_age_days * 86400
        n = 0
        for f in self.out_dir.glob("*.ogg"):
            if f.stat().st_mtime < cutoff:
                f.unlink(missing_ok=True)
                n += 1
        return n


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
