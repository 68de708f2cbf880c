"""Tests for blotquant.marks and the colour-mark handling of blotquant.io: ink and handwriting on
RGB film scans are found from colour alone, painted over in a detection copy, and never change
the raw data that gets integrated."""

import numpy as np
import pytest
from realdata import REAL, annotated_images  # tests/ is on sys.path under pytest
from scipy import ndimage as ndi

from blotquant.discover import detect_lanes
from blotquant.io import _read_stored, blot_from_array, crop, detection_copy, read_blot
from blotquant.marks import fill_marks, find_colour_marks
from blotquant.simulate import simulate_blot

#: Blue X-ray film base colour and how much each channel darkens per unit grey OD (silver grain
#: on blue film darkens red a little more and green a little less; measured on harrytroche).
FILM_RGB = np.array([130.0, 178.0, 220.0])
FILM_OD_RATIO = np.array([1.12, 0.87, 1.01])
#: Transmission per channel of a purple-blue ballpoint stroke (keeps more blue than the film).
INK_TRANSMISSION = np.array([0.30, 0.35, 0.46])
PARAM_KEYS = {"method", "polarity", "noise", "threshold", "marked_pixels", "marked_fraction",
              "components", "axis", "background_rgb", "dark_regions", "marked_regions"}


def _film_rgb(grey_film, *, base=FILM_RGB, ratio=FILM_OD_RATIO):
    """RGB film scan from a grey dark-band film: each channel darkens along the film's own axis."""
    g = np.asarray(grey_film, float)
    od = np.log10(np.median(g) / np.maximum(g, 1.0))
    rgb = base * 10.0 ** (-np.clip(od, 0, None)[..., None] * ratio)
    return rgb


def _paint_strokes(rgb, rng, *, rows, cols, n=14, thickness=4):
    """Handwriting-like ink strokes (short vertical and slanted lines, 'letters') between
    ``rows``; returns (painted uint8 copy, stroke mask)."""
    import cv2

    strokes = np.zeros(rgb.shape[:2], np.uint8)
    xs = np.linspace(cols[0], cols[1], n)
    for x in xs:
        x = int(x + rng.uniform(-5, 5))
        top, bottom = rows[0] + int(rng.uniform(0, 6)), rows[1] - int(rng.uniform(0, 6))
        cv2.line(strokes, (x, top), (x + int(rng.uniform(-8, 8)), bottom), 1, thickness)
        cv2.line(strokes, (x, bottom), (x + 14, bottom - 12), 1, thickness)
    out = rgb.copy()
    out[strokes.astype(bool)] *= INK_TRANSMISSION
    return np.clip(np.round(out), 0, 255).astype(np.uint8), strokes.astype(bool)


def _simulated_film(seed=3):
    sim = simulate_blot(shape=(420, 900), n_lanes=8, lane_width=70, margin=70,
                        targets={"A": 230.0, "B": 330.0}, dtype="uint8", polarity="dark-bands", baseline=4,
                        read_noise=1.5, seed=seed)
    rng = np.random.default_rng(seed)
    rgb, strokes = _paint_strokes(_film_rgb(sim.image), rng, rows=(40, 95), cols=(80, 820))
    return sim, rgb, strokes


def _band_pixels(sim, *, shape):
    rows = np.arange(shape[0])[:, None]
    cols = np.arange(shape[1])[None, :]
    band = np.zeros(shape, bool)
    for _, r in sim.truth.iterrows():
        half = 0.5 * sim.lanes.widths[int(r["lane"]) - 1] * 0.85
        band |= (np.abs(cols - r["lane_x"]) <= half) & (np.abs(rows - r["row"]) <= 2 * r["sigma"])
    return band


# ------------------------------------------------------------------------------------------
# synthetic film with known strokes


