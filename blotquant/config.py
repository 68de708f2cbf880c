"""Experiment config: YAML -> validated, frozen :class:`Experiment`.

The schema is the one in DESIGN.md ("Experiment config (YAML) -- the contract"). Unknown keys are
errors, so a typo is never silently ignored. Every problem is reported as ONE line::

    <config file>: <key path>: <problem>; <how to fix>

Paths in the YAML are relative to the YAML file; the loaded :class:`Experiment` keeps the config
path (``source``) and the resolved absolute images folder (``images``).
"""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Any, Literal, Optional, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from blotquant.errors import BlotquantError, ConfigError

__all__ = [
    "Analysis",
    "Experiment",
    "ImageSpec",
    "LaneGeometry",
    "Membrane",
    "Stats",
    "Target",
    "load_config",
    "NOT_SAMPLES",
]

#: Lane labels that are not samples (never quantified).
NOT_SAMPLES = ("ladder", "-")

# Kept in step with blotquant.stats (compare_groups accepts these, plus "auto").
_TESTS = ("anova", "welch_anova", "kruskal", "auto")
_POSTHOCS = ("lsd", "tukey", "dunnett", "games_howell", "dunn", "none", "auto")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Model):
    """Where a target's band lies: a row window ``rows: [top, bottom]`` or ``mw: kDa``.

    ``bands`` (default 1) is how many bands the target is: ``bands: 2`` quantifies a doublet
    (ERK1/2, two phospho-forms) as one volume, the two bands nearest the window's centre.
    """

    rows: Optional[tuple[int, int]] = None
    mw: Optional[float] = Field(default=None, gt=0, allow_inf_nan=False)
    bands: int = Field(default=1, ge=1, le=4)

    @model_validator(mode="after")
    def _one_of(self):
        if (self.rows is None) == (self.mw is None):
            which = "both" if self.rows is not None else "neither"
            raise ValueError(f"give exactly one of `rows: [top, bottom]` or `mw: kDa`; got {which}")
        return self


class MarkerImage(_Model):
    """The picture the ladder is read from when it does not show on the signal image.

    Imagers take a white-light (colorimetric) picture of the pre-stained marker with the same
    framing as the chemiluminescence exposure, as another page of the same TIFF or as a file of
    its own. ``file`` defaults to the image's own file, so a marker page is ``{page: 0}``.
    """

    file: Optional[str] = Field(default=None, min_length=1)
    page: Optional[int] = Field(default=None, ge=0)


class ImageSpec(_Model):
    """One image of a membrane: file, optional crop region and page, and its targets."""

    file: str = Field(min_length=1)
    region: Optional[tuple[int, int, int, int]] = None
    page: Optional[int] = Field(default=None, ge=0)  # None: the first greyscale page
    targets: dict[str, Target] = Field(min_length=1)
    # the ladder is calibrated on this picture (same framing) instead of on the signal image
    marker: Optional[MarkerImage] = None


class LaneGeometry(_Model):
    """Explicit lane geometry: centre columns (image pixels, left to right) and a common width."""

    centers: tuple[float, ...] = Field(min_length=1)
    width: float = Field(gt=0)


class Membrane(_Model):
    """One membrane (or strip): its lane labels left to right and its images."""

    name: str = Field(min_length=1)
    lanes: tuple[str, ...] = Field(min_length=1)
    images: tuple[ImageSpec, ...] = Field(min_length=1)
    lane_geometry: Optional[LaneGeometry] = None
    # Marker ladder of the lanes labelled 'ladder': a preset name (blotquant.mw.LADDERS) or the
    # band sizes in kDa, top to bottom. Needed for `mw:` targets and for bands.csv's mw_kda.
    ladder: Optional[Union[str, tuple[float, ...]]] = None

    @field_validator("lanes", mode="before")
    @classmethod
    def _labels_as_text(cls, value):
        # YAML reads a bare 1 or 2.5 as a number; sample ids are text.
        if isinstance(value, (list, tuple)):
            return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                    for v in value]
        return value


class Stats(_Model):
    """Statistical test settings."""

    test: Literal[_TESTS] = "anova"  # type: ignore[valid-type]
    posthoc: Literal[_POSTHOCS] = "lsd"  # type: ignore[valid-type]
    alpha: float = Field(default=0.05, gt=0, lt=1)


