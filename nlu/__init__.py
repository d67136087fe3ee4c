"""Understanding citizens' messages: intent, service, aspect, with a confidence and a decision.

``load_engine`` trains the built-in engine from the content (or loads it from a cache keyed
by a hash of the training inputs and of this code's version) and, with ``backend: rasa``,
wraps it in the Rasa backend that falls back to it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import pickle
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from core.config import NluSettings
from nlu.builtin import BuiltinEngine, Thresholds, TrainParams, default_thresholds, train
from nlu.data import Example, base_label, training_examples
from nlu.topics import add_topics, split_topics
from nlu.types import Engine, Parse

__all__ = ["ENGINE_VERSION", "Engine", "Parse", "build_builtin", "cache_key", "load_cached",
           "load_engine", "save_engine", "thresholds_for"]

log = logging.getLogger(__name__)

#: Bump when normalization, features or training change: old caches are then ignored.
ENGINE_VERSION = "2"


def cache_key(examples: Sequence[Example], content: Any, params: TrainParams) -> str:
    """The name of the trained engine for these inputs: the same inputs, the same file."""
    h = hashlib.sha256()
    h.update(f"v{ENGINE_VERSION}|{json.dumps(params.__dict__, sort_keys=True)}".encode())
    for code in sorted(Path(__file__).parent.glob("*.py")):
        h.update(code.read_bytes())  # any change to the engine's code retrains
    for e in examples:
        h.update(f"\n{e.label}\t{e.aspect}\t{e.faq}\t{e.text}".encode())
    for topic_id, topic in sorted(getattr(content, "faqs", {}).items()):
        for f in topic.entries:
            h.update(f"\n{topic_id}\t{f.id}\t{f.question}\t{'|'.join(f.questions)}".encode())
    return h.hexdigest()[:24]


def thresholds_for(settings: NluSettings) -> Thresholds:
    base = default_thresholds()
    return Thresholds(
        answer=settings.answer_threshold if settings.answer_threshold is not None
        else base.answer,
        suggest=settings.suggest_threshold if settings.suggest_threshold is not None
        else base.suggest,
        faq=base.faq, soft_emergency=base.soft_emergency,
    )


def save_engine(engine: BuiltinEngine, path: Path, prune: bool = True) -> None:
    """Write the cache atomically and (with ``prune``) remove older caches."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        pickle.dump(engine, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    for old in path.parent.glob("nlu-*.pkl") if prune else ():
        if old != path:
            old.unlink(missing_ok=True)


def load_cached(path: Path) -> BuiltinEngine | None:
    """The engine in a cache file, or None when it is missing or unreadable."""
    try:
        with path.open("rb") as fh:
            engine = pickle.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError) as exc:
        log.warning("NLU: cache %s unreadable (%s)", path, exc)
        return None
    return engine if isinstance(engine, BuiltinEngine) else None


def _train_and_save(examples: list[Example], content: Any, params: TrainParams,
                    thresholds: Thresholds, path: Path) -> dict[str, Any]:
    """Train and write the cache file (runs in a child process, see ``build_builtin``)."""
    engine = train(examples, content, params=params, thresholds=thresholds)
    save_engine(engine, path)
    return dict(engine.info)


def _train_in_child(examples: list[Example], content: Any, params: TrainParams,
                    thresholds: Thresholds, path: Path) -> None:
    """Training's scratch memory (about 110 MB) stays in a process's heap after it is freed,
    so a long-running assistant that trained at start-up would idle near 220 MB instead of
    115. A short-lived child trains and writes the cache; the caller then loads the file.
    On any failure the caller trains in-process, as before."""
    started = time.perf_counter()
    try:
        with ProcessPoolExecutor(max_workers=1,
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            info = pool.submit(_train_and_save, examples, content, params, thresholds,
                               path).result()
    except Exception as exc:
        log.warning("NLU: training in a child process failed (%s); training here", exc)
        return
    log.info("NLU: trained on %d examples (%d features) in %.1f s (child process)",
             info["examples"], info["features"], time.perf_counter() - started)


def build_builtin(settings: NluSettings, content: Any, cache_dir: Path | None = None,
                  params: TrainParams | None = None,
                  extra: Sequence[Example] = ()) -> BuiltinEngine:
    """The built-in engine, from the cache when the training inputs have not changed.

    ``extra``: examples taught in the console (accepted by a retrain), after the content's.
    """
    params = params or TrainParams()
    examples = training_examples(content.nlu_files, content)
    if not examples:
        raise ValueError(f"no NLU training examples under {content.root / 'nlu'}")
    known = {e.label for e in examples}
    plain, topics = split_topics([e for e in extra if base_label(e.label) in known])
    examples += plain
    engine = _builtin(settings, content, examples, cache_dir, params)
    if not topics:
        return engine
    # Topics taught under a catch-all answer: classes added to the engine above (nlu.topics).
    path = (Path(cache_dir) / f"nlu-{cache_key([*examples, *topics], content, params)}.pkl"
            if cache_dir is not None else None)
    found = load_cached(path) if path is not None else None
    if found is not None:
        return found.with_thresholds(engine.thresholds)
    started = time.perf_counter()
    engine = add_topics(engine, examples, topics, params)
    log.info("NLU: %d taught topic(s) added in %.1f s", engine.info.get("topics", 0),
             time.perf_counter() - started)
    if path is not None:
        try:
            save_engine(engine, path, prune=False)  # the engine without topics stays cached
        except OSError as exc:
            log.warning("NLU: cannot write the cache %s: %s", path, exc)
    return engine


def _builtin(settings: NluSettings, content: Any, examples: list[Example],
             cache_dir: Path | None, params: TrainParams) -> BuiltinEngine:
    thresholds = thresholds_for(settings)
    key = cache_key(examples, content, params)
    path = Path(cache_dir) / f"nlu-{key}.pkl" if cache_dir is not None else None
    if path is not None and not path.exists():
        _train_in_child(examples, content, params, thresholds, path)
    if path is not None and path.exists():
        try:
            with path.open("rb") as fh:
                engine = pickle.load(fh)
            if isinstance(engine, BuiltinEngine):
                log.info("NLU: loaded the trained engine from %s", path)
                return engine.with_thresholds(thresholds)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError) as exc:
            log.warning("NLU: cache %s unreadable (%s); training again", path, exc)
    started = time.perf_counter()
    engine = train(examples, content, params=params, thresholds=thresholds)
    log.info("NLU: trained on %d examples (%d features) in %.1f s", engine.info["examples"],
             engine.info["features"], time.perf_counter() - started)
    if path is not None:
        try:
            save_engine(engine, path)
        except OSError as exc:
            log.warning("NLU: cannot write the cache %s: %s", path, exc)
    return engine


def load_engine(settings: NluSettings, content: Any, cache_dir: Path,
                extra: Sequence[Example] = ()) -> Engine:
    """The configured engine: built-in, or Rasa with the built-in engine as fallback."""
    builtin = build_builtin(settings, content, cache_dir, extra=extra)
    if settings.backend == "rasa":
        from nlu.rasa import RasaEngine

        return RasaEngine(settings.rasa_url, builtin, timeout_s=settings.rasa_timeout_s,
                          retry_after_s=settings.rasa_retry_after_s)
    return builtin
