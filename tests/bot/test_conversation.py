"""The conversation core end to end through App.handle, on a real SQLite database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select, update

from bot.app import App, build_app
from core.db import utcnow
from core.models import Conversation, Feedback, MessageLog, Unanswered, User
from flows.types import Incoming, Reply
from tests.conftest import settings_for
from tests.fakes import KeywordNlu


async def say(core: App, text: str, user: str = "u1") -> list[Reply]:
    return await core.handle(Incoming("web", user, text=text)) or []


async def tap(core: App, payload: str, user: str = "u1") -> list[Reply]:
    return await core.handle(Incoming("web", user, button=payload, kind="button")) or []


def payloads(replies: list[Reply]) -> list[str]:
    return [b.payload for r in replies for b in r.buttons]


async def count(core: App, model: type) -> int:
    async with core.sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_start_shows_the_eight_doors_of_the_main_menu(core: App) -> None:
    replies = await say(core, "/start")
    assert "Xin chào" in replies[0].text
    assert payloads(replies) == ["svc", "t:crime", "t:legal", "t:vneid", "t:scam", "sub", "em",
                                 "hu"]


async def test_a_full_walkthrough_step_by_step_ends_with_papers_fee_time_and_where(
        core: App) -> None:
    groups = await tap(core, "svc")
    assert "g:cu-tru" in payloads(groups)
    services = await tap(core, "g:cu-tru")
    assert "s:cap-ho-chieu" in payloads(services)
    intro = await tap(core, "s:cap-ho-chieu")
    assert "hộ chiếu" in intro[0].text.lower()
    svc = core.content.services["cap-ho-chieu"]
    step = await tap(core, "st:cap-ho-chieu:0")
    assert f"Bước 1/{len(svc.steps)}" in step[0].text
    for i in range(1, len(svc.steps)):
        step = await tap(core, f"st:cap-ho-chieu:{i}")
        assert f"Bước {i + 1}/{len(svc.steps)}" in step[0].text
        assert f"st:cap-ho-chieu:{i - 1}" in payloads(step)  # back
    summary = await tap(core, f"st:cap-ho-chieu:{len(svc.steps)}")
    text = summary[0].text
    assert "sm:cap-ho-chieu" in payloads(summary)  # the key points first, "Xem thêm" the rest
    text += (await tap(core, "sm:cap-ho-chieu"))[0].text
    for heading in ("Giấy tờ cần có", "Lệ phí", "Thời gian giải quyết", "Nộp ở đâu"):
        assert heading in text
    assert "dichvucong.bocongan.gov.vn" in text


async def test_an_expired_fact_is_no_longer_said(core: App) -> None:
    # The 10% online discount on passports (Thông tư 63/2023/TT-BTC) gave way on 01/7/2025 to
    # the halved fee of Thông tư 64/2025/TT-BTC, which runs to 31/12/2026.
    fee = (await tap(core, "a:cap-ho-chieu:fee"))[0].text
    assert "100.000" in fee
    assert "180.000" not in fee


async def test_free_text_naming_a_service_jumps_there_and_an_aspect_is_answered_first(
        core: App) -> None:
    replies = await say(core, "làm hộ chiếu hết bao nhiêu tiền")
    assert replies[0].text.startswith("💰 Lệ phí")
    follow = await say(core, "mất mấy ngày")  # about the service already being discussed
    assert follow[0].text.startswith("⏱ Thời gian giải quyết")
    assert "8 ngày làm việc" in follow[0].text  # Luật Xuất cảnh, nhập cảnh 2019, Điều 15
    assert "chưa được xác nhận" not in follow[0].text  # confirmed since the 2026-12 fact-check


async def test_an_unconfirmed_aspect_carries_the_warning_and_where_to_check(core: App) -> None:
    svc = next(s for s in core.content.services.values() if "fee" in s.unconfirmed)
    text = (await tap(core, f"a:{svc.id}:fee"))[0].text
    assert "chưa được xác nhận" in text
    assert str(svc.official_page) in text


async def test_danger_gets_the_emergency_numbers_first_even_mid_walkthrough(core: App) -> None:
    await tap(core, "st:cap-ho-chieu:1")
    replies = await say(core, "cứu với cháy nhà rồi")
    first = replies[0].text
    for number in ("113", "114", "115", "112"):
        assert number in first
    assert first.index("113") < 80


async def test_unsure_offers_three_guesses_and_a_person_and_logs_without_personal_data(
        core: App) -> None:
    replies = await say(core, "mơ hồ quá, số tôi 0912345678")
    buttons = payloads(replies)
    assert buttons[:3] == ["s:cap-ho-chieu", "i:legal_help", "s:dang-ky-khai-sinh"]
    assert "hu" in buttons
    async with core.sessionmaker() as s:
        logged = (await s.execute(select(Unanswered))).scalars().all()
        logs = (await s.execute(select(MessageLog.text))).scalars().all()
    assert len(logged) == 1 and "0912345678" not in logged[0].text
    assert all("0912345678" not in (t or "") for t in logs)


async def test_numbered_choice_picks_the_button_at_that_position(core: App) -> None:
    await say(core, "/menu")
    replies = await say(core, "1")  # first door: public services
    assert "g:cu-tru" in payloads(replies)


async def test_feedback_is_stored(core: App) -> None:
    await tap(core, "f:+:a:cap-ho-chieu:fee")
    await tap(core, "f:-:q:legal-x")
    async with core.sessionmaker() as s:
        rows = (await s.execute(select(Feedback.answer, Feedback.value))).all()
    assert sorted(rows) == [("a:cap-ho-chieu:fee", 1), ("q:legal-x", -1)]


async def test_delete_my_data_asks_first_then_removes_everything(core: App) -> None:
    await say(core, "làm hộ chiếu")
    await tap(core, "f:+:s:cap-ho-chieu")
    await say(core, "/xoadulieu")
    assert await count(core, Conversation) == 1  # asking is not deleting
    await tap(core, "del:n")
    assert await count(core, MessageLog) > 0
    done = await tap(core, "del:y")
    assert "Đã xóa" in done[0].text
    for model in (Conversation, MessageLog, Feedback, User):
        assert await count(core, model) == 0


async def test_logs_older_than_retention_days_are_purged(core: App) -> None:
    await say(core, "làm hộ chiếu")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=core.settings.retention_days + 1)
    async with core.sessionmaker() as s, s.begin():
        s.add(MessageLog(channel="web", user_id="old", text="x", created_at=old))
    counts = await core.purge()
    assert counts["message_log"] == 1
    assert await count(core, MessageLog) == 1


async def test_bad_input_gets_a_clear_answer_and_keeps_state(core: App) -> None:
    await tap(core, "s:cap-ho-chieu")
    assert "ngắn lại" in (await say(core, "a" * 10_000))[0].text
    assert "chưa gõ" in (await say(core, "   "))[0].text
    binary = bytes(range(256)).decode("utf-8", errors="replace")
    assert (await say(core, binary))  # an answer, not a crash
    assert "cũ" in (await tap(core, "zz:nonsense"))[0].text
    assert (await core.conversations.load_state("web", "u1")).service == "cap-ho-chieu"


async def test_a_restart_in_the_middle_of_a_walkthrough_continues_where_the_user_was(
        sqlite_url: str, tmp_path: Path) -> None:
    settings = settings_for(sqlite_url, tmp_path)
    first = await build_app(settings, nlu=KeywordNlu())
    await tap(first, "st:cap-ho-chieu:2")
    await first.close()
    second = await build_app(settings, nlu=KeywordNlu())
    try:
        replies = await say(second, "hết bao nhiêu tiền")  # "it": the passport
        assert replies[0].text.startswith("💰 Lệ phí: Cấp, cấp lại hộ chiếu")
    finally:
        await second.close()


async def test_a_redelivered_update_is_answered_once(core: App) -> None:
    msg = Incoming("telegram", "42", text="/start")
    assert await core.handle(msg, update_key="1001")
    assert await core.handle(msg, update_key="1001") is None


async def test_a_citizen_who_blocked_the_bot_and_writes_again_is_reachable_again(
        db_url: str, tmp_path: Path) -> None:
    app = await build_app(settings_for(db_url, tmp_path), nlu=KeywordNlu())
    try:
        await app.handle(Incoming("telegram", "u9", text="/start", kind="command"))
        await app.mark_blocked("telegram", "u9")
        async with app.sessionmaker() as s, s.begin():  # the last message was a while ago
            await s.execute(update(Conversation).where(Conversation.user_id == "u9")
                            .values(updated_at=utcnow() - dt.timedelta(hours=1)))
        await app.handle(Incoming("telegram", "u9", text="/start", kind="command"))
        async with app.sessionmaker() as s:
            row = (await s.execute(select(User.blocked_at, User.last_seen)
                                   .where(User.user_id == "u9"))).one()
        assert row.blocked_at is None
        assert utcnow() - row.last_seen < dt.timedelta(minutes=1)
    finally:
        await app.close()
