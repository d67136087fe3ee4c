"""A toy chat platform on loopback, the double of ``tests/bot/toy_channel.py``.

``POST /send`` with ``{"to", "text"}`` answers ``{"ok": true, "id": N}``; a recipient in
``blocked`` gets 403 ``{"ok": false, "error": "blocked"}``, in ``refuse`` 400. What was sent is
kept in ``sent``. :meth:`say` posts a user's message to the channel's webhook.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
from aiohttp import web

__all__ = ["ToyApiDouble"]


@dataclass
class ToyApiDouble:
    sent: list[dict[str, Any]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    refuse: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> ToyApiDouble:
        app = web.Application()
        app.router.add_post("/send", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = cast(asyncio.Server, site._server)
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body["to"] in self.blocked:
            return web.json_response({"ok": False, "error": "blocked"}, status=403)
        if body["to"] in self.refuse:
            return web.json_response({"ok": False, "error": "no such user"}, status=400)
        self.sent.append(body)
        return web.json_response({"ok": True, "id": next(self._ids)})

    def to(self, user: str) -> list[str]:
        return [m["text"] for m in self.sent if m["to"] == user]

    async def say(self, webhook_url: str, user: str, text: str) -> int:
        async with aiohttp.ClientSession() as http, \
                http.post(webhook_url, json={"from": user, "text": text}) as resp:
            return resp.status

    async def wait_sent(self, user: str, count: int, wait_s: float = 10) -> list[str]:
        for _ in range(int(wait_s / 0.02)):
            if len(self.to(user)) >= count:
                break
            await asyncio.sleep(0.02)
        return self.to(user)
