"""Benchmark of the understanding engine against two measured baselines.

Prints, for each evaluation file (everyday, hard, real citizens' questions held out, real
citizens' dev set): intent, service and top-3 service accuracy, p50/p99 per parse, training
time and resident-memory increase, for
  - the built-in engine (nlu/),
  - a rapidfuzz match of the message against service names and aliases,
  - plain TF-IDF (char 2-5 + word 1-2 on folded text) + logistic regression, sklearn defaults,
next to a 5-fold cross-validation on the training examples (as written, and made hard with
telex, teencode, typos and chatter), because our own files flatter us. Then the parse latency
of the warm engine on one thread, short messages and 100-word messages on separate lines (the
engine just trained in this process, then the same engine loaded from a pickle by a fresh process,
as the app loads its cache file), and the danger check of a whole 64 KiB message.

    .venv/bin/python bench/nlu_bench.py [--no-cv] [--json]
"""

from __future__ import annotations

import os

# One thread: the figures are per parse on one core (the matrix products are small anyway).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.content import load_content  # noqa: E402
from nlu.builtin import BuiltinEngine, train  # noqa: E402
from nlu.danger import _RECENT, assess  # noqa: E402
from nlu.data import Example, load_eval, split_label, training_examples  # noqa: E402
from nlu.devset import harden  # noqa: E402
from nlu.evaluate import evaluate, percentile  # noqa: E402
from nlu.normalize import fold, forget  # noqa: E402
from nlu.types import Alternative, Parse  # noqa: E402

#: Evaluation files, by the name the figures use. "real" is held out: scored, never tuned on.
EVAL_FILES = {
    "everyday": ROOT / "tests/data/nlu_eval.yml",
    "hard": ROOT / "tests/data/nlu_eval_hard.yml",
    "real": ROOT / "tests/data/nlu_real.yml",
    "real-dev": ROOT / "bench/data/nlu_real_dev.yml",
}


# ---------------------------------------------------------------------- baselines

class FuzzyBaseline:
    """What people would otherwise pick: the service whose name or alias matches best."""

    def __init__(self, content: Any) -> None:
        from rapidfuzz import fuzz, process

        self._process, self._scorer = process, fuzz.WRatio
        self.choices: list[str] = []
        self.owners: list[str] = []
        for entry in content.catalogue.entries:
            names = [entry["name"]]
            svc = content.services.get(entry["id"])
            if svc is not None:
                names += list(svc.aliases)
            for n in names:
                self.choices.append(fold(n))
                self.owners.append(entry["id"])

    def parse(self, text: str) -> Parse:
        hits = self._process.extract(fold(text), self.choices, scorer=self._scorer, limit=15)
        ranked: list[tuple[str, float]] = []
        for _, score, i in hits:
            sid = self.owners[i]
            if sid not in [s for s, _ in ranked]:
                ranked.append((sid, score / 100.0))
        alts = [Alternative("service_howto", s, c, f"svc_{s}") for s, c in ranked[:5]]
        top, conf = ranked[0] if ranked else (None, 0.0)
        return Parse(text, "service_howto", None, conf, "answer", top, None, alts)


