"""Quick parse-speed check of the built-in engine, without the rest of bench/nlu_bench.py.

Times the warm engine on one thread, as ``nlu_bench.latency`` does (every text parsed once,
then three timed rounds): short messages (the everyday file, <= 12 words) and 100-word
messages cut from the real citizens' dev set (bench/data/nlu_real_dev.yml; the held-out file is
not read here). With ``--phases`` it also times each step of a 100-word parse on its own
(danger check, sentence splitting, features, matrix product ...), and with ``--profile`` prints
cProfile's top functions of the 100-word parses.

    .venv/bin/python bench/nlu_speed.py [--engine PATH] [--save PATH] [--phases] [--profile]

``--save`` writes the trained engine to PATH; ``--engine`` loads one from PATH instead of
training (training takes minutes on a loaded machine).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pickle  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from nlu.builtin import BuiltinEngine  # noqa: E402
from nlu.data import load_eval  # noqa: E402
from nlu.evaluate import percentile  # noqa: E402


def _messages() -> tuple[list[str], list[str]]:
    from nlu_bench import _words_messages

    short = [it["text"] for it in load_eval(ROOT / "tests/data/nlu_eval.yml")
             if len(it["text"].split()) <= 12]
    dev = [it["text"] for it in load_eval(ROOT / "bench/data/nlu_real_dev.yml")]
    return short, _words_messages(dev, 100)


def _engine(args: argparse.Namespace) -> BuiltinEngine:
    if args.engine:
        with open(args.engine, "rb") as fh:
            engine: BuiltinEngine = pickle.load(fh)
        return engine
    from flows.content import load_content
    from nlu.builtin import train
    from nlu.data import training_examples

    content = load_content(ROOT / "content", strict=False)
    t0 = time.perf_counter()
    engine = train(training_examples(content.nlu_files, content), content)
    print(f"trained in {time.perf_counter() - t0:.1f} s, {engine.info['features']} features")
    if args.save:
        Path(args.save).write_bytes(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))
    return engine


def _times(fn: Callable[[str], Any], texts: Sequence[str], rounds: int = 3) -> list[float]:
    for t in texts:
        fn(t)
    out: list[float] = []
    for _ in range(rounds):
        for t in texts:
            t0 = time.perf_counter()
            fn(t)
            out.append((time.perf_counter() - t0) * 1000.0)
    return out


def _line(name: str, ms: Sequence[float]) -> str:
    return (f"{name:34} n={len(ms):4}  p50 {percentile(list(ms), 50):7.3f} ms  "
            f"p99 {percentile(list(ms), 99):7.3f} ms")


def phases(engine: BuiltinEngine, texts: Sequence[str]) -> None:
    """Each step of a parse timed alone on the same messages (steps share caches, so the sum
    is an estimate of the whole)."""
    from nlu.danger import _RECENT, assess
    from nlu.rules import core_norm, question_part, sentences, without_formulas

    def danger(t: str) -> Any:
        _RECENT.clear()
        return assess(t)

    parts = {t: without_formulas(sentences(t)) for t in texts}
    ids = {t: [engine.featurizer.ids(p.norm) for p in parts[t]] for t in texts}
    import numpy as np

    whole = {t: np.concatenate(v) for t, v in ids.items()}
    steps: dict[str, Callable[[str], Any]] = {
        "danger (assess, not remembered)": danger,
        "sentences + without_formulas": lambda t: without_formulas(sentences(t)),
        "core_norm of the whole": core_norm,
        "question_part": lambda t: question_part(parts[t]),
        "features: ids of each sentence": lambda t: [engine.featurizer.ids(p.norm)
                                                      for p in parts[t]],
        "features: weigh": lambda t: engine.featurizer.weigh(whole[t]),
        "scores (weigh + product + softmax)": lambda t: engine._scored_ids(whole[t]),
        "mentions of each sentence": lambda t: [engine._mentions(p.norm) for p in parts[t]],
        "parse (all)": engine.parse,
    }
    for name, fn in steps.items():
        print(_line(name, _times(fn, texts)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", help="load the engine from this pickle instead of training")
    ap.add_argument("--save", help="write the trained engine to this pickle")
    ap.add_argument("--phases", action="store_true", help="time each step of a 100-word parse")
    ap.add_argument("--profile", action="store_true", help="cProfile the 100-word parses")
    args = ap.parse_args()
    engine = _engine(args)
    short, hundred = _messages()
    engine.parse("khởi động")
    print(_line("short (<= 12 words)", _times(engine.parse, short)))
    print(_line("100 words (real dev set)", _times(engine.parse, hundred)))
    if args.phases:
        phases(engine, hundred)
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(3):
            for t in hundred:
                engine.parse(t)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
