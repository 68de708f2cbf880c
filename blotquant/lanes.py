"""Lane finding and lane geometry.

:func:`find_lanes` locates exactly ``n_lanes`` lanes, left to right, in an image whose bands are
bright; :func:`lanes_from_centers` builds the same :class:`Lanes` object from explicit geometry
given in the experiment config.

How :func:`find_lanes` works, in one paragraph: the image is reduced (area-averaged) into a stack
of horizontal slabs, each a column profile of a band of rows; every slab profile has its specks
removed (a narrow grey opening along x) and its background flattened (a grey-opening top-hat along x
wider than a lane), so gradients and haze drop out. The common tilt is the shear that makes the
summed profile sharpest (coarse search over angles), refined by tracking the shift of every slab
against the summed profile and fitting a line through the shifts. On the deskewed profile a comb
of ``n_lanes`` equally spaced teeth is fitted (pitch and offset); each lane centre is then refined
locally where the lane has signal (middle of the half-maximum extent), and lanes without signal
(an empty marker lane, a faint sample) are placed from a straight-line fit of the seen centres
against their index. A lane's width reaches where its band-row profile falls to 10 % of its
height above the floor (the bands' soft edges included), capped at the neighbours' midpoints.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from blotquant._util import merge_options

from .errors import LayoutError

__all__ = ["Lanes", "find_lanes", "lanes_from_centers", "profile_columns"]

logger = logging.getLogger("blotquant")


@dataclass(frozen=True)
class Lanes:
    """Geometry of the lanes of one membrane, in the pixel coordinates of the array analysed.

    Lane ``i`` (0-based position in the arrays) has its centre line at
    ``x_i(y) = centers[i] + slope * (y - y_ref)``; a tilted membrane has a common non-zero slope
    (dx/dy, ``tan`` of the rotation angle). Lane ``i`` spans ``x_i(y) ± widths[i] / 2``.

    Attributes
    ----------
    centers : ndarray of float, shape (n_lanes,)
        Lane centre columns at row ``y_ref``, increasing left to right.
    widths : ndarray of float, shape (n_lanes,)
        Lane widths in pixels.
    slope : float
        dx/dy of every lane's centre line (0 for an untilted membrane).
    y_ref : float
        Row at which ``centers`` are given.
    """

    centers: np.ndarray
    widths: np.ndarray
    slope: float = 0.0
    y_ref: float = 0.0

    def x_at(self, y):
        """Centre column of every lane at row(s) ``y``; shape ``(n_lanes,)`` or broadcast."""
        return self.centers + self.slope * (np.asarray(y, dtype=float) - self.y_ref)


# Options accepted in ``method_kwargs`` of :func:`find_lanes`, with their defaults.
_DEFAULTS = {
    "max_angle_deg": 3.5,  # tilt search range (±)
    "angle_step_deg": 0.25,  # coarse tilt search step; refined by slab tracking afterwards
    "slope": None,  # fix the tilt (dx/dy) instead of searching, e.g. 0.0
    "pitch_range": None,  # (min, max) lane pitch in pixels; default from the image width
    "min_strength": 0.08,  # a lane is "seen" if its peak reaches this fraction of a typical lane
    "max_profile_width": 2048,  # columns of the reduced image (speed vs. precision)
    "outside_weight": 0.25,  # share of the lane evidence taken from outside the `rows` windows
    "dark_markers": True,  # also score dark (absorbing) lane-like spots, e.g. pre-stained markers
    "peak_strength": 0.12,  # a column counts as lane-like if its peak reaches this fraction
}


def lanes_from_centers(centers, width, *, slope=0.0, y_ref=0.0):
    """Lanes from explicit geometry (``analysis.lanes: {centers: [...], width: px}``).

    Parameters
    ----------
    centers : sequence of float, shape (n_lanes,)
        Lane centre columns at row ``y_ref``, strictly increasing.
    width : float or sequence of float
        Lane width in pixels, one for all lanes or one per lane; positive.
    slope : float, optional
        dx/dy of the lane centre lines (tilt), default 0.
    y_ref : float, optional
        Row at which ``centers`` are given, default 0.

    Returns
    -------
    lanes : Lanes

    Raises
    ------
    LayoutError
        If the centres are empty, not finite or not strictly increasing, or a width is not
        positive.

    Examples
    --------
    >>> lanes = lanes_from_centers([100, 200, 300], 60)
    >>> lanes.centers.tolist(), lanes.widths.tolist()
    ([100.0, 200.0, 300.0], [60.0, 60.0, 60.0])
    """
    try:
        c = np.asarray(centers, dtype=float).ravel()
        w = np.asarray(width, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise LayoutError(f"lane `centers` and `width` must be numbers; got {centers!r}, {width!r}") from exc
    if c.size == 0:
        raise LayoutError("lane `centers` is empty; give one centre column per lane, left to right")
    if not np.all(np.isfinite(c)):
        raise LayoutError(f"lane `centers` must be finite numbers; got {c.tolist()}")
    if c.size > 1 and np.any(np.diff(c) <= 0):
        raise LayoutError(f"lane `centers` must increase strictly left to right; got {c.tolist()}")
    if w.size == 1:
        w = np.full(c.size, w[0])
    if w.size != c.size:
        raise LayoutError(f"lane `width` must be one number or one per lane ({c.size}); got {w.size} values")
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise LayoutError(f"lane `width` must be positive; got {w.tolist()}")
    if not (math.isfinite(float(slope)) and math.isfinite(float(y_ref))):
        raise LayoutError(f"lane `slope` and `y_ref` must be finite; got {slope!r}, {y_ref!r}")
    return Lanes(centers=c, widths=w, slope=float(slope), y_ref=float(y_ref))


# ----------------------------------------------------------------------------------------------
# helpers


def _shift_rows(rows, shifts):
    """Sample every row ``i`` of ``rows`` at ``j + shifts[..., i]`` (linear, edges clamped).

    ``rows`` has shape (m, n), ``shifts`` shape (..., m); the result has shape (..., m, n).
    """
    m, n = rows.shape
    shifts = np.asarray(shifts, dtype=float)
    if n < 2:
        return np.broadcast_to(rows, shifts.shape + (n,)).copy()
    flat = rows.ravel()
    if rows.dtype != np.float64:
        pos = np.arange(n, dtype=np.float32) + shifts[..., None].astype(np.float32)
        np.clip(pos, 0, n - 1, out=pos)
        i0 = np.minimum(pos.astype(np.intp), n - 2)
        f = pos - i0
        i0 += (np.arange(m) * n)[:, None]
        a = flat[i0]
        b = flat[i0 + 1]
        return a + (b - a) * f
    # float64 rows: one shift set at a time (e.g. one per trial angle), written in place, so the
    # temporaries stay in cache; every element is a + (b - a) f as above, to the last bit
    sets = shifts.reshape(-1, m)
    out = np.empty((sets.shape[0], m, n))
    cols = np.arange(n, dtype=np.float32)
    base = (np.arange(m) * n)[:, None]
    for j in range(sets.shape[0]):
        pos = cols + sets[j][:, None].astype(np.float32)
        np.clip(pos, 0, n - 1, out=pos)
        i0 = pos.astype(np.intp)
        np.minimum(i0, n - 2, out=i0)
        f = pos - i0
        i0 += base
        a = np.take(flat, i0)
        i0 += 1
        o = out[j]
        np.subtract(np.take(flat, i0), a, out=o)
        o *= f
        o += a
    return out.reshape(shifts.shape + (n,))


def _bin_mean(a, r):
    """Mean of ``r`` consecutive samples along the last axis (the tail is dropped)."""
    if r <= 1:
        return a
    n = a.shape[-1] // r
    return a[..., : n * r].reshape(a.shape[:-1] + (n, r)).mean(axis=-1)


def _odd(n):
    n = max(1, int(round(n)))
    return n if n % 2 else n + 1


def _flatten_profiles(slabs, lane_scale):
    """Remove specks (narrow opening) and background (grey-opening top-hat) along x."""
    from scipy import ndimage as ndi

    speck = _odd(0.08 * lane_scale)
    if speck >= 3:  # an opening narrower than a lane removes specks, keeps lanes
        slabs = ndi.grey_opening(slabs, size=(1, speck), mode="nearest")
    size = _odd(1.2 * lane_scale)
    opened = ndi.grey_opening(slabs, size=(1, size), mode="nearest")
    flat = slabs - opened
    return flat


def profile_columns(image, *, slope=0.0, y_ref=None, n_slabs=None, max_width=2048):
    """Column profile of an image along lanes of a common tilt, plus the per-slab profiles.

    The image is area-averaged into ``n_slabs`` horizontal slabs and at most ``max_width``
    columns; each slab is shifted by ``slope * (y - y_ref)`` so that tilted lanes line up.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        Any real image; it is not modified.
    slope : float, optional
        dx/dy of the lanes.
    y_ref : float, optional
        Row whose columns the profile is expressed in; default the middle row.
    n_slabs : int, optional
        Number of horizontal slabs; default about one per 12 rows, between 1 and 96.
    max_width : int, optional
        Maximum number of profile samples along x.

    Returns
    -------
    profile : ndarray, shape (n,)
        Mean of the aligned slab profiles; sample ``j`` is centred on column
        ``(j + 0.5) * scale - 0.5`` of the image.
    slabs : ndarray, shape (n_slabs, n)
        The aligned slab profiles.
    scale : float
        Image columns per profile sample.
    slab_rows : ndarray, shape (n_slabs,)
        Centre row of every slab.

    Examples
    --------
    >>> img = np.zeros((40, 30)); img[:, 10:14] = 1.0
    >>> profile, slabs, scale, rows = profile_columns(img)
    >>> int(np.argmax(profile)), scale
    (10, 1.0)
    """
    import cv2

    img = np.asarray(image)
    if img.ndim != 2:
        raise LayoutError(f"image must be 2-D (rows, cols); got shape {img.shape}")
    h, w = img.shape
    if n_slabs is None:
        n_slabs = int(np.clip(h // 12, 1, 96))
    n_slabs = int(max(1, min(n_slabs, h)))
    wd = int(round(w / math.ceil(w / max_width)))
    src = img if img.dtype in (np.float32, np.float64) else img.astype(np.float64)
    red = cv2.resize(src, (wd, n_slabs), interpolation=cv2.INTER_AREA).astype(float)
    fx, fy = w / wd, h / n_slabs
    rows = (np.arange(n_slabs) + 0.5) * fy - 0.5
    if y_ref is None:
        y_ref = (h - 1) / 2
    shifts = slope * (rows - y_ref) / fx
    aligned = _shift_rows(red, shifts)
    return aligned.mean(axis=0), aligned, fx, rows


# ----------------------------------------------------------------------------------------------
# tilt

_MAX_SLOPE_SE_DEG = 0.1  # a tilt is believed only when its standard error is below this


def _sharpness(proj):
    proj = proj - proj.mean(axis=-1, keepdims=True)
    return (proj * proj).sum(axis=-1)


def _find_slope(flat, rows, fx, y_ref, max_angle, step, wts=None):
    """Coarse angle by profile sharpness, then slab tracking; returns (slope, diagnostics).

    ``wts`` weighs every slab in the summed profiles (band-row slabs count more). A tilt is kept
    only when it is well determined: enough tracked slabs, spread over enough rows that the
    standard error of the fitted slope is small; otherwise the slope is 0 and
    ``diagnostics["reason"]`` says why.
    """
    n_slabs, wd = flat.shape
    r = max(1, int(math.ceil(wd / 512)))
    coarse = _bin_mean(flat, r)
    angles = np.arange(-max_angle, max_angle + step / 2, step)
    dy = (rows - y_ref) / (fx * r)
    shifts = np.tan(np.deg2rad(angles))[:, None] * dy[None, :]
    if wts is None:
        wts = np.full(n_slabs, 1.0 / n_slabs)
    wts = np.asarray(wts, dtype=float) * n_slabs
    # one angle at a time: the shifted slabs of every angle at once are tens of MB
    # (einsum per angle: the same summation order as the all-angles einsum, to the last bit;
    # wts @ ... sums in another order, ~1e-16 apart)
    proj = np.array([np.einsum("sn,s->n", _shift_rows(coarse, sh), wts) for sh in shifts])
    sharp = _sharpness(proj)
    k = int(np.argmax(sharp))
    k0 = int(np.argmin(np.abs(angles)))
    if sharp[k] < 1.01 * sharp[k0]:
        k = k0  # a tilt must sharpen the profile clearly before it is believed
    angle0 = float(angles[k])
    if 0 < k < len(angles) - 1:
        a, b, c = sharp[k - 1], sharp[k], sharp[k + 1]
        den = a - 2 * b + c
        if den < 0:
            angle0 += float(np.clip(0.5 * (a - c) / den, -0.5, 0.5)) * step
    slope0 = math.tan(math.radians(angle0))

    # Tracking: the shift of each slab against the summed, deskewed profile (FFT correlation).
    aligned = _shift_rows(flat, slope0 * (rows - y_ref) / fx)
    template = wts @ aligned
    template = template - template.mean()
    h_span = (rows.max() - rows.min()) if len(rows) > 1 else 0.0
    max_lag = int(math.ceil(math.tan(math.radians(2 * step + 0.1)) * h_span / fx)) + 2
    max_lag = min(max_lag, wd // 4)
    lags = np.arange(-max_lag, max_lag + 1)
    g = aligned - aligned.mean(axis=1, keepdims=True)
    nfft = 1 << int(math.ceil(math.log2(2 * wd)))
    spec = np.fft.rfft(g, nfft, axis=1) * np.conj(np.fft.rfft(template, nfft))[None, :]
    cc = np.fft.irfft(spec, nfft, axis=1)  # cc[i, lag] = sum_j g_i(j + lag) * template(j)
    corr = cc[:, lags % nfft].T  # (lags, slabs)
    kbest = np.argmax(corr, axis=0)
    peak = corr[kbest, np.arange(n_slabs)]
    delta = lags[kbest].astype(float)
    inner = (kbest > 0) & (kbest < len(lags) - 1)
    for i in np.nonzero(inner)[0]:
        a, b, c = corr[kbest[i] - 1, i], corr[kbest[i], i], corr[kbest[i] + 1, i]
        den = a - 2 * b + c
        if den < 0:
            delta[i] += float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    # weight: correlation strength relative to the template's own energy
    energy = float((template**2).sum()) or 1.0
    weight = np.clip(peak / energy * n_slabs, 0, None) * inner
    used = weight > 0.2 * (weight.max() if weight.size else 0)
    dslope = 0.0
    n_used = int(used.sum())
    se = math.inf
    span = float(np.ptp(rows[used])) if n_used else 0.0
    if n_used >= 3 and span > 0:
        x = rows - y_ref
        d = delta * fx
        for _ in range(3):
            wv = weight * used
            sw = wv.sum()
            xm, dm = (wv * x).sum() / sw, (wv * d).sum() / sw
            sxx = (wv * (x - xm) ** 2).sum()
            if sxx <= 0:
                break
            dslope = float((wv * (x - xm) * (d - dm)).sum() / sxx)
            res = d - dm - dslope * (x - xm)
            scale = 1.4826 * np.median(np.abs(res[used])) + 0.25
            keep = used & (np.abs(res) <= 3 * scale)
            if keep.sum() < 3 or np.array_equal(keep, used):
                used = keep if keep.sum() >= 3 else used
                break
            used = keep
        n_used = int(used.sum())
        span = float(np.ptp(rows[used]))
        # standard error of the slope from the unweighted scatter of the tracked shifts about
        # the line (floor: a fifth of a profile sample), over the rows they cover
        xu = x[used] - x[used].mean()
        res_u = d[used] - d[used].mean() - dslope * xu
        sigma = max(float(np.sqrt((res_u**2).sum() / max(n_used - 2, 1))), 0.2 * fx)
        sxx_u = float((xu**2).sum())
        se = sigma / math.sqrt(sxx_u) if sxx_u > 0 else math.inf
        # never move further than the coarse search (or its 1 % rule) can have missed
        max_d = math.tan(math.radians(2 * step))
        dslope = float(np.clip(dslope, -max_d, max_d))
    limit = math.tan(math.radians(max_angle))
    slope = float(np.clip(slope0 + dslope, -limit, limit))
    gain = float(sharp[k] / sharp[k0]) if sharp[k0] > 0 else 1.0
    diag = {
        "coarse_angle_deg": round(angle0, 4),
        "sharpness_gain": round(gain, 4),
        "tracked_slabs": n_used,
        "tracked_span_px": round(span, 1),
        "slope_se_deg": round(math.degrees(math.atan(se)), 4) if math.isfinite(se) else None,
        "determined": True,
    }
    reason = None
    if n_used < 4:
        reason = f"only {n_used} slabs carry trackable lane signal"
    elif se > math.tan(math.radians(_MAX_SLOPE_SE_DEG)):
        reason = (
            f"lane signal spans {span:.0f} rows; the slope's standard error "
            f"{math.degrees(math.atan(se)):.2f} deg exceeds {_MAX_SLOPE_SE_DEG} deg"
        )
    elif abs(slope) >= limit * (1 - 1e-9) and slope != 0:
        reason = f"the tilt reached the search limit ±{max_angle} deg"
    if reason is not None and slope != 0.0:
        diag.update(determined=False, reason=f"tilt not well determined: {reason}; slope set to 0",
                    rejected_angle_deg=round(math.degrees(math.atan(slope)), 4))
        slope = 0.0
    elif reason is not None:
        diag.update(determined=False, reason=f"tilt not well determined: {reason}; slope 0")
    return slope, diag


# ----------------------------------------------------------------------------------------------
# comb


def _comb_fit(profile, n_lanes, p_lo, p_hi):
    """Best (offset, pitch) of an n-tooth comb on a non-negative profile; also score."""
    n = profile.size
    step_p = max(0.25, (p_hi - p_lo) / 400)
    pitches = np.arange(p_lo, p_hi + step_p / 2, step_p)
    offsets = np.arange(0.0, n - 1 + 1e-9, 1.0)
    # Teeth at the lanes score, the midpoints between teeth (where the gaps should be)
    # count against: a comb at half the pitch, whose midpoints land on lanes, loses.
    k = np.arange(-1, 2 * n_lanes) / 2  # -0.5, 0, 0.5, ..., n - 0.5
    pos = offsets[None, :, None] + pitches[:, None, None] * k[None, None, :]
    ok = pos[:, :, -2] <= n - 1
    pos = np.clip(pos, 0, n - 1)
    i0 = np.minimum(pos.astype(np.intp), n - 2)
    f = pos - i0
    val = profile[i0] * (1 - f) + profile[i0 + 1] * f
    teeth = val[..., 1::2].sum(axis=-1)
    gaps = val[..., 0::2]
    score = teeth - 0.5 * (gaps[..., :-1] + gaps[..., 1:]).sum(axis=-1)
    score[~ok] = -np.inf
    best = float(score.max())
    # Ties (e.g. an empty lane at one end): prefer the comb whose span is centred.
    # A quarter of a typical tooth per pitch off centre: decides between near-equal combs only.
    mid = offsets[None, :] + pitches[:, None] * (n_lanes - 1) / 2
    off_centre = np.abs(mid - (n - 1) / 2) / pitches[:, None]
    adj = score - 0.25 * (max(best, 0.0) / n_lanes) * off_centre
    ip, io = np.unravel_index(int(np.argmax(adj)), adj.shape)
    return float(offsets[io]), float(pitches[ip]), float(score[ip, io]), best


def _half_max_extent(prof, c, pitch, search=0.45):
    """Peak within ``search`` pitches of ``c`` and the middle/width of its half-maximum extent
    above local minima."""
    n = prof.size
    lo = max(0, int(math.floor(c - search * pitch)))
    hi = min(n, int(math.ceil(c + search * pitch)) + 1)
    if hi - lo < 3:
        return None
    jp = lo + int(np.argmax(prof[lo:hi]))
    peak = prof[jp]
    l0 = max(0, int(math.floor(c - 0.8 * pitch)))
    r0 = min(n, int(math.ceil(c + 0.8 * pitch)) + 1)
    left_min = prof[l0 : jp + 1].min()
    right_min = prof[jp:r0].min()
    base = max(left_min, right_min)
    strength = peak - base
    if strength <= 0:
        return None
    half = base + 0.5 * strength
    j = jp
    while j > l0 and prof[j - 1] >= half:
        j -= 1
    xl = j - (prof[j] - half) / (prof[j] - prof[j - 1]) if j > 0 and prof[j] != prof[j - 1] else float(j)
    j = jp
    while j < r0 - 1 and prof[j + 1] >= half:
        j += 1
    xr = j + (prof[j] - half) / (prof[j] - prof[j + 1]) if j < n - 1 and prof[j] != prof[j + 1] else float(j)
    edge = jp in (lo, hi - 1) and 0 < jp < n - 1
    return {
        "center": 0.5 * (xl + xr),
        "width": xr - xl,
        "peak_at": float(jp),
        "strength": float(strength),
        "edge": bool(edge),
    }


def _lane_extent(prof, c, lo_bound, hi_bound, search, frac=0.5, open_lo=False, open_hi=False):
    """Middle of a lane's extent between two neighbouring lanes.

    The peak is searched within ``search`` samples of ``c``; on each side the lane's floor is the
    profile's minimum between the peak and the bound (the gap towards that neighbour), and the edge
    is where the profile falls to ``frac`` of the way from that floor to the peak. Unlike a common
    base, each side uses its own floor, so a neighbour that touches the lane on one side does not
    pull the edge there. A side without a neighbour (``open_lo``, ``open_hi``: the first or last
    lane) takes the higher of the two floors, so a tail into the open does not widen the lane.
    Returns None without a peak above both floors.
    """
    n = prof.size
    lo_b = int(np.clip(math.floor(lo_bound), 0, n - 1))
    hi_b = int(np.clip(math.ceil(hi_bound), 0, n - 1))
    lo = max(lo_b, int(math.floor(c - search)))
    hi = min(hi_b, int(math.ceil(c + search)))
    if hi - lo < 2 or hi_b - lo_b < 3:
        return None
    jp = lo + int(np.argmax(prof[lo : hi + 1]))
    peak = float(prof[jp])
    fl_l = float(prof[lo_b : jp + 1].min())
    fl_r = float(prof[jp : hi_b + 1].min())
    if peak <= max(fl_l, fl_r):
        return None
    if open_lo:  # no neighbour on that side: the floor is the other side's when higher
        fl_l = max(fl_l, fl_r)
    if open_hi:
        fl_r = max(fl_l, fl_r)
    th_l = fl_l + frac * (peak - fl_l)
    th_r = fl_r + frac * (peak - fl_r)
    j = jp
    while j > lo_b and prof[j - 1] >= th_l:
        j -= 1
    xl = j - (prof[j] - th_l) / (prof[j] - prof[j - 1]) if j > lo_b and prof[j] != prof[j - 1] else float(j)
    j = jp
    while j < hi_b and prof[j + 1] >= th_r:
        j += 1
    xr = j + (prof[j] - th_r) / (prof[j] - prof[j + 1]) if j < hi_b and prof[j] != prof[j + 1] else float(j)
    return {"center": 0.5 * (xl + xr), "width": xr - xl, "peak_at": float(jp),
            "strength": peak - max(fl_l, fl_r)}


_WIDTH_FRAC = 0.1  # a lane's width reaches where its band-row profile falls to this fraction
_WIDTH_NOISE = 3.0  # ... or to this many noise sd above its floor, whichever is higher
_WIDTH_SMOOTH = 0.7  # sd (profile samples) of the light smoothing of that profile


def _band_extent_widths(prof, centers, core, use, noise):
    """Lane widths that cover the bands' whole extent across the lane (profile samples).

    A half-maximum width equals the width of a band with soft edges, so a strip of that width cuts
    off both blurred edges (about 0.4 edge sd per side: -1.2 % of a 68 px band with 1 px edges).
    For every lane in ``use`` the band-row profile ``prof`` is followed out from the lane's peak
    to where it falls to ``_WIDTH_FRAC`` of the height above each side's own floor (the gap
    towards that neighbour; see :func:`_lane_extent`), or to ``_WIDTH_NOISE`` noise sd above it
    when that is higher. The strip is centred on the lane centre (which does not move), so the
    width is twice the farther edge's distance from the centre, capped at the nearer neighbour's
    centre distance (strips end at the midpoints and never overlap) and never below ``core``
    (the width found before). Returns the widths and the mask of lanes the cap bound.
    """
    n = centers.size
    out = np.array(core, dtype=float)
    capped = np.zeros(n, bool)
    for i in np.nonzero(use)[0]:
        c = float(centers[i])
        gl = c - centers[i - 1] if i > 0 else math.inf
        gr = centers[i + 1] - c if i < n - 1 else math.inf
        gap = min(gl, gr)
        if not math.isfinite(gap):  # a single lane: the whole profile
            gap = 2.0 * max(c, prof.size - 1 - c)
        lb = c - 0.5 * (gl if math.isfinite(gl) else gap)
        hb = c + 0.5 * (gr if math.isfinite(gr) else gap)
        search = 0.5 * min(core[i], gap) if math.isfinite(core[i]) else 0.25 * gap
        g = _lane_extent(prof, c, lb, hb, search, 0.5, open_lo=i == 0, open_hi=i == n - 1)
        if g is None or g["strength"] <= 0:
            continue
        frac = min(0.5, max(_WIDTH_FRAC, _WIDTH_NOISE * noise / g["strength"]))
        g = _lane_extent(prof, c, lb, hb, search, frac, open_lo=i == 0, open_hi=i == n - 1)
        if g is None:
            continue
        xl, xr = g["center"] - 0.5 * g["width"], g["center"] + 0.5 * g["width"]
        full = 2.0 * max(c - xl, xr - c)
        capped[i] = full > gap
        out[i] = max(float(core[i]), min(full, gap))
    return out, capped


def _reduce(img, wd, k):
    """Area-average ``img`` into ``k`` rows and ``wd`` columns (float64)."""
    import cv2

    src = img if img.dtype in (np.float32, np.float64) else img.astype(np.float64)
    return cv2.resize(src, (wd, k), interpolation=cv2.INTER_AREA).astype(float)


def _validate_rows(rows, h):
    """``rows`` -> list of (top, bottom) integer windows inside ``[0, h]``, and those ignored."""
    if rows is None:
        return [], []
    try:
        pairs = [tuple(float(v) for v in pair) for pair in rows]
    except (TypeError, ValueError) as exc:
        raise LayoutError(f"`rows` must be a list of [top, bottom] row windows; got {rows!r}") from exc
    out, ignored = [], []
    for pair in pairs:
        if len(pair) != 2 or not all(math.isfinite(v) for v in pair) or not pair[0] < pair[1]:
            raise LayoutError(
                f"`rows` must be [top, bottom] pairs with top < bottom; got {list(pair)} in {rows!r}"
            )
        top, bottom = max(0, int(math.floor(pair[0]))), min(h, int(math.ceil(pair[1])) + 1)
        if bottom - top < 2:
            ignored.append([pair[0], pair[1]])
            continue
        out.append((top, bottom))
    if ignored:
        logger.info("row windows %s lie outside the %d image rows and were ignored", ignored, h)
    return out, ignored


def _bright_peaks(prof_s, noise, hint, n_lanes, frac):
    """Lane-like bright columns: peaks of the profile whose prominence reaches ``frac`` of a
    typical lane's (median of the ``n_lanes`` most prominent)."""
    from scipy import ndimage as ndi
    from scipy.signal import find_peaks

    # smoothed at the lane scale, so a flat-topped or dented band gives one peak
    sm = ndi.gaussian_filter1d(prof_s, max(0.7, 0.15 * hint), mode="nearest")
    wlen = max(3, int(2.5 * hint)) | 1
    pk, pr = find_peaks(sm, distance=max(1.0, 0.4 * hint), prominence=noise, wlen=wlen)
    prom = pr["prominences"] if pk.size else np.zeros(0)
    if not pk.size:
        return {"x": np.zeros(0), "strength": np.zeros(0), "ref": 0.0}
    ref = float(np.median(np.sort(prom)[::-1][:n_lanes]))
    keep = prom >= max(4 * noise, frac * ref)
    return {"x": pk[keep].astype(float), "strength": prom[keep] / ref, "ref": ref}


