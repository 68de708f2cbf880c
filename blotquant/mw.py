"""Apparent molecular weight from a marker (ladder) lane.

A pre-stained ladder run in a marker lane gives pairs (row, kDa). Migration in SDS-PAGE is close to
linear in ``log10(kDa)`` over the middle of the gel and bends towards the ends, so a calibration is
a monotone map ``row -> log10(kDa)``. This module

* names common ladders (:data:`LADDERS`, :func:`get_ladder`) or validates a custom kDa list;
* finds the marker bands along a marker lane (:func:`find_ladder_bands`);
* matches detected peaks to the ladder's bands, even when some bands are faint, off the membrane,
  or an extra peak was found, and fits the calibration (:func:`fit_ladder` -> :class:`Calibration`);
* follows smile/tilt across the membrane, from two (or more) marker lanes and/or one band row
  measured in every lane (:func:`membrane_calibration` -> :class:`MembraneCalibration`);
* scores a calibration by leave-one-out prediction of every ladder band (:func:`leave_one_out`).

Rows are image rows (0 at the top); larger proteins sit at smaller rows.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blotquant._util import merge_options
from blotquant.errors import ConfigError, LayoutError

__all__ = [
    "EXTRAPOLATIONS",
    "LADDERS",
    "MODELS",
    "Calibration",
    "MembraneCalibration",
    "find_ladder_bands",
    "fit_ladder",
    "get_ladder",
    "leave_one_out",
    "membrane_calibration",
    "membrane_leave_one_out",
    "row_window",
]

logger = logging.getLogger("blotquant")

# ----------------------------------------------------------------------------------------------
# ladders
# ----------------------------------------------------------------------------------------------

#: Band sizes (kDa, top of the gel to the bottom) of common pre-stained protein ladders, from the
#: vendors' product sheets. Apparent sizes of pre-stained markers depend on the gel/buffer system;
#: these are the vendor's nominal values (Tris-glycine SDS-PAGE where the vendor distinguishes).
#: Ladders whose band list depends strongly on the buffer system (e.g. Invitrogen SeeBlue Plus2,
#: LC5925) are left out on purpose: give their kDa list explicitly.
LADDERS: dict[str, tuple[float, ...]] = {
    # Thermo Scientific PageRuler Plus Prestained Protein Ladder, 10-250 kDa (cat. 26619 / 26620)
    "pageruler-plus": (250, 130, 100, 70, 55, 35, 25, 15, 10),
    # Thermo Scientific PageRuler Prestained Protein Ladder, 10-180 kDa (cat. 26616 / 26617)
    "pageruler": (180, 130, 100, 70, 55, 40, 35, 25, 15, 10),
    # Bio-Rad Precision Plus Protein Dual Color Standards (cat. 1610374)
    "precision-plus-dual-color": (250, 150, 100, 75, 50, 37, 25, 20, 15, 10),
    # Bio-Rad Precision Plus Protein All Blue Prestained Standards (cat. 1610373)
    "precision-plus-all-blue": (250, 150, 100, 75, 50, 37, 25, 20, 15, 10),
    # Bio-Rad Precision Plus Protein Kaleidoscope Prestained Standards (cat. 1610375)
    "precision-plus-kaleidoscope": (250, 150, 100, 75, 50, 37, 25, 20, 15, 10),
    # New England Biolabs Color Prestained Protein Standard, Broad Range (11-245 kDa) (cat. P7712)
    "neb-p7712": (245, 190, 135, 100, 80, 58, 46, 32, 25, 22, 17, 11),
}

# Other spellings accepted by get_ladder (compared after lower-casing and dropping non-alphanumerics).
_ALIASES = {
    "26619": "pageruler-plus", "26620": "pageruler-plus", "pagerulerplusprestained": "pageruler-plus",
    "26616": "pageruler", "26617": "pageruler", "pagerulerprestained": "pageruler",
    "1610374": "precision-plus-dual-color", "precisionplusdualcolour": "precision-plus-dual-color",
    "1610373": "precision-plus-all-blue",
    "1610375": "precision-plus-kaleidoscope",
    "p7712": "neb-p7712",
}


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


_LOOKUP = {_key(k): k for k in LADDERS} | {_key(a): k for a, k in _ALIASES.items()}


def get_ladder(ladder) -> tuple[float, ...]:
    """Band sizes of a ladder, in kDa from the top of the gel to the bottom.

    Parameters
    ----------
    ladder : str or sequence of float
        A name from :data:`LADDERS` (case, spaces, hyphens and underscores ignored; vendor
        catalogue numbers such as ``"26619"`` are accepted), or a custom list of kDa.

    Returns
    -------
    kda : tuple of float
        Strictly decreasing positive sizes.

    Raises
    ------
    ConfigError
        For an unknown name (the message lists the valid names) or a custom list that is empty,
        not numeric, not positive or not strictly decreasing.

    Examples
    --------
    >>> get_ladder("PageRuler Plus")
    (250.0, 130.0, 100.0, 70.0, 55.0, 35.0, 25.0, 15.0, 10.0)
    >>> get_ladder([100, 50, 25])
    (100.0, 50.0, 25.0)
    """
    if isinstance(ladder, str):
        name = _LOOKUP.get(_key(ladder))
        if name is None:
            raise ConfigError(f"unknown ladder {ladder!r}; use one of {', '.join(sorted(LADDERS))} "
                              f"or give the band sizes as a kDa list, top to bottom")
        return tuple(float(v) for v in LADDERS[name])
    try:
        kda = np.asarray(ladder, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"`ladder` must be a ladder name or a list of kDa; got {ladder!r}") from exc
    if kda.ndim != 1 or kda.size < 2:
        raise ConfigError(f"`ladder` must list at least two band sizes in kDa, top to bottom; got {ladder!r}")
    if not np.all(np.isfinite(kda)) or np.any(kda <= 0):
        raise ConfigError(f"`ladder` sizes must be positive kDa; got {kda.tolist()}")
    if np.any(np.diff(kda) >= 0):
        raise ConfigError(f"`ladder` sizes must decrease strictly from the top of the gel to the bottom "
                          f"(largest first); got {kda.tolist()}")
    return tuple(float(v) for v in kda)


# ----------------------------------------------------------------------------------------------
# finding the marker bands
# ----------------------------------------------------------------------------------------------

_FIND_DEFAULTS = {
    "opening": None,  # grey-opening length (rows) for flattening; default max(15, 6 % of the lane)
    "smooth": 1.0,  # Gaussian sigma (rows) of the detection copy
    "min_prominence": 0.08,  # peaks below this fraction of the strongest prominence are dropped
    "min_snr": 5.0,  # ... and below this many noise sigmas
    "min_distance": 4,  # rows between peaks
    "central_fraction": 0.5,  # fraction of the lane width averaged into the profile
}


def _lane_profile(data, mask, x, width, slope, y_ref, fraction):
    """Mean of the central part of the lane per row; NaN where the lane is outside the image/mask."""
    n_rows, n_cols = data.shape
    rows = np.arange(n_rows)
    xc = x + slope * (rows - y_ref)
    half = max(0.5, fraction * width / 2)
    lo = np.clip(np.round(xc - half).astype(int), 0, n_cols)
    hi = np.clip(np.round(xc + half).astype(int) + 1, 0, n_cols)
    prof = np.full(n_rows, np.nan)
    for r in rows:
        if hi[r] - lo[r] < 1:
            continue
        seg = data[r, lo[r]:hi[r]]
        if mask is not None:
            m = mask[r, lo[r]:hi[r]]
            if m.mean() < 0.5:
                continue
            seg = seg[m]
        prof[r] = seg.mean()
    return prof


def find_ladder_bands(image, *, x=None, width=None, slope=0.0, y_ref=0.0, method_kwargs=None):
    """Locate the marker bands along a marker lane.

    Parameters
    ----------
    image : BlotImage, ndarray of shape (rows, cols), or ndarray of shape (rows,)
        Bands bright. A 1-D array is taken as the lane's row profile already; a 2-D array or a
        :class:`~blotquant.io.BlotImage` (whose transparent padding ``mask`` is respected) needs
        the lane's ``x`` and ``width``.
    x, width : float, optional
        Marker lane centre column at row ``y_ref`` and its width (pixels), e.g.
        ``lanes.centers[i]``, ``lanes.widths[i]``.
    slope, y_ref : float, optional
        Lane tilt ``dx/dy`` and the row at which ``x`` is given (``lanes.slope``, ``lanes.y_ref``).
    method_kwargs : dict, optional
        ``opening`` (rows of the flattening grey opening), ``smooth`` (Gaussian sigma),
        ``min_prominence`` (fraction of the strongest peak), ``min_snr`` (noise sigmas),
        ``min_distance`` (rows), ``central_fraction`` (of the lane width averaged).

    Returns
    -------
    rows : ndarray of float
        Sub-pixel band centre rows, top to bottom, in the image's row coordinates.
    params : dict
        The settings used, the profile's valid row range ``row_range`` and per-peak
        ``prominences`` (same order as ``rows``).

    Notes
    -----
    The profile (mean over the central half of the lane per row) is flattened by subtracting its
    grey opening, so the smear and gradient of the lane drop out, lightly smoothed, and searched
    for peaks by prominence. Extra peaks (a smear, a dye front) and missed bands are expected; the
    matching in :func:`fit_ladder` sorts them out. Only detection uses the smoothed copy.

    Examples
    --------
    >>> rows = np.arange(200.0)
    >>> prof = sum(50 * np.exp(-0.5 * ((rows - c) / 2) ** 2) for c in (30, 80, 150)) + 10
    >>> found, params = find_ladder_bands(prof)
    >>> np.round(found, 1).tolist()
    [30.0, 80.0, 150.0]
    """
    from scipy import ndimage, signal

    opts = merge_options(_FIND_DEFAULTS, method_kwargs, where="find_ladder_bands")

    data = getattr(image, "data", image)
    mask = getattr(image, "mask", None)
    data = np.asarray(data, dtype=float)
    if data.ndim == 1:
        prof = data.copy()
    elif data.ndim == 2:
        if x is None or width is None:
            raise LayoutError("find_ladder_bands needs the marker lane's `x` and `width` for a 2-D image; "
                              "pass x=lanes.centers[i], width=lanes.widths[i]")
        if not (math.isfinite(float(x)) and float(width) > 0):
            raise LayoutError(f"marker lane `x` must be finite and `width` positive; got x={x!r}, width={width!r}")
        prof = _lane_profile(data, mask, float(x), float(width), float(slope), float(y_ref),
                             float(opts["central_fraction"]))
    else:
        raise LayoutError(f"find_ladder_bands takes a 1-D profile or a 2-D image; got shape {data.shape}")

    valid = np.flatnonzero(np.isfinite(prof))
    if valid.size < 10:
        raise LayoutError(f"the marker lane at x={x} has fewer than 10 rows inside the image; check its x and width")
    lo, hi = int(valid[0]), int(valid[-1]) + 1
    seg = prof[lo:hi]
    bad = ~np.isfinite(seg)
    if bad.any():  # interior gaps (masked rows): bridge them linearly
        idx = np.arange(seg.size)
        seg = seg.copy()
        seg[bad] = np.interp(idx[bad], idx[~bad], seg[~bad])

    n = seg.size
    opening = opts["opening"] or max(15, round(0.06 * n))
    opening = int(opening) | 1
    sm = ndimage.gaussian_filter1d(seg, float(opts["smooth"]), mode="nearest") if opts["smooth"] else seg
    base = ndimage.grey_opening(sm, size=opening, mode="nearest")
    flat = sm - base
    # noise of the smoothed profile: the raw profile's white noise (robust, from its row-to-row
    # differences, which the lane's slow shape does not touch) times the smoothing kernel's gain
    # sqrt(sum k^2). Differences of the *smoothed* copy would understate it ~4-fold and let an
    # empty lane's noise bumps pass as ladder bands.
    d = np.diff(seg)
    noise = 1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2)
    if opts["smooth"]:
        impulse = np.zeros(8 * int(math.ceil(float(opts["smooth"]))) + 1)
        impulse[impulse.size // 2] = 1.0
        noise *= math.sqrt(float(np.sum(ndimage.gaussian_filter1d(impulse, float(opts["smooth"])) ** 2)))
    peaks, props = signal.find_peaks(flat, prominence=0, distance=max(1, int(opts["min_distance"])))
    prom = props["prominences"]
    if peaks.size == 0:
        thr = 0.0
        keep = np.zeros(0, bool)
    else:
        thr = max(float(opts["min_prominence"]) * float(prom.max()), float(opts["min_snr"]) * noise)
        keep = prom >= thr
    peaks, prom = peaks[keep], prom[keep]

    # parabolic sub-pixel refinement on the smoothed, flattened copy
    sub = peaks.astype(float)
    for k, p in enumerate(peaks):
        if 0 < p < n - 1:
            a, b, c = flat[p - 1], flat[p], flat[p + 1]
            den = a - 2 * b + c
            if den < 0:
                sub[k] = p + 0.5 * (a - c) / den
    rows = sub + lo
    params = {
        "method": "grey-opening top-hat + prominence peaks",
        **{k: (v if k != "opening" else opening) for k, v in opts.items()},
        "x": None if x is None else float(x),
        "width": None if width is None else float(width),
        "slope": float(slope),
        "row_range": [lo, hi - 1],
        "noise_sigma": float(noise),
        "prominence_threshold": float(thr),
        "rows": [round(float(r), 2) for r in rows],
        "prominences": [float(p) for p in prom],
    }
    logger.debug("find_ladder_bands: %d peaks at rows %s", rows.size, params["rows"])
    return rows, params


# ----------------------------------------------------------------------------------------------
# the calibration
# ----------------------------------------------------------------------------------------------

#: Calibration models: row -> log10(kDa).
MODELS = ("linear", "quadratic", "cubic", "interp", "pchip")
_MIN_POINTS = {"linear": 2, "quadratic": 4, "cubic": 6, "interp": 2, "pchip": 3}


@dataclass(frozen=True, eq=False)
class Calibration:
    """A fitted row -> log10(kDa) map for one marker lane.

    Attributes
    ----------
    model : str
        One of :data:`MODELS`: ``"linear"``/``"quadratic"``/``"cubic"`` least-squares polynomials
        in row, ``"interp"`` piecewise-linear interpolation through the ladder points, ``"pchip"``
        monotone piecewise-cubic interpolation.
    rows : ndarray of float
        Rows of the matched ladder bands, increasing.
    kda : ndarray of float
        Their sizes in kDa, decreasing.
    coef : tuple of float
        Polynomial coefficients (highest power first) in the centred row ``row - row_center``;
        empty for the interpolating models.
    row_center : float
        Centring row of the polynomial.
    x : float
        Lane centre column the calibration was measured at (NaN if unknown).
    extrapolation : {"tangent", "curve"}
        How the map continues beyond the first and last ladder rows (see Notes).

    Notes
    -----
    Outside the range of the ladder rows the map is an extrapolation. ``"tangent"`` continues the
    tangent line at the end point. ``"curve"`` follows the model's own curve where it gets steeper
    beyond the end (the usual sigmoidal migration: proteins bunch up near the wells and near the
    dye front, so log10(kDa) changes faster per row at both ends) and the end tangent where the
    curve would flatten: the slope used is ``min(d/drow model, end slope)``, integrated outwards.
    Both are monotone; neither turns around like a polynomial can. The default is ``"tangent"``;
    with ``extrapolation="auto"``, :func:`fit_ladder` chooses between them by leave-one-out, which
    tests extrapolation over about one band spacing only.
    """

    model: str
    rows: np.ndarray
    kda: np.ndarray
    coef: tuple = ()
    row_center: float = 0.0
    x: float = float("nan")
    extrapolation: str = "tangent"

    # -- core map -------------------------------------------------------------------------------
    def _inside(self, r):
        lk = np.log10(self.kda)
        if self.model in ("linear", "quadratic", "cubic"):
            return np.polyval(self.coef, r - self.row_center)
        if self.model == "interp":
            return np.interp(r, self.rows, lk)
        from scipy.interpolate import PchipInterpolator
        return PchipInterpolator(self.rows, lk, extrapolate=True)(r)

    def _end_slopes(self):
        r0, r1 = float(self.rows[0]), float(self.rows[-1])
        return float(self._deriv(np.array(r0))), float(self._deriv(np.array(r1)))

    def _deriv(self, r):
        """d log10(kDa) / d row of the model's own curve at row(s) ``r`` (continued beyond the ends)."""
        r = np.asarray(r, dtype=float)
        lk = np.log10(self.kda)
        if self.model in ("linear", "quadratic", "cubic"):
            d = np.polyder(np.asarray(self.coef, float)) if len(self.coef) > 1 else np.zeros(1)
            return np.polyval(d, r - self.row_center)
        if self.model == "interp":
            first = (lk[1] - lk[0]) / (self.rows[1] - self.rows[0])
            last = (lk[-1] - lk[-2]) / (self.rows[-1] - self.rows[-2])
            k = np.clip(np.searchsorted(self.rows, r) - 1, 0, self.rows.size - 2)
            seg = (lk[k + 1] - lk[k]) / (self.rows[k + 1] - self.rows[k])  # the segment holding r
            return np.where(r <= self.rows[0], first, np.where(r >= self.rows[-1], last, seg))
        from scipy.interpolate import PchipInterpolator
        return PchipInterpolator(self.rows, lk, extrapolate=True).derivative()(r)

    def _outward(self, end, reach):
        """Rows beyond one end (``end`` 0: top, 1: bottom) out to ``reach`` rows, and log10(kDa) there.

        Returns ``(distance, values)``: distance >= 0 from the end row outwards and the extrapolated
        log10(kDa), both increasing in distance (values decrease for the bottom end).
        """
        r_end = float(self.rows[0] if end == 0 else self.rows[-1])
        y_end = float(self._inside(np.array(r_end)))
        s_end = self._end_slopes()[end]
        dist = np.linspace(0.0, max(float(reach), 1.0), 2049)
        if self.extrapolation == "tangent":
            slope = np.full(dist.size, s_end)
        else:  # the curve where it is steeper than the end tangent, the tangent where it would flatten
            sign = -1.0 if end == 0 else 1.0
            slope = np.minimum(self._deriv(r_end + sign * dist), s_end)
        step = np.diff(dist)
        integral = np.concatenate([[0.0], np.cumsum(0.5 * (slope[1:] + slope[:-1]) * step)])
        return dist, (y_end - integral if end == 0 else y_end + integral)

    def log_kda_at(self, row):
        """log10(kDa) at row(s) ``row`` (beyond the ladder rows: see ``extrapolation``)."""
        r = np.asarray(row, dtype=float)
        r0, r1 = float(self.rows[0]), float(self.rows[-1])
        out = self._inside(np.clip(r, r0, r1))
        fin = np.isfinite(r)
        if np.any(fin & (r < r0)):
            dist, val = self._outward(0, float(np.max(r0 - r[fin & (r < r0)])))
            out = np.where(r < r0, np.interp(r0 - r, dist, val), out)
        if np.any(fin & (r > r1)):
            dist, val = self._outward(1, float(np.max(r[fin & (r > r1)] - r1)))
            out = np.where(r > r1, np.interp(r - r1, dist, val), out)
        out = np.where(fin, out, np.nan)
        return out if out.ndim else float(out)

    def kda_at(self, row, x=None):
        """Apparent molecular weight (kDa) of a band at row(s) ``row``.

        ``x`` is accepted for the same call signature as :class:`MembraneCalibration` and ignored:
        a single-lane calibration applies as measured in its own lane.

        Examples
        --------
        >>> cal, _ = fit_ladder([100, 200, 300], [100, 50, 25], model="linear")
        >>> round(cal.kda_at(250), 2)
        35.36
        """
        out = np.power(10.0, self.log_kda_at(row))
        return out if np.ndim(out) else float(out)

    def row_at(self, kda, x=None):
        """Row(s) where a protein of ``kda`` kDa runs (inverse of :meth:`kda_at`).

        Examples
        --------
        >>> cal, _ = fit_ladder([100, 200, 300], [100, 50, 25], model="linear")
        >>> round(cal.row_at(50.0), 6)
        200.0
        """
        k = np.asarray(kda, dtype=float)
        if np.any(~(k > 0)):
            raise LayoutError(f"molecular weights must be positive kDa; got {k.tolist()}")
        target = np.log10(k)
        r0, r1 = float(self.rows[0]), float(self.rows[-1])
        grid = np.linspace(r0, r1, 4097)
        g = self._inside(grid)  # decreasing in row
        s0, s1 = self._end_slopes()
        y0, y1 = g[0], g[-1]
        out = np.interp(-target, -g, grid)
        if np.any(target > y0):  # above the top band: never further out than along the tangent
            dist, val = self._outward(0, float(np.max(target - y0)) / -s0)
            out = np.where(target > y0, r0 - np.interp(target, val, dist), out)
        if np.any(target < y1):
            dist, val = self._outward(1, float(np.max(y1 - target)) / -s1)
            out = np.where(target < y1, r1 + np.interp(-target, -val, dist), out)
        return out if out.ndim else float(out)

    def to_dict(self) -> dict:
        """JSON-serialisable description (for run.json)."""
        return {"model": self.model, "rows": [float(r) for r in self.rows],
                "kda": [float(k) for k in self.kda], "coef": [float(c) for c in self.coef],
                "row_center": float(self.row_center),
                "x": None if math.isnan(self.x) else float(self.x),
                "extrapolation": self.extrapolation}


