"""Real band volumes against a valley-to-valley reference (what a lab draws by hand in ImageJ).

There is no true volume for a real band. This script gives each one an independent reference
made the way labs make it with ImageJ's gel analyser:

- the lane's profile: raw counts (bands bright, as blotquant reads them) summed over the lane's
  strip columns (``x_left .. x_right`` of bands.csv), image row by image row (no tilt correction);
- the band: every peak of the profile (smoothed 2 rows) inside the config's row window whose
  prominence is at least 10 % of the window's range (a doublet drawn as one target is both);
- its span: from the outermost peaks outwards while the smoothed profile keeps falling (to the
  dip on either side);
- its volume: the raw profile over the span less a straight line between the dips.

The reference is crude where bands touch (a dip is not where one band ends) and it knows nothing
of smear; it is independent of blotquant's band model, so it says which way a change of that
model moves the numbers. Bands whose span reaches the end of the profile (no dip found within a
window height), or whose span overlaps another target's span in the same lane by more than half
the shorter one (two targets drawn on one doublet: one straight line cannot split them), are left
out and counted.

    python benchmarks/valley_real.py                 # this checkout
    python benchmarks/valley_real.py OLD_CHECKOUT .  # two checkouts: which moved, and which way

With two checkouts, the lanes come from the first one's run (the band model does not move them),
and the bands whose volume differs by more than 2 % between the two are listed per target with
each checkout's error against the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIGS = sorted((ROOT / "tests" / "real_configs").glob("*.yaml"))
SHARED = ROOT.parent / "shared" / "data" / "real"


def _run(checkout, out):
    """Every real config through ``blotquant run`` of ``checkout`` (its own process, its own copy of
    the config where it has one): {config: folder}."""
    checkout = Path(checkout).resolve()
    env = dict(os.environ, PYTHONPATH=str(checkout))
    folders = {}
    for cfg in CONFIGS:
        if (checkout / "tests" / "real_configs" / cfg.name).is_file():
            cfg = checkout / "tests" / "real_configs" / cfg.name  # (its own: keys it knows)
        dest = Path(out) / cfg.stem
        done = subprocess.run([sys.executable, "-m", "blotquant", "-q", "run", str(cfg), "--out", str(dest),
                               "--jobs", "1"], cwd=checkout, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{cfg.name}: blotquant failed in {checkout}: {done.stderr.strip()[-300:]}")
            continue
        folders[cfg.stem] = dest
    return folders


def _valley_volume(p, lo, hi):
    """Valley-to-valley volume of the peaks of ``p`` in rows ``lo..hi``: (volume, first, last row, cut)."""
    sm = gaussian_filter1d(p, 2.0)
    seg = sm[lo:hi + 1]
    peaks, _ = find_peaks(seg, prominence=0.1 * (seg.max() - seg.min()))
    if peaks.size == 0:
        peaks = np.array([int(np.argmax(seg))])
    a, b = lo + int(peaks.min()), lo + int(peaks.max())
    while a > 0 and sm[a - 1] <= sm[a]:
        a -= 1
    while b < sm.size - 1 and sm[b + 1] <= sm[b]:
        b += 1
    line = np.interp(np.arange(a, b + 1), [a, b], [sm[a], sm[b]])
    return float((p[a:b + 1] - line).sum()), a, b, a == 0 or b == sm.size - 1


def reference(folder):
    """The valley-to-valley reference of every band of one results folder (bands.csv, run.json)."""
    from blotquant.io import read_blot

    run = json.loads((folder / "run.json").read_text())
    bands = pd.read_csv(folder / "bands.csv")
    rows, pixels = [], {}
    for im in run["images"]:
        path = Path(im["file"]) if Path(im["file"]).is_file() else Path(im["file"]) / im["image"]
        key = (str(path), im["page"])
        if key not in pixels:
            pixels[key] = read_blot(path, page=im["page"], polarity=im["polarity"], find_marks=False).data
        data = pixels[key]
        dy = im["origin"][1]
        for target, rec in im["bands"].items():
            top, bottom = rec["window"][0] + dy, rec["window"][1] + dy
            height = max(bottom - top, 10)
            y0, y1 = max(top - height, 0), min(bottom + height, data.shape[0] - 1)
            sel = bands[(bands.membrane == im["membrane"]) & (bands.image == im["image"]) & (bands.target == target)]
            for _, b in sel.iterrows():
                if not np.isfinite(b.x_left):
                    continue
                cols = slice(max(int(round(b.x_left)), 0), int(round(b.x_right)) + 1)
                p = data[y0:y1 + 1, cols].sum(1, dtype=np.float64)
                vol, a, z, cut = _valley_volume(p, top - y0, bottom - y0)
                rows.append(dict(config=folder.name, membrane=im["membrane"], image=im["image"], target=target,
                                 lane=int(b.lane), reference=vol, first=a + y0, last=z + y0, cut=bool(cut)))
    ref = pd.DataFrame(rows)
    # two targets of one lane whose spans overlap by half: one straight line cannot split them
    ref["shared"] = False
    for _, g in ref.groupby(["config", "membrane", "image", "lane"]):
        for i in g.index:
            for j in g.index:
                if i < j:
                    lo = max(ref.at[i, "first"], ref.at[j, "first"])
                    hi = min(ref.at[i, "last"], ref.at[j, "last"])
                    short = min(ref.at[i, "last"] - ref.at[i, "first"], ref.at[j, "last"] - ref.at[j, "first"])
                    if hi - lo > 0.5 * short:
                        ref.loc[[i, j], "shared"] = True
    return ref


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkouts", nargs="*", default=["."], help="one or two blotquant checkouts (default: .)")
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} not found: the real blots of ../shared are needed")
    if len(args.checkouts) > 2:
        raise SystemExit("give one or two checkouts")
    names = [Path(c).resolve().name for c in args.checkouts]
    if len(names) == 2 and names[0] == names[1]:
        names = ["old", "new"]
    with tempfile.TemporaryDirectory(prefix="blotquant-valley-") as tmp:
        runs = [_run(c, Path(tmp) / f"run{k}") for k, c in enumerate(args.checkouts)]
        refs = pd.concat([reference(runs[0][cfg]) for cfg in sorted(runs[0])], ignore_index=True)
        key = ["config", "membrane", "image", "target", "lane"]
        for name, folders in zip(names, runs):
            vols = pd.concat([pd.read_csv(folders[cfg] / "bands.csv").assign(config=cfg) for cfg in sorted(folders)])
            refs = refs.merge(vols[key + ["volume"]].rename(columns={"volume": name}), on=key, how="left")
    ok = ~refs.cut & ~refs.shared & (refs.reference > 0)
    print(f"{len(refs)} bands; left out: {int(refs.cut.sum())} with no dip within a window height, "
          f"{int((refs.shared & ~refs.cut).sum())} in spans two targets share, "
          f"{int((~refs.cut & ~refs.shared & (refs.reference <= 0)).sum())} with a reference <= 0")
    for name in names:
        refs[f"err {name}"] = (refs[name] / refs.reference - 1.0) * 100.0

    def summary(mask, label):
        line = f"{label:<26} n={int(mask.sum()):>4}"
        for name in names:
            e = refs.loc[mask, f"err {name}"].abs()
            line += f"   {name}: |error| median {e.median():5.1f} %, p90 {e.quantile(0.9):5.1f} %"
        if len(names) == 2:
            a, b = (refs.loc[mask, f"err {n}"].abs() for n in names)
            line += f"   {names[1]} closer in {int((b < a).sum())}"
        print(line)

    summary(ok, "every band")
    if len(names) == 2:
        moved = ok & ((refs[names[1]] / refs[names[0]] - 1.0).abs() > 0.02)
        summary(moved, "moved by > 2 %")
    else:
        moved = ok
    cols = [f"err {n}" for n in names]
    table = refs[moved].groupby(["config", "image", "target"])[cols].agg(["median", lambda e: e.abs().median()])
    table.columns = [f"{c} {'median' if s == 'median' else '|median|'}" for c, s in table.columns]
    table.insert(0, "n", refs[moved].groupby(["config", "image", "target"]).size())
    table.index = [(c[:24], i[-34:], t) for c, i, t in table.index]
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.round(1).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
