"""Tests for blotquant.io: raw counts, polarity, ceiling, crop, provenance, atomic output."""

import hashlib
import logging

import numpy as np
import pytest
import tifffile
from realdata import REAL, annotated_images  # tests/ is on sys.path under pytest

from blotquant.errors import BlotquantError, ImageError, LayoutError
from blotquant.io import (
    BlotImage,
    atomic_output_dir,
    blot_from_array,
    crop,
    image_size,
    read_blot,
    sha256_file,
)


def _chemi(dtype=np.uint16, shape=(120, 90), seed=0, background=300, peak=20000):
    """Light bands on a dark, noisy background (raw chemiluminescence counts)."""
    rng = np.random.default_rng(seed)
    img = rng.normal(background, 20, shape)
    rows = np.arange(shape[0])[:, None]
    for x0 in (10, 40, 70):
        img[:, x0:x0 + 15] += peak * np.exp(-0.5 * ((rows - 60) / 3.0) ** 2)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "ui" else None
    if info is not None:
        img = np.clip(np.round(img), info.min, info.max)
    return img.astype(dtype)


def _film(shape=(120, 90), seed=1):
    """Dark bands on a light background (film scan), 8-bit."""
    rng = np.random.default_rng(seed)
    img = rng.normal(220, 4, shape)
    rows = np.arange(shape[0])[:, None]
    for x0 in (10, 40, 70):
        img[:, x0:x0 + 15] -= 150 * np.exp(-0.5 * ((rows - 60) / 3.0) ** 2)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------
# reading files: counts stay counts


@pytest.mark.parametrize("compression", [None, "lzw", "zlib"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_read_tiff_exact_counts(tmp_path, dtype, compression):
    stored = _chemi(dtype, peak=200 if dtype == np.uint8 else 20000, background=20)
    path = tmp_path / "blot.tif"
    tifffile.imwrite(path, stored, compression=compression)
    blot = read_blot(path)
    assert blot.polarity == "light-bands"
    assert blot.data.dtype == np.float64
    np.testing.assert_array_equal(blot.data, stored.astype(np.float64))
    assert blot.dtype == np.dtype(dtype).name
    assert blot.ceiling == float(np.iinfo(dtype).max)
    assert blot.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert blot.path == str(path) and blot.page == 0 and blot.origin == (0, 0)


def test_read_float32_keeps_values_and_has_no_ceiling(tmp_path):
    stored = _chemi(np.float32) + np.float32(0.25)
    path = tmp_path / "f.tif"
    tifffile.imwrite(path, stored)
    blot = read_blot(path)
    np.testing.assert_array_equal(blot.data, stored.astype(np.float64))
    assert blot.ceiling == np.inf
    assert not blot.saturated.any()
    assert "no plateau" in blot.choices["ceiling"]["method"]


def test_float_with_hard_plateau_uses_it(tmp_path):
    stored = _chemi(np.float32, peak=50000)
    stored = np.minimum(stored, np.float32(30000.5))
    n_plateau = int((stored == np.float32(30000.5)).sum())
    assert 50 <= n_plateau < 0.05 * stored.size
    blot = blot_from_array(stored)
    assert blot.ceiling == 30000.5
    assert int(blot.saturated.sum()) == n_plateau


def test_multipage_series_and_pages(tmp_path):
    a = np.full((20, 30), 7, np.uint16)
    b = np.full((20, 30), 9, np.uint16)
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, np.stack([a, b]))
    assert read_blot(stack, page=1, polarity="light-bands").data[0, 0] == 9.0
    assert read_blot(stack, polarity="light-bands").data[0, 0] == 7.0
    sep = tmp_path / "series.tif"
    with tifffile.TiffWriter(sep) as tw:
        tw.write(a, metadata=None)
        tw.write(np.full((10, 40), 11, np.uint16), metadata=None)
    second = read_blot(sep, page=1, polarity="light-bands")
    assert second.data.shape == (10, 40) and second.data[0, 0] == 11.0 and second.page == 1
    assert image_size(sep, page=1) == (40, 10)
    with pytest.raises(ImageError, match=r"page 2 does not exist.*0\.\.1"):
        read_blot(stack, page=2)


def test_rgb_becomes_luminance_with_warning(tmp_path, caplog):
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 100, 200, 50
    rgb[0, 0] = 255
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, rgb, photometric="rgb")
    with caplog.at_level(logging.WARNING, logger="blotquant"):
        blot = read_blot(path, polarity="light-bands")
    assert "rgb.tif" in caplog.text and "luminance" in caplog.text
    assert blot.data[1, 1] == pytest.approx(0.2125 * 100 + 0.7154 * 200 + 0.0721 * 50)
    assert blot.data[0, 0] == 255.0 and blot.saturated[0, 0] and blot.saturated.sum() == 1