def test_marks_recover_painted_strokes_and_spare_bands():
    sim, rgb, strokes = _simulated_film()
    before = rgb.copy()
    mask, params = find_colour_marks(rgb)
    np.testing.assert_array_equal(rgb, before)                      # input unchanged
    assert PARAM_KEYS <= set(params)
    assert params["marked_pixels"] == int(mask.sum())
    assert params["marked_fraction"] == pytest.approx(mask.mean())
    core = ndi.binary_erosion(strokes)                              # anti-aliased rims aside
    assert mask[core].mean() >= 0.95
    outside = ~ndi.binary_dilation(strokes, iterations=3)
    assert mask[outside].mean() < 0.002
    band = _band_pixels(sim, shape=mask.shape)
    assert mask[band].mean() < 0.01


def test_detection_copy_finds_the_true_lanes_raw_data_untouched():
    sim, rgb, strokes = _simulated_film()
    blot = blot_from_array(rgb, polarity="dark-bands")
    raw = blot.data.copy()
    assert blot.marks is not None and blot.choices["marks"]["marked_pixels"] == blot.marks.sum()
    # the integrated data is the luminance of the stored pixels, ink included (STYLE rule 3)
    luma = rgb.astype(float) @ np.array([0.2125, 0.7154, 0.0721])
    np.testing.assert_allclose(blot.data, 255.0 - luma)
    det = detection_copy(blot)
    np.testing.assert_array_equal(blot.data, raw)                   # the original is not touched
    assert det.choices["detection_copy"]["filled_pixels"] == int(blot.marks.sum())
    np.testing.assert_array_equal(det.data[~blot.marks], raw[~blot.marks])
    assert det.data[strokes].mean() < 0.5 * raw[strokes].mean()    # strokes painted over
    lanes, _, _ = detect_lanes(det)
    truth = np.asarray(sim.lanes.centers)
    pitch = float(np.median(np.diff(truth)))
    found = np.asarray(lanes.centers)
    assert len(found) == len(truth), (found, truth)
    np.testing.assert_allclose(found, truth, atol=0.1 * pitch)


@pytest.mark.parametrize("tint", ["grey", "blue film"])
def test_film_without_ink_gives_an_empty_mask(tint):
    sim = simulate_blot(shape=(300, 600), n_lanes=6, lane_width=60, margin=50,
                        targets={"A": 150.0}, dtype="uint8", polarity="dark-bands", baseline=4,
                        read_noise=1.5, seed=5)
    if tint == "grey":
        rgb = np.repeat(sim.image[..., None], 3, axis=-1)
    else:
        rgb = np.clip(np.round(_film_rgb(sim.image)), 0, 255).astype(np.uint8)
    mask, params = find_colour_marks(rgb)
    assert not mask.any() and params["marked_fraction"] == 0.0
    blot = blot_from_array(rgb)
    assert not blot.marks.any()
    assert detection_copy(blot) is blot


def test_grey_file_has_no_marks_and_crop_cuts_marks():
    grey = blot_from_array(np.full((20, 30), 200, np.uint8), polarity="dark-bands")
    assert grey.marks is None and "marks" not in grey.choices
    assert detection_copy(grey) is grey
    _, rgb, _ = _simulated_film()
    blot = blot_from_array(rgb, polarity="dark-bands")
    part = crop(blot, (100, 30, 400, 120))
    np.testing.assert_array_equal(part.marks, blot.marks[30:120, 100:400])


def test_light_band_colour_export_with_coloured_overlay():
    """A chemiluminescence export in colour (bright bands) with a green overlay line."""
    sim = simulate_blot(shape=(300, 600), n_lanes=6, lane_width=60, margin=50,
                        targets={"A": 150.0}, dtype="uint8", polarity="light-bands",
                        baseline=20, read_noise=1.0, seed=2)
    rgb = np.repeat(sim.image[..., None], 3, axis=-1).astype(np.uint8)
    rgb[40:44, 60:540] = (20, 200, 40)
    mask, _ = find_colour_marks(rgb, polarity="light-bands")
    assert mask[40:44, 60:540].mean() > 0.95
    near = np.zeros_like(mask)
    near[34:50, 54:546] = True                 # the line, smoothing and a 3 px margin
    assert not mask[~near].any()