class TfidfBaseline:
    """Plain TF-IDF (char 2-5 + word 1-2, folded) + logistic regression, sklearn defaults."""

    def __init__(self, examples: Sequence[Example]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        self.model = make_pipeline(
            make_union(TfidfVectorizer(analyzer="char", ngram_range=(2, 5), preprocessor=fold),
                       TfidfVectorizer(ngram_range=(1, 2), preprocessor=fold)),
            LogisticRegression(),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lbfgs may stop at its default 100 iterations
            self.model.fit([e.text for e in examples], [e.label for e in examples])
        self.classes = list(self.model.classes_)

    def parse(self, text: str) -> Parse:
        probs = self.model.predict_proba([text])[0]
        order = np.argsort(-probs)[:5]
        alts = []
        for i in order:
            intent, service = split_label(self.classes[int(i)])
            alts.append(Alternative(intent, service, float(probs[int(i)]), self.classes[int(i)]))
        top = alts[0]
        return Parse(text, top.intent, top.label, top.confidence, "answer", top.service, None,
                     alts)


# ---------------------------------------------------------------------- measurements

def _memory_of_loading(engine: Any) -> float:
    """MB of resident memory a fresh process gains by loading the pickled engine."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "engine.pkl"
        path.write_bytes(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))
        code = (
            "import gc, pickle, sys, psutil, numpy, nlu.builtin, nlu.features\n"
            "p = psutil.Process(); gc.collect(); before = p.memory_info().rss\n"
            f"e = pickle.load(open({str(path)!r}, 'rb')); e.parse('làm hộ chiếu')\n"
            "gc.collect(); print((p.memory_info().rss - before) / 1e6)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                             text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        return float(out.stdout.strip().splitlines()[-1])


def _memory_of_sklearn(examples: Sequence[Example]) -> float:
    gc.collect()
    import psutil

    proc = psutil.Process()
    before = proc.memory_info().rss
    model = TfidfBaseline(examples)
    after = proc.memory_info().rss
    del model
    return (after - before) / 1e6


def _score(name: str, parse: Callable[[str], Parse], train_s: float | None,
           memory_mb: float | None, evals: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {"engine": name, "train_s": train_s, "memory_mb": memory_mb}
    for fname, items in evals.items():
        forget()  # words never seen before, as a new message's
        featurizer = getattr(getattr(parse, "__self__", None), "featurizer", None)
        if featurizer is not None:
            featurizer.clear_memo()
        r = evaluate(parse, items)
        r.pop("errors")
        out[fname] = r
    return out


def cross_validate(examples: Sequence[Example], content: Any, folds: int = 5) -> dict[str, Any]:
    """5-fold CV on the hand-written examples: as written, and hardened."""
    own = [e for e in examples if e.source == "nlu"]
    extra = [e for e in examples if e.source != "nlu"]
    order = list(range(len(own)))
    random.Random(1).shuffle(order)
    scores: dict[str, dict[str, list[int]]] = {}
    for k in range(folds):
        held = set(order[k::folds])
        train_set = [own[i] for i in order if i not in held] + extra
        test = [own[i] for i in sorted(held)]
        rng = random.Random(100 + k)
        hard = [harden(e.text, rng) for e in test]
        engines: dict[str, Callable[[str], Parse]] = {
            "builtin": train(train_set, content).parse,
            "tfidf+lr": TfidfBaseline(train_set).parse,
        }
        for name, parse in engines.items():
            s = scores.setdefault(name, {m: [0, 0] for m in ("everyday", "everyday_service",
                                                             "everyday_top3", "hard",
                                                             "hard_service", "hard_top3")})
            for e, h in zip(test, hard, strict=True):
                intent, service = split_label(e.label)
                for text, key in ((e.text, "everyday"), (h, "hard")):
                    p = parse(text)
                    s[key][0] += p.intent == intent
                    s[key][1] += 1
                    if service:
                        s[f"{key}_service"][0] += (p.intent, p.service) == (intent, service)
                        s[f"{key}_service"][1] += 1
                        s[f"{key}_top3"][0] += e.label in [a.label for a in p.alternatives[:3]]
                        s[f"{key}_top3"][1] += 1
    return {name: {m: round(a / b, 4) for m, (a, b) in s.items()} for name, s in scores.items()}


def _words_messages(texts: Sequence[str], n_words: int) -> list[str]:
    """Messages of exactly ``n_words`` words cut from a stream of real texts."""
    stream = [w for t in texts for w in t.split()]
    return [" ".join(stream[i:i + n_words]) for i in range(0, len(stream) - n_words, n_words)]


def fresh_messages(engine: BuiltinEngine) -> dict[str, str]:
    """Ten new messages per style typed after the training data was written: right / total,
    with the current service for follow-ups, the aspect and the finer label when given."""
    path = ROOT / "bench/data/nlu_fresh.yml"
    if not path.exists():
        return {}
    import yaml

    ok: dict[str, list[int]] = {}
    for it in yaml.safe_load(path.read_text(encoding="utf-8")):
        p = engine.parse(it["text"], it.get("current"))
        good = (p.intent == it["intent"] and it.get("service") in (None, p.service)
                and it.get("aspect") in (None, p.aspect) and it.get("label") in (None, p.label))
        tally = ok.setdefault(it["style"], [0, 0])
        tally[0] += good
        tally[1] += 1
    return {style: f"{a}/{b}" for style, (a, b) in ok.items()}


def latency(engine: BuiltinEngine, texts: Sequence[str], rounds: int = 3) -> dict[str, float]:
    """p50/p99 ms per parse of a warm engine (every text parsed once before timing): wall
    clock, and the process's CPU time (what the parse costs when other programs share the
    cores), with the load average at the time."""
    for t in texts:
        engine.parse(t)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for t in texts:
            c0, t0 = time.process_time(), time.perf_counter()
            engine.parse(t)
            wall.append((time.perf_counter() - t0) * 1000.0)
            cpu.append((time.process_time() - c0) * 1000.0)
    return {"n": len(texts), "p50_ms": round(percentile(wall, 50), 4),
            "p99_ms": round(percentile(wall, 99), 4),
            "cpu_p50_ms": round(percentile(cpu, 50), 4),
            "cpu_p99_ms": round(percentile(cpu, 99), 4), "load": round(os.getloadavg()[0], 1)}


def _latency_of_loaded(engine: BuiltinEngine, texts: dict[str, list[str]]
                       ) -> dict[str, dict[str, float]]:
    """``latency`` of the pickled engine loaded by a fresh process, as the app loads it."""
    with tempfile.TemporaryDirectory() as tmp:
        path, data = Path(tmp) / "engine.pkl", Path(tmp) / "texts.json"
        path.write_bytes(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))
        data.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        code = (
            "import json, pickle, sys\n"
            "sys.path.insert(0, 'bench')\n"
            "from nlu_bench import latency\n"
            f"e = pickle.load(open({str(path)!r}, 'rb'))\n"
            f"texts = json.loads(open({str(data)!r}, encoding='utf-8').read())\n"
            "print(json.dumps({k: latency(e, v) for k, v in texts.items()}))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                             text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        found: dict[str, dict[str, float]] = json.loads(out.stdout.strip().splitlines()[-1])
        return found


def danger_64k(texts: Sequence[str]) -> dict[str, float]:
    """ms to check a whole 64 KiB message for danger (a story pasted again and again)."""
    story = " ".join(texts)
    message = (story * (65536 // max(1, len(story.encode())) + 1)).encode()[:65536]
    text = message.decode(errors="ignore")
    times = []
    for _ in range(5):
        _RECENT.clear()  # each time read anew, not the reading remembered
        t0 = time.perf_counter()
        assess(text)
        times.append((time.perf_counter() - t0) * 1000.0)
    return {"bytes": len(text.encode()), "best_ms": round(min(times), 2),
            "median_ms": round(sorted(times)[2], 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-cv", action="store_true", help="skip the cross-validation")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args()

    content = load_content(ROOT / "content", strict=False)
    examples = training_examples(content.nlu_files, content)
    evals = {name: load_eval(p) for name, p in EVAL_FILES.items() if p.exists()}

    t0 = time.perf_counter()
    import sklearn.linear_model
    import sklearn.svm  # noqa: F401  (imported once by the app too; timed apart)

    sklearn_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = train(examples, content)
    builtin_train = time.perf_counter() - t0
    engine.parse("khởi động")
    t0 = time.perf_counter()
    tfidf = TfidfBaseline(examples)
    tfidf_train = time.perf_counter() - t0
    fuzzy = FuzzyBaseline(content)

    results = [
        _score("builtin", engine.parse, builtin_train, _memory_of_loading(engine), evals),
        _score("rapidfuzz names+aliases", fuzzy.parse, None, None, evals),
        _score("tfidf+lr (sklearn defaults)", tfidf.parse, tfidf_train,
               _memory_of_sklearn(examples), evals),
    ]
    # Latency of the warm engine: short messages (the everyday file) and 100-word messages cut
    # from the real citizens' questions; each line on its own.
    short = [it["text"] for it in evals.get("everyday", []) if len(it["text"].split()) <= 12]
    long_source = [it["text"] for name in ("real", "real-dev") for it in evals.get(name, [])]
    hundred = _words_messages(long_source, 100)
    report: dict[str, Any] = {
        "training_examples": len(examples), "features": engine.info["features"],
        "sklearn_import_s": round(sklearn_import, 2),
        "engines": results,
        "latency_short": latency(engine, short),
        "latency_100_words": latency(engine, hundred),
    }
    # The app does not parse in a process that trained the engine (nlu.build_builtin trains in
    # a child and loads the cache file): the same engine, timed the same way in a fresh process
    # that loads it (the figures above, in this process with its large heap, stay as they were).
    report |= {f"{key}_loaded": value for key, value in _latency_of_loaded(
        engine, {"latency_short": short, "latency_100_words": hundred}).items()}
    report |= {
        "danger_64k": danger_64k(long_source or short),
        "fresh_messages": fresh_messages(engine),
    }
    if not args.no_cv:
        report["cross_validation"] = cross_validate(examples, content)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"training examples: {len(examples)}   features: {engine.info['features']}   "
          f"(importing scikit-learn once: {sklearn_import:.2f} s, not in train s)")
    head = f"{'engine':30} {'file':12} {'intent':>7} {'service':>8} {'top3':>6} " \
           f"{'p50 ms':>7} {'p99 ms':>7} {'train s':>8} {'mem MB':>7}"
    print(head)
    print("-" * len(head))
    for r in results:
        for fname in evals:
            m = r[fname]
            tr = f"{r['train_s']:.2f}" if r["train_s"] is not None else "-"
            mem = f"{r['memory_mb']:.1f}" if r["memory_mb"] is not None else "-"
            print(f"{r['engine']:30} {fname:12} {m['intent_accuracy']:7.3f} "
                  f"{m['service_accuracy']:8.3f} {m['service_top3']:6.3f} {m['p50_ms']:7.3f} "
                  f"{m['p99_ms']:7.3f} {tr:>8} {mem:>7}")
    if "cross_validation" in report:
        for name, m in report["cross_validation"].items():
            print(f"{'5-fold CV ' + name:30} {'own examples':12} {m['everyday']:7.3f} "
                  f"{m['everyday_service']:8.3f} {m['everyday_top3']:6.3f}")
            print(f"{'5-fold CV ' + name:30} {'hardened':12} {m['hard']:7.3f} "
                  f"{m['hard_service']:8.3f} {m['hard_top3']:6.3f}")
    for key, label in (("latency_short", "short messages (<= 12 words)"),
                       ("latency_100_words", "100-word messages"),
                       ("latency_short_loaded", "short messages, engine loaded by a fresh "
                        "process as the app does"),
                       ("latency_100_words_loaded", "100-word messages, engine loaded by a "
                        "fresh process")):
        la = report[key]
        print(f"\nbuilt-in, warm, one thread, {label}: n={la['n']}  p50 {la['p50_ms']:.3f} ms"
              f"  p99 {la['p99_ms']:.3f} ms  (CPU time: p50 {la['cpu_p50_ms']:.3f} ms  p99 "
              f"{la['cpu_p99_ms']:.3f} ms; load average {la['load']})", end="")
    if report["fresh_messages"]:
        print("\nfresh messages (bench/data/nlu_fresh.yml): " + ", ".join(
            f"{k} {v}" for k, v in report["fresh_messages"].items()), end="")
    d = report["danger_64k"]
    print(f"\ndanger check of a whole {d['bytes']} B message: best {d['best_ms']:.1f} ms, "
          f"median {d['median_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
