"""``trolyso db upgrade``."""

from __future__ import annotations

import argparse
from typing import Any

from core.config import load_config

__all__ = ["register"]


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema")
    dsub = db.add_subparsers(dest="db_command", required=True)
    up = dsub.add_parser("upgrade", help="apply migrations")
    up.set_defaults(func=_db_upgrade)


def _db_upgrade(args: argparse.Namespace) -> int:
    from core.db import upgrade_sync

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
