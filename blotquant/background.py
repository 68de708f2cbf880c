"""Background methods behind one registry, chosen by name.

Two kinds of method exist:

``"profile"`` methods work on one lane's row profile (the raw counts summed across the lane
width, one value per row) and return a baseline in the same units (counts × lane width per row),
together with the separated band components of the profile. ``"image"`` methods work on a 2-D
crop and return a per-pixel background of the same shape. Either way the background is explicit
and the raw data is never modified: the caller integrates ``raw - background``.

Registered methods (see :data:`BACKGROUNDS`):

``"profile"``
    Joint least-squares fit of a low-order polynomial baseline plus one pixel-integrated Gaussian
    per band in the lane profile (variable projection). The baseline is fitted *under* the bands
    (their tails included), and touching neighbours are separated by the same fit.
``"border"``
    ImageJ / Image Lab style: a straight line through the median of the profile rows just above
    and just below the band(s); bands are then separated by a peak fit on the residual.
``"rolling-disk"``
    Grey opening with a large flat elliptical structuring element (OpenCV) on a block-averaged,
    downsampled copy, upsampled back (a rolling disk / ball).

``"auto"`` resolves to :data:`DEFAULT_BACKGROUND`, the most accurate method in
``benchmarks/accuracy.py``.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from blotquant._util import median1d
from blotquant.errors import BlotquantError

__all__ = [
    "BACKGROUNDS",
    "DEFAULT_BACKGROUND",
    "BackgroundMethod",
    "UnknownMethodError",
    "anchored_baseline",
    "check_options",
    "border_baseline",
    "fit_peaks",
    "get_background",
    "gaussian_basis",
    "profile_baseline",
    "rolling_disk",
]

logger = logging.getLogger("blotquant")


class UnknownMethodError(BlotquantError):
    """A method name is not in its registry (the message lists the valid names)."""


# --------------------------------------------------------------------------------------------
# peak model shared by the profile methods and by band separation after a 2-D background
# --------------------------------------------------------------------------------------------


def gaussian_basis(n_rows, centers, sigmas):
    """Pixel-integrated unit-area Gaussians, one column per component.

    Parameters
    ----------
    n_rows : int
        Length of the profile; row ``u`` covers ``[u - 0.5, u + 0.5]``.
    centers, sigmas : array_like of float, shape (k,)
        Component centres (rows) and standard deviations (rows).

    Returns
    -------
    basis : ndarray, shape (n_rows, k)
        ``basis[:, j].sum()`` is the fraction of component ``j`` inside the profile (1 when it
        lies well inside), so a linear coefficient is the component's area in profile units.

    Examples
    --------
    >>> b = gaussian_basis(41, [20.0], [3.0])
    >>> round(float(b.sum()), 6)
    1.0
    """
    return _edge_basis(_edge_z(n_rows, centers, sigmas))


def _edge_z(n_rows, centers, sigmas):
    """Standardised pixel edges, shape (n_rows + 1, k): ``(e - c) / s`` at ``e = -0.5 .. n_rows - 0.5``.

    Row ``u`` spans edges ``u`` and ``u + 1``; ``u + 0.5`` and ``(u + 1) - 0.5`` are the same
    number, so each edge is evaluated once instead of once for each row it bounds.
    """
    e = (np.arange(n_rows + 1, dtype=float) - 0.5)[:, None]
    return (e - np.asarray(centers, dtype=float)[None, :]) / np.asarray(sigmas, dtype=float)[None, :]


def _edge_basis(z):
    """:func:`gaussian_basis` from :func:`_edge_z`: the normal's mass between consecutive edges."""
    from scipy.special import ndtr

    F = ndtr(z)
    return F[1:] - F[:-1]


def _poly_basis(n_rows, degree):
    """Legendre polynomials 0..``degree`` on ``t`` from -1 to 1 over ``n_rows`` rows (read-only;
    made once per size and degree: the fits ask for the same ones again and again)."""
    if degree is None or degree < 0:
        return np.empty((n_rows, 0))
    return _legendre_design(int(n_rows), int(degree))


@functools.lru_cache(maxsize=256)
def _legendre_design(n_rows, degree):
    out = np.polynomial.legendre.legvander(np.linspace(-1.0, 1.0, n_rows), degree)
    out.setflags(write=False)
    return out


def _qr(A):
    """Reduced QR of a 2-D float64 ``A`` with more rows than columns: ``np.linalg.qr(A)``, by the
    same LAPACK routines called directly (numpy's wrapper costs ~10x the factorisation of the
    small designs the fits make thousands of times per image)."""
    from scipy.linalg import lapack

    m, k = A.shape
    if m < k or k == 0 or A.dtype != np.float64:
        return np.linalg.qr(A)
    h, tau, _, info = lapack.dgeqrf(A)
    if info != 0:
        return np.linalg.qr(A)
    r = h[:k].copy()
    r[_strictly_lower(k)] = 0.0  # (below the diagonal: the reflectors)
    q, _, info = lapack.dorgqr(h[:, :k], tau)
    # (C order, as numpy returns it: products with q then sum in the same order, to the last bit)
    return (np.ascontiguousarray(q), r) if info == 0 else np.linalg.qr(A)


