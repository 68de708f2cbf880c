"""Locating each band inside its row window and integrating its volume above background.

The work is done on lane strips that follow the lanes (tilted centre lines) and the bands
(perpendicular to the lanes), never on the whole image:

1. For every lane, the pixels of a strip ``lane width`` wide over the row window extended by a
   margin are gathered with integer shifts (each image pixel counted at most once), and summed
   across the lane into a raw row profile.
2. The lanes' profiles are aligned to each other (smile and tilt) and averaged into a consensus
   profile, in which the bands of the window are decomposed into Gaussian components; components
   without a dip between them and of unequal widths (a skewed band's top and tail) are grouped
   into one band; the target is the band nearest the window's centre line.
3. Every lane's profile is fitted with the background method and those components (centres
   free within a few rows; weak lanes use the row predicted from their neighbours).
4. The volume is the raw profile minus the background, summed over the target's rows, each row
   counted in the target's share of it (``profile``: a baseline anchored on the rows outside
   every band; rows shared with a neighbour split in proportion of the fitted models, so the
   model's shape divides overlap but never sets how much is counted): counts × pixels, never
   clipped.
"""

from __future__ import annotations

import logging
from typing import Mapping

import numpy as np
import pandas as pd

from blotquant._util import jsonable, median1d
from blotquant.background import (
    _poly_basis,
    anchored_baseline,
    check_options,
    fit_peaks,
    gaussian_basis,
    get_background,
)
from blotquant.errors import LayoutError

__all__ = ["BAND_COLUMNS", "measure_bands"]

logger = logging.getLogger("blotquant")

#: Columns of the table returned by :func:`measure_bands`, in order.
BAND_COLUMNS = [
    "lane", "lane_x", "band_row", "band_top", "band_bottom", "x_left", "x_right", "volume",
    "volume_sd", "background", "overlap", "saturated", "n_pixels", "snr", "found", "note",
]

#: a volume whose sd (bootstrap for joint-model, noise and baseline for profile) exceeds this
#: fraction of it is flagged as uncertain
SOFT_VOLUME_CV = 0.10
_STRONG_SNR = 10.0  # lanes above this locate their own band; below it the neighbours decide
_FOUND_SNR = 3.0
# the data-found support of a band ends at most this many fitted widths (sd) beyond its outermost
# Gaussian piece: a Gaussian band's walk ends at 4.1-4.8 sd; 4.5 cut flat-topped bands short
# (shapes max 9.5 -> 24 %), 5 stops walks onto smear (hard max 7.6 -> 5.8 %, true lanes)
_SUPPORT_CAP_SD = 5.0
#: a component wider than this many times the target's main width is smear, not a band: it
#: keeps its Gaussian in the shared-shape split, and its rows can be the baseline's
_SMEAR_WIDTH = 2.0



def _strip_indices(lanes, i, rows, band_slope, shape, step=1):
    """Image (ys, xs) of lane ``i``'s strip: one row per entry of ``rows`` (band coordinate).

    Row ``u`` of the strip is the band line through the lane centre at image row ``u``; column
    ``j`` is ``j`` pixels from the lane's left edge. Returns int arrays (n_rows, width) and a
    bool array saying which entries fell inside the image. ``step > 1`` keeps every
    ``step``-th column only (columns 0, step, 2 step, ...: a cheap look at the strip's rows).
    """
    h, w = shape
    full = max(1, int(round(float(lanes.widths[i]))))
    v = (np.arange(full) - (full - 1) / 2.0)[::step]
    width = v.size
    off = np.round(band_slope * v).astype(int)
    # a strip entry's first column depends on its image row only: computed once per image row
    # that the strip touches (the same expression as per entry), then looked up; the columns
    # that share a row offset (a few runs: the offset is monotonic across the lane) are filled
    # run by run
    y_lo = int(rows.min() + off.min())
    yv = np.arange(y_lo, int(rows.max() + off.max()) + 1)
    first = np.floor(lanes.centers[i] + lanes.slope * (yv - lanes.y_ref) - (full - 1) / 2.0 + 0.5).astype(int)
    ys = np.empty((rows.size, width), int)
    xs = np.empty((rows.size, width), int)
    cuts = np.flatnonzero(np.diff(off)) + 1
    for j0, j1 in zip(np.r_[0, cuts], np.r_[cuts, width]):
        o = int(off[j0])
        ys[:, j0:j1] = (rows + o)[:, None]
        xs[:, j0:j1] = first[rows + o - y_lo][:, None] + step * np.arange(j0, j1)[None, :]
    if yv[0] >= 0 and yv[-1] < h and first.min() >= 0 and first.max() + full - 1 < w:
        return ys, xs, np.ones(ys.shape, bool)  # (all inside the image: nothing to clip)
    inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    return np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1), inside


