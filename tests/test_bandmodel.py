"""The joint band model (blotquant.bandmodel) and the hard cases of measure_bands.

Images are drawn here from closed forms (scipy's distributions, not the model's own shape code),
with every band's true volume known exactly; lanes are given, so these tests measure band
separation and integration alone. Every band's strength changes from lane to lane on its own, as
a different protein beside the target does. The model is the opt-in background "joint-model";
each hard case fails with the default "profile" method (its figures in the test's comment).
"""

import numpy as np
import pytest
from scipy.stats import exponnorm

from blotquant import bandmodel as bm
from blotquant.bands import measure_bands
from closedform import blot as _blot  # tests/ is on sys.path
from closedform import flat_rows as _flat_rows
from closedform import rows as _rows

JM = "joint-model"  # opt-in while it is not yet robust enough to be the default (see below)


def _errors(img, lanes, truth, window):
    table, params = measure_bands(img, lanes, window, background=JM)
    return table["volume"].to_numpy() / truth - 1.0, table, params


def test_doublet_at_1_8_sd_with_independent_members():
    # a neighbour 1.8 sd below the target (no valley between them), 0.3-1x its strength in each
    # lane; the window is cut at the midpoint as a user draws it. The "profile" method: median
    # -4.8 %, worst -5.9 %; within 3 % here, median within 1 %.
    sd = 4.0

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 120.0, sd, a), True),
                (_rows(260, 120.0 + 1.8 * sd, sd, a * rng.uniform(0.3, 1.0)), False)]

    img, lanes, truth = _blot(bands, seed=3)
    err, table, params = _errors(img, lanes, truth, (100, 123))
    assert np.median(np.abs(err)) < 0.01
    assert np.abs(err).max() < 0.03
    assert table["overlap"].gt(0).all()  # the neighbour's share was taken out, and said


def test_neighbour_just_outside_the_window():
    # a strong neighbour 3 sd above, its peak outside the window (cut at the valley): it is a band
    # of the context, fitted and removed, never the target. The "profile" method (its context
    # ends 15 rows beyond the window, cutting the neighbour): median +1.8 %, worst +2.1 %.
    # Within 1.5 % here.
    sd = 5.0

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 130.0, sd, a), True),
                (_rows(260, 130.0 - 3.0 * sd, sd, a * rng.uniform(0.6, 1.2)), False)]

    img, lanes, truth = _blot(bands, seed=4)
    err, table, params = _errors(img, lanes, truth, (123, 155))
    assert np.abs(err).max() < 0.015
    assert len(params["consensus"]["components"]) >= 2


def test_tail_of_a_band_under_its_neighbour():
    # a tailing band (exponentially modified Gaussian, tail 1.3 sd) with a narrow band 4.5 sd
    # below it, in its tail, each with its own strength: the tail is the target's, the narrow band
    # is not. The "profile" method gives the tail under the neighbour to the neighbour's
    # Gaussian (median -3.7 %); within 2 % here.
    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 120.0, 3.0, a, tau=4.0), True),
                (_rows(260, 138.0, 3.0, a * rng.uniform(0.4, 0.8)), False)]

    img, lanes, truth = _blot(bands, seed=5)
    err, table, params = _errors(img, lanes, truth, (105, 131))
    assert np.abs(err).max() < 0.02


def test_non_specific_band_beside_the_target_on_smear():
    # a non-specific band 7 sd above the target, 0.2-0.7x and unrelated to it, on a broad smear
    # hump (10 % of the peak) that changes from lane to lane: within 2.5 %, and every error
    # within 3 of its reported volume_sd (the smear under the band is what the sd is about).
    # The "profile" method: median +1.8 %, worst +3.4 %.
    sd = 5.0

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 140.0, sd, a), True),
                (_rows(260, 140.0 - 7.0 * sd, sd, rng.uniform(0.2, 0.7) * 3.5e5), False)]

    img, lanes, truth = _blot(bands, seed=6, smear=0.10)
    err, table, params = _errors(img, lanes, truth, (120, 160))
    assert np.abs(err).max() < 0.025
    assert (np.abs(err) * truth < 3 * table["volume_sd"].to_numpy()).all()


def test_volume_sd_covers_the_error_over_noise_repeats():
    # the bootstrap sd is the spread a repeat of the same blot with new noise would give: over 12
    # noise draws of one weak band per lane, the sd of each lane's volumes over the repeats and
    # the median volume_sd reported agree within a factor 1.4 (median over the 8 lanes)
    def bands(k, rng):
        return [(_rows(260, 130.0, 4.0, 1.5e4 * (1 + 0.1 * k)), True)]

    vols, sds = [], []
    for seed in range(12):
        img, lanes, truth = _blot(bands, seed=100 + seed, noise=6.0)
        table, _ = measure_bands(img, lanes, (110, 150), background=JM)
        vols.append(table["volume"].to_numpy())
        sds.append(table["volume_sd"].to_numpy())
    spread = np.std(np.array(vols), axis=0, ddof=1)
    ratio = np.median(np.array(sds), axis=0) / spread
    # (an sd from 12 repeats is itself uncertain by ~21 %: the lanes' median ratio is compared)
    assert 1 / 1.4 < np.median(ratio) < 1.4, ratio


def test_soft_volume_is_flagged():
    # a band at 2-3x the noise of its own volume gets a large relative sd and a note saying so
    def bands(k, rng):
        return [(_rows(260, 130.0, 4.0, 2.5e3), True)]

    img, lanes, truth = _blot(bands, seed=7, noise=6.0)
    table, _ = measure_bands(img, lanes, (110, 150), background=JM)
    rel = table["volume_sd"] / table["volume"].abs()
    assert (rel > 0.10).any()
    flagged = table["note"].str.contains("uncertain volume")
    assert (flagged == (rel > 0.10) & table["found"]).all()


