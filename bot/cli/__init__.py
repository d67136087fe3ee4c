"""The ``trolyso`` command (also ``python -m bot``).

One module per command group, each with a ``register(subparsers)`` function. A subcommand's
handler takes the parsed arguments and returns the exit status. The commands only call: what
they do lives in the packages below (``core``, ``nlu``, ``flows``, ``broadcast``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

_GROUPS = ("run", "chat", "db", "content", "nlu", "announce", "team", "radio", "console")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trolyso",
        description="Trợ lý số: digital-government assistant for Vietnamese citizens",
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("TROLYSO_CONFIG", "config.yaml"),
        help="configuration file (default: $TROLYSO_CONFIG, else config.yaml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="more log lines (database migrations, tracebacks of failures)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _GROUPS:
        importlib.import_module(f"bot.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = os.environ.get("TROLYSO_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        print(f"trolyso: configuration error: TROLYSO_LOG_LEVEL: {level!r} is not one of "
              "DEBUG, INFO, WARNING, ERROR", file=sys.stderr)
        return 2
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # Alembic's "Context impl SQLiteImpl" lines on every command
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # every fault is one line; -v shows where it came from
        from bot.startup import describe, one_line

        if args.verbose:
            logging.getLogger("trolyso").exception("failed")
        fault = describe(exc, _db_url(args))
        if fault is not None:
            print(f"trolyso: {one_line(str(fault))}", file=sys.stderr)
            return fault.code
        print(f"trolyso: {args.command} failed: {type(exc).__name__}: "
              f"{one_line(str(exc)) or '(no message)'} (run with -v for details)",
              file=sys.stderr)
        return 1


def _db_url(args: argparse.Namespace) -> str | None:
    """The database URL for naming the database in a fault (None if the config is broken)."""
    from core.config import load_config

    try:
        return load_config(args.config).db_url
    except Exception:
        return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
