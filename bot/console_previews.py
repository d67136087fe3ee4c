"""How a notice looks on each channel, for the console's live preview: each channel's own
renderer and declared text limit (the console, a floor below, reaches them through
:class:`console.ports.ChannelPreview`)."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.channels.telegram import to_html
from bot.render import split_text
from core.channels import ChannelSpec

__all__ = ["ChannelPreviewer", "previews"]


@dataclass(frozen=True)
class ChannelPreviewer:
    name: str
    label: str
    limit: int  # characters per message (0: none); longer notices arrive as several messages
    to_html: Callable[[str], str]

    def render(self, text: str) -> list[str]:
        parts = split_text(text, self.limit) if self.limit else [text.strip()]
        return [self.to_html(part) for part in parts]


#: What operators see, in their words: the channels citizens read notices on.
_SHOWN: tuple[tuple[str, str, Callable[[str], str]], ...] = (
    ("telegram", "Telegram", to_html),  # bold first line, as the channel sends it
    ("zalo_oa", "Zalo", html.escape),
    ("web", "Trang web", html.escape),
)


def previews(channels: Mapping[str, ChannelSpec]) -> list[ChannelPreviewer]:
    """One previewer per shown channel that is declared, with its declared text limit."""
    return [ChannelPreviewer(name, label, channels[name].text_limit, render)
            for name, label, render in _SHOWN if name in channels]
