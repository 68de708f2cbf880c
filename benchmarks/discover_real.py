"""Lane discovery (`blotquant lanes` / `blotquant init`) on every annotated real blot.

Run from the repository root::

    python benchmarks/discover_real.py [--annotated-boxes] [SET ...]

For every image of every annotation file in ../shared/data/real/annotations (or only the sets
named), runs the analysis `blotquant lanes IMAGE` prints (strips, then
:func:`blotquant.discover.detect_lanes` per strip, no lane count given) and compares it with the
hand-checked annotation. One line per annotated strip: strips annotated / found, lanes annotated /
found, the kinds lane for lane (M marker, s sample, - empty), the largest sample-centre and
marker-centre error in px when the kinds match (in parentheses: the sample error when only the
sample lanes match in number). A strip is *reproduced* when the kinds match lane for lane, every
sample centre is within 5 px and every marker centre within 8 px (the `init` acceptance).

Found strips are matched to annotated ones by the largest overlap of their boxes.
``--annotated-boxes`` crops the annotated strip boxes instead of running
:func:`blotquant.strips.find_strips`, which separates lane errors from strip errors.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the working tree's blotquant, not an installed copy
REAL = ROOT.parent / "shared" / "data" / "real"
KIND = {"sample": "s", "marker": "M", "empty": "-"}
SAMPLE_TOL, MARKER_TOL = 5.0, 8.0


def _overlap(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


def _analyse(path, boxes):
    """What `blotquant lanes` finds; with ``boxes``, on those strip boxes instead of find_strips'."""
    from blotquant.discover import _analyse_image

    if boxes is None:
        return _analyse_image(path)
    return _analyse_image(path, boxes=boxes)


def compare(found_strip, ann_strip):
    """(kinds found, kinds annotated, sample error, marker error, reproduced) for one strip."""
    want = "".join(KIND[lane["kind"]] for lane in ann_strip["lanes"])
    if found_strip is None or "error" in found_strip:
        return "?", want, "-", "-", False
    kinds = found_strip["kinds"]
    got = "".join(KIND[k] for k in kinds)
    xs = found_strip["centers"]
    es = em = "-"
    ok = False
    if got == want:
        d = {"s": [], "M": []}
        for x, truth in zip(xs, ann_strip["lanes"]):
            if truth["kind"] in ("sample", "marker"):
                d[KIND[truth["kind"]]].append(abs(x - truth["x"]))
        es = f"{max(d['s']):.1f}" if d["s"] else "-"
        em = f"{max(d['M']):.1f}" if d["M"] else "-"
        ok = (not d["s"] or max(d["s"]) <= SAMPLE_TOL) and (not d["M"] or max(d["M"]) <= MARKER_TOL)
    else:
        fs = [x for x, k in zip(xs, kinds) if k == "sample"]
        ts = [t["x"] for t in ann_strip["lanes"] if t["kind"] == "sample"]
        if fs and len(fs) == len(ts):
            es = f"({max(abs(x - y) for x, y in zip(fs, ts)):.1f})"
    return got, want, es, em, ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", help="annotation set names (default: all)")
    ap.add_argument("--annotated-boxes", action="store_true",
                    help="use the annotated strip boxes instead of find_strips")
    args = ap.parse_args(argv)
    np.seterr(all="ignore")
    n_ok = n_all = n_kinds = 0
    print(f"{'set / image':<48} {'strip':<14} {'strips':>6} {'lanes':>7}  {'kinds found':<16} "
          f"{'kinds annotated':<16} {'smp_err':>7} {'mrk_err':>7}")
    t_total = 0.0
    for ann_file in sorted((REAL / "annotations").glob("*.yaml")):
        doc = yaml.safe_load(ann_file.read_text())
        if args.sets and doc["set"] not in args.sets:
            continue
        for im in doc["images"]:
            path = REAL / doc["set"] / im["path"]
            name = f"{doc['set'][:20]}/{im['path']}"[-48:]
            boxes = [tuple(s["box"]) for s in im["strips"]] if args.annotated_boxes else None
            t0 = time.perf_counter()
            try:
                rec = _analyse(path, boxes)
                strips = rec["strips"]
            except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
                strips = []
                print(f"{name:<48} error: {type(exc).__name__}: {str(exc)[:80]}")
            t_total += time.perf_counter() - t0
            used = set()
            for a in im["strips"]:
                n_all += 1
                best, bo = None, 0
                for j, s in enumerate(strips):
                    o = _overlap(s["box"], a["box"])
                    if j not in used and o > bo:
                        best, bo = j, o
                if best is not None:
                    used.add(best)
                s = strips[best] if best is not None else None
                got, want, es, em, ok = compare(s, a)
                n_ok += ok
                n_kinds += got == want
                nl = f"{len(s.get('kinds', [])) if s else '?'}/{len(a['lanes'])}"
                print(f"{name:<48} {str(a.get('name', len(used)))[:14]:<14} {len(strips):>2}/{len(im['strips']):<3} "
                      f"{nl:>7}  {got[:16]:<16} {want[:16]:<16} {es:>7} {em:>7}"
                      f"{'' if ok else '  x'}")
    print(f"\n{n_ok}/{n_all} annotated strips reproduced (kinds lane for lane, samples <= "
          f"{SAMPLE_TOL:g} px, markers <= {MARKER_TOL:g} px); kinds right on {n_kinds}; "
          f"{t_total:.1f} s")


if __name__ == "__main__":
    main()
