"""``blotquant lanes IMAGE`` and ``blotquant init IMAGES_DIR``: see what is detected, get a config.

``lanes`` prints the strips, lanes (with their kind) and band rows found in one image, optionally
drawing them over the image; ``init`` writes a starter YAML for a folder of images in which the
user only types sample names, groups and target names.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from blotquant.errors import BlotquantError

__all__ = ["configure_lanes_parser", "run_lanes", "configure_init_parser", "run_init"]


def configure_lanes_parser(p):
    p.add_argument("image", help="blot image (TIFF, PNG, JPEG, .scn, .1sc, .gel)")
    p.add_argument("--plot", metavar="PNG", help="write an overlay of strips, lanes and band rows")


def configure_init_parser(p):
    p.add_argument("images_dir", help="folder holding the blot images")
    p.add_argument("--out", help="config file to write (default: config.yaml beside the folder)")
    p.add_argument("--force", action="store_true", help="replace an existing config file")
    p.add_argument("--ladder", help="marker ladder for apparent MW: a name (e.g. pageruler-plus) "
                   "or the kDa of the marker bands seen, top to bottom (e.g. 100,75,50)")


def run_lanes(args) -> int:
    from blotquant.discover import _analyse_image

    path = Path(args.image)
    result = _analyse_image(path)
    print(f"{path.name}: {result['shape'][1]} x {result['shape'][0]} px, {result['polarity']}, "
          f"{len(result['strips'])} strip(s)")
    for si, s in enumerate(result["strips"], start=1):
        print(f"strip {si}: box {s['box']}")
        if "error" in s:
            print(f"  no lanes: {s['error']}")
            continue
        print(f"  {len(s['kinds'])} lanes, pitch {s['pitch']:.1f} px "
              f"(pitch choice margin {s['lane_params']['margin']:.2f})")
        print(f"  {'strip':>5} {'lane':>4} {'x':>8} {'width':>6}  kind")
        for li, (x, w, k) in enumerate(zip(s["centers"], s["widths"], s["kinds"]), start=1):
            print(f"  {si:>5} {li:>4} {x:>8.1f} {w:>6.1f}  {k}")
        if s["band_rows"]:
            print(f"  {'row':>8} {'lanes':>5} {'strength':>8}  window")
            for br in s["band_rows"]:
                print(f"  {br['row']:>8.1f} {br['n_lanes']:>5} {br['strength']:>8.2f}  "
                      f"[{br['window_top']}, {br['window_bottom']}]")
        else:
            print("  no band row shared by the sample lanes")
    if args.plot:
        _write_plot(path, result, Path(args.plot))
        print(f"overlay -> {args.plot}")
    return 0


def _write_plot(path, result, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from blotquant.io import read_blot
    from blotquant.report.figures import display_copy

    blot = read_blot(path)
    h, w = blot.data.shape
    fig, ax = plt.subplots(figsize=(min(14, 2 + w / 100), min(10, 1 + h / 100)))
    ax.imshow(display_copy(blot.data), cmap="gray", interpolation="nearest")
    colours = {"sample": "yellow", "marker": "magenta", "empty": "grey"}
    for si, s in enumerate(result["strips"], start=1):
        x0, y0, x1, y1 = s["box"]
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="cyan", lw=1))
        ax.text(x0, y0, f"strip {si}", color="cyan", fontsize=7, va="bottom")
        for li, (x, k) in enumerate(zip(s.get("centers", []), s.get("kinds", [])), start=1):
            ax.plot([x, x], [y0, y1], color=colours[k], lw=0.8, ls="--")
            ax.text(x, y0 + 2, str(li), color=colours[k], fontsize=6, ha="center", va="top")
        for br in s.get("band_rows", []):
            for y in (br["window_top"], br["window_bottom"]):
                ax.plot([x0, x1], [y, y], color="orange", lw=0.6)
    ax.set_title(f"{path.name}: strips (cyan), sample lanes (yellow), markers (magenta), "
                 "row windows (orange)", fontsize=8)
    ax.set_axis_off()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".png", dir=out.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=100, bbox_inches="tight")
        os.replace(tmp, out)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)


def _ladder_arg(text):
    """``--ladder``: a ladder name or comma-separated kDa, checked before any image is read."""
    if text is None:
        return None
    from blotquant.mw import get_ladder

    ladder = text
    if re.fullmatch(r"\s*[0-9.]+(\s*,\s*[0-9.]+)+\s*", text):
        ladder = [float(v) for v in text.split(",")]
    try:
        get_ladder(ladder)
    except BlotquantError as exc:
        raise BlotquantError(f"--ladder {text!r}: {exc}") from exc
    return ladder


def run_init(args) -> int:
    from blotquant.discover import format_config, propose_config

    folder = Path(args.images_dir)
    out = Path(args.out) if args.out else folder.resolve().parent / "config.yaml"
    if out.exists() and not args.force:
        raise BlotquantError(f"{out} already exists; use --force to replace it or --out to "
                             "choose another file")
    if not folder.is_dir():
        raise BlotquantError(f"{folder}: folder not found; give the folder holding the images")
    images_rel = os.path.relpath(folder.resolve(), out.resolve().parent)
    ladder = _ladder_arg(args.ladder)
    config, params = propose_config(folder, ladder=ladder)
    config["images"] = Path(images_rel).as_posix()
    text = format_config(config, params)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    n_lanes = sum(len(m["lanes"]) for m in config["membranes"])
    print(f"blotquant: {len(params['images'])} images, {len(config['membranes'])} membranes, "
          f"{n_lanes} lanes ({len(config['samples'])} samples) -> {out}")
    for p in params["problems"]:
        print(f"blotquant: skipped {p['file']}: {p['error']}")
    print("next: fill in sample names, groups and target names, then `blotquant run "
          f"{out}`")
    return 0