@functools.lru_cache(maxsize=64)
def _strictly_lower(k):
    mask = np.tri(k, k, -1, dtype=bool)
    mask.setflags(write=False)
    return mask


def _lstsq(A, y):
    """``np.linalg.lstsq(A, y)[0]`` and the ``R`` of ``A``'s QR: by the QR when ``A`` is well
    conditioned (``R`` is returned for the caller's covariance), else by lstsq (``R`` None)."""
    from scipy.linalg import lapack

    q, r = _qr(A)
    d = np.abs(np.diag(r))
    # (well conditioned only: there the QR's solution is lstsq's to ~1e-12, and R^-1 R^-T is
    # pinv(A'A), whose cutoff (1e-15 of A'A's largest singular value, ~3e-8 of A's) drops
    # nothing; a design accepted down to 1e-10, a neighbour column tiny or nearly a polynomial
    # on the kept rows, gave a baseline covariance up to 1e11 x pinv's and areas 1e-8 apart)
    if A.shape[0] >= A.shape[1] and d.size and d.min() > 1e-5 * d.max():
        coef, info = lapack.dtrtrs(r, q.T @ y)
        if info == 0:
            return coef, r
    return np.linalg.lstsq(A, y, rcond=None)[0], None


def _qr_lstsq(A, y):
    """Least-squares ``coef`` of ``A @ coef ~ y`` and an orthonormal basis ``q`` of ``A``'s columns.

    One QR decomposition serves both the solution and the variable-projection Jacobian. When the
    columns are (nearly) dependent (two components on one row, a component off the profile), the
    minimum-norm solution of the SVD is taken instead, and ``q`` spans the columns' range.
    """
    q, r = _qr(A)
    d = np.abs(np.diag(r))
    if d.size and d.min() > 1e-10 * d.max():
        # (the solve and the product with q exactly as before, to the last bit: with q in another
        # memory order (~1e-13 apart) a band decision on a real blot, ZDF B2AR Oct8 GAPDH, flipped
        # and its volumes halved; that decision sits on a knife's edge, see issue 8)
        return np.linalg.solve(r, q.T @ y), q
    u, sv, vt = np.linalg.svd(A, full_matrices=False)
    good = sv > sv[0] * max(A.shape) * np.finfo(float).eps if sv.size else sv > 0
    coef = vt[good].T @ ((u[:, good].T @ y) / sv[good])
    return coef, u[:, good]


def bounded_lm(resid, jac, theta0, lo, hi, *, max_nfev=200, ftol=1e-8, xtol=1e-3):
    """Minimise ``|resid(theta)|^2`` within ``lo <= theta <= hi`` (projected Levenberg-Marquardt).

    Steps solve ``(H + lam diag(H)) step = -J^T r`` (Marquardt's scaling: invariant to the units
    of each parameter), projected onto the bounds; ``lam`` shrinks by 3 after a step that lowers
    the cost and grows by 4 until one does. For the few (2-30) parameters of a band fit this is
    much cheaper per step than scipy's trust-region reflective solver, whose SVD of the whole
    Jacobian and bookkeeping dominate on such small problems.

    Parameters
    ----------
    resid, jac : callable
        ``resid(theta)`` -> residual vector; ``jac(theta)`` -> its Jacobian (rows x parameters),
        asked only at points ``resid`` was just evaluated at.
    theta0, lo, hi : ndarray
        Start and bounds (the start is clipped into them).
    max_nfev : int, optional
        Most residual evaluations.
    ftol : float, optional
        Converged when a step lowers the cost by at most ``ftol`` of it and moves no parameter
        by more than ``xtol``.
    xtol : float, optional
        In the parameters' units (rows, for band rows and widths).

    Returns
    -------
    theta : ndarray
    converged : bool
        False when ``max_nfev`` ran out first.
    nfev : int
    """
    theta = np.clip(np.asarray(theta0, float), lo, hi)
    r = resid(theta)
    cost = float(r @ r)
    if not np.isfinite(cost):
        raise ValueError("bounded_lm: the residuals are not finite at the start")
    nfev = 1
    lam = 1e-3
    while nfev < max_nfev:
        J = jac(theta)
        g = J.T @ r
        # a parameter held at a bound that the descent would push further out stays there:
        # stepping it too only to clip the step back bends the step and stalls the search
        free = ~(((theta <= lo) & (g > 0)) | ((theta >= hi) & (g < 0)))
        Jf = J[:, free]
        H = Jf.T @ Jf
        gf = g[free]
        if not np.any(gf):  # no free parameter the cost depends on: a (bounded) minimum
            return theta, True, nfev
        dH = np.diag(H) + 1e-12
        improved = False
        while lam < 1e10 and nfev < max_nfev:
            step = np.zeros_like(theta)
            try:
                step[free] = np.linalg.solve(H + lam * np.diag(dH), -gf)
            except np.linalg.LinAlgError:
                lam *= 4.0
                continue
            new = np.minimum(np.maximum(theta + step, lo), hi)  # (np.clip, without its overhead)
            if np.array_equal(new, theta):  # the step no longer moves theta: nothing left to gain
                return theta, True, nfev
            rn = resid(new)
            nfev += 1
            cn = float(rn @ rn)
            if cn < cost:
                improved = True
                break
            lam *= 4.0
        if not improved:  # no step lowers the cost: a (bounded) minimum
            return theta, lam >= 1e10, nfev
        done = cost - cn <= ftol * cost and bool(np.all(np.abs(new - theta) <= xtol))
        theta, r, cost = new, rn, cn
        lam = max(lam / 3.0, 1e-9)
        if done:
            return theta, True, nfev
    return theta, False, nfev


