"""A person takes over a chat: the citizen's side (offer with consent, the queue, the silence
of the assistant, danger first, the hand-back with 👍/👎), the operator's side (duty, one
claim wins, messages, release after silence), delivery and deletion."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App, build_app
from console.handover.desk import Desk
from console.handover.sender import HandoverSender
from core.db import utcnow
from core.delivery import Delivery
from core.models import ConsoleUser, Handover, HandoverMessage, OperatorDuty
from flows.types import Reply
from tests.broadcast.conftest import broadcast_settings, payloads, say, tap
from tests.console.conftest import AREA, AREA2, Server, serve
from tests.fakes import KeywordNlu

ALL_DAY = {"mon-sun": ["00:00-24:00"]}


async def handover_core(db_url: str, tmp: Path, env: dict[str, str] | None = None,
                        **cfg: Any) -> App:
    """A core whose office is always open (unless ``office_hours`` says otherwise)."""
    s = broadcast_settings(db_url, tmp, env)
    base: dict[str, Any] = {"office_hours": ALL_DAY, "sender_poll_s": 0.05, "watch_s": 0.05}
    base.update(cfg)
    s = s.model_copy(update={"handover": s.handover.model_validate(
        {**s.handover.model_dump(), **base})})
    return await build_app(s, nlu=KeywordNlu())


@pytest.fixture
async def hcore(sqlite_url: str, tmp_path: Path) -> AsyncIterator[App]:
    core = await handover_core(sqlite_url, tmp_path)
    try:
        yield core
    finally:
        await core.close()


async def operator(core: App, name: str, areas: list[str], *, on_duty: bool = True,
                   role: str = "member", linked: tuple[str, str] | None = None) -> ConsoleUser:
    srv = Server(core, "")
    await srv.add_user(name, role, areas)
    async with core.sessionmaker() as s, s.begin():
        user = (await s.execute(select(ConsoleUser).where(ConsoleUser.name == name))
                ).scalar_one()
        if linked:
            user.linked_channel, user.linked_user_id = linked
        if on_duty:
            await Desk(s, core.settings, core.content.texts).duty(user, True)
    return user


async def ask_person(core: App, user: str, channel: str = "web", ward: str = AREA
                     ) -> list[Reply]:
    """The citizen says they want a person, names their ward, and agrees."""
    first = await gap_can_bo(core, user, channel, ward)
    assert "ho:y" in payloads(first)
    asked = await tap(core, "ho:y", user, channel)
    if f"ho:w:{ward}" in payloads(asked):
        return await tap(core, f"ho:w:{ward}", user, channel)
    return asked


async def gap_can_bo(core: App, user: str, channel: str = "web", ward: str = AREA
                     ) -> list[Reply]:
    """"Gặp cán bộ": the ward is asked once (the conversation keeps it), then the ward's
    contacts and the hotlines come, with the offer of a person."""
    replies = await say(core, "cho tôi gặp cán bộ", user, channel)
    if f"w:{ward}:hu" in payloads(replies):
        replies = await tap(core, f"w:{ward}:hu", user, channel)
    return replies


async def the_request(core: App, user: str, channel: str = "web") -> Handover:
    async with core.sessionmaker() as s:
        h = await Desk(s, core.settings, core.content.texts).open_for(channel, user)
    assert h is not None
    return h


async def desk_do(core: App, fn: Any) -> Any:
    async with core.sessionmaker() as s, s.begin():
        return await fn(Desk(s, core.settings, core.content.texts))


async def test_gap_can_bo_offers_a_person_and_says_who_will_read_before_anything(
        hcore: App) -> None:
    replies = await gap_can_bo(hcore, "c1")
    assert replies[0].kind == "human"  # the hotlines and the ward's contacts come first
    offer = replies[-1]
    assert "đọc các tin nhắn gần đây" in offer.text  # consent: told before anything is shown
    assert [b.payload for b in offer.buttons] == ["ho:y", "ho:n"]
    async with hcore.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(Handover))).scalar() == 0
    declined = await tap(hcore, "ho:n", "c1", "web")
    assert "Không" not in declined[0].text and "hỏi tiếp" in declined[0].text
    async with hcore.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(Handover))).scalar() == 0


async def test_with_someone_on_duty_the_citizen_gets_their_place_and_the_expected_wait(
        hcore: App) -> None:
    await operator(hcore, "lan", [AREA])
    first = await ask_person(hcore, "c1")
    assert "vị trí số 1" in first[0].text and "khoảng 5 phút" in first[0].text
    second = await ask_person(hcore, "c2")
    assert "vị trí số 2" in second[0].text and "khoảng 10 phút" in second[0].text
    other_ward = await ask_person(hcore, "c3", ward=AREA2)  # nobody of that ward is on duty
    assert "chưa có cán bộ" in other_ward[0].text and "Giờ làm việc" in other_ward[0].text
    # Asking again tells the same place, and makes no second request.
    again = await tap(hcore, "ho", "c2", "web")
    assert "vị trí số 2" in again[0].text
    async with hcore.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(Handover))).scalar() == 3


async def test_the_expected_wait_follows_the_recent_handling_time(hcore: App) -> None:
    lan = await operator(hcore, "lan", [AREA])
    for i in range(3):  # three chats of 20 minutes each
        await ask_person(hcore, f"old{i}")
        h = await the_request(hcore, f"old{i}")
        await desk_do(hcore, lambda d, h=h: d.claim(h.id, lan))
        async with hcore.sessionmaker() as s, s.begin():
            row = await s.get(Handover, h.id)
            assert row is not None and row.claimed_at is not None
            row.claimed_at -= dt.timedelta(minutes=20)
        await desk_do(hcore, lambda d, h=h: d.close(h.id, lan.id, "console:lan"))
    replies = await ask_person(hcore, "new")
    assert "vị trí số 1" in replies[0].text and "khoảng 20 phút" in replies[0].text


async def test_outside_office_hours_the_request_waits_and_the_citizen_gets_hours_and_hotlines(
        sqlite_url: str, tmp_path: Path) -> None:
    core = await handover_core(sqlite_url, tmp_path, office_hours={"mon": ["00:00-00:01"]})
    try:
        await operator(core, "lan", [AREA])  # marking oneself on duty outside hours: refused
        async with core.sessionmaker() as s:
            assert (await s.execute(select(OperatorDuty.until))).scalar() is None
        replies = await ask_person(core, "night")
        text = replies[0].text
        assert "chưa có cán bộ Phường Trần Lãm trực" in text
        assert "Giờ làm việc: Thứ Hai: 0h-0h01" in text
        assert "📞" in text  # the hotlines
        assert "ho:x" in payloads(replies)
        h = await the_request(core, "night")
        assert h.state == "queued"  # it waits for the first operator on duty
    finally:
        await core.close()


@pytest.mark.parametrize("n", [2])
async def test_two_operators_claiming_at_once_exactly_one_gets_the_chat(
        db_url: str, tmp_path: Path, n: int) -> None:
    core = await handover_core(db_url, tmp_path)
    try:
        ops = [await operator(core, f"op{i}", [AREA]) for i in range(n)]
        await ask_person(core, "c1")
        h = await the_request(core, "c1")
        for _ in range(5):  # several rounds: the race is real each time
            results = await asyncio.gather(*(desk_do(core, lambda d, o=o: d.claim(h.id, o))
                                             for o in ops))
            assert sorted(results) == [False, True]
            winner = ops[results.index(True)]
            async with core.sessionmaker() as s:
                row = await s.get(Handover, h.id)
                assert row is not None and row.claimed_by == winner.id
            assert await desk_do(core, lambda d, w=winner: d.release(h.id, w.id, "operator"))
    finally:
        await core.close()


async def test_a_claimed_chat_goes_to_the_operator_danger_still_comes_first_and_closing_hands_back(
        hcore: App) -> None:
    lan = await operator(hcore, "lan", [AREA])
    await say(hcore, "làm hộ chiếu", "c1", "web")  # an earlier question the operator will see
    await ask_person(hcore, "c1")
    h = await the_request(hcore, "c1")
    assert await desk_do(hcore, lambda d: d.claim(h.id, lan))

    assert await say(hcore, "tôi cần hỏi về đất đai", "c1", "web") == []  # the assistant is silent
    urgent = await say(hcore, "cháy nhà rồi cứu với", "c1", "web")
    assert len(urgent) == 1 and urgent[0].kind == "emergency" and "114" in urgent[0].text
    await desk_do(hcore, lambda d: d.say(h.id, lan, "Chào bác, bác cần hỏi gì về đất đai?"))

    async with hcore.sessionmaker() as s:
        lines = await Desk(s, hcore.settings, hcore.content.texts).transcript(
            await Desk(s, hcore.settings, hcore.content.texts).get(h.id))  # type: ignore[arg-type]
    said = [(ln.author, ln.text) for ln in lines]
    assert ("history", "làm hộ chiếu") in said
    assert ("citizen", "tôi cần hỏi về đất đai") in said
    assert ("citizen", "cháy nhà rồi cứu với") in said
    i = said.index(("citizen", "cháy nhà rồi cứu với"))
    assert said[i + 1][0] == "assistant" and "114" in said[i + 1][1]  # the operator sees it
    assert ("operator", "Chào bác, bác cần hỏi gì về đất đai?") in said

    assert await desk_do(hcore, lambda d: d.close(h.id, lan.id, "console:lan"))
    back = await say(hcore, "làm hộ chiếu", "c1", "web")
    assert back and "hộ chiếu" in back[0].text.lower()  # the assistant answers again
    async with hcore.sessionmaker() as s:
        rows = await Desk(s, hcore.settings, hcore.content.texts).messages_for("web", "c1", 0)
    closing = rows[-1]
    assert closing.author == "system" and [p for _, p in closing.buttons] == [
        f"f:+:ho:{h.id}", f"f:-:ho:{h.id}"]
    thanks = await tap(hcore, f"f:+:ho:{h.id}", "c1", "web")
    assert "Cảm ơn" in thanks[0].text


async def test_typing_1_after_the_close_gives_the_thumbs_up_on_channels_without_buttons(
        hcore: App) -> None:
    lan = await operator(hcore, "lan", [AREA])
    await ask_person(hcore, "z1", "zalo_bot")
    h = await the_request(hcore, "z1", "zalo_bot")
    await desk_do(hcore, lambda d: d.claim(h.id, lan))
    await desk_do(hcore, lambda d: d.close(h.id, lan.id, "console:lan"))
    thanks = await say(hcore, "1", "z1", "zalo_bot")
    assert "Cảm ơn bạn đã đánh giá" in thanks[0].text


async def test_the_citizen_can_end_it_and_buttons_other_than_the_handovers_get_a_reminder(
        hcore: App) -> None:
    lan = await operator(hcore, "lan", [AREA])
    await ask_person(hcore, "c1")
    h = await the_request(hcore, "c1")
    await desk_do(hcore, lambda d: d.claim(h.id, lan))
    reminder = await tap(hcore, "svc", "c1", "web")
    assert "đang nhắn tin với cán bộ" in reminder[0].text and "ho:x" in payloads(reminder)
    ended = await tap(hcore, "ho:x", "c1", "web")
    assert "Đã hủy" in ended[0].text
    async with hcore.sessionmaker() as s:
        row = await s.get(Handover, h.id)
        assert row is not None and row.state == "closed" and row.close_reason == "citizen"
    assert await say(hcore, "làm hộ chiếu", "c1", "web")


async def test_two_missed_answers_in_a_row_offer_a_person(hcore: App) -> None:
    first = await say(hcore, "mo ho", "c1", "web")  # only suggestions
    assert "ho:y" not in payloads(first)
    second = await say(hcore, "mo ho nua", "c1", "web")
    assert "ho:y" in payloads(second) and "chưa giúp được" in second[-1].text
    answered = await say(hcore, "làm hộ chiếu", "c2", "web")
    assert "ho:y" not in payloads(answered)
    down = await tap(hcore, "f:-:s:cap-ho-chieu", "c2", "web")  # the answer got 👎
    assert "ho:y" not in payloads(down)
    again = await say(hcore, "mo ho", "c2", "web")
    assert "ho:y" in payloads(again)


async def test_a_silent_operator_page_releases_the_chat_after_the_timeout(hcore: App) -> None:
    lan = await operator(hcore, "lan", [AREA])
    await ask_person(hcore, "c1")
    h = await the_request(hcore, "c1")
    sender = HandoverSender(hcore.sessionmaker, hcore.settings, hcore.content.texts, {})
    assert not await sender._sweep_due()  # a fresh request: an idle poll skips the sweep
    await desk_do(hcore, lambda d: d.claim(h.id, lan))
    assert await sender._sweep_due()
    await sender.step(sweep=True)
    assert (await the_request(hcore, "c1")).state == "claimed"  # the page was just seen
    async with hcore.sessionmaker() as s, s.begin():
        duty = await s.get(OperatorDuty, lan.id)
        assert duty is not None
        duty.last_seen_at = utcnow() - dt.timedelta(
            seconds=hcore.settings.handover.release_after_s + 1)
    sender._last_sweep = 0.0  # the timed sweep of the polling loop (asks first) finds it
    await sender.step()
    assert (await the_request(hcore, "c1")).state == "queued"
    async with hcore.sessionmaker() as s:
        rows = await Desk(s, hcore.settings, hcore.content.texts).messages_for("web", "c1", 0)
    assert "tạm rời" in rows[-1].text
    assert await say(hcore, "làm hộ chiếu", "c1", "web")  # the assistant answers while waiting


async def test_xoadulieu_deletes_the_requests_and_their_transcript(hcore: App) -> None:
    lan = await operator(hcore, "lan", [AREA])
    await ask_person(hcore, "c1")
    h = await the_request(hcore, "c1")
    await desk_do(hcore, lambda d: d.claim(h.id, lan))
    await say(hcore, "số của tôi 0912345678", "c1", "web")
    await desk_do(hcore, lambda d: d.say(h.id, lan, "Vâng"))
    await say(hcore, "/xoadulieu", "c1", "web")
    await tap(hcore, "del:y", "c1", "web")
    async with hcore.sessionmaker() as s:
        for model in (Handover, HandoverMessage):
            n = (await s.execute(select(func.count()).select_from(model).where(
                model.user_id == "c1"))).scalar()
            assert n == 0, model.__tablename__


class Channel:
    """A push channel inside the test: what each citizen received, scripted refusals."""

    def __init__(self, refuse: str | None = None) -> None:
        self.refuse = refuse
        self.got: list[tuple[str, Reply]] = []

    async def deliver_reply(self, user_id: str, reply: Reply) -> Delivery:
        if self.refuse:
            return Delivery("failed", reason=self.refuse)
        self.got.append((user_id, reply))
        return Delivery("sent", platform_id=str(len(self.got)))


async def test_operator_messages_go_out_once_in_order_and_a_refusal_shows_its_reason(
        hcore: App) -> None:
    tg = Channel()
    lan = await operator(hcore, "lan", [AREA], linked=("telegram", "555"))
    sender = HandoverSender(hcore.sessionmaker, hcore.settings, hcore.content.texts,
                            {"telegram": tg, "zalo_oa": Channel(
                                refuse="ngoài khung tin tư vấn của Zalo OA")})
    await ask_person(hcore, "t1", "telegram")
    await sender.drain()
    alert = [r.text for u, r in tg.got if u == "555"]
    assert len(alert) == 1 and "đang chờ gặp cán bộ" in alert[0]  # the operator's chat

    h = await the_request(hcore, "t1", "telegram")
    await desk_do(hcore, lambda d: d.claim(h.id, lan))
    for i in range(3):
        await desk_do(hcore, lambda d, i=i: d.say(h.id, lan, f"tin số {i}"))
    await sender.drain()
    await sender.drain()
    texts = [r.text for u, r in tg.got if u == "t1"]
    assert texts[0].startswith("👤 Cán bộ phường đã nhận")
    assert [t.split("\n")[-1] for t in texts[1:]] == ["tin số 0", "tin số 1", "tin số 2"]
    assert all(t.startswith("👤 Cán bộ phường:") for t in texts[1:])

    await ask_person(hcore, "oa1", "zalo_oa")
    h2 = await the_request(hcore, "oa1", "zalo_oa")
    await desk_do(hcore, lambda d: d.claim(h2.id, lan))
    msg = await desk_do(hcore, lambda d: d.say(h2.id, lan, "Chào bạn"))
    await sender.drain()
    async with hcore.sessionmaker() as s:
        row = await s.get(HandoverMessage, msg.id)
        assert row is not None and row.state == "failed"
        assert row.reason == "ngoài khung tin tư vấn của Zalo OA"


async def test_the_web_chat_pulls_operator_messages_it_did_not_ask_for(
        hcore: App) -> None:
    import aiohttp

    lan = await operator(hcore, "lan", [AREA])
    await ask_person(hcore, "w1")
    h = await the_request(hcore, "w1")
    async for base in serve(hcore):
        async with aiohttp.ClientSession() as http:
            url = f"{base}/api/chat/messages"
            async with http.get(url, params={"session": "w1"}) as r:
                body = await r.json()
                assert body == {"messages": [], "last": 0, "handover": "queued"}
            waiting = asyncio.create_task(http.get(url, params={
                "session": "w1", "after": "0", "wait": "10"}))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # a long poll: nothing yet
            await desk_do(hcore, lambda d: d.claim(h.id, lan))
            r = await asyncio.wait_for(waiting, 5)
            body = await r.json()
            assert body["handover"] == "claimed"
            assert body["messages"][0]["from"] == "system"
            assert "đã nhận tin" in body["messages"][0]["text"]
            after = body["last"]
            await desk_do(hcore, lambda d: d.say(h.id, lan, "Chào bác"))
            async with http.get(url, params={"session": "w1", "after": str(after)}) as r:
                body = await r.json()
            assert [(m["from"], m["text"]) for m in body["messages"]] == [
                ("operator", "Chào bác")]
            for bad in ({"session": ""}, {"session": "w1", "after": "x"},
                        {"session": "w1", "wait": "-1"}):
                async with http.get(url, params=bad) as r:
                    assert r.status == 400
            async with http.get(url, params={"session": "nobody", "wait": "20"}) as r:
                assert (await r.json())["handover"] is None  # no request: answered at once


async def test_a_server_stopping_answers_its_long_polls_at_once(hcore: App) -> None:
    """aiohttp lets running requests finish before it stops: an open page's long poll held
    every stop (a restart, a test's teardown) up to ``handover.long_poll_s``."""
    import time

    import aiohttp
    from aiohttp import web

    from bot.web import make_web_app

    await ask_person(hcore, "w1")
    runner = web.AppRunner(make_web_app(hcore, console=True))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        waiting = asyncio.create_task(http.get(
            f"http://127.0.0.1:{port}/api/chat/messages",
            params={"session": "w1", "after": "0", "wait": "25"}))
        for _ in range(100):  # until the request waits for news
            if hcore.changes._waiters:
                break
            await asyncio.sleep(0.05)
        assert hcore.changes._waiters == 1 and not waiting.done()
        started = time.monotonic()
        await runner.cleanup()
        stopped_s = time.monotonic() - started
        r = await asyncio.wait_for(waiting, 5)
        assert r.status == 200
        assert (await r.json())["handover"] == "queued"  # the answer it had: no news
    assert stopped_s < 5, stopped_s
    # A server started again on the same assistant waits for news as before.
    async for base in serve(hcore):
        async with aiohttp.ClientSession() as http:
            waiting = asyncio.create_task(http.get(f"{base}/api/chat/messages", params={
                "session": "w1", "after": "0", "wait": "10"}))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            waiting.cancel()
