"""Check candidate real questions against the real sets without reading held-out text.

A new round of real citizens' questions must not reuse a page already cited by
`tests/data/nlu_real.yml` or the dev files, and must not share an 8-word shingle (lower case,
diacritics folded, punctuation dropped) with any of their items. This script prints only
verdicts, counts and the candidates' own indices: never a held-out item's text.

    python bench/real_sources.py --url https://example.vn/page ...
    python bench/real_sources.py --candidates my_candidates.yml   # a list of {text, source}
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REAL_FILES = (
    "tests/data/nlu_real.yml",
    "bench/data/nlu_real_dev.yml",
    "bench/data/nlu_real_dev2.yml",
)
SHINGLE = 8


def norm_url(url: str) -> str:
    """The page address without scheme, www./m. prefix, fragment or trailing slash."""
    u = url.strip().strip("\"'").lower()
    u = re.sub(r"^https?://(www\.|m\.)?", "", u)
    return u.split("#")[0].rstrip("/")


def fold(text: str) -> list[str]:
    """Lower case, diacritics folded (đ -> d), punctuation dropped; the words."""
    t = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    t = "".join(c for c in t if not unicodedata.combining(c))
    return re.sub(r"[^\w\s]", " ", t).split()


def shingles(text: str) -> set[tuple[str, ...]]:
    w = fold(text)
    return {tuple(w[i:i + SHINGLE]) for i in range(len(w) - SHINGLE + 1)}


def used_sources() -> dict[str, str]:
    """Page address -> the file citing it. Reads only the `source:` lines."""
    used: dict[str, str] = {}
    for name in REAL_FILES:
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            m = re.match(r"\s*-?\s*source:\s*(.+)$", line)
            if m:
                used.setdefault(norm_url(m.group(1)), name)
    return used


def real_shingles() -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for name in REAL_FILES:
        for item in yaml.safe_load((ROOT / name).read_text(encoding="utf-8")) or []:
            out |= shingles(str(item["text"]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", nargs="*", default=[], help="page addresses to check")
    ap.add_argument("--candidates", type=Path, help="YAML list of {text, source} to check")
    args = ap.parse_args(argv)
    used = used_sources()
    for u in args.url:
        where = used.get(norm_url(u))
        print(f"{'USED in ' + where if where else 'new':40s} {u}")
    if args.candidates:
        items = yaml.safe_load(args.candidates.read_text(encoding="utf-8")) or []
        real = real_shingles()
        bad = 0
        for n, item in enumerate(items):
            where = used.get(norm_url(str(item.get("source", ""))))
            shared = len(shingles(str(item["text"])) & real)
            if where or shared:
                bad += 1
                print(f"candidate {n}: " + (f"page used in {where}; " if where else "")
                      + f"{shared} shared {SHINGLE}-word shingles")
        print(f"{len(items)} candidates, {bad} to drop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
