"""Tests for blotquant.lanes: lane centres, tilt and empty lanes against simulator truth, and
against the hand-checked geometry of real blots (``-m real``; skipped when the data is absent)."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from realdata import user_windows  # tests/ is on sys.path under pytest

from blotquant.errors import LayoutError
from blotquant.lanes import Lanes, find_lanes, lanes_from_centers, profile_columns
from blotquant.simulate import scenario, simulate_blot

CENTRE_TOL = 2.0  # px, lanes with signal, at the band rows
EMPTY_TOL = 3.0  # px, lanes placed from the pitch
ANGLE_TOL = 0.15  # degrees


def _max_centre_error(found: Lanes, sim) -> float:
    """Largest |found - true| lane centre over all lanes, evaluated at every band row drawn."""
    rows = np.unique(sim.truth["row"].to_numpy())
    return max(float(np.abs(found.x_at(r) - sim.lanes.x_at(r)).max()) for r in rows)


def _angle_error(params, sim) -> float:
    return abs(params["angle_deg"] - math.degrees(math.atan(sim.lanes.slope)))


# ---------------------------------------------------------------------------------- simulated


@pytest.mark.parametrize("name", ["clean", "realistic", "hard", "saturated"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_centres_and_tilt_match_simulator_truth(name, seed):
    sim = scenario(name, seed=seed)
    lanes, params = find_lanes(sim.image.astype(float), len(sim.lanes.centers))
    assert _max_centre_error(lanes, sim) <= CENTRE_TOL
    assert _angle_error(params, sim) <= ANGLE_TOL
    assert params["inferred"] == []


@pytest.mark.parametrize("rotation", [-3.0, -1.2, 2.5])
def test_strong_tilt_is_recovered(rotation):
    sim = scenario("realistic", seed=7, rotation_deg=rotation)
    lanes, params = find_lanes(sim.image.astype(float), 10)
    assert _angle_error(params, sim) <= ANGLE_TOL
    assert _max_centre_error(lanes, sim) <= CENTRE_TOL


@pytest.mark.parametrize("name", ["clean", "realistic", "hard"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("empty", [(1,), (1, 6), (10,)])
def test_empty_lanes_are_placed_by_the_pitch(name, seed, empty):
    sim = scenario(name, seed=seed, empty_lanes=empty)
    lanes, params = find_lanes(sim.image.astype(float), 10)
    rows = np.unique(sim.truth["row"].to_numpy())
    err = np.max([np.abs(lanes.x_at(r) - sim.lanes.x_at(r)) for r in rows], axis=0)
    empty_idx = [e - 1 for e in empty]
    assert err[empty_idx].max() <= EMPTY_TOL
    assert np.delete(err, empty_idx).max() <= CENTRE_TOL
    assert params["inferred"] == list(empty)
    assert [lane["seen"] for lane in params["lanes"]] == [i + 1 not in empty for i in range(10)]


@pytest.mark.parametrize("seed", [0, 4])
def test_widths_cover_the_band_edges_and_volumes_match_the_truth(seed):
    # Regression: widths were the half-maximum width of the column profile, i.e. the drawn band
    # width, so strips cut off both soft (erf) edges and every volume came out ~1.2 % low.
    from blotquant.bands import measure_bands

    sim = scenario("clean", seed=seed)
    img = sim.image.astype(float)
    lanes, params = find_lanes(img, 10)
    band = np.asarray(sim.params["widths"], float) * sim.params["lane_fill"]  # 80 px x 0.85
    edge = sim.params["edge_sigma_px"]  # 1 px sd of the erf edges
    # Simulator geometry: a strip reaching 1.6 edge sd beyond each band edge (the 10 % level of
    # the edge, blurred by the profile's light smoothing) misses ~0.02 px per side (< 0.1 %);
    # expected width 68 + 3.2 px, within 5 %; never past the true lane (no overlap).
    expected = band + 2 * 1.6 * edge
    np.testing.assert_allclose(lanes.widths, expected, rtol=0.05)
    assert np.all(lanes.widths >= band + 2 * edge)  # at least one edge sd out (< 0.3 % lost)
    assert np.all(lanes.widths <= np.asarray(sim.params["widths"], float))
    rule = params["width_rule"]
    assert rule["extended"] == list(range(1, 11)) and rule["capped"] == []
    np.testing.assert_allclose(rule["core_widths"], band, rtol=0.02)  # the half-maximum width
    truth = sim.truth[sim.truth["kind"] == "target"].set_index(["target", "lane"])["volume"]
    for target, window in sim.windows.items():
        table, _ = measure_bands(img, lanes, window)
        err = table["volume"].to_numpy() / truth.loc[target].to_numpy() - 1.0
        assert np.abs(err).max() <= 0.005, (target, np.round(100 * err, 2))


def test_widths_are_capped_at_the_midpoints_between_lanes():
    # three soft-edged (erf, sd 1) bands 38 wide at 50, 90 and 200: the middle lane's band reaches
    # ~21 px to its right, past half its 40 px distance to the left neighbour; a strip centred on
    # the lane may not cross that midpoint, so its width stops at 40 (the others are free)
    from scipy.special import ndtr

    from blotquant.lanes import _band_extent_widths

    x = np.arange(260.0)
    centers = np.array([50.0, 90.0, 200.0])
    prof = sum(ndtr((x - c + 19) / 1.0) - ndtr((x - c - 19) / 1.0) for c in centers)
    core = np.full(3, 38.0)
    widths, capped = _band_extent_widths(prof, centers, core, np.ones(3, bool), 1e-6)
    assert capped.tolist() == [False, True, False]
    assert widths[1] == pytest.approx(40.0)
    assert widths[0] == pytest.approx(40.0, abs=1.0)  # its right side is the touching gap
    assert 40.0 < widths[2] < 42.0  # 38 + 2 x ~1.3 edge sd
    # never below the width found before, and a lane left out keeps it
    widths, _ = _band_extent_widths(prof, centers, np.array([38.0, 45.0, 38.0]),
                                    np.array([True, True, False]), 1e-6)
    assert widths[1] == 45.0 and widths[2] == 38.0


def test_other_lane_counts_and_geometries():
    sim = simulate_blot(shape=(400, 900), n_lanes=15, lane_width=40, margin=40, gain=0.5,
                        read_noise=5, targets={"A": 80, "B": 160, "C": 240, "D": 320},
                        rotation_deg=1.0, seed=3)
    lanes, params = find_lanes(sim.image.astype(float), 15)
    assert _max_centre_error(lanes, sim) <= CENTRE_TOL
    assert _angle_error(params, sim) <= ANGLE_TOL
    assert abs(params["pitch"] - np.diff(sim.lanes.centers).mean()) <= 0.5


def test_crop_gives_the_same_lanes_shifted():
    sim = scenario("realistic", seed=2)
    img = sim.image.astype(float)
    full, _ = find_lanes(img, 10)
    x0, y0 = 30, 50
    crop, params = find_lanes(img[y0:, x0:], 10)
    y = 400.0
    np.testing.assert_allclose(crop.x_at(y - y0) + x0, full.x_at(y), atol=0.5)


def test_dark_band_image_after_inversion():
    sim = scenario("realistic", seed=5, polarity="dark-bands")
    data = sim.ceiling - sim.image.astype(float)
    lanes, params = find_lanes(data, 10)
    assert _max_centre_error(lanes, sim) <= CENTRE_TOL


def test_input_is_not_modified_and_dtypes_agree():
    sim = scenario("hard", seed=1)
    img = sim.image.astype(float)
    before = img.copy()
    lanes_f, params_f = find_lanes(img, 10)
    np.testing.assert_array_equal(img, before)
    raw = sim.image.copy()
    lanes_u, _ = find_lanes(raw, 10)
    np.testing.assert_array_equal(raw, sim.image)
    np.testing.assert_allclose(lanes_u.centers, lanes_f.centers, atol=1e-6)


def test_params_are_json_and_complete():
    sim = scenario("realistic", seed=0, empty_lanes=(1,))
    lanes, params = find_lanes(sim.image.astype(float), 10)
    params = json.loads(json.dumps(params))
    for key in ("angle_deg", "slope", "y_ref", "pitch", "lanes", "inferred", "n_seen",
                "pitch_residual_px", "quality"):
        assert key in params
    assert len(params["lanes"]) == 10
    assert set(params["lanes"][0]) == {"lane", "center", "width", "strength", "seen", "evidence"}
    assert [lane["evidence"] for lane in params["lanes"]] == ["pitch"] + ["bright"] * 9
    assert params["n_seen"] == 9
    assert 0.0 <= params["quality"] <= 1.0
    assert params["slope"] == lanes.slope
    assert np.all(np.diff(lanes.centers) > 0)


def test_fixed_slope_option_is_used():
    sim = scenario("clean", seed=0, rotation_deg=1.0)
    lanes, params = find_lanes(sim.image.astype(float), 10, method_kwargs={"slope": sim.lanes.slope})
    assert lanes.slope == sim.lanes.slope
    assert params["tilt"]["searched"] is False
    assert _max_centre_error(lanes, sim) <= CENTRE_TOL


def test_speed_on_a_large_image():
    # 3000 x 4000 uint16, 10 lanes, 4 targets: the budget for lane finding is ~0.2 s; the bound
    # here is loose because the test machine may be shared.
    sim = simulate_blot(shape=(750, 1000), lane_width=60, margin=60, gain=0.5, read_noise=5, seed=1)
    big = np.repeat(np.repeat(sim.image, 4, axis=0), 4, axis=1)
    find_lanes(big, 10)
    t = time.perf_counter()
    lanes, _ = find_lanes(big, 10)
    assert time.perf_counter() - t < 1.0
    np.testing.assert_allclose(lanes.centers, 4 * sim.lanes.x_at(lanes.y_ref / 4) + 1.5, atol=4 * 1.0)


# ---------------------------------------------------------------------------------- errors


def test_too_many_lanes_for_the_region():
    with pytest.raises(LayoutError, match="12 lanes.*40 px wide"):
        find_lanes(np.zeros((100, 40)), 12)


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_lane_count(n):
    with pytest.raises(LayoutError, match="n_lanes"):
        find_lanes(np.zeros((100, 400)), n)


def test_bad_image_and_options():
    with pytest.raises(LayoutError, match="2-D"):
        find_lanes(np.zeros((10, 10, 3)), 2)
    with pytest.raises(LayoutError, match="unknown method_kwargs option.*find_lanes.*allowed"):
        find_lanes(np.zeros((100, 400)), 2, method_kwargs={"angle": 1})


def test_blank_image_raises():
    with pytest.raises(LayoutError, match="no lane signal"):
        find_lanes(np.full((200, 600), 1000.0), 6)


def test_lanes_from_centers():
    lanes = lanes_from_centers([100, 200.5, 300], [50, 60, 70], slope=0.01, y_ref=20)
    np.testing.assert_allclose(lanes.x_at(120), [101, 201.5, 301])
    np.testing.assert_allclose(lanes.widths, [50, 60, 70])
    with pytest.raises(LayoutError, match="increase"):
        lanes_from_centers([100, 90], 40)
    with pytest.raises(LayoutError, match="positive"):
        lanes_from_centers([100, 200], 0)
    with pytest.raises(LayoutError, match="one per lane"):
        lanes_from_centers([100, 200], [40, 40, 40])
    with pytest.raises(LayoutError, match="empty"):
        lanes_from_centers([], 40)


def test_profile_columns_aligns_tilted_lanes():
    img = np.zeros((200, 300))
    rows = np.arange(200)[:, None]
    img[np.abs(np.arange(300)[None, :] - (150 + 0.05 * (rows - 100))) < 3] = 1.0
    straight, _, _, _ = profile_columns(img, slope=0.05, y_ref=100.0)
    skewed, _, _, _ = profile_columns(img, slope=0.0)
    assert abs(int(np.argmax(straight)) - 150) <= 1
    assert straight.max() > 1.5 * skewed.max()


# ---------------------------------------------------------------------------------- real blots

from realdata import REAL, annotated_images  # noqa: E402  (tests/ is on sys.path under pytest)

SAMPLE_TOL, MARKER_TOL = 5.0, 8.0

# Strips that do not reach the tolerance with `rows` and the annotation's lane `kinds` given (see
# benchmarks/lanes_real.py), with the observed failure; 'verified' reasons were checked on a contrast-stretched render of the strip.
KNOWN_FAILURES = {
    'zdf-rat-heart-adrenoceptors/B1AR/July4/July4_B1AR_10wtop_16wbottom_GAPDH.tif#1': 'verified on a contrast-stretched render: the GAPDH bands of neighbouring lanes merge into one tilted bar; lane 3 6.8 px off (tolerance 5; 6.0 before lanes touching both neighbours were centred between the gaps: it now sits at x=335.7, between the dips). Measured: the column-profile dips around lane 3 lie at x=313/360 in rows 100-124 (midpoint 336.5-338; the floor search reaches both), the annotation box is [318, 367] (342.5); the dips move ~8 px left from the main band to the lower band (lanes slant ~6 deg, the tilt is rejected: standard error 0.61 deg)',
    'zdf-rat-heart-adrenoceptors/B2AR/April22/April22.2013_B2AR_10wtop_16wbottom.tif#1': 'verified on a contrast-stretched render and measured: sample lanes fine (2.0 px); the left marker is 9.5 px right of the annotation (x=193, "set by eye (+-8 px)"; 13.5 px before the lane-extent bounds moved to the gaps, which moved the lane line). The dark marks at the annotated ladder rows have their row-contrast half-maximum middles at image x~205 (y=19, extent 186-224) and x~197 (y=199, extent 179-214): the ladder itself is ~8 px right of the annotation, and the lane line (203.7) is 10.7 px off. The lane-line search now takes two bands (x 196.1 at y~201 and 209.0 at the strip\'s bottom edge, y~238, below a bright smear), median 202.5; the faint-ladder search used to take three (x 206.5, 197.7, 208.8, median 206.5); the two real marks alone give 202.1, still 9.1 px off. The dark band at y~87 is the flank of the bright sample band and is no longer taken (was 28.7 px off)',
}


def _real_cases():
    out = []
    for set_name, entry in annotated_images():
        if not entry["path"].lower().endswith((".tif", ".tiff")):
            continue
        for k, strip in enumerate(entry["strips"]):
            case_id = f"{set_name}/{entry['path']}#{k + 1}"
            marks = [pytest.mark.real]
            if case_id in KNOWN_FAILURES:
                marks.append(pytest.mark.xfail(reason=KNOWN_FAILURES[case_id], strict=True))
            out.append(pytest.param(set_name, entry, strip, id=case_id, marks=marks))
    return out


def _load_gray(path):
    import tifffile

    arr = tifffile.imread(path)
    dmax = float(np.iinfo(arr.dtype).max) if arr.dtype.kind in "ui" else 1.0
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        arr = arr[..., :3].mean(axis=-1)
    return np.asarray(arr, dtype=float), dmax


@pytest.mark.real
@pytest.mark.skipif(not REAL.is_dir(), reason="real blots not present")
@pytest.mark.parametrize("set_name, entry, strip", _real_cases())
def test_real_annotated_lane_centres(set_name, entry, strip):
    img, dmax = _load_gray(REAL / set_name / entry["path"])
    if entry["polarity"] == "dark-bands":
        img = dmax - img  # ceiling - stored
    x0, y0, x1, y1 = (int(round(v)) for v in strip["box"])
    rows = [(top - y0, bottom - y0) for top, bottom in user_windows(strip).values()]
    kinds = [lane["kind"] for lane in strip["lanes"]]  # what the config's lane list says
    lanes, params = find_lanes(img[y0 : y1 + 1, x0 : x1 + 1], len(strip["lanes"]), rows=rows, kinds=kinds)
    band_rows = []
    for lane in strip["lanes"]:
        bands = lane.get("bands") or {}
        band_rows.append(next(iter(bands.values()))["y"] if bands else np.nan)
    band_rows = np.array(band_rows, dtype=float)
    band_rows[~np.isfinite(band_rows)] = np.nanmedian(band_rows)
    found = np.array([lanes.x_at(y - y0)[i] for i, y in enumerate(band_rows)]) + x0
    truth = np.array([lane["x"] for lane in strip["lanes"]], dtype=float)
    marker = np.array([lane["kind"] == "marker" for lane in strip["lanes"]])
    err = np.abs(found - truth)
    assert np.all(err[~marker] <= SAMPLE_TOL), f"sample-lane errors {np.round(err, 1)}"
    assert np.all(err[marker] <= MARKER_TOL), f"marker-lane errors {np.round(err, 1)}"


@pytest.mark.real
@pytest.mark.skipif(not REAL.is_dir(), reason="real blots not present")
def test_real_flank_of_a_sample_band_is_not_a_ladder_band():
    # regression (ZDF April22 B2AR top strip, strip box x 160-1062, y 0-245): the dark rows above
    # the bright band of sample lane 1, reaching into the marker's columns (y~87, x~222), were
    # taken as one clear dark ladder band and the marker went 28.7 px off; they are that band's
    # flank (the marker's remaining miss is the annotation's, see KNOWN_FAILURES)
    entry, strip = next((e, e["strips"][0]) for s, e in annotated_images()
                        if e["path"].endswith("April22.2013_B2AR_10wtop_16wbottom.tif"))
    img, _ = _load_gray(REAL / "zdf-rat-heart-adrenoceptors" / entry["path"])
    x0, y0, x1, y1 = (round(v) for v in strip["box"])
    rows = [(top - y0, bottom - y0) for top, bottom in user_windows(strip).values()]
    kinds = [lane["kind"] for lane in strip["lanes"]]
    _, params = find_lanes(img[y0 : y1 + 1, x0 : x1 + 1], len(kinds), rows=rows, kinds=kinds)
    (rec,) = params["placement"]["ladders"]
    assert not any(abs(b["row"] + y0 - 87) <= 10 and b["center"] + x0 > 212 for b in rec["bands"]), rec


# ---------------------------------------------------------------------------------- rows


def test_rows_windows_give_the_simulator_truth():
    sim = scenario("hard", seed=2)
    rows = list(sim.windows.values())
    lanes, params = find_lanes(sim.image.astype(float), 10, rows=rows)
    assert _max_centre_error(lanes, sim) <= CENTRE_TOL
    assert params["rows"] == [[int(t), int(b) + 1] for t, b in rows]
    json.dumps(params)


def test_extra_lane_like_column_outside_the_count_is_reported():
    # 11 equal lanes drawn, 10 asked for: one is left out and the choice is reported
    sim = simulate_blot(shape=(500, 1200), n_lanes=11, lane_width=60, margin=60, gain=0.5,
                        read_noise=5, targets={"A": 250}, seed=4)
    lanes, params = find_lanes(sim.image.astype(float), 10, rows=[(220, 280)])
    pl = params["placement"]
    assert pl["lane_like_columns"] == 11
    assert len(pl["alternatives"]) == 2 and 0.0 <= pl["margin"] <= 1.0
    true = sim.lanes.x_at(250)
    err_left = np.abs(lanes.x_at(250) - true[:10]).max()
    err_right = np.abs(lanes.x_at(250) - true[1:]).max()
    assert min(err_left, err_right) <= CENTRE_TOL


def test_single_band_row_reports_no_tilt():
    # one band row: the tilt is not determined, slope 0 with a reason (not a spurious ±3 deg)
    sim = simulate_blot(shape=(400, 900), n_lanes=8, lane_width=60, margin=60, gain=0.5,
                        read_noise=5, targets={"A": 200}, seed=5)
    lanes, params = find_lanes(sim.image.astype(float), 8, rows=[(170, 230)])
    assert params["slope"] == 0.0
    assert "not well determined" in params["tilt"]["reason"]
    assert _max_centre_error(lanes, sim) <= CENTRE_TOL


@pytest.mark.parametrize("rows", [[(30, 10)], [(5,)], "abc"])
def test_bad_rows(rows):
    with pytest.raises(LayoutError, match="rows"):
        find_lanes(np.zeros((100, 400)), 2, rows=rows)


# ---------------------------------------------------------------------------------- kinds

KINDS_10 = ["marker", "sample", "sample", "sample", "sample", "empty", "sample", "sample", "sample", "sample"]


def _ladder_blot(seed, name="realistic", extra="lane"):
    """11 lanes drawn: lane 1 a ladder (marker bands only, none in the target rows), lane 6 empty,
    lanes 2-5 and 7-11 samples; only lanes 1-10 are listed (lane 11 is an unlisted lane with
    bands). ``extra="artefact"`` instead draws 10 lanes and adds a bright vertical streak left
    of the ladder (outside the listed span)."""
    n = 11 if extra == "lane" else 10
    ladder = [(1, row, 4e5) for row in (80, 160, 330, 430, 520)]
    sim = scenario(name, seed=seed, shape=(700, 1400), n_lanes=n, lane_width=60, margin=110,
                   targets={"A": 250, "B": 600}, empty_lanes=(1, 6), extra_bands=ladder)
    img = sim.image.astype(float)
    if extra == "artefact":
        x = np.arange(img.shape[1])
        streak = np.exp(-0.5 * ((x - 35) / 6) ** 2) * 0.4 * float(sim.truth["peak"].max())
        img = img + streak[None, :]
    return sim, img


@pytest.mark.parametrize("extra", ["lane", "artefact"])
@pytest.mark.parametrize("name", ["clean", "realistic", "hard"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kinds_give_the_listed_lanes(name, seed, extra):
    sim, img = _ladder_blot(seed, name, extra)
    rows = [tuple(v) for v in sim.windows.values()]
    before = img.copy()
    lanes, params = find_lanes(img, 10, rows=rows, kinds=KINDS_10)
    np.testing.assert_array_equal(img, before)
    band_rows = np.unique(sim.truth.loc[sim.truth["kind"] == "target", "row"].to_numpy())
    err = np.max([np.abs(lanes.x_at(r) - sim.lanes.x_at(r)[:10]) for r in band_rows], axis=0)
    assert err.max() <= CENTRE_TOL, np.round(err, 2)
    assert _angle_error(params, sim) <= ANGLE_TOL
    assert params["kinds"] == KINDS_10
    assert params["placement"]["method"] == "kinds"
    assert params["placement"]["margin"] is None or params["placement"]["margin"] >= 0.5
    json.dumps(params)


def test_kinds_warn_about_an_unlisted_band_column():
    sim, img = _ladder_blot(0, "clean", "lane")
    lanes, params = find_lanes(img, 10, rows=[tuple(v) for v in sim.windows.values()], kinds=KINDS_10)
    assert params["warning"] is not None and "9 band-bearing columns for 8 listed sample lanes" in params["warning"]
    x11 = float(sim.lanes.x_at(lanes.y_ref)[10])
    off = params["placement"]["band_columns_off_sample_lanes"]
    assert len(off) == 1 and abs(off[0] - x11) <= 5


def test_kinds_fix_the_one_lane_shift():
    # regression: without kinds the invisible ladder, the empty lane 6 and the unlisted 11th lane
    # make the run of the 10 strongest lane-like columns win, one pitch to the right (~107 px)
    sim, img = _ladder_blot(1, "realistic", "lane")
    rows = [tuple(v) for v in sim.windows.values()]
    without, _ = find_lanes(img, 10, rows=rows)
    with_kinds, _ = find_lanes(img, 10, rows=rows, kinds=KINDS_10)
    y = with_kinds.y_ref
    pitch = float(np.diff(sim.lanes.centers).mean())
    assert np.abs(without.x_at(y) - sim.lanes.x_at(y)[:10]).max() > pitch / 2
    assert np.abs(with_kinds.x_at(y) - sim.lanes.x_at(y)[:10]).max() <= CENTRE_TOL


@pytest.mark.parametrize("kinds, match", [
    (["sample"] * 9, "one kind per lane"),
    (["sample"] * 9 + ["ladder"], "unknown lane kind"),
    ("sample" * 10, "sequence"),
    (["empty"] * 5 + ["marker"] * 5, "no sample lane"),
])
def test_bad_kinds(kinds, match):
    with pytest.raises(LayoutError, match=match):
        find_lanes(np.zeros((100, 400)), 10, kinds=kinds)


def test_kinds_speed_on_a_large_image():
    sim = simulate_blot(shape=(750, 1000), lane_width=60, margin=60, gain=0.5, read_noise=5, seed=1,
                        empty_lanes=(1,), extra_bands=[(1, 100, 2e5), (1, 400, 2e5)])
    big = np.repeat(np.repeat(sim.image, 4, axis=0), 4, axis=1)
    kinds = ["marker"] + ["sample"] * 9
    rows = [(4 * t, 4 * b) for t, b in sim.windows.values()]
    find_lanes(big, 10, rows=rows, kinds=kinds)
    t = time.perf_counter()
    lanes, _ = find_lanes(big, 10, rows=rows, kinds=kinds)
    assert time.perf_counter() - t < 1.0  # budget ~0.2 s; loose on a shared machine
    truth = 4 * sim.lanes.x_at(lanes.y_ref / 4) + 1.5
    assert np.abs(lanes.centers[1:] - truth[1:]).max() <= 4 * CENTRE_TOL
    # regression: the marker's two bright bands make dark flanks in the rows above and below them;
    # counted as dark ladder bands they outnumbered the bright ones and put the marker 44 px off
    assert abs(lanes.centers[0] - truth[0]) <= 2.0


# ------------------------------------------------------------------ lane extent and regular pitch


def test_regularise_moves_only_an_irregular_lane_and_keeps_group_gaps():
    from blotquant.lanes import _regularise

    c = np.array([0.0, 100.0, 218.0, 300.0, 400.0])  # lane 3 is 18 % of the pitch off
    moved = _regularise(c, np.ones(5, bool), 100.0)
    assert moved.tolist() == [False, False, True, False, False]
    assert c[2] == pytest.approx(206.0)  # limit: 0.06 pitch from its neighbours' midpoint
    g = np.array([0.0, 100.0, 200.0, 400.0, 500.0])  # a gap of one pitch between two groups
    assert not _regularise(g.copy(), np.ones(5, bool), 100.0).any()
    ok = np.array([True, True, True, True, True])
    r = np.array([0.0, 100.0, 204.0, 300.0, 400.0])  # within 0.06 pitch: kept as found
    assert not _regularise(r, ok, 100.0).any()


@pytest.mark.xfail(strict=True, reason=(
    "known weak point, measured on this profile: the right side's floor is the gap minimum, raised "
    "by the 8x brighter neighbour's tail, so the edge at 0.2 of the way from it to the peak moves "
    "inwards and the centre lands 2.5 px away from the neighbour"))
def test_lane_extent_centre_is_not_pushed_by_a_much_brighter_touching_neighbour():
    from blotquant.lanes import _lane_extent

    x = np.arange(400.0)
    prof = sum(a * np.exp(-0.5 * ((x - c) / 14.0) ** 2) for c, a in ((40, 1.0), (100, 1.0), (160, 8.0)))
    g = _lane_extent(prof, 100.0, 70.0, 130.0, 12.0, 0.2)
    assert abs(g["center"] - 100.0) <= 0.5


def test_kinds_stray_column_beyond_the_last_band_does_not_shift_the_lanes():
    # regression (ZDF May30 B1AR top strip, only the 9 sample lanes listed): the band columns'
    # half-max middles, image px - 78, and strengths from find_lanes on that strip: 9 bands
    # (x 171..627, jittered up to 8 px by smeared bands), a weak marker-side column left of them
    # (115) and two non-band columns right of them (703, beside the dark marker; 836, handwriting).
    # With each column's nearest-neighbour distance as the expected step, the stray column at 703
    # set its own expected step (76 px) and the run shifted one lane right won by 1.3.
    from blotquant.lanes import _assign_by_kinds

    xs = np.array([115.0, 171.3, 237.9, 284.9, 349.7, 400.7, 453.4, 517.2, 566.5, 627.0, 703.4, 836.4])
    strength = np.array([0.42, 3.13, 3.78, 0.62, 0.73, 2.46, 0.59, 0.32, 2.42, 0.8, 0.86, 1.0])
    flat = np.zeros(914)
    dp = _assign_by_kinds(np.array(["sample"] * 9), {"x": xs, "strength": strength}, flat, flat, 57.0)
    np.testing.assert_allclose(dp["positions"], xs[1:10])
    assert dp["margin"] > 0


# ------------------------------------------------------- comet-shaped bands on touching lanes


def _comet_strip(seed, tail, *, n=12, pitch=88.0, gap=8.0, descent=20.0, rows=80):
    """A strip like wb-strips-chibidragon: ``n`` lanes ``pitch`` apart that touch (dark gaps
    ``gap`` px wide), each band comet-shaped across its lane (dense at one end, chosen at random,
    falling linearly to ``tail`` of that at the other), the band row descending ``descent`` px
    from the first lane to the last, a faint lane column in every row, and noise. Returns the
    image, the true centres, the row window a user would type and the comet directions."""
    from scipy.special import erf

    rng = np.random.default_rng(seed)
    cols = int(n * pitch + 20)
    x = np.arange(cols, dtype=float)[None, :]
    y = np.arange(rows, dtype=float)[:, None]
    centres = 10 + pitch * (np.arange(n) + 0.5)
    band_rows = 25 + descent * np.arange(n) / (n - 1)
    half = 0.5 * (pitch - gap)
    heads = rng.choice([-1.0, 1.0], n)
    img = np.full((rows, cols), 100.0)
    for c, r, d, a in zip(centres, band_rows, heads, rng.uniform(60, 150, n)):
        across = 0.5 * (erf((x - c + half) / (1.5 * 2**0.5)) - erf((x - c - half) / (1.5 * 2**0.5)))
        comet = tail + (1 - tail) * (d * np.clip((x - c) / half, -1, 1) + 1) / 2
        img += 3.0 * across + a * across * comet * np.exp(-0.5 * ((y - r) / 4.0) ** 2)
    img += rng.normal(0, 1.5, img.shape)
    return img, centres, (int(band_rows.min() - 15), int(band_rows.max() + 15)), heads


@pytest.mark.parametrize("tail", [0.3, 0.15])
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5, 6, 7])
def test_comet_bands_on_touching_lanes_with_a_descending_row(seed, tail):
    # regression (wb-strips-chibidragon original.png and test_image2.png, 12 and 13 touching lanes
    # of comet-shaped bands on a band row that descends left to right): the band columns sat at
    # the dense ends (a quarter pitch off), the pitch from their spacings came out 71 px for 88,
    # and the listed lanes were assigned one column off from the middle of the strip on: lanes
    # 5-12 12-28 px off, lanes 9-13 18-117 px off. On these strips the old placement was 6-89 px off.
    img, truth, window, _ = _comet_strip(seed, tail)
    before = img.copy()
    lanes, params = find_lanes(img, truth.size, rows=[window], kinds=["sample"] * truth.size)
    err = np.abs(lanes.x_at(lanes.y_ref) - truth)
    np.testing.assert_array_equal(img, before)
    assert err[1:-1].max() <= 3.0, np.round(err, 1)
    # the end lanes have an open side: a tail at 15 % of the head there is cut at 20 % (SAMPLE_TOL)
    assert err[[0, -1]].max() <= (2.0 if tail > 0.2 else SAMPLE_TOL), np.round(err, 1)
    assert lanes.slope == 0.0  # the descending band row is not a tilt of the lanes
    plc = params["placement"]
    assert set(plc["centred_between_gaps"]) <= set(range(2, truth.size))
    assert plc["centring"]["touch_gap_pitch"] > 0
    json.dumps(params)


def test_column_middles_move_only_a_leaning_column():
    from blotquant.lanes import _column_middles

    x = np.arange(300.0)
    box = lambda c, h: 0.5 * (np.tanh((x - c + h) / 1.5) - np.tanh((x - c - h) / 1.5))  # noqa: E731
    sym = box(50, 40)  # a symmetric band, centre 50
    comet = box(150, 40) * (0.3 + 0.7 * np.clip((x - 110) / 80, 0, 1))  # dense at its right end
    prof = sym + comet
    xs = np.array([50.0, 178.0])  # where a lane-scale peak of each sits
    new, moved = _column_middles(prof, xs, 100.0)
    assert moved.tolist() == [False, True]
    assert new[0] == 50.0 and abs(new[1] - 150.0) <= 1.0


def test_narrow_gap_only_between_touching_lanes():
    from blotquant.lanes import _narrow_gap, _touching_centres

    x = np.arange(400.0)
    box = lambda c, h: 0.5 * (np.tanh((x - c + h) / 1.5) - np.tanh((x - c - h) / 1.5))  # noqa: E731
    touching = box(50, 45) + box(150, 45) + box(250, 45)  # 10 px dark gaps at 100 and 200
    assert abs(_narrow_gap(touching, 50.0, 150.0, 100.0) - 100.0) <= 0.5
    apart = box(50, 25) + box(150, 25)  # 50 px gaps: separate lanes
    assert _narrow_gap(apart, 50.0, 150.0, 100.0) is None
    shallow = touching + 0.5  # the "gap" keeps a third of the bands' height
    assert _narrow_gap(shallow, 50.0, 150.0, 100.0) is None
    # a lane's centre moves between its gaps only with sample lanes seen on both sides
    c = np.array([50.0, 160.0, 250.0])
    moved = _touching_centres(touching, c, np.array([True, True, True]), 100.0)
    assert moved == [2] and abs(c[1] - 150.0) <= 0.5
    c = np.array([50.0, 160.0, 250.0])
    assert _touching_centres(touching, c, np.array([False, True, True]), 100.0) == []
    assert c[1] == 160.0


@pytest.mark.real
@pytest.mark.skipif(not REAL.is_dir(), reason="real blots not present")
def test_real_chibidragon_comet_strip_lanes_1_to_11():
    # regression (see test_comet_bands_on_touching_lanes_with_a_descending_row): the whole strip
    # is tests/test_annotated.py's; lane 12, whose tail runs faint into the image edge, is its
    # known miss. Lanes 1-11 are within 4 px of the annotation (edges read by eye, +-3 px).
    import logging

    from blotquant.io import read_blot

    entry = next(e for s, e in annotated_images() if s == "wb-strips-chibidragon" and e["path"] == "original.png")
    logging.getLogger("blotquant").setLevel(logging.ERROR)  # the RGBA -> luminance note
    blot = read_blot(REAL / "wb-strips-chibidragon" / entry["path"])  # dark bands: inverted on reading
    (strip,) = entry["strips"]
    rows = [(max(0, top), min(blot.data.shape[0] - 1, bottom)) for top, bottom in user_windows(strip).values()]
    lanes, params = find_lanes(blot.data, 12, rows=rows, kinds=["sample"] * 12)
    truth = np.array([lane["x"] for lane in strip["lanes"]])
    ys = np.array([lane["bands"]["main"]["y"] for lane in strip["lanes"]])
    err = np.abs(np.array([lanes.x_at(y)[i] for i, y in enumerate(ys)]) - truth)
    assert err[:11].max() <= 4.0, np.round(err, 1)
    assert params["placement"]["columns_recentred"], params["placement"]



def _ladder_strip(gradient, depth=0.04):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:600, 0:500].astype(float)
    bg = 2000 + gradient * y + 300 * np.exp(-0.5 * ((x - 230) / 25) ** 2)  # gradient + bright column
    img = bg + rng.normal(0, 10, bg.shape)
    ladder = img.copy()
    for row in (150, 330, 470):  # lane-wide (70 px), 12 rows tall, `depth` of the background deep
        ladder[row - 6:row + 6, 230:300] -= depth * bg[row - 6:row + 6, 230:300]
    return img, ladder


@pytest.mark.parametrize("gradient", [
    0.5,
    pytest.param(2.0, marks=pytest.mark.xfail(strict=True, reason=(
        "known weak point, measured: a band must stand out beyond both the rows above and below; "
        "on a background rising 60 counts over the 30-row comparison distance the band at row 150 "
        "(half its 92-count depth per row bin) does not, and only 2 of the 3 bands are found"))),
])
def test_ladder_bands_are_short_lane_wide_bands_not_a_brighter_column(gradient):
    # regression (rhoa lower strip): the marker snapped to a column that was merely brighter
    # background over the whole lane. A plain bright column on a gradient gives no ladder bands;
    # faint dark ladder bands on the same background are found, centred on the ladder.
    from blotquant.lanes import _ladder_bands

    img, ladder = _ladder_strip(gradient)
    before = img.copy()
    bands, pol = _ladder_bands(img, 250.0, 120.0, 0.0, 300.0)
    np.testing.assert_array_equal(img, before)
    assert bands == [] and pol is None
    bands, pol = _ladder_bands(ladder, 250.0, 120.0, 0.0, 300.0)
    assert pol == "dark" and len(bands) == 3
    rows = sorted(b["row"] for b in bands)
    assert all(abs(r - t) <= 10 for r, t in zip(rows, (150, 330, 470)))
    assert max(abs(b["center"] - 264.5) for b in bands) <= 8.0  # the marker tolerance


@pytest.mark.xfail(strict=True, reason=(
    "known weak point, measured: the bands (4 % of the background deep) are deeper at their left "
    "end, where the bright column raises the background, so their row-contrast profile is skewed "
    "left; the middle of its extent above the detection level (interpolated between the 2.5 px "
    "column bins) is 3.2-3.4 px left of the drawn centre"))
def test_ladder_band_centres_within_3_px():
    from blotquant.lanes import _ladder_bands

    _, ladder = _ladder_strip(0.5)
    bands, _ = _ladder_bands(ladder, 250.0, 120.0, 0.0, 300.0)
    assert len(bands) == 3 and max(abs(b["center"] - 264.5) for b in bands) <= 3.0


def test_ladder_bands_flanks_of_a_bright_band_are_not_dark_bands():
    # the rows a comparison distance above and below a bright band stand out as dark against it
    # (the regression on a whole blot is in test_kinds_speed_on_a_large_image): they are its flanks,
    # not dark ladder bands
    from blotquant.lanes import _ladder_bands

    img, _ = _ladder_strip(0.5)
    ladder = img.copy()
    ladder[324:336, 230:300] *= 1.2  # one bright lane-wide band, 12 rows tall
    flanks, _ = _ladder_bands(ladder, 250.0, 120.0, 0.0, 300.0, polarities=("dark",))
    assert len(flanks) >= 1 and all(abs(b["row"] - 330) <= 60 for b in flanks)  # the dark test alone
    bands, pol = _ladder_bands(ladder, 250.0, 120.0, 0.0, 300.0)
    assert pol == "bright" and len(bands) == 1
    assert abs(bands[0]["row"] - 330) <= 10 and abs(bands[0]["center"] - 264.5) <= 8.0


def test_ladder_bands_keep_a_dark_band_beside_a_weaker_bright_halo():
    # regression (ZDF May30 B1AR bottom strip, left marker): a pre-stained band with a bright halo
    # just above it; the halo (a little stronger than the dark band by row contrast) made the dark
    # band its "flank", the halo won the polarity and the marker stayed on the lane line, 12 px off.
    # A band is a flank only of a clearly (1.5x) stronger structure of the other polarity.
    from blotquant.lanes import _ladder_bands

    img, _ = _ladder_strip(0.5)
    ladder = img.copy()
    for row in (150, 330, 470):
        ladder[row - 6:row + 6, 230:300] *= 0.96  # dark, lane-wide bands
    ladder[130:138, 230:300] *= 1.045  # a halo above the first band
    bands, pol = _ladder_bands(ladder, 250.0, 120.0, 0.0, 300.0)
    assert pol == "dark" and len(bands) == 3
    assert sorted(abs(b["row"] - t) <= 10 for b, t in zip(sorted(bands, key=lambda b: b["row"]),
                                                          (150, 330, 470))) == [True] * 3
    assert max(abs(b["center"] - 264.5) for b in bands) <= 4.0  # see test_ladder_band_centres_within_3_px


def test_ladder_bands_reach_a_ladder_beyond_the_lane_line():
    from blotquant.lanes import _ladder_bands

    _, ladder = _ladder_strip(0.5)  # ladder centred at 264.5
    assert _ladder_bands(ladder, 135.0, 120.0, 0.0, 300.0)[0] == []  # a pitch away: not searched
    bands, pol = _ladder_bands(ladder, 135.0, 120.0, 0.0, 300.0, reach=(-1 / 3, 1.5))
    assert pol == "dark" and len(bands) == 3
    assert max(abs(b["center"] - 264.5) for b in bands) <= 4.0  # see test_ladder_band_centres_within_3_px


def _gap_marker_blot(seed, amp):
    """11 lanes drawn: lane 1 a ladder, lane 2 an empty gap, lanes 3-11 samples. Listed: 10 lanes,
    the marker then nine samples (the gap is not listed, as users often leave it out)."""
    ladder = [(1, row, amp) for row in (80, 160, 330, 430, 520)]
    sim = scenario("realistic", seed=seed, shape=(700, 1400), n_lanes=11, lane_width=60, margin=110,
                   targets={"A": 250, "B": 600}, empty_lanes=(1, 2), extra_bands=ladder)
    return sim, sim.image.astype(float)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kinds_edge_marker_beyond_a_gap_is_found_outwards(seed):
    # regression (UVITEC multistrip, right marker 2 pitches from the last sample lane; ZDF July4
    # B1AR top strip, left marker 1.5 pitches from lane 1): an edge marker without a ladder at
    # its lane line is looked for outwards, up to 1.5 pitches
    sim, img = _gap_marker_blot(seed, 4e5)
    kinds = ["marker"] + ["sample"] * 9
    lanes, params = find_lanes(img, 10, rows=[tuple(v) for v in sim.windows.values()], kinds=kinds)
    y = lanes.y_ref
    truth = sim.lanes.x_at(y)
    assert np.abs(lanes.x_at(y)[1:] - truth[2:]).max() <= CENTRE_TOL
    rec = params["placement"]["ladders"][0]
    assert rec["search"] == "outwards" and "center" in rec
    assert abs(lanes.x_at(y)[0] - truth[0]) <= EMPTY_TOL
    json.dumps(params)


def test_faint_ladder_counts_as_a_column_of_three_bands_at_the_lower_level():
    # regression (ZDF July4 B1AR top strip: a pre-stained ladder of three marks 3-4 spreads deep,
    # one seen at the detection level): at 2/3 of the level three bands in one column place the
    # marker; the noise and the bright column alone give none there
    from blotquant.lanes import (
        _LADDER_FAINT,
        _LADDER_SIGMA,
        _ladder_bands,
        _ladder_ok,
        _ladder_searches,
    )

    img, _ = _ladder_strip(0.0)
    ladder = img.copy()
    for row in (90, 190, 290, 390, 490):  # five lane-wide bands, 0.35 % deep (~7 counts, noise 10)
        ladder[row - 6:row + 6, 230:300] *= 0.9965
    strict, _ = _ladder_bands(ladder, 250.0, 120.0, 0.0, 300.0)
    assert not _ladder_ok(strict, 120.0)
    level = _LADDER_FAINT * _LADDER_SIGMA
    assert ("lane line", level, "faint") in _ladder_searches(0)
    faint, pol = _ladder_bands(ladder, 250.0, 120.0, 0.0, 300.0, sigma=level)
    assert pol == "dark" and _ladder_ok(faint, 120.0, "faint", level)
    assert abs(np.median([b["center"] for b in faint]) - 264.5) <= 8.0  # the marker tolerance
    assert _ladder_bands(img, 250.0, 120.0, 0.0, 300.0, sigma=level)[0] == []
