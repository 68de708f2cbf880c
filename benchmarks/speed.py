"""Time the whole pipeline on a 3000 x 4000 uint16 blot with 10 lanes and 4 targets.

Prints, per step, the median / min / max over the repeats of:

- reading the TIFF alone (``read_blot``);
- ``pipeline.run`` on a config of ONE image (process start and output writing excluded);
- ``pipeline.run`` on a config of FIVE images (the same simulated TIFF saved under five names, one
  membrane each, so every image is read, lane-found and measured on its own);
- the marginal time per image, ``(t5 - t1) / 4`` from the two medians: what one more image costs
  once the per-run work (imports, normalisation, statistics, run.json record) is paid;
- writing the outputs of the one-image run (CSVs, overlay, plot, report).

Beside the wall-clock median / min / max, the median CPU time of the process (``time.process_time``)
is printed: on a shared machine the wall clock includes waiting for the core, the CPU time much
less so (it still grows somewhat when other jobs compete for caches and memory bandwidth).

By default the process pins itself to ONE core (``os.sched_setaffinity``, like ``taskset -c 0``)
and sets ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` to 1 before numpy is
imported, so the figures are one-core figures; ``--all-cores`` keeps every core (the thread
variables stay 1). Target: marginal <= 0.5 s per image on one core.

    python benchmarks/speed.py [--repeats 7] [--rows 3000] [--cols 4000] [--all-cores] [--profile N]
                               [--tree DIR]

``--tree DIR`` times the ``blotquant`` package of another checkout (e.g. an older commit made with
``git worktree add``) with this script, for before / after figures on the same machine.
"""

from __future__ import annotations

import os

# Before numpy / scipy are imported (tifffile imports numpy): one BLAS / OpenMP thread.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import tifffile  # noqa: E402
import yaml  # noqa: E402

HERE = Path(__file__).resolve().parents[1]

N_MANY = 5


def _config(files, windows):
    """A config with one membrane per file (replicate membranes of the same nine samples)."""
    lanes = ["ladder"] + [f"S{i}" for i in range(1, 10)]
    return {
        "experiment": "speed",
        "images": ".",
        "loading_control": "beta-actin",
        "control_group": "A",
        "groups": ["A", "B", "C"],
        "samples": {f"S{i}": "ABC"[(i - 1) // 3] for i in range(1, 10)},
        "membranes": [{
            "name": f"m{k + 1}",
            "lanes": lanes,
            "images": [{"file": f,
                        "targets": {t: {"rows": [int(w[0]), int(w[1])]} for t, w in windows.items()}}],
        } for k, f in enumerate(files)],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--cols", type=int, default=4000)
    ap.add_argument("--all-cores", action="store_true", help="do not pin the process to core 0")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="instead of timing, cProfile N one-image runs and print the top functions")
    ap.add_argument("--tree", type=Path, default=HERE,
                    help="checkout whose blotquant is timed (default: this one, not an installed copy)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.tree.resolve()))

    cores = "all"
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        cores = f"1 (cpu {sorted(os.sched_getaffinity(0))[0]})"

    import blotquant
    from blotquant.config import load_config
    from blotquant.io import read_blot
    from blotquant.pipeline import run, write_results
    from blotquant.simulate import simulate_blot

    tree = Path(blotquant.__file__).resolve().parents[1]

    targets = {"TNAP": 0.2, "Runx2": 0.4, "Jak2": 0.6, "beta-actin": 0.8}
    targets = {k: int(v * args.rows) for k, v in targets.items()}
    sim = simulate_blot(shape=(args.rows, args.cols), n_lanes=10, lane_width=int(args.cols / 12),
                        targets=targets, band_sigma=args.rows / 150, rotation_deg=0.5, smile_px=6,
                        gradient=800.0, smear=0.05, dust=20, read_noise=20.0, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = [f"big{k}.tif" for k in range(N_MANY)]
        for f in files:
            tifffile.imwrite(tmp / f, sim.image, compression="zlib")
        (tmp / "one.yaml").write_text(yaml.safe_dump(_config(files[:1], sim.windows), sort_keys=False))
        (tmp / "many.yaml").write_text(yaml.safe_dump(_config(files, sim.windows), sort_keys=False))
        one, many = load_config(tmp / "one.yaml"), load_config(tmp / "many.yaml")
        run(one)  # warm-up: imports, caches

        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            for _ in range(args.profile):
                run(one)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)
            return 0

        steps = {"read TIFF only": (lambda i: read_blot(tmp / files[0])),
                 "pipeline.run, 1 image": (lambda i: run(one)),
                 f"pipeline.run, {N_MANY} images": (lambda i: run(many)),
                 "write outputs (1 image)": (lambda i: write_results(results, tmp / f"out{i}",
                                                                     experiment_name="speed"))}
        wall = {name: [] for name in steps}
        cpu = {name: [] for name in steps}
        results = run(one)
        for i in range(args.repeats):
            for name, step in steps.items():
                w0, c0 = time.perf_counter(), time.process_time()
                step(i)
                wall[name].append(time.perf_counter() - w0)
                cpu[name].append(time.process_time() - c0)
        print(f"image {args.rows} x {args.cols} uint16 (deflate TIFF), 10 lanes, 4 targets, "
              f"{args.repeats} repeats, cores: {cores}, BLAS/OpenMP threads: 1, blotquant from {tree}")
        print(f"{'step':<34}{'median s':>10}{'min s':>10}{'max s':>10}{'CPU med s':>11}")
        for name in steps:
            vals = wall[name]
            print(f"{name:<34}{statistics.median(vals):>10.3f}{min(vals):>10.3f}{max(vals):>10.3f}"
                  f"{statistics.median(cpu[name]):>11.3f}")
        one_name, many_name = list(steps)[1:3]
        marginal = (statistics.median(wall[many_name]) - statistics.median(wall[one_name])) / (N_MANY - 1)
        marginal_cpu = (statistics.median(cpu[many_name]) - statistics.median(cpu[one_name])) / (N_MANY - 1)
        print(f"{'marginal per image (t5-t1)/' + str(N_MANY - 1):<34}{marginal:>10.3f}{'':>20}{marginal_cpu:>11.3f}")
        print(f"ratio run / read (1 image): {statistics.median(wall[one_name]) / statistics.median(wall['read TIFF only']):.2f}")
        print("target: marginal <= 0.5 s per image on one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
