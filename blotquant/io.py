"""Reading blot images as raw counts, polarity, detector ceiling, provenance; atomic writes.

The :class:`BlotImage` dataclass is the contract other modules code against: fields may be added
(with defaults) but not renamed or removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import uuid
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import tifffile

from blotquant._util import is_tiff
from blotquant.errors import BlotquantError, ImageError, LayoutError

__all__ = ["BlotImage", "read_blot", "blot_from_array", "crop", "detection_copy", "sha256_file",
           "check_output_dir", "atomic_output_dir", "image_size"]


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
    mask : ndarray of bool, shape (rows, cols), or None
        True where a pixel holds image content; False for fully transparent padding of RGBA
        files. None when every pixel is content. Such padding is never flagged saturated.
    marks : ndarray of bool, shape (rows, cols), or None
        True on colour marks of a colour file -- ink, handwriting, pen, coloured overlays whose
        colour leaves the film's own darkening axis (see
        :func:`blotquant.marks.find_colour_marks`; what was found is in ``choices["marks"]``).
        None for grey files. ``data`` is not changed there: lane finding uses
        :func:`detection_copy`; band location and integration (``measure_bands``) use ``data``.
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
    mask: np.ndarray | None = None
    marks: np.ndarray | None = None


_LOG = logging.getLogger("blotquant")

#: Rec. 709 luminance weights used for colour files (alpha is ignored).
LUMA_WEIGHTS = (0.2125, 0.7154, 0.0721)
POLARITIES = ("auto", "light-bands", "dark-bands")
_TIFF_SUFFIXES = (".tif", ".tiff", ".gel", ".scn")
_JPEG_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif")
#: Height (rows) of the vertical line used by the top-hat polarity test; bands are thinner than this.
_TOPHAT_ROWS = 15
_POLARITY_MAX_SIDE = 1600  # polarity is decided on a copy no larger than this (pixels per side)
#: A top-hat ratio beyond this factor (either way) decides polarity on its own.
_TOPHAT_DECISIVE = 2.0
#: Minimum pixel pile-up at the maximum value to call it a hard plateau (detector ceiling).
_PLATEAU_MIN_PIXELS = 50
#: Polarity statistics use every k-th pixel so that about this many remain.
_STATS_SAMPLE = 250_000
_PLATEAU_MIN_FRACTION = 1e-5
_PLATEAU_EXCESS = 10.0
#: A pile-up holding this fraction of the image or more is the background, not a ceiling, unless
#: it sits at a bit-depth limit (2**k - 1).
_PLATEAU_MAX_FRACTION = 0.05


def read_blot(path, *, page=None, polarity="auto", ceiling=None, find_marks=True):
    """Read a blot image as raw counts with bands bright.

    Parameters
    ----------
    path : str or path-like
        TIFF (read through tifffile's series interface), PNG, GIF or JPEG file, or a vendor
        format chosen by suffix (see :mod:`blotquant.vendor`): Bio-Rad Image Lab ``.scn``,
        Bio-Rad ``.1sc`` (needs ``pip install 'blotquant[vendor]'``), Molecular Dynamics /
        Typhoon ``.gel`` (square-root encoding decoded to linear counts).
    page : int, optional
        Series of a multi-series TIFF, page (frame) of a single multi-page series or animated
        file, or scan of a ``.scn``. Default: the first, except that a TIFF whose page 0 is a
        colour (marker / white-light) image and which has a greyscale page reads the first
        greyscale page (recorded in ``choices["page"]``; see
        :func:`blotquant.vendor.describe_pages`).
    polarity : {"auto", "light-bands", "dark-bands"}, optional
        How bands appear in the stored file; ``auto`` decides from the image and records why.
    find_marks : bool, optional
        Look for colour marks on a colour file (default). ``False`` skips the search, e.g. for a
        picture only the ladder is read from; ``choices["marks"]`` then says so.
    ceiling : float, optional
        Detector ceiling in stored counts. Default: detected (dtype maximum or a lower hard
        plateau, see :func:`blot_from_array`).

    Returns
    -------
    blot : BlotImage
        ``data`` is float64 raw counts (inverted against the ceiling for dark bands), never
        rescaled or clipped; ``sha256`` is the hash of the file's bytes.

    Raises
    ------
    ImageError
        When the file is missing, unreadable, or not a 2-D grey or colour image.

    Notes
    -----
    Colour files are converted to luminance ``0.2125 R + 0.7154 G + 0.0721 B`` (alpha ignored,
    fully transparent pixels marked invalid) with a logged warning, and their colour marks (ink,
    handwriting) are found into ``marks`` (:func:`blotquant.marks.find_colour_marks`; use
    :func:`detection_copy` for lane finding). A pseudo-colour (LUT) rendering is recognised,
    logged as not quantitative, and not searched for marks. Planar TIFFs (one page per colour
    plane, ``planarconfig='separate'``) are read as RGB. JPEG files are read with a warning that
    lossy compression makes them non-quantitative. A TIFF's ``MINISWHITE`` tag is
    recorded but not applied: stored values are kept as counts. The file's first bytes decide
    whether it is a TIFF: a TIFF named ``.png`` is read as a TIFF, with a logged note.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, tifffile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "blot.tif"
    >>> tifffile.imwrite(p, np.full((4, 5), 100, dtype=np.uint16))
    >>> blot = read_blot(p, polarity="light-bands")
    >>> blot.data.shape, blot.data[0, 0], blot.ceiling, blot.dtype
    ((4, 5), np.float64(100.0), 65535.0, 'uint16')
    """
    from blotquant import vendor

    path = Path(path)
    page_choice = None
    if page is None:
        _check_exists(path)
        page, page_choice = vendor.default_page(path)
    stored, meta = _read_stored(path, page)
    # vendor readers state what their header knows: detector ceiling, band polarity
    hint_ceiling = meta.pop("_ceiling", None) if ceiling is None else None
    hint_polarity = meta.pop("_polarity", None) if polarity == "auto" else None
    blot = blot_from_array(stored, polarity=hint_polarity[0] if hint_polarity else polarity,
                           ceiling=hint_ceiling[0] if hint_ceiling else ceiling,
                           path=str(path), page=page, _meta=meta, find_marks=find_marks)
    if hint_ceiling:
        blot.choices["ceiling"]["method"] = hint_ceiling[1]
    if hint_polarity:
        blot.choices["polarity"].update(method="file header", decided_by=hint_polarity[1])
    if page_choice is not None:
        blot.choices["page"] = page_choice
    return replace(blot, sha256=sha256_file(path))


def blot_from_array(array, *, polarity="auto", ceiling=None, path="", page=0, _meta=None, find_marks=True):
    """Make a :class:`BlotImage` from an in-memory array of stored pixel values.

    Parameters
    ----------
    array : array_like, shape (rows, cols) or (rows, cols, 3 | 4)
        Stored values: integer or float grey, or RGB(A) (converted to luminance).
        The input is not modified.
    polarity : {"auto", "light-bands", "dark-bands"}, optional
        How bands appear in ``array``.
    ceiling : float, optional
        Detector ceiling in stored counts; default detected from the dtype and histogram.
    path : str, optional
        Source named in messages and kept on the result.
    page : int, optional
        Page recorded on the result.
    find_marks : bool, optional
        Look for colour marks on colour input (default); see :func:`read_blot`.

    Returns
    -------
    blot : BlotImage

    Notes
    -----
    Ceiling: the dtype maximum (65535, 255) unless the histogram shows a lower hard plateau (at
    least 50 pixels and 1e-5 of the image exactly at the maximum, ten times more than at any of
    the next lower values, and either at a bit-depth limit ``2**k - 1`` or holding under 5 % of
    the image, so a flat background is not mistaken for one), e.g. 4095 for 12-bit data in a
    16-bit container. A merely low maximum (a dim image) is not a plateau. Float images have no
    ceiling (``inf``) unless such a plateau exists.

    Polarity ``auto``: a white and a black top-hat with a vertical line of 15 rows pick out thin
    horizontal features (bands) brighter or darker than their surroundings; if the 99th
    percentile of one exceeds the other twice, it decides. Otherwise the background level (the
    median) decides: in the upper half of the value range means dark bands on a light background.

    Examples
    --------
    >>> import numpy as np
    >>> film = np.full((40, 30), 200, dtype=np.uint8)
    >>> film[18:22, 5:25] = 50                       # a dark band on a light background
    >>> blot = blot_from_array(film)
    >>> blot.polarity, blot.ceiling, blot.data[20, 10], blot.data[0, 0]
    ('dark-bands', 255.0, np.float64(205.0), np.float64(55.0))
    """
    meta = dict(_meta or {})
    name = path or "in-memory array"
    if polarity not in POLARITIES:
        raise ImageError(f"{name}: unknown polarity {polarity!r}; use one of "
                         + ", ".join(POLARITIES))
    arr = np.asarray(array)
    if arr.dtype.kind not in "uifb":
        raise ImageError(f"{name}: pixel type {arr.dtype} is not a number; export a greyscale "
                         "8-bit, 16-bit or float TIFF")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.uint8)
    choices = {k: v for k, v in meta.items() if not k.startswith("_")}
    channel_dtype = meta.get("_dtype", arr.dtype)
    grey, valid = _to_grey(arr, name, choices)
    if grey.size == 0:
        raise ImageError(f"{name}: image is empty (shape {arr.shape})")
    # the statistics below (ceiling, floor, polarity, saturation) read the stored integers when
    # grey is exactly them: the same numbers from 2-4x fewer bytes than the float64 copy
    exact = _stored_grey_ints(arr, grey)
    src = grey if exact is None else exact
    values = src[valid] if valid is not None else src.ravel()
    # integer pixels are always finite: skip a 12-megapixel mask-and-copy
    finite = values if np.dtype(channel_dtype).kind in "uib" else values[np.isfinite(values)]
    if finite.size == 0:
        raise ImageError(f"{name}: image has no finite pixel values")

    if ceiling is None:
        ceil, ceil_ev = _detect_ceiling(finite, np.dtype(channel_dtype),
                                        colour=choices.get("colour") is not None)
    else:
        ceil = float(ceiling)
        ceil_ev = {"method": "given", "ceiling": ceil}
    choices["ceiling"] = ceil_ev

    if polarity == "auto":
        pol, pol_ev = _decide_polarity(src, valid, finite)
    else:
        pol, pol_ev = polarity, {"method": "given"}
    pol_ev["polarity"] = pol
    choices["polarity"] = pol_ev

    if pol == "dark-bands" and not np.isfinite(ceil):
        lo, hi = float(finite.min()), float(finite.max())
        if lo >= 0.0 and hi <= 1.0:
            ceil = 1.0
            ceil_ev.update(method="float in [0, 1]: assumed normalised, ceiling 1.0",
                           ceiling=ceil)
        else:
            raise ImageError(
                f"{name}: float image with dark bands has no known detector ceiling to invert "
                f"against (values {lo:g}..{hi:g}); export the original integer TIFF or give the "
                "ceiling explicitly")

    if pol == "light-bands":
        data = grey  # _to_grey always returns a fresh float64 array, never the caller's
        saturated = _compare(src, ">=", ceil)
    else:
        data = ceil - grey
        floor, floor_ev = _detect_floor(finite, np.dtype(channel_dtype), colour=choices.get("colour") is not None)
        choices["floor"] = floor_ev
        saturated = _compare(src, "<=", floor)
    if valid is not None:
        saturated &= valid
    choices["saturated_pixels"] = int(np.count_nonzero(saturated))
    marks = None
    if "colour" in choices:
        if find_marks:
            marks = _colour_marks(arr, valid, pol, name, choices)
        else:
            choices["marks"] = {"skipped": "not searched (find_marks=False)"}
    return BlotImage(data=data, saturated=saturated, ceiling=float(ceil), polarity=pol,
                     dtype=str(np.dtype(channel_dtype)), path=str(path), page=int(page),
                     choices=choices, mask=valid, marks=marks)


def crop(blot, region):
    """Cut a rectangular region out of a blot.

    Parameters
    ----------
    blot : BlotImage
    region : sequence of 4 int
        ``(x0, y0, x1, y1)`` in ``blot.data``'s pixel coordinates, end-exclusive.

    Returns
    -------
    cropped : BlotImage
        Copies of the data, saturation and mask inside the region; ``origin`` is shifted so
        positions still map to the source image.

    Raises
    ------
    LayoutError
        When the region is not four integers, is empty or reversed, or leaves the image.

    Examples
    --------
    >>> import numpy as np
    >>> blot = blot_from_array(np.arange(20, dtype=np.uint16).reshape(4, 5), polarity="light-bands")
    >>> part = crop(blot, (1, 2, 4, 4))
    >>> part.data.tolist(), part.origin
    ([[11.0, 12.0, 13.0], [16.0, 17.0, 18.0]], (1, 2))
    """
    rows, cols = blot.data.shape
    name = blot.path or "in-memory image"
    try:
        vals = [int(v) for v in region]
        exact = all(float(v) == int(v) for v in region)
    except (TypeError, ValueError) as exc:
        raise LayoutError(f"{name}: region {region!r} must be four integers x0, y0, x1, y1"
                          ) from exc
    if len(vals) != 4 or not exact:
        raise LayoutError(f"{name}: region {list(region)!r} must be four integers x0, y0, x1, y1")
    x0, y0, x1, y1 = vals
    if not (0 <= x0 < x1 <= cols and 0 <= y0 < y1 <= rows):
        raise LayoutError(
            f"{name}: region [{x0}, {y0}, {x1}, {y1}] is empty, reversed or outside the image "
            f"({cols} x {rows} px); use 0 <= x0 < x1 <= {cols} and 0 <= y0 < y1 <= {rows}")
    sl = (slice(y0, y1), slice(x0, x1))
    choices = dict(blot.choices)
    choices["crop"] = {"region": [x0, y0, x1, y1]}
    return replace(blot, data=blot.data[sl].copy(), saturated=blot.saturated[sl].copy(),
                   mask=None if blot.mask is None else blot.mask[sl].copy(),
                   marks=None if blot.marks is None else blot.marks[sl].copy(),
                   origin=(blot.origin[0] + x0, blot.origin[1] + y0), choices=choices)


def detection_copy(blot, *, sigma=3.0):
    """Return a copy of ``blot`` for lane *finding*, colour marks painted over.

    Parameters
    ----------
    blot : BlotImage
        As returned by :func:`read_blot`, :func:`blot_from_array` or :func:`crop`. Not modified.
    sigma : float, optional
        Radius (px) of the neighbourhood whose unmarked pixels replace a marked one
        (see :func:`blotquant.marks.fill_marks`); transparent padding (``blot.mask`` False) is
        never used as background.

    Returns
    -------
    copy : BlotImage
        ``blot`` itself when it has no marks (grey files, clean colour scans). Otherwise a new
        BlotImage whose ``data`` holds, in marked pixels, the local average of the valid unmarked
        pixels around them (every other pixel unchanged), with ``choices["detection_copy"]``
        saying so. Find lanes on it; locate and integrate bands on ``blot.data`` -- the filled
        values are estimates, not counts.

    Examples
    --------
    >>> import numpy as np
    >>> film = np.zeros((60, 60, 3), np.uint8); film[:] = (130, 178, 220)   # blue film
    >>> film[20:30, 5:25] = (10, 30, 25)                                   # a band
    >>> film[40:44, 30:55] = (40, 62, 101)                                 # a pen stroke
    >>> blot = blot_from_array(film, polarity="dark-bands")
    >>> det = detection_copy(blot)
    >>> bool(blot.marks[42, 40]), blot.data[42, 40] > 100, det.data[42, 40] < 100
    (True, np.True_, np.True_)
    >>> bool(det.data[25, 15] == blot.data[25, 15])                        # the band is kept
    True
    """
    from blotquant.marks import fill_marks

    if blot.marks is None or not blot.marks.any():
        return blot
    marks = blot.marks if blot.mask is None else blot.marks & blot.mask
    data = fill_marks(blot.data, marks, sigma=sigma, valid=blot.mask)
    choices = dict(blot.choices)
    choices["detection_copy"] = {
        "filled_pixels": int(marks.sum()),
        "method": "nearest valid unmarked pixel, then a Gaussian average (sigma)",
        "sigma": float(sigma),
        "note": "colour marks replaced by local background; for lane finding only"}
    return replace(blot, data=data, choices=choices)


def sha256_file(path):
    """Return the SHA-256 hex digest of a file's bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise ImageError(f"{path}: cannot read file ({exc.strerror or exc}); check the path"
                         ) from exc
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_output_dir(final_dir, *, force=False):
    """Write a results folder atomically.

    Yields a temporary folder created beside ``final_dir``; when the block finishes it is renamed
    to ``final_dir``. If the block raises, the temporary folder is removed and nothing appears.

    Parameters
    ----------
    final_dir : str or path-like
        Where the finished folder should end up.
    force : bool, optional
        Replace an existing ``final_dir`` -- only after the new one is complete.

    Yields
    ------
    tmp_dir : pathlib.Path

    Raises
    ------
    BlotquantError
        If ``final_dir`` exists and ``force`` is false (checked before any work is done).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "results"
    >>> with atomic_output_dir(out) as tmp:
    ...     _ = (tmp / "bands.csv").write_text("volume\\n1\\n")
    >>> sorted(p.name for p in out.iterdir())
    ['bands.csv']
    """
    check_output_dir(final_dir, force=force)
    final = Path(final_dir).absolute()
    created = []
    parent = final.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # as a folder made by mkdir, not mkdtemp's private 0700
    except OSError as exc:
        _remove_empty(created)
        raise BlotquantError(f"cannot create results folder beside {final}: "
                             f"{exc.strerror or exc}; check permissions or use --out") from exc
    try:
        yield tmp
        if final.exists():
            if not force:
                raise BlotquantError(f"results folder {final} already exists; use --force to "
                                     "replace it or --out to choose another")
            backup = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(final, backup)
            try:
                os.replace(tmp, final)
            except BaseException:
                os.replace(backup, final)
                raise
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        raise


