"""``trolyso run``: everything configured in one process (web, chat channels, notices, radio)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from core.config import Settings, load_config

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import App
    from bot.channels.base import ChannelBase

__all__ = ["register", "serve"]

log = logging.getLogger("trolyso")


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="start everything configured (web, chat channels, scheduler)")
    run.add_argument("--check", action="store_true",
                     help="check the configuration, content, port, database and tokens, "
                          "then exit (0 when everything is ready)")
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    settings = load_config(args.config)
    logging.getLogger().setLevel(settings.log_level)
    if args.check:
        _loop_run(_check(settings))
        print("trolyso: ready to start (configuration, content, port, database, tokens)")
        return 0
    _loop_run(serve(settings))
    return 0


def _loop_run(main: Coroutine[Any, Any, None]) -> None:
    try:  # uvloop roughly doubles what one process can serve; plain asyncio otherwise
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def _port_origin(settings: Settings) -> str:
    return "TROLYSO_PORT" if os.environ.get("TROLYSO_PORT") else \
        f"web.port in the configuration file (in {settings.base_dir})"


async def _preflight(settings: Settings) -> socket.socket:
    """What must hold before anything is changed: the configuration names existing folders,
    the port is free (taken now, before the migrations), the database answers and is
    writable. A fault raises StartupError (one line)."""
    from bot.channels import bind
    from bot.startup import bind_port, check_content, check_database

    bind(settings)
    check_content(settings)
    sock = bind_port(settings.web.host, settings.web.port, _port_origin(settings))
    try:
        await check_database(settings.db_url)
    except BaseException:
        sock.close()
        raise
    return sock


async def _check(settings: Settings) -> None:
    (await _preflight(settings)).close()
    if settings.telegram.token:
        from bot.channels.telegram import check_token

        await check_token(settings.telegram)


async def _close(started: list[ChannelBase], runner: web.AppRunner, app: App) -> None:
    """Stop the started channels (last first), the web server and the app."""
    for channel in reversed(started):
        try:
            await channel.stop()
        except Exception:
            log.exception("stopping a channel failed")
    await runner.cleanup()
    await app.close()


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set)."""
    from aiohttp import web

    from bot.app import build_app
    from bot.channels import configured, delivery_rules
    from bot.speech import VoiceSpeech
    from bot.web import make_web_app

    sock = await _preflight(settings)
    try:
        app = await build_app(settings)
    except BaseException:
        sock.close()
        raise
    speech = app.speech = VoiceSpeech(app.settings, app.content.lexicon)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not main thread
            pass

    channels = configured(app)
    app.channels = channels
    # Radio bulletins: daily slots per area and emergencies, sent to the radio operators (the
    # console builds and publishes through the same component).
    from broadcast.bulletins import RadioBulletins

    radio = RadioBulletins(app.engine, app.sessionmaker, app.settings, app.content.texts,
                           app.content.lexicon, channels)
    web_app = make_web_app(app, routes=[r for ch in channels.values() for r in ch.routes()],
                           radio=radio)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    log.info("web chat at http://%s:%s/", settings.web.host, settings.web.port)
    started: list[ChannelBase] = []
    try:
        for name, channel in channels.items():
            started.append(channel)  # stopped below even if its start fails half-way
            await channel.start()  # an unreachable platform is retried by the channel
            log.info("%s channel started", name)
    except BaseException:  # a refused token: stop cleanly, the caller prints one line
        await _close(started, runner, app)
        raise
    from broadcast.service import BroadcastService

    # Notices: a sender for the channels that can deliver them, and the scheduler.
    notices = BroadcastService(app.engine, app.sessionmaker, app.settings, app.content.texts,
                               {n: c for n, c in channels.items() if c.spec.push},
                               rules=delivery_rules(app.settings))
    await notices.start()
    radio_stop = asyncio.Event()
    radio_task = asyncio.create_task(radio.run(radio_stop))
    # A person takes over a chat: operator messages and alerts go out through this process's
    # channels (every process runs one; the database shares out the work).
    from console.handover.sender import HandoverSender

    handover = HandoverSender(app.sessionmaker, app.settings, app.content.texts,
                              {n: c for n, c in channels.items() if c.spec.push})
    app.nudge = handover.nudge
    handover_task = asyncio.create_task(handover.run(radio_stop))

    async def retention() -> None:
        from broadcast import stats
        from core.db import utcnow, write_lock

        while True:
            try:
                await app.purge()
                speech.prune()
            except Exception:
                log.exception("retention purge failed")
            try:  # the console's subscribers-over-time chart keeps a point per day
                async with write_lock(app.engine), app.sessionmaker() as s, s.begin():
                    await stats.snapshot(s, app.settings, utcnow())
            except Exception:
                log.exception("subscriber counts could not be written")
            await asyncio.sleep(6 * 3600)

    # Outages: admins are told on a working channel (once per episode).
    from bot.health import OutageMonitor

    monitor = OutageMonitor(app.settings, app.sessionmaker, app.content.texts, channels)
    monitor_task = asyncio.create_task(monitor.run(radio_stop))
    purge_task = asyncio.create_task(retention())
    # Updates stored but not handled (a killed process's): resumed here; leases renewed.
    inbox_task = asyncio.create_task(app.inbox.run(radio_stop))
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        purge_task.cancel()
        radio_stop.set()
        await asyncio.gather(radio_task, handover_task, monitor_task, inbox_task,
                             return_exceptions=True)
        await notices.stop()  # finishes the sends in flight before the channels close
        await _close(started, runner, app)
