"""Finding membrane strips in an image that may hold several of them.

A gel imager often photographs several membranes (or strips cut from one membrane) in one
exposure: two membranes side by side on the tray, or four strips laid edge to edge. The
pipeline quantifies each membrane on its own, so it needs each one's box. :func:`find_strips`
returns them top to bottom; a ``region`` in the config stays the manual override.

What separates strips in these images:

* **Intensity against the tray.** A chemiluminescent membrane glows a little above the dark
  imager tray; a white-light merge shows a light membrane on a dark surround. Either way the
  membrane differs from what lies along the image border, in one direction or the other.
* **Cut lines.** Strips laid edge to edge are separated by a thin line that is darker than the
  membrane on both sides, right across the strip, including the inter-lane gaps where there is
  no band to explain it.

Handwriting, typed labels and ink on film scans are thin strokes or uniform patches without
band texture; they never form a strip on their own.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from blotquant._util import merge_options
from blotquant.errors import LayoutError

__all__ = ["Strip", "find_strips"]

logger = logging.getLogger("blotquant")

_DEFAULTS = {
    "max_side": 400,          # detection works on a block-mean copy no larger than this
    "min_area": 0.04,         # a membrane covers at least this fraction of the image content
    "min_fill": 0.55,         # ... and fills at least this fraction of its bounding box
    "min_height": 30,         # a strip is at least this many rows tall (full-resolution pixels)
    "cut_depth": 0.35,        # a cut line dips this fraction of the membrane's contrast
    "fill_image": 0.85,       # a membrane covering more than this fraction is the whole image
    "max_outside": 0.25,      # more band evidence than this fraction outside the strips: one membrane
    "faint_over_border": 1.25,  # a fainter membrane level: at least this x the border's spread
    "cut_alike": 0.75,        # beside a cut reaching cut_depth, a line this fraction as strong
    "lane_continues": 0.6,    # lane stripes past a box edge correlating this well: it goes on
}


@dataclass(frozen=True)
class Strip:
    """One membrane strip found in an image.

    Attributes
    ----------
    box : tuple of int
        ``(x0, y0, x1, y1)`` in the image's pixel coordinates, end-exclusive (``data[y0:y1,
        x0:x1]`` is the strip), the same convention as a config ``region``.
    score : float
        Evidence for the strip: the membrane's median contrast against the image border in units
        of the detection threshold (0 for a strip that is simply the whole image).
    """

    box: tuple[int, int, int, int]
    score: float

    @property
    def shape(self):
        """``(rows, cols)`` of the strip's box."""
        x0, y0, x1, y1 = self.box
        return (y1 - y0, x1 - x0)


def _validate(image, n_strips, mask, method_kwargs):
    data = getattr(image, "data", image)
    if mask is None:
        mask = getattr(image, "mask", None)
    arr = np.asarray(data)
    if arr.ndim != 2 or min(arr.shape) < 8:
        raise LayoutError(f"`image` must be a 2-D array at least 8 x 8 pixels; got shape "
                          f"{arr.shape}. Pass BlotImage.data (grey, bands bright).")
    if n_strips is not None:
        if isinstance(n_strips, bool) or not isinstance(n_strips, (int, np.integer)) \
                or n_strips < 1:
            raise LayoutError(f"`n_strips` must be a positive integer or None; got {n_strips!r}.")
        n_strips = int(n_strips)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != arr.shape:
            raise LayoutError(f"`mask` must have the image's shape {arr.shape}; got {mask.shape}.")
    return arr, n_strips, mask, merge_options(_DEFAULTS, method_kwargs, where="find_strips")


