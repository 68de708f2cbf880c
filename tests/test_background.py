"""Tests for blotquant.background: registry, peak fitting, the profile/border/rolling-disk methods."""

import numpy as np
import pytest

from blotquant.background import (
    BACKGROUNDS, DEFAULT_BACKGROUND, UnknownMethodError, border_baseline, bounded_lm, fit_peaks,
    gaussian_basis, get_background, profile_baseline, rolling_disk,
)
from blotquant.errors import BlotquantError


def _doublet(n=160, seed=0, noise=20.0):
    """Two touching bands (2 sd apart) on a curved baseline; returns profile and truth."""
    rng = np.random.default_rng(seed)
    u = np.arange(n, dtype=float)
    areas = np.array([40_000.0, 25_000.0])
    centers = np.array([76.0, 88.0])
    bands = gaussian_basis(n, centers, [6.0, 6.0]) @ areas
    base = 3000.0 + 4.0 * u - 0.02 * (u - 80.0) ** 2
    return bands + base + rng.normal(0, noise, n), areas, centers, base


def test_registry_names_and_auto():
    assert {"profile", "border", "rolling-disk"} <= set(BACKGROUNDS)
    assert get_background("auto").name == DEFAULT_BACKGROUND
    for name, m in BACKGROUNDS.items():
        assert m.name == name and m.kind in ("profile", "image")


def test_unknown_method_lists_valid_names():
    with pytest.raises(UnknownMethodError) as err:
        get_background("rollingball")
    msg = str(err.value)
    assert isinstance(err.value, BlotquantError) and isinstance(err.value, ValueError)
    assert "rollingball" in msg and all(name in msg for name in ["auto", *BACKGROUNDS])


def test_fit_peaks_separates_touching_doublet():
    y, areas, centers, _ = _doublet()
    # tied: the pair moves and widens together, as the lanes' band pattern does
    f = fit_peaks(y, centers - 2.0, [7.0, 7.0], degree=2, tied=True)
    assert f["converged"]
    # tolerance: noise 20/row over ~40 rows -> ~130 counts sd on 25k-40k areas (< 1 %)
    np.testing.assert_allclose(f["areas"], areas, rtol=0.01)
    np.testing.assert_allclose(f["centers"], centers, atol=0.3)


def test_fit_peaks_tied_and_fixed():
    y, areas, centers, _ = _doublet(noise=0.0)
    tied = fit_peaks(y, centers - 1.5, [6.5, 6.5], degree=2, tied=True)
    np.testing.assert_allclose(tied["centers"], centers, atol=1e-3)
    np.testing.assert_allclose(tied["areas"], areas, rtol=1e-4)
    fixed = fit_peaks(y, centers, [6.0, 6.0], degree=2, fixed=True)
    assert fixed["nfev"] == 0
    np.testing.assert_allclose(fixed["areas"], areas, rtol=1e-6)


def test_bounded_lm_reaches_scipys_minimum_with_a_bound_active():
    """The fitting routine against scipy's trust-region solver (the independent reference) on
    the variable-projection residual of a noisy doublet, free and with one width held at its
    upper bound: same minimum, both at the bound, in a few steps (the projected steps of the
    routine before it crawled along a bound with one rejected step per iteration)."""
    from scipy.optimize import least_squares

    y, _, centers, _ = _doublet(seed=3)
    n = y.size
    P = np.polynomial.legendre.legvander(np.linspace(-1, 1, n), 2)

    def resid(t):
        A = np.hstack([gaussian_basis(n, t[:2], t[2:]), P])
        return A @ np.linalg.lstsq(A, y, rcond=None)[0] - y

    def jac(t):  # forward differences: the routine does not need an exact Jacobian
        r0, h = resid(t), 1e-6
        return np.column_stack([(resid(t + h * e) - r0) / h for e in np.eye(t.size)])

    t0 = np.array([centers[0] - 2.0, centers[1] + 2.0, 7.0, 7.0])
    for hi_sigma in (9.0, 5.6):  # free; then the first width pinned at its bound (true sd 6)
        lo = np.array([t0[0] - 5, t0[1] - 5, 3.0, 3.0])
        hi = np.array([t0[0] + 5, t0[1] + 5, hi_sigma, 9.0])
        theta, converged, nfev = bounded_lm(resid, jac, t0, lo, hi, max_nfev=200, ftol=1e-12,
                                            xtol=1e-6)
        ref = least_squares(resid, np.clip(t0, lo, hi), bounds=(lo, hi), ftol=1e-12, xtol=1e-12,
                            gtol=1e-12)
        assert converged and nfev <= 40
        # tolerance: both stop within 1e-6 rows of the minimum; the cost agrees to 1e-9
        np.testing.assert_allclose(theta, ref.x, atol=1e-4)
        assert resid(theta) @ resid(theta) <= (ref.fun @ ref.fun) * (1 + 1e-9)
        if hi_sigma < 6:
            assert theta[2] == pytest.approx(hi_sigma, abs=1e-12)


