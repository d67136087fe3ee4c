"""Speech engines behind one interface: text in, mono float32 PCM out.

- :class:`GttsEngine`: Google Translate's voice through the gTTS library (online, no key). The
  endpoint is configurable so tests talk to a local double of ``batchexecute``.
- :class:`EspeakEngine`: espeak-ng (offline, Debian package), the embedded default.
- :class:`FptEngine`, :class:`ZaloAiEngine`: commercial Vietnamese voices, by URL and API key.
- :class:`CachedEngine`: on-disk cache keyed by a hash of (engine, voice, text).
- :class:`FallbackEngine`: an online engine, then espeak-ng when it fails (logged once).

Engines are synchronous (HTTP via requests, a subprocess for espeak-ng); call them from
asyncio code with ``asyncio.to_thread``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import logging
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import requests
import soundfile as sf
from gtts import gTTS
from gtts.tokenizer import pre_processors

from broadcast.radio.audio import workers
from core.config import (
    EspeakSettings,
    FptSettings,
    GttsSettings,
    RadioSettings,
    ZaloAiSettings,
)

__all__ = [
    "CachedEngine",
    "EspeakEngine",
    "FallbackEngine",
    "FptEngine",
    "GttsEngine",
    "Speech",
    "TtsEngine",
    "TtsError",
    "TtsUnreachable",
    "decode_audio",
    "make_engine",
]

log = logging.getLogger(__name__)

_BATCHEXECUTE = "/_/TranslateWebserverUi/data/batchexecute"
_AUDIO_LINE = re.compile(r'jQ1olc","\[\\"(.*)\\"]')


class TtsError(Exception):
    """The engine could not produce speech (unreachable, refused, bad answer)."""


class TtsUnreachable(TtsError):
    """An online engine could not be reached (no internet, DNS, a timeout)."""


@dataclass(frozen=True)
class Speech:
    """Mono speech: float32 samples in [-1, 1] at ``rate`` Hz, and the engine that made it."""

    samples: np.ndarray
    rate: int
    engine: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate


@runtime_checkable
class TtsEngine(Protocol):
    """Anything that turns Vietnamese text (already in spoken form) into speech."""

    name: str

    @property
    def cache_key(self) -> str:
        """Engine, voice and settings that change the sound (the cache is keyed on it)."""
        ...

    def synthesize(self, text: str) -> Speech:
        """Speech for ``text``; raises :class:`TtsError` when the engine fails."""
        ...


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """Decode MP3/WAV/OGG bytes (concatenated MP3 streams too) to mono float32."""
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise TtsError(f"cannot decode the audio the engine returned: {exc}") from exc
    return np.ascontiguousarray(samples.mean(axis=1), dtype=np.float32), int(rate)


def _retrying(
    send: Callable[[], requests.Response],
    *,
    retries: int,
    backoff_s: float,
    max_backoff_s: float,
    sleep: Callable[[float], None],
    what: str,
) -> requests.Response:
    """Send, retrying 429 and 5xx with exponential backoff (Retry-After honoured, capped).

    Connection errors and timeouts are not retried: the caller falls back to the offline
    engine at once instead of keeping a bulletin waiting.
    """
    attempt = 0
    while True:
        try:
            resp = send()
        except requests.RequestException as exc:
            raise TtsUnreachable(f"{what}: cannot connect: {exc.__class__.__name__}: {exc}"
                                 ) from exc
        if resp.status_code != 429 and resp.status_code < 500:
            if resp.status_code >= 400:
                raise TtsError(f"{what}: HTTP {resp.status_code} {resp.reason}")
            return resp
        if attempt >= retries:
            raise TtsError(
                f"{what}: HTTP {resp.status_code} {resp.reason} after {attempt} retries"
            )
        wait = backoff_s * (2**attempt)
        retry_after = resp.headers.get("Retry-After", "")
        if retry_after.isdigit():
            wait = max(wait, float(retry_after))
        wait = min(wait, max_backoff_s)
        log.info("%s: HTTP %s, retrying in %.1f s", what, resp.status_code, wait)
        sleep(wait)
        attempt += 1


# ------------------------------------------------------------------------------ gTTS


class _EndpointGtts(gTTS):
    """gTTS with a configurable host: same chunking and request body, our base URL."""

    def __init__(self, text: str, base_url: str, **kwargs: Any) -> None:
        self._base_url = base_url.rstrip("/")
        super().__init__(text, **kwargs)

    def _prepare_requests(self) -> list[requests.PreparedRequest]:
        url = self._base_url + _BATCHEXECUTE
        parts = self._tokenize(self.text)
        if not parts:
            raise TtsError("gTTS: nothing to say after chunking")
        return [
            requests.Request(
                method="POST", url=url, data=self._package_rpc(part),
                headers=self.GOOGLE_TTS_HEADERS,
            ).prepare()
            for part in parts
        ]


class GttsEngine:
    """Google Translate's Vietnamese voice via gTTS: chunked at 100 characters, retried."""

    name = "gtts"

    def __init__(
        self, settings: GttsSettings | None = None, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.settings = settings or GttsSettings()
        self._sleep = sleep

    @property
    def cache_key(self) -> str:
        return f"gtts:{self.settings.lang}:slow={self.settings.slow}"

    def chunks(self, text: str) -> list[str]:
        """The pieces gTTS sends, one request each (NFC first: NFD doubles the length)."""
        tts = self._gtts(text)
        return [str(t) for t in tts._tokenize(tts.text)]

    def _gtts(self, text: str) -> _EndpointGtts:
        return _EndpointGtts(
            unicodedata.normalize("NFC", text),
            self.settings.base_url,
            lang=self.settings.lang,
            slow=self.settings.slow,
            lang_check=False,
            # The English abbreviation and word substitutions make no sense for Vietnamese.
            pre_processor_funcs=[pre_processors.end_of_line],
            timeout=(self.settings.connect_timeout_s, self.settings.read_timeout_s),
        )

    def synthesize(self, text: str) -> Speech:
        if not text.strip():
            raise TtsError("gTTS: empty text")
        requests_ = self._gtts(text)._prepare_requests()
        pieces: list[np.ndarray] = []
        rate = 0
        with requests.Session() as session:
            for idx, prepared in enumerate(requests_):
                resp = _retrying(
                    lambda p=prepared: session.post(  # type: ignore[misc]
                        p.url, data=p.body, headers=dict(p.headers),
                        timeout=(self.settings.connect_timeout_s, self.settings.read_timeout_s),
                    ),
                    retries=self.settings.retries,
                    backoff_s=self.settings.backoff_s,
                    max_backoff_s=self.settings.max_backoff_s,
                    sleep=self._sleep,
                    what=f"gTTS chunk {idx + 1}/{len(requests_)}",
                )
                audio = self._audio(resp.text)
                samples, rate = decode_audio(audio)
                pieces.append(samples)
        return Speech(np.concatenate(pieces), rate, self.name)

    @staticmethod
    def _audio(body: str) -> bytes:
        """The MP3 in a batchexecute answer (the same parsing as gTTS's ``stream``)."""
        for line in body.splitlines():
            if "jQ1olc" in line:
                found = _AUDIO_LINE.search(line)
                if found:
                    return base64.b64decode(found.group(1).encode("ascii"))
        raise TtsError("gTTS: the answer holds no audio (upstream API changed?)")


# ------------------------------------------------------------------------------ espeak-ng


def _parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    """16-bit PCM WAV as espeak-ng writes it to a pipe (its chunk sizes are dummy values):
    the samples (int16, a view of ``data``) and the rate."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise TtsError("espeak-ng: output is not WAV")
    pos, rate = 12, 0
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            rate = struct.unpack("<I", data[pos + 12:pos + 16])[0]
        elif cid == b"data":
            n = (len(data) - pos - 8) // 2
            return np.frombuffer(data, dtype="<i2", count=n, offset=pos + 8), rate
        pos += 8 + size
    raise TtsError("espeak-ng: WAV without data")


_PIECE_CHARS = 1500  # longer texts are spoken in pieces, by parallel espeak-ng processes
_SENTENCE_END = re.compile(r"[.!?]+\s+")


def _pieces(text: str, n: int) -> list[str]:
    """``text`` in up to ``n`` pieces of about equal length, cut only after a sentence.

    espeak-ng ends a text with the pause it makes after a sentence, so the pieces spoken one
    after the other sound as the whole text does.
    """
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    cuts: list[int] = []
    for k in range(1, n):
        target = len(text) * k // n
        best = min(ends, key=lambda e: abs(e - target), default=0)
        if 0 < best < len(text) and (not cuts or best > cuts[-1]):
            cuts.append(best)
    pieces = [text[a:b] for a, b in itertools.pairwise([0, *cuts, len(text)])]
    return [p for p in pieces if p.strip()] or [text]


class EspeakEngine:
    """espeak-ng's Vietnamese voice, offline (``espeak-ng -v vi``).

    A long text is cut after sentences into one piece per CPU, spoken by parallel processes.
    """

    name = "espeak"

    def __init__(self, settings: EspeakSettings | None = None) -> None:
        self.settings = settings or EspeakSettings()

    @property
    def cache_key(self) -> str:
        s = self.settings
        return f"espeak:{s.voice}:{s.speed_wpm}:{s.pitch}"

    def available(self) -> bool:
        return shutil.which(self.settings.binary) is not None

    def synthesize(self, text: str) -> Speech:
        s = self.settings
        if not self.available():
            raise TtsError(f"{s.binary} is not installed (Debian: apt-get install espeak-ng)")
        norm = unicodedata.normalize("NFC", text)
        pieces = _pieces(norm, min(workers(), -(-len(norm) // _PIECE_CHARS)))
        with tempfile.TemporaryDirectory(prefix="trolyso-espeak-") as tmp:

            def speak(i: int) -> bytes:
                src = Path(tmp) / f"text-{i}.txt"
                out = Path(tmp) / f"speech-{i}.wav"
                src.write_text(pieces[i], encoding="utf-8")
                cmd = [s.binary, "-v", s.voice, "-s", str(s.speed_wpm), "-p", str(s.pitch),
                       "-b", "1", "-f", str(src), "-w", str(out)]
                try:
                    proc = subprocess.run(cmd, capture_output=True, timeout=s.timeout_s,
                                          check=False)
                except (OSError, subprocess.TimeoutExpired) as exc:
                    raise TtsError(f"espeak-ng failed: {exc}") from exc
                if proc.returncode != 0 or not out.exists():
                    err = proc.stderr.decode("utf-8", "replace").strip()
                    raise TtsError(f"espeak-ng exited {proc.returncode}: {err}")
                return out.read_bytes()

            if len(pieces) == 1:
                wavs = [speak(0)]
            else:
                with ThreadPoolExecutor(max_workers=len(pieces),
                                        thread_name_prefix="espeak") as pool:
                    wavs = list(pool.map(speak, range(len(pieces))))
        parsed = [_parse_wav(w) for w in wavs]
        samples = np.empty(sum(len(p) for p, _ in parsed), dtype=np.float32)
        pos = 0
        for pcm, _ in parsed:  # int16 straight into the float array, then scaled in place
            samples[pos:pos + len(pcm)] = pcm
            pos += len(pcm)
        samples *= np.float32(1 / 32768)
        return Speech(samples, parsed[0][1], self.name)


# ------------------------------------------------------------------------------ commercial


def _split_text(text: str, max_chars: int) -> list[str]:
    """Split at sentence ends, then at spaces, so that each piece fits an API's limit."""
    pieces: list[str] = []
    for sentence in re.split(r"(?<=[.!?;\n])\s+", text.strip()):
        while len(sentence) > max_chars:
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            pieces.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        if pieces and len(pieces[-1]) + 1 + len(sentence) <= max_chars:
            pieces[-1] = f"{pieces[-1]} {sentence}"
        elif sentence:
            pieces.append(sentence)
    return pieces


class FptEngine:
    """FPT.AI TTS v5: POST the text, then fetch the MP3 behind the returned ``async`` link."""

    name = "fpt"

    def __init__(
        self, settings: FptSettings, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        if not settings.api_key:
            raise TtsError("radio.fpt.api_key is not set")
        self.settings = settings
        self._sleep = sleep

    @property
    def cache_key(self) -> str:
        return f"fpt:{self.settings.voice}:{self.settings.speed}"

    def synthesize(self, text: str) -> Speech:
        s = self.settings
        parts: list[np.ndarray] = []
        rate = 0
        with requests.Session() as session:
            for piece in _split_text(text, s.max_chars):
                resp = _retrying(
                    lambda p=piece: session.post(  # type: ignore[misc]
                        s.url, data=p.encode("utf-8"), timeout=s.timeout_s,
                        headers={"api-key": s.api_key or "", "voice": s.voice, "speed": s.speed},
                    ),
                    retries=s.retries, backoff_s=s.backoff_s, max_backoff_s=30.0,
                    sleep=self._sleep, what="FPT.AI TTS",
                )
                try:
                    answer = resp.json()
                except ValueError as exc:
                    raise TtsError("FPT.AI TTS: the answer is not JSON") from exc
                link = answer.get("async") if isinstance(answer, dict) else None
                if answer.get("error") not in (0, None) or not link:
                    raise TtsError(f"FPT.AI TTS: {answer.get('message') or answer}")
                samples, rate = decode_audio(self._fetch(session, str(link)))
                parts.append(samples)
        if not parts:
            raise TtsError("FPT.AI TTS: empty text")
        return Speech(np.concatenate(parts), rate, self.name)

    def _fetch(self, session: requests.Session, link: str) -> bytes:
        """The audio appears at the link a few seconds later: poll until it does."""
        s = self.settings
        deadline = time.monotonic() + s.max_wait_s
        while True:
            try:
                resp = session.get(link, timeout=s.timeout_s)
            except requests.RequestException as exc:
                raise TtsError(f"FPT.AI TTS: cannot fetch the audio: {exc}") from exc
            if resp.status_code == 200 and resp.content:
                return resp.content
            if time.monotonic() >= deadline:
                raise TtsError(f"FPT.AI TTS: audio not ready after {s.max_wait_s:.0f} s")
            self._sleep(s.poll_interval_s)


class ZaloAiEngine:
    """Zalo AI TTS: a form POST answered with a link to the audio."""

    name = "zalo_ai"

    def __init__(
        self, settings: ZaloAiSettings, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        if not settings.api_key:
            raise TtsError("radio.zalo_ai.api_key is not set")
        self.settings = settings
        self._sleep = sleep

    @property
    def cache_key(self) -> str:
        s = self.settings
        return f"zalo_ai:{s.speaker_id}:{s.speed}"

    def synthesize(self, text: str) -> Speech:
        s = self.settings
        parts: list[np.ndarray] = []
        rate = 0
        with requests.Session() as session:
            for piece in _split_text(text, s.max_chars):
                form = {"input": piece, "speaker_id": str(s.speaker_id), "speed": str(s.speed),
                        "encode_type": str(s.encode_type)}
                resp = _retrying(
                    lambda f=form: session.post(  # type: ignore[misc]
                        s.url, data=f, headers={"apikey": s.api_key or ""}, timeout=s.timeout_s
                    ),
                    retries=s.retries, backoff_s=s.backoff_s, max_backoff_s=30.0,
                    sleep=self._sleep, what="Zalo AI TTS",
                )
                try:
                    answer = resp.json()
                except ValueError as exc:
                    raise TtsError("Zalo AI TTS: the answer is not JSON") from exc
                url = (answer.get("data") or {}).get("url") if isinstance(answer, dict) else None
                if answer.get("error_code") != 0 or not url:
                    raise TtsError(f"Zalo AI TTS: {answer.get('error_message') or answer}")
                audio = _retrying(
                    lambda u=url: session.get(u, timeout=s.timeout_s),  # type: ignore[misc]
                    retries=s.retries, backoff_s=s.backoff_s, max_backoff_s=30.0,
                    sleep=self._sleep, what="Zalo AI TTS audio",
                )
                samples, rate = decode_audio(audio.content)
                parts.append(samples)
        if not parts:
            raise TtsError("Zalo AI TTS: empty text")
        return Speech(np.concatenate(parts), rate, self.name)


# ------------------------------------------------------------------------------ composition


class CachedEngine:
    """Keeps each synthesis on disk (FLAC) under a hash of (engine, voice, text)."""

    def __init__(self, inner: TtsEngine, cache_dir: str | Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dir = Path(cache_dir)

    @property
    def cache_key(self) -> str:
        return self.inner.cache_key

    def path_for(self, text: str) -> Path:
        norm = unicodedata.normalize("NFC", text)
        digest = hashlib.sha256(f"{self.inner.cache_key}\n{norm}".encode()).hexdigest()
        return self.dir / digest[:2] / f"{digest}.flac"

    def synthesize(self, text: str) -> Speech:
        path = self.path_for(text)
        if path.exists():
            try:
                samples, rate = sf.read(path, dtype="float32")
                return Speech(samples, int(rate), self.inner.name)
            except (sf.LibsndfileError, RuntimeError):
                log.warning("radio cache: unreadable %s, synthesizing again", path)
        speech = self.inner.synthesize(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        sf.write(tmp, np.clip(speech.samples, -1.0, 1.0), speech.rate, format="FLAC",
                 subtype="PCM_16")
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
        return speech


class FallbackEngine:
    """An online engine, and the offline one whenever it fails.

    The fallback is logged once per outage; for ``retry_after_s`` afterwards the online engine
    is not tried again, so a bulletin is not held up by one timeout per part.
    """

    def __init__(
        self,
        primary: TtsEngine,
        fallback: TtsEngine,
        *,
        retry_after_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}+{fallback.name}"
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._down_until: float | None = None
        self._lock = threading.Lock()
        #: Why the offline engine spoke at least once (the online engine's error), else None.
        self.fell_back: str | None = None

    @property
    def cache_key(self) -> str:
        return f"{self.primary.cache_key}|{self.fallback.cache_key}"

    @property
    def degraded(self) -> bool:
        """True while the online engine is considered down."""
        return self._down_until is not None and self._clock() < self._down_until

    def synthesize(self, text: str) -> Speech:
        if self.degraded:
            self.fell_back = self.fell_back or f"{self.primary.name} was down a moment ago"
            return self.fallback.synthesize(text)
        try:
            speech = self.primary.synthesize(text)
        except TtsError as exc:
            with self._lock:
                first = self._down_until is None
                self._down_until = self._clock() + self.retry_after_s
                self.fell_back = self.fell_back or str(exc)
            if first:
                log.warning("%s unavailable (%s); falling back to %s",
                            self.primary.name, exc, self.fallback.name)
            return self.fallback.synthesize(text)
        with self._lock:
            if self._down_until is not None:
                log.info("%s is reachable again", self.primary.name)
                self._down_until = None
        return speech


def make_engine(
    settings: RadioSettings,
    *,
    engine: str | None = None,
    cache_dir: str | Path | None = None,
) -> TtsEngine:
    """The engine the configuration names (``engine`` overrides it), cached when asked."""
    choice = engine or settings.engine

    def cached(e: TtsEngine) -> TtsEngine:
        return CachedEngine(e, cache_dir) if cache_dir is not None else e

    espeak = cached(EspeakEngine(settings.espeak))
    if choice == "espeak":
        return espeak
    online: TtsEngine
    if choice in ("auto", "gtts"):
        online = cached(GttsEngine(settings.gtts))
    elif choice == "fpt":
        online = cached(FptEngine(settings.fpt))
    elif choice == "zalo_ai":
        online = cached(ZaloAiEngine(settings.zalo_ai))
    else:
        raise ValueError(f"unknown engine {choice!r} (auto, gtts, espeak, fpt, zalo_ai)")
    if choice == "gtts":
        return online
    return FallbackEngine(online, espeak, retry_after_s=settings.fallback_retry_s)

