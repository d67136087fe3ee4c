"""The citizen's ward: asked once, then used to show the nearest offices first.

"Gặp cán bộ" and "nộp ở đâu" are only useful with the citizen's own ward: its one-stop office
(Bộ phận một cửa / Trung tâm phục vụ hành chính công) and its police. The ward is one value in
the conversation state (``State.ward``), asked with a word on why, pre-filled from the notice
subscription when the citizen subscribed to exactly one area, and deleted by /xoadulieu with the
rest of the state.
"""

from __future__ import annotations

import re

from flows.content import Area, Contact, Content
from flows.ports import Context
from flows.types import Button, Reply
from flows.ui import MAX_PAYLOAD_BYTES, button, menu_button

__all__ = [
    "SKIP",
    "area_name",
    "ask_ward",
    "contact_block",
    "find_area",
    "match_ward",
    "ward_buttons",
    "ward_payload",
]

#: The area code in a ``w:`` payload that means "do not say" (nothing is stored).
SKIP = "-"
_PHONE = re.compile(r"\+?\d[\d .]{1,14}\d")


def find_area(content: Content, code: str | None) -> Area | None:
    """The locality entry (contacts) of an area code, if the content has one."""
    if not code or content.locality is None:
        return None
    return next((a for a in content.locality.areas if a.code == code), None)


def area_name(ctx: Context, code: str) -> str:
    names = dict(ctx.settings.areas)
    if code in names:
        return names[code]
    area = find_area(ctx.content, code)
    return area.name if area else code


def ward_payload(code: str, then: str) -> str:
    """``w:<code>:<then>``: store the ward, then show what ``then`` shows (when it fits)."""
    full = f"w:{code}:{then}"
    return full if len(full.encode()) <= MAX_PAYLOAD_BYTES else f"w:{code}:hu"


def ward_buttons(ctx: Context, then: str, first: list[str] | None = None) -> list[Button]:
    """One button per ward served, the citizen's subscription areas first."""
    codes = [c for c, _ in ctx.settings.areas]
    preferred = [c for c in (first or []) if c in codes]
    ordered = preferred + [c for c in codes if c not in preferred]
    return [button("📍 " + area_name(ctx, c), ward_payload(c, then)) for c in ordered]


def ask_ward(ctx: Context, then: str, first: list[str] | None = None) -> Reply:
    """Which ward? With the reason, and a way to skip it."""
    buttons = ward_buttons(ctx, then, first)
    buttons += [button(ctx.content.text("btn.skip"), ward_payload(SKIP, then)),
                menu_button(ctx.content)]
    return Reply(ctx.content.text("ward.ask"), buttons)


def _fold_name(text: str) -> str:
    from nlu.normalize import fold

    words = re.findall(r"[a-z0-9]+", fold(text))
    return " ".join(w for w in words if w not in ("phuong", "p", "o", "tai", "toi", "em",
                                                  "nha", "minh", "a", "nhe", "xa"))


def match_ward(ctx: Context, text: str) -> str | None:
    """The area code a typed answer names ("Trần Lãm", "p tran lam", "o vu phuc a").

    Only a short answer counts: "phường Trần Lãm nộp hộ chiếu ở đâu" is a new question.
    """
    said = _fold_name(text)
    if not said:
        return None
    for code, name in ctx.settings.areas:
        if _fold_name(name) == said or code == said:
            return code
    hits = []
    for code, name in ctx.settings.areas:
        folded = _fold_name(name)
        if folded and folded in said and len(said.split()) - len(folded.split()) <= 2:
            hits.append(code)
    return hits[0] if len(hits) == 1 else None


def _contact_lines(content: Content, icon: str, c: Contact) -> tuple[list[str], list[str]]:
    lines = [f"{icon} {c.name}"]
    numbers: list[str] = []
    if c.address:
        lines.append("   " + content.text("contact.address", address=c.address))
    if c.phone:
        lines.append("   📞 " + c.phone)
        numbers += [m.group(0).strip() for m in _PHONE.finditer(c.phone)]
    if c.hours:
        lines.append("   🕒 " + c.hours)
    if not (c.address or c.phone):
        lines.append("   " + content.text("contact.no_details"))
    elif not c.confirmed:
        lines.append("   " + content.text("human.unconfirmed"))
    return lines, numbers


def contact_block(content: Content, area: Area, *, police: bool = True,
                  header: str | None = None) -> tuple[str, list[str]]:
    """A few lines for a ward: its one-stop office, then (optionally) its police."""
    lines = [header if header is not None else content.text("contact.ward", ward=area.name)]
    numbers: list[str] = []
    pairs = [("🏛", area.one_stop)] + ([("👮", area.police)] if police else [])
    for icon, c in pairs:
        if c is None:
            continue
        more, nums = _contact_lines(content, icon, c)
        lines += more
        numbers += nums
    return "\n".join(lines), numbers
