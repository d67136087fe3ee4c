"""``trolyso nlu parse|eval|export-rasa|export-taught|calibrate``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    nlu = sub.add_parser("nlu", help="understand messages: parse, evaluate, export to Rasa")
    nsub = nlu.add_subparsers(dest="nlu_command", required=True)

    p = nsub.add_parser("parse", help="understand one message")
    p.add_argument("text", help="the message")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--service", metavar="ID", default=None,
                   help="the service the citizen is looking at (a follow-up stays on it)")
    p.set_defaults(func=_parse)

    e = nsub.add_parser("eval", help="score the engine on an evaluation file")
    e.add_argument("file", type=Path, help="YAML list of {text, intent, service}")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(func=_eval)

    x = nsub.add_parser("export-rasa", help="write a Rasa 3 project from the content")
    x.add_argument("dir", type=Path, help="output directory")
    x.set_defaults(func=_export)

    t = nsub.add_parser("export-taught", help="write the examples taught in the console (the "
                        "ones the serving engine learnt) as Rasa YAML, e.g. into content/nlu")
    t.add_argument("dir", type=Path, help="output directory (writes taught.yml there)")
    t.add_argument("--pending", action="store_true",
                   help="also the examples still waiting for a retrain")
    t.set_defaults(func=_export_taught)

    c = nsub.add_parser("calibrate", help="choose the decision thresholds on evaluation "
                        "files and cross-validation, and store them in nlu/thresholds.json")
    c.add_argument("files", type=Path, nargs="+", help="evaluation files")
    c.add_argument("--dry-run", action="store_true", help="print, do not write")
    c.set_defaults(func=_calibrate)


def _load(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from bot.startup import check_content
    from core.config import load_config
    from flows.content import load_content

    settings = load_config(args.config)

    check_content(settings)  # a missing folder: one configuration error
    content = load_content(settings.path(settings.content.dir), strict=False)
    return settings, content, settings.path(settings.nlu.cache_dir)


def _engine(args: argparse.Namespace) -> Any:
    from nlu import load_engine

    settings, content, cache = _load(args)
    return load_engine(settings.nlu, content, cache)


def _parse(args: argparse.Namespace) -> int:
    engine = _engine(args)

    async def run() -> Any:
        try:
            return await engine.aparse(args.text, args.service)
        finally:
            close = getattr(engine, "close", None)
            if close is not None:
                await close()

    result = asyncio.run(run())
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
        return 0
    print(f"intent:     {result.intent}")
    print(f"label:      {result.label or '-'}")
    print(f"confidence: {result.confidence:.3f}")
    print(f"decision:   {result.decision}")
    print(f"service:    {result.service or '-'}")
    print(f"aspect:     {result.aspect or '-'}")
    if result.follow_up:
        print(f"follow-up:  yes (on {args.service})")
    if result.question:
        print(f"question:   {result.question}")
    if result.second is not None:
        print(f"second:     {result.second.intent}  {result.second.service or ''}")
    if result.danger != "none":
        print(f"danger:     {result.danger}  ({', '.join(result.numbers)})")
    print("alternatives:")
    for a in result.alternatives:
        print(f"  {a.confidence:6.3f}  {a.intent}  {a.service or ''}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from nlu.data import load_eval
    from nlu.evaluate import evaluate
    from nlu.normalize import forget

    try:
        items = load_eval(args.file)
    except (OSError, ValueError) as exc:
        print(f"trolyso: {exc}", file=sys.stderr)
        return 1
    engine = _engine(args)
    engine.parse("khởi động")  # warm-up outside the timings
    forget()  # timings include normalizing words never seen before
    builtin = getattr(engine, "fallback", engine)
    builtin.featurizer.clear_memo()
    report = evaluate(engine.parse, items)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"items:             {report['n']}")
    print(f"intent accuracy:   {report['intent_accuracy']:.4f}")
    print(f"service accuracy:  {report['service_accuracy']:.4f}")
    print(f"service top-3:     {report['service_top3']:.4f}")
    print(f"parse p50 / p99:   {report['p50_ms']:.3f} ms / {report['p99_ms']:.3f} ms")
    if report["errors"]:
        print(f"errors ({len(report['errors'])}):")
        for err in report["errors"]:
            want = err["expected_intent"] + (f"/{err['expected_service']}"
                                             if err["expected_service"] else "")
            got = err["intent"] + (f"/{err['service']}" if err["service"] else "")
            print(f"  want {want}, got {got} ({err['confidence']:.2f}): {err['text']}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from nlu.export import export_rasa

    _, content, _ = _load(args)
    for path in export_rasa(content, args.dir):
        print(path)
    return 0


def _export_taught(args: argparse.Namespace) -> int:
    import datetime as dt

    from sqlalchemy import select

    from bot.cli.common import in_db
    from bot.startup import check_content
    from core.config import load_config
    from core.models import TaughtExample
    from nlu.export import export_taught
    from nlu.retrain import training_label

    settings = load_config(args.config)

    check_content(settings)  # a missing folder: one configuration error
    states = ("accepted", "pending") if args.pending else ("accepted",)

    async def rows(session: Any) -> list[tuple[str, str]]:
        found = await session.execute(select(
            TaughtExample.text, TaughtExample.label, TaughtExample.topic).where(
            TaughtExample.state.in_(states)).order_by(TaughtExample.id))
        return [(str(t), training_label(str(lb), topic)) for t, lb, topic in found]

    examples = in_db(settings, rows)
    path = export_taught(examples, args.dir, note=f"{len(examples)} examples, exported "
                         f"{dt.date.today().isoformat()}")
    print(f"{len(examples)} examples")
    print(path)
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from nlu.calibrate import calibrate

    _, content, _ = _load(args)
    result = calibrate(content, args.files, write=not args.dry_run)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0
