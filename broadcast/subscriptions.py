"""Citizens' subscriptions: stored only after consent, matched against a notice's targets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.types import Subscription as SubscriptionView
from core.db import utcnow
from core.models import Subscription

__all__ = ["delete_subscription", "get_subscription", "matching", "save_subscription"]


async def get_subscription(session: AsyncSession, channel: str,
                           user_id: str) -> SubscriptionView | None:
    row = await session.get(Subscription, (channel, user_id))
    if row is None:
        return None
    return SubscriptionView(tuple(row.areas), tuple(row.topics), row.consent_at)


async def save_subscription(session: AsyncSession, channel: str, user_id: str,
                            areas: Iterable[str], topics: Iterable[str], consent_text: str,
                            now: dt.datetime | None = None) -> None:
    """Create (consent given now) or change a subscription."""
    now = now or utcnow()
    row = await session.get(Subscription, (channel, user_id), with_for_update=True)
    if row is None:
        session.add(Subscription(channel=channel, user_id=user_id, areas=sorted(set(areas)),
                                 topics=sorted(set(topics)), consent_at=now,
                                 consent_text=consent_text, created_at=now, updated_at=now))
    else:
        row.areas, row.topics, row.updated_at = sorted(set(areas)), sorted(set(topics)), now
    await session.flush()


async def delete_subscription(session: AsyncSession, channel: str, user_id: str) -> bool:
    """Withdraw consent: the subscription is deleted, not flagged."""
    result = await session.execute(delete(Subscription).where(
        Subscription.channel == channel, Subscription.user_id == user_id))
    return bool(getattr(result, "rowcount", 0))


async def matching(session: AsyncSession, areas: Iterable[str],
                   topics: Iterable[str]) -> list[tuple[str, str]]:
    """(channel, user_id) of every subscriber in one of ``areas`` who follows one of ``topics``.

    Areas and topics are small JSON lists; they are matched here rather than in SQL, which
    keeps the query the same on SQLite and PostgreSQL (a ward has thousands of subscribers)."""
    want_areas, want_topics = set(areas), set(topics)
    out: list[tuple[str, str]] = []
    result = await session.execute(select(Subscription.channel, Subscription.user_id,
                                          Subscription.areas, Subscription.topics)
                                   .order_by(Subscription.channel, Subscription.user_id))
    for channel, user_id, sub_areas, sub_topics in result:
        if want_areas.intersection(sub_areas) and want_topics.intersection(sub_topics):
            out.append((channel, user_id))
    return out