def _make(model, rows, lk, x=float("nan"), extrapolation="tangent"):
    """Calibration of ``model`` through (rows, log10 kDa), or None if it is not monotone decreasing."""
    rows = np.asarray(rows, float)
    lk = np.asarray(lk, float)
    if rows.size < _MIN_POINTS[model]:
        return None
    if model in ("interp", "pchip"):
        if np.any(np.diff(rows) <= 0) or np.any(np.diff(lk) >= 0):
            return None
        cal = Calibration(model, rows, 10 ** lk, (), float(rows.mean()), x, extrapolation)
        # PCHIP may end on a zero slope (a flat end would map every row beyond it to one kDa)
        return cal if all(v < 0 for v in cal._end_slopes()) else None
    deg = {"linear": 1, "quadratic": 2, "cubic": 3}[model]
    c0 = float(rows.mean())
    scale = float(np.ptp(rows)) or 1.0
    coef = np.polyfit((rows - c0) / scale, lk, deg)
    coef = coef / scale ** np.arange(deg, -1, -1)  # back to unscaled (row - c0)
    d = np.polyder(coef)
    grid = np.linspace(rows.min(), rows.max(), 64) - c0
    if np.any(np.polyval(d, grid) >= 0):
        return None
    return Calibration(model, rows, 10 ** lk, tuple(float(v) for v in coef), c0, x, extrapolation)


