"""The default ``profile`` method on the named hard cases of issue 8, against exact truth.

Images are drawn from closed forms (scipy's distributions, not blotquant's own shape code) with
every band's true volume known exactly; lanes are given, so these tests measure band separation
and integration alone. Every neighbour's strength changes from lane to lane on its own, as a
different protein beside the target does. The same cases are run with the experimental
``joint-model`` method in ``tests/test_bandmodel.py``; here the default method is held to the
issue's bounds (median |error| <= 1 % on a realistic case, worst <= 3 %). Where the default
method does not meet them yet the test is an ``xfail`` (strict, and only for a failed assertion:
it fails as soon as the method passes, so the mark must then be removed) whose reason gives
today's figures and what a wider fit context (an experiment, not landed: see
benchmarks/README.md, accuracy_rich.py) gave.
"""

import warnings

import numpy as np
import pytest

from blotquant.bands import measure_bands
from closedform import blot as _blot  # tests/ is on sys.path
from closedform import rows as _rows


def _errors(img, lanes, truth, window):
    before = img.copy()
    table, params = measure_bands(img, lanes, window)
    assert params["method"] == "profile"
    np.testing.assert_array_equal(img, before)  # the input is left unchanged
    return table["volume"].to_numpy() / truth - 1.0, table, params


def _tail(n, row, sigma, height, length):
    """A trailing smear below a band (background): exp(-z / length) from its peak row down,
    smoothed by the band's Gaussian, ``height`` counts (summed across the lane) at its start."""
    u = np.arange(n, dtype=float)
    t = np.where(u >= row, height * np.exp(-(u - row) / length), 0.0)
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(t, sigma)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "profile: the doublet's members are split by the consensus's pieces (median -2.3 %, worst "
    "-2.6 %; -4.7 / -5.6 % before the consensus's noise and width came from beside the band)"))
def test_doublet_at_1_8_sd():
    # a neighbour 1.8 sd below the target (no valley between them), 0.3-1x its strength in each
    # lane; the window is cut at the midpoint as a user draws it. Bound: median 1 %, worst 3 %.
    sd = 4.0

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 120.0, sd, a), "target"),
                (_rows(260, 120.0 + 1.8 * sd, sd, a * rng.uniform(0.3, 1.0)), "band")]

    img, lanes, truth = _blot(bands, seed=3)
    err, table, params = _errors(img, lanes, truth, (100, 123))
    assert np.median(np.abs(err)) < 0.01
    assert np.abs(err).max() < 0.03


def test_neighbour_just_outside_the_window():
    # a strong neighbour 3 sd above, its peak outside the window (cut at the valley): it is a
    # band beside the target, never counted as the target. Bound: worst 1.5 %.
    sd = 5.0

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 130.0, sd, a), "target"),
                (_rows(260, 130.0 - 3.0 * sd, sd, a * rng.uniform(0.6, 1.2)), "band")]

    img, lanes, truth = _blot(bands, seed=4)
    err, table, params = _errors(img, lanes, truth, (123, 155))
    assert np.abs(err).max() < 0.015


def test_tailing_band_alone():
    # one tailing band (exponentially modified Gaussian, tail 1-1.2 sd, its length changing by
    # +-10 % from lane to lane as one protein runs alike in every lane), nothing beside it: the
    # tail is the band's. Bound: median 0.5 %, worst 1.5 %. Regression: the tail's outer Gaussian
    # piece passed the "two-band shape" test (two Gaussians fit the pair far better than one
    # sloped hump) and was removed as a neighbour: median -4.2 %, worst -6.6 %; now the pair is
    # tested against one band of the family of band shapes (0.07 %, worst 0.14 %).
    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 120.0, 5.0, a, tau=5.5 * rng.uniform(0.9, 1.1)), "target")]

    img, lanes, truth = _blot(bands, seed=8)
    err, table, params = _errors(img, lanes, truth, (95, 160))
    assert np.median(np.abs(err)) < 0.005
    assert np.abs(err).max() < 0.015


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "profile with shared band shapes: the neighbour here is Gaussian, not of the target's "
    "tailing shape, so the shared shape gives it part of the target's tail (median -7.7 %, "
    "worst -8.2 %; was -3.7 / -3.9 % with Gaussian models)"))