def _dark_peaks(raw, rows, slope, y_ref, fx, lane_scale, pitch, ref, bright_x, frac):
    """Lane-like dark columns: lane-wide spots darker than the local background level (a low
    percentile along x, so the gaps between bright lanes do not count), summed over all slabs.

    Returns positions and strengths (relative to ``ref``, a typical bright lane's height in the
    all-row profile) of dark peaks farther than 0.6 pitch from every bright column, and the
    dark profile itself.
    """
    from scipy import ndimage as ndi
    from scipy.signal import find_peaks

    n_slabs, wd = raw.shape
    r = max(1, int(math.ceil(wd / 256)))
    s = _bin_mean(raw, r)
    s = _shift_rows(s, slope * (rows - y_ref) / (fx * r))
    sp = _odd(0.15 * lane_scale / r)
    if sp >= 3:  # narrow dark specks and pen strokes are not lanes
        s = ndi.grey_closing(s, size=(1, sp), mode="nearest")
    bg = ndi.percentile_filter(s, 30, size=(1, _odd(2.5 * lane_scale / r)), mode="nearest")
    sig = 1.4826 * np.median(np.abs(np.diff(s, axis=1)), axis=1) / math.sqrt(2)
    dk = np.clip(bg - s - 3 * sig[:, None], 0, None).mean(axis=0)
    xs = (np.arange(dk.size) + 0.5) * r - 0.5
    prof = np.interp(np.arange(wd, dtype=float), xs, dk)
    prof = ndi.gaussian_filter1d(prof, max(0.7, 0.06 * lane_scale), mode="nearest")
    out = {"x": np.zeros(0), "strength": np.zeros(0), "profile": prof}
    if ref <= 0 or not np.any(prof > 0):
        return out
    pk, pr = find_peaks(prof, distance=max(1.0, 0.5 * pitch), prominence=frac * ref)
    if not pk.size:
        return out
    x = pk.astype(float)
    keep = (x > 0.25 * pitch) & (x < wd - 1 - 0.25 * pitch)
    if len(bright_x):
        keep &= np.min(np.abs(x[:, None] - np.asarray(bright_x)[None, :]), axis=1) > 0.6 * pitch
    out.update(x=x[keep], strength=pr["prominences"][keep] / ref)
    return out


