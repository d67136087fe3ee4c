"""Live updates: every server process serves the engine and content the database names, and
swaps them between two messages, without a restart.

The database's ``live_versions`` table holds two numbers: ``nlu`` (the accepted retrain, see
``console.teaching``) and ``content`` (bumped by each content edit accepted in the console).
Each process polls it every ``learning.poll_s`` seconds (one small SELECT) and, with
``learning.watch_content``, also notices content files edited on disk (a stat of each file).
A content folder that fails ``trolyso content check`` is refused: the old content keeps serving
and the reasons are shown in the console. A new engine is read from the engine cache (checked
against its SHA-256) or, on a host without the file, trained again from the same inputs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from console.ports import ContentStatus
from console.teaching import eval_spec
from core.db import probe, utcnow, write_lock
from core.models import LiveVersion, NluModel, TaughtExample
from core.storage import insert_for
from flows.content import Content, check_content, load_content
from nlu.builtin import BuiltinEngine
from nlu.data import Example
from nlu.gate import eval_texts, same_text
from nlu.live import LiveEngine
from nlu.retrain import examples_of, training_label

if TYPE_CHECKING:
    from core.config import Settings


class Host(Protocol):
    """What live updates change in the running assistant (``bot.app.App``)."""

    settings: Settings
    content: Content
    nlu: LiveEngine
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

__all__ = ["Host", "LiveUpdates", "accepted_examples", "bump", "signature"]

log = logging.getLogger(__name__)


def signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when any content file is edited, added or removed (names, times, sizes).

    Every process computes it each ``learning.poll_s``: one ``stat`` per file through
    ``os.scandir`` (pathlib's ``rglob`` cost more than ten times as much CPU)."""
    out: list[tuple[str, int, int]] = []
    todo = [(str(root), "")]
    while todo:
        folder, rel = todo.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            name = rel + e.name
            if e.is_dir(follow_symlinks=False):
                todo.append((e.path, name + os.sep))
            elif e.is_file() and not e.name.startswith("."):
                st = e.stat()
                out.append((name, st.st_mtime_ns, st.st_size))
    out.sort()
    return tuple(out)


async def bump(session: AsyncSession, key: str, version: int | None = None,
               detail: dict[str, Any] | None = None) -> int:
    """Set (or add one to) the version every process should serve for ``key``."""
    row = await session.get(LiveVersion, key, with_for_update=True)
    if row is None:
        stmt = insert_for(session, LiveVersion).values(
            key=key, version=0, detail={}, updated_at=utcnow())
        await session.execute(stmt.on_conflict_do_nothing(index_elements=[LiveVersion.key]))
        row = await session.get(LiveVersion, key, with_for_update=True, populate_existing=True)
        assert row is not None
    row.version = row.version + 1 if version is None else version
    row.detail = detail or {}
    row.updated_at = utcnow()
    return row.version


async def accepted_examples(session: AsyncSession, settings: Settings,
                            version: int | None = None) -> tuple[int, str | None, list[Example]]:
    """(version, cache key, taught examples) of the engine the database says to serve (or of
    retrain ``version``); the version is 0 when no retrain was ever accepted. Evaluation text
    is never returned."""
    if version is None:
        row = await session.get(LiveVersion, "nlu")
        version = row.version if row is not None else 0
    if not version:
        return 0, None, []
    model = await session.get(NluModel, version)
    if model is None or not model.examples:
        return version, model.key if model else None, []
    ids = [int(i) for i in model.examples]
    found = {t.id: (t.text, training_label(t.label, t.topic)) for t in (await session.execute(
        select(TaughtExample).where(TaughtExample.id.in_(ids)))).scalars()}
    spec = eval_spec(settings)
    forbidden = await asyncio.to_thread(eval_texts, spec) if not spec.empty else set()
    rows = [found[i] for i in ids if i in found and same_text(found[i][0]) not in forbidden]
    return version, model.key, examples_of(rows)


def _load_checked(path: Path, sha256: str | None) -> BuiltinEngine | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        log.warning("live: %s is not the accepted engine (SHA-256 differs)", path)
        return None
    engine = pickle.loads(data)  # our own cache file, checked against the database
    return engine if isinstance(engine, BuiltinEngine) else None


#: (nlu version, content version); None where no row was written yet.
_VERSIONS = select(*(select(LiveVersion.version).where(LiveVersion.key == key).scalar_subquery()
                     for key in ("nlu", "content")))


