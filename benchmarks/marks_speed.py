"""Speed of colour-mark handling on a 12-megapixel colour film scan with handwriting.

A blue X-ray film (3000 x 4000 px, RGB, with scanner colour noise) carries ten lanes of two band
rows and about 80 purple-blue pen strokes (a written header and a written footer) plus one long
pen line. Timed separately, as the median of ``--repeats`` runs after one warm-up run:

* ``find_colour_marks``: the mark search alone,
* ``blot_from_array``: what a read does after decoding (luminance, ceiling, polarity, marks),
* ``read_blot``: the same from an uncompressed TIFF on disk,
* ``detection_copy``: painting the marks over for lane finding.

    python benchmarks/marks_speed.py                # 8-bit and 16-bit, 5 repeats
    python benchmarks/marks_speed.py --repeats 3

Targets (issue review, 2026-11): read of a 12-MP colour scan <= 1.5 s, detection copy <= 0.5 s.
Not a timed test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's blotquant, not an installed copy

from blotquant.io import blot_from_array, detection_copy, read_blot
from blotquant.marks import find_colour_marks

FILM_RGB = np.array([130.0, 178.0, 220.0])       # blue film base colour (as tests/test_marks.py)
FILM_OD_RATIO = np.array([1.12, 0.87, 1.01])
INK_TRANSMISSION = np.array([0.30, 0.35, 0.46])  # purple-blue ballpoint


def film_with_handwriting(shape=(3000, 4000), *, seed=0):
    """(uint8 RGB film scan, bool stroke mask) of the given shape."""
    import cv2

    rng = np.random.default_rng(seed)
    rows, cols = shape
    od = np.zeros(shape, np.float32)
    r = np.arange(rows, dtype=np.float32)[:, None]
    for row, amp in ((0.35 * rows, 0.9), (0.6 * rows, 0.5)):          # two band rows
        profile = amp * np.exp(-0.5 * ((r - row) / (0.006 * rows)) ** 2)
        for lane in range(10):
            x0 = int((0.05 + 0.09 * lane) * cols)
            od[:, x0:x0 + int(0.07 * cols)] += profile * (0.5 + 0.1 * lane)
    rgb = FILM_RGB * 10.0 ** (-od[..., None] * FILM_OD_RATIO)
    strokes = np.zeros(shape, np.uint8)
    for top, bottom in ((0.04, 0.09), (0.85, 0.9)):                   # written header, footer
        for x in np.linspace(0.05 * cols, 0.95 * cols, 40):
            y0, y1 = int(top * rows), int(bottom * rows)
            x = int(x + rng.uniform(-10, 10))
            cv2.line(strokes, (x, y0), (x + int(rng.uniform(-20, 20)), y1), 1, 8)
            cv2.line(strokes, (x, y1), (x + 35, y1 - 30), 1, 8)
    cv2.line(strokes, (int(0.1 * cols), int(0.75 * rows)), (int(0.9 * cols), int(0.76 * rows)), 1, 10)
    ink = strokes.astype(bool)
    rgb[ink] *= INK_TRANSMISSION
    rgb += rng.normal(0.0, 2.0, rgb.shape)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8), ink


def _median_time(fn, repeats):
    fn()                                                              # warm-up (imports, caches)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    logging.getLogger("blotquant").setLevel(logging.ERROR)            # the colour warning per read
    import cv2
    import tifffile

    rgb8, ink = film_with_handwriting()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, rgb in (("uint8", rgb8), ("uint16", rgb8.astype(np.uint16) * 257)):
            path = Path(tmp) / f"film_{name}.tif"
            tifffile.imwrite(path, rgb, photometric="rgb")
            blot = blot_from_array(rgb, polarity="dark-bands")
            found = blot.marks[ink].mean()
            near = cv2.dilate(ink.view(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
            false = blot.marks[~near].mean()                          # beyond 3 px of a stroke
            steps = {"find_colour_marks": lambda rgb=rgb: find_colour_marks(rgb),
                     "blot_from_array": lambda rgb=rgb: blot_from_array(rgb, polarity="dark-bands"),
                     "read_blot (TIFF)": lambda path=path: read_blot(path, polarity="dark-bands"),
                     "detection_copy": lambda blot=blot: detection_copy(blot)}
            rows.extend((name, step, _median_time(fn, args.repeats)) for step, fn in steps.items())
            print(f"{name}: {rgb.shape[0]} x {rgb.shape[1]} px, strokes found {found:.3f}, "
                  f"pixels marked beyond 3 px of a stroke {false:.5f}")
    print(f"\n{'dtype':8s} {'step':20s} {'median s':>9s}   (of {args.repeats} repeats)")
    for name, step, t in rows:
        print(f"{name:8s} {step:20s} {t:9.3f}")


if __name__ == "__main__":
    main()
