"""How much the calibrated thresholds move between close versions of the training data.

For each variant of the data (all of content/nlu, or without some files), the outcomes
(confidence, top right, right in the top 3) are measured once per cross-validation fold seed
and cached as JSON; then the first-crossing rule of 2026-12-03 (kept here, frozen) and the
current ``nlu.calibrate.choose_sources`` (all the seeds pooled, as ``nlu calibrate`` does)
are applied to each; printed: the thresholds and, with ``--fractions``, per source the
fractions answered / suggested / handed over and the answer precision.

    PYTHONPATH=. .venv/bin/python bench/calib_stability.py [--seeds 1 2 3] \
        [--variant full] [--variant -citizens_letters_7.yml] [--cache /tmp/calib-cache]

A variant is ``full`` or a list of ``-FILE`` / ``+PATH`` joined by ``,`` (files removed from
or added to content/nlu). Measuring one variant takes about a minute per seed on one core.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVAL_FILES = [ROOT / "tests/data/nlu_eval.yml", ROOT / "tests/data/nlu_eval_hard.yml",
              ROOT / "bench/data/nlu_real_dev.yml", ROOT / "bench/data/nlu_real_dev2.yml"]
DEFAULT_VARIANTS = ["full", "-citizens_letters_7.yml", "-citizens_general_r2.yml",
                    "-citizens_letters_6.yml,-citizens_letters_7.yml",
                    "-citizens_dialog_1.yml", "-citizens_situations_r3_letters.yml"]

Outcome = tuple[float, bool, bool]


def old_choose(outcomes: Sequence[Outcome],
               groups: Sequence[Sequence[Outcome]] = ()) -> tuple[float, float]:
    """The rule before 2026-12-04: the first grid point (0.01 steps) meeting the precision
    target; then down from it while each band [t, t + 0.1) of 5 or more messages holds the
    right answer in its top three 75 % of the time."""
    def precise(outs: Sequence[Outcome], t: float, at_least: int = 1) -> bool:
        answered = [ok for c, ok, _ in outs if c >= t]
        return len(answered) < at_least or (
            bool(answered) and sum(answered) / len(answered) >= 0.95)

    grid = [i / 100 for i in range(101)]
    answer = 1.0
    for t in grid:
        if any(c >= t for c, _, _ in outcomes) and precise(outcomes, t) and all(
                precise(g, t, 20) for g in groups):
            answer = t
            break
    suggest = answer
    for t in reversed([g for g in grid if g < answer]):
        band = [top3 for c, _, top3 in outcomes if t <= c < min(answer, t + 0.1)]
        if len(band) >= 5 and sum(band) / len(band) < 0.75:
            break
        suggest = t
    return answer, suggest


def _variant_content(content: Any, variant: str) -> Any:
    if variant == "full":
        return content
    files = list(content.nlu_files)
    for part in variant.split(","):
        if part.startswith("-"):
            kept = [p for p in files if p.name != part[1:]]
            if len(kept) == len(files):
                raise SystemExit(f"{part[1:]}: not in content/nlu")
            files = kept
        elif part.startswith("+"):
            files.append(Path(part[1:]).resolve())
        else:
            raise SystemExit(f"{part}: a variant part starts with - or +")
    return dataclasses.replace(content, nlu_files=sorted(files))


def _measured(content: Any, variant: str, seed: int, cache: Path) -> dict[str, list[Outcome]]:
    """One run per source (the cross-validation dealt with ``seed``), cached."""
    from nlu.calibrate import measure

    path = cache / f"{variant.replace('/', '_')}.seed{seed}.json"
    if path.exists():
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {k: [(float(c), bool(a), bool(b)) for c, a, b in v] for k, v in raw.items()}
    runs = measure(_variant_content(content, variant), EVAL_FILES, cv_seeds=(seed,))
    sources = {name: r[0] for name, r in runs.items()}
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sources), encoding="utf-8")
    return sources


def _fractions(runs: dict[str, list[list[Outcome]]], answer: float, suggest: float) -> str:
    cells = []
    for name, rs in runs.items():
        outs = [o for r in rs for o in r]
        n = len(outs) or 1
        answered = [ok for c, ok, _ in outs if c >= answer]
        prec = sum(answered) / len(answered) if answered else float("nan")
        sug = sum(1 for c, _, _ in outs if suggest <= c < answer)
        cells.append(f"{name.removesuffix('.yml')} {len(answered) / n:.3f}/{sug / n:.3f}/"
                     f"{1 - (len(answered) + sug) / n:.3f} p{prec:.3f}")
    return "; ".join(cells)


def main(argv: Sequence[str] | None = None) -> int:
    from bot.cli.nlu import _load
    from nlu.calibrate import choose_sources

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--variant", action="append")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/calib-cache"))
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--fractions", action="store_true", help="per source: answered/suggested/"
                    "handed over and the answer precision")
    args = ap.parse_args(argv)
    _, content, _ = _load(args)
    old_rows, new_rows = [], []
    for variant in args.variant or DEFAULT_VARIANTS:
        per_seed = [_measured(content, variant, seed, args.cache) for seed in args.seeds]
        old = [old_choose([o for outs in s.values() for o in outs], list(s.values()))
               for s in per_seed]
        runs = {name: [outs] for name, outs in per_seed[0].items() if name != "cross-validation"}
        runs["cross-validation"] = [s["cross-validation"] for s in per_seed]
        c = choose_sources(runs)
        old_rows.append(old)
        new_rows.append((c.answer, c.suggest))
        print(f"{variant}: old (seed {args.seeds[0]}) {old[0]}, old per seed {old}; "
              f"new (seeds {args.seeds} pooled) {(c.answer, c.suggest)}")
        if args.fractions:
            first = {name: [outs] for name, outs in per_seed[0].items()}
            print(f"  old answered/suggested/handed over: {_fractions(first, *old[0])}")
            print(f"  new answered/suggested/handed over: {_fractions(runs, c.answer, c.suggest)}")
    for i, name in enumerate(("answer", "suggest")):
        old_first = [r[0][i] for r in old_rows]
        spread = max(max(x[i] for x in r) - min(x[i] for x in r) for r in old_rows)
        new = [r[i] for r in new_rows]
        print(f"{name}: old {old_first} range {max(old_first) - min(old_first):.2f} "
              f"(largest range over seeds in a variant {spread:.2f}); "
              f"new {new} range {max(new) - min(new):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
