"""Content rules that protect citizens: the shipped content passes every check."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import yaml

from bot.channels import text_limits
from flows.content import (
    MAX_SENTENCE_WORDS,
    check_content,
    default_content_dir,
    load_content,
    readability_problems,
)
from flows.services import render_all

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_content_has_no_errors() -> None:
    problems, counts = check_content(render=render_all, text_limits=text_limits())
    errors = [str(p) for p in problems if p.severity == "error"]
    assert errors == []
    assert counts["entries"] > 100


def test_every_catalogue_service_has_content_with_the_same_id_name_and_group() -> None:
    content = load_content()
    spec = yaml.safe_load((ROOT.parent / "shared/spec/services.yaml").read_text()) \
        if (ROOT.parent / "shared/spec/services.yaml").exists() else None
    catalogue = spec["services"] if spec else content.catalogue.entries
    assert len(catalogue) == 53
    for entry in catalogue:
        svc = content.services[entry["id"]]
        assert (svc.name, svc.group) == (entry["name"], entry["group"])


def test_every_interface_text_the_code_uses_exists() -> None:
    texts = load_content().texts
    used: set[str] = set()
    for py in [*(ROOT / "flows").glob("*.py"), ROOT / "broadcast" / "chat.py"]:
        used |= set(re.findall(r'\.text\(\s*"([a-z_.]+)"', py.read_text()))
        used |= set(re.findall(r'content\.text\(\s*f?"([a-z_]+)\.', py.read_text()))
    missing = sorted(k for k in used if k not in texts and not any(
        t.startswith(k + ".") for t in texts))
    assert missing == []


def test_messages_are_held_to_the_limits_the_channels_declare(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(default_content_dir(), root)
    path = root / "faq" / sorted(p.name for p in (root / "faq").glob("*.yaml"))[0]
    data = yaml.safe_load(path.read_text())
    data["entries"][0]["answer"] = "Câu trả lời ngắn. " * 150  # about 2,700 characters
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    problems, _ = check_content(root, text_limits=text_limits())
    over = [p.message for p in problems if p.entry == data["entries"][0]["id"]
            and "characters, over" in p.message and "'s " in p.message]
    assert len(over) == 1 and "zalo_bot/zalo_oa's 2000" in over[0]


def test_readability_limit_flags_long_sentences() -> None:
    long = " ".join(["chữ"] * (MAX_SENTENCE_WORDS + 1)) + "."
    assert readability_problems("f", "e", "x", long)
    assert not readability_problems("f", "e", "x", "Câu ngắn. Câu ngắn nữa.")


def test_a_broken_content_file_is_reported_by_name_and_the_rest_still_loads(
        tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(default_content_dir(), root)
    (root / "services" / "cap-ho-chieu.yaml").write_text("id: cap-ho-chieu\nsummary: [unclosed\n")
    (root / "services" / "dang-ky-khai-sinh.yaml").write_text(
        (root / "services" / "dang-ky-khai-sinh.yaml").read_text().replace(
            "reviewed:", "fee_typo: 1\nreviewed:"))
    problems, _ = check_content(root)
    text = "\n".join(str(p) for p in problems)
    assert "cap-ho-chieu.yaml: -: -:" in text and "not valid YAML" in text
    assert "dang-ky-khai-sinh: fee_typo: Extra inputs are not permitted" in text
    content = load_content(root, strict=False)
    assert "dang-ky-tam-tru" in content.services  # the rest is served


def test_stale_reviews_are_reported() -> None:
    problems, counts = check_content(today=dt.date(2030, 1, 1), max_review_age_days=365)
    assert counts["stale_reviews"] > 0
    assert any("older than 365 days" in p.message for p in problems)
