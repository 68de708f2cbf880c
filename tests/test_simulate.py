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
