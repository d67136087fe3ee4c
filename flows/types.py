"""Channel-neutral messages: what comes in and what the assistant answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Button", "ButtonRole", "Incoming", "IncomingKind", "Reply"]

IncomingKind = Literal["text", "button", "command", "image", "sticker", "voice", "unsupported",
                       "follow", "unfollow"]


@dataclass(frozen=True)
class Incoming:
    """One message from a citizen, already parsed out of the platform's update."""

    channel: str
    user_id: str  # the platform's id for the user (chat id on Telegram)
    text: str | None = None
    button: str | None = None  # payload of a button the user tapped
    kind: IncomingKind = "text"
    display_name: str | None = None
    message_id: str | None = None  # for de-duplicating redeliveries
    locale: str = "vi"


#: What a button does in a walkthrough or questionnaire, so a typed word ("tiếp", "quay lại",
#: "có", "không", "xong", "menu") can act as the button.
ButtonRole = Literal["next", "back", "yes", "no", "unsure", "done", "menu"]


@dataclass(frozen=True)
class Button:
    label: str
    payload: str  # short, ASCII, at most 64 bytes (Telegram callback_data)
    url: str | None = None  # a link button instead of a callback
    role: ButtonRole | None = None


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: list[Button] = field(default_factory=list)
    audio_path: str | None = None  # a voice/audio file to send
    audio_url: str | None = None
    speakable: bool = False  # offer the "🔊 Nghe" button for this reply
    #: "human": where a person can help ("Gặp cán bộ"); a plug-in may offer a live chat there.
    kind: Literal["answer", "menu", "emergency", "notice", "system", "human"] = "answer"
    #: Phone numbers written in ``text`` that a channel may make tap-to-call, most relevant
    #: first (the web page turns them into tel: links; other channels show plain numbers).
    numbers: tuple[str, ...] = ()
