"""Time the whole pipeline on a 3000 x 4000 uint16 blot with 10 lanes and 4 targets.

Prints, per repeat, the time to merely read the TIFF and the time of ``pipeline.run`` on a config
that points at it (process start and output writing excluded; writing is timed separately), then
medians and the ratio pipeline / read. Target: <= 1 s per image on the 2-core machine.

    python benchmarks/speed.py [--repeats 7] [--rows 3000] [--cols 4000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import tifffile
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's blotquant, not an installed copy


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--cols", type=int, default=4000)
    args = ap.parse_args(argv)

    from blotquant.config import load_config
    from blotquant.io import read_blot
    from blotquant.pipeline import run, write_results
    from blotquant.simulate import simulate_blot

    targets = {"TNAP": 0.2, "Runx2": 0.4, "Jak2": 0.6, "beta-actin": 0.8}
    targets = {k: int(v * args.rows) for k, v in targets.items()}
    sim = simulate_blot(shape=(args.rows, args.cols), n_lanes=10, lane_width=int(args.cols / 12),
                        targets=targets, band_sigma=args.rows / 150, rotation_deg=0.5, smile_px=6,
                        gradient=800.0, smear=0.05, dust=20, read_noise=20.0, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tifffile.imwrite(tmp / "big.tif", sim.image, compression="zlib")
        lanes = ["ladder"] + [f"S{i}" for i in range(1, 10)]
        config = {
            "experiment": "speed",
            "images": ".",
            "loading_control": "beta-actin",
            "control_group": "A",
            "groups": ["A", "B", "C"],
            "samples": {f"S{i}": "ABC"[(i - 1) // 3] for i in range(1, 10)},
            "membranes": [{
                "name": "m1",
                "lanes": lanes,
                "images": [{"file": "big.tif",
                            "targets": {t: {"rows": [int(w[0]), int(w[1])]} for t, w in sim.windows.items()}}],
            }],
        }
        (tmp / "speed.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        experiment = load_config(tmp / "speed.yaml")
        run(experiment)  # warm-up: imports, caches
        reads, runs, writes = [], [], []
        for i in range(args.repeats):
            t0 = time.perf_counter()
            read_blot(tmp / "big.tif")
            reads.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            results = run(experiment)
            runs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            write_results(results, tmp / f"out{i}", experiment_name="speed")
            writes.append(time.perf_counter() - t0)
        print(f"image {args.rows} x {args.cols} uint16 (deflate TIFF), 10 lanes, 4 targets, {args.repeats} repeats")
        print(f"{'step':<28}{'median s':>10}{'min s':>10}{'max s':>10}")
        for name, vals in (("read TIFF only", reads), ("pipeline.run (incl. read)", runs),
                           ("write outputs", writes)):
            print(f"{name:<28}{statistics.median(vals):>10.3f}{min(vals):>10.3f}{max(vals):>10.3f}")
        print(f"ratio run / read: {statistics.median(runs) / statistics.median(reads):.2f}")
        print("target: pipeline.run <= 1.0 s per image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
