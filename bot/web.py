"""The web server: the citizen chat page (its JSON API is the web channel,
``bot/channels/web.py``), health, radio feeds, and the routes of the other channels
(platform webhooks)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.app import App
from bot.channels.base import Route
from bot.channels.web import MAX_BODY, WebChannel

if TYPE_CHECKING:
    from broadcast.bulletins import RadioBulletins

__all__ = ["make_web_app"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
APP_KEY: web.AppKey[App] = web.AppKey("assistant", App)
AUDIO_DIR_KEY: web.AppKey[Path] = web.AppKey("audio_dir", Path)

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
    # A channel whose platform is unreachable is reported, but the server still serves (the
    # web chat and the other channels): the status stays "ok" while the database answers.
    return web.json_response({"status": "ok" if ok else "error",
                              "database": "ok" if ok else "unreachable",
                              "channels": app.channel_health(),
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


def _base_url(app: App) -> str:
    """Public address for links in feeds, from configuration only (``WebCfg.base_url``)."""
    return app.settings.web.base_url


async def _radio_feed(request: web.Request) -> web.StreamResponse:
    from broadcast.radio.publish import list_bulletins, render_feed, render_m3u

    app = request.app[APP_KEY]
    area = request.match_info["area"]
    if area not in {a.code for a in app.settings.areas}:
        raise web.HTTPNotFound(text="unknown area")
    root = app.settings.path(app.settings.radio.output_dir)
    bulletins = await asyncio.to_thread(list_bulletins, root, area)
    base = _base_url(app)
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


def make_console_app(assistant: App, radio: RadioBulletins | None = None) -> web.Application:
    """The operator console for this assistant (mounted at /console). ``radio``: the running
    bulletins component (with the chat channels), so that bulletins made in the console reach
    the radio operators in chat too."""
    from bot.console_previews import previews
    from console.pages.handover import CHANGES, NUDGE
    from console.pages.radio import RADIO
    from console.web import make_console

    extra: dict[str, Any] = {CHANGES: assistant.changes, NUDGE: lambda: assistant.nudge()}
    if radio is not None:
        extra[RADIO] = radio
    return make_console(assistant.settings, assistant.engine, assistant.sessionmaker,
                        assistant.content.texts, lexicon=assistant.content.lexicon,
                        previews=previews(assistant.settings.channels), extra=extra,
                        live=assistant.live)


async def _attachment(request: web.Request) -> web.StreamResponse:
    """The file of a notice, for citizens on channels that cannot take files (the link in
    the notice). The token is unguessable; the file is served as what it was checked to be."""
    from broadcast.attachments import open_token

    app = request.app[APP_KEY]
    async with app.sessionmaker() as session:
        f = await open_token(session, request.match_info["token"])
    if f is None:
        raise web.HTTPNotFound()
    return web.Response(body=f.data, content_type=f.mime, headers={
        "Content-Disposition": f'inline; filename="{f.filename}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "public, max-age=86400"})


async def _chat_messages(request: web.Request) -> web.StreamResponse:
    """``GET /api/chat/messages?session=S&after=ID&wait=SECONDS``: messages the web chat did
    not ask for (a person who took over the chat writes; the chat was handed back), after
    message ``after``. With ``wait`` it answers as soon as there is one, or after ``wait``
    seconds (long polling; any server process answers, the messages are in the database)."""
    from console.handover.desk import Desk
    from console.handover.live import long_poll

    app = request.app[APP_KEY]
    q = request.query
    session = q.get("session", "")
    if not 1 <= len(session) <= 128:
        return web.json_response({"error": "'session' must be a string of 1 to 128 characters"},
                                 status=400)
    try:
        after = int(q.get("after", "0"))
        wait = float(q.get("wait", "0"))
    except ValueError:
        return web.json_response({"error": "'after' and 'wait' must be numbers"}, status=400)
    if after < 0 or not 0 <= wait <= 600:
        return web.json_response({"error": "'after' >= 0, 0 <= 'wait' <= 600"}, status=400)
    wait = min(wait, app.settings.handover.long_poll_s)

    async def fetch() -> dict[str, Any]:
        async with app.sessionmaker() as s:
            desk = Desk(s, app.settings, app.content.texts)
            rows = await desk.messages_for("web", session, after)
            h = await desk.open_for("web", session)
        return {"messages": [{
            "id": r.id, "from": r.author, "text": r.text, "at": r.created_at.isoformat(),
            "buttons": [{"label": label, "payload": payload} for label, payload in r.buttons]}
            for r in rows],
            "last": max([after, *(r.id for r in rows)]),
            "handover": h.state if h is not None else None}

    data = await long_poll(app.changes, fetch,
                           lambda d: bool(d["messages"]) or d["handover"] is None, wait)
    return web.json_response(data, dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def _to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


def make_web_app(assistant: App, *, routes: list[Route] | None = None,
                 audio_dir: Path | None = None, console: bool | None = None,
                 radio: RadioBulletins | None = None) -> web.Application:
    """The aiohttp application; ``routes`` are the running channels' (webhooks). The console
    is mounted at /console when ``console.enabled`` (or ``console``) says so."""
    app = web.Application(client_max_size=MAX_BODY)
    app[APP_KEY] = assistant
    if not assistant.settings.web.public_url:
        log.warning("web.public_url is not set: links in radio feeds use %s; set it to the "
                    "address citizens reach", assistant.settings.web.base_url)
    audio_dir = audio_dir or assistant.settings.path("data/voice")
    app[AUDIO_DIR_KEY] = audio_dir
    chat = WebChannel(assistant, audio_dir)
    page = _page(assistant.settings.web.max_text_chars)

    async def index(request: web.Request) -> web.StreamResponse:
        return web.Response(text=page, content_type="text/html", charset="utf-8",
                            headers=_PAGE_HEADERS)

    app.router.add_get("/", index)
    app.router.add_static("/static", STATIC)
    app.router.add_get("/api/audio/{name}", _audio)
    app.router.add_get("/healthz", _health)
    app.router.add_get("/api/chat/messages", _chat_messages)
    app.router.add_get(r"/radio/{area:\d{5}}/{kind:feed\.xml|playlist\.m3u}", _radio_feed)
    app.router.add_get("/radio/files/{path:.+}", _radio_file)
    app.router.add_get("/files/{token}", _attachment)
    for method, path, handler in [*chat.routes(), *(routes or [])]:
        app.router.add_route(method, path, handler)
    if assistant.settings.console.enabled if console is None else console:
        app.router.add_get("/console", _to_console)
        app.add_subapp("/console", make_console_app(assistant, radio))

    # The engine and content the database names are followed while the server runs.
    async def start_live(_: web.Application) -> None:
        assistant.changes.reopen()
        await assistant.live.start()

    # Before aiohttp waits for running requests: the web chat's and the console's long polls
    # answer now instead of after up to handover.long_poll_s (each stop took that long).
    async def end_long_polls(_: web.Application) -> None:
        await assistant.changes.release()

    async def stop_live(_: web.Application) -> None:
        await assistant.live.stop()

    app.on_startup.append(start_live)
    app.on_shutdown.append(end_long_polls)
    app.on_cleanup.append(stop_live)
    return app
