"""Platform rules kept by deferring a row, never by dropping it.

A channel whose platform limits when or how often a notice may go out declares its rules in its
own file (``bot/channels/<name>.py``: Zalo OA's quiet hours and daily quota); the assembly hands
them to the sender, which asks each rule of the row's channel before sending.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.outbox import Claim

__all__ = ["DeliveryRule"]


class DeliveryRule(Protocol):
    """One platform rule. Called inside the sender's transaction for the claimed row."""

    async def defer_until(self, session: AsyncSession, c: Claim,
                          now: dt.datetime) -> dt.datetime | None:
        """When this row may go out, or None when it may go now."""
        ...
