"""What the understanding engine returns (the shape of ``trolyso nlu parse --json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

__all__ = ["INTENTS", "Alternative", "Decision", "Engine", "Parse"]

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


@dataclass(frozen=True)
class Parse:
    text: str
    intent: str
    label: str | None
    confidence: float
    decision: Decision
    service: str | None = None
    aspect: str | None = None
    alternatives: list[Alternative] = field(default_factory=list)
    faq: str | None = None  # best matching FAQ id inside the intent's topic, when confident

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("text")
        d.pop("faq")  # the FAQ id is also the label; the JSON keys are fixed by interfaces.md
        d["alternatives"] = [
            {"intent": a.intent, "service": a.service, "confidence": round(a.confidence, 4)}
            for a in self.alternatives
        ]
        d["confidence"] = round(self.confidence, 4)
        return d


class Engine(Protocol):
    """An understanding backend. ``parse`` is in-process; ``aparse`` may do I/O (Rasa)."""

    def parse(self, text: str) -> Parse: ...

    async def aparse(self, text: str) -> Parse: ...
