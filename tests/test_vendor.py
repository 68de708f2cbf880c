"""Tests for blotquant.vendor: Bio-Rad .scn / .1sc, Molecular Dynamics .gel, page inventory.

Real-file tests compare decoded pixels exactly with independent references (the .scn pixel
blocks decoded by the data helper, Image Lab's own TIFF exports of the .1sc files); they skip
when ../shared/data/real is absent.
"""

import logging
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import tifffile

from blotquant.errors import ImageError
from blotquant.io import read_blot
from blotquant.vendor import (
    _fake_scn,
    default_page,
    describe_pages,
    read_1sc,
    read_mdgel,
    read_scn,
    vendor_image_size,
)

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
SCN_DIR = REAL / "biorad-chemidoc-akt-pakt-krause"
ONESC_DIR = REAL / "biorad-chemidocxrs-1sc-itsayellow"

needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="real blots not available")


def _chemi(shape=(60, 50), seed=0, background=300, peak=20000):
    """Light bands on a dark, noisy background, uint16 counts."""
    rng = np.random.default_rng(seed)
    img = rng.normal(background, 20, shape)
    rows = np.arange(shape[0])[:, None]
    for x0 in (5, 20, 35):
        img[:, x0:x0 + 10] += peak * np.exp(-0.5 * ((rows - shape[0] // 2) / 3.0) ** 2)
    return np.clip(np.round(img), 0, 65535).astype(np.uint16)


# ------------------------------------------------------------------------------------------
# Bio-Rad Image Lab .scn: real files against the losslessly decoded pixel blocks

# (scn file, derived TIFF, exposure in s from the XML header, as read by eye from the file)
SCN_CASES = [
    ("2019-03-01-WB0-pAKT4060.scn", "derived_pAKT_from_scn_uint16.tif", 36.281999999999996),
    ("05-03-2019-WB0-AKTAK9272_2.scn", "derived_AKT_from_scn_uint16.tif", 21.151),
]


@pytest.mark.real
@needs_real
@pytest.mark.parametrize("scn, derived, exposure", SCN_CASES)
def test_real_scn_equals_derived_tiff(scn, derived, exposure):
    ref = tifffile.imread(SCN_DIR / derived)
    stored, meta = read_scn(SCN_DIR / scn)
    assert stored.dtype == np.uint16 and ref.dtype == np.uint16
    assert stored.shape == ref.shape == (552, 689)
    np.testing.assert_array_equal(stored, ref)          # exact, no transformation

    blot = read_blot(SCN_DIR / scn)
    assert blot.data.dtype == np.float64
    np.testing.assert_array_equal(blot.data, ref.astype(np.float64))   # counts stay counts
    # zero_is="white" is only Image Lab's display: raw counts are light bands on dark
    assert blot.polarity == "light-bands"
    assert read_blot(SCN_DIR / derived).polarity == "light-bands"       # the data agree
    assert blot.ceiling == 65535.0
    assert blot.choices["ceiling"]["method"] == "scn header <scanner data_ceiling>"
    np.testing.assert_array_equal(blot.saturated, ref >= 65535)
    assert blot.dtype == "uint16" and blot.page == 0 and len(blot.sha256) == 64
    h = blot.choices["scn"]
    assert blot.choices["reader"].startswith("blotquant Bio-Rad Image Lab .scn")
    assert h["zero_is"] == "white" and h["exposure_s"] == exposure
    assert (h["width"], h["height"], h["endian"], h["units"], h["bytes_per_pixel"]) == \
        (689, 552, "little", "Int", 2)
    assert h["binning"] == "4x4" and h["imager"] == "ChemiDoc\u2122 Touch"
    assert h["application"] == "Chemiluminescence"
    assert h["excitation_source"] == "No Illumination"
    assert "zero_is='white'" in blot.choices["polarity"]["decided_by"]
    assert vendor_image_size(SCN_DIR / scn) == (689, 552)
    pages = describe_pages(SCN_DIR / scn)
    assert [(p["index"], p["shape"], p["dtype"]) for p in pages] == [(0, (552, 689), "uint16")]


# ------------------------------------------------------------------------------------------
# .scn: synthetic containers (format edge cases)


@pytest.mark.parametrize("endian", ["little", "big"])
def test_scn_synthetic_roundtrip_exact(tmp_path, endian):
    stored = _chemi()
    path = tmp_path / "blot.scn"
    path.write_bytes(_fake_scn(stored, endian=endian))
    got, meta = read_scn(path)
    np.testing.assert_array_equal(got, stored)
    assert got.dtype == np.uint16 and got.dtype.isnative
    assert meta["scn"]["endian"] == endian and meta["scn"]["exposure_s"] == 2.5


def test_scn_binary_block_containing_a_boundary_is_cut_by_length(tmp_path):
    stored = _chemi()
    # put the inner and the outer delimiter (and a newline) inside the pixel block
    trap = np.frombuffer(b"\r\n--INNER0\r\n--OUTER\n", dtype="<u2")[:10]
    stored.reshape(-1)[100:100 + trap.size] = trap
    path = tmp_path / "trap.scn"
    path.write_bytes(_fake_scn(stored))
    got, _ = read_scn(path)
    np.testing.assert_array_equal(got, stored)


def test_scn_zero_is_white_is_not_inverted(tmp_path):
    stored = _chemi()
    path = tmp_path / "chemi.scn"
    path.write_bytes(_fake_scn(stored, zero_is="white"))
    blot = read_blot(path)
    assert blot.polarity == "light-bands"
    assert blot.choices["polarity"]["method"] == "file header"
    np.testing.assert_array_equal(blot.data, stored.astype(np.float64))
    # an explicit polarity wins over the header
    forced = read_blot(path, polarity="dark-bands")
    np.testing.assert_array_equal(forced.data, 65535.0 - stored)
    assert forced.choices["polarity"]["method"] == "given"


def test_scn_white_light_scan_polarity_from_data(tmp_path):
    film = (65535 - _chemi()).astype(np.uint16)       # dark bands on a light background
    path = tmp_path / "white.scn"
    path.write_bytes(_fake_scn(film, zero_is="black", application="White Epi"))
    blot = read_blot(path)
    assert blot.choices["polarity"]["method"] == "auto"
    assert blot.polarity == "dark-bands"
    np.testing.assert_array_equal(blot.data, 65535.0 - film)


def test_scn_multiple_scans_are_pages(tmp_path):
    stored = _chemi()
    path = tmp_path / "two.scn"
    path.write_bytes(_fake_scn(stored, scans=2))
    assert [p["index"] for p in describe_pages(path)] == [0, 1]
    assert read_blot(path, page=1).page == 1
    with pytest.raises(ImageError, match=r"two\.scn: scan \(page\) 2 does not exist.*0\.\.1"):
        read_blot(path, page=2)


def test_scn_errors_name_file_and_fix(tmp_path):
    good = _fake_scn(_chemi())
    truncated = tmp_path / "cut.scn"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(ImageError, match=r"cut\.scn: .*(truncated|incomplete)"):
        read_blot(truncated)
    text = tmp_path / "notes.scn"
    text.write_text("hello\n")
    with pytest.raises(ImageError, match=r"notes\.scn: not a Bio-Rad Image Lab \.scn.*TIFF"):
        read_blot(text)
    floats = tmp_path / "float.scn"
    floats.write_bytes(_fake_scn(np.zeros((4, 5), "<f4"), units="Float"))
    with pytest.raises(ImageError, match=r"float\.scn: .*units='Float'.*16-bit TIFF"):
        read_blot(floats)


def test_tiff_named_scn_goes_to_tifffile(tmp_path):
    stored = _chemi()
    path = tmp_path / "leica.scn"                        # Leica .scn files are TIFFs
    tifffile.imwrite(path, stored)
    blot = read_blot(path)
    assert blot.choices["reader"] == "tifffile series"
    np.testing.assert_array_equal(blot.data, stored.astype(np.float64))


# ------------------------------------------------------------------------------------------
# Bio-Rad .1sc (optional biorad1sc-reader) against Image Lab's TIFF exports

# (1sc file, reference TIFFs exported by Image Lab 5.2.1, stored maximum stated in PROVENANCE)
ONESC_CASES = [
    ("test4.1sc", ("test4_ref.tif", "test4_imglab_analysis.tif"), 64024),
    ("test3.1sc", ("test3_ref.tif",), 20974),
]


@pytest.mark.real
@needs_real
@pytest.mark.parametrize("name, refs, vmax", ONESC_CASES)
def test_real_1sc_equals_image_lab_exports(name, refs, vmax):
    pytest.importorskip("biorad1sc_reader")
    stored, meta = read_1sc(ONESC_DIR / name)
    assert stored.dtype == np.uint16 and stored.shape == (520, 696)
    assert int(stored.max()) == vmax
    for ref_name in refs:
        ref = tifffile.imread(ONESC_DIR / ref_name)
        # identity: same orientation, no inversion (the analysis export carries a
        # MINISWHITE tag, but its stored values are the same counts)
        np.testing.assert_array_equal(stored, ref)
    blot = read_blot(ONESC_DIR / name)
    np.testing.assert_array_equal(blot.data, stored.astype(np.float64))
    assert blot.polarity == "light-bands" and blot.ceiling == 65535.0
    assert not blot.saturated.any()
    assert blot.choices["reader"].startswith("biorad1sc-reader")
    assert blot.choices["onesc"]["Scanner Name"] == "ChemiDoc XRS"
    assert vendor_image_size(ONESC_DIR / name) == (696, 520)


def test_1sc_without_optional_package_says_how_to_install(tmp_path, monkeypatch):
    path = tmp_path / "blot.1sc"
    path.write_bytes(b"\x00" * 64)
    monkeypatch.setitem(sys.modules, "biorad1sc_reader", None)    # import now fails
    with pytest.raises(ImageError, match=r"blot\.1sc: .*\.1sc needs `pip install "
                                         r"'blotquant\[vendor\]'`"):
        read_blot(path)


def test_1sc_garbage_is_an_image_error(tmp_path):
    pytest.importorskip("biorad1sc_reader")
    path = tmp_path / "junk.1sc"
    path.write_bytes(b"not a bio-rad file at all" * 10)
    with pytest.raises(ImageError, match=r"junk\.1sc: not a readable Bio-Rad \.1sc"):
        read_blot(path)


# ------------------------------------------------------------------------------------------
# Molecular Dynamics / Typhoon .gel (synthetic: no real .gel available)


def _write_gel(path, stored, *, file_tag=2, scale=(1, 4), lab="Test Lab"):
    """A TIFF with the MD private tags: MD_FileTag (LONG), MD_ScalePixel (RATIONAL), MD_LabName."""
    tifffile.imwrite(path, stored, metadata=None, extratags=[
        (33445, 4, 1, file_tag, True),
        (33446, 5, 1, scale, True),
        (33448, "s", 0, lab, True),
    ])


def _gel_stored(seed=3):
    rng = np.random.default_rng(seed)
    # square roots of light bands on dark (what the scanner stores), full range at the corners
    counts = _chemi(shape=(40, 50), seed=seed, peak=60000).astype(np.float64) * 4000.0
    stored = np.round(np.sqrt(counts)).astype(np.uint16)
    stored[0, 0], stored[-1, -1] = 0, 65535
    stored[5, 5] = rng.integers(1, 65535)
    return stored


def _exact(stored, num, den, square):
    """Independent reference with exact rationals: float(v**2 * num / den), rounded once."""
    return np.array([[float(Fraction((int(v) ** 2 if square else int(v)) * num, den))
                      for v in row] for row in stored])


@pytest.mark.parametrize("scale", [(1, 4), (3, 1), (7, 3)])
def test_gel_square_root_decoded_to_linear_counts(tmp_path, scale):
    stored = _gel_stored()
    path = tmp_path / "scan.gel"
    _write_gel(path, stored, scale=scale)
    counts, meta = read_mdgel(path)
    ref = _exact(stored, *scale, square=True)
    if scale[1] in (1, 4):     # dyadic scale: float64 arithmetic is exact
        np.testing.assert_array_equal(counts, ref)
    else:                      # two roundings (v**2 is exact, then * num/den): <= 1 ulp
        np.testing.assert_allclose(counts, ref, rtol=2.5e-16, atol=0)
    # tifffile's own MD series decoding (float32) agrees to float32 precision
    with tifffile.TiffFile(path) as tif:
        assert tif.is_mdgel and tif.series[0].kind == "mdgel"
        np.testing.assert_allclose(counts, tif.series[0].asarray(), rtol=2e-7)
    md = meta["md_gel"]
    assert md["encoding"] == "square-root" and md["file_tag"] == 2
    assert md["scale_pixel"] == list(scale) and md["lab_name"] == "Test Lab"

    blot = read_blot(path)
    np.testing.assert_array_equal(blot.data, counts)
    assert blot.polarity == "light-bands"
    ceiling = float(Fraction(65535 ** 2 * scale[0], scale[1]))
    assert blot.ceiling == pytest.approx(ceiling, rel=2.5e-16)
    np.testing.assert_array_equal(blot.saturated, stored == 65535)
    assert blot.dtype == "uint16" and blot.choices["md_gel"]["encoding"] == "square-root"
    assert blot.choices["ceiling"]["method"].startswith("MD .gel: stored maximum 65535")


def test_gel_linear_file_tag(tmp_path):
    stored = _gel_stored()
    path = tmp_path / "lin.gel"
    _write_gel(path, stored, file_tag=128, scale=(1, 2))
    counts, meta = read_mdgel(path)
    np.testing.assert_array_equal(counts, _exact(stored, 1, 2, square=False))
    assert meta["md_gel"]["encoding"] == "linear"


def test_gel_input_file_unchanged_and_plain_tiff_path_differs(tmp_path):
    stored = _gel_stored()
    path = tmp_path / "scan.gel"
    _write_gel(path, stored)
    before = path.read_bytes()
    counts = read_blot(path).data
    assert path.read_bytes() == before
    # the same bytes named .tif are read as plain stored values: the suffix decides
    tif = tmp_path / "scan.tif"
    tif.write_bytes(before)
    assert not np.array_equal(read_blot(tif, polarity="light-bands").data, counts)


def test_gel_errors(tmp_path):
    plain = tmp_path / "plain.gel"
    tifffile.imwrite(plain, np.full((8, 8), 100, np.uint16))
    with pytest.raises(ImageError, match=r"plain\.gel: .*MD_FileTag.*square-root encoded"):
        read_blot(plain)
    odd = tmp_path / "odd.gel"
    _write_gel(odd, _gel_stored(), file_tag=5)
    with pytest.raises(ImageError, match=r"odd\.gel: MD_FileTag 5 is not a known"):
        read_blot(odd)
    zero = tmp_path / "zero.gel"
    _write_gel(zero, _gel_stored(), scale=(0, 1))
    with pytest.raises(ImageError, match=r"zero\.gel: MD_ScalePixel 0/1"):
        read_blot(zero)
    with pytest.raises(ImageError, match=r"odd\.gel: page 1 does not exist"):
        read_mdgel(odd, page=1)


# ------------------------------------------------------------------------------------------
# multi-page TIFFs with a colorimetric marker page


def _marker_rgb(shape=(60, 50)):
    rgb = np.full(shape + (3,), 235, np.uint8)
    rgb[10:14, :8] = (40, 60, 200)            # coloured ladder bands
    rgb[30:33, :8] = (200, 40, 40)
    return rgb


def test_describe_pages_and_default_skips_rgb_marker(tmp_path, caplog):
    chemi, marker = _chemi(), _marker_rgb()
    path = tmp_path / "imager.tif"
    with tifffile.TiffWriter(path) as tw:
        tw.write(marker, photometric="rgb", description="Colorimetric marker")
        tw.write(chemi, photometric="minisblack", description="Chemiluminescence 30 s")
    assert describe_pages(path) == [
        {"index": 0, "shape": (60, 50, 3), "dtype": "uint8", "photometric": "RGB",
         "description": "Colorimetric marker"},
        {"index": 1, "shape": (60, 50), "dtype": "uint16", "photometric": "MINISBLACK",
         "description": "Chemiluminescence 30 s"},
    ]
    with caplog.at_level(logging.INFO, logger="blotquant"):
        blot = read_blot(path)
    assert blot.page == 1
    np.testing.assert_array_equal(blot.data, chemi.astype(np.float64))
    assert blot.choices["page"]["page"] == 1 and blot.choices["page"]["method"] == "auto"
    assert "page 0 is colour" in blot.choices["page"]["reason"]
    assert "colour" not in blot.choices
    assert any("first greyscale page, 1" in r.getMessage() for r in caplog.records)
    # an explicit page is obeyed, the marker page included
    explicit = read_blot(path, page=0)
    assert explicit.page == 0 and "colour" in explicit.choices and "page" not in explicit.choices


@pytest.mark.parametrize("layout, expected", [
    ("grey-then-rgb", 0), ("grey-stack", 0), ("rgb-only", 0), ("rgb-rgb-grey", 2)])
def test_default_page_rules(tmp_path, layout, expected):
    chemi, marker = _chemi(), _marker_rgb()
    path = tmp_path / f"{layout}.tif"
    with tifffile.TiffWriter(path) as tw:
        if layout == "grey-then-rgb":
            tw.write(chemi, photometric="minisblack")
            tw.write(marker, photometric="rgb")
        elif layout == "grey-stack":
            tw.write(np.stack([chemi, chemi + 1]), photometric="minisblack")
        elif layout == "rgb-only":
            tw.write(marker, photometric="rgb")
        else:
            tw.write(marker, photometric="rgb")
            tw.write(marker[::-1], photometric="rgb")
            tw.write(chemi, photometric="minisblack")
    assert default_page(path)[0] == expected
    assert read_blot(path).page == expected


def test_describe_pages_of_gel_and_missing_file(tmp_path):
    path = tmp_path / "scan.gel"
    _write_gel(path, _gel_stored())
    assert [(p["index"], p["shape"], p["dtype"]) for p in describe_pages(path)] == \
        [(0, (40, 50), "uint16")]
    with pytest.raises(ImageError, match=r"gone\.tif: image file not found"):
        describe_pages(tmp_path / "gone.tif")