@pytest.mark.parametrize("method", ["profile", "border"])
def test_profile_methods_offset_and_scale(method):
    y, _, centers, _ = _doublet()
    f = get_background(method).function
    base, p = f(y, centers=centers, sigmas=[6.0, 6.0])
    base_c, p_c = f(y + 1234.5, centers=centers, sigmas=[6.0, 6.0])
    base_k, p_k = f(y * 3.0, centers=centers, sigmas=[6.0, 6.0])
    a = np.array([c["area"] for c in p["components"]])
    a_c = np.array([c["area"] for c in p_c["components"]])
    a_k = np.array([c["area"] for c in p_k["components"]])
    np.testing.assert_allclose(base_c, base + 1234.5, rtol=1e-9)
    np.testing.assert_allclose(a_c, a, rtol=1e-6)
    np.testing.assert_allclose(a_k, 3.0 * a, rtol=1e-6)


def test_profile_baseline_follows_curved_background():
    y, areas, centers, base_true = _doublet(noise=0.0)
    base, p = profile_baseline(y, centers=centers, sigmas=[6.0, 6.0], degree=2)
    np.testing.assert_allclose(base, base_true, rtol=1e-6)
    assert p["converged"] and p["method"] == "profile"
    np.testing.assert_allclose([c["area"] for c in p["components"]], areas, rtol=1e-5)


def test_border_baseline_line():
    n = 120
    u = np.arange(n, dtype=float)
    y = 5000 * gaussian_basis(n, [60.0], [4.0])[:, 0] + 200.0 + 1.5 * u
    base, p = border_baseline(y, centers=[60.0], sigmas=[4.0], gap=4.0)
    # tolerance: the border strips start 4 sd out, where the band adds < 1e-3 of its peak
    np.testing.assert_allclose(base, 200.0 + 1.5 * u, atol=0.5)
    assert p["rows_above"][1] <= 44 and p["rows_below"][0] >= 76


def test_rolling_disk_flat_background_and_unchanged_input():
    rng = np.random.default_rng(1)
    img = 1000.0 + rng.normal(0, 1.0, (300, 400))
    yy = np.arange(300)[:, None]
    img[:, 100:180] += 3000.0 * np.exp(-0.5 * ((yy - 150) / 6.0) ** 2)
    before = img.copy()
    bg, p = rolling_disk(img, radius=50)
    np.testing.assert_array_equal(img, before)
    assert bg.shape == img.shape and bg.dtype == np.float64
    # tolerance: block-averaged noise of sd 1/downsample; opening is biased low by ~2 sd of that
    assert abs(float(np.median(bg[140:160, 110:170])) - 1000.0) < 3.0
    bg2, _ = rolling_disk(img + 500.0, radius=50)
    np.testing.assert_allclose(bg2, bg + 500.0, atol=1e-3)
    assert p == {"method": "rolling-disk", "radius": 50.0, "downsample": 6, "kernel_px": 17}