def test_invalid_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="`rgb` must have shape"):
        find_colour_marks(np.zeros((10, 10)))
    with pytest.raises(ValueError, match="unknown polarity 'dark'"):
        find_colour_marks(np.zeros((10, 10, 3)), polarity="dark")
    with pytest.raises(ValueError, match="`valid` must have shape"):
        find_colour_marks(np.zeros((10, 10, 3)), valid=np.ones((5, 5), bool))
    with pytest.raises(ValueError, match="`image` must be 2-D"):
        fill_marks(np.zeros((4, 4, 3)), np.zeros((4, 4), bool))


def test_fill_marks_uses_only_unmarked_neighbours():
    img = np.tile(np.linspace(0, 90, 10), (10, 1))
    img[4:6, :] = 1000.0                                            # a 'stroke'
    m = np.zeros_like(img, bool)
    m[4:6, :] = True
    out = fill_marks(img, m, sigma=1.0)
    assert out[4:6].max() < 100
    np.testing.assert_array_equal(out[~m], img[~m])
    assert img[4, 0] == 1000.0                                      # input unchanged


def test_fill_marks_never_uses_invalid_padding():
    """Transparent RGBA padding (BlotImage.mask False) is not background: a pen stroke running
    into it is filled from the film beside it, not from the padding's stored 0 (255 inverted)."""
    film = np.zeros((120, 200, 4), np.uint8)
    film[..., :3], film[..., 3] = (130, 178, 220), 255
    for x in range(10, 140, 30):
        film[50:62, x:x + 20, :3] = (10, 30, 25)                   # bands
    film[90:96, 60:160, :3] = (40, 62, 101)                         # pen stroke into the padding
    film[:, 150:, :] = 0                                            # transparent padding, RGB 0
    blot = blot_from_array(film, polarity="dark-bands")
    assert blot.marks[90:96, 60:150].all() and not blot.marks[:, 150:].any()
    det = detection_copy(blot)
    background = float(np.median(blot.data[5:40, 5:145]))
    np.testing.assert_allclose(det.data[90:96, 60:150], background, atol=1.0)
    np.testing.assert_array_equal(det.data[:, 150:], blot.data[:, 150:])   # padding unchanged
    # fill_marks itself: invalid pixels are neither sources nor filled
    img = np.full((20, 20), 10.0)
    img[:, 15:] = 500.0
    m = np.zeros_like(img, bool)
    m[8:12, 10:15] = True
    valid = np.ones_like(m)
    valid[:, 15:] = False
    out = fill_marks(img, m, valid=valid)
    np.testing.assert_allclose(out[m], 10.0)
    np.testing.assert_array_equal(out[~m], img[~m])
    with pytest.raises(ValueError, match="`valid` must have shape"):
        fill_marks(img, m, valid=valid[:5])


@pytest.mark.parametrize("side", [3, 40, 300])
def test_fill_marks_small_and_large_marks(side):
    """A mark of any size gets the background around it (a slope continues inwards); pixels
    outside it are unchanged; the input is not modified."""
    rows = np.arange(800, dtype=float)[:, None]
    img = np.tile(100.0 + 0.05 * rows, (1, 900))
    truth = img.copy()
    y0, x0 = 300, 400
    img[y0:y0 + side, x0:x0 + side] = 5000.0
    m = np.zeros(img.shape, bool)
    m[y0:y0 + side, x0:x0 + side] = True
    before = img.copy()
    out = fill_marks(img, m, sigma=3.0)
    np.testing.assert_array_equal(img, before)
    np.testing.assert_array_equal(out[~m], img[~m])
    np.testing.assert_allclose(out[m], truth[m], atol=0.05 * side + 0.5)


def _lut_export(cmap):
    """A chemiluminescence blot (light bands) exported through a matplotlib colour map."""
    import matplotlib

    sim = simulate_blot(shape=(420, 900), n_lanes=8, lane_width=70, margin=70,
                        targets={"A": 230.0, "B": 330.0}, dtype="uint8", polarity="light-bands",
                        baseline=10, read_noise=1.5, seed=3)
    rgb = matplotlib.colormaps[cmap](sim.image / 255.0)[..., :3]
    return sim, np.round(rgb * 255).astype(np.uint8)