class Analysis(_Model):
    """Optional analysis settings; every field has a default."""

    polarity: Literal["auto", "light-bands", "dark-bands"] = "auto"
    lanes: Union[Literal["auto"], LaneGeometry] = "auto"
    background: str = Field(default="auto", min_length=1)
    background_options: dict[str, Any] = Field(default_factory=dict)
    stats: Stats = Field(default_factory=Stats)

    @field_validator("lanes", mode="before")
    @classmethod
    def _lanes_form(cls, value):
        if isinstance(value, str) and value != "auto":
            raise ValueError("must be `auto` or {centers: [px, ...], width: px}")
        return value


class Experiment(_Model):
    """A validated experiment config (frozen). Attribute names equal the YAML keys.

    Attributes
    ----------
    experiment : str
        Name, used in output file names.
    images : str
        Absolute path of the folder holding the image files (resolved against the YAML file).
    loading_control : str
    control_group : str
    groups : tuple of str
    samples : dict of str -> str
        Sample id -> group.
    membranes : tuple of Membrane
    analysis : Analysis
    source : str
        The config file this was loaded from ('' when built in memory). Not part of ``to_dict``.
    """

    experiment: str = Field(min_length=1)
    images: str
    loading_control: str = Field(min_length=1)
    control_group: str = Field(min_length=1)
    groups: tuple[str, ...] = Field(min_length=1)
    samples: dict[str, str] = Field(min_length=1)
    membranes: tuple[Membrane, ...] = Field(min_length=1)
    analysis: Analysis = Field(default_factory=Analysis)
    source: str = ""

    @field_validator("samples", mode="before")
    @classmethod
    def _ids_as_text(cls, value):
        if isinstance(value, dict):
            return {str(k) if isinstance(k, (int, float)) and not isinstance(k, bool) else k: v
                    for k, v in value.items()}
        return value

    @field_validator("experiment")
    @classmethod
    def _name_not_path(cls, value):
        # it names the default results folder: a path here could write (or --force) anywhere
        if value in (".", "..") or "/" in value or "\\" in value:
            raise ValueError(f"must be a plain name (no '/', '\\' or '..'); got {value!r}")
        return value

    @property
    def images_dir(self) -> Path:
        """The images folder as a :class:`pathlib.Path`."""
        return Path(self.images)

    def to_dict(self) -> dict:
        """Return the resolved config as JSON-serialisable data (for run.json).

        The result has the YAML keys, with defaults filled in and the images folder absolute; it
        can be written back as YAML and loaded again.

        Examples
        --------
        >>> exp = Experiment(experiment="e", images="/data", loading_control="actin",
        ...                  control_group="C", groups=["C"], samples={"c1": "C"},
        ...                  membranes=[{"name": "m1", "lanes": ["c1"], "images": [
        ...                      {"file": "a.tif", "targets": {"actin": {"rows": [1, 5]}}}]}])
        >>> d = exp.to_dict()
        >>> d["membranes"][0]["images"][0]["targets"], d["analysis"]["stats"]
        ({'actin': {'rows': [1, 5], 'mw': None, 'bands': 1}}, {'test': 'anova', 'posthoc': 'lsd', 'alpha': 0.05})
        """
        return self.model_dump(mode="json", exclude={"source"})


# --------------------------------------------------------------------------------------------
# loading


