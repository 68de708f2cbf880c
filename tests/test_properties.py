"""Whole-pipeline properties with automatic lanes: scale, offset, mirror, inputs untouched."""

import numpy as np
import pytest
import tifffile
import yaml

from blotquant.config import load_config
from blotquant.pipeline import run
from blotquant.simulate import scenario


def _experiment(tmp_path, name, image, windows, lanes):
    tifffile.imwrite(tmp_path / f"{name}.tif", image)
    samples = [lab for lab in lanes if lab not in ("ladder", "-")]
    cfg = {
        "experiment": name, "images": ".", "loading_control": "beta-actin", "control_group": "A",
        "groups": ["A", "B"], "samples": {s: "AB"[int(s[1:]) % 2] for s in samples},
        "membranes": [{"name": "m", "lanes": lanes, "images": [{"file": f"{name}.tif", "targets": {
            t: {"rows": [int(w[0]), int(w[1])]} for t, w in windows.items()}}]}],
    }
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return load_config(tmp_path / f"{name}.yaml")


@pytest.fixture(scope="module")
def sim():
    # float32 so that scaling and offsets are exact, with no detector clipping involved
    return scenario("realistic", seed=3, dtype="float32")


def _volumes(res):
    return res.bands.set_index(["target", "sample"])["volume"].sort_index()


def test_scaling_by_k_scales_volumes_and_keeps_ratios(tmp_path, sim):
    lanes = [f"s{i}" for i in range(1, 11)]
    base = run(_experiment(tmp_path, "base", sim.image, sim.windows, lanes))
    scaled = run(_experiment(tmp_path, "scaled", sim.image * np.float32(3.0), sim.windows, lanes))
    np.testing.assert_allclose(_volumes(scaled), 3.0 * _volumes(base), rtol=1e-6)
    np.testing.assert_allclose(scaled.normalized["ratio"], base.normalized["ratio"], rtol=1e-6)


def test_adding_a_constant_leaves_volumes_unchanged(tmp_path, sim):
    lanes = [f"s{i}" for i in range(1, 11)]
    base = run(_experiment(tmp_path, "base", sim.image, sim.windows, lanes))
    shifted = run(_experiment(tmp_path, "shifted", sim.image + np.float32(500.0), sim.windows, lanes))
    np.testing.assert_allclose(_volumes(shifted), _volumes(base), rtol=1e-5)


def test_mirroring_left_right_reverses_the_lanes(tmp_path, sim):
    lanes = [f"s{i}" for i in range(1, 11)]
    base = run(_experiment(tmp_path, "base", sim.image, sim.windows, lanes))
    mirrored = run(_experiment(tmp_path, "mirror", np.ascontiguousarray(sim.image[:, ::-1]), sim.windows,
                               lanes[::-1]))
    # the same sample sits in the mirrored lane; its volume must agree within 0.5 %
    np.testing.assert_allclose(_volumes(mirrored), _volumes(base), rtol=5e-3)
    width = sim.image.shape[1]
    b = base.bands.set_index(["target", "sample"]).sort_index()
    m = mirrored.bands.set_index(["target", "sample"]).sort_index()
    np.testing.assert_allclose(m["lane_x"], width - 1 - b["lane_x"], atol=0.5)


def test_input_files_are_never_modified(tmp_path, sim):
    lanes = [f"s{i}" for i in range(1, 11)]
    exp = _experiment(tmp_path, "base", sim.image, sim.windows, lanes)
    before = (tmp_path / "base.tif").read_bytes()
    image_before = sim.image.copy()
    run(exp)
    assert (tmp_path / "base.tif").read_bytes() == before
    np.testing.assert_array_equal(sim.image, image_before)
