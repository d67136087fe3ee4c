"""Safety first: emergency numbers, a way to a person, and clean input."""

from __future__ import annotations

import re
import unicodedata

from flows.content import Content
from flows.types import Reply
from flows.ui import button, menu_button

__all__ = ["clean_text", "emergency_reply", "human_reply", "scrub"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\u200b-\u200f\u2028-\u202e]")
_LONG_DIGITS = re.compile(r"(?:\+?\d[\d .\-]{5,}\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def clean_text(raw: str) -> str:
    """NFC text without control characters or stray replacement marks from binary input."""
    text = unicodedata.normalize("NFC", raw)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split(" ")).strip()


def scrub(text: str, limit: int = 500) -> str:
    """Mask phone numbers, ID numbers and e-mail addresses before a question is logged."""
    text = _EMAIL.sub("<email>", text)
    text = _LONG_DIGITS.sub("<số>", text)
    return text[:limit]


def emergency_reply(content: Content) -> Reply:
    """The first reply to anyone in danger: the national numbers, nothing to read first.

    The numbers are in ``texts.yaml`` itself (not assembled from other files), so this reply
    can never come out empty.
    """
    return Reply(content.text("emergency"), [button(content.text("btn.menu"), "m")],
                 kind="emergency")


def human_reply(content: Content) -> Reply:
    """Where a person can help: hotlines, then the ward's contact points."""
    parts = [content.text("human.title")]
    help_lines = [f"📞 {h.number}: {h.name}" + ("" if h.confirmed else
                                                 " " + content.text("human.unconfirmed"))
                  for h in content.hotlines if not h.emergency]
    if help_lines:
        parts.append("\n".join(help_lines))
    loc = content.locality
    if loc:
        lines = []
        for a in loc.areas:
            for c in (a.one_stop, a.police):
                if c is None:
                    continue
                bits = [c.name] + [b for b in (c.address, c.phone, c.url) if b]
                mark = "" if c.confirmed else " " + content.text("human.unconfirmed")
                lines.append("• " + ", ".join(bits) + mark)
        if lines:
            parts.append(content.text("human.local") + "\n" + "\n".join(lines))
    parts.append(content.text("human.emergency_hint"))
    return Reply("\n\n".join(parts), [button(content.text("menu.emergency"), "em"),
                                      menu_button(content)], kind="human")
