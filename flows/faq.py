"""Questions and answers by topic: legal help, VNeID, crime reports, scams, daily life."""

from __future__ import annotations

import datetime as dt

from flows.content import Content, Faq, FaqTopic
from flows.types import Button, Reply
from flows.ui import (
    button,
    feedback_buttons,
    menu_button,
    more_button,
    short_label,
    sources_line,
    split_more,
)

__all__ = [
    "TOPIC_OF_INTENT",
    "category_menu",
    "disclaimer_of",
    "faq_answer",
    "live_entries",
    "topic_menu",
]

#: Which FAQ topics answer which canonical intent (intents.md).
TOPIC_OF_INTENT = {
    "legal_help": ("legal",),
    "vneid_account": ("vneid", "daily"),
    "crime_report": ("crime",),
    "scam_report": ("scam",),
}
_DIRECT_LIMIT = 8  # up to this many questions are listed directly instead of by category


def live_entries(topic: FaqTopic, today: dt.date) -> list[Faq]:
    """Entries still in force (an entry with ``until`` in the past is never shown)."""
    return [e for e in topic.entries if e.valid_until is None or e.valid_until >= today]


def _category_name(content: Content, category: str) -> str:
    key = f"category.{category}"
    if key in content.texts:
        return content.texts[key]
    return category.replace("-", " ").capitalize()


def _extra_buttons(content: Content, topic: str) -> list[Button]:
    out = []
    if topic == "legal" and content.legal_aid:
        out.append(button(content.text("btn.legal_aid"), "la:0:s"))
    if topic == "vneid" and "daily" in content.faqs:
        out.append(button(content.text("btn.daily"), "t:daily"))
    return out


def topic_menu(content: Content, topic_id: str, today: dt.date) -> Reply:
    topic = content.faqs.get(topic_id)
    if topic is None:
        return Reply(content.text("faq.missing"), [menu_button(content)])
    entries = live_entries(topic, today)
    text = topic.title + ("\n\n" + topic.intro if topic.intro else "")
    buttons = _extra_buttons(content, topic_id)
    categories: list[str] = []
    for e in entries:
        if e.category and e.category not in categories:
            categories.append(e.category)
    if len(entries) <= _DIRECT_LIMIT or len(categories) < 2:
        buttons += [button(short_label(e.question, 48), f"q:{e.id}") for e in entries]
    else:
        buttons += [button(_category_name(content, c), f"c:{topic_id}:{c}") for c in categories]
    buttons.append(menu_button(content))
    return Reply(text, buttons, kind="menu")


def category_menu(content: Content, topic_id: str, category: str, today: dt.date) -> Reply:
    topic = content.faqs.get(topic_id)
    if topic is None:
        return Reply(content.text("faq.missing"), [menu_button(content)])
    entries = [e for e in live_entries(topic, today) if e.category == category]
    if not entries:
        return topic_menu(content, topic_id, today)
    buttons = [button(short_label(e.question, 48), f"q:{e.id}") for e in entries]
    buttons += [button(content.text("btn.back"), f"t:{topic_id}"), menu_button(content)]
    return Reply(content.text("faq.pick", category=_category_name(content, category)), buttons,
                 kind="menu")


def disclaimer_of(content: Content, topic: FaqTopic) -> str:
    """The note a topic's answers carry once per conversation: the topic's own, or for legal
    answers the one legal disclaimer (``faq.disclaimer`` in texts.yaml)."""
    if topic.disclaimer:
        return topic.disclaimer
    return content.texts.get("faq.disclaimer", "") if topic.topic == "legal" else ""


def faq_answer(content: Content, faq_id: str, today: dt.date, *, disclaimer: bool = True,
               more: bool = False) -> Reply | None:
    """The key point of an answer first (at most :data:`~flows.content.ANSWER_LIMIT`
    characters), the rest (``more``, steps, legal basis) behind "Xem thêm" (``qm:``). The
    topic's disclaimer is shown when ``disclaimer`` is set: the assistant sets it once per
    conversation."""
    found = content.faq(faq_id)
    if found is None:
        return None
    topic, e = found
    if e.valid_until is not None and e.valid_until < today:
        return Reply(content.text("faq.expired"), [button(content.text("btn.back"),
                                                           f"t:{topic.topic}"),
                                                    menu_button(content)])
    head, cut = split_more(e.answer)
    rest = [x for x in (cut, e.more.strip()) if x]
    if e.steps:
        rest.append("\n".join(f"{i}. {s}" for i, s in enumerate(e.steps, 1)))
    if e.legal_basis:
        rest.append(content.text("faq.legal_basis") + " " + "; ".join(e.legal_basis))
    title = f"❓ {e.question}"
    if more:
        parts = [content.text("more.title", title=title), *(rest or [head])]
    else:
        parts = [title, head]
        if e.unconfirmed:
            parts.append(content.text("faq.unconfirmed"))
        note = disclaimer_of(content, topic)
        if disclaimer and note:
            parts.append(note)
    src = sources_line(content, e.sources, e.reviewed)
    if src:
        parts.append(src)
    buttons = [more_button(content, f"qm:{e.id}")] if rest and not more else []
    buttons += [button(short_label(content.services[s].name), f"s:{s}")
                for s in e.services if s in content.services][:3]
    if topic.topic == "legal" and content.legal_aid:
        buttons.append(button(content.text("btn.legal_aid"), "la:0:s"))
    buttons += feedback_buttons(content, f"q:{e.id}")
    buttons += [button(content.text("btn.more_questions"), f"t:{topic.topic}"),
                menu_button(content)]
    return Reply("\n\n".join(parts), buttons, speakable=True)
