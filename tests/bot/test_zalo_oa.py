"""Zalo Official Account end to end: signed webhook events in, customer-service messages out,
against a loopback double of the OA API and its OAuth server, on a real database."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select, text

from bot.app import App, build_app
from bot.channels.zalo_oa import ZaloOaChannel
from bot.web import make_web_app
from broadcast import ratelimit
from core.db import utcnow
from core.models import Conversation, OAuthToken, User
from flows.assistant import Outcome
from flows.ports import Context, State
from flows.types import Button, Incoming, Reply
from tests.bot.test_reply_pace import _tx, busiest_second
from tests.conftest import settings_for
from tests.doubles.zalo_api import OaFault, ZaloOaApiDouble, eventually
from tests.fakes import KeywordNlu

USER = "8756287263669629130"


@pytest.fixture
async def oa() -> AsyncIterator[ZaloOaApiDouble]:
    double = await ZaloOaApiDouble().start()
    yield double
    await double.stop()


def _env(oa: ZaloOaApiDouble) -> dict[str, str]:
    return {"ZALO_OA_APP_ID": oa.app_id, "ZALO_OA_APP_SECRET": oa.app_secret,
            "ZALO_OA_SECRET_KEY": oa.secret_key, "ZALO_OA_ACCESS_TOKEN": "AT-1",
            "ZALO_OA_REFRESH_TOKEN": "RT-1", "ZALO_OA_BASE_URL": oa.base_url,
            "ZALO_OAUTH_BASE_URL": oa.base_url}


async def _core(db_url: str, tmp_path: Path, oa: ZaloOaApiDouble) -> App:
    return await build_app(settings_for(db_url, tmp_path, **_env(oa)), nlu=KeywordNlu())


class Server:
    """Our web app with the OA channel's webhook, on loopback."""

    def __init__(self, core: App, channel: ZaloOaChannel, oa: ZaloOaApiDouble) -> None:
        self.core, self.channel, self.oa = core, channel, oa
        self.runner = web.AppRunner(make_web_app(core, routes=channel.routes()))
        self.url = ""

    async def start(self) -> Server:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/webhooks/zalo-oa"
        return self

    async def post_raw(self, raw: bytes, headers: dict[str, str]) -> int:
        async with aiohttp.ClientSession() as http, \
                http.post(self.url, data=raw, headers=headers) as resp:
            return resp.status

    async def post(self, event: dict[str, Any]) -> int:
        return await self.post_raw(*self.oa.signed(event))

    async def say(self, text: str, user: str = USER) -> int:
        return await self.post(self.oa.event("user_send_text", user, text))


@pytest.fixture
async def server(sqlite_url: str, tmp_path: Path,
                 oa: ZaloOaApiDouble) -> AsyncIterator[Server]:
    core = await _core(sqlite_url, tmp_path, oa)
    channel = ZaloOaChannel(core, core.settings.zalo.oa)
    await channel.start()
    srv = await Server(core, channel, oa).start()
    yield srv
    await srv.runner.cleanup()
    await channel.stop()
    await core.close()


async def count(core: App, model: type) -> int:
    async with core.sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def token_row(core: App) -> OAuthToken:
    async with core.sessionmaker() as s:
        row = await s.get(OAuthToken, "zalo_oa")
        assert row is not None
        return row


def payloads(message: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in message["buttons"]]


def options(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d+)\. ", text, flags=re.MULTILINE)]


# ---------------------------------------------------------------------- conversation


async def test_a_full_conversation_with_buttons_and_numbered_options(
        server: Server, oa: ZaloOaApiDouble) -> None:
    assert await server.say("/start") == 200
    [menu] = await oa.wait_sent(USER, 1)
    assert "Xin chào" in menu["text"]
    # Five native buttons; the other three doors are numbered 6-8 in the text.
    assert payloads(menu) == ["#svc", "#t:crime", "#t:legal", "#t:vneid", "#t:scam"]
    assert all(b["type"] == "oa.query.show" for b in menu["buttons"])
    assert options(menu["text"]) == [6, 7, 8]

    await server.say("#svc")  # a tap comes back as user_send_text with the payload
    groups = (await oa.wait_sent(USER, 2))[-1]
    assert "nhóm" in groups["text"] and payloads(groups)[0] == "#g:cu-tru"

    await server.say("1")  # a typed number picks the first button: residence
    services = (await oa.wait_sent(USER, 3))[-1]
    assert "Cư trú" in services["text"]
    passport = re.search(r"^(\d+)\. Cấp, cấp lại hộ chiếu", services["text"], re.MULTILINE)
    assert passport is not None and int(passport.group(1)) > 5  # listed, not a native button

    await server.say(passport.group(1))
    intro = (await oa.wait_sent(USER, 4))[-1]
    assert "hộ chiếu" in intro["text"] and payloads(intro)[0] == "#st:cap-ho-chieu:0"
    await server.say("#st:cap-ho-chieu:0")
    step = (await oa.wait_sent(USER, 5))[-1]
    assert "Bước 1/" in step["text"]