def image_size(path, *, page=None):
    """Return ``(width, height)`` of an image from its header, without decoding pixels.

    ``page=None`` means the page :func:`read_blot` would read by default.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, tifffile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "blot.tif"
    >>> tifffile.imwrite(p, np.zeros((4, 5), dtype=np.uint16))
    >>> image_size(p)
    (5, 4)
    """
    from blotquant.vendor import default_page, vendor_image_size

    path = Path(path)
    _check_exists(path)
    if page is None:
        page = default_page(path)[0]
    size = vendor_image_size(path, page=page)
    if size is not None:
        return size
    if path.suffix.lower() in _TIFF_SUFFIXES or is_tiff(path):
        try:
            with tifffile.TiffFile(path) as tif:
                series, index, npages = _pick_series(tif, page, path)
                shape, axes = series.shape, series.axes
        except (tifffile.TiffFileError, OSError, ValueError) as exc:
            if isinstance(exc, BlotquantError):
                raise
            raise ImageError(f"{path}: not a readable TIFF ({exc}); re-export the image as TIFF"
                             ) from exc
        rows, cols = _yx_shape(shape, axes)
        return int(cols), int(rows)
    img = _open_pil(path)
    with img:
        return tuple(int(v) for v in img.size)


# --------------------------------------------------------------------------------------------
# internals


