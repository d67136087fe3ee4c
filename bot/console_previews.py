"""How a notice looks on each channel, for the console's live preview: each channel's own
renderer and text limit (the console, a floor below, reaches them through
:class:`console.ports.ChannelPreview`)."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from telegram.constants import MessageLimit

from bot.channels.telegram import to_html
from bot.channels.zalo_common import TEXT_LIMIT as ZALO_LIMIT
from bot.render import split_text

__all__ = ["ChannelPreviewer", "previews"]


@dataclass(frozen=True)
class ChannelPreviewer:
    name: str
    label: str
    limit: int  # characters per message; longer notices arrive as several messages
    to_html: Callable[[str], str]

    def render(self, text: str) -> list[str]:
        return [self.to_html(part) for part in split_text(text, self.limit)]


def previews() -> list[ChannelPreviewer]:
    """Telegram (bold first line, HTML), Zalo (plain text, 2,000 characters a message) and the
    web chat (plain text)."""
    return [
        ChannelPreviewer("telegram", "Telegram", int(MessageLimit.MAX_TEXT_LENGTH), to_html),
        ChannelPreviewer("zalo_oa", "Zalo", ZALO_LIMIT, html.escape),
        ChannelPreviewer("web", "Trang web", 100_000, html.escape),
    ]
