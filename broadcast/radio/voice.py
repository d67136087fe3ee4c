"""Voice answers in chat: the spoken version of a reply as a Telegram voice message.

Telegram plays OGG/Opus sent with ``sendVoice`` as a voice note; it must stay under 1 MB. A
voice note needs about 32 kbps (Telegram's own apps record about that), so the bitrate is that,
or what the size limit allows for the message's length; the file is encoded once (see
``opus`` for why it is fast).
"""

from __future__ import annotations

import numpy as np

from broadcast.radio.audio import highpass, integrated_loudness, resample
from broadcast.radio.normalize import Normalizer
from broadcast.radio.opus import encode_ogg_opus
from broadcast.radio.tts import TtsEngine

__all__ = ["VOICE_BITRATE", "VOICE_RATE", "voice_message"]

VOICE_RATE = 24000  # one of Opus's native rates
VOICE_BITRATE = 32000
_MIN_BITRATE = 6000
_OVERHEAD = 0.97  # Ogg pages and the encoder's variation around the bitrate


def _bitrate_for(seconds: float, max_bytes: int) -> int:
    """The bitrate of a voice note, lowered so that ``seconds`` of it fit ``max_bytes``."""
    fits = int(max_bytes * 8 * _OVERHEAD / max(seconds, 0.1)) - 1000  # minus page headers
    return min(VOICE_BITRATE, fits)


def voice_message(
    text: str,
    engine: TtsEngine,
    normalizer: Normalizer,
    *,
    max_bytes: int = 1_000_000,
    loudness_lufs: float = -16.0,
) -> bytes:
    """OGG/Opus bytes of ``text`` read aloud (spoken form first), under ``max_bytes``.

    Links, emoji and markup in a chat answer are read as the normalizer reads them. A text too
    long even at the smallest bitrate is cut at the end of a sentence.
    """
    spoken = normalizer.spoken(text).strip()
    if not spoken:
        raise ValueError("nothing to say")
    speech = engine.synthesize(spoken)
    x = highpass(resample(speech.samples, speech.rate, VOICE_RATE), VOICE_RATE, 80.0)
    if len(x) >= VOICE_RATE // 2:
        loud = integrated_loudness([x], VOICE_RATE)
        if np.isfinite(loud):
            x = x * np.float32(10 ** ((loudness_lufs - loud) / 20))
    x = np.clip(x, -0.98, 0.98).astype(np.float32)
    bitrate = _bitrate_for(len(x) / VOICE_RATE, max_bytes)
    if bitrate >= _MIN_BITRATE:
        data = encode_ogg_opus(x, VOICE_RATE, bitrate)
        if len(data) <= max_bytes:
            return data
        # Over by the encoder's variation: once more, as much lower as it was over.
        lower = max(_MIN_BITRATE, int(bitrate * max_bytes / len(data) * _OVERHEAD))
        data = encode_ogg_opus(x, VOICE_RATE, lower)
        if len(data) <= max_bytes:
            return data
    else:
        data = encode_ogg_opus(x, VOICE_RATE, _MIN_BITRATE)
    # Still too long: keep the share that fits, ending on a pause, and say so by stopping.
    keep = int(len(x) * max_bytes / len(data) * 0.95)
    quiet = np.flatnonzero(np.abs(x[:keep]) < 1e-3)
    cut = int(quiet[-1]) if len(quiet) and quiet[-1] > keep // 2 else keep
    return encode_ogg_opus(x[:cut], VOICE_RATE, _MIN_BITRATE)
