"""Retraining with the examples editors taught, in a short-lived child process.

The child trains a candidate engine on the content's training data plus the taught examples,
writes it next to the engine cache, and scores both the serving engine and the candidate on the
evaluation files (``nlu.gate``). The caller decides from the two reports; nothing here touches
the database or the engine that is serving.

Taught examples whose text is an evaluation item (same words, whatever the case or diacritics)
are dropped before training and reported: evaluation text is never trained on.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import pickle
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlu.builtin import BuiltinEngine, Thresholds, TrainParams, train
from nlu.data import TOPIC_SEP, Example, base_label, training_examples
from nlu.gate import EvalSpec, eval_texts, same_text, score
from nlu.topics import add_topics, split_topics

__all__ = ["CATCH_ALL", "Job", "Result", "examples_of", "run_in_child", "taught_example",
           "train_candidate", "training_label"]

#: Labels that answer many different needs ("not something I help with"): what editors teach
#: under them is learnt as a topic of its own (``nlu.data.TOPIC_SEP``).
CATCH_ALL = frozenset({"out_of_scope", "other_procedure"})


def training_label(label: str, topic: str | None) -> str:
    """The label a taught example trains: ``other_procedure__t41`` for a topic taught under a
    catch-all label, the label itself otherwise."""
    return f"{label}{TOPIC_SEP}{topic}" if topic and label in CATCH_ALL else label


def taught_example(text: str, label: str) -> Example:
    """A taught (text, label) as a training example: ``svc_<id>``, an intent, or
    ``intent/faq-id`` (the Rasa retrieval form: trains the intent and ranks that FAQ entry).

    It trains exactly as the same line in ``content/nlu`` would (``trolyso nlu export-taught``
    writes it there), noisy copies included."""
    intent, _, faq = label.partition("/")
    return Example(text, intent, None, "nlu", faq or None)


@dataclass
class Job:
    content: Any
    taught: list[tuple[int, str, str]]  # (id, text, label), in id order
    thresholds: Thresholds
    spec: EvalSpec
    out_dir: Path
    serving: Path | None = None  # the serving engine's pickle, scored as "before"
    params: TrainParams = field(default_factory=TrainParams)


@dataclass
class Result:
    key: str  # the engine cache key of these training inputs (nlu.cache_key)
    path: Path  # the candidate's pickle (in out_dir)
    sha256: str
    after: dict[str, dict[str, Any]]
    before: dict[str, dict[str, Any]] | None
    used: list[int]  # taught example ids trained on
    dropped: list[int]  # taught example ids left out: their text is an evaluation item
    examples: int
    train_s: float
    eval_s: float


def train_candidate(job: Job) -> Result:
    """Train, save and score (runs in the child; usable in-process in tests)."""
    from nlu import cache_key, load_cached, save_engine  # the cache, as build_builtin names it

    forbidden = eval_texts(job.spec)
    used = [(i, t, lb) for i, t, lb in job.taught if same_text(t) not in forbidden]
    dropped = [i for i, t, _ in job.taught if same_text(t) in forbidden]
    extra = [taught_example(t, lb) for _, t, lb in used]
    examples = training_examples(job.content.nlu_files, job.content)
    known = {e.label for e in examples}
    plain, topics = split_topics([e for e in extra if base_label(e.label) in known])
    base = examples + plain
    started = time.perf_counter()
    # The engine without topics: cached unless ordinary labels were taught since.
    base_path = job.out_dir / f"nlu-{cache_key(base, job.content, job.params)}.pkl"
    engine = load_cached(base_path)
    if engine is None:
        engine = train(base, job.content, params=job.params, thresholds=job.thresholds)
        save_engine(engine, base_path, prune=False)
    engine = engine.with_thresholds(job.thresholds)
    if topics:
        engine = add_topics(engine, base, topics, job.params)
    key = cache_key([*base, *topics], job.content, job.params)
    train_s = time.perf_counter() - started
    job.out_dir.mkdir(parents=True, exist_ok=True)
    path = job.out_dir / f"candidate-{key}-{os.getpid()}.pkl"
    data = pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL)
    path.write_bytes(data)
    started = time.perf_counter()
    after = score(engine.parse, job.spec)
    before = None
    if job.serving is not None:
        with job.serving.open("rb") as fh:
            serving = pickle.load(fh)
        if isinstance(serving, BuiltinEngine):
            before = score(serving.with_thresholds(job.thresholds).parse, job.spec)
    return Result(key=key, path=path, sha256=hashlib.sha256(data).hexdigest(), after=after,
                  before=before, used=[i for i, _, _ in used], dropped=dropped,
                  examples=engine.info["examples"], train_s=train_s,
                  eval_s=time.perf_counter() - started)


async def run_in_child(job: Job) -> Result:
    """:func:`train_candidate` in a spawned child process: its memory goes back to the system
    when it ends, and the serving process keeps answering while it works."""
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            return await loop.run_in_executor(pool, train_candidate, job)
        except asyncio.CancelledError:
            # Stopping (the process shuts down): the candidate would be thrown away, and
            # leaving the pool waits for the child, blocking the loop until it has trained
            # and evaluated. End it now. (Python 3.14 has ``kill_workers()`` for this.)
            for child in list(getattr(pool, "_processes", {}).values()):
                child.kill()
            raise


def examples_of(rows: Sequence[tuple[str, str]]) -> list[Example]:
    """Taught (text, label) pairs as training examples, for loading at start-up."""
    return [taught_example(t, lb) for t, lb in rows]
