"""Reading blot images as raw counts, polarity, detector ceiling, provenance; atomic writes.

SKELETON: the dataclass below is the contract other modules code against. Its owner may add
fields (with defaults) but must not rename or remove these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["BlotImage", "read_blot"]


@dataclass(frozen=True)
class BlotImage:
    """A blot image as raw detector counts, oriented so that bands are bright.

    Attributes
    ----------
    data : ndarray of float64, shape (rows, cols)
        Signal in raw counts with bands brighter than the background. For ``light-bands`` images
        this is the stored pixel value unchanged; for ``dark-bands`` images it is
        ``ceiling - stored`` (inverted against the detector ceiling, never the image maximum).
        Never rescaled or clipped.
    saturated : ndarray of bool, shape (rows, cols)
        Pixels at the detector's limit in the stored image (``stored >= ceiling`` for light bands,
        ``stored <= 0`` for dark bands).
    ceiling : float
        Detector ceiling in stored counts: the dtype maximum unless the histogram shows a lower
        hard plateau (e.g. 4095 for 12-bit data in a 16-bit container).
    polarity : {"light-bands", "dark-bands"}
        How bands appeared in the stored file.
    dtype : str
        Stored sample type (``"uint16"``, ``"uint8"``, ``"float32"``...).
    path : str
        Source file ('' for in-memory images).
    sha256 : str
        Hash of the source file's bytes ('' for in-memory images).
    page : int
        Page (series) index read from a multi-page file.
    origin : tuple of int
        ``(x0, y0)`` of ``data[0, 0]`` in the source image's pixel coordinates (non-zero after a
        crop to a region).
    choices : dict
        What was decided automatically while reading (polarity evidence, ceiling evidence,
        colour conversion...). Lands in run.json.
    """

    data: np.ndarray
    saturated: np.ndarray
    ceiling: float
    polarity: str
    dtype: str
    path: str = ""
    sha256: str = ""
    page: int = 0
    origin: tuple[int, int] = (0, 0)
    choices: dict = field(default_factory=dict)
