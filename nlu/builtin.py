"""The built-in engine: normalization, TF-IDF features and a linear model, in process.

Training (scikit-learn's logistic regression) takes a few seconds at start-up; the learnt
weights are then copied into plain arrays, so a parse is a dictionary walk and one small
matrix product (well under a millisecond), with no per-call scikit-learn overhead.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nlu.augment import augment
from nlu.data import FAQ_TOPICS, Example, dedupe, split_label
from nlu.features import Featurizer
from nlu.normalize import normalize
from nlu.rules import aspect_of, emergency_level
from nlu.types import Alternative, Decision, Parse

__all__ = ["BuiltinEngine", "Thresholds", "TrainParams", "default_thresholds", "train"]

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.json")
_SENTENCE_RE = re.compile(r"[.!?;\n]+|,\s+(?:(?:nhưng|mà|còn|giờ|vậy|thì)\s)")
_SOCIAL = frozenset({"greet", "goodbye", "thanks"})


@dataclass(frozen=True)
class TrainParams:
    """Model settings chosen by cross-validation (bench/nlu_bench.py --cv)."""

    c: float = 0.5
    word_weight: float = 0.8
    min_df_char: int = 2
    copies: int = 4
    seed: int = 13
    max_faq_per_label: int = 60  # FAQ questions must not swamp the other labels
    model: str = "svm"  # lr: logistic regression; svm: linear SVM with a softmax on its scores
    temperature: float = 5.5  # svm only: scores are multiplied by this before the softmax


@dataclass(frozen=True)
class Thresholds:
    answer: float
    suggest: float
    faq: float = 0.3
    soft_emergency: float = 0.08


def default_thresholds() -> Thresholds:
    """The thresholds calibrated on the evaluation data (nlu/thresholds.json)."""
    try:
        data = json.loads(THRESHOLDS_FILE.read_text(encoding="utf-8"))
        return Thresholds(answer=float(data["answer"]), suggest=float(data["suggest"]),
                          faq=float(data.get("faq", 0.3)),
                          soft_emergency=float(data.get("soft_emergency", 0.08)))
    except (OSError, ValueError, KeyError):
        return Thresholds(answer=0.5, suggest=0.2)


@dataclass
class _FaqIndex:
    """FAQ questions of the topics behind one intent, as L2-normalized TF-IDF rows."""

    ids: list[str]
    rows: NDArray[np.int64]  # feature index -> row of ``matrix``, or -1
    matrix: NDArray[np.float32]  # (features used by these FAQs, FAQ entries)

    def best(self, idx: NDArray[np.int64], val: NDArray[np.float64]) -> tuple[str | None, float]:
        """The closest FAQ entry and its cosine similarity to the message."""
        if idx.size == 0:
            return None, 0.0
        rows = self.rows[idx]
        keep = rows >= 0
        if not keep.any():
            return None, 0.0
        scores = val[keep].astype(np.float32) @ self.matrix[rows[keep]]
        k = int(scores.argmax())
        return self.ids[k], float(scores[k]) / (float(np.sqrt(val @ val)) or 1.0)


@dataclass
class BuiltinEngine:
    """A trained model; ``parse`` is synchronous and fast, ``aparse`` just calls it."""

    featurizer: Featurizer
    labels: list[str]
    weights: NDArray[np.float32]  # (features, labels)
    bias: NDArray[np.float32]
    thresholds: Thresholds
    faq_index: dict[str, _FaqIndex] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._intents = [split_label(lb) for lb in self.labels]
        self._emergency = self.labels.index("emergency") if "emergency" in self.labels else -1

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def with_thresholds(self, thresholds: Thresholds) -> BuiltinEngine:
        return BuiltinEngine(self.featurizer, self.labels, self.weights, self.bias, thresholds,
                             self.faq_index, self.info)

    # ------------------------------------------------------------------ scoring

    def probabilities(self, norm: str) -> NDArray[np.float64]:
        """Label probabilities for one normalized message."""
        return self._scored(norm)[0]

    def _scored(self, norm: str) -> tuple[NDArray[np.float64], NDArray[np.int64],
                                          NDArray[np.float64]]:
        idx, val = self.featurizer.transform_one(norm)
        scores = self.bias.astype(np.float64)
        if idx.size:
            scores = scores + val.astype(np.float32) @ self.weights[idx]
        scores -= scores.max()
        e = np.exp(scores)
        return np.asarray(e / e.sum(), dtype=np.float64), idx, val

    def _combined(self, text: str, probs: NDArray[np.float64]) -> NDArray[np.float64]:
        """A long message may be carried by one of its sentences.

        A greeting or a thank-you wrapped around a request must not win over the request.
        """
        if self.labels[int(probs.argmax())] not in _SOCIAL:
            return probs
        parts = [p for p in (normalize(s) for s in _SENTENCE_RE.split(text)) if p]
        if len(parts) < 2:
            return probs
        best = probs
        best_p = 0.0
        for part in parts:
            pp = self.probabilities(part)
            j = int(pp.argmax())
            if self.labels[j] not in _SOCIAL and pp[j] > best_p:
                best, best_p = pp, float(pp[j])
        if best_p > 0.0:
            return 0.3 * probs + 0.7 * best
        return probs

    # ------------------------------------------------------------------ parse

    def parse(self, text: str) -> Parse:
        norm = normalize(text)
        probs, idx, val = self._scored(norm)
        probs = self._combined(text, probs)
        order = np.argsort(-probs)[:5]
        top = int(order[0])
        label = self.labels[top]
        confidence = float(probs[top])
        level = emergency_level(norm)
        p_emergency = float(probs[self._emergency]) if self._emergency >= 0 else 0.0
        if level == 2 or (level == 1 and label != "emergency"
                          and p_emergency >= self.thresholds.soft_emergency):
            if label != "emergency":
                label = "emergency"
                confidence = max(p_emergency, 0.9 if level == 2 else 0.6)
                rest = [int(i) for i in order if i != self._emergency][:4]
                order = np.asarray([self._emergency, *rest])
        intent, service = split_label(label)
        decision = self._decision(intent, confidence)
        aspect = None  # a confident non-service answer: any aspect words belong to it
        if intent in ("service_howto", "out_of_scope") or decision != "answer":
            aspect = aspect_of(norm)
        faq = None
        out_label: str | None = label if service else None
        if intent in self.faq_index:
            fid, score = self.faq_index[intent].best(idx, val)
            if fid is not None and score >= self.thresholds.faq:
                faq = out_label = fid
        alternatives = []
        for i in order:
            lb = self.labels[int(i)]
            a_intent, a_service = split_label(lb)
            conf = confidence if lb == label else float(probs[int(i)])
            alternatives.append(Alternative(a_intent, a_service, conf, lb))
        return Parse(text=text, intent=intent, label=out_label, confidence=confidence,
                     decision=decision, service=service, aspect=aspect,
                     alternatives=alternatives, faq=faq)

    async def aparse(self, text: str) -> Parse:
        return self.parse(text)

    def _decision(self, intent: str, confidence: float) -> Decision:
        if intent == "emergency":
            return "answer"  # danger now: always show the emergency numbers
        if confidence >= self.thresholds.answer:
            return "answer"
        if confidence >= self.thresholds.suggest:
            return "suggest"
        return "handover"


# ---------------------------------------------------------------------- training

def _fit_weights(featurizer: Featurizer, norms: Sequence[str], y: Sequence[int],
                 n_labels: int, params: TrainParams
                 ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    indptr, indices, data = featurizer.transform(norms)
    x = csr_matrix((data, indices, indptr), shape=(len(norms), featurizer.size))
    model: Any
    scale = 1.0
    if params.model == "svm":
        model = LinearSVC(C=params.c, tol=1e-3)
        scale = params.temperature
    else:
        model = LogisticRegression(C=params.c, max_iter=300, tol=1e-3)
    model.fit(x, np.asarray(y))
    coef = np.zeros((n_labels, featurizer.size), dtype=np.float32)
    bias = np.full(n_labels, -1e4, dtype=np.float32)
    coef[model.classes_] = model.coef_ * scale
    bias[model.classes_] = model.intercept_ * scale
    return np.ascontiguousarray(coef.T), bias


def _faq_indexes(featurizer: Featurizer, content: Any) -> dict[str, _FaqIndex]:
    out: dict[str, _FaqIndex] = {}
    if content is None:
        return out
    for intent, topics in FAQ_TOPICS.items():
        ids: list[str] = []
        vectors: list[dict[int, float]] = []
        for topic_id in topics:
            topic = content.faqs.get(topic_id)
            if topic is None:
                continue
            for e in topic.entries:
                acc: dict[int, float] = {}
                for q in (e.question, *e.questions):
                    i, v = featurizer.transform_one(normalize(q))
                    for j, w in zip(i.tolist(), v.tolist(), strict=True):
                        acc[j] = acc.get(j, 0.0) + w
                n = math.sqrt(sum(w * w for w in acc.values())) or 1.0
                ids.append(e.id)
                vectors.append({j: w / n for j, w in acc.items()})
        if ids:
            used = sorted({j for vec in vectors for j in vec})
            rows = np.full(featurizer.size, -1, dtype=np.int64)
            rows[used] = np.arange(len(used))
            matrix = np.zeros((len(used), len(ids)), dtype=np.float32)
            for k, vec in enumerate(vectors):
                for j, w in vec.items():
                    matrix[rows[j], k] = w
            out[intent] = _FaqIndex(ids, rows, matrix)
    return out


def _cap_per_label(examples: Sequence[Example], source: str, cap: int) -> list[Example]:
    """At most ``cap`` examples of ``source`` per label, spread over the whole list."""
    groups: dict[str, list[Example]] = {}
    for e in examples:
        if e.source == source:
            groups.setdefault(e.label, []).append(e)
    keep: set[int] = set()
    for items in groups.values():
        step = max(1.0, len(items) / cap)
        keep.update(id(items[int(i * step)]) for i in range(min(cap, len(items))))
    return [e for e in examples if e.source != source or id(e) in keep]


def train(examples: Sequence[Example], content: Any | None = None,
          params: TrainParams | None = None,
          thresholds: Thresholds | None = None) -> BuiltinEngine:
    """Train the built-in engine on labelled examples (and the content's FAQs for ranking)."""
    params = params or TrainParams()
    base = _cap_per_label(dedupe(examples), "faq", params.max_faq_per_label)
    labels = sorted({e.label for e in base})
    index = {lb: i for i, lb in enumerate(labels)}
    data = augment(base, copies=params.copies, seed=params.seed)
    norms = [normalize(e.text) for e in data]
    featurizer = Featurizer(word_weight=params.word_weight,
                            min_df_char=params.min_df_char).fit(norms)
    weights, bias = _fit_weights(featurizer, norms, [index[e.label] for e in data],
                                 len(labels), params)
    return BuiltinEngine(
        featurizer=featurizer, labels=labels, weights=weights, bias=bias,
        thresholds=thresholds or default_thresholds(),
        faq_index=_faq_indexes(featurizer, content),
        info={"examples": len(base), "augmented": len(data), "features": featurizer.size,
              "params": params.__dict__},
    )
