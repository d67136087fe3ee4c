"""What happened when a message was handed to a platform, and the errors each channel maps
its platform's failures to, once, next to its written policy (``bot/channels/<name>.py``).

Policy, the same for every channel:

* :class:`RateLimited`: the platform's flood control (Telegram 429) is for the whole bot:
  the row waits ``retry_after_s`` and the channel pauses for every sender;
* :class:`Retry`: a timeout, a network error, a 5xx, token trouble, a platform's quiet hours:
  try again later (at ``at`` when given, else with backoff, ``failed`` after
  ``broadcast.max_attempts``);
* :class:`Blocked`: the user refuses the bot (Telegram 403): never sent to again until they
  write;
* :class:`Rejected`: the platform will not take this message or recipient (a 400 such as
  "chat not found"): kept as failed with the platform's words, never retried.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

__all__ = ["Blocked", "Delivery", "DeliveryError", "RateLimited", "Rejected", "Retry"]


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
    #: The platform's flood control is for the whole bot: pause the channel until ``retry_at``.
    pause_channel: bool = False

    @classmethod
    def of(cls, error: DeliveryError) -> Delivery:
        """The outcome a mapped platform error stands for (the policy above)."""
        if isinstance(error, RateLimited):
            return cls("retry", reason=error.reason, pause_channel=True,
                       retry_at=dt.datetime.now(dt.UTC) + dt.timedelta(
                           seconds=error.retry_after_s))
        if isinstance(error, Retry):
            return cls("retry", reason=error.reason, retry_at=error.at)
        if isinstance(error, Blocked):
            return cls("blocked", reason=error.reason)
        return cls("failed", reason=error.reason)


class DeliveryError(Exception):
    """A platform's failure, mapped to what we do about it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Retry(DeliveryError):
    """Later may work: a timeout, the network, a 5xx, token trouble; ``at`` when known."""

    def __init__(self, reason: str, *, at: dt.datetime | None = None) -> None:
        super().__init__(reason)
        self.at = at


class RateLimited(Retry):
    """Flood control for the whole bot: nothing goes out for ``retry_after_s``."""

    def __init__(self, reason: str, retry_after_s: float) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class Blocked(DeliveryError):
    """The user refuses messages from the bot."""


class Rejected(DeliveryError):
    """The platform will not accept this message or recipient; trying again cannot help."""
