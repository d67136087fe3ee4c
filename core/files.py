"""A file sent with a notice (a photo or a PDF of the official document), as the sender hands
it to a channel that takes files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["OutgoingFile"]


@dataclass(frozen=True)
class OutgoingFile:
    kind: Literal["photo", "document"]
    filename: str
    mime: str
    data: bytes
    sha256: str  # the same file is uploaded once per process, then sent by the platform's id
