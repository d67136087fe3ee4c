"""Publishing bulletins: list them from the folder layout, RSS podcast feed, M3U playlist.

The web server (the lead's) serves ``GET /radio/<area>/feed.xml`` with :func:`render_feed`,
``/radio/<area>/playlist.m3u`` with :func:`render_m3u` and the MP3 files under
``/radio/files/`` with :func:`resolve_file` (which refuses paths outside the output folder).
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import format_datetime
from pathlib import Path

__all__ = ["BulletinInfo", "list_bulletins", "render_feed", "render_m3u", "resolve_file"]

log = logging.getLogger(__name__)
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
_AREA_RE = re.compile(r"^\d{2}(\d{3})?$")


@dataclass(frozen=True)
class BulletinInfo:
    """One published bulletin, as its metadata JSON describes it."""

    id: str
    title: str
    area_code: str
    area_name: str
    priority: str
    created_at: datetime
    duration_s: float
    size_bytes: int
    relpath: str  # of the MP3, relative to the output root, with "/" separators
    transcript: str  # the spoken script
    loudness_lufs: float | None = None  # integrated loudness measured on the MP3
    engine: str = ""  # the speech engine, or "recording" for an operator's own recording


def list_bulletins(root: str | Path, area_code: str, day: date | None = None
                   ) -> list[BulletinInfo]:
    """Bulletins of one area under ``<root>/<area>/<date>/`` (only ``day``'s folder when
    given), newest first."""
    if not _AREA_RE.match(area_code):
        raise ValueError(f"not an area code: {area_code!r}")
    base = Path(root)
    out = []
    pattern = f"{day.isoformat()}/*.json" if day is not None else "*/*.json"
    for meta_path in sorted((base / area_code).glob(pattern)):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            mp3 = meta_path.parent / meta["mp3"]
            txt = meta_path.parent / meta.get("transcript", "")
            out.append(BulletinInfo(
                id=str(meta["id"]),
                title=str(meta.get("title") or ""),
                area_code=str(meta["area_code"]),
                area_name=str(meta.get("area_name") or ""),
                priority=str(meta.get("priority") or "normal"),
                created_at=datetime.fromisoformat(meta["created_at"]),
                duration_s=float(meta["duration_s"]),
                size_bytes=mp3.stat().st_size,
                relpath=mp3.relative_to(base).as_posix(),
                transcript=txt.read_text(encoding="utf-8") if txt.is_file() else "",
                loudness_lufs=(float(meta["loudness_lufs"])
                               if meta.get("loudness_lufs") is not None else None),
                engine=str(meta.get("engine") or ""),
            ))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("radio: skipping %s: %s", meta_path, exc)
    out.sort(key=lambda b: b.created_at, reverse=True)
    return out


def _file_url(base_url: str, relpath: str) -> str:
    return f"{base_url.rstrip('/')}/radio/files/{urllib.parse.quote(relpath)}"


def _duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


_PRIORITY_VI = {"normal": "Thông thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}


def render_feed(
    area_code: str, area_name: str, bulletins: Sequence[BulletinInfo], base_url: str
) -> str:
    """RSS 2.0 podcast feed (iTunes namespace) of an area's bulletins, newest first."""
    ET.register_namespace("itunes", ITUNES)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    title = f"Bản tin truyền thanh {area_name}".strip()
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = f"{base_url.rstrip('/')}/radio/{area_code}/feed.xml"
    ET.SubElement(channel, "description").text = (
        f"Các bản tin phát trên hệ thống truyền thanh của {area_name} ({area_code})."
    )
    ET.SubElement(channel, "language").text = "vi"
    ET.SubElement(channel, f"{{{ITUNES}}}author").text = area_name
    ET.SubElement(channel, f"{{{ITUNES}}}explicit").text = "false"
    ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": "Government"})
    ordered = sorted(bulletins, key=lambda b: b.created_at, reverse=True)
    if ordered:
        ET.SubElement(channel, "lastBuildDate").text = format_datetime(ordered[0].created_at)
    for b in ordered:
        item = ET.SubElement(channel, "item")
        label = _PRIORITY_VI.get(b.priority, b.priority)
        ET.SubElement(item, "title").text = b.title or f"Bản tin {b.created_at:%d/%m/%Y %H:%M}"
        ET.SubElement(item, "description").text = f"[{label}] {b.transcript.strip()}"
        ET.SubElement(item, "enclosure", {
            "url": _file_url(base_url, b.relpath), "length": str(b.size_bytes),
            "type": "audio/mpeg",
        })
        ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = b.id
        ET.SubElement(item, "pubDate").text = format_datetime(b.created_at)
        ET.SubElement(item, f"{{{ITUNES}}}duration").text = _duration(b.duration_s)
    body = ET.tostring(rss, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _m3u_text(text: str) -> str:
    """A playlist line cannot hold a line break; a title may hold commas after the first."""
    return " ".join(text.split())


def render_m3u(area_name: str, bulletins: Sequence[BulletinInfo], base_url: str) -> str:
    """Extended M3U playlist of the same bulletins, newest first."""
    lines = ["#EXTM3U", f"#PLAYLIST:{_m3u_text('Bản tin truyền thanh ' + area_name)}"]
    for b in sorted(bulletins, key=lambda b: b.created_at, reverse=True):
        lines.append(f"#EXTINF:{round(b.duration_s)},{_m3u_text(b.title) or b.id}")
        lines.append(_file_url(base_url, b.relpath))
    return "\n".join(lines) + "\n"


def resolve_file(root: str | Path, relpath: str) -> Path | None:
    """The MP3 file a ``/radio/files/<relpath>`` request names, or None (outside, missing)."""
    base = Path(root).resolve()
    try:
        target = (base / urllib.parse.unquote(relpath)).resolve()
    except (OSError, ValueError):
        return None
    if base not in target.parents or target.suffix != ".mp3" or not target.is_file():
        return None
    return target