async def test_follow_and_unfollow_reach_the_assistant_as_follow_and_unfollow(
        server: Server, oa: ZaloOaApiDouble) -> None:
    seen: list[tuple[str, str]] = []

    async def hook(msg: Incoming, state: State, ctx: Context, arg: str) -> Outcome:
        seen.append((msg.kind, msg.user_id))
        return Outcome([Reply("Chào mừng bạn")] if msg.kind == "follow" else [], state)

    server.core.assistant.on_follow = hook
    server.core.assistant.on_unfollow = hook
    assert await server.post(oa.event("follow", USER)) == 200
    [welcome] = await oa.wait_sent(USER, 1)
    assert welcome["text"] == "Chào mừng bạn"
    assert await server.post(oa.event("unfollow", USER)) == 200
    await eventually(lambda: len(seen) >= 2, "the unfollow event")
    assert seen == [("follow", USER), ("unfollow", USER)]


async def test_images_and_stickers_get_a_short_polite_text_answer(
        server: Server, oa: ZaloOaApiDouble) -> None:
    await server.post(oa.event("user_send_image", USER))
    await server.post(oa.event("user_send_sticker", USER))
    sent = await oa.wait_sent(USER, 2)
    assert all("chỉ đọc được tin nhắn chữ" in m["text"] for m in sent)


async def test_a_duplicate_delivery_is_answered_once(
        server: Server, oa: ZaloOaApiDouble) -> None:
    raw, headers = oa.signed(oa.event("user_send_text", USER, "/start"))
    assert await server.post_raw(raw, headers) == 200
    await oa.wait_sent(USER, 1)
    assert await server.post_raw(raw, headers) == 200
    await asyncio.sleep(0.5)
    assert len(oa.messages_to(USER)) == 1


async def test_a_replayed_event_after_30_newer_ones_is_not_handled_again(
        server: Server, oa: ZaloOaApiDouble) -> None:
    """The delivery key is kept for the whole accepted event age, not the last 30 keys."""
    server.channel.pace.per_second = 1000  # not this test's subject: 31 replies at 10/s
    raw, headers = oa.signed(oa.event("user_send_text", USER, "/start"))
    assert await server.post_raw(raw, headers) == 200
    for i in range(30):
        assert await server.say(f"câu hỏi số {i}") == 200
    await eventually(lambda: not server.core.inbox.held, "all 31 events handled", 60)
    before = len(oa.messages_to(USER))
    assert await server.post_raw(raw, headers) == 200  # still signed, still recent
    await asyncio.sleep(0.5)
    assert len(oa.messages_to(USER)) == before


async def test_an_event_that_cannot_be_stored_is_not_acknowledged(
        server: Server, oa: ZaloOaApiDouble) -> None:
    async with server.core.engine.begin() as conn:  # the database refuses writes to the inbox
        await conn.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))
    raw, headers = oa.signed(oa.event("user_send_text", USER, "/start"))
    assert await server.post_raw(raw, headers) == 503  # Zalo delivers it again
    async with server.core.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))
    assert await server.post_raw(raw, headers) == 200
    await oa.wait_sent(USER, 1)


async def test_a_stalled_database_gets_a_503_in_time_and_the_event_is_answered_once(
        server: Server, oa: ZaloOaApiDouble, sqlite_url: str) -> None:
    """Another process holds SQLite's write lock for 3 s: the webhook answers 503 within
    Zalo's acknowledgement time (about 2 s) instead of after the lock, the event is stored
    once the lock goes and answered, and Zalo's redelivery is recognised."""
    raw, headers = oa.signed(oa.event("user_send_text", USER, "/start"))
    other = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        status = await server.post_raw(raw, headers)
        took = time.monotonic() - started
        await asyncio.sleep(max(0.0, 3.0 - took))
    finally:
        other.execute("ROLLBACK")
        other.close()
    print(f"\nanswered {status} in {took * 1000:.0f} ms while the database was locked")
    assert status == 503 and took < 2.0
    [menu] = await oa.wait_sent(USER, 1)  # stored after all, once the lock went
    assert "Xin chào" in menu["text"]
    assert await server.post_raw(raw, headers) == 200  # Zalo's redelivery
    await asyncio.sleep(0.5)
    assert len(oa.messages_to(USER)) == 1