#: Extrapolation rules beyond the ladder's end rows (see :class:`Calibration`).
EXTRAPOLATIONS = ("tangent", "curve")
# Candidates of model="auto", simplest first (ties go to the earlier one). "curve" only differs from
# "tangent" for models whose slope changes beyond the ends.
_CANDIDATES = tuple((m, "tangent") for m in MODELS) + tuple((m, "curve") for m in ("quadratic", "cubic", "pchip"))


def _name(model, extrapolation):
    return model if extrapolation == "tangent" else f"{model}+curve"


def _loo_rms(model, rows, lk, extrapolation="tangent"):
    """RMS of leave-one-out log10 residuals of ``model`` (inf where a fit fails)."""
    res = []
    for i in range(rows.size):
        keep = np.arange(rows.size) != i
        cal = _make(model, rows[keep], lk[keep], extrapolation=extrapolation)
        if cal is None:
            return math.inf
        res.append(cal.log_kda_at(rows[i]) - lk[i])
    return float(np.sqrt(np.mean(np.square(res))))


def _select(rows, lk, model, x=float("nan"), extrapolation="auto"):
    """Fit ``model`` (or choose one by leave-one-out for "auto"); return (Calibration, scores).

    ``extrapolation="auto"`` is chosen with the model for ``model="auto"`` and is "tangent" for a
    named model.
    """
    if model != "auto":
        ext = "tangent" if extrapolation == "auto" else extrapolation
        cal = _make(model, rows, lk, x, ext)
        if cal is None:
            need = _MIN_POINTS[model]
            raise LayoutError(f"calibration model {model!r} needs at least {need} matched ladder bands and a "
                              f"monotone fit; got {rows.size} band(s); use model='linear' or 'auto'")
        return cal, {}
    cands = [(m, e) for m, e in _CANDIDATES if extrapolation in ("auto", e)]
    scores = {}
    if rows.size >= 4:
        for m, e in cands:
            if rows.size - 1 >= _MIN_POINTS[m]:
                scores[(m, e)] = _loo_rms(m, rows, lk, e)
    finite = {c: v for c, v in scores.items() if math.isfinite(v)}
    # ties (within 2 %) go to the simpler candidate, in _CANDIDATES order
    chosen = ("linear", cands[0][1])
    if finite:
        best = min(finite.values())
        chosen = next(c for c in cands if c in finite and finite[c] <= best * 1.02)
    cal = _make(*chosen[:1], rows, lk, x, chosen[1]) or _make("linear", rows, lk, x, chosen[1])
    return cal, {_name(*c): v for c, v in scores.items()}


