"""CSV text for the result tables (full precision; NaN written as empty cells; text that a
spreadsheet would run as a formula is quoted) and the Prism-style wide table."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["csv_text", "escape_formulas", "prism_table"]

# OWASP "CSV injection": a cell starting with one of these is a formula to Excel, LibreOffice and
# Google Sheets (tab and carriage return too, since some importers strip them before the '=').
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def escape_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column names cannot run as spreadsheet formulas.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading single
    quote (OWASP's advice against CSV injection), so a sample called ``=HYPERLINK(...)`` is shown
    as text. Only text is touched: numeric columns, and numbers inside text columns, keep their
    values (a negative number stays a number).

    Parameters
    ----------
    table : DataFrame

    Returns
    -------
    DataFrame
        The same table when nothing needed quoting, otherwise an escaped copy.

    Examples
    --------
    >>> t = pd.DataFrame({"sample": ["=1+2", "S1", "-1+2"], "value": [-1.5, 2.0, -3.0]})
    >>> escape_formulas(t)
      sample  value
    0  '=1+2   -1.5
    1     S1    2.0
    2  '-1+2   -3.0
    """
    out = table
    text_cols = [c for c in table.columns
                 if table[c].dtype == object or isinstance(table[c].dtype, (pd.StringDtype, pd.CategoricalDtype))]
    for col in text_cols:
        values = table[col].astype(object) if isinstance(table[col].dtype, pd.CategoricalDtype) else table[col]
        mask = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START)).to_numpy(bool)
        if mask.any():
            if out is table:
                out = table.copy()
            out[col] = values.astype(object).where(~mask, "'" + values[mask].astype(str))
    names = [_escape_cell(c) for c in table.columns]
    if names != list(table.columns):
        out = (table.copy() if out is table else out)
        out.columns = names
    return out


def csv_text(table, **to_csv_kwargs) -> str:
    """Return a DataFrame as CSV text without the index, at full float precision.

    Text cells (and column names) that a spreadsheet would run as formulas are quoted with a
    leading ``'`` (see :func:`escape_formulas`); numbers are written as they are.

    Examples
    --------
    >>> print(csv_text(pd.DataFrame({"a": [1.5, float("nan")], "b": ["x", "=y"]})), end="")
    a,b
    1.5,x
    ,'=y
    """
    return escape_formulas(table).to_csv(index=False, lineterminator="\n", **to_csv_kwargs)


def prism_table(per_sample: pd.DataFrame, target, *, groups) -> pd.DataFrame:
    """One target's fold changes as a wide table: a column per group, a row per replicate.

    This is GraphPad Prism's "Column" data table (and what most plotting tools paste): the
    groups in config order, each column holding that group's samples top to bottom in their
    order in ``per_sample``. Samples without a usable value (NaN fold change, flagged) are left
    out, exactly as in the summary, so each column's mean is summary.csv's mean; shorter columns
    end in empty cells.

    Parameters
    ----------
    per_sample : DataFrame
        Columns ``target, sample, group, fold_change`` (``Results.per_sample``).
    target : str
    groups : sequence of str
        Column order; groups without values stay as empty columns.

    Returns
    -------
    DataFrame
        Shape (largest group's n, len(groups)).

    Examples
    --------
    >>> ps = pd.DataFrame({"target": "T", "sample": ["c1", "c2", "i1", "i2", "i3"],
    ...                    "group": ["C", "C", "I", "I", "I"],
    ...                    "fold_change": [0.9, 1.1, 2.0, float("nan"), 3.0]})
    >>> prism_table(ps, "T", groups=["C", "I"])
         C    I
    0  0.9  2.0
    1  1.1  3.0
    """
    sub = per_sample[per_sample["target"] == target]
    columns = {}
    for g in groups:
        v = sub.loc[sub["group"] == g, "fold_change"].to_numpy(dtype=float)
        columns[g] = v[np.isfinite(v)]
    n = max([len(v) for v in columns.values()] + [0])
    return pd.DataFrame({g: np.concatenate([v, np.full(n - len(v), np.nan)]) for g, v in columns.items()},
                        columns=list(groups))
