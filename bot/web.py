"""The web server: the citizen chat page, its JSON API, health, and platform webhooks."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import App
from flows.types import Incoming, Reply

__all__ = ["WebChannel", "check_secret", "make_web_app"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 64 * 1024
APP_KEY: web.AppKey[App] = web.AppKey("assistant", App)
AUDIO_DIR_KEY: web.AppKey[Path] = web.AppKey("audio_dir", Path)

#: Extra routes contributed by other parts (webhooks of Zalo, radio feeds): (method, path, fn).
Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


def check_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a webhook secret header; no secret configured = refuse."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


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


class WebChannel:
    """The browser chat (POST /api/chat)."""

    name = "web"

    def __init__(self, app: App, audio_dir: Path | None = None) -> None:
        self.app = app
        self.audio_dir = audio_dir

    async def chat(self, request: web.Request) -> web.Response:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "request body too large")
        if len(raw) > MAX_BODY:
            return _error(413, f"request body over {MAX_BODY} bytes")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _error(400, "body must be JSON: {\"session\": ..., \"text\": ...}")
        if not isinstance(body, dict):
            return _error(400, "body must be a JSON object")
        session = body.get("session")
        if not isinstance(session, str) or not 1 <= len(session) <= 128:
            return _error(400, "'session' must be a string of 1 to 128 characters")
        text, payload = body.get("text"), body.get("button")
        if (text is None) == (payload is None):
            return _error(400, "give exactly one of 'text' or 'button'")
        if text is not None and not isinstance(text, str):
            return _error(400, "'text' must be a string")
        if payload is not None and (not isinstance(payload, str) or len(payload) > 64):
            return _error(400, "'button' must be a string of at most 64 characters")
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


_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "media-src 'self'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
}


def _page(max_text_chars: int) -> str:
    """The chat page, told the message length limit so it can say so instead of cutting."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return html.replace("{{max_text_chars}}", str(max_text_chars))


async def _health(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    ok = await app.healthy()
    return web.json_response({"status": "ok" if ok else "error",
                              "database": "ok" if ok else "unreachable",
                              "services": len(app.content.services)},
                             status=200 if ok else 503)


async def _audio(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if "/" in name or name.startswith("."):
        raise web.HTTPNotFound()
    path = request.app[AUDIO_DIR_KEY] / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


def _base_url(request: web.Request, app: App) -> str:
    """Public address for links in feeds: ``web.public_url`` or what the client asked for."""
    return app.settings.web.public_url or f"{request.scheme}://{request.host}"


async def _radio_feed(request: web.Request) -> web.StreamResponse:
    from broadcast.radio.publish import list_bulletins, render_feed, render_m3u

    app = request.app[APP_KEY]
    area = request.match_info["area"]
    if area not in {a.code for a in app.settings.areas}:
        raise web.HTTPNotFound(text="unknown area")
    root = app.settings.path(app.settings.radio.output_dir)
    bulletins = await asyncio.to_thread(list_bulletins, root, area)
    base = _base_url(request, app)
    if request.match_info["kind"] == "feed.xml":
        body = render_feed(area, app.settings.area_name(area), bulletins, base)
        return web.Response(text=body, content_type="application/rss+xml", charset="utf-8")
    body = render_m3u(app.settings.area_name(area), bulletins, base)
    return web.Response(text=body, content_type="audio/x-mpegurl", charset="utf-8")


async def _radio_file(request: web.Request) -> web.StreamResponse:
    from broadcast.radio.publish import resolve_file

    app = request.app[APP_KEY]
    root = app.settings.path(app.settings.radio.output_dir)
    path = await asyncio.to_thread(resolve_file, root, request.match_info["path"])
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "audio/mpeg"})


def make_web_app(assistant: App, *, telegram: Any = None, routes: list[Route] | None = None,
                 audio_dir: Path | None = None) -> web.Application:
    """The aiohttp application; ``telegram`` is a TelegramChannel in webhook mode (or None)."""
    app = web.Application(client_max_size=MAX_BODY)
    app[APP_KEY] = assistant
    audio_dir = audio_dir or assistant.settings.path("data/voice")
    app[AUDIO_DIR_KEY] = audio_dir
    chat = WebChannel(assistant, audio_dir)
    page = _page(assistant.settings.web.max_text_chars)

    async def index(request: web.Request) -> web.StreamResponse:
        return web.Response(text=page, content_type="text/html", charset="utf-8",
                            headers=_PAGE_HEADERS)

    app.router.add_get("/", index)
    app.router.add_static("/static", STATIC)
    app.router.add_post("/api/chat", chat.chat)
    app.router.add_get("/api/audio/{name}", _audio)
    app.router.add_get("/healthz", _health)
    app.router.add_get(r"/radio/{area:\d{5}}/{kind:feed\.xml|playlist\.m3u}", _radio_feed)
    app.router.add_get("/radio/files/{path:.+}", _radio_file)

    async def telegram_webhook(request: web.Request) -> web.Response:
        if telegram is None or not telegram.webhook:
            raise web.HTTPNotFound()
        if not check_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                            telegram.cfg.webhook_secret):
            log.warning("Telegram webhook: wrong or missing secret from %s", request.remote)
            return _error(403, "forbidden")
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("Telegram webhook: body is not JSON")
            return _error(400, "body is not JSON")
        if not await telegram.feed_webhook(data):
            return _error(400, "not a Telegram update")
        return web.json_response({"ok": True})

    app.router.add_post("/webhooks/telegram", telegram_webhook)
    for method, path, handler in routes or []:
        app.router.add_route(method, path, handler)
    return app
