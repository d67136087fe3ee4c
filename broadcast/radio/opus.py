"""OGG/Opus files for voice messages: libopus through ctypes, in a small Ogg writer.

libsndfile (soundfile) writes OGG/Opus too, but slowly for a chat reply: it fixes the encoder's
complexity at 10 (the slowest setting; between 20 and 60 kbps libopus then runs its SILK and
hybrid modes at full search) and maps ``compression_level`` to ``256 - 250 * level`` kbps, so
picking a bitrate means picking a level. Here the encoder runs at complexity 5 with constrained
VBR at the bitrate asked: 30 s of speech at 32 kbps takes about a tenth of a second of CPU
(with a voice signal hint, which forces SILK/hybrid, it would take three times as long).

The library is the system's libopus (Debian ``libopus0``, which espeak-ng's own dependencies
install through libsndfile1). Where it cannot be loaded, :func:`encode_ogg_opus` falls back to
soundfile at the nearest compression level.

The container follows RFC 7845: an ``OpusHead`` page, an ``OpusTags`` page, then audio pages of
20 ms packets (about one second per page); granule positions count 48 kHz samples, including
the encoder's pre-skip, and the last page's granule trims the padding of the last packet.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import math
import struct
import sys
import zlib
from functools import lru_cache

import numpy as np
import soundfile as sf

__all__ = ["OPUS_RATES", "encode_ogg_opus", "libopus_version", "ogg_crc"]

OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
_APPLICATION_AUDIO = 2049
_SET_BITRATE = 4002
_SET_VBR = 4006
_SET_COMPLEXITY = 4010
_SET_VBR_CONSTRAINT = 4020
_GET_LOOKAHEAD = 4027
_COMPLEXITY = 5
_MAX_PACKET = 4000
_PACKETS_PER_PAGE = 50  # one second of 20 ms packets
_SERIAL = 0x54524F4C  # any fixed number: one logical stream per file


@lru_cache(maxsize=1)
def _libopus() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):  # opus_encoder_ctl is variadic: x86-64/arm64 ABI
        return None
    for name in (ctypes.util.find_library("opus"), "libopus.so.0"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_int)]
        lib.opus_encoder_create.restype = ctypes.c_void_p
        lib.opus_encode_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                                          ctypes.c_void_p, ctypes.c_int32]
        lib.opus_encode_float.restype = ctypes.c_int32
        lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
        lib.opus_encoder_destroy.restype = None
        lib.opus_get_version_string.restype = ctypes.c_char_p
        return lib
    return None


def libopus_version() -> str | None:
    """The libopus in use ("libopus 1.3.1"), or None when soundfile is the fallback."""
    lib = _libopus()
    return lib.opus_get_version_string().decode("ascii", "replace") if lib else None


_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def ogg_crc(data: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, MSB first, no reflection, init 0, no final xor).

    It is zlib's reflected CRC-32 of the bit-reversed bytes with the register started at 0 and
    not inverted at the end, bit-reversed: computed in C, not byte by byte in Python.
    """
    reg = zlib.crc32(data.translate(_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reg:032b}"[::-1], 2)


def _page(packets: list[bytes], granule: int, seq: int, flags: int) -> bytes:
    lacing = bytearray()
    for p in packets:
        lacing += b"\xff" * (len(p) // 255) + bytes([len(p) % 255])
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, _SERIAL, seq, 0,
                         len(lacing)) + bytes(lacing)
    page = header + b"".join(packets)
    return page[:22] + struct.pack("<I", ogg_crc(page)) + page[26:]


def _ogg(packets: list[bytes], *, rate: int, preskip: int, samples: int) -> bytes:
    """The Ogg Opus file of 20 ms ``packets`` holding ``samples`` samples at ``rate``."""
    scale = 48000 // rate
    frame48 = 20 * 48
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, preskip * scale, rate, 0, 0)
    vendor = (libopus_version() or "libopus").encode("utf-8")
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    pages = [_page([head], 0, 0, 0x02), _page([tags], 0, 1, 0)]
    end = preskip * scale + samples * scale  # the last page trims the padding
    seq = 2
    for first in range(0, len(packets), _PACKETS_PER_PAGE):
        group = packets[first:first + _PACKETS_PER_PAGE]
        last = first + len(group) >= len(packets)
        granule = end if last else (first + len(group)) * frame48
        pages.append(_page(group, granule, seq, 0x04 if last else 0))
        seq += 1
    return b"".join(pages)


