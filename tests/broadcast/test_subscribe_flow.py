"""Citizens subscribe and unsubscribe in chat: consent first, then areas and topics."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from core.models import Subscription
from flows.types import Incoming
from tests.broadcast.conftest import AREA, AREA2, payloads, say, tap


async def stored(core: App, user: str = "u1", channel: str = "telegram") -> Subscription | None:
    async with core.sessionmaker() as s:
        return await s.get(Subscription, (channel, user))


async def count(core: App) -> int:
    async with core.sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(Subscription)))
                   .scalar_one())


async def test_consent_says_what_why_who_and_rights_before_anything_is_stored(
        score: App) -> None:
    [consent] = await say(score, "/dangky")
    text = consent.text
    for words in ("mã tài khoản", "khu vực", "Để làm gì", "Ai dùng", "/huy", "/xoadulieu",
                  "thôi nhận"):
        assert words in text
    assert payloads([consent]) == ["sub:y", "sub:n"]
    assert await count(score) == 0


async def test_saying_no_or_saying_nothing_stores_nothing(score: App) -> None:
    await say(score, "/dangky")
    [no] = await tap(score, "sub:n")
    assert "chưa lưu gì" in no.text
    await say(score, "/dangky", user="u2")
    await say(score, "làm hộ chiếu", user="u2")  # silence on the question, then moves on
    await tap(score, f"sub:a:{AREA}", user="u2")  # an area button without having agreed
    assert await count(score) == 0


async def test_agree_then_area_then_topics_subscribes(score: App) -> None:
    await say(score, "/dangky")
    areas = await tap(score, "sub:y")
    assert f"sub:a:{AREA}" in payloads(areas)
    assert await stored(score) is None  # agreed, but no area picked yet: nothing stored
    await tap(score, f"sub:a:{AREA}")
    topics = await tap(score, "sub:a:ok")
    assert "sub:t:tiem-chung" in payloads(topics)
    await tap(score, "sub:t:tiem-chung")
    await tap(score, "sub:t:thien-tai")
    [done] = await tap(score, "sub:t:ok")
    assert "Đã đăng ký" in done.text and "Phường Trần Lãm" in done.text
    sub = await stored(score)
    assert sub is not None
    assert sub.areas == [AREA] and sub.topics == ["thien-tai", "tiem-chung"]
    assert sub.consent_text == "sub.consent@1"


async def test_finishing_without_an_area_asks_again(score: App) -> None:
    await say(score, "/dangky")
    await tap(score, "sub:y")
    [again] = await tap(score, "sub:a:ok")
    assert "ít nhất một khu vực" in again.text
    assert await stored(score) is None


async def test_numbers_pick_the_same_buttons(score: App) -> None:
    await say(score, "/dangky")
    await say(score, "1")  # "Tôi đồng ý"
    await say(score, "2")  # the second area
    await say(score, "6")  # "Xong" (five areas, then Xong)
    [done] = await tap(score, "sub:t:*")
    assert "Đã đăng ký" in done.text
    sub = await stored(score)
    assert sub is not None and sub.areas == [AREA] and len(sub.topics) == 6


async def subscribed(core: App, user: str = "u1") -> None:
    await say(core, "/dangky", user=user)
    await tap(core, "sub:y", user=user)
    await tap(core, f"sub:a:{AREA}", user=user)
    await tap(core, "sub:a:ok", user=user)
    await tap(core, "sub:t:*", user=user)


async def test_a_subscriber_sees_and_changes_their_settings(score: App) -> None:
    await subscribed(score)
    [current] = await say(score, "/dangky")
    assert "đang nhận" in current.text and "Phường Trần Lãm" in current.text
    assert {"sub:ca", "sub:ct", "sub:off"} <= set(payloads([current]))
    await tap(score, "sub:ca")
    await tap(score, f"sub:a:{AREA2}")
    [saved] = await tap(score, "sub:a:ok")
    assert "Phường Trần Hưng Đạo" in saved.text
    sub = await stored(score)
    assert sub is not None and sub.areas == sorted([AREA, AREA2]) and len(sub.topics) == 6


async def test_huy_deletes_the_subscription(score: App) -> None:
    await subscribed(score)
    [bye] = await say(score, "/huy")
    assert "Đã thôi nhận" in bye.text
    assert await stored(score) is None
    [again] = await say(score, "/huy")
    assert "chưa đăng ký" in again.text


async def test_stopping_in_words_asks_first(score: App) -> None:
    """The understanding can mistake "không cần nữa" after an answer for "stop the notices":
    a typed request asks before the subscription is deleted; "không" keeps it."""
    await subscribed(score)
    [ask] = await say(score, "thôi nhận thông báo")
    assert payloads([ask]) == ["sub:off", "m"]
    assert await stored(score) is not None
    await say(score, "không")
    assert await stored(score) is not None
    await say(score, "thôi nhận thông báo")
    [bye] = await say(score, "có")
    assert "Đã thôi nhận" in bye.text
    assert await stored(score) is None
    [again] = await say(score, "thôi nhận thông báo")
    assert "chưa đăng ký" in again.text


async def test_deleting_my_data_deletes_my_subscription(score: App) -> None:
    await subscribed(score)
    await say(score, "/xoadulieu")
    await tap(score, "del:y")
    assert await stored(score) is None


async def test_the_web_chat_explains_notices_come_by_telegram_or_zalo(score: App) -> None:
    [reply] = await say(score, "/dangky", channel="web")
    assert "Telegram hoặc Zalo" in reply.text
    await tap(score, "sub:y", channel="web")
    assert await count(score) == 0


async def test_asking_in_words_starts_the_same_conversation(score: App) -> None:
    [consent] = await say(score, "cho tôi đăng ký nhận thông báo")
    assert payloads([consent]) == ["sub:y", "sub:n"]


async def test_a_zalo_follow_asks_consent_and_an_unfollow_unsubscribes(score: App) -> None:
    [consent] = await score.handle(Incoming("zalo_oa", "z1", kind="follow")) or []
    assert payloads([consent]) == ["sub:y", "sub:n"]
    assert await stored(score, "z1", "zalo_oa") is None
    for p in ("sub:y", f"sub:a:{AREA}", "sub:a:ok", "sub:t:*"):
        await tap(score, p, user="z1", channel="zalo_oa")
    assert await stored(score, "z1", "zalo_oa") is not None
    replies = await score.handle(Incoming("zalo_oa", "z1", kind="unfollow"))
    assert replies == []
    assert await stored(score, "z1", "zalo_oa") is None
