"""👍/👎 keep the question they answered (masked as logged) and the label it got, and out-of-scope
questions reach the editors' inbox; both follow the retention and /xoadulieu rules."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.app import App
from core.models import Feedback, Unanswered
from flows.types import Incoming


async def say(core: App, text: str, user: str = "u1") -> None:
    await core.handle(Incoming("telegram", user, text=text))


async def tap(core: App, payload: str, user: str = "u1") -> None:
    await core.handle(Incoming("telegram", user, button=payload, kind="button"))


async def feedback(core: App) -> list[tuple[str, int, str | None, str | None]]:
    async with core.sessionmaker() as s:
        rows = (await s.execute(select(Feedback.answer, Feedback.value, Feedback.question,
                                       Feedback.label).order_by(Feedback.id))).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_a_thumbs_down_keeps_the_masked_question_and_the_label(core: App) -> None:
    await say(core, "làm hộ chiếu hết bao nhiêu tiền, số tôi 0912 345 678")
    await tap(core, "f:-:a:cap-ho-chieu:fee")
    [(answer, value, question, label)] = await feedback(core)
    assert (answer, value, label) == ("a:cap-ho-chieu:fee", -1, "svc_cap-ho-chieu")
    assert question is not None and "hộ chiếu" in question
    assert "345" not in question and "0912" not in question


async def test_feedback_on_an_answer_about_something_else_keeps_no_question(core: App) -> None:
    await say(core, "làm hộ chiếu hết bao nhiêu tiền")
    await tap(core, "f:-:q:legal-ket-hon-tuoi")  # an answer reached by buttons afterwards
    [(_, _, question, label)] = await feedback(core)
    assert question is None and label is None


async def test_out_of_scope_questions_are_logged_for_the_inbox_without_a_user(
        core: App) -> None:
    await say(core, "giá vàng hôm nay thế nào")
    async with core.sessionmaker() as s:
        rows = (await s.execute(select(Unanswered))).scalars().all()
    assert [(r.text, r.decision, r.guesses["intent"]) for r in rows] == [
        ("giá vàng hôm nay thế nào", "out_of_scope", "out_of_scope")]


async def test_xoadulieu_deletes_the_questions_kept_with_feedback(core: App) -> None:
    await say(core, "làm hộ chiếu hết bao nhiêu tiền")
    await tap(core, "f:-:a:cap-ho-chieu:fee")
    await say(core, "khai sinh cần giấy tờ gì", user="u2")
    await tap(core, "f:+:a:dang-ky-khai-sinh:documents", user="u2")
    await say(core, "/xoadulieu")
    await tap(core, "del:y")
    rows = await feedback(core)
    assert [r[0] for r in rows] == ["a:dang-ky-khai-sinh:documents"]
    assert all("hộ chiếu" not in (r[2] or "") for r in rows)


async def test_feedback_questions_older_than_retention_are_purged(core: App) -> None:
    await say(core, "làm hộ chiếu hết bao nhiêu tiền")
    await tap(core, "f:-:a:cap-ho-chieu:fee")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=core.settings.retention_days + 1)
    from core.storage import purge_expired

    await purge_expired(core.sessionmaker, core.settings.retention_days, now=later)
    async with core.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(Feedback))).scalar_one() == 0


async def test_a_service_introduction_can_be_flagged_as_not_what_was_asked(core: App) -> None:
    replies = await core.handle(Incoming("telegram", "u1", text="cho hỏi về hộ chiếu")) or []
    flags = [b for r in replies for b in r.buttons if b.payload == "f:-:s:cap-ho-chieu"]
    assert [b.label for b in flags] == ["👎 Không đúng ý tôi"]
    await tap(core, "f:-:s:cap-ho-chieu")
    [(answer, value, question, label)] = await feedback(core)
    assert (answer, value, question, label) == (
        "s:cap-ho-chieu", -1, "cho hỏi về hộ chiếu", "svc_cap-ho-chieu")


async def test_a_guess_answered_with_an_own_reply_still_reaches_the_inbox(core: App) -> None:
    await say(core, "mơ hồ quá")  # suggest, whatever the reply
    async with core.sessionmaker() as s:
        assert [r.decision for r in (await s.execute(select(Unanswered))).scalars()] == [
            "suggest"]
