"""What happened when a message was handed to a platform."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

__all__ = ["Delivery"]


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
