"""`blotquant init` on the annotated ZDF images: strips, lanes (count, kinds) and centre errors.

Run from the repository root::

    python benchmarks/init_zdf.py

Links the annotated images of ../shared/data/real/zdf-rat-heart-adrenoceptors into a temporary
folder (symlinks, never copies), runs :func:`blotquant.discover.propose_config` on it as
`blotquant init` does, and prints one line per annotated strip: strips annotated / found, lanes
annotated / found with their kinds (M marker, s sample, - empty), the largest sample-centre and
marker-centre error (px, when the kinds match lane for lane; the acceptance is 5 px for
samples, 8 px for markers; in parentheses the sample error when only the sample lanes match), and which membrane (re-probe group) the image went to.

Then the step the acceptance names: the starter config is written as `init` writes it, its
placeholder sample names kept (filling in names changes no geometry), and `blotquant run` is
run on it; ``run smp``/``run mrk`` are the largest errors of the lanes `run` placed (run.json's
``centers_image_px``) against the annotation, sample lanes and marker lanes in order.
"""

import tempfile
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the working tree's blotquant, not an installed copy
from blotquant.config import load_config  # noqa: E402
from blotquant.discover import format_config, propose_config  # noqa: E402
from blotquant.pipeline import run  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "real"
ZDF = REAL / "zdf-rat-heart-adrenoceptors"
ANN = REAL / "annotations" / "zdf-rat-heart-adrenoceptors.yaml"
KIND = {"sample": "s", "marker": "M", "empty": "-"}


def main():
    ann = yaml.safe_load(ANN.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "zdf"
        for im in ann["images"]:
            link = folder / im["path"]
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(ZDF / im["path"])
        t0 = time.perf_counter()
        config, params = propose_config(folder)
        seconds = time.perf_counter() - t0
        (folder / "starter.yaml").write_text(format_config(config, params))
        t0 = time.perf_counter()
        results = run(load_config(folder / "starter.yaml"))
        run_seconds = time.perf_counter() - t0
    placed = {}  # file -> [(region, labels, centres)]
    for rec in results.record["images"]:
        lanes = rec["lanes"]
        placed.setdefault(rec["image"], []).append((rec["region"], rec["membrane"], lanes["centers_image_px"]))
    cfg_lanes = {m["name"]: list(m["lanes"]) for m in config["membranes"]}
    found = {rec["file"]: rec for rec in params["images"]}
    group = {f: gi + 1 for gi, files in enumerate(params["membranes"]) for f in files}
    print(f"{'image':<44} {'strip':<15} {'strips':>6} {'lanes':>7}  {'kinds found':<14} "
          f"{'kinds annotated':<14} {'smp_err':>7} {'mrk_err':>7} {'mem':>3} {'run smp':>7} {'run mrk':>7}")
    n_ok = n_all = n_run = 0
    for im in ann["images"]:
        rec = found.get(im["path"], {"strips": []})
        strips = rec["strips"]
        for si, a in enumerate(im["strips"]):
            n_all += 1
            want = "".join(KIND[lane["kind"]] for lane in a["lanes"])
            s = strips[si] if len(strips) == len(im["strips"]) else None
            got = "".join(KIND[lane["kind"]] for lane in s.get("lanes", [])) if s else "?"
            es = em = "-"
            if s and got == want:
                d = {"s": [], "M": []}
                for lane, truth in zip(s["lanes"], a["lanes"]):
                    if truth["kind"] in ("sample", "marker"):
                        d[KIND[truth["kind"]]].append(abs(lane["x"] - truth["x"]))
                es = f"{max(d['s']):.1f}" if d["s"] else "-"
                em = f"{max(d['M']):.1f}" if d["M"] else "-"
                if (not d["s"] or max(d["s"]) <= 5) and (not d["M"] or max(d["M"]) <= 8):
                    n_ok += 1
            if s and es == "-":
                fs = [lane["x"] for lane in s.get("lanes", []) if lane["kind"] == "sample"]
                ts = [t["x"] for t in a["lanes"] if t["kind"] == "sample"]
                if fs and len(fs) == len(ts):     # samples alone match: error over them
                    es = f"({max(abs(x - y) for x, y in zip(fs, ts)):.1f})"
            nl = f"{len(s.get('lanes', [])) if s else '?'}/{len(a['lanes'])}"
            rs, rm, run_ok = _run_errors(placed.get(im["path"], []), cfg_lanes, a)
            n_run += run_ok
            print(f"{im['path'][-44:]:<44} {a['name'][:15]:<15} {len(strips):>2}/{len(im['strips']):<3} "
                  f"{nl:>7}  {got[:14]:<14} {want[:14]:<14} {es:>7} {em:>7} "
                  f"{group.get(im['path'], '?'):>3} {rs:>7} {rm:>7}")
    print(f"\n{n_ok}/{n_all} annotated strips reproduced (kinds lane for lane, samples <= 5 px, "
          f"markers <= 8 px); {len(params['membranes'])} membranes; propose_config {seconds:.1f} s")
    print(f"init + run: {n_run}/{n_all} annotated strips with every annotated sample lane within 5 px and "
          f"marker lane within 8 px of the lanes run placed; run {run_seconds:.1f} s")


def _run_errors(placed, cfg_lanes, strip):
    """Largest sample / marker error of the lanes `run` placed for the image region that overlaps
    the annotated strip most, and whether both are within bounds."""
    if not placed:
        return "?", "?", False
    x0, y0, x1, y1 = strip["box"]

    def overlap(region):
        if region is None:
            return 1.0
        return max(0, min(y1, region[3]) - max(y0, region[1]))

    region, membrane, centres = max(placed, key=lambda p: overlap(p[0]))
    labels = cfg_lanes[membrane]
    got = {"s": [c for c, lab in zip(centres, labels) if lab not in ("ladder", "-")],
           "M": [c for c, lab in zip(centres, labels) if lab == "ladder"]}
    want = {"s": [lane["x"] for lane in strip["lanes"] if lane["kind"] == "sample"],
            "M": [lane["x"] for lane in strip["lanes"] if lane["kind"] == "marker"]}
    if len(got["s"]) != len(want["s"]):
        return f"{len(got['s'])}!={len(want['s'])}", "-", False
    es = max(abs(g - w) for g, w in zip(got["s"], want["s"]))
    em = None
    if want["M"]:
        # a marker the image does not show is not annotated: compare the nearest placed markers
        em = max(min(abs(g - w) for g in got["M"]) for w in want["M"]) if got["M"] else float("inf")
    return f"{es:.1f}", "-" if em is None else f"{em:.1f}", es <= 5 and (em is None or em <= 8)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
