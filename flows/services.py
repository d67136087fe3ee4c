"""Public services: browse by group, a step-by-step walkthrough, and one-aspect answers.

Button payloads carry everything needed (service id, step number), so an old button still works
after a restart or on another process, and state is only needed for follow-up questions typed as
text ("hết bao nhiêu tiền?" after picking a service).
"""

from __future__ import annotations

import datetime as dt

from flows.content import ASPECTS, Content, Service
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
    "aspect_reply",
    "group_list",
    "render_all",
    "service_intro",
    "services_in_group",
    "step_reply",
    "summary_reply",
]

_ASPECT_ICON = {
    "steps": "▶️", "documents": "📄", "fee": "💰", "duration": "⏱", "eligibility": "✅",
    "where": "🌐",
}
_CHANNEL_KEY = {"dvcqg": "where.dvcqg", "vneid": "where.vneid", "bocongan": "where.bocongan",
                "other": "where.other"}


def group_list(content: Content) -> Reply:
    groups = content.catalogue.groups.items()
    buttons = [button(short_label(name), f"g:{gid}") for gid, name in groups
               if content.services_in_group(gid)]
    buttons.append(menu_button(content))
    return Reply(content.text("services.groups"), buttons, kind="menu")


def services_in_group(content: Content, group: str) -> Reply:
    services = content.services_in_group(group)
    if not services:
        return group_list(content)
    title = content.catalogue.groups.get(group, group)
    buttons = [button(short_label(s.name, 48), f"s:{s.id}") for s in services]
    buttons += [button(content.text("btn.groups"), "svc"), menu_button(content)]
    return Reply(content.text("services.in_group", group=title), buttons, kind="menu")


def _aspect_buttons(content: Content, svc: Service, skip: str | None = None) -> list[Button]:
    out = []
    for aspect in ("documents", "fee", "duration", "where", "eligibility"):
        if aspect != skip:
            out.append(button(f"{_ASPECT_ICON[aspect]} {content.text('aspect.' + aspect)}",
                              f"a:{svc.id}:{aspect}"))
    return out


def service_intro(content: Content, svc: Service, today: dt.date) -> Reply:
    parts = [f"📋 {svc.name}", svc.summary]
    if svc.audience:
        parts.append(content.text("services.audience") + " " + svc.audience)
    notes = svc.current_notes(today)
    if notes:
        parts.append("\n".join(f"📌 {n}" for n in notes))
    buttons = []
    if svc.steps:
        buttons.append(button(content.text("btn.walkthrough"), f"st:{svc.id}:0"))
    buttons += _aspect_buttons(content, svc)
    buttons.append(menu_button(content))
    return Reply("\n\n".join(parts), buttons, speakable=True)


def step_reply(content: Content, svc: Service, index: int, today: dt.date) -> Reply:
    """Step ``index`` of the walkthrough; one past the last step is the summary."""
    n = len(svc.steps)
    if n == 0 or index >= n:
        return summary_reply(content, svc, today)
    index = max(index, 0)
    title = content.text("services.step", i=index + 1, n=n, name=svc.name)
    text = title + "\n\n" + svc.steps[index]
    back = f"st:{svc.id}:{index - 1}" if index > 0 else f"s:{svc.id}"
    last = index == n - 1
    nxt = button(content.text("btn.done") if last else content.text("btn.next"),
                 f"st:{svc.id}:{index + 1}", role="done" if last else "next")
    buttons = [button(content.text("btn.back"), back, role="back"), nxt, menu_button(content)]
    return Reply(text, buttons, speakable=True)


