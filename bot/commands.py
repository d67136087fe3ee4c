"""Subcommands owned by the assembly: run, chat, db, content."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import signal
import sys
from typing import Any

from bot.config import Settings, load_config

__all__ = ["register"]

log = logging.getLogger("trolyso")


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="start everything configured (web, chat channels, scheduler)")
    run.set_defaults(func=_run)
    chat = sub.add_parser("chat", help="chat with the assistant in this terminal")
    chat.set_defaults(func=_chat)
    db = sub.add_parser("db", help="database schema")
    dsub = db.add_subparsers(dest="db_command", required=True)
    up = dsub.add_parser("upgrade", help="apply migrations")
    up.set_defaults(func=_db_upgrade)

    content = sub.add_parser("content", help="check or export citizen content")
    csub = content.add_subparsers(dest="content_command", required=True)
    check = csub.add_parser("check", help="validate all content")
    check.set_defaults(func=_content_check)
    export = csub.add_parser("export", help="the service catalogue as data")
    export.add_argument("--json", action="store_true", help="print JSON (the only format)")
    export.set_defaults(func=_content_export)


# ------------------------------------------------------------------ run / chat / db

def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.db import upgrade_sync

    settings = load_config(args.config)
    upgrade_sync(settings.db_url)
    print(f"database at {_safe_url(settings.db_url)} is up to date")
    return 0


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url


def _chat(args: argparse.Namespace) -> int:
    from bot.app import build_core
    from bot.channels.terminal import run_terminal

    settings = load_config(args.config)
    logging.getLogger().setLevel(logging.WARNING)

    async def main() -> None:
        core = await build_core(settings)
        try:
            await run_terminal(core)
        finally:
            await core.close()

    asyncio.run(main())
    return 0


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


def make_channels(core: Any) -> dict[str, Any]:
    """The chat channels whose credentials are configured, by name."""
    settings = core.settings
    channels: dict[str, Any] = {}
    if settings.telegram.token:
        from bot.channels.telegram import TelegramChannel

        channels["telegram"] = TelegramChannel(core, settings.telegram)
    else:
        log.info("Telegram is off. To enable it, create a bot with @BotFather and set "
                 "TELEGRAM_TOKEN (see README, 'Telegram').")
    if settings.zalo.bot.token:
        from bot.channels.zalo_bot import ZaloBotChannel

        channels["zalo_bot"] = ZaloBotChannel(core, settings.zalo.bot)
    if settings.zalo.oa.app_id:
        from bot.channels.zalo_oa import ZaloOaChannel

        channels["zalo_oa"] = ZaloOaChannel(core, settings.zalo.oa)
    return channels


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set)."""
    from aiohttp import web

    from bot.app import build_core
    from bot.speech import VoiceSpeech
    from bot.web import make_web_app

    speech = VoiceSpeech(settings)
    core = await build_core(settings, speech=speech)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not main thread
            pass

    channels = make_channels(core)
    telegram = channels.get("telegram")
    routes = [r for name, ch in channels.items() if name != "telegram" for r in ch.routes()]
    app = make_web_app(core, telegram=telegram, routes=routes)
    runner = web.AppRunner(app, access_log=None)
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
    notices = BroadcastService(core, {n: c for n, c in channels.items() if hasattr(c, "deliver")})
    await notices.start()
    # Radio bulletins: daily slots per area and emergencies, sent to the radio operators.
    from broadcast.bulletins import RadioBulletins

    radio_stop = asyncio.Event()
    radio_task = asyncio.create_task(RadioBulletins(core, channels).run(radio_stop))

    async def retention() -> None:
        while True:
            try:
                await core.purge()
                speech.prune()
            except Exception:
                log.exception("retention purge failed")
            await asyncio.sleep(6 * 3600)

    purge_task = asyncio.create_task(retention())
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        purge_task.cancel()
        radio_stop.set()
        await asyncio.gather(radio_task, return_exceptions=True)
        await notices.stop()  # finishes the sends in flight before the channels close
        for channel in reversed(started):
            try:
                await channel.stop()
            except Exception:
                log.exception("stopping a channel failed")
        await runner.cleanup()
        await core.close()


# ------------------------------------------------------------------ content

def _content_dir(args: argparse.Namespace) -> Any:
    settings = load_config(args.config)
    return settings, settings.path(settings.content.dir)


def _content_check(args: argparse.Namespace) -> int:
    from flows.content import check_content
    from flows.services import render_all

    settings, root = _content_dir(args)
    problems, counts = check_content(
        root, max_review_age_days=settings.content.max_review_age_days, render=render_all,
    )
    for p in problems:
        print(("WARNING " if p.severity == "warning" else "") + str(p))
    unconf = counts["unconfirmed"]
    print(f"entries: {counts['entries']}")
    print("unconfirmed fields: " + (", ".join(f"{k}={v}" for k, v in sorted(unconf.items()))
                                    or "none") + f" (total {sum(unconf.values())})")
    print(f"stale reviews: {counts['stale_reviews']}")
    tiers = counts.get("tiers") or {}
    print("entries by best source: " + (", ".join(f"{k}={v}" for k, v in tiers.items() if v)
                                        or "none"))
    print(f"errors: {counts['errors']}, warnings: {counts['warnings']}")
    return 1 if counts["errors"] else 0


def export_service(svc: Any, today: dt.date) -> dict[str, Any]:
    return {
        "id": svc.id,
        "name": svc.name,
        "group": svc.group,
        "agency": svc.agency,
        "summary": svc.summary,
        "where": [{"channel": w.channel, "url": w.url, "path": w.path} for w in svc.where],
        "steps": list(svc.steps),
        "documents": list(svc.documents),
        "fee": svc.current("fee", today),
        "duration": svc.current("duration", today),
        "eligibility": svc.current("eligibility", today),
        "legal_basis": list(svc.legal_basis),
        "mistakes": list(svc.mistakes),
        "sources": [{"title": s.title, "url": s.url} for s in svc.sources],
        "reviewed": svc.reviewed.isoformat() if svc.reviewed else None,
        "unconfirmed": list(svc.unconfirmed),
    }


def _content_export(args: argparse.Namespace) -> int:
    from flows.content import ContentError, load_content

    _, root = _content_dir(args)
    try:
        content = load_content(root)
    except ContentError as exc:
        print(f"trolyso: {exc}", file=sys.stderr)
        return 1
    today = dt.date.today()
    order = [e["id"] for e in content.catalogue.entries]
    out = [export_service(content.services[i], today) for i in order if i in content.services]
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0
