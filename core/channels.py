"""What a channel is, as plain data: each channel declares one :class:`ChannelSpec` in its own
file (``bot/channels/<name>.py``), and the sender, the renderer, the conversation and the
configuration read it instead of keeping their own lists of channel names."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ChannelSpec"]


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    #: Can send a message the citizen did not ask for (notices, delivery reports). The web chat
    #: and the terminal only answer, so subscribing there would silently never deliver.
    push: bool
    #: Buttons shown natively per message; the rest become numbered options ("1", "2"...).
    #: 0: the platform has no buttons at all.
    buttons: int
    #: Plays voice messages, so answers offer "🔊 Nghe".
    audio: bool
    #: The longest message the platform accepts (characters); 0: no limit.
    text_limit: int
    #: Takes a file (the radio bulletin's MP3 for operators); otherwise a link is sent.
    files: bool = False
    #: Notices per second over the whole bot, shared by every sender process (push channels).
    rate_per_s: float = 0.0
    #: At least this long between two notices to the same chat.
    per_chat_interval_s: float = 0.0
    #: Its user ids are accounts the platform vouches for, so they may carry team or admin
    #: rights. False for the web chat (anyone may send any session id) and the terminal:
    #: citizens' sessions only; the operator console, with real accounts, is the way in.
    rights: bool = True

    def __post_init__(self) -> None:
        if self.push and self.rate_per_s <= 0:
            raise ValueError(f"channel {self.name!r} sends notices: declare its rate_per_s")
        if self.buttons < 0 or self.text_limit < 0:
            raise ValueError(f"channel {self.name!r}: buttons and text_limit are never negative")