def fit_peaks(profile, centers, sigmas, *, degree=1, tied=False, fixed=False, center_tol=3.0,
              sigma_range=(0.6, 1.6), max_nfev=200, tol=1e-8, solver="lm"):
    """Fit a sum of Gaussian bands plus a polynomial baseline to a row profile.

    Centres and widths are fitted by bounded non-linear least squares; areas and baseline
    coefficients are solved linearly for every trial (variable projection), so the fit is exact
    for any offset or scale of the profile.

    Parameters
    ----------
    profile : ndarray, shape (n_rows,)
        Row profile (counts summed across the lane per row). Not modified.
    centers, sigmas : array_like of float, shape (k,)
        Starting centres and widths of the band components (rows within the profile).
    degree : int or None, optional
        Degree of the baseline polynomial; ``None`` fits no baseline (profile already
        background-subtracted).
    tied : bool, optional
        Move all components by one common shift and widen them by one common factor (the band
        pattern of a lane seen elsewhere), instead of each on its own.
    fixed : bool, optional
        Hold centres and widths at their starts; only areas and baseline are fitted (weak bands:
        fitting their shape to noise would bias the area).
    center_tol : float, optional
        A centre may move at most this many rows from its start.
    sigma_range : (float, float), optional
        A width may vary within these factors of its start.
    max_nfev : int, optional
        Iteration limit of the non-linear fit.
    tol : float, optional
        Relative tolerance of the cost (and, for ``"trf"``, of the parameters) of the
        non-linear fit.
    solver : {"lm", "trf"}, optional
        :func:`bounded_lm` (default), or scipy's trust-region reflective ``least_squares``
        (parameters scaled by their starts), several times slower per step. A fit whose
        parameters are well determined ends at the same minimum either way; where several
        decompositions fit about as well (a skewed band as Gaussian pieces), the two may end
        at different ones.

    Returns
    -------
    fit : dict
        ``centers``, ``sigmas``, ``areas`` (ndarray, shape (k,)), ``components`` (ndarray,
        shape (n_rows, k): each band's fitted contribution per row), ``baseline`` (ndarray,
        shape (n_rows,); zeros when ``degree`` is None), ``residual_sd`` (float),
        ``converged`` (bool), ``nfev`` (int).

    Examples
    --------
    >>> u = np.arange(60.0)
    >>> y = 500 * gaussian_basis(60, [30.0], [4.0])[:, 0] + 10 + 0.1 * u
    >>> f = fit_peaks(y, [28.0], [5.0])
    >>> round(float(f["areas"][0]), 3), round(float(f["centers"][0]), 3)
    (500.0, 30.0)
    """
    y = np.asarray(profile, dtype=float)
    n = y.size
    c0 = np.atleast_1d(np.asarray(centers, dtype=float)).copy()
    s0 = np.atleast_1d(np.asarray(sigmas, dtype=float)).copy()
    k = c0.size
    P = _poly_basis(n, degree)

    if tied:
        def unpack(theta):
            return c0 + theta[0], s0 * theta[1]

        theta0 = np.array([0.0, 1.0])
        lo = np.array([-center_tol, sigma_range[0]])
        hi = np.array([center_tol, sigma_range[1]])
    else:
        def unpack(theta):
            return theta[:k], theta[k:]

        theta0 = np.concatenate([c0, s0])
        lo = np.concatenate([c0 - center_tol, s0 * sigma_range[0]])
        hi = np.concatenate([c0 + center_tol, s0 * sigma_range[1]])

    cache = {}

    def solve(theta):
        key = theta.tobytes()
        if cache.get("key") != key:  # the Jacobian is asked at the point just evaluated
            c, s = unpack(theta)
            z = _edge_z(n, c, s)
            A = np.hstack([_edge_basis(z), P])
            cache.update(key=key, value=(A, *_qr_lstsq(A, y), z))
        return cache["value"]

    def resid(theta):
        A, coef, _, _ = solve(theta)
        return A @ coef - y

    def jac(theta):
        # Kaufman's variable-projection Jacobian: the residual's derivative with the linear
        # coefficients held, projected off the span of the basis (exact at the optimum's
        # first order; saves the 2k extra residual evaluations of finite differences)
        c, s = unpack(theta)
        A, coef, q, z = solve(theta)
        pe = np.exp(-0.5 * z * z)  # per edge: row u has zp = z[u + 1], zm = z[u]
        zpe = z * pe
        pp, pm = pe[1:], pe[:-1]
        norm = 1.0 / (np.sqrt(2.0 * np.pi) * s[None, :])
        dc = -(pp - pm) * norm * coef[None, :k]  # d(column j * coef_j) / d c_j
        ds = -(zpe[1:] - zpe[:-1]) * norm * coef[None, :k]  # ... / d s_j
        if tied:
            D = np.column_stack([dc.sum(1), (ds * s0[None, :]).sum(1)])
        else:
            D = np.hstack([dc, ds])
        return D - q @ (q.T @ D)

    converged = True
    nfev = 0
    theta = theta0
    if solver not in ("lm", "trf"):
        raise ValueError(f"fit_peaks: solver must be 'lm' or 'trf'; got {solver!r}")
    if k and not fixed and solver == "trf":
        from scipy.optimize import least_squares

        sol = least_squares(resid, theta0, jac=jac, bounds=(lo, hi),
                            x_scale=np.maximum(np.abs(theta0), 1.0),
                            max_nfev=max_nfev, method="trf", ftol=tol, xtol=tol)
        theta, converged, nfev = sol.x, bool(sol.status > 0), int(sol.nfev)
    elif k and not fixed:
        theta, converged, nfev = bounded_lm(resid, jac, theta0, lo, hi, max_nfev=max_nfev,
                                            ftol=tol)
    A, coef, _, _ = solve(theta)
    c, s = unpack(theta)
    comps = A[:, :k] * coef[:k]
    base = A[:, k:] @ coef[k:] if P.shape[1] else np.zeros(n)
    r = y - A @ coef
    dof = max(n - A.shape[1] - theta.size, 1)
    return {
        "centers": c, "sigmas": s, "areas": coef[:k].copy(), "components": comps,
        "baseline": base, "residual_sd": float(np.sqrt(r @ r / dof)),
        "converged": converged, "nfev": nfev,
    }


