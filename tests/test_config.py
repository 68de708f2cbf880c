"""Tests for blotquant.config: schema, resolution, and one-line errors naming file, key and fix."""

import copy
import json

import numpy as np
import pydantic
import pytest
import tifffile
import yaml

from blotquant.config import Experiment, load_config
from blotquant.errors import BlotquantError, ConfigError

BASE = {
    "experiment": "il6-jak2-vsmc",
    "images": "imgs",
    "loading_control": "beta-actin",
    "control_group": "Control",
    "groups": ["Control", "IL6"],
    "samples": {"C1": "Control", "C2": "Control", "I1": "IL6", "I2": "IL6"},
    "membranes": [
        {
            "name": "m1",
            "lanes": ["ladder", "C1", "C2", "-", "I1", "I2"],
            "images": [
                {"file": "m1_TNAP.tif", "region": [0, 0, 160, 70],
                 "targets": {"TNAP": {"rows": [31, 38]}}},
                {"file": "m1_actin.tif", "targets": {"beta-actin": {"rows": [82, 87]}}},
            ],
        }
    ],
}


@pytest.fixture
def project(tmp_path):
    """A config folder with configs/x.yaml and imgs/ holding two 200 x 100 TIFFs."""
    (tmp_path / "imgs").mkdir()
    for name in ("m1_TNAP.tif", "m1_actin.tif"):
        tifffile.imwrite(tmp_path / "imgs" / name, np.zeros((100, 200), np.uint16))
    (tmp_path / "configs").mkdir()
    return tmp_path


def _write(project, cfg, text=None):
    path = project / "configs" / "x.yaml"
    cfg = copy.deepcopy(cfg)
    if text is None:
        if isinstance(cfg.get("images"), str) and cfg["images"] == "imgs":
            cfg["images"] = "../imgs"
        text = yaml.safe_dump(cfg, sort_keys=False)
    path.write_text(text)
    return path


def _error(project, cfg=None, text=None):
    path = _write(project, cfg if cfg is not None else BASE, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(str(path) + ": "), message
    return message


def test_valid_config_resolves_paths_and_defaults(project):
    path = _write(project, BASE)
    exp = load_config(path)
    assert isinstance(exp, Experiment)
    assert exp.source == str(path)
    assert exp.images == str((project / "imgs").resolve())
    assert exp.images_dir == (project / "imgs").resolve()
    assert exp.groups == ("Control", "IL6")
    assert exp.samples["I2"] == "IL6"
    mem = exp.membranes[0]
    assert mem.lanes == ("ladder", "C1", "C2", "-", "I1", "I2")
    assert mem.images[0].region == (0, 0, 160, 70) and mem.images[0].page is None  # None: read_blot picks the first greyscale page
    assert mem.images[1].targets["beta-actin"].rows == (82, 87)
    assert mem.images[1].targets["beta-actin"].mw is None
    assert mem.lane_geometry is None
    a = exp.analysis
    assert (a.polarity, a.lanes, a.background, dict(a.background_options)) == ("auto", "auto", "auto", {})
    assert (a.stats.test, a.stats.posthoc, a.stats.alpha) == ("anova", "lsd", 0.05)


def test_experiment_is_frozen(project):
    exp = load_config(_write(project, BASE))
    with pytest.raises(pydantic.ValidationError):
        exp.experiment = "other"
    with pytest.raises(pydantic.ValidationError):
        exp.membranes[0].name = "other"


def test_to_dict_is_json_and_round_trips(project):
    exp = load_config(_write(project, BASE))
    d = exp.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["images"] == str((project / "imgs").resolve())
    assert "source" not in d
    assert d["membranes"][0]["images"][0]["region"] == [0, 0, 160, 70]
    again_path = project / "configs" / "again.yaml"
    again_path.write_text(yaml.safe_dump(d))
    assert load_config(again_path).to_dict() == d


def test_analysis_options_and_lane_geometry(project):
    cfg = copy.deepcopy(BASE)
    cfg["analysis"] = {"polarity": "dark-bands", "lanes": {"centers": [10, 40, 70, 100, 130, 160],
                                                          "width": 20},
                       "background": "rolling-disk", "background_options": {"radius": 50},
                       "stats": {"test": "anova", "posthoc": "tukey", "alpha": 0.01}}
    cfg["membranes"][0]["lane_geometry"] = {"centers": [11, 41, 71, 101, 131, 151], "width": 18}
    exp = load_config(_write(project, cfg))
    assert exp.analysis.lanes.centers == (10, 40, 70, 100, 130, 160)
    assert exp.analysis.background == "rolling-disk"
    assert exp.analysis.background_options["radius"] == 50
    assert exp.analysis.stats.posthoc == "tukey" and exp.analysis.stats.alpha == 0.01
    assert exp.membranes[0].lane_geometry.width == 18.0


def test_mw_target_accepted(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][0]["targets"]["TNAP"] = {"mw": 57}
    cfg["membranes"][0]["ladder"] = "pageruler-plus"
    exp = load_config(_write(project, cfg))
    assert exp.membranes[0].images[0].targets["TNAP"].mw == 57.0
    assert exp.membranes[0].ladder == "pageruler-plus"


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 0, -5])
def test_mw_must_be_a_finite_positive_kda(project, value):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][0]["targets"]["TNAP"] = {"mw": value}
    cfg["membranes"][0]["ladder"] = "pageruler-plus"
    with pytest.raises(ConfigError, match=r"targets\.TNAP\.mw"):
        load_config(_write(project, cfg))


