"""An area's admin, invited with an ``admin`` code: a member of the code's areas who may also
invite people to those areas, and to no other."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from broadcast import teams
from broadcast.store import SqlNoticeStore
from broadcast.types import Actor, Draft, NoticeError
from console import accounts
from core.models import ConsoleUser, Invite, TeamMember
from tests.broadcast.conftest import ADMIN, AREA, AREA2, payloads, say, tap

LEADER, NEWCOMER = "710001", "710002"


async def _code(core: App, role: str, areas: list[str]) -> str:
    async with core.sessionmaker() as s, s.begin():
        return await teams.create_invite(s, core.settings, Actor.cli("tester"), role, areas)


async def _join(core: App, user: str, role: str, areas: list[str]) -> str:
    code = await _code(core, role, areas)
    [reply] = await say(core, f"/thamgia {code}", user=user)
    return reply.text


async def _invite_in_chat(core: App, user: str, role: str, taps: list[str]) -> list[str]:
    """The area picker's choices offered to ``user``, after tapping ``taps`` in it."""
    [menu] = await say(core, "/thongbao", user=user)
    assert "nb:inv" in payloads([menu])
    [roles] = await tap(core, "nb:inv", user=user)
    assert f"nb:ir:{role}" in payloads([roles])
    [picker] = await tap(core, f"nb:ir:{role}", user=user)
    for p in taps:
        [picker] = await tap(core, p, user=user)
    return [b.payload for b in picker.buttons if b.payload.startswith("nb:ia:")]


async def test_an_area_admin_invites_only_for_their_own_areas(bcore: App) -> None:
    joined = await _join(bcore, LEADER, "admin", [AREA])
    assert "quản trị viên" in joined and "Phường Trần Lãm" in joined
    # The picker offers their area only; a forged tap on another area changes nothing.
    offered = await _invite_in_chat(bcore, LEADER, "member", [f"nb:ia:{AREA2}"])
    assert offered == [f"nb:ia:{AREA}", "nb:ia:ok"]
    [nothing] = await tap(bcore, "nb:ia:ok", user=LEADER)  # no area chosen: no code
    assert "Mã mời" not in nothing.text
    await tap(bcore, f"nb:ia:{AREA}", user=LEADER)
    [made] = await tap(bcore, "nb:ia:ok", user=LEADER)
    code = made.text.split("Mã mời: ")[1].split()[0]
    [ok] = await say(bcore, f"/thamgia {code}", user=NEWCOMER)
    assert "thành viên tổ công nghệ số" in ok.text and "Phường Trần Lãm" in ok.text
    async with bcore.sessionmaker() as s:
        row = (await s.execute(select(Invite).where(Invite.used_by == f"telegram:{NEWCOMER}"))
               ).scalar_one()
    assert row.created_by == f"telegram:{LEADER}" and row.areas == [AREA]


async def test_an_area_admin_can_name_another_admin_of_the_same_area(bcore: App) -> None:
    await _join(bcore, LEADER, "admin", [AREA])
    await _invite_in_chat(bcore, LEADER, "admin", [f"nb:ia:{AREA}"])
    [made] = await tap(bcore, "nb:ia:ok", user=LEADER)
    code = made.text.split("Mã mời: ")[1].split()[0]
    await say(bcore, f"/thamgia {code}", user=NEWCOMER)
    async with bcore.sessionmaker() as s:
        member = await teams.find_member(s, bcore.settings, "telegram", NEWCOMER)
    assert member is not None and member.role == "admin" and member.areas == (AREA,)
    assert not member.everywhere


async def test_the_store_refuses_an_area_admins_invite_for_another_area(bcore: App) -> None:
    await _join(bcore, LEADER, "admin", [AREA])
    async with bcore.sessionmaker() as s, s.begin():
        store = SqlNoticeStore(s, bcore.settings, bcore.content.texts)
        leader = await store.member("telegram", LEADER)
        assert leader is not None
        with pytest.raises(PermissionError):
            await store.invite(leader, "member", [AREA, AREA2])
        admin = await store.member("telegram", ADMIN)  # config.yaml's admin: every area
        assert admin is not None and admin.everywhere
        assert await store.invite(admin, "admin", [AREA2])


async def test_an_area_admins_notices_stay_in_their_areas(bcore: App) -> None:
    await _join(bcore, LEADER, "admin", [AREA])
    async with bcore.sessionmaker() as s, s.begin():
        store = SqlNoticeStore(s, bcore.settings, bcore.content.texts)
        leader = await store.member("telegram", LEADER)
        assert leader is not None
        with pytest.raises(NoticeError) as refused:
            await store.create(leader, Draft(text="Họp tổ", areas=[AREA2], topics=["chung"]))
        assert refused.value.code == "forbidden_area"
        made = await store.create(leader, Draft(text="Họp tổ", areas=[AREA], topics=["chung"]))
        assert made.areas == (AREA,)


async def test_a_code_of_another_role_gives_only_its_own_areas(bcore: App) -> None:
    """A member of one ward made admin of another by that ward's admin is not admin of the
    first: a role is the same in all of one's areas, and the code decides it."""
    await _join(bcore, NEWCOMER, "member", [AREA2])
    await _join(bcore, NEWCOMER, "admin", [AREA])
    async with bcore.sessionmaker() as s:
        row = await s.get(TeamMember, ("telegram", NEWCOMER))
    assert row is not None and row.role == "admin" and row.areas == [AREA]
    await _join(bcore, NEWCOMER, "admin", [AREA2])  # the same role again adds the areas
    async with bcore.sessionmaker() as s:
        row = await s.get(TeamMember, ("telegram", NEWCOMER))
    assert row is not None and row.areas == sorted([AREA, AREA2])


async def test_an_admin_code_never_makes_a_linked_console_account_an_admin(bcore: App) -> None:
    """Console admins act on every area, so an area admin's code cannot give that role to a
    console account: the chat says so and the code stays usable."""
    async with bcore.sessionmaker() as s, s.begin():
        user, _ = await accounts.add_user(s, bcore.settings, Actor.cli("tester"), "lan",
                                          "member", [AREA2])
        db_user = await s.get(ConsoleUser, user.id)
        assert db_user is not None
        db_user.linked_channel, db_user.linked_user_id = "telegram", NEWCOMER
    code = await _code(bcore, "admin", [AREA])
    [reply] = await say(bcore, f"/thamgia {code}", user=NEWCOMER)
    assert "liên kết với tài khoản trang quản trị" in reply.text
    async with bcore.sessionmaker() as s:
        db_user = (await s.execute(select(ConsoleUser).where(ConsoleUser.name == "lan"))
                   ).scalar_one()
        invite = (await s.execute(select(Invite))).scalar_one()
    assert db_user.role == "member" and db_user.areas == [AREA2]
    assert invite.used_at is None
    [ok] = await say(bcore, f"/thamgia {code}", user=LEADER)  # still works for someone else
    assert "Bạn đã vào tổ" in ok.text
