"""Overlay images that show exactly which pixels were counted, and the group plot."""

from __future__ import annotations

import io
import textwrap

import numpy as np

__all__ = ["render_overlay", "render_plot", "display_copy"]

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


def _figure_bytes(fig) -> bytes:
    buf = io.BytesIO()
    # zlib level 3: overlays are mostly smooth image, where level 6 costs ~40 % more time for ~2 % smaller files
    fig.savefig(buf, format="png", dpi=fig.dpi, pil_kwargs={"compress_level": 3})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def render_overlay(data, saturated, lanes, bands, *, title="", lane_labels=None, warnings=(), marks=None):
    """Draw lanes, counted band pixels and saturated pixels over a display copy of the image.

    Parameters
    ----------
    data : ndarray, shape (rows, cols)
        The analysed signal (bands bright), in the coordinates of ``lanes`` and ``bands``.
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
        Printed in red under the title (e.g. more lane-like columns seen than lanes listed).
    marks : ndarray of bool, shape (rows, cols), optional
        Colour marks (ink, handwriting) left out of lane finding (drawn magenta).

    Returns
    -------
    bytes
        PNG image.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    rows, cols = data.shape
    step = max(1, int(np.ceil(max(rows, cols) / _MAX_SIDE)))
    shown = display_copy(data[::step, ::step])
    rgb = np.dstack([shown] * 3)
    if marks is not None:
        rgb[marks[::step, ::step]] = [1.0, 0.0, 1.0]
    sat = saturated[::step, ::step]
    rgb[sat] = [1.0, 0.0, 0.0]
    width_in = min(16.0, max(6.0, cols / step / 100))
    right_in = 0.9
    # fixed margins in inches, sized from the wrapped text (title above, warnings below, target
    # names right), instead of tight_layout, which draws the whole figure once more to measure it
    legend = "yellow: counted pixels; red: saturated; dotted: band not found"
    if marks is not None and marks.any():
        legend += "; magenta: colour marks (ink) left out of lane finding"
    head = [line for part in (title, legend) for line in textwrap.wrap(part, int((width_in + right_in) * 15))]
    warn = [line for text in warnings
            for line in textwrap.wrap("WARNING: " + text, int((width_in + right_in) * 17),
                                      subsequent_indent="    ")]
    line_in = 7 * 1.25 / 72  # 7-8 pt text, 1.25 line spacing
    top_in = 0.35 + line_in * 1.1 * len(head)
    bottom_in = 0.1 + line_in * len(warn)
    height_in = width_in * rows / cols + top_in + bottom_in
    fig, ax = plt.subplots(figsize=(width_in + right_in, height_in), dpi=100)
    fig.subplots_adjust(left=0.05 / (width_in + right_in), right=1 - right_in / (width_in + right_in),
                        top=1 - top_in / height_in, bottom=bottom_in / height_in)
    ax.imshow(rgb, extent=(-0.5, cols - 0.5, rows - 0.5, -0.5), interpolation="nearest")
    ys = np.array([0.0, rows - 1.0])
    xs = lanes.x_at(ys[:, None])  # (2, n_lanes)
    for i in range(len(lanes.centers)):
        ax.plot(xs[:, i], ys, ls="--", lw=0.6, color="cyan", alpha=0.7)
        if lane_labels is not None:
            ax.text(lanes.x_at(0.0)[i], 0, str(lane_labels[i]), color="cyan", fontsize=7,
                    ha="center", va="bottom")
    for rec in bands.itertuples(index=False):
        # pixel edges of the counted rows; a tilted membrane's band rows are sheared perpendicular
        # to the lanes (slope -lanes.slope across the lane), as measure_bands gathers them
        top, bottom = float(rec.band_top) - 0.5, float(rec.band_bottom) + 0.5
        half = (float(rec.x_right) - float(rec.x_left)) / 2
        shear = -float(lanes.slope) * half
        x_top = lanes.x_at(top)[int(rec.lane) - 1]
        x_bot = lanes.x_at(bottom)[int(rec.lane) - 1]
        poly = [(x_top - half, top - shear), (x_top + half, top + shear),
                (x_bot + half, bottom + shear), (x_bot - half, bottom - shear)]
        colour = "red" if bool(rec.saturated) else "yellow"
        style = "-" if bool(getattr(rec, "found", True)) else ":"
        ax.add_patch(Polygon(poly, closed=True, fill=False, ec=colour, lw=0.8, ls=style))
    targets = list(dict.fromkeys(bands["target"])) if len(bands) else []
    for target in targets:
        sub = bands[bands["target"] == target]
        ax.text(cols - 1, float(sub["band_row"].median()), f" {target}", color="darkgoldenrod",
                fontsize=8, va="center", ha="left", clip_on=False)
    fig.text(0.5, 1 - 0.05 / height_in, "\n".join(head), fontsize=8, ha="center", va="top", linespacing=1.25)
    if warn:
        fig.text(0.05 / (width_in + right_in), (bottom_in - 0.05) / height_in, "\n".join(warn), color="red",
                 fontsize=7, ha="left", va="top", linespacing=1.25)
    ax.set_axis_off()
    return _figure_bytes(fig)


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
        ``{target: {group: letters}}`` compact letter display drawn above the bars.

    Returns
    -------
    bytes
        PNG image.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = list(dict.fromkeys(summary["target"]))
    n = max(1, len(targets))
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.6), dpi=100, squeeze=False)
    rng = np.random.default_rng(0)  # jitter of the dots only
    for ax, target in zip(axes[0], targets):
        s = summary[summary["target"] == target].set_index("group").reindex(groups)
        x = np.arange(len(groups))
        ax.bar(x, s["mean"], yerr=s["sd"], capsize=4, color="0.8", edgecolor="0.2")
        pts = per_sample[per_sample["target"] == target]
        for i, g in enumerate(groups):
            v = pts.loc[pts["group"] == g, "fold_change"].dropna().to_numpy()
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(v)), v, s=12, color="black", zorder=3)
            if letters and target in letters and g in letters[target]:
                top = np.nanmax([s.loc[g, "mean"] + np.nan_to_num(s.loc[g, "sd"]), *(v if len(v) else [0])])
                ax.text(i, top * 1.05, letters[target][g], ha="center", va="bottom", fontsize=9)
        ax.axhline(1.0, color="0.5", lw=0.6, ls=":")
        ax.set_xticks(x, groups, rotation=30, ha="right", fontsize=8)
        ax.set_title(target, fontsize=10)
        ax.set_ylabel("fold change (mean ± SD)", fontsize=8)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.15)  # headroom for the letters
    fig.tight_layout()
    return _figure_bytes(fig)
