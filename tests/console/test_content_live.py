"""Content edits served live: a file edited on disk or an entry edited in the console is checked
and served within seconds in every process; a broken one is refused with the reason and the old
content keeps answering."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App, build_app
from core.models import AuditEntry
from flows.types import Incoming
from tests.conftest import ROOT, settings_for
from tests.console.conftest import Server, serve
from tests.fakes import KeywordNlu

OLD = "Làm hộ chiếu (passport) để đi nước ngoài, nộp hồ sơ trên mạng bằng tài khoản VNeID."
NEW = "Hộ chiếu để đi nước ngoài: nộp hồ sơ trên mạng bằng VNeID, nhận hộ chiếu qua bưu điện."


def _settings(sqlite_url: str, tmp: Path) -> object:
    s = settings_for(sqlite_url, tmp)
    return s.model_copy(update={
        "content": s.content.model_copy(update={"dir": str(tmp / "content")}),
        "learning": s.learning.model_copy(update={"poll_s": 0.2})})


@pytest.fixture
async def live_server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    core = await build_app(_settings(sqlite_url, tmp_path), nlu=KeywordNlu())  # type: ignore[arg-type]
    try:
        async for url in serve(core):
            yield Server(core, url)
    finally:
        await core.close()


async def intro(core: App, user: str = "u") -> str:
    replies = await core.handle(Incoming("web", user, text="làm hộ chiếu")) or []
    return replies[0].text


async def until(check: Callable[[], Awaitable[bool]], limit_s: float = 15.0) -> float:
    """Seconds until ``check()`` is true."""
    started = time.perf_counter()
    while True:
        if await check():
            return time.perf_counter() - started
        assert time.perf_counter() - started < limit_s, "not within the time allowed"
        await asyncio.sleep(0.1)


def _service_file(core: App) -> Path:
    return core.settings.path(core.settings.content.dir) / "services" / "cap-ho-chieu.yaml"


async def test_a_file_edited_on_disk_broken_then_fixed(live_server: Server) -> None:
    core = live_server.core
    path = _service_file(core)
    good = path.read_text(encoding="utf-8")
    assert OLD in await intro(core)
    path.write_text(good.replace(f'summary: "{OLD}"', 'summary: "chưa đóng ngoặc'),
                    encoding="utf-8")
    await until(lambda: _refused(core))
    assert OLD in await intro(core)  # the old content keeps serving
    assert "not valid YAML" in " ".join(core.live.content_status.problems)
    path.write_text(good.replace(OLD, NEW), encoding="utf-8")

    async def served() -> bool:
        return NEW in await intro(core)

    seconds = await until(served)
    assert seconds < 5
    assert core.live.content_status.ok


async def _refused(core: App) -> bool:
    return not core.live.content_status.ok


async def test_editing_a_service_in_the_console(live_server: Server) -> None:
    server = live_server
    core = server.core
    await server.add_user("bientap", "editor")
    editor = await server.client("bientap")
    try:
        status, page = await editor.get("/console/content/service/cap-ho-chieu")
        assert status == 200 and "summary:" in page
        text = _service_file(core).read_text(encoding="utf-8")
        broken = text.replace("steps:", "stepz:", 1)
        status, page = await editor.post("/console/content/service/cap-ho-chieu",
                                         {"text": broken})
        assert status == 400 and "stepz" in page and "Chưa lưu" in page
        assert _service_file(core).read_text(encoding="utf-8") == text
        assert OLD in await intro(core)
        started = time.perf_counter()
        async with editor.http.post(editor.base + "/console/content/service/cap-ho-chieu",
                                    data={"csrf": editor.csrf,
                                          "text": text.replace(OLD, NEW)},
                                    allow_redirects=False) as r:
            assert r.status == 303, await r.text()
        assert NEW in await intro(core)
        assert time.perf_counter() - started < 10
        assert NEW in _service_file(core).read_text(encoding="utf-8")
        async with core.sessionmaker() as s:
            entry = (await s.execute(select(AuditEntry).where(
                AuditEntry.action == "content.edit"))).scalar_one()
        assert (entry.actor, entry.details) == ("console:bientap",
                                                {"kind": "service", "id": "cap-ho-chieu"})
    finally:
        await editor.close()


async def test_editing_one_faq_entry_leaves_the_rest_of_its_file_alone(
        live_server: Server) -> None:
    server = live_server
    core = server.core
    await server.add_user("bientap", "editor")
    editor = await server.client("bientap")
    path = core.settings.path(core.settings.content.dir) / "faq" / "legal.yaml"
    before = path.read_text(encoding="utf-8")
    try:
        status, page = await editor.get("/console/content/faq/legal-ket-hon-tuoi")
        assert status == 200
        import html
        import re

        m = re.search(r'<textarea id="text" name="text"[^>]*>([^<]*)</textarea>', page)
        assert m is not None
        entry = html.unescape(m.group(1))
        assert entry.startswith("id: legal-ket-hon-tuoi\ncategory: hon-nhan-gia-dinh\n")
        old_answer = core.content.faq("legal-ket-hon-tuoi")[1].answer  # type: ignore[index]
        new_answer = old_answer.replace("Nam phải đủ 20 tuổi", "Con trai phải đủ 20 tuổi")
        assert new_answer != old_answer
        status, page = await editor.post("/console/content/faq/legal-ket-hon-tuoi",
                                         {"text": entry.replace("question:", "questoin:", 1)})
        assert status == 400 and "questoin" in page  # refused, file untouched
        assert path.read_text(encoding="utf-8") == before
        edited = entry.replace("Nam phải đủ 20 tuổi", "Con trai phải đủ 20 tuổi")
        status, _ = await editor.post("/console/content/faq/legal-ket-hon-tuoi",
                                      {"text": edited})
        assert status == 200  # followed the redirect to the content list
        after = path.read_text(encoding="utf-8")
        assert after == before.replace("Nam phải đủ 20 tuổi", "Con trai phải đủ 20 tuổi", 1)
        assert core.content.faq("legal-ket-hon-tuoi")[1].answer == new_answer  # type: ignore[index]
    finally:
        await editor.close()


async def test_another_process_serves_the_edit_too(live_server: Server, sqlite_url: str,
                                                   tmp_path: Path) -> None:
    server = live_server
    other = await build_app(_settings(sqlite_url, tmp_path), nlu=KeywordNlu())  # type: ignore[arg-type]
    await other.live.start()
    try:
        assert OLD in await intro(other)
        await server.add_user("bientap", "editor")
        editor = await server.client("bientap")
        text = _service_file(server.core).read_text(encoding="utf-8")
        status, _ = await editor.post("/console/content/service/cap-ho-chieu",
                                      {"text": text.replace(OLD, NEW)})
        await editor.close()
        assert status == 200

        async def served() -> bool:
            return NEW in await intro(other, "v")

        assert await until(served) < 5
    finally:
        await other.live.stop()
        await other.close()
