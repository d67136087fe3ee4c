"""Topics editors taught under a catch-all answer, added to a trained engine as classes of
their own.

A need the assistant does not cover ("lịch thu gom rác", "xin phép dựng rạp đám cưới") is
taught with a catch-all label (``out_of_scope``, ``other_procedure``); it trains the topic
label ``other_procedure__t41`` (``nlu.data.TOPIC_SEP``), answered as ``other_procedure``.

The engine is one-vs-rest: each label's scores come from its own binary classifier trained on
all the training rows. A topic's classifier is trained exactly so (its questions against every
other row), and added as one more column to the engine trained without the topics, whose own
classifiers stay as they are. So teaching a new need moves no existing boundary: questions the
engine answered before keep their scores, and only those the new topic wins change (a full
retrain would shift every boundary a little, and questions near one would flip for nothing).
It also takes seconds, not a full training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nlu.augment import augment
from nlu.builtin import BuiltinEngine, TrainParams, _cap_per_label
from nlu.data import Example, base_label, dedupe
from nlu.rules import core_norm

__all__ = ["add_topics", "split_topics"]


def split_topics(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(examples of ordinary labels, examples of taught topics)."""
    plain = [e for e in examples if base_label(e.label) == e.label]
    topics = [e for e in examples if base_label(e.label) != e.label]
    return plain, topics


def add_topics(engine: BuiltinEngine, base: Sequence[Example], topics: Sequence[Example],
               params: TrainParams | None = None) -> BuiltinEngine:
    """``engine`` (trained on ``base`` with ``params``) with a class for each topic label."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    params = params or TrainParams()
    rows = _cap_per_label(dedupe(base), "faq", params.max_faq_per_label) + dedupe(topics)
    # The same noisy copies as the engine's training (the topics come last, so the base rows'
    # copies are drawn exactly as they were).
    data = augment(rows, copies=params.copies, seed=params.seed)
    norms = [core_norm(e.text) for e in data]
    indptr, indices, values = engine.featurizer.transform(norms)
    x = csr_matrix((values, indices, indptr), shape=(len(norms), engine.featurizer.size))
    names = [e.label for e in data]
    labels = list(engine.labels)
    columns: list[Any] = [engine.weights]
    bias = [engine.bias]
    for label in sorted({e.label for e in topics} - set(labels)):
        y = np.fromiter((n == label for n in names), dtype=np.int8, count=len(names))
        model: Any
        scale = 1.0
        if params.model == "svm":
            model = LinearSVC(C=params.c, tol=1e-3)
            scale = params.temperature
        else:
            model = LogisticRegression(C=params.c, max_iter=300, tol=1e-3)
        model.fit(x, y)
        columns.append((model.coef_.T * scale).astype(np.float32))
        bias.append((model.intercept_ * scale).astype(np.float32))
        labels.append(label)
    info = dict(engine.info)
    info["topics"] = len(labels) - len(engine.labels)
    return BuiltinEngine(featurizer=engine.featurizer, labels=labels,
                         weights=np.ascontiguousarray(np.hstack(columns)),
                         bias=np.concatenate(bias), thresholds=engine.thresholds,
                         faq_index=engine.faq_index, info=info)
