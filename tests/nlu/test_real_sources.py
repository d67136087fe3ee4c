"""bench/real_sources.py: the page and overlap checks used before adding real questions."""

import importlib.util
from pathlib import Path

import pytest

_path = Path(__file__).resolve().parents[2] / "bench" / "real_sources.py"
_spec = importlib.util.spec_from_file_location("real_sources", _path)
assert _spec and _spec.loader
rs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rs)


def test_page_addresses_compare_without_scheme_prefix_or_slash() -> None:
    assert rs.norm_url("https://www.Example.vn/a/") == rs.norm_url("http://example.vn/a")
    assert rs.norm_url("https://m.baomoi.com/x#top") == "baomoi.com/x"


def test_text_is_folded_before_shingling() -> None:
    assert rs.fold("Đăng ký KHAI SINH, cho con!") == ["dang", "ky", "khai", "sinh", "cho", "con"]
    a = rs.shingles("Tôi muốn hỏi thủ tục đăng ký khai sinh cho con tôi ở xã")
    b = rs.shingles("toi muon hoi thu tuc dang ky khai sinh cho con toi o xa!")
    assert a == b and len(a) == 7  # 14 words


def test_a_used_page_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    rs.main(["--url", "https://luattoanquoc.com/nghi-viec-3-thang-duoc-huong-nghiep-nua-khong/",
             "https://example.invalid/new"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("USED in bench/data/nlu_real_dev2.yml")
    assert out[1].startswith("new")
