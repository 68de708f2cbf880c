"""Write every output of a run into a results folder, atomically.

This is the only function of :mod:`blotquant.report` that touches the file system; it is called
by :func:`blotquant.pipeline.write_results` (kept there as the public name).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

__all__ = ["write_results", "safe_stem"]

logger = logging.getLogger("blotquant")

FIGURE_FORMATS = ("png", "svg", "pdf")


def safe_stem(text, *, taken=None) -> str:
    """A file-name-safe version of ``text``, unique (ignoring case) among ``taken``.

    Letters, digits, ``.``, ``_``, ``+`` and ``-`` are kept; every other run of characters
    becomes ``_``; leading dots and dashes are dropped (no hidden files, no names read as
    options). A name already in ``taken`` gets ``_2``, ``_3``, ... ; the result is added to
    ``taken`` (a set of lower-cased names), so case-insensitive file systems cannot collide.

    Examples
    --------
    >>> taken = set()
    >>> [safe_stem(t, taken=taken) for t in ["TNAP", "p-Akt/Akt", "tnap", "<b>", "-1+2"]]
    ['TNAP', 'p-Akt_Akt', 'tnap_2', 'b', '1+2']
    """
    stem = re.sub(r"[^A-Za-z0-9._+-]+", "_", str(text)).strip("_").lstrip(".-") or "x"
    if taken is None:
        return stem
    out, i = stem, 1
    while out.lower() in taken:
        i += 1
        out = f"{stem}_{i}"
    taken.add(out.lower())
    return out


def _legend(sig):
    """The short legend printed under a target's figure."""
    text = sig["legend"]
    return "Bars: mean ± SD; dots: samples." + (f" {text[0].upper()}{text[1:]}." if text else "")


def write_results(results, out_dir, *, force=False, experiment_name="blotquant", argv=None):
    """Write every output file into ``out_dir`` atomically.

    The files are assembled in a temporary folder beside ``out_dir`` and moved into place only
    when all are written; an existing ``out_dir`` is refused unless ``force``.

    Parameters
    ----------
    results : Results
        From :func:`blotquant.pipeline.run`.
    out_dir : str or path-like
    force : bool, optional
        Replace an earlier results folder.
    experiment_name : str, optional
        Shown in the report's title.
    argv : list of str, optional
        The command line, recorded in run.json.

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Notes
    -----
    Files: bands.csv, normalized.csv, summary.csv, stats.csv (text that a spreadsheet would run
    as a formula is quoted, see :func:`blotquant.report.tables.escape_formulas`);
    ``overlay_<membrane>_<image>.png`` per image; fold_change.png; per target
    ``figure_<target>.{png,svg,pdf}`` (publication figure) and ``prism_<target>.csv`` (groups as
    columns); report.html (self-contained); run.json. Names from the config are made safe for
    file names (:func:`safe_stem`), collisions numbered.
    """
    from blotquant import report
    from blotquant.io import atomic_output_dir
    from blotquant.report import figures
    from blotquant.report.tables import csv_text, prism_table

    record = dict(results.record)
    cfg = record.get("config") or {}
    groups = list(cfg.get("groups") or dict.fromkeys(results.summary.get("group", [])))
    control = cfg.get("control_group", groups[0] if groups else "")
    loading = cfg.get("loading_control", "loading control")
    alpha = float(((record.get("statistics") or {}).get("configured") or {}).get("alpha", 0.05))

    out_dir = Path(out_dir)
    with atomic_output_dir(out_dir, force=force) as tmp:
        tmp = Path(tmp)
        for name, table in (("bands.csv", results.bands), ("normalized.csv", results.normalized),
                            ("summary.csv", results.summary), ("stats.csv", results.stats)):
            (tmp / name).write_text(csv_text(table), encoding="utf-8")

        taken = set()
        overlays = []
        for res in results.images:
            stem = safe_stem(f"overlay_{safe_stem(res.membrane)}_{safe_stem(Path(res.file).stem)}", taken=taken)
            png = figures.render_overlay(res.blot.data, res.blot.saturated, res.lanes, res.bands,
                                         title=f"{res.membrane}: {res.file}", lane_labels=res.lane_labels,
                                         warnings=res.choices["warnings"], marks=res.blot.marks)
            (tmp / f"{stem}.png").write_bytes(png)
            overlays.append((f"{stem}.png", png, f"membrane {res.membrane}, image {res.file}: lanes (dashed), "
                             "counted pixels (yellow; red if saturated; dotted if no band was found), "
                             "saturated pixels red, colour marks magenta"))

        targets = list(dict.fromkeys(results.summary["target"])) if len(results.summary) else []
        sig = {t: figures.significance_marks(results.stats, t, groups=groups, control=control, alpha=alpha)
               for t in targets}
        run_figures, target_figures, captions = [], [], {}
        if targets:
            png = figures.render_plot(results.per_sample, results.summary, groups=groups,
                                      letters={t: s["marks"] for t, s in sig.items() if s["marks"]})
            (tmp / "fold_change.png").write_bytes(png)
            kinds = "; ".join(dict.fromkeys(s["legend"] for s in sig.values() if s["legend"]))
            caption = f"fold change per group and target: bars mean ± SD, dots are samples; {kinds}"
            run_figures.append(("fold_change.png", png, caption))
            captions["fold_change.png"] = caption
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
                (tmp / f"figure_{stem}.{fmt}").write_bytes(content)
                if fmt == "png":
                    target_figures.append((f"figure_{stem}.png", content, caption))
            for fmt in FIGURE_FORMATS:
                captions[f"figure_{stem}.{fmt}"] = caption
            wide = prism_table(results.per_sample, target, groups=groups)
            (tmp / f"prism_{stem}.csv").write_text(csv_text(wide), encoding="utf-8")

        record["command"] = argv
        record["figures"] = {"captions": captions,
                             "significance": {t: {k: s[k] for k in ("kind", "test", "marks", "omnibus")}
                                              for t, s in sig.items()}}
        record["outputs"] = sorted(p.name for p in tmp.iterdir()) + ["report.html", "run.json"]
        page = report.render_html(experiment_name=experiment_name, summary=results.summary, stats=results.stats,
                                  normalized=results.normalized, bands=results.bands, figures=run_figures,
                                  notes=results.notes, target_figures=target_figures, overlays=overlays)
        (tmp / "report.html").write_text(page, encoding="utf-8")
        from blotquant._util import jsonable

        (tmp / "run.json").write_text(json.dumps(jsonable(record), indent=2, allow_nan=False) + "\n",
                                      encoding="utf-8")
    return out_dir