async def test_long_answers_are_split_under_2000_characters_with_buttons_on_the_last(
        server: Server, oa: ZaloOaApiDouble) -> None:
    long = "\n\n".join(f"Đoạn {i}. " + "Chữ rất dài. " * 60 for i in range(6))
    reply = Reply(long, [Button(f"Lựa chọn {i}", f"c:{i}") for i in range(7)])
    assert await server.channel.send(USER, [reply])
    sent = oa.messages_to(USER)
    assert len(sent) > 1 and all(len(m["text"]) <= 2000 for m in sent)
    assert all(m["text"].endswith(".") for m in sent[:-1])
    assert [m["buttons"] for m in sent[:-1]] == [[]] * (len(sent) - 1)
    assert len(sent[-1]["buttons"]) == 5 and options(sent[-1]["text"]) == [6, 7]


# ---------------------------------------------------------------------- signatures


async def _nothing_changed(server: Server) -> None:
    await asyncio.sleep(0.3)
    assert server.oa.sent == []
    assert await count(server.core, Conversation) == 0
    assert await count(server.core, User) == 0


async def test_a_missing_signature_is_refused_and_changes_nothing(
        server: Server, oa: ZaloOaApiDouble) -> None:
    raw, _ = oa.signed(oa.event("user_send_text", USER, "/start"))
    assert await server.post_raw(raw, {"Content-Type": "application/json"}) == 403
    await _nothing_changed(server)


async def test_a_wrong_signature_is_refused_and_changes_nothing(
        server: Server, oa: ZaloOaApiDouble) -> None:
    event = oa.event("user_send_text", USER, "/start")
    raw, headers = oa.signed(event, secret_key="not-the-oa-secret")
    assert await server.post_raw(raw, headers) == 403
    _, good = oa.signed(event)  # a real signature, but over a different body
    tampered = json.dumps({**event, "message": {"msg_id": "x", "text": "/xoadulieu"}}).encode()
    assert await server.post_raw(tampered, good) == 403
    await _nothing_changed(server)


async def test_a_stale_event_is_refused_and_changes_nothing(
        server: Server, oa: ZaloOaApiDouble) -> None:
    old = int((time.time() - 2 * 3600) * 1000)  # zalo.oa.max_event_age_s is 3600
    assert await server.post(oa.event("user_send_text", USER, "/start", timestamp_ms=old)) == 403
    await _nothing_changed(server)


async def test_an_event_for_another_app_is_refused(
        server: Server, oa: ZaloOaApiDouble) -> None:
    event = {**oa.event("user_send_text", USER, "/start"), "app_id": "999"}
    assert await server.post(event) == 403
    await _nothing_changed(server)


async def test_a_signed_body_that_is_not_json_gets_400(
        server: Server, oa: ZaloOaApiDouble) -> None:
    stamp = str(int(time.time() * 1000))
    raw = b'{"timestamp": "' + stamp.encode() + b'", oops'
    mac = hashlib.sha256(oa.app_id.encode() + raw + stamp.encode()
                         + oa.secret_key.encode()).hexdigest()
    assert await server.post_raw(raw, {"X-ZEvent-Signature": f"mac={mac}"}) == 400
    await _nothing_changed(server)


async def test_an_unsigned_body_that_is_not_json_gets_403_before_parsing(
        server: Server, oa: ZaloOaApiDouble) -> None:
    # The signature is checked on the raw bytes first: nobody without the key gets the parser.
    assert await server.post_raw(b"{oops", {"X-ZEvent-Signature": "mac=00"}) == 403
    assert await server.post_raw(b"[" * 5000, {"X-ZEvent-Signature": "mac=00"}) == 403


# ---------------------------------------------------------------------- tokens


async def test_an_expired_token_is_refreshed_once_and_the_answer_still_arrives(
        server: Server, oa: ZaloOaApiDouble) -> None:
    oa.expire_access_token()
    await server.say("/start")
    [menu] = await oa.wait_sent(USER, 1)
    assert "Xin chào" in menu["text"]
    assert oa.refresh_attempts == ["RT-1"]
    assert oa.count("/v3.0/oa/message/cs") == 2  # refused once, then sent with the new token
    row = await token_row(server.core)
    assert (row.access_token, row.refresh_token, row.version) == ("AT-2", "RT-2", 2)
    assert row.expires_at is not None and row.expires_at > utcnow() + dt.timedelta(hours=24)


