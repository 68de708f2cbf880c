"""Overlays that show exactly which pixels were counted, the group plot, and publication figures."""

from __future__ import annotations

import functools
import io
import textwrap
from dataclasses import dataclass

import numpy as np

__all__ = ["render_overlay", "overlay_pixels", "OverlayPixels", "render_plot", "display_copy", "target_figure", "figure_bytes", "significance_marks",
           "figure_caption"]

_MAX_SIDE = 1600  # overlays are downsampled for display only; numbers never come from them


def display_copy(data, *, low=0.5, high=99.8):
    """A contrast-stretched copy in [0, 1] for display (never used for measurement).

    Examples
    --------
    >>> d = display_copy(np.arange(100.0).reshape(10, 10))
    >>> float(d.min()), float(d.max())
    (0.0, 1.0)
    """
    lo, hi = np.percentile(data, [low, high])
    if hi <= lo:
        hi = lo + 1.0
    return np.clip((np.asarray(data, dtype=float) - lo) / (hi - lo), 0.0, 1.0)


@dataclass(frozen=True)
class OverlayPixels:
    """What an overlay needs of an image's pixels, at display size (see :func:`overlay_pixels`).

    ``shown`` (float64, (h, w)): the counts area-averaged by ``step`` (or the counts themselves);
    ``saturated`` and ``marks`` (bool, (h, w), or None when there are none): display pixels
    covering any saturated / colour-marked pixel; ``shape``: the image's (rows, cols); ``up``:
    whole-pixel enlargement of a narrow image.
    """

    shown: np.ndarray
    saturated: np.ndarray | None
    marks: np.ndarray | None
    shape: tuple
    step: int
    up: int


