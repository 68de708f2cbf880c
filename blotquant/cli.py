"""The ``blotquant`` command.

``blotquant run CONFIG [--out DIR] [--force]`` quantifies an experiment;
``blotquant stats DATA.csv --group COL --value COL ...`` tests groups in any table.
A :class:`~blotquant.errors.BlotquantError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys

from blotquant import __version__
from blotquant.errors import BlotquantError

__all__ = ["main", "build_parser"]

logger = logging.getLogger("blotquant")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blotquant",
        description="Quantify Western blot scans: lanes, bands, background, normalisation, statistics.",
    )
    parser.add_argument("--version", action="version", version=f"blotquant {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is being done")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    from blotquant import stats_cli

    p_stats = sub.add_parser("stats", help="test groups in a table of values (ANOVA, post-hoc, ...)")
    stats_cli.configure_parser(p_stats)
    p_stats.set_defaults(handler=stats_cli.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="blotquant: %(levelname)s: %(message)s",
    )
    try:
        return int(args.handler(args) or 0)
    except BlotquantError as exc:
        print(f"blotquant: error: {exc}", file=sys.stderr)
        return 2
