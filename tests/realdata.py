"""Where the real blots live and how their annotations are read, shared by the real-image tests.

The images stay in ../shared/data/real (never copied into the project); every function here
returns nothing when that folder is absent, so the tests that use it skip.
"""

from pathlib import Path

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