_LADDER_SIGMA = 3.0  # a ladder band's row contrast, in robust spreads of the strip's row contrast
_LADDER_MIN_BANDS = 2  # ladder bands needed before a marker leaves the lane line ...
_LADDER_SINGLE = 4.0  # ... unless one band's contrast reaches this many times the detection level
_LADDER_SINGLE_WIDE = 2.0  # ... or this many times it and the band is lane-wide:
_LADDER_WIDE = 0.6  # ... at least this many pitches wide
_LADDER_FAINT = 2 / 3  # a faint ladder: bands down to this fraction of the detection level ...
_LADDER_FAINT_BANDS = 3  # ... count when at least this many of them stand in one column
_LADDER_REACH = 1.5  # an edge marker without a ladder at its lane line: searched this many pitches out
_LADDER_FAR_SINGLE = 100.0  # ... where a lone band needs this contrast (spreads) to place it
_LADDER_FLANK = 1.5  # a band is a flank when the other polarity is this many times stronger beside it


def _ladder_bands(img, x0, pitch, slope, y_ref, *, sigma=_LADDER_SIGMA, polarities=("dark", "bright"),
                  reach=None):
    """Ladder bands of a marker lane near column ``x0`` (image px, at row ``y_ref``).

    A ladder shows as short, lane-wide bands, dark (pre-stained) or bright, stacked along the
    lane. The strip of ``img`` reaching 0.57 ``pitch`` beyond the allowed band centres (slope
    ``slope``) is area-averaged into rows about a twelfth of the pitch tall and deskewed; every row
    is compared with the rows a quarter and two fifths of a pitch above and below it (row
    contrast: how far the row stands out beyond the nearer of the two, per column), so a column
    that is merely brighter or darker over the whole lane length, or a smooth gradient, has no
    contrast at all. In every row, runs of columns whose contrast exceeds ``sigma`` times the
    strip's robust contrast spread are band candidates when they are 0.35 to 1.3 pitches wide
    (lane-wide: not a speck, a dot or pen stroke, and not a smear over several lanes) and centred
    within ``reach`` (pitches from ``x0``; default a third of the pitch either side); overlapping
    runs in consecutive rows form one band, which must be at most half a pitch tall. A band's
    centre and width come from its contrast averaged over its rows (the extent down to the
    detection level, or half its peak if that is lower). A band beside a clearly stronger
    structure of the other polarity (``_LADDER_FLANK`` times its contrast, averaged over its
    columns, within the comparison distance above or below) is that structure's flank, not a
    band: the rows just above and below a bright band (a ladder band or the edge of a sample band)
    have negative row contrast against it and would show as dark bands, and the other way round;
    a weaker halo beside a band of the other polarity is kept. With ``reach`` given, only the
    column of bands (centres within a third of a pitch) with the most total contrast is kept. The
    polarity with the stronger total contrast wins (not the one with more bands: one bright band
    makes two dark flanks).

    Returns a list of bands (dicts with ``center`` px at ``y_ref``, ``row`` px, ``height`` px,
    ``width`` px, ``contrast`` in spreads) and the polarity (``"dark"``, ``"bright"`` or None).
    """
    from scipy import ndimage as ndi

    h, w = img.shape
    hb = max(2.0, pitch / 12)
    n_r = int(np.clip(round(h / hb), 8, 512))
    hb = h / n_r
    tilt = abs(slope) * h
    r_lo, r_hi = (-1 / 3, 1 / 3) if reach is None else reach  # band centres allowed, pitches from x0
    side = 0.9 - 1 / 3  # columns looked at beyond them, pitches
    xl = int(max(0, math.floor(x0 + (r_lo - side) * pitch - tilt)))
    xr = int(min(w, math.ceil(x0 + (r_hi + side) * pitch + tilt) + 1))
    cw = max(1.0, pitch / 48)  # column bin width, px
    n_c = int(round((xr - xl) / cw))
    if n_c < 8 or n_r < 8:
        return [], None
    cw = (xr - xl) / n_c
    sub = _reduce(img[:, xl:xr], n_c, n_r)
    rows = (np.arange(n_r) + 0.5) * hb - 0.5
    sub = _shift_rows(sub, slope * (rows - y_ref) / cw)
    sp = _odd(0.08 * pitch / cw)
    if sp >= 3:  # specks and thin pen strokes are not bands
        sub = ndi.grey_closing(ndi.grey_opening(sub, size=(1, sp), mode="nearest"), size=(1, sp),
                               mode="nearest")
    sub = ndi.uniform_filter1d(sub, 3, axis=1, mode="nearest")
    to_px = lambda j: xl + (np.asarray(j, dtype=float) + 0.5) * cw - 0.5  # noqa: E731
    d_far = min(max(1, int(round(0.4 * pitch / hb))), n_r - 1) * hb  # farthest comparison row, px
    found, maps = {}, {}
    for pol in polarities:
        u = -sub if pol == "dark" else sub
        con = np.full(u.shape, -np.inf)
        spread = None
        for frac in (0.25, 0.4):
            d = min(max(1, int(round(frac * pitch / hb))), n_r - 1)
            up = np.vstack([np.repeat(u[:1], d, axis=0), u[:-d]])
            dn = np.vstack([u[d:], np.repeat(u[-1:], d, axis=0)])
            # contrast against the straight line between the rows above and below (a background
            # gradient along the lane has none); a band must also stand out beyond both rows
            # (an edge between a darker and a brighter region does not)
            lin = u - 0.5 * (up + dn)
            if spread is None:  # robust spread of the row contrast over the strip
                spread = 1.4826 * float(np.median(np.abs(lin - np.median(lin)))) + 1e-12
            con = np.maximum(con, np.where(u > np.maximum(up, dn), lin, -np.inf))
        cmap = np.where(np.isfinite(con), con, 0.0) / spread  # row contrast in spreads
        maps[pol] = cmap
        hit = cmap > sigma
        runs = []  # (row, start col, stop col, peak contrast)
        # every row's runs at once (connected along the row only; labels in row-major order,
        # so the runs come row by row, left to right, as labelling each row would give them)
        lab, n = ndi.label(hit, structure=[[0, 0, 0], [1, 1, 1], [0, 0, 0]])
        for sl in ndi.find_objects(lab):
            y, a, b = sl[0].start, sl[1].start, sl[1].stop
            wd_px = (b - a) * cw
            c = to_px(0.5 * (a + b - 1))
            if 0.35 * pitch <= wd_px <= 1.3 * pitch and r_lo * pitch < c - x0 < r_hi * pitch:
                runs.append((y, a, b, float(cmap[y, a:b].max())))
        # overlapping runs in consecutive rows: one band
        bands = []
        for y, a, b, pk in runs:
            for bd in bands:
                if bd["last"] == y - 1 and a < bd["b"] and b > bd["a"]:
                    bd["rows"].append((y, a, b, pk))
                    bd.update(last=y, a=min(bd["a"], a), b=max(bd["b"], b))
                    break
            else:
                bands.append({"rows": [(y, a, b, pk)], "last": y, "a": a, "b": b})
        out = []
        for bd in bands:
            height = len(bd["rows"]) * hb
            if height > 0.5 * pitch:
                continue
            y, _, _, pk = max(bd["rows"], key=lambda t: t[3])  # its row of highest contrast
            # its centre: the middle of the extent of its contrast averaged over its rows, down
            # to the detection level or half its peak (steadier than one row's run)
            prof = cmap[[r[0] for r in bd["rows"]]].mean(axis=0)
            j = bd["a"] + int(np.argmax(prof[bd["a"]:bd["b"]]))
            lo, hi = j, j
            lvl = min(sigma, 0.5 * prof[j])  # a faint band: its run above the level is its core
            while lo > 0 and prof[lo - 1] > lvl:
                lo -= 1
            while hi < prof.size - 1 and prof[hi + 1] > lvl:
                hi += 1
            # the edges where the profile crosses the level, between column bins
            e_lo = lo - 0.5 if lo == 0 else lo - (prof[lo] - lvl) / (prof[lo] - prof[lo - 1])
            e_hi = hi + 0.5 if hi == prof.size - 1 else hi + (prof[hi] - lvl) / (prof[hi] - prof[hi + 1])
            out.append({"center": round(float(to_px(0.5 * (e_lo + e_hi))), 2),
                        "row": round(float(rows[y]), 1), "height": round(height, 1),
                        "width": round(float(e_hi - e_lo) * cw, 1), "contrast": round(pk, 2),
                        "_rows": (bd["rows"][0][0], bd["rows"][-1][0] + 1), "_cols": (lo, hi + 1)})
        found[pol] = out

    near = math.ceil(d_far / hb) + 1

    def flank(bd, pol):
        # beside a clearly stronger structure of the other polarity (any, not only a ladder
        # band: the dark rows above a bright sample band reaching into the marker's columns);
        # strength: the row contrast averaged over the band's columns, in the strongest row
        (r0, r1), (c0, c1) = bd["_rows"], bd["_cols"]
        own = float(maps[pol][r0:r1, c0:c1].mean(axis=1).max())
        return any(q != pol and float(m[max(0, r0 - near):r1 + near, c0:c1].mean(axis=1).max())
                   > _LADDER_FLANK * own for q, m in maps.items())

    kept = {pol: [{k: v for k, v in bd.items() if not k.startswith("_")} for bd in out
                  if not flank(bd, pol)] for pol, out in found.items()}
    if reach is not None:  # a wide search: the column of bands with the most contrast
        for pol, out in kept.items():
            groups = [[o for o in out if abs(o["center"] - bd["center"]) < pitch / 3] for bd in out]
            kept[pol] = max(groups, key=lambda g: (sum(o["contrast"] for o in g),
                                                   -abs(np.median([o["center"] for o in g]) - x0)),
                            default=[])
    best, best_total, pol_best = [], 0.0, None
    for pol in polarities:
        total = sum(bd["contrast"] for bd in kept[pol])
        if total > best_total:
            best, best_total, pol_best = kept[pol], total, pol
    return best, pol_best


