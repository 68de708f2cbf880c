"""Which nuisance of the rich simulator costs how much: ratio errors with nuisances switched off.

Every ``rich-*`` image is drawn again with the same seed and some of its nuisances switched off
(the other draws unchanged: the same seed gives the same bands, lanes, noise levels), and
measured exactly as ``benchmarks/accuracy_rich.py`` measures it (lanes found automatically,
``sim.windows`` cut at the valleys towards close bands, lanes with a saturated band left out).
Each row is one ablation; the error that disappears when a nuisance is switched off is the
error that nuisance causes (alone or with the others it meets there).

    python benchmarks/ablation_rich.py                                  # rich-realistic, tuning seeds
    python benchmarks/ablation_rich.py --seeds held --method joint-model
    python benchmarks/ablation_rich.py --scenario rich-hard --only none,no-neighbours

Use the tuning seeds (0-5) while looking for causes; quote the held-out seeds (1000-1011).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accuracy_rich import HELD_SEEDS, RICH, TUNE_SEEDS, run_image, summarise  # noqa: E402

_CLEAN_REST = {"nonspecific": (), "tails": None, "streaks": 0, "smear": 0.0, "across": "flat",
               "dust": 0}

#: name -> scenario overrides; "none" switches nothing off
ABLATIONS = {
    "none": {},
    "no-neighbours": {"neighbours": ()},
    "no-nonspecific": {"nonspecific": ()},
    "no-tails": {"tails": None},
    "gaussian-bands": {"band_shape": "gaussian"},
    "flat-across": {"across": "flat"},
    "no-streaks": {"streaks": 0},
    "no-smear": {"smear": 0.0},
    "no-neighbours, gaussian": {"neighbours": (), "band_shape": "gaussian"},
    "only shapes": {"neighbours": (), **_CLEAN_REST},
    "only neighbours": {"band_shape": "gaussian", **_CLEAN_REST},
    "only neighbours + shapes": dict(_CLEAN_REST),
    "all off": {"neighbours": (), "band_shape": "gaussian", **_CLEAN_REST},
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="rich-realistic", choices=RICH)
    ap.add_argument("--seeds", choices=("tune", "held"), default="tune")
    ap.add_argument("--method", default=None, help="background method (default: the package's)")
    ap.add_argument("--only", default=None,
                    help="comma-separated ablation names (default: all): " + ", ".join(ABLATIONS))
    args = ap.parse_args(argv)
    names = list(ABLATIONS) if args.only is None else [s.strip() for s in args.only.split(",")]
    for n in names:
        if n not in ABLATIONS:
            ap.error(f"unknown ablation {n!r}; choose from: {', '.join(ABLATIONS)}")
    seeds = TUNE_SEEDS if args.seeds == "tune" else HELD_SEEDS
    print(f"{args.scenario}, {args.seeds} seeds {seeds[0]}-{seeds[-1]}, background: "
          f"{args.method or 'default'}; |error| % of TNAP / beta-actin per lane")
    print(f"{'ablation':<26} {'n':>4} {'median':>8} {'p95':>8} {'vol med %':>10} {'s':>6}")
    for name in names:
        t0 = time.perf_counter()
        recs = []
        for seed in seeds:
            recs += run_image(args.scenario, seed, args.method, **ABLATIONS[name])
        s = summarise(recs)
        print(f"{name:<26} {s['n_lanes']:>4} {s['median']:>8.2f} {s['p95']:>8.2f} "
              f"{s['vol_median']:>+10.2f} {time.perf_counter() - t0:>6.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