def check_output_dir(final_dir, *, force=False):
    """Fail early, before any work, if ``final_dir`` may not be written (see :func:`atomic_output_dir`)."""
    final = Path(final_dir).absolute()
    if final.exists() and not force:
        raise BlotquantError(f"results folder {final} already exists; use --force to replace it "
                             "or --out to choose another")
    if final.exists():
        _check_replaceable(final)
    parent = final.parent
    while not parent.exists():  # the folder would be created: its nearest existing parent decides
        parent = parent.parent
    if not parent.is_dir():
        raise BlotquantError(f"cannot create results folder {final}: {parent} is a file, not a folder; "
                             "choose another --out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BlotquantError(f"cannot create results folder {final}: no permission to write in {parent}; "
                             "choose another --out")


# what an earlier blotquant run may hold, for runs whose run.json predates its "outputs" list
_RESULT_FILE = re.compile(r"[^/]+\.(csv|png|svg|pdf|html|json)")


def _check_replaceable(folder):
    """--force replaces only an empty folder or an earlier blotquant run: a folder whose run.json
    was written by blotquant and which holds nothing but the files that run wrote (a file a user
    added, or a folder that merely has a run.json of another program, is never deleted)."""
    if not folder.is_dir():
        raise BlotquantError(f"{folder} exists and is not a folder; choose another --out")
    present = sorted(p.name for p in folder.iterdir())
    if not present:
        return
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        outputs = record.get("outputs") if "blotquant" in record.get("versions", {}) else False
    except (OSError, ValueError, AttributeError, TypeError):
        outputs = False
    if outputs is False:
        raise BlotquantError(f"{folder} is not a blotquant results folder (no run.json written by "
                             "blotquant); --force only replaces earlier results: choose another --out")
    extra = [name for name in present
             if (name not in outputs if isinstance(outputs, list) else not _RESULT_FILE.fullmatch(name))]
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        raise BlotquantError(f"{folder} holds files blotquant did not write ({shown}); --force would delete "
                             "them: move them out of the folder or choose another --out")


