"""The Rasa backend, against a local double of Rasa's HTTP API on loopback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from nlu.builtin import BuiltinEngine
from nlu.rasa import RasaEngine

Handler = Callable[[web.Request], Any]


class RasaDouble:
    """A Rasa 3 server stand-in: ``POST /model/parse`` answers what ``reply`` says."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.status = 200
        self.calls = 0
        self.reply: dict[str, Any] = {
            "text": "", "intent": {"name": "svc_cap-ho-chieu", "confidence": 0.97},
            "entities": [{"entity": "aspect", "value": "fee", "start": 0, "end": 3}],
            "intent_ranking": [
                {"name": "svc_cap-ho-chieu", "confidence": 0.97},
                {"name": "svc_cap-doi-the-can-cuoc", "confidence": 0.02},
                {"name": "out_of_scope", "confidence": 0.01},
            ],
        }

    async def parse(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = await request.json()
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response({**self.reply, "text": body["text"]}, status=self.status)


@pytest.fixture
async def rasa() -> AsyncIterator[tuple[RasaDouble, str]]:
    double = RasaDouble()
    app = web.Application()
    app.router.add_post("/model/parse", double.parse)
    # The slow handler is cancelled at teardown, not waited for (aiohttp waits up to
    # shutdown_timeout for handlers in flight).
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield double, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _free_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_rasa_up_its_answer_is_used(rasa: tuple[RasaDouble, str],
                                          engine: BuiltinEngine) -> None:
    double, url = rasa
    backend = RasaEngine(url, engine, timeout_s=1.0)
    p = await backend.aparse("làm passport hết bao nhiêu")
    await backend.close()
    assert (p.intent, p.service, p.aspect, p.confidence) == (
        "service_howto", "cap-ho-chieu", "fee", 0.97)
    assert [a.service for a in p.alternatives[:2]] == ["cap-ho-chieu", "cap-doi-the-can-cuoc"]
    assert double.calls == 1


async def test_rasa_down_falls_back_and_logs_once(engine: BuiltinEngine,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    backend = RasaEngine(_free_port_url(), engine, timeout_s=1.0, retry_after_s=0.0)
    with caplog.at_level(logging.WARNING, logger="nlu.rasa"):
        first = await backend.aparse("đổi bằng lái hết hạn")
        second = await backend.aparse("mất bằng lái")
    await backend.close()
    assert first.service == engine.parse("đổi bằng lái hết hạn").service
    assert second.service == engine.parse("mất bằng lái").service
    assert len([r for r in caplog.records if "Rasa" in r.getMessage()]) == 1


async def test_rasa_slow_falls_back_within_the_timeout(rasa: tuple[RasaDouble, str],
                                                       engine: BuiltinEngine) -> None:
    double, url = rasa
    double.delay = 2.0
    backend = RasaEngine(url, engine, timeout_s=0.2)
    started = time.monotonic()
    p = await backend.aparse("làm hộ chiếu")
    elapsed = time.monotonic() - started
    await backend.close()
    assert p.service == "cap-ho-chieu" and backend.down
    assert elapsed < 1.0


async def test_rasa_error_status_falls_back(rasa: tuple[RasaDouble, str],
                                            engine: BuiltinEngine) -> None:
    double, url = rasa
    double.status = 500
    backend = RasaEngine(url, engine, timeout_s=1.0)
    p = await backend.aparse("đăng ký kết hôn")
    await backend.close()
    assert p.service == "dang-ky-ket-hon" and backend.down


async def test_rasa_is_used_again_when_it_recovers(rasa: tuple[RasaDouble, str],
                                                   engine: BuiltinEngine,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    double, url = rasa
    double.status = 503
    backend = RasaEngine(url, engine, timeout_s=1.0, retry_after_s=0.0)
    await backend.aparse("xin chào")
    double.status = 200
    with caplog.at_level(logging.INFO, logger="nlu.rasa"):
        p = await backend.aparse("xin chào")
    await backend.close()
    assert p.service == "cap-ho-chieu" and not backend.down  # the double's canned answer
    assert any("again" in r.getMessage() for r in caplog.records)


async def test_a_dead_rasa_is_not_retried_on_every_message(rasa: tuple[RasaDouble, str],
                                                           engine: BuiltinEngine) -> None:
    double, url = rasa
    double.status = 500
    backend = RasaEngine(url, engine, timeout_s=1.0, retry_after_s=60.0)
    for _ in range(3):
        await backend.aparse("làm hộ chiếu")
    await backend.close()
    assert double.calls == 1


async def test_rasa_cannot_hide_an_emergency(rasa: tuple[RasaDouble, str],
                                             engine: BuiltinEngine) -> None:
    _, url = rasa
    backend = RasaEngine(url, engine, timeout_s=1.0)
    p = await backend.aparse("cháy nhà rồi cứu với")
    await backend.close()
    assert (p.intent, p.decision) == ("emergency", "answer")
