"""Scoring an engine on an evaluation file, exactly as the shared spec intents.md says.

Intent accuracy over all items; service accuracy over the items that name a service (a wrong
intent counts as a wrong service); top-3 service accuracy over the same items; latency per
parse in milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from nlu.types import Parse

__all__ = ["evaluate", "percentile", "top3_services"]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def top3_services(parse: Parse) -> list[str]:
    """The services among the three best guesses (the top guess first)."""
    ranked = [(parse.intent, parse.service)]
    ranked += [(a.intent, a.service) for a in parse.alternatives]
    out: list[str] = []
    seen: set[tuple[str, str | None]] = set()
    for intent, service in ranked:
        if (intent, service) in seen:
            continue
        seen.add((intent, service))
        if len(seen) > 3:
            break
        if intent == "service_howto" and service:
            out.append(service)
    return out


def evaluate(parse: Callable[[str], Parse], items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Scores and errors of ``parse`` on evaluation items ({text, intent, service?})."""
    n = len(items)
    intent_ok = service_n = service_ok = top3_ok = 0
    latencies: list[float] = []
    errors: list[dict[str, Any]] = []
    for item in items:
        t0 = time.perf_counter()
        p = parse(item["text"])
        latencies.append((time.perf_counter() - t0) * 1000.0)
        want_service = item.get("service")
        ok_intent = p.intent == item["intent"]
        intent_ok += ok_intent
        ok_service = True
        if want_service:
            service_n += 1
            ok_service = p.intent == "service_howto" and p.service == want_service
            service_ok += ok_service
            top3_ok += want_service in top3_services(p)
        if not (ok_intent and ok_service):
            errors.append({
                "text": item["text"], "expected_intent": item["intent"],
                "expected_service": want_service, "intent": p.intent, "service": p.service,
                "confidence": round(p.confidence, 4), "decision": p.decision,
            })
    return {
        "n": n,
        "intent_accuracy": round(intent_ok / n, 4) if n else 0.0,
        "service_accuracy": round(service_ok / service_n, 4) if service_n else 0.0,
        "service_top3": round(top3_ok / service_n, 4) if service_n else 0.0,
        "p50_ms": round(percentile(latencies, 50), 4),
        "p99_ms": round(percentile(latencies, 99), 4),
        "errors": errors,
    }