def test_rgba_alpha_ignored_transparent_padding_not_saturated():
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., :3] = 230
    rgba[..., 3] = 255
    rgba[:, :2, 3] = 0                 # transparent padding, RGB 0
    rgba[:, :2, :3] = 0
    rgba[5, 5, :3] = 0                 # one real black pixel
    blot = blot_from_array(rgba, polarity="dark-bands")
    assert blot.data[3, 3] == 25.0
    assert int(blot.saturated.sum()) == 1 and blot.saturated[5, 5]
    assert blot.mask is not None and int((~blot.mask).sum()) == 20
    assert blot.choices["colour"]["transparent_pixels"] == 20


def test_png_and_jpeg(tmp_path, caplog):
    from PIL import Image

    stored = _film()
    png = tmp_path / "film.png"
    Image.fromarray(stored).save(png)
    blot = read_blot(png)
    assert blot.polarity == "dark-bands"
    np.testing.assert_array_equal(blot.data, 255.0 - stored)
    assert image_size(png) == (90, 120)
    png16 = tmp_path / "chemi16.png"
    chemi = _chemi(np.uint16)
    Image.fromarray(chemi).save(png16)
    np.testing.assert_array_equal(read_blot(png16).data, chemi.astype(np.float64))
    jpg = tmp_path / "film.jpg"
    Image.fromarray(stored).save(jpg, quality=95)
    with caplog.at_level(logging.WARNING, logger="blotquant"):
        read_blot(jpg)
    assert "JPEG" in caplog.text and "film.jpg" in caplog.text


def test_colour_jpeg_warns_once_that_it_is_not_quantitative(tmp_path, caplog):
    """8-bit exports and film scans: a JPEG is read, with one warning that it is lossy; its
    compression ringing around a band is not taken for ink, a pen stroke is."""
    from PIL import Image

    rgb = np.zeros((120, 90, 3), np.uint8)
    rgb[:] = (130, 178, 220)                      # blue film
    rgb[55:65, 10:80] = (10, 30, 25)              # a band
    rgb[95:99, 10:80] = (40, 62, 101)             # a purple-blue pen stroke
    path = tmp_path / "scan.jpg"
    Image.fromarray(rgb).save(path, quality=92)
    with caplog.at_level(logging.WARNING, logger="blotquant"):
        blot = read_blot(path)
    jpeg = [r for r in caplog.records if "JPEG is lossy" in r.getMessage()]
    assert len(jpeg) == 1 and "scan.jpg" in jpeg[0].getMessage()
    assert blot.choices["jpeg"] == "lossy compression: values are not quantitative"
    assert blot.polarity == "dark-bands"
    assert blot.marks[96:98, 14:76].all()                       # the stroke's core
    assert not blot.marks[45:75].any()                          # the band and its JPEG ringing
    assert blot.choices["marks"]["marked_pixels"] == int(blot.marks.sum()) <= 6 * 80


def test_planar_rgb_tiff_is_read_as_colour(tmp_path):
    """Review finding: a TIFF with planarconfig 'separate' is one page of shape (3, rows, cols);
    it was read as a three-page series and page 0 gave the red plane as grey."""
    rgb = np.zeros((60, 80, 3), np.uint16)
    rgb[:] = (130 * 257, 178 * 257, 220 * 257)                  # blue film
    rgb[25:35, 10:70] = (10 * 257, 30 * 257, 25 * 257)          # a band
    rgb[45:49, 10:70] = (40 * 257, 62 * 257, 101 * 257)         # a pen stroke
    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate")
    with tifffile.TiffFile(path) as tif:                        # the file is what we think it is
        assert tif.series[0].axes == "SYX" and tif.pages[0].planarconfig == 2
    blot = read_blot(path, polarity="dark-bands")
    luma = rgb.astype(float) @ np.array([0.2125, 0.7154, 0.0721])
    np.testing.assert_allclose(blot.data, 65535.0 - luma)
    assert blot.choices["pages"] == 1 and "planar" in blot.choices
    assert blot.choices["colour"]["channels"] == 3
    assert blot.marks[46:48, 14:66].all() and not blot.marks[20:40].any()
    assert image_size(path) == (80, 60)
    with pytest.raises(ImageError, match="page 1 does not exist"):
        read_blot(path, page=1)


