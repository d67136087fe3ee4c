"""The team and audit log pages in headless Chromium (Debian's), on a phone and an office
screen, with screenshots: an admin invites a radio operator with the keyboard alone, the chat
redeems the code, the admin revokes a second code, finds both in the audit log by person and
area and downloads the CSV; a member sees their area's team read-only."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from broadcast import audit, teams
from tests.broadcast.conftest import make_core
from tests.console.conftest import AREA, PASSWORD, Server, serve

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
    core = await make_core(sqlite_url, tmp_path)
    try:
        await Server(core, "").add_user("an", "admin")
        await Server(core, "").add_user("lan", "member", [AREA])
        async for url in serve(core):
            yield core, url
    finally:
        await core.close()


async def _no_overflow(page: Any) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"{page.url} scrolls sideways ({width}px)"


async def test_an_admin_invites_revokes_and_reads_the_log_on_a_phone_and_a_desktop(
        world: tuple[App, str], tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    core, base = world
    shots = tmp_path / "screenshots"
    shots.mkdir()
    problems: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])

        async def signed_in(name: str, viewport: dict[str, int], mobile: bool) -> Any:
            ctx = await browser.new_context(viewport=viewport, is_mobile=mobile,
                                            has_touch=mobile, accept_downloads=True)
            page = await ctx.new_page()
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("console", lambda m: problems.append(m.text)
                    if m.type == "error" else None)
            page.on("dialog", lambda d: d.accept())
            await page.goto(base + "/console/login")
            await page.get_by_label("Tên tài khoản").fill(name)
            await page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
            await page.get_by_role("button", name="Đăng nhập").click()
            await page.wait_for_url(base + "/console/")
            return page

        # On a phone: the menu leads to the team page; the form works with the keyboard.
        page = await signed_in("an", PHONE, True)
        await page.get_by_role("link", name="Tổ công nghệ số").click()
        await page.wait_for_url(base + "/console/team")
        await page.get_by_label("Phát thanh viên").focus()
        await page.keyboard.press("Space")
        await page.get_by_label("Phường Trần Lãm").focus()
        await page.keyboard.press("Space")
        await page.get_by_label("Mã có hạn trong").select_option("168")
        await page.screenshot(path=str(shots / "01-team-invite-390.png"), full_page=True)
        await page.get_by_role("button", name="Tạo mã mời").focus()
        await page.keyboard.press("Enter")
        code = (await page.locator("#invite-code").inner_text()).strip()
        assert len(code) == 9 and code[4] == "-", code
        assert f"/thamgia {code}" in await page.content()
        await _no_overflow(page)
        await page.screenshot(path=str(shots / "02-team-code-390.png"), full_page=True)
        async with core.sessionmaker() as s, s.begin():
            joined = await teams.redeem_invite(s, "telegram", "4242", code)
        assert joined is not None and joined.role == "radio" and joined.areas == (AREA,)

        # A second code, sent to the wrong person: revoked.
        await page.goto(base + "/console/team")
        await page.get_by_role("button", name="Tạo mã mời").click()
        assert "Bạn chọn ít nhất một khu vực." in await page.get_by_role("alert").inner_text()
        problems.remove("Failed to load resource: the server responded with a status of 400 "
                        "(Bad Request)")  # the form's answer, on purpose
        await page.get_by_label("Phường Trần Lãm").check()
        await page.get_by_role("button", name="Tạo mã mời").click()
        await page.locator("#invite-code").wait_for()
        await page.goto(base + "/console/team")
        await page.get_by_role("button", name="Thu hồi").click()
        await page.wait_for_url("**/console/team?ok=revoked")
        row = page.locator('tr[data-member="telegram:4242"]')
        assert "Phát thanh viên" in await row.inner_text()
        await _no_overflow(page)
        await page.screenshot(path=str(shots / "03-team-list-390.png"), full_page=True)

        # The audit log: by person, then by area; the CSV.
        await page.get_by_role("link", name="Nhật ký").click()
        await page.get_by_label("Người thực hiện").fill("console:an")
        await page.get_by_label("Việc").select_option("team.revoke")
        await page.get_by_role("button", name="Lọc").click()
        await page.wait_for_url("**/console/audit?*action=team.revoke*")
        assert await page.locator("tbody tr").count() == 1
        await _no_overflow(page)
        await page.screenshot(path=str(shots / "04-audit-filtered-390.png"), full_page=True)
        await page.goto(base + f"/console/audit?area={AREA}")
        # Each action shows in Vietnamese words with its code beside it.
        actions = await page.locator("tbody tr td:nth-child(3) code").all_inner_texts()
        assert {"team.invite", "team.revoke", "team.join"} <= set(actions), actions
        words = await page.locator("tbody tr td:nth-child(3)").all_inner_texts()
        assert any(w.startswith("Thu hồi mã mời") for w in words), words
        async with page.expect_download() as info:
            await page.get_by_role("link", name="Tải về (CSV, mở bằng Excel)").click()
        download = await info.value
        raw = Path(await download.path()).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert {r[2] for r in rows[1:]} >= {"team.invite", "team.revoke", "team.join"}
        async with core.sessionmaker() as s:
            assert len(await audit.entries(s, action="audit.export")) == 1

        # Both pages on an office screen.
        for size, tag in ((PHONE, "390"), (DESKTOP, "1366")):
            await page.set_viewport_size(size)
            for name, path in (("team", "/console/team"), ("audit", "/console/audit")):
                await page.goto(base + path)
                await _no_overflow(page)
                await page.screenshot(path=str(shots / f"page-{name}-{tag}.png"),
                                      full_page=True)

        # A member of the area: the same team, read-only; no audit log in the menu.
        member = await signed_in("lan", DESKTOP, False)
        await member.goto(base + "/console/team")
        assert await member.locator('tr[data-member="telegram:4242"]').count() == 1
        assert await member.get_by_role("button", name="Tạo mã mời").count() == 0
        assert await member.get_by_role("link", name="Nhật ký").count() == 0
        await member.screenshot(path=str(shots / "05-team-member-1366.png"), full_page=True)
        await browser.close()
    assert problems == [], problems
    assert len(list(shots.glob("*.png"))) >= 9
    keep = Path("/tmp/console-screenshots-team")  # for a person to look at after a run
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(shots, keep)
