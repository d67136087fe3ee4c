"""The web chat: JSON API contract, health, and the page in real headless Chromium."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.app import App
from bot.web import make_web_app


@pytest.fixture
async def server(core: App) -> AsyncIterator[str]:
    runner = web.AppRunner(make_web_app(core))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def post(base: str, body: object | bytes) -> tuple[int, dict[str, object]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as http, http.post(
            f"{base}/api/chat", data=data, headers={"Content-Type": "application/json"}) as r:
        return r.status, await r.json()


async def test_chat_api_answers_text_and_buttons(server: str) -> None:
    status, body = await post(server, {"session": "s1", "text": "/start"})
    assert status == 200
    reply = body["replies"][0]  # type: ignore[index]
    assert set(reply) == {"text", "buttons", "audio_url", "kind", "numbers"}
    assert {"label": "🆘 Khẩn cấp", "payload": "em"} in reply["buttons"]
    status, body = await post(server, {"session": "s1", "button": "em"})
    assert status == 200 and "113" in body["replies"][0]["text"]  # type: ignore[index]


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", {"text": "hi"}, {"session": "", "text": "x"},
    {"session": "s", "text": "x", "button": "m"}, {"session": "s"}, {"session": "s", "text": 5},
    {"session": "s", "button": "x" * 65},
])
async def test_malformed_bodies_get_400_with_a_reason(server: str, body: object) -> None:
    status, data = await post(server, body)
    assert status == 400 and isinstance(data.get("error"), str)


async def test_an_overlong_text_gets_a_normal_reply_asking_to_shorten(server: str) -> None:
    status, body = await post(server, {"session": "s2", "text": "chữ " * 2000})
    assert status == 200 and "ngắn lại" in body["replies"][0]["text"]  # type: ignore[index]


async def test_a_body_up_to_64_kib_is_read_whole_and_danger_at_its_end_comes_first(
        server: str) -> None:
    text = "Tôi kể chuyện nhà mình cho bạn nghe. " * 1350 + "Nhà tôi đang cháy, cứu với!"
    body = json.dumps({"session": "s3", "text": text}, ensure_ascii=False).encode()
    assert 50_000 < len(body) <= 64 * 1024
    status, data = await post(server, body)
    first, second = data["replies"][:2]  # type: ignore[index]
    assert status == 200 and first["kind"] == "emergency"
    assert {"113", "114", "115", "112"} <= set(first["numbers"])
    assert "4000" in second["text"]


async def test_a_body_over_64_kib_gets_413(server: str) -> None:
    status, data = await post(server, {"session": "s4", "text": "a" * (64 * 1024)})
    assert status == 413 and isinstance(data.get("error"), str)


async def test_healthz_reports_the_database(server: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{server}/healthz") as r:
        assert r.status == 200 and (await r.json())["status"] == "ok"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test "
                    "installs it)")
async def test_the_page_in_headless_chromium_type_tap_and_read(server: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: errors.append("dialog: " + d.message))
        await page.goto(server + "/")
        await page.get_by_text("Xin chào").wait_for()
        await page.fill("#text", "làm hộ chiếu hết bao nhiêu tiền")
        await page.press("#text", "Enter")
        await page.get_by_text("200.000 đồng").first.wait_for()
        await page.get_by_role("button", name="⏱ Thời gian giải quyết").last.click()
        await page.get_by_text("⏱ Thời gian giải quyết: Cấp, cấp lại hộ chiếu").wait_for()
        await page.fill("#text", "<img src=x onerror=alert(1)>")
        await page.press("#text", "Enter")
        await page.get_by_text("<img src=x onerror=alert(1)>").wait_for()
        assert await page.locator("img").count() == 0
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing overflows a phone screen
        assert errors == []
        await browser.close()