def test_tiff_named_png_is_read_as_tiff(tmp_path, caplog):
    """The file's signature decides: TIFF bytes named .png are read by tifffile, with a note."""
    stored = _chemi(np.uint16)
    path = tmp_path / "blot.png"
    tifffile.imwrite(path, stored)
    with caplog.at_level(logging.WARNING, logger="blotquant"):
        blot = read_blot(path)
    np.testing.assert_array_equal(blot.data, stored.astype(np.float64))
    assert blot.choices["reader"] == "tifffile series" and "'.png'" in blot.choices["format_note"]
    assert "blot.png" in caplog.text and "is a TIFF" in caplog.text


def test_tiff_tag_names_when_tifffile_gives_ints():
    from blotquant.io import _tag_name

    assert _tag_name(tifffile.COMPRESSION, 1) == "NONE"
    assert _tag_name(tifffile.COMPRESSION, tifffile.COMPRESSION.LZW) == "LZW"
    assert _tag_name(tifffile.PHOTOMETRIC, 1) == "MINISBLACK"
    assert _tag_name(tifffile.COMPRESSION, 60000) == "60000"


KRAUSE = REAL / "biorad-chemidoc-akt-pakt-krause"


@pytest.mark.skipif(not KRAUSE.is_dir(), reason="../shared/data/real is absent")
@pytest.mark.parametrize("name", ["pAkt/WB0-pAKT.png", "Akt/WB0-AKT.png"])
def test_real_tiff_named_png_krause(name):
    """Review finding: these ChemiDoc exports are TIFFs (ImageJ) named .png, without a
    Compression tag; reading them raised AttributeError ('int' object has no attribute 'name')."""
    path = KRAUSE / name
    blot = read_blot(path)
    raw = tifffile.imread(path)
    assert raw.shape == (552, 689) and raw.dtype == np.uint8
    assert blot.data.shape == (552, 689) and blot.dtype == "uint8"
    assert blot.choices["compression"] == "NONE" and blot.choices["photometric"] == "MINISBLACK"
    assert "format_note" in blot.choices and blot.marks is None
    stored = blot.data if blot.polarity == "light-bands" else blot.ceiling - blot.data
    np.testing.assert_array_equal(stored, raw.astype(np.float64))


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ImageError, match="nope.tif: image file not found"):
        read_blot(tmp_path / "nope.tif")
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00garbage")
    with pytest.raises(ImageError, match="bad.tif: .*TIFF"):
        read_blot(bad)
    truncated = tmp_path / "truncated.tif"
    tifffile.imwrite(truncated, np.ones((64, 64), np.uint16), compression="zlib")
    truncated.write_bytes(truncated.read_bytes()[:40])
    with pytest.raises(ImageError, match="truncated.tif: ") as info:
        read_blot(truncated)
    assert info.value.__cause__ is not None or "TIFF" in str(info.value)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(ImageError, match="notes.png: not a readable image"):
        read_blot(text)
    with pytest.raises(ImageError, match="nope.tif"):
        image_size(tmp_path / "nope.tif")


def test_square_root_encoded_gel_refused(tmp_path):
    gel = tmp_path / "scan.gel"
    tifffile.imwrite(gel, np.full((8, 8), 100, np.uint16))
    with pytest.raises(ImageError, match="scan.gel: .*square-root encoded"):
        read_blot(gel)


def test_input_array_unchanged_and_bad_shapes():
    stored = _film()
    before = stored.copy()
    blot_from_array(stored)
    np.testing.assert_array_equal(stored, before)
    with pytest.raises(ImageError, match="expected a 2-D"):
        blot_from_array(np.zeros((3, 4, 5, 6)))
    with pytest.raises(ImageError, match="unknown polarity 'up'"):
        blot_from_array(stored, polarity="up")


