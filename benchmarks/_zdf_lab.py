"""Helpers of benchmarks/zdf_real.py: the lab's AlphaEase boxes of the ZDF blots, their volumes,
the pairing of annotated lanes with the config's lanes, and the diagnostic crops.

Nothing here imports blotquant: the boxes are summed on the raw file counts (tifffile), so the
reference does not depend on the code under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
import yaml

NOT_QUANTIFIED = ("ladder", "-")  # lane labels of blotquant configs that are not samples


def read_counts(path):
    """Raw stored counts of a greyscale TIFF as float64 (no rescale, no inversion)."""
    data = np.asarray(tifffile.imread(str(path)))
    if data.ndim != 2:
        raise ValueError(f"{path}: expected a greyscale image, got shape {data.shape}")
    return data.astype(np.float64)


def box_volumes(counts, rect):
    """``{"box-border": ..., "box-none": ..., ...}`` for an inclusive rect [x1, y1, x2, y2].

    box-none   : sum of the raw counts in the rect.
    box-border : that sum minus median(rect's 1-px border pixels) × rect pixel count.
    """
    x1, y1, x2, y2 = (int(v) for v in rect)
    box = counts[y1:y2 + 1, x1:x2 + 1]
    ring = np.concatenate([box[0, :], box[-1, :], box[1:-1, 0], box[1:-1, -1]])
    bg = float(np.median(ring))
    raw = float(box.sum())
    return {"box-none": raw, "box-border": raw - bg * box.size, "border_median": bg,
            "n_pixels": int(box.size), "box_max": float(box.max())}


def load_annotation(path):
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def _iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def annotated_strip(annotation, file, region):
    """The annotation strip of ``file`` whose box best overlaps the config ``region``, or None."""
    for entry in annotation["images"]:
        if entry["path"] != file:
            continue
        strips = entry.get("strips") or []
        if region is None:
            return strips[0] if len(strips) == 1 else None
        best = max(strips, key=lambda s: _iou(s["box"], region), default=None)
        return best if best is not None and _iou(best["box"], region) > 0.5 else None
    return None


def sample_rects(strip):
    """The strip's sample lanes in order: ``[(k, lane entry, rect or None, source or None)]``, k 1-based."""
    out = []
    for lane in strip["lanes"]:
        if lane.get("kind") != "sample":
            continue
        main = (lane.get("bands") or {}).get("main") or {}
        out.append((len(out) + 1, lane, main.get("rect"), main.get("source")))
    return out


def sample_lane_numbers(labels):
    """Membrane lane numbers (1-based, as in bands.csv) of the config's sample lanes, in order."""
    return [i + 1 for i, lab in enumerate(labels) if lab not in NOT_QUANTIFIED]


def rel(values):
    """Values divided by their median over the finite entries."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    med = np.median(v[ok]) if ok.any() else np.nan
    return v / med


# ----------------------------------------------------------------------------- diagnostics


def row_profile(counts, x_left, x_right, top, bottom):
    """Mean count per row over columns [x_left, x_right] (inclusive), rows top..bottom."""
    xl, xr = int(np.floor(x_left)), int(np.ceil(x_right))
    return np.arange(top, bottom + 1), counts[top:bottom + 1, xl:xr + 1].mean(axis=1)


def render_lane(png, panels, title):
    """One PNG per lane: for each panel (target, GAPDH) a contrast-stretched crop with the lab
    rect (red) and blotquant's counted rows × lane edges (cyan) and window (yellow, dashed), and
    beside it the row profile over the rect's columns with the same rows marked.

    ``panels``: list of dicts with counts, rect, bq (dict of band_top, band_bottom, x_left, x_right,
    band_row, background, n_pixels), window (top, bottom), label.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(len(panels), 2, figsize=(11, 4.2 * len(panels)), squeeze=False,
                             gridspec_kw={"width_ratios": [1.3, 1]})
    for (ax_img, ax_prof), p in zip(axes, panels):
        counts, rect, bq, win = p["counts"], p["rect"], p["bq"], p["window"]
        x1, y1, x2, y2 = rect
        top = int(max(0, min(y1, win[0], bq["band_top"]) - 40))
        bottom = int(min(counts.shape[0] - 1, max(y2, win[1], bq["band_bottom"]) + 40))
        left = int(max(0, min(x1, bq["x_left"]) - 60))
        right = int(min(counts.shape[1] - 1, max(x2, bq["x_right"]) + 60))
        crop = counts[top:bottom + 1, left:right + 1]
        lo, hi = np.percentile(crop, [1, 99.7])
        ax_img.imshow(crop, cmap="gray", vmin=lo, vmax=hi, extent=(left - .5, right + .5, bottom + .5, top - .5))
        ax_img.add_patch(Rectangle((x1 - .5, y1 - .5), x2 - x1 + 1, y2 - y1 + 1, fill=False, ec="red", lw=1.2,
                                   label="lab rect"))
        ax_img.add_patch(Rectangle((bq["x_left"], bq["band_top"] - .5), bq["x_right"] - bq["x_left"],
                                   bq["band_bottom"] - bq["band_top"] + 1, fill=False, ec="cyan", lw=1.2,
                                   label="blotquant rows"))
        for y in win:
            ax_img.axhline(y, color="yellow", ls="--", lw=.8)
        ax_img.set_title(f"{p['label']}, max in rect {counts[y1:y2 + 1, x1:x2 + 1].max():.0f}", fontsize=8)
        ax_img.legend(loc="lower right", fontsize=7)
        rows, prof = row_profile(counts, x1, x2, top, bottom)
        ax_prof.plot(prof, rows, color="k", lw=1, label="mean over rect cols")
        _, prof_bq = row_profile(counts, bq["x_left"], bq["x_right"], top, bottom)
        ax_prof.plot(prof_bq, rows, color="c", lw=.8, label="mean over bq cols")
        ax_prof.axhspan(y1 - .5, y2 + .5, color="red", alpha=.12)
        ax_prof.axhline(bq["band_top"], color="c", lw=1)
        ax_prof.axhline(bq["band_bottom"], color="c", lw=1)
        ax_prof.axvline(p["border_median"], color="red", ls=":", lw=1, label="rect border median")
        ax_prof.axvline(bq["background"] / max(bq["n_pixels"], 1), color="c", ls=":", lw=1,
                        label="bq mean background / px")
        ax_prof.invert_yaxis()
        ax_prof.set_ylim(bottom, top)
        ax_prof.legend(fontsize=7)
        ax_prof.set_title("row profile", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)


def lane_checks(counts, rect, bq):
    """Pixel facts of one lane, independent of the background rules compared.

    level_beside  : median of the pixels in blotquant's lane columns within 3-12 rows outside its
                    counted rows (above and below): the membrane level next to what it counted;
    bq_bg_per_px  : blotquant's background per counted pixel.
    """
    h, w = counts.shape
    xl, xr = max(0, int(np.floor(bq["x_left"]))), min(w - 1, int(np.ceil(bq["x_right"])))
    top, bottom = int(bq["band_top"]), int(bq["band_bottom"])
    above = counts[max(0, top - 12):max(0, top - 2), xl:xr + 1]
    below = counts[min(h, bottom + 3):min(h, bottom + 13), xl:xr + 1]
    level = float(np.median(np.concatenate([above.ravel(), below.ravel()]))) if above.size + below.size else np.nan
    return {"level_beside": level, "bq_bg_per_px": bq["background"] / max(bq["n_pixels"], 1)}
