"""What every channel offers to the rest of the system (web routes, lifecycle, delivery)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from core.delivery import Delivery

__all__ = ["Channel", "Route"]

#: (method, path, handler) added to the web server, e.g. a platform's webhook.
Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


class Channel(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def routes(self) -> list[Route]: ...

    async def deliver(self, user_id: str, text: str, *, priority: str = "normal") -> Delivery:
        """Send one notice (no buttons) to one user, mapping platform errors to a Delivery."""
        ...