def load_config(path) -> Experiment:
    """Load, validate and resolve an experiment config.

    Parameters
    ----------
    path : str or path-like
        The YAML file.

    Returns
    -------
    experiment : Experiment
        Frozen; ``images`` is the absolute images folder and ``source`` the config path.

    Raises
    ------
    ConfigError
        One line ``<file>: <key path>: <problem>; <fix>`` for the first problem found, followed
        by ``(and N more)`` when there are several.

    Notes
    -----
    Besides the schema (types, required and unknown keys) this checks: lane labels are samples
    (``ladder`` and ``-`` excepted); sample groups, ``control_group`` are in ``groups``; no sample
    twice on one membrane; the loading control is measured on every membrane that has other
    targets; row windows and regions lie inside the image (sizes read from the file headers);
    image files exist and are readable; lane geometry gives one centre per lane.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, tifffile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> tifffile.imwrite(d / "m1.tif", np.zeros((100, 60), np.uint16))
    >>> _ = (d / "exp.yaml").write_text('''
    ... experiment: demo
    ... images: .
    ... loading_control: actin
    ... control_group: C
    ... groups: [C, T]
    ... samples: {c1: C, t1: T}
    ... membranes:
    ...   - name: m1
    ...     lanes: [ladder, c1, t1]
    ...     images:
    ...       - file: m1.tif
    ...         targets: {actin: {rows: [40, 60]}, TNAP: {rows: [10, 20]}}
    ... ''')
    >>> exp = load_config(d / "exp.yaml")
    >>> exp.experiment, exp.membranes[0].images[0].targets["TNAP"].rows, exp.analysis.polarity
    ('demo', (10, 20), 'auto')
    """
    import yaml

    path = Path(path)
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{shown}: config file not found; check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: cannot read the config file ({exc}); "
                          "save it as UTF-8 text") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{shown}: {where}: YAML syntax error ({problem}); check the "
                          "indentation, colons and brackets there") from exc
    if raw is None:
        raise ConfigError(f"{shown}: the config is empty; start from configs/ examples "
                          "(keys experiment, images, loading_control, control_group, groups, "
                          "samples, membranes)")
    if not isinstance(raw, dict):
        raise ConfigError(f"{shown}: the top level must be a mapping of keys (experiment: ..., "
                          f"images: ...); got a {type(raw).__name__}")

    base = path.resolve().parent
    data = dict(raw)
    images = data.get("images")
    if isinstance(images, str) and images.strip():
        data["images"] = str((base / Path(images).expanduser()).resolve())
    data["source"] = str(path)
    if "source" in raw:
        raise ConfigError(_line(shown, "source", "unknown key", "remove it; allowed keys: "
                                + ", ".join(_public_fields(Experiment))))
    try:
        exp = Experiment.model_validate(data)
    except ValidationError as exc:
        errors = _relevant(exc.errors(include_url=False))
        first = _describe(errors[0], raw)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{shown}: {first}{more}") from exc

    problems = _check(exp)
    if problems:
        key, problem, fix, cause = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(_line(shown, key, problem, fix) + more) from cause
    return exp


def _line(shown, key, problem, fix):
    return f"{shown}: {key}: {problem}; {fix}"


# --------------------------------------------------------------------------------------------
# pydantic errors -> one line


def _public_fields(model):
    return [name for name in model.model_fields if name != "source"]


def _unwrap_model(annotation):
    """Return (model class or None, container kind) inside Optional/Union/tuple/dict."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, None
    if origin in (Union, getattr(__import__("types"), "UnionType", Union)):
        for arg in typing.get_args(annotation):
            found, kind = _unwrap_model(arg)
            if found is not None:
                return found, kind
        return None, None
    if origin in (tuple, list):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        for arg in args:
            found, _ = _unwrap_model(arg)
            if found is not None:
                return found, "sequence"
        return None, None
    if origin is dict:
        found, _ = _unwrap_model(typing.get_args(annotation)[1])
        return (found, "mapping") if found is not None else (None, None)
    return None, None


_MODEL_NAMES = {m.__name__ for m in (Target, ImageSpec, LaneGeometry, Membrane, Stats, Analysis,
                                     Experiment)}


def _clean_loc(loc):
    """Drop pydantic's union/type tags (``literal['auto']``, ``LaneGeometry``...) from a loc."""
    out = []
    for part in loc:
        if isinstance(part, str) and (part in _MODEL_NAMES or "[" in part or part in
                                      ("str", "int", "float", "function-after", "function-before")):
            continue
        out.append(part)
    return out


def _key_path(loc):
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def _model_at(loc):
    """The model class whose field the last element of ``loc`` names (for unknown keys)."""
    model = Experiment
    pending = None
    for part in loc:
        if pending == "sequence" and isinstance(part, int):
            pending = None
            continue
        if pending == "mapping":
            pending = None
            continue
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return model
        found, kind = _unwrap_model(field.annotation)
        if found is None:
            return model
        model, pending = found, kind
    return model


def _lookup(raw, loc):
    cur = raw
    for part in loc:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


