"""A paper asked for without saying which one (nlu.rules.vague_paper): "làm lại giấy tờ bị mất",
"xin giấy xác nhận" are asked about ("which paper?"), a named paper never is."""

from __future__ import annotations

import pytest

from nlu.rules import core_norm, only_vague, vague_paper


@pytest.mark.parametrize(("text", "kind"), [
    ("tôi muốn làm lại giấy tờ bị mất", "again"),
    ("bị mất hết giấy tờ thì làm sao", "again"),
    ("giấy chứng nhận bị hỏng", "again"),
    ("cho em hỏi xin giấy xác nhận ở đâu ạ", "confirm"),
    ("xin cái giấy xác nhận", "confirm"),
    # The engine's words for a procedure without its name count here too (one list).
    ("đổi giấy tờ bị hỏng", "again"),
    ("xin giấy xác nhận mới", "confirm"),
])
def test_a_paper_without_its_name_is_vague(text: str, kind: str) -> None:
    assert vague_paper(core_norm(text)) == kind


@pytest.mark.parametrize("text", [
    "xin giấy xác nhận cư trú",  # named
    "làm lại giấy khai sinh bị mất",
    "xin giấy xác nhận độc thân",
    "cần giấy tờ gì",  # an aspect of the service being seen, not a paper asked for
    "còn giấy tờ gì nữa không",
    "làm lại căn cước",  # no paper word: the engine's reading stands
])
def test_a_named_paper_or_an_aspect_is_not_vague(text: str) -> None:
    assert vague_paper(core_norm(text)) is None


@pytest.mark.parametrize(("text", "vague"), [
    ("đăng ký cấp mới", True),  # the engine halves its lean to a service
    ("giúp tôi làm lại giấy tờ", True),
    ("đăng ký xe máy", False),
    ("làm lại căn cước", False),
])
def test_one_list_of_vague_words_for_the_engine_and_the_paper_question(text: str,
                                                                       vague: bool) -> None:
    assert only_vague(core_norm(text)) is vague