# ----------------------------------------------------------------------------------------------
# matching detected peaks to the ladder's bands
# ----------------------------------------------------------------------------------------------

_FIT_DEFAULTS = {
    "sigma": 0.035,  # log10 tolerance of a match (0.035 ~ 8 %)
    "peak_cost": 1.0,  # cost of leaving a detected peak unmatched (in units of (residual/sigma)^2)
    "band_cost": 1.0,  # cost of leaving a ladder band unmatched when it should lie inside row_range
    "band_cost_outside": 0.8,  # ... when its predicted row lies outside row_range (run off / not loaded)
    "max_gap": 3,  # anchors: |peaks between - bands between| allowed
    "min_matches": 3,
    "refine_model": "cubic",  # flexible model used while matching (falls back to quadratic, linear)
}


def _align(pred, lk, sigma, peak_cost, band_costs):
    """Monotone alignment of peaks (predicted log10 kDa ``pred``) to ladder bands ``lk``.

    Dynamic programming over (peak i, band j), both in top-to-bottom order; returns
    (cost, pairs) with pairs a list of (i, j).
    """
    n, m = pred.size, lk.size
    match = (((pred[:, None] - lk[None, :]) / sigma) ** 2).tolist()
    bc = [float(v) for v in band_costs]
    inf = math.inf
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for j in range(1, m + 1):
        cost[0][j] = cost[0][j - 1] + bc[j - 1]
        move[0][j] = 2
    for i in range(1, n + 1):
        ci, cp, mi, mv = cost[i], cost[i - 1], match[i - 1], move[i]
        ci[0] = cp[0] + peak_cost
        mv[0] = 1
        for j in range(1, m + 1):
            a = cp[j - 1] + mi[j - 1]
            b = cp[j] + peak_cost
            c = ci[j - 1] + bc[j - 1]
            if a <= b and a <= c:
                ci[j], mv[j] = a, 0
            elif b <= c:
                ci[j], mv[j] = b, 1
            else:
                ci[j], mv[j] = c, 2
    pairs = []
    i, j = n, m
    while i > 0 or j > 0:
        mv = move[i][j]
        if mv == 0:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif mv == 1:
            i -= 1
        else:
            j -= 1
    return float(cost[n][m]), pairs[::-1]


