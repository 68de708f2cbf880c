"""Every output file of a run, as (file name, bytes) pairs.

Nothing here touches the file system: :func:`blotquant.pipeline.write_results` writes what
:func:`render_outputs` yields into a temporary folder and moves it into place atomically.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

__all__ = ["overlay_png", "render_outputs", "safe_stem"]

FIGURE_FORMATS = ("png", "svg", "pdf")
_MAX_STEM = 100  # characters: far below the 255 bytes a file name may have


def safe_stem(text, *, taken=None) -> str:
    """A file-name-safe version of ``text``, unique (ignoring case) among ``taken``.

    Letters, digits, ``.``, ``_``, ``+`` and ``-`` are kept; every other run of characters
    becomes ``_``; leading dots and dashes are dropped (no hidden files, no names read as
    options); a stem over 100 characters keeps its first 91 and a digest of the whole text. A
    name already in ``taken`` gets ``_2``, ``_3``, ... ; the result is added to ``taken`` (a set
    of lower-cased names), so case-insensitive file systems cannot collide.

    Examples
    --------
    >>> taken = set()
    >>> [safe_stem(t, taken=taken) for t in ["TNAP", "p-Akt/Akt", "tnap", "<b>", "-1+2"]]
    ['TNAP', 'p-Akt_Akt', 'tnap_2', 'b', '1+2']
    >>> len(safe_stem("x" * 300))
    100
    """
    stem = re.sub(r"[^A-Za-z0-9._+-]+", "_", str(text)).strip("_").lstrip(".-") or "x"
    if len(stem) > _MAX_STEM:  # file systems take 255 bytes a name: keep a prefix and a digest
        stem = f"{stem[:_MAX_STEM - 9]}_{hashlib.sha256(str(text).encode()).hexdigest()[:8]}"
    if taken is None:
        return stem
    out, i = stem, 1
    while out.lower() in taken:
        i += 1
        out = f"{stem}_{i}"
    taken.add(out.lower())
    return out


def overlay_png(res) -> bytes:
    """The overlay PNG of one measured image (:class:`blotquant.pipeline.ImageResult`): lanes,
    counted pixels, saturated pixels and colour marks drawn on a display copy of its counts."""
    from blotquant.report import figures

    data = res.blot.data if getattr(res, "pixels", None) is None else res.pixels
    return figures.render_overlay(data, res.blot.saturated, res.lanes, res.bands,
                                  title=f"{res.membrane}: {res.file}", lane_labels=res.lane_labels,
                                  warnings=res.choices["warnings"], marks=res.blot.marks)


def _legend(sig):
    """The short legend printed under a target's figure."""
    text = sig["legend"]
    return "Bars: mean ± SD; dots: samples." + (f" {text[0].upper()}{text[1:]}." if text else "")


def render_outputs(results, *, experiment_name="blotquant", argv=None):
    """Render every output file of a run.

    Parameters
    ----------
    results : Results
        From :func:`blotquant.pipeline.run`.
    experiment_name : str, optional
        Shown in the report's title.
    argv : list of str, optional
        The command line, recorded in run.json.

    Yields
    ------
    name : str
        File name (safe for file systems; unique ignoring case).
    content : bytes

    Notes
    -----
    Files, in the order yielded: bands.csv, normalized.csv, summary.csv, stats.csv (text that a
    spreadsheet would run as a formula is quoted, see
    :func:`blotquant.report.tables.escape_formulas`); ``overlay_<membrane>_<image>.png`` per image;
    fold_change.png; per target ``figure_<target>.{png,svg,pdf}`` (publication figure) and
    ``prism_<target>.csv`` (groups as columns); report.html (self-contained); run.json (the run's
    record plus the command, the figures' captions and significance marks, and the file list).
    Names from the config are made safe for file names (:func:`safe_stem`), collisions numbered.
    """
    from blotquant import report
    from blotquant._util import jsonable
    from blotquant.report import figures
    from blotquant.report.tables import csv_text, prism_table

    record = dict(results.record)
    cfg = record.get("config") or {}
    groups = list(cfg.get("groups") or dict.fromkeys(results.summary.get("group", [])))
    control = cfg.get("control_group", groups[0] if groups else "")
    loading = cfg.get("loading_control", "loading control")
    alpha = float(((record.get("statistics") or {}).get("configured") or {}).get("alpha", 0.05))
    names = []

    def out(name, content):
        names.append(name)
        return name, content if isinstance(content, bytes) else content.encode("utf-8")

    for name, table in (("bands.csv", results.bands), ("normalized.csv", results.normalized),
                        ("summary.csv", results.summary), ("stats.csv", results.stats)):
        yield out(name, csv_text(table))

    taken = set()
    overlays = []
    for res in results.images:
        stem = safe_stem(f"overlay_{safe_stem(res.membrane)}_{safe_stem(Path(res.file).stem)}", taken=taken)
        png = res.overlay if res.overlay is not None else overlay_png(res)
        overlays.append((f"{stem}.png", png, f"membrane {res.membrane}, image {res.file}: lanes (dashed), "
                         "counted pixels (yellow; red if saturated; dotted if no band was found), "
                         "saturated pixels red, colour marks magenta"))
        yield out(f"{stem}.png", png)

    targets = list(dict.fromkeys(results.summary["target"])) if len(results.summary) else []
    sig = {t: figures.significance_marks(results.stats, t, groups=groups, control=control, alpha=alpha)
           for t in targets}
    run_figures, target_figures, captions = [], [], {}
    if targets:
        png = figures.render_plot(results.per_sample, results.summary, groups=groups,
                                  letters={t: s["marks"] for t, s in sig.items() if s["marks"]})
        kinds = "; ".join(dict.fromkeys(s["legend"] for s in sig.values() if s["legend"]))
        caption = f"fold change per group and target: bars mean ± SD, dots are samples; {kinds}"
        run_figures.append(("fold_change.png", png, caption))
        captions["fold_change.png"] = caption
        yield out("fold_change.png", png)
    target_taken = set()
    for target in targets:
        stem = safe_stem(target, taken=target_taken)
        caption = figures.figure_caption(target, results.summary, loading_control=loading, control=control,
                                         sig=sig[target])
        fig = figures.target_figure(results.per_sample, results.summary, target, groups=groups,
                                    marks=sig[target]["marks"],
                                    ylabel=f"{target} / {loading}\n(fold change vs {control})",
                                    legend=_legend(sig[target]))
        for fmt in FIGURE_FORMATS:
            content = figures.figure_bytes(fig, fmt)
            captions[f"figure_{stem}.{fmt}"] = caption
            if fmt == "png":
                target_figures.append((f"figure_{stem}.png", content, caption))
            yield out(f"figure_{stem}.{fmt}", content)
        yield out(f"prism_{stem}.csv", csv_text(prism_table(results.per_sample, target, groups=groups)))

    page = report.render_html(experiment_name=experiment_name, summary=results.summary, stats=results.stats,
                              normalized=results.normalized, bands=results.bands, figures=run_figures,
                              notes=results.notes, target_figures=target_figures, overlays=overlays)
    yield out("report.html", page)
    record["command"] = argv
    record["figures"] = {"captions": captions,
                         "significance": {t: {k: s[k] for k in ("kind", "test", "marks", "omnibus")}
                                          for t, s in sig.items()}}
    record["outputs"] = sorted(names + ["run.json"])
    yield out("run.json", json.dumps(jsonable(record), indent=2, allow_nan=False) + "\n")
