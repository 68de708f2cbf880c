"""Discovering the layout of a blot nobody has described yet: lanes, marker lanes, band rows.

:func:`blotquant.lanes.find_lanes` places a *known* number of lanes. Before a config exists the
number is not known, so :func:`detect_lanes` decides it: it finds lane-like columns (stretches of
band evidence in the band rows, cut where lanes touch), chooses the lane pitch by the best chain of
nearly evenly spaced columns (lanes are nearly evenly spaced, an empty lane leaves one tooth of the
comb without signal), and classifies every lane as ``sample``, ``marker`` (a ladder's bright bands,
or the dark marks of a pre-stained ladder on a light-band image) or ``empty``. :func:`detect_band_rows` lists the
band rows the sample lanes share, with a row window a user would type. :func:`propose_config`
does both for every image of a folder and returns a starter config (``blotquant init``).
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from scipy.signal import find_peaks

from blotquant._util import merge_options
from blotquant.errors import ImageError, LayoutError

__all__ = ["detect_lanes", "detect_band_rows", "propose_config", "IMAGE_SUFFIXES", "KINDS"]

logger = logging.getLogger("blotquant")

#: Files :func:`propose_config` looks at (what :func:`blotquant.io.read_blot` reads).
IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".scn", ".1sc", ".gel")
#: Lane kinds returned by :func:`detect_lanes`.
KINDS = ("sample", "marker", "empty")

_DEFAULTS = {
    "max_side": 1400,       # detection works on an area-averaged copy no larger than this
    "min_pitch": None,      # smallest lane pitch in px (default: width / 40, at least 8 px)
    "max_pitch": None,      # largest lane pitch in px (default: width / 2)
    "peak_snr": 4.0,        # a lane-like column rises this many noise sd above its surround
    "min_strength": 0.12,   # ... and reaches this fraction of a typical lane
    "gap_penalty": 0.6,     # cost of an empty comb tooth, in typical-lane strengths
    "pitch_tol": 0.2,       # a neighbour sits within this fraction of the pitch of a tooth
    "ladder_bands": 3,      # a marker lane carries at least this many bands the samples lack
    "dark_snr": 4.0,        # a dark (absorbing) marker column rises this many robust sd
}


# ----------------------------------------------------------------------------------------------
# helpers


def _as_array(image):
    data = getattr(image, "data", image)
    arr = np.asarray(data, dtype=float)
    if arr.ndim != 2 or min(arr.shape) < 16:
        raise LayoutError(f"`image` must be a 2-D array at least 16 x 16 pixels; got shape "
                          f"{arr.shape}. Pass BlotImage.data (grey, bands bright).")
    mask = getattr(image, "mask", None)
    ok = np.isfinite(arr) if mask is None else (np.isfinite(arr) & np.asarray(mask, bool))
    if not ok.all():
        fill = float(np.median(arr[ok])) if ok.any() else 0.0
        arr = np.where(ok, arr, fill)
    return arr


def _options(method_kwargs):
    return merge_options(_DEFAULTS, method_kwargs, where="detect_lanes")


def _reduce(arr, k):
    if k == 1:
        return arr
    import cv2

    h, w = arr.shape
    return cv2.resize(arr.astype(np.float32), (max(1, w // k), max(1, h // k)),
                      interpolation=cv2.INTER_AREA).astype(float)


def _odd(n):
    n = max(3, int(round(n)))
    return n if n % 2 else n + 1


def _tophats(small, length):
    """Bright and dark thin horizontal features: white and black top-hats with a vertical line."""
    import cv2

    img = small.astype(np.float32)
    kernel = np.ones((_odd(length), 1), np.uint8)
    bright = cv2.morphologyEx(img, cv2.MORPH_TOPHAT, kernel).astype(float)
    dark = cv2.morphologyEx(img, cv2.MORPH_BLACKHAT, kernel).astype(float)
    return bright, dark


def _noise(prof):
    d = np.diff(prof)
    return 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2) + 1e-12


def _half_max(prof, j, half_span):
    """Centre and width of the half-maximum extent of the peak at index ``j``."""
    n = prof.size
    lo, hi = max(0, int(j - half_span)), min(n, int(j + half_span) + 1)
    base = max(prof[lo:j + 1].min(), prof[j:hi].min())
    top = prof[j]
    if top <= base:
        return float(j), float("nan"), 0.0
    half = base + 0.5 * (top - base)
    a = j
    while a > lo and prof[a - 1] >= half:
        a -= 1
    b = j
    while b < hi - 1 and prof[b + 1] >= half:
        b += 1
    xl = a - (prof[a] - half) / (prof[a] - prof[a - 1]) if a > 0 and prof[a] != prof[a - 1] else float(a)
    xr = b + (prof[b] - half) / (prof[b] - prof[b + 1]) if b < n - 1 and prof[b] != prof[b + 1] else float(b)
    return 0.5 * (xl + xr), float(xr - xl), float(top - base)


def _segments(prof, noise, *, snr=4.0, floor=0.2, dip=0.06, rel_dip=0.25, foot=0.25):
    """Lane-like stretches of a column profile: runs above ``floor`` of its level, cut at dips.

    Lanes whose bands touch their neighbours' give a plateau with narrow dips at the lane
    borders, not a peak per lane; separate lanes give one run each. A dip is a border when it is
    ``snr`` noise sd deep, and ``dip`` and ``rel_dip`` of the typical (75th percentile) border
    deep relative to its lower shoulder (a saddle inside one lane is much shallower than the
    gap between two). Returns a list of ``(centre, width, top)``: the centre is midway between
    the stretch's borders (the dips, or at the end of a run where the profile falls to ``foot``
    of the stretch's top: the foot of the band, as a dip is the foot between two bands),
    ``top`` the stretch's 90th-percentile height.
    """
    n = prof.size
    level = float(np.percentile(prof, 98))
    if level <= 0:
        return []
    above = prof > floor * level
    lab, nrun = ndi.label(above)
    vk, vp = find_peaks(-prof, prominence=snr * noise)
    if vk.size:     # depth relative to the lower shoulder; deep dips are lane borders
        shoulder = np.minimum(prof[vp["left_bases"]], prof[vp["right_bases"]])
        rel = vp["prominences"] / np.maximum(shoulder, 1e-12)
        ref = float(np.percentile(rel, 75))
        vk = vk[rel >= max(dip, rel_dip * ref)]
    out = []
    for r in range(1, nrun + 1):
        idx = np.flatnonzero(lab == r)
        a, b = int(idx[0]), int(idx[-1])
        if b - a < 2:
            continue
        cuts = [int(v) for v in vk if a < v < b]
        bounds = [a] + cuts + [b]
        segs = []
        for i in range(len(bounds) - 1):
            lo, hi = bounds[i], bounds[i + 1]
            top = float(np.percentile(prof[lo:hi + 1], 90))
            left, right = float(lo), float(hi)
            if i == 0:      # run start: the foot of this stretch's band
                half = foot * top
                j = lo
                while j < hi and prof[j] < half:
                    j += 1
                left = j - (prof[j] - half) / (prof[j] - prof[j - 1]) \
                    if j > 0 and prof[j] != prof[j - 1] else float(j)
            if i == len(bounds) - 2:
                half = foot * top
                j = hi
                while j > lo and prof[j] < half:
                    j -= 1
                right = j + (prof[j] - half) / (prof[j] - prof[j + 1]) \
                    if j < n - 1 and prof[j] != prof[j + 1] else float(j)
            segs.append((left, right, top))
        for left, right, top in segs:
            out.append((0.5 * (left + right), right - left, top))
    return out


def _best_chain(xs, strength, pitch, tol, gap_cost):
    """Best chain of peaks spaced by 1-3 pitches (dynamic programming); returns (score, indices)."""
    n = xs.size
    best = strength.astype(float).copy()
    prev = np.full(n, -1)
    for j in range(n):
        for i in range(j):
            d = xs[j] - xs[i]
            m = int(round(d / pitch))
            if m < 1 or m > 3 or abs(d / m - pitch) > tol * pitch:
                continue
            s = best[i] + strength[j] - gap_cost * (m - 1)
            if s > best[j]:
                best[j], prev[j] = s, i
    j = int(np.argmax(best))
    chain = []
    while j >= 0:
        chain.append(j)
        j = int(prev[j])
    return float(best.max()), chain[::-1]


def _dark_marker_columns(small, dark, pitch, snr=5.0, core=None):
    """Columns of dark, lane-wide marks stacked down the membrane (absorbing pre-stained markers).

    ``dark`` is the black top-hat with a vertical line (dark thin features of ``small``); the
    marks of a ladder are also darker than the membrane left and right of them, so the evidence
    is the smaller of it and a black top-hat with a horizontal line of 2.5 pitches (the gap
    between two bands of one lane, or between two lanes, is dark in one direction only). A
    column's evidence is the 85th percentile of its dark features over the rows (a few marks
    cover a tenth or more of the rows; a stroke of handwriting covers fewer pixels of a column),
    smoothed over a fifth of the pitch. A marker column rises ``snr`` robust sd above the
    membrane's typical column and twice the pixel noise (a mark one can see), is 0.3-1.3
    pitches wide at half height and carries at least two separate dark marks down its centre,
    two thirds of them at least 0.3 pitch wide along their row (lane-wide blobs, not the narrow
    strokes of handwriting; such a column needs only 0.75 ``snr``) unless the column rises
    1.5 ``snr`` and has one lane-wide mark (faint, noisy ladders whose marks mingle with their
    labels). Returns ``(x, strength, mark rows)`` per column (strength in robust sd).
    """
    import cv2

    sh, sw = dark.shape
    kernel = np.ones((1, _odd(2.5 * pitch)), np.uint8)
    dark_h = cv2.morphologyEx(small.astype(np.float32), cv2.MORPH_BLACKHAT, kernel).astype(float)
    dark = np.minimum(dark, dark_h)
    prof = ndi.gaussian_filter1d(np.percentile(dark, 85, axis=0), max(1.0, 0.1 * pitch))
    c0, c1 = core if core is not None else (0, sw)
    ref = prof[c0:c1]    # the membrane's typical column (not the tray beside a strip)
    med = float(np.median(ref))
    spread = 1.4826 * float(np.median(np.abs(ref - med))) + 1e-12
    pix_noise = float(np.median([_noise(r[c0:c1]) for r in small[::max(1, sh // 50)]]))
    pk, _ = find_peaks(prof, height=med + 0.75 * snr * spread, distance=max(2, int(0.8 * pitch)))
    out = []
    for j in pk:
        c, wd, _ = _half_max(prof - med, int(j), pitch)
        if not (np.isfinite(wd) and 0.3 * pitch <= wd <= 1.3 * pitch):
            continue
        # marks down the column, away from the box's top and bottom rows (a strip's dark
        # border line runs across every column there)
        edge = max(2, int(0.04 * sh))
        col = _lane_profile(dark, c, max(1.0, 0.25 * wd))[edge:sh - edge]
        rn = _noise(col)
        marks, _ = find_peaks(ndi.gaussian_filter1d(col, 1.0),
                              prominence=max(snr * rn, 0.3 * float(np.ptp(col))),
                              distance=max(2, int(0.15 * pitch)))
        marks = marks + edge
        if marks.size < 2:
            continue
        # marks of a ladder are lane-wide blobs; handwriting is mostly narrow strokes. The
        # column's centre is the median middle of its lane-wide marks' half-maximum extents
        lo, hi = int(max(0, c - pitch)), int(min(sw, c + pitch + 1))

        def along_row(m, c=c, wd=wd, lo=lo, hi=hi):
            """Middle and width of the mark at row ``m`` along its row (half maximum)."""
            row = ndi.gaussian_filter1d(dark[max(0, m - 2):m + 3, lo:hi].mean(axis=0), 1.5)
            jm = int(np.clip(round(c) - lo, 0, row.size - 1))
            a, b = max(0, jm - int(0.3 * wd)), min(row.size, jm + int(0.3 * wd) + 1)
            jm = a + int(np.argmax(row[a:b]))
            cm, wm, _ = _half_max(row, jm, 0.8 * pitch)
            return cm + lo, wm

        xs = []
        for m in marks:
            cm, wm = along_row(m)
            if np.isfinite(wm) and wm >= 0.3 * pitch:
                xs.append(cm)
        z = float((prof[j] - med) / spread)
        if prof[j] - med < 2.0 * pix_noise:     # a flat profile's bump, not a visible mark
            continue
        lane_wide = len(xs) >= 2 and len(xs) >= 2 / 3 * marks.size
        if not ((lane_wide and z >= 0.75 * snr) or (xs and z >= 1.5 * snr)):
            continue
        if xs and abs(float(np.median(xs)) - c) < 0.3 * pitch:
            c = float(np.median(xs))
        # the ladder's bands: every lane-wide mark down the whole column (a mark near the box's
        # edge counts; a border line, wider than a lane, does not), or the marks found above
        # when fewer than three are lane-wide (a faint ladder's marks look narrow in the noise)
        full = _lane_profile(dark, c, max(1.0, 0.25 * wd))
        rows_all, _ = find_peaks(ndi.gaussian_filter1d(full, 1.0),
                                 prominence=max(snr * _noise(full), 0.3 * float(np.ptp(col))),
                                 distance=max(2, int(0.15 * pitch)))
        bands = [int(m) for m in rows_all
                 if 0.3 * pitch <= np.nan_to_num(along_row(int(m))[1]) <= 1.3 * pitch]
        out.append((float(c), z, bands if len(bands) >= 3 else [int(m) for m in marks]))
    return out


def _weak_band(bright, x_ref, x, pitch, half, snr, *, separate=False):
    """A weak lane's band at ``x`` in the band row of the lane at ``x_ref``.

    The row where the reference lane's profile (``bright`` over its central columns) peaks,
    give or take that band's half-maximum height (band rows descend or tilt from lane to lane),
    is searched in the profile at ``x``; its height above that profile's median must be ``snr``
    robust sd of the profile. Returns ``(ratio, centre)``: the height relative to the reference
    band (0 when there is no band) and ``x``. With ``separate`` (a lane beyond the end of the
    comb, whose tooth may sit on the reference band's tail) the band must also stand apart
    along its row: the row (mean over the band's rows) dips strictly between the two lanes
    to below 95 % of the band beyond the dip, and the band's half-maximum extent beyond the dip
    (gaps narrower than 0.15 pitch closed) ends within 1.2 pitches; the centre is that
    extent's middle (comet-shaped bands peak off their middle) when within a quarter pitch of
    ``x`` (else ``x``), and the band must be there too.
    """
    from scipy.signal import peak_widths

    ref = _lane_profile(bright, x_ref, half)
    r = int(np.argmax(ref))
    top = float(ref[r] - np.median(ref))
    own = _lane_profile(bright, x, half)
    base = float(np.median(own))
    sd = 1.4826 * float(np.median(np.abs(own - base))) + 1e-12
    if top <= 0:
        return 0.0, float(x)
    win = int(max(2, math.ceil(peak_widths(ref, [r], rel_height=0.5)[0][0])))
    a, b = max(0, r - win), min(own.size, r + win + 1)
    rr = a + int(np.argmax(own[a:b]))
    height = float(own[rr] - base)
    if height < snr * sd:
        return 0.0, float(x)
    if not separate:
        return height / top, float(x)
    row = ndi.gaussian_filter1d(bright[max(0, rr - win):rr + win + 1].mean(axis=0),
                                max(1.0, 0.05 * pitch))
    step = 1 if x > x_ref else -1
    ends = sorted((int(round(x_ref)), int(round(x))))
    if ends[1] - ends[0] < 2:
        return 0.0, float(x)
    d = ends[0] + int(np.argmin(row[ends[0]:ends[1] + 1]))
    far = int(np.clip(d + step * 1.2 * pitch, 0, row.size - 1))
    seg = row[min(d, far):max(d, far) + 1][::step]
    if seg.size < 3 or not ends[0] < d < ends[1] or row[d] > 0.95 * seg.max():
        return 0.0, float(x)
    level = row[d] + 0.5 * (seg.max() - row[d])
    over = ndi.binary_closing(seg >= level, np.ones(_odd(0.15 * pitch), bool)) | (seg >= level)
    first = int(np.flatnonzero(over)[0])
    last = first
    while last + 1 < seg.size and over[last + 1]:
        last += 1
    if last + 1 >= seg.size:
        return 0.0, float(x)
    c = d + step * 0.5 * (first + last)
    if abs(c - x) > 0.25 * pitch:     # a noisy extent: the tooth on the pitch
        c = float(x)
    ratio, _ = _weak_band(bright, x_ref, c, pitch, half, snr)
    return ratio, float(c)


def _band_height(small):
    """Typical band height (FWHM in rows) of the strongest band rows, or NaN when none stands out.

    Per block of columns, the row profile (75th percentile of each row) minus its grey opening
    with a line of a third of the rows; its peaks reaching 30 % of the highest are band rows.
    The median FWHM over all blocks' band rows.
    """
    from scipy.signal import peak_widths

    sh, sw = small.shape
    heights = []
    # in eight blocks of columns: a band row that descends or tilts across the membrane looks
    # taller in a profile over all columns than any band is
    for block in np.array_split(np.arange(sw), min(8, max(1, sw // 16))):
        rp = ndi.gaussian_filter1d(np.percentile(small[:, block], 75, axis=1), 1.0)
        rp = rp - ndi.grey_opening(rp, size=_odd(sh / 3))
        if rp.max() <= 0:
            continue
        pk, _ = find_peaks(rp, prominence=max(6 * _noise(rp), 0.3 * float(rp.max())))
        if pk.size:
            heights.extend(peak_widths(rp, pk, rel_height=0.5)[0])
    return float(np.median(heights)) if heights else float("nan")


def _auto_band_rows(bright):
    """Rows that carry bands across the membrane (a band row covers a quarter of the columns).

    A narrow band row is a few per cent of the rows, so a high percentile over *all* rows of a
    column would follow noise and lane smears instead of the bands; the column profile is taken
    over these rows (dilated by 3 % of the height for tilt), or every row when none stands out.
    Marker-band rows are kept too: rows where one column carries a band far above the rest.
    """
    sh = bright.shape[0]
    rp = ndi.gaussian_filter1d(np.percentile(bright, 75, axis=1), 1.0)
    base, top = float(np.median(rp)), float(rp.max())
    if top - base <= 6.0 * _noise(rp):
        return np.ones(sh, bool), "whole lane"
    wts = rp > base + 0.2 * (top - base)
    mx = ndi.gaussian_filter1d(bright.max(axis=1), 1.0)
    mb = float(np.median(mx))
    wts |= mx > mb + 0.5 * (float(mx.max()) - mb)
    wts = ndi.binary_dilation(wts, iterations=max(2, int(round(0.03 * sh))))
    if wts.sum() < 3:
        return np.ones(sh, bool), "whole lane"
    return wts, "band rows"


def _lane_profile(t, x, half_width):
    """Mean of ``t`` over the central columns of a lane, per row."""
    a = int(max(0, math.floor(x - half_width)))
    b = int(min(t.shape[1], math.ceil(x + half_width) + 1))
    if b <= a:
        return np.zeros(t.shape[0])
    return t[:, a:b].mean(axis=1)


def _row_peaks(prof, noise, *, rel=0.15, snr=4.0, distance=3):
    if prof.size < 3 or prof.max() <= 0:
        return np.zeros(0, int), np.zeros(0)
    pk, props = find_peaks(prof, prominence=max(snr * noise, rel * float(prof.max())),
                           distance=max(1, int(distance)))
    return pk, props["prominences"]


def _autocorr_pitch(prof, p_lo, p_hi):
    """Lane pitch from the autocorrelation of the high-passed column profile (None if unclear)."""
    n = prof.size
    hp = prof - ndi.gaussian_filter1d(prof, max(3.0, 1.5 * p_hi), mode="nearest")
    hp = hp - hp.mean()
    ac = np.correlate(hp, hp, mode="full")[n - 1:]
    if ac[0] <= 0:
        return None
    ac = ac / ac[0] * n / np.maximum(n - np.arange(n), 1)
    lo, hi = int(max(2, math.floor(p_lo))), int(min(n - 2, math.ceil(p_hi)))
    if hi <= lo + 2:
        return None
    pk, _ = find_peaks(ac[:hi + 1])
    pk = pk[(pk >= lo) & (ac[pk] > 0.1)]
    if not pk.size:
        return None
    best = float(ac[pk].max())
    first = pk[ac[pk] >= 0.45 * best][0]
    j = int(first)
    if 0 < j < ac.size - 1:
        den = ac[j - 1] - 2 * ac[j] + ac[j + 1]
        return float(j + (0.5 * (ac[j - 1] - ac[j + 1]) / den if den < 0 else 0.0))
    return float(j)


# ----------------------------------------------------------------------------------------------
# lanes


def detect_lanes(image, *, rows=None, colour=None, core=None, method_kwargs=None):
    """Find the lanes of a membrane whose lane count is not known, and tell markers apart.

    Parameters
    ----------
    image : ndarray, shape (rows, cols), or BlotImage
        Raw counts with bands bright (``BlotImage.data``, or a strip cropped from it); a
        ``BlotImage`` lends its ``mask``. Not modified.
    rows : sequence of (int, int), optional
        Row windows ``(top, bottom)`` holding the band rows; default: rows with band evidence,
        found from the image.
    colour : ndarray, shape (rows, cols), optional
        Colourfulness per pixel (e.g. ``max(R, G, B) - min(R, G, B)`` of an RGB export, in the
        same coordinates as ``image``); lane-wide coloured columns mark pre-stained markers.
    core : (int, int), optional
        Columns ``(first, last + 1)`` that hold the lanes (a strip's box inside a wider crop);
        sample lanes are looked for there only, marker columns also in the columns around it.
        Default: every column.
    method_kwargs : mapping, optional
        ``max_side`` (detection copy size, 1400), ``min_pitch`` / ``max_pitch`` (lane pitch range
        in px), ``peak_snr`` (4), ``min_strength`` (0.12 of a typical lane), ``gap_penalty`` (cost
        of an empty tooth, 0.6 typical lanes), ``pitch_tol`` (0.2), ``ladder_bands`` (3),
        ``dark_snr`` (4).

    Returns
    -------
    lanes : Lanes
        Centres (left to right) and widths in the coordinates of ``image``; ``slope`` 0,
        ``y_ref`` the signal-weighted band row.
    kinds : list of str
        ``"sample"``, ``"marker"`` or ``"empty"`` per lane.
    params : dict
        JSON-serialisable record: ``n_lanes``, ``pitch``, ``scale``, ``candidates`` (lane-like
        columns with strength), ``pitch_scores`` (the best comb per pitch tried, best first, and
        the ``margin`` of the winner), per-lane ``lanes`` (centre, width, kind, evidence,
        ``strength`` relative to a typical lane - for a weak lane its band relative to its
        neighbour's -, ``ladder_bands``, ``pieces``: stretches the lane was joined from),
        ``tophat_rows`` and ``band_height``, and with ladder lanes ``ladder_pass`` (the
        columns left out, sample lanes found with and without them, which was used).

    Raises
    ------
    LayoutError
        When no lane-like column is found, or for invalid arguments.

    Notes
    -----
    A white top-hat with a vertical line (about a lane pitch, and 2.5 band heights when the
    bands are taller than that) isolates bands from the background; its column profile is the
    mean over the band rows, each row scaled to its own strength (the gaps between lanes run
    through every band row). Separate lanes give one stretch each; lanes
    whose bands touch give a plateau with narrow dips at their borders, so the profile is cut at
    dips that are deep relative to their shoulders, and each stretch is a lane-like column
    centred between its borders. The pitch is the one whose best chain of stretches spaced one
    to three pitches apart explains the most lane strength, each skipped tooth (an empty lane)
    costing ``gap_penalty`` typical lanes; a faint stretch one pitch beyond an end is a last,
    weakly loaded lane. A lane is a ``marker`` when it carries ``ladder_bands`` or more bands at
    rows where its neighbours have none, or when a column at either end of the comb is dark
    (lane-wide absorbing marks of a pre-stained ladder stacked down a light-band membrane) or
    coloured. A comb tooth without a stretch of its own is a weak ``sample`` when its row
    profile rises, at the row where a neighbour's band peaks, to ``min_strength`` of that band
    (the tails of touching neighbours fill a weak lane's dips, or a far stronger lane sets the
    scale), else ``empty``. Beyond either end of the comb (no marker there) the comb goes on
    one pitch at a time while the next tooth holds such a band, standing apart along its row
    from the end lane's (a dilution series fading out). A weak stretch (below half a typical
    lane) is centred on its band's extent along the row beside its stronger neighbour when that
    is nearer to where the strong lanes' comb puts it, a weak lane cut by noise dips into
    several stretches fills the room between its neighbours' facing edges, and a lane whose
    band shows as two stretches (a comet: a dense head and a fainter tail) spans both when the
    other is no lane's own, clearly nearer to it than to any other lane, and both fit in 1.2
    pitches. Ladder lanes carry many band rows and so dominate the column profile (and the
    pitch): when a lane is a marker by its bands, the lanes are looked for again with its
    columns left out, and that layout (plus the ladders) is kept when it holds more sample
    lanes. Assumes nearly vertical lanes.

    Examples
    --------
    >>> from blotquant.simulate import simulate_blot
    >>> sim = simulate_blot(shape=(300, 700), n_lanes=8, lane_width=50, targets={"A": 150},
    ...                     margin=60, empty_lanes=(4,), seed=1)
    >>> lanes, kinds, params = detect_lanes(sim.image)
    >>> len(kinds), kinds[3]
    (8, 'empty')
    """
    arr = _as_array(image)
    opts = _options(method_kwargs)
    lanes, kinds, params = _comb(arr, opts, rows=rows, colour=colour, core=core)
    # ladder lanes carry many band rows, so they dominate the column profile and can hide weak
    # sample lanes (and skew the pitch): look for the samples again without the ladder columns
    ladders = [i for i, lane in enumerate(params["lanes"])
               if lane["evidence"].startswith("ladder")]
    if ladders:
        spans = [(float(lanes.centers[i] - 0.5 * lanes.widths[i]),
                  float(lanes.centers[i] + 0.5 * lanes.widths[i])) for i in ladders]
        try:
            lanes2, kinds2, params2 = _comb(arr, opts, rows=rows, colour=colour, core=core,
                                            exclude=spans)
        except LayoutError:
            lanes2 = None
        if lanes2 is not None:
            keep = [j for j, c in enumerate(lanes2.centers)
                    if all(abs(c - lanes.centers[i]) > 0.5 * params2["pitch"] for i in ladders)]
            n1 = sum(1 for kd in kinds if kd == "sample")
            n2 = sum(1 for j in keep if kinds2[j] == "sample")
            params["ladder_pass"] = {"excluded": [[round(a, 1), round(b, 1)] for a, b in spans],
                                     "samples_first": n1, "samples_without_ladders": n2,
                                     "used": n2 > n1}
            if n2 > n1:
                lanes, kinds, params = _merge_ladders(lanes, params, ladders, lanes2, kinds2,
                                                      params2, keep)
    logger.debug("detect_lanes: %s", params)
    return lanes, kinds, params


def _merge_ladders(lanes, params, ladders, lanes2, kinds2, params2, keep):
    """The lanes found without the ladder columns plus the ladder lanes, left to right."""
    from blotquant.lanes import Lanes

    rows = [(float(lanes2.centers[j]), float(lanes2.widths[j]), kinds2[j], params2["lanes"][j])
            for j in keep]
    rows += [(float(lanes.centers[i]), float(lanes.widths[i]), "marker", params["lanes"][i])
             for i in ladders]
    rows.sort(key=lambda r: r[0])
    out = dict(params2)
    out["ladder_pass"] = dict(params["ladder_pass"], first_pass_lanes=params["lanes"],
                              first_pass_pitch=params["pitch"])
    out["kinds"] = [r[2] for r in rows]
    out["n_lanes"] = len(rows)
    out["lanes"] = [dict(r[3], lane=n + 1) for n, r in enumerate(rows)]
    merged = Lanes(centers=np.array([r[0] for r in rows]), widths=np.array([r[1] for r in rows]),
                   slope=0.0, y_ref=lanes2.y_ref)
    return merged, out["kinds"], out


def _comb(arr, opts, *, rows=None, colour=None, core=None, exclude=()):
    """:func:`detect_lanes` on a checked array; ``exclude`` lists column spans ``(a, b)`` in
    px whose band evidence is ignored (ladder lanes)."""
    from blotquant.lanes import Lanes

    h, w = arr.shape
    k = max(1, int(math.ceil(max(h, w) / float(opts["max_side"]))))
    small = _reduce(arr, k)
    sh, sw = small.shape
    small = ndi.gaussian_filter(small, 1.0)

    # band evidence: thin horizontal features; the line is ~3 band heights (~ a lane pitch)
    if core is None:
        c0, c1 = 0, sw
    else:
        c0, c1 = int(max(0, core[0] // k)), int(min(sw, math.ceil(core[1] / k)))
        if c1 - c0 < 16:
            raise LayoutError(f"`core` {list(core)} leaves fewer than 16 columns of a {w} px "
                              "wide image; give (first, last) columns holding the lanes")
    wc = (c1 - c0) * k    # the width lanes are looked for in
    p_lo = float(opts["min_pitch"] or max(8.0, wc / 40.0)) / k
    p_hi = float(opts["max_pitch"] or wc / 2.0) / k
    length = float(np.clip(0.6 * math.sqrt(sh * (c1 - c0)) / 10.0, 15, 151))
    # ... unless the bands are taller than that (flat-topped, overloaded): a line shorter than
    # a band hollows its middle, and the gaps between lanes look like the lanes
    band_fwhm = _band_height(small[:, c0:c1])
    if np.isfinite(band_fwhm) and band_fwhm > length:
        length = min(2.5 * band_fwhm, 0.5 * sh)
    bright, dark = _tophats(small, length)
    for a, b in exclude:
        bright[:, int(max(0, math.floor(a / k))):int(min(sw, math.ceil(b / k) + 1))] = 0.0
    sm = ndi.gaussian_filter1d(bright, max(1.0, 2.0 / k), axis=0)
    if rows:
        wts = np.zeros(sh, bool)
        for top, bottom in rows:
            a, b = int(max(0, top // k)), int(min(sh, math.ceil(bottom / k)))
            wts[a:b] = True
        if not wts.any():
            raise LayoutError(f"`rows` {list(rows)} lie outside the image (0..{h}); give "
                              "windows as [top, bottom] image rows")
        row_source = "given"
    else:
        wts, row_source = _auto_band_rows(bright[:, c0:c1])
    rprof = np.percentile(bright, 75, axis=1)
    rw = np.clip(rprof - np.median(rprof), 0, None) * wts
    y_ref = float((rw * np.arange(sh)).sum() / rw.sum() * k + (k - 1) / 2) if rw.sum() > 0 \
        else (h - 1) / 2
    # band evidence per column over the band rows (tilted band rows allowed)
    # every band row counts alike: the gaps between lanes run through all of them, while a
    # bright, blurred band row would hide them in a maximum over the rows
    rows_sm = sm[wts][:, c0:c1]
    rs = np.percentile(rows_sm, 95, axis=1)
    good = rs >= 0.2 * rs.max() if rs.max() > 0 else np.ones(rs.size, bool)
    cp0 = (rows_sm[good] / np.maximum(rs[good, None], 1e-12)).mean(axis=0) \
        * float(np.median(rs[good]))
    cp0 = np.pad(cp0 - np.percentile(cp0, 5), (c0, sw - c1))   # nothing outside the core
    # lane-like stretches on a lightly smoothed copy (the dips between touching lanes are narrow)
    fine_sigma = max(1.0, 1.5 / k)
    cp_fine = ndi.gaussian_filter1d(cp0, fine_sigma)
    cp_noise = _noise(ndi.gaussian_filter1d(cp0, 1.0)[c0:c1])
    segs = _segments(cp_fine, cp_noise / math.sqrt(fine_sigma),
                     snr=float(opts["peak_snr"]))
    pk = np.array([c for c, _, _ in segs], float)
    seg_w = np.array([wd for _, wd, _ in segs], float)
    prom = np.array([t for _, _, t in segs], float)
    # the spacing of neighbouring stretches hints at the pitch (the autocorrelation as a fallback)
    gaps = np.diff(np.sort(pk))
    gaps = gaps[(gaps >= p_lo) & (gaps <= p_hi)]
    if gaps.size >= 2:
        pitch_hint = float(np.median(gaps))
    else:
        pitch_hint = _autocorr_pitch(cp0, p_lo, p_hi)
    sigma = max(1.0, 0.1 * pitch_hint) if pitch_hint else 1.5
    cp = ndi.gaussian_filter1d(cp0, sigma)
    if pitch_hint:
        p_lo, p_hi = max(p_lo, 0.42 * pitch_hint), min(p_hi, 2.2 * pitch_hint)

    if pk.size:
        typical = float(np.percentile(prom, 75))
        keep = (prom >= float(opts["min_strength"]) * typical) & (seg_w >= 0.25 * p_lo)
        pk, prom, seg_w = pk[keep], prom[keep], seg_w[keep]
        order = np.argsort(pk, kind="stable")
        pk, prom, seg_w = pk[order], prom[order], seg_w[order]
    if pk.size == 0:
        raise LayoutError(f"no lane-like column found in a {w}x{h} px image; check the crop and "
                          "polarity, or list the lanes in the config by hand")
    typical = float(np.median(np.sort(prom)[-max(1, int(np.ceil(prom.size / 2))):]))
    strength = np.minimum(prom / typical, 1.5)

    # choose the pitch by the best chain of evenly spaced lane-like columns
    tol = float(opts["pitch_tol"])
    scores = []
    if pk.size >= 2:
        pitches = np.exp(np.arange(math.log(p_lo), math.log(p_hi), 0.02))
        for p in pitches:
            s, chain = _best_chain(pk.astype(float), strength, p, tol, float(opts["gap_penalty"]))
            scores.append((s, float(p), chain))
    if scores:
        order = sorted(range(len(scores)), key=lambda i: -scores[i][0])
        s_best, pitch, chain = scores[order[0]]
        xs_c = pk[chain].astype(float)
        if len(chain) >= 2:
            d = np.diff(xs_c)
            m = np.maximum(1, np.round(d / pitch))
            pitch = float(np.median(d / m))
        # the best score of a clearly different pitch (not within 10 %) tells how clear the choice is
        other = [scores[i][0] for i in order if abs(scores[i][1] / pitch - 1) > 0.1]
        margin = (s_best - max(other)) / s_best if other and s_best > 0 else 1.0
        pitch_scores = [{"pitch": round(scores[i][1] * k, 2), "score": round(scores[i][0], 3),
                         "lanes_seen": len(scores[i][2])} for i in order[:6]]
    else:
        chain, pitch, margin, pitch_scores = [0], float(sw), 1.0, []
        xs_c = pk[chain].astype(float)

    # teeth: chain peaks plus the empty teeth between them
    teeth, source = [], []
    for a, b in zip(xs_c[:-1], xs_c[1:]):
        m = max(1, int(round((b - a) / pitch)))
        teeth.extend(a + (b - a) * np.arange(m) / m)
        source.extend(["bright"] + ["gap"] * (m - 1))
    teeth.append(xs_c[-1])
    source.append("bright")
    teeth = list(map(float, teeth))
    # rescue: a gap tooth, or a tooth one pitch beyond either end, with a bump of the column
    # profile (lanes whose bands touch their neighbours' show as shoulders, not peaks)
    base = float(np.percentile(cp, 5))

    def bump(x):
        a, b = int(max(0, x - 0.3 * pitch)), int(min(cp.size, x + 0.3 * pitch + 1))
        if b - a < 2:
            return None
        j = a + int(np.argmax(cp[a:b]))
        lo = cp[int(max(0, j - 0.8 * pitch)):j + 1].min()
        hi = cp[j:int(min(cp.size, j + 0.8 * pitch + 1))].min()
        rel = (cp[j] - max(lo, hi)) / typical
        lvl = (cp[j] - base) / (typical + 1e-12)
        return float(j) if rel >= 0.1 and lvl >= 0.35 else None

    for i, src in enumerate(source):
        if src == "gap":
            j = bump(teeth[i])
            if j is not None:
                teeth[i], source[i] = j, "bright"
    for side in (-1, 1):
        while True:
            x = (teeth[0] - pitch) if side < 0 else (teeth[-1] + pitch)
            if not 0.2 * pitch <= x <= sw - 1 - 0.2 * pitch:
                break
            j = bump(x)
            if j is None:
                break
            if side < 0:
                teeth.insert(0, j)
                source.insert(0, "bright")
            else:
                teeth.append(j)
                source.append("bright")
    # off-chain lane-like columns just outside the comb: dark (pre-stained) markers, coloured
    # markers, or bright columns off the pitch (a ladder lane)
    dark_cols = [(x + c0, st, mk) for x, st, mk in _dark_marker_columns(
        small[:, c0:c1], dark[:, c0:c1], pitch, float(opts["dark_snr"]))]
    if (c0, c1) != (0, sw):     # a marker lane just outside the core, or cut by its edge
        dark_cols += [(x, st, mk) for x, st, mk in _dark_marker_columns(
            small, dark, pitch, float(opts["dark_snr"]), (c0, c1))
            if all(abs(x - d[0]) > 0.5 * pitch for d in dark_cols)]
        dark_cols.sort(key=lambda d: d[0])
    dk = np.array([d[0] for d in dark_cols])
    dk_strength = {d[0]: d[1] for d in dark_cols}
    cprof = None
    if colour is not None:
        c_small = _reduce(np.asarray(colour, float), k)[:sh, :sw]
        cprof = ndi.gaussian_filter1d(np.percentile(c_small, 90, axis=0), 1.5)
        ck, _ = find_peaks(cprof, prominence=max(5 * _noise(cprof), 0.2 * float(np.ptp(cprof))),
                           distance=max(2, int(0.5 * pitch)))
    else:
        ck = np.zeros(0, int)
    extra = []   # (x, evidence, side)
    for side in (-1, 1):
        end = teeth[0] if side < 0 else teeth[-1]
        cands = []
        for x, ev in [(x, "colour") for x in ck] + [(x, "dark") for x in dk]:
            d = (x - end) * side
            if 0.6 * pitch <= d <= 1.8 * pitch:
                cands.append((d, float(x), ev))
        if cands:
            # a coloured column first, else the darkest (handwritten labels beside a ladder
            # are fainter than its marks)
            d, x, ev = min(cands, key=lambda c: (c[2] != "colour", -dk_strength.get(c[1], 0.0)))
            extra.append((x, ev, side))
    # a comb tooth at either end on a dark / coloured marker column is a marker lane (a dark
    # smudge inside the comb is not)
    marked = {}
    for i, x in enumerate(teeth):
        if 0 < i < len(teeth) - 1:
            continue
        for xs_m, ev in ((ck, "colour"), (dk, "dark")):
            if len(xs_m) and np.min(np.abs(np.asarray(xs_m) - x)) < 0.3 * pitch:
                marked.setdefault(i, ev)
        if marked.get(i) == "dark":     # placed on the dark marks, not on a faint bright seam
            teeth[i] = float(dk[np.argmin(np.abs(dk - x))])
            source[i] = "dark"

    # a faint lane one pitch beyond either end that holds no marker: a stretch above a lower
    # floor, lane-wide, cut from the end lane by a dip (a last, weakly loaded lane)
    faint = [sg for sg in _segments(cp_fine, cp_noise / math.sqrt(fine_sigma),
                                    snr=float(opts["peak_snr"]), floor=0.05)
             if 0.5 * pitch <= sg[1] <= 1.4 * pitch and c0 <= sg[0] < c1
             and sg[2] >= float(opts["min_strength"]) * typical]
    faint_lanes = {}

    def extend(side, c, how):
        """Add a tooth beyond the comb's ``side`` end (marker evidence follows its lane index)."""
        nonlocal marked
        if side < 0:
            teeth.insert(0, c)
            source.insert(0, how)
            marked = {i + 1: ev for i, ev in marked.items()}
        else:
            teeth.append(c)
            source.append(how)

    for side in (-1, 1):
        end = 0 if side < 0 else len(teeth) - 1
        if end in marked or any(e[2] == side for e in extra):
            continue
        x = teeth[end] + side * pitch
        near = [sg for sg in faint if abs(sg[0] - x) <= 0.25 * pitch]
        if not near:
            continue
        sg = min(near, key=lambda t: abs(t[0] - x))
        faint_lanes[sg[0]] = sg
        extend(side, sg[0], "faint")

    # weak lanes beyond either end (a dilution series fading out, a lightly loaded last lane):
    # one pitch further while that tooth holds a band in its neighbour's band row
    half_lane = 0.25 * float(np.median(seg_w)) if seg_w.size else 0.15 * pitch
    # a weak stretch (below half a typical lane) is often a piece of its lane cut off by noise
    # dips: centred on its band's extent along the row beside its stronger neighbour, when
    # that is nearer to where the strong lanes' comb puts it (a comet's extent is not)
    recentred = {}
    st_of = {float(x): float(st) for x, st in zip(pk, strength)}
    w_of = {float(x): float(wd) for x, wd in zip(pk, seg_w)}
    for i, (x, src) in enumerate(zip(list(teeth), list(source))):
        if src != "bright" or st_of.get(x, 1.0) >= 0.5:
            continue
        nbrs = [j for j in (i - 1, i + 1) if 0 <= j < len(teeth) and source[j] == "bright"
                and st_of.get(teeth[j], 0.0) > st_of[x]]
        if not nbrs:
            continue
        ref = max(nbrs, key=lambda j: st_of.get(teeth[j], 0.0))
        ratio, c = _weak_band(bright, teeth[ref], x, pitch, half_lane, float(opts["peak_snr"]),
                              separate=True)
        # where the comb of the strong lanes puts this lane
        strong = [t for t, sc in zip(teeth, source) if sc == "bright" and st_of.get(t, 0.0) >= 0.5]
        if strong:
            s0 = min(strong, key=lambda t: abs(t - x))
            pred = s0 + pitch * round((x - s0) / pitch)
        else:
            pred = teeth[ref] + math.copysign(pitch, x - teeth[ref])
        if ratio >= float(opts["min_strength"]) and abs(c - pred) < abs(x - pred):
            teeth[i], source[i] = c, "recentred"
            recentred[c] = (x, w_of[x], st_of[x])
    # empty teeth stay evenly spaced between the lanes around them
    anchors = [i for i, src in enumerate(source) if src != "gap"]
    for a, b in zip(anchors[:-1], anchors[1:]):
        for m in range(1, b - a):
            teeth[a + m] = teeth[a] + (teeth[b] - teeth[a]) * m / (b - a)
    weak_lanes = {}


    for side in (-1, 1):
        end = 0 if side < 0 else len(teeth) - 1
        if end in marked or any(e[2] == side for e in extra):
            continue
        while True:
            end = 0 if side < 0 else len(teeth) - 1
            x = teeth[end] + side * pitch
            if not c0 + 0.3 * pitch <= x <= c1 - 1 - 0.3 * pitch:
                break
            if len(dk) and np.min(np.abs(dk - x)) < 0.5 * pitch:
                break   # a dark marker column there
            own = np.flatnonzero(np.abs(pk - x) < 0.3 * pitch)
            if own.size:    # a stretch of its own the chain left out (a ladder off the pitch)
                extend(side, float(pk[own[np.argmax(strength[own])]]), "bright")
                continue
            ratio, c = _weak_band(bright, teeth[end], x, pitch, half_lane, float(opts["peak_snr"]),
                                  separate=True)
            if ratio < float(opts["min_strength"]):
                break
            weak_lanes[c] = ratio
            extend(side, c, "weak")

    xs_all = list(teeth)
    src_all = list(source)
    for x, ev, side in extra:
        if side < 0:
            xs_all.insert(0, float(x))
            src_all.insert(0, ev)
        else:
            xs_all.append(float(x))
            src_all.append(ev)

    # refine centres and widths on the profile that showed each lane
    centers, widths, lane_strength = [], [], []
    for x, src in zip(xs_all, src_all):
        if src == "gap":
            centers.append(x)
            widths.append(float("nan"))
            lane_strength.append(0.0)
            continue
        if src == "dark":
            centers.append(x)
            widths.append(float("nan"))
            lane_strength.append(0.0)
            continue
        if src == "weak":
            centers.append(x)
            widths.append(float("nan"))
            lane_strength.append(weak_lanes[x])
            continue
        if src == "recentred":    # its stretch was a piece: the width of the others
            centers.append(x)
            widths.append(float("nan"))
            lane_strength.append(recentred[x][2])
            continue
        if src == "faint":
            cf, wf, tf = faint_lanes[x]
            centers.append(cf)
            widths.append(wf)
            lane_strength.append(tf / typical)
            continue
        near = np.flatnonzero(np.abs(pk - x) < 1e-9) if src == "bright" else []
        if len(near):     # a stretch of the profile: its own centre and width
            centers.append(float(pk[near[0]]))
            widths.append(float(seg_w[near[0]]))
            lane_strength.append(float(prom[near[0]]) / typical)
            continue
        prof = cprof if src == "colour" else cp
        j = int(round(x))
        lo, hi = max(0, j - 2), min(prof.size, j + 3)
        j = lo + int(np.argmax(prof[lo:hi]))
        c, wd, st = _half_max(prof, j, 0.8 * pitch)
        centers.append(c if abs(c - x) < 0.35 * pitch else x)
        widths.append(wd)
        lane_strength.append(st / typical if src.startswith("bright") else 0.0)
    centers = np.asarray(centers)
    widths = np.asarray(widths)
    # a weak lane between touching lanes breaks into several short stretches (noise dips are
    # as deep as its borders): it fills the room between its neighbours' facing edges
    pieces = np.zeros(centers.size, int)
    bw = widths[[s == "bright" for s in src_all]]
    w_typ = float(np.nanmedian(bw)) if np.isfinite(bw).any() else 0.6 * pitch
    for i in range(1, centers.size - 1):
        if src_all[i] not in ("bright", "recentred") or not all(
                src_all[j] in ("bright", "recentred", "faint") for j in (i - 1, i + 1)):
            continue
        # a weak neighbour's stretch may be a piece of it, too: the typical width then
        wl, wr = (widths[j] if src_all[j] == "bright" and lane_strength[j] >= 0.5
                  and np.isfinite(widths[j]) else w_typ for j in (i - 1, i + 1))
        left = centers[i - 1] + 0.5 * wl
        right = centers[i + 1] - 0.5 * wr
        inside = int(np.sum((pk > centers[i - 1] + 0.25 * pitch)
                            & (pk < centers[i + 1] - 0.25 * pitch)))
        if inside >= 2 and 0.5 * pitch <= right - left <= 1.5 * pitch \
                and lane_strength[i] < 0.5:
            pieces[i] = inside
            centers[i], widths[i] = 0.5 * (left + right), right - left
    # a lane's band in two stretches (a comet: bright head, fainter tail, cut by a dip) spans
    # both when the other stretch is no lane's own and nearer to it than to any other lane
    used = [float(c) for c, src in zip(centers, src_all) if src == "bright"]
    spare = [j for j, x in enumerate(pk) if min((abs(x - u) for u in used), default=1e9) > 1e-6]
    for j in spare:
        near = np.argsort(np.abs(centers - pk[j]))
        i = int(near[0])
        if src_all[i] != "bright" or pieces[i] or abs(pk[j] - centers[i]) > 0.6 * pitch \
                or not np.isfinite(widths[i]):
            continue
        if near.size > 1 and abs(centers[near[1]] - pk[j]) < 1.3 * abs(centers[i] - pk[j]):
            continue    # as near to another lane: whose piece it is is not clear
        lo = min(centers[i] - 0.5 * widths[i], pk[j] - 0.5 * seg_w[j])
        hi = max(centers[i] + 0.5 * widths[i], pk[j] + 0.5 * seg_w[j])
        if hi - lo <= 1.2 * pitch:
            pieces[i] = 2
            centers[i], widths[i] = 0.5 * (lo + hi), hi - lo
    bw = widths[[s == "bright" for s in src_all]]
    med_w = float(np.nanmedian(bw)) if np.isfinite(bw).any() else 0.6 * pitch
    widths = np.clip(np.where(np.isfinite(widths), widths, med_w), 0.25 * pitch, pitch)

    # classify: ladder lanes carry bands where their neighbours have none
    kinds, evidence, ladder_counts = [], [], []
    half = np.maximum(0.25 * widths, 1.0)
    profiles = [_lane_profile(bright, c, hw) for c, hw in zip(centers, half)]
    rnoise = float(np.median([_noise(p) for p in profiles])) if profiles else 1.0
    band_rows = [_row_peaks(p, rnoise)[0] for p in profiles]
    n_left = sum(1 for e in extra if e[2] < 0)
    for i in range(len(src_all)):
        if (i - n_left) in marked and 0 <= i - n_left < len(teeth):
            src_all[i] = marked[i - n_left]
    # a gap tooth (or a bump below min_strength) may be a weakly loaded lane whose band row
    # hides in the column profile (the tails of touching neighbours fill its dips, or a much
    # stronger lane sets the scale): its own band at the row where a neighbour's band peaks
    signal = ("bright", "recentred", "faint", "weak")
    has_signal = [src in signal for src in src_all]
    for i, src in enumerate(src_all):
        if src != "gap" and not (src == "bright"
                                 and lane_strength[i] < float(opts["min_strength"])):
            continue
        nbrs = [j for j in (i - 1, i + 1, i - 2, i + 2)
                if 0 <= j < len(src_all) and has_signal[j]][:2]
        found = [_weak_band(bright, centers[j], centers[i], pitch, half[i],
                            float(opts["peak_snr"])) for j in nbrs]
        ratio, c = max(found, default=(0.0, centers[i]))
        if ratio >= float(opts["min_strength"]):
            src_all[i] = "weak"
            lane_strength[i] = ratio
            centers[i] = c
    for i, src in enumerate(src_all):
        if src == "weak":
            kinds.append("sample")
            evidence.append("weak: a band in the neighbours' band row")
            ladder_counts.append(0)
            continue
        if src in ("dark", "colour"):
            kinds.append("marker")
            evidence.append(src)
            ladder_counts.append(0)
            continue
        if src == "gap" or lane_strength[i] < float(opts["min_strength"]):
            kinds.append("empty")
            evidence.append("no signal on the pitch")
            ladder_counts.append(0)
            continue
        nbrs = [j for j in (i - 1, i + 1, i - 2, i + 2) if 0 <= j < len(src_all)
                and src_all[j] == "bright" and j != i][:2]
        if not nbrs:    # only weak lanes beside it (a ladder next to a dilution series)
            nbrs = [j for j in (i - 1, i + 1, i - 2, i + 2) if 0 <= j < len(src_all)
                    and src_all[j] in ("recentred", "weak", "faint")][:2]
        if nbrs:
            ref = np.max([ndi.maximum_filter1d(profiles[j], _odd(max(5, 0.15 * pitch)))
                          for j in nbrs], axis=0)
            own = profiles[i]
            pkr = band_rows[i]
            lonely = [r for r in pkr if ref[r] < 0.3 * own[r]]
        else:
            lonely = []
        ladder_counts.append(len(lonely))
        if len(lonely) >= int(opts["ladder_bands"]) and len(lonely) >= 0.5 * max(1, len(band_rows[i])):
            kinds.append("marker")
            evidence.append("ladder: bands the neighbours lack")
        else:
            kinds.append("sample")
            evidence.append(src)

    to_px = lambda v: (np.asarray(v, float) + 0.5) * k - 0.5  # noqa: E731
    centers_px = to_px(centers)
    widths_px = widths * k
    lanes = Lanes(centers=centers_px, widths=widths_px, slope=0.0, y_ref=y_ref)
    params = {
        "method": "comb of lane-like columns",
        "n_lanes": int(len(kinds)),
        "kinds": list(kinds),
        "pitch": round(float(pitch * k), 3),
        "margin": round(float(margin), 4),
        "pitch_scores": pitch_scores,
        "scale": int(k),
        "tophat_rows": int(_odd(length) * k),
        "band_height": None if not np.isfinite(band_fwhm) else round(float(band_fwhm * k), 2),
        "rows": row_source if not rows else [[int(a), int(b)] for a, b in rows],
        "y_ref": round(y_ref, 2),
        "candidates": [{"x": round(float(to_px(x)), 1), "strength": round(float(s), 3)}
                       for x, s in zip(pk, strength)],
        "dark_columns": [{"x": round(float(to_px(x)), 1), "strength": round(st, 1),
                          "marks": [round(float(m * k + (k - 1) / 2), 1) for m in mk]}
                         for x, st, mk in dark_cols],
        "colour_columns": [round(float(to_px(x)), 1) for x in ck],
        "lanes": [{"lane": i + 1, "center": round(float(c), 2), "width": round(float(wd), 2),
                   "kind": kd, "evidence": ev, "strength": round(float(st), 3),
                   "ladder_bands": int(lc), "pieces": int(pc)}
                  for i, (c, wd, kd, ev, st, lc, pc) in enumerate(zip(
                      centers_px, widths_px, kinds, evidence, lane_strength, ladder_counts,
                      pieces))],
    }
    return lanes, kinds, params


# ----------------------------------------------------------------------------------------------
# band rows


def detect_band_rows(image, lanes, *, kinds=None, margin=None, row_offset=0, limits=None):
    """The band rows the sample lanes share, with a row window a user would type.

    Parameters
    ----------
    image : ndarray, shape (rows, cols), or BlotImage
        Bands bright, in the coordinates of ``lanes``. Not modified.
    lanes : Lanes
        Lane geometry (e.g. from :func:`detect_lanes`).
    kinds : sequence of str, optional
        Kind per lane; only ``"sample"`` lanes are looked at (default: every lane).
    margin : float, optional
        Rows added above and below the band extents for the window; default the median band
        height (FWHM), at least 5.
    row_offset : int, optional
        Added to every row reported (``y0`` of a strip cropped out of its image), before the
        windows are rounded, so windows are round numbers in image rows.
    limits : (int, int), optional
        Rows the windows are kept inside (default: the image, shifted by ``row_offset``).

    Returns
    -------
    table : DataFrame
        One row per band row, top to bottom: ``band_row`` (1-based), ``row`` (median centre row),
        ``top``, ``bottom`` (extremes of the half-maximum extents over the lanes), ``n_lanes``
        (sample lanes carrying it), ``strength`` (median peak height above background, relative
        to the strongest band row), ``window_top``, ``window_bottom`` (proposed ``rows`` window,
        rounded outwards to multiples of 5 and kept inside the image).
    params : dict
        ``tophat_rows``, ``margin``, ``link_tolerance``, ``min_lanes``, peaks per lane.

    Notes
    -----
    Each sample lane's row profile (mean over its central half, white top-hat) gives peaks;
    peaks are linked lane to lane (tilt and smile move a band row a little from one lane to the
    next) and a band row needs at least ``max(2, 30 %)`` of the sample lanes (1 if there is
    only one).

    Examples
    --------
    >>> from blotquant.simulate import simulate_blot
    >>> sim = simulate_blot(shape=(300, 600), n_lanes=6, lane_width=50, targets={"A": 120, "B": 200},
    ...                     margin=60, seed=2)
    >>> table, _ = detect_band_rows(sim.image, sim.lanes)
    >>> table["row"].round().tolist()
    [120.0, 200.0]
    """
    arr = _as_array(image)
    h, w = arr.shape
    centers = np.asarray(lanes.centers, float)
    widths = np.asarray(lanes.widths, float)
    kinds = list(kinds) if kinds is not None else ["sample"] * centers.size
    if len(kinds) != centers.size:
        raise LayoutError(f"`kinds` has {len(kinds)} entries for {centers.size} lanes; give one "
                          "kind per lane")
    idx = [i for i, kd in enumerate(kinds) if kd == "sample"]
    cols = ["band_row", "row", "top", "bottom", "n_lanes", "strength", "window_top",
            "window_bottom"]
    length = float(np.clip(1.5 * np.median(widths) if widths.size else 31, 21, 151))
    bright, _ = _tophats(ndi.gaussian_filter(arr, 1.0), length)
    peaks = []  # (lane, row, top, bottom, height)
    for i in idx:
        x = float(lanes.x_at(lanes.y_ref)[i])
        prof = _lane_profile(bright, x, max(1.0, 0.25 * widths[i]))
        pk, prom = _row_peaks(prof, _noise(prof), rel=0.15, snr=5.0, distance=3)
        if pk.size:
            from scipy.signal import peak_widths

            _, _, left, right = peak_widths(prof, pk, rel_height=0.5)
            for r, p, a, b in zip(pk, prom, left, right):
                peaks.append((i, float(r), float(a), float(b), float(p)))
    params = {"tophat_rows": int(_odd(length)), "sample_lanes": len(idx),
              "peaks": len(peaks)}
    if not peaks:
        params.update(margin=None, link_tolerance=None, min_lanes=None)
        return pd.DataFrame(columns=cols), params
    fwhm = float(np.median([b - a for _, _, a, b, _ in peaks]))
    tol = max(6.0, 1.2 * fwhm)
    margin = float(margin) if margin is not None else max(5.0, fwhm)
    groups = []  # each: list of peaks; linked by the last lane's row
    for i in idx:
        mine = sorted([p for p in peaks if p[0] == i], key=lambda p: -p[4])
        taken = set()
        for p in mine:
            best, bd = None, tol
            for g_i, g in enumerate(groups):
                if g_i in taken:
                    continue
                d = abs(g[-1][1] - p[1])
                if d <= bd:
                    best, bd = g_i, d
            if best is None:
                groups.append([p])
                taken.add(len(groups) - 1)
            else:
                groups[best].append(p)
                taken.add(best)
    min_lanes = 1 if len(idx) <= 1 else max(2, int(math.ceil(0.3 * len(idx))))
    groups = [g for g in groups if len({p[0] for p in g}) >= min_lanes]
    groups.sort(key=lambda g: np.median([p[1] for p in g]))
    records = []
    top_strength = max((np.median([p[4] for p in g]) for g in groups), default=1.0)
    for n, g in enumerate(groups, start=1):
        top = min(p[2] for p in g) + row_offset
        bottom = max(p[3] for p in g) + row_offset
        lo, hi = limits if limits is not None else (row_offset, h + row_offset)
        wt = int(max(lo, 5 * math.floor((top - margin) / 5)))
        wb = int(min(hi, 5 * math.ceil((bottom + margin) / 5)))
        records.append({"band_row": n, "row": float(np.median([p[1] for p in g])) + row_offset,
                        "top": float(top), "bottom": float(bottom),
                        "n_lanes": len({p[0] for p in g}),
                        "strength": float(np.median([p[4] for p in g]) / top_strength),
                        "window_top": wt, "window_bottom": wb})
    params.update(margin=round(margin, 2), link_tolerance=round(tol, 2), min_lanes=min_lanes,
                  fwhm=round(fwhm, 2))
    return pd.DataFrame.from_records(records, columns=cols), params


# ----------------------------------------------------------------------------------------------
# a starter config for a folder


def _image_files(folder):
    files = [p for p in sorted(Path(folder).rglob("*"))
             if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")]
    return files


def _colour_of(path):
    """Colourfulness (max - min channel) of an RGB(A) TIFF/PNG, or None for grey files."""
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            arr = tifffile.imread(path)
        elif path.suffix.lower() in (".png",):
            from PIL import Image

            with Image.open(path) as img:
                arr = np.asarray(img.convert("RGB")) if img.mode in ("RGB", "RGBA", "P") else None
        else:
            return None
    except Exception:  # noqa: BLE001 - colour is optional evidence; read_blot reports real errors
        return None
    if arr is None or arr.ndim != 3 or arr.shape[-1] not in (3, 4):
        return None
    rgb = arr[..., :3].astype(float)
    return rgb.max(axis=-1) - rgb.min(axis=-1)


def _analyse_image(path, *, ladder=None, boxes=None):
    """Strips, lanes, band rows (and MW) of one image; ``boxes`` replace find_strips' strips."""
    from blotquant.io import crop, read_blot
    from blotquant.strips import Strip, find_strips

    blot = read_blot(path)
    if boxes is None:
        strips, strip_params = find_strips(blot)
    else:
        strips = [Strip(box=tuple(int(v) for v in b), score=0.0) for b in boxes]
        strip_params = {"mode": "given", "boxes": [list(map(int, b)) for b in boxes]}
    colour = _colour_of(path)
    out = []
    width = blot.data.shape[1]
    for s in strips:
        bx0, y0, bx1, y1 = s.box
        # a found strip's box may stop at the bands and leave its marker lane outside: look a
        # little beyond its sides (not into a strip beside it), keep what holds lanes
        pad = 0 if boxes is not None else int(0.08 * (bx1 - bx0))
        x0, x1 = max(0, bx0 - pad), min(width, bx1 + pad)
        for o in strips:
            ox0, oy0, ox1, oy1 = o.box
            if o is s or min(y1, oy1) <= max(y0, oy0):
                continue
            if ox1 <= bx0:
                x0 = max(x0, ox1)
            elif ox0 >= bx1:
                x1 = min(x1, ox0)
        box = (x0, y0, x1, y1)
        part = crop(blot, box)
        col = colour[y0:y1, x0:x1] if colour is not None and colour.shape == blot.data.shape else None
        try:
            lanes, kinds, lp = detect_lanes(part, colour=col, core=(bx0 - x0, bx1 - x0))
        except LayoutError as exc:
            out.append({"box": list(s.box), "error": str(exc)})
            continue
        lo_x = float(np.min(lanes.centers - 0.5 * lanes.widths)) + x0
        hi_x = float(np.max(lanes.centers + 0.5 * lanes.widths)) + x0
        out_box = [int(max(x0, min(bx0, math.floor(lo_x)))), int(y0),
                   int(min(x1, max(bx1, math.ceil(hi_x) + 1))), int(y1)]
        limits = (0, blot.data.shape[0]) if len(strips) == 1 else (y0, y1)
        rows, bp = detect_band_rows(part, lanes, kinds=kinds, row_offset=y0, limits=limits)
        mw = _apparent_mw(part, lanes, kinds, rows, y0, ladder, lp)
        out.append({"box": out_box,
                    "centers": [float(c + x0) for c in lanes.centers],
                    "widths": [float(v) for v in lanes.widths],
                    "kinds": list(kinds), "pitch": lp["pitch"], "lane_params": lp,
                    "band_rows": rows.to_dict("records"), "band_params": bp, "mw": mw})
    return {"file": path, "shape": list(blot.data.shape), "polarity": blot.polarity,
            "strips": out, "strip_params": strip_params}


def _apparent_mw(part, lanes, kinds, rows, y0, ladder, lane_params=None):
    """Apparent kDa per band row from the first marker lane, or a reason why not."""
    if "marker" not in kinds:
        return {"status": "no marker lane"}
    if ladder is None:
        return {"status": "ladder not named (blotquant init --ladder NAME)"}
    try:
        from blotquant import mw
    except ImportError:
        return {"status": "blotquant.mw not available"}
    i = kinds.index("marker")
    lp = lane_params or {}
    dark = lp.get("lanes", [{}] * len(kinds))[i].get("evidence") == "dark"
    # a pre-stained marker seen as dark marks on a light-band image: its bands are the marks
    # found down its column (lane-wide, away from the strip's border rows), else the dark
    # bands of its lane profile
    cols = [d for d in lp.get("dark_columns", [])
            if abs(d["x"] - float(lanes.centers[i])) < 0.5 * float(lanes.widths[i])]
    try:
        if dark and cols and len(cols[0].get("marks", [])) >= 2:
            found = np.asarray(cols[0]["marks"], float)
        else:
            image = -np.asarray(part.data, float) if dark else part
            found, _ = mw.find_ladder_bands(image, x=float(lanes.centers[i]),
                                            width=float(lanes.widths[i]))
        cal, cp = mw.fit_ladder(found, ladder)
        kda = [round(float(cal.kda_at(r - y0)), 1) for r in rows["row"]]
    except Exception as exc:  # noqa: BLE001 - calibration is a hint; a failure is reported
        return {"status": f"not calibratable ({type(exc).__name__}: {exc})"}
    return {"status": "ok", "ladder": ladder if isinstance(ladder, str) else list(ladder),
            "kda": kda, "model": cp.get("model"), "marker_lane": i + 1,
            "marker_bands": "dark" if dark else "bright"}


def _related_names(a, b):
    """True when two files sit in one folder and their names say one membrane: one stem starts
    with the other (``x.tif`` / ``x_GAPDH.tif``) or both share the first word (``m1_TNAP`` /
    ``m1_actin``)."""
    pa, pb = Path(a), Path(b)
    if pa.parent != pb.parent:
        return False
    sa, sb = pa.stem.lower(), pb.stem.lower()
    if sa.startswith(sb) or sb.startswith(sa):
        return True
    wa, wb = re.split(r"[_\-. ]+", sa), re.split(r"[_\-. ]+", sb)
    return len(wa) > 1 and len(wb) > 1 and wa[0] == wb[0]


def _same_membrane(a, b):
    """True when two analysed images look like probes of one membrane: same image size and
    strips, and either the same lanes (count, pitch, position) in the same folder or related
    file names (a re-probe whose lanes were not all seen, e.g. a single loading-control row)."""
    if a["shape"] != b["shape"] or len(a["strips"]) != len(b["strips"]):
        return False
    named = _related_names(a["file"], b["file"])
    for sa, sb in zip(a["strips"], b["strips"]):
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = sa["box"], sb["box"]
        if min(ax1, bx1) - max(ax0, bx0) < 0.5 * min(ax1 - ax0, bx1 - bx0) \
                or min(ay1, by1) <= max(ay0, by0):
            return False
        if named:
            continue
        if Path(a["file"]).parent != Path(b["file"]).parent:
            return False    # alike lanes in different folders: two runs of one lab's layout
        if "error" in sa or "error" in sb:
            return False
        ca = [c for c, k in zip(sa["centers"], sa["kinds"]) if k == "sample"]
        cb = [c for c, k in zip(sb["centers"], sb["kinds"]) if k == "sample"]
        if len(ca) != len(cb) or not ca:
            return False
        pitch = max(sa["pitch"], sb["pitch"])
        if abs(sa["pitch"] - sb["pitch"]) > 0.15 * pitch:
            return False
        if abs(float(np.median(np.subtract(ca, cb)))) > 0.75 * pitch:
            return False
    return True


def _lead_image(cluster):
    """The image whose lanes stand for its membrane: the lane layout (kinds per strip) most images
    agree on, then the most lanes, then the clearest pitch choice."""
    def layout(a):
        return tuple(_kinds_text(s.get("kinds", [])) for s in a["strips"])

    votes = {}
    for a in cluster:
        votes[layout(a)] = votes.get(layout(a), 0) + 1
    return max(cluster, key=lambda a: (votes[layout(a)],
                                       sum(len(s.get("kinds", [])) for s in a["strips"]),
                                       sum(s.get("lane_params", {}).get("margin", 0.0)
                                           for s in a["strips"])))


def _slug(text):
    return re.sub(r"[^0-9A-Za-z]+", "-", text).strip("-").lower() or "m"


def propose_config(images_dir, *, ladder=None):
    """A starter experiment config for a folder of blot images.

    Parameters
    ----------
    images_dir : str or path-like
        Folder searched (with its sub-folders) for ``.tif/.tiff/.png/.jpg/.scn/.1sc/.gel`` files.
    ladder : str or sequence of float, optional
        Marker ladder (a name from :data:`blotquant.mw.LADDERS` or kDa list); with it, the
        apparent MW of every band row is estimated from the first marker lane.

    Returns
    -------
    config : dict
        Keys in config order: ``experiment``, ``images`` (the folder as given), ``loading_control``,
        ``control_group``, ``groups``, ``samples``, ``membranes`` (one per strip, with ``lanes``
        and ``images`` carrying ``file``, ``region`` when the image holds several strips, and
        ``targets`` ``band1``, ``band2``, ... with ``rows``), ``analysis``.
    params : dict
        Per image: strips, lanes (centre, width, kind), band rows, apparent MW or why not; the
        re-probe grouping; problems (images that could not be read or had no lanes).

    Raises
    ------
    ImageError
        When the folder does not exist or holds no image file.
    """
    folder = Path(images_dir)
    if not folder.is_dir():
        raise ImageError(f"{folder}: folder not found; give the folder holding the blot images")
    files = _image_files(folder)
    if not files:
        raise ImageError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)}) found")
    analysed, problems = [], []
    for path in files:
        try:
            analysed.append(_analyse_image(path, ladder=ladder))
        except (ImageError, LayoutError) as exc:
            problems.append({"file": path.relative_to(folder).as_posix(), "error": str(exc)})
    # group re-probes of one membrane: consecutive files that look alike
    clusters = []
    for a in analysed:
        for c in clusters:
            if any(_same_membrane(m, a) for m in c):
                c.append(a)
                break
        else:
            clusters.append([a])

    samples, membranes, notes, n_sample = {}, [], [], 0
    band_names = []
    for c in clusters:
        lead = _lead_image(c)
        stem = _slug(Path(lead["file"]).stem)
        multi = len(lead["strips"]) > 1
        for si, strip in enumerate(lead["strips"]):
            if "error" in strip:
                problems.append({"file": Path(lead["file"]).relative_to(folder).as_posix(),
                                 "strip": si + 1, "error": strip["error"]})
                continue
            labels = []
            for kd in strip["kinds"]:
                if kd == "marker":
                    labels.append("ladder")
                elif kd == "empty":
                    labels.append("-")
                else:
                    n_sample += 1
                    labels.append(f"S{n_sample}")
                    samples[f"S{n_sample}"] = "GroupA"
            images, mem_notes = [], []
            n_band = 0  # band rows are numbered per membrane: band1, band2, ...
            for a in c:
                s = a["strips"][si]
                rel = Path(a["file"]).relative_to(folder).as_posix()
                targets = {}
                for br in s.get("band_rows", []):
                    n_band += 1
                    name = f"band{n_band}"
                    targets[name] = {"rows": [int(br["window_top"]), int(br["window_bottom"])]}
                    kda = s.get("mw", {}).get("kda") if s.get("mw", {}).get("status") == "ok" else None
                    mem_notes.append((name, br, None if kda is None else kda[br["band_row"] - 1]))
                spec = {"file": rel}
                if multi:
                    spec["region"] = [int(v) for v in s["box"]]
                spec["targets"] = targets
                images.append(spec)
                if s.get("kinds") != strip["kinds"]:
                    notes.append(f"{rel} strip {si + 1}: lanes seen {_kinds_text(s.get('kinds', []))}"
                                 f" (membrane lists {_kinds_text(strip['kinds'])})")
            name = f"{stem}-{si + 1}" if multi else stem
            membranes.append({"name": name, "lanes": labels, "images": images,
                              "_notes": mem_notes, "_mw": strip.get("mw", {})})
            band_names.append([t for spec in images for t in spec["targets"]])
    if not membranes:
        raise LayoutError(f"{folder}: no lanes found in any image "
                          f"({'; '.join(p['error'] for p in problems)[:300]})")
    # the last band name every membrane has, so that the file loads as written
    common = [t for t in (band_names[0] if band_names else []) if all(t in b for b in band_names)]
    loading = common[-1] if common else "band1"
    config = {
        "experiment": _slug(folder.resolve().name),
        "images": str(images_dir),
        "loading_control": loading,
        "control_group": "GroupA",
        "groups": ["GroupA", "GroupB"],
        "samples": samples,
        "membranes": membranes,
        "analysis": {"polarity": "auto", "lanes": "auto"},
    }
    params = {
        "images": [_image_record(a, folder) for a in analysed],
        "membranes": [[Path(a["file"]).relative_to(folder).as_posix() for a in c]
                      for c in clusters],
        "notes": notes,
        "problems": problems,
        "ladder": ladder if ladder is None or isinstance(ladder, str) else list(ladder),
    }
    return config, params


def _kinds_text(kinds):
    return "".join({"sample": "s", "marker": "M", "empty": "-"}.get(k, "?") for k in kinds)


def _image_record(a, folder):
    strips = []
    for s in a["strips"]:
        if "error" in s:
            strips.append({"box": s["box"], "error": s["error"]})
            continue
        strips.append({
            "box": s["box"], "pitch": s["pitch"],
            "lanes": [{"lane": i + 1, "x": round(c, 1), "width": round(wd, 1), "kind": k}
                      for i, (c, wd, k) in enumerate(zip(s["centers"], s["widths"], s["kinds"]))],
            "band_rows": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.items()}
                          for r in s["band_rows"]],
            "mw": s["mw"], "margin": s["lane_params"]["margin"],
        })
    return {"file": Path(a["file"]).relative_to(folder).as_posix(), "polarity": a["polarity"],
            "strips": strips}


