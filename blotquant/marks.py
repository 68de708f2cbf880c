"""Colour marks on RGB scans: ink, handwriting, pen and coloured overlays that are not signal.

Film and membranes darken along their own colour axis: silver grain or chemiluminescence adds
optical density to the channels in proportions that belong to the film (and its scanner). Ink
adds density in other proportions (purple-blue ink on blue film keeps much more blue than a band
of the same darkness). :func:`find_colour_marks` marks the dark regions whose colour the film's
axis does not explain; :func:`fill_marks` replaces them by the local unmarked background in a
*detection copy* (lane finding only -- bands are located and integrated on the unchanged data,
see :func:`blotquant.io.detection_copy`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

__all__ = ["POLARITIES", "fill_marks", "find_colour_marks"]

#: Band polarities :func:`find_colour_marks` understands.
POLARITIES = ("dark-bands", "light-bands")
#: Rec. 709 luminance weights (as :mod:`blotquant.io`), for the pseudo-colour test.
_LUMA = (0.2125, 0.7154, 0.0721)
#: Up to this many valid pixels, every statistic uses every pixel; above it, the film's axis is
#: learned on every k-th row and column, about this many pixels.
_FULL_STATS_PIXELS = 2_000_000
#: Medians (background colour, colour noise) use every k-th pixel so that about this many remain.
_STATS_PIXELS = 1_000_000


def _as_unit_rgb(rgb):
    """RGB(A) array -> (float32 RGB in 8-bit units, scale used, finite mask or None).

    Non-finite pixels (any channel NaN or infinite) are set to 0 and reported in the mask; None
    means every pixel is finite.
    """
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[-1] not in (3, 4):
        raise ValueError(f"`rgb` must have shape (rows, cols, 3) or (rows, cols, 4); got shape "
                         f"{arr.shape}. Pass the stored colour pixels, not the luminance.")
    if arr.dtype.kind not in "uifb":
        raise ValueError(f"`rgb` must hold numbers; got dtype {arr.dtype}")
    finite = None
    if arr.dtype.kind in "ui":
        scale = 255.0 / float(np.iinfo(arr.dtype).max)
    elif arr.dtype.kind == "b":
        scale = 255.0
    else:
        fin = np.isfinite(arr[..., :3]).all(axis=-1)
        if not fin.all():
            finite = fin
        vmax = float(np.max(arr[..., :3], initial=-np.inf, where=fin[..., None]))
        scale = 255.0 if vmax <= 1.0 else 1.0
    out = arr[..., :3].astype(np.float32)
    if scale != 1.0:
        out *= np.float32(scale)
    if finite is not None:
        out[~finite] = 0.0
    return out, scale, finite


def _sample(img, ok, n):
    """About ``n`` of the ``ok`` pixels of an (rows, cols, k) image, every step-th: (m, k)."""
    flat = img.reshape(-1, img.shape[-1])
    step = max(1, flat.shape[0] // int(n))
    out = flat[::step]
    return out if ok is None else out[ok.ravel()[::step]]


def find_colour_marks(rgb, *, valid=None, polarity="dark-bands", rel_deviation=0.2,
                      min_deviation=0.03, noise_factor=6.0, min_darkening=0.04,
                      region_density=0.15, smooth=1.0, min_area=12, grow=1, band_fill=0.75,
                      band_deviation=0.25):
    """Find ink, handwriting and other colour marks: pixels off the film's own darkening axis.

    Parameters
    ----------
    rgb : ndarray, shape (rows, cols, 3) or (rows, cols, 4)
        Stored colour pixels (integer, or float in [0, 1] or [0, 255]); alpha, if any, is
        ignored -- pass it as ``valid``. Non-finite pixels are invalid. Not modified.
    valid : ndarray of bool, shape (rows, cols), optional
        Pixels holding image content (e.g. ``alpha > 0``); others are never marked and do not
        enter the statistics.
    polarity : {"dark-bands", "light-bands"}, optional
        Bands darker (film, colorimetric membranes) or brighter (chemiluminescence exported in
        colour) than the background; optical density is counted towards the bands.
    rel_deviation : float, optional
        A dark region is a mark when the median over its pixels of (chromatic OD not explained
        by the film) / (grey OD) reaches this: 0.2 = a fifth of its darkening is of another
        colour. Bands measured 0.05-0.16 on harrytroche's blue film, ink 0.26-0.6.
    min_deviation : float, optional
        ... and its median unexplained chromatic OD reaches this (OD units) ...
    noise_factor : float, optional
        ... and this many times the median unexplained OD of background pixels (colour noise).
    min_darkening : float, optional
        Grey OD below which a pixel is background (never marked; paper and glare are brighter).
    region_density : float, optional
        Grey OD that outlines dark regions (letters, words, bands); regions that are not marks as
        a whole are split at 1.7x and 2.7x this and tested again.
    smooth : float, optional
        Gaussian sigma (px) applied to every channel first (JPEG and scanner colour noise).
    min_area : int, optional
        Dark regions smaller than this (px) are not tested (dust, noise).
    grow : int, optional
        Marks are dilated by this many pixels (anti-aliased stroke edges), never into invalid
        pixels.
    band_fill, band_deviation : float, optional
        A region that would be marked but is band-shaped -- it holds the band box and fills
        ``band_fill`` of its bounding box -- is marked only if its median off-axis share reaches
        ``band_deviation`` (see Notes).

    Returns
    -------
    mask : ndarray of bool, shape (rows, cols)
        True on colour marks.
    params : dict
        JSON-serialisable record: ``background_rgb`` (8-bit units), ``pseudo_colour`` (the
        evidence whether the file is a pseudo-colour (LUT) rendering, see Notes), ``axis`` (how
        the film's axis was found: ``source``, the grey ODs ``density`` and per-channel OD
        ratios ``od_ratio`` along it), ``noise`` and ``threshold`` (unexplained OD),
        ``dark_regions``, ``marked_regions``, ``band_shaped_kept`` (off-axis regions not marked
        because they are band-shaped), ``skipped`` (why nothing was searched, else None),
        ``non_finite_pixels``, ``marked_pixels``,
        ``marked_fraction`` (of the valid pixels), ``components`` (connected marks),
        ``stats_block`` (the axis was learned on every k-th row and column) and every option
        used.

    Notes
    -----
    Each channel's optical density against the background colour ``B`` (per-channel median),
    ``OD_c = log10((B_c + 1) / (p_c + 1))``, and the grey density ``D = mean_c OD_c``. Silver
    grain (or a chemiluminescent band) darkens every channel in proportions ``OD_c / D`` that are
    the film's own and change slowly with ``D`` (the scanner's black point: harrytroche's blue
    film goes from (1.1, 0.87, 1.0) in R, G, B when faint to (1.5, 0.7, 0.75) when dense).
    Purple-blue ink absorbs in other proportions (there: (1.0, 1.1, 0.87)). The axis -- the
    median ``OD_c / D`` in ten density bins -- is learned from *band-like* pixels: dark pixels
    near the densest regions that hold a (rows/120) x (cols/30) px box (bands are wide and
    thicker than pen strokes), of the colour most dark pixels share (a bold ink word that fits
    the box is outvoted). The chromatic part of each pixel's OD that the axis does not explain,
    ``|(OD - D) - D (ratio(D) - 1)|``, is then judged per dark region (a letter, a word, a
    band), not per pixel: a band's noisy rims stay with the band. Marked regions are extended
    to their faint off-axis edges and dilated by ``grow``.

    Safeguards. A pseudo-colour (LUT) rendering -- colour a function of brightness along a path
    no film takes: a channel moving against the others, or the OD direction turning by more
    than 30 degrees between faint and dense (matplotlib's 'hot', 'viridis', 'turbo') -- is not
    searched (``skipped``), since its bands would look off-axis. A region that holds the band
    box (at least 5 rows), fills ``band_fill`` of its bounding box (bands are solid: 0.84-0.97
    simulated; handwritten words fill 0.25-0.66 of theirs on harrytroche) and whose colour is
    barely off-axis (median share below ``band_deviation``) is a band, not a mark (a band
    clipped at a tinted black level: 0.20), and is not split further; a flat coloured box
    drawn over the film is far off-axis and still marked.

    For speed, on images over two megapixels the axis is learned on every k-th row and column
    (k = ``stats_block``, at most two megapixels kept; harrytroche's pages enlarged to 13 MP:
    mask IoU 0.999 against full-resolution statistics) and the background noise on every k-th
    pixel; the per-pixel test runs on every pixel darker than ``min_darkening``. Negative float
    values count as 0 in the densities.

    A greyscale image stored as RGB (``R == G == B``) gives an empty mask; so does a tinted film
    without ink. Neutral (black or grey) ink cannot be told from silver by colour and is not
    marked; black typed labels on a tinted film are (they are not film either). Ink written
    across a band joins the band's region and is not marked.

    Examples
    --------
    >>> import numpy as np
    >>> film = np.zeros((60, 60, 3)); film[:] = (130, 178, 220)       # blue film
    >>> film[20:30, 5:25] = (10, 30, 25)                              # a dense band
    >>> film[40:44, 30:55] = (40, 62, 101)                            # purple-blue ink
    >>> mask, params = find_colour_marks(film.astype(np.uint8))
    >>> bool(mask[42, 40]), bool(mask[25, 15]), bool(mask[5, 5]), params["marked_regions"]
    (True, False, False, 1)
    """
    import cv2

    if polarity not in POLARITIES:
        raise ValueError(f"unknown polarity {polarity!r}; use one of {', '.join(POLARITIES)}")
    img, scale, finite = _as_unit_rgb(rgb)
    shape = img.shape[:2]
    if valid is not None:
        ok = np.asarray(valid, bool)
        if ok.shape != shape:
            raise ValueError(f"`valid` must have shape {shape} like `rgb`; got {ok.shape}")
        ok = ok if finite is None else ok & finite
    else:
        ok = finite
    if ok is not None and ok.all():
        ok = None
    n_ok = int(ok.sum()) if ok is not None else img.shape[0] * img.shape[1]
    params = {"method": "chromatic OD off the film's own darkening axis, per dark region",
              "polarity": polarity, "input_scale_to_8bit": float(scale),
              "rel_deviation": float(rel_deviation), "min_deviation": float(min_deviation),
              "noise_factor": float(noise_factor), "min_darkening": float(min_darkening),
              "region_density": float(region_density), "smooth": float(smooth),
              "min_area": int(min_area), "grow": int(grow),
              "band_fill": float(band_fill), "band_deviation": float(band_deviation),
              "background_rgb": None,
              "non_finite_pixels": 0 if finite is None else int((~finite).sum()),
              "pseudo_colour": None, "skipped": None, "stats_block": 1,
              "axis": None, "noise": None, "threshold": None, "dark_regions": 0,
              "marked_regions": 0, "band_shaped_kept": 0,
              "marked_pixels": 0, "marked_fraction": 0.0, "components": 0}
    mask = np.zeros(shape, bool)
    if n_ok == 0 or min(shape) < 3:
        return mask, params

    if ok is not None:
        img[~ok] = np.median(_sample(img, ok, _STATS_PIXELS), axis=0)
    if smooth > 0:
        img = cv2.GaussianBlur(img, (0, 0), float(smooth), borderType=cv2.BORDER_REFLECT)
    np.maximum(img, 0.0, out=img)                             # negative floats: no density
    bg = np.median(_sample(img, ok, _STATS_PIXELS), axis=0).astype(np.float64)
    params["background_rgb"] = [round(float(v), 2) for v in bg]
    sign = 1.0 if polarity == "dark-bands" else -1.0
    log_bg = np.log10(bg + 1.0)
    # grey density D = mean_c OD_c from one logarithm of the channel product
    prod = img[..., 0] + np.float32(1.0)
    prod *= img[..., 1] + np.float32(1.0)
    prod *= img[..., 2] + np.float32(1.0)
    dens = np.log10(prod, out=prod)
    dens -= np.float32(log_bg.sum())
    dens *= np.float32(-sign / 3.0)
    dark = dens >= min_darkening
    if ok is not None:
        dark &= ok

    lut, params["pseudo_colour"] = _pseudo_colour(img, ok, bg, sign)
    if lut:
        params["skipped"] = ("pseudo-colour export: marks not searched (colour is a function of "
                             "brightness along a path no film takes)")
        return mask, params

    # the film's axis, learned on every k-th row and column (up to two megapixels)
    block = 1 if n_ok <= _FULL_STATS_PIXELS else int(np.ceil(np.sqrt(img.shape[0] * img.shape[1]
                                                                       / _FULL_STATS_PIXELS)))
    params["stats_block"] = block
    if block == 1:
        work, ok_w = img, ok
    else:
        work = img[block // 2::block, block // 2::block]
        ok_w = None if ok is None else ok[block // 2::block, block // 2::block]
    od_w = (sign * (log_bg - np.log10(work.astype(np.float64) + 1.0)))
    dens_w = od_w.mean(axis=-1)
    dark_w = dens_w >= min_darkening
    if ok_w is not None:
        dark_w &= ok_w
    curve, params["axis"] = _axis_curve(od_w, dens_w, dark_w, min_darkening, shape=shape,
                                        block=block)
    del od_w, dens_w, dark_w, work
    if curve is None:
        return mask, params

    # unexplained chromatic OD of every dark pixel (others are never marked)
    idx = np.flatnonzero(dark)
    dist = np.zeros(shape, np.float32)
    dist.ravel()[idx] = _off_axis(img.reshape(-1, 3)[idx], dens.ravel()[idx], log_bg, sign,
                                  curve)
    # colour noise: background pixels, every k-th
    step = max(1, dens.size // _STATS_PIXELS)
    d_s = dens.ravel()[::step]
    quiet = np.abs(d_s) < 0.5 * min_darkening
    if ok is not None:
        quiet &= ok.ravel()[::step]
    noise = (float(np.median(_off_axis(img.reshape(-1, 3)[::step][quiet], d_s[quiet], log_bg,
                                       sign, curve))) if quiet.any() else 0.0)
    abs_thr = max(float(min_deviation), noise_factor * noise)

    # decide per dark region (a letter, a word, a band) by its typical off-axis share; a
    # region that is not a mark as a whole is split at higher densities and tested again
    # (ink written across a dark film edge)
    box_rows, box_cols = params["axis"]["box"]
    band_box = (max(5, box_rows), box_cols)
    settled = np.zeros(shape, bool)                   # bands kept: not split and tested again
    n_regions = n_marked = n_banded = 0
    for i, level in enumerate(region_density * np.array([1.0, 1.7, 2.7])):
        sel = (dens >= level) & ~mask & ~settled
        if ok is not None:
            sel &= ok
        labels, n, boxes = _label(sel, boxes=True)
        n_regions += n if i == 0 else 0
        if not n:
            continue
        at = np.flatnonzero(sel)                      # the region pixels, as flat indices
        lab = labels.ravel()[at]
        d_sel, dist_sel = dens.ravel()[at], dist.ravel()[at]
        size = np.bincount(lab, minlength=n + 1)[1:]
        share = _group_median(lab, dist_sel / np.maximum(d_sel, np.float32(region_density)), n)
        keep = np.zeros(n + 1, bool)
        keep[1:] = ((share >= rel_deviation) & (_group_median(lab, dist_sel, n) >= abs_thr)
                    & (size >= min_area))
        if keep.any():
            # a band -- a solid region that holds the band box -- barely off-axis stays a band
            # (one clipped at a tinted black level: 0.20); letters and words are not solid, a
            # pen line (0.28 in a 120 px image) or a coloured box drawn over the film are more
            # off-axis
            spare = _band_shaped(labels, boxes, keep, size, band_box, min_fill=band_fill)
            spare &= np.concatenate([[False], share < band_deviation])
            if spare.any():
                n_banded += int(spare.sum())
                keep &= ~spare
                settled.ravel()[at[spare[lab]]] = True
        n_marked += int(keep.sum())
        if keep.any():
            mask.ravel()[at[keep[lab]]] = True
    params.update(noise=round(noise, 5), threshold=round(abs_thr, 5), dark_regions=int(n_regions),
                  marked_regions=n_marked, band_shaped_kept=n_banded)
    if mask.any():
        # stroke edges: faint pixels next to a marked region that are off-axis too
        edge = _grow(mask, 2) & dark & (dist >= np.maximum(np.float32(abs_thr),
                                                           np.float32(rel_deviation) * dens))
        mask |= edge
        if grow > 0:
            mask = _grow(mask, grow)
            if ok is not None:
                mask &= ok
    params.update(marked_pixels=int(mask.sum()), marked_fraction=float(mask.sum() / n_ok),
                  components=_label(mask)[1] if mask.any() else 0)
    return mask, params


def _off_axis(pix, dens, log_bg, sign, curve):
    """Unexplained chromatic OD ``|OD - D * ratio(D)|`` of (n, 3) pixels of grey density ``dens``."""
    centres, ratios = curve
    od = sign * (log_bg.astype(np.float32) - np.log10(pix + np.float32(1.0)))
    ld = np.log(np.clip(dens, centres[0], centres[-1]))
    lc = np.log(centres)
    expect = np.stack([np.interp(ld, lc, ratios[:, c]) for c in range(3)], axis=-1)
    expect /= expect.mean(axis=-1, keepdims=True)
    resid = od - dens[:, None] * expect.astype(np.float32)
    return np.sqrt((resid * resid).sum(axis=-1))


def _band_shaped(labels, boxes, keep, size, box, *, min_fill):
    """Which kept labels are band-shaped: they hold an h x w box and fill ``min_fill`` of their
    bounding box (``boxes``: x, y, width, height per label; bands are solid, handwritten words
    fill 0.25-0.66 of theirs on harrytroche, simulated bands 0.84-0.97). Returns bool (n + 1,)."""
    out = np.zeros(keep.shape, bool)
    h, w = box
    for lab in np.flatnonzero(keep):
        x, y, bw, bh = (int(v) for v in boxes[lab - 1])
        if bh < h or bw < w or size[lab - 1] < min_fill * bh * bw:
            continue
        out[lab] = _box_opening(labels[y:y + bh, x:x + bw] == lab, h, w).any()
    return out


def _pseudo_colour(img, ok, bg, sign, *, n_sample=200_000, n_bins=32, min_density=0.1,
                   max_turn=30.0, min_against=-0.25):
    """Is the image a pseudo-colour (LUT) rendering? Returns (bool, evidence dict).

    The median colour in 32 brightness bins traces the path the image's colours take towards
    the bands; only bins at least ``min_density`` grey OD from the background count. Film
    darkens every channel together, in proportions that turn slowly: the median directions of
    the OD vector in the faint, middle and dense thirds of the bins differ by at most 12 degrees
    on the real colour scans (harrytroche, elias, tgarrud; a coloured box or an ink word makes
    single bins jump, not the thirds), and no channel's OD goes against the grey OD (running
    median over five bins of OD_c / D at least -0.03). A LUT turns through the channels one
    after another (simulated light bands in matplotlib's hot: 51 degrees, afmhot 35, plasma 37)
    or moves a channel against the others (viridis -0.9, turbo -1.1).
    """
    pix = _sample(img, ok, n_sample).astype(np.float64)
    luma = pix @ np.asarray(_LUMA)
    lo, hi = float(luma.min()), float(luma.max())
    info = {"test": f"median colour per brightness bin: OD direction turning > {max_turn:g} "
                    "degrees between the faint, middle and dense thirds of the bins, or a "
                    f"channel's OD against the grey OD (< {min_against:g} of it, running median "
                    "over five bins)",
            "bins": 0, "turn_degrees": 0.0, "against": None}
    if hi - lo < 1.0:
        return False, info
    k = np.minimum(((luma - lo) / (hi - lo) * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(k, minlength=n_bins)
    ods = []
    for i in np.flatnonzero(counts >= max(30, 0.0005 * pix.shape[0])):
        od = sign * np.log10((bg + 1.0) / (np.median(pix[k == i], axis=0) + 1.0))
        if od.mean() >= min_density:
            ods.append(od)
    if len(ods) < 5:
        return False, dict(info, bins=len(ods))
    ods = np.asarray(ods)
    ods = ods[np.argsort(ods.mean(axis=1))]
    unit = ods / np.linalg.norm(ods, axis=1, keepdims=True)
    # faint, middle and dense thirds of the path: how far the OD direction turns (a coloured box
    # or an ink word fills one or two bins of its own colour; a LUT's path turns bin after bin)
    thirds = np.array([np.median(unit[p], axis=0) for p in np.array_split(np.arange(len(ods)), 3)])
    thirds /= np.linalg.norm(thirds, axis=1, keepdims=True)
    turn = float(np.degrees(np.arccos(np.clip(thirds @ thirds.T, -1.0, 1.0))).max())
    # running medians over five bins: a channel whose OD goes against the grey OD
    ratio = ods / ods.mean(axis=1, keepdims=True)
    against = float(min(np.median(ratio[j:j + 5], axis=0).min() for j in range(len(ods) - 4)))
    info.update(bins=len(ods), turn_degrees=round(turn, 1), against=round(against, 3))
    return bool(turn > max_turn or against < min_against), info


def _label(mask, *, boxes=False):
    """8-connected components of a bool image: (int32 labels, count), and with ``boxes`` their
    bounding boxes as an (count, 4) array of x, y, width, height (label i in row i - 1)."""
    import cv2

    m = np.ascontiguousarray(mask, dtype=np.uint8)
    if not boxes:
        n, labels = cv2.connectedComponents(m, connectivity=8, ltype=cv2.CV_32S)
        return labels, int(n) - 1
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8, ltype=cv2.CV_32S)
    return labels, int(n) - 1, stats[1:, :4]


def _group_median(lab, val, n):
    """Median of ``val`` per label 1..n of ``lab`` (the lower middle value; NaN for an empty
    label). One sort of label + scaled value, instead of scipy's per-label selection."""
    out = np.full(n, np.nan)
    if lab.size == 0:
        return out
    v = val.astype(np.float64)
    lo, span = float(v.min()), float(v.max() - v.min())
    key = lab + (0.5 / span) * (v - lo) if span > 0 else lab.astype(np.float64)
    order = np.argsort(key)
    counts = np.bincount(lab, minlength=n + 1)[1:]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    out[has] = v[order][starts[has] + (counts[has] - 1) // 2]
    return out


def _label_median(values, labels, n):
    """Median of an image ``values`` per label 1..n of ``labels`` (see :func:`_group_median`)."""
    sel = labels > 0
    return _group_median(labels[sel], values[sel], n)


def _box_opening(mask, h, w):
    """Binary opening with an h x w box (odd sizes); the box never leaves the image."""
    import cv2

    m = np.ascontiguousarray(mask, dtype=np.uint8)
    kernel = np.ones((int(h), int(w)), np.uint8)
    eroded = cv2.erode(m, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return cv2.dilate(eroded, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)


def _grow(mask, r):
    """Dilate by r px (square)."""
    import cv2

    size = 2 * int(r) + 1
    return cv2.dilate(np.ascontiguousarray(mask, dtype=np.uint8),
                      np.ones((size, size), np.uint8)).astype(bool)


def _weighted_median(values, weights):
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order[np.searchsorted(cum, 0.5 * cum[-1])]])


def _majority_colour(cores, od, dens, overall, *, max_distance=0.25):
    """Keep the core regions of the film's own colour.

    Each core region's median OD ratio is compared with ``overall`` (the median ratio of every
    dark pixel: bands, text, borders and ink together); the regions near it set the reference
    (size-weighted median), and every region near the reference is kept. A bold ink word that
    fits the band box is of another colour than most dark pixels and is dropped.
    """
    labels, n = _label(cores)
    if n < 2:
        return cores, int(n), 0
    sel = labels > 0
    lab, ratio_px = labels[sel], od[sel] / np.maximum(dens[sel], 1e-6)[:, None]
    ratio = np.stack([_group_median(lab, ratio_px[:, c], n) for c in range(3)], axis=-1)
    size = np.bincount(labels.ravel(), minlength=n + 1)[1:].astype(float)
    close = np.sqrt(((ratio - overall) ** 2).sum(axis=1)) <= max_distance
    pool = close if close.any() else np.ones(n, bool)
    ref = np.array([_weighted_median(ratio[pool, c], size[pool]) for c in range(3)])
    near = np.sqrt(((ratio - ref) ** 2).sum(axis=1)) <= max_distance
    keep = np.concatenate([[False], near])
    return keep[labels], int(n), int((~near).sum())


def _axis_curve(od, dens, dark, min_darkening, *, shape, block=1, n_bins=10, min_count=30,
                core_level=0.25):
    """Median OD ratio (OD / D) of band-like pixels in log-spaced bins of D.

    Band-like: dark pixels near a band-shaped core -- pixels above ``core_level`` of the top
    density that hold a box of (rows / 120) x (cols / 30) px of the full image ``shape`` (lanes
    are wide, bands are thicker than pen strokes), so bold ink, however dark, is not taken for
    the film's own colour. ``od``, ``dens`` and ``dark`` may be every ``block``-th row and
    column of the image; box sizes and reach are scaled to it. Returns ``((bin centres, ratios (n, 3)),
    info)`` or ``(None, info)``; ``info["box"]`` is the full-resolution band box (rows, cols).
    """
    rows, cols = shape
    h0 = max(3, round(min(rows, cols) / 120.0)) | 1
    w = max(9, round(cols / 30.0)) | 1

    def scaled(n_px):
        return max(1, round(n_px / block)) | 1

    info = {"box": [h0, w]}
    vals = dens[dark]
    if vals.size < min_count:
        return None, dict(info, reason="fewer than 30 pixels darker than the background")
    top = float(np.percentile(vals, 99.5))
    h = h0
    if top < 3 * min_darkening:                         # nothing dense: faint pixels only
        sel = dark
        info["source"] = "all dark pixels (nothing dense)"
    else:
        # the densest band-shaped regions; thin bands: lower density, then a flatter box
        for level, h in ((core_level, h0), (0.4 * core_level, h0), (core_level, 3)):
            core_density = max(2 * min_darkening, level * top)
            core = dens >= core_density
            cores = _box_opening(core, scaled(h), scaled(w))
            if cores.sum() >= min_count:
                break
        sure = dens >= 2 * min_darkening
        overall = np.median(od[sure] / dens[sure][:, None], axis=0)
        cores, n_cores, n_odd = _majority_colour(cores, od, dens, overall)
        reach = 3 * h
        # the band edges around the cores teach the faint end of the axis; a pixel as dense as
        # the cores must be inside one (a pen stroke crossing a band is dense, but not band-shaped)
        sel = (_grow(cores, max(1, round(reach / block))) & dark & (dens < core_density)) | cores
        info.update(source=f"band-shaped cores (a {h} x {w} px box fits inside) and the fainter "
                           f"dark pixels within {reach} px of them",
                    core_density=round(core_density, 4),
                    core_pixels=int(cores.sum()) * block * block, cores=n_cores,
                    cores_of_another_colour=n_odd)
        if cores.sum() < min_count:                   # one ratio: the median dark pixel's
            sel = dark
            info["source"] = "all dark pixels, one ratio (no band-shaped dense region)"
            n_bins = 1
    d, r = dens[sel], od[sel] / dens[sel][:, None]
    if d.size < min_count:
        return None, dict(info, reason="too few band-like pixels")
    edges = np.geomspace(min_darkening, max(float(d.max()), 1.01 * min_darkening), n_bins + 1)
    centres, ratios = [], []
    shaped_above = info.get("core_density")
    for i in range(n_bins):
        s = (d >= edges[i]) & ((d < edges[i + 1]) if i < n_bins - 1 else np.ones_like(d, bool))
        if shaped_above is not None and edges[i] > shaped_above and s.any():
            # denser than the cores: only pixels still band-shaped at this density (ink drawn
            # across a band is denser than the band, in a stroke no band box fits into)
            s &= _box_opening(dens >= edges[i], scaled(h), scaled(w))[sel]
        if s.sum() >= min_count:
            centres.append(float(np.median(d[s])))
            ratios.append(np.median(r[s], axis=0))
    if not ratios:
        return None, dict(info, reason="too few band-like pixels per density bin")
    if len(centres) == 1:
        centres, ratios = [centres[0], centres[0] * 1.0001], ratios * 2
    info.update(density=[round(v, 4) for v in centres],
                od_ratio=[[round(float(v), 4) for v in row] for row in ratios])
    return (np.asarray(centres), np.asarray(ratios)), info


def fill_marks(image, mask, *, sigma=3.0, valid=None):
    """Replace masked pixels by a local average of the valid unmasked pixels around them.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        Grey image (e.g. ``BlotImage.data``). Not modified.
    mask : ndarray of bool, shape (rows, cols)
        Pixels to replace.
    sigma : float, optional
        Gaussian radius (px) of the average.
    valid : ndarray of bool, shape (rows, cols), optional
        Pixels holding image content (``BlotImage.mask``); others (transparent padding) never
        serve as background and are left unchanged. Non-finite pixels are never used either.

    Returns
    -------
    filled : ndarray of float64, shape (rows, cols)
        A copy of ``image`` with masked (valid) pixels replaced; other pixels are unchanged.

    Notes
    -----
    Inside each group of marks (its bounding box padded by ``4 sigma + 1`` px), every pixel that
    is not usable background takes the value of its nearest usable pixel
    (``scipy.ndimage.distance_transform_edt``); a Gaussian of ``sigma`` then smooths that
    extension and gives the masked pixels their values. Small marks get the local average of
    their surroundings, large ones the background continued inwards from their edges. Only the
    padded boxes are processed, so the cost follows the marks' area, not the image's. Meant for
    detection copies only: the filled values are estimates, never counts to integrate.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((5, 5), 10.0); img[2, 2] = 99.0
    >>> m = np.zeros((5, 5), bool); m[2, 2] = True
    >>> round(float(fill_marks(img, m)[2, 2]), 6), float(img[2, 2])
    (10.0, 99.0)
    """
    import cv2

    arr = np.asarray(image, dtype=np.float64)
    m = np.asarray(mask, bool)
    if arr.ndim != 2 or m.shape != arr.shape:
        raise ValueError(f"`image` must be 2-D and `mask` the same shape; got {arr.shape} and "
                         f"{m.shape}")
    good = ~m & np.isfinite(arr)
    if valid is not None:
        ok = np.asarray(valid, bool)
        if ok.shape != arr.shape:
            raise ValueError(f"`valid` must have shape {arr.shape} like `image`; got {ok.shape}")
        good &= ok
        m = m & ok
    out = arr.copy()
    if not m.any() or not good.any():
        return out
    pad = int(np.ceil(4.0 * sigma)) + 1
    groups = cv2.dilate(np.ascontiguousarray(m, dtype=np.uint8), np.ones((2 * pad + 1, 2 * pad + 1), np.uint8))
    _, _, stats, _ = cv2.connectedComponentsWithStats(groups, connectivity=8)
    fallback = None
    for x, y, w, h, _ in stats[1:]:
        sl = (slice(y, y + h), slice(x, x + w))
        todo, src = m[sl], good[sl]
        if not todo.any():
            continue
        if not src.any():                     # a mark with no usable pixel around it
            if fallback is None:
                fallback = float(np.median(arr[good]))
            out[sl][todo] = fallback
            continue
        iy, ix = ndi.distance_transform_edt(~src, return_distances=False, return_indices=True)
        extended = arr[sl][iy, ix]
        out[sl][todo] = ndi.gaussian_filter(extended, sigma, mode="nearest")[todo]
    return out