@pytest.mark.parametrize("tau,length", [(0.0, 0.0), (6.0, 0.0), (-4.0, 0.0), (0.0, 12.0),
                                        (3.0, 8.0)])
def test_shape_basis_is_the_pixel_integral(tau, length):
    # against numerical integration of box x Gaussian x exponential on a 1/50-row grid
    n, c, s = 120, 60.3, 3.0
    col = bm.shape_basis(n, [c], [s], [tau], [length])[:, 0]
    fine = np.arange(-0.5, n - 0.5, 0.02) + 0.01
    x = fine - c
    if tau < 0:
        x = -x
    ta = max(abs(tau), 0.01 * s)  # the model's floors: a tail of 0.01 sd, a box of 0.25 row
    L = max(length, 0.25)
    # the density of box(L) * N(s) * Exp(ta): the EMG CDF difference over the box
    f = (exponnorm.cdf(x + L / 2, ta / s, scale=s) - exponnorm.cdf(x - L / 2, ta / s, scale=s)) / L
    ref = f.reshape(n, 50).sum(1) * 0.02
    np.testing.assert_allclose(col, ref, atol=2e-5)
    assert abs(col.sum() - 1.0) < 1e-4


# -- issue 8: the selection failures of the joint model (each case fails on the model before
# the curvature start, the per-lane criterion, the window constraint and the valley context:
# its figures in the comments)


def test_flat_top_target_with_a_flat_neighbour_1_9_sd_above():
    # rich-realistic tuning seed 4 in closed form: a flat-topped target (plateau 2 sd) and a
    # flat-topped neighbour 1.9 sd above it, 0.3-1x and independent per lane, no valley between
    # them; the window is cut at their midpoint. Before: +7 to +20 % (median 13.7 %; on the
    # rich image, one flat band whose peak fell outside the window: a nominal band, -100 %).
    # Within 3 % here, median within 1.5 %.
    sd, plateau = 5.0, 10.0

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_flat_rows(260, 130.0, sd, a, plateau), True),
                (_flat_rows(260, 130.0 - 1.9 * sd, sd, a * rng.uniform(0.3, 1.0), plateau),
                 False)]

    img, lanes, truth = _blot(bands, seed=11)
    err, table, params = _errors(img, lanes, truth, (126, 150))
    assert not params["consensus"]["nominal"]
    assert np.median(np.abs(err)) < 0.015
    assert np.abs(err).max() < 0.03


def test_neighbour_2_4_sd_above_without_a_valley():
    # rich-hard tuning seed 0 in closed form: a Gaussian neighbour 2.4 sd above the target,
    # 0.2-0.9x its strength, changing from lane to lane; the window cut at their midpoint.
    # Before: up to +5.4 % (two lanes took part of the neighbour; on the rich image, one band
    # with a long tail up the lane: a nominal band, -96 to -100 %). Within 3 % here, median
    # within 1.5 %.
    sd = 6.0

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 130.0, sd, a), True),
                (_rows(260, 130.0 - 2.4 * sd, sd, a * rng.uniform(0.2, 0.9)), False)]

    img, lanes, truth = _blot(bands, seed=12)
    err, table, params = _errors(img, lanes, truth, (123, 150))
    assert np.median(np.abs(err)) < 0.015
    assert np.abs(err).max() < 0.03


def test_band_beyond_the_window_is_not_cut_by_the_context():
    # a strong band 7 sd below the target (1-1.5x, independent): the context once ended half a
    # window below the window (no valley between there and one window out), on that band's
    # upper flank, and the baseline took the flank for background under the target: +19 to
    # +28 %. Within 1 % here.
    sd = 5.0

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 130.0, sd, a), True),
                (_rows(260, 130.0 + 7.0 * sd, sd, a * rng.uniform(1.0, 1.5)), False)]

    img, lanes, truth = _blot(bands, seed=13)
    err, table, params = _errors(img, lanes, truth, (117, 142))
    assert np.abs(err).max() < 0.01


def test_bright_and_faint_lanes_keep_the_doublet():
    # a dilution: lane k carries 2^-k of the first lane's load (a 128-fold range), a neighbour
    # 2.2 sd below at 0.4-0.9x. With one pooled overdispersion the brightest lanes' shape misfit
    # decided the band count alone. Before: within 1 % in five lanes, -2.0 % in the faintest;
    # every lane within 1 % here.
    sd = 5.0

    def bands(k, rng):
        a = 4e6 * 0.5 ** k
        return [(_rows(260, 130.0, sd, a), True),
                (_rows(260, 130.0 + 2.2 * sd, sd, a * rng.uniform(0.4, 0.9)), False)]

    img, lanes, truth = _blot(bands, seed=14, noise=3.0)
    err, table, params = _errors(img, lanes, truth, (112, 135))
    assert np.abs(err).max() < 0.01


def test_band_given_no_area_is_flagged_not_zero():
    # a lane fit whose pattern gives the target's rows to a wide neighbour: the target's
    # least-squares area is negative. The share rule then counted none of its rows: a volume
    # of exactly 0, silently (rich-dilution held-out seeds: six lanes). Now the band's rows
    # less the baseline and the neighbour's fit, and a flag saying the fit gave it no area.
    rng = np.random.default_rng(1)
    y = _rows(200, 100.0, 4.0, 5e4) + 0.6 * _rows(200, 110.0, 4.0, 5e4) + 50.0 \
        + rng.normal(0.0, 3.0, 200)
    fit = bm.fit_lane(y, bm.Pattern([93.0, 104.0], [2.0, 7.0]), 0.0)
    assert fit["areas"][0] == 0.0
    v = bm.lane_volume(y, fit, 0)
    assert v["no_area"] and v["volume"] != 0.0
