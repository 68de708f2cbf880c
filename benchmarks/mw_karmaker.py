"""Molecular-weight calibration on the karmaker gel: leave-one-out table per marker lane.

Run: ``python benchmarks/mw_karmaker.py`` (needs ../shared/data/real). The gel
(Gel-Blot-Analyzer sample, TEST_GEL_AK_original.tif) has a Bio-Rad Precision Plus-type ladder
(250 ... 10 kDa) in lane 1 and lane 8. For each marker lane it prints every ladder band predicted
from the others (``blotquant.mw.leave_one_out``, model chosen per fit by the inner leave-one-out),
once on the annotated rows and once on the rows ``find_ladder_bands`` + ``fit_ladder`` detect and
match on the image, then the cross-lane check (each lane's ladder read with the other lane's
calibration), the sample band's apparent MW with the two-marker membrane calibration, and timings.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from blotquant.io import read_blot
from blotquant.mw import find_ladder_bands, fit_ladder, leave_one_out, membrane_calibration

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
IMAGE = REAL / "gel-blot-analyzer-sample-karmaker" / "TEST_GEL_AK_original.tif"
ANNOTATION = REAL / "annotations" / "gel-blot-analyzer-sample-karmaker.yaml"


def main() -> int:
    if not ANNOTATION.is_file():
        print(f"no real blots at {REAL}")
        return 1
    logging.getLogger("blotquant").setLevel(logging.ERROR)
    ann = yaml.safe_load(ANNOTATION.read_text())
    lanes = ann["images"][0]["strips"][0]["lanes"]
    markers = [ln for ln in lanes if ln["kind"] == "marker"]
    blot = read_blot(IMAGE)
    pd.set_option("display.width", 200)

    cals, detected = {}, {}
    for lane in markers:
        rows = np.array([b["y"] for b in lane["ladder"]])
        kda = [float(b["kDa"]) for b in lane["ladder"]]
        t0 = time.perf_counter()
        found, fparams = find_ladder_bands(blot, x=lane["x"], width=lane["width"])
        t1 = time.perf_counter()
        cal, params = fit_ladder(found, kda, row_range=fparams["row_range"], x=lane["x"])
        t2 = time.perf_counter()
        cals[lane["x"]] = cal
        matched = np.array([p[0] for p in params["pairs"]])
        detected[lane["x"]] = (matched, [p[1] for p in params["pairs"]])
        ann_t = leave_one_out(rows, kda)
        det_t = leave_one_out(matched, [p[1] for p in params["pairs"]])
        table = pd.DataFrame({
            "kda": ann_t["kda_true"],
            "row_annot": ann_t["row"],
            "pred_annot": ann_t["kda_pred"].round(1),
            "err_annot_%": (100 * ann_t["rel_error"]).round(1),
            "model_annot": ann_t["model"],
            "row_found": np.round(matched, 1) if matched.size == rows.size else np.nan,
            "pred_found": det_t["kda_pred"].round(1).to_numpy() if matched.size == rows.size else np.nan,
            "err_found_%": (100 * det_t["rel_error"]).round(1).to_numpy() if matched.size == rows.size else np.nan,
            "extrapolated": ann_t["extrapolated"],
        })
        print(f"\nmarker lane {lane['n']} (x={lane['x']}): {found.size} peaks found, {len(params['pairs'])} "
              f"matched, unmatched kDa {params['unmatched_kda']}, model {params['model']} "
              f"(LOO RMS log10 {params['loo_rms_log10']})")
        print(f"find_ladder_bands {1e3 * (t1 - t0):.0f} ms, fit_ladder {1e3 * (t2 - t1):.0f} ms")
        print(table.to_string(index=False))
        inner = table[~table["extrapolated"]]
        print(f"interior max |error|: annotated {inner['err_annot_%'].abs().max():.1f} %, "
              f"detected {inner['err_found_%'].abs().max():.1f} %; ends: annotated "
              f"{table[table['extrapolated']]['err_annot_%'].abs().max():.1f} %, detected "
              f"{table[table['extrapolated']]['err_found_%'].abs().max():.1f} %")

    xs = sorted(cals)
    print("\ncross-lane: each marker lane's detected ladder read with the other lane's calibration")
    for a, b in ((xs[0], xs[1]), (xs[1], xs[0])):
        rows, kda = detected[b]
        pred = cals[a].kda_at(rows)
        err = 100 * (pred / np.array(kda) - 1)
        print(f"  lane at x={b} with calibration of x={a}: max |error| {np.abs(err).max():.1f} %, "
              f"errors {np.round(err, 1).tolist()}")

    mc, _ = membrane_calibration(cals)
    samples = [ln for ln in lanes if ln["kind"] == "sample"]
    xs_s = np.array([s["x"] for s in samples])
    ys_s = np.array([s["bands"]["main"]["y"] for s in samples])
    print("\nsample band (annotated rows) apparent MW with the two-marker membrane calibration:")
    print("  " + ", ".join(f"lane {s['n']}: {m:.1f} kDa" for s, m in zip(samples, mc.kda_at(ys_s, xs_s))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
