"""detect_lanes / detect_band_rows on simulated blots with known truth (count, kinds, centres)."""

import json
from pathlib import Path

import numpy as np
import pytest

from blotquant.discover import detect_band_rows, detect_lanes
from blotquant.errors import LayoutError
from blotquant.simulate import simulate_blot

LADDER_ROWS = (150, 250, 350, 450, 550, 680, 780)


def _blot(n, empty, seed):
    pitch = 1200.0 / n
    return simulate_blot(n_lanes=n, lane_width=0.65 * pitch, empty_lanes=(1, empty),
                         extra_bands=[(1, r, 1.5e7) for r in LADDER_ROWS], seed=seed)


@pytest.mark.parametrize("n, empty, seed", [(8, 5, 1), (10, 4, 2), (12, 7, 3), (14, 9, 4)])
def test_count_kinds_and_centres(n, empty, seed):
    sim = _blot(n, empty, seed)
    image = sim.image.copy()
    lanes, kinds, params = detect_lanes(sim.image)
    np.testing.assert_array_equal(sim.image, image)          # input unchanged
    expected = ["marker"] + ["sample"] * (n - 1)
    expected[empty - 1] = "empty"
    assert kinds == expected
    # centres within 2 px of the truth (the empty lane is placed on the pitch)
    assert np.abs(lanes.centers - sim.lanes.centers).max() <= 2.0
    json.dumps(params)


def test_band_rows_and_windows():
    sim = _blot(10, 4, 5)
    lanes, kinds, _ = detect_lanes(sim.image)
    table, params = detect_band_rows(sim.image, lanes, kinds=kinds)
    truth = sim.truth[sim.truth["kind"] == "target"].groupby("target")["row"].median()
    assert len(table) == len(truth)
    np.testing.assert_allclose(np.sort(table["row"]), np.sort(truth.to_numpy()), atol=2.0)
    assert (table["n_lanes"] == 8).all()                     # 10 lanes - ladder - empty
    for (_, r), (top, bottom) in zip(table.iterrows(), sorted(sim.windows.values())):
        assert r["window_top"] % 5 == 0 and r["window_bottom"] % 5 == 0
        assert r["window_top"] <= top + 5 and r["window_bottom"] >= bottom - 5
        assert r["window_top"] < r["row"] < r["window_bottom"]
    json.dumps(params)
    # marker bands never become band rows
    assert not any(abs(r - 350) < 10 for r in table["row"])


def test_row_offset_shifts_rows_and_rounds_windows():
    sim = _blot(8, 5, 6)
    lanes, kinds, _ = detect_lanes(sim.image)
    t0, _ = detect_band_rows(sim.image, lanes, kinds=kinds)
    t1, _ = detect_band_rows(sim.image, lanes, kinds=kinds, row_offset=123)
    np.testing.assert_allclose(t1["row"], t0["row"] + 123)
    assert (t1["window_top"] % 5 == 0).all()


def test_rows_argument_and_errors():
    sim = _blot(8, 5, 7)
    lanes, kinds, params = detect_lanes(sim.image, rows=[tuple(w) for w in sim.windows.values()])
    assert len(kinds) == 8
    with pytest.raises(LayoutError, match="rows"):
        detect_lanes(sim.image, rows=[(5000, 5100)])
    with pytest.raises(LayoutError, match="method_kwargs"):
        detect_lanes(sim.image, method_kwargs={"bogus": 1})
    with pytest.raises(LayoutError, match="no lane-like column"):
        detect_lanes(np.full((200, 300), 100.0))


def test_touching_lanes_are_cut_at_the_dips():
    # bands as wide as the lane pitch touch their neighbours: the column profile is a plateau
    # with narrow dips at the lane borders, not a peak per lane
    sim = simulate_blot(shape=(400, 1200), n_lanes=10, lane_pitch=100, lane_width=100,
                        lane_fill=0.95, targets={"A": 200}, seed=11)
    lanes, kinds, _ = detect_lanes(sim.image)
    assert kinds == ["sample"] * 10
    assert np.abs(lanes.centers - sim.lanes.centers).max() <= 3.0