def _remove_empty(folders):
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _check_exists(path):
    if not path.exists():
        raise ImageError(f"{path}: image file not found; check the file name and the images "
                         "folder")
    if not path.is_file():
        raise ImageError(f"{path}: is not a file; name an image file")


def _yx_shape(shape, axes):
    axes = axes.upper()
    if "Y" in axes and "X" in axes:
        return shape[axes.index("Y")], shape[axes.index("X")]
    core = shape[:-1] if axes.endswith("S") else shape
    return core[-2], core[-1]


def _tag_name(enum, value):
    """Name of a TIFF tag value (tifffile gives a plain int for a missing or unknown tag)."""
    name = getattr(value, "name", None)
    if name is not None:
        return name
    try:
        return enum(int(value)).name
    except (ValueError, TypeError):
        return str(value)


def _planar_samples(axes):
    """Index of a samples axis ('S') stored before the image rows (planar colour), else None."""
    axes = axes.upper()
    if "S" in axes and "Y" in axes and axes.index("S") < axes.index("Y"):
        return axes.index("S")
    return None


def _pick_series(tif, page, path):
    """Return (series, index within the series' leading axes or None, number of pages)."""
    series = tif.series
    if not series:
        raise ImageError(f"{path}: TIFF holds no image; re-export it")
    if len(series) > 1:
        npages = len(series)
        if not 0 <= page < npages:
            raise ImageError(f"{path}: page {page} does not exist; the file has {npages} "
                             f"pages (series), use page 0..{npages - 1}")
        return series[page], None, npages
    s = series[0]
    lead = s.shape[: s.axes.upper().index("Y")] if "Y" in s.axes.upper() else s.shape[:-2]
    planar = _planar_samples(s.axes)
    if planar is not None:                      # colour planes are not pages
        lead = lead[:planar] + lead[planar + 1:]
    npages = int(np.prod(lead)) if lead else 1
    if not 0 <= page < npages:
        raise ImageError(f"{path}: page {page} does not exist; the file has {npages} page(s), "
                         f"use page 0..{npages - 1}")
    return s, (page if lead else None), npages


