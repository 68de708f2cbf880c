"""Every output file of a run, as (file name, bytes) pairs.

Nothing here touches the file system: :func:`blotquant.pipeline.write_results` writes what
:func:`render_outputs` yields into a temporary folder and moves it into place atomically.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

__all__ = ["figure_calls", "fold_change_file", "overlay_png", "render_outputs", "safe_stem",
           "target_figure_file"]

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


def _figure_plan(results):
    """What every figure of a run shows, worked out once for the figures and the files around them.

    Returns a dict: ``groups``, ``control``, ``loading``, ``alpha``, ``targets`` (summary order),
    ``sig`` ({target: :func:`blotquant.report.figures.significance_marks`}), ``stems`` ({target:
    file-name stem}), ``fold_change`` and ``drawn`` ({target: ...}): the arguments of
    :func:`fold_change_file` and :func:`_target_figure`, and ``calls``: one ``(file name,
    function, arguments)`` per figure file, ``function(*arguments)`` giving its bytes. Each call
    is self-contained (module-level function, tables and plain values), so it may run in another
    process.
    """
    from blotquant.report import figures

    record = results.record
    cfg = record.get("config") or {}
    groups = list(cfg.get("groups") or dict.fromkeys(results.summary.get("group", [])))
    control = cfg.get("control_group", groups[0] if groups else "")
    loading = cfg.get("loading_control", "loading control")
    alpha = float(((record.get("statistics") or {}).get("configured") or {}).get("alpha", 0.05))
    targets = list(dict.fromkeys(results.summary["target"])) if len(results.summary) else []
    sig = {t: figures.significance_marks(results.stats, t, groups=groups, control=control, alpha=alpha)
           for t in targets}
    taken = set()
    stems = {t: safe_stem(t, taken=taken) for t in targets}
    fold_change = (results.per_sample, results.summary, groups,
                   {t: s["marks"] for t, s in sig.items() if s["marks"]})
    drawn = {t: (results.per_sample, results.summary, t, groups, sig[t]["marks"],
                 f"{t} / {loading}\n(fold change vs {control})", _legend(sig[t])) for t in targets}
    # the slowest first (fold change ~0.2 s; per target PDF ~0.2 s, PNG ~0.1 s, SVG ~0.05 s): a
    # pool given them in this order is done soonest
    calls = [("fold_change.png", fold_change_file, fold_change)] if targets else []
    calls += [(f"figure_{stems[t]}.{fmt}", target_figure_file, drawn[t] + (fmt,))
              for fmt in ("pdf", "png", "svg") for t in targets]
    return {"groups": groups, "control": control, "loading": loading, "alpha": alpha, "targets": targets,
            "sig": sig, "stems": stems, "calls": calls, "fold_change": fold_change, "drawn": drawn}


def fold_change_file(per_sample, summary, groups, letters) -> bytes:
    """fold_change.png: :func:`blotquant.report.figures.render_plot` with positional arguments only
    (a plain call that travels to a worker process)."""
    from blotquant.report import figures

    return figures.render_plot(per_sample, summary, groups=groups, letters=letters)


def target_figure_file(per_sample, summary, target, groups, marks, ylabel, legend, fmt) -> bytes:
    """One target's publication figure drawn and saved as ``fmt`` (``png``, ``svg`` or ``pdf``).

    Positional arguments only, so that it travels to a worker process as a plain call: see
    :func:`blotquant.report.figures.target_figure` and :func:`~blotquant.report.figures.figure_bytes`.
    A new figure for every file: saving one format never changes what the next one shows.
    """
    from blotquant.report import figures

    return figures.figure_bytes(_target_figure(per_sample, summary, target, groups, marks, ylabel, legend), fmt)


def _target_figure(per_sample, summary, target, groups, marks, ylabel, legend):
    from blotquant.report import figures

    return figures.target_figure(per_sample, summary, target, groups=groups, marks=marks, ylabel=ylabel,
                                 legend=legend)


def figure_calls(results) -> list:
    """Every figure file of a run as ``(name, function, arguments)``: ``function(*arguments)`` gives
    the bytes :func:`render_outputs` writes under ``name``.

    For rendering the figures elsewhere (``blotquant run --jobs N`` draws them on the worker
    processes, in parallel) and handing them to :func:`render_outputs` as ``figures``. The slowest
    come first (the fold-change plot, then every target's PDF, then the PNGs, then the SVGs), so
    that a pool given them in this order is done soonest.

    Examples
    --------
    >>> import pandas as pd
    >>> from blotquant.pipeline import Results
    >>> empty = pd.DataFrame(columns=["target", "group", "n", "mean", "sd"])
    >>> figure_calls(Results(None, None, None, empty, None, (), {}, []))
    []
    """
    return _figure_plan(results)["calls"]


def render_outputs(results, *, experiment_name="blotquant", argv=None, figures=None):
    """Render every output file of a run.

    Parameters
    ----------
    results : Results
        From :func:`blotquant.pipeline.run`.
    experiment_name : str, optional
        Shown in the report's title.
    argv : list of str, optional
        The command line, recorded in run.json.
    figures : mapping of str to bytes, optional
        Figure files rendered elsewhere, by file name, from the calls of :func:`figure_calls`
        (e.g. on worker processes); those missing are rendered here. The bytes are the same
        either way. Each is looked up once, only when every file that needs no figure has been
        yielded, so a mapping that waits for figures still being drawn lets the other files be
        written meanwhile.

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
    per target ``prism_<target>.csv`` (groups as columns); run.json (the run's record plus the
    command, the figures' captions and significance marks, and the file list); fold_change.png;
    per target ``figure_<target>.{png,svg,pdf}`` (publication figure); report.html
    (self-contained). Names from the config are made safe for file names (:func:`safe_stem`),
    collisions numbered.
    """
    from blotquant import report
    from blotquant._util import jsonable
    from blotquant.report import figures as _figures
    from blotquant.report.tables import csv_text, prism_table

    plan = _figure_plan(results)
    groups, control, loading, sig = plan["groups"], plan["control"], plan["loading"], plan["sig"]
    targets, stems = plan["targets"], plan["stems"]
    given = {} if figures is None else figures

    # what needs no figure first
    for name, table in (("bands.csv", results.bands), ("normalized.csv", results.normalized),
                        ("summary.csv", results.summary), ("stats.csv", results.stats)):
        yield name, csv_text(table).encode("utf-8")
    taken = set()
    overlays = []
    for res in results.images:
        stem = safe_stem(f"overlay_{safe_stem(res.membrane)}_{safe_stem(Path(res.file).stem)}", taken=taken)
        png = res.overlay if res.overlay is not None else overlay_png(res)
        overlays.append((f"{stem}.png", png, f"membrane {res.membrane}, image {res.file}: lanes (dashed), "
                         "counted pixels (yellow; red if saturated; dotted if no band was found), "
                         "saturated pixels red, colour marks magenta"))
        yield f"{stem}.png", png
    for target in targets:
        yield f"prism_{stems[target]}.csv", csv_text(prism_table(results.per_sample, target,
                                                                  groups=groups)).encode("utf-8")

    captions = {}
    if targets:
        kinds = "; ".join(dict.fromkeys(s["legend"] for s in sig.values() if s["legend"]))
        captions["fold_change.png"] = f"fold change per group and target: bars mean ± SD, dots are samples; {kinds}"
    for target in targets:
        caption = _figures.figure_caption(target, results.summary, loading_control=loading, control=control,
                                          sig=sig[target])
        captions.update((f"figure_{stems[target]}.{fmt}", caption) for fmt in FIGURE_FORMATS)
    record = dict(results.record)
    record["command"] = argv
    record["figures"] = {"captions": captions,
                         "significance": {t: {k: s[k] for k in ("kind", "test", "marks", "omnibus")}
                                          for t, s in sig.items()}}
    record["outputs"] = sorted(["bands.csv", "normalized.csv", "summary.csv", "stats.csv", "report.html",
                                "run.json", *(name for name, _, _ in overlays), *captions,
                                *(f"prism_{stems[t]}.csv" for t in targets)])
    yield "run.json", (json.dumps(jsonable(record), indent=2, allow_nan=False) + "\n").encode("utf-8")

    # then the figures, each looked up once in `figures` (it may wait for one being drawn) or drawn here
    run_figures, target_figures = [], []
    if targets:
        png = given["fold_change.png"] if "fold_change.png" in given else fold_change_file(*plan["fold_change"])
        run_figures.append(("fold_change.png", png, captions["fold_change.png"]))
        yield "fold_change.png", png
    for target in targets:
        fig = None
        for fmt in FIGURE_FORMATS:
            name = f"figure_{stems[target]}.{fmt}"
            if name in given:
                content = given[name]
            else:  # drawn once for every format not given (the bytes of target_figure_file's)
                if fig is None:
                    fig = _target_figure(*plan["drawn"][target])
                content = _figures.figure_bytes(fig, fmt)
            if fmt == "png":
                target_figures.append((name, content, captions[name]))
            yield name, content
    page = report.render_html(experiment_name=experiment_name, summary=results.summary, stats=results.stats,
                              normalized=results.normalized, bands=results.bands, figures=run_figures,
                              notes=results.notes, target_figures=target_figures, overlays=overlays)
    yield "report.html", page.encode("utf-8")
