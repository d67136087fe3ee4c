"""What the console needs from the floor above it (``bot``), as protocols."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from flows.content import Content
from nlu.live import LiveEngine

__all__ = ["ChannelPreview", "ContentStatus", "Live"]


class ChannelPreview(Protocol):
    """One channel's way of showing a notice: its renderer and its declared text limit."""

    name: str  # telegram, zalo_bot, zalo_oa, web
    label: str  # as operators know it: "Telegram", "Zalo (Official Account)"

    def render(self, text: str) -> list[str]:
        """The messages a citizen receives, as safe HTML (one item per message)."""
        ...


@dataclass(frozen=True)
class ContentStatus:
    """The last look at the content folder: served, or refused with the problems found."""

    ok: bool = True
    checked_at: dt.datetime | None = None
    loaded_at: dt.datetime | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)


class Live(Protocol):
    """The assistant as it runs: what it serves now, and how to change that while it runs.

    Every server process serves the versions written in the database (``live_versions``): the
    accepted engine and the content folder's last good state. ``bot`` implements this.
    """

    @property
    def content(self) -> Content:
        """The content being served (a new object after each reload)."""
        ...

    @property
    def engine(self) -> LiveEngine:
        """The understanding engine being served."""
        ...

    @property
    def content_root(self) -> Path: ...

    @property
    def content_status(self) -> ContentStatus: ...

    def check_content(self, root: Path) -> list[str]:
        """The errors ``trolyso content check`` finds in the folder ``root`` (blocking)."""
        ...

    async def reload_content(self) -> list[str]:
        """Check the content folder and serve it; on errors keep the old content and return
        them. Every other process follows (the database's content version)."""
        ...

    async def refresh(self) -> None:
        """Serve the versions the database names now (instead of at the next poll)."""
        ...
