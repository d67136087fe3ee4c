"""Teaching the assistant: examples editors label in the inbox, and the retrains that use them.

An editor's label becomes a ``taught_examples`` row (masked text and label only, no link to
the citizen) and queues a retrain. One retrain runs at a time over all processes: it takes every
pending and accepted example, trains a candidate in a child process, and scores the serving
engine and the candidate on the evaluation files (``nlu.gate``). A candidate that loses more
than ``learning.max_drop_points`` on any file, or misses a danger-now message, is refused and
its examples are marked refused; an accepted one is written to the engine cache, its id becomes
the ``nlu`` live version, and every process swaps to it (``bot.live``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import os
import pickle
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broadcast import audit
from broadcast.types import Actor
from console.inbox import mark_reviewed
from console.ports import Live
from core.config import Settings
from core.db import utcnow, write_lock
from core.models import LiveVersion, NluModel, TaughtExample
from core.storage import insert_for
from nlu.gate import EvalSpec, compare, eval_texts, same_text
from nlu.retrain import CATCH_ALL, Job, Result, run_in_child, training_label

__all__ = ["Retrainer", "dismiss", "eval_spec", "forbidden_texts", "jobs", "remove_example",
           "request_retrain", "retry_refused", "taught", "teach"]

log = logging.getLogger(__name__)

#: Examples a retrain trains on.
TRAINED = ("pending", "accepted")


def eval_spec(settings: Settings) -> EvalSpec:
    """The evaluation files of ``learning.*``, relative to the configuration file."""
    cfg = settings.learning
    return EvalSpec.resolve(settings.base_dir, cfg.eval_files, cfg.danger_now_file,
                            cfg.danger_calm_file)


async def request_retrain(session: AsyncSession, by: Actor) -> int:
    """Queue a retrain (or join the one already waiting); returns its id."""
    queued = (await session.execute(select(NluModel.id).where(NluModel.state == "queued")
                                    .order_by(NluModel.id).limit(1))).scalar()
    if queued is not None:
        return int(queued)
    model = NluModel(state="queued", requested_by=by.label, requested_at=utcnow(),
                     examples=[], report={}, reasons=[])
    session.add(model)
    await session.flush()
    return model.id


async def teach(session: AsyncSession, by: Actor, texts: Sequence[str], label: str,
                keys: Sequence[str], forbidden: set[str] | None = None) -> tuple[int, int]:
    """Save ``texts`` (as the editor confirmed them) with ``label``, take the inbox rows
    ``keys`` out of the inbox, queue a retrain. Returns (examples saved, retrain id).

    Texts that are evaluation items (``forbidden``, see ``nlu.gate.eval_texts``) are not saved.
    """
    seen: set[str] = set()
    rows: list[TaughtExample] = []
    for text in texts:
        text = " ".join(text.split())[:500]
        key = same_text(text)
        if not key or key in seen or (forbidden is not None and key in forbidden):
            continue
        seen.add(key)
        rows.append(TaughtExample(text=text, label=label, state="pending", taught_by=by.label,
                                  created_at=utcnow()))
    session.add_all(rows)
    await session.flush()
    if rows and label in CATCH_ALL:
        # One teaching under a catch-all answer is one topic (its first example names it).
        for row in rows:
            row.topic = f"t{rows[0].id}"
    saved = len(rows)
    await mark_reviewed(session, keys, label)
    job = await request_retrain(session, by) if saved else 0
    await audit.record(session, by, "learning.teach", details={
        "label": label, "examples": saved, "questions": len(keys), "retrain": job})
    return saved, job


async def dismiss(session: AsyncSession, by: Actor, keys: Sequence[str]) -> int:
    """Put inbox rows aside (nothing to teach from them)."""
    n = await mark_reviewed(session, keys, "dismissed")
    await audit.record(session, by, "learning.dismiss", details={"questions": n})
    return n


async def remove_example(session: AsyncSession, by: Actor, example_id: int) -> bool:
    """Forget a taught example. One the serving engine learnt stays until a retrain without it
    is accepted (it is marked ``removing`` and a retrain is queued)."""
    row = await session.get(TaughtExample, example_id)
    if row is None:
        return False
    if row.state == "accepted":
        row.state = "removing"
        await request_retrain(session, by)
    elif row.state != "removing":
        await session.delete(row)
    await audit.record(session, by, "learning.remove_example", details={
        "id": example_id, "label": row.label})
    return True


async def retry_refused(session: AsyncSession, by: Actor) -> int:
    """Give refused examples another retrain (after the editor removed the wrong ones)."""
    res = await session.execute(update(TaughtExample).where(TaughtExample.state == "refused")
                                .values(state="pending"))
    n = int(getattr(res, "rowcount", 0) or 0)
    job = await request_retrain(session, by)
    await audit.record(session, by, "learning.retry", details={"examples": n, "retrain": job})
    return job


async def taught(session: AsyncSession, limit: int = 500) -> list[TaughtExample]:
    return list((await session.execute(select(TaughtExample).order_by(
        TaughtExample.id.desc()).limit(limit))).scalars())


async def jobs(session: AsyncSession, limit: int = 20) -> list[NluModel]:
    return list((await session.execute(select(NluModel).order_by(NluModel.id.desc())
                                       .limit(limit))).scalars())


# ---------------------------------------------------------------------- retraining

def _files_hash(spec: EvalSpec) -> str:
    h = hashlib.sha256()
    for p in (*spec.files, spec.danger_now, spec.danger_calm):
        if p is not None:
            h.update(str(p).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


class Retrainer:
    """Runs queued retrains, one at a time over all processes (the claim is a transaction
    that also takes a row lock); polls every ``learning.poll_s`` and when nudged."""

    def __init__(self, settings: Settings, engine: AsyncEngine,
                 sessionmaker: async_sessionmaker[AsyncSession], live: Live) -> None:
        self.settings = settings
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.live = live
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running = asyncio.Lock()
        # The serving engine's figures, while neither it nor the evaluation files change.
        self._baseline: tuple[tuple[int, str], str, dict[str, Any]] | None = None

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        async with write_lock(self.engine), self.sessionmaker() as s, s.begin():
            yield s

    def nudge(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="retrainer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.learning.poll_s * 5)
            self._wake.clear()
            try:
                while await self.run_once() is not None:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retrain: could not run")

    async def _waiting(self) -> bool:
        """Whether any retrain is queued or running (a read, before taking the write lock)."""
        async with self.sessionmaker() as s:
            return (await s.execute(select(NluModel.id).where(
                NluModel.state.in_(("queued", "training"))).limit(1))).scalar() is not None

    async def _claim(self) -> tuple[int, list[tuple[int, str, str]]] | None:
        if not await self._waiting():
            return None
        now = utcnow()
        timeout = dt.timedelta(seconds=self.settings.learning.train_timeout_s)
        async with self._tx() as s:
            # One claim at a time over all processes: a lock on the trainer's row.
            lock = await s.get(LiveVersion, "trainer", with_for_update=True)
            if lock is None:
                await s.execute(insert_for(s, LiveVersion).values(
                    key="trainer", version=0, detail={}, updated_at=now
                ).on_conflict_do_nothing(index_elements=[LiveVersion.key]))
                await s.get(LiveVersion, "trainer", with_for_update=True)
            await s.execute(update(NluModel).where(
                NluModel.state == "training", NluModel.started_at < now - timeout).values(
                state="failed", finished_at=now, reasons=[{"metric": "timeout"}]))
            busy = (await s.execute(select(NluModel.id).where(NluModel.state == "training")
                                    .limit(1))).scalar()
            if busy is not None:
                return None
            model = (await s.execute(select(NluModel).where(NluModel.state == "queued")
                                     .order_by(NluModel.id).limit(1))).scalar()
            if model is None:
                return None
            model.state, model.started_at = "training", now
            # Retrains asked for meanwhile are covered by this one: it takes every example.
            await s.execute(update(NluModel).where(NluModel.state == "queued",
                                                   NluModel.id != model.id).values(
                state="merged", finished_at=now, reasons=[{"metric": "merged",
                                                           "into": model.id}]))
            rows = (await s.execute(select(TaughtExample.id, TaughtExample.text,
                                           TaughtExample.label, TaughtExample.topic)
                                    .where(TaughtExample.state.in_(TRAINED))
                                    .order_by(TaughtExample.id))).all()
            return model.id, [(int(i), str(t), training_label(str(lb), topic))
                              for i, t, lb, topic in rows]

    async def run_once(self) -> NluModel | None:
        """Run the oldest queued retrain, if none is running anywhere; returns it finished."""
        async with self._running:
            claimed = await self._claim()
            if claimed is None:
                return None
            model_id, examples = claimed
            started = time.perf_counter()
            try:
                verdict = await self._train(model_id, examples, started)
            except Exception as exc:
                log.exception("retrain %d failed", model_id)
                async with self._tx() as s:
                    model = await s.get(NluModel, model_id)
                    assert model is not None
                    model.state, model.finished_at = "failed", utcnow()
                    model.reasons = [{"metric": "error", "detail": str(exc)[:300]}]
                    await audit.record(s, Actor(model.requested_by), "learning.retrain",
                                       details={"id": model_id, "state": "failed"})
                return model
            return verdict

    async def _train(self, model_id: int, examples: list[tuple[int, str, str]],
                     started: float) -> NluModel:
        from nlu import thresholds_for

        settings = self.settings
        spec = eval_spec(settings)
        cache = settings.path(settings.nlu.cache_dir)
        await asyncio.to_thread(_clean, cache, settings.learning.train_timeout_s)
        files = await asyncio.to_thread(_files_hash, spec)
        serving = self.live.engine.builtin
        served = (self.live.engine.version, self.live.engine.key or "")
        before: dict[str, Any] | None = None
        dump: Path | None = None
        if self._baseline is not None and self._baseline[:2] == (served, files):
            before = self._baseline[2]
        elif serving is not None:
            dump = await asyncio.to_thread(_dump, serving, cache)
        job = Job(content=self.live.content, taught=examples,
                  thresholds=thresholds_for(settings.nlu), spec=spec, out_dir=cache,
                  serving=dump)
        try:
            result = await run_in_child(job)
        finally:
            if dump is not None:
                dump.unlink(missing_ok=True)
        before = result.before if result.before is not None else before
        if spec.empty:
            findings = [{"metric": "no_eval_files"}]
        else:
            findings = [f.as_json() for f in compare(before or {}, result.after,
                                                     settings.learning.max_drop_points)]
        return await self._finish(model_id, examples, result, before, findings, cache, files,
                                  started)

    async def _finish(self, model_id: int, examples: list[tuple[int, str, str]], result: Result,
                      before: dict[str, Any] | None, findings: list[dict[str, Any]],
                      cache: Path, files: str, started: float) -> NluModel:
        accepted = not findings
        if accepted:
            target = cache / f"nlu-{result.key}.pkl"
            await asyncio.to_thread(os.replace, result.path, target)
        else:
            result.path.unlink(missing_ok=True)
        used = set(result.used)
        pending = [i for i, *_ in examples]
        async with self._tx() as s:
            model = await s.get(NluModel, model_id)
            assert model is not None
            model.state = "accepted" if accepted else "refused"
            model.finished_at = utcnow()
            model.key, model.sha256 = result.key, result.sha256
            model.examples = sorted(used)
            model.train_s = round(result.train_s, 2)
            model.reasons = findings
            model.report = {"before": before, "after": result.after, "dropped": result.dropped,
                            "examples": result.examples, "eval_s": round(result.eval_s, 2),
                            "total_s": round(time.perf_counter() - started, 2)}
            if result.dropped:
                await s.execute(update(TaughtExample).where(
                    TaughtExample.id.in_(result.dropped)).values(state="evaltext"))
            if accepted:
                await s.execute(update(TaughtExample).where(
                    TaughtExample.id.in_(used), TaughtExample.state == "pending").values(
                    state="accepted", model_id=model_id))
                await s.execute(delete(TaughtExample).where(TaughtExample.state == "removing"))
                await _set_live(s, model_id, result.key)
            else:
                await s.execute(update(TaughtExample).where(
                    TaughtExample.id.in_(pending), TaughtExample.state == "pending").values(
                    state="refused", model_id=model_id))
                await s.execute(update(TaughtExample).where(
                    TaughtExample.state == "removing").values(state="accepted"))
            await audit.record(s, Actor(model.requested_by), "learning.retrain", details={
                "id": model_id, "state": model.state, "examples": len(used),
                "train_s": model.train_s, "reasons": [f.get("metric") for f in findings]})
        if accepted:
            await self.live.refresh()  # this process first; the others at their next poll
            self._baseline = ((self.live.engine.version, self.live.engine.key or ""), files,
                              result.after)
            model.report["total_s"] = round(time.perf_counter() - started, 2)
            async with self._tx() as s:
                row = await s.get(NluModel, model_id)
                if row is not None:
                    row.report = dict(model.report)
        log.info("retrain %d %s in %.1f s (training %.1f s)", model_id, model.state,
                 time.perf_counter() - started, result.train_s)
        return model


async def _set_live(session: AsyncSession, version: int, key: str) -> None:
    row = await session.get(LiveVersion, "nlu", with_for_update=True)
    if row is None:
        session.add(LiveVersion(key="nlu", version=version, detail={"key": key},
                                updated_at=utcnow()))
    else:
        row.version, row.detail, row.updated_at = version, {"key": key}, utcnow()


def _clean(cache: Path, older_than_s: float) -> None:
    """Files left by a retrain whose process died (a candidate, a copy of the serving engine)."""
    limit = time.time() - older_than_s
    for pattern in ("candidate-*.pkl", "serving-*.pkl"):
        for path in cache.glob(pattern):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < limit:
                    path.unlink()


def _dump(engine: Any, cache: Path) -> Path:
    """The serving engine as a file the child can read (scored as "before")."""
    cache.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="serving-", suffix=".pkl", dir=cache)
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(engine, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return Path(name)


def forbidden_texts(settings: Settings) -> set[str]:
    """The evaluation texts, which are never saved as taught examples (blocking)."""
    spec = eval_spec(settings)
    return eval_texts(spec) if not spec.empty else set()