def test_tail_of_a_band_under_its_neighbour():
    # a tailing band (tail 1.3 sd) with a narrow band 4.5 sd below it, in its tail, each with its
    # own strength: the tail is the target's, the narrow band is not. Bound: worst 2 %.
    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 120.0, 3.0, a, tau=4.0), "target"),
                (_rows(260, 138.0, 3.0, a * rng.uniform(0.4, 0.8)), "band")]

    img, lanes, truth = _blot(bands, seed=5)
    err, table, params = _errors(img, lanes, truth, (105, 131))
    assert np.abs(err).max() < 0.02


def _skewed_pair(seed):
    # a tailing band (sd 4, tail 7 rows) and a neighbour of the same shape 16 rows (4 sd) below,
    # 0.4-0.8x its strength in each lane; the window cut at the valley between them
    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 120.0, 4.0, a, tau=7.0), "target"),
                (_rows(260, 136.0, 4.0, a * rng.uniform(0.4, 0.8), tau=7.0), "band")]

    img, lanes, truth = _blot(bands, seed=seed)
    prof = img.sum(1)
    return _errors(img, lanes, truth, (100, 126 + int(np.argmin(prof[126:138]))))


def test_a_tailing_band_beside_a_neighbour_of_its_shape():
    # the rows the two share are split with their common shape, which must be found: fitted from
    # a tail of 0 (the target is one Gaussian piece: no tail direction) the shape stayed Gaussian
    # and the target's tail went to the neighbour (-23 to -29 % in every lane). From four starts
    # the tail is found (7.0 rows in seeds 1 and 2; 3.2 in seed 3, another minimum): median
    # |error| over the three seeds' 24 lanes 7.7 % (seed 3 -19 %). Bound here: 12 %.
    err = np.concatenate([_skewed_pair(seed)[0] for seed in (1, 2, 3)])
    assert np.median(np.abs(err)) < 0.12, np.round(100 * err, 1)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "profile: with the shape found, the split still leaves the target -2 to -10 % (seeds 1, 2), "
    "and seed 3's fit stops at a tail of 3.2 rows (-19 %)"))
def test_a_tailing_band_beside_a_neighbour_of_its_shape_to_the_issue_bound():
    # the issue's bound for a neighbour at 1.8-5 sd: median 1 %, worst 3 %
    err = np.concatenate([_skewed_pair(seed)[0] for seed in (1, 2, 3)])
    assert np.median(np.abs(err)) < 0.01 and np.abs(err).max() < 0.03


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_the_sd_of_a_band_beside_a_neighbour_counts_the_split(seed):
    # the case above, whose volume is off by 6-9 %: how the rows shared with the neighbour are
    # split is the model's choice, and volume_sd says so (half the difference between the split by
    # the shared band shape and by the Gaussian pieces, with the noise and baseline terms). Every
    # lane's error lies within 3 sd (measured: 2.8 sd at most, sd 3.0-3.8 %); with noise and
    # baseline alone the sd was 0.2-0.9 % and the errors 10-30 sd.
    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 120.0, 3.0, a, tau=4.0), "target"),
                (_rows(260, 138.0, 3.0, a * rng.uniform(0.4, 0.8)), "band")]

    img, lanes, truth = _blot(bands, seed=seed)
    err, table, params = _errors(img, lanes, truth, (105, 131))
    v, sd = table["volume"].to_numpy(), table["volume_sd"].to_numpy()
    z = np.abs(v - v / (1.0 + err)) / sd
    assert z.max() < 3.0, np.round(z, 1)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "profile: the smear's rows inside the band's support are counted as band (median +9.3 %, "
    "worst +9.9 %)"))
def test_trailing_smear_under_a_band():
    # a Gaussian band with a trailing smear below it (background: 10 % of its peak, decaying over
    # 5 sd, its own strength per lane), as the rich simulator's ``tails`` draws it. The smear under
    # the band is background and must not be counted. Bound: median 1 %, worst 3 %.
    sd = 5.0

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        peak = a / (np.sqrt(2 * np.pi) * sd)
        return [(_rows(260, 120.0, sd, a), "target"),
                (_tail(260, 120.0, sd, 0.1 * peak * rng.uniform(0.7, 1.3), 5.0 * sd),
                 "background")]

    img, lanes, truth = _blot(bands, seed=9)
    err, table, params = _errors(img, lanes, truth, (95, 145))
    assert np.median(np.abs(err)) < 0.01
    assert np.abs(err).max() < 0.03


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "profile: the context ends on the smear hump's flank (within 2 % of the band's height of its "
    "lowest level) and the anchored baseline follows the hump (median +2.8 %, worst +6.1 %; "
    "+1.8 / +3.4 % with the fixed margin)"))