def _read_stored(path, page):
    """Stored pixel values (2-D grey or 3-D colour) plus metadata for ``choices``."""
    _check_exists(path)
    if not isinstance(page, (int, np.integer)) or page < 0:
        raise ImageError(f"{path}: page must be a non-negative integer; got {page!r}")
    page = int(page)
    suffix = path.suffix.lower()
    if suffix in (".scn", ".1sc", ".gel") and not (suffix == ".scn" and is_tiff(path)):
        from blotquant import vendor  # a TIFF .scn (Leica) falls through to tifffile

        reader = {".scn": vendor.read_scn, ".1sc": vendor.read_1sc, ".gel": vendor.read_mdgel}
        return reader[suffix](path, **({"scan": page} if suffix == ".scn" else {"page": page}))
    if is_tiff(path):
        arr, meta = _read_tiff(path, page)
        if suffix not in _TIFF_SUFFIXES:
            _LOG.warning("%s: the file is a TIFF although its name ends in %r; read as a TIFF "
                         "(rename it to .tif)", path, path.suffix)
            meta["format_note"] = f"TIFF content in a file named {path.suffix!r}; read as TIFF"
        return arr, meta
    if suffix in _TIFF_SUFFIXES:
        return _read_tiff(path, page)            # not a TIFF signature: tifffile says why
    return _read_pil(path, page)


