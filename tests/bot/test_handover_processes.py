"""Two `trolyso run` processes on one PostgreSQL database serve a chat a person took over:
the citizen's Telegram messages arrive at either process (webhooks behind a load balancer),
the operator writes through either process's console; no message is lost or sent twice."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.channels import bind
from broadcast.types import Actor
from console import accounts
from console.handover.desk import Desk
from core.db import make_engine, make_sessionmaker, upgrade
from core.models import Handover, HandoverMessage
from tests.bot.test_run import ROOT, _free_port
from tests.conftest import settings_for
from tests.doubles.telegram_api import BotApiDouble

SECRET = "handover-test-secret"
CITIZEN = 4242
AREA = "12454"
PASSWORD = "mật khẩu dài dễ nhớ 2026"
N = 10  # messages each way while the chat is claimed

pytestmark = pytest.mark.slow


def _config(tmp: Path, nlu_cache: Path) -> Path:
    text = (ROOT / "config.yaml").read_text()
    text = text.replace('dir: "content"', f'dir: "{ROOT / "content"}"').replace(
        'cache_dir: "data/nlu-cache"', f'cache_dir: "{nlu_cache}"')
    text = re.sub(r'    mon-fri: \["07:30-11:30", "13:30-17:00"\]\n    sat: \["07:30-11:30"\]\n',
                  '    mon-sun: ["00:00-24:00"]\n', text)
    text = text.replace("watch_s: 0.5 ", "watch_s: 0.1 ").replace("sender_poll_s: 1.0 ",
                                                                     "sender_poll_s: 0.2 ")
    # Telegram's one message per chat per second is not this test's subject (the sender's
    # tests check it): at 1 s the operator's 10 messages took ~10 s to go out.
    text = text.replace("telegram_per_chat_interval_s: 1.0 ", "telegram_per_chat_interval_s: 0.1 ")
    assert 'mon-sun: ["00:00-24:00"]' in text and "per_chat_interval_s: 0.1 " in text
    cfg = tmp / "config.yaml"
    cfg.write_text(text)
    return cfg


@pytest.fixture
async def two(pg_url: str, tmp_path: Path, trained_nlu_cache: Path
              ) -> AsyncIterator[tuple[list[str], BotApiDouble]]:
    """Both processes load the run's trained engine (each trained it at start before)."""
    await upgrade(pg_url)
    tg = await BotApiDouble().start()
    cfg = _config(tmp_path, trained_nlu_cache)
    procs: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    logs = []
    try:
        for i in range(2):
            port = _free_port()
            env = dict(os.environ, TROLYSO_PORT=str(port), TELEGRAM_TOKEN=tg.token,
                       TELEGRAM_BASE_URL=tg.base_url, DATABASE_URL=pg_url,
                       TELEGRAM_WEBHOOK_URL="https://example.invalid/webhooks/telegram",
                       TELEGRAM_WEBHOOK_SECRET=SECRET)
            for var in ("ZALO_BOT_TOKEN", "ZALO_OA_APP_ID"):
                env.pop(var, None)
            log = (tmp_path / f"run{i}.log").open("wb")
            logs.append(log)
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "bot", "--config", str(cfg), "run"],
                env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT))
            bases.append(f"http://127.0.0.1:{port}")
        async with aiohttp.ClientSession() as http:
            for base, proc, i in zip(bases, procs, range(2), strict=True):
                for _ in range(600):
                    if proc.poll() is not None:
                        raise AssertionError((tmp_path / f"run{i}.log").read_text())
                    try:
                        async with http.get(base + "/healthz") as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.2)
        yield bases, tg
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
        await tg.stop()