def test_non_specific_band_beside_the_target_on_smear():
    # a non-specific band 7 sd above the target, 0.2-0.7x and unrelated to it, on a broad smear
    # hump (10 % of the peak) that changes from lane to lane. Bound: worst 2.5 %.
    sd = 5.0

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 140.0, sd, a), "target"),
                (_rows(260, 140.0 - 7.0 * sd, sd, rng.uniform(0.2, 0.7) * 3.5e5), "band")]

    img, lanes, truth = _blot(bands, seed=6, smear=0.10)
    err, table, params = _errors(img, lanes, truth, (120, 160))
    assert np.abs(err).max() < 0.025


def test_a_window_cut_through_the_band_is_said_where_it_loses_the_band():
    # rich-realistic seed 5006 (a held-out seed): beta-actin is flat-topped (plateau ~4 sd) with a
    # flat neighbour 2.8 sd below, and the window is cut 4 rows below the band's centre, through its
    # plateau. The consensus has one band of two pieces, the larger beyond the window; the window
    # keeps the shoulder piece in it and the volume comes out 0 in every lane. That number is wrong
    # and stays wrong (open: what the band is when a window cuts its body); it must not be silent:
    # every lane whose volume is off by more than half says the window cuts through the band, and
    # TNAP (its window around its band) says nothing of the kind.
    from blotquant.lanes import find_lanes
    from blotquant.simulate import scenario

    sim = scenario("rich-realistic", seed=5006, shape=(900, 1400), n_lanes=10)
    img = sim.image.astype(np.float64)
    img = sim.ceiling - img if sim.polarity == "dark-bands" else img
    lanes, _ = find_lanes(img, 10)
    for target in ("beta-actin", "TNAP"):
        table, params = measure_bands(img, lanes, sim.windows[target], saturated=img >= sim.ceiling)
        truth = sim.truth[(sim.truth["kind"] == "target") & (sim.truth["target"] == target)]
        err = table["volume"].to_numpy() / truth["volume"].to_numpy() - 1.0
        said = table["note"].str.contains("the window cuts through this band").to_numpy()
        assert said[np.abs(err) > 0.5].all(), (target, np.round(100 * err), said)
        if target == "TNAP":
            assert np.abs(err).max() < 0.1 and not said.any(), (np.round(100 * err), said)
        else:
            assert (np.abs(err) > 0.5).sum() >= 8  # (the case is still the one described)


def _lone_band_on_smear(seed, smear, area):
    """A lone Gaussian band (sd 5, areas uniform in ``area``) on a smear hump of ``smear`` x its
    peak (sd 40-70 rows); window 110-150. Returns (errors, table, truth)."""
    def bands(k, rng):
        return [(_rows(260, 130.0, 5.0, rng.uniform(*area)), "target")]

    img, lanes, truth = _blot(bands, seed=seed, smear=smear)
    err, table, _ = _errors(img, lanes, truth, (110, 150))
    return err, table, truth


@pytest.mark.parametrize("smear, seed", [(0.3, 1), (0.3, 2), (0.6, 1)])
def test_the_sd_of_a_band_on_smear_counts_the_baseline_degree(smear, seed):
    # a lone band on a broad smear hump (0.3-0.6x its peak): the flank rows' F test picks the
    # baseline's degree, and the volume moves with that choice; volume_sd now holds half the larger
    # change with one degree less or more. Every lane's error lies within 4 sd (measured: 3.9 sd at
    # most; 5.3, 6.8 and 9.0 sd with noise and baseline covariance alone), errors 0.1-4.9 %.
    err, table, truth = _lone_band_on_smear(seed, smear, (2e5, 5e5))
    z = np.abs(table["volume"].to_numpy() - truth) / table["volume_sd"].to_numpy()
    assert z.max() < 4.0, np.round(z, 1)
    assert np.abs(err).max() < 0.05


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "profile: the context ends on the hump's top, where the hump is taken for a band (sd 1.9x the "
    "target's); the support walks down the hump's slope to the 5 sd cap (+37 % median, worst +56 %)"))
