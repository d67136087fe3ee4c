"""The editors' inbox and teaching, with the keyword engine (no training here: the retrain
itself is tested in test_learning_bar.py)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select

from core.models import AuditEntry, Feedback, NluModel, TaughtExample, Unanswered
from flows.privacy import mask_for_training
from flows.types import Incoming
from tests.console.conftest import Browser, Server

Browsers = Callable[..., Awaitable[Browser]]


async def say(server: Server, text: str, user: str) -> None:
    await server.core.handle(Incoming("web", user, text=text))


async def tap(server: Server, payload: str, user: str) -> None:
    await server.core.handle(Incoming("web", user, button=payload, kind="button"))


@pytest.fixture
async def editor(server: Server, browsers: Browsers) -> Browser:
    await server.add_user("bientap", "editor")
    b = await browsers("bientap")
    await b.get("/console/")
    return b


async def fill(server: Server) -> None:
    """Unanswered, out-of-scope and 👎 questions from four citizens."""
    await say(server, "giá vàng hôm nay bao nhiêu", "a")  # out of scope
    await say(server, "giá vàng mua ở đâu rẻ", "b")
    await say(server, "mơ hồ quá gọi tôi 0912 345 678", "c")  # only suggested
    await say(server, "làm hộ chiếu hết bao nhiêu tiền, tôi là Nguyễn Văn An", "d")
    await tap(server, "f:-:a:cap-ho-chieu:fee", "d")  # 👎 on the fee answer


def _textarea(page: str) -> list[str]:
    m = re.search(r'<textarea id="texts" name="texts"[^>]*>([^<]*)</textarea>', page)
    assert m is not None
    return m.group(1).splitlines()


def _groups(page: str) -> list[str]:
    return re.findall(r'<h2 id="g\d+">([^<]*)</h2>', page)


async def test_the_inbox_shows_every_kind_masked_grouped_and_without_who_asked(
        server: Server, editor: Browser) -> None:
    await fill(server)
    status, page = await editor.get("/console/inbox")
    assert status == 200
    assert "giá vàng hôm nay bao nhiêu" in page and "giá vàng mua ở đâu rẻ" in page
    assert "0912" not in page and "345 678" not in page and "&lt;số&gt;" in page
    # the 👎 row: its question, the answer given and the label chosen
    assert "làm hộ chiếu hết bao nhiêu tiền" in page
    assert "Trợ lý đã trả lời: Lệ phí: Cấp, cấp lại hộ chiếu phổ thông" in page
    assert "Nhãn trợ lý chọn: Cấp, cấp lại hộ chiếu phổ thông" in page
    for kind in ("Ngoài phạm vi", "Chỉ gợi ý", "👎 Chê câu trả lời"):
        assert kind in page
    # the two gold-price questions are one group of the same need
    assert "2 câu: giá, vàng" in _groups(page)
    for who in ("web:a", ">a<", "user_id"):
        assert who not in page
    status, by_guess = await editor.get("/console/inbox?by=guess")
    assert status == 200 and "Trợ lý đoán: Cấp, cấp lại hộ chiếu" in by_guess


async def test_teaching_a_group_shows_the_masked_text_first_then_saves_it_unlinked(
        server: Server, editor: Browser) -> None:
    await fill(server)
    _, page = await editor.get("/console/inbox")
    index = _groups(page).index("2 câu: giá, vàng")
    keys = re.search(rf'name="keys-{index}" value="([^"]+)"', page)
    assert keys is not None
    status, confirm = await editor.post("/console/inbox/preview", {
        "group": str(index), f"keys-{index}": keys.group(1),
        f"label-{index}": "out_of_scope"})
    assert status == 200 and "Xem lại trước khi lưu" in confirm
    assert sorted(_textarea(confirm)) == ["giá vàng hôm nay bao nhiêu", "giá vàng mua ở đâu rẻ"]
    form = {"keys": keys.group(1), "label": "out_of_scope",
            "texts": "giá vàng hôm nay bao nhiêu\ngiá vàng mua ở đâu rẻ"}
    status, again = await editor.post("/console/inbox/teach", form)
    assert status == 400 and "đánh dấu ô xác nhận" in again  # not confirmed: nothing saved
    async with server.core.sessionmaker() as s:
        assert (await s.execute(select(func.count(TaughtExample.id)))).scalar_one() == 0
    async with editor.http.post(editor.base + "/console/inbox/teach",
                                data={"csrf": editor.csrf, **form, "confirm": "1"},
                                allow_redirects=False) as r:
        assert r.status == 303 and r.headers["Location"] == "/console/learning?ok=taught"
    async with server.core.sessionmaker() as s:
        rows = (await s.execute(select(TaughtExample))).scalars().all()
        left = (await s.execute(select(Unanswered.text).where(
            Unanswered.reviewed_at.is_(None)))).scalars().all()
        audit = (await s.execute(select(AuditEntry).where(
            AuditEntry.action == "learning.teach"))).scalars().all()
        queued = (await s.execute(select(NluModel.state))).scalars().all()
    assert sorted((r.text, r.label, r.state, r.taught_by) for r in rows) == [
        ("giá vàng hôm nay bao nhiêu", "out_of_scope", "pending", "console:bientap"),
        ("giá vàng mua ở đâu rẻ", "out_of_scope", "pending", "console:bientap")]
    columns = set(TaughtExample.__table__.c.keys())
    assert not columns & {"channel", "user_id", "user_ref", "unanswered_id", "feedback_id"}
    assert all("giá vàng" not in t for t in left)  # taught rows leave the inbox
    assert [(a.actor, a.details["examples"]) for a in audit] == [("console:bientap", 2)]
    assert queued in (["queued"], ["training"], ["failed"])
    _, page = await editor.get("/console/inbox")
    assert "giá vàng" not in page and "mơ hồ" in page


async def test_names_and_house_numbers_are_masked_before_the_editor_confirms(
        server: Server, editor: Browser) -> None:
    await fill(server)
    _, page = await editor.get("/console/inbox")
    key = re.search(r'name="pick" value="(f\d+)"', page)
    assert key is not None
    status, confirm = await editor.post("/console/inbox/preview", {
        "pick": key.group(1), "label": "svc_cap-ho-chieu"})
    assert status == 200
    assert "tôi là ***" in confirm and "Nguyễn" not in confirm
    # An edit that brings a name back is masked again and shown before anything is saved.
    status, again = await editor.post("/console/inbox/teach", {
        "keys": key.group(1), "label": "svc_cap-ho-chieu", "confirm": "1",
        "texts": "làm hộ chiếu cho ông Tư ở số nhà 12 hết bao nhiêu"})
    assert status == 409 and "cho ông *** ở số nhà &lt;số&gt; hết bao nhiêu" in again
    async with server.core.sessionmaker() as s:
        assert (await s.execute(select(func.count(TaughtExample.id)))).scalar_one() == 0


async def test_evaluation_questions_are_never_saved_as_examples(
        server: Server, editor: Browser) -> None:
    import yaml

    from tests.conftest import ROOT

    item = yaml.safe_load((ROOT / "tests/data/nlu_eval.yml").read_text(encoding="utf-8"))[0]
    await say(server, "mơ hồ thật", "e")
    _, page = await editor.get("/console/inbox")
    key = re.search(r'name="pick" value="(u\d+)"', page)
    assert key is not None
    status, page = await editor.post("/console/inbox/teach", {
        "keys": key.group(1), "label": "out_of_scope", "confirm": "1",
        "texts": str(item["text"]).upper()})
    assert status == 400 and "trùng câu trong bộ kiểm tra" in page
    async with server.core.sessionmaker() as s:
        assert (await s.execute(select(func.count(TaughtExample.id)))).scalar_one() == 0


async def test_putting_questions_aside_and_removing_an_example(
        server: Server, editor: Browser) -> None:
    await fill(server)
    _, page = await editor.get("/console/inbox")
    picks = re.findall(r'name="pick" value="([uf]\d+)"', page)
    async with editor.http.post(editor.base + "/console/inbox/dismiss", data=[
            ("csrf", editor.csrf), *[("pick", k) for k in picks]],
            allow_redirects=False) as r:
        assert r.status == 303
    _, page = await editor.get("/console/inbox")
    assert "Không còn câu nào cần xem" in page
    async with server.core.sessionmaker() as s, s.begin():
        s.add(TaughtExample(text="giá xăng hôm nay", label="out_of_scope", state="pending",
                            taught_by="console:bientap"))
    async with server.core.sessionmaker() as s:
        example = (await s.execute(select(TaughtExample.id))).scalar_one()
        reviewed = (await s.execute(select(func.count(Feedback.id)).where(
            Feedback.reviewed_label == "dismissed"))).scalar_one()
    assert reviewed == 1
    _, page = await editor.get("/console/learning")
    assert "giá xăng hôm nay" in page
    status, _ = await editor.post(f"/console/learning/examples/{example}/remove", {})
    assert status == 200
    async with server.core.sessionmaker() as s:
        assert (await s.execute(select(func.count(TaughtExample.id)))).scalar_one() == 0


async def test_a_label_that_is_not_in_the_content_is_refused(
        server: Server, editor: Browser) -> None:
    await fill(server)
    _, page = await editor.get("/console/inbox")
    key = re.search(r'name="pick" value="(u\d+)"', page)
    assert key is not None
    status, _ = await editor.post("/console/inbox/preview", {"pick": key.group(1),
                                                             "label": "svc_khong-co"})
    assert status == 400


def test_masking_for_training_keeps_places_and_words_and_hides_people() -> None:
    places = ["Phường Trần Lãm", "Phường Vũ Phúc"]
    assert mask_for_training("Tên tôi là Lê Thị Hoa ở Vũ Phúc, số nhà 15 ngõ 3", places) == \
        "Tên tôi là *** ở Vũ Phúc, số nhà <số> ngõ <số>"
    assert mask_for_training("bà nguyen thi lan hỏi làm VNeID mức 2", places) == \
        "bà *** hỏi làm VNeID mức 2"
    assert mask_for_training("phường Trần Lãm có điểm thu gom pin không", places) == \
        "phường Trần Lãm có điểm thu gom pin không"
    assert mask_for_training("cháu Bình nhà tôi, CCCD 034090001234", places) == \
        "cháu *** nhà tôi, CCCD <số>"
