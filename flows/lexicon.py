"""``content/lexicon.yaml``: how the radio voice reads what speech engines misread.

Read once, with the rest of the content (``Content.lexicon``); the chat preview of a notice,
radio bulletins and voice answers all use that one copy (``broadcast.radio.normalize``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEFAULT_LEXICON_PATH", "Lexicon", "load_lexicon"]

DEFAULT_LEXICON_PATH = Path(__file__).resolve().parents[1] / "content" / "lexicon.yaml"


@dataclass(frozen=True)
class Lexicon:
    """The tables of ``content/lexicon.yaml`` (see the comments at the top of that file)."""

    entries: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    doc_types: Mapping[str, str] = field(default_factory=dict)
    issuers: Mapping[str, str] = field(default_factory=dict)
    code_prefixes: Mapping[str, str] = field(default_factory=dict)
    web_words: Mapping[str, str] = field(default_factory=dict)


def _str_map(raw: Any, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a mapping of text to its reading")
    out = {}
    for k, v in raw.items():
        reading = unicodedata.normalize("NFC", str(v))
        if re.search(r"\d", reading):
            raise ValueError(f"{where}: {k}: the reading must be words, not digits")
        out[unicodedata.normalize("NFC", str(k))] = reading
    return out


def load_lexicon(path: str | Path = DEFAULT_LEXICON_PATH) -> Lexicon:
    """Read a lexicon file; a missing optional table is empty. Raises ValueError on bad data."""
    p = Path(path)
    raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{p}: expected a mapping at the top level")
    parts = raw.get("document_parts") or {}
    if not isinstance(parts, dict):
        raise ValueError(f"{p}: document_parts: expected types and issuers")
    return Lexicon(
        entries=_str_map(raw.get("entries"), f"{p}: entries"),
        units=_str_map(raw.get("units"), f"{p}: units"),
        doc_types=_str_map(parts.get("types"), f"{p}: document_parts.types"),
        issuers=_str_map(parts.get("issuers"), f"{p}: document_parts.issuers"),
        code_prefixes=_str_map(raw.get("code_prefixes"), f"{p}: code_prefixes"),
        web_words=_str_map(raw.get("web_words"), f"{p}: web_words"),
    )
