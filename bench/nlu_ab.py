"""Parse speed of two versions of the code, A/B, interleaved: the same pickled engine loaded by
fresh processes that alternate between the old code and the new (old, new, old, new ...), so a
change of load on the shared machine weighs on both alike.

Each process loads the engine, parses every message once (warm), then times three rounds:
short messages (the everyday file, <= 12 words) and 100-word messages cut from the real
citizens' dev set, one thread. Printed per version: the median over the rounds of p50 and p99,
wall clock and the thread's CPU time (``time.thread_time_ns``), and the load average.

    .venv/bin/python bench/nlu_ab.py --engine ENGINE.pkl --old /tree/of/old --new . [--rounds 6]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, os, pickle, sys, time
import nlu.builtin  # from the tree on PYTHONPATH (the old code may lack what bench/ imports)
from pathlib import Path
from nlu.data import load_eval
from nlu.evaluate import percentile
e = pickle.load(open({engine!r}, 'rb'))
short = [it["text"] for it in load_eval(Path({everyday!r})) if len(it["text"].split()) <= 12]
stream = [w for it in load_eval(Path({dev!r})) for w in it["text"].split()]
hundred = [" ".join(stream[i:i + 100]) for i in range(0, len(stream) - 100, 100)]
out = {{}}
for name, texts in (("short", short), ("100", hundred)):
    for t in texts:
        e.parse(t)
    wall, cpu = [], []
    for _ in range(3):
        for t in texts:
            c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
            e.parse(t)
            wall.append((time.perf_counter_ns() - t0) / 1e6)
            cpu.append((time.thread_time_ns() - c0) / 1e6)
    out[name] = [percentile(wall, 50), percentile(wall, 99), percentile(cpu, 50),
                 percentile(cpu, 99)]
out["code"] = nlu.builtin.__file__
print(json.dumps(out))
"""


def run(tree: Path, engine: Path) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": f"{tree}:{ROOT}", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    code = _CHILD.format(engine=str(engine), everyday=str(ROOT / "tests/data/nlu_eval.yml"),
                         dev=str(ROOT / "bench/data/nlu_real_dev.yml"))
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, capture_output=True,
                         text=True, check=True)
    found: dict[str, list[float]] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", type=Path, required=True)
    ap.add_argument("--old", type=Path, required=True, help="tree of the old code")
    ap.add_argument("--new", type=Path, default=ROOT, help="tree of the new code")
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    got: dict[str, list[dict[str, list[float]]]] = {"old": [], "new": []}
    loads = []
    for _ in range(args.rounds):
        for name, tree in (("old", args.old), ("new", args.new)):
            got[name].append(run(tree, args.engine))
        loads.append(os.getloadavg()[0])
    for name, runs in got.items():
        for kind, label in (("short", "short"), ("100", "100-word")):
            m = [statistics.median(r[kind][k] for r in runs) for k in range(4)]
            print(f"{name:3} {label:8} p50 {m[0]:.3f} ms  p99 {m[1]:.3f} ms  (thread CPU p50 "
                  f"{m[2]:.3f} ms  p99 {m[3]:.3f} ms)  [{runs[0]['code']}]")
    print(f"{args.rounds} rounds interleaved; load average {min(loads):.1f}-{max(loads):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
