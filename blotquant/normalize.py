"""Loading-control ratios per membrane and fold change against the control group.

A target band is divided by the loading-control band of the same lane on the same membrane; the
ratio is then divided by the mean ratio of the control group on that membrane, so membranes
imaged with different exposures combine. Nothing is divided silently: a lane whose loading control
is missing, not positive or saturated, or whose target band is saturated, gets NaN and a flag.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["normalize", "per_sample", "NORMALIZED_COLUMNS"]

#: A loading control below this fraction of its membrane's median is not divided by (NaN + flag):
#: an empty or misplaced lane would otherwise multiply the target by tens or hundreds.
_LC_MIN_FRACTION = 0.2

NORMALIZED_COLUMNS = [
    "membrane",
    "sample",
    "group",
    "target",
    "volume",
    "loading_control_volume",
    "ratio",
    "fold_change",
    "flag",
]


#: in measure_bands' note: "... (12 % of the volume) in the band's rows assigned to the neighbour"
_SPLIT_SHARE = r"\((\d+(?:\.\d+)?) % of the volume\)"
#: a split share this far from the control group's median lane (same target and membrane) is flagged
_SPLIT_EXCESS = 0.10


def normalize(bands, *, loading_control, control_group):
    """Divide every target by its lane's loading control and by the control-group mean ratio.

    Parameters
    ----------
    bands : DataFrame
        One row per lane × target with at least the columns ``membrane, target, sample, group,
        volume, saturated``; an optional boolean ``found`` column marks bands that were not
        detected (their volume was measured at the expected row).
    loading_control : str
        Target name of the loading control (e.g. ``"beta-actin"``).
    control_group : str
        Group whose mean ratio on each membrane defines fold change 1.

    Returns
    -------
    normalized : DataFrame
        One row per membrane × sample × target (loading control excluded) with the columns of
        ``NORMALIZED_COLUMNS``. ``ratio = volume / loading_control_volume``; ``fold_change =
        ratio / mean(ratio of the control group on that membrane)``. ``flag`` is empty when the
        numbers are trustworthy, otherwise it says why they are NaN or doubtful.
    params : dict
        Per ``"membrane/target"``: the control-group mean ratio used (``control_mean_ratio``), how
        many lanes it used, and the control group's median share of the target's and the loading
        control's volume that the fit gave to a touching neighbour (``median_split_share``,
        ``loading_control_median_split_share``), the reference of the split flags.

    Notes
    -----
    NaN (with a flag) when the loading control is missing, not detected, not positive, saturated
    or below 20 % of its membrane's median loading control, or the target band is saturated, or
    either lane strip runs off the image (its ``note`` says "outside the image"): a
    saturated band's volume is an underestimate of unknown size. A target band that was not
    detected keeps its measured volume (a real absence of signal is a result) and is flagged.
    Control lanes whose ratio is not positive are left out of the reference mean (and flagged).

    Examples
    --------
    >>> bands = pd.DataFrame({
    ...     "membrane": "m1", "sample": ["C1", "C1", "I1", "I1"],
    ...     "group": ["Control", "Control", "IL6", "IL6"],
    ...     "target": ["TNAP", "actin", "TNAP", "actin"],
    ...     "volume": [100.0, 200.0, 300.0, 200.0], "saturated": False})
    >>> out, _ = normalize(bands, loading_control="actin", control_group="Control")
    >>> out[["sample", "ratio", "fold_change"]].to_numpy().tolist()
    [['C1', 0.5, 1.0], ['I1', 1.5, 3.0]]
    """
    bands = bands.copy()
    if "found" not in bands:
        bands["found"] = True
    # a lane strip cut by the image edge under-counts its band: never divided, like saturation
    clipped = bands["note"].fillna("").str.contains("outside the image") if "note" in bands else False
    bands["clipped"] = clipped
    if "note" not in bands:
        bands["note"] = ""
    bands["note"] = bands["note"].fillna("")
    # share of each band's volume that the fit assigned away to a touching neighbour; fold change
    # divides by the control group, so a share the control lanes have too cancels, and what is
    # flagged is a lane's distance from the control group's median share (all lanes' median when
    # the membrane has no control lane of that target)
    bands["split_share"] = bands["note"].str.extract(_SPLIT_SHARE, expand=False).astype(float).fillna(0.0) / 100
    keys = ["membrane", "target"]
    typical = bands.groupby(keys)["split_share"].median()
    control = bands[bands["group"] == control_group].groupby(keys)["split_share"].median() \
        if "group" in bands else typical.iloc[:0]
    typical = control.combine_first(typical)
    bands["split_excess"] = bands["split_share"] - typical.reindex(
        pd.MultiIndex.from_frame(bands[keys])).to_numpy()
    lc = bands[bands["target"] == loading_control].set_index(["membrane", "sample"])
    usable_lc = lc[lc["found"].astype(bool) & ~lc["saturated"].astype(bool)]
    lc_median = usable_lc.groupby(level="membrane")["volume"].median().to_dict()
    # each lane's loading-control row, looked up per target row (the first when a lane has two):
    # a dict, as a .loc on the MultiIndex per row costs ~0.2 ms (0.25 s for 50 membranes)
    lc_rows = {}
    for key, lc_rec in zip(lc.index, lc.reset_index(drop=True).to_dict("records")):
        lc_rows.setdefault(key, lc_rec)
    rows = []
    for rec in bands[bands["target"] != loading_control].itertuples(index=False):
        key = (rec.membrane, rec.sample)
        blocking, notes = [], []
        lc_volume = np.nan
        if key not in lc_rows:
            blocking.append(f"no {loading_control} band for this sample on membrane {rec.membrane}")
        else:
            lc_rec = lc_rows[key]
            lc_volume = float(lc_rec["volume"])
            if bool(lc_rec["saturated"]):
                blocking.append(f"{loading_control} band saturated")
            if bool(lc_rec["clipped"]):
                blocking.append(f"{loading_control} lane partly outside the image")
            if not np.isfinite(lc_volume) or lc_volume <= 0:
                blocking.append(f"{loading_control} volume not positive ({lc_volume:.6g})")
            notes += _guesses(lc_rec, loading_control)
            if not bool(lc_rec["found"]):
                blocking.append(f"{loading_control} band not detected")
            elif np.isfinite(lc_volume) and lc_volume > 0 and lc_volume < _LC_MIN_FRACTION * lc_median[rec.membrane]:
                blocking.append(f"{loading_control} volume {lc_volume:.4g} is below "
                                f"{_LC_MIN_FRACTION:.0%} of the membrane's median "
                                f"({lc_median[rec.membrane]:.4g}): check that lane")
        volume = float(rec.volume)
        if bool(rec.saturated):
            blocking.append("target band saturated")
        if bool(rec.clipped):
            blocking.append("target lane partly outside the image")
        if not bool(rec.found):
            notes.append("target band not detected (volume measured at the expected row)")
        notes += _guesses(rec._asdict(), "target")
        ratio = np.nan if blocking else volume / lc_volume
        flags = blocking + notes
        rows.append(
            {
                "membrane": rec.membrane,
                "sample": rec.sample,
                "group": rec.group,
                "target": rec.target,
                "volume": volume,
                "loading_control_volume": lc_volume,
                "ratio": ratio,
                "flag": "; ".join(flags),
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in NORMALIZED_COLUMNS if c != "fold_change"])
    params = {}
    fold = np.full(len(out), np.nan)
    for (membrane, target), idx in out.groupby(["membrane", "target"], sort=False).groups.items():
        sub = out.loc[idx]
        ref = sub.loc[sub["group"] == control_group, "ratio"].dropna()
        for i in ref.index[ref <= 0]:  # a negative/zero reference would flip or inflate every fold change
            out.at[i, "flag"] = "; ".join(f for f in (out.at[i, "flag"], "ratio not positive: left out of the "
                                                      f"{control_group} mean") if f)
        ref = ref[ref > 0]
        mean_ref = float(ref.mean()) if len(ref) else np.nan
        params[f"{membrane}/{target}"] = {
            "control_mean_ratio": mean_ref, "control_lanes_used": int(len(ref)),
            # the control group's median share of the volume split off to a touching neighbour
            # (target, loading control): the reference of the split flags
            "median_split_share": float(typical.get((membrane, target), 0.0)),
            "loading_control_median_split_share": float(typical.get((membrane, loading_control), 0.0))}
        if len(ref) and mean_ref > 0:
            fold[out.index.get_indexer(idx)] = sub["ratio"].to_numpy() / mean_ref
        else:
            why = f"no usable {control_group} lane on membrane {membrane}: fold change undefined"
            for i in idx:
                out.at[i, "flag"] = "; ".join(f for f in (out.at[i, "flag"], why) if f)
    out.insert(NORMALIZED_COLUMNS.index("fold_change"), "fold_change", fold)
    return out, params


def _guesses(rec, what):
    """Non-blocking flags for what measure_bands had to infer (its ``note`` column).

    A split from a touching neighbour is flagged when the share of this lane's volume the fit gave
    to the neighbour differs by at least ``_SPLIT_EXCESS`` from the control group's median lane
    (same target and membrane): a split the control lanes share scales numerator and reference
    alike and cancels in the fold change; one they do not share does not.
    """
    out = []
    if "taken from neighbouring lanes" in rec["note"]:
        out.append(f"{what} band row taken from neighbouring lanes (weak or off the smile)")
    if "colour-marked (ink) pixels" in rec["note"]:
        out.append(f"{what} lane has colour marks (ink) near the band: see bands.csv note and the overlay")
    if "the fit gave the band no area" in rec["note"]:
        out.append(f"{what} volume unreliable: the joint fit gave the band no area in this lane "
                   "(see bands.csv note)")
    soft = re.search(r"uncertain volume: (bootstrap|fit) sd (\d+) %", rec["note"])
    if soft:
        out.append(f"{what} volume uncertain: its {soft.group(1)} sd is {soft.group(2)} % of the volume "
                   "(bands.csv volume_sd)")
    if abs(rec["split_excess"]) >= _SPLIT_EXCESS - 1e-12:
        out.append(f"{what} band split from a touching neighbour by the fit: "
                   f"{100 * rec['split_share']:.0f} % of its volume assigned to the neighbour, "
                   f"{100 * abs(rec['split_excess']):.0f} points {'more' if rec['split_excess'] > 0 else 'less'} "
                   "than the control group's median lane")
    return out


def per_sample(normalized):
    """Average fold change per sample and target across membranes (technical replicates).

    Parameters
    ----------
    normalized : DataFrame
        Output of :func:`normalize`.

    Returns
    -------
    DataFrame
        Columns ``target, sample, group, fold_change, n_membranes``; samples whose fold change is
        NaN on every membrane keep a NaN row.

    Examples
    --------
    >>> t = pd.DataFrame({"membrane": ["m1", "m2"], "sample": "C1", "group": "Control",
    ...                   "target": "TNAP", "fold_change": [0.9, 1.3]})
    >>> row = per_sample(t).iloc[0]
    >>> round(float(row["fold_change"]), 6), int(row["n_membranes"])
    (1.1, 2)
    """
    grouped = normalized.groupby(["target", "sample", "group"], sort=False)["fold_change"]
    out = grouped.agg(fold_change="mean", n_membranes="count").reset_index()
    out["n_membranes"] = out["n_membranes"].astype(int)
    return out
