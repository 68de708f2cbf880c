"""Strip finding on the annotated real blots: found vs annotated membrane boxes, and runtime.

Run from the repository root::

    python benchmarks/strips_real.py            # n_strips decided from the image
    python benchmarks/strips_real.py --given    # n_strips taken from the annotation

Prints one line per image: strips annotated, strips found, the worst edge error (px) and the
worst IoU over the annotated strips (matched in order, top to bottom), and the time of
find_strips alone. Needs ../shared/data/real (the annotations' header explains the boxes).
"""

import argparse
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the working tree's blotquant, not an installed copy

from blotquant.io import read_blot
from blotquant.strips import find_strips

REAL = ROOT.parent / "shared" / "data" / "real"


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / float(area(a) + area(b) - inter)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--given", action="store_true", help="pass the annotated strip count")
    args = ap.parse_args()
    print(f"{'image':<58} {'ann':>3} {'found':>5} {'max_err':>7} {'min_iou':>7} {'ms':>6}")
    for ann in sorted((REAL / "annotations").glob("*.yaml")):
        doc = yaml.safe_load(ann.read_text())
        for entry in doc["images"]:
            path = REAL / doc["set"] / entry["path"]
            truth = [s["box"] for s in entry["strips"]]
            try:
                blot = read_blot(path)
            except Exception as exc:  # noqa: BLE001 - report and go on
                print(f"{doc['set'] + '/' + entry['path']:<58} unreadable: {exc}")
                continue
            t0 = time.perf_counter()
            try:
                strips, _ = find_strips(blot, n_strips=len(truth) if args.given else None)
                found = [s.box for s in strips]
            except Exception as exc:  # noqa: BLE001
                found = []
                print(f"  error: {exc}")
            ms = 1000 * (time.perf_counter() - t0)
            if len(found) == len(truth):
                err = max(abs(f - t) for fb, tb in zip(found, truth) for f, t in zip(fb, tb))
                mi = min(iou(fb, tb) for fb, tb in zip(found, truth))
                es, ms_iou = f"{err:7.0f}", f"{mi:7.2f}"
            else:
                es, ms_iou = f"{'-':>7}", f"{'-':>7}"
            name = (doc["set"] + "/" + entry["path"])[-58:]
            print(f"{name:<58} {len(truth):>3} {len(found):>5} {es} {ms_iou} {ms:6.0f}")
            if len(found) != len(truth) or es.strip() == "-" or float(ms_iou) < 0.7:
                print(f"    truth {truth}\n    found {found}")


if __name__ == "__main__":
    main()
