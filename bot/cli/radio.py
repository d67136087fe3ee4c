"""``trolyso radio normalize`` and ``trolyso radio build``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broadcast.radio.engines import engine_for, normalizer_for
from broadcast.types import PRIORITIES
from core.config import Settings, load_config
from flows.lexicon import Lexicon, load_lexicon

# The audio stack (scipy, pyloudnorm, lameenc) is imported only by `radio build`, so that every
# other `trolyso` command starts quickly.

__all__ = ["register"]


def register(sub: Any) -> None:
    radio = sub.add_parser("radio", help="radio bulletins: spoken form and audio")
    rsub = radio.add_subparsers(dest="radio_command", required=True)

    norm = rsub.add_parser("normalize", help="the spoken form of Vietnamese text")
    norm.add_argument("text", nargs="?", help="text to read (default: --file or stdin)")
    norm.add_argument("--file", help="read the text from this file (UTF-8)")
    norm.set_defaults(func=_normalize)

    build = rsub.add_parser("build", help="a broadcast-ready bulletin (MP3, transcript, JSON)")
    source = build.add_mutually_exclusive_group(required=True)
    source.add_argument("--text-file", help="the notice (UTF-8 text file)")
    source.add_argument("--announcement", type=int, metavar="ID",
                        help="a notice stored with `trolyso announce create` (one bulletin per "
                             "area it targets, or only --area)")
    build.add_argument("--out", help="write the files straight into this folder")
    build.add_argument("--engine", choices=["auto", "gtts", "espeak", "fpt", "zalo_ai"],
                       help="speech engine (default: radio.engine in the configuration)")
    build.add_argument("--area", help="area code (default: the first configured area)")
    build.add_argument("--title", default="", help="the notice's title (read in the opening)")
    build.add_argument("--priority", choices=PRIORITIES, default="normal")
    build.add_argument("--spoken", action="store_true",
                       help="the text file is already a (corrected) spoken script")
    build.set_defaults(func=_build)


#: The speech engines in plain words.
_VOICES = {"gtts": "Google's voice (gTTS, online)",
           "espeak": "espeak-ng (offline, on this machine)",
           "fpt": "FPT.AI (online)", "zalo_ai": "Zalo AI (online)"}


def _voice_used(engine: Any) -> str:
    """Which engine spoke the bulletin and why, in plain words."""
    from broadcast.radio.tts import FallbackEngine

    if isinstance(engine, FallbackEngine):
        online = _VOICES.get(engine.primary.name, engine.primary.name)
        if engine.fell_back:
            return (f"Voice: {_VOICES['espeak']}, because {online} could not be used "
                    f"({engine.fell_back}). The bulletin is ready; build it again when "
                    "online for the better voice.")
        return f"Voice: {online}."
    return f"Voice: {_VOICES.get(engine.name, engine.name)}, as configured or asked."


def _tts_failed(exc: Exception, choice: str | None) -> int:
    from broadcast.radio.tts import TtsUnreachable

    if isinstance(exc, TtsUnreachable):
        name = _VOICES.get(choice or "", choice or "the online engine")
        print(f"trolyso: radio build: {name} cannot be reached (no internet?); build offline "
              "with --engine espeak, or --engine auto to fall back to it by itself",
              file=sys.stderr)
    else:
        print(f"trolyso: radio build: {exc}", file=sys.stderr)
    return 1


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"trolyso: {path}: cannot read: {exc}") from exc


def _lexicon(settings: Settings) -> Lexicon:
    """The configured content's lexicon, read by the same reader as the assistant's."""
    path = settings.path(settings.content.dir) / "lexicon.yaml"
    try:
        return load_lexicon(path)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"trolyso: {path}: {exc}") from exc


def _normalize(args: argparse.Namespace) -> int:
    settings = load_config(args.config)
    if args.text is not None:
        text = args.text
    elif args.file:
        text = _read(args.file)
    else:
        text = sys.stdin.read()
    out = normalizer_for(_lexicon(settings)).spoken(text.rstrip("\n"))
    print(out)
    return 0


def _build(args: argparse.Namespace) -> int:
    from broadcast.radio.tts import TtsError

    settings = load_config(args.config)
    if args.announcement is not None:
        try:
            return asyncio.run(_build_announcement(args, settings))
        except (TtsError, ValueError) as exc:
            return _tts_failed(exc, args.engine or settings.radio.engine)
    text = _read(args.text_file)
    if args.area is None:
        area = settings.areas[0]
        code, name = area.code, area.name
    else:
        matches = [a for a in settings.areas if a.code == args.area]
        if not matches:
            known = ", ".join(a.code for a in settings.areas)
            print(f"trolyso: --area {args.area}: not a configured area ({known})",
                  file=sys.stderr)
            return 2
        code, name = matches[0].code, matches[0].name
    radio = settings.radio
    try:
        from broadcast.radio.bulletin import build_bulletin

        engine = engine_for(settings, args.engine)
        bulletin = build_bulletin(
            text,
            title=args.title,
            area_code=code,
            area_name=name,
            priority=args.priority,
            when=datetime.now(ZoneInfo(settings.timezone)),
            settings=radio.model_copy(update={"output_dir": str(settings.path(radio.output_dir))}),
            lexicon=normalizer_for(_lexicon(settings)),
            out_dir=args.out,
            engine=engine,
            already_spoken=args.spoken,
        )
    except (TtsError, ValueError) as exc:
        return _tts_failed(exc, args.engine or settings.radio.engine)
    print(bulletin.mp3)
    print(bulletin.transcript)
    print(bulletin.metadata)
    print(_voice_used(engine), file=sys.stderr)
    return 0


async def _build_announcement(args: argparse.Namespace, settings: Settings) -> int:
    """`radio build --announcement ID`: the stored notice, for each area it targets."""
    from broadcast.bulletins import build_for_notices, for_radio
    from core.db import make_engine, make_sessionmaker
    from core.models import Announcement

    engine = make_engine(settings.db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            ann = await session.get(Announcement, args.announcement)
    finally:
        await engine.dispose()
    if ann is None:
        print(f"trolyso: radio build: no announcement {args.announcement}", file=sys.stderr)
        return 2
    areas = [args.area] if args.area else list(ann.areas or [])
    unknown = [a for a in areas if a not in {x.code for x in settings.areas}]
    if unknown or not areas:
        print(f"trolyso: radio build: area(s) {unknown or areas} not configured for this "
              "notice", file=sys.stderr)
        return 2
    notice = for_radio(ann, args.priority if args.priority != "normal" else None)
    tts = engine_for(settings, args.engine)
    normalizer = normalizer_for(_lexicon(settings))
    when = datetime.now(ZoneInfo(settings.timezone))
    for area in areas:
        out = Path(args.out) if args.out else None
        bulletin = await asyncio.to_thread(build_for_notices, settings, tts, normalizer,
                                           [notice], area, when, out_dir=out)
        print(bulletin.mp3)
        print(bulletin.transcript)
        print(bulletin.metadata)
    print(_voice_used(tts), file=sys.stderr)
    return 0
