"""One reader for the JSON bodies the server accepts (``POST /api/chat`` and the webhooks).

Bad input gets a 4xx and one warning line, never a 500 or a traceback: a body over 64 KiB is
413 (told by Content-Length, or found by reading at most 64 KiB + 1 bytes); nesting deeper than
32 is 400, found by scanning the bytes before any parsing (the parser recurses); bodies that are
not UTF-8 or not JSON, strings holding a lone surrogate (``"\\ud800"``) or NUL are 400.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from aiohttp import web

__all__ = ["MAX_BODY", "MAX_DEPTH", "BadBody", "check_depth", "parse_json", "read_body",
           "read_json", "refuse"]

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_DEPTH = 32

_OPEN, _CLOSE, _QUOTE, _BACKSLASH = frozenset(b"[{"), frozenset(b"]}"), 0x22, 0x5C
#: Characters no citizen types and no platform sends: lone UTF-16 halves and NUL.
_BAD_CHARS = re.compile("[\ud800-\udfff\x00]")


class BadBody(Exception):
    """A request body refused with ``status`` (400 or 413) and a short English reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check_depth(raw: bytes, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`BadBody` when arrays/objects nest deeper than ``limit`` (brackets inside
    strings do not count). Linear in the body, no parsing."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > limit:
                raise BadBody(400, f"JSON nested deeper than {limit}")
        elif byte in _CLOSE:
            depth -= 1


def _check_strings(value: Any) -> None:
    """Every string (keys too) free of lone surrogates and NUL. The depth is already bounded."""
    if isinstance(value, str):
        if _BAD_CHARS.search(value):
            raise BadBody(400, "a string holds a lone surrogate or NUL")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k)
            _check_strings(v)
    elif isinstance(value, list):
        for v in value:
            _check_strings(v)


def parse_json(raw: bytes) -> Any:
    """The JSON value in ``raw``; raises :class:`BadBody` (400) for anything malformed."""
    check_depth(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody(400, "body is not UTF-8") from None
    if "\x00" in text:
        raise BadBody(400, "body holds NUL")
    try:
        value = json.loads(text)
    except ValueError:  # JSONDecodeError, and integers over Python's 4,300 digits
        raise BadBody(400, "body is not JSON") from None
    _check_strings(value)
    return value


async def read_body(request: web.Request, limit: int = MAX_BODY) -> bytes:
    """The raw body, at most ``limit`` bytes; raises :class:`BadBody` (413) above it. Reads
    no more than ``limit`` + 1 bytes whatever the client sends."""
    if request.content_length is not None and request.content_length > limit:
        raise BadBody(413, f"request body over {limit} bytes")
    buf = bytearray()
    try:
        while len(buf) <= limit:
            chunk = await request.content.read(limit + 1 - len(buf))
            if not chunk:
                break
            buf += chunk
    except (web.HTTPException, ValueError, ConnectionError) as exc:
        raise BadBody(400, f"body could not be read ({type(exc).__name__})") from None
    if len(buf) > limit:
        raise BadBody(413, f"request body over {limit} bytes")
    return bytes(buf)


async def read_json(request: web.Request, limit: int = MAX_BODY) -> Any:
    """:func:`read_body` then :func:`parse_json`."""
    return parse_json(await read_body(request, limit))


def refuse(where: str, request: web.Request, status: int, reason: str) -> web.Response:
    """The one warning line for a refused request, and its ``{"error": ...}`` answer."""
    log.warning("%s: refused %d (%s) from %s", where, status, reason, request.remote)
    return web.json_response({"error": reason}, status=status)