def anchored_baseline(profile, support, *, bands=None, exclude=None, degree=4, min_rows=3):
    """Baseline fitted on the rows outside a band's support only (anchored on its flanks).

    Parameters
    ----------
    profile : ndarray, shape (n_rows,)
        Row profile (raw counts summed across the lane). Not modified.
    support : (int, int)
        First and last row of the band (inclusive); these rows do not take part in the fit, so a
        band of any shape (flat-topped, tailing) cannot trade area with the baseline.
    bands : ndarray, shape (n_rows, m), optional
        Unit shapes of other bands (neighbours) fitted together with the baseline (their areas
        are linear coefficients, like the baseline's); a neighbour whose area comes out negative
        is dropped and the rest refitted.
    exclude : ndarray of bool, shape (n_rows,), optional
        Further rows left out of the fit (other bands' rows, when their shape is not trusted);
        the flanks are counted without them.
    degree : int, optional
        Highest degree of the polynomial; allowed only when both flanks have at least
        ``max(min_rows, degree + 1)`` rows each, otherwise a line (both flanks with
        ``min_rows``). Within it, the lowest degree (at least 1) that the next one does not
        improve significantly on the flank rows (F ratio > 10) is used. Rows deviating by more than 4 robust sd (dust, an
        unmodelled band) are left out, three times.
    min_rows : int, optional
        Rows a flank needs to count.

    Returns
    -------
    baseline : ndarray, shape (n_rows,) or None
        ``None`` when a flank has fewer than ``min_rows`` rows: one flank cannot say how the
        background runs on under the band (a slope or a hump); the caller keeps its own.
    params : dict
        ``degree`` (used), ``rows_above``, ``rows_below`` (numbers of flank rows), ``areas`` of
        ``bands`` (ndarray, shape (m,)), ``fit`` (ndarray, shape (n_rows,): their fitted sum),
        ``residual_sd`` (of the rows fitted), ``alt_baselines`` (list of ndarray: the baselines
        one degree lower and one higher, where allowed, fitted on the same rows),
        ``baseline_cov`` (ndarray, shape (degree + 1, degree + 1): covariance of the Legendre coefficients of the baseline, on ``t`` from -1
        to 1 over the profile, from ``residual_sd``).

    Notes
    -----
    Interpolating a polynomial over a gap is only as good as the flanks: curvature is allowed
    only when both flanks are there, and higher degrees only when each flank has enough rows to
    pin them.

    Examples
    --------
    >>> u = np.arange(100.0)
    >>> box = np.where(np.abs(u - 50) <= 15, 300.0, 0.0)  # a flat-topped band
    >>> base, p = anchored_baseline(box + 20 + 0.5 * u, (30, 70))
    >>> round(float(base[50]), 6), p["degree"]
    (45.0, 1)
    """
    y = np.asarray(profile, dtype=float)
    n = y.size
    a, b = int(support[0]), int(support[1])
    out = np.ones(n, bool)
    out[max(a, 0):min(b, n - 1) + 1] = False
    if exclude is not None:
        out &= ~np.asarray(exclude, bool)
    na, nb = int(out[:max(a, 0)].sum()), int(out[min(b, n - 1) + 1:].sum())
    B = np.zeros((n, 0)) if bands is None else np.asarray(bands, float).reshape(n, -1)
    m = B.shape[1]
    if na >= max(min_rows, degree + 1) and nb >= max(min_rows, degree + 1):
        d = int(degree)
        # only the curvature the flanks carry: the lowest degree (>= 1) that a higher one does
        # not improve significantly (F ratio > 10 on the flank rows); a polynomial carried
        # over the band's gap amplifies whatever noise its extra terms fit
        fl = np.ones(n, bool)
        fl[max(a, 0):min(b, n - 1) + 1] = False
        if exclude is not None:
            fl &= ~np.asarray(exclude, bool)
        Bf = np.zeros((n, 0)) if bands is None else np.asarray(bands, float).reshape(n, -1)

        # the polynomials of each degree are nested (legvander(t, k) is the first k + 1 columns
        # of legvander(t, d)): one QR of the highest degree's design gives every lower degree's
        # fit, when its columns are independent (else each degree by lstsq)
        Af = np.hstack([Bf, _poly_basis(n, d)])[fl]
        yf = y[fl]
        q, rr = _qr(Af)
        dg = np.abs(np.diag(rr))
        nested = Af.shape[0] >= Af.shape[1] and bool(dg.size) and dg.min() > 1e-10 * dg.max()
        qy = q.T @ yf

        def _rss(k):
            p = Bf.shape[1] + k + 1
            if nested:
                r = yf - q[:, :p] @ qy[:p]
            else:
                A = Af[:, :p]
                r = yf - A @ np.linalg.lstsq(A, yf, rcond=None)[0]
            return float(r @ r), p

        d_sel, (r_lo, _) = 1, _rss(1)
        for k in range(2, d + 1):
            r_hi, p_hi = _rss(k)
            dof = max(int(fl.sum()) - p_hi, 1)
            floor = (1e-9 * (float(np.abs(y).max()) + 1.0)) ** 2  # exact data: no noise
            if r_lo - r_hi <= 10.0 * max(r_hi / dof, floor):
                break
            d_sel, r_lo = k, r_hi
        d = d_sel
    elif na >= min_rows and nb >= min_rows:
        d = 1
    else:  # one flank cannot say how the background runs on under the band
        return None, {"degree": None, "rows_above": na, "rows_below": nb,
                      "areas": np.zeros(m), "fit": np.zeros(n), "residual_sd": float("nan"),
                      "baseline_cov": None}
    P = _poly_basis(n, d)
    cols = np.arange(m)
    keep = out.copy()
    for _ in range(4):
        A = np.hstack([B[:, cols], P])
        coef, rk_r = _lstsq(A[keep], y[keep])
        if cols.size and (coef[:cols.size] < 0).any():  # a neighbour cannot be negative
            cols = cols[coef[:cols.size] >= 0]
            continue
        r = y - A @ coef
        rk = r[keep]
        sd = 1.4826 * float(median1d(np.abs(rk - median1d(rk)))) + 1e-300
        new = out & (np.abs(r) <= max(4.0 * sd, 1e-12 * (np.abs(y).max() + 1.0)))
        if new.sum() < d + 1 + cols.size + 2 or np.array_equal(new, keep):
            break  # (A and coef are the fit on the final rows and neighbours)
        keep = new
    else:  # the last round changed the rows or the neighbours: fit them once more
        A = np.hstack([B[:, cols], P])
        coef, rk_r = _lstsq(A[keep], y[keep])
    areas = np.zeros(m)
    areas[cols] = coef[:cols.size]
    base = P @ coef[cols.size:]
    r = (y - A @ coef)[keep]
    res_sd = float(np.sqrt(r @ r / max(r.size - A.shape[1], 1)))
    # covariance of the polynomial's coefficients from the rows fitted (their scatter about the
    # fit as the noise): how far the baseline under the band could lie from where it was put
    inv = None
    if rk_r is not None:  # (Ak' Ak)^-1 = R^-1 R^-T, Ak = QR of full rank
        from scipy.linalg import lapack

        ri, info = lapack.dtrtri(rk_r)
        inv = ri @ ri.T if info == 0 else None
    if inv is None:
        Ak = A[keep]
        inv = np.linalg.pinv(Ak.T @ Ak)
    cov = res_sd ** 2 * inv[cols.size:, cols.size:]
    # the baselines of the degrees beside the one taken (within 1..degree, as far as the flanks
    # allow it), fitted on the same rows with the same neighbours: how much the choice of degree
    # moves what lies under the band
    alts = []
    d_max = int(degree) if min(na, nb) >= max(min_rows, int(degree) + 1) else 1
    for da in (d - 1, d + 1):
        if 1 <= da <= d_max and keep.sum() > da + 1 + cols.size:
            Pa = _poly_basis(n, da)
            coef_a, _ = _lstsq(np.hstack([B[:, cols], Pa])[keep], y[keep])
            alts.append(Pa @ coef_a[cols.size:])
    return base, {
        "degree": d, "rows_above": na, "rows_below": nb, "areas": areas,
        "fit": B @ areas, "residual_sd": res_sd, "baseline_cov": cov, "alt_baselines": alts,
    }


