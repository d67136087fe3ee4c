"""Voice answers in chat: the spoken version of a reply as a Telegram voice message.

Telegram plays OGG/Opus sent with ``sendVoice`` as a voice note; it must stay under 1 MB.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
import soundfile as sf

from broadcast.radio.audio import highpass, integrated_loudness, resample
from broadcast.radio.normalize import Normalizer
from broadcast.radio.tts import TtsEngine

__all__ = ["voice_message"]

_RATE = 24000  # one of Opus's native rates


def _encode(x: np.ndarray, compression: float) -> bytes:
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", samplerate=_RATE, channels=1, format="OGG", subtype="OPUS",
                      compression_level=compression) as f:
        f.write(x)
    return buf.getvalue()


def voice_message(
    text: str,
    engine: TtsEngine,
    lexicon: Mapping[str, str] | Normalizer,
    *,
    max_bytes: int = 1_000_000,
    loudness_lufs: float = -16.0,
) -> bytes:
    """OGG/Opus bytes of ``text`` read aloud (spoken form first), under ``max_bytes``.

    Links, emoji and markup in a chat answer are read as the normalizer reads them. A text too
    long even at the smallest bitrate is cut at the end of a sentence.
    """
    normalizer = lexicon if isinstance(lexicon, Normalizer) else Normalizer(lexicon)
    spoken = normalizer.spoken(text).strip()
    if not spoken:
        raise ValueError("nothing to say")
    speech = engine.synthesize(spoken)
    x = highpass(resample(speech.samples, speech.rate, _RATE), _RATE, 80.0)
    if len(x) >= _RATE // 2:
        loud = integrated_loudness([x], _RATE)
        if np.isfinite(loud):
            x = x * np.float32(10 ** ((loudness_lufs - loud) / 20))
    x = np.clip(x, -0.98, 0.98).astype(np.float32)
    for compression in (0.5, 0.8, 1.0):
        data = _encode(x, compression)
        if len(data) <= max_bytes:
            return data
    # Still too long: keep the share that fits, ending on a pause, and say so by stopping.
    keep = int(len(x) * max_bytes / len(data) * 0.95)
    quiet = np.flatnonzero(np.abs(x[:keep]) < 1e-3)
    cut = int(quiet[-1]) if len(quiet) and quiet[-1] > keep // 2 else keep
    return _encode(x[:cut], 1.0)
