"""The ``blotquant`` command.

``blotquant run CONFIG... [--out DIR] [--force] [--jobs N | --scheduler ADDRESS]`` quantifies
experiments (configs, or folders of them) on every core; ``blotquant stats DATA.csv --group COL
--value COL ...`` tests groups in any table. A :class:`~blotquant.errors.BlotquantError` becomes
one line on stderr and exit code 2. ``-v`` logs what is being done, ``-q`` shows errors only.
"""

from __future__ import annotations

import argparse
import logging
import sys
from concurrent.futures import BrokenExecutor

from blotquant import __version__
from blotquant.errors import BlotquantError

__all__ = ["main", "build_parser"]

logger = logging.getLogger("blotquant")

_DIED = "a worker process died (killed, or out of memory?); run again with fewer --jobs"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blotquant",
        description="Quantify Western blot scans: lanes, bands, background, normalisation, statistics.",
    )
    parser.add_argument("--version", action="version", version=f"blotquant {__version__}")
    _add_chatter(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # -v / -q also after the command (blotquant run x.yaml -q); there they override nothing unless given
    chatter = _add_chatter(argparse.ArgumentParser(add_help=False), default=argparse.SUPPRESS)

    p_run = sub.add_parser(
        "run", parents=[chatter], help="quantify experiments described by YAML configs",
        description="Quantify one or more experiments. Every config is checked, and every results folder, "
                    "before any image is read; the images of all experiments are measured in parallel.")
    p_run.add_argument("config", nargs="+",
                       help="experiment config (YAML), or a folder: every *.yaml / *.yml directly in it")
    p_run.add_argument("--out", help="results folder (default: results/<experiment>/ beside the config); "
                                     "with several configs, the folder holding one <experiment>/ per config")
    p_run.add_argument("--force", action="store_true", help="replace existing results folders")
    where = p_run.add_mutually_exclusive_group()
    where.add_argument("--jobs", "-j", type=_positive_int, metavar="N",
                       help="worker processes (default: every usable core); 1 runs in this process")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a Dask cluster at this scheduler address (pip install 'blotquant[dask]')")
    p_run.set_defaults(handler=_run)

    from blotquant import init_cli, stats_cli

    p_lanes = sub.add_parser("lanes", parents=[chatter],
                             help="print the strips, lanes and band rows detected in one image")
    init_cli.configure_lanes_parser(p_lanes)
    p_lanes.set_defaults(handler=init_cli.run_lanes)

    p_init = sub.add_parser("init", parents=[chatter],
                            help="write a starter config for a folder of blot images")
    init_cli.configure_init_parser(p_init)
    p_init.set_defaults(handler=init_cli.run_init)

    p_stats = sub.add_parser("stats", parents=[chatter],
                             help="test groups in a table of values (ANOVA, post-hoc, ...)")
    stats_cli.configure_parser(p_stats)
    p_stats.set_defaults(handler=stats_cli.run)
    return parser


def _add_chatter(parser, default=False):
    """-v / -q on ``parser`` (one or the other); returns ``parser``."""
    chatter = parser.add_mutually_exclusive_group()
    chatter.add_argument("-v", "--verbose", action="store_true", default=default,
                         help="log what is being done (one line per image: file, bands found, seconds)")
    chatter.add_argument("-q", "--quiet", action="store_true", default=default,
                         help="show nothing but errors (no progress bars, no summary lines)")
    return parser


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of processes, at least 1; got {text!r}")
    return value


def _run(args) -> int:
    """Plan every experiment (nothing runs if any config or results folder is wrong), run them all,
    write each one's results; exit 0 if all were written, 2 if one failed on bad input, 1 if one
    failed on an unexpected error (a bug: its traceback is logged with -v)."""
    from blotquant.batch import Failed, PlanError, is_batch, plan, run_batch, start_workers_early

    start_workers_early(args.jobs, args.scheduler)  # their imports overlap the planning below
    try:
        jobs = plan(args.config, out=args.out, force=args.force)
    except PlanError as exc:
        for problem in exc.problems:
            print(f"blotquant: error: {problem}", file=sys.stderr)
        return 2
    several = is_batch(args.config)

    def report(outcome):
        from tqdm import tqdm

        if isinstance(outcome, Failed):
            if not several:
                return  # raised below, exactly as a single run always has
            exc = outcome.error
            kind = ("" if isinstance(exc, BlotquantError) else f"{_DIED}: " if isinstance(exc, BrokenExecutor)
                    else f"unexpected {type(exc).__name__} (a bug?): ")
            tqdm.write(f"blotquant: error: {outcome.job.config}: {kind}{exc}", file=sys.stderr)
            if not isinstance(exc, BlotquantError):
                logger.info("traceback of %s:", outcome.job.config, exc_info=exc)
        elif not args.quiet:
            tqdm.write(f"blotquant: {outcome.n_bands} bands from {outcome.n_images} images -> {outcome.job.out}"
                       + (f" ({outcome.n_flags} flags: see report.html)" if outcome.n_flags else ""),
                       file=sys.stdout)

    outcomes = run_batch(jobs, n_jobs=args.jobs, scheduler=args.scheduler,
                         progress=False if args.quiet else None, on_done=report)
    failed = [o for o in outcomes if isinstance(o, Failed)]
    if not several and failed:
        raise failed[0].error  # a BlotquantError becomes one line and exit 2 in main()
    if several and not args.quiet:
        print(f"blotquant: {len(outcomes) - len(failed)} of {len(outcomes)} experiments written"
              + (f"; {len(failed)} failed, nothing written for them (listed above)" if failed else ""))
    if any(not isinstance(o.error, BlotquantError) for o in failed):
        return 1
    return 2 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR if args.quiet else logging.WARNING,
        format="blotquant: %(levelname)s: %(message)s",
    )
    if args.verbose and args.quiet:
        parser.error("-v/--verbose and -q/--quiet exclude each other")
    try:
        return int(args.handler(args) or 0)
    except BlotquantError as exc:
        print(f"blotquant: error: {exc}", file=sys.stderr)
        return 2
    except BrokenExecutor as exc:
        print(f"blotquant: error: {_DIED} ({exc})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("blotquant: interrupted; nothing was written for the experiments not finished", file=sys.stderr)
        return 130