def _read_tiff(path, page):
    try:
        with tifffile.TiffFile(path) as tif:
            series, index, npages = _pick_series(tif, page, path)
            arr = series.asarray()
            first = series.pages[0] if series.pages else tif.pages[0]
            photometric = _tag_name(tifffile.PHOTOMETRIC, first.photometric)
            compression = _tag_name(tifffile.COMPRESSION, first.compression)
            colormap = first.colormap if photometric == "PALETTE" else None
            axes = series.axes.upper()
    except (tifffile.TiffFileError, OSError, ValueError, KeyError, IndexError,
            RuntimeError) as exc:
        if isinstance(exc, BlotquantError):
            raise
        raise ImageError(f"{path}: not a readable TIFF ({exc}); re-export the image as TIFF"
                         ) from exc
    planar = _planar_samples(axes)
    if planar is not None:                      # colour planes stored one after another
        arr = np.moveaxis(arr, planar, -1)
        axes = axes[:planar] + axes[planar + 1:] + "S"
    if index is not None:
        lead = axes.index("Y") if "Y" in axes else arr.ndim - 2 - axes.endswith("S")
        arr = arr.reshape((-1,) + arr.shape[lead:])[index]
    meta = {"reader": "tifffile series", "photometric": photometric,
            "compression": compression, "pages": npages, "_dtype": arr.dtype}
    if planar is not None:
        meta["planar"] = "separate colour planes (planarconfig 2) combined into one colour image"
    if photometric == "MINISWHITE":
        meta["photometric_note"] = ("MINISWHITE tag recorded but not applied; stored values "
                                    "kept as counts and polarity decided from the data")
    if colormap is not None:
        cmap = np.asarray(colormap, dtype=np.float64)
        if cmap.max() > 255:
            cmap = cmap / 257.0
        idx = np.clip(arr.astype(np.intp), 0, cmap.shape[1] - 1)
        arr = np.stack([cmap[c][idx] for c in range(3)], axis=-1)
        meta["palette"] = "colour map applied (8-bit units)"
        meta["_dtype"] = np.dtype(np.uint8)
    return arr, meta


def _open_pil(path):
    from PIL import Image, UnidentifiedImageError

    _check_exists(path)
    try:
        return Image.open(path)
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc}); use a TIFF, PNG or JPEG file"
                         ) from exc


def _read_pil(path, page):
    img = _open_pil(path)
    with img:
        fmt = img.format or path.suffix.lstrip(".").upper()
        npages = getattr(img, "n_frames", 1)
        if page >= npages:
            raise ImageError(f"{path}: page {page} does not exist; the file has {npages} "
                             f"page(s), use page 0..{npages - 1}")
        try:
            img.seek(page)
            mode = img.mode
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if mode in ("P", "PA"):
                    img = img.convert("RGBA")
                elif mode == "1":
                    img = img.convert("L")
                elif mode not in ("L", "LA", "RGB", "RGBA", "I", "I;16", "I;16B", "I;16L", "F"):
                    img = img.convert("RGB")
                arr = np.array(img)
        except (OSError, ValueError, EOFError) as exc:
            raise ImageError(f"{path}: cannot decode image ({exc}); re-export it as TIFF"
                             ) from exc
    if mode == "LA":
        arr = arr[..., 0], arr[..., 1]
        arr = np.dstack([arr[0]] * 3 + [arr[1]])
    meta = {"reader": f"Pillow ({fmt})", "mode": mode, "pages": npages, "_dtype": arr.dtype}
    if fmt == "JPEG" or path.suffix.lower() in _JPEG_SUFFIXES:
        _LOG.warning("%s: JPEG is lossy and not quantitative; use the imager's original TIFF "
                     "export for numbers you report", path)
        meta["jpeg"] = "lossy compression: values are not quantitative"
    return arr, meta


def _compare(values, op, limit):
    """``values >= limit`` or ``values <= limit``; integer values against an integral limit in
    their range are compared in their own dtype (no float64 conversion of every pixel)."""
    limit = float(limit)
    if values.dtype.kind in "ui" and values.dtype.itemsize <= 4 and limit.is_integer():
        info = np.iinfo(values.dtype)
        if info.min <= limit <= info.max:
            limit = values.dtype.type(int(limit))
    return values >= limit if op == ">=" else values <= limit


def _stored_grey_ints(arr, grey):
    """``arr`` itself (2-D) when ``grey`` is its exact float64 copy: integers of at most 32 bits
    (every such value is exact in float64, and rounds to float32 as the float64 copy does); else
    None (colour, floats, 64-bit integers)."""
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 2 and arr.dtype.kind in "ui" and arr.dtype.itemsize <= 4 and arr.shape == grey.shape:
        return arr
    return None


