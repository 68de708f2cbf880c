"""Where the real blots live and how their annotations are read, shared by the real-image tests.

The images stay in ../shared/data/real (never copied into the project); every function here
returns nothing when that folder is absent, so the tests that use it skip.
"""

import math
from pathlib import Path

import numpy as np
import yaml

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
ANNOTATIONS = REAL / "annotations"


def annotated_images():
    """``(set name, image entry)`` for every image of every annotation file, in file order."""
    if not ANNOTATIONS.is_dir():
        return []
    out = []
    for ann in sorted(ANNOTATIONS.glob("*.yaml")):
        doc = yaml.safe_load(ann.read_text())
        out.extend((doc["set"], entry) for entry in doc["images"])
    return out


def user_window(ys, pad=15):
    """Row window a user would type around annotated rows ``ys``: ± ``pad``, widened to multiples of 5."""
    return (int(5 * math.floor((min(ys) - pad) / 5.0)), int(5 * math.ceil((max(ys) + pad) / 5.0)))


def user_windows(strip):
    """``{band key: user_window of its annotated rows across the strip's lanes}``."""
    keys = {}
    for lane in strip["lanes"]:
        for key, band in (lane.get("bands") or {}).items():
            keys.setdefault(key, []).append(band["y"])
    return {key: user_window(ys) for key, ys in keys.items()}


def lane_rows(strip):
    """Row at which each lane's centre is compared: its first band's, else the strip's median."""
    ys = np.array([next(iter(lane["bands"].values()))["y"] if lane.get("bands") else np.nan
                   for lane in strip["lanes"]], dtype=float)
    return np.where(np.isfinite(ys), ys, np.nanmedian(ys) if np.isfinite(ys).any() else 0.0)