def _ladder_searches(outer):
    """(where, detection level, what is needed) for each search for a marker's ladder, in order.

    First at the lane line at the detection level; then, for a faint ladder, at a lower level
    where only a column of at least ``_LADDER_FAINT_BANDS`` bands counts. An edge marker
    (``outer`` -1 or 1: before or after all sample lanes) is then looked for outwards too, up to
    ``_LADDER_REACH`` pitches from its lane line (a marker is often loaded beyond a gap or at the
    membrane's edge), where a lone band must be unmistakable (``_LADDER_FAR_SINGLE``).
    """
    out = [("lane line", _LADDER_SIGMA, "ladder"), ("lane line", _LADDER_FAINT * _LADDER_SIGMA, "faint")]
    if outer:
        out += [("outwards", _LADDER_SIGMA, "far"), ("outwards", _LADDER_FAINT * _LADDER_SIGMA, "faint")]
    return out


def _ladder_ok(bands, pitch, need="ladder", sigma=_LADDER_SIGMA):
    """Whether ladder bands place a marker. ``need``: "ladder" (at least ``_LADDER_MIN_BANDS``
    bands, or one very clear one, or one clear and lane-wide), "faint" (at least
    ``_LADDER_FAINT_BANDS`` bands) or "far" (at least ``_LADDER_MIN_BANDS``, or one of
    ``_LADDER_FAR_SINGLE`` spreads)."""
    if need == "faint":
        return len(bands) >= _LADDER_FAINT_BANDS
    if len(bands) >= _LADDER_MIN_BANDS:
        return True
    if need == "far":
        return any(b["contrast"] >= _LADDER_FAR_SINGLE for b in bands)
    return any(b["contrast"] >= _LADDER_SINGLE * sigma
               or (b["contrast"] >= _LADDER_SINGLE_WIDE * sigma and b["width"] >= _LADDER_WIDE * pitch)
               for b in bands)


_KINDS = ("sample", "marker", "empty")
_MARKER_WEIGHT = 0.3  # a marker position's (weak) support, per fully visible marker column
_GAP_WEIGHT = 0.5  # band evidence midway between two sample lanes counts against a placement
_MISSED_WEIGHT = 1.0  # a strong band column left between the listed sample lanes counts against
_SMALL_MARGIN = 0.5  # placement margin (in clear sample lanes) below which params carry a warning
_EXTENT_FRAC = 0.2  # a sample lane's edges: this fraction of the way from each side's floor to its peak
_COLUMN_LEAN = 0.1  # a band column whose peak leans more than this many pitches off its lane's extent middle ...
_COLUMN_SHIFT = 0.35  # ... (and less than this many) moves to that middle
_TOUCH_GAP = 0.25  # a gap between touching lanes is narrower than this many pitches ...
_TOUCH_DEPTH = 0.25  # ... and falls below this fraction of the lower neighbour's peak
_VIRTUAL_SAMPLE = 0.5  # share of its band evidence a sample lane earns without a band column


def _validate_kinds(kinds, n_lanes):
    """``kinds`` -> array of "sample" | "marker" | "empty", one per lane, or None."""
    if kinds is None:
        return None
    if isinstance(kinds, str) or not hasattr(kinds, "__len__"):
        raise LayoutError(
            f"`kinds` must be a sequence with one of {list(_KINDS)} per lane; got {kinds!r}"
        )
    ks = list(kinds)
    if len(ks) != n_lanes:
        raise LayoutError(f"`kinds` must list one kind per lane ({n_lanes} lanes); got {len(ks)}: {ks!r}")
    bad = [k for k in ks if not isinstance(k, str) or k not in _KINDS]
    if bad:
        raise LayoutError(f"unknown lane kind(s) {bad!r} in `kinds`; allowed: {list(_KINDS)}")
    if "sample" not in ks:
        raise LayoutError(f"`kinds` lists no sample lane ({ks!r}); lanes are placed on the sample lanes' bands")
    return np.array(ks)


def _place_by_kinds(kinds, band_s, noise_b, all_s, dark, p_lo, p_hi, hint, frac):
    """Place lanes whose kinds are known on the band-row profile (profile-sample units).

    Every candidate comb (pitch, offset; each lane free to move by 12 % of the pitch) scores
    ``+ s`` at sample lanes (band evidence ``s`` in [0, 1], 1 for a typical sample lane),
    ``- s`` at empty lanes, ``+ 0.3 m`` at marker lanes (``m``: bright or dark lane-like column in
    all rows, in [0, 1]), ``- 0.5 s`` midway between two neighbouring sample lanes, and ``- 1``
    per strong band column left uncovered between the first and last sample lane. Columns
    outside the listed span are ignored. Returns a dict (positions, pitch, score margin, band
    columns) for the refinement.
    """
    from scipy import ndimage as ndi

    n_lanes = kinds.size
    wd = band_s.size
    is_s, is_e, is_m = kinds == "sample", kinds == "empty", kinds == "marker"
    n_sample = int(is_s.sum())
    bright = _bright_peaks(band_s, noise_b, hint, n_sample, frac)
    # the peak of the lane-scale smoothed profile leans towards the heavier side of an uneven
    # band (up to a fifth of the pitch on real blots); the half-maximum middle is the lane's
    # centre, so spacings between columns, and the pitch checks on them, are not distorted
    for i, x in enumerate(bright["x"]):
        f = _half_max_extent(band_s, x, hint, search=0.2)
        if f is not None and abs(f["center"] - x) < 0.25 * hint:
            bright["x"][i] = f["center"]
    peaks = bright["x"].copy()
    bright["x"], leaned = _column_middles(band_s, bright["x"], hint)
    recentred = [[float(a), float(b)] for a, b in zip(peaks[leaned], bright["x"][leaned])]
    ref = bright["ref"] if bright["ref"] > 0 else float(band_s.max()) or 1.0
    s_full = np.clip((band_s - 2 * noise_b) / ref, 0, 1)
    bx = bright["x"].astype(int)
    ref_all = float(np.median(all_s[bx])) if bx.size else float(all_s.max())
    ref_all = ref_all if ref_all > 0 else 1.0
    m_full = np.clip(all_s / ref_all, 0, 1)
    if dark.get("profile") is not None:
        m_full = np.maximum(m_full, np.clip(dark["profile"] / ref_all, 0, 1))
    strong = bright["x"][bright["strength"] >= 0.25]
    strong_w = np.minimum(bright["strength"][bright["strength"] >= 0.25], 1.0)

    r = max(1, int(math.ceil(wd / 512)))
    sb, mb = _bin_mean(s_full, r), _bin_mean(m_full, r)
    n = sb.size
    cols = (strong - (r - 1) / 2) / r
    lo, hi = max(2.0, p_lo / r), max(2.0, p_lo / r, p_hi / r)
    if n_lanes == 1:
        pitches = np.array([float(n)])
    else:
        pitches = np.arange(lo, hi + 1e-9, max(0.25, (hi - lo) / 300))
    offsets = np.arange(0.0, n, 1.0)
    k = np.arange(n_lanes)
    i_s, i_e, i_m = np.nonzero(is_s)[0], np.nonzero(is_e)[0], np.nonzero(is_m)[0]
    pairs = np.nonzero(is_s[:-1] & is_s[1:])[0]
    first_s, last_s = i_s[0], i_s[-1]
    filt = {}

    def score(p, o):
        """Scores of combs of pitch ``p`` at offsets ``o`` (array); -inf where out of range."""
        d = max(1, int(round(0.12 * p)))
        if d not in filt:
            filt[d] = (ndi.maximum_filter1d(sb, 2 * d + 1, mode="nearest"),
                       ndi.maximum_filter1d(mb, 2 * d + 1, mode="nearest"))
        sm, mm = filt[d]
        pos = o[:, None] + p * k[None, :]
        ok = (pos[:, 0] >= 0) & (pos[:, -1] <= n - 1)
        j = np.clip(np.rint(pos), 0, n - 1).astype(np.intp)
        sc = sm[j[:, i_s]].sum(axis=1) - sb[j[:, i_e]].sum(axis=1) + _MARKER_WEIGHT * mm[j[:, i_m]].sum(axis=1)
        if pairs.size:
            mid = np.clip(np.rint(pos[:, pairs] + p / 2), 0, n - 1).astype(np.intp)
            sc -= _GAP_WEIGHT * sb[mid].sum(axis=1)
        if cols.size and n_lanes > 1:
            u = (cols[None, :] - o[:, None]) / p  # lane-index coordinate of every strong column
            inside = (u > first_s - 0.5) & (u < last_s + 0.5)
            off = np.abs(u - np.rint(u)) > 0.3
            sc -= _MISSED_WEIGHT * ((inside & off) * strong_w[None, :]).sum(axis=1)
        return np.where(ok, sc, -np.inf)

    if bright["x"].size:
        dp = _assign_by_kinds(kinds, bright, s_full, m_full, hint)
        if dp is not None:
            dp.update(ref=ref, s=s_full, band_x=strong, band_strength=strong_w, recentred=recentred)
            return dp
    best = (-np.inf, None, None)
    for p in pitches:
        sc = score(p, offsets)
        io = int(np.argmax(sc))
        if sc[io] > best[0]:
            best = (float(sc[io]), float(p), float(offsets[io]))
    if best[1] is None:
        return None
    sc0, p, o = best
    # one lane shift either way, at the same pitch
    shifted = score(p, np.array([o - p, o + p])) if n_lanes > 1 else np.array([-np.inf])
    next_best = float(shifted.max())
    margin = sc0 - next_best if math.isfinite(next_best) else None
    pos = (o + p * k) * r + (r - 1) / 2
    return {"positions": pos, "pitch": p * r, "score": sc0, "shift_scores": shifted.tolist(),
            "margin": margin, "ref": ref, "s": s_full, "band_x": strong, "band_strength": strong_w,
            "recentred": recentred}



