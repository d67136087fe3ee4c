"""The shared channel rate counts a request from its start until its answer: the platform counts
it when it arrives, somewhere in between, so no second at the platform gets more than the rate
whatever the delays of the event loop, the database and the network."""

from __future__ import annotations

import heapq
import random

from broadcast import ratelimit
from core.db import make_engine, make_sessionmaker
from tests.bot.test_reply_pace import busiest_second


async def test_a_request_in_flight_holds_its_place_until_answered(db_url: str) -> None:
    engine = make_engine(db_url)
    sm = make_sessionmaker(engine)
    try:
        async with sm() as s, s.begin():
            for at in (100.0, 100.1):
                slot = await ratelimit.reserve(s, "zalo_bot", 2, at)
                assert await ratelimit.admit(s, "zalo_bot", 2, slot, at) is None
            third = await ratelimit.reserve(s, "zalo_bot", 2, 100.2)
            # Both still in flight, seconds later: either may yet arrive with the third.
            assert await ratelimit.admit(s, "zalo_bot", 2, third, 105.0) is not None
        async with sm() as s, s.begin():
            await ratelimit.record(s, "zalo_bot", [(100.0, 104.0)])
            again = await ratelimit.admit(s, "zalo_bot", 2, third, 105.0)
            assert again is not None and 105.0 <= again <= 105.0 + 2 * ratelimit.WINDOW_MARGIN_S
            assert await ratelimit.admit(s, "zalo_bot", 2, third, again) is None
    finally:
        await engine.dispose()


async def test_no_second_at_the_platform_gets_more_than_the_rate_whatever_the_delays(
        sqlite_url: str) -> None:
    """80 requests wanted at once, senders waking up to 0.3 s late, round trips from 10 ms to
    0.8 s, each request arriving at a random moment of its round trip (virtual time)."""
    engine = make_engine(sqlite_url)
    sm = make_sessionmaker(engine)
    rng = random.Random(14)
    rate, wanted, t0 = 10, 80, 1000.0
    arrivals: list[float] = []
    events: list[tuple[float, int, str, float]] = []
    try:
        async with sm() as s, s.begin():
            for i in range(wanted):
                slot = await ratelimit.reserve(s, "zalo_oa", rate, t0)
                events.append((slot + rng.uniform(0, 0.3), i, "try", slot))
        heapq.heapify(events)
        seq = wanted
        while events:
            now, _, kind, value = heapq.heappop(events)
            seq += 1
            async with sm() as s, s.begin():
                if kind == "end":
                    await ratelimit.record(s, "zalo_oa", [(value, now)])
                    continue
                again = await ratelimit.admit(s, "zalo_oa", rate, value, now)
            if again is None:
                trip = rng.choice([0.01, 0.05, 0.2, 0.8])
                arrivals.append(now + rng.uniform(0, trip))
                heapq.heappush(events, (now + trip, seq, "end", now))
            else:
                assert again >= now
                heapq.heappush(events, (again + rng.uniform(0, 0.1), seq, "try", value))
        took = max(arrivals) - t0
        print(f"\n{wanted} requests in {took:.1f} virtual s; busiest second "
              f"{busiest_second(arrivals)} (rate {rate})")
        assert len(arrivals) == wanted
        assert busiest_second(arrivals) <= rate
        assert took < wanted / rate * 1.8  # held back by the round trips, not starved
    finally:
        await engine.dispose()
