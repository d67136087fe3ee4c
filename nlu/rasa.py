"""Rasa 3 as an optional backend, with the built-in engine as its fallback.

``aparse`` posts to the server's ``POST /model/parse`` with a timeout. When Rasa is down, slow
or answers nonsense, the built-in engine answers instead; the fallback is logged once, and
Rasa is tried again after ``retry_after_s`` (so a dead server does not add its timeout to
every message). Emergency rules, aspects and FAQ ranking always come from the built-in side.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import aiohttp

from nlu.builtin import BuiltinEngine
from nlu.danger import assess
from nlu.data import split_label
from nlu.normalize import normalize
from nlu.rules import aspect_of
from nlu.types import Alternative, Parse

__all__ = ["RasaEngine"]

log = logging.getLogger(__name__)


class RasaEngine:
    """Parses with a Rasa 3 server; falls back to ``fallback`` when it cannot."""

    def __init__(self, url: str, fallback: BuiltinEngine, timeout_s: float = 2.0,
                 retry_after_s: float = 30.0) -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self.fallback = fallback
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self._down_since: float | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def down(self) -> bool:
        """Whether the last call to Rasa failed (the built-in engine is answering)."""
        return self._down_since is not None

    def parse(self, text: str, current_service: str | None = None) -> Parse:
        """In-process parse: the built-in engine (Rasa is only called from ``aparse``)."""
        return self.fallback.parse(text, current_service)

    async def aparse(self, text: str, current_service: str | None = None) -> Parse:
        base = self.fallback.parse(text, current_service)
        if base.follow_up or base.danger == "now":
            return base  # the thread and danger now are decided by the built-in rules
        now = time.monotonic()
        if self._down_since is not None and now - self._down_since < self.retry_after_s:
            return base
        try:
            data = await self._post(text)
            result = self._from_rasa(text, data, base)
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError, KeyError,
                TypeError) as exc:
            if self._down_since is None:
                log.warning("Rasa at %s failed (%s: %s); using the built-in engine until it "
                            "recovers", self.url, type(exc).__name__, exc)
            self._down_since = now
            return base
        if self._down_since is not None:
            log.info("Rasa at %s answers again", self.url)
            self._down_since = None
        return result

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, text: str) -> dict[str, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with self._session.post(self.url, json={"text": text}, timeout=timeout) as resp:
            if resp.status != 200:
                raise ValueError(f"HTTP {resp.status}")
            data = await resp.json(content_type=None)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data

    def _from_rasa(self, text: str, data: dict[str, Any], base: Parse | None = None) -> Parse:
        """Map Rasa's answer (intent, intent_ranking, entities) to a Parse."""
        intent_obj = data["intent"]
        label = str(intent_obj["name"]).partition("/")[0]
        confidence = float(intent_obj.get("confidence") or 0.0)
        known = set(self.fallback.labels)
        if label not in known:
            raise ValueError(f"unknown intent {label!r}")
        ranking = data.get("intent_ranking") or [intent_obj]
        alternatives = []
        for item in ranking[:5]:
            lb = str(item.get("name"))
            if lb in known:
                a_intent, a_service = split_label(lb)
                alternatives.append(Alternative(a_intent, a_service,
                                                float(item.get("confidence") or 0.0), lb))
        norm = normalize(text)
        danger = assess(text)
        if danger.now and label != "emergency":
            label, confidence = "emergency", max(confidence, 0.9)
            alternatives.insert(0, Alternative("emergency", None, confidence, "emergency"))
        elif not danger.now and label == "emergency":
            # Danger now is decided by the rules: a look-alike ("sáp nhập") is not an alarm.
            rest = [a for a in alternatives if a.intent != "emergency"]
            if not rest:
                raise ValueError("Rasa says emergency; the rules do not")
            label = rest[0].label or rest[0].intent
            confidence = rest[0].confidence
            alternatives = rest
        intent, service = split_label(label)
        aspect = next((str(e.get("value")) for e in data.get("entities") or []
                       if e.get("entity") == "aspect"), None) or aspect_of(norm)
        base = base or self.fallback.parse(text)
        faq = base.faq if base.intent == intent else None
        decision = self.fallback._decision(intent, confidence)
        if intent != "service_howto" and decision == "answer" and intent != "out_of_scope":
            aspect = None
        level = danger.level if danger.level != "none" else base.danger
        return replace(base, intent=intent, label=faq or (label if label != intent else None),
                       confidence=confidence, decision=decision, service=service,
                       aspect=aspect, alternatives=alternatives, faq=faq, danger=level,
                       numbers=danger.numbers if level != "none" else ())
