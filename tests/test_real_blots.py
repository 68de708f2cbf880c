"""The whole pipeline on real 16-bit Western blots, checked against hand-made geometry annotations.

Every config in ``tests/real_configs/`` points at one image set in ``../shared/data/real`` (the
images are never copied into the project). Each config is run once through
:func:`blotquant.pipeline.run`; then, for every image entry whose file has an annotation in
``../shared/data/real/annotations/<set>.yaml``:

* the detected lane centre lines, evaluated at the annotated band row of each lane, must lie within
  5 px of the annotated lane centres (marker lanes 8 px, the annotation's own accuracy for them);
* the bands table's ``lane_x`` must lie within the same tolerances, and its ``band_row`` within 3 px
  of the annotated band centre row, wherever the annotation has that band in that lane.

Config lanes are paired with annotation lanes in order: the annotation lanes of the strip that best
overlaps the image's region, restricted to those whose centre lies inside the region; when the config
lists only sample lanes (markers invisible on one exposure of the membrane), the annotation's marker
and empty lanes are left out. A target is compared with the annotation band key of the same name, or
with the key given in ``BAND_KEYS``; a key list means a doublet quantified as one target, where the
row found may be either member.

The tests are marked ``real`` and skip when ``../shared/data/real`` is absent.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
ANNOTATIONS = REAL / "annotations"
CONFIG_DIR = Path(__file__).resolve().parent / "real_configs"
CONFIGS = sorted(CONFIG_DIR.glob("*.yaml"))

LANE_TOL_SAMPLE = 5.0  # px, sample lanes
LANE_TOL_MARKER = 8.0  # px, marker lanes (the annotation is only +-8 px there)
BAND_TOL = 3.0  # px, band centre rows

#: (set, target) -> annotation band key(s), where the target is not named like the key.
BAND_KEYS = {
    ("amersham-actin-csitron", "beta-actin"): "main",
    ("amersham-actin-csitron", "actin-lower-band"): "lower",
    ("amersham-rhoa-pysternblot", "RhoA"): "main",
    ("amersham-rhoa-pysternblot", "reference-band"): "upper",
    ("biorad-chemidoc-akt-pakt-krause", "pAKT"): "main",
    ("biorad-chemidoc-akt-pakt-krause", "AKT"): "main",
    ("biorad-chemidocxrs-1sc-itsayellow", "reference"): "main",
    ("uvitec-alliance-multistrip-blotteravg", "row5"): ("row5_upper", "row5_lower"),
    ("uvitec-alliance-multistrip-blotteravg", "GAPDH"): "row6",
    ("zdf-rat-heart-adrenoceptors", "B1AR"): "main",
    ("zdf-rat-heart-adrenoceptors", "B2AR"): "main",
    ("zdf-rat-heart-adrenoceptors", "GAPDH"): "main",
}

#: set name -> file name in ../shared/data/real/<set> whose annotation stands in for this file's
#: (test4_imglab_analysis.tif holds exactly the pixels of test4_ref.tif).
SAME_PIXELS = {("biorad-chemidocxrs-1sc-itsayellow", "test4_imglab_analysis.tif"): "test4_ref.tif"}

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(not REAL.is_dir(), reason="real blots (../shared/data/real) not available"),
]


# --------------------------------------------------------------------------------------------
# helpers


def _entries():
    """(config path, membrane index, image index, pytest id) for every image entry of every config."""
    out = []
    for cfg in CONFIGS:
        raw = yaml.safe_load(cfg.read_text(encoding="utf-8"))
        for mi, mem in enumerate(raw["membranes"]):
            for ii, img in enumerate(mem["images"]):
                where = f"@y{img['region'][1]}" if img.get("region") else ""
                out.append((cfg, mi, ii, f"{cfg.stem}/{mem['name']}/{Path(img['file']).stem}{where}"))
    return out


ENTRIES = _entries()

#: (test, entry id) -> verified cause, for the misses not fixed yet. Each becomes a strict xfail:
#: when a miss is fixed the test XPASSes and fails, so the entry must be removed.
KNOWN_MISSES = {
    ("lanes", "zdf-rat-heart-adrenoceptors/b1ar-jul04-top/July4_B1AR_10wtop_16wbottom_GAPDH@y30"):
        "lane 3 6.0 px left of the annotation: neighbouring GAPDH bands touch in one tilted bar; the dips "
        "around lane 3 are at x=313 and 360 (midpoint 337; the lane is centred between them) while the lab's rectangle "
        "[318, 367] gives 342.5 - the annotation looks 4-6 px right of the band gaps (render checked)",
    ("bands", "zdf-rat-heart-adrenoceptors/b1ar-jul04-top/July4_B1AR_10wtop_16wbottom_GAPDH@y30"):
        "band rows pass; lane 3's lane_x is the lane-centre miss above",
}


def _cases(test):
    return [pytest.param(*e[:3], id=e[3], marks=[pytest.mark.xfail(reason=KNOWN_MISSES[(test, e[3])], strict=True)]
                         if (test, e[3]) in KNOWN_MISSES else []) for e in ENTRIES]


@functools.lru_cache(maxsize=None)
def run_config(cfg):
    """Load and run one config once per test session: (experiment, results, seconds)."""
    from blotquant.config import load_config
    from blotquant.pipeline import run

    experiment = load_config(cfg)
    t0 = time.perf_counter()
    results = run(experiment)
    return experiment, results, time.perf_counter() - t0


@functools.lru_cache(maxsize=None)
def _annotation(set_name):
    path = ANNOTATIONS / f"{set_name}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None


def _overlap(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0)


def annotated_lanes(set_name, file, region, labels, image_size):
    """Annotation lanes paired with the config's lane labels, or None when the file is not annotated.

    Returns ``(lanes, strip)`` with one annotation lane dict per config lane, in order. Raises
    AssertionError when the config's lanes cannot be paired with the annotation's.
    """
    ann = _annotation(set_name)
    if ann is None:
        return None
    file = SAME_PIXELS.get((set_name, file), file)
    images = [im for im in ann["images"] if im["path"] == file]
    if not images:
        return None
    region = list(region) if region is not None else [0, 0, *image_size]
    strip = max(images[0]["strips"], key=lambda s: _overlap(s["box"], region))
    lanes = sorted(strip["lanes"], key=lambda lane: lane["n"])
    lanes = [lane for lane in lanes if region[0] <= lane["x"] < region[2]]
    if len(lanes) != len(labels) and "ladder" not in labels and "-" not in labels:
        lanes = [lane for lane in lanes if lane["kind"] == "sample"]
    assert len(lanes) == len(labels), (
        f"{set_name}/{file}: config lists {len(labels)} lanes {labels}, the annotation's strip "
        f"{strip.get('name', strip['box'])} has {len(lanes)} inside region {region}"
    )
    for label, lane in zip(labels, lanes):
        kind = {"ladder": "marker", "-": "empty"}.get(label, "sample")
        assert kind == lane["kind"], (
            f"{set_name}/{file}: config lane {label!r} is paired with annotation lane {lane['n']} "
            f"of kind {lane['kind']}"
        )
    return lanes, strip


def _lane_row(lane, strip):
    """The row at which a lane's annotated centre was measured (its first band, else the strip's)."""
    for band in (lane.get("bands") or {}).values():
        return float(band["y"])
    ys = [b["y"] for other in strip["lanes"] for b in (other.get("bands") or {}).values()]
    if ys:
        return float(np.median(ys))
    return float(np.mean([m["y"] for m in lane.get("ladder", [])])) if lane.get("ladder") else None


def _tol(lane):
    return LANE_TOL_MARKER if lane["kind"] == "marker" else LANE_TOL_SAMPLE


def _band_keys(set_name, target, strip):
    keys = BAND_KEYS.get((set_name, target), target)
    return (keys,) if isinstance(keys, str) else tuple(keys)


def _entry(cfg, mi, ii):
    """The image entry's config, its result and the annotation pairing (or skip)."""
    experiment, results, _ = run_config(cfg)
    flat = [(m, im) for m in experiment.membranes for im in m.images]
    index = sum(len(m.images) for m in experiment.membranes[:mi]) + ii
    membrane, image_spec = flat[index]
    res = results.images[index]
    assert (res.membrane, res.file) == (membrane.name, image_spec.file)
    h, w = res.pixels.shape if res.blot.data is None else res.blot.data.shape[:2]
    size = (res.blot.origin[0] + w, res.blot.origin[1] + h)
    paired = annotated_lanes(cfg.stem, image_spec.file, image_spec.region, list(membrane.lanes), size)
    if paired is None:
        pytest.skip(f"no annotation for {cfg.stem}/{image_spec.file}")
    return experiment, results, membrane, image_spec, res, paired


