"""Where the serial tail of a one-config batch goes: assemble and every part of the outputs.

The images of ``benchmarks/batch.py``'s ``one`` layout (one config, ``--images`` membranes of one
image each, the simulated 3000 x 4000 blots of ``speed.py``) are measured once as a ``--jobs N``
worker measures them (overlay drawn, pixels dropped) and kept in a pickle beside the images, so a
second call with the same ``--cache`` folder times the tail only. Then, ``--repeats`` times:
``assemble`` (normalisation, statistics, record) and ``render_outputs`` split into its parts
(CSV text, significance marks, the fold-change plot, each target's figure drawn and saved per
format, prism CSVs, report.html, run.json), plus the files' write.

    python benchmarks/tail.py [--images 50] [--rows 3000] [--cols 4000] [--repeats 3] [--cache DIR]
"""

from __future__ import annotations

import argparse
import collections
import functools
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's blotquant, not an installed copy
sys.path.insert(0, str(ROOT / "benchmarks"))


def _measured(cache, *, n_images, rows, cols):
    """(experiment, measured TaskResults), measured once per cache folder."""
    import yaml

    from batch import _config, _membrane, _simulate
    from blotquant.batch import _measure
    from blotquant.config import load_config
    from blotquant.pipeline import image_tasks

    cache.mkdir(parents=True, exist_ok=True)
    pkl = cache / f"measured-{n_images}-{rows}x{cols}.pkl"
    cfg_path = cache / "one" / "all.yaml"
    if not pkl.exists():
        (cache / "images").mkdir(exist_ok=True)
        (cache / "one").mkdir(exist_ok=True)
        windows = _simulate(cache / "images", n_images=n_images, distinct=min(5, n_images), rows=rows, cols=cols)
        cfg = _config("all", "../images", [_membrane(f"m{i + 1}", f, w) for i, (f, w) in enumerate(windows.items())])
        cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        experiment = load_config(cfg_path)
        t0 = time.perf_counter()
        measured = [_measure(experiment, task) for task in image_tasks(experiment)]
        print(f"measured {n_images} images in {time.perf_counter() - t0:.1f} s (one core)")
        pkl.write_bytes(pickle.dumps(measured))
    return load_config(cfg_path), pickle.loads(pkl.read_bytes())


class _Timer:
    """Wraps module functions and adds up their seconds per label."""

    def __init__(self):
        self.seconds = collections.defaultdict(float)
        self.undo = []

    def wrap(self, module, name, label=None):
        real = getattr(module, name)

        @functools.wraps(real)
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.seconds[label or name] += time.perf_counter() - t0

        setattr(module, name, timed)
        self.undo.append((module, name, real))

    def restore(self):
        for module, name, real in reversed(self.undo):
            setattr(module, name, real)


def _one_pass(experiment, measured, out):
    import blotquant.report as report
    from blotquant import normalize as norm
    from blotquant import pipeline
    from blotquant.report import figures, tables
    from blotquant.report.outputs import render_outputs

    timer = _Timer()
    timer.wrap(norm, "normalize", "assemble: normalize")
    timer.wrap(norm, "per_sample", "assemble: per_sample")
    timer.wrap(pipeline, "_group_stats", "assemble: statistics")
    timer.wrap(tables, "csv_text", "csv text (4 tables + prism)")
    timer.wrap(figures, "significance_marks")
    timer.wrap(figures, "render_plot", "fold_change.png")
    timer.wrap(figures, "target_figure", "target figures: draw")
    real_bytes = figures.figure_bytes

    def fig_bytes(fig, fmt):
        t0 = time.perf_counter()
        try:
            return real_bytes(fig, fmt)
        finally:
            timer.seconds[f"target figures: save {fmt}"] += time.perf_counter() - t0

    figures.figure_bytes = fig_bytes
    timer.undo.append((figures, "figure_bytes", real_bytes))
    timer.wrap(report, "render_html", "report.html")
    try:
        t0 = time.perf_counter()
        results = pipeline.assemble(experiment, measured)
        t_assemble = time.perf_counter() - t0
        t0 = time.perf_counter()
        files = list(render_outputs(results, experiment_name=experiment.experiment, argv=["x"]))
        t_render = time.perf_counter() - t0
        t0 = time.perf_counter()
        out.mkdir(exist_ok=True)
        for name, content in files:
            (out / name).write_bytes(content)
        t_write = time.perf_counter() - t0
    finally:
        timer.restore()
    parts = dict(timer.seconds)
    parts["assemble (total)"] = t_assemble
    parts["render_outputs (total)"] = t_render
    parts["write files"] = t_write
    return parts, sum(len(c) for _, c in files)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=50)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--cols", type=int, default=4000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=None, help="folder keeping the images and measured results")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="blotquant-tail-") as tmp:
        cache = args.cache or Path(tmp) / "cache"
        experiment, measured = _measured(cache, n_images=args.images, rows=args.rows, cols=args.cols)
        runs = []
        for r in range(args.repeats):
            parts, size = _one_pass(experiment, measured, Path(tmp) / f"out{r}")
            runs.append(parts)
    print(f"{args.images} images {args.rows} x {args.cols}, {len(measured)} tasks; outputs {size / 1e6:.1f} MB; "
          f"{args.repeats} repeats")
    print(f"{'part':<34}{'median s':>10}{'min s':>8}")
    for key in runs[0]:
        vals = [p.get(key, 0.0) for p in runs]
        print(f"{key:<34}{statistics.median(vals):>10.3f}{min(vals):>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
