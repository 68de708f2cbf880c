"""The simulator's truth must agree with its images: volumes, geometry, saturation, noise."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from blotquant.simulate import (
    SCENARIOS,
    TRUTH_COLUMNS,
    _Frame,
    _render_band,
    _Smile,
    dilution_series,
    make_demo,
    scenario,
    simulate_blot,
)

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "il6-jak2"

# small, fast geometry shared by most tests: 4 lanes of 60 px on a 300 x 600 image
SMALL = dict(shape=(300, 600), n_lanes=4, lane_width=60.0, margin=60.0,
             targets={"A": 100.0, "B": 200.0})
NOISELESS = dict(gain=0.0, read_noise=0.0, dtype="float32")


def _noise_free(**kw):
    """A float32 blot without noise or background: the image is exactly the sum of the bands."""
    opts = {**SMALL, **NOISELESS, "baseline": 0.0, **kw}
    return simulate_blot(**opts)


@pytest.mark.parametrize("theta_deg", [0.0, 1.3, -2.0])
@pytest.mark.parametrize("smile", [0.0, 15.0])
def test_rendered_band_sums_to_its_width(theta_deg, smile):
    # A unit-amplitude band integrates to its width (the along-lane Gaussian to 1), whatever
    # the rotation and smile: nothing is interpolated, so no volume is lost or gained.
    t = math.radians(theta_deg)
    frame = _Frame(cy=149.5, cx=199.5, cos=math.cos(t), sin=math.sin(t))
    r0, c0, unit = _render_band(frame, (300, 400), _Smile(smile, 150.0, 0.0), mu=-20.3,
                                sigma=5.5, v_c=37.2, band_width=51.0)
    assert unit.min() > -1e-12
    assert unit.sum() == pytest.approx(51.0, rel=1e-9)


def test_requested_volumes_are_rendered_and_image_is_their_sum():
    vols = np.array([[1e6, 2e6], [3e6, 4e6], [5e5, 1e5], [7e6, 2.5e6]])
    sim = _noise_free(volumes=vols, rotation_deg=1.7, smile_px=8.0, width_jitter=0.1)
    t = sim.truth
    got = t.pivot(index="lane", columns="target", values="volume").to_numpy()
    np.testing.assert_allclose(got, vols, rtol=1e-6)
    # no background, no noise: the image holds exactly the bands (float32 storage)
    assert float(sim.image.astype(np.float64).sum()) == pytest.approx(float(vols.sum()), rel=1e-6)


def test_baseline_and_rounding_leave_volumes_unchanged():
    vols = np.full((4, 2), 2e6)
    sim = simulate_blot(**SMALL, volumes=vols, gain=0.0, read_noise=0.0, baseline=1000.0)
    assert sim.image.dtype == np.uint16
    above = sim.image.astype(np.float64) - 1000.0
    # rounding to integers: at most 0.5 count per pixel, mean error ~0
    assert float(above.sum()) == pytest.approx(float(vols.sum()), rel=1e-4)


@pytest.mark.parametrize("smile, tol", [(0.0, 0.01), (10.0, 0.1)])
def test_band_centroids_match_truth_rows_and_columns(smile, tol):
    # The smile bends each band slightly inside its lane (the parabola is continuous across the
    # membrane), which moves the row centroid by -smile * var(v) / v_edge^2 ~ 0.07 px here;
    # `row` is the band centre at the lane centre, so allow for that with a smile.
    sim = _noise_free(targets={"A": 150.0}, rotation_deg=2.0, smile_px=smile,
                      volumes=np.full((4, 1), 3e6))
    img = sim.image.astype(np.float64)
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    for rec in sim.truth.itertuples():
        near = (np.abs(yy - rec.row) < 40) & (np.abs(xx - rec.lane_x) < 40)
        w = img * near
        assert float((w * yy).sum() / w.sum()) == pytest.approx(rec.row, abs=tol)
        assert float((w * xx).sum() / w.sum()) == pytest.approx(rec.lane_x, abs=tol)


def test_rotation_moves_lanes_and_rows_by_trigonometry():
    theta = 1.5
    sim = _noise_free(targets={"A": 150.0}, rotation_deg=theta)
    lanes, t = sim.lanes, sim.truth
    pitch = sim.params["lane_pitch"]
    s, c = math.sin(math.radians(theta)), math.cos(math.radians(theta))
    assert lanes.slope == pytest.approx(math.tan(math.radians(theta)), rel=1e-12)
    assert lanes.y_ref == pytest.approx((300 - 1) / 2)
    np.testing.assert_allclose(np.diff(lanes.centers), pitch / c, rtol=1e-12)
    # the band row falls by pitch*sin(theta) per lane to the right; lane_x steps by pitch*cos
    np.testing.assert_allclose(np.diff(t["row"]), -pitch * s, rtol=1e-9)
    np.testing.assert_allclose(np.diff(t["lane_x"]), pitch * c, rtol=1e-9)
    # truth columns sit on the Lanes centre lines
    for rec in t.itertuples():
        assert lanes.x_at(rec.row)[rec.lane - 1] == pytest.approx(rec.lane_x, abs=1e-9)
    # mean band row is the requested row
    assert float(t["row"].mean()) == pytest.approx(150.0, abs=1e-9)


def test_smile_is_a_parabola_across_lanes():
    sim = _noise_free(n_lanes=5, lane_width=40.0, targets={"A": 150.0}, smile_px=12.0)
    rows = sim.truth["row"].to_numpy()
    # edge lanes (v = ±v_edge) 12 px above the centre lane, the half-way lanes 12*(1 - 1/4) px
    assert rows[2] - rows[0] == pytest.approx(12.0, abs=1e-9)
    assert rows[2] - rows[1] == pytest.approx(3.0, abs=1e-9)
    assert rows[0] == pytest.approx(rows[4], abs=1e-9)
    assert rows.mean() == pytest.approx(150.0, abs=1e-9)


def test_same_seed_same_bytes_different_seed_differs():
    a = scenario("realistic", seed=4, **SMALL)
    b = scenario("realistic", seed=4, **SMALL)
    c = scenario("realistic", seed=5, **SMALL)
    assert a.image.tobytes() == b.image.tobytes()
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert a.image.tobytes() != c.image.tobytes()


def test_truth_schema_params_json_and_windows():
    sim = scenario("realistic", seed=1, **SMALL)
    t = sim.truth
    assert list(t.columns) == TRUTH_COLUMNS
    assert set(t["kind"]) == {"target", "neighbour"}
    assert len(t) == 4 * 2 * 2
    assert t["lane"].between(1, 4).all() and t["lane"].dtype == np.int64
    json.dumps(sim.params)
    assert sim.params["scenario"] == "realistic"
    rows = sim.image.shape[0]
    for name, (top, bottom) in sim.windows.items():
        band = t[(t["target"] == name)]
        assert 0 <= top < bottom <= rows - 1
        assert (band["row"] - 3 * band["sigma"] >= top).all()
        assert (band["row"] + 3 * band["sigma"] <= bottom).all()


def test_neighbours_offset_and_relative_volume():
    sim = _noise_free(targets={"A": 150.0}, neighbours=((-3.5, 0.5),), band_sigma=5.0,
                      volumes=np.full((4, 1), 2e6))
    t = sim.truth.set_index(["lane", "target"])
    for lane in range(1, 5):
        main, nb = t.loc[(lane, "A")], t.loc[(lane, "A~n1")]
        assert nb["kind"] == "neighbour"
        assert nb["row"] - main["row"] == pytest.approx(-17.5, abs=1e-9)
        assert nb["volume"] / main["volume"] == pytest.approx(0.5, rel=1e-6)


def test_empty_lanes_have_no_bands_and_no_signal():
    sim = _noise_free(empty_lanes=(1, 3), smear=0.2)
    assert sorted(set(sim.truth["lane"])) == [2, 4]
    # lane 1 carries nothing (no bands, no smear): its pixels are exactly zero
    x = int(round(sim.lanes.centers[0]))
    assert float(np.abs(sim.image[:, x - 20 : x + 20]).max()) == 0.0


@pytest.mark.parametrize(
    "over", [{}, {"dtype": "uint8", "polarity": "dark-bands"}, {"ceiling": 4095}]
)
@pytest.mark.parametrize("seed", [0, 1])
def test_saturated_flags_exactly_the_chosen_bands(seed, over):
    sim = scenario("saturated", seed=seed, **SMALL, **over)
    t = sim.truth
    chosen = {(int(lane), str(tg)) for lane, tg in sim.params["saturate"]}
    assert 2 <= len(chosen) <= 3
    flagged = {(int(r.lane), r.target) for r in t.itertuples() if r.saturated}
    assert flagged == chosen
    is_chosen = np.array([(r.lane, r.target) in chosen for r in t.itertuples()])
    assert (t.loc[is_chosen, "peak"] >= 1.4 * sim.ceiling).all()
    assert (t.loc[~is_chosen, "peak"] <= 0.8 * sim.ceiling).all()
    assert float(sim.image.max()) <= sim.ceiling and float(sim.image.min()) >= 0


def test_unsaturated_scenarios_never_clip():
    for name in ("clean", "realistic", "hard"):
        sim = scenario(name, seed=3, **SMALL)
        assert not sim.truth["saturated"].any()
        assert int(sim.image.max()) < 65535
        assert (sim.truth["peak"] <= 0.8 * 65535).all()


def test_dark_bands_store_ceiling_minus_signal():
    light = simulate_blot(**SMALL, dtype="uint8", baseline=4.0, gain=0.0, read_noise=0.0)
    dark = simulate_blot(**SMALL, dtype="uint8", baseline=4.0, gain=0.0, read_noise=0.0,
                         polarity="dark-bands")
    assert dark.ceiling == 255.0 and dark.image.dtype == np.uint8
    np.testing.assert_array_equal(dark.image.astype(int), 255 - light.image.astype(int))
    pd.testing.assert_frame_equal(dark.truth, light.truth)


def test_twelve_bit_in_sixteen_bit_container():
    sim = scenario("saturated", seed=2, ceiling=4095, **SMALL)
    assert sim.image.dtype == np.uint16 and int(sim.image.max()) == 4095
    # counts scale with the ceiling: the baseline is ~1-4 % of it
    assert 0.01 * 4095 <= sim.params["baseline"] <= 0.04 * 4095


def test_poisson_gaussian_noise_variance():
    # no bands (all lanes empty): flat baseline, var = gain * baseline + read_noise^2
    sim = simulate_blot(**SMALL, empty_lanes=(1, 2, 3, 4), baseline=2000.0, gain=2.0,
                        read_noise=30.0, seed=7)
    x = sim.image.astype(np.float64)
    assert x.mean() == pytest.approx(2000.0, abs=1.0)
    # 180000 pixels: sd of the variance estimate ~0.33 %
    assert x.var() == pytest.approx(2.0 * 2000.0 + 30.0**2, rel=0.02)


def test_dust_stays_below_the_ceiling_and_is_background():
    clean = _noise_free(baseline=500.0, volumes=np.full((4, 2), 2e6))
    dusty = _noise_free(baseline=500.0, volumes=np.full((4, 2), 2e6), dust=30)
    pd.testing.assert_frame_equal(clean.truth, dusty.truth)
    assert float(dusty.image.max()) < 0.86 * dusty.ceiling
    specks = dusty.params["dust_specks"]
    assert len(specks) == 30 and all(s["amplitude"] >= 0 for s in specks)
    assert float((dusty.image - clean.image).sum()) > 0


OLD_SCENARIOS = ("clean", "realistic", "hard", "saturated", "shapes")
RICH_SCENARIOS = tuple(n for n in SCENARIOS if n.startswith("rich-"))


@pytest.mark.parametrize("name", OLD_SCENARIOS)
def test_scenario_parameters_within_stated_ranges(name):
    for seed in range(4):
        p = scenario(name, seed=seed, **SMALL).params
        limit = {"clean": 0.0, "realistic": 0.8, "saturated": 0.8, "hard": 2.0, "shapes": 0.8}[name]
        smile = {"clean": 0.0, "realistic": 6.0, "saturated": 6.0, "hard": 20.0, "shapes": 6.0}[name]
        assert abs(p["rotation_deg"]) <= limit and 0 <= p["smile_px"] <= smile
        assert p["band_shape"] == ("mixed" if name == "shapes" else "gaussian")
        if name in ("realistic", "saturated", "shapes"):
            (off, rel), = p["neighbours"]
            assert 3.0 <= abs(off) <= 5.0 and 0.3 <= rel <= 1.0
        if name == "hard":
            (off, rel), = p["neighbours"]
            assert 1.8 <= abs(off) <= 3.0 and 0.3 <= rel <= 1.0


def test_unknown_scenario_lists_the_valid_ones():
    with pytest.raises(ValueError, match="allowed: clean, realistic, hard, saturated, shapes"):
        scenario("noisy")


def test_explicit_volumes_too_bright_raise():
    with pytest.raises(ValueError, match="0.8 x ceiling"):
        simulate_blot(**SMALL, volumes=np.full((4, 2), 1e8))


def test_dilution_series_halves_and_reaches_three_times_the_noise_floor():
    sim = dilution_series(n_lanes=6, shape=(300, 700), margin=50.0, seed=2)
    v = sim.truth["volume"].to_numpy()
    np.testing.assert_allclose(v[:-1] / v[1:], 2.0, rtol=1e-6)
    nf = sim.params["noise_floor"]
    assert nf["weakest_peak_over_floor"] == pytest.approx(3.0, rel=1e-3)
    assert nf["value"] == pytest.approx(math.sqrt(0.3 * 1000 + 8**2))


def test_demo_fixtures_exist_and_match_the_study_design():
    truth = pd.read_csv(DEMO / "truth.csv")
    for col in ["image", "lane", "sample", "group", "target", "volume", "row", "lane_x",
                "saturated"]:
        assert col in truth.columns
    images = sorted(p.name for p in DEMO.glob("*.tif"))
    assert images == ["m1_Jak2.tif", "m1_Runx2.tif", "m1_TNAP.tif", "m1_actin.tif"]
    assert sum(p.stat().st_size for p in DEMO.iterdir()) < 5e6
    for name in images:
        with tifffile.TiffFile(DEMO / name) as tf:
            page = tf.series[0].pages[0]
            assert page.dtype == np.uint16 and page.compression in (5, 8, 32946)
    assert not truth["saturated"].any()
    vol = truth.pivot(index="sample", columns="target", values="volume")
    group = truth.groupby("sample")["group"].first()
    actin = vol["beta-actin"]
    assert float((actin / actin.mean() - 1).abs().max()) < 0.2
    fold = {}
    for target in ("TNAP", "Runx2", "Jak2"):
        ratio = vol[target] / actin
        fold[target] = (ratio / ratio[group == "Control"].mean()).groupby(group).mean()
    for target in ("TNAP", "Runx2", "Jak2"):
        assert 1.7 <= fold[target]["IL6"] <= 2.7
    for target in ("TNAP", "Runx2"):
        assert 1.05 <= fold[target]["IL6+CP690550"] <= 1.35
    assert fold["Jak2"]["IL6+CP690550"] >= 1.7


def test_demo_regenerates_bit_for_bit(tmp_path):
    truth = make_demo(tmp_path, config=tmp_path / "cfg" / "demo.yaml")
    committed = pd.read_csv(DEMO / "truth.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "truth.csv"), committed)
    assert len(truth) == 36
    for name in ("m1_TNAP.tif", "m1_actin.tif"):
        np.testing.assert_array_equal(tifffile.imread(tmp_path / name), tifffile.imread(DEMO / name))
    cfg = (tmp_path / "cfg" / "demo.yaml").read_text()
    assert cfg.replace("images: ..\n", "images: ../fixtures/il6-jak2\n") == (
        ROOT / "configs" / "il6-jak2.yaml"
    ).read_text()


@pytest.mark.parametrize("theta_deg", [1.5, -2.0])
def test_lane_bodies_tilt_with_lanes_slope(theta_deg):
    # Smear alone (zero band volumes) draws the lane bodies; their column centroid must follow
    # Lanes.x_at(y) along the whole lane: x = centers + tan(theta) * (y - y_ref). A row cut
    # through a tilted lane samples the haze at slightly different distances along the lane,
    # which biases the centroid by < 0.1 px; over 220 rows the slope is still pinned to 1e-3.
    sim = _noise_free(volumes=np.zeros((4, 2)), smear=1.0, rotation_deg=theta_deg, seed=5)
    img = sim.image.astype(np.float64)
    xx = np.arange(img.shape[1], dtype=float)
    found = {}
    for y in (40, 260):
        for i, x0 in enumerate(sim.lanes.x_at(y)):
            sel = np.abs(xx - x0) < 45
            w = img[y, sel]
            found[y, i] = float((w * xx[sel]).sum() / w.sum())
            assert found[y, i] == pytest.approx(x0, abs=0.15)
    slope = math.tan(math.radians(theta_deg))
    assert sim.lanes.slope == pytest.approx(slope, rel=1e-12)
    for i in range(4):
        assert (found[260, i] - found[40, i]) / 220 == pytest.approx(slope, abs=1e-3)


@pytest.mark.parametrize("shape, param", [("skewed", 0.5), ("skewed", 2.0), ("flat", 2.0),
                                          ("flat", 5.0)])
@pytest.mark.parametrize("theta_deg", [0.0, 1.3])
def test_non_gaussian_band_volume_is_exact_and_row_is_its_peak(shape, param, theta_deg):
    # tailing (exponentially modified Gaussian) and flat-topped (box * Gaussian) bands are
    # rendered as pixel integrals: the unit render sums to the band width (1e-6: the tail is cut
    # 12 tail lengths out, e^-12), and the truth row is the profile's peak along the lane centre
    t = math.radians(theta_deg)
    frame = _Frame(cy=149.5, cx=199.5, cos=math.cos(t), sin=math.sin(t))
    r0, c0, unit = _render_band(frame, (300, 400), _Smile(0.0, 150.0, 0.0), mu=-20.3,
                                sigma=4.0, v_c=0.0, band_width=51.0, band_shape=shape,
                                shape_param=param)
    assert unit.min() > -1e-12
    assert unit.sum() == pytest.approx(51.0, rel=1e-6)
    # peak along the lane, sampled finely through the continuous profile: at u = mu
    from blotquant.simulate import _along_shape

    z = np.linspace(-10, 10, 20001)
    dens = _along_shape(z, 4.0, shape, param)  # pixel integrals ~ density smoothed by 1 px
    peak = z[np.argmax(dens)]
    if shape == "flat":  # symmetric plateau: its middle is (one of) the highest
        assert dens[10000] >= dens.max() * (1 - 1e-9)
    else:  # 1-px box smoothing moves a skewed peak by < 0.05 sd
        assert abs(peak) < 0.2


def test_shapes_scenario_truth_volumes_are_the_rendered_pixels():
    # noise- and background-free: the image is exactly the sum of the truth volumes, whatever the
    # mix of shapes; a target's lanes and neighbours share its shape
    sim = scenario("shapes", seed=3, **SMALL, **NOISELESS, baseline=0.0, gradient=0.0, smear=0.0,
                   dust=0)
    t = sim.truth
    assert set(t["shape"]) <= {"skewed", "flat"}
    assert float(sim.image.astype(np.float64).sum()) == pytest.approx(float(t["volume"].sum()),
                                                                       rel=1e-6)
    for _, g in t.groupby(t["target"].str[0]):  # one shape per target (lanes, neighbours)
        assert g["shape"].nunique() == 1
    kinds = {scenario("shapes", seed=s_, **SMALL).truth["shape"].iloc[0] for s_ in range(6)}
    assert kinds == {"skewed", "flat"}  # both occur over a few seeds
    # the default stays Gaussian
    assert set(scenario("realistic", seed=3, **SMALL).truth["shape"]) == {"gaussian"}


def test_bad_band_shape_is_named():
    with pytest.raises(ValueError, match="band_shape"):
        simulate_blot(**SMALL, band_shape="square")


# --------------------------------------------------------------------------------------------
# rich nuisances and scenarios

import hashlib  # noqa: E402

from blotquant.simulate import _across_supergauss_pixel, _lognormal_factors  # noqa: E402

# sha256 of scenario(name, seed=seed).image (900 x 1400 uint16), computed from commit af6ab53
# (before the rich nuisances existed): the old scenarios must not move by one count
OLD_HASHES = {
    ("realistic", 3): "2efd4a5ae7cd5239b335575c278a65ec37c00e5d45f39c311e59f188b7dfd320",
    ("hard", 1): "1258846eb6bdb45e7f786c0be7fa38876c83b40fb862b997ea6d21840bcbb7dc",
    ("shapes", 2): "4526fd85e55bff83d2e5b367b4a8283b4f1d8d010722c9addd2a37046ef5c638",
    ("saturated", 4): "3c165accca50348d0cc44d5f9f9cd03ebc270b8fbc155b2d71c90dc15980aeed",
    ("clean", 0): "0c6d2c1d9fc1ae69137dd012828eb717779acfed0fb465ed279376bd2a2d44cf",
}
VOLS = np.array([[1e6, 2e6], [3e6, 4e6], [5e5, 1e5], [7e6, 2.5e6]])


@pytest.mark.parametrize("name, seed", sorted(OLD_HASHES))
def test_old_scenarios_are_bit_for_bit_unchanged(name, seed):
    img = scenario(name, seed=seed).image
    assert img.dtype == np.uint16 and img.shape == (900, 1400)
    assert hashlib.sha256(img.tobytes()).hexdigest() == OLD_HASHES[name, seed]


def test_lognormal_factors_have_mean_one_and_the_asked_cv():
    f = _lognormal_factors(np.random.default_rng(0), 0.4, 400_000)
    assert f.mean() == pytest.approx(1.0, abs=0.003)
    assert f.std() / f.mean() == pytest.approx(0.4, rel=0.01)
    assert np.all(_lognormal_factors(np.random.default_rng(0), 0.0, 10) == 1.0)


def test_nonspecific_bands_volume_rows_and_independence_from_the_target():
    # target volumes vary 70-fold across lanes; with lane_cv 0 the non-specific band holds
    # rel x the target's mean volume per band-width pixel in every lane, whatever the lane's own
    sim = _noise_free(volumes=VOLS, nonspecific=((35.0, 0.3, 0.0), (-40.0, 0.2, 0.5)),
                      rotation_deg=1.1, smile_px=5.0)
    t = sim.truth
    # noise- and background-free: the image is exactly the bands (targets + non-specific)
    assert float(sim.image.astype(np.float64).sum()) == pytest.approx(float(t["volume"].sum()),
                                                                       rel=1e-6)
    bw = np.asarray(sim.params["band_widths"])
    per_width = (VOLS / bw[:, None]).mean(axis=0)
    ti = t.set_index(["lane", "target"])
    fac = np.asarray(sim.params["nonspecific_factors"])
    for lane in range(1, 5):
        for j, name in enumerate(("A", "B")):
            main, x1, x2 = ti.loc[(lane, name)], ti.loc[(lane, f"{name}~x1")], ti.loc[(lane, f"{name}~x2")]
            assert x1["kind"] == x2["kind"] == "nonspecific"
            assert x1["volume"] == pytest.approx(0.3 * per_width[j] * bw[lane - 1], rel=1e-6)
            assert x2["volume"] == pytest.approx(0.2 * per_width[j] * bw[lane - 1]
                                                 * fac[lane - 1, j, 1], rel=1e-6)
            c = math.cos(math.radians(1.1))
            assert x1["row"] - main["row"] == pytest.approx(35.0, abs=1e-9 + 35 * (1 - c) + 1e-6)
            assert x2["row"] - main["row"] == pytest.approx(-40.0, abs=40 * (1 - c) + 1e-6)
    assert np.all(fac[:, :, 0] == 1.0) and np.ptp(fac[:, :, 1]) > 0.1
    # adding non-specific bands leaves the targets' truth exactly as without them
    plain = _noise_free(volumes=VOLS, rotation_deg=1.1, smile_px=5.0).truth
    pd.testing.assert_frame_equal(t[t["kind"] == "target"].reset_index(drop=True), plain)


def test_neighbour_cv_scales_each_lanes_share_by_its_drawn_factor():
    base = _noise_free(volumes=VOLS, neighbours=((3.0, 0.5),))
    varied = _noise_free(volumes=VOLS, neighbours=((3.0, 0.5),), neighbour_cv=0.4)
    fac = np.asarray(varied.params["neighbour_factors"])[:, :, 0]
    tb, tv = (s_.truth.set_index(["lane", "target"]) for s_ in (base, varied))
    for lane in range(1, 5):
        for j, name in enumerate(("A", "B")):
            assert tb.loc[(lane, f"{name}~n1"), "volume"] / tb.loc[(lane, name), "volume"] == \
                pytest.approx(0.5, rel=1e-9)
            assert tv.loc[(lane, f"{name}~n1"), "volume"] / tv.loc[(lane, name), "volume"] == \
                pytest.approx(0.5 * fac[lane - 1, j], rel=1e-6)
            assert tv.loc[(lane, name), "volume"] == tb.loc[(lane, name), "volume"]
    assert np.ptp(fac) > 0.2  # the shares really differ lane to lane
    assert float(varied.image.astype(np.float64).sum()) == pytest.approx(
        float(varied.truth["volume"].sum()), rel=1e-6)


@pytest.mark.parametrize("across", ["flat", "supergauss"])
def test_tails_are_background_below_the_band_with_the_asked_decay(across):
    sigma, frac, length_sd = 5.0, 0.1, 4.0
    kw = dict(targets={"A": 100.0}, volumes=np.full((4, 1), 2e6), band_sigma=sigma,
              neighbours=((-3.0, 0.5),), across=across, across_p=4.0)
    off = _noise_free(**kw)
    on = _noise_free(**kw, tails=(frac, length_sd))
    pd.testing.assert_frame_equal(off.truth[["lane", "target", "kind", "volume", "row"]],
                                  on.truth[["lane", "target", "kind", "volume", "row"]])
    tails = on.params["tail_bands"]
    assert len(tails) == 8 and all(0.7 <= b["jitter"] <= 1.3 for b in tails)
    diff = on.image.astype(np.float64) - off.image.astype(np.float64)
    # the image gained exactly the tails' volumes, and they lie below their bands
    assert float(diff.sum()) == pytest.approx(sum(b["volume"] for b in tails), rel=1e-6)
    assert float(diff.sum()) > 0.05 * float(on.truth["volume"].sum())
    heights = {(lane, tg): h for lane, tg, h in on.params["band_heights"]}
    L = length_sd * sigma
    for rec in on.truth[on.truth["kind"] == "target"].itertuples():
        tail = next(b for b in tails if (b["lane"], b["target"]) == (rec.lane, rec.target))
        x, r = int(round(rec.lane_x)), int(round(rec.row))
        col = diff[:, x]
        # nothing above the higher band (the neighbour 3 sd above) beyond its smoothing
        assert float(col[: int(r - 3 * sigma - 6 * sigma)].max()) < 1e-6 * float(col.max())
        # far below both bands the column holds exp(-z/L) exactly: ratio e per L rows
        z1, z2 = r + 30, r + 30 + int(L)
        assert col[z1] / col[z2] == pytest.approx(math.exp(int(L) / L), rel=1e-3)
        # start amplitude = fraction x jitter x the band's own peak height, per unit of the
        # across profile (1 at the middle of a flat top); the peak pixel lies within half a row
        # of the band's peak, hence 1 %
        w = on.params["band_widths"][rec.lane - 1]
        across0 = 1.0 if across == "flat" else float(_across_supergauss_pixel(0.0, w, 4.0))
        start = tail["start_counts"]
        assert start == pytest.approx(frac * tail["jitter"] * heights[(rec.lane, rec.target)]
                                      / across0, rel=0.01)
        # the (band's own) tail alone at z = 30 rows: start e^{-z/L} e^{s^2/2L^2} 2L sinh(1/2L)
        own = start * math.exp(-(z1 - rec.row) / L) * math.exp(sigma**2 / (2 * L * L)) \
            * 2 * L * math.sinh(0.5 / L)
        nb = next(b for b in tails if (b["lane"], b["target"]) == (rec.lane, rec.target + "~n1"))
        own += nb["start_counts"] * math.exp(-(z1 - rec.row + 3 * sigma) / L) \
            * math.exp(sigma**2 / (2 * L * L)) * 2 * L * math.sinh(0.5 / L)
        assert col[z1] == pytest.approx(own * across0, rel=2e-3)


def test_streaks_and_scratches_are_background_of_the_stated_sizes():
    kw = dict(volumes=VOLS, baseline=100.0)
    off = _noise_free(**kw)
    on = _noise_free(**kw, streaks=5)
    # volumes and rows unchanged; `peak` is band + background, so a streak under a band lifts it
    pd.testing.assert_frame_equal(off.truth.drop(columns="peak"), on.truth.drop(columns="peak"))
    assert (on.truth["peak"] >= off.truth["peak"]).all()
    marks = on.params["streak_marks"]
    streaks = [m for m in marks if m["kind"] == "streak"]
    scratches = [m for m in marks if m["kind"] == "scratch"]
    assert len(streaks) == len(scratches) == 5
    typical = on.params["typical_peak"]
    for m in marks:
        assert 0.02 * typical <= m["amplitude"] <= 0.10 * typical
    for m in streaks:
        assert 1 <= m["cols"] <= 3 and 0.3 * 300 - 1 <= m["rows"] <= 300
    for m in scratches:
        assert 1 <= m["rows"] <= 2 and 20 <= m["cols"] <= 200
    inside = [m for m in streaks if m["placed"].startswith("lane")]
    assert len(inside) == 3
    for m in inside:
        i = int(m["placed"].split()[1]) - 1
        x = on.lanes.x_at(m["row0"] + 0.5 * m["rows"])[i]
        assert abs(m["col0"] - x) <= 0.5 * on.lanes.widths[i]
    diff = on.image.astype(np.float64) - off.image.astype(np.float64)
    area = sum(m["amplitude"] * m["rows"] * m["cols"] for m in marks)
    assert float(diff.sum()) == pytest.approx(area, rel=1e-6)
    assert float(diff.min()) >= -1e-3


@pytest.mark.parametrize("p", [2.0, 3.3, 6.0])
@pytest.mark.parametrize("theta_deg", [0.0, 1.7])
def test_supergauss_across_profile_keeps_volumes_exact_and_its_half_width(p, theta_deg):
    sim = _noise_free(volumes=VOLS, across="supergauss", across_p=p, rotation_deg=theta_deg,
                      smile_px=6.0, width_jitter=0.1, margin=150.0, lane_width=50.0)
    got = sim.truth.pivot(index="lane", columns="target", values="volume").to_numpy()
    np.testing.assert_allclose(got, VOLS, rtol=1e-6)
    assert float(sim.image.astype(np.float64).sum()) == pytest.approx(float(VOLS.sum()), rel=1e-6)
    if theta_deg == 0.0:  # one lane alone: the band is w wide at half its maximum across it
        one = _noise_free(targets={"A": 150.0}, n_lanes=1, lane_width=50.0,
                          volumes=np.full((1, 1), 2e6), across="supergauss", across_p=p)
        w = one.params["band_widths"][0]
        prof = one.image[int(round(one.truth["row"].iloc[0]))].astype(np.float64)
        half = prof.max() / 2
        i0 = int(np.argmax(prof >= half))
        i1 = len(prof) - 1 - int(np.argmax(prof[::-1] >= half))
        left = i0 - (prof[i0] - half) / (prof[i0] - prof[i0 - 1])
        right = i1 + (prof[i1] - half) / (prof[i1] - prof[i1 + 1])
        assert right - left == pytest.approx(w, abs=0.1)
        assert 0.5 * (left + right) == pytest.approx(one.truth["lane_x"].iloc[0], abs=0.05)


def test_valley_windows_exclude_close_bands_and_keep_every_target_peak():
    kw = dict(targets={"A": 110.0, "B": 200.0}, volumes=VOLS, rotation_deg=0.6, smile_px=3.0,
              neighbours=((2.6, 0.8),), nonspecific=((-22.0, 0.4, 0.3),), band_sigma=5.0)
    gen = _noise_free(**kw)
    val = _noise_free(**kw, window_style="valley")
    pd.testing.assert_frame_equal(gen.truth, val.truth)
    np.testing.assert_array_equal(gen.image, val.image)
    t = val.truth
    for name in ("A", "B"):
        g_top, g_bot = gen.windows[name]
        top, bot = val.windows[name]
        tg = t[(t["target"] == name) & (t["kind"] == "target")]
        nb = t[t["target"] == f"{name}~n1"]
        ns = t[t["target"] == f"{name}~x1"]
        assert (nb["row"] <= g_bot).all() and (ns["row"] >= g_top).all()  # generous holds both
        assert (tg["row"] >= top).all() and (tg["row"] <= bot).all()
        assert (nb["row"] > bot).all() and (ns["row"] < top).all()
        cuts = {c["band"]: c for c in val.params["window_cuts"][name]}
        assert cuts[f"{name}~n1"]["side"] == "below" and all(cuts[f"{name}~n1"]["dipped"])
        assert cuts[f"{name}~x1"]["side"] == "above"
        # the bottom is the shallowest lane's valley row: at or above every lane's valley
        assert bot == int(math.floor(min(cuts[f"{name}~n1"]["valley_rows"])))
        assert bot < g_bot and top > g_top


def test_valley_window_between_touching_bands_cuts_at_the_midpoint():
    # a neighbour 1.2 sd below with the same volume: the sum has one hump, no valley
    sim = _noise_free(targets={"A": 150.0}, volumes=np.full((4, 1), 2e6), band_sigma=6.0,
                      neighbours=((1.2, 1.0),), window_style="valley")
    t = sim.truth
    cut, = sim.params["window_cuts"]["A"]
    assert not any(cut["dipped"])
    tg = t[t["kind"] == "target"]["row"].to_numpy()
    nb = t[t["kind"] == "neighbour"]["row"].to_numpy()
    np.testing.assert_allclose(cut["valley_rows"], 0.5 * (tg + nb))
    assert sim.windows["A"][1] == max(int(math.floor(float((0.5 * (tg + nb)).min()))),
                                      int(math.ceil(tg.max())) + 1)
    assert (nb > sim.windows["A"][1]).all()


def test_every_rich_nuisance_in_eight_bit_dark_bands():
    kw = dict(volumes=None, baseline=4.0, gain=0.0, read_noise=0.0, dtype="uint8",
              neighbours=((2.5, 0.5),), neighbour_cv=0.3, nonspecific=((30.0, 0.3, 0.4),),
              tails=(0.1, 5.0), streaks=3, across="supergauss", across_p=3.0,
              window_style="valley", smear=0.05, gradient=3.0, rotation_deg=0.5)
    light = simulate_blot(**SMALL, **kw)
    dark = simulate_blot(**SMALL, **kw, polarity="dark-bands")
    assert dark.image.dtype == np.uint8 and dark.ceiling == 255.0
    np.testing.assert_array_equal(dark.image.astype(int), 255 - light.image.astype(int))
    pd.testing.assert_frame_equal(dark.truth, light.truth)
    assert dark.windows == light.windows
    # amplitudes follow the ceiling: streaks 2-10 % of the 8-bit typical peak
    for m in light.params["streak_marks"]:
        assert 0.02 * 0.45 * 255 <= m["amplitude"] <= 0.10 * 0.45 * 255
    assert (light.truth["peak"] <= 0.8 * 255).all() and not light.truth["saturated"].any()
    json.dumps(light.params)


@pytest.mark.parametrize("name", RICH_SCENARIOS)
def test_rich_scenarios_are_deterministic_and_honour_overrides(name):
    a = scenario(name, seed=4, **SMALL)
    b = scenario(name, seed=4, **SMALL)
    c = scenario(name, seed=5, **SMALL)
    assert a.image.tobytes() == b.image.tobytes()
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert a.windows == b.windows
    assert a.image.tobytes() != c.image.tobytes()
    assert a.image.shape == (300, 600) and set(a.truth["lane"]) <= {1, 2, 3, 4}
    assert sorted(a.windows) == ["A", "B"] and a.params["scenario"] == name
    assert a.params["window_style"] == "valley"
    json.dumps(a.params)
    d = scenario(name, seed=4, **SMALL, dtype="uint16", polarity="light-bands")
    assert d.image.dtype == np.uint16 and d.polarity == "light-bands"


@pytest.mark.parametrize("name", ["rich-realistic", "rich-hard", "rich-saturated"])
def test_rich_scenario_draws_within_stated_ranges(name):
    hard = name == "rich-hard"
    seen = {"dtype": set(), "polarity": set(), "across": set(), "shape": set(), "tails": set()}
    for seed in range(24):  # seeds 12 and 19-23 draw 8 bits
        sim = scenario(name, seed=seed, **SMALL)
        p, t = sim.params, sim.truth
        k = sim.ceiling / 65535.0
        assert abs(p["rotation_deg"]) <= (2.0 if hard else 0.8)
        assert (5.0 if hard else 0.0) <= p["smile_px"] <= (20.0 if hard else 6.0)
        lo, hi = ((1000, 5000) if hard else (800, 2500))
        assert k * lo <= p["baseline"] <= k * hi
        assert (5.0 if hard else 5.0) <= p["band_sigma"] <= (8.0 if hard else 7.0)
        nb = p["neighbours"]
        assert 1.8 <= abs(nb[0][0]) <= (3.0 if hard else 5.0) and 0.15 <= nb[0][1] <= 1.0
        if len(nb) == 2:
            assert hard and 3.0 <= abs(nb[1][0]) <= 5.0 and np.sign(nb[1][0]) != np.sign(nb[0][0])
        assert (0.3 if hard else 0.2) <= p["neighbour_cv"] <= (0.6 if hard else 0.5)
        assert (1 if hard else 0) <= len(p["nonspecific"]) <= (2 if hard else 1)
        for off, rel, cv in p["nonspecific"]:
            assert 6.0 <= abs(off) / p["band_sigma"] <= 15.0 and 0.1 <= rel <= 0.6
            assert 0.3 <= cv <= 0.6
        if p["tails"] is not None:
            f, ln = p["tails"]
            assert (0.05 if hard else 0.03) <= f <= (0.2 if hard else 0.12)
            assert 3.0 <= ln <= (10.0 if hard else 8.0)
        assert (2 if hard else 0) <= p["streaks"] <= (6 if hard else 3)
        if p["across"] == "supergauss":
            assert 2.0 <= p["across_p"] <= 6.0
        for _, _, shp, prm in p["band_shapes_drawn"]:
            assert shp == "gaussian" or (0.45 <= prm <= 2.2 if shp == "skewed" else 0.9 <= prm <= 4.4)
        unsat = t[~t["saturated"]]
        assert (unsat[unsat["kind"] == "target"]["peak"] <= 0.8 * sim.ceiling).all()
        seen["dtype"].add(p["dtype"])
        seen["polarity"].add(p["polarity"])
        seen["across"].add(p["across"])
        seen["shape"].update(t["shape"])
        seen["tails"].add(p["tails"] is None)
    assert seen["dtype"] == {"uint8", "uint16"} and seen["polarity"] == {"light-bands", "dark-bands"}
    assert seen["across"] == {"flat", "supergauss"} and seen["tails"] == {True, False}
    assert seen["shape"] == {"gaussian", "skewed", "flat"}


def test_rich_saturated_flags_exactly_the_chosen_targets():
    for seed in range(6):
        for over in ({}, {"dtype": "uint8", "polarity": "dark-bands"}, {"ceiling": 4095}):
            sim = scenario("rich-saturated", seed=seed, **SMALL, **over)
            t = sim.truth
            chosen = {(int(lane), str(tg)) for lane, tg in sim.params["saturate"]}
            assert 2 <= len(chosen) <= 3
            targets = t[t["kind"] == "target"]
            assert {(int(r.lane), r.target) for r in targets.itertuples() if r.saturated} == chosen
            others = targets[[(r.lane, r.target) not in chosen for r in targets.itertuples()]]
            assert (others["peak"] <= 0.8 * sim.ceiling).all()


def test_rich_dilution_is_a_two_fold_loading_series_down_to_three_to_five_floors():
    for seed in range(3):
        # 300 rows below the lower band: a long tail (12 tail lengths) is not cut by the edge
        sim = scenario("rich-dilution", seed=seed, shape=(700, 1000), n_lanes=8, margin=60.0,
                       targets={"TNAP": 200.0, "beta-actin": 400.0})
        t = sim.truth[sim.truth["kind"] == "target"]
        vol = t.pivot(index="lane", columns="target", values="volume")
        np.testing.assert_allclose(vol.to_numpy()[:-1] / vol.to_numpy()[1:], 2.0, rtol=1e-6)
        ratio = vol["TNAP"] / vol["beta-actin"]
        np.testing.assert_allclose(ratio, ratio.iloc[0], rtol=1e-6)
        nf = sim.params["noise_floor"]
        floor = math.sqrt(sim.params["gain"] * (sim.params["baseline"] + 0.5 * sim.params["gradient"])
                          + sim.params["read_noise"] ** 2)
        assert nf["value"] == pytest.approx(floor, rel=1e-9)
        for h in nf["weakest_peak_heights"].values():
            assert 3.0 - 1e-6 <= h / floor <= 5.0 + 1e-6
        assert h / floor == pytest.approx(nf["weakest_peak_over_floor"], rel=1e-6)
        assert sim.image.dtype == np.uint16 and not sim.truth["saturated"].any()
        assert (t["peak"] <= 0.8 * sim.ceiling).all()