def _match(rows, lk, opts, row_range):
    """Choose the peak <-> band assignment; returns (pairs, cost, n_hypotheses)."""
    n, m = rows.size, lk.size
    sigma = float(opts["sigma"])
    # 1) anchor hypotheses: every pair of peaks against every pair of bands -> a line; assign each
    #    peak to its nearest band in log space (vectorised), collect the distinct assignments.
    hyps = []
    for i1, i2 in itertools.combinations(range(n), 2):
        for j1, j2 in itertools.combinations(range(m), 2):
            if abs((i2 - i1) - (j2 - j1)) <= opts["max_gap"]:
                hyps.append((i1, i2, j1, j2))
    if not hyps:
        hyps = [(0, n - 1, 0, m - 1)]
    h = np.array(hyps)
    b = (lk[h[:, 3]] - lk[h[:, 2]]) / (rows[h[:, 1]] - rows[h[:, 0]])
    a = lk[h[:, 2]] - b * rows[h[:, 0]]
    pred = a[:, None] + b[:, None] * rows[None, :]
    dist = np.abs(pred[:, :, None] - lk[None, None, :])
    near = dist.argmin(axis=2)
    near = np.where(dist.min(axis=2) <= 2 * sigma, near, -1)
    starts = np.unique(near, axis=0)
    # only the starts that explain nearly as many peaks as the best one are worth refining
    hits = (starts >= 0).sum(axis=1)
    starts = starts[hits >= max(2, hits.max() - int(opts["max_gap"]))]

    def band_costs(cal):
        if cal is None or row_range is None:
            return np.full(m, float(opts["band_cost"]))
        r = cal.row_at(10 ** lk)
        out = (r < row_range[0]) | (r > row_range[1])
        return np.where(out, float(opts["band_cost_outside"]), float(opts["band_cost"]))

    polys = ["cubic", "quadratic", "linear"]
    chain = [opts["refine_model"]] + [p for p in polys[polys.index(opts["refine_model"]) + 1:]] \
        if opts["refine_model"] in polys else [opts["refine_model"], "linear"]
    memo = {}

    def step(key):
        """Fit the refine model on the pairs ``key``, re-align all peaks: (cost, new pairs)."""
        if key not in memo:
            pi = np.array([p[0] for p in key])
            pj = np.array([p[1] for p in key])
            cal = None
            for name in chain:  # the refine model, else the simpler polynomials
                if len(key) >= _MIN_POINTS[name] + 1:
                    cal = _make(name, rows[pi], lk[pj])
                    if cal is not None:
                        break
            if cal is None:
                memo[key] = (math.inf, key)
            else:
                cost, new = _align(np.asarray(cal.log_kda_at(rows)), lk, sigma, float(opts["peak_cost"]),
                                   band_costs(cal))
                memo[key] = (cost, tuple(new))
        return memo[key]

    for start in starts:
        # a monotone, one-to-one subset of the nearest-band assignment (first occurrence wins)
        key, last = [], -1
        for i, j in enumerate(start):
            if j > last:
                key.append((i, int(j)))
                last = int(j)
        key = tuple(key)
        for _ in range(8):  # alternate fit and alignment until the assignment repeats
            if len(key) < 2 or key in memo:
                break
            key = step(key)[1]
    best = (math.inf, ())
    for cost, pairs in memo.values():
        if len(pairs) >= 2 and (cost, -len(pairs)) < (best[0], -len(best[1])):
            best = (cost, pairs)
    return list(best[1]), best[0], len(hyps), int(starts.shape[0])


