"""The weekly figures page and its CSV: the numbers a content editor reads, and no personal
data in either."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable

from flows.types import Incoming
from tests.console.conftest import Browser, Server

Browsers = Callable[..., Awaitable[Browser]]
PASSPORT = "Cấp, cấp lại hộ chiếu phổ thông ở trong nước"


async def say(server: Server, channel: str, user: str, text: str) -> None:
    await server.core.handle(Incoming(channel, user, text=text))


async def tap(server: Server, channel: str, user: str, payload: str) -> None:
    await server.core.handle(Incoming(channel, user, button=payload, kind="button"))


async def test_the_week_in_numbers_on_the_page_and_in_the_csv(
        server: Server, browsers: Browsers) -> None:
    # 6 questions: 3 answered (2 passport, 1 birth), 2 out of scope, 1 suggested, 1 person.
    await say(server, "web", "a", "làm hộ chiếu hết bao nhiêu tiền")
    await tap(server, "web", "a", "f:-:a:cap-ho-chieu:fee")
    await say(server, "telegram", "b", "làm hộ chiếu mất mấy ngày, gọi Lan 0912345678")
    await tap(server, "telegram", "b", "f:+:a:cap-ho-chieu:duration")
    await say(server, "web", "c", "khai sinh cần giấy tờ gì")
    await say(server, "web", "d", "giá vàng hôm nay bao nhiêu")
    await say(server, "telegram", "e", "giá vàng mua ở đâu")
    await say(server, "web", "f", "mơ hồ quá")
    await say(server, "web", "g", "cho gặp cán bộ")
    await tap(server, "web", "g", "m")  # a button: not a question
    await server.add_user("bientap", "editor")
    editor = await browsers("bientap")
    status, page = await editor.get("/console/figures")
    assert status == 200
    assert "<strong>7</strong> câu hỏi" in page
    assert "<strong>43 %</strong> trả lời được (3)" in page
    assert "<strong>29 %</strong> ngoài phạm vi (2)" in page
    assert "<strong>14 %</strong> chỉ gợi ý (1)" in page
    assert "<strong>14 %</strong> chuyển người (1)" in page
    assert 'aria-label="Câu hỏi mỗi ngày theo kênh, 7 ngày qua"' in page
    assert "Trang web (5)" in page and "Telegram (2)" in page
    assert f"<td>Lệ phí: {PASSPORT}</td><td>0</td><td>1</td>" in page
    assert f"<td>Thời gian: {PASSPORT}</td><td>1</td><td>0</td>" in page
    # the unanswered group, named by its shared words; the service asked about most
    assert re.search(r">2</text><text [^>]*>giá, vàng</text>", page)
    assert re.search(rf">2</text><text [^>]*>{PASSPORT}</text>", page)
    for private in ("0912", "Lan", "hôm nay bao nhiêu", "mua ở đâu", "mơ hồ"):
        assert private not in page
    async with editor.http.get(editor.base + "/console/figures.csv") as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
        body = (await r.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["bang", "ngay", "kenh", "muc", "so"]
    assert ["ket_qua", "", "", "answered", "3"] in rows
    assert ["nhom_chua_tra_loi", "", "", "giá, vàng", "2"] in rows
    assert ["dich_vu_hoi_nhieu", "", "", PASSPORT, "2"] in rows
    assert ["danh_gia_xuong", "", "", f"Lệ phí: {PASSPORT}", "1"] in rows
    assert sum(int(r[4]) for r in rows if r[0] == "cau_hoi_moi_ngay") == 7
    for private in ("0912", "Lan", "hôm nay", "mơ hồ", "web:", "telegram:"):
        assert private not in body
    status, _ = await editor.get("/console/figures?days=30")
    assert status == 200


async def test_a_member_of_the_team_cannot_read_the_figures(server: Server,
                                                            browsers: Browsers) -> None:
    await server.add_user("lan", "member", ["12454"])
    member = await browsers("lan")
    status, _ = await member.get("/console/figures")
    assert status == 403
