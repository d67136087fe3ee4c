"""What every channel is to the rest of the system: a declaration (:class:`ChannelSpec`), a
lifecycle, web routes, notices, and the host it hands citizens' messages to.

A channel file (``bot/channels/<name>.py``) subclasses :class:`ChannelBase`, sets ``SPEC``,
maps its platform's errors once to :mod:`core.delivery`'s typed errors, and is listed in
``bot/channels/__init__.py``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar, Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.inbox import Inbox
from broadcast.rules import DeliveryRule
from core.channels import ChannelSpec
from core.config import Settings
from core.delivery import Delivery
from core.files import OutgoingFile
from flows.types import Incoming, Reply

__all__ = ["ChannelBase", "Host", "Route", "check_secret"]

#: (method, path, handler) added to the web server, e.g. a platform's webhook.
Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


def check_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a webhook secret header; no secret configured = refuse."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class Host(Protocol):
    """What a channel needs from the assembled assistant (``bot.app.App``)."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    inbox: Inbox

    async def handle(self, msg: Incoming, update_key: str | None = None
                     ) -> list[Reply] | None: ...

    async def mark_blocked(self, channel: str, user_id: str, *,
                           unreachable: bool = False) -> None: ...


class ChannelBase:
    """A channel. Class-level: its declaration and platform rules; instance: a running
    connection to the platform (``trolyso run`` starts the configured ones)."""

    #: The channel's facts (push, buttons, audio, text limit, pace) with default values.
    SPEC: ClassVar[ChannelSpec]

    spec: ChannelSpec

    @classmethod
    def declare(cls, settings: Settings) -> ChannelSpec:
        """The declaration with this installation's settings (pace, buttons)."""
        return cls.SPEC

    @classmethod
    def delivery_rules(cls, settings: Settings) -> Sequence[DeliveryRule]:
        """Platform rules the sender keeps by deferring notices (quiet hours, quotas)."""
        return ()

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        """Whether ``trolyso run`` starts this channel (its credentials are set)."""
        return False

    @classmethod
    def create(cls, host: Host) -> ChannelBase:
        """The running channel for ``trolyso run``."""
        raise NotImplementedError(f"{cls.__name__} is not started by trolyso run")

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def routes(self) -> list[Route]:
        return []

    def health(self) -> str:
        """"ok", or "degraded" while the platform cannot be reached (``/healthz``)."""
        return "ok"

    def degraded_for(self) -> float:
        """Seconds the channel has been degraded (0 when it is ok)."""
        return 0.0

    async def deliver_file(self, user_id: str, text: str, file: OutgoingFile, *,
                           priority: str = "normal") -> Delivery:
        """Send one notice with its attachment (channels whose ``SPEC.files`` is true)."""
        raise NotImplementedError(f"{self.spec.name} does not take files")

    async def deliver(self, user_id: str, text: str, *, priority: str = "normal") -> Delivery:
        """Send one notice (no buttons) to one user; platform errors become a Delivery."""
        raise NotImplementedError(f"{self.spec.name} does not send notices")

    async def deliver_reply(self, user_id: str, reply: Reply) -> Delivery:
        """Send one message of a live chat (an operator's, or the handover's own) as a chat
        reply, with its buttons; the platform's refusal comes back with its reason."""
        raise NotImplementedError(f"{self.spec.name} does not push chat messages")