def _components_params(fit):
    return [
        {"center": float(c), "sigma": float(s), "area": float(a)}
        for c, s, a in zip(fit["centers"], fit["sigmas"], fit["areas"])
    ]


# --------------------------------------------------------------------------------------------
# profile methods
# --------------------------------------------------------------------------------------------


def profile_baseline(profile, *, centers, sigmas, degree=4, tied=True, fixed=False,
                     center_tol=3.0, anchor_degree=4):
    """Baseline under a lane profile, fitted jointly with the bands in it.

    Parameters
    ----------
    profile : ndarray, shape (n_rows,)
        Raw row profile of one lane (counts summed across the lane width). Not modified.
    centers, sigmas : array_like of float
        Starting rows and widths of every band in the profile (target and neighbours).
    degree : int, optional
        Degree of the baseline polynomial (4 follows lane smear and gradients over the
        window; bands are far narrower, so they are not absorbed).
    tied : bool, optional
        Bands move and widen together (one shift, one width factor; see :func:`fit_peaks`).
    fixed : bool, optional
        Hold band rows and widths (too weak to locate).
    center_tol : float, optional
        How far (rows) a band centre may move during the fit.
    anchor_degree : int, optional
        Highest degree of the baseline :func:`anchored_baseline` fits on the rows outside the
        target band once its support is known (what :func:`blotquant.bands.measure_bands`
        integrates over); not used here, recorded in ``params``.

    Returns
    -------
    baseline : ndarray, shape (n_rows,)
        Background per row in profile units.
    params : dict
        ``method``, ``degree``, ``anchor_degree``, ``components`` (list of {center, sigma, area}),
        ``converged``, ``residual_sd``; plus ``_fit`` (the full :func:`fit_peaks` result,
        not JSON; callers drop it).

    Notes
    -----
    The joint fit assumes Gaussian bands. It locates the bands (rows, widths) and apportions
    overlapping ones; it is not the volume's baseline: under a flat-topped or tailing band a
    polynomial fitted jointly with a wrong peak shape trades area with the peak (a 30-row box
    came out 9x too large with degree 4). :func:`blotquant.bands.measure_bands` therefore
    integrates the raw profile minus :func:`anchored_baseline`, fitted on the rows outside the
    target's support, minus the fitted neighbours.

    Examples
    --------
    >>> y = 800 * gaussian_basis(80, [40.0], [5.0])[:, 0] + 100.0
    >>> base, p = profile_baseline(y, centers=[40.0], sigmas=[5.0])
    >>> round(float(base.mean()), 6), p["converged"]
    (100.0, True)
    """
    fit = fit_peaks(profile, centers, sigmas, degree=degree, tied=tied, fixed=fixed,
                    center_tol=center_tol)
    params = {
        "method": "profile", "degree": int(degree), "anchor_degree": int(anchor_degree),
        "components": _components_params(fit),
        "converged": fit["converged"], "residual_sd": fit["residual_sd"], "_fit": fit,
    }
    return fit["baseline"], params