def aspect_text(content: Content, svc: Service, aspect: str, today: dt.date) -> str:
    """The body of one aspect, with the unconfirmed warning when no source confirms it."""
    if aspect == "steps":
        body = "\n".join(f"{i}. {s}" for i, s in enumerate(svc.steps, 1))
    elif aspect == "documents":
        body = "\n".join(f"• {d}" for d in svc.documents)
    elif aspect == "where":
        lines = []
        for w in svc.where:
            label = content.text(_CHANNEL_KEY[w.channel])
            bits = [b for b in (w.url, w.path, w.note) if b]
            lines.append(f"• {label}: " + " – ".join(bits))
        body = "\n".join(lines)
    else:
        body = svc.current(aspect, today)
    if aspect == "eligibility" and svc.audience and body.strip():
        # Who may do it, too: "tôi là bà ngoại, làm khai sinh cho cháu được không" is asked
        # as a condition; the conditions alone often name only the parents.
        body += "\n\n" + content.text("services.audience") + " " + svc.audience
    if not body.strip():
        body = content.text("services.no_info")
    if aspect in svc.unconfirmed:
        page = svc.official_page or "https://dichvucong.gov.vn"
        body += "\n\n" + content.text("services.unconfirmed", url=page)
    return body


def aspect_reply(content: Content, svc: Service, aspect: str, today: dt.date, *,
                 local: str = "", local_buttons: list[Button] | None = None,
                 more: bool = False) -> Reply:
    """One aspect of a service; ``local`` adds the citizen's ward office to "where".

    The body is cut at :data:`~flows.ui.ANSWER_LIMIT` characters; "Xem thêm" (``am:``) shows
    the rest (``more=True``).
    """
    if aspect not in (*ASPECTS, "where"):
        aspect = "steps"
    title = f"{_ASPECT_ICON[aspect]} {content.text('aspect.' + aspect)}: {svc.name}"
    body = aspect_text(content, svc, aspect, today)
    if local:
        body += "\n\n" + local
    head, rest = split_more(body)
    if more:
        title = content.text("more.title", title=title)
        head, rest = rest or head, ""
    text = title + "\n\n" + head
    src = sources_line(content, svc.sources, svc.reviewed)
    if src:
        text += "\n\n" + src
    buttons = []
    if rest:
        buttons.append(more_button(content, f"am:{svc.id}:{aspect}"))
    buttons += local_buttons or []
    if svc.steps:
        buttons.append(button(content.text("btn.walkthrough"), f"st:{svc.id}:0"))
    buttons += _aspect_buttons(content, svc, skip=aspect)
    buttons += feedback_buttons(content, f"a:{svc.id}:{aspect}")
    buttons.append(menu_button(content))
    return Reply(text, buttons, speakable=True)


def summary_reply(content: Content, svc: Service, today: dt.date, *,
                  more: bool = False) -> Reply:
    """After the last step: papers, fee, time and where to file.

    What fits in :data:`~flows.ui.ANSWER_LIMIT` characters comes first; "Xem thêm" (``sm:``)
    shows the rest.
    """
    parts = []
    for aspect in ("documents", "fee", "duration", "where"):
        parts.append(f"{_ASPECT_ICON[aspect]} {content.text('aspect.' + aspect)}:\n"
                     + aspect_text(content, svc, aspect, today))
    if svc.mistakes:
        parts.append(content.text("services.mistakes") + "\n"
                     + "\n".join(f"• {m}" for m in svc.mistakes))
    head, rest = split_more("\n\n".join(parts))
    title = content.text("services.summary", name=svc.name)
    if more:
        title = content.text("more.title", title=title)
        head, rest = rest or head, ""
    text = title + "\n\n" + head
    src = sources_line(content, svc.sources, svc.reviewed)
    if src:
        text += "\n\n" + src
    buttons = [more_button(content, f"sm:{svc.id}")] if rest else []
    buttons.append(button(content.text("btn.back"),
                          f"st:{svc.id}:{max(len(svc.steps) - 1, 0)}", role="back"))
    buttons += feedback_buttons(content, f"sum:{svc.id}")
    buttons.append(menu_button(content))
    return Reply(text, buttons, speakable=True)


def render_all(content: Content, svc: Service, today: dt.date | None = None) -> list[str]:
    """Every message a citizen can receive about a service (for channel-limit checks)."""
    today = today or dt.date.today()
    msgs = [service_intro(content, svc, today).text, summary_reply(content, svc, today).text,
            summary_reply(content, svc, today, more=True).text]
    msgs += [step_reply(content, svc, i, today).text for i in range(len(svc.steps))]
    for a in (*ASPECTS, "where"):
        msgs += [aspect_reply(content, svc, a, today).text,
                 aspect_reply(content, svc, a, today, more=True).text]
    return msgs