@pytest.mark.parametrize("cmap", ["hot", "viridis", "turbo"])
def test_pseudo_colour_export_is_not_searched_and_logged(cmap, caplog):
    """Review finding: 42 % of the band pixels of a 'hot' export and 21 % of a 'viridis' one were
    marked as ink. A LUT rendering is recognised, not searched, and logged as not quantitative."""
    _, rgb = _lut_export(cmap)
    mask, params = find_colour_marks(rgb, polarity="light-bands")
    assert not mask.any()
    assert params["skipped"].startswith("pseudo-colour export")
    assert params["pseudo_colour"]["turn_degrees"] > 30 or params["pseudo_colour"]["against"] < -0.25
    with caplog.at_level("WARNING", logger="blotquant"):
        blot = blot_from_array(rgb, polarity="light-bands")
    assert not blot.marks.any() and blot.choices["colour"]["pseudo_colour"] is True
    assert "pseudo-colour" in caplog.text and "not quantitative" in caplog.text


@pytest.mark.parametrize("cmap", ["gray", "Blues_r", "magma"])
def test_single_hue_or_grey_exports_are_searched_and_bands_not_marked(cmap):
    """Colour maps whose path a film could take are searched as usual: nothing marked."""
    sim, rgb = _lut_export(cmap)
    mask, params = find_colour_marks(rgb, polarity="light-bands")
    assert params["skipped"] is None
    assert mask[_band_pixels(sim, shape=mask.shape)].mean() < 0.01


@pytest.mark.parametrize("black", [(20, 10, 10), (5, 5, 25), (0, 0, 0)])
def test_saturated_band_and_tinted_black_level_bands_not_marked(black):
    """Review finding: with one band saturated (film black) and a black level that is not neutral,
    whole unsaturated bands were marked (a band clipped at the black level leaves the film's
    axis a little). Bands are solid and hold the band box: kept. Ink on the same film is still
    marked -- except on the blue-tinted black (5, 5, 25): the clipped band's OD proportions there
    (1.08, 1.19, 0.72) are the ink's (1.17, 1.04, 0.77), so the film's axis explains the ink (as
    before this safeguard)."""
    sim = simulate_blot(shape=(420, 900), n_lanes=8, lane_width=70, margin=70,
                        targets={"A": 230.0, "B": 330.0}, dtype="uint8", polarity="dark-bands",
                        baseline=4, read_noise=1.5, seed=3)
    grey = sim.image.astype(float)
    x = sim.lanes.centers[2]
    yy, xx = np.mgrid[0:420, 0:900]
    grey[(np.abs(xx - x) < 30) & (np.abs(yy - 230) < 8)] = 1.0        # a saturated band
    film = np.maximum(_film_rgb(grey), np.array(black, float))
    rgb, strokes = _paint_strokes(film, np.random.default_rng(3), rows=(40, 95), cols=(80, 820))
    rgb = np.maximum(rgb, np.array(black, np.uint8))
    mask, params = find_colour_marks(rgb)
    band = _band_pixels(sim, shape=mask.shape)
    assert mask[band].mean() < 0.005, (mask[band].mean(), params["band_shaped_kept"])
    if black != (5, 5, 25):
        assert mask[ndi.binary_erosion(strokes)].mean() >= 0.95


def test_non_finite_float_rgb_is_invalid():
    """Review finding: NaN pixels became black 'cores' that set the dense end of the film's axis.
    Non-finite pixels are invalid: never marked, out of the statistics (same axis, same mask)."""
    _, rgb, _ = _simulated_film()
    clean_mask, clean = find_colour_marks(rgb)
    f = rgb.astype(np.float32) / 255
    f[300:320, 400:460] = np.nan
    f[10, 10] = np.inf
    mask, params = find_colour_marks(f)
    assert params["non_finite_pixels"] == 20 * 60 + 1
    assert not mask[300:320, 400:460].any() and not mask[10, 10]
    assert params["axis"]["od_ratio"] == clean["axis"]["od_ratio"]
    np.testing.assert_array_equal(mask, clean_mask)


