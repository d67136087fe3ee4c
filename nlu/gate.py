"""The gate a retrained engine passes before it serves citizens.

Both engines, the one serving and the candidate, are scored in the same run on the same
evaluation files: intent and service accuracy (and top-3) on every intent/service file, every
danger-now message caught, false alarms on the calm look-alikes. The candidate is refused when it
loses more than ``max_drop_points`` percentage points of intent or service accuracy on any file,
misses one danger-now message, or raises more false alarms than that margin allows.

Evaluation files are read here and nowhere near training: :func:`eval_texts` gives their texts
so the trainer can refuse to learn any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nlu.data import load_eval
from nlu.evaluate import evaluate
from nlu.normalize import normalize
from nlu.types import Parse

__all__ = ["DANGER_CALM", "DANGER_NOW", "EvalSpec", "Finding", "compare", "eval_texts",
           "same_text", "score"]

#: Names of the danger pair in a score (the intent/service files are named by file name).
DANGER_NOW = "danger_now"
DANGER_CALM = "danger_calm"


@dataclass(frozen=True)
class EvalSpec:
    """The evaluation files a retrain is judged on."""

    files: tuple[Path, ...] = ()  # YAML lists of {text, intent, service?}
    danger_now: Path | None = None  # YAML list of {text, ...}: must all be caught
    danger_calm: Path | None = None  # YAML list of {text, ...}: look-alikes, not danger

    @property
    def empty(self) -> bool:
        return not self.files and self.danger_now is None

    @classmethod
    def resolve(cls, base: Path, patterns: Sequence[str], danger_now: str | None,
                danger_calm: str | None) -> EvalSpec:
        """Expand globs relative to ``base``; missing danger files are left out."""
        files: list[Path] = []
        for pattern in patterns:
            p = Path(pattern)
            found = sorted(p.parent.glob(p.name)) if p.is_absolute() else sorted(
                base.glob(pattern))
            files.extend(f for f in found if f.is_file() and f not in files)

        def one(rel: str | None) -> Path | None:
            if not rel:
                return None
            path = Path(rel) if Path(rel).is_absolute() else base / rel
            return path if path.is_file() else None

        return cls(tuple(files), one(danger_now), one(danger_calm))


def _danger_texts(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [str(item["text"]) for item in data if isinstance(item, dict) and "text" in item]


def eval_texts(spec: EvalSpec) -> set[str]:
    """Every evaluation text, normalized: nothing in this set may ever be trained on."""
    out: set[str] = set()
    for path in spec.files:
        out.update(same_text(i["text"]) for i in load_eval(path))
    for danger in (spec.danger_now, spec.danger_calm):
        if danger is not None:
            out.update(same_text(t) for t in _danger_texts(danger))
    return out


def same_text(text: str) -> str:
    """The form two texts share when they say the same words (case, diacritics, spacing)."""
    return " ".join(normalize(text).split())


def score(parse: Callable[[str], Parse], spec: EvalSpec) -> dict[str, dict[str, Any]]:
    """Figures of one engine: per intent/service file ``{n, intent, service, top3}``; for the
    danger pair ``{n, caught}`` and ``{n, alarms}`` (plus the texts missed or alarmed)."""
    out: dict[str, dict[str, Any]] = {}
    for path in spec.files:
        r = evaluate(parse, load_eval(path))
        out[path.name] = {"n": r["n"], "intent": r["intent_accuracy"],
                          "service": r["service_accuracy"], "top3": r["service_top3"]}
    if spec.danger_now is not None:
        texts = _danger_texts(spec.danger_now)
        missed = [t for t in texts if parse(t).danger != "now"]
        out[DANGER_NOW] = {"n": len(texts), "caught": len(texts) - len(missed),
                           "missed": missed[:20]}
    if spec.danger_calm is not None:
        texts = _danger_texts(spec.danger_calm)
        alarms = [t for t in texts if parse(t).danger == "now"]
        out[DANGER_CALM] = {"n": len(texts), "alarms": len(alarms), "alarmed": alarms[:20]}
    return out


@dataclass(frozen=True)
class Finding:
    """One reason to refuse a candidate: ``metric`` on ``file`` went from before to after."""

    file: str
    metric: str  # intent | service | danger_missed | false_alarms | missing
    before: float
    after: float
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "metric": self.metric, "before": self.before,
                "after": self.after, **self.extra}


def compare(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]],
            max_drop_points: float) -> list[Finding]:
    """Why the candidate (``after``) may not replace the serving engine (``before``); empty
    when it may. Accuracies are fractions; the margin is in percentage points."""
    margin = max_drop_points / 100.0 + 1e-9
    found: list[Finding] = []
    for name, b in before.items():
        a = after.get(name)
        if a is None:
            found.append(Finding(name, "missing", 1.0, 0.0))
            continue
        if name == DANGER_NOW:
            if a["caught"] < a["n"]:
                found.append(Finding(name, "danger_missed", float(b["caught"]),
                                     float(a["caught"]), {"n": a["n"]}))
            continue
        if name == DANGER_CALM:
            rise = (a["alarms"] - b["alarms"]) / max(a["n"], 1)
            if rise > margin:
                found.append(Finding(name, "false_alarms", float(b["alarms"]),
                                     float(a["alarms"]), {"n": a["n"]}))
            continue
        for metric in ("intent", "service"):
            if b[metric] - a[metric] > margin:
                found.append(Finding(name, metric, float(b[metric]), float(a[metric])))
    # A danger message missed is refused even when the serving engine missed it too.
    if DANGER_NOW in after and DANGER_NOW not in before and \
            after[DANGER_NOW]["caught"] < after[DANGER_NOW]["n"]:
        a = after[DANGER_NOW]
        found.append(Finding(DANGER_NOW, "danger_missed", float(a["n"]), float(a["caught"]),
                             {"n": a["n"]}))
    return found
