"""Danger first in every flow state (issue 11): whatever the citizen was doing (a walkthrough,
the legal-aid questions, choosing subscription areas, naming a ward, a numbered menu), a
message about danger now gets the emergency numbers as the first reply, the most relevant
number first, and a calm look-alike does not; the buttons shown before still work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import App, build_app
from flows.types import Incoming, Reply
from nlu.types import Parse
from tests.conftest import settings_for
from tests.fakes import KeywordNlu

CHANNEL = "telegram"  # pushes notices, so the subscription flow can be entered


async def say(core: App, text: str, user: str = "u1") -> list[Reply]:
    return await core.handle(Incoming(CHANNEL, user, text=text)) or []


async def tap(core: App, payload: str, user: str = "u1") -> list[Reply]:
    return await core.handle(Incoming(CHANNEL, user, button=payload, kind="button")) or []


def payloads(replies: list[Reply]) -> list[str]:
    return [b.payload for r in replies for b in r.buttons]


async def _nothing(core: App, user: str) -> str:
    return ""


async def _walkthrough(core: App, user: str) -> str:
    replies = await tap(core, "st:cap-ho-chieu:0", user)
    assert "Bước 1/" in replies[0].text
    return "tiếp"


async def _questionnaire(core: App, user: str) -> str:
    replies = await tap(core, "la:0:s", user)
    assert "la:0:n" in payloads(replies)
    return "không"


async def _subscription(core: App, user: str) -> str:
    await say(core, "/dangky", user)
    replies = await tap(core, "sub:y", user)
    assert any(p.startswith("sub:a:") for p in payloads(replies))
    return "1"


async def _ward_question(core: App, user: str) -> str:
    replies = await tap(core, "hu", user)
    assert "phường nào" in replies[0].text
    return "p tran lam"


async def _numbered_menu(core: App, user: str) -> str:
    await say(core, "/menu", user)
    return "1"


STATES: dict[str, Callable[[App, str], Awaitable[str]]] = {
    "no flow": _nothing, "mid walkthrough": _walkthrough, "mid questionnaire": _questionnaire,
    "mid subscription": _subscription, "naming the ward": _ward_question,
    "numbered menu": _numbered_menu,
}

DANGER = [  # (message, the number that must come first)
    ("khói đen tràn ra từ phòng ngủ, cửa nóng rực, con tôi còn trong đó", "114"),
    ("nha ben canh chay, lua lan qua mai nha em r", "114"),
    ("ba tôi đang ăn cơm tự nhiên méo miệng, nói ngọng", "115"),
    ("bà ngoại té trong nhà tắm, không đứng dậy được", "115"),
    ("có người lạ bế con tôi lên xe máy chạy mất", "113"),
    ("ck đang bóp cổ em, ảnh đang đuổi theo", "113"),
]


@pytest.mark.parametrize("state", sorted(STATES))
async def test_danger_now_gets_the_most_relevant_number_first_in_every_flow_state(
        core: App, state: str) -> None:
    for n, (text, first) in enumerate(DANGER):
        user = f"u{n}"
        await STATES[state](core, user)
        replies = await say(core, text, user)
        assert replies[0].kind == "emergency", text
        assert replies[0].numbers[0] == first, text
        assert {"113", "114", "115", "112"} <= set(replies[0].numbers)
        assert all(r.kind != "emergency" for r in replies[1:])


async def test_the_buttons_of_an_interrupted_walkthrough_and_questionnaire_still_work(
        core: App) -> None:
    await _walkthrough(core, "u1")
    await say(core, "cứu với, nhà tôi đang cháy", "u1")
    assert "Bước 2/" in (await tap(core, "st:cap-ho-chieu:1", "u1"))[0].text
    await _questionnaire(core, "u2")
    await say(core, "ông tôi ngã gãy chân không dậy được", "u2")
    assert "la:1:y" in payloads(await tap(core, "la:0:n", "u2"))


@pytest.mark.parametrize("state", sorted(STATES))
async def test_a_calm_look_alike_never_gets_the_numbers_first(core: App, state: str) -> None:
    for n, text in enumerate(CALM):
        user = f"u{n}"
        await STATES[state](core, user)
        replies = await say(core, text, user)
        assert replies and replies[0].kind != "emergency", text


CALM = [
    "thủ tục tuyên bố mất tích cho chồng bỏ đi 3 năm",
    "xúi giục người khác tự tử bị xử lý theo điều nào",
    "đốt rơm rạ khói bay vô nhà tôi, báo ai",
]


class _HunchNlu(KeywordNlu):
    """An engine that smells danger in every message (its emergency intent came first), as
    the trained one does on drills, courses and "cháy hàng"."""

    def parse(self, text: str, current_service: str | None = None) -> Parse:
        return replace(super().parse(text, current_service), danger="soft",
                       numbers=("113", "114", "115", "112"))


@pytest.fixture
async def hunch_core(sqlite_url: str, tmp_path: Path) -> AsyncIterator[App]:
    c = await build_app(settings_for(sqlite_url, tmp_path), nlu=_HunchNlu())
    try:
        yield c
    finally:
        await c.close()


async def test_the_engines_hunch_adds_the_line_only_when_the_rules_saw_no_calm_danger_words(
        hunch_core: App) -> None:
    """The engine's hunch of danger ends the answer with one line of numbers, unless the rules
    read the danger words themselves and found them calm (a look-alike, a drill, a past fire's
    paperwork): 8 % of the calm look-alikes got that line from the hunch alone."""
    line = hunch_core.content.text("emergency.soft")
    for n, text in enumerate(["cháy vé máy bay rồi, làm hộ chiếu có nhanh không",
                              "tập huấn cứu đuối xong, giờ làm hộ chiếu ở đâu",
                              "năm ngoái nhà tôi bị cháy, giờ làm lại hộ chiếu thế nào"]):
        replies = await say(hunch_core, text, f"c{n}")
        assert replies[0].kind == "answer" and all(r.text != line for r in replies), text
    replies = await say(hunch_core, "làm hộ chiếu ở đâu", "h1")  # no danger words at all
    assert replies[0].kind == "answer" and replies[-1].text == line


async def test_the_second_nets_hunch_ends_the_answer_with_the_line_of_numbers(core: App) -> None:
    """Danger the phrase tables do not see, the second net is sure of: the answer (here "not
    understood"), then the line of numbers; never the emergency screen first."""
    line = core.content.text("emergency.soft")
    replies = await say(core, "tụi nó vây thằng em tui ngoài bãi giữ xe, đấm đá túi bụi")
    assert replies[0].kind != "emergency" and replies[-1].text == line
    assert sum(r.text == line for r in replies) == 1
