"""Team members join with a one-time code and compose notices in chat (/thongbao)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from bot.app import App
from broadcast import audit, teams
from broadcast.types import Actor
from core.db import utcnow
from core.models import Announcement, Invite, OutboxItem, TeamMember
from tests.broadcast.conftest import ADMIN, AREA, AREA2, payloads, say, subscribe, tap

MEMBER = "700001"


async def invite(core: App, role: str = "member", areas: list[str] | None = None) -> str:
    async with core.sessionmaker() as s, s.begin():
        return await teams.create_invite(s, core.settings, Actor.cli("tester"), role,
                                         areas or [AREA])


async def join(core: App, user: str = MEMBER, areas: list[str] | None = None) -> None:
    code = await invite(core, areas=areas)
    [ok] = await say(core, f"/thamgia {code}", user=user)
    assert "Bạn đã vào tổ" in ok.text


async def test_a_citizen_cannot_compose(score: App) -> None:
    [reply] = await say(score, "/thongbao")
    assert "dành cho Tổ công nghệ số" in reply.text
    [again] = await tap(score, "nb:new")
    assert "dành cho Tổ công nghệ số" in again.text


async def test_an_invite_code_works_once_in_any_case_and_is_audited(score: App) -> None:
    code = await invite(score, "radio", [AREA, AREA2])
    [ok] = await say(score, f"/thamgia {code.lower().replace('-', ' ')}", user=MEMBER)
    assert "phát thanh viên" in ok.text and "Phường Trần Lãm" in ok.text
    [reused] = await say(score, f"/thamgia {code}", user="someone-else")
    assert "không đúng, đã dùng rồi" in reused.text
    async with score.sessionmaker() as s:
        member = await s.get(TeamMember, ("telegram", MEMBER))
        actions = [(e.actor, e.action) for e in await audit.entries(s)]
    assert member is not None and member.role == "radio" and member.areas == [AREA, AREA2]
    assert ("cli:tester", "team.invite") in actions
    assert (f"telegram:{MEMBER}", "team.join") in actions


async def test_an_expired_code_is_refused(score: App) -> None:
    code = await invite(score)
    async with score.sessionmaker() as s, s.begin():
        await s.execute(update(Invite).values(expires_at=utcnow() - dt.timedelta(minutes=1)))
    [reply] = await say(score, f"/thamgia {code}", user=MEMBER)
    assert "hết hạn" in reply.text


async def test_an_admin_creates_an_invite_in_chat(score: App) -> None:
    [menu] = await say(score, "/thongbao", user=ADMIN)
    assert "nb:inv" in payloads([menu])
    await tap(score, "nb:inv", user=ADMIN)
    await tap(score, "nb:ir:member", user=ADMIN)
    await tap(score, f"nb:ia:{AREA2}", user=ADMIN)
    [code_reply] = await tap(score, "nb:ia:ok", user=ADMIN)
    code = code_reply.text.split("Mã mời: ")[1].split()[0]
    [ok] = await say(score, f"/thamgia {code}", user=MEMBER)
    assert "Phường Trần Hưng Đạo" in ok.text


async def test_a_member_cannot_create_invites(score: App) -> None:
    await join(score)
    [menu] = await say(score, "/thongbao", user=MEMBER)
    assert "nb:inv" not in payloads([menu])
    [refused] = await tap(score, "nb:inv", user=MEMBER)
    assert "Chỉ quản trị viên" in refused.text


async def compose_until_preview(core: App, user: str, text: str, area: str) -> str:
    await say(core, "/thongbao", user=user)
    await tap(core, "nb:new", user=user)
    [picker] = await say(core, text, user=user)
    chosen = [b.payload for b in picker.buttons if b.label.startswith("✅")]
    if f"nb:a:{area}" not in chosen:  # one area only: it comes already chosen
        await tap(core, f"nb:a:{area}", user=user)
    await tap(core, "nb:a:ok", user=user)
    await tap(core, "nb:t:tiem-chung", user=user)
    await tap(core, "nb:t:ok", user=user)
    await tap(core, "nb:p:priority", user=user)
    [preview] = await tap(core, "nb:w:now", user=user)
    return preview.text


async def test_compose_preview_confirm_sends_to_matching_subscribers_only(score: App) -> None:
    await join(score)
    await subscribe(score, ["s1", "s2"], topics=["tiem-chung"])
    await subscribe(score, ["s3"], topics=["dien-nuoc"])  # another topic
    await subscribe(score, ["s4"], areas=[AREA2], topics=["tiem-chung"])  # another area
    preview = await compose_until_preview(
        score, MEMBER, "Tiêm vắc-xin sởi\nSáng thứ Bảy, trạm y tế phường.", AREA)
    assert "THÔNG BÁO ƯU TIÊN: Tiêm vắc-xin sởi" in preview
    assert "Số người đang đăng ký nhận: 2" in preview
    async with score.sessionmaker() as s:
        assert (await s.execute(select(Announcement))).first() is None  # not before confirm
    [done] = await tap(score, "nb:ok", user=MEMBER)
    assert "tới 2 người" in done.text
    async with score.sessionmaker() as s:
        rows = (await s.execute(select(OutboxItem.user_id, OutboxItem.priority))).all()
        ann = (await s.execute(select(Announcement))).scalar_one()
        actions = [(e.actor, e.action) for e in await audit.entries(s)]
    assert sorted(rows) == [("s1", "priority"), ("s2", "priority")]
    assert ann.author == f"telegram:{MEMBER}" and ann.areas == [AREA]
    assert (f"telegram:{MEMBER}", "announce.create") in actions


async def test_a_preview_that_reaches_nobody_says_so_before_confirming(score: App) -> None:
    await join(score)
    preview = await compose_until_preview(score, MEMBER, "Họp tổ dân phố tối nay", AREA)
    assert "Số người đang đăng ký nhận: 0" in preview
    assert "chưa tới được ai" in preview
    await subscribe(score, ["s1"], topics=["tiem-chung"])
    again = await compose_until_preview(score, MEMBER, "Tiêm chủng\nSáng mai.", AREA)
    assert "chưa tới được ai" not in again


async def test_with_the_loudspeakers_on_the_preview_shows_what_will_be_read(
        score: App) -> None:
    await join(score)
    preview = await compose_until_preview(
        score, MEMBER, "Cắt điện ngày 30/11 từ 7h30\nLiên hệ UBND phường.", AREA)
    assert "Loa phường sẽ đọc" not in preview
    [on] = await tap(score, "nb:r", user=MEMBER)
    spoken = on.text.split("Loa phường sẽ đọc như sau:", 1)[1]
    assert "ngày ba mươi tháng mười một từ bảy giờ ba mươi phút" in spoken
    assert "ủy ban nhân dân phường" in spoken and "30/11" not in spoken
    [off] = await tap(score, "nb:r", user=MEMBER)
    assert "Loa phường sẽ đọc" not in off.text


async def test_a_member_only_sees_and_targets_their_own_areas(score: App) -> None:
    await join(score)
    await say(score, "/thongbao", user=MEMBER)
    await tap(score, "nb:new", user=MEMBER)
    [areas] = await say(score, "Cắt điện chiều nay", user=MEMBER)
    assert payloads([areas]) == [f"nb:a:{AREA}", "nb:a:ok"]
    [still] = await tap(score, f"nb:a:{AREA2}", user=MEMBER)  # a forged button
    assert still.buttons[0].label == "✅ Phường Trần Lãm"
    assert "Trần Hưng Đạo" not in " ".join(b.label for b in still.buttons)


async def test_a_notice_at_a_typed_time_is_scheduled_not_sent(score: App) -> None:
    await subscribe(score, ["s1"])
    await say(score, "/thongbao", user=ADMIN)
    await tap(score, "nb:new", user=ADMIN)
    await say(score, "Hạn nộp hồ sơ", user=ADMIN)
    await tap(score, f"nb:a:{AREA}", user=ADMIN)
    await tap(score, "nb:a:ok", user=ADMIN)
    await tap(score, "nb:t:*", user=ADMIN)
    await tap(score, "nb:p:normal", user=ADMIN)
    await tap(score, "nb:w:at", user=ADMIN)
    [bad] = await say(score, "khi nào cũng được", user=ADMIN)
    assert "chưa đọc được giờ" in bad.text
    when = (dt.datetime.now(score.tz) + dt.timedelta(days=2)).replace(hour=7, minute=30)
    [preview] = await say(score, when.strftime("%d/%m 07:30"), user=ADMIN)
    assert "07:30 ngày " + when.strftime("%d/%m/%Y") in preview.text
    [done] = await tap(score, "nb:ok", user=ADMIN)
    assert "Đã hẹn gửi" in done.text
    async with score.sessionmaker() as s:
        ann = (await s.execute(select(Announcement))).scalar_one()
        assert await s.scalar(select(OutboxItem.id)) is None
    assert ann.state == "scheduled"
    assert ann.first_at == when.replace(second=0, microsecond=0).astimezone(dt.UTC)


async def test_a_weekly_notice_keeps_its_weekday_and_time(score: App) -> None:
    await say(score, "/thongbao", user=ADMIN)
    await tap(score, "nb:new", user=ADMIN)
    await say(score, "Họp tổ dân phố", user=ADMIN)
    for p in (f"nb:a:{AREA}", "nb:a:ok", "nb:t:*", "nb:p:normal", "nb:w:weekly", "nb:d:0"):
        await tap(score, p, user=ADMIN)
    [preview] = await say(score, "19:00", user=ADMIN)
    assert "Thứ Hai hằng tuần lúc 19:00" in preview.text
    await tap(score, "nb:ok", user=ADMIN)
    async with score.sessionmaker() as s:
        ann = (await s.execute(select(Announcement))).scalar_one()
    first = ann.first_at.astimezone(score.tz)
    assert (ann.repeat, first.weekday(), first.hour, first.minute) == ("weekly", 0, 19, 0)


async def test_list_and_cancel_in_chat(score: App) -> None:
    await join(score)
    await compose_until_preview(score, MEMBER, "Tiêm chủng", AREA)
    await tap(score, "nb:w:at", user=MEMBER)
    await say(score, "23:59", user=MEMBER)
    await tap(score, "nb:ok", user=MEMBER)
    [listing] = await tap(score, "nb:list", user=MEMBER)
    assert "Số 1: Tiêm chủng" in listing.text and "nb:c:1" in payloads([listing])
    [confirm] = await tap(score, "nb:c:1", user=MEMBER)
    assert payloads([confirm]) == ["nb:cy:1", "nb:cn:1"]
    [done] = await tap(score, "nb:cy:1", user=MEMBER)
    assert "Đã hủy thông báo số 1" in done.text
    async with score.sessionmaker() as s:
        ann = (await s.execute(select(Announcement))).scalar_one()
        actions = [e.action for e in await audit.entries(s)]
    assert ann.state == "cancelled" and "announce.cancel" in actions


async def test_a_member_cannot_cancel_a_notice_beyond_their_areas(score: App) -> None:
    await join(score)
    await say(score, "/thongbao", user=ADMIN)
    await tap(score, "nb:new", user=ADMIN)
    await say(score, "Toàn phường", user=ADMIN)
    for p in (f"nb:a:{AREA}", f"nb:a:{AREA2}", "nb:a:ok", "nb:t:*", "nb:p:normal", "nb:w:at"):
        await tap(score, p, user=ADMIN)
    await say(score, "23:58", user=ADMIN)
    await tap(score, "nb:ok", user=ADMIN)
    [listing] = await tap(score, "nb:list", user=MEMBER)
    assert "Không có thông báo" in listing.text  # not theirs to see
    [refused] = await tap(score, "nb:cy:1", user=MEMBER)
    assert "khu vực mình phụ trách" in refused.text
    async with score.sessionmaker() as s:
        assert (await s.execute(select(Announcement.state))).scalar_one() == "scheduled"


async def test_abandoning_a_draft_sends_nothing(score: App) -> None:
    await subscribe(score, ["s1"])
    await compose_until_preview(score, ADMIN, "Nháp", AREA)
    [gone] = await tap(score, "nb:x", user=ADMIN)
    assert "Đã bỏ bản nháp" in gone.text
    [stale] = await tap(score, "nb:ok", user=ADMIN)  # the old preview's button
    assert "nb:new" in payloads([stale])
    async with score.sessionmaker() as s:
        assert (await s.execute(select(Announcement))).first() is None
