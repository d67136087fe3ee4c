"""What every channel offers to the rest of the system (web routes, lifecycle, delivery)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from aiohttp import web

__all__ = ["Channel", "Delivery", "Route"]

#: (method, path, handler) added to the web server, e.g. a platform's webhook.
Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one notice to one recipient.

    ``retry``: try again later (429, 5xx, timeout, a platform's quiet hours), not before
    ``retry_at`` when given; ``blocked``: the user refuses the bot (stop sending to them);
    ``failed``: the platform will not accept this recipient at all (``reason`` says why).
    """

    status: Literal["sent", "retry", "blocked", "failed"]
    reason: str | None = None
    retry_at: dt.datetime | None = None
    platform_id: str | None = None  # the platform's message id when sent


class Channel(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def routes(self) -> list[Route]: ...

    async def deliver(self, user_id: str, text: str, *, priority: str = "normal") -> Delivery:
        """Send one notice (no buttons) to one user, mapping platform errors to a Delivery."""
        ...
