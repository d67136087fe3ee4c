"""Both engines on the evaluation files: Rasa over HTTP, the built-in engine in process.

Called by run.sh once a Rasa server is up; scoring is nlu.evaluate (spec intents.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from flows.content import load_content  # noqa: E402
from nlu.builtin import train  # noqa: E402
from nlu.data import load_eval, split_label, training_examples  # noqa: E402
from nlu.evaluate import evaluate  # noqa: E402
from nlu.normalize import _norm_token  # noqa: E402
from nlu.types import Alternative, Parse  # noqa: E402

EVAL_FILES = (ROOT / "tests/data/nlu_eval.yml", ROOT / "tests/data/nlu_eval_hard.yml")


def rasa_parser(url: str) -> Any:
    """A parse function over HTTP: Rasa's own answer, with no rule on top."""

    def parse(text: str) -> Parse:
        req = urllib.request.Request(
            url.rstrip("/") + "/model/parse", data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = json.loads(resp.read())
        name = data["intent"]["name"]
        if name == "nlu_fallback":  # FallbackClassifier: the best real intent is ranked next
            name = next((r["name"] for r in data.get("intent_ranking", [])
                         if r["name"] != "nlu_fallback"), "out_of_scope")
        alts = [Alternative(*split_label(r["name"]), float(r["confidence"]), r["name"])
                for r in data.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
        intent, service = split_label(name)
        return Parse(text, intent, name, float(data["intent"]["confidence"]), "answer",
                     service, None, alts)

    return parse


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:5055")
    ap.add_argument("--train-seconds", type=float, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    content = load_content(ROOT / "content", strict=False)
    t0 = time.perf_counter()
    engine = train(training_examples(content.nlu_files, content), content)
    builtin_train = time.perf_counter() - t0
    rasa = rasa_parser(args.url)
    rasa("xin chào")  # warm-up
    engine.parse("xin chào")
    rows = []
    for path in EVAL_FILES:
        items = load_eval(path)
        for name, parse, train_s in (("rasa 3.6 (HTTP)", rasa, args.train_seconds),
                                     ("builtin (in process)", engine.parse, builtin_train)):
            _norm_token.cache_clear()
            r = evaluate(parse, items)
            r.pop("errors")
            rows.append({"engine": name, "file": path.name, "train_s": train_s, **r})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'engine':22} {'file':20} {'intent':>7} {'service':>8} {'top3':>6} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'train s':>8}")
    for r in rows:
        tr = f"{r['train_s']:.1f}" if r["train_s"] is not None else "-"
        print(f"{r['engine']:22} {r['file']:20} {r['intent_accuracy']:7.3f} "
              f"{r['service_accuracy']:8.3f} {r['service_top3']:6.3f} {r['p50_ms']:8.3f} "
              f"{r['p99_ms']:8.3f} {tr:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
