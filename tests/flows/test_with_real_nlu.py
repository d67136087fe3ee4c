"""Conversations with the real understanding engine: what a citizen types, what they get."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, build_app, load_nlu
from flows.content import load_content
from flows.types import Incoming
from nlu.types import Engine
from tests.conftest import settings_for


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, trained_nlu_cache: Path) -> Engine:
    tmp = tmp_path_factory.mktemp("nlu")
    settings = settings_for(f"sqlite+aiosqlite:///{tmp / 'x.db'}", tmp)
    return load_nlu(settings, load_content(settings.path(settings.content.dir)))


@pytest.fixture
async def real(sqlite_url: str, tmp_path: Path, engine: Engine) -> AsyncIterator[App]:
    core = await build_app(settings_for(sqlite_url, tmp_path), nlu=engine)
    yield core
    await core.close()


async def first_reply(core: App, text: str, user: str = "c") -> str:
    replies = await core.handle(Incoming("web", user, text=text)) or []
    return replies[0].text


@pytest.mark.parametrize("text,expected", [
    ("lam ho chieu het bao nhieu tien", "💰 Lệ phí: Cấp, cấp lại hộ chiếu"),
    ("Làm giấy khai sinh cho con cần giấy tờ gì", "📄 Giấy tờ cần có: Đăng ký khai sinh"),
    ("tui mất bằng lái rồi, giờ mần sao", "Cấp lại giấy phép lái xe"),
    ("cứu với, nhà hàng xóm đang cháy", "🆘"),
    ("có người gọi xưng công an bảo cài app để cập nhật định danh", "❓"),
    ("giá vàng hôm nay bao nhiêu", "Câu này nằm ngoài"),
])
async def test_what_citizens_type_gets_the_right_first_answer(real: App, text: str,
                                                              expected: str) -> None:
    assert expected in await first_reply(real, text)


async def test_a_follow_up_aspect_stays_on_the_same_service(real: App) -> None:
    await first_reply(real, "đăng ký tạm trú online thế nào", user="f")
    follow = await first_reply(real, "mất mấy ngày vậy", user="f")
    assert follow.startswith("⏱ Thời gian giải quyết: Đăng ký tạm trú")
