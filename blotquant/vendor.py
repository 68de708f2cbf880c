"""Readers for imager vendor formats, and a page inventory for multi-page TIFFs.

Each reader returns ``(stored, meta)`` like the TIFF reader in :mod:`blotquant.io`: the stored
pixel values (never rescaled) and a dict that lands in ``BlotImage.choices``. Keys starting with
``_`` are hints for :func:`blotquant.io.read_blot` and are not recorded as they are:

``_dtype``
    the stored sample type;
``_ceiling``
    ``(value, why)``: the detector ceiling stated by the file (used unless the caller gives one);
``_polarity``
    ``(polarity, why)``: the band polarity known from the file header (used for ``auto``).

Formats
-------
Bio-Rad Image Lab ``.scn``
    A MIME multipart container (read by :func:`read_scn`, no third-party code).
Bio-Rad Quantity One / Image Lab ``.1sc``
    Read through the optional MIT-licensed ``biorad1sc-reader`` package (:func:`read_1sc`).
Molecular Dynamics / Typhoon ``.gel``
    TIFF with the MD private tags; square-root encoded data decoded to linear counts
    (:func:`read_mdgel`).
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NamedTuple

import numpy as np
import tifffile

from blotquant._util import is_tiff
from blotquant.errors import BlotquantError, ImageError

__all__ = ["read_scn", "read_1sc", "read_mdgel", "describe_pages", "default_page",
           "vendor_image_size", "VENDOR_SUFFIXES"]

_LOG = logging.getLogger("blotquant")

#: Suffixes read by this module (a ``.scn`` that is really a TIFF, e.g. Leica, is not).
VENDOR_SUFFIXES = (".scn", ".1sc", ".gel")

#: MD_FileTag values (Molecular Dynamics GEL file format specification).
MD_SQUARE_ROOT = 2
MD_LINEAR = 128
_MD_TEXT_TAGS = {"LabName": "lab_name", "SampleInfo": "sample_info", "PrepDate": "prep_date",
                 "PrepTime": "prep_time", "FileUnits": "file_units"}

_GREY_PHOTOMETRIC = ("MINISBLACK", "MINISWHITE")
_COLOUR_PHOTOMETRIC = ("RGB", "YCBCR", "PALETTE", "CMYK", "SEPARATED", "CIELAB")


# --------------------------------------------------------------------------------------------
# Bio-Rad Image Lab .scn


class _Part(NamedTuple):
    headers: dict        # lower-cased header name -> value
    body: bytes          # empty for a multipart part
    parts: tuple         # sub-parts of a multipart part


def read_scn(path, *, scan=0):
    """Read one scan of a Bio-Rad Image Lab ``.scn`` file as stored counts.

    Parameters
    ----------
    path : str or path-like
        The ``.scn`` file.
    scan : int, optional
        Which scan (``ScanImageTag<k>`` part, in file order) to read; most files hold one.

    Returns
    -------
    stored : ndarray of uint16, shape (height, width)
        The pixel block exactly as stored (native byte order), top row first.
    meta : dict
        ``reader``, ``pages`` and ``scn`` (the header facts used: size, endian, units, bytes per
        pixel, ``zero_is``, ``data_ceiling``, imager, exposure, binning, application, ...), plus
        the ``_dtype``, ``_ceiling`` and ``_polarity`` hints (see the module notes).

    Raises
    ------
    ImageError
        When the file is not an Image Lab multipart container, a part is truncated, the XML
        header is missing or malformed, or the pixel layout is not the one understood here.

    Notes
    -----
    Layout as observed in Image Lab 1.2 files (nothing is read at a fixed offset): the file is a
    MIME ``multipart/mixed`` document. Its parts are an ``ItemHeaderTag`` (XML), one
    ``ScanImageTag<k>`` per scan -- itself ``multipart/mixed`` holding ``ImageData``
    (``application/octet-stream``) and ``ImageHeader`` (XML) -- and further XML settings.
    Every leaf part carries ``Content-Length``, which is used to cut binary bodies; Image Lab
    omits the closing ``--boundary--`` delimiters, which is tolerated.

    The ``ImageHeader`` gives ``<size_pix width height>``, ``<endian>``, ``<units>`` (``Int``),
    ``<scanner data_ceiling>`` and ``<image zero_is>``. The sample size is
    ``Content-Length / (width * height)``; only the layout seen in real files (``Int``, 2 bytes:
    unsigned 16-bit) is accepted. ``zero_is="white"`` is Image Lab's display setting (zero drawn
    white, so bright counts look dark): the stored values are still photon counts and are not
    inverted. For chemiluminescence without illumination the bands emit the light, so the
    ``_polarity`` hint is ``light-bands``; otherwise no hint is given and polarity is decided
    from the data.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from blotquant.vendor import _fake_scn
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "blot.scn"
    >>> _ = p.write_bytes(_fake_scn(np.arange(6, dtype="<u2").reshape(2, 3)))
    >>> stored, meta = read_scn(p)
    >>> stored.tolist(), meta["scn"]["zero_is"], meta["scn"]["exposure_s"]
    ([[0, 1, 2], [3, 4, 5]], 'white', 2.5)
    """
    path = Path(path)
    parts = _scn_parts(path)
    scans = [p for p in parts
             if p.headers.get("content-description", "").lower().startswith("scanimagetag")]
    if not scans:
        raise ImageError(f"{path}: no ScanImageTag part (no image) in this Image Lab .scn; "
                         "re-export the image from Image Lab as TIFF")
    if not isinstance(scan, (int, np.integer)) or not 0 <= scan < len(scans):
        raise ImageError(f"{path}: scan (page) {scan!r} does not exist; the file has "
                         f"{len(scans)} scan(s), use page 0..{len(scans) - 1}")
    sub = {p.headers.get("content-description", "").lower(): p for p in scans[scan].parts}
    if "imagedata" not in sub or "imageheader" not in sub:
        raise ImageError(f"{path}: scan {scan} lacks its ImageData or ImageHeader part; the "
                         "file is incomplete, re-save or re-export it from Image Lab")
    header = _scn_header(path, sub["imageheader"].body)
    body = sub["imagedata"].body
    width, height = header["width"], header["height"]
    npix = width * height
    if npix <= 0 or len(body) % npix:
        raise ImageError(f"{path}: ImageData holds {len(body)} bytes, not a whole number of "
                         f"bytes per pixel for {width} x {height}; the file is damaged, "
                         "re-export it from Image Lab as TIFF")
    bpp = len(body) // npix
    header["bytes_per_pixel"] = bpp
    if header["units"].lower() != "int" or bpp != 2:
        raise ImageError(f"{path}: .scn pixel layout units={header['units']!r} with {bpp} "
                         "byte(s) per pixel is not supported (only Int, 2 bytes: unsigned "
                         "16-bit); export the image from Image Lab as a 16-bit TIFF")
    order = {"little": "<", "big": ">"}.get(header["endian"].lower())
    if order is None:
        raise ImageError(f"{path}: .scn header gives endian {header['endian']!r}; expected "
                         "'little' or 'big' -- export the image from Image Lab as TIFF")
    stored = np.frombuffer(body, dtype=np.dtype(np.uint16).newbyteorder(order))
    stored = stored.reshape(height, width).astype(np.uint16)   # native order, own copy
    header["scans"] = len(scans)
    meta = {"reader": "blotquant Bio-Rad Image Lab .scn (MIME multipart + XML header)",
            "pages": len(scans), "scn": header, "_dtype": stored.dtype}
    ceiling = header.get("data_ceiling")
    if ceiling is not None:
        if not 0 < ceiling <= np.iinfo(np.uint16).max:
            raise ImageError(f"{path}: .scn header data_ceiling={ceiling:g} is outside the "
                             "16-bit range; the header is damaged, export a TIFF instead")
        meta["_ceiling"] = (float(ceiling), "scn header <scanner data_ceiling>")
    application = str(header.get("application", "")).lower()
    source = str(header.get("excitation_source", "")).lower()
    if "chemilumin" in application and source in ("", "no illumination"):
        meta["_polarity"] = ("light-bands", "scn header: chemiluminescence without "
                             "illumination, stored values are emitted-light counts (zero_is="
                             f"{header['zero_is']!r} only sets Image Lab's display)")
    _LOG.info("%s: Bio-Rad .scn scan %d, %d x %d, zero_is=%s, imager %s", path, scan, width,
              height, header["zero_is"], header.get("imager", "?"))
    return stored, meta


def _scn_parts(path):
    """Top-level parts of an Image Lab .scn MIME container."""
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: cannot read file ({exc.strerror or exc}); check the path"
                         ) from exc
    if not buf.lstrip().lower().startswith(b"mime-version"):
        raise ImageError(f"{path}: not a Bio-Rad Image Lab .scn file (no MIME header); "
                         "export the image from Image Lab as TIFF")
    headers, pos = _read_headers(buf, 0, path)
    ctype = headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/"):
        raise ImageError(f"{path}: .scn content type is {ctype!r}, not multipart; export the "
                         "image from Image Lab as TIFF")
    parts, _ = _parse_multipart(buf, pos, _boundary(ctype, path), (), path)
    return parts


def _read_headers(buf, pos, path):
    """Parse ``Name: value`` lines up to an empty line; return (headers, body start)."""
    headers = {}
    while True:
        end = buf.find(b"\n", pos)
        if end < 0:
            raise ImageError(f"{path}: .scn part headers are truncated at byte {pos}; the "
                             "file is incomplete, copy it again from the imager")
        line = buf[pos:end].rstrip(b"\r")
        pos = end + 1
        if not line:
            return headers, pos
        name, sep, value = line.partition(b":")
        if not sep:
            raise ImageError(f"{path}: malformed .scn part header line at byte {end - len(line)}"
                             "; the file is damaged, re-export it from Image Lab as TIFF")
        headers[name.strip().lower().decode("ascii", "replace")] = \
            value.strip().decode("utf-8", "replace")


def _boundary(ctype, path):
    m = re.search(r'boundary\s*=\s*"?([^";]+)"?', ctype, flags=re.IGNORECASE)
    if not m:
        raise ImageError(f"{path}: multipart part without a boundary; the .scn file is "
                         "damaged, re-export it from Image Lab as TIFF")
    return m.group(1).strip().encode("ascii", "replace")


def _skip_eol(buf, pos):
    if buf.startswith(b"\r\n", pos):
        return pos + 2
    if buf.startswith(b"\n", pos):
        return pos + 1
    return pos


def _parse_multipart(buf, pos, boundary, enclosing, path):
    """Parse parts delimited by ``--boundary`` from ``pos``; return (parts, end position)."""
    delim = b"--" + boundary
    outer = tuple(b"--" + b for b in enclosing)
    first = buf.find(delim, pos)
    if first < 0:
        raise ImageError(f"{path}: multipart boundary {boundary.decode()!r} never appears; "
                         "the .scn file is damaged, re-export it from Image Lab as TIFF")
    pos, parts = first, []
    while True:                                   # pos is at a delimiter
        pos += len(delim)
        if buf.startswith(b"--", pos):            # close-delimiter
            return tuple(parts), _skip_eol(buf, pos + 2)
        pos = _skip_eol(buf, pos)
        if pos >= len(buf) or buf.startswith(outer, pos):
            return tuple(parts), pos              # Image Lab omits close-delimiters
        headers, pos = _read_headers(buf, pos, path)
        ctype = headers.get("content-type", "")
        body, sub = b"", ()
        if ctype.lower().startswith("multipart/"):
            sub, pos = _parse_multipart(buf, pos, _boundary(ctype, path),
                                        enclosing + (boundary,), path)
        elif "content-length" in headers:
            try:
                n = int(headers["content-length"])
            except ValueError as exc:
                raise ImageError(f"{path}: Content-Length {headers['content-length']!r} is "
                                 "not a number; the .scn file is damaged") from exc
            if n < 0 or pos + n > len(buf):
                raise ImageError(f"{path}: part '{headers.get('content-description', '?')}' "
                                 f"declares {n} bytes but the file ends first; the file is "
                                 "truncated, copy it again from the imager")
            body, pos = buf[pos:pos + n], pos + n
        else:
            end = buf.find(delim, pos)
            if end < 0:
                raise ImageError(f"{path}: unterminated part "
                                 f"'{headers.get('content-description', '?')}'; the .scn "
                                 "file is truncated")
            body, pos = buf[pos:end], end
            if body.endswith(b"\r\n"):
                body = body[:-2]
            elif body.endswith(b"\n"):
                body = body[:-1]
        parts.append(_Part(headers, body, sub))
        if not buf.startswith(delim, pos):
            pos = _skip_eol(buf, pos)
        if buf.startswith(delim, pos):
            continue
        if pos >= len(buf) or buf.startswith(outer, pos):
            return tuple(parts), pos
        raise ImageError(f"{path}: part '{headers.get('content-description', '?')}' does not "
                         f"end at a multipart boundary (byte {pos}); the .scn file is damaged, "
                         "re-export it from Image Lab as TIFF")


def _scn_header(path, xml_bytes):
    """Facts from an Image Lab ``ImageHeader`` XML part."""
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError as exc:
        raise ImageError(f"{path}: .scn ImageHeader is not valid XML ({exc}); re-export the "
                         "image from Image Lab as TIFF") from exc
    size = root.find("size_pix")
    try:
        width, height = int(size.get("width")), int(size.get("height"))
    except (AttributeError, TypeError, ValueError) as exc:
        raise ImageError(f"{path}: .scn ImageHeader has no usable <size_pix width height>; "
                         "re-export the image from Image Lab as TIFF") from exc
    image = root.find("image")
    out = {"width": width, "height": height,
           "endian": (root.findtext("endian") or "little").strip(),
           "units": (root.findtext("units") or "").strip(),
           "zero_is": image.get("zero_is", "") if image is not None else ""}
    scanner = root.find("scanner")
    if scanner is not None:
        for key in ("data_ceiling", "max_value"):
            if scanner.get(key) is not None:
                try:
                    out[key] = float(scanner.get(key))
                except ValueError:
                    out[key + "_text"] = scanner.get(key)
    attrs = root.find("scan_attributes")
    for child in attrs if attrs is not None else ():
        value = child.get("value")
        if value is None:
            continue
        if child.tag == "exposure_time":
            try:
                out["exposure_s"] = float(value)
                continue
            except ValueError:
                pass
        out[child.tag] = value
    return out


def _fake_scn(stored, *, zero_is="white", ceiling=65535, application="Chemiluminescence",
              endian="little", units="Int", scans=1):
    """Bytes of a minimal Image Lab-style .scn holding ``stored`` (for examples and tests)."""
    stored = np.asarray(stored)
    height, width = stored.shape
    order = "<" if endian == "little" else ">"
    pixels = stored.astype(np.dtype(stored.dtype).newbyteorder(order)).tobytes()
    header = (
        '<!DOCTYPE XML>\n<root>\n <endian>{e}</endian>\n <size_pix width="{w}" height="{h}"/>\n'
        ' <scanner data_ceiling="{c}" max_value="{c}"/>\n <image zero_is="{z}"/>\n'
        ' <scan_attributes>\n  <imager value="Test Imager" name="Imager" type="0"/>\n'
        '  <exposure_time value="2.5" name="Exposure Time (sec)" type="1"/>\n'
        '  <application value="{a}" name="Application" type="0"/>\n'
        '  <binning value="2x2" name="Binning" type="0"/>\n </scan_attributes>\n'
        ' <units>{u}</units>\n</root>\n').format(e=endian, w=width, h=height, c=ceiling,
                                                 z=zero_is, a=application, u=units)
    header = header.encode("utf-8")
    out = [b"MIME-Version: 1.0 (test)\r\nContent-Type: multipart/mixed; boundary=\"OUTER\"\r\n"
           b"\r\n--OUTER\r\nContent-Type: text/xml\r\nContent-Length: 7\r\n"
           b"Content-Description: ItemHeaderTag\r\n\r\n<root/>"]
    for k in range(scans):
        out.append(b"--OUTER\r\nContent-Type: multipart/mixed; boundary=\"INNER%d\"\r\n"
                   b"Content-Description: ScanImageTag%d\r\n\r\n" % (k, k))
        out.append(b"--INNER%d\r\nContent-Type: application/octet-stream\r\n"
                   b"Content-Length: %d\r\nContent-Description: ImageData\r\n\r\n"
                   % (k, len(pixels)) + pixels)
        out.append(b"--INNER%d\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n"
                   b"Content-Description: ImageHeader\r\n\r\n" % (k, len(header)) + header)
        out.append(b"--INNER%d\n" % k)
    out.append(b"--OUTER\n")
    return b"".join(out)


# --------------------------------------------------------------------------------------------
# Bio-Rad .1sc (optional dependency)


def read_1sc(path, *, page=0):
    """Read a Bio-Rad ``.1sc`` image as stored counts through ``biorad1sc-reader``.

    Parameters
    ----------
    path : str or path-like
        The ``.1sc`` file.
    page : int, optional
        Must be 0 (a .1sc holds one image).

    Returns
    -------
    stored : ndarray of uint16, shape (height, width)
        Pixel values as stored, top row first (the file stores rows bottom to top;
        ``biorad1sc_reader.Reader.get_img_data`` reorders them, and no inversion is applied).
    meta : dict
        ``reader``, ``pages`` and ``onesc`` (the file's image summary: scanner name, number of
        pixels, image area, software ...), plus the ``_dtype`` hint.

    Raises
    ------
    ImageError
        When ``biorad1sc-reader`` is not installed (``pip install 'blotquant[vendor]'``), or the
        file cannot be parsed.

    Notes
    -----
    The optional package is imported only here, so blotquant works without it for every other
    format. On the reference files of biorad1sc_reader (ChemiDoc XRS ``test3.1sc``,
    ``test4.1sc``) the result equals Image Lab's 16-bit TIFF exports pixel for pixel.
    """
    path = Path(path)
    try:
        import biorad1sc_reader
    except ImportError as exc:
        raise ImageError(f"{path}: reading Bio-Rad .1sc needs `pip install 'blotquant[vendor]'` "
                         "(the biorad1sc-reader package); or export a TIFF from Image Lab"
                         ) from exc
    if page != 0:
        raise ImageError(f"{path}: page {page} does not exist; a .1sc file holds one image, "
                         "use page 0")
    try:
        reader = biorad1sc_reader.Reader(str(path))
        xsize, ysize, data = reader.get_img_data()
        summary = reader.get_img_summary()
    except (biorad1sc_reader.BioRadInvalidFileError, biorad1sc_reader.BioRadParsingError,
            OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        if isinstance(exc, BlotquantError):
            raise
        raise ImageError(f"{path}: not a readable Bio-Rad .1sc file ({exc}); export a TIFF "
                         "from Image Lab or Quantity One") from exc
    data = np.asarray(data)
    if data.dtype.kind != "u" or data.itemsize != 2 or data.size != int(xsize) * int(ysize):
        raise ImageError(f"{path}: .1sc image data ({data.size} values of {data.dtype}) does "
                         f"not match its {xsize} x {ysize} size; export a TIFF instead")
    stored = data.reshape(int(ysize), int(xsize)).astype(np.uint16)   # native order, own copy
    info = {str(k): str(v) for k, v in (summary or {}).items()}
    meta = {"reader": f"biorad1sc-reader {_version('biorad1sc-reader')} (.1sc)", "pages": 1,
            "onesc": info, "_dtype": stored.dtype}
    _LOG.info("%s: Bio-Rad .1sc, %d x %d, scanner %s", path, xsize, ysize,
              info.get("Scanner Name", "?"))
    return stored, meta


def _version(dist):
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


# --------------------------------------------------------------------------------------------
# Molecular Dynamics / Typhoon .gel


def read_mdgel(path, *, page=0):
    """Read a Molecular Dynamics (Typhoon, Storm) ``.gel`` TIFF as linear counts.

    Parameters
    ----------
    path : str or path-like
        The ``.gel`` file (a TIFF with the MD private tags 33445-33452).
    page : int, optional
        Must be 0 (the MD image is the first page).

    Returns
    -------
    counts : ndarray of float64, shape (rows, cols)
        Linear counts: ``stored**2 * scale`` for square-root files (MD_FileTag 2),
        ``stored * scale`` for linear ones (MD_FileTag 128), ``scale`` = MD_ScalePixel.
    meta : dict
        ``reader``, ``pages`` and ``md_gel`` (file tag, encoding, scale, stored dtype, lab name,
        sample info, preparation date/time, units), plus the ``_dtype`` hint (the stored type)
        and the ``_ceiling`` hint: the stored maximum (e.g. 65535) decoded the same way.

    Raises
    ------
    ImageError
        When the file has no MD_FileTag (the encoding is then unknown), an unknown file tag, a
        bad scale, or more than one sample per pixel.

    Notes
    -----
    tifffile recognises these files (``TiffFile.is_mdgel``, ``mdgel_metadata``) and its series
    applies the same transform, but in float32, which rounds squares above 2**24; the page is
    therefore read undecoded and transformed here in float64, where ``stored**2`` is exact.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, tifffile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "scan.gel"
    >>> tifffile.imwrite(p, np.array([[0, 3], [100, 65535]], np.uint16),
    ...                  extratags=[(33445, 4, 1, 2, True), (33446, 5, 1, (1, 4), True)])
    >>> counts, meta = read_mdgel(p)
    >>> counts.tolist(), meta["md_gel"]["encoding"]
    ([[0.0, 2.25], [2500.0, 1073709056.25]], 'square-root')
    """
    path = Path(path)
    if page != 0:
        raise ImageError(f"{path}: page {page} does not exist for a Molecular Dynamics .gel "
                         "(the image is page 0); use page 0")
    try:
        with tifffile.TiffFile(path) as tif:
            md = tif.mdgel_metadata
            first = tif.pages.first
            stored = first.asarray() if md is not None else None
            photometric = first.photometric.name
            samples = first.samplesperpixel
    except (tifffile.TiffFileError, OSError, ValueError, KeyError, IndexError,
            RuntimeError) as exc:
        raise ImageError(f"{path}: not a readable Molecular Dynamics .gel TIFF ({exc}); "
                         "export a linear TIFF from ImageQuant") from exc
    if md is None or "FileTag" not in md:
        raise ImageError(f"{path}: a .gel file without the MD_FileTag (33445), so whether it "
                         "is square-root encoded is unknown; export a linear TIFF from "
                         "ImageQuant or rename the file to .tif if it is linear")
    tag = int(md["FileTag"])
    if samples != 1 or stored.ndim != 2:
        raise ImageError(f"{path}: MD .gel image has shape {stored.shape} ({samples} samples "
                         "per pixel); expected one greyscale plane, export a linear TIFF")
    num, den = _rational(md.get("ScalePixel", (1, 1)), path)
    scale = num / den
    if stored.dtype.kind not in "ui":
        raise ImageError(f"{path}: MD .gel holds {stored.dtype} samples; square-root "
                         "decoding is defined for integers, export a linear TIFF")
    top = float(np.iinfo(stored.dtype).max)
    if tag == MD_SQUARE_ROOT:
        counts = stored.astype(np.float64) ** 2 * scale
        ceiling, encoding = top ** 2 * scale, "square-root"
    elif tag == MD_LINEAR:
        counts = stored.astype(np.float64) * scale
        ceiling, encoding = top * scale, "linear"
    else:
        raise ImageError(f"{path}: MD_FileTag {tag} is not a known Molecular Dynamics encoding "
                         f"({MD_SQUARE_ROOT} square-root, {MD_LINEAR} linear); export a linear "
                         "TIFF from ImageQuant")
    info = {"file_tag": tag, "encoding": encoding, "scale_pixel": [num, den], "scale": scale,
            "stored_dtype": str(stored.dtype), "stored_max": int(stored.max()),
            "photometric": photometric,
            "decoding": ("stored**2 * scale in float64" if tag == MD_SQUARE_ROOT
                         else "stored * scale in float64")}
    for name, key in _MD_TEXT_TAGS.items():
        if name in md and md[name] not in (None, ""):
            info[key] = str(md[name]).strip("\x00 ")
    meta = {"reader": "blotquant Molecular Dynamics .gel (tifffile page + MD tags)",
            "pages": 1, "md_gel": info, "_dtype": stored.dtype,
            "_ceiling": (float(ceiling), f"MD .gel: stored maximum {top:g} decoded "
                         f"({encoding}, scale {num}/{den})")}
    _LOG.info("%s: Molecular Dynamics .gel, %s encoded, scale %s/%s", path, encoding, num, den)
    return counts, meta


def _rational(value, path):
    try:
        vals = [int(v) for v in np.ravel(value)]
    except (TypeError, ValueError) as exc:
        raise ImageError(f"{path}: MD_ScalePixel {value!r} is not a rational; export a "
                         "linear TIFF from ImageQuant") from exc
    if len(vals) == 1:
        vals.append(1)
    num, den = vals[:2]
    if den == 0 or num <= 0 or den < 0:
        raise ImageError(f"{path}: MD_ScalePixel {num}/{den} is not a positive scale; "
                         "export a linear TIFF from ImageQuant")
    return num, den


# --------------------------------------------------------------------------------------------
# pages


def describe_pages(path):
    """List the pages (series) of an image file, in the numbering ``read_blot(page=...)`` uses.

    Parameters
    ----------
    path : str or path-like
        TIFF (one entry per series, or per page of a single multi-page series), Image Lab
        ``.scn`` (per scan), ``.1sc``/``.gel`` (one entry), or PNG/GIF/JPEG (per frame).

    Returns
    -------
    pages : list of dict
        One dict per page with ``index``, ``shape`` (tuple), ``dtype`` (stored sample type),
        ``photometric`` (TIFF photometric name, Pillow mode for other files, ``None`` when the
        format has none) and ``description`` (ImageDescription or a header summary, '' if none).

    Raises
    ------
    ImageError
        When the file is missing or unreadable.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, tifffile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "two.tif"
    >>> with tifffile.TiffWriter(p) as tw:
    ...     tw.write(np.zeros((4, 5, 3), np.uint8), photometric="rgb", description="marker")
    ...     tw.write(np.zeros((4, 5), np.uint16), description="chemi")
    >>> [(d["index"], d["shape"], d["dtype"], d["photometric"], d["description"])
    ...  for d in describe_pages(p)]
    [(0, (4, 5, 3), 'uint8', 'RGB', 'marker'), (1, (4, 5), 'uint16', 'MINISBLACK', 'chemi')]
    """
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: image file not found; check the file name and the images "
                         "folder")
    suffix = path.suffix.lower()
    tiff = is_tiff(path)
    if suffix == ".scn" and not tiff:
        return _describe_scn(path)
    if suffix == ".1sc":
        stored, meta = read_1sc(path)
        return [{"index": 0, "shape": stored.shape, "dtype": str(stored.dtype),
                 "photometric": None,
                 "description": f"Bio-Rad .1sc, {meta['onesc'].get('Scanner Name', '')}".strip()}]
    if tiff:
        return _describe_tiff(path)
    return _describe_pil(path)


def _describe_scn(path):
    out = []
    k = 0
    while True:
        try:
            stored, meta = read_scn(path, scan=k)
        except ImageError:
            if k == 0:
                raise
            break
        h = meta["scn"]
        text = ", ".join(str(h[key]) for key in ("imager", "application") if key in h)
        if "exposure_s" in h:
            text += f", exposure {h['exposure_s']:g} s"
        out.append({"index": k, "shape": stored.shape, "dtype": str(stored.dtype),
                    "photometric": {"white": "MINISWHITE", "black": "MINISBLACK"}.get(
                        h["zero_is"].lower()), "description": text})
        k += 1
        if k >= h["scans"]:
            break
    return out


def _describe_tiff(path):
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series
            out = []
            if len(series) > 1:
                for i, s in enumerate(series):
                    p = s.keyframe
                    out.append(_page_entry(i, s.shape, p))
                return out
            s = series[0]
            axes = s.axes.upper()
            nlead = (axes.index("Y") if "Y" in axes
                     else max(0, len(s.shape) - 2 - axes.endswith("S")))
            lead, core = s.shape[:nlead], tuple(s.shape[nlead:])
            n = int(np.prod(lead)) if lead else 1
            pages = s.pages
            for i in range(n):
                p = pages[i] if i < len(pages) and pages[i] is not None else s.keyframe
                out.append(_page_entry(i, core, p))
            return out
    except (tifffile.TiffFileError, OSError, ValueError, KeyError, IndexError,
            RuntimeError) as exc:
        raise ImageError(f"{path}: not a readable TIFF ({exc}); re-export the image as TIFF"
                         ) from exc


def _page_entry(index, shape, page):
    description = getattr(page, "description", "") or ""
    photometric = page.photometric.name if hasattr(page, "photometric") else None
    return {"index": int(index), "shape": tuple(int(v) for v in shape),
            "dtype": str(page.dtype), "photometric": photometric, "description": description}


def _describe_pil(path):
    from PIL import Image, UnidentifiedImageError

    modes = {"1": "bool", "L": "uint8", "LA": "uint8", "P": "uint8", "PA": "uint8",
             "RGB": "uint8", "RGBA": "uint8", "I;16": "uint16", "I;16B": "uint16",
             "I;16L": "uint16", "I": "int32", "F": "float32"}
    try:
        with Image.open(path) as img:
            out = []
            for i in range(getattr(img, "n_frames", 1)):
                img.seek(i)
                bands = len(img.getbands())
                shape = (img.height, img.width) + ((bands,) if bands > 1 else ())
                out.append({"index": i, "shape": shape, "dtype": modes.get(img.mode, "uint8"),
                            "photometric": img.mode,
                            "description": str(img.info.get("description", "") or "")})
            return out
    except (UnidentifiedImageError, OSError, EOFError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc}); use a TIFF, PNG or JPEG file"
                         ) from exc


def vendor_image_size(path, *, page=0):
    """Return ``(width, height)`` of a Bio-Rad ``.scn`` / ``.1sc`` image, or None for others.

    For :func:`blotquant.io.image_size`, which reads TIFF and Pillow headers only (``.gel`` and
    TIFF-based ``.scn`` files are TIFFs and need nothing from here).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "blot.scn"
    >>> _ = p.write_bytes(_fake_scn(np.zeros((2, 3), "<u2")))
    >>> vendor_image_size(p), vendor_image_size(p.with_suffix(".tif"))
    ((3, 2), None)
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".scn", ".1sc") or is_tiff(path):
        return None
    stored, _ = read_scn(path, scan=page) if suffix == ".scn" else read_1sc(path, page=page)
    return int(stored.shape[1]), int(stored.shape[0])


