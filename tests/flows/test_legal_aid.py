"""The legal-aid check walked through its buttons, as a citizen taps them.

Each test answers by tapping the Yes/No buttons the previous reply offered and asserts the result
key carried by the feedback buttons (aid:yes, aid:no, aid:maybe), never the wording.
"""

from __future__ import annotations

import pytest

from flows.content import Content, load_content
from flows.legal_aid import legal_aid_step
from flows.types import Reply

_RESULT_PREFIX = "f:+:aid:"


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


def _result(reply: Reply) -> str | None:
    """The outcome key of a final reply, or None while questions are still being asked."""
    for b in reply.buttons:
        if b.payload.startswith(_RESULT_PREFIX):
            return b.payload.removeprefix(_RESULT_PREFIX)
    return None


def _tap(content: Content, reply: Reply, answer: str) -> Reply:
    """Tap the button of ``reply`` whose payload ends with ``:<answer>`` (y, n or u)."""
    taps = [b.payload for b in reply.buttons
            if b.payload.startswith(("la:", "lf:")) and b.payload.endswith(":" + answer)]
    assert len(taps) == 1, f"no single {answer!r} button in {reply.buttons}"
    return legal_aid_step(content, taps[0])


def _walk(content: Content, yes_to: set[str], money_trouble: bool) -> tuple[str, int]:
    """Answer every question: Yes for the group ids in ``yes_to``, No otherwise.

    Returns the result key and how many times the financial-hardship question was asked.
    """
    check = content.legal_aid
    assert check is not None
    reply = legal_aid_step(content, "la:0:s")
    money_questions = 0
    for _ in range(2 * len(check.groups) + 2):
        result = _result(reply)
        if result is not None:
            return result, money_questions
        payloads = [b.payload for b in reply.buttons if b.payload.startswith(("la:", "lf:"))]
        if payloads[0].startswith("lf:"):
            money_questions += 1
            reply = _tap(content, reply, "y" if money_trouble else "n")
            continue
        group = check.groups[int(payloads[0].split(":")[1])]
        reply = _tap(content, reply, "y" if group.id in yes_to else "n")
    raise AssertionError("the check never ended")


def test_a_trafficking_victim_qualifies_without_a_money_question(content: Content) -> None:
    # Luật 53/2024/QH15 Điều 61: khoản 6a, no financial condition since 01/7/2025.
    assert _walk(content, {"nan-nhan-mua-ban-nguoi"}, money_trouble=False) == ("yes", 0)


def test_a_16_year_old_crime_victim_with_no_money_trouble_qualifies(content: Content) -> None:
    # Luật 59/2024/QH15 Điều 177 khoản 6: 16-17-year-old victims need no financial test.
    assert _walk(content, {"tuoi-16-18-vu-an-hinh-su"}, money_trouble=False) == ("yes", 0)


def test_an_elderly_person_still_needs_financial_hardship(content: Content) -> None:
    assert _walk(content, {"nguoi-cao-tuoi"}, money_trouble=True) == ("yes", 1)
    assert _walk(content, {"nguoi-cao-tuoi"}, money_trouble=False) == ("no", 1)


def test_someone_in_no_group_is_told_they_may_not_qualify(content: Content) -> None:
    assert _walk(content, set(), money_trouble=False) == ("no", 0)


def test_unsure_ends_with_maybe(content: Content) -> None:
    first = legal_aid_step(content, "la:0:s")
    assert _result(_tap(content, first, "u")) == "maybe"


def test_groups_without_a_financial_test_are_asked_before_those_with_one(
        content: Content) -> None:
    check = content.legal_aid
    assert check is not None
    flags = [g.needs_financial_hardship for g in check.groups]
    assert flags == sorted(flags)
    free = {g.id for g in check.groups if not g.needs_financial_hardship}
    assert {"nan-nhan-mua-ban-nguoi", "tuoi-16-18-vu-an-hinh-su"} <= free
