"""CSV text for the result tables (full precision; NaN written as empty cells)."""

from __future__ import annotations

__all__ = ["csv_text"]


def csv_text(table) -> str:
    """Return a DataFrame as CSV text without the index, at full float precision.

    Examples
    --------
    >>> import pandas as pd
    >>> print(csv_text(pd.DataFrame({"a": [1.5, float("nan")], "b": ["x", "y"]})), end="")
    a,b
    1.5,x
    ,y
    """
    return table.to_csv(index=False, lineterminator="\n")
