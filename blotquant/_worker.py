"""First import of every worker process of ``blotquant run --jobs N`` (see :mod:`blotquant.batch`).

The forkserver preloads this module once; every worker is then forked from that clean,
single-threaded server with the imports already done, so a worker starts in milliseconds.
Each worker runs one image at a time and the pool has one worker per core, so the numerical
libraries must not start a thread per core of their own in every worker (2 workers x 2 BLAS
threads on 2 cores would oversubscribe): the thread counts are set here, before numpy loads.
A user's own setting of these variables is kept, and nothing is set in a process where numpy
is already loaded (there the variables would have no effect on it).
"""

import os
import sys

if "numpy" not in sys.modules:  # a fresh process: the forkserver, or a spawned worker
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

# What a worker needs (measuring an image, writing an experiment's results), imported once in the
# forkserver rather than at the first image of every worker (about 0.5 s each). Workers only draw
# to files, so matplotlib gets its file-only backend before pyplot loads.
import cv2  # noqa: E402,F401
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: E402,F401
try:  # tifffile's decoders of the deflate TIFFs imagers write (loaded on first use otherwise)
    import imagecodecs._deflate  # noqa: E402,F401
    import imagecodecs._zlib  # noqa: E402,F401
except ImportError:  # a build without them: tifffile falls back to zlib
    pass
import PIL.ImageDraw  # noqa: E402,F401 - the overlay's labels
import PIL.ImageFont  # noqa: E402,F401
import scipy.interpolate  # noqa: E402,F401
import scipy.ndimage  # noqa: E402,F401
import scipy.optimize  # noqa: E402,F401
import scipy.signal  # noqa: E402,F401
import scipy.stats  # noqa: E402,F401

from blotquant import (  # noqa: E402,F401
    background, bands, config, io, lanes, marks, mw, normalize, pipeline, report, stats, strips, vendor,
)

