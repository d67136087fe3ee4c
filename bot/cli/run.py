"""``trolyso run``: everything configured in one process (web, chat channels, notices, radio)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from core.config import Settings, load_config

__all__ = ["register", "serve"]

log = logging.getLogger("trolyso")


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="start everything configured (web, chat channels, scheduler)")
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    settings = load_config(args.config)
    logging.getLogger().setLevel(settings.log_level)
    try:  # uvloop roughly doubles what one process can serve; plain asyncio otherwise
        import uvloop
    except ImportError:
        asyncio.run(serve(settings))
    else:
        uvloop.run(serve(settings))
    return 0


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set)."""
    from aiohttp import web

    from bot.app import build_app
    from bot.channels import configured, delivery_rules
    from bot.speech import VoiceSpeech
    from bot.web import make_web_app

    app = await build_app(settings)
    speech = app.speech = VoiceSpeech(app.settings, app.content.lexicon)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not main thread
            pass

    channels = configured(app)
    web_app = make_web_app(app, routes=[r for ch in channels.values() for r in ch.routes()])
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.web.host, settings.web.port)
    await site.start()
    log.info("web chat at http://%s:%s/", settings.web.host, settings.web.port)
    started = []
    for name, channel in channels.items():
        await channel.start()
        started.append(channel)
        log.info("%s channel started", name)
    from broadcast.service import BroadcastService

    # Notices: a sender for the channels that can deliver them, and the scheduler.
    notices = BroadcastService(app.engine, app.sessionmaker, app.settings, app.content.texts,
                               {n: c for n, c in channels.items() if c.spec.push},
                               rules=delivery_rules(app.settings))
    await notices.start()
    # Radio bulletins: daily slots per area and emergencies, sent to the radio operators.
    from broadcast.bulletins import RadioBulletins

    radio_stop = asyncio.Event()
    radio = RadioBulletins(app.engine, app.sessionmaker, app.settings, app.content.texts,
                           app.content.lexicon, channels)
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

    purge_task = asyncio.create_task(retention())
    # Updates stored but not handled (a killed process's): resumed here; leases renewed.
    inbox_task = asyncio.create_task(app.inbox.run(radio_stop))
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        purge_task.cancel()
        radio_stop.set()
        await asyncio.gather(radio_task, handover_task, inbox_task, return_exceptions=True)
        await notices.stop()  # finishes the sends in flight before the channels close
        for channel in reversed(started):
            try:
                await channel.stop()
            except Exception:
                log.exception("stopping a channel failed")
        await runner.cleanup()
        await app.close()
