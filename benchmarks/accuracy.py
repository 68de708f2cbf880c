"""Accuracy of measure_bands against the simulator's ground truth, per scenario × background.

For every simulated image only the lane count and the row windows are given: the lanes are found
by ``blotquant.lanes.find_lanes`` when it is available (else the simulator's true lanes, said in
the output). Per lane, the TNAP / beta-actin volume ratio is compared with the true ratio; lanes
with a saturated band are excluded from the ratio error and checked for a flag instead. The
absolute volume of every unsaturated band is compared with its true volume too (signed: a bias
that the ratio hides when both targets share it shows here).

    python benchmarks/accuracy.py            # 6 images per scenario, all methods
    python benchmarks/accuracy.py --quick    # 2 per scenario
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's blotquant, not an installed copy

from blotquant.background import BACKGROUNDS
from blotquant.bands import measure_bands
from blotquant.simulate import dilution_series, scenario

SCENARIOS = ("clean", "realistic", "hard", "saturated", "shapes")
TARGETS = ("TNAP", "beta-actin")


def get_lanes(sim, use_true):
    """Lanes found automatically when possible; returns (lanes, source)."""
    if not use_true:
        try:
            from blotquant.lanes import find_lanes

            lanes, _ = find_lanes(sim.image.astype(float), len(sim.lanes.centers))
            return lanes, "find_lanes"
        except (ImportError, AttributeError, NotImplementedError):
            pass
    return sim.lanes, "true"


def measure(sim, lanes, method, kwargs=None):
    img = sim.image.astype(np.float64)
    sat = img >= sim.ceiling
    tables = {}
    for t in TARGETS:
        tables[t], _ = measure_bands(img, lanes, sim.windows[t], background=method,
                                     method_kwargs=kwargs, saturated=sat)
    return tables


def score(sim, tables):
    """Per lane: ratio errors (%), saturation flags right / wrong, signed volume errors (%)."""
    truth = sim.truth[sim.truth["kind"] == "target"].set_index(["target", "lane"])
    errs, right, wrong, vol_errs = [], 0, 0, []
    n = len(tables[TARGETS[0]])
    for lane in range(1, n + 1):
        sat_any = False
        for t in TARGETS:
            tsat = bool(truth.loc[(t, lane), "saturated"])
            flag = bool(tables[t]["saturated"].iloc[lane - 1])
            sat_any |= tsat
            if not tsat:  # signed error of the band's own volume (a saturated one is clipped)
                v = tables[t]["volume"].iloc[lane - 1]
                vol_errs.append((v / truth.loc[(t, lane), "volume"] - 1.0) * 100.0)
            if tsat and flag:
                right += 1
            elif tsat != flag:
                wrong += 1
        if sat_any:
            continue
        true_ratio = truth.loc[(TARGETS[0], lane), "volume"] / truth.loc[(TARGETS[1], lane), "volume"]
        ratio = tables[TARGETS[0]]["volume"].iloc[lane - 1] / tables[TARGETS[1]]["volume"].iloc[lane - 1]
        errs.append(abs(ratio / true_ratio - 1.0) * 100.0)
    return errs, right, wrong, vol_errs


def linearity(method, seed=0, use_true=False):
    sim = dilution_series(n_lanes=10, factor=2.0, seed=seed)
    lanes, _ = get_lanes(sim, use_true)
    img = sim.image.astype(np.float64)
    table, _ = measure_bands(img, lanes, sim.windows["TNAP"], background=method)
    v = table["volume"].to_numpy()
    tv = sim.truth[sim.truth["kind"] == "target"]["volume"].to_numpy()
    ok = v > 0
    slope = np.polyfit(np.log(tv[ok]), np.log(v[ok]), 1)[0]
    return float(slope), float(np.max(np.abs(v / tv - 1.0)) * 100.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 images per scenario")
    ap.add_argument("--n", type=int, default=None, help="images per scenario")
    ap.add_argument("--methods", default=",".join(BACKGROUNDS))
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--method-kwargs", default="{}", help="JSON options for every method")
    ap.add_argument("--no-linearity", action="store_true")
    ap.add_argument("--true-lanes", action="store_true", help="use the simulator's lanes")
    args = ap.parse_args(argv)
    n_img = args.n or (2 if args.quick else 6)
    methods = args.methods.split(",")
    kwargs = json.loads(args.method_kwargs)
    scenarios = args.scenarios.split(",")
    sims = {s: [scenario(s, seed=k) for k in range(n_img)] for s in scenarios}
    src = get_lanes(sims[scenarios[0]][0], args.true_lanes)[1]
    print(f"lanes: {src}; {n_img} images per scenario; ratio = TNAP / beta-actin per lane")
    print(f"{'scenario':<10} {'method':<13} {'n':>3} {'median %':>9} {'p90 %':>7} "
          f"{'max %':>7} {'sat ok':>6} {'sat wrong':>9} {'vol med %':>9} {'vol |max| %':>11} "
          f"{'s/img':>6}")
    for s in scenarios:
        lanes_cache = [get_lanes(sim, args.true_lanes)[0] for sim in sims[s]]
        for m in methods:
            errs, right, wrong, verrs = [], 0, 0, []
            t0 = time.perf_counter()
            for sim, lanes in zip(sims[s], lanes_cache):
                e, r, w, v = score(sim, measure(sim, lanes, m, kwargs))
                errs += e
                right += r
                wrong += w
                verrs += v
            dt = (time.perf_counter() - t0) / len(sims[s])
            print(f"{s:<10} {m:<13} {len(sims[s]):>3} {np.median(errs):>9.2f} "
                  f"{np.percentile(errs, 90):>7.2f} {np.max(errs):>7.2f} {right:>6} {wrong:>9} "
                  f"{np.median(verrs):>+9.2f} {np.max(np.abs(verrs)):>11.2f} {dt:>6.2f}")
    if args.no_linearity:
        return
    print("linearity: 2-fold dilution series, 10 lanes, weakest band 3x the noise floor")
    for m in methods:
        slope, worst = linearity(m, use_true=args.true_lanes)
        print(f"  {m:<13} log-log slope {slope:.4f}  worst lane error {worst:.1f} %")


if __name__ == "__main__":
    main()