def _relevant(errors):
    """Drop follow-on errors: a too-short list whose item failed, a union's unused branch."""
    locs = [tuple(_clean_loc(e["loc"])) for e in errors]
    keep = []
    for err, loc in zip(errors, locs):
        deeper = any(other[:len(loc)] == loc and len(other) > len(loc) for other in locs)
        if err["type"] == "too_short" and deeper:
            continue
        if (err["type"] == "literal_error" and not isinstance(err.get("input"), str)
                and any(o == loc or o[:len(loc)] == loc for o, e in zip(locs, errors)
                        if e is not err)):
            continue
        keep.append(err)
    keep = keep or errors
    # a typo gives "unknown key" plus "missing key": the unknown one (with its suggestion) helps
    return sorted(keep, key=lambda e: e["type"] != "extra_forbidden")


def _describe(err, raw):
    loc = _clean_loc(err["loc"])
    kind = err["type"]
    if len(loc) >= 2 and isinstance(loc[-1], int) and loc[-2] in ("rows", "region"):
        parent = loc[:-1]
        return (f"{_key_path(parent)}: {_SHAPES[loc[-2]]}; got {_short(_lookup(raw, parent))} — "
                f"{_FIX_HINTS[loc[-2]]}")
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = _public_fields(parent)
        key = str(loc[-1])
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        return (f"{_key_path(loc)}: unknown key `{key}`; {hint}allowed keys here: "
                + ", ".join(allowed))
    if kind == "missing":
        key = str(loc[-1]) if loc else ""
        return f"{_key_path(loc)}: required key `{key}` is missing; add it"
    msg = err.get("msg", "invalid value")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    msg = msg.replace("Tuple", "list").replace("tuple", "list")
    got = _lookup(raw, loc) if loc else None
    if got is None and kind not in ("none_required",):
        got = err.get("input")
    got_text = _short(got)
    last = loc[-1] if loc else ""
    hint = _FIX_HINTS.get(last, "correct the value (see the config reference in README.md)")
    if kind in ("literal_error", "enum"):
        hint = "use one of the listed values"
    return f"{_key_path(loc)}: {msg[:1].lower() + msg[1:]}; got {got_text} — {hint}"


_SHAPES = {"rows": "must be [top, bottom], two whole pixel rows",
           "region": "must be [x0, y0, x1, y1], four whole pixel numbers"}

_FIX_HINTS = {
    "rows": "write `rows: [top, bottom]` with two whole pixel rows, top < bottom",
    "region": "write `region: [x0, y0, x1, y1]` with four whole pixel numbers",
    "mw": "give the molecular weight in kDa as a positive number",
    "page": "give a page number counting from 0",
    "centers": "list one centre column (px) per lane",
    "width": "give the lane width in pixels as a positive number",
    "alpha": "use a significance level between 0 and 1, e.g. 0.05",
    "lanes": "list the lane labels left to right, e.g. [ladder, C1, C2]",
    "groups": "list the group names, e.g. [Control, IL6]",
    "samples": "map each sample id to its group, e.g. {C1: Control}",
    "membranes": "list one entry per membrane with name, lanes and images",
    "targets": "map each target to {rows: [top, bottom]} or {mw: kDa}",
    "images": "give the folder (relative to this YAML file) or the list of images",
}


def _short(value):
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------------------------
# cross-field checks


