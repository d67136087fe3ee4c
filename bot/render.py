"""Turning replies into what a platform can show: split text, numbered options."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.channels import ChannelSpec
from flows.types import Button, Reply

__all__ = ["Rendered", "numbered", "render", "split_text"]

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters at the most natural boundary
    available: paragraphs, then lines, then sentences, then words (a word longer than the limit
    is cut hard)."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    for sep in ("\n\n", "\n", None, " "):
        parts = _SENTENCE_END.split(text) if sep is None else text.split(sep)
        joiner = " " if sep is None else sep
        if len(parts) < 2:
            continue
        chunks: list[str] = []
        cur = ""
        for part in parts:
            candidate = f"{cur}{joiner}{part}" if cur else part
            if len(candidate) <= limit:
                cur = candidate
                continue
            if cur:
                chunks.append(cur)
            if len(part) > limit:
                chunks.extend(split_text(part, limit))
                cur = ""
            else:
                cur = part
        if cur:
            chunks.append(cur)
        return [c.strip() for c in chunks if c.strip()]
    return [text[i:i + limit] for i in range(0, len(text), limit)]


@dataclass
class Rendered:
    """One platform message: text plus the buttons shown natively."""

    text: str
    buttons: list[Button]


def numbered(replies: list[Reply], *, limit: int, native_max: int = 0,
             hint: str = "Gõ số để chọn.") -> list[tuple[Reply, list[Rendered]]]:
    """Render replies for a channel that shows at most ``native_max`` buttons per message and
    lists the rest as numbered options. Numbers run across all replies in order, matching the
    assistant's ``State.options``, so "2" picks the same thing on every channel."""
    out: list[tuple[Reply, list[Rendered]]] = []
    n = 0
    for reply in replies:
        choices = [b for b in reply.buttons if b.url is None]
        links = [b for b in reply.buttons if b.url is not None]
        native = choices[:native_max]
        rest = choices[native_max:]
        lines: list[str] = []
        n += len(native)
        for b in rest:
            n += 1
            lines.append(f"{n}. {b.label}")
        lines += [f"🔗 {b.label}: {b.url}" for b in links]
        text = reply.text
        if lines:
            text = f"{text}\n\n" + "\n".join(lines)
            if rest:
                text += f"\n({hint})"
        pieces = split_text(text, limit) or [""]
        rendered = [Rendered(p, []) for p in pieces]
        rendered[-1].buttons = native
        out.append((reply, rendered))
    return out


def render(replies: list[Reply], spec: ChannelSpec, *, limit: int | None = None
           ) -> list[tuple[Reply, list[Rendered]]]:
    """Replies as the channel ``spec`` declares it can show them: up to ``spec.buttons`` native
    buttons per message, the rest numbered, pieces under ``limit`` (default its text limit)."""
    cut = limit if limit is not None else spec.text_limit
    return numbered(replies, limit=cut or 1_000_000, native_max=spec.buttons)
