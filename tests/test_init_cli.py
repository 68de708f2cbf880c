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


def test_init_gives_apparent_mw_with_a_ladder(sim_folder, tmp_path):
    # the target image's lane 1 carries 7 ladder bands at rows 150 ... 780; named by their kDa,
    # each band row's apparent MW is the log-linear interpolation between the ladder bands
    folder, target, _ = sim_folder
    out = tmp_path / "config.yaml"
    kda = [200, 150, 100, 75, 50, 37, 25]
    ladder_rows = [150, 250, 350, 450, 550, 680, 780]
    assert init_cli.run_init(_args(init_cli.configure_init_parser,
                                   [str(folder), "--out", str(out), "--ladder",
                                    ",".join(map(str, kda))])) == 0
    text = out.read_text()
    assert "apparent MW from the marker lane" in text
    found = {int(y): float(m) for y, m in re.findall(r"y~(\d+).*~([\d.]+) kDa", text)}
    rows = target.truth.query("kind == 'target'").groupby("target")["row"].median()
    assert len(found) == len(rows)
    for r in rows:
        y = min(found, key=lambda v: abs(v - r))
        truth = 10 ** np.interp(r, ladder_rows, np.log10(kda))
        assert abs(y - r) <= 3 and abs(found[y] / truth - 1) <= 0.05, (r, found)


def test_init_rejects_an_unknown_ladder_before_reading(sim_folder, tmp_path):
    folder, _, _ = sim_folder
    out = tmp_path / "config.yaml"
    with pytest.raises(BlotquantError, match="--ladder 'no-such-ladder'.*unknown ladder"):
        init_cli.run_init(_args(init_cli.configure_init_parser,
                                [str(folder), "--out", str(out), "--ladder", "no-such-ladder"]))
    assert not out.exists()


def _zdf_images():
    if not ZDF_ANNOTATION.is_file():
        return {}
    ann = yaml.safe_load(ZDF_ANNOTATION.read_text())
    return {im["path"]: im for im in ann["images"]}


# strips of the ZDF annotation `blotquant init` does not reproduce yet, with the verified cause
ZDF_MISSES = {
    ("B1AR/July4/July4_B1AR_10wtop_16wbottom_GAPDH.tif", 0):
        "lane 3 at 336 px between the dips at 313 and 360 px; the lab's rectangle centre is "
        "342.5 (6 px)",
}
ZDF_STRIPS = [(rel, si) for rel, im in _zdf_images().items() for si in range(len(im["strips"]))]


@pytest.fixture(scope="module")
def zdf_init(tmp_path_factory):
    from blotquant.discover import propose_config

    folder = tmp_path_factory.mktemp("zdf")
    for rel in _zdf_images():
        link = folder / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ZDF / rel)                            # symlinks, never copies
    return propose_config(folder)


@pytest.mark.real
@pytest.mark.skipif(not ZDF.is_dir(), reason="needs ../shared/data/real")
@pytest.mark.parametrize("rel, si", [
    pytest.param(rel, si, marks=pytest.mark.xfail(strict=True, reason=ZDF_MISSES[rel, si]))
    if (rel, si) in ZDF_MISSES else (rel, si) for rel, si in ZDF_STRIPS])
def test_zdf_lanes_reproduce_the_annotation(zdf_init, rel, si):
    # the acceptance, strip by strip: lane kinds lane for lane, sample centres within
    # 5 px and marker centres within 8 px of the hand-checked annotation
    _, params = zdf_init
    truth = _zdf_images()[rel]["strips"]
    strips = {rec["file"]: rec for rec in params["images"]}[rel]["strips"]
    assert len(strips) == len(truth)
    found = strips[si]["lanes"]
    assert [lane["kind"] for lane in found] == [lane["kind"] for lane in truth[si]["lanes"]]
    for lane, want in zip(found, truth[si]["lanes"]):
        tol = 8.0 if want["kind"] == "marker" else 5.0
        assert abs(lane["x"] - want["x"]) <= tol, (want["n"], lane["x"], want["x"])


@pytest.mark.real
@pytest.mark.skipif(not ZDF.is_dir(), reason="needs ../shared/data/real")
def test_zdf_reprobe_is_one_membrane_and_dates_are_not(zdf_init):
    # July4 and its GAPDH re-probe are one membrane; the other dates, alike in layout, are not
    _, params = zdf_init
    groups = sorted(sorted(g) for g in params["membranes"])
    assert groups == sorted([sorted(["B1AR/July4/July4_B1AR_10wtop_16wbottom.tif",
                                     "B1AR/July4/July4_B1AR_10wtop_16wbottom_GAPDH.tif"]),
                             ["B1AR/May_30/May30.2013_B1AR_10wtop_16wbottom.tif"],
                             ["B1AR/Oct_10/Oct10_B1ARtop_GAPDHbottom.tif"],
                             ["B2AR/April22/April22.2013_B2AR_10wtop_16wbottom.tif"]])


# strips where the lanes `run` places from init's starter config miss the annotation
ZDF_RUN_MISSES = {
    ("B1AR/July4/July4_B1AR_10wtop_16wbottom_GAPDH.tif", 0):
        "lane 3 centred between the dips at 313 and 360 px; the lab's rectangle centre is 342.5 (6 px)",
    ("B2AR/April22/April22.2013_B2AR_10wtop_16wbottom.tif", 0):
        "marker 9-14 px right of the annotation (x=193, 'set by eye, +-8 px'); the dark marks themselves "
        "centre at x~197-205",
}


@pytest.fixture(scope="module")
def zdf_run(zdf_init, tmp_path_factory):
    """init's starter config, its placeholder names kept (names change no geometry), run."""
    from blotquant.config import load_config
    from blotquant.discover import format_config
    from blotquant.pipeline import run

    config, params = zdf_init
    path = tmp_path_factory.mktemp("zdf-run") / "starter.yaml"
    path.write_text(format_config(config, params))
    return config, run(load_config(path))


@pytest.mark.real
@pytest.mark.skipif(not ZDF.is_dir(), reason="needs ../shared/data/real")
@pytest.mark.parametrize("rel, si", [
    pytest.param(rel, si, marks=pytest.mark.xfail(strict=True, reason=ZDF_RUN_MISSES[rel, si]))
    if (rel, si) in ZDF_RUN_MISSES else (rel, si) for rel, si in ZDF_STRIPS])
def test_zdf_init_then_run_places_the_annotated_lanes(zdf_run, rel, si):
    # the acceptance as a user meets it: `init`, fill in names, `run` - the lanes run places
    # (run.json) against the annotation; a ladder lane the image does not show is not annotated
    config, results = zdf_run
    strip = _zdf_images()[rel]["strips"][si]
    labels = {m["name"]: m["lanes"] for m in config["membranes"]}
    recs = [r for r in results.record["images"] if r["image"] == rel]
    y0, y1 = strip["box"][1], strip["box"][3]
    rec = max(recs, key=lambda r: min(y1, r["region"][3]) - max(y0, r["region"][1]))
    placed = list(zip(labels[rec["membrane"]], rec["lanes"]["centers_image_px"]))
    samples = [x for lab, x in placed if lab not in ("ladder", "-")]
    markers = [x for lab, x in placed if lab == "ladder"]
    want_s = [lane["x"] for lane in strip["lanes"] if lane["kind"] == "sample"]
    assert len(samples) == len(want_s)
    np.testing.assert_array_less(np.abs(np.subtract(samples, want_s)), 5.0)
    for lane in strip["lanes"]:
        if lane["kind"] == "marker":
            assert min(abs(x - lane["x"]) for x in markers) <= 8.0, (lane["x"], markers)


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