def _is_colour(entry):
    if entry["photometric"] in _COLOUR_PHOTOMETRIC or entry["photometric"] in ("RGB", "RGBA",
                                                                              "P", "PA"):
        return True
    return len(entry["shape"]) == 3 and entry["shape"][-1] in (3, 4)


def _is_grey(entry):
    return len(entry["shape"]) == 2 and entry["photometric"] in _GREY_PHOTOMETRIC


def default_page(path):
    """Choose the page ``read_blot`` reads when none is given.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    page : int
        0, unless the file is a multi-page TIFF whose page 0 is a colour (RGB, palette) image
        -- typically an imager's colorimetric marker or white-light page -- and a later page
        is greyscale: then the first greyscale page.
    choice : dict or None
        What was decided and why (for ``BlotImage.choices["page"]``); None for single-page or
        non-TIFF files, where there is nothing to decide.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, tifffile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "two.tif"
    >>> with tifffile.TiffWriter(p) as tw:
    ...     tw.write(np.zeros((4, 5, 3), np.uint8), photometric="rgb")
    ...     tw.write(np.zeros((4, 5), np.uint16))
    >>> default_page(p)[0]
    1
    """
    path = Path(path)
    if path.suffix.lower() in VENDOR_SUFFIXES and not is_tiff(path):
        return 0, None
    if not is_tiff(path):
        return 0, None
    pages = describe_pages(path)
    if len(pages) < 2:
        return 0, None
    summary = [{k: (list(v) if k == "shape" else v) for k, v in d.items() if k != "description"}
               for d in pages]
    if _is_colour(pages[0]):
        grey = next((d["index"] for d in pages[1:] if _is_grey(d)), None)
        if grey is not None:
            _LOG.info("%s: page 0 is a colour image (marker / white-light overlay); reading the "
                      "first greyscale page, %d (give `page` to choose another)", path, grey)
            return grey, {"method": "auto", "page": grey,
                          "reason": f"page 0 is colour ({pages[0]['photometric']}, shape "
                                    f"{list(pages[0]['shape'])}), likely a marker / white-light "
                                    f"image; page {grey} is the first greyscale page",
                          "pages": summary}
    return 0, {"method": "auto", "page": 0, "reason": "first page", "pages": summary}