def _dark_marker_blot(seed, marks=(90, 150, 240, 330), handwriting=False):
    """A light-band blot whose first lane is a pre-stained ladder: dark marks on the membrane."""
    sim = simulate_blot(shape=(420, 1100), n_lanes=9, lane_width=70, targets={"A": 200},
                        empty_lanes=(1,), baseline=2000.0, read_noise=20.0, seed=seed)
    image = sim.image.astype(float)
    rows, cols = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    x = sim.lanes.centers[0]
    for r in marks:                      # lane-wide blobs, 600 counts below the membrane
        image -= 600.0 * np.exp(-0.5 * ((rows - r) / 4.0) ** 2 - 0.5 * ((cols - x) / 18.0) ** 8)
    if handwriting:                      # thin strokes one pitch right of the last lane
        xh = sim.lanes.centers[-1] + (sim.lanes.centers[1] - sim.lanes.centers[0])
        for r in (100, 180, 260, 340):
            for dx in (-12, 0, 12):
                image -= 600.0 * np.exp(-0.5 * ((rows - r) / 6.0) ** 2 - 0.5 * ((cols - xh - dx) / 1.2) ** 2)
    return sim, np.clip(image, 0, None)


def test_dark_prestained_marker_lane_is_a_marker():
    sim, image = _dark_marker_blot(seed=12, handwriting=True)
    lanes, kinds, params = detect_lanes(image)
    assert kinds == ["marker"] + ["sample"] * 8              # the strokes are not a marker
    assert abs(lanes.centers[0] - sim.lanes.centers[0]) <= 4.0
    assert np.abs(lanes.centers[1:] - sim.lanes.centers[1:]).max() <= 3.0
    assert params["lanes"][0]["evidence"] == "dark"


def test_apparent_mw_from_dark_marks(tmp_path):
    # marks at rows 90/150/240/330 carry 100/75/50/37 kDa; the target row 200 lies between the
    # 75 and 50 kDa marks: log-linear interpolation between them gives the truth
    import tifffile

    from blotquant.discover import propose_config

    _, image = _dark_marker_blot(seed=13)
    tifffile.imwrite(tmp_path / "blot.tif", image.astype(np.uint16))
    _, params = propose_config(tmp_path, ladder=[100, 75, 50, 37])
    strip = params["images"][0]["strips"][0]
    assert [lane["kind"] for lane in strip["lanes"]] == ["marker"] + ["sample"] * 8
    assert strip["mw"]["status"] == "ok" and strip["mw"]["marker_bands"] == "dark"
    truth = 10 ** np.interp(200, [150, 240], np.log10([75, 50]))
    assert abs(strip["mw"]["kda"][0] / truth - 1) <= 0.05


def test_faint_last_lane_is_a_lane():
    # the last lane loaded at 15 % of the others: its stretch of the column profile lies below
    # the run floor of the strong lanes (a fifth of their level) but is still a lane
    vol = np.full((10, 1), 4.0e6)
    vol[-1] = 0.6e6
    sim = simulate_blot(shape=(400, 1200), n_lanes=10, lane_pitch=100, lane_width=100,
                        lane_fill=0.8, targets={"A": 200}, volumes=vol,
                        seed=14)
    lanes, kinds, _ = detect_lanes(sim.image)
    assert kinds == ["sample"] * 10
    assert np.abs(lanes.centers - sim.lanes.centers).max() <= 3.0


@pytest.mark.parametrize("weak, frac, fill, seed", [(4, 0.15, 0.95, 1), (7, 0.15, 0.9, 4),
                                                   (3, 0.2, 0.95, 3), (5, 0.3, 0.95, 6)])
def test_weak_lane_between_touching_lanes_is_a_sample(weak, frac, fill, seed):
    # a lane loaded at 15-30 % between touching full lanes: the neighbours' tails fill its dips
    # in the column profile, so it is found only as a comb tooth; its own band at the
    # neighbours' band row makes it a sample, not an empty lane (UVITEC strip 3, chibidragon
    # original.png lane 8, GAPDH rep 6,7,8 lane 5 were called empty); a weak lane cut into
    # short stretches by noise dips is centred between its neighbours' facing edges (was 12-16
    # px off on the piece the comb chose)
    vol = np.full((10, 1), 3e5)
    vol[weak - 1] *= frac
    sim = simulate_blot(shape=(400, 1200), n_lanes=10, lane_pitch=100, lane_width=100,
                        lane_fill=fill, targets={"A": 200}, volumes=vol, seed=seed)
    lanes, kinds, params = detect_lanes(sim.image)
    assert kinds == ["sample"] * 10
    assert np.abs(lanes.centers - sim.lanes.centers).max() <= 3.0
    assert params["lanes"][weak - 1]["strength"] >= 0.12


