"""Band rows of measure_bands on the real blots, with the annotated lanes (band finding alone).

Run: ``python benchmarks/bands_real.py [-v]`` (needs ../shared/data/real). For every annotated
image that read_blot reads, each strip is cropped to its box, the lanes are the annotated sample
lanes, and every band key is measured in the window a user would type (annotated rows ± 15 px,
rounded outwards to multiples of 5); the same cases as tests/test_bands_real.py. Prints per image:
bands compared, max / median |band_row - annotated y|, % within 3 px and seconds; ``-v`` lists every
band off by more than 3 px.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's blotquant, not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_bands_real as T  # noqa: E402


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    verbose = "-v" in argv
    if not T.REAL.is_dir():
        print(f"no real blots at {T.REAL}")
        return 1
    head = f"{'image':64s} {'bands':>5s} {'max':>6s} {'median':>6s} {'<=3px':>6s} {'s':>5s}"
    print(head)
    print("-" * len(head))
    allerr = []
    for index, (set_name, im, path) in enumerate(T.IMAGES):
        name = f"{set_name[:14]}/{im['path']}"[-64:]
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            errs, why = T.errors_for(index)
        dt = time.perf_counter() - t0
        if errs is None:
            print(f"{name:64s} not read: {why[:60]}")
            continue
        e = np.array([x[-1] for x in errs])
        allerr += e.tolist()
        print(f"{name:64s} {e.size:5d} {e.max():6.1f} {np.median(e):6.1f} "
              f"{100 * np.mean(e <= T.BAND_TOL):5.0f}% {dt:5.2f}")
        if verbose:
            for strip, key, n, y, r, err in errs:
                if err > T.BAND_TOL:
                    print(f"    {strip} {key} lane n={n}: annotated {y:.1f}, found {r:.1f}")
    e = np.asarray(allerr)
    print(f"\nall: {e.size} bands, {100 * np.mean(e <= T.BAND_TOL):.1f}% within {T.BAND_TOL:.0f} px, "
          f"median {np.median(e):.2f} px")
    return 0


if __name__ == "__main__":
    sys.exit(main())