def test_qr_lstsq_matches_numpy_on_dependent_columns():
    # two components on one row (dependent columns) and one off the profile (a zero column):
    # the minimum-norm solution of np.linalg.lstsq, and q spanning the columns' range
    from blotquant.background import _qr_lstsq

    rng = np.random.default_rng(5)
    g = gaussian_basis(80, [30.0, 30.0, 500.0, 50.0], [4.0, 4.0, 3.0, 6.0])
    A = np.hstack([g, np.polynomial.legendre.legvander(np.linspace(-1, 1, 80), 1)])
    y = A @ np.array([100.0, 50.0, 0.0, 70.0, 5.0, 1.0]) + rng.normal(0, 0.1, 80)
    coef, q = _qr_lstsq(A, y)
    np.testing.assert_allclose(coef, np.linalg.lstsq(A, y, rcond=None)[0], rtol=1e-9, atol=1e-9)
    assert q.shape[1] == np.linalg.matrix_rank(A) == 4
    np.testing.assert_allclose(q @ (q.T @ A), A, atol=1e-9)


def test_bounded_lm_refuses_a_non_finite_start_and_stops_at_once_at_a_minimum():
    lo, hi = np.zeros(2), np.ones(2)
    with pytest.raises(ValueError, match="not finite"):
        bounded_lm(lambda t: np.array([np.nan, 1.0]), lambda t: np.eye(2), np.full(2, 0.5), lo, hi)
    # both parameters at the bound the descent pushes against: nothing to move, converged at
    # once (before, the step was shrunk ~20 times before giving up)
    theta, converged, nfev = bounded_lm(lambda t: t - 2.0, lambda t: np.eye(2), np.ones(2),
                                        lo, hi, max_nfev=5)
    assert converged and nfev == 1 and (theta == 1.0).all()


