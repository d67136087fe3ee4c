"""Small building blocks for replies: buttons, labels, dates, sources."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

from flows.content import ANSWER_LIMIT, Content, Source
from flows.types import Button, ButtonRole

__all__ = [
    "ANSWER_LIMIT",
    "MAX_PAYLOAD_BYTES",
    "button",
    "feedback_buttons",
    "fmt_date",
    "main_menu",
    "menu_button",
    "more_button",
    "short_label",
    "sources_line",
    "split_more",
]

#: Telegram's callback_data limit is 64 bytes of UTF-8; payloads are ASCII and stay under it.
MAX_PAYLOAD_BYTES = 64
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+")


def button(label: str, payload: str, role: ButtonRole | None = None) -> Button:
    """A button whose payload is guaranteed to fit every channel."""
    if len(payload.encode()) > MAX_PAYLOAD_BYTES or not payload.isascii():
        raise ValueError(f"button payload too long or not ASCII: {payload!r}")
    return Button(label=label, payload=payload, role=role)


def short_label(text: str, limit: int = 40) -> str:
    """A button label cut at a word boundary (Telegram and Zalo truncate long labels badly)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:(")
    return cut + "…"


def split_more(body: str, limit: int = ANSWER_LIMIT) -> tuple[str, str]:
    """``body`` cut into what is shown first (at most ``limit`` characters) and the rest.

    The cut falls at the last paragraph, line, sentence or word boundary that fits, so the
    first part reads as whole sentences; a short body is returned whole.
    """
    body = body.strip()
    if len(body) <= limit:
        return body, ""
    window = body[: limit + 1]
    for pattern in (r"\n\s*\n", r"\n", _SENTENCE_END.pattern, r"\s"):
        cuts = [m.start() for m in re.finditer(pattern, window) if m.start() >= limit // 3]
        cuts = [c for c in cuts if c <= limit]
        if cuts:
            cut = cuts[-1]
            return body[:cut].rstrip(), body[cut:].strip()
    return body[:limit].rstrip(), body[limit:].strip()


def more_button(content: Content, payload: str) -> Button:
    return button(content.text("btn.more"), payload)


def fmt_date(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def sources_line(content: Content, sources: list[Source], reviewed: dt.date | None) -> str:
    """"Nguồn: a.vn, b.vn (xem lại 27/11/2026)": short, so every answer can carry it."""
    hosts: list[str] = []
    for s in sources:
        host = urlparse(s.url).netloc.removeprefix("www.")
        if host and host not in hosts:
            hosts.append(host)
    if not hosts:
        return ""
    when = content.text("sources.reviewed", date=fmt_date(reviewed)) if reviewed else ""
    return content.text("sources.prefix") + ", ".join(hosts[:3]) + (f" {when}" if when else "")


def menu_button(content: Content) -> Button:
    return button(content.text("btn.menu"), "m", role="menu")


def feedback_buttons(content: Content, ref: str) -> list[Button]:
    return [button("👍", f"f:+:{ref}"[:MAX_PAYLOAD_BYTES]),
            button("👎", f"f:-:{ref}"[:MAX_PAYLOAD_BYTES])]


def main_menu(content: Content) -> list[Button]:
    """The eight doors of the main menu (issue: services, crime report, legal help, VNeID,
    scams, notices, emergency, a person)."""
    return [
        button(content.text("menu.services"), "svc"),
        button(content.text("menu.crime"), "t:crime"),
        button(content.text("menu.legal"), "t:legal"),
        button(content.text("menu.vneid"), "t:vneid"),
        button(content.text("menu.scam"), "t:scam"),
        button(content.text("menu.notices"), "sub"),
        button(content.text("menu.emergency"), "em"),
        button(content.text("menu.human"), "hu"),
    ]
