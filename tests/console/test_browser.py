"""The bar: the README's console steps, in headless Chromium (Debian's), on a phone-sized
screen and an office screen, with screenshots in the test's folder.

A newcomer creates the admin with the CLI, sets the password from the printed link and logs in
on a phone; the admin invites a member (the CLI, as the README says); the member sets their
password, logs in, composes a notice for their area and sends it; the notice reaches the
subscribers through the Telegram Bot API double while the progress bar moves; a radio operator
of the area makes the day's bulletin, plays and downloads it."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.channels import delivery_rules
from bot.channels.telegram import TelegramChannel
from broadcast.service import BroadcastService
from tests.broadcast.conftest import make_core, subscribe
from tests.conftest import ROOT
from tests.console.conftest import AREA, serve
from tests.doubles.telegram_api import BotApiDouble


def cli(tmp_path: Path, db: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``trolyso`` command, as the README's steps run it (a process of its own)."""
    cfg = tmp_path / "config.yaml"
    if not cfg.exists():
        cfg.write_text((ROOT / "config.yaml").read_text(encoding="utf-8")
                       .replace('dir: "content"', f'dir: "{ROOT / "content"}"'),
                       encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={"DATABASE_URL": db, "PATH": "/usr/bin:/bin",
                               "TROLYSO_LOG_LEVEL": "WARNING"})

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
SUBSCRIBERS = 60
PASSWORD = "hoa sen nở sớm 2026"

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test "
                       "installs it)"),
]


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path) -> AsyncIterator[tuple[App, str, BotApiDouble]]:
    api = await BotApiDouble(max_per_second=20).start()
    core = await make_core(sqlite_url, tmp_path, {"TELEGRAM_TOKEN": api.token,
                                                  "TELEGRAM_BASE_URL": api.base_url},
                           telegram_per_second=15.0, poll_s=0.1)
    channel = TelegramChannel(core, core.settings.telegram)
    notices = BroadcastService(core.engine, core.sessionmaker, core.settings,
                               core.content.texts, {"telegram": channel},
                               rules=delivery_rules(core.settings), schedule=False)
    await subscribe(core, [str(7000 + i) for i in range(SUBSCRIBERS)], areas=[AREA],
                    topics=["chung"])
    # Bulletins are spoken with espeak-ng (what "auto" falls back to without internet).
    core.settings = core.settings.model_copy(update={"radio": core.settings.radio.model_copy(
        update={"engine": "espeak"})})
    await notices.start()
    try:
        async for url in serve(core):
            yield core, url, api
    finally:
        await notices.stop()
        await channel.stop()
        await core.close()
        await api.stop()


def _link_path(stdout: str) -> str:
    link = stdout.split()[-1]
    assert "/console/setup/" in link, stdout
    return "/console/setup/" + link.rsplit("/", 1)[1]


async def _no_overflow(page: Any) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"{page.url} scrolls sideways ({width}px)"