# ----------------------------------------------------------------------------------------------
# the algorithm


def _pitch_trend(xs, p):
    """Expected lane pitch at every column ``xs`` (sorted): a straight line through the spacings
    of neighbouring columns against their position (spacing drifts across some membranes).

    Only spacings of one plausible lane step count (0.6 to 1.6 ``p``); the line is fitted by least
    squares with the farthest spacing left out while it lies more than 0.15 ``p`` off (a column
    placed off-centre by a skewed band, or a non-band column beside the lanes). A column's own
    spacing to its neighbour therefore does not set the pitch it is judged by: with the nearest
    neighbour's distance as the local pitch, a stray column at the end of a row of bands defined
    its own expected step and a run shifted by one lane onto it scored as well as the true one.
    Fewer than three spacings: ``p`` everywhere.
    """
    n_c = xs.size
    out = np.full(n_c, float(p))
    if n_c < 4:
        return out
    gaps = np.diff(xs)
    mids = 0.5 * (xs[:-1] + xs[1:])
    use = (gaps >= 0.6 * p) & (gaps <= 1.6 * p)
    for _ in range(n_c):
        if use.sum() < 3:
            return out
        slope, icpt = np.polyfit(mids[use], gaps[use], 1)
        res = np.abs(gaps - (icpt + slope * mids)) * use
        k = int(np.argmax(res))
        if res[k] <= 0.15 * p:
            break
        use[k] = False
    return icpt + slope * xs


def _lowest_between(prof, a, b):
    """Position of the lowest sample of ``prof`` between ``a < b`` (the midpoint when they are
    closer than two samples): the boundary between two neighbouring lanes, the dark gap where
    they touch."""
    lo, hi = int(math.ceil(a)), int(math.floor(b))
    if hi - lo < 1:
        return 0.5 * (a + b)
    return float(lo + int(np.argmin(prof[lo : hi + 1])))


def _column_middles(prof, xs, hint):
    """Band columns ``xs`` (sorted, profile samples) moved to the middle of their lane's extent.

    A comet-shaped band (dense at one end, tapering to the other) has its peak, and its half
    maximum, at the dense end: up to 0.3 pitch off the lane centre on the chibidragon strips, so
    neighbouring spacings alternate long and short, the pitch taken from them is too small and the
    assignment of the listed lanes to the columns slips. The lane's extent at ``_EXTENT_FRAC`` of
    its height from each side's floor (:func:`_lane_extent`; the floors are the lowest points of
    ``prof`` between neighbouring columns, the dark gaps where lanes touch) reaches the tail. A
    column moves to that middle when it lies more than ``_COLUMN_LEAN`` and less than
    ``_COLUMN_SHIFT`` pitches (``hint``) away; smaller differences are left to the refinement of
    every lane, which measures the same extent anyway. Returns the new positions and the mask of
    moved columns.
    """
    xs = np.asarray(xs, dtype=float)
    n_c = xs.size
    new = xs.copy()
    gaps = [_lowest_between(prof, a, b) for a, b in zip(xs[:-1], xs[1:])]
    for i in range(n_c):
        lb = gaps[i - 1] if i > 0 else xs[i] - 0.6 * hint
        hb = gaps[i] if i < n_c - 1 else xs[i] + 0.6 * hint
        g = _lane_extent(prof, xs[i], lb, hb, 0.2 * hint, _EXTENT_FRAC, open_lo=i == 0, open_hi=i == n_c - 1)
        if g is not None and _COLUMN_LEAN * hint < abs(g["center"] - xs[i]) < _COLUMN_SHIFT * hint:
            new[i] = g["center"]
    return new, new != xs


def _narrow_gap(prof, a, b, pitch):
    """The gap between neighbouring lanes at ``a < b`` (profile samples) when the lanes touch.

    The gap is the lowest point of ``prof`` between them; it is *narrow* when the run around it
    that stays below ``_EXTENT_FRAC`` of the way from its floor to the lower of the two lanes'
    peaks is shorter than ``_TOUCH_GAP`` pitches, and *deep* when that floor is below
    ``_TOUCH_DEPTH`` of that peak above the profile's baseline (0). Returns the middle of that run
    (sub-pixel), or None for a wide, shallow or undefined gap.
    """
    n = prof.size
    lo, hi = int(math.ceil(a)), int(math.floor(b))
    if hi - lo < 3 or lo < 0 or hi > n - 1:
        return None
    j = lo + int(np.argmin(prof[lo : hi + 1]))
    v = float(prof[j])
    top = min(float(prof[lo : j + 1].max()), float(prof[j : hi + 1].max()))
    if top <= 0 or v > _TOUCH_DEPTH * top:
        return None
    th = v + _EXTENT_FRAC * (top - v)
    k = j
    while k > lo and prof[k - 1] < th:
        k -= 1
    if k == lo:
        return None
    xl = k - (th - prof[k]) / (prof[k - 1] - prof[k]) if prof[k - 1] != prof[k] else float(k)
    k = j
    while k < hi and prof[k + 1] < th:
        k += 1
    if k == hi:
        return None
    xr = k + (th - prof[k]) / (prof[k + 1] - prof[k]) if prof[k + 1] != prof[k] else float(k)
    if xr - xl > _TOUCH_GAP * pitch:
        return None
    return 0.5 * (xl + xr)


def _touching_centres(prof, centers, ok, pitch):
    """Lanes that touch both neighbours centred between the two gaps (in place).

    Where lanes touch, the narrow, deep gaps between them (:func:`_narrow_gap`) are the lanes'
    boundaries; a comet-shaped band (dense at one end, tapering to the other) has a tail too
    faint for its extent at a fifth of its height to reach the gap, so that extent's middle
    leans towards the dense end (up to 13 px of an 88 px pitch on the chibidragon strips). A
    lane in ``ok`` with a narrow gap on both sides takes the middle between them when that lies
    within 0.3 pitch of its centre, when both neighbours are in ``ok`` too (beside a marker or
    an empty lane the gap is not a band's boundary). Returns the 1-based lanes moved.
    """
    n = centers.size
    if n < 3:
        return []
    gaps = [_narrow_gap(prof, centers[i], centers[i + 1], pitch) for i in range(n - 1)]
    moved = []
    new = centers.copy()
    for i in range(1, n - 1):
        if not (ok[i - 1] and ok[i] and ok[i + 1]) or gaps[i - 1] is None or gaps[i] is None:
            continue
        c = 0.5 * (gaps[i - 1] + gaps[i])
        if abs(c - centers[i]) < 0.3 * pitch:
            new[i] = c
            moved.append(int(i + 1))
    centers[:] = new
    return moved


def _assign_by_kinds(kinds, bright, s_full, m_full, hint):
    """Assign the listed sample lanes, in order, to bright band columns (dynamic programming).

    A sample lane either takes a band column (gain: the column's strength, at most 1) or is left
    without one (gain 0, placed between its neighbours). Between two consecutive assigned sample
    lanes ``a < b`` at columns ``D`` apart, the lanes listed between them are spread evenly;
    the step is expected near the pitch ``p`` (cost ``min(|D - (b - a) p| / 0.3 p, 1)``, capped so
    a gap between lane groups costs one lane), an empty lane there costs the band evidence at
    its place, a marker earns 0.3 times the lane-like evidence at its place, and a band column
    between them that no listed lane explains costs its strength. Lanes listed before the first
    and after the last assigned sample lane step out by ``p`` and must lie (nearly) inside the
    image; band columns beyond them are ignored. Returns the best assignment's positions, its
    score, and the scores of the same assignment shifted by one column either way.
    """
    from scipy import ndimage as ndi

    xs = bright["x"]
    gain = np.minimum(bright["strength"], 1.0)
    n_c = xs.size
    wd = s_full.size
    is_s = kinds == "sample"
    i_s = np.nonzero(is_s)[0]
    n_s = i_s.size
    n_lanes = kinds.size
    if n_c >= 2:
        d = np.diff(xs)
        d = d[d <= 1.5 * np.percentile(d, 25)]
        p = float(np.median(d)) if d.size else float(hint)
    else:
        p = float(hint)
    p = max(p, 2.0)
    # local pitch at every column: its nearest neighbour's distance, within [0.75, 1.6] p
    # (spacing drifts across some membranes); lanes outside the assigned columns step out by it
    nn = np.full(n_c, p)
    if n_c >= 2:
        gaps = np.diff(xs)
        nn = np.minimum(np.r_[np.inf, gaps], np.r_[gaps, np.inf])
    p_loc = np.clip(nn, 0.75 * p, 1.6 * p)
    # the step expected between two assigned columns: the spacing trend, which a column's own
    # distance to its neighbour does not set (see _pitch_trend)
    p_exp = np.clip(_pitch_trend(xs, p), 0.75 * p, 1.6 * p)
    rad = max(1, int(round(0.15 * p)))
    s_max = ndi.maximum_filter1d(s_full, 2 * rad + 1, mode="nearest")
    m_max = ndi.maximum_filter1d(m_full, 2 * rad + 1, mode="nearest")
    # the dynamic programme below runs on Python floats (the same IEEE arithmetic as numpy's
    # scalars, without their per-operation cost: it makes thousands of small steps)
    xs_, gain_, p_exp_, p_loc_ = xs.tolist(), gain.tolist(), p_exp.tolist(), p_loc.tolist()
    s_max_, m_max_, kinds_, i_s_ = s_max.tolist(), m_max.tolist(), kinds.tolist(), i_s.tolist()
    inf = float("inf")

    def at(prof, v):
        return float(prof[min(max(int(round(v)), 0), wd - 1)])

    def virtual(k, v):
        if kinds_[k] == "empty":
            return -at(s_max_, v)
        if kinds_[k] == "marker":
            return _MARKER_WEIGHT * at(m_max_, v)
        # a sample lane without a column of its own: half its band evidence (a lane inside a
        # smear of band signal must not earn as much as a lane on a band column of its own)
        return _VIRTUAL_SAMPLE * at(s_max_, v)

    def seg(ta, ca, tb, cb):
        a, b = i_s_[ta], i_s_[tb]
        dist = xs_[cb] - xs_[ca]
        step = dist / (b - a)
        pe = 0.5 * (p_exp_[ca] + p_exp_[cb])
        if step <= 0.5 * pe:
            return -inf
        sc = -min((abs(dist - (b - a) * pe) / (0.35 * pe * (b - a))) ** 2, 1.0)
        vs = [xs_[ca] + step * j for j in range(1, b - a)]
        for k, v in zip(range(a + 1, b), vs):
            sc += virtual(k, v)
        for c in range(ca + 1, cb):
            if vs and min(abs(v - xs_[c]) for v in vs) <= 0.3 * step:
                continue
            sc -= gain_[c]
        return sc

    def edge(t, c, left):
        a = i_s_[t]
        ks = range(0, a) if left else range(a + 1, n_lanes)
        sc = 0.0
        for k in ks:
            v = xs_[c] - (a - k) * p_loc_[c] if left else xs_[c] + (k - a) * p_loc_[c]
            slack = 0.0 if kinds_[k] == "sample" else 0.15 * p  # listed lanes lie in the region
            if v < -slack or v > wd - 1 + slack:
                return -inf
            sc += virtual(k, v)
        return sc

    max_skip_s = 3  # sample lanes in a row left without a column, at most 2
    best = [[-inf] * n_c for _ in range(n_s)]
    back = {}
    for t in range(n_s):
        row = best[t]
        for c in range(n_c):
            if t < max_skip_s:
                v0 = edge(t, c, True)
                if v0 > row[c] - gain_[c]:
                    row[c] = v0 + gain_[c]
                    back[(t, c)] = None
            for tp in range(max(0, t - max_skip_s), t):
                prev = best[tp]
                for cp in range(max(0, c - (t - tp) - 3), c):
                    if not math.isfinite(prev[cp]):
                        continue
                    v = prev[cp] + seg(tp, cp, t, c) + gain_[c]
                    if v > row[c]:
                        row[c] = v
                        back[(t, c)] = (tp, cp)
    final = np.full((n_s, n_c), -np.inf)
    for t in range(max(0, n_s - max_skip_s), n_s):
        for c in range(n_c):
            if math.isfinite(best[t][c]):
                final[t, c] = best[t][c] + edge(t, c, False)
    if not np.isfinite(final).any():
        return None
    t, c = np.unravel_index(int(np.argmax(final)), final.shape)
    score = float(final[t, c])
    path = []
    node = (int(t), int(c))
    while node is not None:
        path.append(node)
        node = back[node]
    path = path[::-1]

    def path_score(pth):
        if any(not 0 <= cc < n_c for _, cc in pth):
            return -np.inf
        sc = edge(*pth[0], True) + edge(*pth[-1], False) + sum(gain_[cc] for _, cc in pth)
        for (ta, ca), (tb, cb) in zip(pth[:-1], pth[1:]):
            sc += seg(ta, ca, tb, cb)
        return float(sc)

    shifted = [path_score([(tt, cc + dc) for tt, cc in path]) for dc in (-1, 1)]
    finite = [v for v in shifted if np.isfinite(v)]
    margin = score - max(finite) if finite else None

    # positions: assigned sample lanes on their columns, the others spread between them
    pos = np.full(n_lanes, np.nan)
    for tt, cc in path:
        pos[i_s[tt]] = xs[cc]
    known = np.nonzero(np.isfinite(pos))[0]
    idx = np.arange(n_lanes)
    inner = (idx > known[0]) & (idx < known[-1])
    pos[inner] = np.interp(idx[inner], known, pos[known])
    c0, c1 = path[0][1], path[-1][1]
    pos[idx < known[0]] = pos[known[0]] - (known[0] - idx[idx < known[0]]) * p_loc[c0]
    pos[idx > known[-1]] = pos[known[-1]] + (idx[idx > known[-1]] - known[-1]) * p_loc[c1]
    return {"positions": pos, "pitch": p, "score": score, "shift_scores": shifted, "margin": margin,
            "assigned": int(len(path))}


