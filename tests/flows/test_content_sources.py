"""Source tiers, short answers and the new schema fields in `trolyso content check`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from flows.content import (
    ANSWER_LIMIT,
    DISCLAIMER_LIMIT,
    MIN_FAQ_QUESTIONS,
    Problem,
    check_content,
    default_content_dir,
    load_content,
)
from flows.source_tiers import SourceTiers


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A writable copy of the shipped content."""
    dst = tmp_path / "content"
    shutil.copytree(default_content_dir(), dst)
    return dst


def _edit_faq(root: Path, topic: str, faq_id: str, **changes: object) -> None:
    path = root / "faq" / f"{topic}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(e for e in data["entries"] if e["id"] == faq_id)
    entry.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _first_faq(root: Path, topic: str = "legal") -> str:
    data = yaml.safe_load((root / "faq" / f"{topic}.yaml").read_text(encoding="utf-8"))
    return str(data["entries"][0]["id"])


def _about(problems: list[Problem], entry: str, field: str) -> list[Problem]:
    return [p for p in problems if p.entry == entry and p.field == field]


def test_a_gossip_site_source_is_an_error(root: Path) -> None:
    fid = _first_faq(root)
    _edit_faq(root, "legal", fid, sources=[
        {"title": "Báo chính thức", "url": "https://vanban.chinhphu.vn/?pageid=27160"},
        {"title": "Trang lá cải", "url": "https://m.ngoisao.vn/theo-dong-su-kien/a.htm"},
    ])
    problems, counts = check_content(root)
    found = _about(problems, fid, "sources")
    assert [p.severity for p in found] == ["error"]
    assert "ngoisao.vn" in found[0].message and "banned" in found[0].message
    assert counts["errors"] >= 1


@pytest.mark.parametrize("url", [
    "https://github.com/someone/copy-of-a-law",
    "https://danhmuc.blogspot.com/p/nghi-quyet.html",
    "https://2sao.vietnamnet.vn/chuyen-la.html",
    "https://thongtintructuyen.net/phuong-an-chi-tiet-sap-nhap-xa-phuong-cua-tinh-thai-binh-173333.html",
])
def test_code_hosts_blogs_and_gossip_subdomains_are_banned(root: Path, url: str) -> None:
    fid = _first_faq(root)
    _edit_faq(root, "legal", fid, sources=[{"title": "Nguồn", "url": url}])
    problems, _ = check_content(root)
    assert any(p.severity == "error" and "banned" in p.message
               for p in _about(problems, fid, "sources"))


def test_an_entry_resting_on_news_alone_is_a_warning_not_an_error(root: Path) -> None:
    fid = _first_faq(root)
    _edit_faq(root, "legal", fid, sources=[
        {"title": "VnExpress", "url": "https://vnexpress.net/bai-viet-1.html"}])
    problems, _ = check_content(root)
    found = _about(problems, fid, "sources")
    assert [p.severity for p in found] == ["warning"]
    assert "best source is news" in found[0].message


def test_wikipedia_alone_is_an_error_but_fine_beside_another_source(root: Path) -> None:
    fid = _first_faq(root)
    wiki = {"title": "Wikipedia", "url": "https://vi.wikipedia.org/wiki/VNeID"}
    _edit_faq(root, "legal", fid, sources=[wiki])
    problems, _ = check_content(root)
    assert [p.severity for p in _about(problems, fid, "sources")] == ["error"]

    _edit_faq(root, "legal", fid, sources=[
        wiki, {"title": "Cổng Chính phủ", "url": "https://xaydungchinhsach.chinhphu.vn/a.htm"}])
    problems, _ = check_content(root)
    assert _about(problems, fid, "sources") == []


def test_entries_are_counted_by_their_best_source(root: Path) -> None:
    fid = _first_faq(root)
    before = check_content(root)[1]["tiers"]
    _edit_faq(root, "legal", fid, sources=[
        {"title": "Báo", "url": "https://tuoitre.vn/a.htm"},
        {"title": "Công an", "url": "https://bocongan.gov.vn/a"}])
    after = check_content(root)[1]["tiers"]
    assert sum(after.values()) == sum(before.values())
    assert after["official"] >= 1
    content = load_content(root, strict=False)
    assert content.source_tiers is not None
    assert content.source_tiers.best_tier(
        ["https://tuoitre.vn/a.htm", "https://bocongan.gov.vn/a"]) == "official"