async def test_the_readme_steps_on_a_phone_then_on_an_office_screen(
        world: tuple[App, str, BotApiDouble], tmp_path: Path, sqlite_url: str) -> None:
    from playwright.async_api import async_playwright

    _, base, api = world
    shots = tmp_path / "screenshots"
    shots.mkdir()
    # Step 1: the admin account, from the command line.
    out = await asyncio.to_thread(cli, tmp_path, sqlite_url, "console", "user", "add", "an",
                                  "--role", "admin")
    assert out.returncode == 0, out.stderr
    admin_link = _link_path(out.stdout)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--autoplay-policy=no-user-gesture-required"])
        problems: list[str] = []

        async def phone() -> Any:
            ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            page = await ctx.new_page()
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("console", lambda m: problems.append(m.text)
                    if m.type == "error" else None)
            return page

        # Step 2: set the password from the link and log in, on a phone, with the keyboard.
        page = await phone()
        await page.goto(base + admin_link)
        await page.get_by_label("Mật khẩu mới").fill(PASSWORD)
        await page.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
        await page.screenshot(path=str(shots / "01-admin-setup-390.png"), full_page=True)
        await page.get_by_role("button", name="Lưu mật khẩu").click()
        await page.wait_for_url("**/console/login?ok=password")
        await page.get_by_label("Tên tài khoản").focus()
        await page.keyboard.type("an")
        await page.keyboard.press("Tab")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_url(base + "/console/")
        assert "Xin chào, an" in await page.content()
        await _no_overflow(page)
        await page.screenshot(path=str(shots / "02-admin-home-390.png"), full_page=True)

        # Step 3: the admin invites a member for Phường Trần Lãm.
        out = await asyncio.to_thread(cli, tmp_path, sqlite_url, "console", "user", "add",
                                      "lan", "--role", "member", "--areas", AREA)
        assert out.returncode == 0, out.stderr
        member_link = _link_path(out.stdout)

        # Step 4: the member sets a password, logs in and composes a notice.
        page = await phone()
        await page.goto(base + member_link)
        await page.get_by_label("Mật khẩu mới").fill(PASSWORD)
        await page.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
        await page.get_by_role("button", name="Lưu mật khẩu").click()
        await page.get_by_label("Tên tài khoản").fill("lan")
        await page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="Đăng nhập").click()
        await page.wait_for_url(base + "/console/")
        await page.get_by_role("link", name="Soạn thông báo", exact=True).click()
        await page.get_by_label("Nội dung", exact=True).fill(
            "Lịch tiêm chủng\nSáng thứ Bảy 6/12, từ 7h30 tại trạm y tế phường. Mang theo "
            "sổ tiêm chủng.")
        await page.get_by_label("Thông báo chung của phường").check()
        await page.get_by_label("Đọc trên loa phát thanh của phường").check()
        reach = page.locator("#reach")
        await reach.filter(has_text=f"Sẽ gửi tới {SUBSCRIBERS} người").wait_for()
        tg_preview = page.locator(".channel.telegram .bubble").first
        assert "THÔNG BÁO: Lịch tiêm chủng" in await tg_preview.inner_text()
        await _no_overflow(page)
        await page.screenshot(path=str(shots / "03-member-compose-390.png"), full_page=True)
        await page.get_by_role("button", name="Gửi thông báo").click()

        # Step 5: the progress bar moves while the Bot API double receives the notice.
        await page.wait_for_url("**/console/notices/*?ok=created")
        seen: list[int] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sent = int(await page.locator('[data-count="sent"]').inner_text())
            if not seen or sent != seen[-1]:
                seen.append(sent)
                if len(seen) == 2:
                    await page.screenshot(path=str(shots / "04-progress-moving-390.png"),
                                          full_page=True)
            if sent == SUBSCRIBERS:
                break
            await asyncio.sleep(0.2)
        assert seen[-1] == SUBSCRIBERS, seen
        assert any(0 < n < SUBSCRIBERS for n in seen), f"the bar never moved: {seen}"
        assert seen == sorted(seen)
        width = float(await page.locator('rect[data-part="sent"]').get_attribute("width") or 0)
        assert width == pytest.approx(100.0, abs=0.01)
        await _no_overflow(page)
        await page.screenshot(path=str(shots / "05-progress-done-390.png"), full_page=True)
        texts = [m for m in api.sent if m["method"] == "sendMessage"]
        assert len({m["chat_id"] for m in texts}) == SUBSCRIBERS
        assert all("Lịch tiêm chủng" in m["text"] for m in texts)

        # Every page of part A at both sizes: no sideways scrolling, no script errors.
        notice_path = page.url.split(base, 1)[1].split("?", 1)[0]
        for size, tag in ((PHONE, "390"), (DESKTOP, "1366")):
            await page.set_viewport_size(size)
            for name, path in (("home", "/console/"), ("notices", "/console/notices"),
                               ("notice", notice_path), ("compose", "/console/notices/new"),
                               ("delivery", "/console/delivery"),
                               ("account", "/console/account")):
                await page.goto(base + path)
                await _no_overflow(page)
                await page.screenshot(path=str(shots / f"page-{name}-{tag}.png"),
                                      full_page=True)
        await page.goto(base + "/console/delivery")
        assert "Tin đã gửi mỗi ngày" in await page.content()
        assert f"Telegram ({SUBSCRIBERS})" in await page.content()

        # Step 6: a radio operator of the area makes the day's bulletin, plays and downloads it.
        out = await asyncio.to_thread(cli, tmp_path, sqlite_url, "console", "user", "add",
                                      "tam", "--role", "radio", "--areas", AREA)
        assert out.returncode == 0, out.stderr
        radio_link = _link_path(out.stdout)
        page = await phone()
        await page.goto(base + radio_link)
        await page.get_by_label("Mật khẩu mới").fill(PASSWORD)
        await page.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
        await page.get_by_role("button", name="Lưu mật khẩu").click()
        await page.get_by_label("Tên tài khoản").fill("tam")
        await page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="Đăng nhập").click()
        await page.wait_for_url(base + "/console/")
        await page.get_by_role("link", name="Phát thanh", exact=True).click()
        await page.wait_for_url(base + "/console/radio")
        assert f"/radio/{AREA}/feed.xml" in await page.content()
        await page.get_by_role("button", name="Tạo bản tin ngay").click()
        await page.wait_for_url("**/console/radio?*ok=built", timeout=120_000)
        bulletin = page.locator("li.bulletin").first
        assert "Lịch tiêm chủng" in await bulletin.inner_text()
        assert "LUFS" in await bulletin.inner_text()
        audio = bulletin.locator("audio")
        await audio.evaluate("a => a.play()")
        await page.wait_for_function(
            "() => { const a = document.querySelector('li.bulletin audio');"
            " return a && a.currentTime > 0.2 && !a.error; }", timeout=30_000)
        await audio.evaluate("a => a.pause()")
        await _no_overflow(page)
        await page.screenshot(path=str(shots / "06-radio-390.png"), full_page=True)
        async with page.expect_download() as dl:
            await bulletin.get_by_role("link", name="Tải về (MP3)").click()
        download = await dl.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        assert saved.suffix == ".mp3" and saved.read_bytes()[:3] == b"ID3"
        assert f"_{AREA}_" in saved.name  # date, time, area and title in the name
        await page.set_viewport_size(DESKTOP)
        await page.reload()
        await _no_overflow(page)
        await page.screenshot(path=str(shots / "page-radio-1366.png"), full_page=True)
        await browser.close()
    assert problems == [], problems
    assert len(list(shots.glob("*.png"))) >= 19
    keep = Path("/tmp/console-screenshots")  # for a person to look at after a run
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(shots, keep)
