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

from core.config import ConfigError

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
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _GROUPS:
        importlib.import_module(f"bot.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("TROLYSO_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"trolyso: configuration error:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
