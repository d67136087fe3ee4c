"""Conversation quality (issue 11/12) through Core.handle: danger first everywhere, typed words
as buttons, the ward asked once, short answers, honest replies. The understanding engine is the
keyword double, so these tests state the conversation's rules, not the model's accuracy."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from bot.app import App
from broadcast import subscriptions
from core.models import Conversation
from flows.faq import disclaimer_of
from flows.types import Incoming, Reply
from flows.ui import ANSWER_LIMIT

LONG_CALM = "Tôi muốn hỏi về thủ tục giấy tờ cho gia đình. " * 100  # about 4,700 characters


async def say(core: App, text: str, user: str = "u1") -> list[Reply]:
    return await core.handle(Incoming("web", user, text=text)) or []


async def tap(core: App, payload: str, user: str = "u1") -> list[Reply]:
    return await core.handle(Incoming("web", user, button=payload, kind="button")) or []


def payloads(replies: list[Reply]) -> list[str]:
    return [b.payload for r in replies for b in r.buttons]


# ---------------------------------------------------------------- danger first


async def test_danger_at_the_end_of_an_overlong_message_gets_the_numbers_then_the_limit(
        core: App) -> None:
    replies = await say(core, LONG_CALM + " Nhà tôi đang cháy, cứu với!")
    assert replies[0].kind == "emergency"
    assert {"113", "114", "115", "112"} <= set(replies[0].numbers)
    assert "4000" in replies[1].text and "ngắn lại" in replies[1].text


async def test_an_overlong_calm_message_says_the_limit_and_keeps_the_buttons(core: App) -> None:
    await say(core, "/menu")
    [reply] = await say(core, LONG_CALM)
    assert reply.kind != "emergency" and "4000" in reply.text
    assert "g:cu-tru" in payloads(await say(core, "1"))  # the menu shown before still answers


async def test_danger_typed_as_an_answer_to_a_questionnaire_comes_first(core: App) -> None:
    await tap(core, "la:0:s")
    replies = await say(core, "cứu với có người ngất")
    assert replies[0].kind == "emergency"
    assert "m" in payloads(replies[:1])  # nothing else follows, so the menu is on it


async def test_the_emergency_reply_lists_every_number_it_names_for_tap_to_call(
        core: App) -> None:
    [reply] = await tap(core, "em")
    assert reply.kind == "emergency"
    assert reply.numbers[:4] == ("113", "114", "115", "112")
    assert "111" in reply.numbers
    for n in reply.numbers:
        assert n in reply.text


# ---------------------------------------------------------------- typed words act as buttons


async def test_typed_words_walk_through_the_steps(core: App) -> None:
    svc = core.content.services["cap-ho-chieu"]
    await tap(core, "st:cap-ho-chieu:0")
    assert "Bước 2/" in (await say(core, "tiếp"))[0].text
    assert "Bước 3/" in (await say(core, "tiep theo nhe"))[0].text
    assert "Bước 2/" in (await say(core, "quay lai"))[0].text
    assert "Bước 1/" in (await say(core, "lùi"))[0].text
    for _ in range(len(svc.steps) - 1):
        await say(core, "rồi")
    done = await say(core, "xong")
    assert done[0].text.startswith("✅ Tóm tắt: " + svc.name)
    menu = await say(core, "menu")
    assert menu[0].text == core.content.text("menu.title")


async def test_typed_yes_and_no_answer_the_legal_aid_questions(core: App) -> None:
    first = await tap(core, "la:0:s")
    assert "la:0:n" in payloads(first)
    second = await say(core, "không")
    assert "la:1:y" in payloads(second)  # "không" answered question 1: now question 2
    answer = await say(core, "co")
    assert payloads(answer)[:2] in (["lf:1:y", "lf:1:n"], ["la:0:s", "t:legal"])


async def test_a_number_out_of_range_says_which_numbers_are_valid(core: App) -> None:
    await say(core, "/menu")
    [reply] = await say(core, "99")
    assert reply.text.startswith("Bạn chọn từ 1 đến 8")
    assert "g:cu-tru" in payloads(await say(core, "1"))


async def test_menu_shows_the_menu_without_the_greeting_and_start_greets(core: App) -> None:
    menu = await say(core, "/menu")
    assert "Xin chào" not in menu[0].text and "svc" in payloads(menu)
    start = await say(core, "/start")
    assert "Xin chào" in start[0].text and "svc" in payloads(start)


# ---------------------------------------------------------------- the ward, asked once


async def test_a_person_asks_the_ward_once_then_shows_its_offices_first(core: App) -> None:
    ask = await tap(core, "hu")
    assert "phường nào" in ask[0].text and "w:12454:hu" in payloads(ask)
    shown = await say(core, "p tran lam")
    assert shown[0].text.startswith("📍 Phường Trần Lãm")
    assert shown[0].text.index("Công an phường Trần Lãm") < shown[0].text.index("1800")
    again = await say(core, "cho gặp cán bộ")  # asked once: not again
    assert again[0].text.startswith("📍 Phường Trần Lãm")
    state = await core.conversations.load_state("web", "u1")
    assert state.ward == "12454"
    await tap(core, "w:?:hu")  # "Đổi phường", then a question naming a ward is not an answer
    other = await say(core, "phường Vũ Phúc làm hộ chiếu thế nào")
    assert "hộ chiếu" in other[0].text
    assert (await core.conversations.load_state("web", "u1")).ward == "12454"
    await say(core, "/xoadulieu")
    await tap(core, "del:y")
    assert "phường nào" in (await tap(core, "hu"))[0].text  # deleted with the rest


async def test_the_ward_is_prefilled_from_a_notice_subscription(core: App) -> None:
    async with core.sessionmaker() as s, s.begin():
        await subscriptions.save_subscription(s, "web", "sub1", ["12817"], ["chung"], "test")
    reply, *offer = await tap(core, "hu", user="sub1")  # then the offer of a person, if any
    assert reply.kind == "human" and all(r.kind != "human" for r in offer)
    assert "Phường Trà Lý" in reply.text.split("\n")[0]
    assert "Công an phường Trà Lý" in reply.text


async def test_where_to_file_names_the_ward_office_once_the_ward_is_known(core: App) -> None:
    first = await tap(core, "a:dang-ky-tam-tru:where")
    assert "w:12466:a:dang-ky-tam-tru:where" in payloads(first)
    after = await tap(core, "w:12466:a:dang-ky-tam-tru:where")
    assert after[0].text.startswith("🌐 Nộp ở đâu: Đăng ký tạm trú")
    assert "Trung tâm phục vụ hành chính công phường Vũ Phúc" in after[0].text
    assert not any(p.startswith("w:") for p in payloads(after))


# ---------------------------------------------------------------- short answers, once-notes


async def _legal_faq_ids(core: App) -> list[str]:
    topic = core.content.faqs["legal"]
    return [e.id for e in topic.entries]


async def test_the_legal_disclaimer_is_shown_once_per_conversation(core: App) -> None:
    disclaimer = disclaimer_of(core.content, core.content.faqs["legal"])
    assert disclaimer
    a, b = (await _legal_faq_ids(core))[:2]
    assert disclaimer in (await tap(core, f"q:{a}"))[0].text
    assert disclaimer not in (await tap(core, f"q:{b}"))[0].text
    assert disclaimer not in (await tap(core, f"q:{a}"))[0].text
    # Six hours of silence start a new conversation: it is said again.
    async with core.sessionmaker() as s, s.begin():
        row = await s.get(Conversation, ("web", "u1"))
        assert row is not None
        state = dict(row.state)
        state["last_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=7)).isoformat()
        await s.execute(update(Conversation).values(state=state))
    assert disclaimer in (await tap(core, f"q:{b}"))[0].text
    assert disclaimer not in (await tap(core, f"q:{a}"))[0].text
    await say(core, "/start")  # and /start starts a new one
    assert disclaimer in (await tap(core, f"q:{a}"))[0].text


async def test_long_answers_show_the_key_point_first_and_the_rest_behind_more(
        core: App) -> None:
    for sid, svc in core.content.services.items():
        for aspect in ("documents", "steps", "where", "fee", "duration", "eligibility"):
            [reply] = await tap(core, f"a:{sid}:{aspect}")
            body = reply.text.split("\n\n", 1)[1].rsplit("\n\n📚", 1)[0]
            assert len(body) <= ANSWER_LIMIT, (sid, aspect)
            if f"am:{sid}:{aspect}" in payloads([reply]):
                [rest] = await tap(core, f"am:{sid}:{aspect}")
                assert rest.text.startswith(reply.text.split("\n", 1)[0] + " (tiếp)")
                assert svc.name in rest.text


async def test_a_faq_answer_keeps_its_more_behind_the_button(core: App) -> None:
    entry = next(e for t in core.content.faqs.values() for e in t.entries if e.more)
    [first] = await tap(core, f"q:{entry.id}")
    assert entry.answer in first.text and entry.more not in first.text
    assert f"qm:{entry.id}" in payloads([first])
    [rest] = await tap(core, f"qm:{entry.id}")
    assert entry.more in rest.text and entry.answer not in rest.text


# ---------------------------------------------------------------- knowing what it does not know


async def test_a_procedure_outside_the_53_is_said_to_be_outside(core: App) -> None:
    [reply] = await say(core, "thủ tục nhận con nuôi làm thế nào")
    assert "không nằm trong 53 thủ tục" in reply.text and "dichvucong.gov.vn" in reply.text
    assert any(b.url == "https://dichvucong.gov.vn" for b in reply.buttons)
    assert "s:dang-ky-khai-sinh" in payloads([reply])  # the neighbour only as a button
    assert not any(p.startswith("st:") for p in payloads([reply]))
    state = await core.conversations.load_state("web", "u1")
    assert state.service is None  # nothing was walked through


async def test_who_are_you_and_an_insult_get_honest_kind_replies(core: App) -> None:
    [who] = await say(core, "bạn là ai vậy")
    assert "không phải người thật" in who.text and "hu" in payloads([who])
    [hurt] = await say(core, "bot ngu thế")
    assert hurt.text.startswith("Xin lỗi") and "hu" in payloads([hurt])


async def test_the_state_row_holds_what_the_conversation_learnt(core: App) -> None:
    await tap(core, "w:12452:a:cap-ho-chieu:where")
    async with core.sessionmaker() as s:
        raw = (await s.execute(select(Conversation.state))).scalar_one()
    assert raw["ward"] == "12452" and raw["service"] == "cap-ho-chieu"
    assert "run_started" in raw and "last_at" in raw