# ------------------------------------------------------------------------------------------
# polarity and ceiling


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_auto_polarity_light_bands(dtype):
    peak = 150 if dtype == np.uint8 else 20000
    blot = blot_from_array(_chemi(dtype, peak=peak, background=20))
    assert blot.polarity == "light-bands"
    assert blot.choices["polarity"]["method"] == "auto"
    assert blot.choices["polarity"]["tophat_ratio"] > 2


def test_auto_polarity_dark_bands_inverts_against_ceiling_not_max():
    stored = _film()
    assert stored.max() < 255
    blot = blot_from_array(stored)
    assert blot.polarity == "dark-bands"
    np.testing.assert_array_equal(blot.data, 255.0 - stored.astype(np.float64))
    assert blot.choices["polarity"]["tophat_ratio"] < 0.5


def test_dark_bands_on_light_membrane_with_dark_surround():
    # merged white-light export: light membrane in a dark frame; the median is the dark frame
    img = np.full((200, 200), 30, np.uint8)
    img[40:160, 30:170] = _film(shape=(120, 140))
    blot = blot_from_array(img)
    assert blot.polarity == "dark-bands"
    assert blot.choices["polarity"]["background_relative"] < 0.5


def test_explicit_polarity_and_saturation_limits():
    stored = np.array([[0, 10, 255], [255, 3, 0]], np.uint8)
    light = blot_from_array(stored, polarity="light-bands")
    assert light.saturated.tolist() == [[False, False, True], [True, False, False]]
    dark = blot_from_array(stored, polarity="dark-bands")
    assert dark.saturated.tolist() == [[True, False, False], [False, False, True]]
    assert dark.data.tolist() == [[255.0, 245.0, 0.0], [0.0, 252.0, 255.0]]


def test_12bit_in_16bit_container_plateau():
    img = _chemi(np.uint16, peak=8000).astype(np.int64)
    img = np.minimum(img, 4095).astype(np.uint16)
    n_at = int((img == 4095).sum())
    assert n_at >= 50
    blot = blot_from_array(img)
    assert blot.ceiling == 4095.0
    assert blot.choices["ceiling"]["bit_depth_hint"] == 12
    assert int(blot.saturated.sum()) == n_at
    np.testing.assert_array_equal(blot.data, img.astype(np.float64))   # never rescaled


def test_dim_image_is_not_a_plateau():
    img = _chemi(np.uint16, peak=1500)        # max well below 65535, a single pixel at it
    blot = blot_from_array(img)
    assert blot.ceiling == 65535.0
    assert not blot.saturated.any()
    assert blot.choices["ceiling"]["pixels_at_max"] < 50


def test_given_ceiling_overrides():
    blot = blot_from_array(_film(), ceiling=250)
    assert blot.ceiling == 250.0 and blot.choices["ceiling"]["method"] == "given"
    assert blot.data[0, 0] == 250.0 - _film()[0, 0]


def test_float_dark_bands_without_ceiling():
    film = _film().astype(np.float32) / np.float32(255)
    blot = blot_from_array(film, polarity="dark-bands")
    assert blot.ceiling == 1.0
    with pytest.raises(ImageError, match="no known detector ceiling"):
        blot_from_array(film * 300, polarity="dark-bands")


# ------------------------------------------------------------------------------------------
# crop, hashes, atomic output


def test_crop_sets_origin_and_validates():
    blot = blot_from_array(np.arange(200, dtype=np.uint16).reshape(10, 20), polarity="light-bands")
    part = crop(blot, (5, 2, 15, 6))
    assert part.data.shape == (4, 10) and part.origin == (5, 2)
    assert part.data[0, 0] == 45.0
    inner = crop(part, [1, 1, 3, 3])
    assert inner.origin == (6, 3) and inner.data[0, 0] == 66.0
    assert isinstance(part, BlotImage) and part.choices["crop"]["region"] == [5, 2, 15, 6]
    for bad in [(5, 2, 25, 6), (15, 2, 5, 6), (0, 0, 0, 4), (-1, 0, 4, 4)]:
        with pytest.raises(LayoutError, match=r"outside the image \(20 x 10 px\)"):
            crop(blot, bad)
    with pytest.raises(LayoutError, match="four integers"):
        crop(blot, (1, 2, 3))


