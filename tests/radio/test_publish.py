"""Feeds and playlists of published bulletins: well-formed, escaped, newest first."""

from __future__ import annotations

import json
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcast.radio.bulletin import build_bulletin, bulletin_dir
from broadcast.radio.normalize import Normalizer
from broadcast.radio.publish import ITUNES, list_bulletins, render_feed, render_m3u, resolve_file
from broadcast.radio.tts import EspeakEngine
from core.config import RadioSettings

BASE = "https://trolyso.example.vn"


def _publish(root: Path, day: str, hhmm: str, title: str, size: int = 1000) -> None:
    """A bulletin as published before file names carried the date and area ("0600-normal-x")."""
    folder = root / "12454" / day
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{hhmm}-normal-x"
    (folder / f"{stem}.mp3").write_bytes(b"\xff" * size)
    (folder / f"{stem}.txt").write_text("ủy ban nhân dân <phường> & tổ dân phố", encoding="utf-8")
    meta = {"id": f"12454-{day}-{hhmm}", "title": title, "area_code": "12454",
            "area_name": "Phường Trần Lãm", "priority": "normal",
            "created_at": f"{day}T{hhmm[:2]}:{hhmm[2:]}:00+07:00", "duration_s": 125.4,
            "mp3": f"{stem}.mp3", "transcript": f"{stem}.txt"}
    (folder / f"{stem}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def test_feed_is_valid_rss_with_enclosures_newest_first(tmp_path: Path) -> None:
    _publish(tmp_path, "2025-11-14", "0600", "Sáng")
    _publish(tmp_path, "2025-11-15", "1700", "Chiều", size=2345)
    feed = render_feed("12454", "Phường Trần Lãm", list_bulletins(tmp_path, "12454"), BASE)
    items = ET.fromstring(feed).findall("./channel/item")
    assert [i.findtext("title") for i in items] == ["Chiều", "Sáng"]
    enc = items[0].find("enclosure")
    assert enc is not None and enc.get("type") == "audio/mpeg" and enc.get("length") == "2345"
    assert enc.get("url") == f"{BASE}/radio/files/12454/2025-11-15/1700-normal-x.mp3"
    assert items[0].findtext(f"{{{ITUNES}}}duration") == "00:02:05"
    assert parsedate_to_datetime(items[0].findtext("pubDate") or "").hour == 17
    assert items[0].findtext("guid") == "12454-2025-11-15-1700"


def test_feed_escapes_markup_in_titles_and_transcripts(tmp_path: Path) -> None:
    _publish(tmp_path, "2025-11-14", "0600", 'Cắt điện <tổ 5> & "khu B"')
    feed = render_feed("12454", "Phường <Trần Lãm>", list_bulletins(tmp_path, "12454"), BASE)
    root = ET.fromstring(feed)  # would raise on unescaped markup
    assert root.findtext("./channel/item/title") == 'Cắt điện <tổ 5> & "khu B"'
    assert "<phường> & tổ dân phố" in (root.findtext("./channel/item/description") or "")


def test_m3u_lists_each_bulletin_on_one_line(tmp_path: Path) -> None:
    _publish(tmp_path, "2025-11-14", "0600", "Thông báo\ncó xuống dòng, dấu phẩy")
    m3u = render_m3u("Phường Trần Lãm", list_bulletins(tmp_path, "12454"), BASE)
    lines = m3u.splitlines()
    assert lines[0] == "#EXTM3U"
    assert lines[2] == "#EXTINF:125,Thông báo có xuống dòng, dấu phẩy"
    assert lines[3] == f"{BASE}/radio/files/12454/2025-11-14/0600-normal-x.mp3"


def test_unfinished_or_broken_bulletins_are_not_listed(tmp_path: Path) -> None:
    _publish(tmp_path, "2025-11-14", "0600", "ok")
    (tmp_path / "12454" / "2025-11-14" / "0700-normal-y.json").write_text("{", encoding="utf-8")
    assert [b.title for b in list_bulletins(tmp_path, "12454")] == ["ok"]


def test_file_requests_cannot_leave_the_output_folder(tmp_path: Path) -> None:
    _publish(tmp_path / "radio", "2025-11-14", "0600", "ok")
    (tmp_path / "secret.mp3").write_bytes(b"x")
    assert resolve_file(tmp_path / "radio", "12454/2025-11-14/0600-normal-x.mp3") is not None
    assert resolve_file(tmp_path / "radio", "../secret.mp3") is None
    assert resolve_file(tmp_path / "radio", "12454/2025-11-14/0600-normal-x.json") is None


def test_new_and_earlier_file_names_are_listed_and_served_together(
    tmp_path: Path, espeak: str
) -> None:
    _publish(tmp_path, "2025-11-14", "0600", "Bản tin cũ")
    when = datetime(2026, 12, 2, 20, 36, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    built = build_bulletin(
        "Ngày 5/12 tiêm chủng tại trạm y tế phường.", title="Lịch tiêm chủng",
        area_code="12454", area_name="Phường Trần Lãm", priority="normal", when=when,
        settings=RadioSettings(), lexicon=Normalizer.from_file(),
        out_dir=bulletin_dir(tmp_path, "12454", when), engine=EspeakEngine(),
    )
    listed = list_bulletins(tmp_path, "12454")
    assert [b.title for b in listed] == ["Lịch tiêm chủng", "Bản tin cũ"]
    assert [b.relpath for b in listed] == [
        "12454/2026-12-02/2026-12-02_20h36_12454_lich-tiem-chung.mp3",
        "12454/2025-11-14/0600-normal-x.mp3",
    ]
    feed = ET.fromstring(render_feed("12454", "Phường Trần Lãm", listed, BASE))
    urls = [e.get("url") or "" for e in feed.iter("enclosure")]
    assert urls[0] == f"{BASE}/radio/files/{listed[0].relpath}"
    for url in urls:  # what the web server does with a request for each enclosure
        relpath = urllib.parse.unquote(url.removeprefix(f"{BASE}/radio/files/"))
        assert resolve_file(tmp_path, relpath) is not None, url
    assert resolve_file(tmp_path, listed[0].relpath) == built.mp3.resolve()
