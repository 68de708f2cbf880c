"""Lane finding on the real annotated blots: per-strip errors against the hand-checked geometry.

Usage: ``python benchmarks/lanes_real.py [DATA_DIR]`` (default ``../shared/data/real`` beside the
repository). Every TIFF that tifffile reads is analysed: each annotated strip box is cropped,
dark-band images are inverted as ``ceiling - stored``, :func:`blotquant.lanes.find_lanes` is asked
for the annotated lane count, and the detected centre at each lane's band row is compared with the
annotated ``x``. Prints one row per strip: max error over sample lanes and over marker lanes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import tifffile
import yaml

from blotquant.lanes import find_lanes

SAMPLE_TOL, MARKER_TOL = 5.0, 8.0


def load_gray(path):
    """Stored image as float grey (mean of R, G, B for colour files) and its dtype maximum."""
    arr = tifffile.imread(path)
    dmax = float(np.iinfo(arr.dtype).max) if arr.dtype.kind in "ui" else 1.0
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        arr = arr[..., :3].mean(axis=-1)
    return np.asarray(arr, dtype=float), dmax


def lane_rows(strip):
    """Band row of each lane (its first band, else the median of the strip's first bands)."""
    ys = []
    for lane in strip["lanes"]:
        bands = lane.get("bands") or {}
        ys.append(next(iter(bands.values()))["y"] if bands else np.nan)
    ys = np.array(ys, dtype=float)
    fill = np.nanmedian(ys) if np.isfinite(ys).any() else 0.0
    return np.where(np.isfinite(ys), ys, fill)


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


def evaluate(path, entry, strip, cache={}):
    """Errors (sample lanes, marker lanes) in px, and the params, for one strip."""
    if path not in cache:
        cache.clear()
        cache[path] = load_gray(path)
    img, dmax = cache[path]
    if entry["polarity"] == "dark-bands":
        img = dmax - img
    x0, y0, x1, y1 = (int(round(v)) for v in strip["box"])
    crop = img[y0 : y1 + 1, x0 : x1 + 1]
    lanes, params = find_lanes(crop, len(strip["lanes"]))
    ys = lane_rows(strip) - y0
    found = np.array([lanes.x_at(y)[i] for i, y in enumerate(ys)]) + x0
    truth = np.array([lane["x"] for lane in strip["lanes"]], dtype=float)
    kinds = np.array([lane["kind"] for lane in strip["lanes"]])
    err = np.abs(found - truth)
    return err, kinds, params


def main(argv):
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
    print(f"{'image#strip':78s} {'n':>3s} {'sample':>7s} {'marker':>7s} {'angle':>6s} {'ms':>5s}  ok")
    for name, path, entry, strip in cases(root):
        t = time.perf_counter()
        err, kinds, params = evaluate(path, entry, strip)
        ms = (time.perf_counter() - t) * 1000
        smax = err[kinds != "marker"].max() if (kinds != "marker").any() else np.nan
        mmax = err[kinds == "marker"].max() if (kinds == "marker").any() else np.nan
        ok = not (smax > SAMPLE_TOL) and not (mmax > MARKER_TOL)
        print(f"{name[-78:]:78s} {len(kinds):3d} {smax:7.2f} {mmax:7.2f} {params['angle_deg']:6.2f} {ms:5.0f}  {'ok' if ok else 'FAIL'}")


if __name__ == "__main__":
    main(sys.argv)