def _check(exp: Experiment):
    """Return a list of (key path, problem, fix, cause) in config order."""
    from blotquant.io import image_size

    problems = []
    add = problems.append
    groups = list(exp.groups)

    seen = set()
    for g in groups:
        if g in seen:
            add(("groups", f"group '{g}' is listed twice", "list each group once", None))
        seen.add(g)
    if exp.control_group not in groups:
        add(("control_group", f"'{exp.control_group}' is not one of the groups {groups}",
             "use one of them or add it to `groups`", None))
    for sample, group in exp.samples.items():
        if group not in groups:
            add((f"samples.{sample}", f"group '{group}' is not in groups {groups}",
                 "fix the group name or add it to `groups`", None))
    if not Path(exp.images).is_dir():
        add(("images", f"folder {exp.images} not found",
             "give the images folder relative to this YAML file", None))
        return problems

    from blotquant.background import check_options

    try:
        check_options(exp.analysis.background, exp.analysis.background_options)
    except BlotquantError as exc:
        key = "analysis.background_options" if "option" in str(exc) or "radius" in str(exc) else "analysis.background"
        add((key, str(exc), "fix the name or the option (see the README's background table)", exc))

    names = set()
    for m_i, mem in enumerate(exp.membranes):
        mkey = f"membranes[{m_i}]"
        if mem.name in names:
            add((f"{mkey}.name", f"membrane name '{mem.name}' is used twice",
                 "give each membrane its own name", None))
        names.add(mem.name)
        on_membrane = set()
        for l_i, label in enumerate(mem.lanes):
            if label in NOT_SAMPLES:
                continue
            if label not in exp.samples:
                close = difflib.get_close_matches(label, list(exp.samples), n=1)
                fix = (f"did you mean '{close[0]}'? " if close else "") + \
                    "add it to `samples` or mark the lane 'ladder' or '-'"
                add((f"{mkey}.lanes[{l_i}]", f"'{label}' is not a sample", fix, None))
            elif label in on_membrane:
                add((f"{mkey}.lanes[{l_i}]", f"sample '{label}' appears twice on membrane "
                     f"'{mem.name}'", "each sample may occupy one lane per membrane; use '-' "
                     "for a repeated or unused lane", None))
            on_membrane.add(label)
        seen_targets = {}
        for i_i, spec in enumerate(mem.images):
            for t in spec.targets:
                if t in seen_targets:
                    add((f"{mkey}.images[{i_i}].targets.{t}", f"target '{t}' is already measured on "
                         f"membrane '{mem.name}' (images[{seen_targets[t]}])", "measure each target once "
                         "per membrane; a re-exposure belongs to its own membrane entry", None))
                seen_targets.setdefault(t, i_i)
        targets = set(seen_targets)
        if targets - {exp.loading_control} and exp.loading_control not in targets:
            add((f"{mkey}.images", f"loading control '{exp.loading_control}' is not measured on "
                 f"membrane '{mem.name}' (targets: {sorted(targets)})",
                 f"add a `{exp.loading_control}` target to one of its images, or fix "
                 "`loading_control`", None))
        uses_mw = [t for spec in mem.images for t, tg in spec.targets.items() if tg.mw is not None]
        if mem.ladder is not None:
            from blotquant.mw import get_ladder

            try:
                get_ladder(mem.ladder)
            except BlotquantError as exc:
                add((f"{mkey}.ladder", str(exc), "use a preset name or a list of kDa, largest first",
                     exc))
            if "ladder" not in mem.lanes:
                add((f"{mkey}.ladder", f"a ladder is named but membrane '{mem.name}' has no lane "
                     "labelled 'ladder'", "mark the marker lane(s) 'ladder' in `lanes`", None))
        elif uses_mw:
            add((f"{mkey}.ladder", f"target(s) {uses_mw} are given by `mw` but membrane "
                 f"'{mem.name}' names no ladder", "add `ladder: <preset>` or `ladder: [kDa, ...]` "
                 "and mark the marker lane 'ladder', or give `rows: [top, bottom]`", None))
        if mem.lane_geometry is not None and len(mem.lane_geometry.centers) != len(mem.lanes):
            add((f"{mkey}.lane_geometry.centers", f"{len(mem.lane_geometry.centers)} centres for "
                 f"{len(mem.lanes)} lanes", "give one centre per entry of `lanes` "
                 "(ladder and '-' included)", None))
        if (mem.lane_geometry is None and not isinstance(exp.analysis.lanes, str)
                and len(exp.analysis.lanes.centers) != len(mem.lanes)):
            add(("analysis.lanes.centers", f"{len(exp.analysis.lanes.centers)} centres but "
                 f"membrane '{mem.name}' has {len(mem.lanes)} lanes", "give one centre per lane, "
                 f"or set `lane_geometry` on {mkey}", None))

        for i_i, spec in enumerate(mem.images):
            ikey = f"{mkey}.images[{i_i}]"
            path = Path(exp.images) / spec.file
            if path.is_dir():
                add((f"{ikey}.file", f"'{spec.file}' is a folder, not an image file",
                     "name an image file inside it (paths are relative to `images`)", None))
                continue
            if not path.is_file():
                close = difflib.get_close_matches(
                    spec.file, [p.name for p in Path(exp.images).iterdir()], n=1)
                fix = (f"did you mean '{close[0]}'? " if close else "") + \
                    f"check the name; files are looked up in {exp.images}"
                add((f"{ikey}.file", f"image file '{spec.file}' not found", fix, None))
                continue
            try:
                width, height = image_size(path, page=spec.page)
            except BlotquantError as exc:
                add((f"{ikey}.file", f"cannot read '{spec.file}' ({_tail(exc)})",
                     "check the file and `page`, or re-export it as TIFF", exc))
                continue
            if spec.marker is not None:
                mfile = spec.marker.file or spec.file
                mpath = Path(exp.images) / mfile
                mkey_ = f"{ikey}.marker"
                if mfile == spec.file and spec.marker.page == spec.page:
                    add((mkey_, f"the marker picture is '{spec.file}' page "
                         f"{'(default)' if spec.page is None else spec.page} - the exposure itself",
                         "give the page of the white-light marker picture (e.g. `marker: {page: 0}`) "
                         "or its file (`marker: {file: name.tif}`)", None))
                if mem.ladder is None:
                    add((mkey_, f"a marker picture is given but membrane '{mem.name}' names no ladder",
                         "add `ladder: <preset>` or `ladder: [kDa, ...]` to the membrane", None))
                if not mpath.is_file():
                    add((f"{mkey_}.file", f"marker picture '{mfile}' not found",
                         f"check the name; files are looked up in {exp.images}", None))
                else:
                    try:
                        msize = image_size(mpath, page=spec.marker.page)
                    except BlotquantError as exc:
                        add((mkey_, f"cannot read the marker picture '{mfile}' ({_tail(exc)})",
                             "check the file and `page` (pages count from 0)", exc))
                    else:
                        if msize != (width, height):
                            add((mkey_, f"marker picture '{mfile}' is {msize[0]} x {msize[1]} px but "
                                 f"'{spec.file}' is {width} x {height} px",
                                 "use the white-light picture taken with the same framing as the exposure",
                                 None))
            x0, y0, x1, y1 = 0, 0, width, height
            if spec.region is not None:
                rx0, ry0, rx1, ry1 = spec.region
                if not (0 <= rx0 < rx1 <= width and 0 <= ry0 < ry1 <= height):
                    add((f"{ikey}.region", f"[{rx0}, {ry0}, {rx1}, {ry1}] is reversed or "
                         f"outside the image ({width} x {height} px)",
                         f"use x0 < x1 <= {width} and y0 < y1 <= {height}", None))
                    continue
                x0, y0, x1, y1 = spec.region
            for name, target in spec.targets.items():
                if target.rows is None:
                    continue
                top, bottom = target.rows
                tkey = f"{ikey}.targets.{name}.rows"
                if top >= bottom:
                    add((tkey, f"must be [top, bottom] with top < bottom; got [{top}, {bottom}]",
                         "swap the two numbers" if top > bottom else "make the window taller",
                         None))
                elif not (y0 <= top and bottom <= y1 - 1):  # rows are pixel rows: the last is y1 - 1
                    inside = "the region" if spec.region is not None else "the image"
                    add((tkey, f"[{top}, {bottom}] lies outside {inside} (rows {y0}..{y1 - 1})",
                         f"use rows between {y0} and {y1 - 1} (image rows, counted from the top)",
                         None))
            geometry = mem.lane_geometry or (None if isinstance(exp.analysis.lanes, str)
                                             else exp.analysis.lanes)
            if geometry is not None and len(geometry.centers) > 1:
                spacing = float(np.min(np.diff(np.asarray(geometry.centers, dtype=float))))
                if geometry.width > spacing:
                    gkey = f"{mkey}.lane_geometry.width" if mem.lane_geometry is not None else "analysis.lanes.width"
                    add((gkey, f"width {geometry.width:g} px is wider than the closest lane spacing "
                         f"({spacing:g} px): neighbouring lanes would be counted twice",
                         f"use a width of at most {spacing:g} px", None))
            if geometry is not None:
                bad = [c for c in geometry.centers if not x0 <= c < x1]
                if bad:
                    gkey = (f"{mkey}.lane_geometry.centers" if mem.lane_geometry is not None
                            else "analysis.lanes.centers")
                    add((gkey, f"centre {bad[0]:g} lies outside {spec.file} (columns "
                         f"{x0}..{x1})", "give lane centres in image columns", None))
    return problems


def _tail(exc):
    text = str(exc)
    return text.split(": ", 1)[1] if ": " in text else text
