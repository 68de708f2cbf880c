"""Marginal time of writing the outputs per 3000 x 4000 uint16 blot (10 lanes, 4 targets).

``write_results`` is timed on the results of two configs: one image, and five images (five
replicate membranes of the same nine samples). Everything per run (fold-change plot, per-target
figures, run.json) is the same in both, so ``(t5 - t1) / 4`` is what one more image costs: its
overlay, its CSV rows, its part of report.html. The process is pinned to one core (like
``taskset -c 0``) unless ``--cores all``. Then the parts alone: one overlay (its display-size
copy, which ``pipeline.run`` takes as each image is measured, and the drawing from it at write
time), the run's fold-change plot, and one target's publication figure in each format (drawing
included).

    python benchmarks/outputs_speed.py [--repeats 7] [--rows 3000] [--cols 4000] [--cores 0|all]

Target (issue 9): <= 0.3 s marginal per image on one core.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's blotquant, not an installed copy


def _config(n_images, windows):
    import yaml

    lanes = ["ladder"] + [f"S{i}" for i in range(1, 10)]
    return yaml.safe_dump({
        "experiment": f"out{n_images}",
        "images": ".",
        "loading_control": "beta-actin",
        "control_group": "A",
        "groups": ["A", "B", "C"],
        "samples": {f"S{i}": "ABC"[(i - 1) // 3] for i in range(1, 10)},
        "membranes": [{"name": f"m{k + 1}", "lanes": lanes, "images": [{
            "file": f"blot{k + 1}.tif",
            "targets": {t: {"rows": [int(w[0]), int(w[1])]} for t, w in windows.items()}}]}
            for k in range(n_images)],
    }, sort_keys=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--cols", type=int, default=4000)
    ap.add_argument("--cores", default="0", help="core to pin to (default 0), or 'all'")
    args = ap.parse_args(argv)
    if args.cores != "all":
        os.sched_setaffinity(0, {int(args.cores)})

    import tifffile

    from blotquant.config import load_config
    from blotquant.pipeline import run, write_results
    from blotquant.report import figures
    from blotquant.simulate import simulate_blot

    targets = {"TNAP": 0.2, "Runx2": 0.4, "Jak2": 0.6, "beta-actin": 0.8}
    targets = {k: int(v * args.rows) for k, v in targets.items()}
    tmp = Path(tempfile.mkdtemp(prefix="blotquant-outputs-"))
    try:
        results = {}
        for seed in range(1, 6):
            sim = simulate_blot(shape=(args.rows, args.cols), n_lanes=10, lane_width=int(args.cols / 12),
                                targets=targets, band_sigma=args.rows / 150, rotation_deg=0.5, smile_px=6,
                                gradient=800.0, smear=0.05, dust=20, read_noise=20.0, seed=seed)
            tifffile.imwrite(tmp / f"blot{seed}.tif", sim.image)
        for n in (1, 5):
            (tmp / f"c{n}.yaml").write_text(_config(n, sim.windows))
            results[n] = run(load_config(tmp / f"c{n}.yaml"))
        write_results(results[1], tmp / "warm")  # imports, font caches
        times = {1: [], 5: []}
        for i in range(args.repeats):
            for n in (1, 5):
                t0 = time.perf_counter()
                out = write_results(results[n], tmp / f"o{n}_{i}")
                times[n].append(time.perf_counter() - t0)
                shutil.rmtree(out)
        t1, t5 = statistics.median(times[1]), statistics.median(times[5])
        marginal = [(b - a) / 4 for a, b in zip(times[1], times[5])]

        res = results[1].images[0]  # (holds the display-size copy a run keeps, not the arrays)
        full = run(load_config(tmp / "c1.yaml"), keep_pixels=True).images[0]
        groups = ["A", "B", "C"]

        def one_target_figure(fmt):
            fig = figures.target_figure(results[1].per_sample, results[1].summary, "TNAP", groups=groups,
                                        marks={"A": "a", "B": "b", "C": "ab"}, legend="Bars: mean ± SD.")
            return figures.figure_bytes(fig, fmt)

        steps = {
            "overlay_pixels (one image, in run)": lambda: figures.overlay_pixels(
                full.blot.data, full.blot.saturated, full.blot.marks),
            "render_overlay from them (one image)": lambda: figures.render_overlay(
                res.pixels, None, res.lanes, res.bands, title="m1: blot1.tif",
                lane_labels=res.lane_labels, warnings=res.choices["warnings"]),
            "per run: fold_change.png": lambda: figures.render_plot(
                results[1].per_sample, results[1].summary, groups=groups),
            **{f"per target: figure .{fmt}": (lambda fmt=fmt: one_target_figure(fmt)) for fmt in ("png", "svg", "pdf")},
        }
        step_times = {k: [] for k in steps}
        for _ in range(args.repeats):
            for k, f in steps.items():
                t0 = time.perf_counter()
                f()
                step_times[k].append(time.perf_counter() - t0)

        cores = "1 core" if args.cores != "all" else f"{os.cpu_count()} cores"
        print(f"write_results, {args.rows} x {args.cols} uint16, 10 lanes, 4 targets, {cores}, "
              f"{args.repeats} repeats")
        print(f"{'what':<40}{'median s':>10}{'min s':>10}{'max s':>10}")
        rows = [("1 image", times[1]), ("5 images", times[5]), ("marginal per image (t5 - t1) / 4", marginal),
                *step_times.items()]
        for name, vals in rows:
            print(f"{name:<40}{statistics.median(vals):>10.3f}{min(vals):>10.3f}{max(vals):>10.3f}")
        print(f"marginal from the medians: {(t5 - t1) / 4:.3f} s per image (target <= 0.3 s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