_MAX_IRREGULARITY = 0.06  # a lane's offset from its neighbours' midpoint, in pitches, kept as found


def _regularise(centers, ok, pitch):
    """Pull lanes that break the even spacing of their neighbours back towards it (in place).

    Lanes in one membrane are nearly evenly spaced: a lane between two found neighbours rarely sits
    more than ``_MAX_IRREGULARITY`` pitches from their midpoint (0.10 at most on the annotated
    blots). A found lane offset by more, yet by less than 0.3 pitch (more is a gap between lane
    groups, kept), had its band evidence pulled by a smear or a neighbour's tail; it is moved to
    the limit on its side. The worst lane is corrected first, so it does not drag its neighbours.
    ``ok`` marks the lanes that count (found sample lanes); returns the mask of moved lanes.
    """
    n = centers.size
    moved = np.zeros(n, bool)
    if n < 3:
        return moved
    for _ in range(n):
        inner = np.nonzero(ok[1:-1] & ok[:-2] & ok[2:] & ~moved[1:-1])[0] + 1
        if not inner.size:
            break
        mid = 0.5 * (centers[inner - 1] + centers[inner + 1])
        dev = centers[inner] - mid
        local = 0.5 * (centers[inner + 1] - centers[inner - 1])
        rel = np.abs(dev) / np.where(local > 0, local, pitch)
        cand = (rel > _MAX_IRREGULARITY) & (rel < 0.3)
        if not cand.any():
            break
        j = int(np.argmax(np.where(cand, rel, -1.0)))
        i = int(inner[j])
        centers[i] = mid[j] + math.copysign(_MAX_IRREGULARITY * local[j], dev[j])
        moved[i] = True
    return moved


def _lanes_by_kinds(kinds, aligned, wts, in_win, n_slabs, lane_scale, dark, p_lo, p_hi, hint,
                    opts, fx, w, h, img, slope, y_ref):
    """Lanes of known kinds: placement by :func:`_place_by_kinds`, then every sample lane refined
    on its own band evidence (half-maximum middle), markers on their ladder when
    :func:`_ladder_bands` sees one (the median of the bands' centres; the searches, in the order of
    :func:`_ladder_searches`, and what makes a ladder, :func:`_ladder_ok`;
    ``placement["ladders"]`` lists what the last search saw), else on the lane line; empty lanes
    on the lane line.

    The lane line is the straight-line fit of the refined sample centres against their index,
    plus the residuals of the seen neighbours interpolated (lanes are nearly, not exactly,
    evenly spaced). Works in profile samples; returns what :func:`find_lanes` reports.
    """
    from scipy import ndimage as ndi

    n_lanes = kinds.size
    sigma = max(0.7, 0.03 * lane_scale)
    wb = wts * in_win
    band = (wb @ aligned) / wb.sum()
    band = band - np.percentile(band, 5)
    noise_b = 1.4826 * np.median(np.abs(np.diff(band))) / math.sqrt(2) + 1e-12
    band_s = ndi.gaussian_filter1d(band, sigma, mode="nearest")
    all_p = aligned[:n_slabs].mean(axis=0)
    all_p = all_p - np.percentile(all_p, 5)
    all_s = ndi.gaussian_filter1d(all_p, sigma, mode="nearest")
    frac = float(opts["peak_strength"])
    plc = _place_by_kinds(kinds, band_s, noise_b, all_s, dark, p_lo, p_hi, hint, frac)
    if plc is None:
        raise LayoutError(
            f"cannot place {n_lanes} lanes in a {w}x{h} px region; check the lane count and the crop"
        )
    pos, lp, ref = plc["positions"], plc["pitch"], plc["ref"]
    centers = pos.copy()
    widths = np.full(n_lanes, np.nan)
    strengths = np.zeros(n_lanes)
    seen = np.zeros(n_lanes, bool)
    evidence = np.array(["pitch"] * n_lanes, dtype=object)
    thr = max(4 * noise_b, float(opts["min_strength"]) * ref)
    for i in np.nonzero(kinds == "sample")[0]:
        f = _half_max_extent(band_s, pos[i], lp, search=0.2)
        # the centre is the middle of the lane's extent, its edges where the band signal falls
        # to a fifth of the way from the floor towards each neighbour (its own floor per side,
        # searched up to the lowest point between the two placements: the gap where lanes touch,
        # which the midpoint between placements on a comet's dense ends can cut off): the peak
        # or the half maximum of a skewed, smeared or touching band sits off-centre
        lb = _lowest_between(band_s, pos[i - 1], pos[i]) if i > 0 else pos[i] - 0.6 * lp
        hb = _lowest_between(band_s, pos[i], pos[i + 1]) if i < n_lanes - 1 else pos[i] + 0.6 * lp
        g = _lane_extent(band_s, pos[i], lb, hb, 0.2 * lp, _EXTENT_FRAC, open_lo=i == 0,
                          open_hi=i == n_lanes - 1)
        if f is not None and g is not None:
            f = dict(f, center=g["center"], width=g["width"])
        # (a flat-topped band may peak at the search window's edge: the half-maximum middle
        # decides, and it must stay near the placement)
        if f and f["strength"] > thr and abs(f["center"] - pos[i]) < 0.3 * lp:
            centers[i], widths[i], seen[i] = f["center"], f["width"], True
            strengths[i] = f["strength"] / ref
            evidence[i] = "bright"
    if not seen.any():
        raise LayoutError(
            f"no band signal found at the {int((kinds == 'sample').sum())} sample lanes in a "
            f"{w}x{h} px region; check the crop, the polarity and the row windows, or give lane "
            "centres explicitly (analysis.lanes)"
        )
    touching = _touching_centres(band_s, centers, seen & (kinds == "sample"), lp)

    regular = _regularise(centers, seen & (kinds == "sample"), lp)
    evidence[regular] = "bright+pitch"

    idx = np.arange(n_lanes)
    fit = seen.copy()
    if fit.sum() >= 2 and n_lanes > 1:
        for _ in range(3):  # straight line through the refined centres, far outliers left out
            pitch, offset = (float(v) for v in np.polyfit(idx[fit], centers[fit], 1))
            res = centers - (offset + pitch * idx)
            bad = fit & (np.abs(res) > 0.2 * lp)
            if not bad.any() or fit.sum() - bad.sum() < 2:
                break
            fit &= ~(np.abs(res) >= np.abs(res[fit]).max())
        if not 0.5 * lp < pitch < 1.5 * lp:
            pitch = lp
            offset = float(np.median(centers[fit] - lp * idx[fit]))
    else:
        pitch = lp if n_lanes > 1 else float(aligned.shape[1])
        offset = float(np.median(centers[seen] - pitch * idx[seen]))
    res = centers - (offset + pitch * idx)
    resid_rms = float(np.sqrt(np.mean(res[fit] ** 2))) if fit.any() else 0.0

    def line(i):
        if fit.sum() >= 2:
            return offset + pitch * i + np.interp(i, idx[fit], res[fit])
        return offset + pitch * i

    to_px = lambda j: (np.asarray(j, dtype=float) + 0.5) * fx - 0.5  # noqa: E731

    # markers: on their ladder when its bands are seen (short, lane-wide bands standing out from
    # the rows above and below), else the lane line; never on a column that is merely brighter
    # or darker than its surroundings over the whole lane
    ladders = []
    s_idx = np.nonzero(kinds == "sample")[0]
    for i in idx:
        if seen[i]:
            continue
        centers[i] = line(i)
        if kinds[i] != "marker":
            continue
        x0 = float(to_px(centers[i]))
        outer = -1 if i < s_idx[0] else (1 if i > s_idx[-1] else 0)
        rec = {"lane": int(i + 1), "line_x": round(x0, 2)}
        ladders.append(rec)
        for search, level, need in _ladder_searches(outer):
            reach = None if search == "lane line" else (
                (-_LADDER_REACH, 1 / 3) if outer < 0 else (-1 / 3, _LADDER_REACH))
            bands, pol = _ladder_bands(img, x0, pitch * fx, slope, y_ref, sigma=level, reach=reach)
            rec.update(polarity=pol, bands=bands, search=search, level=round(level, 2))
            if _ladder_ok(bands, pitch * fx, need, level):
                break
        else:
            continue
        c = float(np.median([b["center"] for b in bands]))
        rec["center"] = round(c, 2)
        centers[i], seen[i], evidence[i] = (c + 0.5) / fx - 0.5, True, "ladder"
    if n_lanes > 1 and np.any(np.diff(centers) <= 0.3 * pitch):
        # a marker snapped next to a neighbour: back to the lane line there
        dd = np.diff(centers) <= 0.3 * pitch
        badl = np.zeros(n_lanes, bool)
        badl[:-1] |= dd
        badl[1:] |= dd
        badl &= kinds != "sample"
        centers[badl] = [line(i) for i in idx[badl]]
        seen[badl] = False
        evidence[badl] = "pitch"

    # what the user should look at: band columns the listed sample lanes do not explain
    s_idx = np.nonzero(kinds == "sample")[0]
    bx = plc["band_x"]
    off = [float(x) for x in bx if np.min(np.abs(centers[s_idx] - x)) > 0.3 * pitch]
    warnings_ = []
    if bx.size > s_idx.size:
        warnings_.append(
            f"saw {bx.size} band-bearing columns for {s_idx.size} listed sample lanes at "
            f"x={[round(float(v)) for v in to_px(bx)]}; not on a sample lane: "
            f"x={[round(float(v)) for v in to_px(off)]}"
        )
    margin = plc["margin"]
    if margin is not None and margin < _SMALL_MARGIN:
        warnings_.append(
            f"the placement is barely better than the one shifted by one lane (score margin "
            f"{margin:.2f} clear sample lanes); check the lane list and the overlay"
        )
    warning = "; ".join(warnings_) or None
    if warning:
        logger.info("lanes: %s", warning)
    kplace = {
        "method": "kinds",
        "score": round(float(plc["score"]), 4),
        "shift_scores": [round(float(v), 4) if math.isfinite(v) else None for v in plc["shift_scores"]],
        "margin": round(float(margin), 4) if margin is not None else None,
        "band_columns": [round(float(v), 2) for v in to_px(bx)],
        "band_columns_off_sample_lanes": [round(float(v), 2) for v in to_px(off)],
        "ladders": ladders,
        "columns_recentred": [[round(float(v), 2) for v in to_px(pair)] for pair in plc["recentred"]],
        "centred_between_gaps": touching,
        "centring": {"column_lean_pitch": _COLUMN_LEAN, "column_shift_pitch": _COLUMN_SHIFT,
                     "touch_gap_pitch": _TOUCH_GAP, "touch_depth": _TOUCH_DEPTH},
    }
    return centers, widths, strengths, seen, evidence, pitch, offset, resid_rms, kplace, warning


