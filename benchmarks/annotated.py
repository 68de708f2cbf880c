"""Issue 4's acceptance table: strips, lanes and band rows on every annotated real blot.

Usage: ``python benchmarks/annotated.py [-v]`` from the repository root (needs
``../shared/data/real`` with its ``annotations/``; prints "no real blots" and exits 0 otherwise).

Every annotated image that :func:`blotquant.io.read_blot` reads (TIFF, PNG, GIF, JPEG, ...) goes
through the same steps a user's run would, each judged on its own against the hand-checked
geometry:

- **polarity**: the automatic polarity against the annotation's.
- **strips**: :func:`blotquant.strips.find_strips` on the whole image with the count *not*
  given; annotated boxes are matched one to one to found boxes by intersection over union
  (IoU); a strip counts as found when its IoU is at least 0.5.
- **listed lanes** (what ``run`` does with a config): the annotated strip box is cropped and
  :func:`blotquant.lanes.find_lanes` is given the lane count, the lane kinds and the row windows a
  user would type (per band key, the annotated rows ± 15 px rounded outwards to 5 px). Error =
  |found centre - annotated x| at each lane's band row; bounds 5 px for sample lanes, 8 px for
  marker lanes.
- **discovered lanes** (what ``blotquant lanes`` and ``init`` do): :func:`blotquant.discover.
  detect_lanes` on the same crop without the count or kinds. Each annotated lane is matched to
  the nearest found centre; it is *found* when that centre is within half the annotated pitch,
  and its kind is compared.
- **band rows**: :func:`blotquant.bands.measure_bands` on the listed lanes (sample lanes) in each
  band key's user window; error = |band_row - annotated y| per lane; bound 3 px for >= 95 %.

``-v`` prints every lane and band outside its bound.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's blotquant, not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from realdata import lane_rows, user_windows as user_rows  # noqa: E402  (the annotation helpers the tests use)

ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
SAMPLE_TOL, MARKER_TOL, BAND_TOL, BAND_SHARE, STRIP_IOU = 5.0, 8.0, 3.0, 0.95, 0.5


def cases(root=ROOT):
    """``(name, path, entry)`` for every image of every annotation file."""
    for ann in sorted((root / "annotations").glob("*.yaml")):
        doc = yaml.safe_load(ann.read_text(encoding="utf-8"))
        for entry in doc["images"]:
            yield f"{doc['set']}/{entry['path']}", root / doc["set"] / entry["path"], entry


def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter) if inter > 0 else 0.0


def strip_scores(blot, entry):
    """(found boxes, IoU of each annotated strip with its one-to-one match, seconds)."""
    from blotquant.strips import find_strips

    t0 = time.perf_counter()
    found, _ = find_strips(blot)
    dt = time.perf_counter() - t0
    truth = [(b[0], b[1], b[2] + 1, b[3] + 1) for b in (s["box"] for s in entry["strips"])]
    boxes = [s.box for s in found]
    pairs = sorted(((_iou(t, f), i, j) for i, t in enumerate(truth) for j, f in enumerate(boxes)), reverse=True)
    best, used_t, used_f = [0.0] * len(truth), set(), set()
    for iou, i, j in pairs:
        if i not in used_t and j not in used_f:
            best[i] = iou
            used_t.add(i)
            used_f.add(j)
    return boxes, best, dt


def _inside(strip):
    """The strip with only the lanes whose centre lies inside its box: an annotated 'marker' outside
    the membrane (test actin.png: a ruler tick on a black bar beside it) is not a lane to find."""
    x0, _, x1, _ = strip["box"]
    return dict(strip, lanes=[lane for lane in strip["lanes"] if x0 <= lane["x"] <= x1])


def _crop(blot, strip):
    """The strip's box, what a user's ``region`` would be."""
    from blotquant.io import crop

    rows, cols = blot.data.shape
    x0, y0, x1, y1 = (int(round(v)) for v in strip["box"])
    return crop(blot, (max(0, x0), max(0, y0), min(cols, x1 + 1), min(rows, y1 + 1)))


def listed_lanes(part, strip):
    """Lanes found with the annotated count and kinds: (lanes, |error| per lane, kinds)."""
    from blotquant.lanes import find_lanes

    x0, y0 = part.origin
    windows = [(max(0, t - y0), min(part.data.shape[0] - 1, b - y0)) for t, b in user_rows(strip).values()]
    kinds = [lane["kind"] for lane in strip["lanes"]]
    lanes, _ = find_lanes(part.data, len(kinds), rows=windows or None, kinds=kinds)
    ys = lane_rows(strip) - y0
    found = np.array([lanes.x_at(y)[i] for i, y in enumerate(ys)]) + x0
    truth = np.array([lane["x"] for lane in strip["lanes"]], dtype=float)
    return lanes, np.abs(found - truth), np.array(kinds)


def discovered_lanes(part, strip):
    """Lanes found without count or kinds: (n found, found kinds, per annotated lane: found?,
    |error|, kind found)."""
    from blotquant.discover import detect_lanes

    x0, _ = part.origin
    lanes, kinds, _ = detect_lanes(part)
    centres = np.asarray(lanes.centers, dtype=float) + x0
    truth = np.array([lane["x"] for lane in strip["lanes"]], dtype=float)
    pitch = float(np.median(np.diff(truth))) if truth.size > 1 else float(part.data.shape[1])
    out = []
    for x in truth:
        j = int(np.argmin(np.abs(centres - x)))
        err = float(abs(centres[j] - x))
        out.append((err <= pitch / 2, err, kinds[j]))
    return len(centres), list(kinds), out


def band_errors(part, lanes, strip):
    """(band key, lane n, annotated y, found row, |error|) for every annotated sample band."""
    from blotquant.bands import measure_bands

    x0, y0 = part.origin
    sample = [i for i, lane in enumerate(strip["lanes"]) if lane["kind"] == "sample"]
    if not sample:
        return []
    from dataclasses import replace

    sl = replace(lanes, centers=np.asarray(lanes.centers)[sample], widths=np.asarray(lanes.widths)[sample])
    out = []
    for key, (top, bottom) in user_rows(strip).items():
        window = (max(0, top - y0), min(part.data.shape[0] - 1, bottom - y0))
        table, _ = measure_bands(part.data, sl, window, saturated=part.saturated)
        for k, i in enumerate(sample):
            band = (strip["lanes"][i].get("bands") or {}).get(key)
            if band is None:
                continue
            row = float(table["band_row"].iloc[k]) + y0
            out.append((key, strip["lanes"][i]["n"], float(band["y"]), row, abs(row - float(band["y"]))))
    return out


def _fmt(v, digits=1):
    return "-" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def main(argv=None):
    from blotquant.errors import BlotquantError
    from blotquant.io import read_blot

    argv = sys.argv[1:] if argv is None else argv
    verbose = "-v" in argv
    if not (ROOT / "annotations").is_dir():
        print(f"no real blots at {ROOT}")
        return 0
    print(f"{'image':52s} {'pol':>3s} {'strips':>6s} {'IoU':>4s} | {'strip':>5s} {'lanes':>5s} "
          f"{'smp':>5s} {'mrk':>5s} | {'found':>7s} {'kinds':>5s} {'err':>5s} | {'bands':>5s} {'<=3':>4s} {'s':>5s}")
    tot = dict(strips=0, strips_ok=0, smp=0, smp_ok=0, mrk=0, mrk_ok=0, disc=0, disc_found=0, disc_kind=0,
               disc_exact=0, n_strips=0, bands=[], polarity=0, polarity_ok=0, images=0, unread=[])
    for name, path, entry in cases():
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import logging
                logging.getLogger("blotquant").setLevel(logging.ERROR)
                blot = read_blot(path)
        except (BlotquantError, OSError) as exc:
            tot["unread"].append(f"{name}: {exc}")
            continue
        tot["images"] += 1
        pol_ok = blot.polarity == entry["polarity"]
        tot["polarity"] += 1
        tot["polarity_ok"] += pol_ok
        boxes, ious, _ = strip_scores(blot, entry)
        ok_strips = sum(iou >= STRIP_IOU for iou in ious)
        tot["strips"] += len(ious)
        tot["strips_ok"] += ok_strips
        head = (f"{name[-52:]:52s} {'ok' if pol_ok else 'NO':>3s} {ok_strips:>2d}/{len(ious):<3d} "
                f"{min(ious):4.2f}")
        for k, strip in enumerate(entry["strips"]):
            strip = _inside(strip)
            part = _crop(blot, strip)
            lanes, err, kinds = listed_lanes(part, strip)
            s_err, m_err = err[kinds == "sample"], err[kinds == "marker"]
            tot["smp"] += s_err.size
            tot["smp_ok"] += int((s_err <= SAMPLE_TOL).sum())
            tot["mrk"] += m_err.size
            tot["mrk_ok"] += int((m_err <= MARKER_TOL).sum())
            n_found, found_kinds, disc = discovered_lanes(part, strip)
            hit = [d for d in disc if d[0]]
            kind_ok = sum(d[2] == kk for d, kk in zip(disc, kinds) if d[0])
            tot["n_strips"] += 1
            tot["disc"] += len(disc)
            tot["disc_found"] += len(hit)
            tot["disc_kind"] += kind_ok
            tot["disc_exact"] += n_found == len(kinds)
            bands = band_errors(part, lanes, strip)
            be = np.array([b[-1] for b in bands])
            tot["bands"] += be.tolist()
            print(f"{head} | {k + 1:>5d} {len(kinds):>5d} {_fmt(s_err.max() if s_err.size else None):>5s} "
                  f"{_fmt(m_err.max() if m_err.size else None):>5s} | {len(hit):>2d}/{len(disc):<2d}{n_found:>3d} "
                  f"{kind_ok:>2d}/{len(hit):<2d} {_fmt(max((d[1] for d in hit), default=None)):>5s} | "
                  f"{be.size:>5d} {(100 * np.mean(be <= BAND_TOL) if be.size else np.nan):>3.0f}% "
                  f"{time.perf_counter() - t0:5.2f}")
            head = " " * len(head)
            if verbose:
                for n, (e, kk) in enumerate(zip(err, kinds), 1):
                    if e > (MARKER_TOL if kk == "marker" else SAMPLE_TOL):
                        print(f"    listed lane {n} ({kk}) off by {e:.1f} px")
                for n, (f, e, kf) in enumerate(disc, 1):
                    if not f or kf != kinds[n - 1]:
                        print(f"    discovered lane {n}: {'found' if f else 'MISSED'} {e:.1f} px, kind {kf} "
                              f"(annotated {kinds[n - 1]})")
                for key, n, y, row, e in bands:
                    if e > BAND_TOL:
                        print(f"    band {key} lane {n}: annotated {y:.1f}, found {row:.1f}")
    b = np.asarray(tot["bands"])
    print()
    print(f"images read: {tot['images']} (polarity right on {tot['polarity_ok']}/{tot['polarity']})"
          + (f"; not read: {len(tot['unread'])}" if tot["unread"] else ""))
    for line in tot["unread"]:
        print(f"  not read: {line}")
    print(f"strips found (IoU >= {STRIP_IOU}): {tot['strips_ok']}/{tot['strips']}")
    print(f"listed lanes: sample {tot['smp_ok']}/{tot['smp']} within {SAMPLE_TOL:.0f} px, "
          f"marker {tot['mrk_ok']}/{tot['mrk']} within {MARKER_TOL:.0f} px")
    print(f"discovered lanes: {tot['disc_found']}/{tot['disc']} annotated lanes found, kind right for "
          f"{tot['disc_kind']}/{tot['disc_found']}, lane count exact on {tot['disc_exact']}/{tot['n_strips']} strips")
    print(f"band rows: {b.size} bands, {100 * np.mean(b <= BAND_TOL):.1f} % within {BAND_TOL:.0f} px "
          f"(bound {100 * BAND_SHARE:.0f} %), median {np.median(b):.2f} px")
    return 0


if __name__ == "__main__":
    sys.exit(main())