def test_qr_is_numpys_qr_to_the_last_bit_and_in_its_memory_order():
    # _qr calls LAPACK directly for speed; its Q must be numpy's to the last bit *and* in C
    # order: with Q in Fortran order q.T @ y sums in another order (~1e-13), which flipped a
    # band decision on a real blot (ZDF B2AR Oct8 GAPDH volumes halved)
    from blotquant.background import _qr

    rng = np.random.default_rng(11)
    for m, k in [(80, 1), (80, 3), (51, 5), (300, 8), (7, 7), (4, 6)]:
        A = rng.normal(size=(m, k)) * rng.uniform(0.01, 100.0, k)
        if k > 2:
            A[:, 2] = 2.0 * A[:, 0]  # dependent columns too
        q, r = _qr(A)
        q0, r0 = np.linalg.qr(A)
        # (the same LAPACK routines: bit for bit where numpy and scipy share a LAPACK build, as
        # here; to rounding where their wheels bundle different ones)
        np.testing.assert_allclose(q, q0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(r, r0, rtol=1e-12, atol=1e-12 * np.abs(r0).max())
        assert q.flags["C_CONTIGUOUS"] == q0.flags["C_CONTIGUOUS"]
        y = rng.normal(size=m)
        np.testing.assert_allclose(q.T @ y, q0.T @ y, rtol=0, atol=1e-12 * np.abs(y).sum())


def test_lstsq_matches_numpy_with_independent_and_dependent_columns():
    from blotquant.background import _lstsq

    rng = np.random.default_rng(12)
    A = np.hstack([gaussian_basis(90, [40.0, 55.0], [5.0, 4.0]),
                   np.polynomial.legendre.legvander(np.linspace(-1, 1, 90), 3)])
    y = A @ rng.uniform(1.0, 100.0, A.shape[1]) + rng.normal(0, 0.5, 90)
    coef, r = _lstsq(A, y)
    np.testing.assert_allclose(coef, np.linalg.lstsq(A, y, rcond=None)[0], rtol=1e-10)
    # R gives (A'A)^-1 = R^-1 R^-T, the covariance anchored_baseline reports
    ri = np.linalg.inv(r)
    np.testing.assert_allclose(ri @ ri.T, np.linalg.inv(A.T @ A), rtol=1e-8)
    A[:, 1] = A[:, 0]  # two components on one row: lstsq's minimum-norm answer, no R
    coef, r = _lstsq(A, y)
    assert r is None
    np.testing.assert_allclose(coef, np.linalg.lstsq(A, y, rcond=None)[0], rtol=1e-9, atol=1e-9)


def test_anchored_baseline_degree_choice_and_covariance_match_a_direct_computation():
    # the degree is picked from one QR of the highest degree's design (nested polynomials); the
    # same choice, baseline and covariance as fitting each degree on its own
    from blotquant.background import anchored_baseline

    u = np.arange(140.0)
    t = np.linspace(-1.0, 1.0, u.size)
    rng = np.random.default_rng(13)
    for curv in (0.0, 400.0, 1500.0):
        y = 1000 + 300 * t + curv * t ** 2 + 5000 * np.exp(-0.5 * ((u - 70) / 5) ** 2) + rng.normal(0, 15, u.size)
        base, p = anchored_baseline(y, (50, 90), degree=4)
        fl = np.ones(u.size, bool)
        fl[50:91] = False
        rss = []
        for d in range(1, 5):
            V = np.polynomial.legendre.legvander(t, d)[fl]
            res = y[fl] - V @ np.linalg.lstsq(V, y[fl], rcond=None)[0]
            rss.append(float(res @ res))
        d_ref = 1
        for d in range(2, 5):
            if rss[d_ref - 1] - rss[d - 1] <= 10.0 * rss[d - 1] / (fl.sum() - d - 1):
                break
            d_ref = d
        assert p["degree"] == d_ref
        assert (curv == 0.0 and d_ref == 1) or (curv > 0 and d_ref >= 2)
        V = np.polynomial.legendre.legvander(t, d_ref)
        keep = fl.copy()  # (no row is 4 robust sd off on this smooth noise)
        coef = np.linalg.lstsq(V[keep], y[keep], rcond=None)[0]
        np.testing.assert_allclose(base, V @ coef, rtol=1e-10)
        res = y[keep] - V[keep] @ coef
        sd2 = res @ res / (keep.sum() - d_ref - 1)
        np.testing.assert_allclose(p["baseline_cov"], sd2 * np.linalg.inv(V[keep].T @ V[keep]), rtol=1e-8)


def test_anchored_baseline_ill_conditioned_neighbour_keeps_lstsq_and_pinv_numbers():
    # a neighbour column nearly a polynomial on the kept rows (R's diagonal ~1e-9 apart, above
    # the 1e-10 dependence cut): the fit is lstsq's and the covariance pinv(A'A)'s, as before
    from blotquant.background import anchored_baseline

    rng = np.random.default_rng(33)
    n = 80
    u = np.arange(n, dtype=float)
    y = 300 * gaussian_basis(n, [40.0], [4.0])[:, 0] + 10 + 0.1 * u + rng.normal(0, 1, n)
    B = np.column_stack([gaussian_basis(n, [12.0], [3.0])[:, 0] * 2.0,
                         1e-3 * (u - 40) / 40 + 1e-9 * rng.normal(size=n)])
    base, p = anchored_baseline(y + 150 * B[:, 0], (30, 50), bands=B, degree=1)
    keep = np.ones(n, bool)
    keep[30:51] = False
    A = np.hstack([B[:, p["areas"] != 0], np.polynomial.legendre.legvander(np.linspace(-1, 1, n), p["degree"])])[keep]
    coef = np.linalg.lstsq(A, (y + 150 * B[:, 0])[keep], rcond=None)[0]
    m = int((p["areas"] != 0).sum())
    np.testing.assert_allclose(p["areas"][p["areas"] != 0], coef[:m], rtol=1e-9)
    r = (y + 150 * B[:, 0])[keep] - A @ coef
    sd2 = r @ r / (keep.sum() - A.shape[1])
    np.testing.assert_allclose(p["baseline_cov"], sd2 * np.linalg.pinv(A.T @ A)[m:, m:], rtol=1e-6)
