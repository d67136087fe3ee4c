"""How a notice and a delivery report read, from the interface texts in content/texts.yaml."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["notice_title", "priority_label", "render_notice", "render_report", "split_title"]


def split_title(title: str | None, text: str) -> tuple[str, str]:
    """(title, body): without a title, the text's first line is the title."""
    text = text.strip()
    if title and title.strip():
        return " ".join(title.split()), text
    first, _, rest = text.partition("\n")
    return first.strip(), rest.strip()


def notice_title(title: str | None, text: str) -> str:
    """A notice's title: the one given, else the first line of its text."""
    return split_title(title, text)[0]


def priority_label(texts: Mapping[str, str], priority: str) -> str:
    """The Vietnamese name of a priority level ("khẩn cấp"), from texts.yaml ``prio.*``."""
    return texts.get(f"prio.{priority}", priority)


def render_notice(texts: Mapping[str, str], *, title: str | None, text: str, priority: str,
                  area_names: Sequence[str], kind: str | None = None) -> str:
    """What every recipient reads. The first line (header and title) is shown bold where the
    platform allows; the last line says how to stop receiving notices. ``kind``: a
    ``correction`` or ``withdrawal`` of an earlier notice (whose title is ``title``)."""
    head, body = (" ".join((title or "").split()), text.strip()) if kind \
        else split_title(title, text)
    header = texts[f"notice.header.{kind or priority}"]
    parts = [texts["notice.first_line"].format(header=header, title=head)]
    if body:
        parts.append(body)
    parts.append(texts["notice.areas"].format(areas=", ".join(area_names)))
    parts.append(texts["notice.signature"])
    parts.append(texts["notice.footer"])
    return "\n\n".join(parts[:-2]) + "\n\n" + "\n".join(parts[-2:])


def render_report(texts: Mapping[str, str], *, notice_id: int, title: str,
                  counts: Mapping[str, int]) -> str:
    """The delivery report sent to the author when a run ends."""
    lines = [texts["report.title"].format(id=notice_id, title=title),
             texts["report.sent"].format(sent=counts.get("sent", 0),
                                         recipients=counts.get("recipients", 0))]
    if counts.get("failed"):
        lines.append(texts["report.failed"].format(failed=counts["failed"]))
    if counts.get("blocked"):
        lines.append(texts["report.blocked"].format(blocked=counts["blocked"]))
    if counts.get("cancelled"):
        lines.append(texts["report.cancelled"].format(cancelled=counts["cancelled"]))
    if not counts.get("recipients"):
        lines.append(texts["report.nobody"])
    return "\n".join(lines)
