"""Colour marks on RGB scans: ink, handwriting, pen and coloured overlays that are not signal.

Film and membranes darken along their own colour axis: silver grain or chemiluminescence adds
optical density to the channels in proportions that belong to the film (and its scanner). Ink
adds density in other proportions (purple-blue ink on blue film keeps much more blue than a band
of the same darkness). :func:`find_colour_marks` marks the dark regions whose colour the film's
axis does not explain; :func:`fill_marks` replaces them by the local unmarked background in a
*detection copy* (lane and band finding only -- the integrated data is never changed, see
:func:`blotquant.io.detection_copy`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

__all__ = ["POLARITIES", "fill_marks", "find_colour_marks"]

#: Band polarities :func:`find_colour_marks` understands.
POLARITIES = ("dark-bands", "light-bands")


def _as_unit_rgb(rgb):
    """RGB(A) array -> (float64 RGB in 8-bit units, scale used)."""
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[-1] not in (3, 4):
        raise ValueError(f"`rgb` must have shape (rows, cols, 3) or (rows, cols, 4); got shape "
                         f"{arr.shape}. Pass the stored colour pixels, not the luminance.")
    if arr.dtype.kind not in "uifb":
        raise ValueError(f"`rgb` must hold numbers; got dtype {arr.dtype}")
    if arr.dtype.kind in "ui":
        scale = 255.0 / float(np.iinfo(arr.dtype).max)
    elif arr.dtype.kind == "b":
        scale = 255.0
    else:
        finite = arr[..., :3][np.isfinite(arr[..., :3])]
        scale = 255.0 if finite.size and finite.max() <= 1.0 else 1.0
    out = arr[..., :3].astype(np.float64) * scale
    return np.nan_to_num(out, nan=0.0, posinf=255.0, neginf=0.0), scale


def find_colour_marks(rgb, *, valid=None, polarity="dark-bands", rel_deviation=0.2,
                      min_deviation=0.03, noise_factor=6.0, min_darkening=0.04,
                      region_density=0.15, smooth=1.0, min_area=12, grow=1):
    """Find ink, handwriting and other colour marks: pixels off the film's own darkening axis.

    Parameters
    ----------
    rgb : ndarray, shape (rows, cols, 3) or (rows, cols, 4)
        Stored colour pixels (integer, or float in [0, 1] or [0, 255]); alpha, if any, is
        ignored -- pass it as ``valid``. Not modified.
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

    Returns
    -------
    mask : ndarray of bool, shape (rows, cols)
        True on colour marks.
    params : dict
        JSON-serialisable record: ``background_rgb`` (8-bit units), ``axis`` (how the film's
        axis was found: ``source``, the grey ODs ``density`` and per-channel OD ratios
        ``od_ratio`` along it), ``noise`` and ``threshold`` (unexplained OD), ``dark_regions``,
        ``marked_regions``, ``marked_pixels``, ``marked_fraction`` (of the valid pixels),
        ``components`` (connected marks) and every option used.

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
    if polarity not in POLARITIES:
        raise ValueError(f"unknown polarity {polarity!r}; use one of {', '.join(POLARITIES)}")
    img, scale = _as_unit_rgb(rgb)
    shape = img.shape[:2]
    ok = np.ones(shape, bool) if valid is None else np.asarray(valid, bool)
    if ok.shape != shape:
        raise ValueError(f"`valid` must have shape {shape} like `rgb`; got {ok.shape}")
    params = {"method": "chromatic OD off the film's own darkening axis, per dark region",
              "polarity": polarity, "input_scale_to_8bit": float(scale),
              "rel_deviation": float(rel_deviation), "min_deviation": float(min_deviation),
              "noise_factor": float(noise_factor), "min_darkening": float(min_darkening),
              "region_density": float(region_density), "smooth": float(smooth),
              "min_area": int(min_area), "grow": int(grow), "background_rgb": None,
              "axis": None, "noise": None, "threshold": None, "dark_regions": 0,
              "marked_regions": 0, "marked_pixels": 0, "marked_fraction": 0.0, "components": 0}
    mask = np.zeros(shape, bool)
    if not ok.any() or min(shape) < 3:
        return mask, params

    if smooth > 0:
        fill = np.where(ok[..., None], img, np.median(img[ok], axis=0))
        img = np.stack([ndi.gaussian_filter(fill[..., c], smooth) for c in range(3)], axis=-1)
    step = max(1, int(ok.sum()) // 1_000_000)
    bg = np.median(img[ok][::step], axis=0)
    params["background_rgb"] = [round(float(v), 2) for v in bg]
    sign = 1.0 if polarity == "dark-bands" else -1.0
    od = sign * np.log10((bg + 1.0) / (img + 1.0))          # per channel, > 0 towards bands
    dens = od.mean(axis=-1)                                   # grey density D
    dark = ok & (dens >= min_darkening)

    curve, params["axis"] = _axis_curve(od, dens, dark, min_darkening)
    if curve is None:
        return mask, params
    centres, ratios = curve
    ld = np.log(np.clip(dens, centres[0], centres[-1]))
    expect = np.stack([np.interp(ld, np.log(centres), ratios[:, c]) for c in range(3)], axis=-1)
    expect /= expect.mean(axis=-1, keepdims=True)
    resid = (od - dens[..., None]) - dens[..., None] * (expect - 1.0)   # chromatic, unexplained
    dist = np.sqrt((resid * resid).sum(axis=-1))

    quiet = ok & (np.abs(dens) < 0.5 * min_darkening)
    noise = float(np.median(dist[quiet])) if quiet.any() else 0.0
    abs_thr = max(float(min_deviation), noise_factor * noise)

    # decide per dark region (a letter, a word, a band) by its typical off-axis share; a
    # region that is not a mark as a whole is split at higher densities and tested again
    # (ink written across a dark film edge)
    share = dist / np.maximum(dens, region_density)
    n_regions = n_marked = 0
    for i, level in enumerate(region_density * np.array([1.0, 1.7, 2.7])):
        labels, n = ndi.label(ok & (dens >= level) & ~mask, structure=np.ones((3, 3)))
        n_regions += n if i == 0 else 0
        if not n:
            continue
        size = np.bincount(labels.ravel(), minlength=n + 1)[1:]
        keep = np.zeros(n + 1, bool)
        keep[1:] = ((_label_median(share, labels, n) >= rel_deviation)
                    & (_label_median(dist, labels, n) >= abs_thr) & (size >= min_area))
        n_marked += int(keep.sum())
        mask |= keep[labels]
    if mask.any():
        # stroke edges: faint pixels next to a marked region that are off-axis too
        edge = (_grow(mask, 2) & ok & (dens >= min_darkening)
                & (dist >= np.maximum(abs_thr, rel_deviation * dens)))
        mask |= edge
        if grow > 0:
            mask = _grow(mask, grow) & ok
    params.update(noise=round(noise, 5), threshold=round(abs_thr, 5), dark_regions=int(n_regions),
                  marked_regions=n_marked, marked_pixels=int(mask.sum()),
                  marked_fraction=float(mask.sum() / ok.sum()),
                  components=int(ndi.label(mask, structure=np.ones((3, 3)))[1]) if mask.any() else 0)
    return mask, params


def _label_median(values, labels, n):
    """Median of ``values`` per label 1..n (the lower middle value; NaN for an empty label).
    One sort of the labelled pixels, instead of scipy's per-label selection over the image."""
    sel = labels > 0
    lab, val = labels[sel], values[sel]
    order = np.lexsort((val, lab))
    counts = np.bincount(lab, minlength=n + 1)[1:]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.full(n, np.nan)
    has = counts > 0
    out[has] = val[order][starts[has] + (counts[has] - 1) // 2]
    return out


def _box_opening(mask, h, w):
    """Binary opening with an h x w box (odd sizes), via separable min / max filters."""
    m = mask.astype(np.uint8)
    eroded = ndi.minimum_filter(m, size=(h, w), mode="constant", cval=0)
    return ndi.maximum_filter(eroded, size=(h, w), mode="constant", cval=0).astype(bool)


def _grow(mask, r):
    """Dilate by r px (square)."""
    return ndi.maximum_filter(mask.astype(np.uint8), size=2 * int(r) + 1).astype(bool)


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
    labels, n = ndi.label(cores, structure=np.ones((3, 3)))
    if n < 2:
        return cores, int(n), 0
    ratio = np.stack([_label_median(od[..., c] / np.maximum(dens, 1e-6), labels, n)
                      for c in range(3)], axis=-1)
    size = np.bincount(labels.ravel(), minlength=n + 1)[1:].astype(float)
    close = np.sqrt(((ratio - overall) ** 2).sum(axis=1)) <= max_distance
    pool = close if close.any() else np.ones(n, bool)
    ref = np.array([_weighted_median(ratio[pool, c], size[pool]) for c in range(3)])
    near = np.sqrt(((ratio - ref) ** 2).sum(axis=1)) <= max_distance
    keep = np.concatenate([[False], near])
    return keep[labels], int(n), int((~near).sum())


def _axis_curve(od, dens, dark, min_darkening, *, n_bins=10, min_count=30, core_level=0.25):
    """Median OD ratio (OD / D) of band-like pixels in log-spaced bins of D.

    Band-like: dark pixels near a band-shaped core -- pixels above ``core_level`` of the top
    density that hold a box of (rows / 120) x (cols / 30) px (lanes are wide, bands are thicker
    than pen strokes), so bold ink, however dark, is not taken for the film's own colour.
    Returns ``((bin centres, ratios (n, 3)), info)`` or ``(None, info)``.
    """
    vals = dens[dark]
    if vals.size < min_count:
        return None, {"reason": "fewer than 30 pixels darker than the background"}
    top = float(np.percentile(vals, 99.5))
    if top < 3 * min_darkening:                         # nothing dense: faint pixels only
        sel = dark
        info = {"source": "all dark pixels (nothing dense)"}
    else:
        rows, cols = dens.shape
        h0 = max(3, round(min(rows, cols) / 120.0)) | 1
        w = max(9, round(cols / 30.0)) | 1
        # the densest band-shaped regions; thin bands: lower density, then a flatter box
        for level, h in ((core_level, h0), (0.4 * core_level, h0), (core_level, 3)):
            core_density = max(2 * min_darkening, level * top)
            core = dens >= core_density
            cores = _box_opening(core, h, w)
            if cores.sum() >= min_count:
                break
        sure = dens >= 2 * min_darkening
        overall = np.median(od[sure] / dens[sure][:, None], axis=0)
        cores, n_cores, n_odd = _majority_colour(cores, od, dens, overall)
        reach = 3 * h
        # the band edges around the cores teach the faint end of the axis; a pixel as dense as
        # the cores must be inside one (a pen stroke crossing a band is dense, but not band-shaped)
        sel = (_grow(cores, reach) & dark & (dens < core_density)) | cores
        info = {"source": f"band-shaped cores (a {h} x {w} px box fits inside) and the fainter dark "
                          f"pixels within {reach} px of them",
                "core_density": round(core_density, 4),
                "core_pixels": int(cores.sum()), "cores": n_cores,
                "cores_of_another_colour": n_odd}
        if cores.sum() < min_count:                   # one ratio: the median dark pixel's
            sel = dark
            info["source"] = "all dark pixels, one ratio (no band-shaped dense region)"
            n_bins = 1
    d, r = dens[sel], od[sel] / dens[sel][:, None]
    if d.size < min_count:
        return None, dict(info, reason="too few band-like pixels")
    edges = np.geomspace(min_darkening, max(float(d.max()), 1.01 * min_darkening), n_bins + 1)
    centres, rows = [], []
    shaped_above = info.get("core_density")
    for i in range(n_bins):
        s = (d >= edges[i]) & ((d < edges[i + 1]) if i < n_bins - 1 else np.ones_like(d, bool))
        if shaped_above is not None and edges[i] > shaped_above and s.any():
            # denser than the cores: only pixels still band-shaped at this density (ink drawn
            # across a band is denser than the band, in a stroke no band box fits into)
            s &= _box_opening(dens >= edges[i], h, w)[sel]
        if s.sum() >= min_count:
            centres.append(float(np.median(d[s])))
            rows.append(np.median(r[s], axis=0))
    if not rows:
        return None, dict(info, reason="too few band-like pixels per density bin")
    if len(centres) == 1:
        centres, rows = [centres[0], centres[0] * 1.0001], rows * 2
    info.update(density=[round(v, 4) for v in centres],
                od_ratio=[[round(float(v), 4) for v in row] for row in rows])
    return (np.asarray(centres), np.asarray(rows)), info


def fill_marks(image, mask, *, sigma=3.0, max_sigma=None):
    """Replace masked pixels by the local average of the unmasked pixels around them.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        Grey image (e.g. ``BlotImage.data``). Not modified.
    mask : ndarray of bool, shape (rows, cols)
        Pixels to replace.
    sigma : float, optional
        Gaussian radius (px) of the neighbourhood first averaged; doubled until every masked
        pixel has unmasked neighbours.
    max_sigma : float, optional
        Largest radius tried (default: the image's longer side); pixels still without unmasked
        neighbours get the median of the unmasked pixels.

    Returns
    -------
    filled : ndarray of float64, shape (rows, cols)
        A copy of ``image`` with masked pixels replaced; unmasked pixels are unchanged.

    Notes
    -----
    Normalised convolution: ``G * (image * ~mask) / G * ~mask``. Meant for detection copies only:
    the filled values are estimates, never counts to integrate.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((5, 5), 10.0); img[2, 2] = 99.0
    >>> m = np.zeros((5, 5), bool); m[2, 2] = True
    >>> round(float(fill_marks(img, m)[2, 2]), 6), float(img[2, 2])
    (10.0, 99.0)
    """
    arr = np.asarray(image, dtype=np.float64)
    m = np.asarray(mask, bool)
    if arr.ndim != 2 or m.shape != arr.shape:
        raise ValueError(f"`image` must be 2-D and `mask` the same shape; got {arr.shape} and "
                         f"{m.shape}")
    out = arr.copy()
    if not m.any():
        return out
    good = ~m & np.isfinite(arr)
    if not good.any():
        return out
    src = np.where(good, arr, 0.0)
    w0 = good.astype(np.float64)
    todo = m.copy()
    s = float(sigma)
    limit = float(max_sigma) if max_sigma is not None else float(max(arr.shape))
    while todo.any() and s <= limit:
        num = ndi.gaussian_filter(src, s, mode="nearest")
        den = ndi.gaussian_filter(w0, s, mode="nearest")
        ok = todo & (den > 1e-3)
        out[ok] = num[ok] / den[ok]
        todo &= ~ok
        s *= 2.0
    if todo.any():
        out[todo] = float(np.median(arr[good]))
    return out