# --------------------------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("cfg", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_config_runs_end_to_end(cfg):
    experiment, results, seconds = run_config(cfg)
    n_images = sum(len(m.images) for m in experiment.membranes)
    assert len(results.images) == n_images
    quantified = sum(
        sum(lab not in ("ladder", "-") for lab in m.lanes) * len(im.targets)
        for m in experiment.membranes for im in m.images
    )
    assert len(results.bands) == quantified
    assert results.bands["volume"].notna().all()
    assert set(results.normalized["target"]) == {
        t for m in experiment.membranes for im in m.images for t in im.targets
    } - {experiment.loading_control}
    assert seconds < 60, f"{cfg.stem}: pipeline took {seconds:.1f} s"


@pytest.mark.parametrize("cfg,mi,ii", _cases("lanes"))
def test_lane_centres_match_annotation(cfg, mi, ii):
    _, _, membrane, _, res, (ann_lanes, strip) = _entry(cfg, mi, ii)
    lanes = res.choices["lanes"]
    centers = np.asarray(lanes["centers_image_px"], dtype=float)
    slope, y_ref = float(lanes["slope"]), float(lanes["y_ref_image_px"])
    assert centers.size == len(ann_lanes)
    bad = []
    for k, (label, lane, c) in enumerate(zip(membrane.lanes, ann_lanes, centers), start=1):
        y = _lane_row(lane, strip)
        x = c + slope * (y - y_ref) if y is not None else c
        if not abs(x - lane["x"]) <= _tol(lane):
            bad.append(f"lane {k} ({label}, annotation n={lane['n']} {lane['kind']}): "
                       f"expected x={lane['x']:.1f} at y={y:.0f}, got {x:.1f} (tol {_tol(lane):.0f})")
    assert not bad, "lane centres off:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("cfg,mi,ii", _cases("bands"))