def _block_mean(arr, valid, k):
    """Block means of the valid pixels (k x k blocks; a partial last block is averaged too)."""
    rows, cols = arr.shape
    pr, pc = (-rows) % k, (-cols) % k
    a = np.where(valid, arr, 0.0)
    a = np.pad(a, ((0, pr), (0, pc)))
    w = np.pad(valid.astype(float), ((0, pr), (0, pc)))
    shape = (a.shape[0] // k, k, a.shape[1] // k, k)
    s = a.reshape(shape).sum(axis=(1, 3))
    n = w.reshape(shape).sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / n
    full = k * k - (np.pad(np.zeros((rows, cols)), ((0, pr), (0, pc)), constant_values=1)
                    .reshape(shape).sum(axis=(1, 3)))
    return mean, n >= 0.5 * full


def _otsu(values):
    hist, edges = np.histogram(values, bins=256)
    centres = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m = np.cumsum(hist * centres)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu0 = m / w0
        mu1 = (m[-1] - m) / w1
        between = w0 * w1 * (mu0 - mu1) ** 2
    return float(centres[np.nanargmax(np.where(np.isfinite(between), between, -1))])


def _cuts(arr, valid, box, bg, depth, min_h, *, floor=0.0, n_blocks=6):
    """Candidate cut rows inside one membrane box, as (row, strength) pairs, strongest first.

    Works at full resolution (cut lines are 1-3 px thin): the 10th-percentile row profile over
    the middle 80 % of the box's columns follows the inter-lane membrane, not the bands; a cut
    line is a local minimum that lies ``strength`` x (membrane level - background) below the
    maxima within 6 rows on both sides.
    """
    x0, y0, x1, y1 = box
    if y1 - y0 < 2 * min_h + 4:
        return []
    c0, c1 = x0 + (x1 - x0) // 10, x1 - (x1 - x0) // 10
    step = max(1, (c1 - c0) // 400)
    prof, _ = _dip_strength(arr[y0:y1, c0:c1:step], valid[y0:y1, c0:c1:step], bg, floor)
    # a cut line runs right across the membrane: it must dip in every column block (a gap
    # between band rows or smears does not, where a lane or the membrane edge is missing). The
    # line may drift 4 rows from block to block (tilt); a path's strength is its weakest block
    # (bottleneck dynamic programming), reported at the middle block. One block may be weaker
    # (down to 40 % of the depth: a label, a damaged edge) when all others reach the depth.
    edges = np.linspace(c0, c1, n_blocks + 1).astype(int)
    sbs = []
    for a, b in zip(edges[:-1], edges[1:]):
        _, sb = _dip_strength(arr[y0:y1, a:b:step], valid[y0:y1, a:b:step], bg, floor)
        sbs.append(np.nan_to_num(sb, nan=-np.inf))
    strict = _bottleneck(sbs)
    relaxed = np.full_like(strict, -np.inf)
    for j in range(n_blocks):
        relaxed = np.maximum(relaxed, _bottleneck([np.full_like(x, np.inf) if i == j else x
                                                   for i, x in enumerate(sbs)]))
    strength = np.where(strict >= 0.4 * depth, relaxed, strict)
    out = []
    for i in range(min_h, prof.size - min_h):
        if strength[i] >= 0.5 * depth and strength[i] >= strength[i - 1] \
                and strength[i] >= strength[i + 1]:
            out.append((int(y0 + i), float(strength[i])))
    return sorted(out, key=lambda t: -t[1])


def _bottleneck(sbs, drift=4):
    """Per row of the middle block: the best min-strength path across all blocks (+-drift rows
    between neighbouring blocks)."""
    win = 2 * drift + 1
    mid = len(sbs) // 2
    fwd = sbs[0]
    for sb in sbs[1:mid + 1]:
        fwd = np.minimum(ndi.maximum_filter1d(fwd, win), sb)
    bwd = sbs[-1]
    for sb in sbs[mid:-1][::-1]:
        bwd = np.minimum(ndi.maximum_filter1d(bwd, win), sb)
    return np.minimum(fwd, bwd) if len(sbs) > 1 else fwd


def _dip_strength(sub, ok, bg, floor=0.0):
    """10th-percentile row profile of a block and each row's dip below the maxima within 6 rows
    on both sides, as a fraction of (that level - background)."""
    if ok.all():
        prof = np.percentile(sub, 10, axis=1)
    else:
        prof = np.array([np.percentile(r[m], 10) if m.any() else bg for r, m in zip(sub, ok)])
    prof = ndi.uniform_filter1d(prof, 3)
    h = 6
    padded = np.pad(prof, h + 2, mode="edge")
    wmax = np.lib.stride_tricks.sliding_window_view(padded, h).max(axis=1)
    n = prof.size
    left = wmax[1:n + 1]               # max of prof[i-1-h : i-1]
    right = wmax[h + 4:n + h + 4]      # max of prof[i+2 : i+2+h]
    ref = np.minimum(left, right)
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = (ref - prof) / np.maximum(np.abs(ref - bg), floor)
    return prof, strength


def find_strips(image, *, n_strips=None, mask=None, method_kwargs=None):
    """Find the membrane strips in an image, top to bottom.

    Parameters
    ----------
    image : ndarray, shape (rows, cols), or BlotImage
        Grey signal with bands bright (``BlotImage.data``); a ``BlotImage`` also lends its
        ``mask``. Not modified.
    n_strips : int, optional
        How many strips the image holds. Given, exactly that many are returned (the weakest
        cut lines are added or the weakest membranes dropped) or :class:`LayoutError` is raised;
        ``None`` decides from the image.
    mask : ndarray of bool, shape (rows, cols), optional
        True where a pixel holds image content (transparent padding False). Default: the
        ``BlotImage``'s mask, else every pixel.
    method_kwargs : mapping, optional
        ``max_side`` (detection copy size, default 400), ``min_area`` (smallest membrane as a
        fraction of the content, 0.04), ``min_fill`` (membrane area / its box, 0.55),
        ``min_height`` (smallest strip in rows, 30), ``cut_depth`` (a cut line's dip as a
        fraction of the membrane contrast, 0.35), ``fill_image`` (a membrane covering more than
        this fraction of the content is the whole image, 0.85), ``max_outside`` (more of the
        strong band evidence than this fraction outside the strips found means one membrane
        fills the image, 0.25), ``faint_over_border`` (a fainter membrane level is tried only
        when it is at least this many times the border's median deviation, 1.25),
        ``cut_alike`` (beside a cut line reaching ``cut_depth``, a line at least this fraction
        as strong is a cut too, 0.75), ``lane_continues`` (correlation of the lane stripes
        just outside and just inside a box edge above which the box grows, 0.6).

    Returns
    -------
    strips : list of Strip
        Sorted top to bottom (then left to right for strips side by side). A membrane that fills
        the image, or an image with no membrane distinct from its border, gives one strip: the
        bounding box of the content.
    params : dict
        JSON-serialisable choices: ``scale`` (block size of the detection copy), ``background``
        (border level), ``noise`` (pixel noise of the detection copy), ``border_spread``
        (median deviation of the border from the background), ``threshold`` (membrane
        contrast threshold used), ``levels_tried`` (each threshold tried, with its outcome),
        ``mode`` (``"segmented"``, ``"signal"`` or ``"whole-image"``), ``components``,
        ``covered`` (fraction of the content inside membranes), ``signal_outside``, ``cuts``
        (rows where abutting strips were split, with their strength and the strength they had
        to reach), ``extended_along_lanes`` (rows each box grew by) and ``boxes``.

    Raises
    ------
    LayoutError
        When ``n_strips`` is given and that many strips cannot be made out (the message says how
        many were seen and where), or for invalid arguments.

    Notes
    -----
    Works on a block-mean copy (no larger than ``max_side``), smoothed with a 1-pixel Gaussian.
    The background is the median along the border of the content; the membrane is whatever
    differs from it by more than an Otsu threshold on the log deviation (so a membrane may be
    brighter or darker than its surround). When the membranes at that level leave band evidence
    outside, a second, fainter level (Otsu below the first) is tried: a faint membrane beside
    saturated bands. Connected regions that are large and compact are membranes; thin strokes
    (handwriting, labels) and small patches are not. Strips laid edge to edge inside one region
    are split at narrow dips of the 10th-percentile row profile (the inter-lane membrane), which
    bands cannot cause; the cut lines of one layout are alike, so a weaker line beside a clear
    one counts. Last, each box grows up and down while its lane stripes run on past the edge (a
    gel or membrane whose ends are paler than its middle). Assumes strips are stacked roughly
    horizontally, as cut strips are; boxes are axis-aligned bounds of tilted membranes.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((300, 200), 100.0)
    >>> img[20:120, 20:180] = 400.0
    >>> img[170:280, 30:190] = 400.0
    >>> strips, params = find_strips(img)
    >>> [s.box for s in strips]  # true boxes (20, 20, 180, 120), (30, 170, 190, 280), +-4 px
    [(16, 16, 184, 124), (26, 166, 194, 284)]
    >>> find_strips(np.full((50, 60), 7.0))[0][0].box
    (0, 0, 60, 50)
    """
    arr, n_strips, mask, opts = _validate(image, n_strips, mask, method_kwargs)
    rows, cols = arr.shape
    finite = np.isfinite(arr)
    valid = finite if mask is None else (finite & mask)
    if not valid.any():
        raise LayoutError("`image` holds no valid pixel (all masked or non-finite).")
    k = max(1, int(math.ceil(max(rows, cols) / float(opts["max_side"]))))
    small, svalid = _block_mean(arr.astype(float, copy=False), valid, k)
    fillv = float(np.median(small[svalid]))
    g = ndi.gaussian_filter(np.where(svalid, small, fillv), 1.0)
    eroded = ndi.binary_erosion(svalid, iterations=3, border_value=0)
    ring = svalid & ~eroded
    bg = float(np.median(g[ring])) if ring.any() else fillv
    dev = np.abs(g - bg)
    fine = 1.4826 * float(np.median(np.abs(np.diff(g, axis=1)))) + 1e-9
    ld = np.log1p(dev[svalid] / fine)
    t1 = _otsu(ld) if np.ptp(ld) > 0 else float("inf")
    thr = float(np.expm1(t1) * fine)
    params = {"scale": k, "background": bg, "noise": fine, "threshold": thr, "components": 0,
              "cuts": []}

    cyv, cxv = np.nonzero(valid)
    content = (int(cxv.min()), int(cyv.min()), int(cxv.max()) + 1, int(cyv.max()) + 1)
    n_valid = float(svalid.sum())
    ctx = {"arr": arr, "valid": valid, "g": g, "dev": dev, "svalid": svalid, "bg": bg, "k": k,
           "fine": fine, "content": content, "n_valid": n_valid, "opts": opts,
           "n_strips": n_strips}

    # Otsu on the log deviation splits the tray from the brightest class; beside saturated bands
    # that class is the bands alone and a faint membrane falls below it. When the membranes found
    # at that level leave band evidence outside, the fainter level (Otsu on the deviations below
    # the first threshold) is tried before the image is taken as one membrane.
    # The fainter level must stand clear of the tray's own unevenness (median |border - bg|):
    # below that, it outlines the film or the crop, not a membrane.
    spread = float(np.median(np.abs(g[ring] - bg))) if ring.any() else 0.0
    params["border_spread"] = spread
    levels = [thr]
    low = ld[ld < t1]
    if low.size and np.ptp(low) > 0:
        faint = float(np.expm1(_otsu(low)) * fine)
        if faint >= opts["faint_over_border"] * spread:
            levels.append(faint)
    params["levels_tried"] = []
    trials = []
    for level in levels:
        found, trial = _segment_at(level, ctx)
        params["levels_tried"].append({"threshold": level, "mode": trial["mode"],
                                       "covered": trial["covered"],
                                       "signal_outside": trial.get("signal_outside")})
        trial["threshold"] = level
        trials.append((found, trial))
        if not trial.get("rejected"):
            break
    strips, trial = trials[-1]
    if not trial.get("rejected"):
        params.update(trial)
    else:
        # bands lie outside every region taken as a membrane at every level: the regions are
        # lighter or darker patches of one membrane that fills the image (a simulated or
        # cropped blot)
        params.update(trials[0][1], mode="whole-image", cuts=[])
        strips = [Strip(box=content, score=0.0)]
    params.pop("rejected", None)
    strips = _sort(strips)
    if n_strips is not None and len(strips) != n_strips:
        if len(strips) > n_strips:
            keep = sorted(strips, key=lambda s: -s.score * s.shape[0] * s.shape[1])[:n_strips]
            strips = _sort(keep)
        else:
            seen = ", ".join(str(list(s.box)) for s in strips)
            raise LayoutError(f"expected {n_strips} membrane strips but found {len(strips)} "
                              f"(boxes x0, y0, x1, y1: {seen}); give each membrane a `region` "
                              f"in the config instead.")
    params["boxes"] = [list(s.box) for s in strips]
    logger.debug("find_strips: %s", params)
    return strips, params


def _segment_at(thr, ctx):
    """Membranes and their strips at one contrast threshold; ``params["rejected"]`` when band
    evidence lies outside them."""
    g, dev, svalid, k, opts = ctx["g"], ctx["dev"], ctx["svalid"], ctx["k"], ctx["opts"]
    content, n_valid, n_strips = ctx["content"], ctx["n_valid"], ctx["n_strips"]
    rows, cols = ctx["arr"].shape
    min_h = max(2, int(round(opts["min_height"] / k)))
    params = {"components": 0, "cuts": []}

    fg = (dev > thr) & svalid
    fg = ndi.binary_opening(fg, iterations=2)
    fg = ndi.binary_closing(fg, iterations=2)
    fg = ndi.binary_fill_holes(fg)
    lab, _ = ndi.label(fg)
    comps = []
    for i, sl in enumerate(ndi.find_objects(lab), start=1):
        c = lab == i
        area = float(c.sum())
        h, w = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if (area < opts["min_area"] * n_valid or area < opts["min_fill"] * h * w or h < min_h
                or w * k < 0.15 * (content[2] - content[0])):
            continue
        contrast = float(np.median(g[c]) - ctx["bg"])
        comps.append((c, area, contrast))
    covered = sum(a for _, a, _ in comps) / n_valid
    params.update(components=len(comps), covered=round(covered, 3))

    if not comps:
        # no membrane distinct from the border: bands on an invisible membrane (box around the
        # signal) or a membrane filling the image (box = content)
        params["mode"] = "signal" if fg.any() else "whole-image"
        return [Strip(box=_fg_box(fg, k, rows, cols) if fg.any() else content, score=0.0)], params
    if len(comps) == 1 and covered > opts["fill_image"]:
        params["mode"] = "whole-image"
        return [Strip(box=content, score=0.0)], params
    params["mode"] = "segmented"
    pieces = []       # Strip per piece, with its candidate cuts
    pool = []         # (strength, row) of weaker cut lines, for a given n_strips
    depth, min_height = opts["cut_depth"], opts["min_height"]
    for c, area, contrast in comps:
        whole = _piece_strip(c, 0, c.shape[0], contrast, thr, k, rows, cols)
        cands = _cuts(ctx["arr"], ctx["valid"], whole.box, ctx["bg"], depth, min_height,
                      floor=thr)
        # the cut lines of one layout are alike: once one reaches the depth, a line at least
        # `cut_alike` x as strong is a cut too (a cut that fades at one end of the strip)
        need = depth
        if cands and cands[0][1] >= depth:
            need = min(depth, opts["cut_alike"] * cands[0][1])
        chosen = []
        for row, strength in cands:
            if strength >= need and all(abs(row - r) >= min_height for r in chosen):
                chosen.append(row)
                params["cuts"].append({"row": row, "strength": round(strength, 3),
                                       "threshold": round(need, 3)})
            else:
                pool.append((strength, row))
        pieces.extend(_split(whole, chosen))
    if n_strips is not None and len(pieces) < n_strips:
        for strength, row in sorted(pool, reverse=True):
            if len(pieces) >= n_strips:
                break
            for j, p in enumerate(pieces):
                if p.box[1] + min_height <= row <= p.box[3] - min_height:
                    pieces[j:j + 1] = _split(p, [row])
                    params["cuts"].append({"row": row, "strength": round(strength, 3),
                                           "threshold": "n_strips"})
                    break
    outside = _signal_outside(g, svalid, [s.box for s in pieces], k, ctx["fine"])
    params["signal_outside"] = round(outside, 3)
    if outside > opts["max_outside"]:
        params.update(mode="rejected", rejected=True)
        return pieces, params
    merged = _merge_one_comb(ctx["arr"], pieces, params)
    return _extend_along_lanes(ctx["arr"], ctx["valid"], merged, opts, params), params


def _lane_texture(arr, valid, x0, x1, r0, r1):
    """Column profile of rows r0:r1 (median of the valid pixels) minus its running mean over a
    fifth of the width: the lane stripes, without shading."""
    ok = valid[r0:r1, x0:x1]
    if ok.all():
        p = np.median(arr[r0:r1, x0:x1], axis=0)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN columns
            p = np.nanmedian(np.where(ok, arr[r0:r1, x0:x1], np.nan), axis=0)
        p = np.where(np.isfinite(p), p, np.nanmean(p) if np.isfinite(p).any() else 0.0)
    return p - ndi.uniform_filter1d(p, max(5, (x1 - x0) // 5), mode="nearest")


def _extend_along_lanes(arr, valid, strips, opts, params):
    """Grow each box up and down while its lane stripes run on past the edge.

    A membrane ends where its lanes end. A region taken as the membrane because it is lighter or
    darker than the border can stop short of that (a gel whose edges are paler, a membrane whose
    lower part is dim): then the rows just outside the box show the same lane stripes as the
    rows just inside (detrended column profiles correlating at ``lane_continues`` or better,
    with at least a quarter of the amplitude). Steps of an eighth of the box height (at least
    10 rows), stopping at the image edge or at another strip.
    """
    rows = arr.shape[0]
    out, grown = [], []
    for idx, s in enumerate(strips):
        x0, y0, x1, y1 = s.box
        if x1 - x0 < 20:
            out.append(s)
            continue
        others = [t.box for j, t in enumerate(strips) if j != idx
                  and min(t.box[2], x1) - max(t.box[0], x0) > 0]
        step = max(10, (y1 - y0) // 8)
        lo = max([0] + [b[3] for b in others if b[3] <= y0])
        hi = min([rows] + [b[1] for b in others if b[1] >= y1])
        top, bottom = y0, y1
        while top - lo >= 5:
            h = min(step, top - lo)
            if not _continues(arr, valid, x0, x1, (top, top + h), (top - h, top), opts):
                break
            top -= h
        while hi - bottom >= 5:
            h = min(step, hi - bottom)
            if not _continues(arr, valid, x0, x1, (bottom - h, bottom), (bottom, bottom + h),
                              opts):
                break
            bottom += h
        if (top, bottom) != (y0, y1):
            grown.append({"box": list(s.box), "rows_added_top": y0 - top,
                          "rows_added_bottom": bottom - y1})
            s = Strip(box=(x0, top, x1, bottom), score=s.score)
        out.append(s)
    params["extended_along_lanes"] = grown
    return out


def _continues(arr, valid, x0, x1, inside, outside, opts):
    pin = _lane_texture(arr, valid, x0, x1, *inside)
    pout = _lane_texture(arr, valid, x0, x1, *outside)
    if pin.std() <= 0 or pout.std() <= 0:
        return False
    r = float(np.corrcoef(pin, pout)[0, 1])
    return r >= opts["lane_continues"] and pout.std() >= 0.25 * pin.std()


def _signal_outside(g, svalid, boxes, k, noise):
    """Fraction of the strong band evidence (thin bright horizontal features, 8 noise sd or more)
    outside ``boxes``."""
    import cv2

    line = np.ones((9, 1), np.uint8)
    th = cv2.morphologyEx(g.astype(np.float32), cv2.MORPH_TOPHAT, line).astype(float)
    th[~svalid] = 0.0
    ref = float(np.percentile(th[svalid], 99.9))
    strong = th > max(0.3 * ref, 8.0 * noise)
    if ref <= 0 or strong.sum() < 20:
        return 0.0
    inside = np.zeros_like(strong)
    for x0, y0, x1, y1 in boxes:
        inside[y0 // k:-(-y1 // k), x0 // k:-(-x1 // k)] = True
    return float((strong & ~inside).sum() / strong.sum())


def _merge_one_comb(arr, strips, params):
    """Merge strips side by side when one lane comb runs across the gap between them.

    Two membranes side by side on a tray need not share a lane pitch and phase; one membrane
    split at a lighter/darker column band does: the lane comb of the union continues across
    the gap at the same pitch (the step over the gap is within 25 % of the pitch).
    """
    from blotquant.discover import detect_lanes

    out = list(strips)
    merged = []
    changed = True
    while changed:
        changed = False
        for i in range(len(out)):
            for j in range(len(out)):
                a, b = out[i], out[j]
                if i == j or a.box[0] >= b.box[0]:
                    continue
                ov = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
                if ov <= 0.5 * min(a.shape[0], b.shape[0]) or b.box[0] < a.box[2] - 5:
                    continue
                u = (a.box[0], min(a.box[1], b.box[1]), b.box[2], max(a.box[3], b.box[3]))
                try:
                    lanes, _, lp = detect_lanes(arr[u[1]:u[3], u[0]:u[2]])
                except Exception:  # noqa: BLE001 - no comb: keep them apart
                    continue
                xs = np.sort(np.asarray(lanes.centers) + u[0])
                gap = 0.5 * (a.box[2] + b.box[0])
                left, right = xs[xs < gap], xs[xs > gap]
                if len(left) and len(right) and abs((right[0] - left[-1]) / lp["pitch"] - 1) < 0.25:
                    merged.append({"boxes": [list(a.box), list(b.box)], "pitch": lp["pitch"]})
                    out[i] = Strip(box=u, score=min(a.score, b.score))
                    del out[j]
                    changed = True
                    break
            if changed:
                break
    params["merged_side_by_side"] = merged
    return out


def _piece_strip(comp, a, b, contrast, thr, k, rows, cols):
    part = comp[a:b]
    colfrac = part.mean(axis=0)
    cc = np.flatnonzero(colfrac >= 0.3 * colfrac.max())
    rr = np.flatnonzero(part.any(axis=1))
    x0, x1 = int(cc[0]) * k, min(cols, (int(cc[-1]) + 1) * k)
    y0, y1 = (a + int(rr[0])) * k, min(rows, (a + int(rr[-1]) + 1) * k)
    score = abs(contrast) / thr if thr > 0 and np.isfinite(thr) else 0.0
    return Strip(box=(x0, y0, x1, y1), score=round(float(score), 3))


def _split(strip, cut_rows):
    """Split a strip's box at the given rows (the cut line row goes to neither side's interior)."""
    x0, y0, x1, y1 = strip.box
    edges = [y0] + sorted(int(r) for r in cut_rows) + [y1]
    return [Strip(box=(x0, a, x1, b), score=strip.score) for a, b in zip(edges[:-1], edges[1:])]


def _fg_box(fg, k, rows, cols):
    yy, xx = np.nonzero(fg)
    return (int(xx.min()) * k, int(yy.min()) * k, min(cols, (int(xx.max()) + 1) * k),
            min(rows, (int(yy.max()) + 1) * k))


def _sort(strips):
    """Top to bottom; strips whose row spans overlap by more than half are ordered left to right."""
    out = sorted(strips, key=lambda s: (s.box[1] + s.box[3]) / 2)
    rows_ = []
    for s in out:
        if rows_:
            last = rows_[-1][0]
            ov = min(last.box[3], s.box[3]) - max(last.box[1], s.box[1])
            if ov > 0.5 * min(last.shape[0], s.shape[0]):
                rows_[-1].append(s)
                continue
        rows_.append([s])
    return [s for row in rows_ for s in sorted(row, key=lambda t: t.box[0])]
