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

    p_run = sub.add_parser("run", help="quantify an experiment described by a YAML config")
    p_run.add_argument("config", help="experiment config (YAML)")
    p_run.add_argument("--out", help="results folder (default: results/<experiment>/ beside the config)")
    p_run.add_argument("--force", action="store_true", help="replace an existing results folder")
    p_run.set_defaults(handler=_run)

    from blotquant import init_cli, stats_cli

    p_lanes = sub.add_parser("lanes", help="print the strips, lanes and band rows detected in one image")
    init_cli.configure_lanes_parser(p_lanes)
    p_lanes.set_defaults(handler=init_cli.run_lanes)

    p_init = sub.add_parser("init", help="write a starter config for a folder of blot images")
    init_cli.configure_init_parser(p_init)
    p_init.set_defaults(handler=init_cli.run_init)

    p_stats = sub.add_parser("stats", help="test groups in a table of values (ANOVA, post-hoc, ...)")
    stats_cli.configure_parser(p_stats)
    p_stats.set_defaults(handler=stats_cli.run)
    return parser


def _run(args) -> int:
    from pathlib import Path

    from blotquant.config import load_config
    from blotquant.io import check_output_dir
    from blotquant.pipeline import run, write_results

    experiment = load_config(args.config)
    out = Path(args.out) if args.out else Path(args.config).resolve().parent / "results" / experiment.experiment
    check_output_dir(out, force=args.force)  # before any work: no overwrite, never of non-results
    results = run(experiment)
    write_results(results, out, force=args.force, experiment_name=experiment.experiment,
                  argv=["blotquant", "run", args.config] + (["--out", args.out] if args.out else [])
                  + (["--force"] if args.force else []))
    n_flags = len(results.notes)
    print(f"blotquant: {len(results.bands)} bands from {len(results.images)} images -> {out}"
          + (f" ({n_flags} flags: see report.html)" if n_flags else ""))
    return 0


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
