"""Synthetic Western blots with exact ground truth, for tests, the demo and benchmarks.

Every band is drawn analytically on the pixel grid, so the truth table and the image agree
exactly: the ``volume`` of a band in the truth table *is* the sum of the pixels rendered for that
band (before noise, rounding and clipping). Nuisances (baseline, gradient, lane smear, dust,
noise) are background and never count as band volume.

Coordinates
-----------
Rows ``y`` and columns ``x`` are image pixel coordinates with pixel centres on integers (pixel
``(i, j)`` covers ``[i - 1/2, i + 1/2] x [j - 1/2, j + 1/2]``). The membrane has its own frame:
``u`` along the lanes (downwards) and ``v`` across the lanes (rightwards), both measured from the
image centre ``(cy, cx) = ((rows - 1) / 2, (cols - 1) / 2)``. A rotation by ``rotation_deg = θ``
maps the membrane to the image as::

    y - cy = u cos θ - v sin θ
    x - cx = u sin θ + v cos θ

so a positive angle moves the lower ends of the lanes to the right (counter-clockwise as
displayed with row 0 at the top). Lane ``i`` at membrane column ``v_i`` then has its centre line
at ``x = cx + v_i / cos θ + tan θ (y - cy)``, which is :class:`~blotquant.lanes.Lanes` with
``centers = cx + v_i / cos θ``, ``slope = tan θ`` and ``y_ref = cy``.

Run ``python -m blotquant.simulate demo fixtures/il6-jak2`` from the repository root to regenerate
the demo fixtures and ``configs/il6-jak2.yaml``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy.special import ndtr

from blotquant._util import jsonable
from blotquant.lanes import Lanes

__all__ = ["SimulatedBlot", "simulate_blot", "scenario", "dilution_series", "make_demo", "SCENARIOS",
           "BAND_SHAPES"]

logger = logging.getLogger("blotquant")

#: Scenario names accepted by :func:`scenario`.
SCENARIOS = ("clean", "realistic", "hard", "saturated", "shapes", "rich-clean", "rich-realistic",
             "rich-hard", "rich-dilution", "rich-saturated")

#: Band shapes along the lane accepted by :func:`simulate_blot` (``"mixed"`` draws one per band).
BAND_SHAPES = ("gaussian", "skewed", "flat", "mixed")

TRUTH_COLUMNS = ["lane", "target", "kind", "volume", "row", "lane_x", "sigma", "peak", "saturated",
                 "shape", "shape_param"]

_DEFAULT_TARGETS = MappingProxyType({"TNAP": 250.0, "beta-actin": 600.0})
_REF_CEILING = 65535.0       # scenario ranges are written for 16-bit data and scaled by ceiling / this
_EDGE_SIGMA = 1.0            # sd (px) of the erf edges across the lane: 10-90 % edge width ~2.6 px
_TRUNC_SIGMAS = 8.0          # bands are rendered out to this many sd along the lane
_TYPICAL_PEAK = 0.45         # typical band peak as a fraction of the ceiling
_FOOTPRINT = 0.5             # a band's footprint: pixels >= this fraction of its own maximum
_SAT_PEAK = 1.4              # noise-free peak of a band asked to saturate, x ceiling
_MAX_PEAK = 0.8              # noise-free peak allowed for every other band, x ceiling
_DUST_MAX = 0.85             # dust never pushes the noise-free signal above this, x ceiling
_DTYPE_CEILING = {"uint8": 255.0, "uint16": 65535.0, "float32": 65535.0}


@dataclass(frozen=True)
class SimulatedBlot:
    """A synthetic blot and its ground truth.

    Attributes
    ----------
    image : ndarray, shape (rows, cols)
        Stored pixel values as a detector would write them (``uint16``, ``uint8`` or
        ``float32``), polarity applied, rounded and clipped to ``[0, ceiling]``.
    truth : pandas.DataFrame
        One row per band drawn; columns ``lane, target, kind, volume, row, lane_x, sigma, peak,
        saturated`` (see :func:`simulate_blot`).
    lanes : Lanes
        True lane geometry (centres at ``y_ref`` = image centre row, widths, ``slope = tan θ``).
    windows : dict
        Target name -> ``(top, bottom)`` row window a careful user would type for it.
    polarity : str
        ``"light-bands"`` or ``"dark-bands"``.
    ceiling : float
        Detector ceiling in stored counts.
    params : dict
        Every parameter used, drawn or derived (JSON-serialisable).
    """

    image: np.ndarray
    truth: pd.DataFrame
    lanes: Lanes
    windows: dict
    polarity: str
    ceiling: float
    params: dict


# --------------------------------------------------------------------------------------------
# geometry and rendering


@dataclass(frozen=True)
class _Frame:
    """Membrane frame rotated by ``theta`` about the image centre ``(cy, cx)``."""

    cy: float
    cx: float
    cos: float
    sin: float

    def to_membrane(self, y, x):
        dy, dx = y - self.cy, x - self.cx
        return dy * self.cos + dx * self.sin, -dy * self.sin + dx * self.cos

    def to_image(self, u, v):
        return self.cy + u * self.cos - v * self.sin, self.cx + u * self.sin + v * self.cos


@dataclass(frozen=True)
class _Smile:
    """Row shift along the lanes, a parabola across them: ``amp * (1 - (v / v_edge)^2) - offset``.

    Centre lanes move down by ``amp`` relative to the outermost lanes (a "smile" for ``amp > 0``);
    ``offset`` makes the mean shift over the lane centres zero, so target rows stay the mean rows.
    """

    amp: float
    v_edge: float
    offset: float

    def __call__(self, v):
        return self.amp * (1.0 - (np.asarray(v, dtype=float) / self.v_edge) ** 2) - self.offset

    def range(self, v0, v1):
        vals = [self(v0), self(v1)] + ([self(0.0)] if v0 < 0.0 < v1 else [])
        return float(min(vals)), float(max(vals))


def _antiderivative_J(z):
    """``J(z) = ∫_{-inf}^{z} Φ(t) dt = z Φ(z) + φ(z)``."""
    return z * ndtr(z) + np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(8)  # Gauss-Legendre on [-1, 1]
_SG_CUT = 25.0  # super-Gaussian lanes are rendered out to where ln2 |2t/w|^p reaches this (e^-25)


def _across_halfwidth(band_width, across="flat", across_p=4.0):
    """Half the across-lane extent rendered for a band (beyond it the profile is < e^-25)."""
    if across == "supergauss":
        return 0.5 * band_width * (_SG_CUT / math.log(2.0)) ** (1.0 / across_p) + 1.0
    return 0.5 * band_width + 6.0 * _EDGE_SIGMA + 1.0


def _across_supergauss_pixel(t, width, p):
    """Pixel integral over ``[t - 1/2, t + 1/2]`` of a super-Gaussian lane profile of area ``width``.

    The profile is ``exp(-ln2 |2t/w|^p)`` (full width at half maximum ``w``, ``p = 2`` a
    Gaussian, larger ``p`` flatter tops and steeper edges), scaled to area ``w`` so that a band
    of amplitude ``volume / w`` holds ``volume``, as the flat-top profile does. Integrated per
    pixel by 8-point Gauss-Legendre (exact to ~1e-12 for these smooth, >= 10 px wide profiles).
    """
    h = 0.5 * float(width)
    a = math.log(2.0)
    area = 2.0 * h * math.gamma(1.0 + 1.0 / p) / a ** (1.0 / p)
    s = np.asarray(t, dtype=float)[..., None] + 0.5 * _GL_NODES
    f = np.exp(-a * np.abs(s / h) ** p)
    return (f @ (0.5 * _GL_WEIGHTS)) * (float(width) / area)


def _across_profile(t, width, across="flat", across_p=4.0):
    """Pixel integrals across the lane: flat top with erf edges, or a super-Gaussian."""
    if across == "supergauss":
        return _across_supergauss_pixel(t, width, float(across_p))
    return _across_pixel(t, width)


def _across_pixel(t, width, edge=_EDGE_SIGMA):
    """Pixel integral over ``[t - 1/2, t + 1/2]`` of the flat-top lane profile of area ``width``.

    The profile is ``Φ((t + w/2)/s) - Φ((t - w/2)/s)``; it is symmetric, so the left half is used
    (``-|t|``) to keep the differences of small numbers accurate.
    """
    t = -np.abs(t)
    h = 0.5 * width

    def integral(s):
        return edge * (_antiderivative_J((s + h) / edge) - _antiderivative_J((s - h) / edge))

    return integral(t + 0.5) - integral(t - 0.5)


def _along_pixel(z, sigma):
    """Pixel integral over ``[z - 1/2, z + 1/2]`` of a unit-area Gaussian of sd ``sigma``."""
    z = -np.abs(z)  # symmetric: evaluate on the left tail where ndtr is accurate
    return ndtr((z + 0.5) / sigma) - ndtr((z - 0.5) / sigma)


def _emg_cdf(z, sigma, tau, upper=False):
    """CDF (or, ``upper``, survival function) of a Gaussian (sd ``sigma``) convolved with an
    exponential of mean ``tau`` towards larger ``z`` (an exponentially modified Gaussian)."""
    from scipy.stats import exponnorm

    return (exponnorm.sf if upper else exponnorm.cdf)(z, tau / sigma, scale=sigma)


def _box_cdf(z, sigma, length):
    """CDF of a box of ``length`` centred at 0 smoothed by a Gaussian of sd ``sigma``."""
    return sigma / length * (_antiderivative_J((z + 0.5 * length) / sigma)
                             - _antiderivative_J((z - 0.5 * length) / sigma))


def _shape_sd(sigma, shape, param):
    """Standard deviation of the whole band profile along the lane (Gaussian, EMG or box * G)."""
    if shape == "skewed":
        return math.hypot(sigma, param * sigma)
    if shape == "flat":
        return sigma * math.sqrt(1.0 + param * param / 12.0)
    return float(sigma)


def _shape_mode(sigma, shape, param):
    """Offset from the Gaussian centre to the peak of the band profile (0 unless skewed)."""
    if shape != "skewed":
        return 0.0
    from scipy.stats import exponnorm

    tau = param * sigma
    z = np.linspace(-sigma, 2.0 * sigma + tau, 20001)
    return float(z[np.argmax(exponnorm.pdf(z, tau / sigma, scale=sigma))])


def _along_shape(z, sigma, shape="gaussian", param=0.0):
    """Pixel integral over ``[z - 1/2, z + 1/2]`` of a unit-area band profile along the lane.

    ``gaussian``: sd ``sigma``; ``skewed``: the Gaussian convolved with an exponential tail of
    mean ``param * sigma`` towards larger ``z`` (centred so that its peak is at ``z = 0``);
    ``flat``: a box ``param * sigma`` long smoothed by the Gaussian (centred). Differences are
    taken on the tail nearer each pixel so that they stay accurate.
    """
    if shape == "gaussian":
        return _along_pixel(z, sigma)
    z = np.asarray(z, dtype=float)
    if shape == "flat":
        zl = -np.abs(z)  # symmetric: left tail
        length = param * sigma
        return _box_cdf(zl + 0.5, sigma, length) - _box_cdf(zl - 0.5, sigma, length)
    if shape == "skewed":
        tau = param * sigma
        zz = z + _shape_mode(sigma, shape, param)
        lower = _emg_cdf(zz + 0.5, sigma, tau) - _emg_cdf(zz - 0.5, sigma, tau)
        upper = _emg_cdf(zz - 0.5, sigma, tau, True) - _emg_cdf(zz + 0.5, sigma, tau, True)
        return np.where(zz < 0.0, lower, upper)
    raise ValueError(f"unknown band shape {shape!r}; allowed: {', '.join(BAND_SHAPES[:3])}")


def _bbox(frame, shape, u0, u1, v0, v1):
    corners = [frame.to_image(u, v) for u in (u0, u1) for v in (v0, v1)]
    ys = [c[0] for c in corners]
    xs = [c[1] for c in corners]
    r0 = max(int(math.floor(min(ys))) - 1, 0)
    r1 = min(int(math.ceil(max(ys))) + 2, shape[0])
    c0 = max(int(math.floor(min(xs))) - 1, 0)
    c1 = min(int(math.ceil(max(xs))) + 2, shape[1])
    return r0, r1, c0, c1


def _band_grid(frame, shape, u0, u1, v_c, half):
    """Membrane coordinates ``(u, v)`` of the pixels whose box covers ``u0..u1`` x
    ``v_c +- half``; returns ``(r0, c0, u, v)``, ``u = v = None`` when the box is empty."""
    r0, r1, c0, c1 = _bbox(frame, shape, u0, u1, v_c - half, v_c + half)
    if r1 <= r0 or c1 <= c0:
        return r0, c0, None, None
    yy, xx = np.mgrid[r0:r1, c0:c1].astype(float)
    u, v = frame.to_membrane(yy, xx)
    return r0, c0, u, v


def _render_band(frame, shape, smile, *, mu, sigma, v_c, band_width, band_shape="gaussian",
                 shape_param=0.0, across="flat", across_p=4.0):
    """Unit-amplitude band: returns ``(r0, c0, values)`` with ``values.sum() ≈ band_width``.

    Each pixel holds the pixel integral, in the rotated frame, of the band profile along the lane
    (a Gaussian of sd ``sigma``, or the ``band_shape`` built on it, peak at ``mu + smile(v)``)
    times the lane profile across it (flat top with erf edges, or a super-Gaussian).
    """
    half = _across_halfwidth(band_width, across, across_p)
    s_lo, s_hi = smile.range(v_c - half, v_c + half)
    pad_lo = pad_hi = _TRUNC_SIGMAS * sigma + 1.0
    if band_shape == "flat":
        pad_lo = pad_hi = pad_hi + 0.5 * shape_param * sigma
    elif band_shape == "skewed":  # the tail falls to e^-8 of its start 8 tau below
        pad_hi = pad_hi + 12.0 * shape_param * sigma
    r0, c0, u, v = _band_grid(frame, shape, mu + s_lo - pad_lo, mu + s_hi + pad_hi, v_c, half)
    if u is None:
        return r0, c0, np.zeros((0, 0))
    along = _along_shape(u - mu - smile(v), sigma, band_shape, shape_param)
    values = along * _across_profile(v - v_c, band_width, across, across_p)
    return r0, c0, values


def _render_tail(frame, shape, smile, *, mu, sigma, length, v_c, band_width, across="flat",
                 across_p=4.0):
    """Unit tail below a band: ``exp(-z / length)`` for ``z >= 0`` (``z`` = rows below the band's
    peak ``mu + smile(v)``), smoothed by a Gaussian of sd ``sigma`` and pixel-integrated along
    the lane, times the band's across-lane profile. Its start (before smoothing) is 1 per unit
    of the across profile; returns ``(r0, c0, values)``."""
    half = _across_halfwidth(band_width, across, across_p)
    s_lo, s_hi = smile.range(v_c - half, v_c + half)
    pad_lo = _TRUNC_SIGMAS * sigma + 1.0
    pad_hi = _TRUNC_SIGMAS * sigma + 15.0 * length + 1.0  # e^-15 of its start
    r0, c0, u, v = _band_grid(frame, shape, mu + s_lo - pad_lo, mu + s_hi + pad_hi, v_c, half)
    if u is None:
        return r0, c0, np.zeros((0, 0))
    z = u - mu - smile(v)
    # length * EMG density = exp(-s/L) H(s) convolved with N(0, sigma); pixel integral through
    # the CDF, on the tail nearer each pixel
    lower = _emg_cdf(z + 0.5, sigma, length) - _emg_cdf(z - 0.5, sigma, length)
    upper = _emg_cdf(z - 0.5, sigma, length, True) - _emg_cdf(z + 0.5, sigma, length, True)
    along = float(length) * np.where(z < 0.0, lower, upper)
    values = along * _across_profile(v - v_c, band_width, across, across_p)
    return r0, c0, values


def _lognormal_factors(rng, cv, size):
    """Mean-1 log-normal factors with coefficient of variation ``cv`` (``cv = 0``: ones)."""
    z = rng.normal(size=size)
    s2 = math.log1p(float(cv) ** 2)
    return np.exp(math.sqrt(s2) * z - 0.5 * s2)


def _streaks_field(shape, n, rng, amp_ref, lane_x_at, lane_widths):
    """``n`` thin vertical streaks and ``n`` short horizontal scratches (background).

    Streaks: 1-3 px wide, 30-100 % of the image height, amplitude 2-10 % of ``amp_ref``; every
    other one (the 1st, 3rd, ...) inside a random lane, the others at uniformly random columns.
    Scratches: 1-2 px tall, 20-200 px long (clipped to the image), same amplitudes, uniform
    positions. Returns ``(field, info)``.
    """
    rows, cols = shape
    field = np.zeros(shape)
    info = []
    n_lanes = len(lane_widths)
    for k in range(int(n)):
        w = int(rng.integers(1, 4))
        length = max(int(round(float(rng.uniform(0.3, 1.0)) * rows)), 1)
        r0 = int(rng.integers(0, rows - length + 1))
        amp = float(rng.uniform(0.02, 0.10)) * amp_ref
        lane = int(rng.integers(0, n_lanes)) if n_lanes else 0
        off = float(rng.uniform(-0.4, 0.4))
        x_any = float(rng.uniform(0.0, cols - w))
        if k % 2 == 0 and n_lanes:
            x = float(lane_x_at(r0 + 0.5 * length)[lane]) + off * float(lane_widths[lane])
            where = f"lane {lane + 1}"
        else:
            x, where = x_any, "anywhere"
        c0 = int(min(max(round(x - 0.5 * (w - 1)), 0), cols - w))
        field[r0:r0 + length, c0:c0 + w] += amp
        info.append({"kind": "streak", "row0": r0, "rows": length, "col0": c0, "cols": w,
                     "amplitude": amp, "placed": where})
    for _ in range(int(n)):
        h = int(rng.integers(1, 3))
        length = min(int(rng.integers(20, 201)), cols)
        r0 = int(rng.integers(0, rows - h + 1))
        c0 = int(rng.integers(0, cols - length + 1))
        amp = float(rng.uniform(0.02, 0.10)) * amp_ref
        field[r0:r0 + h, c0:c0 + length] += amp
        info.append({"kind": "scratch", "row0": r0, "rows": h, "col0": c0, "cols": length,
                     "amplitude": amp})
    return field, info


def _render_lane_haze(frame, shape, *, v_c, band_width, components):
    """Smear: sum of broad Gaussians along one lane (point-sampled; it is background)."""
    half = 0.5 * band_width + 6.0 * _EDGE_SIGMA + 1.0
    u_half = 0.5 * math.hypot(*shape) + 2.0
    r0, r1, c0, c1 = _bbox(frame, shape, -u_half, u_half, v_c - half, v_c + half)
    yy, xx = np.mgrid[r0:r1, c0:c1].astype(float)
    u, v = frame.to_membrane(yy, xx)
    across = ndtr((v - v_c + 0.5 * band_width) / _EDGE_SIGMA) - ndtr(
        (v - v_c - 0.5 * band_width) / _EDGE_SIGMA
    )
    along = np.zeros_like(u)
    for uc, su, amp in components:
        along += amp * np.exp(-0.5 * ((u - uc) / su) ** 2)
    return r0, c0, along * across


def _gradient_field(shape, rng):
    """Linear ramp in a random direction plus a gentle random quadratic, scaled to [0, 1]."""
    rows, cols = shape
    y = np.linspace(-1.0, 1.0, rows)[:, None]
    x = np.linspace(-1.0, 1.0, cols)[None, :]
    phi = float(rng.uniform(0.0, 2.0 * math.pi))
    q = float(rng.uniform(0.1, 0.3))
    a, b, c = (float(t) for t in rng.normal(size=3))
    lin = math.cos(phi) * x + math.sin(phi) * y
    quad = a * x * x + b * y * y + c * x * y
    quad = quad / max(float(np.abs(quad).max()), 1e-12)
    field = lin + q * quad
    span = float(field.max() - field.min())
    field = (field - field.min()) / (span if span > 0 else 1.0)
    return field, {"direction_rad": phi, "quadratic_weight": q, "quadratic_coefs": [a, b, c]}


# --------------------------------------------------------------------------------------------
# the simulator


def simulate_blot(
    *,
    shape=(900, 1400),
    n_lanes=10,
    lane_width=80.0,
    lane_pitch=None,
    margin=100.0,
    targets=_DEFAULT_TARGETS,
    volumes=None,
    band_sigma=6.0,
    lane_fill=0.85,
    rotation_deg=0.0,
    smile_px=0.0,
    width_jitter=0.0,
    widths=None,
    baseline=1000.0,
    gradient=0.0,
    smear=0.0,
    dust=0,
    gain=1.0,
    read_noise=0.0,
    neighbours=(),
    saturate=None,
    extra_bands=(),
    dtype="uint16",
    polarity="light-bands",
    ceiling=None,
    empty_lanes=(),
    band_shape="gaussian",
    skew=2.0,
    plateau=4.0,
    mixed_shapes=("skewed", "flat"),
    mixed_range=(0.5, 1.0),
    nonspecific=(),
    neighbour_cv=0.0,
    tails=None,
    streaks=0,
    across="flat",
    across_p=4.0,
    window_style="generous",
    clip_beside_saturated=False,
    seed=0,
):
    """Render a synthetic Western blot whose band volumes are known exactly.

    Parameters
    ----------
    shape : (int, int)
        Image ``(rows, cols)``.
    n_lanes : int
        Number of lanes, evenly spaced and centred on the image centre.
    lane_width : float
        Nominal lane width in pixels (across the lane, in the membrane frame).
    lane_pitch : float or None
        Centre-to-centre lane distance; ``None`` spreads the lanes over ``cols - 2 * margin``.
    margin : float
        Free columns left and right of the lanes when ``lane_pitch`` is ``None``.
    targets : mapping of str to float
        Target name -> mean band row (image coordinates; the mean over lanes of the band rows).
    volumes : array_like, shape (n_lanes, n_targets), or None
        True volumes (counts x pixels). ``None`` draws each uniformly in ``[0.3, 1] x`` a typical
        volume whose peak is 45 % of the ceiling.
    band_sigma : float
        Band sd along the lane, in pixels.
    lane_fill : float
        Band width as a fraction of its lane's width.
    rotation_deg : float
        Membrane rotation about the image centre (positive: lower lane ends move right).
    smile_px : float
        Centre lanes' bands sit this many pixels lower than the outermost lanes' (a parabola
        across the lanes with zero mean over the lane centres; negative for a frown).
    width_jitter : float
        Relative sd of the per-lane widths (clipped to ``[0.6, 1.4] x lane_width``).
    widths : array_like, shape (n_lanes,), or None
        Explicit lane widths (overrides ``lane_width`` and ``width_jitter``).
    baseline : float
        Constant background (stored counts of the light-band signal).
    gradient : float
        Total variation (counts) of a smooth 2-D background: a linear ramp in a random
        direction plus a gentle quadratic.
    smear : float
        Amplitude of a broad haze along each loaded lane (two Gaussians with sd 60-150 px), as a
        fraction of the typical band peak.
    dust : int
        Number of small bright specks (1-4 px) at random positions, kept below 85 % of the
        ceiling.
    gain : float
        Counts per detected photon: ``stored = gain * Poisson(signal / gain) + N(0, read_noise)``.
        0 disables shot noise.
    read_noise : float
        Sd of the Gaussian read noise in counts.
    neighbours : sequence of (float, float)
        ``(offset_in_sigmas, relative_volume)`` bands added next to every target band (negative
        offsets lie above, i.e. at smaller rows).
    saturate : iterable of (int, str), optional
        ``(lane, target)`` pairs whose volume is raised until the noise-free peak (band +
        background) is at least 1.4 x ceiling. Every other band must stay at or below 0.8 x
        ceiling: random volumes are scaled down to fit, explicit ones raise ``ValueError``
        (see ``clip_beside_saturated``).
    extra_bands : sequence of (int, float, float)
        ``(lane, row, volume)`` bands drawn in one lane only (e.g. ladder markers); listed in
        the truth with kind ``"marker"``.
    dtype : {"uint16", "uint8", "float32"}
        Stored sample type. Integer types are rounded; all are clipped to ``[0, ceiling]``.
    polarity : {"light-bands", "dark-bands"}
        ``dark-bands`` stores ``ceiling - signal`` (film-like).
    ceiling : float, optional
        Detector ceiling in stored counts (default: 255 for uint8, 65535 otherwise; e.g. 4095
        for 12-bit data in a 16-bit container).
    empty_lanes : iterable of int
        1-based lanes without target bands (e.g. the marker lane in a target image).
    band_shape : {"gaussian", "skewed", "flat", "mixed"}
        Profile of the target and neighbour bands along the lane. ``"gaussian"``: sd
        ``band_sigma``. ``"skewed"``: that Gaussian convolved with an exponential tail of mean
        ``skew * band_sigma`` towards larger rows (a tailing band; exponentially modified
        Gaussian). ``"flat"``: a box ``plateau * band_sigma`` rows long smoothed by the Gaussian
        (an overloaded, flat-topped band). ``"mixed"``: each target draws skewed or flat
        with equal odds, tail length uniform in ``[0.5, 1] x skew`` or plateau in
        ``[0.5, 1] x plateau``, shared by its lanes within ±10 % (one protein runs alike in
        every lane) and by its neighbours. Every shape is rendered as an
        exact pixel integral; ``row`` is the band's peak (a skewed band's mode, a flat band's
        middle). Marker bands stay Gaussian.
    skew : float
        Tail length (mean of the exponential) of skewed bands, in ``band_sigma`` units.
    plateau : float
        Plateau length of flat-topped bands, in ``band_sigma`` units.
    mixed_shapes : sequence of {"gaussian", "skewed", "flat"}
        The shapes ``"mixed"`` draws among, with equal odds (default: skewed or flat).
    mixed_range : (float, float)
        ``"mixed"`` draws the tail length in ``[lo, hi] x skew`` and the plateau in
        ``[lo, hi] x plateau`` (default ``(0.5, 1)``).
    nonspecific : sequence of (float, float, float)
        ``(offset_px, relative_volume, lane_cv)``: a non-specific band ``offset_px`` rows from
        every target band (negative: above), in every loaded lane, with the target's shape. Its
        volume is ``relative_volume`` x the target's typical volume in that lane (the target's
        mean volume per band-width pixel over the loaded lanes, times this lane's band width)
        x a per-lane mean-1 log-normal factor of coefficient of variation ``lane_cv``: it does not
        follow the target's own lane-to-lane volumes. Truth kind ``"nonspecific"``, target
        ``"<target>~x<k>"``.
    neighbour_cv : float
        Per (lane, target, neighbour) mean-1 log-normal factor of this coefficient of variation on
        the neighbours' relative volumes (0: every lane has the same share, as before).
    tails : (float, float) or None
        ``(fraction, length_sd)``: a trailing smear below every target and neighbour band (towards
        larger rows), ``exp(-z / (length_sd * band_sigma))`` from the band's peak row ``z = 0``
        downwards, starting at ``fraction`` x the band's own peak height (x a per-band factor
        uniform in ``[0.7, 1.3]``), smoothed by the band's Gaussian (sd ``band_sigma``) and drawn
        across the lane like the band. A tail is background: it never counts in ``volume``.
    streaks : int
        Number of thin vertical streaks (1-3 px wide, 30-100 % of the image height, amplitude
        2-10 % of the typical band peak, every other one inside a lane) and of short horizontal
        scratches (1-2 px tall, 20-200 px long, same amplitudes). Background.
    across : {"flat", "supergauss"}
        Band profile across the lane: ``"flat"``, a flat top with erf edges (sd 1 px), or
        ``"supergauss"``, ``exp(-ln2 |2 t / w|^across_p)`` with ``w`` the band width (its full
        width at half maximum). Both are scaled to area ``w``, so ``volume`` stays the sum of the
        rendered pixels; a super-Gaussian with a small exponent reaches beyond the lane (at
        ``across_p = 2``, ~16 % of the volume lies outside the lane at ``lane_fill = 0.85``).
    across_p : float
        Exponent of the super-Gaussian (2 = Gaussian; larger = flatter top, steeper edges).
    window_style : {"generous", "valley"}
        ``"generous"``: each target's window spans its rows in every lane ± (4 band-profile sd +
        |smile| + tilt across the band width). ``"valley"``: the same, but on a side where
        another band (a neighbour, a non-specific band, another target) lies inside that window
        in some lane, the window is cut at the valley between the two: in every lane the row of
        the minimum of the noise-free band signal (bands and tails; averaged over the middle half
        of the band width, along the lane's centre line) between the target's peak and the other
        band's peak, or the midpoint of the two peaks if the signal does not dip between them
        (touching bands). The cut is the lanes' valley row nearest the target (the smallest
        for a band below, the largest for one above, so no lane's window holds the other band's
        peak), moved out only if needed to keep every lane's target peak at least one row
        inside: with a strong smile or tilt one window cannot do both, and a close band's peak
        then stays inside in some lanes. ``params["window_cuts"]`` records each cut.
    clip_beside_saturated : bool
        Exempt the neighbours and non-specific bands in the lane of a band in ``saturate`` from
        the 0.8 x ceiling rule: on the shoulder of a band 1.4 x over the ceiling a close band
        clips too (its truth ``saturated`` says so) instead of forcing every random volume down
        or raising ``ValueError``. Targets keep the rule. Default ``False`` (the rule holds for
        every band).
    seed : int
        Seed of every random draw; the same seed gives the same image bit for bit. Each nuisance
        draws from its own child stream, so switching one off leaves the others unchanged (the
        nuisances above draw from children of ``SeedSequence([seed, 0xB10])``, so the images of
        calls without them are those of earlier versions).

    Returns
    -------
    SimulatedBlot
        ``truth`` columns: ``lane`` (1-based), ``target`` (neighbours are ``"<target>~n<k>"``),
        ``kind`` (``target`` | ``neighbour`` | ``nonspecific`` | ``marker``; non-specific bands
        are ``"<target>~x<k>"``), ``volume`` (sum of the band's rendered
        pixels: counts above background, before noise and clipping), ``row`` (band centre row at
        the lane centre, after rotation and smile), ``lane_x`` (lane centre column at that row),
        ``sigma`` (sd along the lane, px), ``peak`` (noise-free maximum of band + background,
        light-band counts), ``saturated`` (any pixel of the band's footprint clipped in the
        stored image), ``shape`` (``gaussian`` | ``skewed`` | ``flat``), ``shape_param`` (tail
        length or plateau length in ``sigma`` units; 0 for a Gaussian).

    Notes
    -----
    Bands are evaluated at each pixel centre in the rotated frame as the product of the pixel
    integral of the band profile along the lane (a Gaussian unless ``band_shape`` says
    otherwise) and the pixel integral of a flat-topped profile with
    erf edges (sd 1 px) across it; no image is interpolated, so a rotated band keeps its
    volume. Unrotated, the rendering is the exact pixel integral. A band's footprint is the set
    of pixels holding at least half of its own maximum. Background = baseline + gradient + smear
    + streaks + tails; dust is added after the peak checks, noise after that.
    ``params["band_heights"]`` lists every band's noise-free peak height above its background
    (``[lane, target, height]``, truth order).

    Examples
    --------
    >>> sim = simulate_blot(shape=(200, 300), n_lanes=3, lane_width=50, targets={"A": 100}, margin=40,
    ...                     gain=0, dtype="float32", seed=1)
    >>> t = sim.truth
    >>> list(t["lane"]), bool(t["saturated"].any())
    ([1, 2, 3], False)
    >>> total = float(sim.image.astype(float).sum() - 1000.0 * sim.image.size)
    >>> bool(abs(total - t["volume"].sum()) < 1e-4 * t["volume"].sum())
    True
    """
    rows, cols = (int(s) for s in shape)
    if rows < 16 or cols < 16:
        raise ValueError(f"`shape` must be at least (16, 16); got {shape}")
    if dtype not in _DTYPE_CEILING:
        raise ValueError(f"`dtype` must be one of {sorted(_DTYPE_CEILING)}; got {dtype!r}")
    if polarity not in ("light-bands", "dark-bands"):
        raise ValueError(f"`polarity` must be 'light-bands' or 'dark-bands'; got {polarity!r}")
    ceiling = _DTYPE_CEILING[dtype] if ceiling is None else float(ceiling)
    if not 0 < ceiling <= _DTYPE_CEILING[dtype]:
        raise ValueError(
            f"`ceiling` must be in (0, {_DTYPE_CEILING[dtype]:g}] for dtype {dtype}; got {ceiling}"
        )
    n_lanes = int(n_lanes)
    if n_lanes < 1:
        raise ValueError(f"`n_lanes` must be >= 1; got {n_lanes}")
    target_names = [str(t) for t in targets]
    target_rows = [float(targets[t]) for t in targets]
    n_targets = len(target_names)
    if baseline < 0 or gradient < 0 or smear < 0 or gain < 0 or read_noise < 0:
        raise ValueError("`baseline`, `gradient`, `smear`, `gain` and `read_noise` must be >= 0")
    if baseline + gradient > 0.5 * ceiling:
        raise ValueError(
            f"`baseline` + `gradient` = {baseline + gradient:g} exceeds half the ceiling "
            f"({ceiling:g}); lower them (they are in stored counts: ~1000 suits 16-bit, ~4 8-bit)"
        )
    empty = sorted({int(e) for e in empty_lanes})
    if any(not 1 <= e <= n_lanes for e in empty):
        raise ValueError(f"`empty_lanes` must be 1-based lanes in 1..{n_lanes}; got {empty}")
    if band_shape not in BAND_SHAPES:
        raise ValueError(f"`band_shape` must be one of {', '.join(BAND_SHAPES)}; got {band_shape!r}")
    if not (skew > 0 and plateau > 0):
        raise ValueError(f"`skew` and `plateau` must be > 0; got {skew!r}, {plateau!r}")
    mixed_shapes = tuple(str(m) for m in mixed_shapes)
    if not mixed_shapes or any(m not in BAND_SHAPES[:3] for m in mixed_shapes):
        raise ValueError(f"`mixed_shapes` must name shapes among {BAND_SHAPES[:3]}; got {mixed_shapes}")
    mix_lo, mix_hi = (float(m) for m in mixed_range)
    if not 0 < mix_lo <= mix_hi:
        raise ValueError(f"`mixed_range` must be (lo, hi) with 0 < lo <= hi; got {mixed_range}")
    nonspecific = [(float(o), float(r), float(c)) for o, r, c in nonspecific]
    if any(r < 0 or c < 0 for _, r, c in nonspecific):
        raise ValueError(f"`nonspecific` volumes and lane_cv must be >= 0; got {nonspecific}")
    if neighbour_cv < 0:
        raise ValueError(f"`neighbour_cv` must be >= 0; got {neighbour_cv!r}")
    if tails is not None:
        tail_fraction, tail_length = (float(t) for t in tails)
        if tail_fraction < 0 or tail_length <= 0:
            raise ValueError(f"`tails` must be (fraction >= 0, length_sd > 0); got {tails}")
    if int(streaks) < 0:
        raise ValueError(f"`streaks` must be >= 0; got {streaks!r}")
    if across not in ("flat", "supergauss"):
        raise ValueError(f"`across` must be 'flat' or 'supergauss'; got {across!r}")
    if not float(across_p) > 0:
        raise ValueError(f"`across_p` must be > 0; got {across_p!r}")
    if window_style not in ("generous", "valley"):
        raise ValueError(f"`window_style` must be 'generous' or 'valley'; got {window_style!r}")
    sat_pairs = sorted({(int(lane), str(t)) for lane, t in (saturate or ())})
    for lane, t in sat_pairs:
        if t not in target_names or not 1 <= lane <= n_lanes or lane in empty:
            raise ValueError(
                f"`saturate` pair ({lane}, {t!r}) names no drawn band; lanes 1..{n_lanes} "
                f"(not empty {empty}), targets {target_names}"
            )

    seq = np.random.SeedSequence(int(seed))
    rng_w, rng_vol, rng_grad, rng_smear, rng_dust, rng_noise = (
        np.random.default_rng(s) for s in seq.spawn(6)
    )
    # streams of the later nuisances: a second SeedSequence, so the six above stay as they were
    rng_nbf, rng_ns, rng_tail, rng_streak = (
        np.random.default_rng(s) for s in np.random.SeedSequence([int(seed), 0xB10]).spawn(4)
    )

    # ---- lane geometry in the membrane frame
    theta = math.radians(float(rotation_deg))
    frame = _Frame(cy=(rows - 1) / 2.0, cx=(cols - 1) / 2.0, cos=math.cos(theta), sin=math.sin(theta))
    pitch = float(lane_pitch) if lane_pitch is not None else (cols - 2.0 * margin) / n_lanes
    if widths is not None:
        lane_widths = np.asarray(widths, dtype=float).reshape(-1)
        if lane_widths.shape != (n_lanes,):
            raise ValueError(f"`widths` must have shape ({n_lanes},); got {lane_widths.shape}")
    else:
        jit = rng_w.normal(0.0, 1.0, n_lanes) * float(width_jitter)
        lane_widths = float(lane_width) * np.clip(1.0 + jit, 0.6, 1.4)
    if pitch <= 0 or np.any(lane_widths > pitch + 1e-9) or np.any(lane_widths <= 0):
        raise ValueError(
            f"lanes do not fit: pitch {pitch:.1f} px, widths up to {lane_widths.max():.1f} px; "
            "lower `lane_width`/`n_lanes` or `margin`, or give `lane_pitch`"
        )
    v_centers = (np.arange(n_lanes) - (n_lanes - 1) / 2.0) * pitch
    v_edge = max(float(np.abs(v_centers).max()), 1.0)
    smile_raw = float(smile_px) * (1.0 - (v_centers / v_edge) ** 2)
    smile = _Smile(amp=float(smile_px), v_edge=v_edge, offset=float(smile_raw.mean()))
    band_widths = float(lane_fill) * lane_widths
    lanes = Lanes(
        centers=frame.cx + v_centers / frame.cos,
        widths=lane_widths / frame.cos,
        slope=math.tan(theta),
        y_ref=frame.cy,
    )

    # ---- volumes
    typical_peak = _TYPICAL_PEAK * ceiling
    typical = typical_peak * float(band_sigma) * math.sqrt(2.0 * math.pi) * band_widths  # per lane
    random_volumes = volumes is None
    if random_volumes:
        vol = rng_vol.uniform(0.3, 1.0, (n_lanes, n_targets)) * typical[:, None]
    else:
        vol = np.asarray(volumes, dtype=float)
        if vol.shape != (n_lanes, n_targets):
            raise ValueError(
                f"`volumes` must have shape (n_lanes, n_targets) = ({n_lanes}, {n_targets}); "
                f"got {vol.shape}"
            )
        if np.any(vol < 0) or not np.all(np.isfinite(vol)):
            raise ValueError("`volumes` must be finite and >= 0")

    # ---- background (noise-free): baseline + gradient + smear
    field, grad_info = _gradient_field((rows, cols), rng_grad)
    background = np.full((rows, cols), float(baseline)) + float(gradient) * field
    loaded = [i for i in range(n_lanes) if (i + 1) not in empty]
    u_lo, u_hi = -0.4 * rows, 0.4 * rows
    smear_info = []
    for i in loaded:
        comps = [
            (float(rng_smear.uniform(u_lo, u_hi)), float(rng_smear.uniform(60.0, 150.0)),
             float(smear) * typical_peak * float(rng_smear.uniform(0.3, 1.0)))
            for _ in range(2)
        ]
        smear_info.append({"lane": i + 1, "components_u_sd_amp": comps})
        if smear > 0:
            r0, c0, haze = _render_lane_haze(
                frame, (rows, cols), v_c=v_centers[i], band_width=band_widths[i], components=comps
            )
            background[r0:r0 + haze.shape[0], c0:c0 + haze.shape[1]] += haze

    # ---- streaks and scratches (background; own stream)
    streak_info = []
    if int(streaks) > 0:
        sfield, streak_info = _streaks_field((rows, cols), int(streaks), rng_streak, typical_peak,
                                             lanes.x_at, lanes.widths)
        background += sfield

    # ---- band shapes (own child stream: the other draws do not change with the shape)
    shapes = {}
    if band_shape == "mixed":
        rng_shape = np.random.default_rng(seq.spawn(1)[0])
        for name in target_names:  # one protein, one gel: the shape is the target's
            kind = mixed_shapes[min(int(rng_shape.random() * len(mixed_shapes)),
                                    len(mixed_shapes) - 1)]
            top = float(skew) if kind == "skewed" else float(plateau)
            prm = float(rng_shape.uniform(mix_lo * top, mix_hi * top))
            for i in loaded:  # lane to lane the tail or plateau varies by +-10 %
                lane_prm = prm * float(rng_shape.uniform(0.9, 1.1))
                shapes[(i, name)] = (kind, lane_prm) if kind != "gaussian" else ("gaussian", 0.0)
    elif band_shape != "gaussian":
        for i in loaded:
            for name in target_names:
                shapes[(i, name)] = (band_shape,
                                     float(skew) if band_shape == "skewed" else float(plateau))

    # ---- per-lane factors of neighbours and non-specific bands, tail jitter (own streams)
    n_nb, n_ns = len(neighbours), len(nonspecific)
    nb_factor = (_lognormal_factors(rng_nbf, neighbour_cv, (n_lanes, n_targets, n_nb))
                 if neighbour_cv > 0 and n_nb else np.ones((n_lanes, n_targets, n_nb)))
    ns_factor = np.ones((n_lanes, n_targets, n_ns))
    if n_ns:
        z_ns = rng_ns.normal(size=(n_lanes, n_targets, n_ns))
        for k, (_, _, cv) in enumerate(nonspecific):
            s2 = math.log1p(cv * cv)
            ns_factor[:, :, k] = np.exp(math.sqrt(s2) * z_ns[:, :, k] - 0.5 * s2)
    tail_jitter = (rng_tail.uniform(0.7, 1.3, (n_lanes, n_targets, 1 + n_nb))
                   if tails is not None else None)
    # the target's typical volume per band-width pixel (mean over the loaded lanes)
    per_width = (vol[loaded] / band_widths[loaded, None]).mean(axis=0) if loaded else np.zeros(n_targets)

    # ---- bands (unit renders; amplitude = volume / band width)
    bands = []
    sat_lanes = {lane for lane, _ in sat_pairs}
    for i in loaded:
        for j, (name, row_t) in enumerate(zip(target_names, target_rows)):
            mu = (row_t - frame.cy) / frame.cos
            shp, prm = shapes.get((i, name), ("gaussian", 0.0))
            # neighbours sit `off` sd of the band's whole profile away (band_sigma for a Gaussian)
            sd_band = _shape_sd(float(band_sigma), shp, prm)
            bands.append(dict(lane=i + 1, target=name, kind="target", mu=mu, rel=1.0, j=j,
                              sat=(i + 1, name) in sat_pairs, shape=shp, param=prm,
                              tail=0))
            for k, (off, rel) in enumerate(neighbours, start=1):
                rel_k = float(rel) if neighbour_cv <= 0 else float(rel) * float(nb_factor[i, j, k - 1])
                bands.append(dict(lane=i + 1, target=f"{name}~n{k}", kind="neighbour",
                                  mu=mu + float(off) * sd_band, rel=rel_k, j=j,
                                  sat=False, shape=shp, param=prm, tail=k,
                                  exempt=clip_beside_saturated and (i + 1) in sat_lanes))
            for k, (off, rel, _) in enumerate(nonspecific, start=1):
                bands.append(dict(lane=i + 1, target=f"{name}~x{k}", kind="nonspecific",
                                  mu=mu + off / frame.cos, rel=rel, j=j, sat=False, shape=shp,
                                  param=prm, ns_amp=rel * float(per_width[j] * ns_factor[i, j, k - 1]),
                                  exempt=clip_beside_saturated and (i + 1) in sat_lanes))
    for lane, row_m, v_m in extra_bands:
        lane = int(lane)
        if not 1 <= lane <= n_lanes:
            raise ValueError(f"`extra_bands` lane must be in 1..{n_lanes}; got {lane}")
        bands.append(dict(lane=lane, target=f"marker@{float(row_m):g}", kind="marker",
                          mu=(float(row_m) - frame.cy) / frame.cos, rel=1.0, j=None,
                          sat=False, fixed_volume=float(v_m), shape="gaussian", param=0.0))
    for b in bands:
        i = b["lane"] - 1
        b["r0"], b["c0"], b["unit"] = _render_band(
            frame, (rows, cols), smile, mu=b["mu"], sigma=float(band_sigma),
            v_c=v_centers[i], band_width=band_widths[i], band_shape=b["shape"],
            shape_param=b["param"], across=across, across_p=across_p,
        )
        b["slices"] = (slice(b["r0"], b["r0"] + b["unit"].shape[0]),
                       slice(b["c0"], b["c0"] + b["unit"].shape[1]))
        umax = float(b["unit"].max()) if b["unit"].size else 0.0
        b["umax"] = umax
        if b["kind"] == "marker":
            b["amp"] = b["fixed_volume"] / band_widths[i]
        elif b["kind"] == "nonspecific":
            b["amp"] = b["ns_amp"]
        else:
            b["amp"] = vol[i, b["j"]] * b["rel"] / band_widths[i]
        if b["sat"] and umax > 0:
            bg = background[b["slices"]]
            k = np.unravel_index(np.argmax(b["unit"]), b["unit"].shape)
            b["amp"] = max(b["amp"], (_SAT_PEAK * ceiling * (1 + 1e-9) - bg[k]) / umax)
        b["scalable"] = random_volumes and b["kind"] != "marker" and not b["sat"]
        b["mask"] = b["unit"] >= _FOOTPRINT * umax if umax > 0 else np.zeros_like(b["unit"], bool)
        b["tail_unit"] = None
        if tails is not None and b.get("tail") is not None and umax > 0:
            length = tail_length * float(band_sigma)
            tr0, tc0, tunit = _render_tail(
                frame, (rows, cols), smile, mu=b["mu"], sigma=float(band_sigma), length=length,
                v_c=v_centers[i], band_width=band_widths[i], across=across, across_p=across_p)
            if tunit.size:
                along_peak = float(_along_shape(np.array(0.0), float(band_sigma), b["shape"],
                                                b["param"]))
                b["tail_jitter"] = float(tail_jitter[i, b["j"], b["tail"]])
                b["tail_rel"] = tail_fraction * b["tail_jitter"] * along_peak  # x amp: start
                b["tail_unit"] = tunit
                b["tail_slices"] = (slice(tr0, tr0 + tunit.shape[0]),
                                    slice(tc0, tc0 + tunit.shape[1]))

    # ---- keep unsaturated bands at or below 0.8 x ceiling
    scal = np.zeros((rows, cols))
    fixed = background.copy()
    footprint = np.zeros((rows, cols), bool)
    for b in bands:
        (fixed if not b["scalable"] else scal)[b["slices"]] += b["amp"] * b["unit"]
        if b["tail_unit"] is not None:  # a tail scales with its band but is background
            (fixed if not b["scalable"] else scal)[b["tail_slices"]] += (
                b["amp"] * b["tail_rel"] * b["tail_unit"])
        if not b["sat"] and not b.get("exempt", False):
            footprint[b["slices"]] |= b["mask"]
    limit = _MAX_PEAK * ceiling
    over = footprint & (fixed + scal > limit)
    volume_scale = 1.0
    if over.any():
        room = (limit * (1 - 1e-9) - fixed[over]) / np.maximum(scal[over], 1e-300)
        volume_scale = float(room.min()) if random_volumes else float("nan")
        if not random_volumes or volume_scale <= 0:
            raise ValueError(
                f"noise-free signal reaches {float((fixed + scal)[over].max()):.0f} counts inside "
                f"unsaturated bands, above 0.8 x ceiling ({limit:.0f}); lower `volumes`, "
                "`baseline`, `gradient` or `smear`, or move `neighbours` apart"
            )
        for b in bands:
            if b["scalable"]:
                b["amp"] *= volume_scale
        scal *= volume_scale
    clean = fixed + scal  # noise-free light-band signal without dust
    tail_info = []
    if tails is not None:  # tails are background: in the truth's `peak`, never in `volume`
        bg_tails = background.copy()
        for b in bands:
            if b["tail_unit"] is not None:
                start = b["amp"] * b["tail_rel"]
                bg_tails[b["tail_slices"]] += start * b["tail_unit"]
                tail_info.append({"lane": b["lane"], "target": b["target"], "jitter": b["tail_jitter"],
                                  "start_counts": float(start),
                                  "volume": float(start * b["tail_unit"].sum())})
    else:
        bg_tails = background

    # ---- dust: small bright specks, kept below 85 % of the ceiling
    dust_info = []
    dust_img = np.zeros((rows, cols))
    for _ in range(int(dust)):
        y0, x0 = float(rng_dust.uniform(0, rows - 1)), float(rng_dust.uniform(0, cols - 1))
        sd = float(rng_dust.uniform(0.35, 1.2))  # FWHM ~0.8-2.8 px: specks 1-4 px across
        amp = float(rng_dust.uniform(0.05, 0.35)) * ceiling
        r0, r1 = max(int(y0) - 4, 0), min(int(y0) + 6, rows)
        c0, c1 = max(int(x0) - 4, 0), min(int(x0) + 6, cols)
        yy, xx = np.mgrid[r0:r1, c0:c1].astype(float)
        spot = np.exp(-0.5 * ((yy - y0) ** 2 + (xx - x0) ** 2) / sd**2)
        under = clean[r0:r1, c0:c1] + dust_img[r0:r1, c0:c1]
        amp = float(max(min(amp, float(np.min((_DUST_MAX * ceiling - under) / np.maximum(spot, 1e-12)))), 0.0))
        dust_img[r0:r1, c0:c1] += amp * spot
        dust_info.append({"row": y0, "col": x0, "sd_px": sd, "amplitude": amp})
    signal = clean + dust_img

    # ---- detector: shot noise, read noise, polarity, rounding, clipping, cast
    if gain > 0:
        noisy = float(gain) * rng_noise.poisson(np.maximum(signal, 0.0) / float(gain)).astype(float)
    else:
        noisy = signal.copy()
    if read_noise > 0:
        noisy += rng_noise.normal(0.0, float(read_noise), (rows, cols))
    stored = ceiling - noisy if polarity == "dark-bands" else noisy
    if dtype != "float32":
        stored = np.rint(stored)
    stored = np.clip(stored, 0.0, ceiling)
    clipped = stored <= 0.0 if polarity == "dark-bands" else stored >= ceiling
    image = stored.astype(dtype)

    # ---- truth
    records = []
    for b in bands:
        i = b["lane"] - 1
        v_i = v_centers[i]
        mu_i = b["mu"] + float(smile(v_i))
        row, lane_x = frame.to_image(mu_i, v_i)
        rendered = b["amp"] * b["unit"]
        peak = float((rendered + bg_tails[b["slices"]]).max()) if rendered.size else float("nan")
        records.append(dict(
            lane=b["lane"], target=b["target"], kind=b["kind"], volume=float(rendered.sum()),
            row=float(row), lane_x=float(lane_x), sigma=float(band_sigma), peak=peak,
            saturated=bool(np.any(clipped[b["slices"]] & b["mask"])),
            shape=b["shape"], shape_param=float(b["param"]),
        ))
    truth = pd.DataFrame.from_records(records, columns=TRUTH_COLUMNS)
    truth = truth.astype({"lane": "int64", "saturated": "bool"})

    # ---- windows a careful user would type
    windows = {}
    for name in target_names:
        sel = truth[(truth["target"] == name) & (truth["kind"] == "target")]
        if sel.empty:
            continue
        tilt = 0.5 * float(band_widths.max()) * abs(frame.sin)
        sd_max = max([_shape_sd(float(band_sigma), *shapes[(i, name)]) for i in loaded
                      if (i, name) in shapes] or [float(band_sigma)])
        pad = 4.0 * sd_max + abs(float(smile_px)) + tilt
        top = int(math.floor(max(float(sel["row"].min()) - pad, 0.0)))
        bottom = int(math.ceil(min(float(sel["row"].max()) + pad, rows - 1.0)))
        windows[name] = (top, bottom)
    window_cuts = {}
    if window_style == "valley":
        windows, window_cuts = _valley_windows(windows, truth, clean - background, lanes,
                                               band_widths)

    params = jsonable(dict(
        shape=[rows, cols], n_lanes=n_lanes, lane_width=lane_width, lane_pitch=pitch,
        margin=margin, targets=dict(zip(target_names, target_rows)), volumes=vol,
        volumes_random=random_volumes, volume_scale=volume_scale, band_sigma=band_sigma,
        lane_fill=lane_fill, rotation_deg=rotation_deg, smile_px=smile_px,
        width_jitter=width_jitter, widths=lane_widths, band_widths=band_widths,
        lane_v=v_centers, smile_shift_per_lane=smile(v_centers), baseline=baseline,
        gradient=gradient, gradient_field=grad_info, smear=smear, smear_lanes=smear_info,
        dust=int(dust), dust_specks=dust_info, gain=gain, read_noise=read_noise,
        neighbours=[list(n) for n in neighbours], saturate=[list(p) for p in sat_pairs],
        extra_bands=[list(e) for e in extra_bands], dtype=dtype, polarity=polarity,
        band_shape=band_shape, skew=skew, plateau=plateau,
        mixed_shapes=list(mixed_shapes), mixed_range=[mix_lo, mix_hi],
        band_shapes_drawn=[[i + 1, t, shp, prm] for (i, t), (shp, prm) in sorted(shapes.items())],
        nonspecific=[list(n) for n in nonspecific],
        nonspecific_factors=ns_factor, neighbour_cv=neighbour_cv, neighbour_factors=nb_factor,
        tails=None if tails is None else [tail_fraction, tail_length], tail_bands=tail_info,
        streaks=int(streaks), streak_marks=streak_info, across=across, across_p=across_p,
        window_style=window_style, window_cuts=window_cuts,
        clip_beside_saturated=bool(clip_beside_saturated),
        band_heights=[[b["lane"], b["target"], float(b["amp"] * b["umax"])] for b in bands],
        ceiling=ceiling, empty_lanes=empty, seed=int(seed), edge_sigma_px=_EDGE_SIGMA,
        footprint_fraction=_FOOTPRINT, typical_peak=typical_peak,
        rotation_convention="y-cy = u cos(t) - v sin(t); x-cx = u sin(t) + v cos(t); "
                            "slope = tan(t) = dx/dy; positive t moves lower lane ends right",
    ))
    return SimulatedBlot(image=image, truth=truth, lanes=lanes, windows=windows,
                         polarity=polarity, ceiling=ceiling, params=params)


def _lane_profiles(signal, lanes, band_widths):
    """Per lane, the mean of ``signal`` over the middle half of the band width along the lane's
    centre line, for every row: shape ``(n_lanes, rows)``."""
    rows, cols = signal.shape
    y = np.arange(rows)
    out = np.empty((len(lanes.centers), rows))
    for i in range(len(lanes.centers)):
        xc = lanes.centers[i] + lanes.slope * (y - lanes.y_ref)
        h = max(int(0.25 * float(band_widths[i])), 1)
        cc = np.clip(np.rint(xc)[:, None].astype(int) + np.arange(-h, h + 1)[None, :], 0, cols - 1)
        out[i] = signal[y[:, None], cc].mean(axis=1)
    return out


def _valley_windows(windows, truth, band_signal, lanes, band_widths):
    """Cut each target's window at the valley towards every other band inside it (see
    ``window_style`` in :func:`simulate_blot`); returns ``(windows, cuts)``."""
    profiles = _lane_profiles(band_signal, lanes, band_widths)
    scale = float(np.abs(band_signal).max()) or 1.0
    out, cuts = {}, {}
    for name, (top, bottom) in windows.items():
        tg = truth[(truth["target"] == name) & (truth["kind"] == "target")].set_index("lane")["row"]
        others = truth[(truth["target"] != name) & (truth["kind"] != "marker")]
        new_top, new_bottom = top, bottom
        cuts[name] = []
        for other, band in others.groupby("target", sort=True):
            orow = band.set_index("lane")["row"].reindex(tg.index).dropna()
            if orow.empty or not ((orow >= top) & (orow <= bottom)).any():
                continue
            below = float((orow - tg.reindex(orow.index)).mean()) > 0
            valleys, dips = [], []
            for lane, o in orow.items():
                t = float(tg[lane])
                a, b = int(round(t)), int(round(o))
                lo, hi = min(a, b), max(a, b)
                prof = profiles[lane - 1, lo:hi + 1]
                m = int(np.argmin(prof))
                dip = bool(prof.size > 2 and 0 < m < prof.size - 1
                           and prof[m] < min(prof[0], prof[-1]) - 1e-9 * scale)
                valleys.append(float(lo + m) if dip else 0.5 * (t + float(o)))
                dips.append(dip)
            rows_t = tg.reindex(orow.index)
            if below:
                cut = max(int(math.floor(min(valleys))), int(math.ceil(float(rows_t.max()))) + 1)
                new_bottom = min(new_bottom, cut)
            else:
                cut = min(int(math.ceil(max(valleys))), int(math.floor(float(rows_t.min()))) - 1)
                new_top = max(new_top, cut)
            cuts[name].append({"band": other, "side": "below" if below else "above",
                               "valley_rows": valleys, "dipped": dips, "cut": cut})
        out[name] = (int(new_top), int(new_bottom))
    return out, cuts


# --------------------------------------------------------------------------------------------
# scenarios


def _scenario_params(name, rng, k):
    """Draw the nuisance parameters of a scenario; ``k`` = ceiling / 65535 scales counts."""
    u = rng.uniform
    if name == "clean":
        return dict(rotation_deg=0.0, smile_px=0.0, width_jitter=0.0, baseline=k * u(800, 1200),
                    gradient=0.0, smear=0.0, dust=0, gain=k * u(0.2, 0.5),
                    read_noise=k * u(2.0, 5.0), band_sigma=6.0, neighbours=())
    if name == "shapes":  # realistic nuisances, skewed and flat-topped bands
        return dict(_scenario_params("realistic", rng, k), band_shape="mixed", skew=2.0,
                    plateau=4.0)
    if name in ("realistic", "saturated"):
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return dict(rotation_deg=u(-0.8, 0.8), smile_px=u(0.0, 6.0), width_jitter=0.05,
                    baseline=k * u(800, 2500), gradient=k * u(500, 2500), smear=u(0.03, 0.10),
                    dust=int(rng.integers(2, 7)), gain=k * u(0.5, 2.0),
                    read_noise=k * u(5.0, 20.0), band_sigma=u(5.0, 7.0), lane_fill=u(0.8, 0.9),
                    neighbours=((sign * u(3.0, 5.0), u(0.3, 1.0)),))
    if name == "hard":
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return dict(rotation_deg=u(-2.0, 2.0), smile_px=u(5.0, 20.0), width_jitter=0.10,
                    baseline=k * u(1000, 5000), gradient=k * u(3000, 8000), smear=u(0.10, 0.25),
                    dust=int(rng.integers(8, 21)), gain=k * u(2.0, 5.0),
                    read_noise=k * u(20.0, 50.0), band_sigma=u(5.0, 8.0), lane_fill=u(0.7, 0.9),
                    neighbours=((sign * u(1.8, 3.0), u(0.3, 1.0)),))
    if name.startswith("rich-"):
        return _rich_params(name, rng, k)
    raise ValueError(f"unknown scenario {name!r}; allowed: {', '.join(SCENARIOS)}")


def _rich_params(name, rng, k):
    """Draw the nuisances of a ``rich-*`` scenario (see :func:`scenario`)."""
    u = rng.uniform

    def sign():
        return 1.0 if rng.random() < 0.5 else -1.0

    if name == "rich-clean":
        return dict(_scenario_params("clean", rng, k), window_style="valley")
    if name == "rich-saturated":
        return dict(_rich_params("rich-realistic", rng, k), clip_beside_saturated=True)
    hard = name == "rich-hard"
    if hard:
        kw = dict(rotation_deg=u(-2.0, 2.0), smile_px=u(5.0, 20.0), width_jitter=0.10,
                  baseline=k * u(1000, 5000), gradient=k * u(3000, 8000), smear=u(0.10, 0.25),
                  dust=int(rng.integers(8, 21)), gain=k * u(2.0, 5.0),
                  read_noise=k * u(20.0, 50.0), band_sigma=u(5.0, 8.0), lane_fill=u(0.7, 0.9))
    else:
        kw = dict(rotation_deg=u(-0.8, 0.8), smile_px=u(0.0, 6.0), width_jitter=0.05,
                  baseline=k * u(800, 2500), gradient=k * u(500, 2500), smear=u(0.03, 0.10),
                  dust=int(rng.integers(2, 7)), gain=k * u(0.5, 2.0),
                  read_noise=k * u(5.0, 20.0), band_sigma=u(5.0, 7.0), lane_fill=u(0.8, 0.9))
    # per target gaussian, tailing (0.5-2 sd) or flat-topped (plateau 1-4 sd), equal odds
    kw.update(band_shape="mixed", mixed_shapes=("gaussian", "skewed", "flat"),
              mixed_range=(0.25, 1.0), skew=2.0, plateau=4.0)
    side = sign()
    if hard:
        neigh = [(side * u(1.8, 3.0), u(0.15, 1.0))]
        if rng.random() < 0.5:
            neigh.append((-side * u(3.0, 5.0), u(0.15, 1.0)))
        kw["neighbour_cv"] = u(0.3, 0.6)
    else:
        neigh = [(side * u(1.8, 5.0), u(0.15, 1.0))]
        kw["neighbour_cv"] = u(0.2, 0.5)
    kw["neighbours"] = tuple(neigh)
    sd = kw["band_sigma"]
    n_ns = int(rng.integers(1, 3)) if hard else int(rng.random() < 0.5)
    kw["nonspecific"] = tuple((sign() * u(6.0, 15.0) * sd, u(0.1, 0.6), u(0.3, 0.6))
                              for _ in range(n_ns))
    if rng.random() < (0.7 if hard else 0.5):
        kw["tails"] = (u(0.05, 0.2), u(3.0, 10.0)) if hard else (u(0.03, 0.12), u(3.0, 8.0))
    else:
        kw["tails"] = None
    kw["streaks"] = int(rng.integers(2, 7)) if hard else int(rng.integers(0, 4))
    if rng.random() < 0.5:
        kw.update(across="supergauss", across_p=u(2.0, 6.0))
    else:
        kw["across"] = "flat"
    kw["window_style"] = "valley"
    return kw


def _rich_dilution_volumes(kw, ratio, overrides):
    """Volumes of a 2-fold loading dilution for every target alike, the weakest lane's target
    peak at ``ratio`` x the noise floor; lowers gain and read noise (unless overridden) when the
    brightest lane would not fit below 0.8 x ceiling. Returns ``(volumes, kw, info)``."""
    n_lanes = int(kw.get("n_lanes", 10))
    names = [str(t) for t in kw.get("targets", _DEFAULT_TARGETS)]
    dtype = kw.get("dtype", "uint16")
    ceiling = kw.get("ceiling")
    ceiling = _DTYPE_CEILING[dtype] if ceiling is None else float(ceiling)
    steps = 0.5 ** np.arange(n_lanes)
    # pass 1: the same blot (same seed: same shapes, widths, neighbour factors, tails) without
    # background or noise, volumes 2^-i, to learn each band's peak per unit volume
    probe = {**kw, "baseline": 0.0, "gradient": 0.0, "smear": 0.0, "dust": 0, "streaks": 0,
             "gain": 0.0, "read_noise": 0.0, "dtype": "float32", "polarity": "light-bands",
             "ceiling": ceiling, "saturate": None, "window_style": "generous",
             "volumes": np.outer(steps, np.ones(len(names))) * 1e3}
    sim1 = simulate_blot(**probe)
    heights = {(int(lane), str(t)): float(h) for lane, t, h in sim1.params["band_heights"]}
    empty = {int(e) for e in kw.get("empty_lanes", ())}
    weakest = max(lane for lane in range(1, n_lanes + 1) if lane not in empty)
    unit = np.array([heights[(weakest, t)] for t in names])  # weakest peak per 1e3 x 2^-i
    img_max = float(np.max(sim1.image.astype(np.float64)))
    gain, rn = float(kw["gain"]), float(kw["read_noise"])
    bg_level = float(kw["baseline"]) + 0.5 * float(kw["gradient"])
    floor = math.sqrt(gain * bg_level + rn * rn)
    typical_peak = _TYPICAL_PEAK * ceiling
    bg_bound = (float(kw["baseline"]) + float(kw["gradient"]) + 2.0 * float(kw["smear"]) * typical_peak
                + 0.2 * typical_peak * (int(kw.get("streaks", 0)) > 0))
    room = 0.95 * _MAX_PEAK * ceiling - bg_bound
    # final volumes = c_j x probe volumes, c_j = ratio * floor / unit_j; every pixel of the probe
    # image scales by at most max(c_j): keep max(c_j) * img_max <= room
    floor_max = room / (ratio * img_max * float(np.max(1.0 / unit)))
    info = dict(definition="sd of one background pixel at the mean background: "
                           "sqrt(gain * (baseline + gradient / 2) + read_noise**2), counts",
                drawn_floor=floor, ratio_asked=float(ratio), noise_scale=1.0)
    if floor > floor_max:
        s = floor_max / floor
        free = [key for key in ("gain", "read_noise") if key not in overrides]
        if free:
            if "gain" in free:
                kw["gain"] = gain * s * s
            if "read_noise" in free:
                kw["read_noise"] = rn * s
            gain, rn = float(kw["gain"]), float(kw["read_noise"])
            floor = math.sqrt(gain * bg_level + rn * rn)
            info["noise_scale"] = s
        if floor > floor_max:  # noise fixed by the caller: a lower weakest peak
            ratio = ratio * floor_max / floor
    c = ratio * floor / unit
    vols = np.outer(steps, c) * 1e3
    info.update(value=floor, weakest_peak_over_floor=float(ratio), factor=2.0,
                weakest_lane=weakest)
    return vols, kw, info


def scenario(name, *, seed=0, **overrides):
    """A named synthetic blot whose nuisance parameters are drawn from the scenario's ranges.

    Parameters
    ----------
    name : {"clean", "realistic", "hard", "saturated", "shapes", "rich-clean", "rich-realistic", \
            "rich-hard", "rich-dilution", "rich-saturated"}
        ``clean``: no rotation/smile/gradient/smear/dust/neighbours, baseline 800-1200, gain
        0.2-0.5, read noise 2-5. ``realistic``: rotation ±0.8°, smile 0-6 px, width jitter 5 %,
        baseline 800-2500, gradient 500-2500, smear 0.03-0.10, 2-6 dust specks, gain 0.5-2,
        read noise 5-20, band sd 5-7 px, lane fill 0.8-0.9, one neighbour at ±3-5 sd of 0.3-1x
        the band. ``hard``: rotation ±2°, smile 5-20 px, width jitter 10 %, baseline 1000-5000,
        gradient 3000-8000, smear 0.10-0.25, 8-20 specks, gain 2-5, read noise 20-50, band sd
        5-8 px, lane fill 0.7-0.9, one neighbour at ±1.8-3 sd of 0.3-1x. ``saturated``:
        ``realistic`` plus 2-3 saturated (lane, target) bands. ``shapes``: ``realistic`` with
        non-Gaussian bands (``band_shape="mixed"``: per target a tailing band, tail 1-2 sd, or a
        flat-topped one, plateau 2-4 sd, ±10 % lane to lane; the neighbour at 3-5 sd of the band's
        whole profile shares its shape). Counts are for a 65535 ceiling
        and scale with the ceiling of the ``dtype``/``ceiling`` overrides.

        The ``rich-*`` scenarios add the nuisances a band model was not tuned on, and windows cut
        at the valleys towards close bands (``window_style="valley"``):
        ``rich-clean``: ``clean``, valley windows. ``rich-realistic``: the ``realistic`` ranges
        above (rotation, smile, widths, baseline, gradient, smear, dust, gain, read noise, band
        sd 5-7, lane fill 0.8-0.9); per target a Gaussian, tailing (tail 0.5-2 sd) or
        flat-topped (plateau 1-4 sd) band with equal odds; one neighbour at ±1.8-5 sd of
        0.15-1 x the band, lane-to-lane CV 0.2-0.5; with odds 1/2 one non-specific band at
        ±6-15 band sd of 0.1-0.6 x the target's typical volume, lane CV 0.3-0.6; with odds 1/2
        tails (fraction 0.03-0.12, length 3-8 sd); 0-3 streaks (and as many scratches); across
        the lane flat or super-Gaussian (exponent 2-6) with equal odds; 8-bit with odds 1/4
        (else 16-bit), light or dark bands with equal odds. ``rich-hard``: the ``hard`` ranges,
        band sd 5-8, lane fill 0.7-0.9; one neighbour at ±1.8-3 sd of 0.15-1 x and with odds
        1/2 a second on the other side at 3-5 sd, CV 0.3-0.6; 1-2 non-specific bands (as
        above); tails with odds 0.7 (fraction 0.05-0.2, length 3-10 sd); 2-6 streaks; shapes,
        lane profile, bit depth and polarity as ``rich-realistic``. ``rich-dilution``: the
        ``rich-realistic`` nuisances (always 16-bit: 512-fold does not fit 8 bits) with a
        2-fold loading dilution across the lanes for every target alike (lane 1 brightest,
        target / beta-actin the same in every lane), the weakest lane's target peaks 3-5 x the
        noise floor; if the brightest lane would not fit below 0.8 x ceiling, gain and read
        noise are lowered (``params["noise_floor"]`` records the floor, its definition, the
        ``noise_scale`` applied and the weakest peak heights). ``rich-saturated``:
        ``rich-realistic`` plus 2-3 saturated (lane, target) bands, with
        ``clip_beside_saturated=True``. The same seed draws the same nuisances in
        ``rich-realistic``, ``rich-dilution`` and ``rich-saturated``.
    seed : int
        Draws the scenario parameters and seeds :func:`simulate_blot`.
    **overrides
        Any :func:`simulate_blot` keyword; wins over the drawn value.

    Returns
    -------
    SimulatedBlot
        ``params["scenario"]`` holds the name.

    Examples
    --------
    >>> sim = scenario("clean", seed=3, shape=(300, 600), n_lanes=4,
    ...                targets={"TNAP": 100, "beta-actin": 200})
    >>> sim.image.dtype.name, sorted(sim.windows)
    ('uint16', ['TNAP', 'beta-actin'])
    """
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; allowed: {', '.join(SCENARIOS)}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5C3]))
    drawn = {}
    if name.startswith("rich-") and name != "rich-clean":
        # 8-bit with odds 1/4 (a 2-fold series over 10 lanes does not fit 8 bits: 16-bit there)
        # (a caller's ceiling above 255 keeps 16 bits too; the draw is made either way)
        eight = rng.random() < 0.25 and name != "rich-dilution"
        if overrides.get("ceiling") is not None and float(overrides["ceiling"]) > 255.0:
            eight = False
        drawn["dtype"] = "uint8" if eight else "uint16"
        drawn["polarity"] = "dark-bands" if rng.random() < 0.5 else "light-bands"
    dtype = overrides.get("dtype", drawn.get("dtype", "uint16"))
    ceiling = overrides.get("ceiling")
    ceiling = _DTYPE_CEILING.get(dtype, _REF_CEILING) if ceiling is None else float(ceiling)
    kw = _scenario_params(name, rng, ceiling / _REF_CEILING)
    kw.update(drawn)
    dilution = None
    if name == "rich-dilution":
        dilution = float(rng.uniform(3.0, 5.0))
    if name in ("saturated", "rich-saturated") and "saturate" not in overrides:
        n_lanes = int(overrides.get("n_lanes", 10))
        names = [str(t) for t in overrides.get("targets", _DEFAULT_TARGETS)]
        empty = {int(e) for e in overrides.get("empty_lanes", ())}
        pairs = [(lane, t) for lane in range(1, n_lanes + 1) if lane not in empty for t in names]
        n_sat = min(int(rng.integers(2, 4)), len(pairs))
        pick = rng.choice(len(pairs), size=n_sat, replace=False)
        kw["saturate"] = tuple(pairs[int(p)] for p in sorted(pick))
    kw.update(overrides)
    kw["seed"] = int(seed)
    extra = {}
    if dilution is not None and "volumes" not in overrides:
        kw["volumes"], kw, extra["noise_floor"] = _rich_dilution_volumes(kw, dilution, overrides)
    sim = simulate_blot(**kw)
    if "noise_floor" in extra:
        nf = extra["noise_floor"]
        heights = {(int(lane), str(t)): h for lane, t, h in sim.params["band_heights"]}
        nf["weakest_peak_heights"] = {t: heights[(nf["weakest_lane"], str(t))]
                                      for t in kw.get("targets", _DEFAULT_TARGETS)}
    return dataclasses.replace(sim, params={**sim.params, "scenario": name, **jsonable(extra)})


def dilution_series(*, n_lanes=10, top_volume=None, factor=2.0, seed=0, **kw):
    """One target in serial dilutions across the lanes (lane 1 brightest), realistic noise.

    Parameters
    ----------
    n_lanes : int
        Number of lanes (dilution steps).
    top_volume : float, optional
        Volume of lane 1. Default: chosen so that the weakest band's noise-free peak height is
        3 x the noise floor (see Notes).
    factor : float
        Dilution factor between neighbouring lanes.
    seed : int
        Seed passed to :func:`simulate_blot`.
    **kw
        Any :func:`simulate_blot` keyword (default here: one target ``"TNAP"`` at the middle
        row, baseline 1000, gradient 500, gain 0.3, read noise 8).

    Returns
    -------
    SimulatedBlot
        ``params["noise_floor"]`` records the definition and value used.

    Notes
    -----
    Noise floor = the sd of one background pixel, ``sqrt(gain * baseline + read_noise**2)``
    counts. A band's peak height is its noise-free maximum above the local background.

    Examples
    --------
    >>> sim = dilution_series(n_lanes=4, shape=(200, 500), margin=40, seed=1)
    >>> v = sim.truth["volume"].to_numpy()
    >>> bool(np.allclose(v[:-1] / v[1:], 2.0, rtol=1e-6))
    True
    """
    rows = int(kw.get("shape", (900, 1400))[0])
    opts = dict(targets={"TNAP": rows / 2.0}, baseline=1000.0, gradient=500.0, gain=0.3,
                read_noise=8.0)
    opts.update(kw)
    if len(opts["targets"]) != 1:
        raise ValueError(f"`targets` must name one target for a dilution series; got {opts['targets']}")
    floor = math.sqrt(opts["gain"] * opts["baseline"] + opts["read_noise"] ** 2)
    sigma = float(opts.get("band_sigma", 6.0))
    # peak of a unit-volume band: pixel-integrated Gaussian maximum / band width, times volume
    peak_per_volume_width = float(_along_pixel(np.array(0.0), sigma))
    steps = factor ** np.arange(n_lanes)
    if top_volume is None:
        width = float(opts.get("lane_width", 80.0)) * float(opts.get("lane_fill", 0.85))
        top_volume = 3.0 * floor * steps[-1] * width / peak_per_volume_width
    vols = (float(top_volume) / steps)[:, None]
    sim = simulate_blot(n_lanes=n_lanes, volumes=vols, seed=seed, **opts)
    peak_height = sim.truth["volume"].to_numpy() / sim.params["band_widths"] * peak_per_volume_width
    noise = dict(
        definition="sd of one background pixel: sqrt(gain * baseline + read_noise**2), counts",
        value=floor, weakest_peak_height=float(peak_height.min()),
        weakest_peak_over_floor=float(peak_height.min() / floor), factor=float(factor),
    )
    return dataclasses.replace(sim, params={**sim.params, "noise_floor": noise})


# --------------------------------------------------------------------------------------------
# the demo study


_DEMO_LANES = ["ladder", "C1", "C2", "C3", "I1", "I2", "I3", "T1", "T2", "T3"]
_DEMO_GROUPS = {"C": "Control", "I": "IL6", "T": "IL6+CP690550"}
# image file, target, band row, fold IL6, fold IL6+CP690550, neighbours (offset sd, rel volume)
_DEMO_IMAGES = [
    ("m1_TNAP.tif", "TNAP", 380.0, 2.2, 1.2, ((4.5, 0.35),)),
    ("m1_Runx2.tif", "Runx2", 365.0, 2.0, 1.15, ()),
    ("m1_Jak2.tif", "Jak2", 200.0, 2.1, 2.0, ((-4.5, 0.4),)),
    ("m1_actin.tif", "beta-actin", 500.0, 1.0, 1.0, ()),
]
_DEMO_LADDER = ((130.0, 0.35), (215.0, 0.3), (295.0, 0.3), (375.0, 0.4), (465.0, 0.3), (560.0, 0.25))


def _demo_config_text(windows, images_rel):
    lines = [
        "# blotquant demo config: IL6 / Jak2 study in human umbilical-artery smooth muscle cells.",
        "# Generated by `python -m blotquant.simulate demo fixtures/il6-jak2` (synthetic images with",
        "# known truth in fixtures/il6-jak2/truth.csv). Copy this file for your own blots:",
        "#   experiment       a short name, used in output file names",
        "#   images           folder holding the image files, relative to this YAML file",
        "#   loading_control  the target every other target is divided by (same lane, same membrane)",
        "#   control_group    fold changes are relative to this group's mean",
        "#   groups           the treatment groups, in the order tables and plots show them",
        "#   samples          sample id -> group (every sample in `lanes` must be listed here)",
        "#   membranes        one entry per membrane: its lanes left to right ('ladder' and '-' are",
        "#                    not quantified) and each image of it, with the row window [top, bottom]",
        "#                    (image rows, 0 at the top) in which each target's band lies",
        "#   analysis         polarity: auto | light-bands | dark-bands; lanes: auto or",
        "#                    {centers: [px, ...], width: px}; stats: one-way ANOVA then LSD post-hoc",
        "#                    tests at alpha 0.05. Unknown keys are errors, so typos are caught.",
        "experiment: il6-jak2-vsmc",
        f"images: {images_rel}",
        "loading_control: beta-actin",
        "control_group: Control",
        "groups: [Control, IL6, IL6+CP690550]",
        "",
        "samples:",
    ]
    lines += [f"  {s}: {_DEMO_GROUPS[s[0]]}" for s in _DEMO_LANES[1:]]
    lines += ["", "membranes:", "  - name: m1", f"    lanes: [{', '.join(_DEMO_LANES)}]", "    images:"]
    for fname, target, *_ in _DEMO_IMAGES:
        top, bottom = windows[target]
        lines += [f"      - file: {fname}", "        targets:",
                  f"          {target}: {{rows: [{top}, {bottom}]}}"]
    lines += ["", "analysis:", "  polarity: auto", "  lanes: auto",
              "  stats: {test: anova, posthoc: lsd, alpha: 0.05}", ""]
    return "\n".join(lines)


def make_demo(folder, *, seed=2026, config=None):
    """Write the demo study's fixtures (four 16-bit TIFFs and ``truth.csv``) into ``folder``.

    One membrane, lanes ``[ladder, C1, C2, C3, I1, I2, I3, T1, T2, T3]``, imaged once per
    antibody (same lane geometry, separate exposures with their own realistic nuisances; the
    ladder lane carries faint marker bands in every image). IL6 roughly doubles TNAP, Runx2 and
    Jak2; CP690550 brings TNAP and Runx2 back to ~1.2 x control but leaves Jak2 at ~2 x;
    β-actin follows the per-lane loading (±10 %), so target / actin removes loading.

    Parameters
    ----------
    folder : str or path
        Output folder (created if needed; existing demo files are overwritten).
    seed : int
        Seed of every random draw.
    config : str or path, optional
        Also write the demo YAML config here (its ``images`` path made relative to it).

    Returns
    -------
    pandas.DataFrame
        The truth table written to ``truth.csv``: ``image, lane, sample, group, target, volume,
        row, lane_x, saturated, fold_true`` for each quantified lane.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:  # doctest: +SKIP
    ...     t = make_demo(d)
    ...     sorted(os.listdir(d))[:2], len(t)
    (['m1_Jak2.tif', 'm1_Runx2.tif'], 36)
    """
    import tifffile

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xDE30]))
    shape, n_lanes, lane_width = (720, 1100), len(_DEMO_LANES), 70.0
    geometry = dict(
        shape=shape, n_lanes=n_lanes, lane_width=lane_width, margin=80.0,
        rotation_deg=float(rng.uniform(-0.8, 0.8)), smile_px=float(rng.uniform(2.0, 6.0)),
        widths=lane_width * np.clip(1.0 + 0.05 * rng.normal(size=n_lanes), 0.85, 1.15),
        band_sigma=6.0, lane_fill=0.85,
    )
    loading = rng.uniform(0.9, 1.1, n_lanes)
    base_peak = 0.13 * 65535.0  # control bands peak at ~13 % of the ceiling
    unit_volume = base_peak * geometry["band_sigma"] * math.sqrt(2 * math.pi)
    band_w = geometry["lane_fill"] * geometry["widths"]
    records, windows = [], {}
    for k, (fname, target, row, fold_il6, fold_cp, neigh) in enumerate(_DEMO_IMAGES):
        folds = np.ones(n_lanes)
        for i, lane_name in enumerate(_DEMO_LANES):
            group = _DEMO_GROUPS.get(lane_name[0]) if lane_name != "ladder" else None
            fold = {"Control": 1.0, "IL6": fold_il6, "IL6+CP690550": fold_cp}.get(group, 1.0)
            bio = 0.02 if target == "beta-actin" else 0.12
            # biological variation: log-normal, clipped at 2 sd so three replicates stay typical
            folds[i] = fold * float(np.exp(bio * np.clip(rng.normal(), -2, 2))) if group else 0.0
        scale = 1.6 if target == "beta-actin" else 1.0  # the loading control is the strong band
        vols = (unit_volume * band_w * scale * loading * folds)[:, None]
        nuis = _scenario_params("realistic", rng, 1.0)
        # a cooled CCD's low noise keeps the compressed fixtures small (~0.8 MB per image)
        nuis.update(gain=float(rng.uniform(0.06, 0.12)), read_noise=float(rng.uniform(2, 4)),
                    neighbours=neigh)
        for key in ("rotation_deg", "smile_px", "width_jitter", "band_sigma", "lane_fill"):
            nuis.pop(key)
        ladder = [(1, r, f * unit_volume * band_w[0]) for r, f in _DEMO_LADDER]
        sim = simulate_blot(**geometry, **nuis, targets={target: row}, volumes=vols,
                            empty_lanes=(1,), extra_bands=ladder, seed=int(seed) * 10 + k)
        windows[target] = sim.windows[target]
        tifffile.imwrite(os.path.join(folder, fname), sim.image, compression="zlib",
                         predictor=True, compressionargs={"level": 9}, photometric="minisblack")
        t = sim.truth[sim.truth["kind"] == "target"]
        for rec in t.itertuples(index=False):
            sample = _DEMO_LANES[rec.lane - 1]
            records.append(dict(image=fname, lane=rec.lane, sample=sample,
                                group=_DEMO_GROUPS[sample[0]], target=target, volume=rec.volume,
                                row=rec.row, lane_x=rec.lane_x, saturated=rec.saturated,
                                fold_true=folds[rec.lane - 1]))
    truth = pd.DataFrame.from_records(records)
    truth.to_csv(os.path.join(folder, "truth.csv"), index=False)
    if config is not None:
        cfg_dir = os.path.dirname(os.path.abspath(config))
        os.makedirs(cfg_dir, exist_ok=True)
        rel = os.path.relpath(os.path.abspath(folder), cfg_dir).replace(os.sep, "/")
        with open(config, "w", encoding="utf-8") as fh:
            fh.write(_demo_config_text(windows, rel))
    return truth


def _main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m blotquant.simulate",
        description="Write synthetic blot fixtures with exact ground truth.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="write the IL6/Jak2 demo fixtures and config")
    demo.add_argument("folder", help="output folder, e.g. fixtures/il6-jak2")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--config", default=os.path.join("configs", "il6-jak2.yaml"),
                      help="where to write the demo YAML config (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    truth = make_demo(args.folder, seed=args.seed, config=args.config)
    logger.info("wrote %d truth rows and 4 images to %s; config %s", len(truth), args.folder,
                args.config)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
