"""A single self-explaining HTML page beside the CSVs (figures linked, tables rounded copies)."""

from __future__ import annotations

import html

__all__ = ["render_html"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}.flag{color:#a00}
img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}
"""


def _table(df, digits=4):
    shown = df.copy()
    for col in shown.columns:
        if shown[col].dtype.kind == "f":
            shown[col] = shown[col].map(lambda v: "" if v != v else f"{v:.{digits}g}")
    return shown.to_html(index=False, escape=True, border=0)


def render_html(*, experiment_name, summary, stats, normalized, bands, figures, notes):
    """Compose the report page.

    Parameters
    ----------
    experiment_name : str
    summary, stats, normalized, bands : DataFrame
        The result tables (shown rounded; the CSVs keep full precision).
    figures : list of (str, str)
        ``(file name, caption)`` of PNGs written beside the page.
    notes : list of str
        Warnings and flags a reader must see.

    Returns
    -------
    str
        The HTML text.

    Examples
    --------
    >>> import pandas as pd
    >>> page = render_html(experiment_name="x", summary=pd.DataFrame(), stats=pd.DataFrame(),
    ...                    normalized=pd.DataFrame(), bands=pd.DataFrame(), figures=[], notes=[])
    >>> page.startswith("<!DOCTYPE html>")
    True
    """
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        f"<html><head><meta charset='utf-8'><title>blotquant: {esc(experiment_name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>blotquant report: {esc(experiment_name)}</h1>",
        "<p>Volumes are background-subtracted integrated intensities in raw detector counts; each "
        "target is divided by the loading control of the same lane, then by the mean ratio of the "
        "control group on the same membrane (fold change). Full-precision numbers are in the CSV "
        "files; every automatic choice is in run.json.</p>",
    ]
    if notes:
        parts.append("<h2>Flags</h2><ul>")
        parts += [f"<li class='flag'>{esc(n)}</li>" for n in notes]
        parts.append("</ul>")
    parts += ["<h2>Summary (fold change)</h2>", _table(summary)]
    parts += ["<h2>Statistics</h2>", _table(stats)]
    for name, caption in figures:
        parts.append(f"<figure><img src='{esc(name)}' alt='{esc(caption)}'><figcaption>{esc(caption)}</figcaption></figure>")
    parts += ["<h2>Normalised values</h2>", _table(normalized)]
    parts += ["<h2>Bands</h2>", _table(bands)]
    parts.append("</body></html>")
    return "\n".join(parts)
