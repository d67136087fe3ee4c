"""The spoken-form case table: loading and matching (used by the tests and the bench).

An expected reading may offer choices, ``{a|b}``, and optional words, ``[x]``, because
speech.md accepts more than one reading (24 "hai mươi tư" or "hai mươi bốn"). Comparison
ignores case and spacing, not punctuation.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["Case", "canonical", "expand", "load_cases", "matches"]


@dataclass(frozen=True)
class Case:
    """One input and the readings accepted for it."""

    text: str
    expected: tuple[str, ...]


def load_cases(path: str | Path) -> list[Case]:
    """Read ``cases:`` from a YAML file: ``[input, expected]`` or ``[input, [expected...]]``."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = []
    for item in raw["cases"]:
        text, exp = item[0], item[1]
        out.append(Case(str(text), tuple(exp) if isinstance(exp, list) else (str(exp),)))
    return out


def canonical(text: str) -> str:
    """Case-, spacing- and Unicode-form-insensitive form used for comparison."""
    s = unicodedata.normalize("NFC", text).casefold()
    s = re.sub(r"\s+", " ", s)
    s = re.sub(r"\s+([,.;:!?])", r"\1", s)
    return s.strip()


def expand(pattern: str) -> set[str]:
    """Every reading a pattern accepts, in canonical form."""
    tokens = re.split(r"(\{[^}]*\}|\[[^\]]*\])", pattern)
    choices: list[list[str]] = []
    for tok in tokens:
        if tok.startswith("{"):
            choices.append(tok[1:-1].split("|"))
        elif tok.startswith("["):
            choices.append([tok[1:-1], ""])
        else:
            choices.append([tok])
    return {canonical("".join(combo)) for combo in itertools.product(*choices)}


def matches(output: str, case: Case) -> bool:
    """True if ``output`` is one of the readings the case accepts."""
    got = canonical(output)
    return any(got in expand(p) for p in case.expected)
