"""Play free-form conversations against a running assistant's ``POST /api/chat``.

Usage: ``python bench/converse.py FILE.yml [--port 18641] [--only NAME-PART]``

FILE is a YAML list of ``{name, who, turns}``; a turn is text to type, or ``{tap: payload}``
to press a button. Every reply is printed (kind, first lines of the text, button payloads)
so a person can judge the conversation; nothing is asserted here (the scripted, asserting
conversations are tests/dialogues/*.yml).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import yaml


def _post(port: int, body: dict[str, str]) -> list[dict[str, Any]]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/chat", data=json.dumps(body).encode(),
        headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        data: dict[str, Any] = json.loads(r.read())
    replies: list[dict[str, Any]] = data["replies"]
    return replies


def _show(replies: list[dict[str, Any]], width: int) -> None:
    for r in replies:
        text = " ⏎ ".join(line for line in r["text"].split("\n") if line.strip())
        if len(text) > width:
            text = text[:width] + "…"
        pays = [b.get("payload") or b.get("url") for b in r.get("buttons", [])]
        print(f"    [{r['kind']}] {text}")
        if pays:
            print(f"      buttons: {pays}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--port", type=int, default=18641)
    ap.add_argument("--only", default="")
    ap.add_argument("--width", type=int, default=260)
    args = ap.parse_args(argv)
    items = yaml.safe_load(Path(args.file).read_text(encoding="utf-8"))
    run = uuid.uuid4().hex[:6]
    for n, conv in enumerate(items, 1):
        if args.only and args.only not in conv["name"]:
            continue
        session = f"conv-{run}-{n}"
        print(f"\n=== {n}. {conv['name']}  ({conv.get('who', '')})")
        for turn in conv["turns"]:
            if isinstance(turn, dict) and "tap" in turn:
                print(f"  > (tap {turn['tap']})")
                body = {"session": session, "button": str(turn["tap"])}
            else:
                text = str(turn)
                print(f"  > {text if len(text) < 300 else text[:300] + '…'}")
                body = {"session": session, "text": text}
            _show(_post(args.port, body), args.width)
    return 0


if __name__ == "__main__":
    sys.exit(main())