def format_config(config, params=None):
    """YAML text of a :func:`propose_config` result, with a comment explaining every key.

    Returns
    -------
    text : str
        Loads with :func:`blotquant.config.load_config` once written beside the images' folder as
        given in ``config["images"]``.
    """
    import json

    q = json.dumps  # a JSON string is a valid YAML scalar
    lines = [
        "# Starter config written by `blotquant init`. Check it against the images, then fill in:",
        "#   samples          replace S1, S2, ... by your sample ids (also in every `lanes:` list)",
        "#                    and map each to its group",
        "#   groups           your treatment groups, in the order tables and plots show them",
        "#   control_group    the group fold changes are relative to",
        "#   targets          rename band1, band2, ... to the proteins (the same name on every",
        "#                    membrane); delete band rows you do not want quantified",
        "#   loading_control  the target every other target is divided by: CHANGE IT (it is the",
        "#                    last band name found on every membrane)",
        "# Lanes: 'ladder' = marker lane, '-' = empty lane (neither is quantified). Row windows are",
        "# [top, bottom] image rows (0 at the top) around the band rows seen, rounded to 5 px.",
        "",
        f"experiment: {q(config['experiment'])}",
        f"images: {q(config['images'])}          # folder holding the image files, relative to this file",
        f"loading_control: {q(config['loading_control'])}   # CHANGE IT: your loading control's target name",
        f"control_group: {q(config['control_group'])}",
        f"groups: [{', '.join(q(g) for g in config['groups'])}]   # placeholders: your groups",
        "",
        "samples:                 # sample id -> group (placeholders: one line per sample lane)",
    ]
    for s, g in config["samples"].items():
        lines.append(f"  {q(s)}: {q(g)}")
    lines += ["", "membranes:               # one entry per membrane strip"]
    for m in config["membranes"]:
        lines.append(f"  - name: {q(m['name'])}")
        lines.append(f"    lanes: [{', '.join(q(x) for x in m['lanes'])}]   # left to right")
        mwinfo = m.get("_mw", {})
        if mwinfo.get("status") == "ok":
            lines.append(f"    # apparent MW from the marker lane ({mwinfo.get('ladder')}, "
                         f"model {mwinfo.get('model')}) is given per band row below")
        elif mwinfo:
            lines.append(f"    # apparent MW: {mwinfo.get('status')}")
        lines.append("    images:                # each image of this membrane (re-probes too)")
        notes = {n: (br, kda) for n, br, kda in m.get("_notes", [])}
        for spec in m["images"]:
            lines.append(f"      - file: {q(spec['file'])}")
            if "region" in spec:
                lines.append(f"        region: [{', '.join(str(v) for v in spec['region'])}]"
                             "   # this strip's box x0, y0, x1, y1 in the image")
            if not spec["targets"]:
                lines.append("        targets: {}     # no band row found: add {name: {rows: [top, bottom]}}")
                continue
            lines.append("        targets:             # rename to the protein names")
            for t, tv in spec["targets"].items():
                br, kda = notes.get(t, (None, None))
                extra = ""
                if br is not None:
                    extra = (f"   # band row at y~{br['row']:.0f}, in {br['n_lanes']} lanes, "
                             f"strength {br['strength']:.2f}")
                    if kda is not None:
                        extra += f", ~{kda:g} kDa"
                lines.append(f"          {q(t)}: {{rows: [{tv['rows'][0]}, {tv['rows'][1]}]}}{extra}")
    if params and (params.get("notes") or params.get("problems")):
        lines += ["", "# Notes from detection:"]
        lines += [f"#   {n}" for n in params.get("notes", [])]
        lines += [f"#   skipped {p['file']}: {p['error']}" for p in params.get("problems", [])]
    lines += [
        "",
        "analysis:",
        "  polarity: auto          # auto | light-bands | dark-bands",
        "  lanes: auto             # auto (as many lanes as listed are found) or {centers: [...], width: px}",
        "",
    ]
    return "\n".join(lines)
