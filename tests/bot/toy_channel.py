"""A toy channel, written the way the README says a new channel is added: this one file (in
``bot/channels/`` for a real platform), a line in ``bot.channels.CHANNELS``, its double
(``tests/doubles/toy_api.py``) and its tests."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.channels.base import ChannelBase, Host, Route
from bot.render import render
from core.channels import ChannelSpec
from core.config import Settings
from core.delivery import Blocked, Delivery, DeliveryError, Rejected, Retry
from flows.types import Incoming, Reply

SPEC = ChannelSpec(name="toy", push=True, buttons=0, audio=False, text_limit=500,
                   rate_per_s=50.0, per_chat_interval_s=0.0)


class ToyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status


def mapped(exc: ToyError) -> DeliveryError:
    """The toy platform's errors, once: 403 blocked, 429 and 5xx retry, the rest refused."""
    if exc.status == 403:
        return Blocked(str(exc))
    if exc.status == 429 or exc.status >= 500:
        return Retry(str(exc))
    return Rejected(f"toy refused: {exc}")


class ToyChannel(ChannelBase):
    SPEC = SPEC
    #: Where the toy platform listens (a real channel reads its section of config.yaml).
    api_url: str | None = None

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return cls.api_url is not None

    @classmethod
    def create(cls, host: Host) -> ToyChannel:
        return cls(host)

    def __init__(self, host: Host) -> None:
        self.host = host
        self.spec = self.declare(host.settings)
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._http = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()

    def routes(self) -> list[Route]:
        return [("POST", "/webhooks/toy", self._on_webhook)]

    async def _on_webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        msg = Incoming("toy", str(body["from"]), text=str(body["text"]))
        replies = await self.host.handle(msg) or []
        await self.send(msg.user_id, replies)
        return web.json_response({"ok": True})

    async def _send(self, user_id: str, text: str) -> str:
        assert self._http is not None
        async with self._http.post(f"{self.api_url}/send",
                                   json={"to": user_id, "text": text}) as resp:
            data = await resp.json()
            if resp.status != 200:
                raise ToyError(resp.status, str(data.get("error")))
            return str(data["id"])

    async def send(self, user_id: str, replies: list[Reply]) -> None:
        for _, pieces in render(replies, self.spec):
            for piece in pieces:
                await self._send(user_id, piece.text)

    async def deliver(self, user_id: str, text: str, *, priority: str = "normal") -> Delivery:
        try:
            return Delivery("sent", platform_id=await self._send(user_id, text))
        except ToyError as exc:
            return Delivery.of(mapped(exc))
