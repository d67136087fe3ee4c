"""The bar, in headless Chromium (Debian's): a citizen on the web chat (a phone) asks for a
person; an operator of that ward, on duty in the console (an office screen), claims the chat;
they exchange three messages each way, a danger message in the middle still gets the emergency
numbers first; the operator closes; the assistant answers again. Neither page is reloaded."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from tests.console.conftest import AREA, PASSWORD, Server, serve
from tests.console.test_handover import handover_core

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test "
                       "installs it)"),
]


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path) -> AsyncIterator[tuple[App, str]]:
    core = await handover_core(sqlite_url, tmp_path)
    try:
        await Server(core, "").add_user("lan", "member", [AREA])
        async for url in serve(core):
            yield core, url
    finally:
        await core.close()


async def test_a_citizen_and_an_operator_talk_and_the_assistant_comes_back(
        world: tuple[App, str], tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    _, base = world
    shots = tmp_path / "screenshots"
    shots.mkdir()
    problems: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])

        async def page_of(viewport: dict[str, int], mobile: bool) -> Any:
            ctx = await browser.new_context(viewport=viewport, is_mobile=mobile,
                                            has_touch=mobile)
            page = await ctx.new_page()
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
            return page

        # The operator logs in and goes on duty.
        op = await page_of(DESKTOP, False)
        op.on("dialog", lambda d: d.accept())
        await op.goto(base + "/console/login")
        await op.get_by_label("Tên tài khoản").fill("lan")
        await op.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
        await op.get_by_role("button", name="Đăng nhập").click()
        await op.wait_for_url(base + "/console/")
        await op.get_by_role("link", name="Gặp cán bộ").click()
        await op.get_by_role("button", name="Bắt đầu trực").click()
        await op.get_by_text("Bạn đang trực đến").wait_for()

        # The citizen asks for a person, names the ward (asked once), then agrees (told
        # first who will read).
        citizen = await page_of(PHONE, True)
        await citizen.goto(base + "/")
        await citizen.get_by_text("Xin chào").wait_for()
        await citizen.fill("#text", "cho tôi gặp cán bộ")
        await citizen.press("#text", "Enter")
        await citizen.get_by_role("button", name="📍 Phường Trần Lãm").click()
        await citizen.get_by_text("cán bộ sẽ đọc các tin nhắn gần đây").wait_for()
        await citizen.get_by_role("button", name="💬 Đồng ý, nhắn với cán bộ").click()
        await citizen.get_by_text("Bạn đang ở vị trí số 1").wait_for()
        await citizen.screenshot(path=str(shots / "01-citizen-waiting-390.png"), full_page=True)

        # The queue shows the citizen without a reload; the operator claims the chat.
        row = op.locator("#queue tr", has_text="Phường Trần Lãm")
        await row.wait_for()
        await op.screenshot(path=str(shots / "02-operator-queue-1366.png"), full_page=True)
        await row.get_by_role("button", name="Nhận").click()
        await op.wait_for_url("**/console/handover/*?ok=claimed")
        await op.locator(".line.history", has_text="cho tôi gặp cán bộ").wait_for()
        await citizen.get_by_text("Cán bộ phường đã nhận tin của bạn").wait_for()

        async def citizen_says(text: str) -> None:
            await citizen.fill("#text", text)
            await citizen.press("#text", "Enter")
            await op.locator(".line.citizen", has_text=text).wait_for()

        async def operator_says(text: str) -> None:
            await op.fill("#say-text", text)
            await op.get_by_role("button", name="Gửi", exact=True).click()
            await citizen.locator(".msg.operator", has_text=text).wait_for()
            await op.locator(".line.operator", has_text=text).locator(
                ".delivery.sent").wait_for()

        bot_before = await citizen.locator(".msg.bot").count()
        await citizen_says("Tôi muốn hỏi về việc xin giấy phép xây nhà")
        await operator_says("Chào bác, bác đang ở tổ dân phố nào ạ?")
        await citizen_says("Tổ 5, gần chợ")
        await operator_says("Bác mang sổ đỏ lên phường sáng mai giúp cháu nhé.")
        # Danger in the middle: the emergency numbers come first, the operator sees it.
        await citizen.fill("#text", "cháy nhà rồi cứu với")
        await citizen.press("#text", "Enter")
        emergency = citizen.locator(".msg.bot", has_text="114").last
        await emergency.wait_for()
        await op.locator(".line.citizen", has_text="cháy nhà rồi cứu với").wait_for()
        await op.locator(".line.assistant", has_text="114").wait_for()
        # The assistant said nothing else in the claimed chat: only the emergency reply.
        assert await citizen.locator(".msg.bot").count() == bot_before + 1
        await citizen.screenshot(path=str(shots / "03-citizen-danger-390.png"), full_page=True)
        await operator_says("Bác gọi 114 ngay! Cháu báo công an phường.")
        await citizen_says("Đã gọi 114 rồi, cảm ơn cháu")
        await op.screenshot(path=str(shots / "04-operator-chat-1366.png"), full_page=True)

        # The operator closes: the citizen is asked for 👍/👎, the assistant answers again.
        await op.get_by_role("button", name="Kết thúc trò chuyện").click()
        await op.wait_for_url("**/console/handover?ok=closed")
        await citizen.get_by_text("Cán bộ có giúp được bạn không?").wait_for()
        await citizen.get_by_role("button", name="👍 Có").last.click()
        await citizen.get_by_text("Cảm ơn bạn đã đánh giá").wait_for()
        await citizen.fill("#text", "làm hộ chiếu hết bao nhiêu tiền")
        await citizen.press("#text", "Enter")
        await citizen.locator(".msg.bot", has_text="hộ chiếu").last.wait_for()
        await citizen.screenshot(path=str(shots / "05-citizen-back-390.png"), full_page=True)
        for page, width in ((citizen, 390), (op, 1366)):
            scroll = await page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width + 1
        await browser.close()
    assert problems == [], problems
    keep = Path("/tmp/handover-screenshots")  # for a person to look at after a run
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(shots, keep)