def test_band_rows_match_annotation(cfg, mi, ii):
    _, results, membrane, image_spec, _, (ann_lanes, strip) = _entry(cfg, mi, ii)
    bad, compared = [], 0
    for target in image_spec.targets:
        keys = _band_keys(cfg.stem, target, strip)
        rows = results.bands[(results.bands["membrane"] == membrane.name)
                             & (results.bands["image"] == image_spec.file)
                             & (results.bands["target"] == target)]
        for rec in rows.itertuples(index=False):
            lane = ann_lanes[int(rec.lane) - 1]
            bands = lane.get("bands") or {}
            ys = [bands[k]["y"] for k in keys if k in bands]
            if abs(rec.lane_x - lane["x"]) > _tol(lane):
                bad.append(f"{target} lane {rec.lane} ({rec.sample}): lane_x expected "
                           f"{lane['x']:.1f}, got {rec.lane_x:.1f}")
            if not ys:
                continue
            compared += 1
            err = min(abs(rec.band_row - y) for y in ys) if np.isfinite(rec.band_row) else np.inf
            if not err <= BAND_TOL:
                bad.append(f"{target} lane {rec.lane} ({rec.sample}): band_row expected "
                           f"{' or '.join(f'{y:.1f}' for y in ys)} ({'/'.join(keys)}), got {rec.band_row:.1f}"
                           + ("" if rec.found else " (not found)"))
    assert compared or not any(
        k in (lane.get("bands") or {}) for t in image_spec.targets
        for k in _band_keys(cfg.stem, t, strip) for lane in ann_lanes
    ), "no band compared although the annotation has bands"
    assert not bad, "bands off:\n  " + "\n  ".join(bad)


