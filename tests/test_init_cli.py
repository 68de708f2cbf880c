"""`blotquant init` / `blotquant lanes`: a starter config that loads and runs; the ZDF acceptance."""

import argparse
import re
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from blotquant import init_cli
from blotquant.config import load_config
from blotquant.errors import BlotquantError
from blotquant.simulate import simulate_blot

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
ZDF = REAL / "zdf-rat-heart-adrenoceptors"
ZDF_ANNOTATION = REAL / "annotations" / "zdf-rat-heart-adrenoceptors.yaml"


def _args(configure, argv):
    p = argparse.ArgumentParser()
    configure(p)
    return p.parse_args(argv)


@pytest.fixture
def sim_folder(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    ladder = [(1, r, 1.5e7) for r in (150, 250, 350, 450, 550, 680, 780)]
    target = simulate_blot(n_lanes=10, empty_lanes=(1,), extra_bands=ladder, seed=3)
    actin = simulate_blot(n_lanes=10, empty_lanes=(1,), targets={"actin": 500}, seed=4)
    tifffile.imwrite(folder / "m1_target.tif", target.image)
    tifffile.imwrite(folder / "m1_actin.tif", actin.image)
    return folder, target, actin


def test_init_writes_a_config_that_loads_and_runs(sim_folder, tmp_path, capsys):
    folder, target, actin = sim_folder
    out = tmp_path / "config.yaml"
    assert init_cli.run_init(_args(init_cli.configure_init_parser, [str(folder), "--out", str(out)])) == 0
    text = out.read_text()
    exp = load_config(out)                                   # loads as written
    assert len(exp.membranes) == 1                           # target + re-probe = one membrane
    mem = exp.membranes[0]
    assert list(mem.lanes) == ["ladder"] + [f"S{i}" for i in range(1, 10)]
    assert sorted(spec.file for spec in mem.images) == ["m1_actin.tif", "m1_target.tif"]
    # windows hold the true band rows and are multiples of 5
    truth_rows = sorted(target.truth.query("kind == 'target'").groupby("target")["row"].median())
    truth_rows += sorted(actin.truth.query("kind == 'target'").groupby("target")["row"].median())
    windows = sorted(t.rows for spec in mem.images for t in spec.targets.values())
    assert len(windows) == 3
    for r in truth_rows:
        assert any(a < r < b and a % 5 == 0 and b % 5 == 0 for a, b in windows)
    assert "CHANGE IT" in text and "# " in text
    # the user fills in names: half the samples go to GroupB, band names become proteins
    filled = re.sub(r'"S([6-9])": "GroupA"', r'"S\1": "GroupB"', text)
    out.write_text(filled)
    from blotquant.cli import main

    assert main(["run", str(out), "--out", str(tmp_path / "res")]) == 0
    bands = (tmp_path / "res" / "bands.csv").read_text().splitlines()
    assert len(bands) == 1 + 9 * 3                           # 9 sample lanes x 3 band rows


def test_init_refuses_to_overwrite(sim_folder, tmp_path):
    folder, _, _ = sim_folder
    out = tmp_path / "config.yaml"
    out.write_text("keep me")
    with pytest.raises(BlotquantError, match="already exists; use --force"):
        init_cli.run_init(_args(init_cli.configure_init_parser, [str(folder), "--out", str(out)]))
    assert out.read_text() == "keep me"
    init_cli.run_init(_args(init_cli.configure_init_parser, [str(folder), "--out", str(out), "--force"]))
    assert out.read_text() != "keep me"


def test_lanes_prints_table_and_plot(sim_folder, tmp_path, capsys):
    folder, target, _ = sim_folder
    png = tmp_path / "ov.png"
    assert init_cli.run_lanes(_args(init_cli.configure_lanes_parser,
                                    [str(folder / "m1_target.tif"), "--plot", str(png)])) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if re.match(r"\s+1\s+\d+\s+[\d.]+\s", line)]
    assert [r[-1] for r in rows] == ["marker"] + ["sample"] * 9
    xs = np.array([float(r[2]) for r in rows])
    assert np.abs(xs - target.lanes.centers).max() <= 2.0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _zdf_images():
    ann = yaml.safe_load(ZDF_ANNOTATION.read_text())
    return {im["path"]: im for im in ann["images"]}


@pytest.mark.real
@pytest.mark.skipif(not ZDF.is_dir(), reason="needs ../shared/data/real")
@pytest.mark.xfail(strict=True, reason="not reached yet (benchmarks/init_zdf.py: 0/10 strips): "
                   "pre-stained (dark) marker lanes are not detected on any ZDF strip, sample "
                   "lanes are missed or added at the strip ends (July4, May30, Oct10 top), the "
                   "Oct10 GAPDH strip's pitch doubles (2 lanes of 9), and find_strips takes only "
                   "the bands on July4 GAPDH (1 strip of 2)")
def test_zdf_lanes_reproduce_the_annotation(tmp_path):
    from blotquant.discover import propose_config

    images = _zdf_images()
    folder = tmp_path / "zdf"
    for rel in images:
        link = folder / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ZDF / rel)                            # symlinks, never copies
    _, params = propose_config(folder)
    found = {rec["file"]: rec for rec in params["images"]}
    failures = []
    for rel, ann in images.items():
        strips = found[rel]["strips"]
        if len(strips) != len(ann["strips"]):
            failures.append(f"{rel}: {len(strips)} strips, annotation {len(ann['strips'])}")
            continue
        for s, a in zip(strips, ann["strips"]):
            kinds = [lane["kind"] for lane in s.get("lanes", [])]
            want = [lane["kind"] for lane in a["lanes"]]
            if kinds != want:
                failures.append(f"{rel} {a['name']}: kinds {kinds} vs {want}")
                continue
            for lane, truth in zip(s["lanes"], a["lanes"]):
                tol = 8.0 if truth["kind"] == "marker" else 5.0
                if abs(lane["x"] - truth["x"]) > tol:
                    failures.append(f"{rel} {a['name']} lane {truth['n']}: x {lane['x']} vs {truth['x']}")
    assert not failures, "\n".join(failures)


DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "il6-jak2"


def test_init_on_the_demo_folder_gives_one_membrane(tmp_path):
    # the four demo images are probes of one membrane (truth.csv): ladder + 9 samples, lanes at
    # x 127 + 94 k; TNAP ~383, Runx2 ~365, Jak2 ~200, actin ~500 (rows differ per image)
    import pandas as pd

    out = tmp_path / "demo.yaml"
    assert init_cli.run_init(_args(init_cli.configure_init_parser,
                                   [str(DEMO), "--out", str(out), "--force"])) == 0
    exp = load_config(out)
    assert len(exp.membranes) == 1
    mem = exp.membranes[0]
    assert list(mem.lanes) == ["ladder"] + [f"S{i}" for i in range(1, 10)]
    truth = pd.read_csv(DEMO / "truth.csv")
    rows = truth.groupby("image")["row"].median()
    assert sorted(spec.file for spec in mem.images) == sorted(rows.index)
    for spec in mem.images:
        r = rows[spec.file]
        assert any(t.rows[0] < r < t.rows[1] for t in spec.targets.values()), (spec.file, r)