async def _post(http: aiohttp.ClientSession, base: str, update: dict[str, Any]) -> None:
    async with http.post(base + "/webhooks/telegram", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
        assert r.status == 200, await r.text()


async def _wait_for(tg: BotApiDouble, pred: Any, wait_s: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        got = tg.messages_to(CITIZEN)
        if pred(got):
            return got
        await asyncio.sleep(0.05)
    raise AssertionError([m.get("text", "")[:80] for m in tg.messages_to(CITIZEN)])


async def test_two_processes_lose_nothing_and_send_nothing_twice_in_a_claimed_chat(
        two: tuple[list[str], BotApiDouble], pg_url: str, tmp_path: Path) -> None:
    bases, tg = two
    settings = bind(settings_for(pg_url, tmp_path))
    engine = make_engine(pg_url)
    sm = make_sessionmaker(engine)
    try:
        async with sm() as s, s.begin():
            _, link = await accounts.add_user(s, settings, Actor.cli("test"), "lan", "member",
                                              [AREA])
        async with sm() as s, s.begin():
            await accounts.set_password(s, settings, link.rsplit("/", 1)[1], PASSWORD)

        async with aiohttp.ClientSession() as http, aiohttp.ClientSession(
                cookie_jar=aiohttp.CookieJar(unsafe=True)) as op:
            # The operator logs in on process 0 and goes on duty there.
            async with op.get(bases[0] + "/console/login") as r:
                csrf = re.search(r'name="csrf-token" content="([^"]+)"', await r.text())
            assert csrf
            async with op.post(bases[0] + "/console/login", data={
                    "csrf": csrf.group(1), "name": "lan", "password": PASSWORD}) as r:
                page = await r.text()
            token = re.search(r'name="csrf-token" content="([^"]+)"', page)
            assert token and "Xin chào, lan" in page
            headers = {"X-CSRF-Token": token.group(1), "Accept": "application/json"}
            async with op.post(bases[0] + "/console/handover/duty", data={"on": "1"},
                               headers=headers) as r:
                assert (await r.json())["ok"] is True

            # The citizen asks for a person, their updates going to either process.
            # The ward is asked once (kept in the conversation), then the offer comes.
            await _post(http, bases[0], tg.message_update(CITIZEN, "cho tôi gặp cán bộ"))
            await _wait_for(tg, lambda got: any("Bạn ở phường nào" in m["text"] for m in got))
            await _post(http, bases[1], tg.callback_update(CITIZEN, f"w:{AREA}:hu"))
            await _wait_for(tg, lambda got: any("đọc các tin nhắn gần đây" in m["text"]
                                                for m in got))
            await _post(http, bases[0], tg.callback_update(CITIZEN, "ho:y"))
            await _wait_for(tg, lambda got: any("vị trí số 1" in m["text"] for m in got))
            async with sm() as s:
                h = (await s.execute(select(Handover))).scalar_one()

            # The operator claims through process 1; the citizen is told.
            async with op.post(f"{bases[1]}/console/handover/{h.id}/claim",
                               headers=headers) as r:
                assert r.status == 200, await r.text()
            await _wait_for(tg, lambda got: any("đã nhận tin" in m["text"] for m in got))
            before = len(tg.messages_to(CITIZEN))

            async def citizen(i: int) -> None:
                await _post(http, bases[i % 2], tg.message_update(CITIZEN, f"tin dân số {i}"))

            async def operator(i: int) -> None:
                async with op.post(f"{bases[(i + 1) % 2]}/console/handover/{h.id}/send",
                                   data={"text": f"tin cán bộ số {i}"}, headers=headers) as r:
                    assert r.status == 200, await r.text()

            for i in range(N):  # both ways at once, through both processes
                await asyncio.gather(citizen(i), operator(i))

            got = await _wait_for(tg, lambda got: sum("tin cán bộ số" in m["text"]
                                                      for m in got) >= N)
            await asyncio.sleep(2.0)  # anything sent twice would arrive by now
            during = tg.messages_to(CITIZEN)[before:]
            counts = Counter(m["text"].split("\n")[-1] for m in during)
            print(f"\nto the citizen while claimed: {len(during)} messages; "
                  f"operator messages {sum(counts[f'tin cán bộ số {i}'] for i in range(N))} "
                  f"of {N}")
            assert all(counts[f"tin cán bộ số {i}"] == 1 for i in range(N)), counts
            assert len(during) == N, [m["text"][:60] for m in during]  # the assistant was silent
            order = [m["text"].split("\n")[-1] for m in during]
            assert order == [f"tin cán bộ số {i}" for i in range(N)]

            async with sm() as s:
                lines = await Desk(s, settings, {}).transcript(h)
            heard = Counter(ln.text for ln in lines if ln.author == "citizen")
            print(f"citizen messages in the operator's transcript: "
                  f"{sum(heard[f'tin dân số {i}'] for i in range(N))} of {N}")
            assert all(heard[f"tin dân số {i}"] == 1 for i in range(N)), heard
            async with sm() as s:
                states = Counter((await s.execute(select(HandoverMessage.state).where(
                    HandoverMessage.author == "operator"))).scalars())
            assert states == {"sent": N}

            # The operator closes through process 0: 👍/👎 once, the assistant answers again.
            async with op.post(f"{bases[0]}/console/handover/{h.id}/close",
                               headers=headers) as r:
                assert r.status == 200
            await _wait_for(tg, lambda got: any("Cán bộ có giúp được bạn không" in m["text"]
                                                for m in got))
            await _post(http, bases[1], tg.message_update(CITIZEN, "làm hộ chiếu"))
            last = await _wait_for(tg, lambda got: "hộ chiếu" in got[-1]["text"].lower())
            assert sum("Cán bộ có giúp được bạn không" in m["text"] for m in last) == 1
            _ = got
    finally:
        await engine.dispose()