async def test_a_refused_refresh_is_tried_once_per_message(
        server: Server, oa: ZaloOaApiDouble) -> None:
    oa.expire_access_token()
    oa.refresh_token = "RT-consumed-elsewhere"
    await server.say("/start")
    await eventually(lambda: bool(oa.refresh_attempts), "a refresh attempt")
    await asyncio.sleep(0.5)
    assert oa.refresh_attempts == ["RT-1"] and oa.sent == []
    assert (await token_row(server.core)).refresh_token == "RT-1"  # nothing half-written


async def test_a_token_past_its_expiry_is_refreshed_before_use(
        sqlite_url: str, tmp_path: Path, oa: ZaloOaApiDouble) -> None:
    core = await _core(sqlite_url, tmp_path, oa)
    async with core.sessionmaker() as s, s.begin():
        s.add(OAuthToken(provider="zalo_oa", access_token="AT-1", refresh_token="RT-1",
                         expires_at=utcnow() - dt.timedelta(minutes=1), version=1))
    channel = ZaloOaChannel(core, core.settings.zalo.oa)
    await channel.start()
    try:
        assert await channel.send(USER, [Reply("Xin chào")])
        assert oa.refresh_attempts == ["RT-1"]
        assert oa.count("/v3.0/oa/message/cs") == 1  # no call was wasted on the old token
    finally:
        await channel.stop()
        await core.close()


async def test_first_tokens_come_from_the_environment_only_when_none_are_stored(
        sqlite_url: str, tmp_path: Path, oa: ZaloOaApiDouble) -> None:
    core = await _core(sqlite_url, tmp_path, oa)
    async with core.sessionmaker() as s, s.begin():
        s.add(OAuthToken(provider="zalo_oa", access_token="AT-7", refresh_token="RT-7",
                         version=7))
    oa.access_token, oa.refresh_token = "AT-7", "RT-7"
    channel = ZaloOaChannel(core, core.settings.zalo.oa)  # the env still says AT-1 / RT-1
    await channel.start()
    try:
        assert await channel.send(USER, [Reply("Xin chào")])
        row = await token_row(core)
        assert (row.access_token, row.refresh_token, row.version) == ("AT-7", "RT-7", 7)
        assert oa.refresh_attempts == []
    finally:
        await channel.stop()
        await core.close()


async def test_without_any_token_start_names_the_variables_to_set(
        sqlite_url: str, tmp_path: Path, oa: ZaloOaApiDouble) -> None:
    core = await _core(sqlite_url, tmp_path, oa)
    cfg = core.settings.zalo.oa.model_copy(update={"access_token": None, "refresh_token": None})
    channel = ZaloOaChannel(core, cfg)
    try:
        with pytest.raises(RuntimeError, match="ZALO_OA_ACCESS_TOKEN"):
            await channel.start()
    finally:
        await channel.stop()
        await core.close()


async def test_webhooks_are_acknowledged_at_once_while_a_refresh_waits_for_zalo(
        server: Server, oa: ZaloOaApiDouble) -> None:
    """Zalo expects the webhook's answer within about 2 s. A token refresh that waits 3 s for
    the OAuth server must not hold up the storing of events (on SQLite it held the database
    write lock, and every acknowledgement waited for it)."""
    oa.refresh_latency_s = 3.0
    oa.expire_access_token()
    sending = asyncio.create_task(server.channel.send(USER, [Reply("Xin chào")]))
    await eventually(lambda: bool(oa.refresh_attempts), "the refresh under way")
    took = []
    for i in range(3):
        started = time.monotonic()
        assert await server.say("/start", user=f"waiting-{i}") == 200
        took.append(time.monotonic() - started)
    print(f"\nacknowledged in {', '.join(f'{t * 1000:.0f}' for t in took)} ms during a 3 s "
          "refresh")
    assert max(took) < 1.0
    assert not sending.done()  # all three were acknowledged during the refresh
    assert await sending
    assert oa.refresh_attempts == ["RT-1"]


