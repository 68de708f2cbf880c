"""A band between two neighbours: closed-form blots, every band's true volume exact.

Each image has 8 lanes with a target band (sd 5 rows, row 130) between two neighbours of its shape,
``up`` sd above (0.3-1x its strength) and ``down`` sd below (0.5-1.2x), each lane's strengths its
own; Gaussian or tailing (exponentially modified Gaussian, tail ``tau`` rows) bands, on a sloped
baseline with or without a broad smear hump (``smear`` x the peak). The shapes come from scipy's
distributions (``tests/closedform.py``), not from blotquant's simulator. The window is cut at the
profile's lowest rows between the target's peak and each neighbour's (the lanes' sum), as a user
draws it. The lanes are given, so only band separation and integration are measured.

Two grids. Triplets: up in {2.5, 3.0} sd, down in {3.5, 4.5} sd, tau in {0, 2, 4} rows, smear in
{0, 0.1}, seeds 1-3 (72 images; window cut at the profile's lowest rows both sides). Close
doublets: up in {1.8, 2.0, 2.2} sd (no valley: the window's top at the midpoint), down in {3.0,
4.0} sd, tau in {0, 2}, no smear, seeds 1-3 (36 images). Printed per geometry and seed: the median
and worst |error| of the target's volume over the lanes, and how many lanes had no background row
beside the band (their ``volume_sd`` is empty); then a summary per grid. An image whose
measurement raised counts as failed.

    python benchmarks/triplets.py [--tree DIR]

``--tree DIR`` measures with the ``blotquant`` (and ``tests/closedform.py``) of another checkout.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
SD, ROW = 5.0, 130.0
GRIDS = {"triplets": list(itertools.product((2.5, 3.0), (3.5, 4.5), (0.0, 2.0, 4.0), (0.0, 0.1))),
         "close doublets": list(itertools.product((1.8, 2.0, 2.2), (3.0, 4.0), (0.0, 2.0), (0.0,)))}
SEEDS = (1, 2, 3)


def measure(seed, up, down, tau, smear):
    """(median |error| %, worst |error| %, lanes without a flank) of one image; None if it raised."""
    from closedform import blot, rows

    from blotquant.bands import measure_bands

    def bands(k, rng):
        a = rng.uniform(2e5, 5e5)
        return [(rows(260, ROW, SD, a, tau=tau), "target"),
                (rows(260, ROW - up * SD, SD, a * rng.uniform(0.3, 1.0), tau=tau), "band"),
                (rows(260, ROW + down * SD, SD, a * rng.uniform(0.5, 1.2), tau=tau), "band")]

    img, lanes, truth = blot(bands, seed=seed, smear=smear)
    prof = img.sum(1)
    if up < 2.5:  # a close doublet shows no valley: the window's top at the midpoint
        lo = int(round(ROW - up * SD / 2))
    else:
        lo = int(np.floor(ROW - up * SD)) + int(np.argmin(prof[int(ROW - up * SD):int(ROW)]))
    hi = int(ROW) + 1 + int(np.argmin(prof[int(ROW) + 1:int(ROW + down * SD)]))
    try:
        table, _ = measure_bands(img, lanes, (lo, hi))
    except Exception as exc:  # noqa: BLE001 (a failure is a result here)
        return None, f"{type(exc).__name__}: {exc}"
    err = 100.0 * np.abs(table["volume"].to_numpy() / truth - 1.0)
    return (float(np.median(err)), float(err.max()), int(table["volume_sd"].isna().sum())), None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=HERE,
                    help="checkout whose blotquant is measured (default: this one)")
    args = ap.parse_args(argv)
    tree = args.tree.resolve()
    sys.path[:0] = [str(tree), str(tree / "tests")]
    warnings.simplefilter("ignore")
    print(f"blotquant from {tree}; seeds {SEEDS}; |error| % of the target per lane: median / "
          "worst, lanes with no background beside the band")
    for name, grid in GRIDS.items():
        print(f"\n{name}\n{'up sd':>5} {'down sd':>7} {'tail':>4} {'smear':>5}   " +
              "   ".join(f"seed {s}: med / worst (no flank)" for s in SEEDS))
        meds, failed = [], 0
        for up, down, tau, smear in grid:
            cells = []
            for seed in SEEDS:
                res, why = measure(seed, up, down, tau, smear)
                if res is None:
                    failed += 1
                    meds.append(np.inf)
                    cells.append(f"{'raised':>22}      ")
                else:
                    meds.append(res[0])
                    cells.append(f"{res[0]:8.1f} / {res[1]:7.1f} ({res[2]})     ")
            print(f"{up:5.1f} {down:7.1f} {tau:4.0f} {smear:5.2f}   " + "".join(f"{c:<30}" for c in cells))
        m = np.array(meds)
        print(f"{name}, {m.size} images: median of the per-image medians {np.median(m):.1f} %; "
              f"median <= 1 %: {int((m <= 1).sum())}, <= 3 %: {int((m <= 3).sum())}, "
              f"> 20 %: {int((m > 20).sum())}; raised: {failed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
