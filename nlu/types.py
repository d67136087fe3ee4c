"""What the understanding engine returns (the shape of ``trolyso nlu parse --json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

__all__ = ["INTENTS", "Alternative", "DangerLevel", "Decision", "Engine", "Parse"]

#: Canonical intents (../shared/spec/intents.md). Every parse maps to one of these.
INTENTS = (
    "greet", "goodbye", "thanks", "menu_help", "service_list", "service_howto", "crime_report",
    "emergency", "legal_help", "vneid_account", "scam_report", "subscribe", "unsubscribe",
    "human", "out_of_scope",
)

Decision = Literal["answer", "suggest", "handover"]


@dataclass(frozen=True)
class Alternative:
    intent: str
    service: str | None
    confidence: float
    label: str | None = None


DangerLevel = Literal["now", "soft", "none"]


@dataclass(frozen=True)
class Parse:
    """What a message means.

    Beyond the JSON keys of interfaces.md, the flows may read:
    ``danger`` (``now``: the emergency numbers first; ``soft``: answer, then one line with the
    numbers; ``none``) and ``numbers`` (the emergency numbers, the most relevant first);
    ``second`` (a second topic in the same message, to offer after answering the first);
    ``question`` (the question found inside a long story); ``follow_up`` (the message was read
    as a question about ``current_service``).
    """

    text: str
    intent: str
    label: str | None
    confidence: float
    decision: Decision
    service: str | None = None
    aspect: str | None = None
    alternatives: list[Alternative] = field(default_factory=list)
    faq: str | None = None  # best matching FAQ id inside the intent's topic, when confident
    danger: DangerLevel = "none"
    numbers: tuple[str, ...] = ()
    second: Alternative | None = None
    question: str | None = None
    follow_up: bool = False

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        # The JSON keys are fixed by interfaces.md: the extra fields stay in Python.
        for key in ("text", "faq", "danger", "numbers", "second", "question", "follow_up"):
            d.pop(key)
        d["alternatives"] = [
            {"intent": a.intent, "service": a.service, "confidence": round(a.confidence, 4)}
            for a in self.alternatives
        ]
        d["confidence"] = round(self.confidence, 4)
        return d


class Engine(Protocol):
    """An understanding backend. ``parse`` is in-process; ``aparse`` may do I/O (Rasa).

    ``current_service`` is the service the citizen is looking at: a short follow-up ("còn
    giấy tờ gì nữa", "mất bao lâu", "ở đâu") is then read as a question about it.
    """

    def parse(self, text: str, current_service: str | None = None) -> Parse: ...

    async def aparse(self, text: str, current_service: str | None = None) -> Parse: ...