def test_negative_float_rgb_light_bands_no_warning():
    """Review finding: negative float RGB (a background-subtracted export) under light bands took
    the log of a negative number (RuntimeWarning, an error under pytest). Negative values count
    as no density; a green overlay line is still found."""
    sim = simulate_blot(shape=(300, 600), n_lanes=6, lane_width=60, margin=50,
                        targets={"A": 150.0}, dtype="uint8", polarity="light-bands",
                        baseline=20, read_noise=1.0, seed=2)
    rgb = np.repeat(sim.image[..., None], 3, axis=-1).astype(np.float32) - 30.0   # min < -1
    assert rgb.min() < -1
    rgb[40:44, 60:540] = (20, 200, 40)
    mask, _ = find_colour_marks(rgb, polarity="light-bands")        # filterwarnings = error
    assert mask[40:44, 60:540].mean() > 0.95
    near = np.zeros_like(mask)
    near[34:50, 54:546] = True
    assert not mask[~near].any()


def test_large_image_statistics_on_a_subsample_match_full_resolution(monkeypatch):
    """Above two megapixels the axis is learned on every k-th row and column: the mask matches
    the one from full-resolution statistics (IoU >= 0.98) and the ink is found."""
    import cv2

    from blotquant import marks

    _, rgb, strokes = _simulated_film()
    big = cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)   # 1680 x 1800 px
    big = np.concatenate([big, big[:, :600]], axis=1)                          # 3.0 MP
    ink = cv2.resize(strokes.view(np.uint8), None, fx=2, fy=2,
                     interpolation=cv2.INTER_NEAREST).astype(bool)
    ink = np.concatenate([ink, ink[:, :600]], axis=1)
    fast, params = find_colour_marks(big)
    assert params["stats_block"] == 2
    monkeypatch.setattr(marks, "_FULL_STATS_PIXELS", 10 ** 9)
    full, params_full = find_colour_marks(big)
    assert params_full["stats_block"] == 1
    iou = (fast & full).sum() / (fast | full).sum()
    assert iou >= 0.98, iou
    assert fast[ndi.binary_erosion(ink)].mean() >= 0.95


# ------------------------------------------------------------------------------------------
# real film scans with handwriting (skip without ../shared/data/real)

HARRYTROCHE = REAL / "film-scans-harrytroche" / "Images"
#: Per page: lane centres (x, px), read off a render with a 10-px ruler by eye, +-5 px (each the
#: middle of the band's left and right edge; the empty lane 5 of page 1 and lane 2 of page 2 sit
#: one pitch from their neighbours and are not listed); handwriting boxes (x0, y0, x1, y1) that
#: hold only ink on film; band boxes that hold only bands on film.
PAGES = {
    1: {"lanes": [112, 213, 316, 415, 616, 713, 809, 911],
        "ink": [(55, 2, 900, 55)], "bands": [(70, 185, 960, 245)]},
    2: {"lanes": [72, 274, 372, 475, 573, 674, 773, 874],
        "ink": [(170, 370, 910, 420)], "bands": [(30, 140, 920, 235)]},
    3: {"lanes": [155, 243, 342, 444, 547, 651, 750, 846, 946],
        "ink": [(140, 12, 910, 60)], "bands": [(100, 150, 1000, 280)]},
}
needs_real = pytest.mark.skipif(not HARRYTROCHE.is_dir(), reason="../shared/data/real is absent")


def _density(path):
    """Grey OD relative to the median (the film): > 0 on ink and bands."""
    from PIL import Image

    with Image.open(path) as im:
        g = np.asarray(im.convert("RGB"), float).mean(axis=-1)
    return np.log10((np.median(g) + 1) / (g + 1))


