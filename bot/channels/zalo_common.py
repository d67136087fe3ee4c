"""What the two Zalo channels (Bot Platform and Official Account) share.

An error type that says whether trying later may help, Vietnam time for Zalo's quiet hours and
the resend policy for replies a citizen is waiting for. (Updates are stored and handled by the
inbox, ``bot.inbox``.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar
from zoneinfo import ZoneInfo

__all__ = [
    "ACK_S",
    "TEXT_LIMIT",
    "VN_TZ",
    "ZaloError",
    "next_local_time",
    "resend_transient",
]

log = logging.getLogger(__name__)

#: Zalo applies its quiet hours in Vietnam time, whatever the server's zone.
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

#: Both products refuse longer texts: Bot Platform sendMessage 1-2000 characters [C official-docs
#: mirror]; OA customer-service messages answer -210 above 2000 [C a pilot's notes, public code].
TEXT_LIMIT = 2000

#: A webhook is answered within this time: Zalo expects the OA's answer within about 2 s and
#: retries otherwise [U: one integration guide]; the Bot Platform's is not documented. An
#: update not stored by then gets 503 (not acknowledged) while its storing goes on, so a slow
#: database never makes the answer late and the redelivery is recognised.
ACK_S = 1.5

T = TypeVar("T")


class ZaloError(Exception):
    """A Zalo API call failed. ``transient``: 429, 5xx, timeouts, network; later may work."""

    def __init__(self, code: int, message: str, *, transient: bool = False) -> None:
        super().__init__(f"{code} {message}".strip())
        self.code = code
        self.message = message
        self.transient = transient


def next_local_time(hhmm: str, now: dt.datetime | None = None) -> dt.datetime:
    """The next moment the Vietnam clock shows ``hhmm`` (e.g. the end of the night window)."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    local = (now or dt.datetime.now(dt.UTC)).astimezone(VN_TZ)
    at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at <= local:
        at = (at + dt.timedelta(days=1)).replace(hour=hour, minute=minute)
    return at.astimezone(dt.UTC)


async def resend_transient(send: Callable[[], Awaitable[T]], *, attempts: int = 3,
                           first_wait_s: float = 1.0) -> T:
    """Call ``send``; on a transient error wait 1 s, 2 s... and call again, ``attempts`` in all.

    Policy for replies a citizen is waiting for: a short outage or a 429 should not lose the
    answer, but a long one must not pile up work either. Notices do not use this: the outbox
    retries them later (Delivery "retry").
    """
    wait = first_wait_s
    for attempt in range(attempts):
        try:
            return await send()
        except ZaloError as exc:
            if not exc.transient or attempt == attempts - 1:
                raise
            log.info("Zalo send failed (%s), trying again in %.0f s", exc, wait)
            await asyncio.sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")