def _to_grey(arr, name, choices):
    """Return (grey float64 2-D, valid mask or None); records colour handling in choices."""
    if arr.ndim == 2:
        return arr.astype(np.float64), None
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        red, green, blue = arr[..., 0], arr[..., 1], arr[..., 2]
        grey = red.astype(np.float64)                 # channel by channel: no 3-channel copy
        grey *= LUMA_WEIGHTS[0]
        grey += LUMA_WEIGHTS[1] * green.astype(np.float64)
        grey += LUMA_WEIGHTS[2] * blue.astype(np.float64)
        neutral = (red == green) & (green == blue)
        grey[neutral] = red[neutral]                  # exact for grey pixels
        valid = None
        info = {"channels": int(arr.shape[-1]), "weights": list(LUMA_WEIGHTS),
                "neutral_fraction": float(neutral.mean())}
        if arr.shape[-1] == 4:
            valid = arr[..., 3] > 0
            info["transparent_pixels"] = int((~valid).sum())
            if valid.all():
                valid = None
            elif not valid.any():
                raise ImageError(f"{name}: every pixel is fully transparent; re-export the "
                                 "image without an alpha channel")
        choices["colour"] = info
        _LOG.warning("%s: colour image converted to luminance (0.2125 R + 0.7154 G + "
                     "0.0721 B, alpha ignored); quantify a greyscale export where possible", name)
        return grey, valid
    if arr.ndim == 3 and arr.shape[0] == 1:
        return arr[0].astype(np.float64), None
    raise ImageError(f"{name}: expected a 2-D greyscale or RGB(A) image; got shape {arr.shape} "
                     "— choose one page with `page` or export a single greyscale image")


def _colour_marks(arr, valid, polarity, name, choices):
    """Colour marks of an RGB(A) array; an all-False mask for a grey-looking one (R = G = B)."""
    from blotquant.marks import find_colour_marks

    shape = arr.shape[:2]
    if choices["colour"].get("neutral_fraction", 0.0) >= 1.0:
        choices["marks"] = {"method": "skipped: every pixel is grey (R = G = B)",
                            "marked_pixels": 0, "marked_fraction": 0.0}
        return np.zeros(shape, bool)
    mask, params = find_colour_marks(arr, valid=valid, polarity=polarity)
    choices["marks"] = params
    if params.get("skipped", "") and params["skipped"].startswith("pseudo-colour"):
        choices["colour"]["pseudo_colour"] = True
        _LOG.warning("%s: a pseudo-colour (lookup-table) rendering: its colours encode brightness "
                     "through a colour map, so its luminance is not proportional to the signal and "
                     "the file is not quantitative; export the original greyscale image. Colour "
                     "marks were not searched", name)
    if params["marked_pixels"]:
        _LOG.info("%s: %d pixels (%.2f %%) of colour marks (ink, pen) found; lane finding "
                  "ignores them, bands are located and integrated on the stored pixels", name,
                  params["marked_pixels"], 100.0 * params["marked_fraction"])
    return mask


def _detect_ceiling(values, dtype, *, colour=False):
    """Return (ceiling, evidence) from the finite stored values."""
    n = values.size
    vmax = float(values.max())
    min_pixels = max(_PLATEAU_MIN_PIXELS, int(np.ceil(_PLATEAU_MIN_FRACTION * n)))
    # (compared in the values' own dtype when vmax is exact in it, i.e. one of them: same count)
    at = values.dtype.type(vmax) if values.dtype.kind == "f" or values.dtype.itemsize <= 4 else vmax
    ev = {"max_value": vmax, "pixels_at_max": int(np.count_nonzero(values == at)),
          "plateau_min_pixels": min_pixels}
    if dtype.kind in "ui":
        dmax = float(np.iinfo(dtype).max)
        ev["dtype_max"] = dmax
        if colour or vmax >= dmax:
            ev.update(method="dtype maximum", ceiling=dmax)
            return dmax, ev
        top = int(vmax)
        near = values[values >= top - 8].astype(np.int64)
        counts = np.bincount(near - (top - 8), minlength=9)
        at_max, below = int(counts[-1]), int(counts[:-1].max())
        ev["max_count_just_below"] = below
        bits = int(np.log2(top + 1)) if top >= 255 and (top + 1) & top == 0 else None
        ev["bit_depth_hint"] = bits
        if (at_max >= min_pixels and at_max >= _PLATEAU_EXCESS * max(below, 1)
                and (bits is not None or at_max < _PLATEAU_MAX_FRACTION * n)):
            ev.update(method="hard plateau below the dtype maximum", ceiling=vmax)
            return vmax, ev
        ev.update(method="dtype maximum (no pile-up at the image maximum)", ceiling=dmax)
        return dmax, ev
    at_max = ev["pixels_at_max"]
    lower = values[values < vmax]
    below = int((lower == lower.max()).sum()) if lower.size else 0
    ev["count_at_next_value"] = below
    if (at_max >= min_pixels and at_max >= _PLATEAU_EXCESS * max(below, 1)
            and at_max < _PLATEAU_MAX_FRACTION * n):
        ev.update(method="float: hard plateau at the maximum value", ceiling=vmax)
        return vmax, ev
    ev.update(method="float: no plateau, no ceiling (the maximum value is not a ceiling)",
              ceiling=float("inf"))
    return float("inf"), ev


