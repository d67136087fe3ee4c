"""What the console needs from the floor above it (``bot``), as protocols."""

from __future__ import annotations

from typing import Protocol

__all__ = ["ChannelPreview"]


class ChannelPreview(Protocol):
    """One channel's way of showing a notice: its renderer and its declared text limit."""

    name: str  # telegram, zalo_bot, zalo_oa, web
    label: str  # as operators know it: "Telegram", "Zalo (Official Account)"

    def render(self, text: str) -> list[str]:
        """The messages a citizen receives, as safe HTML (one item per message)."""
        ...