async def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(
        db_url: str, tmp_path: Path, oa: ZaloOaApiDouble) -> None:
    """Two processes (two engines on one database) both see the token refused at once."""
    oa.refresh_latency_s = 0.3  # both are in the refresh at the same time
    cores = [await _core(db_url, tmp_path / str(i), oa) for i in range(2)]
    channels = [ZaloOaChannel(c, c.settings.zalo.oa) for c in cores]
    for ch in channels:
        await ch.start()
    try:
        oa.expire_access_token()
        ok = await asyncio.gather(*(ch.send(f"user-{i}", [Reply("Thông báo")])
                                    for i, ch in enumerate(channels)))
        assert ok == [True, True]
        assert oa.refresh_attempts == ["RT-1"]
        row = await token_row(cores[0])
        assert (row.refresh_token, row.version) == ("RT-2", 2)
    finally:
        for ch in channels:
            await ch.stop()
        for c in cores:
            await c.close()


async def test_replies_of_two_processes_and_notices_share_the_zalo_pace(
        db_url: str, tmp_path: Path, oa: ZaloOaApiDouble) -> None:
    """Replies from two processes (two engines on one database) and notices take their slots
    from one bucket: 30 replies and 10 notices at once never put more than
    broadcast.zalo_per_second messages in a second at the OA API."""
    cores = [await _core(db_url, tmp_path / str(i), oa) for i in range(2)]
    channels = [ZaloOaChannel(c, c.settings.zalo.oa) for c in cores]
    for ch in channels:
        await ch.start()
    rate = cores[0].settings.broadcast.zalo_per_second

    async def notice(i: int) -> None:  # what broadcast.sender does for each notice
        async with cores[0].sessionmaker() as s, s.begin():
            slot = await ratelimit.reserve(s, "zalo_oa", rate, time.time())
        started = await ratelimit.admitted(lambda: _tx(cores[0].sessionmaker), "zalo_oa", rate,
                                           slot)
        assert (await channels[0].deliver(f"notice-{i}", "Thông báo")).status == "sent"
        async with cores[0].sessionmaker() as s, s.begin():
            await ratelimit.record(s, "zalo_oa", [(started, time.time())])

    try:
        ok = await asyncio.gather(*(channels[i % 2].send(f"user-{i}", [Reply(f"Trả lời {i}")])
                                    for i in range(30)), *(notice(i) for i in range(10)))
        assert ok[:30] == [True] * 30
        times = [m["at"] for m in oa.sent]
        print(f"\n{len(times)} messages in {max(times) - min(times):.1f} s; busiest second "
              f"{busiest_second(times)} (rate {rate})")
        assert len(times) == 40 and busiest_second(times) <= rate
    finally:
        for ch in channels:
            await ch.stop()
        for c in cores:
            await c.close()


# ---------------------------------------------------------------------- reachability


async def test_no_interaction_for_7_days_marks_the_user_unreachable_without_retrying(
        server: Server, oa: ZaloOaApiDouble) -> None:
    oa.out_of_window.add(USER)
    await server.say("/start")
    deadline = time.monotonic() + 5
    unreachable = None
    while unreachable is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        async with server.core.sessionmaker() as s:
            unreachable = (await s.execute(select(User.unreachable_at).where(
                User.channel == "zalo_oa", User.user_id == USER))).scalar_one_or_none()
    assert unreachable is not None
    await asyncio.sleep(0.3)
    assert oa.count("/v3.0/oa/message/cs") == 1


# ---------------------------------------------------------------------- notices


async def _wrote(core: App, user: str, days_ago: float = 0) -> None:
    await core.handle(Incoming("zalo_oa", user, text="/start"))
    if days_ago:
        async with core.sessionmaker() as s, s.begin():
            row = (await s.execute(select(User).where(User.channel == "zalo_oa",
                                                      User.user_id == user))).scalar_one()
            row.last_seen = utcnow() - dt.timedelta(days=days_ago)


async def test_a_notice_to_a_recent_user_goes_as_a_customer_service_message(
        server: Server, oa: ZaloOaApiDouble) -> None:
    await _wrote(server.core, USER)
    outcome = await server.channel.deliver(USER, "Lịch tiêm chủng: thứ Bảy, 7 giờ.")
    assert outcome.status == "sent" and outcome.platform_id
    assert oa.messages_to(USER)[-1]["text"] == "Lịch tiêm chủng: thứ Bảy, 7 giờ."


