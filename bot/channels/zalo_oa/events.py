"""Zalo OA webhook events as our :class:`~flows.types.Incoming` messages.

Buttons are ``oa.query.show`` buttons whose payload comes back as a ``user_send_text`` event
carrying exactly that string; we mark ours with a leading "#".
"""

from __future__ import annotations

from typing import Any

from bot.channels.zalo_oa.signature import scalar
from flows.types import Incoming, IncomingKind

__all__ = ["BUTTON_PREFIX", "to_incoming"]

#: Our button payloads start with this, so a tap is told apart from typed text.
BUTTON_PREFIX = "#"

_EVENT_KINDS: dict[str, IncomingKind] = {
    "user_send_text": "text",
    "user_send_image": "image",
    "user_send_gif": "image",
    "user_send_sticker": "sticker",
    "user_send_audio": "voice",
    "user_send_video": "unsupported",
    "user_send_link": "unsupported",
    "user_send_location": "unsupported",
    "user_send_file": "unsupported",
    "user_send_business_card": "unsupported",
    "follow": "follow",
    "unfollow": "unfollow",
}


def _str_at(data: Any, *path: str) -> str | None:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return scalar(data)


def to_incoming(event: dict[str, Any]) -> tuple[Incoming, str] | None:
    """Our view of one verified event and its de-duplication key; None for events we do not
    answer (delivery and seen receipts, echoes of the OA's own messages, anonymous chats)."""
    name = scalar(event.get("event_name")) or ""
    kind = _EVENT_KINDS.get(name)
    if kind is None:
        return None
    stamp = scalar(event.get("timestamp")) or ""
    if kind in ("follow", "unfollow"):
        user_id = _str_at(event, "follower", "id")
        if not user_id:
            return None
        return Incoming("zalo_oa", user_id, kind=kind), f"{name}:{user_id}:{stamp}"
    user_id = _str_at(event, "sender", "id")
    if not user_id:
        return None
    msg_id = _str_at(event, "message", "msg_id")
    key = f"{name}:{msg_id}" if msg_id else f"{name}:{user_id}:{stamp}"
    if kind != "text":
        return Incoming("zalo_oa", user_id, kind=kind, message_id=msg_id), key
    text = _str_at(event, "message", "text") or ""
    if text.startswith(BUTTON_PREFIX) and len(text) > len(BUTTON_PREFIX):
        payload = text[len(BUTTON_PREFIX):]
        return Incoming("zalo_oa", user_id, button=payload, kind="button", message_id=msg_id), key
    kind = "command" if text.startswith("/") else "text"
    return Incoming("zalo_oa", user_id, text=text, kind=kind, message_id=msg_id), key
