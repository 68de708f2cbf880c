"""The only orchestrator: ``run(experiment) -> Results`` and ``write_results(results, out_dir)``.

Every step is a function of the previous step's output (see DESIGN.md): read each image, crop
its region, find (or take) its lanes, measure each target's band in every lane, normalise to the
loading control, summarise and test the groups. Every automatic choice is collected for run.json.
"""

from __future__ import annotations

import datetime as _dt
import logging
import platform
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from blotquant import __version__
from blotquant._util import jsonable
from blotquant.errors import BlotquantError, LayoutError

__all__ = ["Results", "ImageResult", "ImageTask", "TaskResult", "run", "image_tasks", "measure_task",
           "assemble", "write_results", "BANDS_COLUMNS", "SUMMARY_COLUMNS"]

logger = logging.getLogger("blotquant")

NOT_QUANTIFIED = ("ladder", "-")

BANDS_COLUMNS = [
    "membrane", "image", "target", "lane", "sample", "group", "lane_x", "band_row", "volume",
    "background", "saturated", "found", "volume_sd", "band_top", "band_bottom", "x_left", "x_right",
    "n_pixels", "snr", "mw_kda", "note",
]
SUMMARY_COLUMNS = ["target", "group", "n", "mean", "sd", "sem", "median", "ci_low", "ci_high", "fold_change"]


@dataclass(frozen=True)
class ImageResult:
    """What was measured on one image: enough to draw its overlay and explain its numbers."""

    membrane: str
    file: str
    blot: object  # BlotImage, cropped to the region
    lanes: object  # Lanes, in the cropped array's coordinates
    bands: pd.DataFrame  # this image's rows of bands.csv, in the cropped array's coordinates
    lane_labels: list
    choices: dict
    overlay: bytes | None = None  # its overlay PNG, when drawn where it was measured (batch workers)
    pixels: object = None  # report.figures.OverlayPixels: what the overlay needs, when blot's arrays were let go


@dataclass(frozen=True)
class Results:
    """All tables of a run plus the record of how they were obtained."""

    bands: pd.DataFrame
    normalized: pd.DataFrame
    per_sample: pd.DataFrame
    summary: pd.DataFrame
    stats: pd.DataFrame
    images: list
    record: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


@dataclass(frozen=True)
class ImageTask:
    """The unit of work of a run: one image file (page) and every membrane image measured on it.

    The file is read once; membranes sharing it without a `region` get its strips; each entry is
    measured on its crop. Tasks are independent of each other, so they may run in any process.

    Attributes
    ----------
    file : str
        Image file, relative to the experiment's images folder.
    page : int or None
        Page as given in the config.
    entries : tuple of (int, int)
        ``(membrane index, image index)`` of every config entry using this file and page, in
        config order.
    strips : tuple of int
        Membrane indices whose strips are found on this image, top to bottom (empty: none).
    """

    file: str
    page: int | None
    entries: tuple
    strips: tuple = ()


@dataclass(frozen=True)
class TaskResult:
    """What :func:`measure_task` found: one :class:`ImageResult` per entry of the task."""

    task: ImageTask
    images: tuple  # ImageResult per task.entries, same order
    strip_record: dict | None = None


