"""Privacy (issue 13): phone and ID numbers masked in every common form, /xoadulieu deletes
everything held about the citizen, /dulieucuatoi shows it; web chat and terminal sessions never
carry team or admin rights."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.app import App
from bot.channels import bind
from broadcast import subscriptions, teams
from broadcast.types import Actor
from core.config import AdminCfg, ConfigError
from core.db import make_engine, upgrade
from core.models import ConsoleUser, Invite, MessageLog, Unanswered
from core.privacy import NUMBER_MASK, mask_numbers, user_key
from core.storage import USER_DATA
from flows.safety import scrub
from flows.types import Incoming, Reply
from tests.conftest import settings_for

USER, OTHER = "700001", "700002"

PHONES_AND_IDS = [
    "0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "0912,345,678",
    "0912/345/678", "+84 912 345 678", "+84912345678", "(+84) 912-345-678", "84-912-345-678",
    "(028) 3823 4567", "028.3823.4567", "0 9 1 2 3 4 5 6 7 8", "091 234 5678",
    "123456789", "123 456 789", "079123456789", "079 123 456 789", "079.123.456.789",
    "079-123-456-789", "079,123,456,789", "079/123/456/789", "3823 4567",
]


@pytest.mark.parametrize("number", PHONES_AND_IDS)
def test_every_common_form_of_a_phone_or_id_number_is_masked(number: str) -> None:
    for sentence in (f"số của tôi là {number} nhé", f"{number}", f"sđt:{number}.",
                     f"gọi ({number}) giúp"):
        masked = mask_numbers(sentence)
        assert NUMBER_MASK in masked, masked
        assert sum(c.isdigit() for c in masked) < 3, masked
        assert scrub(sentence) == masked[:500]
        assert mask_numbers(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize("kept", ["ngày 12/05/2024", "năm 2024 tôi 45 tuổi", "lệ phí 50.000 đồng",
                                  "tờ khai số 2, mục 3", "115"])
def test_dates_sums_and_short_numbers_stay(kept: str) -> None:
    assert mask_numbers(kept) == kept


def test_emails_are_masked() -> None:
    assert mask_numbers("gửi về an.nguyen+1@mail.gov.vn nhé") == "gửi về <email> nhé"


async def _say(core: App, words: str, user: str = USER, channel: str = "telegram"
               ) -> list[Reply]:
    return await core.handle(Incoming(channel, user, text=words)) or []


async def _tap(core: App, payload: str, user: str = USER) -> list[Reply]:
    return await core.handle(Incoming("telegram", user, button=payload, kind="button")) or []


async def test_the_message_log_and_the_unanswered_log_hold_no_number(core: App) -> None:
    await _say(core, "giá vàng hôm nay, gọi tôi 0912,345,678 hoặc (+84) 912/345/678")
    async with core.sessionmaker() as s:
        logged = (await s.execute(select(MessageLog.text))).scalars().all()
        unanswered = (await s.execute(select(Unanswered))).scalars().all()
    assert logged and unanswered
    for stored in [*logged, *(u.text for u in unanswered)]:
        assert stored is not None and not re.search(r"\d{3}", stored), stored
    assert unanswered[0].user_key == user_key("telegram", USER)
    assert USER not in str(unanswered[0].user_key)  # the inbox does not show who asked


async def _everything(core: App, user: str) -> None:
    """Data about ``user`` in as many places as the flows put it."""
    await _say(core, "giá vàng hôm nay", user)  # message log, unanswered
    await _say(core, "hộ chiếu bao nhiêu tiền", user)
    await _tap(core, "f:+:a:cap-ho-chieu:fee", user)  # feedback
    async with core.sessionmaker() as s, s.begin():
        await subscriptions.save_subscription(s, "telegram", user, ["12454"], ["chung"], "t")
        code = await teams.create_invite(s, core.settings, Actor.cli("t"), "member", ["12454"])
        s.add(ConsoleUser(name=f"c{user}", role="editor", created_by="cli:t",
                          linked_channel="telegram", linked_user_id=user))
    await _say(core, f"/thamgia {code}", user)  # team seat; the invite names who used it


async def _counts(core: App, user: str) -> dict[str, int]:
    out: dict[str, int] = {}
    async with core.sessionmaker() as s:
        for model, ch, uid in USER_DATA:
            out[model.__tablename__] = (await s.execute(
                select(func.count()).select_from(model).where(ch == "telegram", uid == user)
            )).scalar_one()
        out["unanswered"] = (await s.execute(select(func.count()).select_from(Unanswered).where(
            Unanswered.user_key == user_key("telegram", user)))).scalar_one()
        out["console_links"] = (await s.execute(select(func.count()).select_from(ConsoleUser)
                                                .where(ConsoleUser.linked_user_id == user))
                                ).scalar_one()
        out["invites_used"] = (await s.execute(select(func.count()).select_from(Invite).where(
            Invite.used_by == f"telegram:{user}"))).scalar_one()
    return out


async def test_xoadulieu_deletes_everything_held_about_the_citizen_and_nothing_else(
        core: App) -> None:
    await _everything(core, USER)
    await _everything(core, OTHER)
    before = await _counts(core, USER)
    for table in ("message_log", "unanswered", "feedback", "subscriptions", "conversations",
                  "users", "console_links", "invites_used"):
        assert before[table] > 0, f"the test made no {table} row: it would prove nothing"
    await _say(core, "/xoadulieu")
    [done] = await _tap(core, "del:y")
    assert done.text == core.content.text("privacy.deleted")
    after = await _counts(core, USER)
    assert after == {k: 0 for k in after}, after
    assert await _counts(core, OTHER) == before  # the other citizen keeps everything


async def test_dulieucuatoi_shows_what_is_stored_masked_and_how_to_delete(core: App) -> None:
    [none] = await _say(core, "/dulieucuatoi", user="nobody")
    assert none.text == core.content.text("privacy.mine_none")
    await _say(core, "giá vàng hôm nay, số tôi 0912,345,678")
    await _say(core, "hộ chiếu bao nhiêu tiền")
    async with core.sessionmaker() as s, s.begin():
        await subscriptions.save_subscription(s, "telegram", USER, ["12454"], ["chung"], "t")
    [mine] = await _say(core, "/dulieucuatoi")
    t = core.content.text
    assert t("privacy.mine.messages", n=2) in mine.text
    assert t("privacy.mine.unanswered", n=1) in mine.text
    assert t("privacy.mine.subscription", areas="Phường Trần Lãm") in mine.text
    assert "0912" not in mine.text and NUMBER_MASK in mine.text  # recent questions, masked
    assert "/xoadulieu" in mine.text
    assert "del:?" in [b.payload for b in mine.buttons]
    [confirm] = await _tap(core, "del:?")
    assert confirm.text == t("privacy.confirm")
    assert [b.payload for b in confirm.buttons] == ["del:y", "del:n"]


async def test_dulieucuatoi_works_on_every_channel(core: App) -> None:
    for channel in ("telegram", "zalo_bot", "zalo_oa", "web", "terminal"):
        await _say(core, "giá vàng hôm nay", channel=channel)
        [mine] = await _say(core, "/dulieucuatoi", channel=channel)
        assert core.content.text("privacy.mine.messages", n=1) in mine.text, channel


async def test_help_lists_dulieucuatoi(core: App) -> None:
    [help_] = await _say(core, "/trogiup")
    assert "/dulieucuatoi" in help_.text and "/xoadulieu" in help_.text


# ------------------------------------------------------------------ who may do what


@pytest.mark.parametrize("channel", ["web", "terminal"])
def test_a_web_or_terminal_admin_is_a_one_line_configuration_error(
        tmp_path: Path, channel: str) -> None:
    s = settings_for("sqlite+aiosqlite:///x.db", tmp_path)
    s = s.model_copy(update={"admins": [AdminCfg(channel="telegram", user_id="1"),
                                        AdminCfg(channel=channel, user_id="2")]})
    with pytest.raises(ConfigError) as err:
        bind(s)
    message = str(err.value)
    assert "\n" not in message and message.startswith("admins.1.channel:"), message
    assert repr(channel) in message


async def test_web_and_terminal_sessions_never_get_team_rights(core: App) -> None:
    async with core.sessionmaker() as s, s.begin():
        code = await teams.create_invite(s, core.settings, Actor.cli("t"), "member", ["12454"])
        link = await teams.create_invite(s, core.settings, Actor.cli("t"), "member", ["12454"])
    for channel in ("web", "terminal"):
        [join] = await _say(core, f"/thamgia {code}", user="w1", channel=channel)
        assert join.text == core.content.text("team.citizen_only")
        [linked] = await _say(core, f"/lienket {link}", user="w1", channel=channel)
        assert linked.text == core.content.text("team.citizen_only")
        [compose] = await _say(core, "/thongbao", user="w1", channel=channel)
        assert compose.text.startswith(core.content.text("team.only")[:30])
    # The code was not spent: a Telegram account can still use it.
    [ok] = await _say(core, f"/thamgia {code}", user="tg1")
    assert ok.text.startswith("✅")


async def test_a_web_admin_in_settings_has_no_rights_even_unchecked(core: App) -> None:
    # Settings built around the check (a test, a script) still give a web session nothing.
    settings = core.settings.model_copy(update={"admins": [AdminCfg(channel="web",
                                                                    user_id="w9")]})
    settings._channels = core.settings._channels
    assert not settings.is_admin("web", "w9")
    async with core.sessionmaker() as s:
        assert await teams.find_member(s, settings, "web", "w9") is None


# ------------------------------------------------------------------ migration


async def test_0011_keys_new_unanswered_rows_and_masks_stored_texts_in_place(
        fresh_db_url: str) -> None:
    await upgrade(fresh_db_url, "0008")
    engine = make_engine(fresh_db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO message_log (channel, user_id, text, created_at) VALUES "
                "('telegram', '1', 'gọi 0912,345,678', CURRENT_TIMESTAMP)"))
            await conn.execute(text(
                "INSERT INTO unanswered (text, guesses, decision, created_at) VALUES "
                "('cccd 079/123/456/789', '{}', 'fallback', CURRENT_TIMESTAMP)"))
        await upgrade(fresh_db_url)
        async with engine.connect() as conn:
            logged = (await conn.execute(text("SELECT text FROM message_log"))).scalar_one()
            row = (await conn.execute(text("SELECT text, user_key FROM unanswered"))).one()
    finally:
        await engine.dispose()
    assert logged == f"gọi {NUMBER_MASK}"
    assert row == (f"cccd {NUMBER_MASK}", None)  # old rows cannot be tied to anyone
