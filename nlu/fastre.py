"""Whether a regular expression matches somewhere in a text, answered faster (the same answer).

Python's ``re`` tries every alternative of a pattern at every position of the text when the
pattern does not start with plain letters (``\\b(?:cho|noi) nao\\b|...``): on a long message a
pattern of forty alternatives costs a tenth of a millisecond. :class:`AnyMatch` splits a
pattern at its top-level ``|`` and remembers, for each alternative, strings one of which every
match of it contains ("nao" for ``\\b(?:cho|noi) nao\\b``). An alternative none of whose strings
is in the text cannot match and is not tried; the others are searched on their own. A pattern
matches somewhere exactly when one of its top-level alternatives does, so the answer is that
of ``bool(pattern.search(text))``.
"""

from __future__ import annotations

import re
from itertools import compress
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

__all__ = ["AnyMatch", "needles", "top_alternatives"]


def top_alternatives(pattern: str) -> list[str]:
    """The pattern's source cut at its top-level ``|`` (not inside a group or a class)."""
    out: list[str] = []
    depth, start, i, n = 0, 0, 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":
                i += 1
            if pattern[i + 1:i + 2] == "]":  # "[]...]": a "]" first is a member
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    out.append(pattern[start:])
    return out


def _best(cands: list[frozenset[str]]) -> frozenset[str] | None:
    """The most telling of several sets of strings (each one a requirement): the one whose
    shortest string is longest, then the smallest."""
    if not cands:
        return None
    return max(cands, key=lambda s: (min(map(len, s)), -len(s)))


def _required(items: Any) -> frozenset[str] | None:
    """Strings one of which every match of a parsed sequence contains, or None if unknown."""
    found = _requirements(items)
    return None if found is None else _best(found)


def _requirements(items: Any) -> list[frozenset[str]] | None:
    """Sets of strings, each a requirement of every match of a parsed sequence (one string of
    each set is in it), or None if unknown (inline flags)."""
    cands: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            cands.append(frozenset({"".join(run)}))
            run.clear()

    for op, av in items:
        if op is _c.LITERAL:
            run.append(chr(av))
            continue
        if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue  # takes no characters: the literal run goes on around it
        flush()
        found: frozenset[str] | None = None
        if op is _c.SUBPATTERN:
            if av[1] or av[2]:  # inline flags (case-insensitive ...): not read here
                return None
            found = _required(av[3])
        elif op is _c.BRANCH:
            alts = [_required(a) for a in av[1]]
            if all(a is not None for a in alts):
                found = frozenset().union(*alts)  # type: ignore[arg-type]
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and av[0] >= 1:
            found = _required(av[2])
        if found:
            cands.append(found)
    flush()
    return cands


def _parsed(pattern: str) -> Any:
    try:
        parsed = _parser.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & ~re.UNICODE:  # case-insensitive, ...: not read here
        return None
    return parsed


def also_needed(pattern: str) -> list[frozenset[str]]:
    """Every set of strings one of which every match of ``pattern`` contains (``needles`` is
    the most telling of them), those of two characters or more: a match holds one string of
    each set."""
    parsed = _parsed(pattern)
    found = None if parsed is None else _requirements(list(parsed))
    return [r for r in found or () if min(map(len, r)) >= 2]


def needles(pattern: str) -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` contains, or None when not known."""
    parsed = _parsed(pattern)
    if parsed is None:
        return None
    found = _required(list(parsed))
    return found if found and min(map(len, found)) >= 2 else None


class AnyMatch:
    """``bool(rx.search(text))`` for a compiled pattern, trying only the top-level
    alternatives whose required strings are in the text (texts of ``short`` characters or
    fewer are searched whole, for a pattern whose plain search is quick on them)."""

    def __init__(self, rx: re.Pattern[str], short: int = 0) -> None:
        self.rx, self.short = rx, short
        #: (a required string, or several, or None; the alternative)
        self.parts: list[tuple[str | tuple[str, ...] | None, re.Pattern[str]]] = []
        if rx.flags & ~re.UNICODE:
            self.parts, self.short = [(None, rx)], 1 << 62
        else:
            for alt in top_alternatives(rx.pattern):
                need = needles(alt)
                self.parts.append((None if need is None else next(iter(need)) if len(need) == 1
                                   else tuple(sorted(need)), re.compile(alt)))
        #: The parts as (required string, alternative, the other sets of strings it needs)
        #: triples, one per string (an alternative with several is listed once for each, next
        #: to each other), and the alternatives that require none: the strings are looked for
        #: in one ``map``, in C.
        triples: list[tuple[str, re.Pattern[str], tuple[tuple[str, ...], ...]]] = []
        for strings, part in self.parts:
            if strings is None:
                continue
            main = frozenset((strings,) if isinstance(strings, str) else strings)
            others = tuple(tuple(sorted(r)) for r in also_needed(part.pattern) if r != main)
            triples += [(n, part, others) for n in sorted(main)]
        self._needs = tuple(n for n, _, _ in triples)
        self._alts = tuple((part, others) for _, part, others in triples)
        self._always = tuple(part for strings, part in self.parts if strings is None)

    def __call__(self, text: str) -> bool:
        if len(text) <= self.short:
            return self.rx.search(text) is not None
        # Whether any alternative matches (their order does not change the answer).
        last: re.Pattern[str] | None = None
        for part, others in compress(self._alts, map(text.__contains__, self._needs)):
            if part is not last:  # an alternative with two strings in the text: tried once
                last = part
                if all(any(map(text.__contains__, o)) for o in others) and \
                        part.search(text) is not None:
                    return True
        return any(part.search(text) is not None for part in self._always)
