"""Whether a change to the parse code changed any parse: dump every parse, then compare dumps.

A speed change must not change a single result. ``dump`` parses, with one engine (loaded from a
pickle, so the old code and the new one read the very same weights), every text of the
evaluation files (everyday, hard, the real citizens' questions held out and the dev sets, the
fresh messages, the danger files), the training texts, and 100-word messages cut from the dev
sets; each text alone and again with a current service (the follow-up path). It writes, per
parse, intent, label, service, decision, confidence (rounded to 6 places), aspect, FAQ id,
danger level and numbers, the alternatives and the second topic, follow-up, and a hash of the
question found: never a text (the held-out files are compared, never shown). ``compare`` says
how many parses differ and in which field, by index only.

    PYTHONPATH=. .venv/bin/python bench/nlu_same.py dump OUT.json --engine ENGINE.pkl
    PYTHONPATH=/old/tree .venv/bin/python bench/nlu_same.py dump OLD.json --engine ENGINE.pkl
    .venv/bin/python bench/nlu_same.py compare OLD.json OUT.json

Run ``dump`` with the old code first on the path (``git worktree`` or ``git archive`` of the
old revision), then with the new code; ``--save`` trains an engine and writes ENGINE.pkl.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: Files whose texts are parsed (those missing are skipped; each is named in the dump).
FILES = ("tests/data/nlu_eval.yml", "tests/data/nlu_eval_hard.yml", "tests/data/nlu_real.yml",
         "bench/data/nlu_real_dev.yml", "bench/data/nlu_real_dev2.yml",
         "bench/data/nlu_fresh.yml", "tests/data/danger_now.yml", "tests/data/danger_calm.yml")
#: The current service of the second parse of each text (a follow-up reads it).
CURRENT = "cap-ho-chieu"


def _texts(root: Path) -> dict[str, list[str]]:
    """Texts by source; read from ``root`` (the tree of the new code: the same texts for both)."""
    import yaml

    out: dict[str, list[str]] = {}
    for rel in FILES:
        path = root / rel
        if path.exists():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            out[rel] = [str(it["text"]) for it in data if isinstance(it, dict) and "text" in it]
    from flows.content import load_content
    from nlu.data import training_examples

    content = load_content(root / "content", strict=False)
    out["training"] = [e.text for e in training_examples(content.nlu_files, content)]
    stream = [w for rel in ("bench/data/nlu_real_dev.yml", "bench/data/nlu_real_dev2.yml")
              for t in out.get(rel, []) for w in t.split()]
    out["100-word"] = [" ".join(stream[i:i + 100]) for i in range(0, len(stream) - 100, 100)]
    return out


def _digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha1(text.encode()).hexdigest()[:12]


def _alt(a: Any) -> list[Any] | None:
    if a is None:
        return None
    return [a.intent, a.service, round(a.confidence, 6), a.label]


def record(p: Any) -> dict[str, Any]:
    """What a parse says, without its text."""
    return {"intent": p.intent, "label": p.label, "service": p.service,
            "decision": p.decision, "confidence": round(p.confidence, 6), "aspect": p.aspect,
            "faq": p.faq, "danger": p.danger, "numbers": list(p.numbers),
            "alternatives": [_alt(a) for a in p.alternatives], "second": _alt(p.second),
            "question": _digest(p.question), "follow_up": p.follow_up}


def dump(engine_path: Path, out: Path, texts_root: Path) -> int:
    with engine_path.open("rb") as fh:
        engine = pickle.load(fh)
    parses: dict[str, list[dict[str, Any]]] = {}
    n = 0
    for source, texts in _texts(texts_root).items():
        rows = parses.setdefault(source, [])
        for t in texts:
            rows.append(record(engine.parse(t)))
            rows.append(record(engine.parse(t, CURRENT)))
            n += 2
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path.cwd(),
                         capture_output=True, text=True).stdout.strip()
    import nlu.builtin

    out.write_text(json.dumps({"rev": rev, "code": str(Path(nlu.builtin.__file__).parent),
                               "n": n, "parses": parses}), encoding="utf-8")
    print(f"{n} parses from {nlu.builtin.__file__} written to {out}")
    return 0


def compare(a_path: Path, b_path: Path) -> int:
    a = json.loads(a_path.read_text(encoding="utf-8"))
    b = json.loads(b_path.read_text(encoding="utf-8"))
    differ = 0
    fields: dict[str, int] = {}
    for source in sorted(set(a["parses"]) | set(b["parses"])):
        ra, rb = a["parses"].get(source, []), b["parses"].get(source, [])
        if len(ra) != len(rb):
            print(f"{source}: {len(ra)} parses against {len(rb)}")
            differ += abs(len(ra) - len(rb))
        bad = [i for i, (x, y) in enumerate(zip(ra, rb, strict=False)) if x != y]
        for i in bad:
            for k in ra[i]:
                if ra[i][k] != rb[i].get(k):
                    fields[k] = fields.get(k, 0) + 1
        if bad:
            print(f"{source}: {len(bad)} of {len(ra)} parses differ (indices {bad[:10]})")
        differ += len(bad)
    print(f"{a['code']} against {b['code']}: {a['n']} / {b['n']} parses, {differ} differ"
          + (f" (fields: {fields})" if fields else ""))
    return 1 if differ or a["n"] != b["n"] else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump", help="parse every text with the code on the path")
    d.add_argument("out", type=Path)
    d.add_argument("--engine", type=Path, required=True, help="the pickled engine")
    d.add_argument("--save", action="store_true", help="train the engine first, write it")
    d.add_argument("--texts", type=Path, default=ROOT, help="the tree the texts are read from")
    c = sub.add_parser("compare", help="compare two dumps")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "compare":
        return compare(args.a, args.b)
    if args.save:
        from flows.content import load_content
        from nlu.builtin import train
        from nlu.data import training_examples

        content = load_content(args.texts / "content", strict=False)
        engine = train(training_examples(content.nlu_files, content), content)
        args.engine.write_bytes(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))
    return dump(args.engine, args.out, args.texts)


if __name__ == "__main__":
    sys.exit(main())
