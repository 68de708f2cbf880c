"""The band model: a smooth baseline and every band of a context, fitted jointly over the lanes.

Each lane's row profile ``y_l(u)`` (raw counts summed across the lane) over a context wider
than the user's row window is modelled as

    y_l(u) = b_l(u) + sum_k a_lk f_k(u - s_l)

* ``b_l`` is the lane's own baseline, a Legendre polynomial of low degree over the context;
* ``f_k`` is band ``k``'s shape along the lane, the same in every lane (one protein runs alike
  across one gel): a box of length ``L_k`` (a flat top) convolved with a Gaussian of sd
  ``sigma_k`` and with an exponential tail of length ``tau_k`` (down the lane for ``tau > 0``,
  up for ``tau < 0``), integrated over each pixel row exactly (:func:`shape_basis`). Gaussian,
  skewed (exponentially modified Gaussian) and flat-topped bands are members of the family;
* ``s_l`` is the lane's shift (smile, tilt), ``a_lk >= 0`` the band's area in that lane.

Shapes are fitted to the consensus (the lanes aligned and averaged); areas and baselines are
solved per lane, linearly (non-negative areas). The number of bands is chosen by the Bayesian
information criterion over all lanes' rows, each lane's residuals scaled by its own
overdispersion under the best-fitting model (unmodelled smear cannot buy bands, and a lane
far brighter than the others cannot decide alone): a band is added while it lowers the
criterion, never because a threshold on its size was met. The user's window is a constraint
on the search: the pattern keeps a band whose peak lies in the window.

A band's volume is taken from the data: the lane's counts minus its baseline, each row counted
in the band's share of what the fitted bands put there (1 where the band stands alone), so the
model decides only how rows shared with a neighbour are divided. Its uncertainty comes from a
moving-block bootstrap of the lane's residuals (the linear part refitted for each replicate).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import least_squares, nnls
from scipy.special import erfcx, ndtr

__all__ = ["Pattern", "band_groups", "bic", "core_sd", "fit_lane", "fit_pattern", "joint_fit",
           "lane_volume", "model_dips", "select_pattern", "shape_basis", "shape_sd",
           "share_chi2"]

_SQRT2 = np.sqrt(2.0)
_INV_SQRT2PI = 1.0 / np.sqrt(2.0 * np.pi)
_L_MIN = 0.25       # rows: a shorter box is a point (its variance L^2 / 12 < 0.006 rows^2)
_TAU_MIN = 0.01     # in sigma units: a shorter tail is no tail (it moves the band 0.01 sd)


def _J(z):
    """Antiderivative of the standard normal CDF: z Phi(z) + phi(z)."""
    return z * ndtr(z) + _INV_SQRT2PI * np.exp(-0.5 * z * z)


def _emg_tail(x, s, tau):
    """exp(-x / tau + s^2 / (2 tau^2)) Phi(x / s - s / tau), without overflow (tau > 0)."""
    w = (s / tau - x / s) / _SQRT2
    out = np.empty(np.broadcast(x, s, tau).shape)
    x, s, tau, w = np.broadcast_arrays(x, s, tau, w)
    pos = w > 0
    xp, sp = x[pos], s[pos]
    out[pos] = 0.5 * erfcx(w[pos]) * np.exp(-0.5 * (xp / sp) ** 2)
    neg = ~pos
    xn, sn, tn = x[neg], s[neg], tau[neg]
    out[neg] = np.exp(-xn / tn + 0.5 * (sn / tn) ** 2) * ndtr(xn / sn - sn / tn)
    return out


def _antiderivative(x, s, tau):
    """Antiderivative of the CDF of N(0, s) convolved with Exp(tau), tau >= 0, at ``x``."""
    return s * _J(x / s) - tau * (ndtr(x / s) - _emg_tail(x, s, np.maximum(tau, 1e-12)))


def shape_basis(n_rows, centers, sigmas, taus=None, lengths=None, offset=0.0):
    """Pixel-integrated unit-area band shapes, one column per band.

    Parameters
    ----------
    n_rows : int
        Length of the profile; row ``u`` covers ``[u - 0.5, u + 0.5]``.
    centers : array_like, shape (k,)
        Band centres (rows): the middle of the box before the tail is added.
    sigmas : array_like, shape (k,)
        Gaussian sd of each band (rows).
    taus : array_like, shape (k,), optional
        Tail length (rows); positive tails run down the lane (to larger rows). Default 0.
    lengths : array_like, shape (k,), optional
        Flat-top (box) length in rows. Default: a point.
    offset : float or array_like, optional
        Added to every centre (a lane's shift).

    Returns
    -------
    basis : ndarray, shape (n_rows, k)
        ``basis[:, j].sum()`` is the fraction of band ``j`` inside the profile.

    Examples
    --------
    >>> b = shape_basis(101, [40.0, 50.0], [3.0, 2.0], taus=[4.0, -2.0], lengths=[0.0, 6.0])
    >>> np.round(b.sum(0), 6).tolist()
    [1.0, 1.0]
    """
    c = np.atleast_1d(np.asarray(centers, float)) + offset
    k = c.size
    s = np.broadcast_to(np.asarray(sigmas, float), (k,))
    t = np.zeros(k) if taus is None else np.broadcast_to(np.asarray(taus, float), (k,))
    L = np.zeros(k) if lengths is None else np.broadcast_to(np.asarray(lengths, float), (k,))
    L = np.maximum(L, _L_MIN)
    u = np.arange(n_rows, dtype=float)[:, None]
    x = u - c[None, :]
    sign = np.where(t < 0, -1.0, 1.0)[None, :]
    x = x * sign  # a tail up the lane is the mirror image of one down it
    ta = np.maximum(np.abs(t), _TAU_MIN * s)[None, :]
    sb = s[None, :]
    h = 0.5 * L[None, :]
    xs = np.stack([x + 0.5 + h, x - 0.5 + h, x + 0.5 - h, x - 0.5 - h])
    A = _antiderivative(xs, sb, ta)
    basis = (A[0] - A[1] - A[2] + A[3]) / L[None, :]
    return np.maximum(basis, 0.0)


def shape_sd(sigma, tau=0.0, length=0.0):
    """Standard deviation of a band shape (rows): sqrt(sigma^2 + tau^2 + L^2 / 12)."""
    return np.sqrt(np.asarray(sigma, float) ** 2 + np.asarray(tau, float) ** 2
                   + np.maximum(np.asarray(length, float), _L_MIN) ** 2 / 12.0)


def core_sd(pattern):
    """Standard deviation of each band's core, its tail left out: sqrt(sigma^2 + L^2 / 12).

    A tail says how a band trails, not how wide it is: smear is told from a band by its core.
    """
    return shape_sd(pattern.sigmas, 0.0, pattern.lengths)


class Pattern:
    """Bands shared by the lanes: centres (consensus frame), sigmas, tails, flat-top lengths."""

    __slots__ = ("centers", "sigmas", "taus", "lengths")

    def __init__(self, centers, sigmas, taus=None, lengths=None):
        self.centers = np.asarray(centers, float).reshape(-1)
        k = self.centers.size
        self.sigmas = np.broadcast_to(np.asarray(sigmas, float), (k,)).copy()
        self.taus = np.zeros(k) if taus is None else np.broadcast_to(
            np.asarray(taus, float), (k,)).copy()
        self.lengths = np.zeros(k) if lengths is None else np.broadcast_to(
            np.asarray(lengths, float), (k,)).copy()

    @property
    def size(self):
        return int(self.centers.size)

    def basis(self, n, offset=0.0):
        return shape_basis(n, self.centers, self.sigmas, self.taus, self.lengths, offset)

    def sds(self):
        return shape_sd(self.sigmas, self.taus, self.lengths)

    def peaks(self, n_fine=8):
        """Row of each band's maximum (consensus frame), to 1 / ``n_fine`` row."""
        out = np.empty(self.size)
        sds = self.sds()
        for j in range(self.size):
            reach = 4.0 * float(sds[j]) + abs(float(self.taus[j])) + float(self.lengths[j])
            lo = float(self.centers[j]) - reach
            m = int(np.ceil(2 * reach * n_fine)) + 1
            # the same shape on a grid n_fine times finer (every length scaled by n_fine)
            f = shape_basis(m, [(self.centers[j] - lo) * n_fine], self.sigmas[j] * n_fine,
                            self.taus[j:j + 1] * n_fine, self.lengths[j:j + 1] * n_fine)[:, 0]
            out[j] = lo + float(np.argmax(f)) / n_fine
        return out

    def select(self, idx):
        idx = np.asarray(idx, int)
        return Pattern(self.centers[idx], self.sigmas[idx], self.taus[idx], self.lengths[idx])

    def as_records(self, row0=0.0):
        return [{"row": float(c + row0), "sigma": float(s), "tail": float(t),
                 "flat_top": float(max(L, 0.0))}
                for c, s, t, L in zip(self.centers, self.sigmas, self.taus, self.lengths)]


def _poly(n, degree):
    t = np.linspace(-1.0, 1.0, n)
    return np.polynomial.legendre.legvander(t, int(degree))


def _solve_linear(y, G, P, w=None):
    """Non-negative band areas and a free baseline: min ||w (y - P b - G a)||, a >= 0."""
    if w is not None:
        y, G, P = y * w, G * w[:, None], P * w[:, None]
    Q, R = np.linalg.qr(P)
    yr = y - Q @ (Q.T @ y)
    Gr = G - Q @ (Q.T @ G)
    if G.shape[1]:
        a, _ = nnls(Gr, yr, maxiter=50 * max(G.shape[1], 1))
    else:
        a = np.zeros(0)
    b = solve_triangular(R, Q.T @ (y - G @ a))
    r = y - P @ b - G @ a
    return a, b, float(r @ r)


# --------------------------------------------------------------------------------------------
# the pattern: shapes from the consensus


def _layout(k, shared):
    """Index of each band's (centre, log sigma, tail / sigma, log flat top) in the parameters."""
    if shared:  # one shape for every band: k centres + 3 shape parameters
        return np.arange(k), np.full(k, k), np.full(k, k + 1), np.full(k, k + 2)
    return np.arange(k), k + np.arange(k), 2 * k + np.arange(k), 3 * k + np.arange(k)


def _unpack(theta, lay):
    """Band parameters of every band (rows of ``theta``: one parameter vector, or several)."""
    theta = np.atleast_2d(theta)
    ic, i_s, it, il = lay
    s = np.exp(theta[:, i_s])
    return theta[:, ic], s, theta[:, it] * s, np.exp(theta[:, il])


def fit_pattern(C, start, *, weights=None, degree=3, center_tol=None, shapes=True,
                shared=False, max_nfev=60, sigma_range=(0.8, 40.0), max_tau=3.0,
                max_length=None):
    """Fit band shapes to the consensus profile ``C`` (rows of the consensus frame).

    The areas and a polynomial baseline of ``degree`` are solved linearly for every trial;
    centres, sigmas, tails (in sigma units, ``|tau| <= max_tau sigma``) and flat-top lengths by
    bounded least squares (variable projection). ``shared=True`` gives every band one shape
    (sigma, tail, flat top: the start's first band's); ``shapes=False`` keeps every band
    Gaussian. Returns the :class:`Pattern` and the residual sum of squares.
    """
    C = np.asarray(C, float)
    n = C.size
    k = start.size
    P = _poly(n, degree)
    w = None if weights is None else np.sqrt(np.asarray(weights, float))
    if max_length is None:
        max_length = n / 2.0
    lay = _layout(k, shared)
    m = 3 + k if shared else 4 * k
    ct = np.full(k, 4.0) if center_tol is None else np.broadcast_to(center_tol, (k,))
    sig = np.clip(start.sigmas, sigma_range[0] * 1.0001, sigma_range[1] * 0.9999)
    tr = np.clip(start.taus / sig, -0.99 * max_tau, 0.99 * max_tau) if shapes else 0 * sig
    ln = np.log(np.clip(start.lengths, _L_MIN * 1.0001, max_length * 0.999)) if shapes else \
        np.full(k, np.log(_L_MIN * 1.0001))
    theta0, lo, hi = np.empty(m), np.empty(m), np.empty(m)
    ic, i_s, it, il = lay
    theta0[ic], lo[ic], hi[ic] = start.centers, start.centers - ct, start.centers + ct
    theta0[i_s], lo[i_s], hi[i_s] = np.log(sig), np.log(sigma_range[0]), np.log(sigma_range[1])
    tmax = max_tau if shapes else 1e-9
    theta0[it], lo[it], hi[it] = tr, -tmax, tmax
    theta0[il], lo[il] = ln, np.log(_L_MIN)
    hi[il] = np.log(max_length) if shapes else np.log(_L_MIN * 1.0002)
    theta0 = np.clip(theta0, lo + 1e-12, hi - 1e-12)
    wv = np.ones(n) if w is None else w
    Cw = C * wv
    Pw = P * wv[:, None]
    cache = {}

    def basis_of(theta):
        c, s_, t_, l_ = _unpack(theta, lay)
        return shape_basis(n, c.ravel(), s_.ravel(), t_.ravel(), l_.ravel())

    def solve(theta):
        key = theta.tobytes()
        if cache.get("key") != key:
            G = basis_of(theta)
            A = np.hstack([G * wv[:, None], Pw])
            Q, R = np.linalg.qr(A)
            d = np.abs(np.diag(R))
            if d.min() > 1e-10 * d.max():
                coef = solve_triangular(R, Q.T @ Cw)
            else:  # a band moved off the profile (a column of zeros)
                coef = np.linalg.lstsq(R, Q.T @ Cw, rcond=None)[0]
            cache.update(key=key, value=(G, A, Q, coef))
        return cache["value"]

    def resid(theta):
        _, A, _, coef = solve(theta)
        return A @ coef - Cw

    def jac(theta):
        # variable projection (Kaufman): J = -(I - Q Q^T) dA/dtheta coef, every parameter
        # differenced at once (one basis call for all the perturbed patterns)
        G, _, Q, coef = solve(theta)
        h = 1e-5 * np.maximum(np.abs(theta), 1.0)
        T = theta[None, :] + np.diag(h)
        Gp = basis_of(T).reshape(n, m, k)  # (rows, perturbed parameter, band)
        D = ((Gp - G[:, None, :]) * coef[None, None, :k]).sum(2) / h[None, :] * wv[:, None]
        return D - Q @ (Q.T @ D)

    if k == 0:
        r = resid(theta0)
        return Pattern(start.centers, start.sigmas), float(r @ r)
    res = least_squares(resid, theta0, jac=jac, bounds=(lo, hi), method="trf",
                        x_scale="jac", max_nfev=max_nfev, ftol=1e-7, xtol=1e-7)
    c, s_, t_, l_ = (v[0] for v in _unpack(res.x, lay))
    return Pattern(c, s_, t_, l_), float(res.fun @ res.fun)


# --------------------------------------------------------------------------------------------
# lanes


def fit_lane(y, pattern, shift, *, degree=2, weights=None, shift_tol=0.0, refine=True):
    """Areas and baseline of one lane for a pattern at ``shift`` (refined within ``shift_tol``).

    Returns a dict: ``shift``, ``areas`` (k,), ``baseline`` (n,), ``G`` (unit shapes at the
    shift, (n, k)), ``rss`` (weighted), ``P`` (baseline basis), ``coef`` (baseline coefficients).
    """
    y = np.asarray(y, float)
    n = y.size
    P = _poly(n, degree)
    w = None if weights is None else np.sqrt(np.asarray(weights, float))

    def at(s):
        G = pattern.basis(n, s)
        a, b, rss = _solve_linear(y, G, P, w)
        return rss, a, b, G

    best_s = float(shift)
    best = at(best_s)
    if refine and shift_tol > 0 and pattern.size:
        # golden-section search of the shift (rss is smooth and unimodal near the alignment)
        g = (np.sqrt(5.0) - 1.0) / 2.0
        lo_s, hi_s = best_s - shift_tol, best_s + shift_tol
        x1, x2 = hi_s - g * (hi_s - lo_s), lo_s + g * (hi_s - lo_s)
        f1, f2 = at(x1), at(x2)
        for _ in range(14):
            if f1[0] < f2[0]:
                hi_s, x2, f2 = x2, x1, f1
                x1 = hi_s - g * (hi_s - lo_s)
                f1 = at(x1)
            else:
                lo_s, x1, f1 = x1, x2, f2
                x2 = lo_s + g * (hi_s - lo_s)
                f2 = at(x2)
        cand = (x1, f1) if f1[0] < f2[0] else (x2, f2)
        if cand[1][0] < best[0]:
            best_s, best = cand
    rss, a, b, G = best
    return {"shift": best_s, "areas": a, "coef": b, "baseline": P @ b, "G": G, "rss": rss,
            "P": P}


def joint_fit(Y, pattern, shifts, *, noise, degree=2, weights=None, shift_tol=0.0,
              refine=None, n_shape=None):
    """Every lane fitted with one pattern; the pooled goodness of fit for :func:`bic`.

    Each lane's residuals are scaled by its noise sd and pooled. Returns a dict: ``rss``
    (pooled, noise units), ``n`` (rows), ``n_par`` (4 per band for centre, sigma, tail and flat top, one
    area per band and lane, the baseline coefficients and a shift per lane) and ``fits`` (per
    lane, :func:`fit_lane`).
    """
    L, n = Y.shape
    fits = []
    res = []
    for i in range(L):
        w = None if weights is None else weights[i]
        f = fit_lane(Y[i], pattern, shifts[i], degree=degree, weights=w,
                     shift_tol=shift_tol if refine is None or refine[i] else 0.0)
        fits.append(f)
        r = (Y[i] - f["baseline"] - f["G"] @ f["areas"]) / noise[i]
        if w is not None:
            r = r[np.asarray(w) > 0]
        res.append(r)
    rr = np.concatenate(res)
    k = pattern.size
    return {"rss": float(rr @ rr), "n": int(rr.size),
            "n_par": int((4 * k if n_shape is None else n_shape) + L * k + L * (degree + 1) + L),
            "rss_lanes": np.array([float(r @ r) for r in res]),
            "n_lanes": np.array([r.size for r in res]), "fits": fits}


def dispersion(fit):
    """Residual variance in noise units per degree of freedom (at least 1), per lane: the scale
    by which unmodelled structure (smear, dust, a shape the family only approximates) and
    counting noise that grows with the signal inflate each lane's background noise.

    Each lane has its own: a lane 500 times brighter than another carries shot noise and shape
    misfit the background's noise sd does not know of, and with one pooled scale it would
    decide the model alone (its misfit would buy bands the other lanes do not show). A lane's
    degrees of freedom are its rows less its share (1 / L) of the model's parameters.
    """
    n_l = np.asarray(fit["n_lanes"], float)
    dof = np.maximum(n_l - fit["n_par"] * n_l / max(float(n_l.sum()), 1.0), 1.0)
    return np.maximum(np.asarray(fit["rss_lanes"], float) / dof, 1.0)


def bic(fit, c_hat):
    """Bayesian information criterion of a :func:`joint_fit`, with the overdispersion ``c_hat``.

    ``sum_l rss_l / c_l + n_par * log(n)`` (residuals in noise units, ``c_l`` lane ``l``'s
    overdispersion, :func:`dispersion`): the Gaussian log-likelihood with each lane's noise sd
    scaled by ``sqrt(c_l)``, as QAIC does for overdispersed counts (Burnham and Anderson).
    Models are compared with the ``c_hat`` of the one that fits best, so structure no model
    explains cannot buy bands. A scalar ``c_hat`` scales the pooled residuals.
    """
    c = np.asarray(c_hat, float)
    rss = float(fit["rss"] / c) if c.ndim == 0 else float((fit["rss_lanes"] / c).sum())
    return float(rss + fit["n_par"] * np.log(fit["n"]))


def lane_volume(y, fit, target, *, weights=None, n_boot=100, block=None, rng=None,
                eps=1e-3):
    """Volume of band ``target`` in one lane, from the data, with a bootstrap sd.

    Rows where the target's fitted shape holds at least ``eps`` of its maximum are its
    support. The baseline is refitted on the rows outside that support only (less the fitted
    bands there), when both flanks keep a few rows, so the target's own shape, right or wrong,
    never bends the baseline under it (otherwise the joint fit's baseline is kept). Each row
    of ``y - baseline`` in the support counts in the target's share of the fitted bands there:
    1 where the band stands alone, so its volume is the data's (plus the model's far tail
    beyond the support, under ``eps`` of the peak: ~0.1 % of a tailing band). A fit that gives
    the target no area (its rows went to wider neighbours) has no share to divide by: its volume
    is then its support's rows less the baseline and the other bands fitted there, and
    ``no_area`` says so (before, the share rule gave exactly 0, silently).

    The sd: the lane's residuals are resampled in moving blocks of ``block`` rows (default: a
    sixth of the support), added to the fitted model, and both fits and the volume are redone
    (shapes and shift held).
    """
    y = np.asarray(y, float)
    n = y.size
    G, P = fit["G"], fit["P"]
    a = fit["areas"]
    k = G.shape[1]
    T = np.atleast_1d(np.asarray(target, int))  # one band, or the pieces of one
    at = np.maximum(a[T], 0.0)
    own_fit = G[:, T] @ (at if at.sum() > 0 else np.ones(T.size))
    support = own_fit >= eps * max(float(own_fit.max()), 1e-300)
    rows = np.flatnonzero(support)
    if rows.size == 0:
        return None
    wv = np.ones(n) if weights is None else np.asarray(weights, float)
    w = np.sqrt(wv)
    others = np.setdiff1d(np.arange(k), T)
    min_flank = max(3, P.shape[1])
    # the flanks: rows outside the support, within half its length of it (near enough that
    # a low polynomial follows smear there)
    span = rows[-1] - rows[0] + 1
    near = (np.arange(n) >= rows[0] - span // 2) & (np.arange(n) <= rows[-1] + span // 2)
    out = ~support & (wv > 0) & near
    anchored = (out[:rows[0]].sum() >= min_flank and out[rows[-1] + 1:].sum() >= min_flank)
    A_all = np.hstack([G, P]) * w[:, None]

    pinv_all = np.linalg.pinv(A_all)  # the same design for the data and every replicate
    flank_bases = []
    if anchored:
        # the flanks' polynomial: Legendre over the flanks and support, of the degree (0-3) the
        # criterion prefers on the flank rows less the fitted bands there; chosen anew for
        # every bootstrap replicate, as the data choose it
        idx = np.flatnonzero(near)
        t = np.linspace(-1.0, 1.0, idx.size)
        m = int(out.sum())
        for d in range(4):
            if m <= d + 2:
                break
            Pd = np.zeros((n, d + 1))
            Pd[idx] = np.polynomial.legendre.legvander(t, d)
            flank_bases.append((d, Pd, np.linalg.pinv(Pd[out])))

    def flank_baseline(R):
        """Baseline (n, B) from the flank residuals ``R`` (rows ``out``, B columns)."""
        crit, bases = [], []
        for d, Pd, pinv in flank_bases:
            cb = pinv @ R
            res = R - Pd[out] @ cb
            crit.append(m * np.log(np.maximum((res * res).sum(0), 1e-300) / m)
                        + (d + 1) * np.log(m))
            bases.append(Pd @ cb)
        pick = np.argmin(np.array(crit), axis=0)
        return np.take_along_axis(np.array(bases), pick[None, None, :], 0)[0]

    def volumes(Y):
        """Volumes (and the pieces) of the columns of ``Y`` (n, B)."""
        coef = pinv_all @ (Y * w[:, None])
        a_all = np.clip(coef[:k], 0.0, None)
        own = G[:, T] @ a_all[T]
        a_oth = a_all[others]
        if anchored:  # the flanks less every band's fitted share there (the target's far tail)
            base = flank_baseline(Y[out] - (G @ a_all)[out])  # (0 beyond: never counted)
        else:
            base = P @ coef[k:]
        oth = G[:, others] @ a_oth
        tot = own + oth
        share = np.where(tot > 0, own / np.where(tot > 0, tot, 1.0), 1.0) * support[:, None]
        far = own[~support].sum(0)  # the model's tail beyond the support
        vol = ((Y - base) * share).sum(0) + far
        # a fit that gives the band no area leaves no share to divide the rows by (the share
        # rule would say 0 whatever the data hold): the band's rows less the baseline and
        # the other components fitted there, every unexplained count the band's
        none = ~(own.sum(0) > 0)
        if none.any():
            rest = ((Y - base - oth) * support[:, None]).sum(0)
            vol = np.where(none, rest, vol)
            share = np.where(none[None, :], support[:, None] * 1.0, share)
        return vol, share, base, none

    vol, share, base, none = volumes(y[:, None])
    vol, share, base, no_area = float(vol[0]), share[:, 0], base[:, 0], bool(none[0])
    # what the band's rows give the other components (without a band area: their fit there)
    overlap = float(((y - base) * np.where(support, 1.0 - share, 0.0)).sum()) if not no_area \
        else float(((G[:, others] @ np.clip(a[others], 0.0, None)) * support).sum())
    if anchored:  # the record's baseline: the flanks' one near the band, the joint one beyond
        base = np.where(near, base, fit["baseline"])
    model = fit["baseline"] + G @ a
    r = np.where(wv > 0, y - model, 0.0)
    rng = np.random.default_rng(0) if rng is None else rng
    if block is None:
        block = int(np.clip(round(float(support.sum()) / 6.0), 2, max(n // 4, 2)))
    n_blocks = int(np.ceil(n / block))
    starts = rng.integers(0, max(n - block + 1, 1), size=(n_boot, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(n_boot, -1)[:, :n]
    R = r[idx].T  # (n, n_boot)
    R = R - R.mean(0, keepdims=True) + r.mean()
    vols = volumes(model[:, None] + R)[0]
    sd = float(np.std(vols, ddof=1)) if n_boot > 1 else float("nan")
    return {"volume": vol, "volume_sd": sd, "share": share, "rows": (int(rows[0]), int(rows[-1])),
            "background": float((base * share).sum()), "baseline": base,
            "anchored": bool(anchored), "no_area": no_area, "overlap": overlap}


# --------------------------------------------------------------------------------------------
# how many bands: forward selection by the joint criterion


def _start_sigma(C, k):
    """Half-maximum width of the peak of ``C`` at row ``k`` / 2.355 (at least 1 row)."""
    C = np.asarray(C, float)
    k = int(np.clip(k, 0, C.size - 1))
    half = 0.5 * float(C[k])
    if not half > 0:
        return 1.0
    a = b = k
    while a > 0 and C[a - 1] > half:
        a -= 1
    while b < C.size - 1 and C[b + 1] > half:
        b += 1
    return max((b - a + 1) / 2.355, 1.0)


#: two bands are resolved when their peaks lie at least this many of their mean sd apart
MIN_SEPARATION = 1.5


def _resolved(p):
    """True when every two neighbouring bands of ``p`` are at least MIN_SEPARATION sd apart."""
    if p.size < 2:
        return True
    pk = p.peaks()
    order = np.argsort(pk)
    sd = p.sds()[order]
    gap = np.diff(pk[order])
    return bool(np.all(gap >= MIN_SEPARATION * 0.5 * (sd[1:] + sd[:-1])))


def select_pattern(Y, shifts, noise, *, window, weights=None, degree=2, max_bands=6,
                   sigma_range=None):
    """Bands of the context: shapes fitted to the consensus, their number chosen by joint BIC.

    ``Y`` (L, n): the profiles of the lanes that show their bands (raw counts); ``shifts`` (L,)
    their alignment (a band at consensus row ``c`` lies at ``c + shifts[i]`` in lane ``i``);
    ``noise`` (L,) their noise sd; ``window`` ``(top, bottom)`` in profile rows; ``weights``
    (L, n) 0 for rows not to fit (clipped). Starting from a band at every clear peak of the
    consensus, and again from a band at every clear peak of its curvature (touching bands
    without a valley between them), a band is added at the consensus residual's maximum, or the
    widest band near the window is split in two, or the smallest band removed, or the bands
    given shapes of their own, whichever lowers the criterion most, while one does; of the two
    searches, the pattern the criterion prefers. The window is a constraint: once a pattern has
    a band of the window (its peak inside it in half the lanes, its core no wider than
    ``sigma_range[1]``), no step removes it, and a pattern without one takes the first step
    that gives it one. Bands are at most ``sigma_range[1]`` sd wide (default: half the
    window). Returns the
    :class:`Pattern`, the :func:`joint_fit` of it, the list of steps (for the run record), the
    consensus and the lanes' normalisation.
    """
    from scipy.ndimage import gaussian_filter1d

    Y = np.asarray(Y, float)
    L, n = Y.shape
    top, bottom = window
    norm = []
    for i in range(L):
        y = Y[i]
        sm = gaussian_filter1d(y, 1.5)
        base = np.linspace(sm[:5].mean(), sm[-5:].mean(), n)
        amp = float((sm - base)[max(top, 0):bottom + 1].max())
        norm.append(amp if amp > 0 else 1.0)
    norm = np.asarray(norm)
    u = np.arange(n, dtype=float)
    W = None if weights is None else np.asarray(weights, float)
    # consensus frame: C(u) = mean_i y_i(u + s_i) / amp_i
    Cs, Ws = [], []
    for i in range(L):
        Cs.append(np.interp(u + shifts[i], u, Y[i] / norm[i]))
        Ws.append(np.ones(n) if W is None else
                  (np.interp(u + shifts[i], u, W[i]) > 0.999).astype(float))
    Cs, Ws = np.array(Cs), np.array(Ws)
    wsum = Ws.sum(0)
    C = np.where(wsum > 0, (Cs * Ws).sum(0) / np.maximum(wsum, 1e-12), Cs.mean(0))
    cw = (wsum > 0).astype(float)  # (rows some lane shows unclipped)
    Csm = gaussian_filter1d(C, 1.0)
    seg = Csm - np.linspace(Csm[:5].mean(), Csm[-5:].mean(), n)
    k0 = max(top, 0) + int(np.argmax(seg[max(top, 0):bottom + 1]))
    s0 = _start_sigma(seg, k0)
    # a band is narrower than the window drawn around it: its +-1 sd fit inside
    if sigma_range is None:
        sigma_range = (0.8, max((bottom - top) / 2.0, 2.0))
    s_lo, s_hi = sigma_range

    def fit(p, shared=True, max_nfev=40):
        q, _ = fit_pattern(C, p, weights=cw, degree=degree + 1, shared=shared,
                           center_tol=np.maximum(2.0 * p.sds(), 3.0),
                           sigma_range=(s_lo, s_hi), max_nfev=max_nfev)
        order = np.argsort(q.centers)
        q = q.select(order)
        return q, joint_fit(Y, q, shifts, noise=noise, degree=degree, weights=W,
                            n_shape=3 if shared else 4 * q.size)

    # the start: a band at every clear peak of the consensus (prominence of 3 noise sd of the
    # consensus), one shape for all, from a Gaussian, a tailing (either way) and a flat-topped
    # shape: a tail and a flat top change a shape only at second order near zero, so one
    # start cannot find them
    from scipy.signal import find_peaks

    c_noise = float(np.median(noise / norm)) / np.sqrt(L)
    ns = c_noise / np.sqrt(2.0 * np.sqrt(np.pi))
    pks, _ = find_peaks(seg, prominence=max(3.0 * ns, 0.02 * float(seg[k0])))
    pks = np.union1d(pks, [k0]).astype(float)
    kk = pks.size
    # (a few steps from each start decide which to follow)
    def admissible(p):
        """True when a band of ``p`` is the window's: its peak inside the window in at least
        half the lanes, its core (Gaussian and flat top, not its tail) narrower than the
        window (:func:`core_sd` at most ``sigma_range[1]``)."""
        if p.size == 0:
            return False
        rows = p.peaks()[:, None] + np.asarray(shifts, float)[None, :]
        inside = ((rows >= top) & (rows <= bottom)).mean(1) >= 0.5
        return bool((inside & (core_sd(p) <= s_hi)).any())

    def first_fit(pk_, s_):
        kk = pk_.size
        starts = [Pattern(pk_, [s_] * kk),
                  Pattern(pk_ - 0.5 * s_, [0.7 * s_] * kk, [0.8 * s_] * kk),
                  Pattern(pk_ + 0.5 * s_, [0.7 * s_] * kk, [-0.8 * s_] * kk),
                  Pattern(pk_, [0.6 * s_] * kk, [0.0] * kk, [2.0 * s_] * kk)]
        first = min((fit(p, max_nfev=8) for p in starts), key=lambda t: t[1]["rss"])[0]
        b_, bf_ = fit(first)
        while not _resolved(b_):  # start peaks that merged: the weakest goes, until resolved
            a_mean = np.mean([f["areas"] for f in bf_["fits"]], 0)
            b_, bf_ = fit(b_.select(np.delete(np.arange(b_.size), int(np.argmin(a_mean)))))
        return b_, bf_

    def search(best, best_fit, label):
        shared = True
        c_run = [dispersion(best_fit)]
        seen = set()
        steps = [{"bands": best.size, "move": "start", "from": label, "rss": best_fit["rss"]}]
        for _ in range(3 * max_bands):  # each step lowers the criterion; a cap against cycles
            if best.size == 0:  # the baseline alone explains the context
                break
            trials = []
            if best.size < max_bands:
                # a band where the consensus is left most unexplained
                A = np.hstack([best.basis(n), _poly(n, degree + 1)])
                coef = np.linalg.lstsq(A * cw[:, None], C * cw, rcond=None)[0]
                r = gaussian_filter1d((C - A @ coef) * cw, max(float(np.median(best.sigmas)) / 2, 1.0))
                kr = int(np.argmax(r))
                if r[kr] > 0:
                    # (the bands share one shape: the new band takes it)
                    trials.append(("add", Pattern(np.append(best.centers, kr),
                                                  np.append(best.sigmas, best.sigmas[0]),
                                                  np.append(best.taus, best.taus[0]),
                                                  np.append(best.lengths, best.lengths[0]))))
                # the widest band reaching into the window, as two
                sd_all = best.sds()
                reach = (best.centers - 2 * sd_all <= bottom) & (best.centers + 2 * sd_all >= top)
                inwin = np.flatnonzero(reach)
                if inwin.size:
                    j = int(inwin[np.argmax(sd_all[inwin])])
                    sd = float(sd_all[j])
                    c = float(best.centers[j]) + 0.5 * float(best.taus[j])
                    cen = np.concatenate([np.delete(best.centers, j), [c - 0.9 * sd, c + 0.9 * sd]])
                    kk = cen.size  # the pair's narrower shape becomes everyone's start
                    trials.append(("split", Pattern(cen, [max(0.55 * sd, s_lo)] * kk, [0.0] * kk,
                                                    [0.0] * kk)))
            if best.size > 1 and shared:  # each band its own shape, when the bands differ:
                # from the shared shape, and from a tail down and up the lane on every band (a
                # tail changes a shape at second order only, so the shared start cannot find it)
                sd0 = float(best.sds()[0])
                for t0 in (None, 0.8, -0.8):
                    q0 = best if t0 is None else Pattern(
                        best.centers - 0.5 * t0 * sd0, 0.7 * best.sds(), t0 * best.sds(),
                        np.zeros(best.size))
                    trials.append(("own shapes", q0))
            if best.size > 0:  # the smallest band, when the rest explain the data as well
                a_mean = np.mean([f["areas"] for f in best_fit["fits"]], 0)
                j = int(np.argmin(a_mean))
                trials.append(("remove", best.select(np.delete(np.arange(best.size), j))))
            results = [(move,) + (fit(p, shared=shared and move != "own shapes") if p.size else
                                  (p, joint_fit(Y, p, shifts, noise=noise, degree=degree,
                                                weights=W, n_shape=0)))
                       for move, p in trials]
            # two bands whose peaks lie closer than MIN_SEPARATION of their sds are not resolved:
            # they are one band of some shape (a flat top, a tail), not a pair
            results = [r for r in results if _resolved(r[1])]
            # the user's window holds a band: a model without one there contradicts the data's
            # only label (when the current model has one, every step keeps one)
            # (and when it has none, a step that gives it one is taken first: the search runs
            # among the models that agree with the window, from the first one it meets)
            feasible = admissible(best)
            to_window = not feasible and any(admissible(r[1]) for r in results)
            if feasible or to_window:
                results = [r for r in results if admissible(r[1])]
            if not results:
                break
            # every model judged with the overdispersion of the best-fitting one
            # (each lane's smallest overdispersion of every model fitted so far: the criterion
            # of a step is the one later steps use, so the search cannot cycle on it)
            for r_ in results + [(None, best, best_fit)]:
                c_run[0] = np.minimum(c_run[0], dispersion(r_[2]))
            c_hat = c_run[0]
            move, q, qf = min(results, key=lambda t: bic(t[2], c_hat))
            own = sorted((r for r in results if r[0] == "own shapes"), key=lambda t: t[2]["rss"])
            if own and bic(own[0][2], c_hat) < bic(best_fit, c_hat):
                # fewer bands first: the bands already there, each with its own shape, before one
                # more band (a greedy search otherwise adds pieces that a shared shape needed)
                move, q, qf = own[0]
            b_new, b_old = bic(qf, c_hat), bic(best_fit, c_hat)
            steps.append({"bands": q.size, "move": move, "rss": qf["rss"],
                          "dispersion": float(np.median(c_hat)),
                          "bic_change": b_new - b_old, "accepted": b_new < b_old})
            key = (q.size, bool(shared and move != "own shapes"),
                   tuple(np.round(q.centers).astype(int)))
            if to_window:
                steps[-1].update(move=move + " (to the window)", accepted=True)
            elif not b_new < b_old or key in seen:
                break
            seen.add(key)
            best, best_fit = q, qf
            shared = shared and move != "own shapes"
        return best, best_fit, steps

    # two starts: a band at every clear peak of the consensus, and a band at every clear peak
    # of its curvature (minus its second derivative at half the band scale), which resolves
    # touching bands that leave no valley (a shoulder is a curvature peak, not a peak); the
    # search from each, and the pattern the criterion prefers
    results_ = [search(*first_fit(pks, s0), "peaks")]
    g = 1.0  # (the profiles are binned to ~4 rows per band sd)
    d2 = -gaussian_filter1d(seg, g, order=2)
    imp = np.zeros(8 * int(np.ceil(g)) + 1)
    imp[imp.size // 2] = 1.0
    n2 = c_noise * float(np.sqrt((gaussian_filter1d(imp, np.hypot(g, 1.0), order=2) ** 2).sum()))
    ck, _ = find_peaks(d2, height=3.0 * n2, prominence=max(3.0 * n2, 0.05 * float(d2.max())))
    ck = ck[seg[ck] > 0]
    if ck.size and not (ck.size == pks.size and np.all(np.abs(np.sort(ck) - pks) <= 1.0)):
        gaps = np.diff(np.sort(ck.astype(float)))
        s1 = float(np.clip(0.6 * gaps.min(), s_lo, s0)) if gaps.size else s0
        results_.append(search(*first_fit(ck.astype(float), s1), "curvature"))
    c_all = dispersion(min((r[1] for r in results_), key=lambda f: f["rss"]))
    if any(admissible(r[0]) for r in results_):
        results_ = [r for r in results_ if admissible(r[0])]
    best, best_fit, steps = min(results_, key=lambda r: bic(r[1], c_all))

    def merged_gain(a_, b_):
        """Rise of the criterion when bands a_ and b_ are one band of its own shape."""
        ar = np.mean([f["areas"] for f in best_fit["fits"]], 0)
        wa = ar[[a_, b_]] / max(float(ar[[a_, b_]].sum()), 1e-300)
        c = float(wa @ best.centers[[a_, b_]])
        spread = abs(float(best.centers[b_] - best.centers[a_]))
        sd = float(np.sqrt(wa @ best.sds()[[a_, b_]] ** 2 + wa[0] * wa[1] * spread ** 2))
        rest = np.setdiff1d(np.arange(best.size), [a_, b_])
        one = best.select(rest)
        starts_ = [Pattern(np.append(one.centers, c), np.append(one.sigmas, 0.6 * sd),
                           np.append(one.taus, 0.0), np.append(one.lengths, 1.5 * sd)),
                   Pattern(np.append(one.centers, c - 0.5 * sd), np.append(one.sigmas, 0.6 * sd),
                           np.append(one.taus, 0.8 * sd), np.append(one.lengths, 0.0)),
                   Pattern(np.append(one.centers, c + 0.5 * sd), np.append(one.sigmas, 0.6 * sd),
                           np.append(one.taus, -0.8 * sd), np.append(one.lengths, 0.0))]
        q, qf = min((fit(p, shared=False) for p in starts_), key=lambda t: t[1]["rss"])
        c_hat = dispersion(min((qf, best_fit), key=lambda f: f["rss"]))
        return bic(qf, c_hat) - bic(best_fit, c_hat)

    groups, decisions = band_groups(best, best_fit["fits"], noise=noise, weights=W,
                                    merged_gain=merged_gain)
    return best, best_fit, steps, C, norm, groups, decisions


# --------------------------------------------------------------------------------------------
# which bands are one: a pair the data do not tell apart


def _fine(pattern, idx, areas, lo, hi, n_fine=8):
    """Sum of bands ``idx`` (with ``areas``) on a grid ``n_fine`` times finer over [lo, hi]."""
    m = int(np.ceil((hi - lo) * n_fine)) + 1
    q = pattern.select(idx)
    f = shape_basis(m, (q.centers - lo) * n_fine, q.sigmas * n_fine, q.taus * n_fine,
                    q.lengths * n_fine)
    return lo + np.arange(m) / n_fine, f @ np.asarray(areas, float)


def model_dips(pattern, j, areas, depth=0.05):
    """True when bands ``j`` and ``j + 1`` (mean ``areas``) leave a valley between their peaks:
    the sum falls by ``depth`` of the lower summit between them."""
    pk = pattern.peaks()
    lo, hi = sorted((float(pk[j]), float(pk[j + 1])))
    if hi - lo < 1e-6:
        return False
    u, f = _fine(pattern, [j, j + 1], areas[[j, j + 1]], lo, hi)
    return bool(f.min() < (1.0 - depth) * min(f[0], f[-1]))



def share_chi2(fits, ja, jb, *, noise, weights=None):
    """Reduced chi-square of band ``jb``'s share of the pair ``(ja, jb)`` over the lanes.

    Each lane's share ``a_{j+1} / (a_j + a_{j+1})`` and its standard error come from the lane's
    linear fit (areas and baseline, shapes and shift held; covariance from the noise sd). ~1
    when the two keep one ratio in every lane (one band of some compound shape), large when
    they change independently (two bands). Returns ``(chi2, dof)``; dof < 1 when fewer than two
    lanes carry the pair.
    """
    shares, ses = [], []
    for i, f in enumerate(fits):
        G, P = f["G"], f["P"]
        w = np.ones(G.shape[0]) if weights is None else np.sqrt(np.asarray(weights[i], float))
        A = np.hstack([G, P]) * w[:, None]
        cov = noise[i] ** 2 * np.linalg.pinv(A.T @ A)
        p, q = float(f["areas"][ja]), float(f["areas"][jb])
        tot = p + q
        if not tot > 0:
            continue
        g = np.array([-q, p]) / tot ** 2
        var = float(g @ cov[np.ix_([ja, jb], [ja, jb])] @ g)
        shares.append(q / tot)
        ses.append(np.sqrt(max(var, 1e-24)))
    if len(shares) < 2:
        return 0.0, 0
    sh, se = np.asarray(shares), np.asarray(ses)
    wt = 1.0 / se ** 2
    m = float((wt * sh).sum() / wt.sum())
    dof = sh.size - 1
    return float((wt * (sh - m) ** 2).sum() / dof), dof


def band_groups(pattern, fits, *, noise, weights=None, alpha=0.01, merged_gain=None,
                strong_evidence=10.0):
    """Label the bands of a pattern: neighbours the data do not tell apart share a label.

    Two neighbouring bands are two when their fitted sum leaves a valley between them, or when
    their areas change independently from lane to lane (the chi-square test of one share in
    every lane, :func:`share_chi2`, rejects it at ``alpha``), or when one band of its own shape
    in their place fits far worse: ``merged_gain(a, b)``, the rise of the criterion when they
    are one, exceeds ``strong_evidence`` (10: "very strong" on Kass and Raftery's scale of BIC
    differences). Otherwise they are one band of a compound shape (a skewed or flat-topped band
    in two pieces). Returns labels and the decisions.
    """
    from scipy.stats import chi2 as chi2_dist

    k = pattern.size
    labels = np.zeros(k, int)
    if k == 0:
        return labels, []
    order = np.argsort(pattern.peaks())
    areas = np.mean([f["areas"] for f in fits], 0)
    decisions = []
    lab = 0
    labels[order[0]] = 0
    for a_, b_ in zip(order[:-1], order[1:]):
        # (bands a_, b_ are adjacent in row order; their indices into the pattern)
        dip = model_dips(pattern.select([a_, b_]), 0, areas[[a_, b_]])
        c2, dof = share_chi2(fits, a_, b_, noise=noise, weights=weights)
        crit = float(chi2_dist.ppf(1.0 - alpha, dof) / dof) if dof >= 1 else np.inf
        gain = None
        if not dip and merged_gain is not None:
            gain = float(merged_gain(a_, b_))
        two = dip or c2 > crit or (gain is not None and gain > strong_evidence)
        decisions.append({"pair": [int(a_), int(b_)], "valley": bool(dip),
                          "share_chi2": c2, "critical": crit, "bic_rise_if_one": gain,
                          "two_bands": bool(two)})
        lab += 1 if two else 0
        labels[b_] = lab
    return labels, decisions