class LiveUpdates:
    """Keeps one process's engine and content at the versions the database names."""

    def __init__(self, app: Host) -> None:
        self.app = app
        self._sig: tuple[tuple[str, int, int], ...] | None = None
        self._content_version = 0
        self._status = ContentStatus()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ the Live port

    @property
    def content(self) -> Content:
        return self.app.content

    @property
    def engine(self) -> LiveEngine:
        return self.app.nlu

    @property
    def content_root(self) -> Path:
        return self.app.settings.path(self.app.settings.content.dir)

    @property
    def content_status(self) -> ContentStatus:
        return self._status

    def check_content(self, root: Path) -> list[str]:
        from bot.channels import text_limits
        from flows.services import render_all

        settings = self.app.settings
        problems, _ = check_content(root, max_review_age_days=settings.content.max_review_age_days,
                                    render=render_all, text_limits=text_limits(settings))
        return [str(p) for p in problems if p.severity == "error"]

    async def reload_content(self) -> list[str]:
        async with self._lock:
            problems = await self._reload(await asyncio.to_thread(signature, self.content_root))
            if not problems:
                async with self._tx() as s:
                    self._content_version = await bump(s, "content", detail={"ok": True})
            return problems

    async def refresh(self) -> None:
        async with self._lock:
            # One statement outside a transaction (every process, every poll_s).
            nlu, content = await probe(self.app.engine, _VERSIONS)
            if nlu and nlu != self.engine.version:
                await self._serve_model(nlu)
            version = content or 0
            if self.app.settings.learning.watch_content or version != self._content_version:
                sig = await asyncio.to_thread(signature, self.content_root)
                if sig != self._sig:
                    await self._reload(sig)
                self._content_version = version

    # ------------------------------------------------------------------ running

    async def start(self) -> None:
        """Start polling (idempotent)."""
        if self._task is not None:
            return
        if self._sig is None:
            self._sig = await asyncio.to_thread(signature, self.content_root)
            self._status = ContentStatus(ok=True, checked_at=utcnow(), loaded_at=utcnow())
        self._task = asyncio.create_task(self._run(), name="live-updates")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.app.settings.learning.poll_s)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away for a moment: try at the next poll
                log.exception("live: checking the served versions failed")

    def _tx(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        @contextlib.asynccontextmanager
        async def tx() -> Any:
            async with write_lock(self.app.engine), self.app.sessionmaker() as s, s.begin():
                yield s
        return tx()

    # ------------------------------------------------------------------ swapping

    async def _reload(self, sig: tuple[tuple[str, int, int], ...]) -> list[str]:
        """Check the folder; serve it when clean, else keep the old content."""
        root = self.content_root
        now = utcnow()
        problems = await asyncio.to_thread(self.check_content, root)
        self._sig = sig
        if problems:
            log.error("content: %d problem(s), the previous content keeps serving: %s",
                      len(problems), "; ".join(problems[:5]))
            self._status = ContentStatus(ok=False, checked_at=now,
                                         loaded_at=self._status.loaded_at,
                                         problems=tuple(problems))
            return problems
        new = await asyncio.to_thread(load_content, root, strict=False)
        old = self.app.content
        # Interface texts are shared by reference (the console, the notice senders): update
        # that one dictionary instead of handing out a new one.
        old.texts.clear()
        old.texts.update(new.texts)
        new.texts = old.texts
        self.app.content = new
        self._status = ContentStatus(ok=True, checked_at=now, loaded_at=now)
        log.info("content: reloaded (%d services, %d FAQ topics)", len(new.services),
                 len(new.faqs))
        return []

    async def _serve_model(self, version: int) -> None:
        from nlu import build_builtin, thresholds_for

        settings = self.app.settings
        async with self.app.sessionmaker() as s:
            model = await s.get(NluModel, version)
            if model is None or model.state != "accepted" or not model.key:
                return
            _, _, extra = await accepted_examples(s, settings, version)
        cache = settings.path(settings.nlu.cache_dir)
        engine = await asyncio.to_thread(_load_checked, cache / f"nlu-{model.key}.pkl",
                                         model.sha256)
        if engine is None:
            log.info("live: engine %d not in %s; training it from the same inputs", version,
                     cache)
            engine = await asyncio.to_thread(build_builtin, settings.nlu, self.app.content,
                                             cache, extra=extra)
        self.engine.swap(engine.with_thresholds(thresholds_for(settings.nlu)), version,
                         model.key)
        log.info("live: now serving engine %d", version)