def _detect_floor(values, dtype, *, colour=False):
    """Black limit of a dark-band image: 0, unless the darkest value is a hard plateau (a scanner or
    film clipped above 0). The same pile-up test as the ceiling, on the mirrored values."""
    if dtype.kind not in "ui":
        return 0.0, {"method": "zero (float image)", "floor": 0.0}
    vmin = float(values.min())
    if vmin <= 0:
        return 0.0, {"method": "zero", "floor": 0.0}
    dmax = float(np.iinfo(dtype).max)
    mirrored_ceiling, ev = _detect_ceiling(dmax - values, dtype, colour=colour)
    if mirrored_ceiling < dmax:  # a plateau at the darkest value
        return dmax - mirrored_ceiling, {"method": "hard plateau at the darkest value", "floor": dmax - mirrored_ceiling,
                                         "pixels_at_floor": ev.get("pixels_at_max")}
    return 0.0, {"method": "zero (no pile-up at the darkest value)", "floor": 0.0, "darkest_value": vmin}


def _area_reduce_by_bands(ints, factor):
    """``cv2.resize(ints.astype(float32), (w // factor, h // factor), INTER_AREA)`` for ``h`` a
    multiple of ``factor``, made a band of rows at a time: each output row is averaged from its
    own ``factor`` input rows, so the result is the same to the last bit, without a full-size
    float32 copy of the image."""
    import cv2

    h, w = ints.shape
    out = np.empty((h // factor, w // factor), np.float32)
    band = factor * max(1, 256 // factor)
    for y in range(0, h, band):
        part = ints[y:y + band].astype(np.float32)
        out[y // factor:(y + part.shape[0]) // factor] = cv2.resize(
            part, (w // factor, part.shape[0] // factor), interpolation=cv2.INTER_AREA)
    return out


def _decide_polarity(grey, valid, finite):
    """Return (polarity, evidence) from a top-hat asymmetry test and the background level.

    ``grey`` is the float64 grey image or the stored integers it was made from (the float32
    copy below is the same either way)."""
    import cv2

    factor = int(np.ceil(max(grey.shape) / _POLARITY_MAX_SIDE))
    # a decision only: an area-averaged copy (factor > 1) is as telling and 4-9x cheaper
    if factor > 1 and grey.dtype.kind in "ui" and grey.shape[0] % factor == 0:
        img = _area_reduce_by_bands(grey, factor)
    else:
        img = grey.astype(np.float32)
        if grey.dtype.kind == "f" and not np.isfinite(img).all():
            img = np.nan_to_num(img, nan=float(np.median(finite)), posinf=float(finite.max()),
                                neginf=float(finite.min()))
        if factor > 1:
            img = cv2.resize(img, (img.shape[1] // factor, img.shape[0] // factor), interpolation=cv2.INTER_AREA)
    if factor > 1 and valid is not None:
        valid = cv2.resize(valid.astype(np.uint8), (img.shape[1], img.shape[0]),
                           interpolation=cv2.INTER_NEAREST).astype(bool)
    kernel = np.ones((_TOPHAT_ROWS, 1), np.uint8)
    white = cv2.morphologyEx(img, cv2.MORPH_TOPHAT, kernel)
    black = cv2.morphologyEx(img, cv2.MORPH_BLACKHAT, kernel)
    if valid is not None:
        white, black = white[valid], black[valid]
    white, black = white.ravel(), black.ravel()
    step = max(1, white.size // _STATS_SAMPLE)     # every step-th pixel: enough for a percentile
    w99 = float(np.percentile(white[::step], 99))
    b99 = float(np.percentile(black[::step], 99))
    ratio = w99 / b99 if b99 > 0 else (np.inf if w99 > 0 else 1.0)
    lo, hi = float(finite.min()), float(finite.max())
    med = float(np.median(finite[:: max(1, finite.size // _STATS_SAMPLE)]))
    rel = (med - lo) / (hi - lo) if hi > lo else 0.0
    ev = {"method": "auto", "tophat_rows": _TOPHAT_ROWS, "downsample_factor": factor, "sample_step": step, "white_tophat_p99": w99,
          "black_tophat_p99": b99, "tophat_ratio": float(ratio), "background_median": med,
          "value_min": lo, "value_max": hi, "background_relative": rel}
    if ratio >= _TOPHAT_DECISIVE:
        ev["decided_by"] = "top-hat: thin features brighter than their surroundings"
        return "light-bands", ev
    if ratio <= 1.0 / _TOPHAT_DECISIVE:
        ev["decided_by"] = "top-hat: thin features darker than their surroundings"
        return "dark-bands", ev
    if rel > 0.5:
        ev["decided_by"] = "background level in the upper half of the value range"
        return "dark-bands", ev
    ev["decided_by"] = "background level in the lower half of the value range"
    return "light-bands", ev