def _validate(image, n_lanes, method_kwargs):
    img = np.asarray(image)
    if img.ndim != 2:
        raise LayoutError(f"image must be a 2-D array (rows, cols); got shape {img.shape}")
    if not np.issubdtype(img.dtype, np.number) or np.issubdtype(img.dtype, np.complexfloating):
        raise LayoutError(f"image must hold real numbers; got dtype {img.dtype}")
    if isinstance(n_lanes, bool) or not isinstance(n_lanes, (int, np.integer)) or n_lanes < 1:
        raise LayoutError(f"`n_lanes` must be a positive integer; got {n_lanes!r}")
    n_lanes = int(n_lanes)
    h, w = img.shape
    if w < 6 * n_lanes or h < 4:
        raise LayoutError(
            f"cannot fit {n_lanes} lanes in a region {w} px wide and {h} px tall "
            f"(need at least 6 px per lane); check the lane count and the region"
        )
    opts = merge_options(_DEFAULTS, method_kwargs, where="find_lanes")
    if opts["pitch_range"] is not None:
        lo, hi = (float(v) for v in opts["pitch_range"])
        if not (0 < lo <= hi):
            raise LayoutError(f"`pitch_range` must be (min, max) with 0 < min <= max; got {opts['pitch_range']!r}")
        opts["pitch_range"] = (lo, hi)
    return img, n_lanes, opts


