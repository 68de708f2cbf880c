"""``blotquant stats``: test groups in any tidy table and print one tidy result table.

``blotquant stats DATA.csv --group COL --value COL [--control NAME] [--groups A,B,...]
[--tests LIST|all] [--alpha 0.05] [--format csv|json|table]``

The table has :data:`blotquant.stats.CONTRACT_COLUMNS` then the extra columns. ``csv`` and
``json`` print full precision (``json`` is a list of records, NaN as null, and reads back with
``pandas.read_json``); ``table`` prints rounded copies for reading.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from blotquant.errors import StatsError

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``stats`` arguments to ``parser`` (the ``stats`` subparser).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subparser created by :func:`blotquant.cli.build_parser`; modified in place.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> configure_parser(p)
    >>> args = p.parse_args(["data.csv", "--tests", "all"])
    >>> args.group, args.value, args.tests, args.alpha, args.format
    ('group', 'value', 'all', 0.05, 'csv')
    """
    from blotquant._testnames import TESTS  # not blotquant.stats: no pandas to build a parser

    parser.description = ("Test groups in a tidy table (one row per value): assumption checks, "
                          "ANOVA / Welch / Kruskal-Wallis, post-hoc tests. Prints one table.")
    parser.add_argument("data", help="CSV (or .tsv) file, one row per measurement")
    parser.add_argument("--group", default="group", metavar="COL",
                        help="column holding the group labels (default: group)")
    parser.add_argument("--value", default="value", metavar="COL",
                        help="column holding the values (default: value)")
    parser.add_argument("--control", default=None, metavar="NAME",
                        help="control group for Dunnett (default: the first group)")
    parser.add_argument("--groups", default=None, metavar="A,B,...",
                        help="group order, comma-separated (default: order of first appearance)")
    parser.add_argument("--tests", default="anova,lsd", metavar="LIST",
                        help=f"comma-separated tests or 'all' (default: anova,lsd); "
                             f"from: {', '.join(TESTS)}")
    parser.add_argument("--alpha", type=float, default=0.05,
                        help="significance level (default: 0.05)")
    parser.add_argument("--format", choices=("csv", "json", "table"), default="csv",
                        help="output format (default: csv)")


def _read(path: str, group: str, value: str):
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise StatsError(f"data file {path!r} not found; pass the path of a CSV file")
    sep = "\t" if p.suffix.lower() in (".tsv", ".tab") else ","
    try:
        # group labels stay text ("1", "01" and "NA" are names, not numbers or missing);
        # in the value column, empty cells and NA spellings are missing values
        return pd.read_csv(p, sep=sep, dtype={group: str}, keep_default_na=False,
                           na_values={value: ["", "NA", "NaN", "nan", "N/A", "NULL"]})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StatsError(f"cannot read {path!r} as a table: {exc}") from exc


def _to_json(table) -> str:
    def clean(v):
        if v is None:
            return None
        if hasattr(v, "item"):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return v

    records = [{k: clean(v) for k, v in row.items()} for row in table.to_dict(orient="records")]
    return json.dumps(records, indent=1, allow_nan=False)


def _to_text(table) -> str:
    shown = table.copy()
    floats = shown.select_dtypes("float").columns
    for col in floats:
        shown[col] = shown[col].map(lambda v: "" if math.isnan(v) else f"{v:.4g}")
    shown = shown.fillna("")
    # drop extra columns that are empty for every row
    keep = [c for c in shown.columns if c in _contract() or (shown[c] != "").any()]
    keep = [c for c in keep if c != "note"] + ["note"]  # the long free text goes last
    return shown[keep].to_string(index=False)


def _contract():
    from blotquant.stats import CONTRACT_COLUMNS

    return CONTRACT_COLUMNS


def run(args: argparse.Namespace) -> int:
    """Run ``blotquant stats`` with parsed arguments; print the table; return 0.

    Parameters
    ----------
    args : argparse.Namespace
        Arguments from the parser built by :func:`configure_parser`.

    Returns
    -------
    code : int
        0. User mistakes (missing file or column, unknown test) raise
        :class:`~blotquant.errors.StatsError`, which :func:`blotquant.cli.main` turns into one
        line on stderr and exit code 2.
    """
    from blotquant.stats import run_tests

    data = _read(args.data, args.group, args.value)
    groups = None if args.groups is None else [s.strip() for s in args.groups.split(",")]
    table = run_tests(data, group=args.group, value=args.value, groups=groups,
                      control=args.control, tests=args.tests, alpha=args.alpha)
    if args.format == "csv":
        from blotquant.report.tables import csv_text

        text = csv_text(table, float_format="%.17g")  # group names that look like formulas are quoted
    elif args.format == "json":
        text = _to_json(table) + "\n"
    else:
        text = _to_text(table) + "\n"
    sys.stdout.write(text)
    return 0