def test_empty_lane_between_touching_lanes_stays_empty():
    # the weak-lane rule needs a band: an unloaded lane among touching ones is still empty
    sim = simulate_blot(shape=(400, 1200), n_lanes=10, lane_pitch=100, lane_width=100,
                        lane_fill=0.95, targets={"A": 200}, empty_lanes=(4,), seed=7)
    _, kinds, params = detect_lanes(sim.image)
    assert kinds == ["sample"] * 3 + ["empty"] + ["sample"] * 6
    assert params["lanes"][3]["strength"] < 0.12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bands_taller_than_the_tophat_line(seed):
    # flat-topped bands ~50 rows tall on a 465-row image (ImageJ gel.gif): a top-hat line
    # shorter than the band hollows its middle and the lanes were placed on the gaps between
    # them (8-10 lanes for 6); the line grows to 2.5 band heights when bands are that tall
    sim = simulate_blot(shape=(465, 280), n_lanes=6, lane_width=36, lane_pitch=43,
                        lane_fill=0.95, targets={"A": 150, "B": 300}, band_shape="flat",
                        band_sigma=8, plateau=5, saturate=[(lane, "A") for lane in range(2, 6)],
                        seed=seed)
    lanes, kinds, params = detect_lanes(sim.image)
    assert kinds == ["sample"] * 6
    assert np.abs(lanes.centers - sim.lanes.centers).max() <= 2.0
    assert params["tophat_rows"] >= 2.5 * params["band_height"] - 1


@pytest.mark.parametrize("seed", [1, 2, 5, 10])
def test_dilution_series_fading_to_one_end(seed):
    # a dilution series: lanes 1-5 at 6-55 % of the full lanes. The faintest lie below the
    # column profile's floor; they are found one pitch at a time beyond the comb's end by
    # their band in the neighbour's band row, and weak stretches cut into pieces by noise are
    # centred on their band (was 7-8 lanes; 29 px off for a lane in two pieces)
    vol = np.array([0.06, 0.1, 0.17, 0.3, 0.55, 1, 1, 1, 1, 1.0])[:, None] * 4e5
    sim = simulate_blot(shape=(400, 1200), n_lanes=10, lane_pitch=100, lane_width=90,
                        lane_fill=0.8, targets={"A": 200}, volumes=vol, seed=seed)
    lanes, kinds, params = detect_lanes(sim.image)
    assert kinds == ["sample"] * 10
    assert np.abs(lanes.centers - sim.lanes.centers).max() <= 4.0
    assert params["lanes"][0]["evidence"].startswith("weak")


REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def _annotated(set_name, image, strip):
    import yaml

    doc = yaml.safe_load((REAL / "annotations" / f"{set_name}.yaml").read_text())
    im = next(i for i in doc["images"] if i["path"] == image)
    return REAL / set_name / image, im["strips"][strip]


@pytest.mark.skipif(not (REAL / "annotations").is_dir(), reason="needs ../shared/data/real")
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("set_name, image, strip, tol", [
    # weak lanes inside the comb were called empty (one '-' each)
    ("flg-gapdh-scans-elias-athenaz2", "GAPDH blot rep 6,7,8.tif", 0, None),
    ("uvitec-alliance-multistrip-blotteravg", "signal.tiff", 2, None),
    ("wb-strips-chibidragon", "original.png", 0, None),
    # lanes 10-13 fade out beyond the comb's end: 9 of 13 lanes were found
    ("wb-strips-chibidragon", "test_image2.png", 0, None),
    # bright ladders dominated the column profile: 4 of 8 lanes ('M-sM'); found again without
    # the ladder columns
    ("gel-blot-analyzer-sample-karmaker", "TEST_GEL_AK_original.tif", 0, None),
    # flat-topped bands taller than the top-hat line: lanes were placed between the bands
    # (30 px off); lane 1 (one thin band) lies outside the strip find_strips returns
    ("imagej-samples-gel-dotblot", "gel.gif", 0, 5.0),
])
def test_real_lanes_against_the_annotation(set_name, image, strip, tol):
    from blotquant.discover import _analyse_image

    path, ann = _annotated(set_name, image, strip)
    rec = _analyse_image(path)
    box = ann["box"]
    found = max(rec["strips"], key=lambda s: max(0, min(s["box"][2], box[2]) - max(s["box"][0], box[0]))
                * max(0, min(s["box"][3], box[3]) - max(s["box"][1], box[1])))
    if tol is None:         # kinds lane for lane (centres: see benchmarks/discover_real.py)
        assert found["kinds"] == [lane["kind"] for lane in ann["lanes"]]
    else:                   # all but one lane found, each on an annotated lane of its kind
        assert len(found["kinds"]) >= len(ann["lanes"]) - 1
        for x, kind in zip(found["centers"], found["kinds"]):
            d = min(abs(x - lane["x"]) for lane in ann["lanes"] if lane["kind"] == kind)
            assert d <= tol