def _ctl(lib: ctypes.CDLL, enc: int, request: int, value: int) -> None:
    ret = lib.opus_encoder_ctl(ctypes.c_void_p(enc), ctypes.c_int(request), ctypes.c_int(value))
    if ret != 0:
        raise RuntimeError(f"opus_encoder_ctl({request}) failed: {ret}")


def _libopus_encode(lib: ctypes.CDLL, x: np.ndarray, rate: int, bitrate: int) -> bytes:
    err = ctypes.c_int(0)
    enc = lib.opus_encoder_create(rate, 1, _APPLICATION_AUDIO, ctypes.byref(err))
    if err.value != 0 or not enc:
        raise RuntimeError(f"opus_encoder_create failed: {err.value}")
    try:
        _ctl(lib, enc, _SET_BITRATE, bitrate)
        _ctl(lib, enc, _SET_VBR, 1)
        _ctl(lib, enc, _SET_VBR_CONSTRAINT, 1)  # stays near the bitrate: the size is known
        _ctl(lib, enc, _SET_COMPLEXITY, _COMPLEXITY)
        lookahead = ctypes.c_int32(0)
        ret = lib.opus_encoder_ctl(ctypes.c_void_p(enc), ctypes.c_int(_GET_LOOKAHEAD),
                                   ctypes.byref(lookahead))
        if ret != 0:
            raise RuntimeError(f"opus_encoder_ctl(GET_LOOKAHEAD) failed: {ret}")
        frame = rate // 50
        # Encode the lookahead's worth of silence past the end, so every sample comes out.
        n_frames = max(1, math.ceil((len(x) + lookahead.value) / frame))
        pcm = np.zeros(n_frames * frame, dtype=np.float32)
        pcm[:len(x)] = x
        out = ctypes.create_string_buffer(_MAX_PACKET)
        base = pcm.ctypes.data
        packets = []
        for i in range(n_frames):
            n = lib.opus_encode_float(enc, base + 4 * i * frame, frame, out, _MAX_PACKET)
            if n < 0:
                raise RuntimeError(f"opus_encode_float failed: {n}")
            packets.append(out.raw[:n])
    finally:
        lib.opus_encoder_destroy(enc)
    return _ogg(packets, rate=rate, preskip=lookahead.value, samples=len(x))


def _soundfile_encode(x: np.ndarray, rate: int, bitrate: int) -> bytes:
    # libsndfile: bitrate = (1 - level) * 250 kbps + 6 kbps (per channel).
    level = min(1.0, max(0.0, (256000 - bitrate) / 250000))
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", samplerate=rate, channels=1, format="OGG", subtype="OPUS",
                      compression_level=level) as f:
        f.write(x)
    return buf.getvalue()


def encode_ogg_opus(x: np.ndarray, rate: int, bitrate: int) -> bytes:
    """Mono float32 ``x`` at ``rate`` (one of :data:`OPUS_RATES`) as an OGG/Opus file at about
    ``bitrate`` bits per second (6000 to 256000)."""
    if rate not in OPUS_RATES:
        raise ValueError(f"Opus takes {OPUS_RATES} Hz, not {rate}")
    bitrate = min(256000, max(6000, int(bitrate)))
    x = np.ascontiguousarray(x, dtype=np.float32)
    lib = _libopus()
    if lib is None:
        return _soundfile_encode(x, rate, bitrate)
    return _libopus_encode(lib, x, rate, bitrate)
