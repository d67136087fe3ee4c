"""Evaluation figures averaged over the seeds of the noisy training copies (nlu/augment.py).

The engine trains on noisy copies of every example drawn from one random stream, so adding a
few examples anywhere reshuffles all copies and moves the dev files by a few items (README,
"read dev figures with cross-validation beside them"). This trains the engine with several
seeds and prints, per evaluation file, intent / service / top-3 accuracy averaged over them,
so that two versions of the training data can be compared without that noise. ``--without``
leaves out training files by name (the figures before a new file, in the same run).

    .venv/bin/python bench/nlu_seeds.py [--seeds 13 1 2 3 4] [--without FILE.yml ...]
        [--held-out]

The held-out real questions (tests/data/nlu_real.yml) are scored only with ``--held-out``,
aggregate figures only, never to choose examples.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.content import load_content  # noqa: E402
from nlu.builtin import TrainParams, train  # noqa: E402
from nlu.data import load_eval, training_examples  # noqa: E402
from nlu.evaluate import evaluate  # noqa: E402

FILES = {"everyday": "tests/data/nlu_eval.yml", "hard": "tests/data/nlu_eval_hard.yml",
         "dev": "bench/data/nlu_real_dev.yml", "dev2": "bench/data/nlu_real_dev2.yml"}
HELD_OUT = "tests/data/nlu_real.yml"
METRICS = ("intent_accuracy", "service_accuracy", "service_top3")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[13, 1, 2, 3, 4])
    ap.add_argument("--without", nargs="*", default=[], help="training file names to leave out")
    ap.add_argument("--held-out", action="store_true", help="also score the held-out file")
    args = ap.parse_args()

    content = load_content(ROOT / "content", strict=False)
    files = [f for f in content.nlu_files if Path(f).name not in set(args.without)]
    examples = training_examples(files, content)
    sets = dict(FILES) | ({"held_out": HELD_OUT} if args.held_out else {})
    items = {name: load_eval(ROOT / path) for name, path in sets.items()}
    sums = {name: [0.0] * len(METRICS) for name in items}
    for seed in args.seeds:
        engine = train(examples, content, params=dataclasses.replace(TrainParams(), seed=seed))
        for name, its in items.items():
            result = evaluate(engine.parse, its)
            for i, metric in enumerate(METRICS):
                sums[name][i] += float(result[metric] or 0.0)
    report = {"training_examples": len(examples), "seeds": args.seeds,
              **{name: {m: round(s / len(args.seeds), 4) for m, s in zip(METRICS, vals,
                                                                          strict=True)}
                 for name, vals in sums.items()}}
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