def border_baseline(profile, *, centers, sigmas, border=8, gap=3.0, tied=True, fixed=False,
                    center_tol=3.0):
    """Straight baseline through the profile just outside the band(s) (ImageJ-style box border).

    Parameters
    ----------
    profile : ndarray, shape (n_rows,)
        Raw row profile of one lane. Not modified.
    centers, sigmas : array_like of float
        Rows and widths of the bands in the profile; the border starts ``gap`` widths outside
        the outermost ones.
    border : int, optional
        Number of rows in each border strip (above and below).
    gap : float, optional
        Distance of the border strips from the outermost band centres, in band widths.
    tied, fixed, center_tol : optional
        How the bands are separated afterwards (see :func:`fit_peaks`).

    Returns
    -------
    baseline : ndarray, shape (n_rows,)
        Line through the medians of the two border strips.
    params : dict
        ``method``, ``rows_above``, ``rows_below`` (row ranges used), ``level_above``,
        ``level_below``, ``components``, ``converged``, ``residual_sd``, ``_fit``.

    Examples
    --------
    >>> y = 800 * gaussian_basis(80, [40.0], [4.0])[:, 0] + 50.0
    >>> base, p = border_baseline(y, centers=[40.0], sigmas=[4.0])
    >>> round(float(base[40]), 1)
    50.0
    """
    y = np.asarray(profile, dtype=float)
    n = y.size
    c = np.asarray(centers, dtype=float)
    s = np.asarray(sigmas, dtype=float)
    lo = int(np.floor(np.min(c - gap * s))) if c.size else n // 2
    hi = int(np.ceil(np.max(c + gap * s))) if c.size else n // 2
    a0, a1 = max(lo - border, 0), max(lo, 1)
    b0, b1 = min(hi + 1, n - 1), min(hi + 1 + border, n)
    a1 = max(a1, a0 + 1)
    b0 = min(b0, b1 - 1)
    ya, yb = float(np.median(y[a0:a1])), float(np.median(y[b0:b1]))
    xa, xb = (a0 + a1 - 1) / 2.0, (b0 + b1 - 1) / 2.0
    u = np.arange(n, dtype=float)
    base = ya + (yb - ya) * (u - xa) / (xb - xa) if xb > xa else np.full(n, ya)
    fit = fit_peaks(y - base, c, s, degree=None, tied=tied, fixed=fixed, center_tol=center_tol)
    params = {
        "method": "border", "rows_above": [a0, a1], "rows_below": [b0, b1],
        "level_above": ya, "level_below": yb, "components": _components_params(fit),
        "converged": fit["converged"], "residual_sd": fit["residual_sd"], "_fit": fit,
    }
    return base, params