def test_a_lone_band_on_a_smear_hump():
    # the case above with the hump at 0.6x the band's peak, seed 3. Bound: median 1 %, worst 3 %.
    err, _, _ = _lone_band_on_smear(3, 0.6, (2e5, 5e5))
    assert np.median(np.abs(err)) < 0.01
    assert np.abs(err).max() < 0.03


def test_a_faint_band_on_a_smear_hump_three_times_its_peak():
    # a faint lone band on a smear hump 3x its peak: the hump is decomposed into pieces over twice
    # the band's width, whose rows (+-3 sd) took the whole flank below the band, and the baseline
    # fell back to a line under the hump (+90 to +270 %, median +163 %). With no flank left, the
    # smear pieces' rows are the baseline's again (only band-like neighbours' rows stay out).
    # Measured: median 5.6 %, 2.4-12 % but one lane +53 % (its support walk follows the hump's
    # slope to the 5 sd cap). Bound here: median 10 %; the issue's 1 % is not reached.
    err, _, _ = _lone_band_on_smear(3, 3.0, (2e4, 5e4))
    assert np.median(np.abs(err)) < 0.10, np.round(100 * err, 1)
    assert (np.abs(err) < 0.15).sum() >= 7, np.round(100 * err, 1)


def _triplet(seed, up, down, tau=0.0, smear=0.0, up_strength=(0.3, 1.0)):
    """A band (sd 5, row 130) between two neighbours of its shape, ``up`` sd above (``up_strength``
    x its strength, 0.3-1x by default) and ``down`` sd below (0.5-1.2x), each lane's strengths its
    own; ``tau``: every band's tail (rows). The window is cut at the profile's lowest rows between
    the target's peak and each neighbour's, as a user draws it on the lanes' sum (at the midpoint
    for a neighbour under 2.5 sd away: no valley there). Returns (errors, table)."""
    sd = 5.0

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(_rows(260, 130.0, sd, a, tau=tau), "target"),
                (_rows(260, 130.0 - up * sd, sd, a * rng.uniform(*up_strength), tau=tau), "band"),
                (_rows(260, 130.0 + down * sd, sd, a * rng.uniform(0.5, 1.2), tau=tau), "band")]

    img, lanes, truth = _blot(bands, seed=seed, smear=smear)
    prof = img.sum(1)
    if up < 2.5:  # a close doublet shows no valley: the window's top at the midpoint
        lo = int(round(130 - up * sd / 2))
    else:
        lo = int(np.floor(130 - up * sd)) + int(np.argmin(prof[int(130 - up * sd):130]))
    hi = 131 + int(np.argmin(prof[131:int(130 + down * sd)]))
    err, table, _ = _errors(img, lanes, truth, (lo, hi))
    return err, table


@pytest.mark.parametrize("up, down, tau, smear", [(3.0, 3.0, 0.0, 0.0), (3.0, 3.5, 0.0, 0.0),
                                                  (2.5, 3.5, 2.0, 0.1), (3.0, 3.5, 2.0, 0.1)])
def test_a_band_between_two_neighbours(up, down, tau, smear):
    # three bands 2.5-3.5 sd apart (Gaussian, or tailing 2 rows on a smear hump 10 % of the peak).
    # The consensus took its first band width from the target's peak down to the context's lowest
    # row, over both valleys: 3-4x the band's sd, rows binned over the three bands and one broad
    # piece fitted (a negative one for the Gaussian 3.0 / 3.0: IndexError; +124 % in a lane of the
    # 3.0 / 3.5, +200 to +730 % for the tailing ones); its noise, from first differences, was the
    # bands' slopes and hid the neighbours' peaks. Measured now over seeds 1-3: worst 0.4-3.0 %.
    # Bound: the issue's worst 3 % beside a neighbour.
    err = np.concatenate([_triplet(seed, up, down, tau, smear)[0] for seed in (1, 2, 3)])
    assert np.abs(err).max() < 0.03, np.round(100 * err, 1)


