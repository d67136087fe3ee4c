"""Safety first: emergency numbers, a way to a person, and clean input."""

from __future__ import annotations

import re
import unicodedata

from core.privacy import mask_numbers
from flows.content import Area, Content
from flows.types import Reply
from flows.ui import button, menu_button
from flows.ward import contact_block
from nlu.danger import NUMBERS, Danger, assess

__all__ = [
    "EMERGENCY_NUMBERS",
    "Danger",
    "clean_text",
    "detect_danger",
    "emergency_reply",
    "human_reply",
    "scrub",
    "soft_danger_reply",
]

#: The national emergency numbers in their usual order: police, fire and rescue, ambulance,
#: and 112 (disasters, incidents; connects to the others).
EMERGENCY_NUMBERS = NUMBERS

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\u200b-\u200f\u2028-\u202e]")


def clean_text(raw: str) -> str:
    """NFC text without control characters or stray replacement marks from binary input."""
    text = unicodedata.normalize("NFC", raw)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split(" ")).strip()


def scrub(text: str, limit: int = 500) -> str:
    """Mask phone numbers, ID numbers and e-mail addresses before a question is logged
    (every common way of writing them: :func:`core.privacy.mask_numbers`)."""
    return mask_numbers(text)[:limit]


def detect_danger(text: str) -> Danger:
    """Danger in the WHOLE message, whatever its length (checked before "too long").

    ``now``: the emergency numbers are the first reply; ``soft``: the question is answered
    and one short line of the numbers ends the answer; ``numbers``: most relevant first.
    """
    return assess(text)


_NUMBER_LINE = re.compile(r"^\W*(\d{3})\b")


def _ordered(text: str, numbers: tuple[str, ...]) -> str:
    """The emergency text with its one-number-per-line block in the order of ``numbers``.

    Only the lines that start with a number move, among the places such lines held; every
    other line stays where the content put it, and numbers not named keep their order.
    """
    lines = text.split("\n")
    slots = [i for i, ln in enumerate(lines) if _NUMBER_LINE.match(ln)]
    rank = {n: i for i, n in enumerate(numbers)}

    def key(i: int) -> tuple[int, int]:
        m = _NUMBER_LINE.match(lines[i])
        return (rank.get(m.group(1) if m else "", len(rank)), i)

    moved = sorted(slots, key=key)
    out = list(lines)
    for slot, src in zip(slots, moved, strict=True):
        out[slot] = lines[src]
    return "\n".join(out)


def emergency_reply(content: Content, numbers: tuple[str, ...] = EMERGENCY_NUMBERS, *,
                    alone: bool = True) -> Reply:
    """The first reply to anyone in danger: the national numbers, nothing to read first.

    The numbers are in ``texts.yaml`` itself (not assembled from other files), so this reply
    can never come out empty; the most relevant number comes first ("cháy" → 114). When an
    answer follows (``alone=False``) the menu button is left to that answer, so the numbered
    options of the answer keep their numbers.
    """
    order = tuple(dict.fromkeys((*numbers, *EMERGENCY_NUMBERS)))
    text = _ordered(content.text("emergency"), order)
    found = re.findall(r"\b1\d\d\b", text)  # 111 (children) is named in the text too
    shown = tuple(dict.fromkeys([n for n in order if n in found] + found))
    return Reply(text, [button(content.text("btn.menu"), "m", role="menu")] if alone else [],
                 kind="emergency", numbers=shown)


def soft_danger_reply(content: Content, numbers: tuple[str, ...] = EMERGENCY_NUMBERS) -> Reply:
    """One short line of the emergency numbers, after the answer to a doubtful message."""
    text = content.text("emergency.soft")
    return Reply(text, kind="system",
                 numbers=tuple(n for n in dict.fromkeys((*numbers, *EMERGENCY_NUMBERS))
                               if n in text))


def human_reply(content: Content, area: Area | None = None, note: str = "") -> Reply:
    """Where a person can help: the citizen's ward first (one-stop office, police), in a few
    lines with their numbers, then the hotlines."""
    parts: list[str] = []
    numbers: list[str] = []
    if note:
        parts.append(note)
    if area is not None:
        block, nums = contact_block(content, area)
        parts.append(block)
        numbers += nums
    help_lines = []
    for h in content.hotlines:
        if h.emergency:
            continue
        help_lines.append(f"📞 {h.number}: {h.name}" + ("" if h.confirmed else
                                                        " " + content.text("human.unconfirmed")))
        numbers.append(h.number)
    if help_lines:
        parts.append(content.text("human.title") + "\n" + "\n".join(help_lines))
    hint = content.text("human.emergency_hint")
    parts.append(hint)
    numbers += [n for n in EMERGENCY_NUMBERS if re.search(rf"\b{n}\b", hint)]
    buttons = [button(content.text("menu.emergency"), "em")]
    if area is not None:
        buttons.append(button(content.text("btn.change_ward"), "w:?:hu"))
    buttons.append(menu_button(content))
    return Reply("\n\n".join(parts), buttons, numbers=tuple(dict.fromkeys(numbers)),
                 kind="human")