def find_lanes(image, n_lanes, *, rows=None, kinds=None, method_kwargs=None):
    """Find exactly ``n_lanes`` lanes, left to right, in an image with bright bands.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        Raw counts (any real dtype) with bands brighter than the background, e.g.
        ``BlotImage.data`` or a crop of it. Not modified.
    n_lanes : int
        Number of lanes on the membrane, marker and empty lanes included.
    rows : sequence of (top, bottom), optional
        Row windows (array coordinates) where the targets' bands lie, e.g. every target's
        ``rows`` from the config. The lane evidence then comes mainly from these rows
        (``outside_weight`` of it from the rest); windows outside the image are ignored and
        listed in ``params["rows_ignored"]``.
    kinds : sequence of {"sample", "marker", "empty"}, optional
        The kind of every lane, left to right, as listed in the config (``ladder`` -> marker,
        ``-`` -> empty). The sample lanes are then assigned, in order, to the band columns of the
        row windows (markers may be dark, bright or invisible; empty lanes must be dark there;
        band columns outside the span of the listed sample lanes are ignored); params gain
        ``kinds``, ``placement["margin"]`` (score lead over the same placement shifted by one
        lane, in clear sample lanes), ``placement["columns_recentred"]`` ([peak, new] x of the
        band columns moved to their lane's extent middle: comet-shaped bands),
        ``placement["centred_between_gaps"]`` (1-based sample lanes centred between the narrow
        gaps to both touching neighbours), ``placement["centring"]`` (the limits of those two
        rules) and ``warning`` (more band columns than listed sample
        lanes, or a small margin; else None).
    method_kwargs : dict, optional
        Options: ``max_angle_deg`` (tilt search range, default 3.5), ``angle_step_deg`` (coarse
        step, default 0.25), ``slope`` (fix the tilt dx/dy instead of searching),
        ``pitch_range`` ((min, max) lane pitch in px), ``min_strength`` (fraction of a typical
        lane's peak a lane needs to count as seen, default 0.08), ``max_profile_width``
        (columns of the reduced image, default 2048), ``outside_weight`` (share of the evidence
        from outside ``rows``, default 0.25), ``dark_markers`` (also count dark lane-wide spots,
        e.g. pre-stained markers, default True), ``peak_strength`` (fraction of a typical lane's
        prominence a column needs to count as lane-like, default 0.12).

    Returns
    -------
    lanes : Lanes
        Centres at row ``y_ref`` (the signal-weighted middle row), widths, common slope.
    params : dict
        JSON-serialisable record of the choices: ``angle_deg``, ``slope``, ``y_ref``, ``pitch``,
        ``offset``, ``lanes`` (per lane: ``lane``, ``center``, ``width``, ``strength``,
        ``seen``), ``inferred`` (1-based lanes placed from the pitch), ``width_rule`` (the rule
        and its ``frac``, ``noise_sd``, ``smooth_px``; ``core_widths`` found before widening, the
        ``extended`` and ``capped`` lanes), ``n_seen``,
        ``pitch_residual_px`` (rms of seen centres about the pitch line), ``comb_contrast``,
        ``quality`` (0-1), ``scale`` (image columns per profile sample), ``n_slabs``, ``rows``,
        ``placement`` (``lane_like_columns`` seen, ``method``; when at least ``n_lanes`` were
        seen, the ``alternatives`` runs of ``n_lanes`` columns with scores, ``chosen`` and
        ``margin``), ``tilt`` (search diagnostics; ``determined`` and ``reason`` when the tilt was
        not believed and the slope set to 0).

    Raises
    ------
    LayoutError
        If the image is not 2-D, ``n_lanes`` is not a positive integer, the region is too narrow
        for ``n_lanes`` lanes, an option is unknown, or no lane signal is found at all.

    Notes
    -----
    Assumes the lanes are vertical up to a common tilt of a few degrees and nearly equally
    spaced. Lanes without signal in this image are placed by the pitch (listed in
    ``params["inferred"]``); their width is the median width of the seen lanes. A lane's width
    covers its bands' whole extent across the lane, soft edges included: in the band rows, where
    the column profile falls to 10 % of its height above the floor on each side (the half-maximum
    width is the band's own width, and strips that wide lose the blurred edges: -1.2 % of every
    volume on the simulator); the strip stays centred on the lane, at most as wide as the distance
    to the nearer neighbour and never narrower than before. Band smile does
    not move lanes. Detection uses reduced, flattened copies; the input is never changed.

    Examples
    --------
    >>> x = np.arange(300.0)
    >>> cols = sum(np.exp(-0.5 * ((x - c) / 8) ** 2) for c in (50, 100, 150, 200, 250))
    >>> img = np.outer(np.exp(-0.5 * ((np.arange(120) - 60) / 6) ** 2), cols) * 1000
    >>> lanes, params = find_lanes(img, 5)
    >>> np.round(lanes.centers).tolist()
    [50.0, 100.0, 150.0, 200.0, 250.0]
    """
    img, n_lanes, opts = _validate(image, n_lanes, method_kwargs)
    kind_arr = _validate_kinds(kinds, n_lanes)
    h, w = img.shape
    windows, rows_ignored = _validate_rows(rows, h)
    if not math.isfinite(float(img.sum())) and not np.all(np.isfinite(img)):  # (a finite sum: all finite)
        fill = float(np.nanmedian(np.where(np.isfinite(img), img, np.nan)))
        img = np.where(np.isfinite(img), img, fill if math.isfinite(fill) else 0.0)
    from scipy import ndimage as ndi

    # Slabs: the whole image, plus (when band rows are known) finer slabs of every window.
    n_slabs = int(np.clip(h // 16, min(4, h), 64))
    _, raw_all, fx, rows_all = profile_columns(
        img, slope=0.0, y_ref=0.0, n_slabs=n_slabs, max_width=int(opts["max_profile_width"])
    )
    wd = raw_all.shape[1]
    raw, rows_c = raw_all, rows_all
    wts = np.full(n_slabs, 1.0 / n_slabs)
    if windows:
        slab_h = h / n_slabs
        parts, prow = [], []
        for top, bottom in windows:
            k = int(np.clip(round((bottom - top) / max(slab_h / 2, 4.0)), 1, 16))
            red = _reduce(img[top:bottom], wd, k)
            parts.append(red)
            prow.append(top + (np.arange(k) + 0.5) * (bottom - top) / k - 0.5)
        win = np.vstack(parts)
        n_win = win.shape[0]
        w_out = float(np.clip(opts["outside_weight"], 0.0, 1.0))
        raw = np.vstack([raw_all, win])
        rows_c = np.concatenate([rows_all, *prow])
        wts = np.concatenate([np.full(n_slabs, w_out / n_slabs), np.full(n_win, (1 - w_out) / n_win)])
    in_win = np.arange(raw.shape[0]) >= (n_slabs if windows else 0)

    if opts["pitch_range"] is not None:
        p_lo, p_hi = (v / fx for v in opts["pitch_range"])
    else:
        p_hi = (wd - 1) / max(n_lanes - 1, 1) if n_lanes > 1 else float(wd)
        p_lo = 0.3 * wd / n_lanes
    lane_scale = min(wd / n_lanes, p_hi)
    flat = _flatten_profiles(raw, lane_scale)

    # y_ref: where the signal is (energy-weighted slab row, band-row slabs when given)
    sums = flat.sum(axis=1)
    energy = np.clip(sums - np.median(sums[in_win]), 0, None) * in_win
    y_ref = float((energy * rows_c).sum() / energy.sum()) if energy.sum() > 0 else (
        float(np.mean([0.5 * (t + b - 1) for t, b in windows])) if windows else (h - 1) / 2
    )

    if opts["slope"] is not None:
        slope = float(opts["slope"])
        tilt = {"searched": False}
    elif n_slabs >= 3:
        slope, tilt = _find_slope(
            flat, rows_c, fx, y_ref, float(opts["max_angle_deg"]), float(opts["angle_step_deg"]), wts
        )
        tilt["searched"] = True
    else:
        slope, tilt = 0.0, {"searched": False, "reason": "too few rows"}

    shifts = slope * (rows_c - y_ref) / fx
    aligned = _shift_rows(flat, shifts)
    prof = wts @ aligned
    prof = prof - np.percentile(prof, 5)
    prof_s = ndi.gaussian_filter1d(prof, max(0.7, 0.03 * lane_scale), mode="nearest")
    noise = 1.4826 * np.median(np.abs(np.diff(prof))) / math.sqrt(2) + 1e-12

    # Comb on a reduced, compressed copy (every lane counts, not just the strongest).
    r = max(1, int(math.ceil(wd / 256)))
    comp = np.sqrt(np.clip(_bin_mean(prof_s, r), 0, None))
    comp = ndi.gaussian_filter1d(comp, max(0.7, 0.06 * lane_scale / r), mode="nearest")
    if n_lanes == 1:
        offset_r, pitch_r = float(np.argmax(comp)), float(comp.size)
        comb_score = float(comp.max())
    else:
        offset_r, pitch_r, comb_score, _ = _comb_fit(
            comp, n_lanes, max(2.0, p_lo / r), max(2.0, p_lo / r, p_hi / r)
        )
    pitch = pitch_r * r
    offset = offset_r * r + (r - 1) / 2
    comb = offset + pitch * np.arange(n_lanes)
    comb_contrast = float(comb_score / (n_lanes * comp.mean() + 1e-12))

    # Lane-like columns: bright peaks of the band-row profile, and dark (absorbing) lane-wide
    # spots anywhere (pre-stained markers on a light-band image).
    hint = min(pitch, wd / n_lanes) if n_lanes > 1 else wd / 2
    bright = _bright_peaks(prof_s, noise, hint, n_lanes, float(opts["peak_strength"]))
    if len(bright["x"]) >= 2:
        d = np.diff(bright["x"])
        d = d[d <= 1.5 * np.percentile(d, 25)]
        pitch_est = float(np.median(d)) if d.size else pitch
    else:
        pitch_est = pitch
    dark = {"x": np.zeros(0), "strength": np.zeros(0), "profile": None}
    if opts["dark_markers"]:
        all_prof = aligned[:n_slabs].mean(axis=0)
        all_prof = all_prof - np.percentile(all_prof, 5)
        bx = bright["x"].astype(int)
        ref_all = float(np.median(all_prof[bx])) if bx.size else float(all_prof.max())
        dark = _dark_peaks(raw_all, rows_all, slope, y_ref, fx, lane_scale, pitch_est, ref_all,
                           bright["x"], float(opts["peak_strength"]))
    cx = np.concatenate([bright["x"], dark["x"]])
    cs = np.concatenate([np.minimum(bright["strength"], 1.5), 0.5 * np.minimum(dark["strength"], 1.0)])
    ck = np.array(["bright"] * len(bright["x"]) + ["dark"] * len(dark["x"]))
    order = np.argsort(cx)
    cx, cs, ck = cx[order], cs[order], ck[order]
    n_like = int(cx.size)

    placement = {"lane_like_columns": n_like, "bright_columns": int(len(bright["x"])),
                 "dark_columns": int(len(dark["x"]))}
    evidence = np.array(["pitch"] * n_lanes, dtype=object)
    warning = None
    if kind_arr is not None:
        (centers, widths, strengths, seen, evidence, pitch, offset, resid_rms, kplace,
         warning) = _lanes_by_kinds(kind_arr, aligned, wts, in_win, n_slabs, lane_scale, dark,
                                    p_lo, p_hi, hint, opts, fx, w, h, img, slope, y_ref)
        placement.update(kplace)
        ref = 1.0
    elif n_like >= n_lanes and n_lanes >= 1:
        # choose the run of n_lanes neighbouring lane-like columns that explains most evidence
        alts = []
        for i in range(n_like - n_lanes + 1):
            sel = slice(i, i + n_lanes)
            alts.append({"first_x": float(cx[i]), "last_x": float(cx[i + n_lanes - 1]),
                         "score": float(cs[sel].sum()),
                         "bright": int((ck[sel] == "bright").sum())})
        scores = np.array([a["score"] for a in alts])
        ib = int(np.argmax(scores))
        second = float(np.max(np.delete(scores, ib))) if scores.size > 1 else 0.0
        sel = slice(ib, ib + n_lanes)
        xs, kinds = cx[sel], ck[sel]
        local_p = pitch_est if n_lanes > 1 else wd / 2
        centers = np.empty(n_lanes)
        widths = np.full(n_lanes, np.nan)
        strengths = np.zeros(n_lanes)
        for i, (x, kind) in enumerate(zip(xs, kinds)):
            gaps = [abs(x - o) for o in cx if o != x]
            lp = min(local_p, min(gaps)) if gaps else local_p
            src = prof_s if kind == "bright" else dark["profile"]
            f = _half_max_extent(src, x, lp)
            ok = f is not None and abs(f["center"] - x) < 0.35 * lp
            centers[i] = f["center"] if ok else x
            if ok and kind == "bright":
                widths[i] = f["width"]
            strengths[i] = f["strength"] if (ok and kind == "bright") else 0.0
            evidence[i] = kind
        seen = np.ones(n_lanes, bool)
        placement.update(
            method="lane-like columns",
            alternatives=[{k: (round(v, 2) if isinstance(v, float) else v) for k, v in a.items()}
                          for a in alts[:12]],
            chosen=ib,
            margin=round((float(scores[ib]) - second) / float(scores[ib]), 4) if scores[ib] > 0 else 0.0,
        )
        if n_like > n_lanes:
            logger.info("saw %d lane-like columns, placed %d", n_like, n_lanes)
        idx = np.arange(n_lanes)
        if n_lanes > 1:
            pitch, offset = (float(v) for v in np.polyfit(idx, centers, 1))
        else:
            pitch, offset = float(wd), float(centers[0])
        found_ref = strengths[strengths > 0]
        ref = float(np.percentile(found_ref, 75)) if found_ref.size else 1.0
        resid_rms = 0.0
    else:
        placement.update(method="comb")
        # Local refinement where a lane has signal.
        found = [_half_max_extent(prof_s, c, pitch) for c in comb]
        strengths = np.array([f["strength"] if f else 0.0 for f in found])
        ref = np.percentile(strengths, 75) if strengths.size else 0.0
        thr = max(6 * noise, float(opts["min_strength"]) * ref)
        seen = np.array(
            [
                f is not None
                and f["strength"] > thr
                and not f["edge"]
                and abs(f["center"] - c) < 0.35 * pitch
                for f, c in zip(found, comb)
            ]
        )
        centers = comb.copy()
        centers[seen] = [f["center"] for f, s in zip(found, seen) if s]
        evidence[seen] = "bright"
        # an unseen tooth with a dark lane-like spot near it takes the spot's position
        for i in np.nonzero(~seen)[0]:
            if dark["x"].size:
                j = int(np.argmin(np.abs(dark["x"] - comb[i])))
                if abs(dark["x"][j] - comb[i]) < 0.35 * pitch:
                    centers[i], seen[i], evidence[i] = dark["x"][j], True, "dark"
        if not seen.any():
            raise LayoutError(
                f"no lane signal found for {n_lanes} lanes in a {w}x{h} px region; "
                "check the crop and polarity, or give lane centres explicitly (analysis.lanes)"
            )
        idx = np.arange(n_lanes)
        resid_rms = 0.0
        if seen.sum() >= 2 and n_lanes > 1:
            p_fit, o_fit = np.polyfit(idx[seen], centers[seen], 1)
            if 0.5 * pitch < p_fit < 1.5 * pitch:
                pitch, offset = float(p_fit), float(o_fit)
            resid_rms = float(np.sqrt(np.mean((centers[seen] - (offset + pitch * idx[seen])) ** 2)))
        elif n_lanes > 1:
            k0 = int(np.nonzero(seen)[0][0])
            offset = float(centers[k0] - pitch * k0)
        centers[~seen] = offset + pitch * idx[~seen]
        if n_lanes > 1 and np.any(np.diff(centers) <= 0.3 * pitch):
            # a refinement jumped onto a neighbour: fall back to the pitch line there
            bad = np.zeros(n_lanes, bool)
            dd = np.diff(centers) <= 0.3 * pitch
            bad[:-1] |= dd
            bad[1:] |= dd
            seen &= ~bad
            centers[bad] = offset + pitch * idx[bad]
            evidence[bad] = "pitch"
        widths = np.array([f["width"] if (f and s and e == "bright") else np.nan
                           for f, s, e in zip(found, seen, evidence)])
    if not seen.any() or (placement["method"] != "comb" and not (evidence == "bright").any()):
        raise LayoutError(
            f"no lane signal found for {n_lanes} lanes in a {w}x{h} px region; "
            "check the crop and polarity, or give lane centres explicitly (analysis.lanes)"
        )
    # Widths: the bands' whole extent (soft edges included) in the band rows, not their half
    # maximum; capped at the midpoints between lane centres, never below the width found so far.
    wb = wts * in_win
    band_p = (wb @ aligned) / wb.sum()
    band_p = band_p - np.percentile(band_p, 5)
    noise_w = 1.4826 * np.median(np.abs(np.diff(band_p))) / math.sqrt(2) + 1e-12
    band_w = ndi.gaussian_filter1d(band_p, _WIDTH_SMOOTH, mode="nearest")
    core_w = widths.copy()
    use = np.isfinite(widths) & np.isin(evidence, ("bright", "bright+pitch"))
    if kind_arr is not None:
        use &= kind_arr == "sample"
    widths, capped = _band_extent_widths(band_w, centers, widths, use, noise_w)

    spacing = float(np.median(np.diff(centers))) if n_lanes > 1 else float(wd)
    med_w = float(np.nanmedian(widths)) if np.isfinite(widths).any() else 0.6 * spacing
    widths = np.where(np.isfinite(widths), widths, med_w)
    max_w = spacing if n_lanes > 1 else wd
    widths = np.clip(widths, 0.25 * min(spacing, wd), max_w)

    # back to image pixels
    to_px = lambda j: (np.asarray(j, dtype=float) + 0.5) * fx - 0.5  # noqa: E731
    centers_px = to_px(centers)
    widths_px = widths * fx
    pitch_px = pitch * fx if n_lanes > 1 else float(w)
    lanes = Lanes(centers=centers_px, widths=widths_px, slope=float(slope), y_ref=y_ref)

    frac_seen = float(seen.mean())
    quality = frac_seen * max(0.0, 1.0 - resid_rms / (0.25 * pitch)) if n_lanes > 1 else frac_seen
    inferred = [int(i + 1) for i in np.nonzero(~seen)[0]]
    if inferred:
        logger.info("lanes %s placed from the pitch (no signal found there)", inferred)
    for a in placement.get("alternatives", []):
        a["first_x"] = round(float(to_px(a["first_x"])), 2)
        a["last_x"] = round(float(to_px(a["last_x"])), 2)
    params = {
        "angle_deg": round(math.degrees(math.atan(slope)), 4),
        "slope": float(slope),
        "y_ref": round(y_ref, 2),
        "pitch": round(float(pitch_px), 3),
        "offset": round(float(to_px(offset)), 3),
        "lanes": [
            {
                "lane": int(i + 1),
                "center": round(float(centers_px[i]), 2),
                "width": round(float(widths_px[i]), 2),
                "strength": round(float(strengths[i] / (ref or 1.0)), 4),
                "seen": bool(seen[i]),
                "evidence": str(evidence[i]),
            }
            for i in range(n_lanes)
        ],
        "inferred": inferred,
        "width_rule": {
            "rule": ("band extent in the band rows: where the profile falls to `frac` of its height "
                     "(or `noise_sd` noise sd) above each side's floor, strip centred on the lane "
                     "centre, capped at the nearer midpoint between lane centres, never below the "
                     "core width; lanes without band evidence take the median"),
            "frac": _WIDTH_FRAC,
            "noise_sd": _WIDTH_NOISE,
            "smooth_px": round(_WIDTH_SMOOTH * float(fx), 3),
            "core_widths": [round(float(v) * fx, 2) if np.isfinite(v) else None for v in core_w],
            "extended": [int(i + 1) for i in np.nonzero(use)[0]],
            "capped": [int(i + 1) for i in np.nonzero(capped)[0]],
        },
        "n_seen": int(seen.sum()),
        "pitch_residual_px": round(resid_rms * fx, 3),
        "comb_contrast": round(comb_contrast, 4),
        "quality": round(float(quality), 4),
        "scale": round(float(fx), 4),
        "n_slabs": int(n_slabs),
        "rows": [[int(t), int(b)] for t, b in windows],
        "rows_ignored": rows_ignored,
        "placement": placement,
        "tilt": tilt,
        "kinds": kind_arr.tolist() if kind_arr is not None else None,
        "warning": warning,
    }
    return lanes, params
