"""The guided check "Am I entitled to free legal aid?" (Điều 7 Luật Trợ giúp pháp lý 2017).

Điều 7 as amended by Luật 53/2024/QH15 (from 01/7/2025) and Luật 59/2024/QH15 (from 01/01/2026);
which groups need the financial-hardship question is content (``needs_financial_hardship``).
Each button carries the group index and the answer, so the check needs no stored state and an
old button still works after a restart.
"""

from __future__ import annotations

from flows.content import Content, LegalAidCheck
from flows.types import Reply
from flows.ui import button, feedback_buttons, menu_button

__all__ = ["legal_aid_step"]


def _question(content: Content, check: LegalAidCheck, i: int, intro: bool) -> Reply:
    g = check.groups[i]
    text = content.text("aid.question", i=i + 1, n=len(check.groups)) + "\n\n" + g.question
    if g.explain:
        text += "\n\n" + g.explain
    if intro:
        text = check.intro + "\n\n" + text
    return Reply(text, [
        button(content.text("btn.yes"), f"la:{i}:y", role="yes"),
        button(content.text("btn.no"), f"la:{i}:n", role="no"),
        button(content.text("btn.unsure"), f"la:{i}:u", role="unsure"),
        menu_button(content),
    ])


def _outcome(content: Content, check: LegalAidCheck, body: str, ref: str) -> Reply:
    text = body + "\n\n" + check.where_to_go
    if check.note_2025:
        text += "\n\n" + check.note_2025
    buttons = [button(content.text("btn.restart_aid"), "la:0:s"),
               button(content.text("menu.legal"), "t:legal"),
               *feedback_buttons(content, ref), menu_button(content)]
    return Reply(text, buttons, speakable=True)


def legal_aid_step(content: Content, payload: str) -> Reply:
    """Answer a ``la:<i>:<s|y|n|u>`` or ``lf:<i>:<y|n>`` button."""
    check = content.legal_aid
    if check is None or not check.groups:
        return Reply(content.text("faq.missing"), [menu_button(content)])
    kind, raw_i, answer = [*payload.split(":"), "", ""][:3]
    try:
        i = int(raw_i)
    except ValueError:
        i = 0
    if not 0 <= i < len(check.groups):
        i = 0
    if kind == "lf":
        if answer == "y":
            return _outcome(content, check, check.eligible, "aid:yes")
        return _next(content, check, i)
    if answer == "s":
        return _question(content, check, i, intro=(i == 0))
    if answer == "u":
        return _outcome(content, check, check.maybe, "aid:maybe")
    if answer == "y":
        if check.groups[i].needs_financial_hardship:
            return Reply(check.financial_question, [
                button(content.text("btn.yes"), f"lf:{i}:y", role="yes"),
                button(content.text("btn.no"), f"lf:{i}:n", role="no"),
                menu_button(content),
            ])
        return _outcome(content, check, check.eligible, "aid:yes")
    return _next(content, check, i)


def _next(content: Content, check: LegalAidCheck, i: int) -> Reply:
    if i + 1 < len(check.groups):
        return _question(content, check, i + 1, intro=False)
    return _outcome(content, check, check.not_eligible, "aid:no")