@needs_real
@pytest.mark.parametrize("page", sorted(PAGES))
def test_harrytroche_mask_covers_handwriting_not_bands(page):
    path = HARRYTROCHE / f"page{page}pic.jpg"
    blot = read_blot(path)
    dens = _density(path)
    for x0, y0, x1, y1 in PAGES[page]["ink"]:
        dark = dens[y0:y1, x0:x1] >= 0.15
        assert blot.marks[y0:y1, x0:x1][dark].mean() >= 0.90
    for x0, y0, x1, y1 in PAGES[page]["bands"]:
        band = dens[y0:y1, x0:x1] >= 0.3
        assert blot.marks[y0:y1, x0:x1][band].mean() < 0.01
    assert 0.01 < blot.choices["marks"]["marked_fraction"] < 0.06


@needs_real
@pytest.mark.parametrize("page", sorted(PAGES))
def test_harrytroche_lanes_on_detection_copy(page):
    """Raw luminance: 17-23 lane-like columns, most of them from the handwriting (page 2: the
    band row in the handwriting rows; measured 2026-11); detection copy: lanes at the bands."""
    blot = read_blot(HARRYTROCHE / f"page{page}pic.jpg")
    lanes, kinds, _ = detect_lanes(detection_copy(blot))
    found = np.asarray([c for c, k in zip(lanes.centers, kinds) if k != "empty"])
    hand = np.asarray(PAGES[page]["lanes"], float)
    # 45 px < half the ~100 px pitch: a lane cannot stand in for its neighbour.
    err = np.abs(found[None, :] - hand[:, None]).min(axis=1)        # per hand-checked lane
    matched = err <= 45
    # detect_lanes (being reworked) misses or misplaces one lane per page even with the
    # handwriting rows blanked by hand: page 1 lane 9 at x = 946, page 2 lane 1 missed, lane 4
    # split -- lane placement, not marks; hence n - 1 and the median.
    assert matched.sum() >= len(hand) - 1, (found, hand)
    assert np.median(err[matched]) <= 12, (found, hand)
    spare = np.abs(found[:, None] - hand[None, :]).min(axis=1) > 45  # lanes off every band
    assert spare.sum() <= 1, (found, hand)   # page 3: x ~ 43, the darker film edge, not ink
    for _, y0, _, y1 in PAGES[page]["ink"]:                          # band row: not the ink's
        assert not y0 - 10 <= lanes.y_ref <= y1 + 10, lanes.y_ref


@needs_real
def test_annotated_rgb_images_bands_never_marked():
    """Every annotated colour image: < 1 % of the band boxes (lane width x band extent) marked;
    grey-looking RGB files mark nothing."""
    seen = 0
    for set_name, entry in annotated_images():
        if "channels" not in str(entry.get("dtype", "")):
            continue
        blot = read_blot(REAL / set_name / entry["path"])
        seen += 1
        hit = total = 0
        for strip in entry["strips"]:
            for lane in strip["lanes"]:
                for band in (lane.get("bands") or {}).values():
                    x0 = int(lane["x"] - lane["width"] / 2)
                    x1 = int(lane["x"] + lane["width"] / 2)
                    y0, y1 = int(band["extent"][0]), int(np.ceil(band["extent"][1])) + 1
                    box = blot.marks[y0:y1, x0:x1]
                    hit, total = hit + int(box.sum()), total + box.size
        assert hit < 0.01 * total, (set_name, entry["path"], hit, total)
        if blot.choices["colour"]["neutral_fraction"] == 1.0:
            # R = G = B everywhere: read_blot skips the search; the search itself must agree
            assert blot.choices["marks"]["method"].startswith("skipped")
            stored, _ = _read_stored(REAL / set_name / entry["path"], blot.page)
            mask, _ = find_colour_marks(stored, polarity=blot.polarity)
            assert not mask.any(), (set_name, entry["path"], int(mask.sum()))
        else:
            assert blot.choices["marks"]["marked_pixels"] == int(blot.marks.sum())
    assert seen >= 5
