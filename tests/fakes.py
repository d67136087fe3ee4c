"""Test doubles that live inside the process (external services get HTTP doubles instead)."""

from __future__ import annotations

import unicodedata
from typing import ClassVar

from nlu.types import Alternative, Parse

__all__ = ["KeywordNlu"]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


class KeywordNlu:
    """A tiny keyword engine so flow tests do not depend on the trained model's accuracy."""

    RULES: ClassVar[list[tuple[str, str, str | None, str | None]]] = [
        ("chay nha", "emergency", None, None),
        ("ban la ai", "menu_help", None, "bot_identity"),
        ("bot ngu", "human", None, "insult"),
        ("con nuoi", "out_of_scope", None, "other_procedure"),
        ("cuu voi", "emergency", None, None),
        ("ho chieu", "service_howto", "cap-ho-chieu", None),
        ("khai sinh", "service_howto", "dang-ky-khai-sinh", None),
        ("tam tru", "service_howto", "dang-ky-tam-tru", None),
        ("lua dao", "scam_report", None, None),
        ("to giac", "crime_report", None, None),
        ("tro giup phap ly", "legal_help", None, None),
        ("vneid", "vneid_account", None, None),
        ("thoi nhan thong bao", "unsubscribe", None, None),
        ("dang ky nhan", "subscribe", None, None),
        ("chao", "greet", None, None),
        ("can bo", "human", None, None),
        ("gia vang", "out_of_scope", None, None),
    ]
    ASPECTS: ClassVar[list[tuple[str, str]]] = [
        ("bao nhieu tien", "fee"), ("le phi", "fee"), ("may ngay", "duration"),
        ("giay to gi", "documents")]

    def parse(self, text: str, current_service: str | None = None) -> Parse:
        folded = _fold(text)
        aspect = next((a for k, a in self.ASPECTS if k in folded), None)
        for key, intent, service, label in self.RULES:
            if key in folded:
                # A procedure outside the 53 still has neighbours among the services.
                near = ([Alternative("service_howto", "dang-ky-khai-sinh", 0.1)]
                        if label == "other_procedure" else [])
                return Parse(text, intent, label or (f"svc_{service}" if service else None), 0.95,
                             "answer", service, aspect, near)
        if "mo ho" in folded:  # something the engine is unsure about
            return Parse(text, "service_howto", "svc_cap-ho-chieu", 0.4, "suggest",
                         "cap-ho-chieu", None, [Alternative("legal_help", None, 0.3),
                                                Alternative("service_howto", "dang-ky-khai-sinh",
                                                            0.2)])
        if aspect:
            return Parse(text, "service_howto", None, 0.3, "suggest", None, aspect, [])
        return Parse(text, "out_of_scope", None, 0.2, "handover", None, None, [])

    async def aparse(self, text: str, current_service: str | None = None) -> Parse:
        return self.parse(text, current_service)