def _block_mean(data, step):
    """Mean of every ``step`` x ``step`` block of ``data`` (float64, shape ``ceil(shape / step)``);
    the blocks of the last row and column hold what is left of the image.

    Display pixel ``(i, j)`` covers image rows ``i * step ..`` and columns ``j * step ..``, as the
    overlay draws it. The whole blocks are averaged by OpenCV (its fast path for an integer
    factor), the ragged edge by numpy.
    """
    import cv2

    data = np.asarray(data)
    rows, cols = data.shape
    nr, nc = rows // step, cols // step  # whole blocks
    out = np.empty((-(-rows // step), -(-cols // step)))
    if nr and nc:
        out[:nr, :nc] = cv2.resize(np.asarray(data[:nr * step, :nc * step], dtype=np.float64), (nc, nr),
                                   interpolation=cv2.INTER_AREA)
    if rows % step and nc:
        out[nr, :nc] = data[nr * step:, :nc * step].reshape(rows % step, nc, step).mean((0, 2))
    if cols % step and nr:
        out[:nr, nc] = data[:nr * step, nc * step:].reshape(nr, step, cols % step).mean((1, 2))
    if rows % step and cols % step:
        out[nr, nc] = data[nr * step:, nc * step:].mean()
    return out


def overlay_pixels(data, saturated=None, marks=None):
    """The display-size copy of an image that :func:`render_overlay` draws on.

    A run keeps this (a few MB) instead of each image's full-size arrays (~110 MB for a 12-MP
    blot), so a config of many images does not hold them all until the outputs are written.

    Parameters
    ----------
    data : ndarray, shape (rows, cols)
    saturated, marks : ndarray of bool, shape (rows, cols), optional

    Returns
    -------
    OverlayPixels

    Examples
    --------
    >>> sat = np.zeros((3200, 100), bool)
    >>> sat[5, 7] = True
    >>> px = overlay_pixels(np.ones((3200, 100)), sat)
    >>> px.shown.shape, px.step, px.saturated.sum(), px.marks is None
    ((1600, 50), 2, np.int64(1), True)
    """
    import cv2

    data = np.asarray(data)
    rows, cols = data.shape
    step = max(1, int(np.ceil(max(rows, cols) / _MAX_SIDE)))
    up = max(1, min(int(np.ceil(_MIN_WIDTH / cols)), _MAX_SIDE // max(rows, cols))) if step == 1 else 1
    h, w = -(-rows // step), -(-cols // step)
    if step > 1:  # area average: weak bands stay visible, noise is not aliased
        shown = _block_mean(data, step)
    else:
        shown = np.asarray(data, dtype=np.float64)

    def covering(mask):  # every flagged pixel shows: a display pixel is flagged if any it covers is
        if mask is None or not mask.any():
            return None
        out = np.zeros((h, w), bool)
        r, c = np.nonzero(mask)
        out[r // step, c // step] = True
        return out

    return OverlayPixels(shown, covering(saturated), covering(marks), (rows, cols), step, up)


def render_overlay(data, saturated, lanes, bands, *, title="", lane_labels=None, warnings=(), marks=None):
    """Draw lanes, counted band pixels and saturated pixels over a display copy of the image.

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or OverlayPixels
        The analysed signal (bands bright), in the coordinates of ``lanes`` and ``bands``; or
        what :func:`overlay_pixels` kept of it (then ``saturated`` and ``marks`` are not used).
    saturated : ndarray of bool, shape (rows, cols)
        Pixels at the detector ceiling (drawn red).
    lanes : Lanes
        Lane geometry (centre lines drawn dashed).
    bands : DataFrame
        Rows with ``target, lane, band_top, band_bottom, x_left, x_right, band_row, saturated,
        found`` in the same coordinates; each counted region is outlined (yellow; red when
        saturated; dotted when the band was not found).
    title : str
    lane_labels : list of str, optional
        Label per lane (sample ids), drawn above the lanes.
    warnings : sequence of str, optional
        Printed in red under the image (e.g. more lane-like columns seen than lanes listed).
    marks : ndarray of bool, shape (rows, cols), optional
        Colour marks (ink, handwriting) left out of lane finding (drawn magenta).

    Returns
    -------
    bytes
        PNG image.

    Notes
    -----
    The picture is drawn with numpy and Pillow on a display copy (area-averaged to at most
    1600 pixels a side, or enlarged by whole pixels, up to 1600 a side, when the image is narrower than
    640), never
    on the measured data. Every saturated or colour-marked pixel shows: a display pixel is red
    (magenta) when any pixel it covers is. Outlines are the counted pixels' edges, one display
    pixel wide, not anti-aliased.

    Examples
    --------
    >>> from blotquant.lanes import lanes_from_centers
    >>> import pandas as pd
    >>> png = render_overlay(np.zeros((40, 60)), np.zeros((40, 60), bool),
    ...                      lanes_from_centers([20.0, 40.0], 12.0), pd.DataFrame())
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    from PIL import Image, ImageDraw

    px = data if isinstance(data, OverlayPixels) else overlay_pixels(data, saturated, marks)
    rows, cols = px.shape
    step, up, shown = px.step, px.up, px.shown
    h, w = shown.shape
    sample = shown[:: max(1, int(np.sqrt(shown.size / 250_000))), :: max(1, int(np.sqrt(shown.size / 250_000)))]
    lo, hi = np.percentile(sample, [0.5, 99.8])
    if hi <= lo:
        hi = lo + 1.0
    grey = np.clip((shown - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    legend = "yellow: counted pixels; red: saturated; dotted: band not found; dashed cyan: lane centres"
    if px.marks is not None:
        rgb[px.marks] = _MAGENTA
        legend += "; magenta: colour marks (ink) left out of lane finding"
    if px.saturated is not None:
        rgb[px.saturated] = _RED
    if up > 1:
        rgb = np.repeat(np.repeat(rgb, up, axis=0), up, axis=1)
    scale = up / step  # display pixel centre = (image pixel centre + 0.5) * scale - 0.5

    def to_display(x, y):
        return ((np.asarray(x, float) + 0.5) * scale - 0.5, (np.asarray(y, float) + 0.5) * scale - 0.5)

    small, large = _font(_FONT_PX), _font(_FONT_PX + 2)
    targets = list(dict.fromkeys(bands["target"])) if len(bands) else []
    right = 12 + max([int(small.getlength(str(t))) for t in targets] + [0])
    left = 6
    width = max(w * up + left + right, 480)
    wrap = max(40, int(width / (_FONT_PX * 0.6)))
    head = [ln for part in (title, legend) for ln in textwrap.wrap(str(part), wrap)]
    warn = [ln for text in warnings
            for ln in textwrap.wrap("WARNING: " + str(text), wrap, subsequent_indent="    ")]
    line = _FONT_PX + 5
    labels, label_rows = _lane_labels(lane_labels, (lanes.x_at(-0.5) + 0.5) * scale - 0.5, small)
    top = 8 + (line + 2) * len(head) + (line * label_rows + 4 if labels else 6)
    bottom = 8 + line * len(warn)
    canvas = np.full((top + h * up + bottom, width, 3), 255, dtype=np.uint8)
    canvas[top:top + h * up, left:left + w * up] = rgb
    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)

    def xy(x, y):
        dx, dy = to_display(x, y)
        return (float(dx) + left, float(dy) + top)

    y_edges = np.array([-0.5, rows - 0.5])
    xs = lanes.x_at(y_edges[:, None])  # (2, n_lanes)
    for i in range(len(lanes.centers)):
        _dashed(draw, xy(xs[0, i], y_edges[0]), xy(xs[1, i], y_edges[1]), on=6, off=4, fill=_CYAN)
        if labels:
            # staggered over label_rows lines when neighbouring labels would overlap
            draw.text((xy(lanes.x_at(-0.5)[i], -0.5)[0], top - 4 - line * (i % label_rows)), labels[i],
                      fill=_DARK_CYAN, font=small, anchor="mb")
    for rec in bands.itertuples(index=False):
        # pixel edges of the counted rows; a tilted membrane's band rows are sheared perpendicular
        # to the lanes (slope -lanes.slope across the lane), as measure_bands gathers them
        y0, y1 = float(rec.band_top) - 0.5, float(rec.band_bottom) + 0.5
        half = (float(rec.x_right) - float(rec.x_left)) / 2
        shear = -float(lanes.slope) * half
        x_top = lanes.x_at(y0)[int(rec.lane) - 1]
        x_bot = lanes.x_at(y1)[int(rec.lane) - 1]
        corners = [xy(x_top - half, y0 - shear), xy(x_top + half, y0 + shear),
                   xy(x_bot + half, y1 + shear), xy(x_bot - half, y1 - shear)]
        colour = _RED if bool(rec.saturated) else _YELLOW
        found = bool(getattr(rec, "found", True))
        for a, b in zip(corners, corners[1:] + corners[:1]):
            if found:
                draw.line([a, b], fill=colour, width=1)
            else:
                _dashed(draw, a, b, on=2, off=3, fill=colour)
    for target in targets:
        row = float(bands.loc[bands["target"] == target, "band_row"].median())
        draw.text((left + w * up + 6, xy(0, row)[1]), str(target), fill=_GOLD, font=small, anchor="lm")
    y = 6
    for i, ln in enumerate(head):
        draw.text((width / 2, y), ln, fill=(0, 0, 0), font=large if i == 0 and title else small, anchor="mt")
        y += line + 2
    y = top + h * up + 5
    for ln in warn:
        draw.text((left, y), ln, fill=_RED, font=small)
        y += line
    return _png(np.asarray(img))


_MIN_WIDTH = 640  # narrower images are enlarged by whole pixels so labels and outlines stay readable
_FONT_PX = 13
_RED, _YELLOW, _MAGENTA = (255, 0, 0), (255, 230, 0), (255, 0, 255)
_CYAN, _DARK_CYAN, _GOLD = (0, 220, 220), (0, 120, 130), (160, 110, 0)


def _lane_labels(lane_labels, centers, font):
    """Labels to draw above the lanes and on how many staggered lines (1 or 2).

    Labels wider than two lane pitches are shortened with an ellipsis; when neighbours would
    still overlap on one line, every other label goes one line up.
    """
    if lane_labels is None or len(centers) == 0:
        return [], 0
    centers = np.asarray(centers, dtype=float)
    pitch = float(np.min(np.diff(centers))) if len(centers) > 1 else np.inf
    labels = []
    for text in map(str, lane_labels):
        if font.getlength(text) > 2 * pitch - 6:
            while len(text) > 1 and font.getlength(text + "…") > 2 * pitch - 6:
                text = text[:-1]
            text += "…"
        labels.append(text)
    widths = [font.getlength(t) for t in labels]
    overlap = any((widths[i] + widths[i + 1]) / 2 + 4 > centers[i + 1] - centers[i] for i in range(len(labels) - 1))
    return labels, 2 if overlap else 1


@functools.lru_cache(maxsize=8)
def _font(size):
    """DejaVu Sans (shipped with matplotlib, so present wherever blotquant runs) at ``size`` px."""
    from pathlib import Path

    import matplotlib
    from PIL import ImageFont

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), size)


def _png(rgb):
    """PNG bytes of an RGB uint8 array: zlib level 2 with the 'sub' filter only.

    On a 1400 x 1100 overlay this takes ~20 ms for 340 kB; libpng's default (level 6, adaptive
    filters) ~5x longer for 5 % smaller files.
    """
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]),
                           [cv2.IMWRITE_PNG_COMPRESSION, 2, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB])
    if not ok:  # pragma: no cover - cv2 fails only on invalid arrays
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def _dashed(draw, a, b, *, on, off, fill, width=1):
    """A dashed straight line from ``a`` to ``b`` (display pixels): ``on`` drawn, ``off`` skipped."""
    (x0, y0), (x1, y1) = a, b
    length = float(np.hypot(x1 - x0, y1 - y0))
    if length == 0:
        return
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    for s in np.arange(0.0, length, on + off):
        e = min(s + on, length)
        draw.line([(x0 + ux * s, y0 + uy * s), (x0 + ux * e, y0 + uy * e)], fill=fill, width=width)


def render_plot(per_sample, summary, *, groups, letters=None):
    """Bar chart of mean ± SD fold change per target and group, with every sample as a dot.

    Parameters
    ----------
    per_sample : DataFrame
        Columns ``target, sample, group, fold_change``.
    summary : DataFrame
        Columns ``target, group, n, mean, sd``.
    groups : list of str
        Group order.
    letters : dict, optional
        ``{target: {group: text}}`` drawn above the bars (compact letters, or stars vs the control).

    Returns
    -------
    bytes
        PNG image, one panel per target (drawn as :func:`target_figure` draws one).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    targets = list(dict.fromkeys(summary["target"]))
    n = max(1, len(targets))
    labels = [str(g) for g in groups]
    panel = 1.0 + 0.7 * len(groups)
    ticks_in = _ticks_height(labels)
    height = 2.6 + ticks_in + 0.35
    fig = Figure(figsize=(panel * n, height), dpi=100)
    FigureCanvasAgg(fig)
    for k, target in enumerate(targets):
        ax = fig.add_axes(((k * panel + 0.65) / (panel * n), (ticks_in + 0.1) / height,
                           (panel - 0.8) / (panel * n), 2.6 / height))
        _draw_target(ax, per_sample, summary, target, groups=groups, marks=(letters or {}).get(target))
        ax.set_ylabel("fold change (mean ± SD)", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, pil_kwargs={"compress_level": 3})
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# publication figure, one per target

_TEST_NAMES = {
    "anova": "one-way ANOVA", "welch_anova": "Welch's ANOVA", "kruskal": "Kruskal-Wallis test",
    "lsd": "Fisher's LSD", "tukey": "Tukey-Kramer", "games_howell": "Games-Howell",
    "dunn": "Dunn's test (Holm-adjusted)", "dunnett": "Dunnett's test",
}
_OMNIBUS = ("anova", "welch_anova", "kruskal")
_PAIRWISE = ("lsd", "tukey", "games_howell", "dunn")
SVG_HASHSALT = "blotquant"  # fixed ids inside SVG files: two runs give identical bytes


def significance_marks(stats, target, *, groups, control, alpha):
    """What the figure of ``target`` shows above each group, from the configured post-hoc test.

    All-pairs tests (LSD, Tukey, Games-Howell, Dunn) give compact letters (groups sharing a
    letter do not differ); Dunnett's many-to-one test gives stars against the control group
    (``*`` p < 0.05, ``**`` < 0.01, ``***`` < 0.001, ``ns`` p >= alpha); no post-hoc test gives no marks.

    Parameters
    ----------
    stats : DataFrame
        stats.csv's rows (columns ``target, test, group_a, group_b, statistic, df, df2, p_value,
        selection``); only rows whose ``selection`` starts with ``configured`` are used.
    target : str
    groups : list of str
        Groups shown, in plot order.
    control : str
    alpha : float

    Returns
    -------
    dict
        ``kind`` ('letters', 'stars' or 'none'), ``test`` (post-hoc test name or None),
        ``marks`` ({group: text}), ``omnibus`` (e.g. 'one-way ANOVA, F(2, 6) = 147.8, p = 8e-06'
        or ''), ``legend`` (one sentence saying how to read the marks).

    Examples
    --------
    >>> import pandas as pd
    >>> st = pd.DataFrame({"target": "T", "test": ["dunnett", "dunnett"], "group_a": "C",
    ...                    "group_b": ["A", "B"], "statistic": [4.1, 0.3], "df": 6.0, "df2": None,
    ...                    "p_value": [0.004, 0.9], "selection": "configured"})
    >>> s = significance_marks(st, "T", groups=["C", "A", "B"], control="C", alpha=0.05)
    >>> s["kind"], s["marks"]
    ('stars', {'A': '**', 'B': 'ns'})
    """
    from blotquant.errors import BlotquantError
    from blotquant.stats import compact_letters, significance_stars

    out = {"kind": "none", "test": None, "marks": {}, "omnibus": "", "legend": ""}
    if stats is None or not len(stats):
        out["legend"] = "no tests (too few groups with values)"
        return out
    rows = stats[(stats["target"] == target) & stats["selection"].astype(str).str.startswith("configured")]
    if not len(rows):
        out["legend"] = "no tests for this target (see the flags)"
        return out
    omni = rows[rows["test"].isin(_OMNIBUS)]
    if len(omni):
        r = omni.iloc[0]
        if r["test"] == "kruskal":
            stat = f"H({_num(r['df'])}) = {r['statistic']:.3g}"
        else:
            stat = f"F({_num(r['df'])}, {_num(r['df2'])}) = {r['statistic']:.3g}"
        out["omnibus"] = f"{_TEST_NAMES[r['test']]}, {stat}, p = {_p(r['p_value'])}"
    pair = rows[rows["test"].isin(_PAIRWISE)]
    dunnett = rows[rows["test"] == "dunnett"]
    present = [g for g in groups if g in set(pair["group_a"]) | set(pair["group_b"])]
    if len(pair):
        test = str(pair["test"].iloc[0])
        try:
            out["marks"] = compact_letters(pair[pair["test"] == test], present, alpha=alpha)
        except BlotquantError as exc:  # e.g. a comparison not computed: no letters, the legend says why
            out["legend"] = f"no letters ({exc})"
            return out
        out.update(kind="letters", test=test,
                   legend=f"letters: {_TEST_NAMES[test]}, alpha = {alpha:g}; groups sharing a letter "
                          "do not differ significantly")
    elif len(dunnett):
        marks = {}
        for r in dunnett.itertuples(index=False):
            p = float(r.p_value)
            if p != p or p >= alpha:  # not computed, or not significant
                marks[r.group_b] = "" if p != p else "ns"
            else:  # significant; above the stars' 0.05 only when alpha is larger
                marks[r.group_b] = significance_stars(p) if p < 0.05 else f"p = {p:.2g}"
        out.update(kind="stars", test="dunnett", marks=marks,
                   legend=f"stars: {_TEST_NAMES['dunnett']} vs {control}, alpha = {alpha:g} "
                          "(* p < 0.05, ** p < 0.01, *** p < 0.001; ns: not significant)")
    else:
        out["legend"] = "no post-hoc test configured"
    return out


def _num(v):
    v = float(v)
    return f"{v:.0f}" if v == round(v) else f"{v:.2f}"


def _p(p):
    p = float(p)
    return "n/a" if p != p else f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def figure_caption(target, summary, *, loading_control, control, sig):
    """The caption of ``target``'s figure: what is plotted, n, error bars, test and alpha."""
    s = summary[summary["target"] == target]
    ns = ", ".join(f"{g} {int(n)}" for g, n in zip(s["group"], s["n"]))
    parts = [f"{target} / {loading_control}, fold change vs the {control} mean of each membrane. "
             f"Bars: mean ± SD (standard deviation); dots: individual samples (n = {ns})."]
    if sig["omnibus"]:
        parts.append(sig["omnibus"][0].upper() + sig["omnibus"][1:] + ".")
    if sig["legend"]:
        parts.append(sig["legend"][0].upper() + sig["legend"][1:] + ".")
    return " ".join(parts)


def target_figure(per_sample, summary, target, *, groups, marks=None, ylabel=None, legend=None):
    """Publication figure of one target: mean ± SD bars, every sample as a dot, significance marks.

    Parameters
    ----------
    per_sample : DataFrame
        Columns ``target, group, fold_change``.
    summary : DataFrame
        Columns ``target, group, mean, sd`` (summary.csv).
    target : str
    groups : list of str
        Bar order.
    marks : dict, optional
        ``{group: text}`` written above the bars (compact letters or stars).
    ylabel : str, optional
    legend : str, optional
        Short text under the axes (how to read bars, dots and marks).

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot (no global state); the bars are ``fig.axes[0]``'s BarContainer (with
        its error bars), the dots its collections, the marks its texts.

    Notes
    -----
    Dots are spread evenly across the bar (no random jitter), so the figure is the same on every
    run. Groups without values keep their place with no bar.
    """
    import textwrap as _tw

    from matplotlib.figure import Figure

    labels = [str(g) for g in groups]
    width = 1.2 + 0.75 * len(groups)
    legend_lines = _tw.wrap(legend, int(width * 16)) if legend else []
    # fixed margins in inches (no tight_layout: one draw less, same size on every run): tick labels
    # (rotated 30 degrees when long), then the legend lines
    ticks_in = _ticks_height(labels)
    bottom_in = 0.12 + ticks_in + 0.11 * len(legend_lines)
    top_in, left_in, right_in, plot_in = 0.35, 0.85, 0.15, 2.2
    height = bottom_in + plot_in + top_in
    fig = Figure(figsize=(width, height), dpi=150)
    ax = fig.add_axes((left_in / width, bottom_in / height, 1 - (left_in + right_in) / width, plot_in / height))
    _draw_target(ax, per_sample, summary, target, groups=groups, marks=marks)
    ax.set_ylabel(ylabel or "fold change", fontsize=8, parse_math=False)
    if legend_lines:
        fig.text(0.08 / width, 0.08 / height, "\n".join(legend_lines), fontsize=6, ha="left", va="bottom",
                 color="0.25", linespacing=1.3, parse_math=False)
    return fig


def _ticks_height(labels):
    """Inches below the axes taken by 8 pt tick labels (rotated 30 degrees when long)."""
    longest = max(map(len, labels), default=0)
    # a character of DejaVu Sans is ~0.62 em wide on average; sin(30 degrees) = 0.5
    return 0.3 + (longest * 8 * 0.62 / 72 * 0.5 + 0.1 if _rotate(labels) else 0.0)


def _rotate(labels):
    """Tick labels are rotated 30 degrees when long and more than two."""
    return max(map(len, labels), default=0) > 6 and len(labels) > 2


def _draw_target(ax, per_sample, summary, target, *, groups, marks=None):
    """Bars (mean ± SD), dots (samples, spread evenly, no random jitter) and marks of one target."""
    marks = marks or {}
    s = summary[summary["target"] == target].set_index("group").reindex(groups)
    pts = per_sample[per_sample["target"] == target]
    labels = [str(g) for g in groups]
    x = np.arange(len(groups))
    mean, sd = s["mean"].to_numpy(float), s["sd"].to_numpy(float)
    ax.bar(x, mean, width=0.6, yerr=sd, capsize=4, color="0.85", edgecolor="0.1", linewidth=0.8,
           error_kw={"elinewidth": 0.8, "capthick": 0.8, "ecolor": "0.1"})
    tops, lows = [], [0.0]
    for i, g in enumerate(groups):
        v = pts.loc[pts["group"] == g, "fold_change"].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        dx = np.linspace(-0.16, 0.16, len(v)) if len(v) > 1 else np.zeros(len(v))
        ax.scatter(i + dx, v, s=14, color="black", zorder=3, linewidths=0)
        reach = [*v, mean[i] + np.nan_to_num(sd[i])] if np.isfinite(mean[i]) else list(v)
        tops.append(max(reach) if reach else np.nan)
        lows += [*v, mean[i] - np.nan_to_num(sd[i])] if np.isfinite(mean[i]) else list(v)
    finite = [t for t in tops if np.isfinite(t)]
    ymax = max(finite + [1.0]) if finite else 1.0
    ymin = min(lows)
    pad = 0.04 * (ymax - ymin)
    for i, g in enumerate(groups):
        if g in marks and np.isfinite(tops[i]):
            ax.text(i, tops[i] + pad, str(marks[g]), ha="center", va="bottom", fontsize=9)
    ax.axhline(1.0, color="0.5", lw=0.6, ls=":", zorder=0)
    rotate = _rotate(labels)
    ax.set_xticks(x, labels, rotation=30 if rotate else 0, ha="right" if rotate else "center",
                  rotation_mode="anchor" if rotate else "default", fontsize=8, parse_math=False)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylim(ymin * 1.1 if ymin < 0 else 0.0, ymax + 0.18 * (ymax - ymin))
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(str(target), fontsize=10, parse_math=False)  # names are text: a "$" is not TeX


def figure_bytes(fig, fmt):
    """Save a figure as ``png``, ``svg`` or ``pdf`` bytes, identical on every run.

    SVG: fixed hash salt, text kept as text (editable), no date. PDF: TrueType fonts (editable),
    no creation date. PNG: 300 dpi.
    """
    import matplotlib

    rc = {"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "none", "pdf.fonttype": 42}
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}.get(fmt)
    buf = io.BytesIO()
    with matplotlib.rc_context(rc):
        if fmt == "png":
            fig.savefig(buf, format="png", dpi=300, pil_kwargs={"compress_level": 6})
        else:
            fig.savefig(buf, format=fmt, metadata=metadata)
    return buf.getvalue()