def _lower_line(y, n_iter=6):
    """Line through the lower envelope of ``y`` (asymmetric iterative fit), for detection only.

    ``y`` of shape (n,) or (L, n): each row is fitted on its own (all rows at once).
    """
    Y = np.asarray(y, float)
    Y2 = np.atleast_2d(Y)
    L, n = Y2.shape
    u = np.linspace(-1, 1, n)

    def line(keep):  # least-squares line per row on its kept entries (closed form)
        m = keep.sum(1)
        um = (u * keep).sum(1) / m
        ym = np.where(keep, Y2, 0.0).sum(1) / m
        du = np.where(keep, u - um[:, None], 0.0)
        var = (du * du).sum(1)
        b = np.divide((du * (Y2 - ym[:, None])).sum(1), var, out=np.zeros(L), where=var > 0)
        return b[:, None] * (u - um[:, None]) + ym[:, None]

    def masked_median(v, keep, m):  # per row, of the kept entries (as np.median of them)
        srt = np.sort(np.where(keep, v, np.inf), axis=1)
        rows = np.arange(L)
        return (srt[rows, (m - 1) // 2] + srt[rows, m // 2]) / 2.0

    keep = np.ones((L, n), bool)
    fit = line(keep)
    active = np.ones(L, bool)  # rows still iterating
    for it in range(n_iter):
        r = Y2 - fit
        m = keep.sum(1)
        med = masked_median(r, keep, m)
        sd = 1.4826 * masked_median(np.abs(r - med[:, None]), keep, m) + 1e-300
        new = r < sd[:, None]
        stop = (new.sum(1) < max(4, n // 5)) | (new == keep).all(1)
        active &= ~stop
        if not active.any():
            break
        keep = np.where(active[:, None], new, keep)
        if it < n_iter - 1:  # the line the next round tests (the last round's is returned)
            fit = np.where(active[:, None], line(keep), fit)
    return fit if Y.ndim == 2 else fit[0]


def _noise_sd(y, order=1):
    """Noise sd of ``y`` from the MAD of its differences of ``order`` 1 or 2 (variance 2 and 6 x
    sd^2 for white noise). Second differences hardly see a smooth signal, where first differences
    take a context full of bands' slopes for noise."""
    d = np.diff(y, order)
    return float(1.4826 * median1d(np.abs(d - median1d(d))) / np.sqrt((2.0, 6.0)[order - 1])) + 1e-300


def _shift(y, s):
    """``y`` resampled at ``u + s`` (linear; edge values outside)."""
    u = np.arange(y.size, dtype=float)
    return np.interp(u + s, u, y)


def _best_lag(a, ref, center, span):
    """Shift ``s`` (|s - center| <= span) maximising sum_u a(u) ref(u - s), sub-row."""
    lags = np.arange(int(np.floor(center - span)), int(np.ceil(center + span)) + 1)
    n = a.size
    score = np.empty(lags.size)
    for k, s in enumerate(lags):
        if s >= 0:
            score[k] = a[s:] @ ref[: n - s] if s < n else -np.inf
        else:
            score[k] = a[: n + s] @ ref[-s:] if -s < n else -np.inf
    k = int(np.argmax(score))
    best = float(lags[k])
    if 0 < k < lags.size - 1:
        y0, y1, y2 = score[k - 1], score[k], score[k + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            best += float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5))
    return best, float(score[k])


def _robust_poly(x, y, w, degree):
    """Weighted polynomial with outlier rejection; returns a callable."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    keep = w > 0
    if keep.sum() == 0:
        return lambda t: np.full(np.shape(t), np.nan)
    deg = int(min(degree, keep.sum() - 1))
    xm, xs = x.mean(), (x.std() or 1.0)
    for _ in range(3):
        coef = np.polyfit((x[keep] - xm) / xs, y[keep], deg, w=np.sqrt(w[keep]))
        r = np.abs(y - np.polyval(coef, (x - xm) / xs))
        new = (w > 0) & (r <= max(3.0, 3 * 1.4826 * np.median(r[keep])))
        if new.sum() <= deg or np.array_equal(new, keep):
            break
        keep = new
    return lambda t: np.polyval(coef, (np.asarray(t, float) - xm) / xs)


def _profile_peak(y, lo, hi, smooth):
    """Row of the peak of ``y`` inside rows ``lo..hi`` (the annotation's definition of a band row).

    The profile is smoothed lightly (Gaussian, ``smooth`` rows) for detection only; the rows
    around the maximum that stay within 20 % of its height (above the lowest value of the range)
    are fitted with a parabola whose vertex is the peak (sub-row); a flat top (saturated band,
    parabola not concave) gives the middle of that plateau. Returns NaN when the range is empty.
    """
    from scipy.ndimage import gaussian_filter1d

    lo, hi = max(int(lo), 0), min(int(hi), y.size - 1)
    if hi - lo < 2:
        return float("nan")
    ys = gaussian_filter1d(y, smooth) if smooth > 0 else y
    seg = ys[lo:hi + 1]
    k = int(np.argmax(seg))
    height = seg[k] - seg.min()
    if not height > 0:
        return float("nan")
    thr = seg[k] - 0.2 * height
    a = k
    while a > 0 and seg[a - 1] >= thr:
        a -= 1
    b = k
    while b < seg.size - 1 and seg[b + 1] >= thr:
        b += 1
    if b - a < 2:  # too sharp for a fit: three-point parabola (at the range's edge: the maximum)
        if 0 < k < seg.size - 1:
            y0, y1, y2 = seg[k - 1], seg[k], seg[k + 1]
            den = y0 - 2 * y1 + y2
            off = float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5)) if den < 0 else 0.0
            return float(lo + k + off)
        return float(lo + k)
    u = np.arange(a, b + 1, dtype=float)
    c2, c1, _ = np.polyfit(u - k, seg[a:b + 1], 2)
    if c2 < 0:
        return float(lo + np.clip(k - c1 / (2 * c2), a, b))
    return float(lo + 0.5 * (a + b))


def _band_support(r, c, s, noise, floor=0.02):
    """Rows ``(a, b)`` a band covers in ``r`` (its profile with baseline and neighbours removed).

    ``r`` is smoothed lightly (Gaussian, ``0.3 s`` rows, 1-2; a detection copy); from its maximum within ``max(3, s)``
    rows of ``c`` the band extends while it stays above ``floor`` of that maximum and keeps falling
    (within a noise sd), and then on
    each side by as many rows again as it took to fall from half the maximum to ``floor`` (the
    tail below the floor: a Gaussian band ends ~4.4 sd out, a flat-topped band ~4 edge widths
    past its plateau, a tailing band ~3 tail lengths past its half maximum). Returns None when
    the band is too weak for that floor to lie above 3 noise sd (its extent would follow
    noise).
    """
    from scipy.ndimage import gaussian_filter1d

    n = r.size
    sm = float(np.clip(0.3 * s, 1.0, 2.0))
    rs = gaussian_filter1d(r, sm)
    ns = noise / np.sqrt(2.0 * np.sqrt(np.pi) * sm)
    lo = int(np.clip(np.floor(c - max(3.0, s)), 0, n - 1))
    hi = int(np.clip(np.ceil(c + max(3.0, s)), lo, n - 1))
    k = lo + int(np.argmax(rs[lo:hi + 1]))
    height = float(rs[k])
    # the floor: ``floor`` of the maximum, or 3 noise sd when that is higher (the noise sd of
    # a profile full of steep band edges comes out high); a band whose floor would have to
    # lie above a quarter of its maximum is too weak to show its extent
    thr = max(floor * height, 3.0 * ns)
    if not height > 0 or thr > 0.25 * height:
        return None
    ends = []
    for step in (-1, 1):
        j = k
        while 0 <= j + step < n and rs[j + step] > 0.5 * height:
            j += step
        half = j
        # on down to the floor, or to where the profile stops falling (back to background:
        # what is left is the baseline's own shape, not the band)
        while 0 <= j + step < n and rs[j + step] > thr and rs[j + step] <= rs[j] + ns:
            j += step
        ends.append(j + step * max(abs(j - half), 2))
    return int(np.clip(ends[0], 0, n - 1)), int(np.clip(ends[1], 0, n - 1))


def _local_rows(x, rows, good, k=3, tol=3.0):
    """Row each lane's band is expected at, from its nearest well-measured lanes.

    A line through the ``k`` strong lanes (``good``) nearest in ``x`` (a strong lane's own row
    and its ``k`` nearest strong neighbours for a strong lane), so a steep or uneven smile is followed locally (a quadratic through all lanes cannot follow a
    band that drops 57 rows over 10 lanes, and puts the end lanes 16-25 rows off). A strong lane
    off its local line by more than ``tol`` rows, and off the robust quadratic through all
    strong lanes too, is an outlier and does not take part in its neighbours' lines. Returns
    the expected row per lane, shape (n_lanes,).
    """
    x = np.asarray(x, float)
    rows = np.asarray(rows, float)
    use = np.asarray(good, bool).copy()
    quad = _robust_poly(x, rows, np.where(use, 1.0, 0.0), 2)(x)

    def lines(use):
        out = np.empty(x.size)
        for i in range(x.size):
            cand = np.flatnonzero(use)
            if cand.size == 0:
                out[i] = quad[i]
                continue
            # a strong lane is one of its own k + 1 (its row is data too, the outlier test
            # below removes it when it disagrees); a weak lane takes the k nearest
            near = cand[np.argsort(np.abs(x[cand] - x[i]), kind="stable")[:k + int(use[i])]]
            if near.size == 1 or np.ptp(x[near]) == 0:
                out[i] = rows[near].mean()
            else:
                b, a = np.polyfit(x[near], rows[near], 1)
                out[i] = a + b * x[i]
        return out

    loc = lines(use)
    off = use & (np.abs(rows - loc) > tol) & (np.abs(rows - quad) > tol)
    if off.any() and (use & ~off).sum() >= 2:
        use &= ~off
        loc = lines(use)
    return loc


def _plateau(y, lo, hi):
    """Rows ``(a, b)`` of a flat top (clipped / saturated band) of ``y`` in ``lo..hi``, or None.

    A flat top: the run of rows within 5 % of the maximum (height above the range's minimum) is at
    least 4 rows long and at least 2.5 times as long as the mean fall from 95 % to 50 % on its two
    sides. A Gaussian band has a run/fall ratio below 1 and the simulator's touching neighbours
    (1.8-3 sd apart) at most 1.7, while the clipped film bands of the real set reach 3-5: a band
    clipped at its top has steep sides.
    """
    seg = np.asarray(y[max(lo, 0):hi + 1], float)
    if seg.size < 6:
        return None
    k = int(np.argmax(seg))
    base = seg.min()
    hgt = seg[k] - base
    if not hgt > 0:
        return None
    v = (seg - base) / hgt
    a = k
    while a > 0 and v[a - 1] >= 0.95:
        a -= 1
    b = k
    while b < v.size - 1 and v[b + 1] >= 0.95:
        b += 1
    if b - a + 1 < 4:
        return None
    la = a
    while la > 0 and v[la - 1] >= 0.5:
        la -= 1
    lb = b
    while lb < v.size - 1 and v[lb + 1] >= 0.5:
        lb += 1
    if la == 0 or lb == v.size - 1:
        return None
    fall = max(0.5 * ((a - la) + (lb - b)), 1.0)
    if (b - a + 1) >= 2.5 * fall:
        return (max(lo, 0) + a, max(lo, 0) + b)
    return None


def _detect_components(C, max_components=5, min_area=0.12, f_min=20.0, no_split=None,
                       min_sep=0.8, window=None, first_look="local", info=None):
    """Decompose the consensus profile into Gaussian components (centres, sigmas, areas).

    Components are added one at a time (at the residual's maximum, or by splitting the widest
    component in two) while the fit improves significantly (F-like ratio ``f_min``) and the new
    component holds at least ``min_area`` of the largest one. With ``window`` (rows ``(lo, hi)``
    of ``C``), the peak that sets the detection's scale and the "largest one" are those inside
    the window: a strong band beside it in the context does not hide a weak target.

    ``first_look`` sets where the search starts: ``"local"`` (default) takes the noise from second
    differences and the first band width at half its height above the valleys towards the
    detected peaks beside it; ``"steep"`` as ``"local"``, but the width twice the half width on the
    peak's steeper side (the band's own side, where the other holds a tail or a neighbour with no
    valley towards it); ``"global"`` takes the noise from first differences and the width down to
    the context's lowest row (the search of earlier versions: in a context of touching bands it
    sees fewer peaks and a wider band, and from there the search may end elsewhere). ``info`` (a
    dict, optional) receives ``peaks``, the number of peaks the first look found, and ``sides``,
    the first peak's half widths above and below it (``"local"`` and ``"steep"``).
    """
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import find_peaks, peak_widths

    # (second differences: in a context of touching bands, first differences are their slopes, and
    # a "noise" of 8 % of the height hid two bands 3 sd beside the target: one broad piece was fitted)
    noise = _noise_sd(C, 1 if first_look == "global" else 2)
    Cs = gaussian_filter1d(C, 1.5)
    wl, wh = (0, C.size - 1) if window is None else (max(int(window[0]), 0),
                                                      min(int(window[1]), C.size - 1))
    height = float(Cs[wl:wh + 1].max() - np.median(Cs))
    peaks, _ = find_peaks(Cs, prominence=max(4 * noise, 0.1 * height))
    if info is not None:
        info["peaks"] = int(peaks.size)
    if peaks.size == 0:
        return np.empty(0), np.empty(0), np.empty(0)
    pin = peaks[(peaks >= wl) & (peaks <= wh)]
    top = pin[np.argmax(Cs[pin])] if pin.size else peaks[np.argmax(Cs[peaks])]
    # its width at half its height above the valleys towards the detected peaks beside it (the
    # profile's ends where there is none): measured from the lowest point of the whole context, the
    # half height of a band between two neighbours lay below the valleys and the "width" spanned
    # all three (4x too wide: rows binned over the bands, one broad piece fitted)
    k = int(np.searchsorted(peaks, top))  # (top is one of the peaks)
    lo_p = int(peaks[k - 1]) if k > 0 else 0
    hi_p = int(peaks[k + 1]) if k < peaks.size - 1 else C.size - 1
    lv = lo_p + int(np.argmin(Cs[lo_p:top + 1]))
    rv = top + int(np.argmin(Cs[top:hi_p + 1]))
    prom = float(Cs[top] - max(Cs[lv], Cs[rv]))
    if prom > 0 and first_look in ("local", "steep"):
        _, _, lip, rip = peak_widths(Cs, [top], rel_height=0.5,
                                     prominence_data=(np.array([prom]), np.array([lv]), np.array([rv])))
        sides = (top - float(lip[0]), float(rip[0]) - top)
        fwhm = 2.0 * min(sides) if first_look == "steep" else sides[0] + sides[1]
        if info is not None:
            info["sides"] = sides
    else:
        fwhm = peak_widths(Cs, [top], rel_height=0.5)[0][0]
    sg = float(np.clip(fwhm / 2.355, 1.5, C.size / 6))
    # bin rows so that a band spans ~3 sd of ~3 bins: the pixel-integrated model stays exact
    b = max(1, int(sg // 3))
    nb = C.size // b
    C = C[: nb * b].reshape(nb, b).sum(1)
    peaks = peaks[peaks < nb * b] // b
    sg, top = sg / b, top // b
    tol = max(3.0, sg)

    def fit(cs, ss):
        # (scipy's solver: the trials are compared by their residuals and parameters, and the
        # rules downstream were set on its minima; bounded_lm, which reaches lower minima, ends
        # at other decompositions of skewed bands: accuracy.py "shapes" up to 38 % worse)
        return fit_peaks(C, cs, ss, degree=2, center_tol=tol, sigma_range=(0.5, 1.6), tol=1e-6,
                         max_nfev=60, solver="trf")

    def ok(f):
        a = f["areas"]
        cen = f["centers"] * b + (b - 1) / 2.0
        inw = (cen >= wl) & (cen <= wh)
        ref = a[inw].max() if window is not None and inw.any() else a.max()
        good = a.min() >= min_area * ref and (
            a.size < 2 or np.min(np.diff(np.sort(f["centers"]))) >= min_sep * np.median(f["sigmas"]))
        if good and no_split is not None:  # one flat-topped band is not two
            inside = (f["centers"] >= no_split[0] / b - 1) & (f["centers"] <= no_split[1] / b + 1)
            good = inside.sum() <= 1
        return good

    centers = [float(p) for p in peaks] or [float(top)]
    if no_split is not None:  # peaks on a plateau: one band at its middle
        lo_b, hi_b = no_split[0] / b - 1, no_split[1] / b + 1
        centers = [c for c in centers if not lo_b <= c <= hi_b] + [0.5 * (lo_b + hi_b)]
    best = fit(centers, [sg] * len(centers))
    while len(best["centers"]) < max_components:
        c, sig = list(best["centers"]), list(best["sigmas"])
        r = gaussian_filter1d(C - best["baseline"] - best["components"].sum(1), sg / 3)
        trials = []
        if r.max() > 3 * best["residual_sd"] / np.sqrt(max(sg, 1.0)):
            trials.append(fit(c + [float(np.argmax(r))], sig + [sg]))
        w = int(np.argmax(sig))
        if len(c) == 1 or sig[w] > 1.2 * np.median(sig):
            trials.append(fit(c[:w] + [c[w] - 0.8 * sig[w], c[w] + 0.8 * sig[w]] + c[w + 1:],
                              sig[:w] + [0.7 * sig[w]] * 2 + sig[w + 1:]))
        trials = [t for t in trials if ok(t)]
        if not trials:
            break
        new = min(trials, key=lambda t: t["residual_sd"])
        n_par = 4.0
        f_ratio = (best["residual_sd"] ** 2 / new["residual_sd"] ** 2 - 1.0) * (C.size / n_par)
        if f_ratio < f_min:
            break
        best = new
    order = np.argsort(best["centers"])
    return (b * best["centers"][order] + (b - 1) / 2.0, b * best["sigmas"][order],
            best["areas"][order])


def _joint_fit(Y, shifts0, c0, s0, *, shift_tol=6.0, center_tol=4.0, sigma_range=(0.5, 1.6),
               degree=1, max_nfev=40, tol=1e-6, weights=None):
    """Fit every lane's profile with one band pattern: shared component rows and widths.

    Lane ``l``'s profile ``Y[l]`` is modelled as ``sum_k a[l, k] G(u; c_k + shift_l, sigma_k)`` plus
    a polynomial baseline of ``degree``: the components' rows relative to each other and their
    widths are the same in every lane, each lane moves by its own ``shift_l`` (smile, tilt), and
    its areas are its own (a doublet whose members change strength from lane to lane keeps its
    members apart, where aligning lanes one to another lines up different members). The areas and
    baselines are solved linearly per lane for every trial (variable projection, Kaufman's
    Jacobian, all lanes at once); rows, widths and shifts by bounded non-linear least squares. The
    mean shift is held at the mean of ``shifts0`` (the pattern's rows are otherwise free).
    ``weights`` (shape (L, n), optional) weighs each lane's rows in the fit: 0 for the clipped
    rows of a flat-topped (saturated) band, whose flanks still tell where its members are; a lane
    left with fewer weighted rows than its areas and baseline terms is left out (areas 0).

    Returns a dict: ``centers``, ``sigmas`` (shape (k,)), ``shifts`` (shape (L,)), ``areas``
    (shape (L, k)), ``rss`` (float), ``components`` (shape (L, n, k), each lane's fitted bands).
    """
    from scipy.special import ndtr

    from blotquant.background import _poly_basis

    Y = np.asarray(Y, float)
    L, n = Y.shape
    W = np.ones((L, n)) if weights is None else np.asarray(weights, float)
    unweighted = bool((W == 1.0).all())  # (x * 1.0 is x: the products below are skipped)
    k = np.asarray(c0).size
    P = _poly_basis(n, degree)
    few = (W > 0).sum(1) < k + P.shape[1]
    if not unweighted and few.any():
        # a lane with fewer weighted rows than areas and baseline terms to fit (a clipped
        # plateau over nearly all of it) cannot tell its areas: it is left out (areas 0), so
        # that an arbitrary solution does not vote in the search's area rules
        W = np.where(few[:, None], 0.0, W)
    Yw = Y * W
    c0 = np.asarray(c0, float)
    s0 = np.asarray(s0, float)
    sh0 = np.asarray(shifts0, float)
    # the n + 1 pixel edges: row u spans [u - 0.5, u + 0.5], and u + 0.5 = (u + 1) - 0.5 exactly,
    # so the cumulative normal is evaluated once per edge, not twice per row. Arrays over bands
    # and rows are laid out (lane, band, row): the rows are the long, contiguous axis.
    edges = np.arange(n + 1, dtype=float) - 0.5
    # The baseline's columns never move: its (weighted) span is made orthonormal once (Qp), the
    # profiles and every trial's band columns are projected off it, and only the bands' own
    # columns are factorised per trial. [Qp | Qg] is then an orthonormal basis of [bands |
    # baseline]: the same least squares and projector as a QR of the whole design, for less.
    if unweighted:
        Qp = np.linalg.qr(P)[0]  # (n, p), shared by the lanes
        QpT = Qp.T
    else:
        Qp = np.linalg.qr(P[None, :, :] * W[:, :, None])[0]  # (L, n, p)
        QpT = np.swapaxes(Qp, 1, 2)
    Yp = Yw - (Yw[:, None, :] @ Qp @ QpT)[:, 0, :]
    gauge = float(sh0.mean())
    wg = np.sqrt(float(n))  # weight of the mean-shift row
    cache = {}

    def unpack(theta):
        return theta[:k], theta[k:2 * k], theta[2 * k:]

    def solve(theta):
        key = theta.tobytes()
        if cache.get("key") != key:
            c, s, sh = unpack(theta)
            cl = c[None, :] + sh[:, None]  # (L, k)
            z = (edges[None, None, :] - cl[:, :, None]) / s[None, :, None]  # (L, k, n + 1)
            F = ndtr(z)
            Gt = F[:, :, 1:] - F[:, :, :-1]  # each band's share of each row (L, k, n)
            Gpt = Gt if unweighted else Gt * W[:, None, :]
            Gpt = Gpt - Gpt @ Qp @ QpT
            Qg, Rg = np.linalg.qr(np.swapaxes(Gpt, 1, 2))  # Qg (L, n, k)
            b = Yp[:, None, :] @ Qg  # (L, 1, k)
            try:
                coef = np.linalg.solve(Rg, np.swapaxes(b, 1, 2))[..., 0]
            except np.linalg.LinAlgError:  # a component moved off every weighted row of a lane
                coef = (np.linalg.pinv(Rg) @ np.swapaxes(b, 1, 2))[..., 0]
            r = (coef[:, None, :] @ Gpt)[:, 0, :] - Yp  # the weighted residual, baseline fitted
            cache.update(key=key, value=(Gt, Qg, coef, z, r))
        return cache["value"]

    def resid(theta):
        r = solve(theta)[4]
        return np.append(r.ravel(), wg * (theta[2 * k:].mean() - gauge))

    def normal(theta, r):
        """``J.T @ J`` and ``J.T @ r`` of the (projected) Jacobian ``J`` at ``theta``.

        Lane ``l``'s shift moves only lane ``l``'s rows, so ``J`` is built per lane from its
        rows' derivatives by rows, widths and its own shift (``2 k + 1`` columns, not
        ``2 k + L``), and the normal equations are assembled from the lanes' blocks.
        """
        c, s, sh = unpack(theta)
        _, Qg, coef, z, _ = solve(theta)
        pe = np.exp(-0.5 * z * z)  # per edge; row u: zp = z[u + 1], zm = z[u]
        zpe = z * pe
        a = (coef / (np.sqrt(2.0 * np.pi) * s))[:, :, None]
        Dt = np.empty((L, 2 * k + 1, n))  # derivatives by rows, widths, the lane's shift
        np.multiply(pe[:, :, :-1] - pe[:, :, 1:], a, out=Dt[:, :k])
        np.multiply(zpe[:, :, :-1] - zpe[:, :, 1:], a, out=Dt[:, k:2 * k])
        Dt[:, 2 * k] = Dt[:, :k].sum(1)
        if not unweighted:
            Dt *= W[:, None, :]
        Dt -= Dt @ Qp @ QpT
        Dt -= Dt @ Qg @ np.swapaxes(Qg, 1, 2)
        M = Dt @ np.swapaxes(Dt, 1, 2)  # (L, 2k + 1, 2k + 1)
        v = (Dt @ r[:-1].reshape(L, n, 1))[..., 0]  # (L, 2k + 1)
        m = 2 * k + L
        H = np.zeros((m, m))
        H[:2 * k, :2 * k] = M[:, :2 * k, :2 * k].sum(0)
        H[:2 * k, 2 * k:] = M[:, :2 * k, 2 * k].T
        H[2 * k:, :2 * k] = M[:, 2 * k, :2 * k]
        H[2 * k + np.arange(L), 2 * k + np.arange(L)] = M[:, 2 * k, 2 * k]
        H[2 * k:, 2 * k:] += (wg / L) ** 2  # the mean-shift row
        g = np.empty(m)
        g[:2 * k] = v[:, :2 * k].sum(0)
        g[2 * k:] = v[:, 2 * k] + (wg / L) * r[-1]
        return H, g

    theta0 = np.concatenate([c0, s0, sh0])
    lo = np.concatenate([c0 - center_tol, s0 * sigma_range[0], sh0 - shift_tol])
    hi = np.concatenate([c0 + center_tol, s0 * sigma_range[1], sh0 + shift_tol])
    # projected Levenberg-Marquardt on the normal equations (a few dozen parameters; scipy's
    # trust-region SVD of the stacked Jacobian costs ~100x more per step). Not
    # background.bounded_lm: this loop clips steps at the bounds and stops after max_nfev
    # steps, often short of the minimum; the search's rules (min_area, min_sep, f_min) were set
    # on where it stops, and bounded_lm's lower minima changed the band counts it accepts
    # (accuracy.py "shapes" and "hard" worse, up to 9 % in a lane)
    theta = np.clip(theta0, lo, hi)
    r = resid(theta)
    cost = r @ r
    lam = 1e-3
    for _ in range(max_nfev):
        H, g = normal(theta, r)
        dH = H.diagonal() + 1e-12
        improved = False
        while lam < 1e10:
            step = np.linalg.solve(H + lam * np.diag(dH), -g)
            new = np.minimum(np.maximum(theta + step, lo), hi)  # (np.clip, without its overhead)
            rn = resid(new)
            cn = rn @ rn
            if cn < cost:
                improved = True
                break
            lam *= 4.0
        if not improved:
            break
        done = cost - cn <= tol * cost and np.all(np.abs(new - theta) <= 1e-3)
        theta, r, cost = new, rn, cn
        lam = max(lam / 3.0, 1e-9)
        if done:
            break
    c, s, sh = unpack(theta)
    Gt, _, coef, _, r = solve(theta)
    return {"centers": c.copy(), "sigmas": s.copy(), "shifts": sh.copy(),
            "areas": coef.copy(), "rss": float((r * r).sum()),
            "components": np.swapaxes(Gt, 1, 2) * coef[:, None, :], "residual": -r}


def _joint_components(Y, shifts, cc, cs, *, max_components=5, min_area=0.12, f_min=20.0,
                      min_sep=0.8, no_split=None, shift_tol=3.0, inside=None, weights=None):
    """Refine the consensus components by a joint fit over the lanes and split what it resolves.

    Starting from the consensus decomposition (``cc``, ``cs`` in profile rows, ``shifts`` the lanes'
    alignment), :func:`_joint_fit` places the components once for all lanes; then, as in
    :func:`_detect_components`, the widest component is tried as two, and a component is tried at
    the largest aligned residual, accepted when the summed residual drops significantly (the
    consensus's F-like ratio on one lane's rows) and every component holds ``min_area`` of the
    largest in some lane. ``weights`` as in :func:`_joint_fit`. Returns the :func:`_joint_fit`
    result.
    """
    # bin rows of very wide bands (a band still spans ~6 bins per sd): same model, less work
    b = max(1, int(np.median(cs) // 6))  # (rarely > 1: bands under 6 rows sd are not binned)
    if b > 1:
        nb = Y.shape[1] // b
        Y = Y[:, : nb * b].reshape(Y.shape[0], nb, b).sum(2)
        if weights is not None:  # a bin with a clipped row is left out
            weights = np.asarray(weights, float)[:, : nb * b].reshape(Y.shape[0], nb, b).min(2)
        shifts, cc, cs = np.asarray(shifts) / b, (np.asarray(cc) - (b - 1) / 2.0) / b, \
            np.asarray(cs) / b
        shift_tol = shift_tol / b
        if no_split is not None:
            no_split = (no_split[0] / b, no_split[1] / b)
        if inside is not None:
            inside = (inside[0] / b, inside[1] / b)
    best = _joint_fit(Y, shifts, cc, cs, shift_tol=shift_tol, weights=weights)
    n = Y.shape[1]
    while best["centers"].size < max_components:
        c, s = list(best["centers"]), list(best["sigmas"])
        trials = []
        for w in range(len(c)):
            if no_split is not None and no_split[0] - 1 <= c[w] <= no_split[1] + 1:
                continue
            if inside is not None and not inside[0] <= c[w] <= inside[1]:
                continue  # only the window's bands are worth resolving
            trials.append((c[:w] + [c[w] - 0.8 * s[w], c[w] + 0.8 * s[w]] + c[w + 1:],
                           s[:w] + [0.6 * s[w]] * 2 + s[w + 1:]))
        from scipy.ndimage import gaussian_filter1d

        r = np.mean([_shift(rl, sl) for rl, sl in zip(best["residual"], best["shifts"])], 0)
        r = gaussian_filter1d(r, float(np.median(s)) / 3.0)
        trials.append((c + [float(np.argmax(r))], s + [float(np.median(s))]))
        fits = []
        for tc, ts in trials:
            order = np.argsort(tc)
            f = _joint_fit(Y, shifts, np.asarray(tc)[order], np.asarray(ts)[order],
                           center_tol=max(4.0, float(np.max(ts))), shift_tol=shift_tol,
                           weights=weights)
            a = np.abs(f["areas"]).max(0)
            cs_ = np.sort(f["centers"])
            if (a.min() >= min_area * a.max()
                    and np.min(np.diff(cs_)) >= min_sep * np.median(f["sigmas"])
                    and (f["areas"] >= -0.05 * a.max()).all()):
                fits.append(f)
        if not fits:
            break
        new = min(fits, key=lambda f: f["rss"])
        f_ratio = (best["rss"] / max(new["rss"], 1e-300) - 1.0) * (n / 4.0)
        if f_ratio < f_min:
            break
        best = new
    order = np.argsort(best["centers"])
    return {"centers": b * best["centers"][order] + (b - 1) / 2.0,
            "sigmas": b * best["sigmas"][order], "shifts": b * best["shifts"],
            "areas": best["areas"][:, order], "rss": best["rss"]}


def _dips(c1, c2, s1, s2, a1, a2):
    """True when the sum of two Gaussians (areas ``a1``, ``a2``) dips by 5 % between its summits."""
    u = np.linspace(c1 - 0.5 * s1, c2 + 0.5 * s2, 401)
    y = (a1 / s1 * np.exp(-0.5 * ((u - c1) / s1) ** 2)
         + a2 / s2 * np.exp(-0.5 * ((u - c2) / s2) ** 2))
    i1, i2 = int(np.argmin(np.abs(u - c1))), int(np.argmin(np.abs(u - c2)))
    h = (i1 + i2) // 2
    m1, m2 = y[: h + 1].max(), y[h:].max()
    k1 = int(np.argmax(y[: h + 1]))
    k2 = h + int(np.argmax(y[h:]))
    if k2 > k1 + 1:
        return bool(y[k1:k2 + 1].min() <= 0.95 * min(m1, m2) and 0 < k1 and k2 < u.size - 1)
    return False


def _one_band_fit(C, c1, c2, s1, s2):
    """How much better two Gaussians describe rows ``c1 - 3 s1 .. c2 + 3 s2`` of ``C`` than one band.

    The one-band model is a flat-topped (or sloped-top) hump with its own edge width on each side:
    ``(a + b (u - m)) (Phi((u - l) / sl) - Phi((u - r) / sr))`` (a box of any length smoothed by
    Gaussians, the shape of a broad, overloaded or clipped band), against two Gaussians with their
    own rows and widths; both with a quadratic baseline and the same number of parameters.
    Returns ``(rss_one - rss_two) / rss_two * n_rows``: large (> ~20) when the data need two
    bands, near zero or negative when one broad hump explains them as well.
    """
    from scipy.optimize import least_squares
    from scipy.special import ndtr

    from blotquant.background import _poly_basis

    a = max(int(np.floor(c1 - 3 * s1)), 0)
    b = min(int(np.ceil(c2 + 3 * s2)), C.size - 1)
    y = np.asarray(C[a:b + 1], float)
    n = y.size
    u = np.arange(a, b + 1, dtype=float)
    P = _poly_basis(n, 2)
    m = 0.5 * (c1 + c2)

    def rss_of(A):
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        r = A @ coef - y
        return r

    def r_two(t):
        return rss_of(np.hstack([gaussian_basis(n, t[:2] - a, t[2:]), P]))

    def r_one(t):
        box = ndtr((u - t[0]) / t[2]) - ndtr((u - t[1]) / t[3])
        return rss_of(np.column_stack([box, box * (u - m) / (c2 - c1 + 1e-9), P]))

    s = 0.5 * (s1 + s2)
    two = least_squares(r_two, [c1, c2, s1, s2], bounds=([c1 - 3 * s, c2 - 3 * s, 0.3 * s1, 0.3 * s2],
                                                          [c1 + 3 * s, c2 + 3 * s, 2 * s1, 2 * s2]),
                        max_nfev=200)
    one = least_squares(r_one, [c1, c2, s1, s2],
                        bounds=([c1 - 3 * s, c1 - 2 * s, 0.2 * s1, 0.2 * s2],
                                [c2 + 2 * s, c2 + 3 * s, 3 * s1, 3 * s2]), max_nfev=200)
    r2 = float(two.fun @ two.fun)
    r1 = float(one.fun @ one.fun)
    return (r1 - r2) / max(r2, 1e-300) * n


def _sloped_hump_rss(y, c1, c2, s1, s2):
    """Residual sum of squares of one flat- or sloped-topped hump (see :func:`_one_band_fit`)
    over a quadratic baseline fitted to ``y``, its edges started at ``c1`` and ``c2``."""
    from scipy.optimize import least_squares
    from scipy.special import ndtr

    from blotquant.background import _poly_basis

    n = y.size
    u = np.arange(n, dtype=float)
    P = _poly_basis(n, 2)
    m = 0.5 * (c1 + c2)

    def r_one(t):
        box = ndtr((u - t[0]) / t[2]) - ndtr((u - t[1]) / t[3])
        A = np.column_stack([box, box * (u - m) / (c2 - c1 + 1e-9), P])
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        return A @ coef - y

    s = 0.5 * (s1 + s2)
    one = least_squares(r_one, [c1, c2, s1, s2],
                        bounds=([c1 - 3 * s, c1 - 2 * s, 0.2 * s1, 0.2 * s2],
                                [c2 + 2 * s, c2 + 3 * s, 3 * s1, 3 * s2]), max_nfev=200)
    return float(one.fun @ one.fun)


def _shared_shape_excess(C, c1, c2, s1, s2, a1, a2):
    """How much better two bands of one shape describe rows ``c1 - 5 s1 .. c2 + 5 s2`` of ``C``.

    The pair of Gaussian pieces (rows ``c1 < c2``, widths ``s1``, ``s2``, areas ``a1``, ``a2``)
    is one band or two. One band: the best of a band of its own shape from the family of
    :func:`blotquant.bandmodel.shape_basis` (a flat top of any length smoothed by a Gaussian,
    with an exponential tail up or down the lane: Gaussian, tailing and flat-topped bands) and
    the flat- or sloped-topped hump of :func:`_one_band_fit`. Two bands: two bands of one shared
    shape of that family (bands of a row run alike: a neighbour looks like the target), each at
    its own row with its own area. Both over a quadratic baseline. Returns ``(excess, best)``:
    ``excess = (rss_one - rss_two) / rss_two * n_rows`` is large (> ~20, the threshold of
    :func:`_one_band_fit`) when the data need two bands; near zero or negative when the pieces
    are one tailing or flat-topped band's, which a Gaussian decomposition splits into pieces
    that two free Gaussians fit better than one sloped hump (a tail piece was called a
    neighbour: an isolated tailing band lost 4-7 % of its volume).

    ``excess`` fits the two-band side from one start (what the grouping decides on); ``best()``
    reads the test with the two-band side fitted from three more starts as well (tailing either
    way, a flat top; the lowest residual), fitted only when asked (more starts can only raise
    the reading).
    The single start can stop in another minimum than the best (ZDF B2AR Oct8 GAPDH: 19.5 or
    21.5 against 20 for inputs 1e-13 apart), so where the two readings fall on either side of the
    threshold the data do not decide between one band and two.
    """
    from blotquant import bandmodel as bm

    # (5 widths each side: over fewer rows a flat top of the pair's length fills the rows and
    # the baseline takes it up)
    a = max(int(np.floor(c1 - 5 * s1)), 0)
    b = min(int(np.ceil(c2 + 5 * s2)), C.size - 1)
    y = np.asarray(C[a:b + 1], float)
    n = y.size
    big = (c1, s1) if a1 >= a2 else (c2, s2)
    s = float(min(s1, s2))
    one = bm.Pattern(np.array([big[0] - a]), np.array([s]), np.zeros(1), np.full(1, 0.3))
    two = bm.Pattern(np.array([c1 - a, c2 - a]), np.full(2, s), np.zeros(2), np.full(2, 0.3))
    # one band: started as a tailing band (either way), a Gaussian, and a flat top spanning
    # both pieces, so that the fit reaches whichever member of the family the data are
    starts = [bm.Pattern(one.centers, one.sigmas, np.full(1, tau * s), one.lengths)
              for tau in (-1.0, 0.0, 1.0)]
    starts.append(bm.Pattern(np.array([0.5 * (c1 + c2) - a]), np.array([s]), np.zeros(1),
                             np.array([max(c2 - c1, 0.3)])))
    r1 = min(bm.fit_pattern(y, p, degree=2, center_tol=max(4.0, c2 - c1), max_nfev=60)[1]
             for p in starts)
    # and a hump whose top slopes (a broad band brighter on one side, as the real GAPDH bands of
    # tests/test_bands_real.py): the one-band model of :func:`_one_band_fit`, on the same rows
    r1 = min(r1, _sloped_hump_rss(y, c1 - a, c2 - a, s1, s2))
    _, r2 = bm.fit_pattern(y, two, degree=2, shared=True, center_tol=max(2.0, 0.5 * s),
                           max_nfev=60)
    excess = (r1 - r2) / max(r2, 1e-300) * n

    def best():
        starts2 = [bm.Pattern(two.centers, two.sigmas, np.full(2, tau * s), np.full(2, length))
                   for tau, length in ((-1.0, 0.3), (1.0, 0.3), (0.0, 0.5 * max(c2 - c1, 0.6)))]
        r2b = min([r2] + [bm.fit_pattern(y, p, degree=2, shared=True,
                                         center_tol=max(2.0, 0.5 * s), max_nfev=60)[1]
                          for p in starts2])
        return (r1 - r2b) / max(r2b, 1e-300) * n

    return excess, best


def _shared_shapes(C, cc, cs, ca, groups, T, t):
    """The bands of the consensus ``C`` as copies of one band shape, for splitting shared rows.

    Bands of a row run alike (the same gel, the same transfer): the target (components ``T``,
    main component ``t``) and every other band of the context (the other components, grouped by
    ``groups``) are fitted to ``C`` as bands of one shape of the family of
    :func:`blotquant.bandmodel.shape_basis` (a flat top smoothed by a Gaussian, with an
    exponential tail), each at its own row with its own area, over a cubic baseline. Components
    over twice the target's main width are smear, not bands: they stay Gaussian (subtracted from
    ``C`` before the fit, kept as columns of the split). The target is one band, or one copy per
    band where ``T`` holds several groups (a window drawn around a doublet asks for both). Returns
    ``((pattern, broad, nt), record)``: the target's ``nt`` bands first in ``pattern``, ``broad``
    the indices of the smear components; ``(None, None)`` when the target has no other band
    beside it or the fit fails.
    """
    from blotquant import bandmodel as bm

    n = C.size
    inT = set(int(j) for j in T)
    others = [k for k in range(cc.size) if k not in inT]
    bandlike = [k for k in others if cs[k] <= _SMEAR_WIDTH * cs[t]]
    broad = np.array([k for k in others if cs[k] > _SMEAR_WIDTH * cs[t]], int)
    if not bandlike:
        return None, None
    # the target is one band, or several where the window holds several (a doublet asked for as
    # one target): one copy of the shape per band of it, the target's share their sum
    tbands = [[int(k) for k in T if groups[k] == g] for g in np.unique(groups[T])]
    main = next(b for b in tbands if t in b)
    bands = tbands + [[k for k in bandlike if groups[k] == g] for g in np.unique(groups[bandlike])]
    Cb = C - (gaussian_basis(n, cc[broad], cs[broad]) @ ca[broad] if broad.size else 0.0)
    rows0 = np.array([float(cc[b][int(np.argmax(ca[b]))]) for b in bands])
    k = len(bands)
    # the target's pieces say which way its tail runs: their area-weighted mean beyond the main
    tau0 = float(np.clip((cc[main] * ca[main]).sum() / ca[main].sum() - cc[t], -2.5 * cs[t], 2.5 * cs[t]))
    start = bm.Pattern(rows0, np.full(k, float(cs[t])), np.full(k, tau0), np.full(k, 0.3))
    # each band moves at most half way to its nearest neighbour's start: bands keep their order
    # along the lane (a fit that let them pass each other gave the target's shape to a small
    # piece beside it and the target's rows to the neighbour: a volume of 0)
    gap = np.abs(rows0[:, None] - rows0[None, :]) + np.diag(np.full(k, np.inf))
    ctol = np.minimum(max(4.0, float(cs[t])), 0.45 * gap.min(1))
    # the fit is not convex in the shape: from the pieces' tail direction, and also tailing down,
    # tailing up and flat-topped (a single Gaussian piece gives no tail direction, and from a tail
    # of 0 the fit stays Gaussian: a skewed band and its skewed neighbour split as Gaussians gave
    # the target's tail to the neighbour, -16 to -28 %); the lowest residual is kept
    s_t = float(cs[t])
    starts = [start] + [bm.Pattern(rows0, np.full(k, s_t), np.full(k, tau), np.full(k, length))
                        for tau, length in ((s_t, 0.3), (-s_t, 0.3), (0.0, 1.5 * s_t))]
    try:
        fits = [bm.fit_pattern(Cb, st, shared=True, degree=3, center_tol=ctol) for st in starts]
        pat = min(fits, key=lambda f: f[1])[0]
        if pat.lengths[0] < 1.0 and abs(pat.taus[0]) < 0.1 * pat.sigmas[0]:
            # a flat top under a row and a tail under a tenth of the width are not told from a
            # Gaussian at row sampling: the fit then stops anywhere along that flat valley (inputs
            # 1e-15 apart gave widths 0.6 % apart, volumes 0.2 %), so the bands are Gaussian
            pat, _ = bm.fit_pattern(Cb, start, shared=True, degree=3, shapes=False,
                                    center_tol=ctol)
    except (ValueError, np.linalg.LinAlgError):
        return None, None
    if not np.all(np.isfinite(pat.centers)):
        return None, None
    record = {"sigma": float(pat.sigmas[0]), "tail": float(pat.taus[0]),
              "flat_top": float(pat.lengths[0]),
              "band_rows": [float(c) for c in pat.centers], "target_bands": len(tbands),
              "smear_components": [int(j) for j in broad]}
    return (pat, broad, len(tbands)), record


def _pair_evidence(Y, shifts, noise, cc, cs, j, sm_sd=2.0):
    """What the lanes' data say about adjacent consensus components ``j - 1`` and ``j``.

    ``Y`` (shape (L, n)): the strong lanes' detection profiles (background line removed,
    normalised to their peak), ``shifts`` their alignment (rows, consensus frame), ``noise`` their
    noise sd in the same units. Returns a dict:

    ``lane_dips``
        Lanes whose own profile (Gaussian-smoothed, ``sm_sd`` rows) dips between the two pieces'
        rows by more than 3 noise sd (and 2 % of the lower summit): two summits in the data.
    ``share_chi2``
        Reduced chi-square of the lanes' share ``a_j / (a_{j-1} + a_j)`` about their weighted mean,
        the areas from a linear fit of every lane with all components (their rows and widths held)
        and a quadratic baseline: ~1 when one band pattern (fixed ratio) fits every lane, large
        when the pieces change strength independently (two bands, or a band whose shape changes).
    ``share_spread``
        Range of those shares over the lanes.
    """
    from scipy.ndimage import gaussian_filter1d

    from blotquant.background import _poly_basis

    L, n = Y.shape
    c1, c2 = float(cc[j - 1]), float(cc[j])
    P = _poly_basis(n, 2)
    nd = 0
    shares, ses = [], []
    for lane in range(L):
        y = Y[lane]
        ys = gaussian_filter1d(y, sm_sd)
        sd = noise[lane] / np.sqrt(2.0 * np.sqrt(np.pi) * sm_sd)  # noise left after smoothing
        a, b = int(round(c1 + shifts[lane])), int(round(c2 + shifts[lane]))
        if 0 < a < b < n - 1 and b - a >= 2:
            seg = ys[a:b + 1]
            k1 = int(np.argmax(seg[: (b - a) // 2 + 1]))
            k2 = (b - a) // 2 + int(np.argmax(seg[(b - a) // 2:]))
            lo = float(seg[k1:k2 + 1].min()) if k2 > k1 else float("inf")
            top = min(seg[k1], seg[k2])
            if top - lo > max(3.0 * sd, 0.02 * top):
                nd += 1
        A = np.hstack([gaussian_basis(n, np.asarray(cc) + shifts[lane], cs), P])
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        r = y - A @ coef
        var = max(float(r @ r) / max(n - A.shape[1], 1), noise[lane] ** 2)
        cov = var * np.linalg.pinv(A.T @ A)
        p, q = coef[j - 1], coef[j]
        tot = p + q
        if tot > 0:
            g = np.array([-q, p]) / tot ** 2  # d share / d (p, q)
            se = float(np.sqrt(max(g @ cov[np.ix_([j - 1, j], [j - 1, j])] @ g, 1e-300)))
            shares.append(q / tot)
            ses.append(se)
    shares, ses = np.asarray(shares), np.asarray(ses)
    chi2, spread = 0.0, 0.0
    if shares.size >= 3:
        w = 1.0 / ses ** 2
        m = float((w * shares).sum() / w.sum())
        chi2 = float((w * (shares - m) ** 2).sum() / (shares.size - 1))
        spread = float(np.ptp(shares))
    return {"lane_dips": int(nd), "share_chi2": chi2, "share_spread": spread,
            "n_lanes": int(L)}


def _group_components(centers, sigmas, areas, evidence=None):
    """Label consensus components that belong to one band (a skewed or broad band's pieces).

    A Gaussian decomposition splits an asymmetric (tailing) band into pieces of unequal width,
    and a broad, flat-topped band into two "twins" (similar widths ~1.8 widths apart); neither
    shows a dip. Two adjacent components are kept as separate bands only when the data show two
    bands:

    * their summed curve dips between them (by at least 5 % of the smaller summit); or, for
      twins (widths within 25 %, areas within 10x, at least 1.6 widths apart), any of
    * they are at least 2.5 widths apart (two such bands leave a valley the sum shows),
    * ``evidence(j)`` (see :func:`_pair_evidence`, :func:`_one_band_fit`) reports a dip in at least
      two lanes' own profiles, shares that change from lane to lane far beyond their noise
      (reduced chi-square > 9 and a range > 0.15: independent bands; not when one hump fits the
      consensus far better, ``one_band_excess`` < -20: a broad band whose shape changes from
      lane to lane), or two bands of one shape fitting
      the consensus far better than one band of any shape (``shape_excess`` > 20, see
      :func:`_shared_shape_excess`; without it, ``one_band_excess`` > 20, two Gaussians against
      one flat- or sloped-topped hump: the simulator's touching neighbours at 1.8-3 sd, a fixed
      0.3-1x share).

    A smooth plateau or single broad hump is one band. A one-band call with no other reason for
    two, whose shape test read at its best start (``evidence(j)["_best_start"]()``) would say two,
    is marked ``undecided`` (the call stays). Returns an int label per component (sorted by
    centre) and a list of the twin decisions (dicts, for the run record).
    """
    k = len(centers)
    labels = np.zeros(k, int)
    decisions = []
    for j in range(1, k):
        c1, c2 = float(centers[j - 1]), float(centers[j])
        s1, s2 = float(sigmas[j - 1]), float(sigmas[j])
        a1, a2 = float(areas[j - 1]), float(areas[j])
        separate = _dips(c1, c2, s1, s2, a1, a2)
        ratio = max(s1, s2) / max(min(s1, s2), 1e-12)
        sep = (c2 - c1) / (0.5 * (s1 + s2))
        if (not separate and ratio <= 1.25 and sep >= 1.6
                and min(a1, a2) >= 0.1 * max(a1, a2)):
            ev = dict(evidence(j)) if evidence is not None else {}
            why = []
            if sep >= 2.5:
                why.append("separation")
            if ev.get("lane_dips", 0) >= 2:
                why.append("lane dips")
            # shares changing from lane to lane say two bands only when the consensus does not
            # say one hump far better (one_band_excess < -20: a broad band whose shape changes
            # from lane to lane, e.g. ZDF July4 GAPDH with a strong band beside it, -36 .. -43)
            if (ev.get("share_chi2", 0.0) > 9.0 and ev.get("share_spread", 0.0) > 0.15
                    and ev.get("one_band_excess", 0.0) >= -20.0):
                why.append("independent shares")
            if ev.get("shape_excess", ev.get("one_band_excess", 0.0)) > 20.0:
                why.append("two-band shape")
            separate = bool(why)
            best_start = ev.pop("_best_start", None)
            if best_start is not None and not why:
                # the shape test read at the two-band side's best fit (only a one-band call with
                # no other reason for two can turn: more starts only raise the reading): where it
                # would turn the call, the data do not decide (the call stays the single-start
                # one: a reading that changes with where one fit stopped is not evidence)
                ev["shape_excess_best_start"] = float(best_start())
                ev["undecided"] = ev["shape_excess_best_start"] > 20.0
            ev.update(pair=[j - 1, j], separation_sd=float(sep), two_bands=separate, why=why)
            decisions.append(ev)
        labels[j] = labels[j - 1] + (1 if separate else 0)
    return labels, decisions


def _half_rows(own, c):
    """First and last row of the run where ``own`` holds half its maximum, around row ``c``."""
    n = own.size
    k = int(np.clip(round(c), 0, n - 1))
    top = float(own.max())
    if not top > 0:
        return int(np.floor(c - 2)), int(np.ceil(c + 2))
    if own[k] < 0.5 * top:
        k = int(np.argmax(own))
    a = b = k
    while a > 0 and own[a - 1] >= 0.5 * top:
        a -= 1
    while b < n - 1 and own[b + 1] >= 0.5 * top:
        b += 1
    return a, b


def _model_bands(prof, shifts, strong, noise, flat, top, bottom, *, row0=0, **kw):
    """:func:`_model_bands_in` on a context that ends where the profiles are at background.

    The strips reach two window heights beyond the window; the context used ends on each side
    at the first valley of the lanes' aligned mean (smoothed, less a line under it) beyond half
    a window out, and beyond every clear peak within one window of it, so that no band is cut
    by the context's edge (a cut flank is taken for background). Rows of the results are those
    of ``prof``.
    """
    from scipy.ndimage import gaussian_filter1d

    L, n = prof.shape
    st = np.flatnonzero(strong)
    u = np.arange(n, dtype=float)
    cons = np.mean([np.interp(u + shifts[i], u, prof[i]) for i in st], 0)
    cons = gaussian_filter1d(cons - _lower_line(cons), 2.0)
    h = max(bottom - top, 8)

    def first_valley(start, stop, step):
        """First local minimum of ``cons`` from ``start`` towards ``stop`` (else the lowest)."""
        idx = np.arange(start, stop, step)
        if idx.size < 3:
            return int(np.clip(start, 0, n - 1))
        seg = cons[idx]
        for j in range(1, seg.size - 1):
            if seg[j] <= seg[j - 1] and seg[j] < seg[j + 1]:
                return int(idx[j])
        return int(idx[np.argmin(seg)])

    # (to the end of the strips, two windows out: a context cut on a band's flank would give
    # the flank to the baseline)
    lo = first_valley(max(top - h // 2, 0), -1, -1)
    hi = first_valley(min(bottom + h // 2, n - 1), n, 1)
    # a band whose peak lies within one window of the window is in the context whole, to the
    # valley beyond it: cut on its flank, the baseline would take its flank for background
    # (a clear peak: prominence of 4 noise sd of the mean, or 3 % of the window's peak)
    from scipy.signal import find_peaks

    c_noise = float(np.median(noise[st])) / np.sqrt(max(st.size, 1)) / np.sqrt(4.0 * np.sqrt(np.pi))
    win_peak = float(cons[max(top, 0):bottom + 1].max())
    pks, _ = find_peaks(cons, prominence=max(4.0 * c_noise, 0.03 * win_peak))
    above = pks[(pks < top) & (pks >= top - h)]
    below = pks[(pks > bottom) & (pks <= bottom + h)]
    if above.size:
        lo = min(lo, first_valley(int(above.min()), -1, -1))
    if below.size:
        hi = max(hi, first_valley(int(below.max()), n, 1))
    flat_c = [None if f is None else (f[0] - lo, f[1] - lo) for f in flat]
    # the model sees counts less an offset, in units of the noise: a blot times k, or plus a
    # constant, gives it the same numbers (its iterative fits and choices are then the same)
    # (rounded to 1e-6 noise sd, so that they are the same to the last bit: the band count is a
    # discrete choice, and on a blot that sits on the fence between two patterns the last bit
    # could otherwise tip it)
    off = float(np.median(prof[:, lo:hi + 1]))
    sc = float(np.median(noise)) or 1.0
    pn = np.round((prof[:, lo:hi + 1] - off) / sc, 6)
    results, notes, record = _model_bands_in(pn, np.round(shifts, 6), strong,
                                             np.round(noise / sc, 6), flat_c,
                                             top - lo, bottom - lo, row0=row0 + lo, **kw)

    def pad(v):  # a baseline, back in counts, over every row
        out = np.empty(n)
        out[lo:hi + 1] = v
        out[:lo], out[hi + 1:] = v[0], v[-1]
        return out * sc + off

    def zpad(v):  # a band's fitted counts, over every row
        out = np.zeros(n)
        out[lo:hi + 1] = v
        return out * sc

    shifted = []
    for fit, T, base, p, res, fixed in results:
        fit = dict(fit, centers=fit["centers"] + lo, areas=fit["areas"] * sc)
        res = dict(res, c=res["c"] + lo, a=res["a"] + lo, b=res["b"] + lo,
                   search=(res["search"][0] + lo, res["search"][1] + lo), own=zpad(res["own"]),
                   loc_others=zpad(res["loc_others"]), loc_base=pad(res["loc_base"]),
                   base=pad(res["base"]), vol=res["vol"] * sc, vol_sd=res["vol_sd"] * sc,
                   ovl=res["ovl"] * sc, bg=res["bg"] * sc + off * res["share_sum"])
        shifted.append((fit, T, pad(base), p, res, fixed))
    record["context"] = [int(lo + row0), int(hi + row0)]
    return shifted, notes, record


def _model_bands_in(prof, shifts, strong, noise, flat, top, bottom, *, row0=0, degree=2,
                    max_bands=6, shift_tol=2.0):
    """Every lane's target band from the joint band model (:mod:`blotquant.bandmodel`).

    ``prof`` (L, n): raw row profiles of the context; ``shifts`` (L,): the lanes' alignment
    (consensus frame); ``strong``: lanes that show their bands (they shape the pattern, and
    their shift is refined within ``shift_tol`` rows; the others keep the shift their
    neighbours predict); ``flat``: per strong lane, plateau rows of a clipped band (weight 0 in
    every fit) or None; ``top``, ``bottom``: the user's window in profile rows.

    The bands of the context are selected on a copy binned to ~4 rows per band sd (the same
    model at a coarser pixel, exactly), then every lane is fitted at full resolution. The
    target is the band whose peak lies inside the window in the most strong lanes; of several
    such bands, the one whose mean row is nearest the window's centre (among those holding at
    least a fifth of the largest one's area). Returns ``results`` (per lane, the tuple the table
    is built from), ``notes`` and the record of the pattern.
    """
    from scipy.ndimage import gaussian_filter1d

    from blotquant import bandmodel as bm

    L, n = prof.shape
    st = np.flatnonzero(strong)
    W = np.ones((L, n))
    for j, i in enumerate(st):
        if flat[j] is not None:
            W[i, max(flat[j][0], 0):min(flat[j][1], n - 1) + 1] = 0.0
    # the band scale, for binning: half-maximum width of the aligned mean in the window
    u = np.arange(n, dtype=float)
    cons = np.mean([np.interp(u + shifts[i], u, prof[i] - _lower_line(prof[i])) for i in st], 0)
    cs_ = gaussian_filter1d(cons, 1.0)
    k0 = max(top, 0) + int(np.argmax(cs_[max(top, 0):bottom + 1]))
    s_est = bm._start_sigma(np.maximum(cs_, 0.0), k0)
    b = max(1, int(s_est // 4))
    nb = n // b
    if b > 1:
        Yb = prof[st, :nb * b].reshape(st.size, nb, b).sum(2)
        Wb = W[st, :nb * b].reshape(st.size, nb, b).min(2)
    else:
        Yb, Wb = prof[st], W[st]
    pat_b, fit_b, steps, _, _, groups, decisions = bm.select_pattern(
        Yb, shifts[st] / b, noise[st] * np.sqrt(b), window=(top // b, bottom // b),
        weights=Wb if (Wb < 1).any() else None, degree=degree, max_bands=max_bands)
    pattern = bm.Pattern(b * pat_b.centers + (b - 1) / 2.0, b * pat_b.sigmas, b * pat_b.taus,
                         b * pat_b.lengths)
    pk = pattern.peaks()
    lane_rows = pk[:, None] + shifts[st][None, :]
    frac = ((lane_rows >= top) & (lane_rows <= bottom)).mean(1)
    # the target's peak lies in the window (in most lanes), and a band is narrower than the
    # window drawn around it (+-1 sd inside it: a wider component is lane smear); without such
    # a band the window holds nothing band-like: a nominal band at its centre, beside the
    # bands found
    band_sd_max = max((bottom - top) / 2.0, 2.0)
    nominal = not ((frac >= 0.5) & (bm.core_sd(pattern) <= band_sd_max)).any()
    if nominal:
        k_nom = int(np.searchsorted(pattern.centers, 0.5 * (top + bottom)))
        s_nom = max(2.0, (bottom - top) / 16.0)
        pattern = bm.Pattern(np.insert(pattern.centers, k_nom, 0.5 * (top + bottom)),
                             np.insert(pattern.sigmas, k_nom, s_nom),
                             np.insert(pattern.taus, k_nom, 0.0),
                             np.insert(pattern.lengths, k_nom, 0.0))
        pk = pattern.peaks()
        lane_rows = pk[:, None] + shifts[st][None, :]
        frac = np.zeros(pattern.size)
        frac[k_nom] = 1.0
        fit_b = {"fits": [{"areas": np.ones(pattern.size)}]}
    area = np.mean([f["areas"] for f in fit_b["fits"]], 0)
    sds = pattern.sds()
    banded = (bm.core_sd(pattern) <= band_sd_max) | nominal
    cand = np.flatnonzero((frac >= frac[banded].max() - 0.1) & banded)
    cand = cand[area[cand] >= 0.2 * area[cand].max()] if area[cand].max() > 0 else cand
    wc = 0.5 * (top + bottom)
    t = int(cand[np.argmin(np.abs(lane_rows[cand].mean(1) - wc))])
    # the target's pieces: bands the lanes do not tell apart from it (no valley between them,
    # one share in every lane) are one band of a compound shape
    if nominal:
        groups, decisions = np.arange(pattern.size), []
    # the target's pieces: its neighbours in row order that leave no valley beside it and
    # whose peaks lie inside the window too. The user's window says what the band is: a
    # component inside it without a valley is part of the band (a broad band whose shape
    # changes from lane to lane comes in pieces whose shares change), one outside it is a
    # neighbour even without a valley (the window was cut between them). (On real blots the
    # lanes' shares and the criterion both call a broad band's pieces two bands: its shape
    # changes from lane to lane; only the window tells.)
    order = list(np.argsort(pk))
    pos = order.index(t)
    T = [t]
    pair = {tuple(sorted(d["pair"])): d for d in decisions}
    for step in (-1, 1):
        j = pos
        while 0 <= j + step < len(order):
            d = pair.get(tuple(sorted((order[j], order[j + step]))))
            # (a piece is of the band's own scale: a component over twice its width is smear)
            # (and the window holds its peak wherever it holds the target's, bar one lane: a
            # neighbour the window was cut against falls outside it in the lanes the smile
            # moves it out of)
            fj = frac[order[j + step]]
            if (nominal or d is None or d["valley"] or fj < 0.5 or fj < frac[t] - 1.0 / st.size
                    or sds[order[j + step]] > 2.0 * sds[t]):
                break
            j += step
            T.append(order[j])
    T = np.array(sorted(T))
    # each strong lane's shift refined on the binned copy (the same model, fewer rows)
    lane_shift = np.asarray(shifts, float).copy()
    if not nominal and shift_tol > 0:
        ref = bm.joint_fit(Yb, pat_b, shifts[st] / b, noise=noise[st] * np.sqrt(b),
                           degree=degree, weights=Wb if (Wb < 1).any() else None,
                           shift_tol=shift_tol / b)
        lane_shift[st] = [b * f["shift"] for f in ref["fits"]]
    pieces_note = (f"band counted as {T.size} touching pieces without a valley inside the "
                   "window; if it is a doublet, cut the window between its members")
    results, notes = [], []
    for i in range(L):
        f = bm.fit_lane(prof[i], pattern, lane_shift[i], degree=degree, weights=W[i],
                        shift_tol=0.0)
        v = bm.lane_volume(prof[i], f, T, weights=W[i])
        comp = f["G"] * f["areas"][None, :]
        own = comp[:, T].sum(1)
        others = comp.sum(1) - own
        base = v["baseline"]
        a, bb = v["rows"]
        c = float(pk[t] + f["shift"]) if T.size == 1 else float(np.argmax(own))
        s = float(sds[t])
        resid = prof[i] - base - comp.sum(1)
        sd = max(float(np.std(resid[W[i] > 0])), float(noise[i]))
        snr = v["volume"] / (sd * np.sqrt(bb - a + 1))
        rms = float(np.sqrt(np.mean(gaussian_filter1d(resid, max(1.0, 0.5 * s))[a:bb + 1] ** 2))) \
            / max(float(own.max()), 1e-300)
        res = {"c": c, "s": s, "a": a, "b": bb, "vol": v["volume"], "vol_sd": v["volume_sd"],
               "share_sum": float(v["share"].sum()),
               "bg": v["background"], "ovl": v["overlap"], "snr": float(snr), "own": own,
               "search": _half_rows(own, c), "base": base,
               "support": "anchored" if v["anchored"] else "model", "misfit_rms": rms, "loc_base": base, "loc_others": others,
               "nominal": nominal}
        fit = {"centers": pattern.centers + f["shift"], "sigmas": pattern.sigmas,
               "areas": f["areas"], "converged": True}
        p = {"degree": int(degree), "shift_refined": bool(strong[i] and shift_tol > 0),
             "refined_shift": float(lane_shift[i]),
             "tails": [float(x) for x in pattern.taus],
             "flat_tops": [float(x) for x in pattern.lengths]}
        results.append((fit, T, base, p, res, not bool(strong[i])))
        note = "" if strong[i] or nominal else "weak band: row and width taken from neighbouring lanes"
        if T.size > 1:
            note = (note + "; " if note else "") + pieces_note
        if v["no_area"]:
            note = (note + "; " if note else "") + (
                "the fit gave the band no area in this lane (its rows went to the fitted "
                "neighbours): volume is the data less them, unreliable")
        notes.append(note)
    record = {
        "model": "joint band model (bandmodel): per-lane polynomial baseline + shared band "
                 "shapes (box x Gaussian x exponential tail), band count by BIC",
        "components": [dict(r, band=int(g)) for r, g in zip(pattern.as_records(row0), groups)],
        "twins": jsonable(decisions),
        "target": t, "target_components": [int(j) for j in T], "target_peak": float(pk[t] + row0),
        "fraction_of_lanes_in_window": [float(x) for x in frac],
        "bin": int(b), "selection": jsonable(steps), "n_strong_lanes": int(st.size),
        "nominal": bool(nominal),
    }
    return results, notes, record


#: a context edge needs no further walk where the lanes' mean profile is within this fraction of
#: the window's band height of its lowest level beyond the window and nothing further out rises
#: by more (0.5 % walked into structure beside real bands: ZDF July4 GAPDH rows 3-11 px off)
_CONTEXT_FLOOR = 0.02

#: where the context's first reach ends on a band's slope, the walk goes on to at most this many
#: band sds beyond the window: a band with no valley towards the window lies within ~1.5 sd of its
#: edge (two bands 3 sd apart or more show a valley), and reaches 3 sd beyond its centre. (The sd
#: is read on the lanes' mean profile smoothed by 2 rows: sqrt(sd^2 + 4), 20 % wide at sd 3, 8 % at
#: sd 5; and the walk never reads beyond _CONTEXT_REACHES reaches)
_BEYOND_SD = 4.5

#: the strips' coarse profile, from which the context is cut, reaches this many reaches (one
#: window height each, at least the old margin) beyond the window
_CONTEXT_REACHES = 3

#: the consensus's first peak is lopsided, and its width is also read from its steeper side (a
#: third start of the search), where that side's half width is below this fraction of the mean of
#: both (a Gaussian's two sides agree to within the noise)
_STEEP_SIDE = 0.8


def _pattern_bases(n, shape_pat, cc, cs, d):
    """Unit bases ``(Gt, Gn)`` over ``n`` rows of the shared band shapes ``shape_pat`` (``(pattern,
    broad, nt)``: the target's ``nt`` bands first, then its neighbours; ``broad``, the indices of
    the consensus's smear pieces, kept as Gaussians of rows ``cc`` and widths ``cs``), all moved by
    ``d`` rows: the target's columns and the other bands'."""
    from blotquant import bandmodel as bm
    from blotquant.background import gaussian_basis

    pat, broad, nt = shape_pat
    return (bm.shape_basis(n, pat.centers[:nt] + d, pat.sigmas[:nt], pat.taus[:nt], pat.lengths[:nt]),
            np.hstack([bm.shape_basis(n, pat.centers[nt:] + d, pat.sigmas[nt:], pat.taus[nt:],
                                      pat.lengths[nt:]),
                       gaussian_basis(n, cc[broad] + d, cs[broad])]))


def _model_line_baseline(y, fit, ti, shape_pat, cc, cs, d):
    """Baseline and neighbours' counts of a lane whose band has no flank of background on one side.

    No row tells how the background runs on under the band there, so no curvature is taken (as in
    :func:`blotquant.background.anchored_baseline`, where a curved baseline needs both flanks): a
    line is fitted over the whole context together with every band, each with its model shape and
    its area free. The shapes are the shared band shapes of the consensus when it has them
    (``shape_pat``: a tailing or flat-topped band and its neighbours, placed ``d`` rows from the
    consensus, refined within 3 rows by the fit's residual), else the lane's fitted Gaussian
    pieces (``fit``'s rows and widths). Returns ``(baseline, others)``: the line, and the other
    bands' fitted counts per row.
    """
    from blotquant.background import _poly_basis, gaussian_basis

    y = np.asarray(y, float)
    n = y.size
    if shape_pat is None:
        G = gaussian_basis(n, fit["centers"], fit["sigmas"])
        own = np.zeros(G.shape[1], bool)
        own[np.asarray(ti, int)] = True
        cands = [(G[:, own], G[:, ~own])]
    else:
        cands = [_pattern_bases(n, shape_pat, cc, cs, dd) for dd in d + np.arange(-3.0, 3.01, 0.5)]
    P = _poly_basis(n, 1)
    best = None
    for Gt, Gn in cands:
        A = np.hstack([Gt, Gn, P])
        coef = np.linalg.lstsq(A, y, rcond=None)[0]
        r = y - A @ coef
        if best is None or r @ r < best[0]:
            k_t, k_n = Gt.shape[1], Gn.shape[1]
            best = (float(r @ r), P @ coef[k_t + k_n:], Gn @ coef[k_t:k_t + k_n])
    return best[1], best[2]


def _steep_sd(m, k):
    """The sd of the band whose highest row in ``m`` is ``k``, from the half width on its steeper
    side (the band's own, not a neighbour's or a tail's); 0 if there is none. Where ``k`` is not a
    local maximum (a window cut on the rising slope of a stronger band beyond it), the half height
    is taken above the lowest rows on either side of ``k``."""
    import warnings

    from scipy.signal import peak_widths

    with warnings.catch_warnings():  # (scipy's PeakPropertyWarning for a width of 0: handled below)
        warnings.simplefilter("ignore", RuntimeWarning)
        _, _, lip, rip = peak_widths(m, [k], rel_height=0.5)
        half = min(k - float(lip[0]), float(rip[0]) - k)
        if not half > 0:
            lb, rb = int(np.argmin(m[:k + 1])), k + int(np.argmin(m[k:]))
            prom = float(m[k] - max(m[lb], m[rb]))
            if not prom > 0:
                return 0.0
            _, _, lip, rip = peak_widths(m, [k], rel_height=0.5, prominence_data=(
                np.array([prom]), np.array([lb]), np.array([rb])))
            half = min(k - float(lip[0]), float(rip[0]) - k)
    return half / np.sqrt(2.0 * np.log(2.0)) if np.isfinite(half) and half > 0 else 0.0


def _context_rows(prof, top, bottom, min_margin, info=None, beyond=None):
    """Rows ``(lo, hi)`` of ``prof`` (L, n) the band fit looks at: ends where no band is cut.

    Each side starts ``min_margin`` rows beyond the window ``top..bottom`` and walks outwards on
    the lanes' mean profile (less a line under it, smoothed 2 rows) to the first row that is either
    a valley (a local minimum: a band beyond it is another band's business) or back at the
    background (within :data:`_CONTEXT_FLOOR` of the window's band height of the lowest level on
    that side, with nothing further out rising by more); where neither comes within ``prof``'s
    reach beyond the window (one window height, at least ``min_margin``), at the lowest row within
    it. So a band beside a window cut at the valley towards it is seen whole (neither the
    decomposition nor the baseline meets a band cut by the context's edge), while an isolated band
    keeps the old margin.

    Where that lowest row is the reach's last and the profile still falls outwards beyond it, the
    reach ends on the slope of a band that shows no valley towards the window (the outer member of
    a doublet the window cuts at its middle). The walk then goes on, on the profile ``beyond()``
    returns (a callable, optional: ``(profile, offset)``, a profile reaching further, whose row
    ``r + offset`` is ``prof``'s row ``r``; read only when needed), to the next valley or
    background, at most :data:`_BEYOND_SD` band sds beyond the window (else to the lowest row
    within that), the sd being the window's highest peak's, from its steeper side; ``lo`` and
    ``hi`` may then lie beyond ``prof``'s rows. ``info`` (a dict, optional) receives
    ``extended``: the sides whose walk went on.
    """
    from scipy.ndimage import gaussian_filter1d

    n = prof.shape[1]
    far = max(bottom - top, 8, min_margin)

    def mean_profile(p):
        m = p.mean(0)
        return gaussian_filter1d(m - _lower_line(m), 2.0)

    def edge(m, start, stop, step, height):
        """``(row, on_slope)``: the first valley or background row from ``start`` towards
        ``stop``, else the lowest row; ``on_slope`` where that is the last (the profile still
        falls outwards there) or there is no room to walk (fewer than 3 rows: ``start``)."""
        n = m.size
        idx = np.arange(start, stop, step)
        idx = idx[(idx >= 0) & (idx < n)]
        if idx.size < 3:
            return int(np.clip(start, 0, n - 1)), True
        seg = m[idx]
        tol = _CONTEXT_FLOOR * height
        low = float(seg.min()) + tol
        ahead = np.maximum.accumulate(seg[::-1])[::-1]  # the highest row from each one outwards
        for j in range(seg.size - 1):
            if (seg[j] <= low and ahead[j] - seg[j] <= tol) or (
                    j > 0 and seg[j] <= seg[j - 1] and seg[j] < seg[j + 1]):
                return int(idx[j]), False
        j = int(np.argmin(seg))
        return int(idx[j]), j == seg.size - 1

    m = mean_profile(prof)
    height = float(m[max(top, 0):min(bottom, n - 1) + 1].max() - m.min())
    lo, lo_slope = edge(m, max(top - min_margin, 0), max(top - far, 0) - 1, -1, height)
    hi, hi_slope = edge(m, min(bottom + min_margin, n - 1), min(bottom + far, n - 1) + 1, 1, height)
    extended = []
    if (lo_slope or hi_slope) and beyond is not None:
        # A side still falling outwards at the reach's end cuts a band that shows no valley
        # towards the window: the outer member of a doublet the window cuts at its middle lies
        # within ~1.5 sd of the window's edge and reaches 3 sd further. The walk goes on from
        # there (on the whole profile, its own line under it) to the next valley or background,
        # at most _BEYOND_SD band sds beyond the window
        reach = int(np.ceil(_BEYOND_SD * _steep_sd(m, top + int(np.argmax(m[top:bottom + 1])))))
        if reach > far:
            wide, off = beyond()
            m2 = mean_profile(wide)
            sides = (("top", lo_slope, lo + off, top + off - reach - 1, -1),
                     ("bottom", hi_slope, hi + off, bottom + off + reach + 1, 1))
            for side, slope, start, stop, step in sides:
                nxt = start + step
                if not slope or not 0 <= nxt < m2.size or m2[nxt] >= m2[start]:
                    continue
                row, _ = edge(m2, start, stop, step, height)  # (else its lowest row)
                if row != start:
                    lo, hi = (row - off, hi) if side == "top" else (lo, row - off)
                    extended.append(side)
    if info is not None:
        info["extended"] = extended
    return lo, hi


def measure_bands(image, lanes, window, *, background="auto", method_kwargs=None,
                  saturated=None, margin=None, half_width=3.0, n_bands=1):
    """Find the target band of a row window in every lane and integrate its volume.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        Raw counts (any real dtype, read as float64), bands bright. Not modified.
    lanes : blotquant.lanes.Lanes
        Lane geometry (centre lines may be tilted; bands are taken perpendicular to them).
    window : (int, int)
        ``(top, bottom)`` image rows between which the target band lies in every lane.
    background : str, optional
        Name in :data:`blotquant.background.BACKGROUNDS`, or ``"auto"``.
    method_kwargs : mapping, optional
        Options passed to the background method (e.g. ``{"degree": 2}`` for ``"profile"``,
        ``{"radius": 60}`` for ``"rolling-disk"``).
    saturated : ndarray of bool, shape (rows, cols), optional
        Pixels at the detector ceiling; a band is flagged when one of its counted pixels is.
    margin : int, optional
        Rows added above and below the window for the band model's context. Default: for
        ``profile``, from a quarter of the window height (at least 15) out to the first valley
        beside the window, or to where the lanes' mean profile is back at its background, within
        one window height, or further where that ends on the slope of a band with no valley
        towards the window (at most 4.5 band sds beyond it; :func:`_context_rows`); for
        ``joint-model`` twice the window height (at least 20); otherwise a quarter of the window
        height, at least 15. A ``margin`` given is used as it is (for ``profile``, without the
        walk to the valleys, the detection thresholds relative to the window's bands or the flank
        limit of the anchored baseline).
    half_width : float, optional
        Rows integrated on each side of the band centre, in fitted band widths (sigma).
    n_bands : int, optional
        How many bands the target is (default 1): 2 quantifies a doublet drawn in one window
        as one volume, the two bands nearest the window's centre (the config's ``bands``). Where
        the window shows fewer, every lane's note says so.

    Returns
    -------
    table : pandas.DataFrame
        One row per lane, columns :data:`BAND_COLUMNS`: ``lane`` (1-based), ``lane_x``,
        ``band_row``, ``band_top``, ``band_bottom`` (rows integrated, at the lane centre),
        ``x_left``, ``x_right`` (at ``band_row``), ``volume`` (counts × pixels, background and
        neighbouring bands removed), ``background`` (integrated background under the same
        pixels), ``overlap`` (neighbouring bands' share removed), ``saturated``, ``n_pixels``,
        ``snr``, ``found``, ``note``.
    params : dict
        ``method``, ``method_kwargs``, ``window``, ``rows`` (profile rows used), ``margin``,
        ``context_extended`` (``profile``: the sides whose context walked on beyond one window
        height; absent where none did), ``band_slope``, ``consensus`` (components found across
        lanes and which is the target; ``search``: the first look taken and the BICs compared),
        ``lanes`` (per lane: ``shift`` (smile + tilt, rows), ``components``, ``converged``,
        ``fixed`` (row taken from neighbours), background parameters).

    Notes
    -----
    The target is assumed to appear in (most) lanes at a row that varies smoothly from lane to
    lane (smile, tilt), with the same neighbouring bands beside it. Volumes are sums of raw
    counts minus an explicit background; negative volumes are kept. A skewed (tailing) band is
    decomposed into several Gaussian pieces; pieces without a dip between them and of unequal
    widths are one band (its rows span all pieces, its row is its peak), so only a separate band
    (a dip, or a twin of similar width at least 1.6 widths away) is removed as a neighbour; when
    more than 5 % of the volume was assigned to a touching neighbour, ``note`` says so.

    Examples
    --------
    >>> from blotquant.lanes import Lanes
    >>> band = np.exp(-0.5 * ((np.arange(100) - 50) / 3.0) ** 2)[:, None]  # sum 7.52
    >>> img = np.full((100, 60), 10.0)
    >>> img[:, 5:25] += 100.0 * band
    >>> img[:, 35:55] += 50.0 * band
    >>> lanes = Lanes(centers=np.array([14.5, 44.5]), widths=np.array([20.0, 20.0]))
    >>> table, params = measure_bands(img, lanes, (35, 65))
    >>> table["band_row"].round(1).tolist(), (table["volume"] / 1e3).round(2).tolist()
    ([50.0, 50.0], [15.04, 7.52])
    """
    img = np.asarray(image)
    if img.ndim != 2:
        raise LayoutError(f"`image` must be a 2-D array; got shape {img.shape}")
    h, w = img.shape
    try:
        top, bottom = (int(round(float(v))) for v in window)
    except (TypeError, ValueError) as exc:
        raise LayoutError(f"`window` must be (top, bottom) rows; got {window!r}") from exc
    if not 0 <= top < bottom < h:
        raise LayoutError(
            f"`window` must be (top, bottom) with 0 <= top < bottom < {h} (image rows); "
            f"got {window!r}")
    centers = np.asarray(lanes.centers, dtype=float)
    n_lanes = centers.size
    if n_lanes == 0:
        raise LayoutError("`lanes` holds no lane")
    if saturated is not None and np.shape(saturated) != img.shape:
        raise LayoutError(f"`saturated` must have the image's shape {img.shape}; "
                          f"got {np.shape(saturated)}")
    method = get_background(background)
    kw = dict(method_kwargs or {})
    if not isinstance(method_kwargs, (Mapping, type(None))):
        raise LayoutError(f"`method_kwargs` must be a mapping; got {method_kwargs!r}")
    check_options(background, kw)
    if isinstance(n_bands, bool) or not isinstance(n_bands, (int, np.integer)) or n_bands < 1:
        raise LayoutError(f"`bands` (how many bands the target is) must be a whole number >= 1; got {n_bands!r}")
    if n_bands > 1 and method.name == "joint-model":
        raise LayoutError(f"`bands: {n_bands}` (a target of several bands) needs `background: profile`, `border` "
                          f"or `rolling-disk`, not joint-model; remove `bands` or change `background`")

    # ``profile`` with the default margin: the context is cut where no band is cut
    # (:func:`_context_rows`), from one window height beyond the window or further
    shaped = method.name == "profile"
    valley_context = shaped and margin is None
    if margin is None:  # the band model looks at the bands beside the window too
        margin = max(20, 2 * int(bottom - top)) if method.name == "joint-model" else \
            max(15, int(round(0.25 * (bottom - top))))
    min_margin = margin
    if valley_context:
        margin = max(margin, int(bottom - top))
    y0, y1 = max(top - margin, 0), min(bottom + margin, h - 1)
    rows = np.arange(y0, y1 + 1)
    n = rows.size
    band_slope = -float(lanes.slope)  # bands run perpendicular to the lanes

    # 1. strips and raw profiles (float64 sums of raw counts)
    flat = img.reshape(-1)

    def profiles(rows, step=1):
        strips = [_strip_indices(lanes, i, rows, band_slope, img.shape, step) for i in range(n_lanes)]
        raw = []
        for ys, xs, inside in strips:
            r = np.take(flat, ys * w + xs).astype(np.float64, copy=False)
            raw.append(r if inside.all() else r * inside)  # (entries outside the image count 0)
        return strips, raw, np.array([r.sum(1) for r in raw])

    context_info = {}
    if valley_context:
        # where the context ends is read from every 8th column of the strips (their rows' shape,
        # for an eighth of the cost); the strips are then made over the context only
        # (_CONTEXT_REACHES reaches, read only where the walk goes on beyond the first)
        z0 = max(top - _CONTEXT_REACHES * margin, 0)
        z1 = min(bottom + _CONTEXT_REACHES * margin, h - 1)
        wide_off = y0 - z0  # (the wide profile's row of this context's row 0)

        def beyond():
            return profiles(np.arange(z0, z1 + 1), 8)[2], wide_off

        lo, hi = _context_rows(profiles(rows, 8)[2], top - y0, bottom - y0, min_margin,
                               info=context_info, beyond=beyond)
        y0, y1 = y0 + lo, y0 + hi
        margin = max(top - y0, y1 - bottom)
        rows = np.arange(y0, y1 + 1)
        n = rows.size
    strips, raw, prof = profiles(rows)
    n_out = [int((~inside).sum()) for _, _, inside in strips]
    if saturated is not None:  # no clipped pixel in the strips' rows: nothing to look up per lane
        s_lo = min(int(s[0].min()) for s in strips)
        s_hi = max(int(s[0].max()) for s in strips)
        if not np.asarray(saturated)[s_lo:s_hi + 1].any():
            saturated = None

    bg_params = {"method": method.name}
    undecided_note = None  # (profile: a twin call of the target's pieces the data do not make)
    few_note = None  # (a target of n_bands bands where the window shows fewer)
    cut_note = None  # (profile: most of the target's band lies beyond the window)
    window_share = None
    if method.kind == "image":
        ys_all = np.concatenate([s[0].ravel() for s in strips])
        xs_all = np.concatenate([s[1].ravel() for s in strips])
        pad = int(np.ceil(float(kw.get("radius", 50.0)))) + 2
        cy0, cy1 = max(ys_all.min() - pad, 0), min(ys_all.max() + pad + 1, h)
        cx0, cx1 = max(xs_all.min() - pad, 0), min(xs_all.max() + pad + 1, w)
        crop = img[cy0:cy1, cx0:cx1].astype(np.float64)
        bg2d, p2d = method.function(crop, **kw)
        bg_params.update(p2d)
        bg_params["crop"] = [int(cx0), int(cy0), int(cx1), int(cy1)]
        bgpix = [bg2d[ys - cy0, xs - cx0] * inside for ys, xs, inside in strips]
        fitprof = prof - np.array([b.sum(1) for b in bgpix])
    else:
        bgpix = None
        fitprof = prof

    # 2. detection profiles, lane alignment (smile + tilt) and consensus components
    x_mid = lanes.x_at((top + bottom) / 2.0)
    det = fitprof - _lower_line(fitprof)
    noise = np.array([_noise_sd(p) for p in fitprof])
    from scipy.ndimage import gaussian_filter1d

    sm = gaussian_filter1d(det, 2.0, axis=1)
    win = slice(top - y0, bottom - y0 + 1)
    amp = sm[:, win].max(1)
    strong = amp > 5 * noise
    if not strong.any():
        strong = amp >= amp.max()
    norm = det / np.where(amp > 0, amp, 1.0)[:, None]
    nsm = sm / np.where(amp > 0, amp, 1.0)[:, None]
    shift = band_slope * (x_mid - x_mid.mean())
    weight = np.where(strong, 1.0, 0.0)
    mid = int(np.flatnonzero(strong)[np.argmin(np.abs(np.flatnonzero(strong) - (n_lanes - 1) / 2))])
    # chain outwards from the middle strong lane: neighbours differ little
    for direction in (1, -1):
        last = mid
        i = mid + direction
        while 0 <= i < n_lanes:
            if strong[i]:
                pred = band_slope * (x_mid[i] - x_mid[last])
                shift[i] = shift[last] + _best_lag(nsm[i], nsm[last], pred, 10)[0]
                last = i
            i += direction
    for _ in range(2):
        m = shift.mean()
        ref = np.mean([_shift(nsm[i], shift[i] - m) for i in np.flatnonzero(strong)], 0)
        for i in np.flatnonzero(strong):
            shift[i] = m + _best_lag(nsm[i], ref, shift[i] - m, 5)[0]
    smooth = _robust_poly(x_mid, shift, weight * np.minimum(amp / noise, 50), 2)
    fitted_shift = smooth(x_mid)
    off = np.abs(shift - fitted_shift) > 4
    shift = np.where(strong & ~off, shift, fitted_shift)
    smean = shift.mean()
    consensus = np.mean([_shift(norm[i], shift[i] - smean) for i in np.flatnonzero(strong)], 0)
    # flat-topped (clipped) bands in most strong lanes: their plateau must stay one component
    central = np.array([r[:, r.shape[1] // 4: r.shape[1] - r.shape[1] // 4].sum(1)
                        if r.shape[1] >= 4 else r.sum(1) for r in raw])
    sm1 = gaussian_filter1d(central - _lower_line(central), 1.0, axis=1)
    flat = [_plateau(sm1[i], top - y0, bottom - y0) for i in np.flatnonzero(strong)]
    if saturated is not None:  # clipped at the detector's ceiling: flat-topped by definition
        satm = np.asarray(saturated)
        for j, i in enumerate(np.flatnonzero(strong)):
            ys_, xs_, ins_ = strips[i]
            q = ys_.shape[1] // 4
            cols = slice(q, ys_.shape[1] - q) if ys_.shape[1] >= 4 else slice(None)
            rws = np.flatnonzero((satm[ys_[:, cols], xs_[:, cols]] & ins_[:, cols]).any(1)[win])
            if flat[j] is None and rws.size >= 2:
                flat[j] = (int(rws[0]) + top - y0, int(rws[-1]) + top - y0)
    no_split = None
    if sum(f is not None for f in flat) > 0.5 * len(flat):
        no_split = _plateau(gaussian_filter1d(consensus, 1.0), top - y0, bottom - y0)
        if no_split is None:
            pk = int(np.argmax(consensus[win])) + top - y0
            span = int(np.median([f[1] - f[0] for f in flat if f is not None])) // 2 + 1
            no_split = (pk - span, pk + span)
    def _target_peak(i, fit, ti, base, res):
        """Peak row of lane ``i``'s own target signal over the central half of the lane.

        Raw counts of the central half minus that half's share of the background and of the
        fitted neighbouring bands; searched within 2 fitted widths of the fitted band, where
        the target outweighs its neighbours.
        """
        width = raw[i].shape[1]
        q = width // 4
        cols = slice(q, width - q) if width - 2 * q >= 1 else slice(0, width)
        frac = (cols.stop - cols.start) / width
        central = raw[i][:, cols].sum(1)
        if bgpix is not None:
            own = central - bgpix[i][:, cols].sum(1) - frac * res["loc_others"]
        else:
            own = central - frac * (res["loc_base"] + res["loc_others"])
        c, s = res["c"], res["s"]
        lo, hi = res["search"]
        dom = res["own"] >= res["loc_others"]
        rows_ok = np.flatnonzero(dom[max(lo, 0):min(hi, n - 1) + 1]) + max(lo, 0)
        if rows_ok.size == 0:
            return float("nan")
        # the contiguous run of target-dominated rows around the fitted centre
        k = int(np.argmin(np.abs(rows_ok - c)))
        a = b = k
        while a > 0 and rows_ok[a - 1] == rows_ok[a] - 1:
            a -= 1
        while b < rows_ok.size - 1 and rows_ok[b + 1] == rows_ok[b] + 1:
            b += 1
        return _profile_peak(own, rows_ok[a], rows_ok[b], float(np.clip(0.3 * s, 0.7, 2.0)))

    if method.name == "joint-model":
        results, notes, consensus_params = _model_bands(
            prof, shift - smean, strong, noise, flat, top - y0, bottom - y0, row0=y0)
    else:
        dwin = (top - y0, bottom - y0) if valley_context else None
        look = {}
        cc, cs, ca = _detect_components(consensus, no_split=no_split, window=dwin, info=look)
        if cc.size == 0:  # nothing band-like in any lane: integrate a nominal band at the centre
            cc = np.array([(top + bottom) / 2.0 - y0])
            cs = np.array([max(2.0, (bottom - top) / 16.0)])
            ca = np.array([1.0])
            strong[:] = False
        joint = None
        st = np.flatnonzero(strong)
        # clipped (flat-topped) lanes take part with their plateau rows weighted 0: the clipped top
        # cannot shape the pattern (it split clipped simulator bands), but its flanks still say
        # where the members are (UVITEC row5: lane 7 clipped)
        jw = np.ones((st.size, n))
        for j, f in enumerate(flat):
            if f is not None:
                jw[j, max(f[0], 0):min(f[1], n - 1) + 1] = 0.0

        def refine(cc, cs, ca):
            """The pattern after the joint step, as ``(cc, cs, ca, joint)``: the joint fit's
            components where they resolve a doublet that at least 2 lanes show with a dip between
            its members (pieces of one broad band stay as the consensus described them; only a
            pair with a new member counts: a pair the consensus already had may dip while the new
            component is a smear hump or a piece of a broad band; ``joint`` then the joint fit),
            else the consensus's (``joint`` None)."""
            joint = _joint_components(norm[st], shift[st] - smean, cc, cs, no_split=no_split,
                                      inside=(top - y0, bottom - y0), weights=jw)
            jc, js, ja = joint["centers"], joint["sigmas"], np.clip(joint["areas"], 0, None)
            matched = {int(np.argmin(np.abs(jc - c))) for c in cc}
            n_dip = max((sum(_dips(jc[j - 1], jc[j], js[j - 1], js[j], p, q)
                             for p, q in ja[:, [j - 1, j]]) for j in range(1, jc.size)
                         if not {j - 1, j} <= matched), default=0)
            if jc.size > cc.size and n_dip >= 2:
                return jc, js, ja.mean(0), joint
            return cc, cs, ca, None

        def bic(pattern):
            """BIC of the joint fit of a ``refine`` pattern over the strong lanes: each band's row
            and width, and its area in every lane (the lanes' shifts and baselines are the same in
            every candidate)."""
            cc, cs, _, joint = pattern
            rss = joint["rss"] if joint is not None else \
                _joint_fit(norm[st], shift[st] - smean, cc, cs, weights=jw)["rss"]
            n_obs = max(int((jw > 0).sum()), 1)
            return float(n_obs * np.log(max(rss, 1e-300) / n_obs)
                         + cc.size * (2 + st.size) * np.log(n_obs))

        search = {"first_look": "local", "peaks": look.get("peaks")}
        if cc.size and st.size >= 2:
            # one band pattern for all lanes (shared rows and widths, per-lane shift and areas):
            # resolves members of a doublet whose strengths change from lane to lane
            best = refine(cc, cs, ca)
            # other starts of the search, each where it may end at another pattern; every pattern
            # goes through the joint step and the lowest BIC of the joint fit is taken:
            # - "global", where the first look saw several peaks: the search of earlier versions
            #   (fewer peaks, a wider first band; a close doublet merged from one start is
            #   resolved from the other)
            # - "steep", where the first peak is lopsided (a tail, or a neighbour with no valley
            #   towards it): its width from its steeper side, the band's own
            sides = look.get("sides")
            lopsided = sides is not None and min(sides) < _STEEP_SIDE * 0.5 * sum(sides)
            looks = (["global"] if look.get("peaks", 0) >= 2 else []) + (["steep"] if lopsided else [])
            tried = [cc]
            for name in looks:
                kc, ks, ka = _detect_components(consensus, no_split=no_split, window=dwin,
                                                first_look=name)
                if not kc.size or any(kc.size == q.size and np.allclose(kc, q, atol=0.5) for q in tried):
                    continue
                tried.append(kc)
                other = refine(kc, ks, ka)
                taken = f"bic_{search['first_look']}"
                if taken not in search:
                    search[taken] = bic(best)
                search[f"bic_{name}"] = bic(other)
                if search[f"bic_{name}"] < search[taken]:
                    best = other
                    search["first_look"] = name
            cc, cs, ca, joint = best
            if joint is not None:
                shift[st] = joint["shifts"] + smean
                consensus = np.mean([_shift(norm[i], shift[i] - smean) for i in st], 0)
        stl = np.flatnonzero(strong)
        nrel = noise / np.where(amp > 0, amp, 1.0)

        def evidence(j):
            ev = _pair_evidence(norm[stl], shift[stl] - smean, nrel[stl], cc, cs, j)
            ev["one_band_excess"] = float(_one_band_fit(consensus, cc[j - 1], cc[j], cs[j - 1],
                                                        cs[j]))
            if shaped:  # (the other methods keep the Gaussian test)
                one_start, best = _shared_shape_excess(
                    consensus, cc[j - 1], cc[j], cs[j - 1], cs[j], ca[j - 1], ca[j])
                ev["shape_excess"] = float(one_start)
                ev["_best_start"] = best  # (read by the grouping only where it could turn the call)
            return ev

        groups, twins = _group_components(cc, cs, ca, evidence)
        if cc.size > 1 and np.bincount(groups).max() > 1:
            # a skewed band: describe its shape closely (small pieces allowed), or the baseline
            # bends to take up what a few Gaussians leave of its tail
            cc2, cs2, ca2 = _detect_components(consensus, no_split=no_split, window=dwin,
                                               max_components=8,
                                               min_area=0.02, min_sep=0.3)
            if cc2.size >= cc.size:
                cc, cs, ca = cc2, cs2, ca2
                groups, twins = _group_components(cc, cs, ca, evidence)
        # a band's rows over the lanes span its peak + shift - smean; the user's window is drawn
        # around that span, so the target's span midpoint is the one nearest the window's centre
        wc = (top + bottom) / 2.0 - y0
        uu = np.arange(n, dtype=float)

        gb = gaussian_basis(n, cc, cs) * ca
        labels = np.unique(groups)
        g_peak = np.array([float(uu[np.argmax(gb[:, groups == g].sum(1))]) for g in labels])
        g_area = np.array([float(ca[groups == g].sum()) for g in labels])
        mid_rows = g_peak + 0.5 * (shift.min() + shift.max()) - smean
        inwin = (mid_rows >= top - y0) & (mid_rows <= bottom - y0)
        # a band in the window competes with the window's bands, not with a strong one outside it
        cand = np.flatnonzero(inwin & (g_area >= 0.2 * g_area[inwin].max())) if inwin.any() else \
            np.empty(0, int)
        if cand.size == 0:
            cand = np.flatnonzero(g_area >= 0.2 * g_area.max())
        if cand.size == 0:  # (no band of positive area: the one nearest the window's centre)
            cand = np.arange(labels.size)
        near = cand[np.argsort(np.abs(mid_rows[cand] - wc), kind="stable")]
        tg = labels[int(near[0])]
        T = np.flatnonzero(groups == tg)  # the target's components (one, or a skewed band's pieces)
        t = int(T[np.argmax(ca[T])])  # its main component: the width scale of the band
        if n_bands > 1:  # a doublet asked for as one target: the bands nearest the window's centre
            T = np.flatnonzero(np.isin(groups, labels[near[:n_bands]]))
        window_pieces, shape_pat, shape_record = [], None, None
        if shaped:
            # the user's window says which pieces are the target's: the target's main piece is
            # its largest one whose row lies inside the window (in most strong lanes), and its
            # pieces end at the first one outside the window (the window was cut between the
            # target and that band, even where no valley shows)
            stw = np.flatnonzero(strong) if strong.any() else np.arange(n_lanes)
            lane_rows = cc[:, None] + (shift[stw] - smean)[None, :]
            fin = ((lane_rows >= top - y0) & (lane_rows <= bottom - y0)).mean(1)
            Tin = T[fin[T] >= 0.5]
            if Tin.size:
                t = int(Tin[np.argmax(ca[Tin])])
            run = [t]
            for step in (-1, 1):
                j = t + step
                while j in T and fin[j] >= 0.5:
                    run.append(j)
                    j += step
            window_pieces = [int(j) for j in T if j not in run]
            window_share = float(ca[run].sum() / ca[T].sum()) if ca[T].sum() > 0 else 1.0
            if window_share < 0.5:
                # most of the band lies beyond the window: a window cut through the band's body (a
                # flat-topped band, or a pair merged in the consensus) counts a piece of it only
                cut_note = (f"the window cuts through this band: {100 * (1 - window_share):.0f} % "
                            "of it (no dip between) lies beyond the window and is not counted; if "
                            "it is one band, widen the window over it")
            T = np.array(sorted(run))  # (t, the largest piece in the window, is still its largest)
            shape_pat, shape_record = _shared_shapes(consensus, cc, cs, ca, groups, T, t)
            if shape_record is not None:
                shape_record["band_rows"] = [r + y0 for r in shape_record["band_rows"]]
        # the target's bands (each one's largest piece): one, or several for ``n_bands > 1``
        t_lead_components = [int(T[groups[T] == g][np.argmax(ca[T][groups[T] == g])])
                             for g in np.unique(groups[T])]
        if len(t_lead_components) < n_bands:
            few_note = (f"the target is {n_bands} bands (config `bands`), but the window shows "
                        f"{len(t_lead_components)}: this volume is of {len(t_lead_components)}")
        if T.size == 1 or len(t_lead_components) > 1:
            pk0 = float(cc[t])
        else:  # the peak of the skewed band's summed components, on a fine grid
            uf = np.linspace(cc[T].min() - 2 * cs[T].max(), cc[T].max() + 2 * cs[T].max(), 2001)
            yf = (ca[T] / cs[T] * np.exp(-0.5 * ((uf[:, None] - cc[T]) / cs[T]) ** 2)).sum(1)
            pk0 = float(uf[np.argmax(yf)])
        consensus_params = {
            "components": [{"row": float(c + y0), "sigma": float(s), "relative_area": float(a),
                            "band": int(g)}
                           for c, s, a, g in zip(cc, cs, ca / ca.max(), groups)],
            "target": t, "target_components": [int(j) for j in T], "target_peak": pk0 + y0,
            "n_strong_lanes": int(strong.sum()), "twins": jsonable(twins),
            "pieces_outside_window": window_pieces, "window_share": window_share,
            "shared_shape": shape_record, "search": search,
        }
        undecided = [d for d in twins if d.get("undecided") and set(d["pair"]) & set(T.tolist())]
        if undecided:
            d = undecided[0]
            undecided_note = (
                "one band or two is undecided here: the two-band shape test reads "
                f"{d['shape_excess']:.1f} from one start and {d['shape_excess_best_start']:.1f} "
                "from four (threshold 20), and this volume depends on that call")

        # 3. per-lane fits
        def fit_lane(i, centre_shift, fix_target, scale_target=None):
            c = cc + centre_shift
            s = cs.copy()
            if scale_target is not None:
                s[T] = cs[T] * scale_target
            keep = (c > -3 * s) & (c < n - 1 + 3 * s)
            keep[T] = True
            idx = np.flatnonzero(keep)
            ti = np.flatnonzero(np.isin(idx, T))
            if method.kind == "profile":
                base, p = method.function(prof[i], centers=c[idx], sigmas=s[idx], fixed=fix_target,
                                          **kw)
                fit = p.pop("_fit")
            else:
                fit = fit_peaks(fitprof[i], c[idx], s[idx], degree=None, tied=True,
                                fixed=fix_target)
                base = fitprof[i] * 0 + (prof[i] - fitprof[i])
                p = {"components": [{"center": float(a), "sigma": float(b), "area": float(v)}
                                    for a, b, v in zip(fit["centers"], fit["sigmas"], fit["areas"])],
                     "converged": fit["converged"], "residual_sd": fit["residual_sd"]}
            fit["centre_shift"] = float(centre_shift)  # the pattern's offset in this lane
            return fit, ti, base, p

        anchored = method.name == "profile"
        anchor_degree = int(kw.get("anchor_degree", 4))

        def _split(y, Gt, Gn):
            """Share of ``y`` (profile minus baseline) that is the target's, row by row.

            The target's pieces and the neighbours are refitted (areas only, >= 0) to ``y``; a row's
            counts go to the target in proportion of its fitted share there, so the model's shape
            decides only how overlapping rows are divided, never how much is counted. Rows neither
            model reaches go to the band whose centre is nearer (target pieces' span, neighbours).
            """
            A = np.hstack([Gt, Gn])
            coef = np.linalg.lstsq(A, y, rcond=None)[0]
            coef = np.clip(coef, 0.0, None)
            own = Gt @ coef[:Gt.shape[1]]
            oth = Gn @ coef[Gt.shape[1]:]
            tot = own + oth
            big = tot > 1e-3 * max(float(tot.max()), 1e-300)
            w = np.where(big, own / np.where(big, tot, 1.0), 0.0)
            return w, big

        def _anchor(i, fit, ti, support, start, c, s, a, b, d=0.0):
            """Baseline anchored on the rows outside every band, and the target's share per row.

            Returns ``(baseline, a, b, w, how, params, w_alt)``: ``baseline`` (None when no flank
            is left) is fitted on the rows outside the target's support and outside the neighbours'
            rows (their fitted components +- 3 sd), so neither a target nor a neighbour of the wrong
            shape can bend it; ``w`` is the target's share of each row (see ``_split``; with a
            shared band shape, the rows are split by copies of that shape placed ``d`` rows from
            the consensus, refined within 3 rows);
            ``params`` the :func:`anchored_baseline` record of the baseline taken; ``w_alt`` the
            share with the rows split by the Gaussian pieces instead of the shared band shape
            (None where there is no shared shape or no neighbour).
            """
            y = prof[i]
            nb_idx = np.setdiff1d(np.arange(fit["centers"].size), ti)
            cen, sig = fit["centers"], fit["sigmas"]
            Gt = gaussian_basis(n, cen[ti], sig[ti])
            Gn = gaussian_basis(n, cen[nb_idx], sig[nb_idx])
            gauss = (Gt, Gn) if nb_idx.size else None  # the split's other model (see below)
            if shape_pat is not None:
                pat = shape_pat[0]
                # the pattern's rows in this lane: moved by the lane's fitted offset, refined
                # (within 3 rows) by least squares over the rows its bands reach (the lane less
                # its starting baseline, a quadratic left over them)
                grid = d + np.arange(-3.0, 3.01, 0.5)  # (grid[6] is d itself)
                bases = [_pattern_bases(n, shape_pat, cc, cs, dd) for dd in grid]  # (the winner kept)
                g0 = np.hstack(bases[6])[:, :pat.size]
                near_rows = np.convolve(g0.max(1) > 1e-3 * g0.max(), np.ones(7), "same") > 0
                yb = (y - start)[near_rows]
                P2 = _poly_basis(int(near_rows.sum()), 2)

                def misfit(gt_gn):
                    A = np.hstack([np.hstack(gt_gn)[near_rows], P2])
                    r = yb - A @ np.linalg.lstsq(A, yb, rcond=None)[0]
                    return float(r @ r)

                best = int(np.argmin([misfit(b) for b in bases]))
                d = float(grid[best])
                Gt, Gn = bases[best]
            # the fit's position of each band of the target (its largest piece), where it has several
            # (every piece of the target is in the fit, in order: ti[k] is sorted T's k-th)
            t_leads = [int(ti[k]) for k, j in enumerate(T) if j in t_lead_components] \
                if len(t_lead_components) > 1 else []
            uu_ = np.arange(n, dtype=float)
            nb_rows = np.zeros(n, bool)
            band_rows = np.zeros(n, bool)  # (the rows of the band-like neighbours only: not smear)
            for j in nb_idx:
                nb_rows |= np.abs(uu_ - cen[j]) <= 3.0 * sig[j]
                if sig[j] <= _SMEAR_WIDTH * s:
                    band_rows |= np.abs(uu_ - cen[j]) <= 3.0 * sig[j]
            t_lo, t_hi = float(np.min(cen[ti])), float(np.max(cen[ti]))
            # rows no model reaches: the target's when nearer its pieces than any neighbour
            d_t = np.maximum(np.maximum(t_lo - uu_, uu_ - t_hi), 0.0)
            d_n = (np.abs(uu_[:, None] - cen[nb_idx][None, :]).min(1) if nb_idx.size
                   else np.full(n, np.inf))
            near_t = d_t <= d_n
            base_k, w, how, bp_k = None, None, "model", None
            bk = start
            # the data-found support ends at most _SUPPORT_CAP_SD fitted widths beyond the target's
            # outermost pieces (a skewed band's tail piece, a flat band's wide Gaussian reach further):
            # on a slope of smear the walk keeps "falling" past the band (hard seed 2 beta-actin
            # lane 4: rows 574-645 for a band at 603, sd 6.5, +7.3 %)
            cap = (int(np.clip(np.floor(np.min(cen[ti] - _SUPPORT_CAP_SD * sig[ti])), 0, n - 1)),
                   int(np.clip(np.ceil(np.max(cen[ti] + _SUPPORT_CAP_SD * sig[ti])), 0, n - 1)))
            for _ in range(4):
                w, big = _split(y - bk, Gt, Gn)
                w = np.where(big, w, near_t.astype(float))
                if support is not None:
                    ab = (int(np.clip(np.round(c + support[0]), 0, n - 1)),
                          int(np.clip(np.round(c + support[1]), 0, n - 1)))
                    how = "lanes"
                else:
                    ab = _band_support((y - bk) * w, c, s, noise[i])
                    if len(t_leads) > 1 and ab is not None:
                        # a target of several bands (a doublet in the window): from each band's
                        # own peak, the walk from one stops at the dip before the other
                        for pos in t_leads:
                            ab_j = _band_support((y - bk) * w, cen[pos], sig[pos], noise[i])
                            if ab_j is not None:
                                ab = (min(ab[0], ab_j[0]), max(ab[1], ab_j[1]))
                    how = "data"
                    if ab is None:  # too weak to show its own extent: the model's
                        ab, how = (a, b), "model"
                    else:  # never further out than the band's model reaches (smear, not band)
                        ab = (max(ab[0], cap[0]), min(ab[1], cap[1]))
                inside = (uu_ >= ab[0]) & (uu_ <= ab[1])
                far = np.zeros(n, bool)
                if valley_context:  # flanks near the band: its height, or the old margin
                    flank = max(ab[1] - ab[0] + 1, min_margin)
                    far = (uu_ < ab[0] - flank) | (uu_ > ab[1] + flank)
                bl, bp = anchored_baseline(y, ab, exclude=(nb_rows & ~inside) | far,
                                           degree=anchor_degree)
                if bl is None and (band_rows != nb_rows).any():
                    # no flank left, and smear took part of it (pieces over twice the band's width
                    # that a smear hump was decomposed into): the smear's rows are the baseline's
                    # (its polynomial follows the hump), only band-like neighbours' rows stay out
                    # (a faint band on a hump 3x its peak: +90 to +270 % with a line under it)
                    bl, bp = anchored_baseline(y, ab, exclude=(band_rows & ~inside) | far,
                                               degree=anchor_degree)
                if bl is None:  # a neighbour takes a whole flank: fit it with a line under it
                    # (its shape is the model's, so no curvature is taken from its rows)
                    bl, bp = anchored_baseline(y, ab, bands=Gn, degree=1)
                if bl is None:
                    break
                changed = ab != (a, b) or base_k is None
                (a, b), base_k, bk, bp_k = ab, bl, bl, bp
                if not changed or support is not None:
                    break
            w_alt = None
            if base_k is not None:
                w, big = _split(y - base_k, Gt, Gn)
                w = np.where(big, w, near_t.astype(float))
                if shape_pat is not None and gauss is not None:
                    # the shared rows split as the Gaussian pieces would split them: a second
                    # model of the same rows, for the volume's model uncertainty
                    w_alt, big = _split(y - base_k, *gauss)
                    w_alt = np.where(big, w_alt, near_t.astype(float))
            return base_k, a, b, w, how, bp_k, w_alt

        def integrate(i, fit, ti, base, support=None):
            main = int(ti[int(np.flatnonzero(T == t)[0])])  # T and ti are both sorted
            s = float(fit["sigmas"][main])
            scale = s / float(cs[t])
            own_fit = fit["components"][:, ti].sum(1)
            if ti.size == 1 or len(t_lead_components) > 1:
                # (a target of several bands: the row of its main band, which follows the lanes'
                # smile whichever member is the stronger in this lane)
                c = float(fit["centers"][main])
            else:  # a skewed band: its row is the peak of its fitted shape
                k = int(np.argmax(own_fit))
                c = float(k)
                if 0 < k < n - 1:
                    y_0, y_1, y_2 = own_fit[k - 1], own_fit[k], own_fit[k + 1]
                    den = y_0 - 2 * y_1 + y_2
                    if den < 0:
                        c += float(np.clip(0.5 * (y_0 - y_2) / den, -0.5, 0.5))
            cen, sig = fit["centers"][ti], fit["sigmas"][ti]
            a = int(np.clip(np.round(np.min(cen - half_width * sig)), 0, n - 1))
            b = int(np.clip(np.round(np.max(cen + half_width * sig)), a, n - 1))
            others = fit["components"].sum(1) - own_fit
            how = "model"
            # diagnostic for the run record: the band model's residual over the band (smoothed over
            # half a band width), x the band's peak; a wrong shape need not show here, because the
            # joint polynomial bends to hide it, so it does not decide anything
            r_fit = gaussian_filter1d(prof[i] - base - fit["components"].sum(1), max(1.0, 0.5 * s))
            rms = float(np.sqrt(np.mean(r_fit[a:b + 1] ** 2))) / max(float(own_fit.max()), 1e-300)
            if anchored:
                # the volume: raw counts minus a baseline anchored on the rows outside the band's own
                # support (where the profile is back to background) minus the fitted neighbours; the
                # Gaussian model only located the band and shapes the neighbours (areas refitted with
                # the anchored baseline), so a flat-topped or tailing band cannot trade area with a
                # polynomial bent under it
                base_k, bp, w_alt = None, None, None
                loc = (base, others)  # the band's row is found with the joint model (it locates)
                loc_rows = (a, b)
                def starts():  # (the second is computed only when the first is not taken)
                    yield base
                    yield _lower_line(prof[i] - others)

                for start in starts():
                    # from the joint fit's baseline, else, when that leaves the band no flank (a
                    # wrong shape bent it), from a line under the profile
                    base_k, a2, b2, w, how, bp, w_alt = _anchor(i, fit, ti, support, start, c, s, a,
                                                                b, d=float(fit["centers"][main] - cc[t]))
                    if base_k is not None:
                        break
                if base_k is not None:
                    a, b, base = a2, b2, base_k
                    others = (prof[i] - base) * (1.0 - w)
                else:
                    # no flank on one side: no curvature from a fit that can trade it for the
                    # bands' shapes (a line under the bands' model shapes)
                    how = "model, line baseline"
                    base, others = _model_line_baseline(prof[i], fit, ti, shape_pat, cc, cs,
                                                        float(fit["centers"][main] - cc[t]))
            else:
                loc = (base, others)
                loc_rows = (a, b)
            rr = slice(a, b + 1)
            total = float(prof[i][rr].sum())
            bgsum = float(base[rr].sum())
            ovl = float(others[rr].sum())
            vol = total - bgsum - ovl
            n_rows = b - a + 1
            sd = max(fit["residual_sd"], noise[i])
            snr = vol / (sd * np.sqrt(n_rows))
            vol_sd = float("nan")
            if anchored and base_k is not None:
                # vol = sum over the rows of w (y - baseline): the rows' own noise, and where the
                # flank rows' fit could have put the baseline (its coefficients' covariance);
                # the two come from different rows, so their variances add. (The split's fitted
                # areas, their uncertainty carried to first order, explained ~1 % of the volumes'
                # spread over noise draws beside a neighbour 3.7 sd away: the model's choice of
                # shape is what matters, below.)
                wr = w[rr]
                g = wr @ _poly_basis(n, bp["degree"])[rr]
                row_sd = bp["residual_sd"]  # (the diff-based noise[i] counts the band's own slopes)
                vol_sd = float(np.sqrt(row_sd ** 2 * (wr @ wr) + g @ bp["baseline_cov"] @ g))
                if w_alt is not None:
                    # the share of rows given to a touching neighbour is a model's choice: the
                    # volume with the rows split by the Gaussian pieces instead of the shared band
                    # shape is the other reading; half their difference is the sd of a choice
                    # between two equally plausible models, added to the noise's
                    split_sd = 0.5 * abs(float((w[rr] - w_alt[rr]) @ (prof[i][rr] - base[rr])))
                    vol_sd = float(np.hypot(vol_sd, split_sd))
                if bp.get("alt_baselines"):
                    # the baseline's degree is a choice too (the F test's lowest adequate one):
                    # the baselines one degree lower and higher, fitted on the same rows, are the
                    # other readings; half the larger change of the volume is their sd
                    deg_sd = 0.5 * max(abs(float(wr @ (base[rr] - ba[rr])))
                                       for ba in bp["alt_baselines"])
                    vol_sd = float(np.hypot(vol_sd, deg_sd))
            # which lanes are strong enough to locate their own band: judged with the joint model
            # that locates it (the same lanes whatever baseline the volume takes)
            lr = slice(loc_rows[0], loc_rows[1] + 1)
            loc_snr = float((prof[i][lr] - loc[0][lr] - loc[1][lr]).sum()) / (
                sd * np.sqrt(loc_rows[1] - loc_rows[0] + 1))
            lo = int(np.floor(np.min(cen - 2 * sig))) if ti.size > 1 else int(np.floor(c - 2 * s))
            hi = int(np.ceil(np.max(cen + 2 * sig))) if ti.size > 1 else int(np.ceil(c + 2 * s))
            return {"c": c, "s": s, "scale": scale, "a": a, "b": b, "vol": vol, "bg": bgsum,
                    "ovl": ovl, "snr": float(snr), "others": others, "own": own_fit,
                    "search": (lo, hi), "base": base, "support": how, "misfit_rms": rms,
                    "loc_base": loc[0], "loc_others": loc[1], "loc_snr": loc_snr, "vol_sd": vol_sd}

        results = []
        for i in range(n_lanes):
            fit, ti, base, p = fit_lane(i, shift[i] - smean, False)
            results.append((fit, ti, base, p, integrate(i, fit, ti, base), False))
        rows_t = np.array([r[4]["c"] for r in results])
        snr = np.array([r[4]["loc_snr"] for r in results])
        good = snr >= _STRONG_SNR
        notes = [""] * n_lanes
        if good.sum() >= 3:
            curve = _local_rows(x_mid, rows_t, good)
            scale_t = float(np.median([r[4]["scale"] for r, g in zip(results, good) if g]))
        elif good.any():
            curve = rows_t[good].mean() + (shift - shift[good].mean())
            scale_t = float(np.median([r[4]["scale"] for r, g in zip(results, good) if g]))
        else:
            curve = pk0 + shift - smean
            scale_t = 1.0
        for i in range(n_lanes):
            dev = rows_t[i] - curve[i]
            if not good[i] or abs(dev) > 3.0:
                fit, ti, base, p = fit_lane(i, curve[i] - pk0, True, scale_t)
                res = integrate(i, fit, ti, base)
                results[i] = (fit, ti, base, p, res, True)
                notes[i] = ("weak band: row and width taken from neighbouring lanes" if not good[i]
                            else f"band row {rows_t[i] + y0:.1f} off the lanes' smile by {dev:.1f} "
                                 "rows: row taken from neighbouring lanes")
        if anchored:  # lanes too weak to show their band's extent take the strong lanes' extent
            data = [r[4] for r in results if r[4]["support"] == "data"]
            if len(data) > 0.5 * max(int(good.sum()), 1):  # most lanes needed the anchored baseline
                ref = (float(np.median([d["a"] - d["c"] for d in data])),
                       float(np.median([d["b"] - d["c"] for d in data])))
                for i, (fit, ti, base, p, res, fixed) in enumerate(results):
                    if res["support"] != "data":
                        results[i] = (fit, ti, base, p, integrate(i, fit, ti, base, support=ref),
                                      fixed)

    # 4. table
    out = []
    lane_params = []
    for i, (fit, ti, base, p, res, fixed) in enumerate(results):
        a, b = res["a"], res["b"]
        ys, xs, inside = strips[i]
        peak = _target_peak(i, fit, ti, base, res)
        band_row = (peak if np.isfinite(peak) else res["c"]) + y0
        lane_x = float(lanes.x_at(band_row)[i])
        width = xs.shape[1]
        sat = False
        if saturated is not None:
            # every counted row: rows shared with a touching neighbour contribute to the volume too
            m = np.asarray(saturated)[ys[a:b + 1], xs[a:b + 1]] & inside[a:b + 1]
            sat = bool(m.any())
        bgv = res["bg"]
        if bgpix is not None:
            bgv = float(bgpix[i][a:b + 1].sum())
        found = res["snr"] >= _FOUND_SNR and not res.get("nominal", False)
        note = notes[i]
        if not found:
            note = "no band detected above noise: volume integrated at the expected row"
        if n_out[i]:
            note = (note + "; " if note else "") + f"{n_out[i]} strip pixels outside the image"
        if sat:
            note = (note + "; " if note else "") + "saturated pixels in the band"
        if undecided_note:
            note = (note + "; " if note else "") + undecided_note
        if few_note:
            note = (note + "; " if note else "") + few_note
        if cut_note:
            note = (note + "; " if note else "") + cut_note
        vsd = float(res.get("vol_sd", float("nan")))
        if found and res["support"] == "model, line baseline":
            # no flank of background within the context on one side (a neighbour or the context's
            # edge takes it): the baseline and the neighbours' shares are the band model's alone,
            # and how wrong its shapes are cannot be told from these rows
            note = (note + "; " if note else "") + (
                "no background beside the band on one side: the baseline under it is the band "
                "model's (volume_sd not estimated); check the overlay")
        if found and np.isfinite(vsd) and vsd > SOFT_VOLUME_CV * abs(res["vol"]):
            note = (note + "; " if note else "") + (
                f"uncertain volume: {'bootstrap' if method.name == 'joint-model' else 'fit'} sd "
                f"{100 * vsd / abs(res['vol']):.0f} % of the volume")
        if found and res["ovl"] > 0.05 * abs(res["vol"]):  # split from a touching neighbour
            note = (note + "; " if note else "") + (
                f"touching band separated by the fit: {res['ovl']:.4g} counts "
                f"({100 * res['ovl'] / abs(res['vol']):.0f} % of the volume) in the band's rows "
                "assigned to the neighbour")
        out.append({
            "lane": i + 1, "lane_x": lane_x, "band_row": float(band_row),
            "band_top": int(a + y0), "band_bottom": int(b + y0),
            "x_left": lane_x - width / 2.0, "x_right": lane_x + width / 2.0,
            "volume": res["vol"], "volume_sd": vsd, "background": bgv, "overlap": res["ovl"], "saturated": sat,
            "n_pixels": int(inside[a:b + 1].sum()), "snr": res["snr"], "found": bool(found),
            "note": note,
        })
        comps = [{"row": float(cn + y0), "sigma": float(sg), "area": float(ar),
                  "target": bool(k in ti)}
                 for k, (cn, sg, ar) in enumerate(zip(fit["centers"], fit["sigmas"], fit["areas"]))]
        lp = {k: v for k, v in p.items() if k not in ("components", "_fit")}
        lp.update({"shift": float(shift[i] - smean), "components": comps, "fixed": bool(fixed),
                   "converged": bool(fit["converged"]), "support": res["support"],
                   "misfit": float(res["misfit_rms"])})
        lane_params.append(lp)
    table = pd.DataFrame(out, columns=BAND_COLUMNS)
    params = {
        "method": method.name, "method_kwargs": {k: v for k, v in kw.items()},
        "window": [int(top), int(bottom)], "rows": [int(y0), int(y1)], "margin": int(margin),
        **({"context_extended": context_info["extended"]} if context_info.get("extended") else {}),
        "half_width": float(half_width), "band_slope": band_slope,
        "background": bg_params, "consensus": consensus_params, "lanes": lane_params,
    }
    return table, params