def fit_ladder(rows, kda, *, model="auto", match="auto", row_range=None, x=None, extrapolation="tangent",
               method_kwargs=None):
    """Fit row -> log10(kDa) for one marker lane, matching peaks to ladder bands if needed.

    Parameters
    ----------
    rows : sequence of float
        Rows of the marker bands found (any order; e.g. from :func:`find_ladder_bands`), or
        annotated rows paired one-to-one with ``kda`` when ``match="none"``.
    kda : str or sequence of float
        The ladder: a name from :data:`LADDERS` or its kDa list, largest first.
    model : {"auto", "linear", "quadratic", "cubic", "interp", "pchip"}
        Calibration model. ``"auto"`` picks, among the models the number of points allows (with
        ``extrapolation="auto"``: each with tangent and, where it differs, curve extrapolation),
        the one with the smallest leave-one-out RMS error in log10(kDa) (ties within 2 % go to the
        earlier candidate: every model with tangent extrapolation in :data:`MODELS` order, then the
        curve variants). A model whose fit is not strictly decreasing (e.g. PCHIP with a flat end)
        is not a candidate. The held-out end bands make
        this score judge extrapolation too.
    match : {"auto", "none"}
        ``"none"``: ``rows`` and ``kda`` are already paired (same length, top to bottom).
        ``"auto"``: choose which peak is which band (see Notes); extra peaks and missing bands
        are allowed.
    row_range : (int, int), optional
        First and last row of the lane inside the image (``params["row_range"]`` of
        :func:`find_ladder_bands`). Bands predicted outside it are cheaper to leave unmatched
        (run off or not transferred) than bands predicted inside it.
    x : float, optional
        Marker lane centre column, stored on the calibration for :func:`membrane_calibration`.
    extrapolation : {"tangent", "curve", "auto"}
        How the calibration continues beyond the end ladder bands (see :class:`Calibration`).
        ``"auto"``: chosen together with the model by leave-one-out when ``model="auto"``, the
        tangent for a named model. The default stays the tangent: on simulated ladders (sigmoidal,
        quadratic, straight; 3 % scatter of the markers' apparent sizes) neither "curve" nor
        "auto" predicted held-out end bands better overall (benchmarks/mw_karmaker.py).
    method_kwargs : dict, optional
        Matching options: ``sigma`` (log10 tolerance, 0.04), ``peak_cost``, ``band_cost``,
        ``band_cost_outside``, ``max_gap``, ``min_matches``, ``refine_model``.

    Returns
    -------
    calibration : Calibration
    params : dict
        ``model``, ``loo_rms_log10`` per candidate model, the matched ``pairs``
        (row, kDa), ``unmatched_rows``, ``unmatched_kda``, fit ``residuals_log10``, ``slope``
        (d log10 kDa / d row at the centre) and the matching score.

    Raises
    ------
    LayoutError
        If fewer than ``min_matches`` bands can be matched, or inputs are not usable.

    Notes
    -----
    Matching: every pair of detected peaks is tried against every pair of ladder bands as anchors
    of a log-linear line; each line gives an initial assignment (nearest band in log space), which
    is refined by alternating a quadratic fit on the matched pairs and a monotone dynamic-programming
    alignment of all peaks to all bands. The alignment costs ``((pred - log10 kDa) / sigma)**2``
    per matched pair, ``peak_cost`` per unmatched peak and ``band_cost`` (``band_cost_outside`` if
    predicted outside the lane) per unmatched band; the assignment with the lowest cost wins. A
    peak shifted by one band makes the log-spacing disagree, so the correct offset wins as long as
    the ladder's spacing is not perfectly uniform in log space.

    Examples
    --------
    >>> cal, params = fit_ladder([100, 150, 200, 250], [100, 75, 50, 25], match="none", model="linear")
    >>> params["model"], round(cal.kda_at(200), 1)
    ('linear', 44.0)
    """
    opts = dict(_FIT_DEFAULTS)
    unknown = set(method_kwargs or {}) - set(opts)
    if unknown:
        raise ConfigError(f"unknown fit_ladder option(s) {sorted(unknown)}; valid: {sorted(opts)}")
    opts.update(method_kwargs or {})
    if model != "auto" and model not in MODELS:
        raise ConfigError(f"unknown calibration model {model!r}; use one of auto, {', '.join(MODELS)}")
    if match not in ("auto", "none"):
        raise ConfigError(f"`match` must be 'auto' or 'none'; got {match!r}")
    if extrapolation != "auto" and extrapolation not in EXTRAPOLATIONS:
        raise ConfigError(f"unknown `extrapolation` {extrapolation!r}; use one of auto, {', '.join(EXTRAPOLATIONS)}")
    ladder = np.asarray(get_ladder(kda), float)
    try:
        r = np.asarray(rows, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise LayoutError(f"ladder `rows` must be numbers; got {rows!r}") from exc
    if not np.all(np.isfinite(r)):
        raise LayoutError(f"ladder `rows` must be finite; got {r.tolist()}")
    xx = float("nan") if x is None else float(x)
    lk = np.log10(ladder)
    n_hyp = n_start = 0
    if match == "none":
        if r.size != ladder.size:
            raise LayoutError(f"with match='none' give one row per ladder band ({ladder.size}); got {r.size} rows")
        if np.any(np.diff(r) <= 0):
            raise LayoutError(f"ladder rows must increase from the largest band to the smallest; got {r.tolist()}")
        pairs = [(i, i) for i in range(r.size)]
        score = float("nan")
    else:
        r = np.sort(r)
        if r.size < 2:
            raise LayoutError(f"found {r.size} marker band(s); at least {opts['min_matches']} are needed to fit "
                              f"a ladder; check the marker lane's x and width")
        pairs, score, n_hyp, n_start = _match(r, lk, opts, row_range)
    if len(pairs) < min(int(opts["min_matches"]), ladder.size):
        raise LayoutError(f"only {len(pairs)} marker band(s) could be matched to the ladder "
                          f"{ladder.tolist()} (rows found: {np.round(r, 1).tolist()}); check the ladder name "
                          f"and the marker lane")
    pi = np.array([p[0] for p in pairs])
    pj = np.array([p[1] for p in pairs])
    cal, scores = _select(r[pi], lk[pj], model, xx, extrapolation)
    resid = np.asarray(cal.log_kda_at(r[pi])) - lk[pj]
    c = float(np.mean(r[pi]))
    h = 1e-3
    slope = (cal.log_kda_at(c + h) - cal.log_kda_at(c - h)) / (2 * h)
    params = {
        "model": cal.model,
        "model_requested": model,
        "extrapolation": cal.extrapolation,
        "loo_rms_log10": {k: (None if not math.isfinite(v) else round(v, 5)) for k, v in scores.items()},
        "match": match,
        "pairs": [[round(float(r[i]), 2), float(ladder[j])] for i, j in pairs],
        "unmatched_rows": [round(float(v), 2) for k, v in enumerate(r) if k not in set(pi.tolist())],
        "unmatched_kda": [float(v) for k, v in enumerate(ladder) if k not in set(pj.tolist())],
        "residuals_log10": [round(float(v), 5) for v in resid],
        "slope_log10_per_row": float(slope),
        "match_cost": None if not math.isfinite(score) else round(float(score), 4),
        "hypotheses": n_hyp,
        "distinct_starts": n_start,
        "method_kwargs": opts,
        "calibration": cal.to_dict(),
    }
    if params["unmatched_kda"]:
        logger.info("ladder bands not matched: %s kDa", params["unmatched_kda"])
    return cal, params


# ----------------------------------------------------------------------------------------------
# smile across the membrane
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class MembraneCalibration:
    """Row <-> kDa anywhere on a membrane, following smile/tilt across it.

    ``row_at(kda, x)`` is the marker lanes' rows for ``kda`` interpolated linearly in ``x``
    between the marker lanes (continued linearly beyond the outermost two; one marker lane: its
    rows everywhere), plus a smile correction ``shift(x)``: the measured row of one band across
    the lanes minus the same linear interpolation of that band's row at the marker lanes.

    Attributes
    ----------
    xs : ndarray of float
        Marker lane centre columns, increasing.
    calibrations : tuple of Calibration
        One per marker lane, same order.
    offset_x, offset_rows : ndarray of float
        Columns and rows of the reference band used for the smile correction (empty if none).
    """

    xs: np.ndarray
    calibrations: tuple
    offset_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    offset_rows: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def _interp_x(self, values, x):
        """Linear interpolation (and extrapolation) in x of per-marker ``values`` (k, ...)."""
        xs = self.xs
        if xs.size == 1:
            return values[0] + 0 * x
        k = np.clip(np.searchsorted(xs, x) - 1, 0, xs.size - 2)
        t = (x - xs[k]) / (xs[k + 1] - xs[k])
        v0 = np.take_along_axis(values, k[None, ...], 0)[0] if values.ndim > 1 else values[k]
        v1 = np.take_along_axis(values, (k + 1)[None, ...], 0)[0] if values.ndim > 1 else values[k + 1]
        return v0 + t * (v1 - v0)

    def shift(self, x):
        """Smile correction in rows at column(s) ``x`` (0 without band row offsets)."""
        x = np.asarray(x, dtype=float)
        if self.offset_x.size == 0:
            return np.zeros_like(x) if x.ndim else 0.0
        at_markers = np.interp(self.xs, self.offset_x, self.offset_rows)
        measured = np.interp(x, self.offset_x, self.offset_rows)
        out = measured - self._interp_x(at_markers, np.atleast_1d(x)).reshape(x.shape)
        return out if out.ndim else float(out)

    def _need_x(self, x):
        if x is None:
            if self.xs.size == 1:
                return self.xs[0]
            raise LayoutError("this membrane has several marker lanes; give the lane's column `x` to read a "
                              "molecular weight")
        return x

    def row_at(self, kda, x=None):
        """Row(s) where ``kda`` runs at column(s) ``x`` (broadcast together).

        Examples
        --------
        >>> left, _ = fit_ladder([100, 200, 300], [100, 50, 25], model="linear")
        >>> right, _ = fit_ladder([110, 210, 310], [100, 50, 25], model="linear")
        >>> mc, _ = membrane_calibration({0: left, 100: right})
        >>> round(mc.row_at(50, 50), 3)
        205.0
        """
        x = np.asarray(self._need_x(x), dtype=float)
        k, x = np.broadcast_arrays(np.asarray(kda, dtype=float), x)
        per = np.stack([np.atleast_1d(c.row_at(k.ravel())) for c in self.calibrations])
        xf = x.ravel()
        base = self._interp_x(per, xf) if self.xs.size > 1 else per[0]
        out = (base + np.atleast_1d(self.shift(xf))).reshape(k.shape)
        return out if out.ndim else float(out)

    def kda_at(self, row, x=None):
        """Apparent kDa of a band at row(s) ``row`` in the lane at column(s) ``x``.

        Examples
        --------
        >>> left, _ = fit_ladder([100, 200, 300], [100, 50, 25], model="linear")
        >>> right, _ = fit_ladder([110, 210, 310], [100, 50, 25], model="linear")
        >>> mc, _ = membrane_calibration({0: left, 100: right})
        >>> round(float(mc.kda_at(205, 50)), 3)
        50.0
        """
        x = np.asarray(self._need_x(x), dtype=float)
        r, x = np.broadcast_arrays(np.asarray(row, dtype=float), x)
        lo = min(np.log10(c.kda).min() for c in self.calibrations) - 1.5
        hi = max(np.log10(c.kda).max() for c in self.calibrations) + 1.5
        grid = np.linspace(hi, lo, 3001)  # decreasing kDa -> increasing row
        out = np.full(r.size, np.nan)  # NaN row or column -> NaN
        rf, xf = r.ravel(), x.ravel()
        for xx in np.unique(xf):  # one inversion per lane column
            sel = xf == xx
            rows = self.row_at(10 ** grid, np.full(grid.size, xx))
            out[sel] = np.interp(rf[sel], rows, grid, left=np.nan, right=np.nan)
        out = (10 ** out).reshape(r.shape)
        return out if out.ndim else float(out)

    def to_dict(self) -> dict:
        """JSON-serialisable description (for run.json)."""
        return {"marker_x": [float(v) for v in self.xs],
                "calibrations": [c.to_dict() for c in self.calibrations],
                "band_row_offsets": {"x": [float(v) for v in self.offset_x],
                                     "rows": [float(v) for v in self.offset_rows]}}


def membrane_calibration(calibrations_by_x, *, band_row_offsets=None):
    """Combine marker-lane calibrations into one that follows smile across the membrane.

    Parameters
    ----------
    calibrations_by_x : mapping of float -> Calibration, or sequence of Calibration
        Marker lane centre column -> its calibration (one, two or more marker lanes); a sequence
        uses each calibration's own ``x`` (set by ``fit_ladder(..., x=...)``).
    band_row_offsets : mapping of float -> float, optional
        Lane centre column -> row of one reference band measured in that lane (e.g. the loading
        control's band rows). Used as a per-lane row offset ``shift(x)``: the band's row at ``x``
        minus its row interpolated linearly between the marker lanes. With one marker lane this
        carries the whole smile; with two it carries the curvature the linear interpolation misses.

    Returns
    -------
    calibration : MembraneCalibration
    params : dict
        Marker columns, whether a smile correction was used and its range in rows.

    Notes
    -----
    The correction is a constant row offset per lane (the same at every kDa), exact for a lane
    that runs uniformly ahead/behind and an approximation where smile grows with migration.
    Between two marker lanes the rows of a given kDa are interpolated linearly in ``x``; beyond
    the outermost markers they are extrapolated linearly (a tilt continues).

    Examples
    --------
    >>> cal, _ = fit_ladder([100, 200, 300], [100, 50, 25], model="linear")
    >>> mc, params = membrane_calibration({50: cal}, band_row_offsets={50: 150, 150: 154})
    >>> round(mc.row_at(50, 150), 3), params["smile_correction"]
    (204.0, True)
    """
    if not calibrations_by_x:
        raise LayoutError("membrane_calibration needs at least one marker lane calibration")
    if isinstance(calibrations_by_x, (list, tuple)):  # calibrations that carry their own x
        missing = [i for i, c in enumerate(calibrations_by_x) if math.isnan(getattr(c, "x", math.nan))]
        if missing:
            raise LayoutError(f"calibration(s) {missing} have no lane column; fit them with fit_ladder(..., x=...) "
                              f"or pass a mapping {{x: calibration}}")
        calibrations_by_x = {c.x: c for c in calibrations_by_x}
    items = sorted((float(k), v) for k, v in dict(calibrations_by_x).items())
    xs = np.array([k for k, _ in items])
    if np.any(np.diff(xs) <= 0):
        raise LayoutError(f"marker lane columns must be distinct; got {xs.tolist()}")
    cals = tuple(v for _, v in items)
    for c in cals:
        if not hasattr(c, "row_at"):
            raise LayoutError(f"membrane_calibration takes Calibration objects; got {type(c).__name__}")
    ox = orow = np.zeros(0)
    if band_row_offsets:
        off = sorted((float(k), float(v)) for k, v in dict(band_row_offsets).items())
        ox = np.array([k for k, _ in off])
        orow = np.array([v for _, v in off])
        if not (np.all(np.isfinite(ox)) and np.all(np.isfinite(orow))):
            raise LayoutError(f"band_row_offsets must be finite column -> row pairs; got {dict(band_row_offsets)}")
    mc = MembraneCalibration(xs, cals, ox, orow)
    shifts = np.atleast_1d(mc.shift(ox)) if ox.size else np.zeros(0)
    params = {
        "marker_x": xs.tolist(),
        "n_markers": int(xs.size),
        "interpolation": "single marker lane" if xs.size == 1 else "linear in x between marker lanes",
        "smile_correction": bool(ox.size),
        "shift_rows_range": [float(shifts.min()), float(shifts.max())] if shifts.size else None,
    }
    return mc, params


def row_window(calibration, kda, *, x=None, rel_tol=0.15):
    """Row window ``[top, bottom]`` expected to hold a band of ``kda`` kDa (±``rel_tol``).

    Parameters
    ----------
    calibration : Calibration or MembraneCalibration
    kda : float
        Target molecular weight.
    x : float, optional
        Lane column (needed for a membrane with several marker lanes).
    rel_tol : float
        Relative size tolerance: the window spans ``kda * (1 + rel_tol)`` to ``kda / (1 + rel_tol)``.

    Returns
    -------
    (top, bottom) : tuple of float

    Examples
    --------
    >>> cal, _ = fit_ladder([100, 200, 300], [100, 50, 25], model="linear")
    >>> [round(v, 1) for v in row_window(cal, 50, rel_tol=0.1)]
    [186.2, 213.8]
    """
    if not (kda and kda > 0) or not rel_tol > 0:
        raise ConfigError(f"`mw` must be positive kDa and rel_tol positive; got mw={kda!r}, rel_tol={rel_tol!r}")
    top = float(calibration.row_at(kda * (1 + rel_tol), x))
    bottom = float(calibration.row_at(kda / (1 + rel_tol), x))
    return top, bottom


# ----------------------------------------------------------------------------------------------
# benchmark helper
# ----------------------------------------------------------------------------------------------

def leave_one_out(rows, kda, *, model="auto", extrapolation="tangent"):
    """Predict every ladder band's kDa from the other bands of the same lane.

    Parameters
    ----------
    rows : sequence of float
        Band rows, paired one-to-one with ``kda`` (top to bottom).
    kda : str or sequence of float
        Ladder name or kDa list.
    model, extrapolation : str
        Passed to :func:`fit_ladder` for each fit (``"auto"`` selects per fit, so the held-out band
        never influences the choice).

    Returns
    -------
    table : DataFrame
        One row per band: ``kda_true``, ``row``, ``kda_pred``, ``rel_error``
        (``kda_pred / kda_true - 1``), ``model``, ``extrapolated`` (held-out row outside the others),
        ``extrapolation`` (the rule of the fit that predicted it).

    Notes
    -----
    The two end bands are extrapolations from the others: their error measures how well the
    calibration continues one band spacing beyond its ladder, which a sample band never needs
    when the full ladder is on the membrane. :func:`membrane_leave_one_out` measures what a
    sample lane between two marker lanes gets.

    Examples
    --------
    >>> t = leave_one_out([100, 150, 200, 250], [100, 70.71, 50, 35.36], model="linear")
    >>> float(t["rel_error"].abs().max()) < 1e-3
    True
    """
    ladder = np.asarray(get_ladder(kda), float)
    r = np.asarray(rows, dtype=float).ravel()
    if r.size != ladder.size:
        raise LayoutError(f"leave_one_out needs one row per ladder band ({ladder.size}); got {r.size}")
    out = []
    for i in range(r.size):
        keep = np.arange(r.size) != i
        cal, params = fit_ladder(r[keep], ladder[keep].tolist(), model=model, match="none",
                                 extrapolation=extrapolation)
        pred = float(cal.kda_at(r[i]))
        out.append({"kda_true": float(ladder[i]), "row": float(r[i]), "kda_pred": pred,
                    "rel_error": pred / float(ladder[i]) - 1.0, "model": params["model"],
                    "extrapolated": bool(r[i] < r[keep].min() or r[i] > r[keep].max()),
                    "extrapolation": cal.extrapolation})
    return pd.DataFrame(out, columns=["kda_true", "row", "kda_pred", "rel_error", "model", "extrapolated",
                                      "extrapolation"])


def _difference_at(target, lk, diff):
    """Row difference between two lanes at log10 kDa ``target``, from its values ``diff`` at ``lk``
    (decreasing): linear interpolation, continued linearly from the nearest two beyond the ends."""
    if lk.size == 1:
        return float(diff[0])
    if target > lk[0]:
        i, j = 0, 1
    elif target < lk[-1]:
        i, j = lk.size - 2, lk.size - 1
    else:
        return float(np.interp(-target, -lk, diff))
    return float(diff[i] + (diff[j] - diff[i]) * (target - lk[i]) / (lk[j] - lk[i]))


def membrane_leave_one_out(rows_by_x, kda, *, model="auto", extrapolation="tangent"):
    """Predict every marker band of a membrane from all the other marker bands, in every lane.

    Parameters
    ----------
    rows_by_x : mapping of float -> sequence of float
        Marker lane centre column -> its band rows, one per ladder band top to bottom (NaN for a
        band not seen in that lane). Two or more marker lanes.
    kda : str or sequence of float
        Ladder name or kDa list (the same ladder in every marker lane).
    model, extrapolation : str
        Passed to :func:`fit_ladder` for every fit.

    Returns
    -------
    table : DataFrame
        One row per (marker lane, band): ``x``, ``kda_true``, ``row``; the single-lane
        leave-one-out (``kda_pred_lane``, ``rel_error_lane``, ``extrapolated_lane``: the band lies
        beyond the lane's other bands); the membrane leave-one-out (``kda_pred_membrane``,
        ``rel_error_membrane``; NaN where no other lane has the band, or where the estimated row
        would put the lane's bands out of order) and ``other_lanes``, the number of other marker
        lanes that had the band. Rows for bands missing in a lane are left out.

    Notes
    -----
    The membrane prediction holds out one (lane, band) point and uses everything else: the band's
    row in the other marker lanes, moved to the held-out lane by the row difference between the
    two lanes at the neighbouring bands (interpolated linearly in log10 kDa; beyond the bands both
    lanes have, continued linearly from the nearest two, as a tilt or stretch would), averaged over the other lanes weighted by ``1 / |x - x_other|``. The held-out
    lane is then fitted with that estimated row in place of its own and read at the true row. This
    is the smile surface :class:`MembraneCalibration` uses (rows of a given kDa vary smoothly
    across the membrane) and what a sample band between the marker lanes gets: every ladder band,
    the end bands included, is measured in at least one marker lane, so nothing is extrapolated in
    kDa. The single-lane leave-one-out extrapolates the end bands.

    Examples
    --------
    >>> rows = np.array([100.0, 150, 200, 250])
    >>> t = membrane_leave_one_out({0: rows, 100: rows + 4}, [100, 70.71, 50, 35.36], model="linear")
    >>> float(t["rel_error_membrane"].abs().max()) < 1e-3
    True
    """
    ladder = np.asarray(get_ladder(kda), float)
    lk = np.log10(ladder)
    items = sorted((float(k), np.asarray(v, dtype=float).ravel()) for k, v in dict(rows_by_x).items())
    if len(items) < 2:
        raise LayoutError(f"membrane_leave_one_out needs two or more marker lanes; got {len(items)}")
    for x, r in items:
        if r.size != ladder.size:
            raise LayoutError(f"marker lane at x={x}: give one row per ladder band ({ladder.size}, NaN for a "
                              f"missing band); got {r.size}")
    out = []
    for a, (xa, ra) in enumerate(items):
        seen = np.flatnonzero(np.isfinite(ra))
        lane = leave_one_out(ra[seen], ladder[seen].tolist(), model=model, extrapolation=extrapolation)
        for n, k in enumerate(seen):
            est, weights = [], []
            for b, (xb, rb) in enumerate(items):
                if b == a or not np.isfinite(rb[k]):
                    continue
                common = np.flatnonzero(np.isfinite(ra) & np.isfinite(rb) & (np.arange(ladder.size) != k))
                if common.size == 0:
                    continue
                est.append(rb[k] + _difference_at(lk[k], lk[common], ra[common] - rb[common]))
                weights.append(1.0 / abs(xa - xb))
            pred = math.nan
            if est:
                filled = ra[seen].copy()
                filled[n] = float(np.average(est, weights=weights))
                order = np.argsort(filled)
                if np.all(np.diff(filled[order]) > 0) and np.array_equal(order, np.arange(order.size)):
                    cal, _ = fit_ladder(filled, ladder[seen].tolist(), model=model, match="none",
                                        extrapolation=extrapolation)
                    pred = float(cal.kda_at(ra[k]))
            out.append({"x": xa, "kda_true": float(ladder[k]), "row": float(ra[k]),
                        "kda_pred_lane": float(lane["kda_pred"].iloc[n]),
                        "rel_error_lane": float(lane["rel_error"].iloc[n]),
                        "extrapolated_lane": bool(lane["extrapolated"].iloc[n]),
                        "kda_pred_membrane": pred, "rel_error_membrane": pred / float(ladder[k]) - 1.0,
                        "other_lanes": len(est)})
    columns = ["x", "kda_true", "row", "kda_pred_lane", "rel_error_lane", "extrapolated_lane",
               "kda_pred_membrane", "rel_error_membrane", "other_lanes"]
    return pd.DataFrame(out, columns=columns)
