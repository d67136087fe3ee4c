"""The chat page on a phone (390×844) in headless Chromium: what a citizen sees and taps.

Screenshots of each scene are saved under the test's temporary folder.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.app import App
from bot.web import make_web_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test "
                       "installs it)"),
]


@pytest.fixture
async def server(core: App) -> AsyncIterator[str]:
    runner = web.AppRunner(make_web_app(core))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def page(server: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        pg = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        await pg.goto(server + "/")
        await pg.get_by_text("Xin chào").wait_for()
        yield pg
        assert errors == []
        await browser.close()


async def visible_box(page: Any, selector: str) -> dict[str, float]:
    return await page.evaluate("""(sel) => {
        const r = document.querySelector(sel).getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right};
    }""", selector)


async def newest_reply_view(page: Any) -> dict[str, float]:
    """Where the newest reply and its buttons are, against the visible part of the chat."""
    return await page.evaluate("""() => {
        const log = document.getElementById("log").getBoundingClientRect();
        const msgs = document.querySelectorAll("#log .msg.bot");
        const last = msgs[msgs.length - 1];
        const r = last.getBoundingClientRect();
        const box = last.querySelector(".buttons");
        const b = box ? box.getBoundingClientRect() : r;
        return {logTop: log.top, logBottom: log.bottom, top: r.top, height: r.height,
                buttonsBottom: b.bottom};
    }""")


async def test_the_emergency_button_and_numbers_are_one_tap_away(page: Any,
                                                                tmp_path: Path) -> None:
    sos = await visible_box(page, "#sos")
    assert 0 <= sos["top"] and sos["bottom"] <= PHONE["height"]  # no scrolling needed
    assert sos["right"] <= PHONE["width"]
    footer = await page.eval_on_selector_all(".note a", "els => els.map(e => e.href)")
    assert footer == ["tel:113", "tel:114", "tel:115", "tel:112"]
    await page.screenshot(path=str(tmp_path / "start.png"))

    await page.click("#sos")
    box = page.locator(".msg.emergency").last
    await box.wait_for()
    calls = await box.locator(".calls a").evaluate_all("els => els.map(e => e.href)")
    assert calls[:4] == ["tel:113", "tel:114", "tel:115", "tel:112"]
    in_text = await box.evaluate(
        "el => [...el.childNodes].filter(n => n.tagName === 'A').map(a => a.textContent)")
    assert {"113", "114", "115", "112"} <= set(in_text)  # the numbers in the text too
    await page.screenshot(path=str(tmp_path / "emergency.png"))


async def test_the_newest_reply_is_shown_from_its_top_with_its_buttons(page: Any,
                                                                      tmp_path: Path) -> None:
    await page.fill("#text", "làm hộ chiếu")
    await page.press("#text", "Enter")
    await page.get_by_role("button", name="▶️ Hướng dẫn từng bước").last.click()
    for step in range(1, 4):
        await page.get_by_text(f"Bước {step}/").last.wait_for()
        view = await newest_reply_view(page)
        assert view["logTop"] <= view["top"] + 1 < view["logBottom"], view  # its top is shown
        if view["height"] < view["logBottom"] - view["logTop"] - 20:
            assert view["buttonsBottom"] <= view["logBottom"] + 1, view  # and its buttons
        await page.screenshot(path=str(tmp_path / f"step{step}.png"))
        await page.get_by_role("button", name="Tiếp ➡️").last.click()


async def test_text_over_the_limit_is_said_and_not_cut(page: Any, tmp_path: Path) -> None:
    long = "Tôi hỏi về giấy tờ. " * 230  # 4,600 characters
    await page.fill("#text", long)
    assert await page.eval_on_selector("#text", "el => el.value.length") == len(long)
    note = page.locator("#limit")
    await note.wait_for()
    assert "4.000" in await note.inner_text()
    await page.screenshot(path=str(tmp_path / "too-long.png"))
    await page.press("#text", "Enter")
    await page.get_by_text("ngắn lại").last.wait_for()
    assert await note.is_hidden()


async def test_the_page_works_with_the_keyboard(page: Any) -> None:
    await page.focus("#text")
    await page.keyboard.press("Shift+Tab")  # back from the text box: the last button shown
    focused = await page.evaluate("document.activeElement.dataset.payload")
    assert focused == "hu"
    await page.keyboard.press("Enter")
    await page.get_by_text("phường nào").last.wait_for()
    label = await page.eval_on_selector("#text", "el => el.labels[0].textContent")
    assert label == "Câu hỏi của bạn"


async def test_a_fire_typed_puts_the_fire_number_first_as_a_call_button(page: Any,
                                                                       tmp_path: Path) -> None:
    await page.fill("#text", "cứu với, nhà tôi đang cháy")
    await page.press("#text", "Enter")
    box = page.locator(".msg.emergency").last
    await box.wait_for()
    calls = await box.locator(".calls a").evaluate_all("els => els.map(e => e.href)")
    assert calls[0] == "tel:114"
    view = await newest_reply_view(page)
    assert view["logTop"] <= view["top"] + 1 < view["logBottom"], view
    await page.screenshot(path=str(tmp_path / "fire.png"))