# --------------------------------------------------------------------------------------------
# image methods
# --------------------------------------------------------------------------------------------


def rolling_disk(image, *, radius=50.0, downsample="auto"):
    """Rolling-disk background: grey opening with a flat elliptical element.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        Raw counts, bands bright. Not modified.
    radius : float, optional
        Disk radius in pixels; must exceed half the height of the tallest band (or doublet).
    downsample : int or "auto", optional
        Block-average by this factor before the opening (also suppresses noise, which would
        otherwise pull the opening down); ``"auto"`` picks ``max(1, radius // 8)``.

    Returns
    -------
    background : ndarray of float64, shape (rows, cols)
    params : dict
        ``method``, ``radius``, ``downsample`` (factor used), ``kernel_px`` (element size on the
        downsampled grid).

    Notes
    -----
    Assumes the background varies slowly over the disk and that the lowest smoothed pixels
    under the disk are background; noise still biases the opening low, so volumes come out a
    little high (the 2-D reference method, not the default).

    Examples
    --------
    >>> img = np.full((120, 120), 100.0)
    >>> img[50:60, 40:80] += 500
    >>> bg, p = rolling_disk(img, radius=30)
    >>> float(bg[55, 60]), p["downsample"]
    (100.0, 3)
    """
    import cv2

    img = np.asarray(image, dtype=np.float64)
    f = max(1, int(radius // 8)) if downsample == "auto" else max(1, int(downsample))
    h, w = img.shape
    small = img.astype(np.float32)
    if f > 1:
        small = cv2.resize(small, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    k = max(3, int(round(2 * radius / f)) | 1)
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    opened = cv2.morphologyEx(small, cv2.MORPH_OPEN, se, borderType=cv2.BORDER_REPLICATE)
    if f > 1:
        opened = cv2.resize(opened, (w, h), interpolation=cv2.INTER_LINEAR)
    params = {"method": "rolling-disk", "radius": float(radius), "downsample": int(f),
              "kernel_px": int(k)}
    return opened.astype(np.float64), params


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackgroundMethod:
    """One registered background method.

    Attributes
    ----------
    name : str
        Registry name.
    kind : {"profile", "image"}
        ``"profile"``: ``function(profile, *, centers, sigmas, **method_kwargs)`` returns the
        baseline per row and the separated bands; ``"image"``: ``function(crop,
        **method_kwargs)`` returns a per-pixel background.
    function : callable
        The implementation, returning ``(background, params)``.
    description : str
        One line for listings.
    """

    name: str
    kind: str
    function: Callable
    description: str


def joint_model(profile, *, centers=None, sigmas=None, degree=2):
    """Baseline of one lane profile under the joint band model (:mod:`blotquant.bandmodel`).

    :func:`blotquant.bands.measure_bands` fits every lane of a window together with this
    method (shared band shapes, the band count by the criterion, data volumes with a bootstrap
    sd); called on one profile, the profile is its own consensus. ``centers`` and ``sigmas``
    (rows) seed nothing here: the bands are found. Returns ``(baseline, params)``.

    Examples
    --------
    >>> u = np.arange(120.0)
    >>> y = 50.0 + 0.2 * u + 3000.0 * np.exp(-0.5 * ((u - 60) / 4.0) ** 2)
    >>> y = y + np.random.default_rng(0).normal(0.0, 5.0, u.size)
    >>> base, p = joint_model(y)
    >>> bool(np.abs(base - (50.0 + 0.2 * u)).max() < 10.0)
    True
    """
    from blotquant import bandmodel as bm

    y = np.asarray(profile, float)
    d = np.diff(y)
    noise = float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0)) or 1.0
    pattern, fit, steps, *_ = bm.select_pattern(y[None, :], np.zeros(1), np.array([noise]),
                                                window=(0, y.size - 1), degree=degree)
    f = fit["fits"][0]
    return f["baseline"], {"n_bands": int(pattern.size), "bands": pattern.as_records(),
                           "degree": int(degree)}


BACKGROUNDS: Mapping[str, BackgroundMethod] = {
    "profile": BackgroundMethod(
        "profile", "profile", profile_baseline,
        "lane profile: polynomial baseline fitted jointly with a Gaussian per band"),
    "border": BackgroundMethod(
        "border", "profile", border_baseline,
        "line through the median of the profile rows just above and below the bands"),
    "rolling-disk": BackgroundMethod(
        "rolling-disk", "image", rolling_disk,
        "2-D grey opening with a flat elliptical element on a downsampled copy"),
    "joint-model": BackgroundMethod(
        "joint-model", "profile", joint_model,
        "every lane at once: baseline + every band of a wider context (shared shapes with "
        "tails and flat tops, band count by BIC), data volumes with a bootstrap sd"),
}

#: Name ``"auto"`` resolves to; chosen by ``benchmarks/accuracy.py``.
DEFAULT_BACKGROUND = "profile"


def get_background(name):
    """Look up a background method by name.

    Parameters
    ----------
    name : str
        A key of :data:`BACKGROUNDS` or ``"auto"`` (:data:`DEFAULT_BACKGROUND`).

    Returns
    -------
    BackgroundMethod

    Raises
    ------
    UnknownMethodError
        If ``name`` is not registered; the message lists the valid names.

    Examples
    --------
    >>> get_background("auto").name
    'profile'
    """
    key = DEFAULT_BACKGROUND if name == "auto" else name
    try:
        return BACKGROUNDS[key]
    except (KeyError, TypeError):
        valid = ", ".join(["auto", *BACKGROUNDS])
        raise UnknownMethodError(
            f"unknown background method {name!r}; allowed: {valid}") from None


#: Arguments measure_bands supplies itself; a user may set the method's other keyword options.
_SUPPLIED = ("centers", "sigmas")


def check_options(name, method_kwargs):
    """Validate a background method name and its options before any image is read.

    Raises
    ------
    UnknownMethodError
        Unknown method, an option the method does not take (the message lists those it
        does), or a non-positive ``radius``.

    Examples
    --------
    >>> check_options("rolling-disk", {"radius": 40})
    >>> check_options("profile", {"radius": 40})
    Traceback (most recent call last):
    ...
    blotquant.background.UnknownMethodError: background 'profile' takes no option ['radius']; its options: anchor_degree, center_tol, degree, fixed, tied
    """
    import inspect

    method = get_background(name)
    params = inspect.signature(method.function).parameters
    allowed = sorted(p for p, v in params.items() if v.kind is v.KEYWORD_ONLY and p not in _SUPPLIED)
    unknown = sorted(set(method_kwargs or {}) - set(allowed))
    if unknown:
        raise UnknownMethodError(f"background {method.name!r} takes no option {unknown}; its options: "
                                 + ", ".join(allowed))
    radius = (method_kwargs or {}).get("radius")
    if radius is not None and not (isinstance(radius, (int, float)) and radius > 0):
        raise UnknownMethodError(f"background {method.name!r}: `radius` must be a positive number of pixels; "
                                 f"got {radius!r}")