@pytest.mark.parametrize("seed", [1, 2, 6])
def test_ladders_beside_a_dilution_series(seed):
    # bright ten-band ladders in lanes 1 and 8 beside sample lanes loaded at 5-100 %: the
    # faint samples next to a ladder are lanes (their band in the neighbours' row), and a
    # ladder with only weak lanes beside it is still told by its bands (was 'ssssm': faint
    # lanes missed, or 'sssssssm': the left ladder a sample)
    rows = (60, 110, 160, 200, 250, 290, 330, 370, 410, 440)
    vol = np.array([0, 0.05, 0.1, 0.2, 0.4, 1, 1, 0.0])[:, None] * 1.2e6
    sim = simulate_blot(shape=(480, 700), n_lanes=8, lane_pitch=85, lane_width=45,
                        lane_fill=0.9, targets={"A": 240}, volumes=vol, empty_lanes=(1, 8),
                        extra_bands=[(lane, r, 6e5) for lane in (1, 8) for r in rows], seed=seed)
    lanes, kinds, _ = detect_lanes(sim.image)
    assert kinds == ["marker"] + ["sample"] * 6 + ["marker"]
    assert np.abs(lanes.centers - sim.lanes.centers).max() <= 3.0


@pytest.mark.skipif(not (REAL / "annotations").is_dir(), reason="needs ../shared/data/real")
@pytest.mark.filterwarnings("ignore")
def test_real_test4_ref_weak_lanes_are_samples():
    # 17 narrow touching lanes along a curved band row: lanes 1-2 (weak, beyond the comb's
    # end), 8 (a bump below min_strength), 11 and 13 (no stretch of their own) were missed
    # or empty; lane 16 and the faint pre-stained marker at the right edge are still not found
    from blotquant.discover import _analyse_image

    path, ann = _annotated("biorad-chemidocxrs-1sc-itsayellow", "test4_ref.tif", 0)
    strip = _analyse_image(path)["strips"][0]
    assert strip["kinds"] == ["sample"] * len(strip["kinds"]) and len(strip["kinds"]) >= 15
    truth = [lane["x"] for lane in ann["lanes"]]
    assert max(abs(x - t) for x, t in zip(strip["centers"], truth)) <= 5.0


def _comet_strip(seed, tail, *, n=12, pitch=88.0, gap=8.0, descent=20.0, rows=80):
    """Touching lanes of comet-shaped bands (dense at one end, falling linearly to ``tail`` at
    the other) on a band row that descends ``descent`` px across the strip (like
    wb-strips-chibidragon); returns the image and the true centres."""
    from scipy.special import erf

    rng = np.random.default_rng(seed)
    x = np.arange(int(n * pitch + 20), dtype=float)[None, :]
    y = np.arange(rows, dtype=float)[:, None]
    centres = 10 + pitch * (np.arange(n) + 0.5)
    band_rows = 25 + descent * np.arange(n) / (n - 1)
    half = 0.5 * (pitch - gap)
    img = np.full((rows, x.size), 100.0)
    for c, r, d, a in zip(centres, band_rows, rng.choice([-1.0, 1.0], n), rng.uniform(60, 150, n)):
        across = 0.5 * (erf((x - c + half) / (1.5 * 2**0.5)) - erf((x - c - half) / (1.5 * 2**0.5)))
        comet = tail + (1 - tail) * (d * np.clip((x - c) / half, -1, 1) + 1) / 2
        img += 3.0 * across + a * across * comet * np.exp(-0.5 * ((y - r) / 4.0) ** 2)
    return img + rng.normal(0, 1.5, img.shape), centres


@pytest.mark.parametrize("seed, tail", [(0, 0.3), (6, 0.15), (7, 0.3), (5, 0.3)])
def test_comet_bands_on_a_descending_row(seed, tail):
    # a band row descending 20 px across the strip is not a tall band (the band height is
    # measured per block of columns: it read 19.7 px for bands of 9.4 px FWHM, and the longer
    # top-hat moved lane 2 by 7 px), and a comet's weak stretch is not re-centred away from
    # where the strong lanes' comb puts it (lanes moved 17-25 px)
    img, truth = _comet_strip(seed, tail)
    lanes, kinds, params = detect_lanes(img)
    assert kinds == ["sample"] * truth.size
    assert np.abs(lanes.centers - truth).max() <= 9.0
    assert params["band_height"] < 12.0
