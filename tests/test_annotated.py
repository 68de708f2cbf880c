"""Issue 4's acceptance on every annotated real blot, as benchmarks/annotated.py measures it.

Each annotated image (all formats read_blot reads) is checked for: the automatic polarity, every
annotated strip found by :func:`blotquant.strips.find_strips` without a count (IoU >= 0.5), every
lane found by :func:`blotquant.lanes.find_lanes` with the listed count and kinds (sample lanes
within 5 px of the annotated centre, marker lanes within 8 px), and band rows of
:func:`blotquant.bands.measure_bands` on those lanes within 3 px for >= 95 % of all bands. Known
misses are strict xfails with their verified cause: a fix turns them red until the entry goes.

Skips when ../shared/data/real is absent.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from pathlib import Path

import numpy as np
import pytest

_SPEC = importlib.util.spec_from_file_location(
    "bench_annotated", Path(__file__).resolve().parents[1] / "benchmarks" / "annotated.py")
A = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(A)

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(not (A.ROOT / "annotations").is_dir(), reason="real blots (../shared/data/real) not available"),
]

CASES = list(A.cases()) if (A.ROOT / "annotations").is_dir() else []
STRIPS = [(name, k) for name, _, entry in CASES for k in range(len(entry["strips"]))]

#: (test, case id) -> verified cause, for misses not fixed yet (strict xfail).
KNOWN_MISSES = {
    ("lanes", "zdf-rat-heart-adrenoceptors/B2AR/April22/April22.2013_B2AR_10wtop_16wbottom.tif#1"):
        "marker lane 9.5 px from the annotation (x=193, noted 'set by eye, +-8 px'); the dark ladder marks' "
        "own profiles centre at x~205 (y=19) and x~197 (y=199), ~8 px right of the annotation; the faint pass "
        "also takes a mark at the strip's bottom edge (y~238), which pulls the lane right",
    ("lanes", "zdf-rat-heart-adrenoceptors/B1AR/July4/July4_B1AR_10wtop_16wbottom_GAPDH.tif#1"):
        "sample lanes 3 and 4 6.0 / 5.5 px left of the annotation: neighbouring GAPDH bands touch in one tilted "
        "bar; the dips around lane 3 are at x=313 and 360 (midpoint 337) while the lab's rectangle gives "
        "342.5 - the annotation looks 4-6 px right of the band gaps (render checked)",
    ("lanes", "wb-strips-chibidragon/original.png#1"):
        "sample lane 12 (the last, x=1046) 14 px left: its comet band is dense at 1013-1045 with a faint tail "
        "to the image edge (~1077) at ~12 % of the peak in the band-row profile; the lane's extent at 0.2 of "
        "its height ends at ~1052 (measured; 0.1 gives -5.8 px, 0.05 moves rhoa's last lane 6.6 px); lanes "
        "1-11 are within 4 px",
}


def _params(test, ids):
    return [pytest.param(i, id=str(i), marks=[pytest.mark.xfail(reason=KNOWN_MISSES[(test, str(i))], strict=True)]
                         if (test, str(i)) in KNOWN_MISSES else []) for i in ids]


@functools.lru_cache(maxsize=4)
def _blot(name):
    from blotquant.io import read_blot

    path = next(p for n, p, _ in CASES if n == name)
    logging.getLogger("blotquant").setLevel(logging.ERROR)  # the RGB/JPEG notes are expected here
    return read_blot(path)


def _entry(name):
    return next(e for n, _, e in CASES if n == name)


@functools.lru_cache(maxsize=None)
def _strip_result(case):
    name, k = case
    strip = A._inside(_entry(name)["strips"][k])
    part = A._crop(_blot(name), strip)
    lanes, err, kinds = A.listed_lanes(part, strip)
    return err, kinds, A.band_errors(part, lanes, strip)


@pytest.mark.parametrize("name", _params("polarity", [n for n, _, _ in CASES]))
def test_polarity_is_found(name):
    assert _blot(name).polarity == _entry(name)["polarity"]


@pytest.mark.parametrize("name", _params("strips", [n for n, _, _ in CASES]))
def test_every_strip_is_found_without_a_count(name):
    _, ious, _ = A.strip_scores(_blot(name), _entry(name))
    assert min(ious) >= A.STRIP_IOU, f"IoU per annotated strip: {np.round(ious, 2).tolist()}"


@pytest.mark.parametrize("case", _params("lanes", [f"{n}#{k + 1}" for n, k in STRIPS]))
def test_listed_lanes_within_bounds(case):
    name, k = case.rsplit("#", 1)
    err, kinds, _ = _strip_result((name, int(k) - 1))
    bound = np.where(kinds == "marker", A.MARKER_TOL, A.SAMPLE_TOL)
    bad = [(i + 1, str(kk), round(float(e), 1)) for i, (e, kk, b) in enumerate(zip(err, kinds, bound)) if e > b]
    assert not bad, f"lanes off (lane, kind, px): {bad}"


def test_band_rows_within_3px_for_95_percent():
    errors = np.array([b[-1] for case in STRIPS for b in _strip_result(case)[2]])
    assert errors.size > 300
    assert np.mean(errors <= A.BAND_TOL) >= A.BAND_SHARE, f"{100 * np.mean(errors <= A.BAND_TOL):.1f} % within 3 px"