@pytest.mark.parametrize("value", [0, -1, 1.5, "two", 9])
def test_target_bands_must_be_a_small_whole_number(project, value):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][0]["targets"]["TNAP"]["bands"] = value
    with pytest.raises(ConfigError, match=r"targets\.TNAP\.bands"):
        load_config(_write(project, cfg))


def test_target_bands_defaults_to_one_and_reads_a_doublet(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][0]["targets"]["TNAP"]["bands"] = 2
    exp = load_config(_write(project, cfg))
    targets = exp.membranes[0].images[0].targets
    assert targets["TNAP"].bands == 2
    assert all(t.bands == 1 for name, t in targets.items() if name != "TNAP")


def test_unknown_ladder_names_the_key_and_the_presets(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["ladder"] = "pageruler-extra"
    with pytest.raises(ConfigError, match=r"membranes\[0\]\.ladder: unknown ladder 'pageruler-extra'.*pageruler-plus"):
        load_config(_write(project, cfg))


# ------------------------------------------------------------------------------------------
# one-line errors


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_yaml_syntax_error_names_line(project):
    msg = _error(project, text="experiment: x\nimages: [a, b\nsamples: {}\n")
    assert "line 3" in msg and "YAML syntax error" in msg


def test_empty_and_non_mapping(project):
    assert "config is empty" in _error(project, text="")
    assert "top level must be a mapping" in _error(project, text="- a\n- b\n")


def test_unknown_key_names_it_and_lists_allowed(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][1]["targets"]["beta-actin"]["row"] = [1, 2]
    del cfg["membranes"][0]["images"][1]["targets"]["beta-actin"]["rows"]
    msg = _error(project, cfg)
    assert "membranes[0].images[1].targets.beta-actin.row: unknown key `row`" in msg
    assert "did you mean `rows`?" in msg and "allowed keys here: rows, mw" in msg
    cfg = copy.deepcopy(BASE)
    cfg["analysis"] = {"stat": {}}
    msg = _error(project, cfg)
    assert "analysis.stat: unknown key `stat`" in msg and "did you mean `stats`?" in msg
    top = copy.deepcopy(BASE)
    top["loading_contrl"] = "x"
    msg = _error(project, top)
    assert "loading_contrl: unknown key" in msg and "control_group" in msg


def test_missing_required_key(project):
    cfg = copy.deepcopy(BASE)
    del cfg["control_group"]
    msg = _error(project, cfg)
    assert "control_group: required key `control_group` is missing" in msg
    cfg = copy.deepcopy(BASE)
    del cfg["membranes"][0]["images"][0]["file"]
    assert "membranes[0].images[0].file: required key" in _error(project, cfg)


def test_several_errors_first_and_count(project):
    cfg = copy.deepcopy(BASE)
    del cfg["control_group"]
    del cfg["loading_control"]
    cfg["bogus"] = 1
    msg = _error(project, cfg)
    assert msg.endswith("(and 2 more)")


def test_bad_values(project):
    cfg = copy.deepcopy(BASE)
    cfg["analysis"] = {"polarity": "bright"}
    msg = _error(project, cfg)
    assert "analysis.polarity" in msg and "'bright'" in msg and "light-bands" in msg
    cfg["analysis"] = {"lanes": "manual"}
    assert "analysis.lanes: must be `auto`" in _error(project, cfg)
    cfg["analysis"] = {"stats": {"alpha": 5}}
    assert "analysis.stats.alpha" in _error(project, cfg)
    cfg["analysis"] = {"stats": {"posthoc": "bonferroni"}}
    assert "analysis.stats.posthoc" in _error(project, cfg)


def test_typo_reports_unknown_key_before_missing_one(project):
    cfg = copy.deepcopy(BASE)
    cfg["analysis"] = {"lanes": {"centers": [10, 40, 70, 100, 130, 150], "widht": 20}}
    msg = _error(project, cfg)
    assert "analysis.lanes.widht: unknown key `widht`; did you mean `width`?" in msg
    assert msg.endswith("(and 1 more)")


def test_bad_list_shapes(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][0]["targets"]["TNAP"]["rows"] = [1.5, 3]
    assert "targets.TNAP.rows: must be [top, bottom], two whole pixel rows; got [1.5, 3]" in _error(project, cfg)
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][0]["page"] = -1
    msg = _error(project, cfg)
    assert "membranes[0].images[0].page: " in msg and "more)" not in msg
    cfg = copy.deepcopy(BASE)
    cfg["groups"] = "Control"
    assert "groups: input should be a valid list; got 'Control'" in _error(project, cfg)


