"""Row windows as a careful user types them on a simulated blot: cut between close bands.

The simulator's own windows (``sim.windows``) reach 4 band sd beyond the target's rows in every
lane, so a neighbour 1.8-5 sd away lies inside them. A user who sees a close band beside the
target cuts the window between the two: here at the midpoint of their rows in the lane where
they are closest, but never so close that a lane's target peak falls within 2 rows of the edge.
Used by tests/test_bands.py and benchmarks/accuracy.py.
"""

import math


def careful_windows(sim):
    """Target name -> (top, bottom) rows, cut between the target and its close bands."""
    truth = sim.truth
    out = {}
    for name, (top, bottom) in sim.windows.items():
        tg = truth[(truth["target"] == name) & (truth["kind"] == "target")].set_index("lane")["row"]
        others = truth[truth["target"].str.startswith(f"{name}~")]
        for _, band in others.groupby("target"):
            row = band.set_index("lane")["row"].reindex(tg.index)
            mid = 0.5 * (tg + row)
            if row.mean() > tg.mean():  # below the target: the bottom moves up
                bottom = min(bottom, max(int(math.floor(mid.min())), int(math.ceil(tg.max())) + 2))
            else:
                top = max(top, min(int(math.ceil(mid.max())), int(math.floor(tg.min())) - 2))
        out[name] = (top, bottom)
    return out