def test_an_unlisted_site_is_a_warning_asking_to_classify_it(root: Path) -> None:
    fid = _first_faq(root)
    _edit_faq(root, "legal", fid, sources=[
        {"title": "Công Chính phủ", "url": "https://vanban.chinhphu.vn/a"},
        {"title": "Trang lạ", "url": "https://trang-la-chua-xep-bac.example.vn/a"}])
    problems, _ = check_content(root)
    found = _about(problems, fid, "sources")
    assert [p.severity for p in found] == ["warning"]
    assert "content/sources.yaml" in found[0].message


def test_the_longest_listed_host_decides_and_www_is_ignored() -> None:
    tiers = load_content(strict=False).source_tiers
    assert tiers is not None
    assert tiers.tier_of("https://2sao.vietnamnet.vn/x") == "banned"
    assert tiers.tier_of("https://vietnamnet.vn/x") == "news"
    assert tiers.tier_of("https://www.baochinhphu.vn/x") == "official"
    assert tiers.tier_of("https://congan.hungyen.gov.vn/x") == "official"
    assert tiers.tier_of("https://notgov.vn/x") == "unlisted"


def test_a_host_in_two_tiers_is_refused() -> None:
    tier = {"description": "tier", "hosts": ["a.vn"]}
    with pytest.raises(ValueError, match="listed under both"):
        SourceTiers.model_validate({"official": tier, "state_press": tier,
                                    "legal_db": {"description": "x x", "hosts": ["b.vn"]},
                                    "news": {"description": "x x", "hosts": ["c.vn"]},
                                    "reference": {"description": "x x", "hosts": ["d.vn"]},
                                    "banned": {"description": "x x", "hosts": ["e.vn"]}})


def test_a_long_answer_is_refused_and_the_rest_belongs_in_more(root: Path) -> None:
    fid = _first_faq(root)
    long = "Câu ngắn để đọc. " * (ANSWER_LIMIT // 16 + 2)
    _edit_faq(root, "legal", fid, answer=long)
    problems, _ = check_content(root)
    assert any(p.severity == "error" and "more" in p.message
               for p in _about(problems, fid, "answer"))

    _edit_faq(root, "legal", fid, answer="Ý chính ngắn gọn trước.", more=long)
    problems, _ = check_content(root)
    assert _about(problems, fid, "answer") == []
    assert load_content(root, strict=False).faq(fid)[1].more.startswith("Câu ngắn")  # type: ignore[index]


def test_every_faq_entry_needs_ten_phrasings(root: Path) -> None:
    fid = _first_faq(root)
    _edit_faq(root, "legal", fid, questions=["một câu hỏi"] * (MIN_FAQ_QUESTIONS - 1))
    problems, _ = check_content(root)
    assert _about(problems, fid, "questions")


def test_an_unconfirmed_faq_field_needs_a_note(root: Path) -> None:
    fid = _first_faq(root)
    _edit_faq(root, "legal", fid, unconfirmed=["answer"], note="")
    problems, _ = check_content(root)
    assert _about(problems, fid, "note")


def test_the_disclaimer_text_is_short(root: Path) -> None:
    texts = yaml.safe_load((root / "texts.yaml").read_text(encoding="utf-8"))
    assert 0 < len(texts["faq.disclaimer"]) <= DISCLAIMER_LIMIT
    texts["faq.disclaimer"] = "Thông tin chung. " * 20
    (root / "texts.yaml").write_text(yaml.safe_dump(texts, allow_unicode=True),
                                     encoding="utf-8")
    problems, _ = check_content(root)
    assert any(p.entry == "faq.disclaimer" for p in problems)


def test_ward_contacts_carry_opening_hours(root: Path) -> None:
    path = root / "locality.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["areas"][0]["one_stop"]["hours"] = "Sáng 7h30–11h30, chiều 13h30–17h"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    content = load_content(root, strict=False)
    assert content.locality is not None
    one_stop = content.locality.areas[0].one_stop
    assert one_stop is not None and one_stop.hours == "Sáng 7h30–11h30, chiều 13h30–17h"


def test_the_shipped_ward_data_cites_only_classified_sites() -> None:
    """Ward contacts and compositions rest on listed sources, never a copy site."""
    problems, _ = check_content(default_content_dir())
    assert [p for p in problems if p.file == "content/locality.yaml"] == []
