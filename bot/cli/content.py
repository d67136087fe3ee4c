"""``trolyso content check`` and ``trolyso content export --json``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from bot.startup import check_content
from core.config import load_config

__all__ = ["export_service", "register"]


def register(sub: Any) -> None:
    content = sub.add_parser("content", help="check or export citizen content")
    csub = content.add_subparsers(dest="content_command", required=True)
    check = csub.add_parser("check", help="validate all content")
    check.set_defaults(func=_content_check)
    export = csub.add_parser("export", help="the service catalogue as data")
    export.add_argument("--json", action="store_true", help="print JSON (the only format)")
    export.set_defaults(func=_content_export)


def _content_dir(args: argparse.Namespace) -> Any:
    settings = load_config(args.config)
    check_content(settings)  # a missing folder: one configuration error
    return settings, settings.path(settings.content.dir)


def _content_check(args: argparse.Namespace) -> int:
    from bot.channels import text_limits
    from flows.content import check_content
    from flows.services import render_all

    settings, root = _content_dir(args)
    problems, counts = check_content(
        root, max_review_age_days=settings.content.max_review_age_days, render=render_all,
        text_limits=text_limits(settings),
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
