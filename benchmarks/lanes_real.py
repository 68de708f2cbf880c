"""Lane finding on the real annotated blots: per-strip errors against the hand-checked geometry.

Usage: ``python benchmarks/lanes_real.py [DATA_DIR]`` (default ``../shared/data/real`` beside the
repository). Every TIFF that tifffile reads is analysed: each annotated strip box is cropped,
dark-band images are inverted as ``ceiling - stored``, :func:`blotquant.lanes.find_lanes` is asked
for the annotated lane count, and the detected centre at each lane's band row is compared with the
annotated ``x``. Prints one row per strip: max and median error over sample lanes and over marker
lanes, the angle, the placement (lane-like columns seen / lanes placed) and the time.

The band-row windows passed as ``rows`` are what a user would type in the config: per annotated
band key, the range of the band centre rows across lanes ± 15 px, widened to multiples of 5.
``--no-rows`` runs without them (the call before ``rows`` existed).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import tifffile
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's blotquant, not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from realdata import lane_rows, user_windows as user_rows  # noqa: E402  (the annotation helpers the tests use)

from blotquant.lanes import find_lanes  # noqa: E402

SAMPLE_TOL, MARKER_TOL = 5.0, 8.0


def load_gray(path):
    """Stored image as float grey (mean of R, G, B for colour files) and its dtype maximum."""
    arr = tifffile.imread(path)
    dmax = float(np.iinfo(arr.dtype).max) if arr.dtype.kind in "ui" else 1.0
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        arr = arr[..., :3].mean(axis=-1)
    return np.asarray(arr, dtype=float), dmax


def cases(root):
    """(name, image, strip) for every strip of every annotated TIFF that tifffile can read."""
    for ann in sorted((root / "annotations").glob("*.yaml")):
        doc = yaml.safe_load(ann.read_text())
        for entry in doc["images"]:
            path = root / doc["set"] / entry["path"]
            if path.suffix.lower() not in (".tif", ".tiff") or not path.exists():
                continue
            for k, strip in enumerate(entry["strips"]):
                yield f"{doc['set']}/{entry['path']}#{k + 1}", path, entry, strip


def evaluate(path, entry, strip, use_rows=True, use_kinds=True, cache={}):
    """Errors (sample lanes, marker lanes) in px, and the params, for one strip."""
    if path not in cache:
        cache.clear()
        cache[path] = load_gray(path)
    img, dmax = cache[path]
    if entry["polarity"] == "dark-bands":
        img = dmax - img
    x0, y0, x1, y1 = (int(round(v)) for v in strip["box"])
    crop = img[y0 : y1 + 1, x0 : x1 + 1]
    rows = [(t - y0, b - y0) for t, b in user_rows(strip).values()] if use_rows else None
    t = time.perf_counter()
    kinds = [lane["kind"] for lane in strip["lanes"]] if use_kinds else None
    lanes, params = find_lanes(crop, len(strip["lanes"]), rows=rows, kinds=kinds)
    params["_seconds"] = time.perf_counter() - t
    ys = lane_rows(strip) - y0
    found = np.array([lanes.x_at(y)[i] for i, y in enumerate(ys)]) + x0
    truth = np.array([lane["x"] for lane in strip["lanes"]], dtype=float)
    kinds = np.array([lane["kind"] for lane in strip["lanes"]])
    err = np.abs(found - truth)
    return err, kinds, params


def main(argv):
    use_rows = "--no-rows" not in argv
    use_kinds = "--no-kinds" not in argv
    argv = [a for a in argv if a not in ("--no-rows", "--no-kinds")]
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
    print(f"rows: {'user windows (annotated band rows +-15 px, 5 px steps)' if use_rows else 'not given'}; "
          f"kinds: {'the annotation lane kinds' if use_kinds else 'not given'}")
    print(f"{'image#strip':60s} {'n':>3s} {'smax':>6s} {'smed':>6s} {'mmax':>6s} {'mmed':>6s} "
          f"{'angle':>6s} {'seen':>5s} {'margin':>6s} {'ms':>5s}  ok")
    n_ok = n = 0
    for name, path, entry, strip in cases(root):
        err, kinds, params = evaluate(path, entry, strip, use_rows, use_kinds)
        ms = params["_seconds"] * 1000
        s, m = err[kinds != "marker"], err[kinds == "marker"]
        smax, smed = (s.max(), np.median(s)) if s.size else (np.nan, np.nan)
        mmax, mmed = (m.max(), np.median(m)) if m.size else (np.nan, np.nan)
        ok = not (smax > SAMPLE_TOL) and not (mmax > MARKER_TOL)
        n_ok += ok
        n += 1
        pl = params.get("placement", {})
        seen = len(pl["band_columns"]) if "band_columns" in pl else pl.get("lane_like_columns", -1)
        margin = pl.get("margin")
        print(f"{name[-60:]:60s} {len(kinds):3d} {smax:6.1f} {smed:6.1f} {mmax:6.1f} {mmed:6.1f} "
              f"{params['angle_deg']:6.2f} {seen:5d} {'' if margin is None else f'{margin:.2f}':>6s} "
              f"{ms:5.0f}  {'ok' if ok else 'FAIL'}{'  W' if params.get('warning') else ''}")
    print(f"{n_ok}/{n} strips within tolerance (sample {SAMPLE_TOL} px, marker {MARKER_TOL} px)")


if __name__ == "__main__":
    main(sys.argv)