async def test_a_notice_to_a_follower_outside_the_window_goes_as_a_promotion(
        server: Server, oa: ZaloOaApiDouble) -> None:
    await _wrote(server.core, USER, days_ago=10)
    outcome = await server.channel.deliver(USER, "Mất điện\nThứ Bảy từ 7 giờ đến 11 giờ.")
    assert outcome.status == "sent"
    assert oa.messages_to(USER) == []
    [promo] = oa.messages_to(USER, "promotion")
    assert promo["elements"] == [{"type": "header", "content": "Mất điện"},
                                 {"type": "text", "content": "Thứ Bảy từ 7 giờ đến 11 giờ."}]


async def test_a_notice_refused_with_230_marks_unreachable_and_falls_back_once(
        server: Server, oa: ZaloOaApiDouble) -> None:
    await _wrote(server.core, USER)
    oa.out_of_window.add(USER)
    outcome = await server.channel.deliver(USER, "Thông báo họp tổ dân phố.")
    assert outcome.status == "sent"
    assert oa.count("/v3.0/oa/message/cs") == 1 and len(oa.messages_to(USER, "promotion")) == 1
    async with server.core.sessionmaker() as s:
        assert (await s.execute(select(User.unreachable_at).where(
            User.user_id == USER))).scalar_one() is not None


async def test_a_notice_refused_with_230_fails_with_the_reason_when_promotions_are_off(
        server: Server, oa: ZaloOaApiDouble) -> None:
    await _wrote(server.core, USER)
    oa.out_of_window.add(USER)
    server.channel.cfg = server.channel.cfg.model_copy(update={"promotion": False})
    outcome = await server.channel.deliver(USER, "Thông báo")
    assert outcome.status == "failed" and "-230" in (outcome.reason or "")
    assert oa.count("/v3.0/oa/message/cs") == 1


async def test_a_promotion_at_night_is_retried_at_six_in_the_morning(
        server: Server, oa: ZaloOaApiDouble) -> None:
    oa.night = True
    outcome = await server.channel.deliver(USER, "Thông báo")
    assert outcome.status == "retry" and outcome.retry_at is not None
    local = outcome.retry_at.astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert (local.hour, local.minute) == (6, 0)
    assert dt.timedelta(0) < outcome.retry_at - utcnow() <= dt.timedelta(hours=24)


async def test_a_notice_to_someone_who_does_not_follow_fails_with_a_reason(
        server: Server, oa: ZaloOaApiDouble) -> None:
    oa.non_followers.add(USER)
    outcome = await server.channel.deliver(USER, "Thông báo")
    assert outcome.status == "failed" and "-213" in (outcome.reason or "")


@pytest.mark.parametrize("status", [429, 503])
async def test_a_notice_hit_by_429_or_5xx_is_retried_later(
        server: Server, oa: ZaloOaApiDouble, status: int) -> None:
    await _wrote(server.core, USER)
    oa.faults.append(OaFault("/v3.0/oa/message/cs", status=status))
    outcome = await server.channel.deliver(USER, "Thông báo")
    assert outcome.status == "retry"


# ---------------------------------------------------------------------- a person takes over


async def test_an_operator_message_goes_only_as_a_customer_service_message_with_buttons(
        server: Server, oa: ZaloOaApiDouble) -> None:
    await _wrote(server.core, USER)
    outcome = await server.channel.deliver_reply(
        USER, Reply("👤 Cán bộ phường:\nChào bác", [Button("👍 Có", "f:+:ho:1")]))
    assert outcome.status == "sent"
    [sent] = oa.messages_to(USER)
    assert sent["text"] == "👤 Cán bộ phường:\nChào bác"
    assert [p.lstrip("#") for p in payloads(sent)] == ["f:+:ho:1"]


async def test_an_operator_message_outside_the_window_is_refused_with_the_reason_never_promoted(
        server: Server, oa: ZaloOaApiDouble) -> None:
    await _wrote(server.core, USER, days_ago=10)
    outcome = await server.channel.deliver_reply(USER, Reply("Chào bác"))
    assert outcome.status == "failed" and "ngoài khung tin tư vấn" in (outcome.reason or "")
    assert oa.count("/v3.0/oa/message/cs") == 0 and oa.messages_to(USER, "promotion") == []
    other = "oa-user-recent"
    await _wrote(server.core, other)  # Zalo itself says -230 although the user wrote recently
    oa.out_of_window.add(other)
    outcome = await server.channel.deliver_reply(other, Reply("Chào bác"))
    assert outcome.status == "failed" and "-230" in (outcome.reason or "")
    assert oa.messages_to(other, "promotion") == []
