"""Band volumes of blotquant against the lab's own AlphaEase boxes on the ZDF rat-heart blots.

Run from the repository root::

    python benchmarks/zdf_real.py [--json PATH] [--render DIR] [--render-all]

Needs ../shared/data/real (prints "no real blots at ..." and exits 0 without it).

What it does
------------
1. Runs blotquant as ``blotquant run tests/real_configs/zdf-rat-heart-adrenoceptors.yaml`` does
   (the config's images, regions and row windows, lanes found automatically), in-process, writing
   the results into a temporary folder, and reads bands.csv back: per membrane (strip) and lane the
   target volume, the GAPDH volume and their ratio.
2. For every sample lane with a lab ``rect`` in ../shared/data/real/annotations (the AlphaEase
   [SpotDenso] boxes of the lab's .stp files), on the target image and on its GAPDH image, the box
   volume by two background rules (AlphaEase's own rule is unknown):
     box-border: sum of raw counts in the rect - median of the rect's 1-px border x its pixel count;
     box-none:   raw sum in the rect, no background subtraction.
   The lab's ratio is target box / GAPDH box of the same sample: the k-th sample lane of the strip
   in the target image and the k-th in the GAPDH image (the pairing of target strip and GAPDH strip
   is the config's membrane; the annotation strip is the one whose box matches the config region).
   Only July4 B1AR (top, bottom) and Oct10 B1AR have rects on both images; May30 B1AR and April22
   B2AR have rects on the target image only, so for them target volumes alone are compared.
3. Prints a table per strip: blotquant ratio, box-border ratio, box-none ratio, each also relative to
   the strip's median (over the compared lanes), the difference of blotquant's relative ratio from
   box-border's in % ("bq-bord %", the number the > 20 % list uses) and "paired %" (the lane's
   blotquant/box-border quotient over the strip's median quotient: the same comparison without the
   dependence on which lane is each method's median); then a summary (lanes compared, median and p95
   |difference|, the lanes > 20 % with their causes and diagnostics).
4. For every lane > 20 % the cause from CAUSES (short form in the table, in full in the summary).

How the causes were established
-------------------------------
Per lane > 20 % three diagnostics are printed, all computed at run time:
  border rule     - the rect with blotquant's background level per pixel (box-bqbg) against box-border:
                    what box-border's background rule alone does to this lane, relative to the strip;
  counted pixels  - blotquant's volume against box-bqbg: blotquant's rows, columns and neighbour
                    removal against the rect's pixels, at the same background level;
  removes         - the share of the rect's signal (above blotquant's background) that box-border
                    subtracts because the rect's border median lies above that level, per image, with
                    the strip's median share.
Then ``--render DIR`` drew each lane: for the target and the GAPDH image a contrast-stretched crop with
the lab rect (red), blotquant's counted rows x lane edges (cyan, band_top/band_bottom/x_left/x_right of
bands.csv), the config's row window (yellow), and the row profiles over the rect's and blotquant's
columns with the rect's border median and blotquant's background per pixel. The cause says which image
moves the ratio and why, read from those pictures (where the rect's border lies: on the band's flanks,
on merged neighbour lanes, on a tilted band, off the strip's end; whether the rect leaves band out;
where blotquant's background lies against the membrane level beside the band). Checked against the one
strip where the rects are generous (Oct10: box-border removes < 10 % of every rect's signal), where no
lane differs by more than 20 %. The cause strings are the only hand-written part: every number is
computed at run time, so a changed pipeline changes the table (and a lane may leave or join the > 20 %
list; one without a hand-written cause prints a computed "(auto)" hint: which of the two effects
dominates - render it to write a cause).
A fourth diagnostic is blotquant's own: its background per pixel against the membrane level 3-12 rows
outside its counted rows (in its lane columns), times its pixel count, as a share of its volume; when
that share is off the strip's median by more than 10 points in either image a "(computed) also
blotquant" line follows the cause (this is invisible to "counted pixels", which uses blotquant's level).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's blotquant, not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _zdf_lab as L  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "real"
SET = "zdf-rat-heart-adrenoceptors"
CONFIG = ROOT / "tests" / "real_configs" / f"{SET}.yaml"
ANNOTATION = REAL / "annotations" / f"{SET}.yaml"
LIMIT = 20.0  # % difference of relative ratios worth explaining

# (target image, annotation strip of the target image, k = sample lane of the strip, 1-based) -> cause.
# Hand-written from the renders and diagnostics (see the docstring); they describe the lab rects and
# the images, so they stay true while blotquant's numbers move; a lane only prints its cause when it
# is over LIMIT in the current run.
_J4 = "B1AR/July4/July4_B1AR_10wtop_16wbottom.tif"
_M30 = "B1AR/May_30/May30.2013_B1AR_10wtop_16wbottom.tif"
CAUSES: dict[tuple[str, str, int], str] = {
    (_J4, "top (10-week)", 1):
        "box-border rule: first lane of the strip, its GAPDH rect's left edge lies off the band (no lane to "
        "its left), so its border is near the membrane level while the other GAPDH rects' sides sit on the "
        "merged neighbouring bands; its 22-row target rect has top/bottom rows on the band's flanks",
    (_J4, "top (10-week)", 2):
        "lab box cuts the band: the strip's smallest target rect (42 x 19 px) has its top/bottom rows on the "
        "band's flanks and its sides on the merged neighbour lanes (border median ~4x the membrane level), "
        "so box-border subtracts about half the band, and the 19 rows leave the band's tails out",
    (_J4, "top (10-week)", 5):
        "box-border rule: the GAPDH rect (33 rows) has its sides on the GAPDH band that runs on into both "
        "neighbour lanes and its top/bottom rows on the band's flanks (border median ~2.4x the membrane "
        "level): box-border over-subtracts GAPDH",
    (_J4, "top (10-week)", 8):
        "box-border rule on a tilted band: GAPDH drops ~6 px across the lane, the 30-row GAPDH rect's "
        "top-left and bottom-right corners lie on the band and its sides on the merged neighbours (the "
        "strip's highest GAPDH border median): box-border over-subtracts GAPDH; the 37-row target rect barely",
    (_J4, "top (10-week)", 9):
        "box-border rule, unequal rects: a tall target rect (37 rows, border near the membrane level) but a "
        "29-row GAPDH rect on the tilted band with its sides on the merged neighbours (border ~2x the "
        "membrane level): box-border over-subtracts GAPDH only",
    (_J4, "bottom (16-week)", 6):
        "box-border rule, no single artefact: the target rect's top/bottom rows lie on the tails of a bright "
        "band (target loses more than the strip's usual share), its GAPDH rect a little less than usual; "
        "blotquant's counted pixels agree with the rects (see 'counted pixels')",
    (_J4, "bottom (16-week)", 7):
        "lab box cuts the band: the target rect is 28 rows (the strip's others 35-36) and ends on the band's "
        "lower tail, so its border median sits on the band and the tail below row 426 is left out; its GAPDH "
        "rect is the strip's tallest (44 rows), border nearest the membrane level, so GAPDH loses least",
    (_J4, "bottom (16-week)", 8):
        "box-border rule on a faint band: one of the strip's two faintest B1AR bands, its rect's top and "
        "bottom rows on the band's tails like every rect of this strip, so the same border excess is a "
        "larger share of this band (box-border loses more than the strip's usual share)",
    (_J4, "bottom (16-week)", 9):
        "box-border rule at the strip end: the last GAPDH rect's right side reaches the end of the GAPDH "
        "smear, so its border is lower than the other lanes' (their sides lie on the continuous smear) and "
        "GAPDH loses less than usual, while the faint B1AR band (one of the two faintest) loses more",
    (_M30, "top (10-week)", 7):
        "blotquant's background above the box border: uneven membrane background (dips just above and below "
        "the band, ~300 counts higher 40-60 rows away); blotquant's background follows the higher level, the "
        "rect's border lies in the dips; a weak band on a high background (net ~1/4 of the raw box sum)",
}


def _run_blotquant():
    """``blotquant run CONFIG --out TMP`` in-process; returns (experiment, bands.csv, notes, seconds)."""
    from blotquant.config import load_config
    from blotquant.pipeline import run, write_results

    experiment = load_config(CONFIG)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run(experiment)
        with tempfile.TemporaryDirectory(prefix="zdf_real_") as tmp:
            out = Path(tmp) / "results"
            write_results(results, out, experiment_name=experiment.experiment,
                          argv=["blotquant", "run", str(CONFIG), "--out", str(out)])
            bands = pd.read_csv(out / "bands.csv")
    return experiment, bands, list(results.notes), time.perf_counter() - t0


def _bq_row(bands, membrane, spec, target, lane_no):
    sel = bands[(bands["membrane"] == membrane) & (bands["image"] == spec.file) & (bands["target"] == target)
                & (bands["lane"] == lane_no)]
    return None if sel.empty else sel.iloc[0].to_dict()


def collect(experiment, bands, annotation):
    """One dict per config sample lane of every membrane whose target image is annotated."""
    lc = experiment.loading_control
    counts_cache = {}

    def counts(file):
        if file not in counts_cache:
            counts_cache[file] = L.read_counts(Path(experiment.images_dir) / file)
        return counts_cache[file]

    lanes = []
    for membrane in experiment.membranes:
        specs = {t: spec for spec in membrane.images for t in spec.targets}
        targets = [t for t in specs if t != lc]
        if lc not in specs or len(targets) != 1:
            continue
        target = targets[0]
        t_spec, g_spec = specs[target], specs[lc]
        t_strip = L.annotated_strip(annotation, t_spec.file, t_spec.region)
        if t_strip is None:
            continue
        g_strip = L.annotated_strip(annotation, g_spec.file, g_spec.region)
        t_ann = L.sample_rects(t_strip)
        g_ann = L.sample_rects(g_strip) if g_strip is not None else []
        numbers = L.sample_lane_numbers(list(membrane.lanes))
        for k, lane_no in enumerate(numbers, start=1):
            rec = {"membrane": membrane.name, "target": target, "image": t_spec.file, "gapdh_image": g_spec.file,
                   "strip": t_strip["name"], "gapdh_strip": g_strip["name"] if g_strip else None,
                   "k": k, "lane": lane_no, "sample": membrane.lanes[lane_no - 1],
                   "window": list(t_spec.targets[target].rows or []),
                   "gapdh_window": list(g_spec.targets[lc].rows or [])}
            for key, spec, tgt, ann in (("t", t_spec, target, t_ann), ("g", g_spec, lc, g_ann)):
                row = _bq_row(bands, membrane.name, spec, tgt, lane_no)
                rec[f"bq_{key}"] = None if row is None else {
                    c: (None if isinstance(row[c], float) and math.isnan(row[c]) else row[c])
                    for c in ("volume", "background", "n_pixels", "band_row", "band_top", "band_bottom",
                              "x_left", "x_right", "lane_x", "saturated", "found", "note")}
                rect, source = (ann[k - 1][2], ann[k - 1][3]) if k <= len(ann) else (None, None)
                rec[f"rect_{key}"], rec[f"source_{key}"] = rect, source
                rec[f"box_{key}"] = L.box_volumes(counts(spec.file), rect) if rect else None
                rec[f"checks_{key}"] = (L.lane_checks(counts(spec.file), rect, row)
                                        if rect and row is not None and row["n_pixels"] else None)
                if rect and row is not None:  # the paired lanes must be the same column
                    rec[f"lane_in_rect_{key}"] = bool(rect[0] <= row["lane_x"] <= rect[2])
            lanes.append(rec)
    return lanes, counts


def _ratio(num, den):
    return num / den if (num is not None and den not in (None, 0)) else np.nan


def add_ratios(lanes):
    """Ratios, relative values (per membrane, over the lanes every method has) and differences."""
    for rec in lanes:
        bt, bg = rec["bq_t"], rec["bq_g"]
        rec["bq_target"] = bt["volume"] if bt else np.nan
        rec["bq_gapdh"] = bg["volume"] if bg else np.nan
        rec["bq_ratio"] = _ratio(rec["bq_target"], rec["bq_gapdh"])
        for key, bq in (("t", bt), ("g", bg)):
            box = rec[f"box_{key}"]
            if box is not None and bq is not None and bq["n_pixels"]:
                # diagnostic, not a lab variant: the rect's pixels with blotquant's background level
                box["bq_bg_per_px"] = bq["background"] / bq["n_pixels"]
                box["box-bqbg"] = box["box-none"] - box["bq_bg_per_px"] * box["n_pixels"]
        for m in ("box-border", "box-none", "box-bqbg"):
            rec[f"{m}_target"] = rec["box_t"].get(m, np.nan) if rec["box_t"] else np.nan
            rec[f"{m}_gapdh"] = rec["box_g"].get(m, np.nan) if rec["box_g"] else np.nan
            rec[f"{m}_ratio"] = _ratio(rec[f"{m}_target"], rec[f"{m}_gapdh"])
    for membrane in dict.fromkeys(r["membrane"] for r in lanes):
        sub = [r for r in lanes if r["membrane"] == membrane]
        ratio_mode = any(np.isfinite(r["box-border_ratio"]) for r in sub)
        quantity = "ratio" if ratio_mode else "target"
        cols = [f"bq_{quantity}", f"box-border_{quantity}", f"box-none_{quantity}"]
        ok = [all(np.isfinite(r[c]) for c in cols) for r in sub]
        extra = [f"box-bqbg_{quantity}"]
        for c in cols + extra:
            vals = np.array([r[c] if o else np.nan for r, o in zip(sub, ok)], dtype=float)
            for r, v in zip(sub, L.rel(vals)):
                r[f"{c}_rel"] = float(v)
        # Where a difference comes from (diagnostics, printed beside the lanes > LIMIT):
        #   paired = (bq / box-border) of the lane over the strip's median of that quotient: unlike
        #            diff_pct it does not depend on which lane is each method's median;
        #   rule   = (box-bqbg / box-border) over its strip median: what box-border's background rule
        #            alone does to the lane (box-bqbg = the same rect with blotquant's background level);
        #   extent = (bq / box-bqbg) over its strip median: blotquant's counted pixels (rows, columns,
        #            neighbour removal) against the rect's, with the same background level;
        #   paired ~= (1 + rule) (1 + extent) - 1.
        #   loss_t / loss_g = share of the rect's signal above blotquant's background that box-border
        #            subtracts because the rect's border median is above that level.
        def quotient(num, den):
            v = np.array([r[f"{num}_{quantity}"] / r[f"{den}_{quantity}"] if o else np.nan
                          for r, o in zip(sub, ok)], dtype=float)
            return L.rel(v)

        paired, rule, extent = quotient("bq", "box-border"), quotient("box-bqbg", "box-border"), \
            quotient("bq", "box-bqbg")
        for i, r in enumerate(sub):
            r["compared"] = quantity
            r["diff_pct"] = 100.0 * (r[f"bq_{quantity}_rel"] / r[f"box-border_{quantity}_rel"] - 1.0)
            r["diff_none_pct"] = 100.0 * (r[f"bq_{quantity}_rel"] / r[f"box-none_{quantity}_rel"] - 1.0)
            r["border_vs_none_pct"] = 100.0 * (r[f"box-border_{quantity}_rel"] / r[f"box-none_{quantity}_rel"] - 1.0)
            r["paired_pct"] = 100.0 * (paired[i] - 1.0)
            r["rule_pct"] = 100.0 * (rule[i] - 1.0)
            r["extent_pct"] = 100.0 * (extent[i] - 1.0)
            for key in ("t", "g"):
                box = r[f"box_{key}"]
                r[f"loss_{key}_pct"] = (100.0 * (1.0 - box["box-border"] / box["box-bqbg"])
                                        if box and box.get("box-bqbg") else np.nan)
        for r in sub:  # blotquant's side: its background against the membrane level beside its rows
            for key in ("t", "g"):
                c, bq = r.get(f"checks_{key}"), r[f"bq_{key}"]
                r[f"bgfx_{key}_pct"] = (100.0 * (c["level_beside"] - c["bq_bg_per_px"]) * bq["n_pixels"] / bq["volume"]
                                        if c and bq and bq["volume"] else np.nan)
        for key in ("t", "g"):
            for name in ("loss", "bgfx"):
                vals = [r[f"{name}_{key}_pct"] for r, o in zip(sub, ok) if o and np.isfinite(r[f"{name}_{key}_pct"])]
                for r in sub:
                    r[f"{name}_{key}_strip_median_pct"] = float(np.median(vals)) if vals else np.nan
    return lanes


def auto_hint(r):
    """A computed hint for a lane > LIMIT without a hand-written cause: which side dominates."""
    if abs(r["rule_pct"]) >= abs(r["extent_pct"]):
        parts = [f"{what} {r[f'loss_{k}_pct']:.0f} % (strip median {r[f'loss_{k}_strip_median_pct']:.0f} %)"
                 for k, what in (("t", r["target"]), ("g", "GAPDH")) if np.isfinite(r[f"loss_{k}_pct"])]
        return "(auto) box-border rule dominates: its border median removes " + ", ".join(parts)
    return "(auto) blotquant's counted pixels dominate (rows, columns, neighbour removal): render it"


def bq_side(r, only_odd=False, tol=10.0):
    """blotquant's background against the membrane level just outside its counted rows, as a share of
    its volume per image (with the strip median); ``only_odd``: only images off the median by > tol."""
    parts = []
    for k, what in (("t", r["target"]), ("g", "GAPDH")):
        v, med = r.get(f"bgfx_{k}_pct", np.nan), r.get(f"bgfx_{k}_strip_median_pct", np.nan)
        if not np.isfinite(v) or (only_odd and not abs(v - med) > tol):
            continue
        c, bq = r[f"checks_{k}"], r[f"bq_{k}"]
        text = f"{what} {v:+.0f} % of its volume (strip median {med:+.0f} %)"
        if only_odd:
            text += (f": background {c['bq_bg_per_px']:.0f}/px vs membrane {c['level_beside']:.0f} beside its "
                     f"rows {bq['band_top']:.0f}-{bq['band_bottom']:.0f}")
        parts.append(text)
    return "; ".join(parts)


def cause_of(r):
    return CAUSES.get(_key(r)) or auto_hint(r)


def _f(v, fmt="8.3f"):
    return format(v, fmt) if v is not None and np.isfinite(v) else " " * (int(fmt.split(".")[0]) - 1) + "-"


def _key(r):
    return (r["image"], r["strip"], r["k"])


def print_tables(lanes):
    for membrane in dict.fromkeys(r["membrane"] for r in lanes):
        sub = [r for r in lanes if r["membrane"] == membrane]
        q = sub[0]["compared"]
        r0 = sub[0]
        what = ("target / GAPDH ratio" if q == "ratio"
                else "target volume only (no lab rects on the GAPDH image)")
        print(f"\n{membrane}: {r0['target']} {r0['image']} [{r0['strip']}] / GAPDH {r0['gapdh_image']} "
              f"[{r0['gapdh_strip'] or 'not annotated'}] - {what}")
        head = (f"{'k':>2s} {'lane':>4s} {'stp t/g':>7s} {'bq':>8s} {'border':>8s} {'none':>8s} | "
                f"{'bq rel':>6s} {'bord rel':>8s} {'none rel':>8s} {'bq-bord %':>9s} {'paired %':>8s}  note")
        print(head)
        print("-" * len(head))
        for r in sub:
            if r["rect_t"] is None:
                continue
            scale = 1e-6 if q == "target" else 1.0
            src = f"{(r['source_t'] or '-').split()[-1]}/{(r['source_g'] or '-').split()[-1]}"
            note = []
            if abs(r["diff_pct"]) > LIMIT:
                note.append(CAUSES[_key(r)].split(":")[0] if _key(r) in CAUSES else "(auto) see summary")
            for key, what in (("t", "target"), ("g", "GAPDH")):
                if r.get(f"lane_in_rect_{key}") is False:
                    note.append(f"blotquant {what} lane centre {r[f'bq_{key}']['lane_x']:.0f} outside the rect")
            print(f"{r['k']:2d} {r['lane']:4d} {src:>7s} {_f(r[f'bq_{q}'] * scale)} "
                  f"{_f(r[f'box-border_{q}'] * scale)} {_f(r[f'box-none_{q}'] * scale)} | "
                  f"{_f(r[f'bq_{q}_rel'], '6.2f')} {_f(r[f'box-border_{q}_rel'], '8.2f')} "
                  f"{_f(r[f'box-none_{q}_rel'], '8.2f')} {_f(r['diff_pct'], '+9.1f')} {_f(r['paired_pct'], '+8.1f')}  "
                  f"{'; '.join(note)}")
        if q == "target":
            print("   (volumes in 1e6 counts x px)")


def print_summary(lanes):
    for q, title in (("ratio", "target/GAPDH ratios (lab boxes on both images)"),
                     ("target", "target volumes only (GAPDH image without lab boxes)")):
        sub = [r for r in lanes if r["compared"] == q and np.isfinite(r["diff_pct"])]
        if not sub:
            continue
        print(f"\nsummary, {title}: {len(sub)} lanes on {len({r['membrane'] for r in sub})} strips")
        for col, name in (("diff_pct", "blotquant vs box-border"), ("diff_none_pct", "blotquant vs box-none"),
                          ("border_vs_none_pct", "box-border vs box-none"),
                          ("paired_pct", "bq vs box-border, paired")):
            d = np.abs([r[col] for r in sub])
            print(f"  |relative difference| {name:24s}: median {np.median(d):5.1f} %, p95 {np.percentile(d, 95):5.1f} %,"
                  f" > {LIMIT:.0f} %: {int((d > LIMIT).sum())}")
        big = [r for r in sub if abs(r["diff_pct"]) > LIMIT]
        print(f"  lanes where blotquant and box-border differ by more than {LIMIT:.0f} %: {len(big)}")
        for r in big:
            print(f"    {r['membrane']} k={r['k']} (lane {r['lane']}, {r['source_t']}): {r['diff_pct']:+.1f} %  "
                  f"{cause_of(r)}")
            losses = [f"{what} {r[f'loss_{key}_pct']:.0f} % (strip median {r[f'loss_{key}_strip_median_pct']:.0f} %)"
                      for key, what in (("t", r["target"]), ("g", "GAPDH")) if np.isfinite(r[f"loss_{key}_pct"])]
            print(f"        paired {r['paired_pct']:+.0f} % = border rule {r['rule_pct']:+.0f} % x counted pixels "
                  f"{r['extent_pct']:+.0f} %; box-border removes of the rect's signal: {', '.join(losses)}")
            print(f"        blotquant's background below the membrane level beside its rows adds: {bq_side(r)}")
            odd = bq_side(r, only_odd=True)
            if odd:
                print(f"        (computed) also blotquant: {odd}")


def render(lanes, counts, out_dir, everything=False):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for r in lanes:
        if r["rect_t"] is None or not np.isfinite(r["diff_pct"]):
            continue
        if not everything and abs(r["diff_pct"]) <= LIMIT:
            continue
        panels = []
        for key, file, window, what in (("t", r["image"], r["window"], r["target"]),
                                        ("g", r["gapdh_image"], r["gapdh_window"], "GAPDH")):
            if r[f"rect_{key}"] is None or r[f"bq_{key}"] is None:
                continue
            bq, box = r[f"bq_{key}"], r[f"box_{key}"]
            panels.append({
                "counts": counts(file), "rect": r[f"rect_{key}"], "bq": bq, "window": window,
                "border_median": box["border_median"],
                "label": (f"{what} {Path(file).name} k={r['k']} ({r[f'source_{key}']})\nbq {bq['volume']:.3g} "
                          f"bg/px {bq['background'] / max(bq['n_pixels'], 1):.0f}, border {box['box-border']:.3g} "
                          f"(median {box['border_median']:.0f}), none {box['box-none']:.3g}")})
        png = out_dir / f"{r['membrane']}_k{r['k']}.png"
        q = r["compared"]
        L.render_lane(png, panels, f"{r['membrane']} k={r['k']} lane {r['lane']}: {q} rel bq "
                      f"{r[f'bq_{q}_rel']:.2f} / box-border {r[f'box-border_{q}_rel']:.2f} / box-none "
                      f"{r[f'box-none_{q}_rel']:.2f}  ({r['diff_pct']:+.1f} %)")
        written.append(png)
    return written


def _jsonable(v):
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write per-lane numbers to this JSON file")
    ap.add_argument("--render", metavar="DIR", help="write diagnostic PNGs of the lanes > 20 % into DIR")
    ap.add_argument("--render-all", action="store_true", help="with --render: every compared lane")
    args = ap.parse_args(argv)
    if not REAL.is_dir():
        print(f"no real blots at {REAL}")
        return 0
    from blotquant.errors import BlotquantError

    try:
        experiment, bands, notes, seconds = _run_blotquant()
    except BlotquantError as exc:
        print(f"blotquant run failed on {CONFIG.name}: {type(exc).__name__}: {exc}")
        return 1
    print(f"blotquant run {CONFIG.relative_to(ROOT)}: {len(bands)} bands in {seconds:.1f} s, "
          f"{len(notes)} flags")
    lanes, counts = collect(experiment, bands, L.load_annotation(ANNOTATION))
    add_ratios(lanes)
    for r in lanes:
        r["cause"] = cause_of(r) if np.isfinite(r["diff_pct"]) and abs(r["diff_pct"]) > LIMIT else None
    print_tables(lanes)
    print_summary(lanes)
    if args.render:
        for png in render(lanes, counts, args.render, everything=args.render_all):
            print(f"rendered {png}")
    if args.json:
        Path(args.json).write_text(json.dumps(_jsonable(lanes), indent=1) + "\n", encoding="utf-8")
        print(f"per-lane numbers -> {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
