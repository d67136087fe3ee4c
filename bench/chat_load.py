"""Load side of bench/chat_bench.py, in its own process: the Bot API double and the driver.

Protocol on stdin/stdout: prints ``PORT <n>`` once the double listens; then for each line
``GO <webhook url[,url...]> <updates> <rate>`` (rate 0 = as fast as possible) posts that many
updates, alternating between the URLs (several server processes behind a round-robin balancer),
and prints one JSON line with the figures (a webhook answering 503, an update not stored in
time, is posted again after a pause, as the platform redelivers it: ``redelivered_503``);
``RESET`` clears the double's log. ``lost`` counts
updates never answered; ``duplicates`` the replies beyond what the same message gets elsewhere
in the run (each chat sends one message, whose answer has a fixed number of messages).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.doubles.telegram_api import BotApiDouble

SECRET = "bench-secret"
MESSAGES = ["/start", "làm hộ chiếu hết bao nhiêu tiền", "quen mat khau vneid", "cảm ơn",
            "đăng ký khai sinh cho con cần giấy tờ gì", "bị lừa chuyển tiền rồi"]


async def drive(api: BotApiDouble, urls: list[str], n: int, rate: float,
                run: int) -> dict[str, float]:
    sent_at: dict[str, float] = {}
    redelivered = 0
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    sem = asyncio.Semaphore(64)
    base_chat = 10_000_000 + run * 100_000
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def one(i: int) -> None:
            nonlocal redelivered
            chat = base_chat + i
            update = api.message_update(chat, MESSAGES[i % len(MESSAGES)])
            async with sem:
                sent_at[str(chat)] = time.monotonic()
                for attempt in range(10):
                    async with http.post(urls[(i + attempt) % len(urls)], json=update,
                                         headers=headers) as resp:
                        await resp.read()
                        if resp.status == 200:
                            return
                        if resp.status != 503:
                            raise RuntimeError(f"webhook answered {resp.status}")
                    # 503: not stored in time (a saturated server); the platform delivers
                    # the update again, as Telegram does, and the balancer may pick another.
                    redelivered += 1
                    await asyncio.sleep(0.5 * (attempt + 1))
                raise RuntimeError("webhook answered 503 ten times")

        start = time.monotonic()
        tasks = []
        for i in range(n):
            if rate:
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        first: dict[str, float] = {}
        deadline = time.monotonic() + 180
        seen = 0
        while time.monotonic() < deadline and len(first) < n:
            for m in api.sent[seen:]:
                if m["chat_id"] in sent_at and m["chat_id"] not in first:
                    first[m["chat_id"]] = m["at"]
            seen = len(api.sent)
            await asyncio.sleep(0.01)
    end = max(first.values()) if first else time.monotonic()
    await asyncio.sleep(1.0)  # the last pieces of multi-message answers
    counts: dict[str, int] = {}
    for m in api.sent:
        if m["chat_id"] in sent_at:
            counts[m["chat_id"]] = counts.get(m["chat_id"], 0) + 1
    expected: dict[int, int] = {}
    for i in range(n):
        got = counts.get(str(base_chat + i), 0)
        kind = i % len(MESSAGES)
        if got and (kind not in expected or got < expected[kind]):
            expected[kind] = got
    duplicates = sum(max(0, counts.get(str(base_chat + i), 0) - expected.get(i % len(MESSAGES), 0))
                     for i in range(n))
    lat = sorted((first[c] - sent_at[c]) * 1000 for c in first) or [float("nan")]
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else lat * 99
    return {"updates": n, "answered": len(first), "lost": n - len(first),
            "redelivered_503": redelivered,
            "duplicates": duplicates, "seconds": end - start,
            "per_second": len(first) / max(end - start, 1e-9), "p50_ms": q[49], "p99_ms": q[98],
            "p999_ms": lat[min(len(lat) - 1, int(len(lat) * 0.999))]}


async def main() -> None:
    api = await BotApiDouble().start()
    print(f"PORT {api.port}", flush=True)
    loop = asyncio.get_running_loop()
    run = 0
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        parts = line.split()
        if parts[:1] == ["RESET"]:
            api.sent.clear()
            api.calls.clear()
            print("{}", flush=True)
        elif parts[:1] == ["GO"]:
            run += 1
            result = await drive(api, parts[1].split(","), int(parts[2]), float(parts[3]), run)
            print(json.dumps(result), flush=True)
    await api.stop()


if __name__ == "__main__":
    asyncio.run(main())
