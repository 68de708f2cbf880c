"""Colour marks on RGB scans: ink, handwriting, pen and coloured overlays that are not signal.

Film and membranes darken along their own colour axis: silver grain or chemiluminescence takes a
film pixel from the background colour towards the colour of the densest band, and every band pixel
lies on (or near) the straight line between the two. Ink adds a different absorbance ratio
between the channels (purple-blue ink on blue film keeps much more blue than a band of the same
darkness) and leaves that line. :func:`find_colour_marks` marks the pixels that leave it;
:func:`fill_marks` replaces them by the local unmarked background in a *detection copy* (lane and
band finding only -- the integrated data is never changed, see :func:`blotquant.io.detection_copy`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

__all__ = ["find_colour_marks", "fill_marks", "POLARITIES"]

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


def find_colour_marks(rgb, *, valid=None, polarity="dark-bands", noise_factor=6.0,
                      min_deviation=0.03, rel_deviation=0.2, min_darkening=0.04, smooth=1.0,
                      min_area=12, grow=1, region_density=0.15,
                      tolerance_px=0):
    """Find pixels whose colour leaves the film's (membrane's) own darkening axis.

    Parameters
    ----------
    rgb : ndarray, shape (rows, cols, 3) or (rows, cols, 4)
        Stored colour pixels (integer or float; alpha, if any, is ignored -- pass it as
        ``valid``). Not modified.
    valid : ndarray of bool, shape (rows, cols), optional
        Pixels holding image content (e.g. ``alpha > 0``); others are never marked and do not
        enter the statistics.
    polarity : {"dark-bands", "light-bands"}, optional
        Whether bands are darker (film, colorimetric membranes) or brighter (chemiluminescence
        exported in colour) than the background; the band end of the axis is the darkest
        (brightest) colour of the image.
    noise_factor : float, optional
        A pixel is a mark when its distance from the axis exceeds this many times the typical
        distance of background pixels (JPEG and scanner colour noise) ...
    min_deviation : float, optional
        ... and at least this many 8-bit levels (after ``smooth``).
    min_darkening : float, optional
        ... and it has moved at least this fraction of the way from the background towards the
        band end (paper, glare and pale film are never marks).
    smooth : float, optional
        Gaussian sigma (px) applied to every channel before measuring; it averages out JPEG
        chroma noise and keeps mixtures of on-axis colours on the axis.
    min_area : int, optional
        Connected marks smaller than this (px) are dropped as noise.
    grow : int, optional
        Marks are dilated by this many pixels (anti-aliased stroke edges), never into invalid
        pixels.

    Returns
    -------
    mask : ndarray of bool, shape (rows, cols)
        True on colour marks.
    params : dict
        JSON-serialisable record: ``background_rgb`` and ``band_end_rgb`` (the axis, 8-bit units),
        ``band_end_source``, ``noise`` and ``threshold`` (distance from the axis, 8-bit levels),
        ``min_darkening``, ``marked_pixels``, ``marked_fraction``, ``components``.

    Notes
    -----
    Film darkening in a scanned (gamma-encoded) colour image is close to a straight line in RGB
    from the background colour ``B`` to the densest band colour ``K`` (the scanner's black point
    seen through the film base), so each pixel ``p`` is written ``p = B - t (B - K) + r``:
    ``t`` is how far it has darkened (0 background, 1 densest band) and ``r`` the part no amount
    of film darkening explains. A mixture of on-axis colours (a blurred band edge, an averaged
    JPEG block) stays on the axis, so ``|r|`` is small on bands of every density and large on ink.
    ``B`` is the per-channel median of the valid pixels, ``K`` the median colour of the 0.2 %
    darkest (brightest, for light bands) pixels. If those are hardly darker than the background
    (no dense band), ``K`` is black (white). Marks are seeded where ``|r|`` exceeds the threshold
    and grown (hysteresis) into connected pixels above half of it.

    Assumes that the densest features of the image are bands, not ink: an image whose darkest
    pixels are all ink puts the ink on the axis and marks nothing. Neutral (black or grey) ink
    cannot be told from silver by colour and is not marked. A greyscale image stored as RGB
    (``R == G == B``) gives an empty mask.

    Examples
    --------
    >>> import numpy as np
    >>> film = np.zeros((60, 60, 3)); film[:] = (130, 178, 220)       # blue film
    >>> film[20:30, 5:25] = (10, 30, 25)                              # a dense band
    >>> film[40:44, 30:55] = (40, 62, 101)                            # purple-blue ink
    >>> mask, params = find_colour_marks(film.astype(np.uint8))
    >>> bool(mask[42, 40]), bool(mask[25, 15]), bool(mask[5, 5])
    (True, False, False)
    """
    if polarity not in POLARITIES:
        raise ValueError(f"unknown polarity {polarity!r}; use one of {', '.join(POLARITIES)}")
    img, scale = _as_unit_rgb(rgb)
    shape = img.shape[:2]
    ok = np.ones(shape, bool) if valid is None else np.asarray(valid, bool)
    if ok.shape != shape:
        raise ValueError(f"`valid` must have shape {shape} like `rgb`; got {ok.shape}")
    params = {"method": "distance from the film darkening axis (RGB)", "polarity": polarity,
              "input_scale_to_8bit": float(scale), "smooth": float(smooth),
              "noise_factor": float(noise_factor), "min_deviation": float(min_deviation),
              "min_darkening": float(min_darkening), "min_area": int(min_area), "grow": int(grow)}
    mask = np.zeros(shape, bool)
    if not ok.any() or min(shape) < 3:
        params.update(marked_pixels=0, marked_fraction=0.0, components=0)
        return mask, params

    if smooth > 0:
        fill = np.where(ok[..., None], img, np.median(img[ok], axis=0))
        img = np.stack([ndi.gaussian_filter(fill[..., c], smooth) for c in range(3)], axis=-1)
    step = max(1, int(ok.sum()) // 1_000_000)
    bg = np.median(img[ok][::step], axis=0)
    sign = 1.0 if polarity == "dark-bands" else -1.0
    od = sign * np.log10((bg + 1.0) / (img + 1.0))          # per channel, > 0 towards bands
    dens = od.mean(axis=-1)                                   # grey density D
    dark = ok & (dens >= min_darkening)

    # the film's own axis: the OD ratio of band-like pixels (dark regions around the thickest
    # dark cores, skirts included) as a function of D
    curve, info = _axis_curve(od, dens, dark, min_darkening)
    if curve is None:
        params.update(background_rgb=[round(float(v), 2) for v in bg], axis=info,
                      marked_pixels=0, marked_fraction=0.0, components=0)
        return mask, params
    centres, ratios = curve
    ld = np.log(np.clip(dens, centres[0], centres[-1]))
    expect = np.stack([np.interp(ld, np.log(centres), ratios[:, c]) for c in range(3)], axis=-1)
    # colour must be unexplained by the film colour of every pixel nearby: JPEG chroma
    # subsampling and scanner channel misregistration lend a band edge its neighbour's colour
    expect = expect / expect.mean(axis=-1, keepdims=True)
    film = dens[..., None] * (expect - 1.0)       # chromatic part of the film's own OD
    od = od - dens[..., None]                      # chromatic part of the pixel's OD
    if tolerance_px > 0:
        size = (2 * int(tolerance_px) + 1,) * 2
        lo = np.stack([ndi.minimum_filter(film[..., c], size=size) for c in range(3)], axis=-1)
        hi = np.stack([ndi.maximum_filter(film[..., c], size=size) for c in range(3)], axis=-1)
        resid = od - np.clip(od, lo, hi)
    else:
        resid = od - film
    dist = np.sqrt((resid * resid).sum(axis=-1))

    quiet = ok & (np.abs(dens) < 0.5 * min_darkening)
    noise = float(np.median(dist[quiet])) if quiet.any() else 0.0
    abs_thr = max(float(min_deviation), noise_factor * noise)

    # decide per dark region (a letter, a word, a band) by its typical off-axis share; a
    # region that is not a mark as a whole is split at higher densities and tested again
    # (ink written across a dark film edge)
    share = dist / np.maximum(dens, region_density)
    n_regions = n_marked = 0
    for level in region_density * np.array([1.0, 1.7, 2.7]):
        labels, n = ndi.label(ok & (dens >= level) & ~mask, structure=np.ones((3, 3)))
        if not n:
            continue
        med = _label_median(share, labels, n)
        mdist = _label_median(dist, labels, n)
        size = np.bincount(labels.ravel(), minlength=n + 1)[1:]
        keep = np.zeros(n + 1, bool)
        keep[1:] = (med >= rel_deviation) & (mdist >= abs_thr) & (size >= min_area)
        n_regions += n if level == region_density else 0
        n_marked += int(keep.sum())
        mask |= keep[labels]
    if True:
        if mask.any():
            # stroke edges: faint pixels next to a marked region that are off-axis too
            near = _grow(mask, 2)
            edge = near & ok & (dens >= min_darkening) & (dist >= np.maximum(abs_thr, rel_deviation * dens))
            mask |= edge
            if grow > 0:
                mask = _grow(mask, grow) & ok
    n_comp = int(ndi.label(mask, structure=np.ones((3, 3)))[1]) if mask.any() else 0
    params.update(background_rgb=[round(float(v), 2) for v in bg],
                  axis=info,
                  noise=round(noise, 5),
                  threshold=round(abs_thr, 5), dark_regions=n_regions, marked_regions=n_marked,
                  marked_pixels=int(mask.sum()), marked_fraction=float(mask.sum() / ok.sum()),
                  components=n_comp)
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
        h0 = max(3, int(round(min(rows, cols) / 120.0))) | 1
        w = max(9, int(round(cols / 30.0))) | 1
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
        sel = _grow(cores, reach) & dark
        info = {"source": f"dark pixels within {reach} px of band-shaped cores (a {h} x {w} px "
                          "box fits inside)",
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
    for i in range(n_bins):
        s = (d >= edges[i]) & ((d < edges[i + 1]) if i < n_bins - 1 else np.ones_like(d, bool))
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
