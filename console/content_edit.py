"""Editing one service or one FAQ entry from the console, live.

An editor sees the entry's YAML exactly as it is in its file (comments included) and saves it
back. Before anything is written the entry is read with the same pydantic models as the
loader, and the whole content folder, with the change, goes through ``trolyso content check``
(in a copy): an entry that fails is refused with the reasons and nothing changes. A good edit is
written in place (the rest of the file untouched) and the content is reloaded in this process;
the other processes follow the database's content version (``bot.live``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from console.ports import Live
from flows.content import Faq, FaqTopic, Service

__all__ = ["Source", "faq_source", "save_faq", "save_service", "service_source"]


@dataclass(frozen=True)
class Source:
    """An entry as the editor edits it: ``text`` is its YAML, ``path`` its file."""

    path: Path
    text: str
    rel: str  # the file, relative to the content folder


def _service_path(live: Live, sid: str) -> Path | None:
    root = live.content_root
    path = root / "services" / f"{sid}.yaml"
    return path if path.is_file() else None


def service_source(live: Live, sid: str) -> Source | None:
    """The service's file (one service per file, named by its id)."""
    path = _service_path(live, sid)
    if path is None or sid not in live.content.services:
        return None
    return Source(path, path.read_text(encoding="utf-8"), f"services/{path.name}")


def _entries(node: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "entries" and isinstance(value,
                                                                       yaml.SequenceNode):
                return value
    return None


def _span(text: str, fid: str) -> tuple[int, int, int] | None:
    """(start, end, column) of the FAQ entry ``fid`` in a topic file's text."""
    try:
        entries = _entries(yaml.compose(text))
    except yaml.YAMLError:
        return None
    if entries is None:
        return None
    for item in entries.value:
        if not isinstance(item, yaml.MappingNode):
            continue
        ids = [v.value for k, v in item.value if getattr(k, "value", None) == "id"]
        if ids != [fid]:
            continue
        start, column = item.start_mark.index, item.start_mark.column
        lines = text[start:item.end_mark.index].split("\n")
        # Blank lines and section comments after the entry belong to what follows.
        while len(lines) > 1 and (not lines[-1].strip() or (
                lines[-1].lstrip().startswith("#")
                and len(lines[-1]) - len(lines[-1].lstrip()) < column)):
            lines.pop()
        return start, start + len("\n".join(lines)), column
    return None


def faq_source(live: Live, fid: str) -> Source | None:
    """The FAQ entry's lines in its topic file, without the file's indentation."""
    for path in sorted((live.content_root / "faq").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if fid not in text:
            continue
        span = _span(text, fid)
        if span is None:
            continue
        start, end, column = span
        first, *rest = text[start:end].split("\n")
        body = [line[column:] if line[:column].strip() == "" else line.lstrip() for line in rest]
        return Source(path, "\n".join([first, *body]), f"faq/{path.name}")
    return None


def _parse(text: str) -> tuple[Any, str | None]:
    try:
        return yaml.safe_load(text), None
    except yaml.YAMLError as exc:
        return None, f"Không đọc được YAML: {exc}"


def _problems(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or '-'}: {e['msg']}" for e in exc.errors()]


def _check_in_copy(live: Live, rel: str, text: str) -> list[str]:
    """``trolyso content check`` on a copy of the content folder holding the change."""
    with tempfile.TemporaryDirectory(prefix="content-edit-") as tmp:
        copy = Path(tmp) / live.content_root.name
        shutil.copytree(live.content_root, copy)
        (copy / rel).write_text(text, encoding="utf-8")
        return live.check_content(copy)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


async def _save(live: Live, source: Source, text: str) -> list[str]:
    problems = await asyncio.to_thread(_check_in_copy, live, source.rel, text)
    if problems:
        return problems
    old = source.path.read_text(encoding="utf-8")
    await asyncio.to_thread(_write, source.path, text)
    problems = await live.reload_content()
    if problems:  # something else changed meanwhile and the two do not fit: undo ours
        await asyncio.to_thread(_write, source.path, old)
        await live.reload_content()
    return problems


async def save_service(live: Live, sid: str, text: str) -> list[str]:
    """Check and write the service's file; the problems found (nothing written) or []."""
    source = service_source(live, sid)
    if source is None:
        return [f"Không có dịch vụ {sid}."]
    data, error = _parse(text)
    if error:
        return [error]
    if not isinstance(data, dict):
        return ["Tệp phải là một dịch vụ (các dòng khóa: giá trị)."]
    if data.get("id") != sid:
        return [f"id: phải giữ nguyên là {sid}."]
    try:
        Service.model_validate(data)
    except ValidationError as exc:
        return _problems(exc)
    return await _save(live, source, text if text.endswith("\n") else text + "\n")


async def save_faq(live: Live, fid: str, text: str) -> list[str]:
    """Check and write one FAQ entry back into its topic file."""
    source = faq_source(live, fid)
    if source is None:
        return [f"Không có câu hỏi đáp {fid}."]
    data, error = _parse(text)
    if error:
        return [error]
    if not isinstance(data, dict):
        return ["Mục phải là một câu hỏi đáp (các dòng khóa: giá trị)."]
    if data.get("id") != fid:
        return [f"id: phải giữ nguyên là {fid}."]
    try:
        Faq.model_validate(data)
    except ValidationError as exc:
        return _problems(exc)
    whole = source.path.read_text(encoding="utf-8")
    span = _span(whole, fid)
    if span is None:
        return [f"Không tìm thấy {fid} trong {source.rel}."]
    start, end, column = span
    first, *rest = text.strip("\n").split("\n")
    body = [(" " * column + line) if line.strip() else "" for line in rest]
    new = whole[:start] + "\n".join([first.lstrip(), *body]) + whole[end:]
    topic, error = _parse(new)
    if error:
        return [error]
    try:
        FaqTopic.model_validate(topic)
    except ValidationError as exc:
        return _problems(exc)
    return await _save(live, source, new)
