"""The bar of issue 16 ("the assistant gets better every week"), in headless Chromium and the
web chat API, with the real engine and two server processes' worth of assistants on one
database.

Citizens ask about a need the assistant does not know (the ward's waste collection,
tests/data/learning_bar.yml); their questions reach the editors' inbox. An editor labels them in
the console; within 60 s, without a restart, both assistants answer them with that label, and
at least 80 % of 20 paraphrases never trained on get it too; messages sent during the swap are
all answered. Then the editor teaches evaluation-like passport questions with a wrong label: that
retrain lowers the evaluation figures, is refused, the editor sees the figures, and nothing
changes for citizens. The figures measured are written to the test's folder (bar.json) and
printed.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from sqlalchemy import select

from bot.app import App, build_app
from core.config import Settings
from core.models import Feedback, MessageLog, NluModel, Unanswered
from tests.conftest import ROOT, settings_for
from tests.console.conftest import PASSWORD, Server, serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
async def _shows(page: Any, base: str, words: str) -> None:
    """The learning page reloads itself when a retrain's state changes (a reload of our own
    would race it: ``net::ERR_ABORTED``). Wait for that; if the page had loaded after the change,
    it does not reload, so open it again."""
    from playwright.async_api import expect

    try:
        await expect(page.locator("body")).to_contain_text(words, timeout=10_000)
    except AssertionError:
        await page.goto(base + "/console/learning")
        await expect(page.locator("body")).to_contain_text(words, timeout=10_000)


BAR = yaml.safe_load((ROOT / "tests/data/learning_bar.yml").read_text(encoding="utf-8"))

pytestmark = [
    pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test "
                       "installs it)"),
]


def _settings(sqlite_url: str, tmp: Path) -> Settings:
    s = settings_for(sqlite_url, tmp)
    # Retrains write engines into the cache: this test's own copy, not the worker's.
    return s.model_copy(update={
        "learning": s.learning.model_copy(update={"poll_s": 0.5}),
        "nlu": s.nlu.model_copy(update={"cache_dir": str(tmp / "nlu-cache")})})


@dataclass
class World:
    server: Server
    other: App  # a second server process's assistant: same database, same engine cache
    tmp: Path
    db_url: str
    figures: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path,
                trained_nlu_cache: Path) -> AsyncIterator[World]:
    cache = tmp_path / "nlu-cache"
    cache.mkdir()
    for f in trained_nlu_cache.glob("nlu-*.pkl"):  # the session's engine: no training at start
        shutil.copy2(f, cache / f.name)
    core = await build_app(_settings(sqlite_url, tmp_path))
    other = await build_app(_settings(sqlite_url, tmp_path), migrate=False)
    await other.live.start()
    try:
        async for url in serve(core):
            yield World(Server(core, url), other, tmp_path, sqlite_url)
    finally:
        await other.live.stop()
        await other.close()
        await core.close()


async def ask(http: aiohttp.ClientSession, base: str, session: str, text: str | None = None,
              button: str | None = None) -> list[dict[str, Any]]:
    body: dict[str, str] = {"session": session}
    body.update({"text": text} if text is not None else {"button": button or ""})
    async with http.post(base + "/api/chat", json=body) as r:
        assert r.status == 200, await r.text()
        return list((await r.json())["replies"])


async def intents(app: App, sessions: list[str], answered: bool = False
                  ) -> list[str | None]:
    """The label each session's last typed question got (the message log); with
    ``answered``, None unless the assistant answered with it (not only guessed)."""
    out = []
    async with app.sessionmaker() as s:
        for sid in sessions:
            row = (await s.execute(
                select(MessageLog.label, MessageLog.decision).where(
                    MessageLog.channel == "web", MessageLog.user_id == sid,
                    MessageLog.intent.is_not(None))
                .order_by(MessageLog.id.desc()).limit(1))).first()
            ok = row is not None and (not answered or row[1] == "answer")
            out.append(row[0] if ok and row is not None else None)
    return out


async def inbox_keys(app: App, texts: list[str]) -> list[str]:
    async with app.sessionmaker() as s:
        u = (await s.execute(select(Unanswered.id, Unanswered.text).where(
            Unanswered.text.in_(texts), Unanswered.reviewed_at.is_(None)))).all()
        f = (await s.execute(select(Feedback.id, Feedback.question).where(
            Feedback.question.in_(texts), Feedback.reviewed_at.is_(None)))).all()
    return [f"u{i}" for i, _ in u] + [f"f{i}" for i, _ in f]


async def latest_model(app: App) -> NluModel | None:
    async with app.sessionmaker() as s:
        return (await s.execute(select(NluModel).order_by(NluModel.id.desc()).limit(1))
                ).scalar()


async def wait_for_verdict(app: App, limit_s: float = 240) -> NluModel:
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        model = await latest_model(app)
        if model is not None and model.state in ("accepted", "refused", "failed"):
            return model
        await asyncio.sleep(0.5)
    raise AssertionError("no verdict on the retrain")


async def keep_talking(base: str, other: App, stop: asyncio.Event,
                       log: list[str]) -> int:
    """Citizens keep writing to both processes while the engine is swapped."""
    from flows.types import Incoming

    sent = 0
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            sent += 1
            try:
                replies = await ask(http, base, f"load-{sent % 7}", "làm hộ chiếu ở đâu")
                if not replies:
                    log.append(f"web {sent}: no reply")
                got = await other.handle(Incoming("web", f"other-{sent % 7}",
                                                  text="đăng ký tạm trú thế nào"))
                if not got:
                    log.append(f"other {sent}: no reply")
            except Exception as exc:  # any failure is a dropped message
                log.append(f"{sent}: {exc!r}")
            await asyncio.sleep(0.05)
    return sent


async def test_an_editor_teaches_a_new_need_and_a_harmful_retrain_is_refused(
        world: World) -> None:
    from playwright.async_api import async_playwright

    server, other, base = world.server, world.other, world.server.url
    core = server.core
    shots = world.tmp / "screenshots"
    shots.mkdir()
    taught, held_out = list(BAR["taught"]), list(BAR["held_out"])
    label = BAR["label"]

    # Citizens ask; a wrong confident answer gets 👎 (its question then reaches the inbox).
    async with aiohttp.ClientSession() as http:
        for i, q in enumerate(taught):
            replies = await ask(http, base, f"t{i}", q)
            down = [b["payload"] for r in replies for b in r["buttons"]
                    if (b.get("payload") or "").startswith("f:-:")]
            if down:
                await ask(http, base, f"t{i}", button=down[0])
    before = await intents(core, [f"t{i}" for i in range(len(taught))])
    world.figures["taught_with_label_before"] = sum(x == label for x in before)
    keys = await inbox_keys(core, taught)
    world.figures["in_inbox"] = len(keys)
    assert len(keys) >= 20, f"only {len(keys)} of the questions reached the inbox"
    await server.add_user("bientap", "editor")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        problems: list[str] = []
        ctx = await browser.new_context(viewport=DESKTOP)
        page = await ctx.new_page()
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        await page.goto(base + "/console/login")
        await page.get_by_label("Tên tài khoản").fill("bientap")
        await page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="Đăng nhập").click()
        await page.wait_for_url(base + "/console/")
        await page.get_by_role("link", name="Câu hỏi chưa trả lời").click()
        # The biggest group is this need: the editor teaches the whole group in one step.
        biggest = page.locator("section.group").first
        title = await biggest.locator("h2").inner_text()
        group = (await biggest.locator('input[type="hidden"]').get_attribute("value") or ""
                 ).split(",")
        world.figures["group"] = title
        assert set(group) <= set(keys) and len(group) >= 20, title
        probe = (await _texts(core, group))[0]  # a question of the group, asked again later
        await page.screenshot(path=str(shots / "01-inbox-1366.png"), full_page=True)
        await biggest.locator("select").select_option(label)
        await biggest.get_by_role("button", name=f"Dạy cả nhóm ({len(group)} câu)").click()
        await page.wait_for_url("**/console/inbox/preview")
        shown = (await page.locator("#texts").input_value()).splitlines()
        assert sorted(shown) == sorted(set(shown)) and len(shown) == len(group)
        await page.screenshot(path=str(shots / "02-confirm-1366.png"), full_page=True)
        await page.get_by_label("Tôi đã đọc từng câu").check()

        # Teach, while citizens keep writing to both processes.
        stop, dropped = asyncio.Event(), []
        talking = asyncio.create_task(keep_talking(base, other, stop, dropped))
        started = time.monotonic()
        await page.get_by_role("button", name="Lưu và cho trợ lý học").click()
        await page.wait_for_url("**/console/learning?ok=taught")
        await page.screenshot(path=str(shots / "03-training-1366.png"), full_page=True)
        served_here = served_there = None
        async with aiohttp.ClientSession() as http:
            while time.monotonic() - started < 120 and (served_here is None
                                                        or served_there is None):
                if served_here is None:
                    await ask(http, base, "probe", probe)
                    if (await intents(core, ["probe"], True))[0] == label:
                        served_here = time.monotonic() - started
                if served_there is None and other.nlu.version:
                    served_there = time.monotonic() - started
                await asyncio.sleep(0.5)
        stop.set()
        sent = await talking
        model = await wait_for_verdict(core)
        world.figures.update({
            "accepted": model.state, "train_s": model.train_s,
            "retrain_total_s": (model.report or {}).get("total_s"),
            "served_here_s": served_here, "served_in_other_process_s": served_there,
            "messages_during_swap": sent, "dropped": len(dropped)})
        assert model.state == "accepted", model.reasons
        assert served_here is not None and served_here <= 60, world.figures
        assert served_there is not None and served_there <= 60, world.figures
        assert dropped == [] and sent > 20

        # The taught questions now get the label, in both processes; and the held-out ones.
        async with aiohttp.ClientSession() as http:
            for i, q in enumerate(taught):
                await ask(http, base, f"after-t{i}", q)
            for i, q in enumerate(held_out):
                await ask(http, base, f"h{i}", q)
        from flows.types import Incoming

        for i, q in enumerate(taught):
            await other.handle(Incoming("web", f"other-t{i}", text=q))
        after = await intents(core, [f"after-t{i}" for i in range(len(taught))], True)
        there = await intents(other, [f"other-t{i}" for i in range(len(taught))], True)
        held = await intents(core, [f"h{i}" for i in range(len(held_out))])
        taught_texts = {t for t in taught}
        async with core.sessionmaker() as s:
            used = (await s.execute(select(NluModel.examples).where(NluModel.id == model.id))
                    ).scalar_one()
        world.figures.update({
            "taught_examples": len(used),
            "taught_answered_with_label": sum(x == label for x in after),
            "taught_answered_with_label_other_process": sum(x == label for x in there),
            "held_out_with_label": sum(x == label for x in held),
            "held_out": len(held_out)})
        _write(world)
        assert not taught_texts & set(held_out)
        in_inbox = [q for q in taught if q in set(await _texts(core, group))]
        answered = [q for q, x in zip(taught, after, strict=True) if x == label]
        assert set(in_inbox) <= set(answered), set(in_inbox) - set(answered)
        assert sum(x == label for x in there) >= len(in_inbox)
        assert sum(x == label for x in held) >= 0.8 * len(held_out), world.figures
        await _shows(page, base, "Đã dùng")
        await page.screenshot(path=str(shots / "04-accepted-1366.png"), full_page=True)

        # A process started now serves the taught engine at once (from the engine cache).
        t0 = time.monotonic()
        restarted = await build_app(_settings(world.db_url, world.tmp), migrate=False)
        world.figures["restart_load_s"] = round(time.monotonic() - t0, 2)
        try:
            assert (restarted.nlu.version, restarted.nlu.key) == (model.id, model.key)
            got = await restarted.handle(Incoming("web", "restart", text=probe))
            assert got
            assert (await intents(restarted, ["restart"]))[0] == label
        finally:
            await restarted.close()

        # A harmful retrain: passport questions taught as a death registration.
        version = core.nlu.version
        async with core.sessionmaker() as s, s.begin():
            for q in BAR["wrong"]:
                s.add(Unanswered(text=q, guesses={"label": "svc_cap-ho-chieu"},
                                 decision="suggest"))
        wrong = await inbox_keys(core, list(BAR["wrong"]))
        await page.goto(base + "/console/inbox")
        for key in wrong:
            await page.check(f'input[name="pick"][value="{key}"]')
        await page.select_option("#label", BAR["wrong_label"])
        await page.locator("#teach-picked").click()
        await page.get_by_label("Tôi đã đọc từng câu").check()
        await page.get_by_role("button", name="Lưu và cho trợ lý học").click()
        await page.wait_for_url("**/console/learning?ok=taught")
        refused = await wait_for_verdict(core)
        world.figures["refused"] = refused.state
        world.figures["refused_reasons"] = refused.reasons
        world.figures["refused_retrain_total_s"] = (refused.report or {}).get("total_s")
        assert refused.state == "refused", refused.reasons
        assert any(r["metric"] in ("intent", "service") for r in refused.reasons)
        await _shows(page, base, "Không dùng: làm kết quả kiểm tra kém đi")
        text = await page.content()
        assert "độ đúng dịch vụ giảm từ" in text
        table = page.locator(f'section.job[data-id="{refused.id}"] table.figures')
        assert "nlu_eval.yml" in await table.inner_text()
        await page.screenshot(path=str(shots / "05-refused-1366.png"), full_page=True)
        await asyncio.sleep(1.5)  # a few polls: nobody swaps to the refused engine
        assert core.nlu.version == version and other.nlu.version == version
        async with aiohttp.ClientSession() as http:
            replies = await ask(http, base, "passport", "làm hộ chiếu mất bao nhiêu tiền")
        assert "hộ chiếu" in replies[0]["text"].lower()

        # The editors' pages on a phone and an office screen.
        for size, tag in ((PHONE, "390"), (DESKTOP, "1366")):
            await page.set_viewport_size(size)
            for name, path in (("inbox", "/console/inbox"), ("learning", "/console/learning"),
                               ("figures", "/console/figures"), ("content", "/console/content"),
                               ("content-faq", "/console/content/faq/legal-ket-hon-tuoi")):
                await page.goto(base + path)
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= size["width"] + 1, f"{path} scrolls sideways at {tag}"
                await page.screenshot(path=str(shots / f"page-{name}-{tag}.png"),
                                      full_page=True)
        await browser.close()
    assert problems == [], problems
    _write(world)
    keep = Path("/tmp/learning-screenshots")  # for a person to look at after a run
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(shots, keep)


def _write(world: World) -> None:
    (world.tmp / "bar.json").write_text(json.dumps(world.figures, ensure_ascii=False, indent=2))
    print("\nlearning bar:", json.dumps(world.figures, ensure_ascii=False))


async def _texts(app: App, keys: list[str]) -> list[str]:
    from console.inbox import texts_of

    async with app.sessionmaker() as s:
        return [i.text for i in await texts_of(s, keys)]
