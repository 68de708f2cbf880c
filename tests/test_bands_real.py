"""Band rows of measure_bands on real blots, with the lanes taken from the hand annotations.

This isolates band finding from lane finding: for every annotated image in
``../shared/data/real/annotations`` that :func:`blotquant.io.read_blot` reads, each strip is cropped
to its annotated box, :class:`~blotquant.lanes.Lanes` are built from the annotated sample-lane
centres and widths, and every band key of the strip is measured in the row window a user would type
(the annotated rows of that band across the lanes ± 15 px, rounded outwards to multiples of 5).
``band_row`` is compared with the annotated ``y`` (the peak of the background-subtracted row profile
over the central half of the lane, parabolic sub-pixel; plateau middle when flat-topped) in every
lane that has that band.

Bound: 3 px (the issue's "band rows within 3 px"; the annotation's own accuracy is 1.5 px, 3 px for
weak/smeared/flat-topped bands) for at least 95 % of all annotated bands, and for every band of an
image but at most one (a single weak band may sit at the annotation's own ±3 px limit).

The tests are marked ``real`` and skip when ``../shared/data/real`` is absent.
"""

from __future__ import annotations

import functools
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from realdata import user_window  # tests/ is on sys.path under pytest

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
ANNOTATIONS = REAL / "annotations"
BAND_TOL = 3.0  # px
WINDOW_PAD = 15  # px added above and below the annotated rows, then rounded outwards to 5 px
MIN_WITHIN = 0.95  # share of all annotated bands within BAND_TOL

#: Known misses (file name -> reason), run as non-strict xfail so that a fix shows up as XPASS.
KNOWN_MISSES = {}  # (test actin.png, a saturated smeared actin band, was one until the context
#                     reached the valleys beside the window)

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(not REAL.is_dir(), reason="real blots (../shared/data/real) not available"),
]


def annotated_images():
    """(set name, image annotation dict, image path) for every annotated image, sorted."""
    out = []
    if not ANNOTATIONS.is_dir():
        return out
    for f in sorted(ANNOTATIONS.glob("*.yaml")):
        ann = yaml.safe_load(f.read_text(encoding="utf-8"))
        for im in ann["images"]:
            out.append((ann["set"], im, REAL / ann["set"] / im["path"]))
    return out


IMAGES = annotated_images()


@functools.lru_cache(maxsize=None)
def _read(path, polarity):
    from blotquant.io import read_blot

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_blot(path, polarity=polarity)


def band_cases(set_name, im, path):
    """Yield one case per (strip, band key): crop, lanes, window and the annotated rows.

    Each case is a dict: ``strip``, ``key``, ``image`` (cropped counts), ``saturated``,
    ``lanes`` (crop coordinates), ``window`` (crop rows), ``y`` (annotated row per lane, NaN where
    the lane has no such band), ``y0`` (crop's first row), ``n`` (annotation lane numbers).
    """
    from blotquant.lanes import lanes_from_centers

    blot = _read(str(path), im.get("polarity", "auto"))
    data, sat = blot.data, blot.saturated
    h, w = data.shape
    for s in im["strips"]:
        x0, y0, x1, y1 = s["box"]
        x0, y0 = max(int(x0), 0), max(int(y0), 0)
        x1, y1 = min(int(math.ceil(x1)), w), min(int(math.ceil(y1)), h)
        lanes = sorted((ln for ln in s["lanes"] if ln["kind"] == "sample"), key=lambda ln: ln["x"])
        lanes = [ln for ln in lanes if x0 <= ln["x"] < x1]
        if not lanes:
            continue
        keys = sorted({k for ln in lanes for k in (ln.get("bands") or {})})
        geom = lanes_from_centers([ln["x"] - x0 for ln in lanes], [ln["width"] for ln in lanes])
        for key in keys:
            ys = np.array([(ln.get("bands") or {}).get(key, {}).get("y", np.nan) for ln in lanes],
                          dtype=float)
            top, bottom = user_window(ys[np.isfinite(ys)], pad=WINDOW_PAD)
            top, bottom = max(top, y0), min(bottom, y1 - 1)
            yield {
                "strip": s.get("name", str(s["box"])), "key": key,
                "image": data[y0:y1, x0:x1], "saturated": sat[y0:y1, x0:x1],
                "lanes": geom, "window": (top - y0, bottom - y0), "y": ys, "y0": y0,
                "n": [ln["n"] for ln in lanes],
            }