def test_a_band_between_tailing_neighbours_on_smear():
    # the target between tailing neighbours 2.5 sd above and 4.5 sd below on a smear hump. The
    # context ended one window height beyond the window, on the neighbours' slopes, so no row beside
    # the band was background: first the joint Gaussian fit's degree-4 polynomial was the baseline,
    # bent under tailing bands (+330 to +650 % median over seeds 1-3, worst +1225 %; volume_sd
    # empty, no word of why), then a line under the bands' model shapes (18-45 % median, the
    # tails' share; every lane said "no background beside the band"). Now the context walks on
    # where its first reach ends on a band's slope (at most 4.5 band sds beyond the window): the
    # neighbours are seen whole, background rows lie beside the band, and the volume is the data's
    # with a volume_sd. Measured: median 0.7-1.5 % per seed, worst 3.1 %. Bound: median 3 % per
    # seed (the issue's hard bound), worst 5 %, and a volume_sd in every lane.
    for seed in (1, 2, 3):
        err, table = _triplet(seed, 2.5, 4.5, tau=2.0, smear=0.1)
        assert np.median(np.abs(err)) < 0.03 and np.abs(err).max() < 0.05, (seed, np.round(100 * err, 1))
        assert table["volume_sd"].notna().all(), seed


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "profile: between tailing neighbours on smear, median 1.2 % and worst 3.1 % over seeds 1-3 "
    "(the tails' share the band shapes do not hold)"))
def test_a_band_between_tailing_neighbours_on_smear_to_the_issue_bound():
    err = np.concatenate([_triplet(seed, 2.5, 4.5, tau=2.0, smear=0.1)[0] for seed in (1, 2, 3)])
    assert np.median(np.abs(err)) < 0.01 and np.abs(err).max() < 0.03


@pytest.mark.parametrize("tau", [0.0, 2.0])
def test_a_close_doublet_beside_a_third_band(tau):
    # a neighbour 1.8 sd above (no valley: the window's top at the midpoint) and a third band 3 sd
    # below. The consensus's first look from beside the band (second-difference noise, width above
    # the valleys: what resolves the triplets above) starts here from two pieces, the doublet
    # merged, and the search does not split it again: 14-39 % median. The earlier first look
    # (first-difference noise, width to the context's lowest row) sees one peak, and the joint
    # step finds all three from it. Both are searched where the first look sees several peaks, and
    # the pattern with the lower BIC of the joint fit is taken. Measured: worst 0.5-1.4 %.
    # Bound: the issue's worst 3 %.
    errs = []
    for seed in (1, 2, 3):
        err, table = _triplet(seed, 1.8, 3.0, tau=tau)
        errs.append(err)
    err = np.concatenate(errs)
    assert np.abs(err).max() < 0.03, np.round(100 * err, 1)


def test_a_close_doublet_whose_outer_member_the_context_cut():
    # a neighbour 1.8 sd above (no valley: the window's top at the midpoint, row 125.5) and a third
    # band 4 sd below. The context reached one window height (15 rows) beyond the window, to row
    # 111, and cut the doublet's outer member (row 121, sd 5: it reaches row 106): one piece of sd
    # 10.4 was fitted, every lane "no band detected", -200 to +480 % in every lane. Where the first
    # reach ends on a band's slope, the context walks on (at most 4.5 band sds beyond the window),
    # and a lopsided first peak is also read from its steeper side (the lower BIC kept).
    # Measured: worst 0.4-1.5 %. Bound: the issue's worst 3 %.
    err = np.concatenate([_triplet(seed, 1.8, 4.0)[0] for seed in (1, 2, 3)])
    assert np.abs(err).max() < 0.03, np.round(100 * err, 1)


def test_a_close_doublet_whose_stronger_outer_member_the_context_cut():
    # as above, the member beyond the window 1.3-1.6x the target: the window's highest row is then
    # its edge, on the rising slope towards that member, not a peak, and the band sd that bounds
    # the context's further walk came out 0 (scipy warned of a width of 0): no walk, worst 4.7 %
    # (seed 3). The half height is now taken above the lowest rows on either side. Measured: worst
    # 0.2-0.4 %. Bound: the issue's worst 3 %, and no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        err = np.concatenate([_triplet(seed, 1.8, 4.0, up_strength=(1.3, 1.6))[0] for seed in (1, 2, 3)])
    assert np.abs(err).max() < 0.03, np.round(100 * err, 1)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "profile: with tails of 2 rows, seed 3's doublet (1.72 sd apart as fitted) is grouped as one "
    "tailing band by the shape test (excess -47): +36 to +69 %; seeds 1-2 are within 1.1 %"))
def test_a_close_doublet_whose_outer_member_the_context_cut_with_tails():
    err = np.concatenate([_triplet(seed, 1.8, 4.0, tau=2.0)[0] for seed in (1, 2, 3)])
    assert np.abs(err).max() < 0.03, np.round(100 * err, 1)
