"""`blotquant init` on the annotated ZDF images: strips, lanes (count, kinds) and centre errors.

Run from the repository root::

    python benchmarks/init_zdf.py

Links the annotated images of ../shared/data/real/zdf-rat-heart-adrenoceptors into a temporary
folder (symlinks, never copies), runs :func:`blotquant.discover.propose_config` on it as
`blotquant init` does, and prints one line per annotated strip: strips annotated / found, lanes
annotated / found with their kinds (M marker, s sample, - empty), the largest sample-centre and
marker-centre error (px, when the kinds match lane for lane; the acceptance is 5 px for
samples, 8 px for markers; in parentheses the sample error when only the sample lanes match), and which membrane (re-probe group) the image went to.
"""

import tempfile
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the working tree's blotquant, not an installed copy
from blotquant.discover import propose_config  # noqa: E402

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
        _, params = propose_config(folder)
        seconds = time.perf_counter() - t0
    found = {rec["file"]: rec for rec in params["images"]}
    group = {f: gi + 1 for gi, files in enumerate(params["membranes"]) for f in files}
    print(f"{'image':<44} {'strip':<15} {'strips':>6} {'lanes':>7}  {'kinds found':<14} "
          f"{'kinds annotated':<14} {'smp_err':>7} {'mrk_err':>7} {'mem':>3}")
    n_ok = n_all = 0
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
            print(f"{im['path'][-44:]:<44} {a['name'][:15]:<15} {len(strips):>2}/{len(im['strips']):<3} "
                  f"{nl:>7}  {got[:14]:<14} {want[:14]:<14} {es:>7} {em:>7} "
                  f"{group.get(im['path'], '?'):>3}")
    print(f"\n{n_ok}/{n_all} annotated strips reproduced (kinds lane for lane, samples <= 5 px, "
          f"markers <= 8 px); {len(params['membranes'])} membranes; propose_config {seconds:.1f} s")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
