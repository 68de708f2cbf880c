"""One self-contained HTML page: flags, summary, statistics, figures, tables.

Every image is embedded as a ``data:`` URI, so the page can be mailed alone; every text that came
from the user (names, notes, table cells and headers) is HTML-escaped, and a Content Security
Policy forbids scripts and any outside resource in case something slipped through.
"""

from __future__ import annotations

import base64
import html

import pandas as pd

__all__ = ["render_html"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:0.5em 0 1em}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right;white-space:nowrap}th{background:#f3f3f3}
td.text,th.text{text-align:left}td.text{white-space:normal}td.long{min-width:24em}
.flags{background:#fff4f4;border:1px solid #e0b0b0;padding:0.5em 1em 0.5em 2em}
.flags li{color:#900}.ok{color:#060}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:13px;color:#444;max-width:60em}
.figs{display:flex;flex-wrap:wrap;gap:1em}.figs figure{flex:0 1 360px;margin:0}.figs img{width:100%}
nav a{margin-right:1em}
"""

# no scripts, no outside resources: only the page's own styles and embedded images
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_MIME = {"png": "image/png", "svg": "image/svg+xml", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _cell(value, digits):
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return "" if value != value else f"{value:.{digits}g}"
    return str(value)


def _table(df, csv_name, digits=4):
    """An HTML table of ``df`` (every header and cell escaped), tagged with its CSV's name."""
    import numpy as np

    cols = list(df.columns)
    numeric = [df[c].dtype.kind in "fiu" for c in cols]
    head = "".join(f"<th class='{'num' if n else 'text'}'>{_esc(c)}</th>" for c, n in zip(cols, numeric))
    body = []
    values = [df[c].to_numpy(dtype=object) for c in cols]
    for i in range(len(df)):
        cells = []
        for v, n in zip(values, numeric):
            x = v[i]
            if isinstance(x, np.floating):
                x = float(x)
            text = _cell(x, digits)
            cls = "num" if n else "text long" if len(text) > 40 else "text"
            cells.append(f"<td class='{cls}'>{_esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<div class='scroll'><table data-csv='{_esc(csv_name)}'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def data_uri(content: bytes, name: str) -> str:
    """``data:`` URI of a file's bytes, its type from the name's extension.

    Examples
    --------
    >>> data_uri(b"<svg/>", "a.svg")
    'data:image/svg+xml;base64,PHN2Zy8+'
    """
    mime = _MIME.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def _figure(name, content, caption):
    return (f"<figure><img src='{data_uri(content, name)}' alt='{_esc(caption)}' title='{_esc(name)}'>"
            f"<figcaption><b>{_esc(name)}</b>: {_esc(caption)}</figcaption></figure>")


def render_html(*, experiment_name, summary, stats, normalized, bands, figures, notes,
                target_figures=(), overlays=()):
    """Compose the report page.

    Parameters
    ----------
    experiment_name : str
    summary, stats, normalized, bands : DataFrame
        The result tables (shown rounded to 4 significant digits; the CSVs keep full precision).
        Each HTML table carries ``data-csv`` naming its CSV file; rows are the CSV's rows.
    figures : list of (str, bytes, str)
        ``(file name, PNG bytes, caption)`` of run-level figures (e.g. the fold-change plot).
    notes : list of str
        Warnings and flags a reader must see (shown first).
    target_figures, overlays : list of (str, bytes, str)
        Per-target publication figures and per-image overlays, same form as ``figures``.

    Returns
    -------
    str
        The HTML text; it references no other file.

    Examples
    --------
    >>> import pandas as pd
    >>> page = render_html(experiment_name="<b>x</b>", summary=pd.DataFrame(), stats=pd.DataFrame(),
    ...                    normalized=pd.DataFrame(), bands=pd.DataFrame(), figures=[], notes=[])
    >>> page.startswith("<!DOCTYPE html>"), "<b>x</b>" in page, "&lt;b&gt;x&lt;/b&gt;" in page
    (True, False, True)
    """
    name = _esc(experiment_name)
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>blotquant: {name}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>blotquant report: {name}</h1>",
        "<nav><a href='#flags'>Flags</a><a href='#summary'>Summary</a><a href='#stats'>Statistics</a>"
        "<a href='#figures'>Figures</a><a href='#overlays'>Overlays</a><a href='#normalized'>Normalised values</a>"
        "<a href='#bands'>Bands</a></nav>",
        "<p>Volumes are background-subtracted integrated intensities in raw detector counts; each "
        "target is divided by the loading control of the same lane, then by the mean ratio of the "
        "control group on the same membrane (fold change). Tables are rounded to 4 significant digits; "
        "full-precision numbers are in the CSV files beside this page (bands.csv, normalized.csv, "
        "summary.csv, stats.csv), every automatic choice in run.json.</p>",
        f"<h2 id='flags'>Flags ({len(notes)})</h2>",
    ]
    if notes:
        parts.append("<ul class='flags'>" + "".join(f"<li>{_esc(n)}</li>" for n in notes) + "</ul>")
    else:
        parts.append("<p class='ok'>No flags: no saturated, missing or flagged bands, no lane warnings.</p>")
    parts += ["<h2 id='summary'>Summary (fold change per group; summary.csv)</h2>", _table(summary, "summary.csv")]
    parts += ["<h2 id='stats'>Statistics (stats.csv)</h2>", _table(stats, "stats.csv")]
    parts.append("<h2 id='figures'>Figures</h2>")
    if target_figures:
        parts.append("<div class='figs'>" + "".join(_figure(*f) for f in target_figures) + "</div>")
    parts += [_figure(*f) for f in figures]
    parts.append("<h2 id='overlays'>Overlays (what was counted)</h2>")
    parts += [_figure(*f) for f in overlays]
    parts += ["<h2 id='normalized'>Normalised values (normalized.csv)</h2>", _table(normalized, "normalized.csv")]
    parts += ["<h2 id='bands'>Bands (bands.csv)</h2>", _table(bands, "bands.csv")]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
