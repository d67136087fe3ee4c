"""The web chat channel: ``POST /api/chat`` (interfaces.md), answered by the same assistant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channels.base import ChannelBase, Host, Route
from bot.channels.body import MAX_BODY, BadBody, read_json, refuse
from core.channels import ChannelSpec
from flows.types import Incoming, Reply

__all__ = ["MAX_BODY", "SPEC", "WebChannel", "reply_json"]

SPEC = ChannelSpec(
    # The page only answers what it asked; it shows every button and plays voice answers.
    # A session id is whatever the browser sends: never a team member's or an admin's.
    name="web", push=False, buttons=100, audio=True, text_limit=0, rights=False,
)


def _problem(body: Any) -> str | None:
    """What is wrong with a chat request's fields, or None."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    session = body.get("session")
    if not isinstance(session, str) or not 1 <= len(session) <= 128:
        return "'session' must be a string of 1 to 128 characters"
    text, payload = body.get("text"), body.get("button")
    if (text is None) == (payload is None):
        return "give exactly one of 'text' or 'button'"
    if text is not None and not isinstance(text, str):
        return "'text' must be a string"
    if payload is not None and (not isinstance(payload, str) or len(payload) > 64):
        return "'button' must be a string of at most 64 characters"
    return None


def reply_json(reply: Reply, audio_url: str | None = None) -> dict[str, Any]:
    return {
        "text": reply.text,
        "buttons": [{"label": b.label, "payload": b.payload} if b.url is None
                    else {"label": b.label, "payload": None, "url": b.url}
                    for b in reply.buttons],
        "audio_url": audio_url or reply.audio_url,
        "kind": reply.kind,
        "numbers": list(reply.numbers),
    }


class WebChannel(ChannelBase):
    """The browser chat (POST /api/chat), served by the web server of ``trolyso run``."""

    SPEC = SPEC
    name = "web"

    def __init__(self, app: Host, audio_dir: Path | None = None) -> None:
        self.app = app
        self.spec = SPEC
        self.audio_dir = audio_dir

    def routes(self) -> list[Route]:
        return [("POST", "/api/chat", self.chat)]

    async def chat(self, request: web.Request) -> web.Response:
        try:
            body = await read_json(request)
        except BadBody as exc:
            return refuse("web chat", request, exc.status, exc.reason)
        problem = _problem(body)
        if problem is not None:
            return refuse("web chat", request, 400, problem)
        session, text, payload = body["session"], body.get("text"), body.get("button")
        msg = (Incoming("web", session, text=text, kind="text") if text is not None
               else Incoming("web", session, button=payload, kind="button"))
        replies = await self.app.handle(msg) or []
        return web.json_response({"replies": [reply_json(r, self._audio_url(r))
                                              for r in replies]},
                                 dumps=lambda o: json.dumps(o, ensure_ascii=False))

    def _audio_url(self, reply: Reply) -> str | None:
        if not reply.audio_path or self.audio_dir is None:
            return None
        path = Path(reply.audio_path)
        try:
            path.resolve().relative_to(self.audio_dir.resolve())
        except ValueError:
            return None
        return f"/api/audio/{path.name}"