def test_cli_run_writes_outputs_and_volumes_reintegrate(tmp_path):
    """``blotquant run`` on the AKT/pAKT pair; one lane's volume re-integrated from the raw TIFF.

    Independent check: volume + background + overlap (what was removed as neighbouring bands) must
    equal the plain sum of the raw counts over the band's pixels, recomputed here with tifffile over
    the rows ``band_top..band_bottom`` and columns ``x_left..x_right`` (the lane is untilted to within
    a pixel, so that box is the strip the pipeline integrated).
    """
    import pandas as pd
    import tifffile

    from blotquant.cli import main

    cfg = CONFIG_DIR / "biorad-chemidoc-akt-pakt-krause.yaml"
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out)]) == 0
    for name in ("bands.csv", "normalized.csv", "summary.csv", "stats.csv", "run.json", "report.html"):
        assert (out / name).is_file(), name
    assert list(out.glob("overlay_*.png"))
    bands = pd.read_csv(out / "bands.csv")
    assert len(bands) == 20
    raw = tifffile.imread(REAL / "biorad-chemidoc-akt-pakt-krause" / "derived_AKT_from_scn_uint16.tif")
    rec = bands[(bands["target"] == "AKT") & (bands["lane"] == 3)].iloc[0]
    x0, x1 = int(np.floor(rec.x_left + 0.5)), int(np.floor(rec.x_right + 0.5))
    box = raw[int(rec.band_top):int(rec.band_bottom) + 1, x0:x1].astype(np.float64)
    assert box.size == pytest.approx(rec.n_pixels, rel=0.03)
    overlap = rec.overlap if "overlap" in bands.columns and np.isfinite(rec.overlap) else 0.0
    assert rec.volume + rec.background + overlap == pytest.approx(box.sum(), rel=0.02)
    assert 0 < rec.volume < box.sum()


def test_one_band_or_two_undecided_is_noted_on_every_lane():
    """ZDF GAPDH strips (broad bands on a rising background): the two-band shape test of a touching
    pair reads below 20 with its two-band side fitted from one start and above 20 from four, so
    where the fit happens to stop decides one band or two (ZDF B2AR Oct8 flipped for inputs 1e-13
    apart). The call stays the single-start one, and every lane of that target says its volume
    depends on an undecided call: the biologist sees the soft number."""
    cfg = CONFIG_DIR / "zdf-rat-heart-adrenoceptors.yaml"
    _, results, _ = run_config(cfg)
    found = 0
    for res in results.images:
        for target, rec in res.choices["bands"].items():
            twins = [t for t in rec["consensus"].get("twins", []) if t.get("undecided")]
            if not twins:
                continue
            found += 1
            for t in twins:
                readings = (t["shape_excess"], t["shape_excess_best_start"])
                assert min(readings) < 20.0 < max(readings), (res.file, target, readings)
                assert not t["two_bands"]
            notes = results.bands.loc[(results.bands.membrane == res.membrane) & (results.bands.image == res.file)
                                      & (results.bands.target == target), "note"].fillna("")
            touched = [t for t in twins if set(t["pair"]) & set(rec["consensus"]["target_components"])]
            if touched:
                assert notes.str.contains("one band or two is undecided").all(), (res.file, target, list(notes))
    assert found >= 1, "no undecided one-or-two call on the ZDF GAPDH strips"