def _versions():
    import importlib.metadata as md

    out = {"blotquant": __version__, "python": sys.version.split()[0], "platform": platform.platform()}
    for dist in ("numpy", "scipy", "pandas", "opencv-python-headless", "tifffile", "imagecodecs", "PyYAML",
                 "pydantic", "matplotlib", "pillow", "tqdm"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = None
    return out


def _lane_geometry(experiment, membrane, blot, n_lanes):
    """Explicit lanes from the config (membrane first, then analysis), or None for auto."""
    from blotquant.lanes import lanes_from_centers

    spec = getattr(membrane, "lane_geometry", None)
    if spec is None and not isinstance(experiment.analysis.lanes, str):
        spec = experiment.analysis.lanes
    if spec is None:
        return None
    x0 = blot.origin[0]
    centers = np.asarray(spec.centers, dtype=float) - x0
    if len(centers) != n_lanes:
        raise LayoutError(
            f"membrane {membrane.name}: {len(centers)} lane centres given for {n_lanes} lanes; "
            "list one centre per entry of `lanes:`"
        )
    return lanes_from_centers(centers, float(spec.width))


def _task_strips(experiment, task, read):
    """Regions of the membranes that share ``task``'s image without a `region`: its strips, top
    to bottom, assigned in config order.

    Returns ``{(membrane index, image index): box}`` and the record of what was found (None when
    the image is not shared by several membranes).
    """
    from blotquant.strips import find_strips

    if not task.strips:
        return {}, None
    blot = read(task.file, task.page)
    try:
        strips, params = find_strips(blot, n_strips=len(task.strips))
    except LayoutError as exc:
        raise LayoutError(
            f"{task.file}: {len(task.strips)} membranes share this image without `region`, but {exc}; "
            "give each membrane's image a `region: [x0, y0, x1, y1]`"
        ) from exc
    regions = {}
    for strip, mi in zip(strips, task.strips):  # config order = top to bottom
        for m, ii in task.entries:
            if m == mi and experiment.membranes[m].images[ii].region is None:
                regions[(m, ii)] = tuple(int(v) for v in strip.box)
    record = {
        "membranes": [experiment.membranes[mi].name for mi in task.strips],
        "boxes": [list(map(int, st.box)) for st in strips],
        "params": params,
    }
    logger.info("%s: %d strips assigned top to bottom to membranes %s", task.file, len(strips),
                ", ".join(record["membranes"]))
    return regions, record


def _calibrate_mw(blot, lanes, labels, ladder):
    """Fit row -> kDa from this image's marker lanes; returns (MembraneCalibration, params) or
    (None, params with the reason)."""
    from blotquant.mw import find_ladder_bands, fit_ladder, get_ladder, membrane_calibration

    kda = get_ladder(ladder)
    fits, per_lane = [], []
    for i, label in enumerate(labels):
        if label != "ladder":
            continue
        x = float(lanes.centers[i])
        rec = {"lane": i + 1, "x": x}
        try:
            rows, found = find_ladder_bands(blot, x=x, width=float(lanes.widths[i]), slope=float(lanes.slope),
                                            y_ref=float(lanes.y_ref))
            cal, fit = fit_ladder(rows, kda, row_range=found.get("row_range"), x=x)
        except BlotquantError as exc:
            rec["failed"] = str(exc)
        else:
            fits.append(cal)
            rec.update(rows=np.asarray(rows).tolist(), fit=fit)
        per_lane.append(rec)
    if not fits:
        return None, {"ladder": list(kda), "lanes": per_lane,
                      "failed": "no marker lane could be calibrated on this image"}
    cal, mc = membrane_calibration(fits)
    return cal, {"ladder": list(kda), "lanes": per_lane, "membrane": mc}


def _place_lanes(experiment, membrane, image_spec, blot):
    """Lanes from the config, or found with the kinds and row windows the config gives.

    Returns ``(lanes, params, warnings)``; lanes are in the cropped array's coordinates.
    """
    from blotquant.io import detection_copy
    from blotquant.lanes import find_lanes

    n_lanes = len(membrane.lanes)
    x0, y0 = blot.origin
    warnings_ = []
    lanes = _lane_geometry(experiment, membrane, blot, n_lanes)
    if lanes is not None:
        params = {"source": "config"}
    else:
        rows = [(spec.rows[0] - y0, spec.rows[1] - y0) for spec in image_spec.targets.values()
                if spec.rows is not None]
        kinds = ["marker" if lab == "ladder" else "empty" if lab == "-" else "sample" for lab in membrane.lanes]
        # lanes are found on a copy with colour marks (ink, handwriting) painted over
        det = detection_copy(blot)
        try:
            lanes, params = find_lanes(det.data, n_lanes, rows=rows or None, kinds=kinds)
        except LayoutError as exc:
            raise LayoutError(f"{image_spec.file} (membrane {membrane.name}): {exc}") from exc
        params = {"source": "auto", **params}
        if det is not blot:
            params["detection_copy"] = det.choices.get("detection_copy")
        seen = (params.get("placement") or {}).get("lane_like_columns")
        if params.get("warning"):
            warnings_.append(f"{image_spec.file}: lanes: {params['warning']}")
        elif seen is not None and seen > n_lanes:
            placed = ", ".join(f"{x:.0f}" for x in np.asarray(lanes.centers) + x0)
            warnings_.append(f"{image_spec.file}: saw {seen} lane-like columns for the {n_lanes} lanes listed "
                             f"for membrane {membrane.name}; check the overlay (lanes placed at x = {placed})")
    params["centers_image_px"] = (np.asarray(lanes.centers) + x0).tolist()
    params["widths_px"] = np.asarray(lanes.widths, dtype=float).tolist()
    params["slope"] = float(lanes.slope)
    params["y_ref_image_px"] = float(lanes.y_ref + y0)
    return lanes, params, warnings_


def _target_window(image_spec, target, spec, blot, sample_lanes, calibration, mw_params):
    """Row window of a target in the cropped array: typed rows, or the rows around its kDa."""
    if spec.rows is not None:
        return (spec.rows[0] - blot.origin[1], spec.rows[1] - blot.origin[1])
    if calibration is None:
        raise LayoutError(
            f"{image_spec.file}: target {target} is given by molecular weight (mw: {spec.mw}) but "
            f"{(mw_params or {}).get('failed', 'no marker lane could be calibrated on this image')}; "
            "give `rows: [top, bottom]` instead, or a white-light picture of the marker (`marker:`)"
        )
    from blotquant.mw import row_window

    edges = np.array([row_window(calibration, spec.mw, x=float(x)) for x in sample_lanes.centers])
    window = (int(np.floor(edges.min())), int(np.ceil(edges.max())))
    mw_params.setdefault("target_windows", {})[target] = {"mw_kda": spec.mw, "rows": list(window)}
    return window


def _measure_image(experiment, membrane, image_spec, *, read, region=None):
    from blotquant.bands import measure_bands
    from blotquant.io import crop

    path = Path(experiment.images_dir) / image_spec.file
    t0 = time.perf_counter()
    blot = read(image_spec.file, image_spec.page)
    region_source = "config" if image_spec.region is not None else ("strip detection" if region else None)
    region = tuple(image_spec.region) if image_spec.region is not None else region
    if region is not None:
        blot = crop(blot, region)
    # volumes are integrated on blot.data; a band whose window holds colour marks is flagged
    lanes, lane_params, warnings_ = _place_lanes(experiment, membrane, image_spec, blot)

    # Marker and empty lanes are never measured: their bands must not steer the band search.
    labels = list(membrane.lanes)
    measured = np.array([i for i, lab in enumerate(labels) if lab not in NOT_QUANTIFIED])
    if measured.size == 0:
        raise LayoutError(f"membrane {membrane.name}: no sample lanes in `lanes:`; list at least one sample")
    sample_lanes = replace(lanes, centers=np.asarray(lanes.centers)[measured],
                           widths=np.asarray(lanes.widths)[measured])
    calibration, mw_params = None, None
    if membrane.ladder is not None:
        ladder_blot, marker_record = blot, None
        if image_spec.marker is not None:
            # the white-light marker picture shares the exposure's framing (checked by the config),
            # so the same crop and lanes apply; its own polarity is found from its own pixels
            # (colour marks are not searched: only the ladder lanes of this picture are read)
            ladder_blot = read(image_spec.marker.file or image_spec.file, image_spec.marker.page, "auto",
                               find_marks=False)
            if region is not None:
                ladder_blot = crop(ladder_blot, region)
            marker_record = {"file": image_spec.marker.file or image_spec.file, "page": ladder_blot.page,
                             "sha256": ladder_blot.sha256, "polarity": ladder_blot.polarity,
                             "read": ladder_blot.choices}
        calibration, mw_params = _calibrate_mw(ladder_blot, lanes, labels, membrane.ladder)
        mw_params["marker_picture"] = marker_record
        if calibration is None:
            reasons = "; ".join(f"lane {r['lane']}: {r['failed']}" for r in mw_params["lanes"]) or "no ladder lane"
            where = (f"the marker picture {marker_record['file']} (page {marker_record['page']})"
                     if marker_record else image_spec.file)
            mw_params["failed"] = f"no marker lane could be calibrated on {where}"
            warnings_.append(f"{image_spec.file}: the ladder could not be calibrated on {where} ({reasons}); "
                             "mw_kda is empty for this image")
    tables, band_params = [], {}
    for target, spec in image_spec.targets.items():
        window = _target_window(image_spec, target, spec, blot, sample_lanes, calibration, mw_params)
        try:
            table, params = measure_bands(
                blot.data, sample_lanes, window, background=experiment.analysis.background,
                method_kwargs=dict(experiment.analysis.background_options or {}), saturated=blot.saturated,
                n_bands=spec.bands,
            )
        except BlotquantError as exc:
            raise type(exc)(f"{path.name}, target {target}: {exc}") from exc
        table = table.copy()
        table["mw_kda"] = (calibration.kda_at(table["band_row"].to_numpy(float), table["lane_x"].to_numpy(float))
                           if calibration is not None else np.nan)
        if blot.marks is not None and blot.marks.any():
            table["note"] = [_marks_note(blot.marks, rec, window) for rec in table.itertuples(index=False)]
        table["lane"] = measured[table["lane"].to_numpy() - 1] + 1  # back to the membrane's lane numbers
        table.insert(0, "target", target)
        tables.append(table)
        band_params[target] = params
    bands = pd.concat(tables, ignore_index=True)
    bands["sample"] = [labels[i - 1] for i in bands["lane"]]
    bands["group"] = [experiment.samples.get(s, "") for s in bands["sample"]]
    bands["membrane"] = membrane.name
    bands["image"] = image_spec.file
    choices = {
        "file": str(path),
        "sha256": blot.sha256,
        "page": blot.page,
        "region": list(region) if region is not None else None,
        "region_source": region_source,
        "origin": list(blot.origin),
        "coordinates": "rows and columns inside `lanes` (but centers_image_px, y_ref_image_px), `bands` and "
                       "`molecular_weight` are in the cropped region's pixels: add `origin` (x0, y0) for image "
                       "pixels; the CSVs are in image pixels",
        "read": blot.choices,
        "polarity": blot.polarity,
        "ceiling": blot.ceiling,
        "lanes": lane_params,
        "molecular_weight": mw_params,
        "bands": band_params,
        "warnings": warnings_,
        "seconds": round(time.perf_counter() - t0, 4),
    }
    return ImageResult(membrane.name, image_spec.file, blot, lanes, bands, labels, jsonable(choices))


def _marks_note(marks, rec, window):
    """``rec.note`` plus how many colour-marked pixels lie in the band's lane over its row window
    (where the band and its baseline are measured), if any."""
    rows, cols = marks.shape
    top, bottom = max(0, min(int(window[0]), int(rec.band_top))), min(rows - 1, max(int(window[1]), int(rec.band_bottom)))
    left, right = max(0, int(np.floor(rec.x_left))), min(cols, int(np.ceil(rec.x_right)) + 1)
    n = int(marks[top:bottom + 1, left:right].sum()) if right > left else 0
    if not n:
        return rec.note
    counted = int(marks[int(rec.band_top):int(rec.band_bottom) + 1, left:right].sum()) if right > left else 0
    text = (f"{n} colour-marked (ink) pixels in the lane's window, {counted} of them in the counted rows: "
            "their counts are integrated as they are; check the overlay")
    return f"{rec.note}; {text}" if rec.note else text


def _to_image_coords(bands, origin):
    x0, y0 = origin
    out = bands.copy()
    for col in ("lane_x", "x_left", "x_right"):
        out[col] = out[col] + x0
    for col in ("band_row", "band_top", "band_bottom"):
        out[col] = out[col] + y0
    return out


def _merge_selections(target, configured, auto):
    """One row per test × comparison: rows that auto mode shares with the configured tests are
    marked ``configured, auto`` (auto's reason appended to the note); auto's other rows follow."""
    def key(row):
        return (row["test"], str(row["group_a"] or ""), str(row["group_b"] or ""))

    configured = configured.assign(selection="configured")
    index = {key(r): i for i, r in configured.iterrows()}
    extra = []
    for _, row in auto.iterrows():
        i = index.get(key(row))
        if i is None:
            extra.append(row.to_dict() | {"selection": "auto"})
            continue
        configured.at[i, "selection"] = "configured, auto"
        note = str(row["note"] or "")
        if note and note not in str(configured.at[i, "note"] or ""):
            configured.at[i, "note"] = "; ".join(n for n in (str(configured.at[i, "note"] or ""), note) if n)
    out = pd.concat([configured, pd.DataFrame(extra, columns=configured.columns)], ignore_index=True) \
        if extra else configured
    out.insert(0, "target", target)
    return out


def _group_stats(experiment, per_sample):
    """Summary and tests per target on the samples' fold changes.

    Groups without any usable value (every lane flagged) keep a summary row with n = 0; tests
    need the control group and at least one other group with values, otherwise the reason is
    returned as a note instead of a number.
    """
    from blotquant.stats import compare_groups, summarize

    groups = list(experiment.groups)
    control = experiment.control_group
    cfg = experiment.analysis.stats
    summaries, tests, notes = [], [], []
    for target, sub in per_sample.groupby("target", sort=False):
        usable = sub[np.isfinite(sub["fold_change"].to_numpy(dtype=float))]
        present = [g for g in groups if (usable["group"] == g).any()]
        if control in present:
            s = summarize(usable, group="group", value="fold_change", groups=present, control=control)
        else:
            s = pd.DataFrame(columns=SUMMARY_COLUMNS[1:])
        s = s.set_index("group").reindex(groups).reset_index()
        s["n"] = s["n"].fillna(0).astype(int)
        s.insert(0, "target", target)
        summaries.append(s[[c for c in SUMMARY_COLUMNS if c in s.columns]])
        if control not in present or len(present) < 2:
            notes.append(f"{target}: no tests: needs usable values in {control} and one more group "
                         f"(groups with values: {', '.join(present) or 'none'})")
            continue
        configured = compare_groups(usable, group="group", value="fold_change", groups=present, control=control,
                                    test=cfg.test, posthoc=cfg.posthoc, alpha=cfg.alpha)
        auto = compare_groups(usable, group="group", value="fold_change", groups=present, control=control,
                              test="auto", posthoc="auto", alpha=cfg.alpha)
        tests.append(_merge_selections(target, configured, auto))
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame(columns=SUMMARY_COLUMNS)
    stats = pd.concat(tests, ignore_index=True) if tests else pd.DataFrame(
        columns=["target", "test", "group_a", "group_b", "diff", "se", "statistic", "df", "df2", "p_value",
                 "p_adjust", "ci_low", "ci_high", "significant", "note", "selection"])
    return summary, stats, notes


def image_tasks(experiment) -> list[ImageTask]:
    """Split an experiment into its units of work: one :class:`ImageTask` per image file and page.

    Entries sharing a file and page are one task, so the file is read once and its strips (for
    membranes sharing it without `region`) are found once. Tasks come in the order their files
    first appear in the config.
    """
    uses = {}
    for mi, membrane in enumerate(experiment.membranes):
        for ii, spec in enumerate(membrane.images):
            uses.setdefault((spec.file, spec.page), []).append((mi, ii))
    tasks = []
    for (file, page), entries in uses.items():
        members = sorted({mi for mi, ii in entries if experiment.membranes[mi].images[ii].region is None})
        tasks.append(ImageTask(file, page, tuple(entries), tuple(members) if len(members) > 1 else ()))
    return tasks


def measure_task(experiment, task) -> TaskResult:
    """Read ``task``'s image once, find its strips if shared, and measure every entry on it.

    A pure function of its arguments (reads only the image files): safe to run in a worker
    process. Raises the first entry's error, in config order.
    """
    from blotquant.io import read_blot

    shared = {}  # the image, read once when several entries (membranes, strips) use it

    def read(file, page, polarity=None, find_marks=True):
        key = (file, page, polarity)
        if key in shared:
            return shared[key]
        blot = read_blot(Path(experiment.images_dir) / file, page=page,
                         polarity=polarity or experiment.analysis.polarity, find_marks=find_marks)
        if polarity is None and len(task.entries) > 1:  # not a marker picture: the exposure itself
            shared[key] = blot
        return blot

    regions, strip_record = _task_strips(experiment, task, read)
    images = []
    for mi, ii in task.entries:
        membrane = experiment.membranes[mi]
        images.append(_measure_image(experiment, membrane, membrane.images[ii], read=read,
                                     region=regions.get((mi, ii))))
    return TaskResult(task, tuple(images), strip_record)


def _overlay_pixels_only(result: TaskResult) -> TaskResult:
    """``result`` with each image's full-size arrays replaced by the display-size copy its overlay
    is drawn from (a few MB instead of ~110 MB for a 12-MP blot)."""
    from blotquant.report.figures import overlay_pixels

    return replace(result, images=tuple(
        replace(res, pixels=overlay_pixels(res.blot.data, res.blot.saturated, res.blot.marks),
                blot=replace(res.blot, data=None, saturated=None, mask=None, marks=None))
        for res in result.images))


def run(experiment, *, executor=None, keep_pixels=False) -> Results:
    """Quantify an experiment: every image, every target, normalised and tested.

    Parameters
    ----------
    experiment : Experiment
        A validated config from :func:`blotquant.config.load_config`.
    executor : concurrent.futures.Executor, optional
        Measure the images (:func:`measure_task`, one call per image file) on this executor,
        e.g. a ``ProcessPoolExecutor`` or a Dask client's ``get_executor()``. Default: one after
        the other in this process. The results are the same either way.
    keep_pixels : bool, optional
        Keep every image's full-size arrays (``blot.data``, ``saturated``, ``mask``, ``marks``)
        in the results. Default: each image keeps only the display-size copy its overlay is
        drawn from (``pixels``), taken as soon as it is measured, so a run of many images holds
        one image's arrays at a time.

    Returns
    -------
    Results
        ``bands`` (one row per quantified lane × target, image coordinates), ``normalized``,
        ``per_sample`` (fold change averaged over membranes per sample), ``summary``, ``stats``,
        per-image results for the overlays, and ``record`` (what goes into run.json).

    Notes
    -----
    With an executor every image's full-size arrays travel back to this process (the display
    copy is taken here); ``blotquant run --jobs N`` (:mod:`blotquant.batch`) draws the overlays
    in the workers instead.
    """
    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()
    tasks = image_tasks(experiment)
    keep = (lambda result: result) if keep_pixels else _overlay_pixels_only
    if executor is None:
        measured = [keep(measure_task(experiment, task)) for task in tasks]
    else:
        futures = [executor.submit(measure_task, experiment, task) for task in tasks]
        measured = []
        try:
            # (the first failing image, in config order, raises); each future is let go once its
            # result is taken, so its full-size arrays are not kept
            while futures:
                measured.append(keep(futures.pop(0).result()))
        finally:
            for f in futures:
                f.cancel()
    return assemble(experiment, measured, started=started, seconds=time.perf_counter() - t0)


def assemble(experiment, measured, *, started=None, seconds=None) -> Results:
    """Tables, statistics and the run record from the measured images of an experiment.

    Parameters
    ----------
    experiment : Experiment
    measured : sequence of TaskResult
        One per task of :func:`image_tasks` (any order).
    started : datetime, optional
        When the run started (UTC; run.json's ``started_utc``). Default: now.
    seconds : float, optional
        Time spent measuring so far; the time taken here is added (run.json's ``seconds``).
    """
    from blotquant.normalize import normalize
    from blotquant.normalize import per_sample as _per_sample

    t0 = time.perf_counter()
    started = started or _dt.datetime.now(_dt.timezone.utc)
    by_entry = {entry: res for tr in measured for entry, res in zip(tr.task.entries, tr.images)}
    images = [by_entry[entry] for entry in sorted(by_entry)]  # config order (blotquant.batch relies on it)
    # strips in the order their image is first used without `region` (keys: file names)
    strip_record = {}
    for tr in sorted((tr for tr in measured if tr.strip_record is not None),
                     key=lambda tr: min(e for e in tr.task.entries
                                        if experiment.membranes[e[0]].images[e[1]].region is None)):
        strip_record[tr.task.file] = tr.strip_record

    band_tables = [_to_image_coords(res.bands, res.blot.origin) for res in images]
    bands = pd.concat(band_tables, ignore_index=True)
    extra = [c for c in bands.columns if c not in BANDS_COLUMNS]
    bands = bands[[c for c in BANDS_COLUMNS if c in bands.columns] + extra]

    normalized, norm_params = normalize(bands, loading_control=experiment.loading_control,
                                        control_group=experiment.control_group)
    per_sample = _per_sample(normalized)
    summary, stats, stats_notes = _group_stats(experiment, per_sample)

    notes = [w for r in images for w in r.choices["warnings"]] + stats_notes
    for rec in bands.itertuples(index=False):
        if bool(rec.saturated):
            notes.append(f"{rec.image}: {rec.target} in lane {rec.lane} ({rec.sample}) is saturated")
        if not bool(rec.found):
            notes.append(f"{rec.image}: {rec.target} in lane {rec.lane} ({rec.sample}): no band detected")
    for rec in normalized.itertuples(index=False):
        if rec.flag:
            notes.append(f"{rec.membrane}/{rec.sample}/{rec.target}: {rec.flag}")

    record = {
        "blotquant": __version__,
        "started_utc": started.isoformat(timespec="seconds"),
        "seconds": round((seconds or 0.0) + time.perf_counter() - t0, 4),
        "versions": _versions(),
        "config_file": str(getattr(experiment, "source", "")),
        "config": experiment.to_dict(),
        "inputs": {**{r.file: r.choices["sha256"] for r in images},
                   **{m["file"]: m["sha256"] for m in (((r.choices.get("molecular_weight") or {})
                                                        .get("marker_picture")) for r in images) if m}},
        "images": [{"membrane": r.membrane, "image": r.file, **r.choices} for r in images],
        "strips": strip_record,
        "normalization": norm_params,
        "statistics": {"unit": "sample (fold change averaged over membranes)",
                       "configured": {"test": experiment.analysis.stats.test,
                                      "posthoc": experiment.analysis.stats.posthoc,
                                      "alpha": experiment.analysis.stats.alpha}},
        "flags": notes,
    }
    return Results(bands, normalized, per_sample, summary, stats, images, jsonable(record), notes)


def write_results(results: Results, out_dir, *, force=False, experiment_name="blotquant", argv=None,
                  figures=None):
    """Write every output file into ``out_dir`` atomically.

    The files (rendered by :func:`blotquant.report.outputs.render_outputs`, which lists them) are
    written into a temporary folder beside ``out_dir`` and moved into place only when all are
    written; an existing ``out_dir`` is refused unless ``force``, before any work is done.
    ``figures`` ({file name: bytes}, optional) are figure files already rendered from
    :func:`blotquant.report.outputs.figure_calls`, e.g. on worker processes.
    """
    from blotquant.io import atomic_output_dir
    from blotquant.report.outputs import render_outputs

    out_dir = Path(out_dir)
    try:
        with atomic_output_dir(out_dir, force=force) as tmp:
            for name, content in render_outputs(results, experiment_name=experiment_name, argv=argv,
                                                figures=figures):
                (Path(tmp) / name).write_bytes(content)
    except OSError as exc:  # a full disk, a permission taken away meanwhile: nothing was written
        where = f" ({exc.filename})" if exc.filename else ""
        raise BlotquantError(f"cannot write the results folder {out_dir}: {exc.strerror or exc}{where}; "
                             "free disk space or fix the permissions and run again, or choose another --out"
                             ) from exc
    return out_dir
