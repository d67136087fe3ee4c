"""The spoken form: the case table, and what an operator relies on when editing a script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from broadcast.radio.cases import Case, load_cases, matches
from broadcast.radio.normalize import DEFAULT_LEXICON_PATH, Lexicon, Normalizer, load_lexicon
from flows.content import load_content

CASES = load_cases(Path(__file__).with_name("cases.yaml"))


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer.from_file()


def test_the_case_table_is_broad() -> None:
    assert len(CASES) >= 200


@pytest.mark.parametrize("case", CASES, ids=[c.text[:40] for c in CASES])
def test_case_table(normalizer: Normalizer, case: Case) -> None:
    out = normalizer.spoken(case.text)
    assert matches(out, case), f"{case.text!r} -> {out!r}; accepted: {case.expected}"


def test_no_digit_remains_in_any_case(normalizer: Normalizer) -> None:
    leftovers = [c.text for c in CASES if re.search(r"\d", normalizer.spoken(c.text))]
    assert leftovers == []


def test_one_spoken_line_per_input_line(normalizer: Normalizer) -> None:
    out = normalizer.spoken("UBND phường thông báo:\n\nHọp lúc 7h30.")
    assert out.split("\n") == [
        "ủy ban nhân dân phường thông báo:", "", "Họp lúc bảy giờ ba mươi phút."
    ]


def test_an_edited_script_is_not_changed_again(normalizer: Normalizer) -> None:
    script = "\n".join(normalizer.spoken(c.text) for c in CASES)
    assert normalizer.spoken(script) == script


def test_words_joined_by_a_slash_without_a_quantity_are_not_a_rate(
    normalizer: Normalizer,
) -> None:
    # "mỗi" (each) belongs to prices and rates, not to a form's labels.
    assert "mỗi" not in normalizer.spoken("Ghi rõ ngày/tháng/năm sinh")
    assert "mỗi" in normalizer.spoken("Hỗ trợ 15 kg gạo/người/tháng")


def test_a_service_number_keeps_one_reading_through_a_list(normalizer: Normalizer) -> None:
    out = normalizer.spoken("Nối với 113, 114 và 115.")
    assert out == "Nối với một một ba, một một bốn và một một năm."
    assert normalizer.spoken("Có 113, 114 và 115 hộ.") == (
        "Có một trăm mười ba, một trăm mười bốn và một trăm mười lăm hộ."
    )


def test_the_content_lexicon_drives_abbreviations(tmp_path: Path) -> None:
    n = Normalizer({"HTX": "hợp tác xã nông nghiệp"}, Lexicon())
    assert n.spoken("HTX Vũ Phúc") == "hợp tác xã nông nghiệp Vũ Phúc"


def test_an_abbreviation_missing_from_the_lexicon_is_spelled_in_vietnamese() -> None:
    n = Normalizer({}, Lexicon())
    assert n.spoken("UBND") == "u bê en nờ dê"


def test_content_loader_reads_the_same_entries() -> None:
    content = load_content(DEFAULT_LEXICON_PATH.parent, strict=False)
    assert content.lexicon == load_lexicon()


def test_a_reading_with_digits_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "lexicon.yaml"
    bad.write_text('entries:\n  C06: "C 06"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="C06"):
        load_lexicon(bad)
