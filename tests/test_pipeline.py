"""End to end on the bundled demo: numbers against the simulator's truth, outputs, run.json."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blotquant.config import load_config
from blotquant.pipeline import run, write_results

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "il6-jak2.yaml"
TRUTH = ROOT / "fixtures" / "il6-jak2" / "truth.csv"


@pytest.fixture(scope="module")
def demo_results():
    return run(load_config(DEMO))


@pytest.fixture(scope="module")
def truth():
    return pd.read_csv(TRUTH)


def _true_ratios(truth):
    t = truth[truth["sample"].notna() & (truth["sample"] != "ladder")]
    vol = t.pivot_table(index="sample", columns="target", values="volume", aggfunc="sum")
    return vol.drop(columns="beta-actin").div(vol["beta-actin"], axis=0)


def test_demo_ratios_match_truth(demo_results, truth):
    # Tolerance: the realistic scenario's acceptance bound is a 2 % median error; allow 5 % per band.
    true = _true_ratios(truth)
    got = demo_results.normalized.pivot(index="sample", columns="target", values="ratio")
    rel = (got[true.columns] / true.loc[got.index] - 1).abs()
    assert float(np.nanmedian(rel.to_numpy())) < 0.02
    assert float(np.nanmax(rel.to_numpy())) < 0.05


def test_demo_fold_change_direction(demo_results):
    s = demo_results.summary.set_index(["target", "group"])["mean"]
    for target in ("TNAP", "Runx2", "Jak2"):
        assert s[(target, "Control")] == pytest.approx(1.0, rel=1e-12)
        assert s[(target, "IL6")] > 1.5
    for target in ("TNAP", "Runx2"):
        assert s[(target, "IL6+CP690550")] < s[(target, "IL6")]


def test_demo_bands_schema_and_coordinates(demo_results, truth):
    bands = demo_results.bands
    required = ["membrane", "image", "target", "lane", "sample", "group", "lane_x", "band_row",
                "volume", "background", "saturated"]
    assert list(bands.columns[: len(required)]) == required
    assert not (bands["sample"] == "ladder").any()
    merged = bands.merge(truth, on=["image", "lane", "target"], suffixes=("", "_true"))
    assert len(merged) == len(bands)
    # Lane centres within 3 px and band rows within 2 px of the simulator's truth.
    assert (merged["lane_x"] - merged["lane_x_true"]).abs().max() < 3.0
    assert (merged["band_row"] - merged["row"]).abs().max() < 2.0
    assert not bands["saturated"].any()


def test_demo_stats_hold_anova_lsd_and_auto(demo_results):
    st = demo_results.stats
    # one row per target x test x comparison (DESIGN); selection says which mode produced it
    assert not st.duplicated(["target", "test", "group_a", "group_b"]).any()
    conf = st[st["selection"].str.startswith("configured")]
    for target in ("TNAP", "Runx2", "Jak2"):
        sub = conf[conf["target"] == target]
        assert {"anova", "lsd"} <= set(sub["test"])
        assert set(sub["test"]) - {"anova", "lsd"} <= {"shapiro", "levene", "brown_forsythe"}
        assert len(sub[sub["test"] == "lsd"]) == 3
        auto = st[st["selection"].str.contains("auto") & (st["target"] == target)]
        assert len(auto) >= 1 and auto["note"].fillna("").str.contains("auto").any()


def test_anova_in_pipeline_matches_independent_scipy(demo_results):
    from scipy import stats as sps

    ps = demo_results.per_sample
    for target in ("TNAP", "Runx2", "Jak2"):
        sub = ps[ps["target"] == target]
        samples = [sub.loc[sub["group"] == g, "fold_change"].to_numpy() for g in
                   ("Control", "IL6", "IL6+CP690550")]
        ref = sps.f_oneway(*samples)
        row = demo_results.stats.query("target == @target and test == 'anova'")
        assert row["statistic"].iloc[0] == pytest.approx(ref.statistic, rel=1e-9)
        assert row["p_value"].iloc[0] == pytest.approx(ref.pvalue, rel=1e-9)


def test_write_results_files_and_run_json(demo_results, tmp_path):
    out = write_results(demo_results, tmp_path / "res", experiment_name="demo")
    names = {p.name for p in out.iterdir()}
    assert {"bands.csv", "normalized.csv", "summary.csv", "stats.csv", "run.json", "report.html",
            "fold_change.png"} <= names
    assert sum(n.startswith("overlay_") for n in names) == 4
    record = json.loads((out / "run.json").read_text())
    assert len(record["inputs"]) == 4 and all(len(h) == 64 for h in record["inputs"].values())
    img = record["images"][0]
    for key in ("polarity", "ceiling", "lanes", "bands"):
        assert key in img
    assert len(img["lanes"]["centers_image_px"]) == 10
    # CSVs round-trip at full precision
    back = pd.read_csv(out / "bands.csv")
    np.testing.assert_array_equal(back["volume"].to_numpy(), demo_results.bands["volume"].to_numpy())


def test_membranes_sharing_one_image_are_matched_to_strips_top_to_bottom(tmp_path):
    """Two strips in one image, no `region`: strips are found and assigned in config order."""
    import tifffile
    import yaml

    from blotquant.simulate import simulate_blot

    sims = [simulate_blot(shape=(300, 700), n_lanes=6, lane_width=70, targets={"TNAP": 90, "actin": 210},
                          read_noise=5.0, seed=s) for s in (1, 2)]
    gap = np.full((60, 700), 200, dtype=np.uint16)  # imager tray darker than the membranes
    canvas = np.vstack([np.full((40, 700), 200, np.uint16), sims[0].image, gap, sims[1].image,
                        np.full((40, 700), 200, np.uint16)])
    tifffile.imwrite(tmp_path / "two.tif", canvas)
    offsets = (40, 40 + 300 + 60)
    membranes = []
    for i, (sim, off) in enumerate(zip(sims, offsets)):
        membranes.append({
            "name": f"strip{i + 1}",
            "lanes": [f"s{i}{j}" for j in range(6)],
            "images": [{"file": "two.tif", "targets": {
                t: {"rows": [int(w[0]) + off, int(w[1]) + off]} for t, w in sim.windows.items()}}],
        })
    cfg = {"experiment": "strips", "images": ".", "loading_control": "actin", "control_group": "A",
           "groups": ["A", "B"], "samples": {f"s{i}{j}": "AB"[j % 2] for i in range(2) for j in range(6)},
           "membranes": membranes}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    res = run(load_config(tmp_path / "c.yaml"))
    assert res.record["strips"]["two.tif"]["membranes"] == ["strip1", "strip2"]
    for i, (sim, off) in enumerate(zip(sims, offsets)):
        got = res.bands[res.bands["membrane"] == f"strip{i + 1}"].set_index(["target", "lane"])
        truth = sim.truth[sim.truth["kind"] == "target"].set_index(["target", "lane"])
        # rows in image coordinates: the strip's own rows shifted by its offset (within 2 px)
        assert (got["band_row"] - (truth.loc[got.index, "row"] + off)).abs().max() < 2.0
        rel = (got["volume"] / truth.loc[got.index, "volume"] - 1).abs()
        assert rel.max() < 0.03


def _ladder_blot(tmp_path, *, seed=4):
    """A blot whose marker lane follows a known row -> log10(kDa) law; returns (config dict, law)."""
    import tifffile

    from blotquant.mw import get_ladder
    from blotquant.simulate import simulate_blot

    kda = np.array(get_ladder("precision-plus-dual-color"))
    # Known law: row = 820 - 300 * log10(kDa)  (250 kDa at row 100, 10 kDa at row 520)
    law = lambda k: 820.0 - 300.0 * np.log10(k)  # noqa: E731
    jak2_row = float(law(130.0))
    actin_row = float(law(42.0))
    sim = simulate_blot(shape=(620, 900), n_lanes=8, lane_width=70,
                        targets={"Jak2": jak2_row, "beta-actin": actin_row}, empty_lanes=(1,),
                        extra_bands=[(1, float(law(k)), 4e6) for k in kda], read_noise=5.0, seed=seed)
    tifffile.imwrite(tmp_path / "mw.tif", sim.image)
    samples = [f"s{i}" for i in range(1, 8)]
    cfg = {"experiment": "mw", "images": ".", "loading_control": "beta-actin", "control_group": "A",
           "groups": ["A", "B"], "samples": {s: "AB"[i % 2] for i, s in enumerate(samples)},
           "membranes": [{"name": "m", "lanes": ["ladder", *samples], "ladder": "precision-plus-dual-color",
                          "images": [{"file": "mw.tif", "targets": {
                              "Jak2": {"mw": 130},
                              "beta-actin": {"rows": [int(w) for w in sim.windows["beta-actin"]]}}}]}]}
    return cfg, sim


def test_mw_target_found_by_molecular_weight_and_mw_kda_reported(tmp_path):
    import yaml

    cfg, sim = _ladder_blot(tmp_path)
    (tmp_path / "mw.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    res = run(load_config(tmp_path / "mw.yaml"))
    truth = sim.truth[sim.truth["kind"] == "target"].set_index(["target", "lane"])
    got = res.bands.set_index(["target", "lane"])
    # the band found from `mw: 130` is the simulated Jak2 band (rows within 2 px, volumes 3 %)
    jak = got.loc["Jak2"]
    assert (jak["band_row"] - truth.loc["Jak2"].loc[jak.index, "row"]).abs().max() < 2.0
    assert (jak["volume"] / truth.loc["Jak2"].loc[jak.index, "volume"] - 1).abs().max() < 0.03
    # apparent MW read back through the ladder: 130 and 42 kDa within 5 %
    np.testing.assert_allclose(jak["mw_kda"], 130.0, rtol=0.05)
    np.testing.assert_allclose(got.loc["beta-actin", "mw_kda"], 42.0, rtol=0.05)
    assert res.record["images"][0]["molecular_weight"]["lanes"][0]["lane"] == 1


def test_mw_target_without_a_ladder_is_a_config_error(tmp_path):
    import yaml

    from blotquant.errors import ConfigError

    cfg, _ = _ladder_blot(tmp_path)
    del cfg["membranes"][0]["ladder"]
    (tmp_path / "mw.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    with pytest.raises(ConfigError, match=r"membranes\[0\]\.ladder"):
        load_config(tmp_path / "mw.yaml")


def test_a_target_with_every_lane_flagged_gives_empty_summary_and_a_note(tmp_path):
    """All control lanes saturated: no fold change, n = 0 rows, no tests, a note — not a crash."""
    import tifffile
    import yaml

    from blotquant.simulate import simulate_blot

    sim = simulate_blot(shape=(500, 700), n_lanes=6, lane_width=70, targets={"TNAP": 150, "actin": 350},
                        saturate=[(1, "TNAP"), (2, "TNAP"), (3, "TNAP")], read_noise=5.0, seed=2)
    tifffile.imwrite(tmp_path / "sat.tif", sim.image)
    samples = [f"s{i}" for i in range(1, 7)]
    cfg = {"experiment": "sat", "images": ".", "loading_control": "actin", "control_group": "A",
           "groups": ["A", "B"], "samples": {s: "AB"[i // 3] for i, s in enumerate(samples)},
           "membranes": [{"name": "m", "lanes": samples, "images": [{"file": "sat.tif", "targets": {
               t: {"rows": [int(v) for v in w]} for t, w in sim.windows.items()}}]}]}
    (tmp_path / "sat.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    res = run(load_config(tmp_path / "sat.yaml"))
    tnap = res.bands[res.bands["target"] == "TNAP"].set_index("sample")["saturated"]
    assert tnap.loc[["s1", "s2", "s3"]].all() and not tnap.loc[["s4", "s5", "s6"]].any()
    assert not res.bands.loc[res.bands["target"] == "actin", "saturated"].any()
    assert res.normalized["fold_change"].isna().all()
    assert list(res.summary["n"]) == [0, 0]
    assert res.stats.empty
    assert any("TNAP: no tests" in n for n in res.notes)


def _marker_page_blot(tmp_path):
    """Chemiluminescence page without any ladder signal plus a white-light RGB marker page (page 0)
    whose pre-stained ladder follows the known law of :func:`_ladder_blot`."""
    import tifffile

    from blotquant.mw import get_ladder
    from blotquant.simulate import simulate_blot

    law = lambda k: 820.0 - 300.0 * np.log10(k)  # noqa: E731
    sim = simulate_blot(shape=(620, 900), n_lanes=8, lane_width=70,
                        targets={"Jak2": float(law(130.0)), "beta-actin": float(law(42.0))},
                        empty_lanes=(1,), read_noise=5.0, seed=5)
    yy, xx = np.mgrid[0:620, 0:900].astype(float)
    x1 = float(sim.lanes.centers[0])
    ink = np.zeros((620, 900))
    for k in get_ladder("precision-plus-dual-color"):
        ink += np.exp(-0.5 * ((yy - law(k)) / 3.0) ** 2) * (np.abs(xx - x1) < 30)
    # dark blue pre-stained bands on a light, slightly uneven white-light background
    base = np.array([232.0, 236.0, 240.0]) - 10 * (xx / 900)[..., None]
    marker = np.clip(base - ink[..., None] * np.array([170.0, 140.0, 60.0]), 0, 255).astype(np.uint8)
    path = tmp_path / "mw.tif"
    tifffile.imwrite(path, marker, photometric="rgb")
    tifffile.imwrite(path, sim.image, append=True)
    samples = [f"s{i}" for i in range(1, 8)]
    cfg = {"experiment": "mw", "images": ".", "loading_control": "beta-actin", "control_group": "A",
           "groups": ["A", "B"], "samples": {s: "AB"[i % 2] for i, s in enumerate(samples)},
           "membranes": [{"name": "m", "lanes": ["ladder", *samples], "ladder": "precision-plus-dual-color",
                          "images": [{"file": "mw.tif", "marker": {"page": 0}, "targets": {
                              "Jak2": {"mw": 130},
                              "beta-actin": {"rows": [int(w) for w in sim.windows["beta-actin"]]}}}]}]}
    return cfg, sim


def test_ladder_read_from_a_white_light_marker_page(tmp_path):
    import yaml

    cfg, sim = _marker_page_blot(tmp_path)
    (tmp_path / "mw.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    res = run(load_config(tmp_path / "mw.yaml"))
    truth = sim.truth[sim.truth["kind"] == "target"].set_index(["target", "lane"])
    jak = res.bands.set_index(["target", "lane"]).loc["Jak2"]
    # the exposure is the default page (first greyscale); the ladder came from page 0
    image = res.record["images"][0]
    assert image["page"] == 1
    assert image["molecular_weight"]["marker_picture"]["page"] == 0
    assert image["molecular_weight"]["marker_picture"]["polarity"] == "dark-bands"
    assert image["molecular_weight"]["marker_picture"]["read"]["polarity"]["method"] == "auto"  # evidence recorded
    assert image["molecular_weight"]["marker_picture"]["read"]["marks"] == {"skipped": "not searched (find_marks=False)"}
    assert (jak["band_row"] - truth.loc["Jak2"].loc[jak.index, "row"]).abs().max() < 2.0
    assert (jak["volume"] / truth.loc["Jak2"].loc[jak.index, "volume"] - 1).abs().max() < 0.03
    np.testing.assert_allclose(jak["mw_kda"], 130.0, rtol=0.05)


def test_an_empty_marker_lane_is_not_calibrated(tmp_path):
    import yaml

    cfg, _ = _marker_page_blot(tmp_path)
    # without the marker page the exposure holds no ladder: the mw target cannot be placed
    del cfg["membranes"][0]["images"][0]["marker"]
    (tmp_path / "mw.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    from blotquant.errors import LayoutError

    with pytest.raises(LayoutError, match="no marker lane could be calibrated"):
        run(load_config(tmp_path / "mw.yaml"))


@pytest.mark.parametrize("change, message", [
    (lambda m: m.pop("ladder"), r"images\[0\]\.marker: a marker picture is given but membrane 'm' names no ladder"),
    (lambda m: m["images"][0].update(marker={"file": "small.tif"}),
     r"images\[0\]\.marker: marker picture 'small.tif' is 90 x 62 px but 'mw.tif' is 900 x 620 px"),
    (lambda m: m["images"][0].update(marker={"file": "nope.tif"}), r"images\[0\]\.marker\.file: marker picture 'nope.tif' not found"),
    (lambda m: m["images"][0].update(marker={}), r"images\[0\]\.marker: the marker picture is 'mw.tif' page \(default\)"),
    (lambda m: m["images"][0].update(marker={"file": "mw.tif", "page": 1}, page=1),
     r"images\[0\]\.marker: the marker picture is 'mw.tif' page 1 - the exposure itself"),
])
def test_marker_picture_config_errors(tmp_path, change, message):
    import tifffile
    import yaml

    from blotquant.errors import ConfigError

    cfg, _ = _marker_page_blot(tmp_path)
    tifffile.imwrite(tmp_path / "small.tif", np.zeros((62, 90), np.uint16))
    change(cfg["membranes"][0])
    if "ladder" not in cfg["membranes"][0]:
        cfg["membranes"][0]["images"][0]["targets"]["Jak2"] = {"rows": [150, 250]}
    (tmp_path / "mw.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "mw.yaml")


def test_ink_on_a_film_scan_is_left_out_of_lane_finding_and_flagged(tmp_path):
    """A blue film scan with a pen mark across lane 3's band rows and handwriting above the bands:
    lanes are the same as on the clean scan, the unmarked lanes' volumes are identical (ink never
    enters what is integrated elsewhere), lane 3 is flagged in bands.csv and normalized.csv."""
    import cv2
    import yaml
    from test_marks import INK_TRANSMISSION, _film_rgb, _paint_strokes  # tests/ is on sys.path

    from blotquant.simulate import simulate_blot

    sim = simulate_blot(shape=(420, 900), n_lanes=8, lane_width=70, margin=70, targets={"A": 230.0, "B": 330.0},
                        dtype="uint8", polarity="dark-bands", baseline=4, read_noise=1.5, seed=3)
    clean = np.clip(np.round(_film_rgb(sim.image)), 0, 255).astype(np.uint8)
    inked, _ = _paint_strokes(_film_rgb(sim.image), np.random.default_rng(1), rows=(40, 95), cols=(80, 820))
    x3 = int(sim.lanes.centers[2] + 25)  # inside lane 3, near its right edge
    stroke = np.zeros(inked.shape[:2], np.uint8)
    cv2.line(stroke, (x3, 200), (x3 + 4, 262), 1, 4)
    inked[stroke.astype(bool)] = np.round(inked[stroke.astype(bool)] * INK_TRANSMISSION).astype(np.uint8)
    samples = [f"s{i}" for i in range(1, 9)]
    results = {}
    for name, rgb in (("clean", clean), ("inked", inked)):
        cv2.imwrite(str(tmp_path / f"{name}.png"), np.ascontiguousarray(rgb[..., ::-1]))
        cfg = {"experiment": name, "images": ".", "loading_control": "B", "control_group": "X",
               "groups": ["X", "Y"], "samples": {s: "XY"[i % 2] for i, s in enumerate(samples)},
               "membranes": [{"name": "m", "lanes": samples, "images": [{"file": f"{name}.png", "targets": {
                   t: {"rows": [int(v) for v in sim.windows[t]]} for t in ("A", "B")}}]}]}
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        results[name] = run(load_config(tmp_path / f"{name}.yaml"))
    c, k = (results[n].bands.set_index(["target", "lane"]) for n in ("clean", "inked"))
    np.testing.assert_allclose(k["lane_x"], c["lane_x"], atol=1.0)  # lane 3: 0.6 px (its band under the filled ink)
    assert results["inked"].record["images"][0]["read"]["marks"]["marked_pixels"] > 0
    filled = results["inked"].record["images"][0]["lanes"]["detection_copy"]["filled_pixels"]
    assert filled == results["inked"].record["images"][0]["read"]["marks"]["marked_pixels"]
    assert "detection_copy" not in results["clean"].record["images"][0]["lanes"]
    flagged = k.index[k["note"].fillna("").str.contains("colour-marked")]
    assert list(flagged) == [("A", 3)]
    others = [i for i in k.index if i != ("A", 3)]
    np.testing.assert_allclose(k.loc[others, "volume"], c.loc[others, "volume"], rtol=0.01)
    norm = results["inked"].normalized.set_index(["target", "sample"])
    assert "colour marks (ink)" in norm.loc[("A", "s3"), "flag"]
