"""Check that a change leaves the numbers as they were: band volumes of two checkouts, lane by lane.

A speed-up or a refactor should change no band volume; a band-model change should change the ones
it means to. Two checks:

- ``--real OLD NEW``: runs every config in ``tests/real_configs/`` (real blots of ``../shared``) with
  the ``blotquant`` of each checkout (``git worktree add --detach OLD <commit>`` for the old one),
  each in its own process, and compares every band's volume, row and ``volume_sd``;
- ``--rich A.json B.json``: compares two per-lane records of ``benchmarks/accuracy_rich.py --json``
  (the same seeds run on two checkouts), and prints each scenario's median / p95 ratio error.

Lists every band whose volume moved by more than ``--rtol`` (relative, default 1e-9).

    python benchmarks/same_numbers.py --real /work/wt-old .
    python benchmarks/same_numbers.py --rich before.json after.json
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_RUN_REAL = r"""
import glob, logging, pickle, sys, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)
from blotquant.config import load_config
from blotquant.pipeline import run
out = {}
for cfg in sorted(glob.glob(sys.argv[1] + "/tests/real_configs/*.yaml")):
    try:
        bands = run(load_config(cfg)).bands
    except Exception as exc:  # (reported, not fatal: the other configs still compare)
        out[cfg.rsplit("/", 1)[-1]] = repr(exc)
        continue
    cols = ["membrane", "image", "target", "lane", "volume", "band_row", "volume_sd"]
    out[cfg.rsplit("/", 1)[-1]] = bands[cols].to_records(index=False).tolist()
pickle.dump(out, open(sys.argv[2], "wb"))
"""


def _real_bands(tree, path):
    subprocess.run([sys.executable, "-c", _RUN_REAL, str(Path(tree).resolve()), str(path)], check=True)
    with open(path, "rb") as fh:
        return pickle.load(fh)


def _moved(a, b, rtol):
    if not (np.isfinite(a) and np.isfinite(b)):
        return not (np.isnan(a) and np.isnan(b)) and a != b
    return abs(a - b) > rtol * max(abs(a), abs(b), 1e-300)


def compare_real(old, new, rtol):
    with tempfile.TemporaryDirectory() as tmp:
        a = _real_bands(old, Path(tmp) / "old.pkl")
        b = _real_bands(new, Path(tmp) / "new.pkl")
    n = moved = 0
    worst_row = worst_sd = 0.0
    for cfg in sorted(set(a) | set(b)):
        ra, rb = a.get(cfg), b.get(cfg)
        if isinstance(ra, str) or isinstance(rb, str) or ra is None or rb is None or len(ra) != len(rb):
            print(f"{cfg}: not comparable (old: {ra if isinstance(ra, str) else len(ra or [])} bands, "
                  f"new: {rb if isinstance(rb, str) else len(rb or [])} bands)")
            continue
        for x, y in zip(ra, rb):
            n += 1
            if x[:4] != y[:4]:
                print(f"{cfg}: rows out of step: {x[:4]} vs {y[:4]}")
                break
            if _moved(x[4], y[4], rtol):
                moved += 1
                print(f"{cfg}: {x[1]} {x[2]} lane {x[3]}: volume {x[4]:.6g} -> {y[4]:.6g} "
                      f"({100 * (y[4] - x[4]) / abs(x[4]) if x[4] else float('nan'):+.2f} %), "
                      f"row {x[5]:.1f} -> {y[5]:.1f}")
            if np.isfinite(x[5]) and np.isfinite(y[5]):
                worst_row = max(worst_row, abs(x[5] - y[5]))
            if np.isfinite(x[6]) and np.isfinite(y[6]):
                worst_sd = max(worst_sd, abs(x[6] - y[6]) / max(abs(x[6]), 1e-300))
    print(f"real configs: {moved} of {n} band volumes moved by more than {rtol:g} (relative); "
          f"band rows at most {worst_row:.2g} px apart, volume_sd at most {worst_sd:.2g} (relative)")
    return moved


def compare_rich(path_a, path_b, rtol):
    with open(path_a) as fh:
        a = {(r["scenario"], r["seed"], r["lane"]): r for r in json.load(fh)}
    with open(path_b) as fh:
        b = {(r["scenario"], r["seed"], r["lane"]): r for r in json.load(fh)}
    n = moved = 0
    for key in sorted(set(a) & set(b)):
        for field in [f for f in a[key] if f.endswith("_volume")]:
            x, y = a[key][field], b[key].get(field)
            n += 1
            if x is None or y is None:
                moved += x is not y
                continue
            if _moved(x, y, rtol):
                moved += 1
                ex, ey = a[key].get(field.replace("volume", "err_pct")), b[key].get(field.replace("volume", "err_pct"))
                print(f"{key}: {field} {x:.6g} -> {y:.6g}" + (f" (error {ex:+.2f} -> {ey:+.2f} %)" if ex is not None
                                                                and ey is not None else ""))
    missing = set(a) ^ set(b)
    if missing:
        print(f"{len(missing)} lanes in only one file")
    print(f"rich records: {moved} of {n} band volumes moved by more than {rtol:g} (relative)")
    print(f"{'scenario':16s} {'median |e| %':>22s} {'p95 |e| %':>22s}")
    for sc in sorted({k[0] for k in a}):
        def errs(d):
            return [abs(r["ratio_err_pct"]) for k, r in d.items()
                    if k[0] == sc and r.get("ratio_err_pct") is not None and not r.get("any_saturated")]
        ea, eb = errs(a), errs(b)
        if ea and eb:
            print(f"{sc:16s} {np.median(ea):10.2f} -> {np.median(eb):8.2f} "
                  f"{np.percentile(ea, 95):10.2f} -> {np.percentile(eb, 95):8.2f}")
    return moved


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", nargs=2, metavar=("OLD", "NEW"), help="two checkouts to run the real configs with")
    ap.add_argument("--rich", nargs=2, metavar=("A", "B"), help="two accuracy_rich.py --json files")
    ap.add_argument("--rtol", type=float, default=1e-9)
    args = ap.parse_args(argv)
    if not args.real and not args.rich:
        ap.error("give --real OLD NEW and/or --rich A.json B.json")
    moved = 0
    if args.rich:
        moved += compare_rich(*args.rich, args.rtol)
    if args.real:
        moved += compare_real(*args.real, args.rtol)
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
