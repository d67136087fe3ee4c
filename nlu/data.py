"""Training data: Rasa 3 NLU YAML from ``content/nlu`` plus service names, aliases and FAQs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "FAQ_TOPICS",
    "FINER",
    "TOPIC_SEP",
    "Example",
    "base_label",
    "content_examples",
    "label_of",
    "load_eval",
    "read_rasa_yaml",
    "split_label",
    "training_examples",
]

#: FAQ topics whose entries answer each canonical intent (spec intents.md, content/README).
FAQ_TOPICS: dict[str, tuple[str, ...]] = {
    "legal_help": ("legal",),
    "vneid_account": ("vneid", "daily"),
    "scam_report": ("scam",),
    "crime_report": ("crime",),
    "human": ("hotline",),
}

#: Finer labels of the training data and the canonical intent each maps to (README).
FINER: dict[str, str] = {
    "other_procedure": "out_of_scope",  # a public procedure that is not among the 53
    "bot_identity": "menu_help",  # "bạn là ai", "bạn có phải người thật không"
    "insult": "human",  # "bot ngu", "vô dụng": the bot failed them; offer a person
}

_ENTITY_RE = re.compile(r"\[([^\]]+)\]\((\w+):([\w-]+)\)")
_ENTITY_JSON_RE = re.compile(r'\[([^\]]+)\]\{"entity":\s*"(\w+)",\s*"value":\s*"([\w-]+)"\}')


@dataclass(frozen=True)
class Example:
    """One labelled message; ``aspect`` is the annotated aspect value, if any."""

    text: str
    label: str  # a canonical intent, a finer label (FINER) or svc_<id>
    aspect: str | None = None
    source: str = "nlu"  # nlu | name | alias | faq
    faq: str | None = None  # the FAQ entry it asks about (Rasa retrieval intent "intent/faq-id")


#: Joins a catch-all label and a topic editors taught under it: ``other_procedure__t41`` is
#: learnt as a class of its own (so a new need does not move the catch-all's boundary with every
#: other label) and answered as ``other_procedure``.
TOPIC_SEP = "__"


def base_label(label: str) -> str:
    """The label without a taught topic: ``out_of_scope__t7`` → ``out_of_scope``."""
    return label.partition(TOPIC_SEP)[0]


def split_label(label: str) -> tuple[str, str | None]:
    """``svc_cap-ho-chieu`` → (``service_howto``, ``cap-ho-chieu``); ``other_procedure`` →
    (``out_of_scope``, None); canonical intents unchanged; a taught topic as its label."""
    label = base_label(label)
    if label.startswith("svc_"):
        return "service_howto", label[4:]
    return FINER.get(label, label), None


def label_of(intent: str, service: str | None) -> str:
    return f"svc_{service}" if intent == "service_howto" and service else intent


def _strip_entities(line: str) -> tuple[str, str | None]:
    aspect: str | None = None

    def repl(m: re.Match[str]) -> str:
        nonlocal aspect
        if m.group(2) == "aspect":
            aspect = m.group(3)
        return m.group(1)

    text = _ENTITY_RE.sub(repl, line)
    text = _ENTITY_JSON_RE.sub(repl, text)
    return text, aspect


def read_rasa_yaml(path: Path) -> list[Example]:
    """Examples of one Rasa 3 NLU file (``nlu: - intent: X examples: |``)."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    out: list[Example] = []
    for block in data.get("nlu") or []:
        intent = block.get("intent") if isinstance(block, dict) else None
        if not intent:
            continue
        intent, _, faq = str(intent).partition("/")
        raw = block.get("examples") or ""
        lines = raw.splitlines() if isinstance(raw, str) else [str(x) for x in raw]
        for line in lines:
            line = line.strip()
            if line.startswith("- "):
                line = line[2:].strip()
            if not line:
                continue
            text, aspect = _strip_entities(unicodedata.normalize("NFC", line))
            out.append(Example(text, intent, aspect, "nlu", faq or None))
    return out


def content_examples(content: Any) -> list[Example]:
    """Extra training text from the content: service names and aliases, FAQ questions."""
    out: list[Example] = []
    for entry in content.catalogue.entries:
        out.append(Example(str(entry["name"]), f"svc_{entry['id']}", None, "name"))
    for sid, svc in sorted(content.services.items()):
        for alias in svc.aliases:
            out.append(Example(alias, f"svc_{sid}", None, "alias"))
    topic_intent = {t: i for i, ts in FAQ_TOPICS.items() for t in ts}
    for topic_id, topic in sorted(content.faqs.items()):
        intent = topic_intent.get(topic_id) or topic.intent
        for e in topic.entries:
            for q in (e.question, *e.questions):
                out.append(Example(q, intent, None, "faq"))
    return out


def training_examples(nlu_files: Iterable[Path], content: Any | None = None) -> list[Example]:
    """All training examples: the Rasa files first, then what the content adds."""
    out: list[Example] = []
    for path in sorted(nlu_files):
        out.extend(read_rasa_yaml(path))
    if content is not None:
        known = {e.label for e in out}
        out.extend(e for e in content_examples(content) if e.label in known)
    return out


def load_eval(path: Path) -> list[dict[str, Any]]:
    """An evaluation file (spec intents.md): a YAML list of {text, intent, service?}."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a YAML list of {{text, intent, service}} items")
    items: list[dict[str, Any]] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or "text" not in item or "intent" not in item:
            raise ValueError(f"{path}: item {i}: needs 'text' and 'intent'")
        items.append({"text": str(item["text"]), "intent": str(item["intent"]),
                      "service": item.get("service")})
    return items


def dedupe(examples: Sequence[Example]) -> list[Example]:
    """Drop exact repeats (same text and label)."""
    seen: set[tuple[str, str]] = set()
    out: list[Example] = []
    for e in examples:
        key = (e.text.lower(), e.label)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
