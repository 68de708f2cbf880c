"""Lane finding and lane geometry.

SKELETON: the dataclass below is the contract other modules code against. Its owner may add
fields (with defaults) but must not rename or remove these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Lanes", "find_lanes", "lanes_from_centers"]


@dataclass(frozen=True)
class Lanes:
    """Geometry of the lanes of one membrane, in the pixel coordinates of the array analysed.

    Lane ``i`` (0-based position in the arrays) has its centre line at
    ``x_i(y) = centers[i] + slope * (y - y_ref)``; a tilted membrane has a common non-zero slope
    (dx/dy, ``tan`` of the rotation angle). Lane ``i`` spans ``x_i(y) ± widths[i] / 2``.

    Attributes
    ----------
    centers : ndarray of float, shape (n_lanes,)
        Lane centre columns at row ``y_ref``, increasing left to right.
    widths : ndarray of float, shape (n_lanes,)
        Lane widths in pixels.
    slope : float
        dx/dy of every lane's centre line (0 for an untilted membrane).
    y_ref : float
        Row at which ``centers`` are given.
    """

    centers: np.ndarray
    widths: np.ndarray
    slope: float = 0.0
    y_ref: float = 0.0

    def x_at(self, y):
        """Centre column of every lane at row(s) ``y``; shape ``(n_lanes,)`` or broadcast."""
        return self.centers + self.slope * (np.asarray(y, dtype=float) - self.y_ref)