def test_target_needs_exactly_one_of_rows_or_mw(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][0]["targets"]["TNAP"] = {"rows": [31, 38], "mw": 57}
    msg = _error(project, cfg)
    assert "membranes[0].images[0].targets.TNAP" in msg and "got both" in msg
    cfg["membranes"][0]["images"][0]["targets"]["TNAP"] = {}
    assert "got neither" in _error(project, cfg)


def test_reversed_rows_message(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][1]["targets"]["beta-actin"]["rows"] = [87, 82]
    msg = _error(project, cfg)
    assert msg.endswith("membranes[0].images[1].targets.beta-actin.rows: must be [top, bottom] "
                        "with top < bottom; got [87, 82]; swap the two numbers")


def test_rows_outside_image_or_region(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][1]["targets"]["beta-actin"]["rows"] = [90, 120]
    msg = _error(project, cfg)
    assert "images[1].targets.beta-actin.rows: [90, 120] lies outside the image (rows 0..99)" in msg
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][0]["targets"]["TNAP"]["rows"] = [60, 80]   # region ends at 70
    assert "lies outside the region (rows 0..69)" in _error(project, cfg)
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][1]["targets"]["beta-actin"]["rows"] = [60, 100]  # row 100 is past the last
    assert "lies outside the image (rows 0..99)" in _error(project, cfg)


def test_region_outside_or_reversed(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][0]["region"] = [0, 0, 300, 70]
    msg = _error(project, cfg)
    assert "membranes[0].images[0].region: [0, 0, 300, 70]" in msg and "(200 x 100 px)" in msg
    cfg["membranes"][0]["images"][0]["region"] = [100, 0, 50, 70]
    assert "region: [100, 0, 50, 70] is reversed" in _error(project, cfg)
    cfg["membranes"][0]["images"][0]["region"] = [0, 0, 50]
    assert "membranes[0].images[0].region" in _error(project, cfg)