def measure_case(case, **kwargs):
    """measure_bands on one case; returns (band_row in image rows, table, params)."""
    from blotquant.bands import measure_bands

    table, params = measure_bands(case["image"], case["lanes"], case["window"],
                                  saturated=case["saturated"], **kwargs)
    return table["band_row"].to_numpy() + case["y0"], table, params


def _errors(set_name, im, path):
    """Per annotated band: (strip, key, lane n, annotated y, band_row, |error|)."""
    out = []
    for case in band_cases(set_name, im, path):
        rows, table, _ = measure_case(case)
        for n, y, r in zip(case["n"], case["y"], rows):
            if np.isfinite(y):
                out.append((case["strip"], case["key"], n, float(y), float(r), abs(float(r) - y)))
    return out


@functools.lru_cache(maxsize=None)
def errors_for(index):
    set_name, im, path = IMAGES[index]
    try:
        _read(str(path), im.get("polarity", "auto"))
    except Exception as exc:  # noqa: BLE001 - images read_blot cannot read are not part of the check
        return None, f"{type(exc).__name__}: {exc}"
    return _errors(set_name, im, path), ""


def _params():
    out = []
    for index, (s, im, _) in enumerate(IMAGES):
        why = KNOWN_MISSES.get(Path(im["path"]).name)
        marks = [pytest.mark.xfail(reason=why, strict=False)] if why else []
        out.append(pytest.param(index, marks=marks, id=f"{s}/{Path(im['path']).name}"))
    return out


@pytest.mark.parametrize("index", _params())
def test_band_rows_with_annotated_lanes(index):
    errs, why = errors_for(index)
    if errs is None:
        pytest.skip(f"read_blot cannot read it: {why}")
    bad = [f"{strip} {key} lane n={n}: expected {y:.1f}, got {r:.1f} ({e:.1f} px)"
           for strip, key, n, y, r, e in errs if not e <= BAND_TOL]
    assert len(bad) <= 1, f"{len(bad)} of {len(errs)} bands off by > {BAND_TOL} px:\n  " + \
        "\n  ".join(bad)


def test_band_rows_overall_within_tolerance():
    all_e = []
    for index in range(len(IMAGES)):
        errs, _ = errors_for(index)
        all_e += [e[-1] for e in errs or []]
    assert all_e, "no annotated band measured"
    within = float(np.mean(np.asarray(all_e) <= BAND_TOL))
    assert within >= MIN_WITHIN, f"{100 * within:.1f} % of {len(all_e)} bands within {BAND_TOL} px"


def _july4_gapdh_bottom_case():
    """The annotated case of ZDF July4 GAPDH's bottom strip, band rows 450-520 (skips without it)."""
    found = [(s, im, p) for s, im, p in IMAGES if Path(im["path"]).name ==
             "July4_B1AR_10wtop_16wbottom_GAPDH.tif"]
    if not found:
        pytest.skip("July4 GAPDH image not annotated")
    cases = [c for c in band_cases(*found[0])
             if c["key"] == "main" and np.nanmin(c["y"]) > 450 and np.nanmax(c["y"]) < 520]
    assert len(cases) == 1
    return cases[0]


def test_broad_gapdh_band_not_split_by_share_changes():
    """ZDF July4 GAPDH, bottom strip, in the config's window (450, 520) rows: one broad band.

    The band's two Gaussian pieces change their shares from lane to lane (reduced chi-square
    ~200) while one hump fits the consensus far better than two Gaussians (one_band_excess -36):
    the old twins rule split it and took the lower piece (lanes 2-6 4.5-9 px low end to end).
    """
    from blotquant.bands import measure_bands

    case = _july4_gapdh_bottom_case()
    window = (450 - case["y0"], 520 - case["y0"])  # the config's rows
    table, params = measure_bands(case["image"], case["lanes"], window,
                                  saturated=case["saturated"])
    rows = table["band_row"].to_numpy() + case["y0"]
    ok = np.isfinite(case["y"])
    err = np.abs(rows[ok] - case["y"][ok])
    assert err.max() <= BAND_TOL, f"rows {np.round(rows, 1)}, annotated {case['y']}"
    # (with the context reaching to the valleys beside the window, the decomposition may
    # describe the band as one component: then there is no twin decision to check)
    twins = params["consensus"]["twins"]
    assert not any(t["two_bands"] for t in twins)
    assert len({c["band"] for c in params["consensus"]["components"]
                if 450 - case["y0"] <= c["row"] <= 520 - case["y0"]}) == 1
