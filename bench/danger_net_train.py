"""Train the danger second net (nlu/danger_net.json): see nlu/danger_net.py.

Danger: the dev danger-now files (bench/data/danger_dev_now.yml, _r8_now, _r9_now) and the
NLU examples labelled ``emergency``. Calm: their calm look-alikes and every other NLU training
example. Never trained on: the frozen test pair (tests/data/danger_*.yml), nlu_real.yml, and
the probe batch r10 (bench/data/danger_dev_r10_*.yml), kept to measure the net.

The threshold is set on out-of-fold scores (5 folds): the lowest score at which at most
``--calm-rate`` of the calm messages would get a closing line.

    PYTHONPATH=. python bench/danger_net_train.py [--calm-rate 0.01]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.content import load_content  # noqa: E402
from nlu.danger_net import _PATH, features  # noqa: E402
from nlu.data import read_rasa_yaml  # noqa: E402

DANGER_FILES = ["danger_dev_now.yml", "danger_dev_r8_now.yml", "danger_dev_r9_now.yml"]
CALM_FILES = ["danger_dev_calm.yml", "danger_dev_r8_calm.yml", "danger_dev_r9_calm.yml"]


def _texts(name: str) -> list[str]:
    items = yaml.safe_load((ROOT / "bench/data" / name).read_text(encoding="utf-8"))
    return [str(i["text"]) for i in items]


def data() -> tuple[list[str], np.ndarray]:
    content = load_content(ROOT / "content", strict=False)
    examples = [e for f in content.nlu_files for e in read_rasa_yaml(f)]
    danger = [t for f in DANGER_FILES for t in _texts(f)]
    danger += [e.text for e in examples if e.label == "emergency"]
    calm = [t for f in CALM_FILES for t in _texts(f)]
    calm += [e.text for e in examples if e.label != "emergency"]
    return danger + calm, np.array([1] * len(danger) + [0] * len(calm))


def fit(texts: list[str], y: np.ndarray, c: float) -> tuple[dict[str, float], float]:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer()
    x = vec.fit_transform([dict.fromkeys(features(t), 1.0) for t in texts])
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    model.fit(x, y)
    names = vec.get_feature_names_out()
    weights = {str(n): round(float(w), 3) for n, w in zip(names, model.coef_[0], strict=True)
               if abs(w) >= 0.02}
    return weights, float(model.intercept_[0])


def _score(weights: dict[str, float], bias: float, text: str) -> float:
    z = bias + sum(weights.get(f, 0.0) for f in features(text))
    return float(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calm-rate", type=float, default=0.01)
    ap.add_argument("--c", type=float, default=1.0)
    args = ap.parse_args()
    texts, y = data()
    rng = np.random.default_rng(11)
    fold = rng.integers(0, 5, len(texts))
    oof = np.zeros(len(texts))
    for k in range(5):
        train = fold != k
        w, b = fit([t for t, m in zip(texts, train, strict=True) if m], y[train], args.c)
        for i in np.flatnonzero(~train):
            oof[i] = _score(w, b, texts[i])
    calm = np.sort(oof[y == 0])
    threshold = float(calm[int(np.ceil((1 - args.calm_rate) * len(calm))) - 1]) + 1e-6
    recall = float((oof[y == 1] >= threshold).mean())
    weights, bias = fit(texts, y, args.c)
    _PATH.write_text(json.dumps({
        "about": "danger second net: see nlu/danger_net.py and bench/danger_net_train.py",
        "threshold": round(threshold, 4), "bias": round(bias, 4),
        "trained_on": {"danger": int(y.sum()), "calm": int((y == 0).sum())},
        "out_of_fold": {"danger_recall": round(recall, 3), "calm_rate": args.calm_rate},
        "weights": dict(sorted(weights.items())),
    }, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(texts)} texts ({int(y.sum())} danger); {len(weights)} weights; threshold "
          f"{threshold:.3f}; out-of-fold danger recall {recall:.3f} at a calm rate of "
          f"{args.calm_rate:.3f}; {_PATH.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