def test_lane_not_a_sample_and_duplicates(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["lanes"][2] = "C2x"
    msg = _error(project, cfg)
    assert "membranes[0].lanes[2]: 'C2x' is not a sample; did you mean 'C2'?" in msg
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["lanes"][2] = "C1"
    assert "membranes[0].lanes[2]: sample 'C1' appears twice" in _error(project, cfg)


def test_group_checks(project):
    cfg = copy.deepcopy(BASE)
    cfg["samples"]["I2"] = "IL-6"
    assert "samples.I2: group 'IL-6' is not in groups" in _error(project, cfg)
    cfg = copy.deepcopy(BASE)
    cfg["control_group"] = "Ctrl"
    assert "control_group: 'Ctrl' is not one of the groups" in _error(project, cfg)


def test_loading_control_must_be_measured(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"] = cfg["membranes"][0]["images"][:1]
    msg = _error(project, cfg)
    assert "membranes[0].images: loading control 'beta-actin' is not measured" in msg


def test_image_files_missing_or_unreadable(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][1]["file"] = "m1_actn.tif"
    msg = _error(project, cfg)
    assert "membranes[0].images[1].file: image file 'm1_actn.tif' not found" in msg
    assert "did you mean 'm1_actin.tif'?" in msg
    (project / "imgs" / "m1_actin.tif").write_bytes(b"not an image")
    cfg = copy.deepcopy(BASE)
    path = _write(project, cfg)
    with pytest.raises(ConfigError, match=r"images\[1\]\.file: cannot read") as info:
        load_config(path)
    assert isinstance(info.value.__cause__, BlotquantError)
    cfg["images"] = "../nowhere"
    assert "images: folder" in _error(project, cfg)


def test_page_out_of_range(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["images"][1]["page"] = 3
    assert "images[1].file: cannot read 'm1_actin.tif' (page 3 does not exist" in _error(project, cfg)


def test_lane_geometry_count(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["lane_geometry"] = {"centers": [10, 40, 70], "width": 20}
    assert "membranes[0].lane_geometry.centers: 3 centres for 6 lanes" in _error(project, cfg)
    cfg = copy.deepcopy(BASE)
    cfg["analysis"] = {"lanes": {"centers": [10, 40], "width": 20}}
    assert "analysis.lanes.centers: 2 centres but membrane 'm1' has 6 lanes" in _error(project, cfg)
    cfg["analysis"] = {"lanes": {"centers": [10, 40, 70, 100, 130, 260], "width": 20}}
    assert "centre 260 lies outside" in _error(project, cfg)


def test_numeric_sample_ids_are_text(project):
    cfg = copy.deepcopy(BASE)
    cfg["samples"] = {1: "Control", 2: "Control", 3: "IL6", 4: "IL6"}
    cfg["membranes"][0]["lanes"] = ["ladder", 1, 2, "-", 3, 4]
    exp = load_config(_write(project, cfg))
    assert exp.membranes[0].lanes[1] == "1" and exp.samples["3"] == "IL6"


def test_a_target_measured_twice_on_one_membrane_is_an_error(project):
    cfg = copy.deepcopy(BASE)
    first = cfg["membranes"][0]["images"][0]
    cfg["membranes"][0]["images"].append({"file": first["file"], "targets": copy.deepcopy(first["targets"])})
    with pytest.raises(ConfigError, match=r"membranes\[0\]\.images\[\d\]\.targets\.\S+: target '\S+' is already measured"):
        load_config(_write(project, cfg))


def test_explicit_lane_width_wider_than_the_lane_spacing_is_an_error(project):
    cfg = copy.deepcopy(BASE)
    cfg["membranes"][0]["lane_geometry"] = {"centers": [11, 41, 71, 101, 131, 151], "width": 300}
    with pytest.raises(ConfigError, match=r"membranes\[0\]\.lane_geometry\.width: width 300 px is wider than "
                                          r"the closest lane spacing \(20 px\)"):
        load_config(_write(project, cfg))


@pytest.mark.parametrize("analysis, where, what", [
    ({"background": "rolling_ball"}, "analysis.background", "unknown background method 'rolling_ball'"),
    ({"background_options": {"foo": 1}}, "analysis.background_options", "takes no option ['foo']"),
    ({"background": "rolling-disk", "background_options": {"radius": -5}}, "analysis.background_options",
     "`radius` must be a positive number"),
])
def test_background_name_and_options_checked_before_any_image_is_read(project, analysis, where, what):
    cfg = copy.deepcopy(BASE)
    cfg["analysis"] = analysis
    msg = _error(project, cfg)
    assert f"{where}: " in msg and what in msg and "\n" not in msg


def test_a_folder_named_as_image_file_says_so(project):
    cfg = copy.deepcopy(BASE)
    (project / "imgs" / "sub").mkdir()
    cfg["membranes"][0]["images"][0]["file"] = "sub"
    assert "'sub' is a folder, not an image file" in _error(project, cfg)