def test_sha256_file(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"blot" * 1000)
    assert sha256_file(p) == hashlib.sha256(b"blot" * 1000).hexdigest()
    with pytest.raises(ImageError, match="missing.bin"):
        sha256_file(tmp_path / "missing.bin")


def test_atomic_output_dir_success_failure_and_force(tmp_path):
    final = tmp_path / "results" / "exp"
    with atomic_output_dir(final) as tmp:
        assert not final.exists() and tmp.parent == final.parent
        (tmp / "a.csv").write_text("1")
        # --force replaces only earlier results: a run.json written by blotquant, listing the files
        (tmp / "run.json").write_text('{"versions": {"blotquant": "0"}, "outputs": ["a.csv", "run.json"]}')
    assert (final / "a.csv").read_text() == "1"
    with pytest.raises(BlotquantError, match="already exists; use --force"):
        with atomic_output_dir(final):
            raise AssertionError("must not run")
    with pytest.raises(RuntimeError):
        with atomic_output_dir(final, force=True) as tmp:
            (tmp / "b.csv").write_text("2")
            raise RuntimeError("boom")
    assert sorted(p.name for p in final.iterdir()) == ["a.csv", "run.json"]
    assert sorted(p.name for p in final.parent.iterdir()) == ["exp"]
    with atomic_output_dir(final, force=True) as tmp:
        (tmp / "b.csv").write_text("2")
    assert sorted(p.name for p in final.iterdir()) == ["b.csv"]
    with pytest.raises(BlotquantError, match="not a blotquant results folder"):  # b.csv alone: no run.json
        with atomic_output_dir(final, force=True):
            raise AssertionError("must not run")
    assert sorted(p.name for p in final.parent.iterdir()) == ["exp"]
    fresh = tmp_path / "new" / "deep" / "run"
    with pytest.raises(ValueError):
        with atomic_output_dir(fresh):
            raise ValueError("fail")
    assert not (tmp_path / "new").exists()


# ------------------------------------------------------------------------------------------
# real blots: polarity and saturation against the annotations


def _annotated_images():
    return [pytest.param(set_name, im, id=f"{set_name}/{im['path']}") for set_name, im in annotated_images()]


@pytest.mark.parametrize(("set_name", "ann"), _annotated_images())
def test_real_polarity_and_saturation_match_annotations(set_name, ann):
    path = REAL / set_name / ann["path"]
    blot = read_blot(path)
    assert blot.polarity == ann["polarity"]
    assert blot.data.shape == (ann["size"][1], ann["size"][0])
    assert image_size(path) == tuple(ann["size"])
    sat = ann["saturation"]
    assert blot.ceiling == float(sat["dtype_max"])
    if sat.get("pixels_at_clip_image") is not None:
        assert int(blot.saturated.sum()) == sat["pixels_at_clip_image"]


@pytest.mark.real
@pytest.mark.skipif(not REAL.is_dir(), reason="real blots not available")
def test_real_16bit_counts_unchanged():
    path = REAL / "zdf-rat-heart-adrenoceptors" / "B1AR" / "Oct_10" / "Oct10_B1ARtop_GAPDHbottom.tif"
    stored = tifffile.imread(path)
    blot = read_blot(path)
    np.testing.assert_array_equal(blot.data, stored.astype(np.float64))
    assert blot.dtype == "uint16" and blot.choices["ceiling"]["method"].startswith("dtype maximum")


def test_dark_band_image_clipped_above_zero_flags_its_black_plateau():
    """A film scan black-clipped at 3 (not 0): pixels at that plateau are saturated."""
    rng = np.random.default_rng(1)
    film = rng.integers(180, 220, size=(200, 300)).astype(np.uint8)
    film[90:110, 50:250] = 40
    film[95:105, 100:200] = 3  # the clipped core of a dark band: 1000 pixels exactly at 3
    blot = blot_from_array(film, polarity="dark-bands")
    assert blot.choices["floor"]["floor"] == 3.0
    assert int(blot.saturated.sum()) == 1000
    assert blot.saturated[100, 150] and not blot.saturated[92, 60]
    assert blot.data[100, 150] == 255 - 3  # inverted against the ceiling, never rescaled
