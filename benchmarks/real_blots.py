"""Accuracy and speed of the pipeline on the real 16-bit blots, per image, against the annotations.

Run: ``python benchmarks/real_blots.py`` (needs ../shared/data/real). For every image entry of every
config in tests/real_configs it prints: lanes (count), lane-centre error max/median for sample and
marker lanes, band-row error max/median, % of annotated bands within 3 px, and the config's runtime.
The pairing of config lanes/targets with the annotation is the one tests/test_real_blots.py uses.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's blotquant, not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_real_blots as T  # noqa: E402


def _fmt(errs):
    return f"{max(errs):5.1f}/{np.median(errs):4.1f}" if errs else "    -     "


def main():
    if not T.REAL.is_dir():
        print(f"no real blots at {T.REAL}")
        return 1
    head = f"{'image entry':62s} {'lanes':>5s} {'sample max/med':>14s} {'marker max/med':>14s} " \
           f"{'band max/med':>13s} {'<=3px':>7s} {'run s':>6s}"
    print(head)
    print("-" * len(head))
    all_band, all_lane = [], []
    for cfg, mi, ii, name in T.ENTRIES:
        set_name, rest = name.split("/", 1)
        name = f"{set_name[:12]}/{rest}"[-62:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                experiment, results, seconds = T.run_config(cfg)
            except Exception as exc:  # report and go on
                print(f"{name[:62]:62s} pipeline failed: {type(exc).__name__}: {exc}")
                continue
        membrane = experiment.membranes[mi]
        image_spec = membrane.images[ii]
        index = sum(len(m.images) for m in experiment.membranes[:mi]) + ii
        res = results.images[index]
        lanes = res.choices["lanes"]
        h, w = res.pixels.shape if res.blot.data is None else res.blot.data.shape[:2]
        size = (res.blot.origin[0] + w, res.blot.origin[1] + h)
        try:
            paired = T.annotated_lanes(cfg.stem, image_spec.file, image_spec.region, list(membrane.lanes), size)
        except AssertionError as exc:
            print(f"{name[:62]:62s} cannot pair with annotation: {exc}")
            continue
        n = len(lanes["centers_image_px"])
        if paired is None:
            print(f"{name[:62]:62s} {n:5d} {'(no annotation)':>14s} {'':14s} {'':13s} {'':7s} {seconds:6.2f}")
            continue
        ann_lanes, strip = paired
        slope, y_ref = float(lanes["slope"]), float(lanes["y_ref_image_px"])
        se, me = [], []
        for lane, c in zip(ann_lanes, lanes["centers_image_px"]):
            y = T._lane_row(lane, strip)
            x = c + slope * (y - y_ref) if y is not None else c
            (me if lane["kind"] == "marker" else se).append(abs(x - lane["x"]))
        be = []
        for target in image_spec.targets:
            keys = T._band_keys(cfg.stem, target, strip)
            rows = results.bands[(results.bands["membrane"] == membrane.name)
                                 & (results.bands["image"] == image_spec.file)
                                 & (results.bands["target"] == target)]
            for rec in rows.itertuples(index=False):
                bands = ann_lanes[int(rec.lane) - 1].get("bands") or {}
                ys = [bands[k]["y"] for k in keys if k in bands]
                if ys:
                    be.append(min(abs(rec.band_row - y) for y in ys) if np.isfinite(rec.band_row) else np.inf)
        within = f"{100 * np.mean(np.asarray(be) <= T.BAND_TOL):6.0f}%" if be else "      -"
        all_band += be
        all_lane += se
        print(f"{name[:62]:62s} {n:5d} {_fmt(se):>14s} {_fmt(me):>14s} {_fmt(be):>13s} {within} {seconds:6.2f}")
    if all_band:
        print(f"\nall annotated: sample lanes within {T.LANE_TOL_SAMPLE:.0f} px: "
              f"{100 * np.mean(np.asarray(all_lane) <= T.LANE_TOL_SAMPLE):.0f}% of {len(all_lane)}; "
              f"bands within {T.BAND_TOL:.0f} px: {100 * np.mean(np.asarray(all_band) <= T.BAND_TOL):.0f}% "
              f"of {len(all_band)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
