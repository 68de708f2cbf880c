import numpy as np
import pandas as pd
import pytest

from blotquant.normalize import NORMALIZED_COLUMNS, normalize, per_sample


def _bands(lc_volumes, target_volumes, membrane="m1", saturated_lc=(), saturated_target=()):
    samples = ["C1", "C2", "I1", "I2"]
    groups = ["Control", "Control", "IL6", "IL6"]
    rows = []
    for s, g, lcv, tv in zip(samples, groups, lc_volumes, target_volumes):
        rows.append(dict(membrane=membrane, sample=s, group=g, target="actin", volume=lcv,
                         saturated=s in saturated_lc))
        rows.append(dict(membrane=membrane, sample=s, group=g, target="TNAP", volume=tv,
                         saturated=s in saturated_target))
    return pd.DataFrame(rows)


def test_ratio_and_fold_change_by_hand():
    bands = _bands([200.0, 400.0, 100.0, 250.0], [100.0, 300.0, 150.0, 500.0])
    out, params = normalize(bands, loading_control="actin", control_group="Control")
    assert list(out.columns) == NORMALIZED_COLUMNS
    # ratios by hand: 0.5, 0.75, 1.5, 2.0; control mean 0.625
    np.testing.assert_allclose(out["ratio"], [0.5, 0.75, 1.5, 2.0], rtol=1e-12)
    np.testing.assert_allclose(out["fold_change"], np.array([0.5, 0.75, 1.5, 2.0]) / 0.625, rtol=1e-12)
    assert params["m1/TNAP"]["control_lanes_used"] == 2
    assert (out["flag"] == "").all()


@pytest.mark.parametrize("lc_volume, expected_flag", [(0.0, "not positive"), (-5.0, "not positive")])
def test_non_positive_loading_control_gives_nan_and_flag(lc_volume, expected_flag):
    bands = _bands([200.0, 400.0, lc_volume, 250.0], [100.0, 300.0, 150.0, 500.0])
    out, _ = normalize(bands, loading_control="actin", control_group="Control")
    row = out.set_index("sample").loc["I1"]
    assert np.isnan(row["ratio"]) and np.isnan(row["fold_change"])
    assert expected_flag in row["flag"]


def test_saturated_bands_are_never_divided():
    bands = _bands([200.0, 400.0, 100.0, 250.0], [100.0, 300.0, 150.0, 500.0],
                   saturated_lc=("C2",), saturated_target=("I2",))
    out, params = normalize(bands, loading_control="actin", control_group="Control")
    by = out.set_index("sample")
    assert np.isnan(by.loc["C2", "ratio"]) and "actin band saturated" in by.loc["C2", "flag"]
    assert np.isnan(by.loc["I2", "ratio"]) and "target band saturated" in by.loc["I2", "flag"]
    # control mean now rests on C1 alone
    assert params["m1/TNAP"]["control_lanes_used"] == 1
    np.testing.assert_allclose(by.loc["I1", "fold_change"], 1.5 / 0.5, rtol=1e-12)


def test_missing_loading_control_lane_is_flagged():
    bands = _bands([200.0, 400.0, 100.0, 250.0], [100.0, 300.0, 150.0, 500.0])
    bands = bands[~((bands["sample"] == "I1") & (bands["target"] == "actin"))]
    out, _ = normalize(bands, loading_control="actin", control_group="Control")
    row = out.set_index("sample").loc["I1"]
    assert np.isnan(row["ratio"]) and "no actin band" in row["flag"]


def test_fold_change_is_per_membrane_so_exposures_combine():
    m1 = _bands([200.0, 400.0, 100.0, 250.0], [100.0, 300.0, 150.0, 500.0], membrane="m1")
    m2 = m1.assign(membrane="m2")
    m2.loc[m2["target"] == "TNAP", "volume"] *= 7.0  # a longer exposure of the target only
    out, _ = normalize(pd.concat([m1, m2]), loading_control="actin", control_group="Control")
    fc = out.pivot(index="sample", columns="membrane", values="fold_change")
    np.testing.assert_allclose(fc["m1"], fc["m2"], rtol=1e-12)
    summary = per_sample(out)
    assert (summary["n_membranes"] == 2).all()


def test_no_usable_control_lane_leaves_fold_change_undefined():
    bands = _bands([200.0, 400.0, 100.0, 250.0], [100.0, 300.0, 150.0, 500.0],
                   saturated_target=("C1", "C2"))
    out, _ = normalize(bands, loading_control="actin", control_group="Control")
    assert out["fold_change"].isna().all()
    assert out["flag"].str.contains("fold change undefined").all()


def test_input_table_unchanged():
    bands = _bands([200.0, 400.0, 100.0, 250.0], [100.0, 300.0, 150.0, 500.0])
    before = bands.copy()
    normalize(bands, loading_control="actin", control_group="Control")
    pd.testing.assert_frame_equal(bands, before)


def test_loading_control_not_detected_or_far_below_the_membrane_is_not_divided():
    # I1's actin at 1 % of the others (an empty lane read as a band), I2's not detected
    bands = _bands([200.0, 400.0, 3.0, 250.0], [100.0, 300.0, 150.0, 500.0])
    bands["found"] = True
    bands.loc[(bands["sample"] == "I2") & (bands["target"] == "actin"), "found"] = False
    out, _ = normalize(bands, loading_control="actin", control_group="Control")
    by = out.set_index("sample")
    assert np.isnan(by.loc["I1", "ratio"]) and "below 20%" in by.loc["I1", "flag"]
    assert np.isnan(by.loc["I2", "ratio"]) and "actin band not detected" in by.loc["I2", "flag"]
    np.testing.assert_allclose(by.loc[["C1", "C2"], "fold_change"], [0.5 / 0.625, 0.75 / 0.625], rtol=1e-12)


def test_non_positive_control_ratio_is_left_out_of_the_reference_mean():
    bands = _bands([200.0, 400.0, 100.0, 250.0], [-30.0, 300.0, 150.0, 500.0])
    out, params = normalize(bands, loading_control="actin", control_group="Control")
    by = out.set_index("sample")
    assert params["m1/TNAP"]["control_lanes_used"] == 1  # C2 alone: 0.75
    assert "left out of the Control mean" in by.loc["C1", "flag"]
    np.testing.assert_allclose(by.loc["C2", "fold_change"], 1.0, rtol=1e-12)
    np.testing.assert_allclose(by.loc["I1", "fold_change"], 1.5 / 0.75, rtol=1e-12)


def test_lane_strip_outside_the_image_is_not_divided():
    bands = _bands([200.0, 400.0, 100.0, 250.0], [100.0, 300.0, 150.0, 500.0])
    bands["note"] = ""
    bands.loc[(bands["sample"] == "I2") & (bands["target"] == "TNAP"), "note"] = "120 strip pixels outside the image"
    out, _ = normalize(bands, loading_control="actin", control_group="Control")
    row = out.set_index("sample").loc["I2"]
    assert np.isnan(row["ratio"]) and "partly outside the image" in row["flag"]


def test_guessed_or_split_bands_are_flagged_but_still_divided():
    bands = _bands([200.0, 400.0, 100.0, 250.0], [100.0, 300.0, 150.0, 500.0])
    bands["note"] = ""
    bands.loc[(bands["sample"] == "I1") & (bands["target"] == "TNAP"), "note"] = \
        "weak band: row and width taken from neighbouring lanes"
    bands.loc[(bands["sample"] == "C2") & (bands["target"] == "actin"), "note"] = \
        "touching band separated by the fit: 75 counts (25 % of the volume) in the band's rows assigned to the neighbour"
    out, _ = normalize(bands, loading_control="actin", control_group="Control")
    by = out.set_index("sample")
    assert "target band row taken from neighbouring lanes" in by.loc["I1", "flag"]
    assert "actin band split from a touching neighbour by the fit: 25 % of its volume" in by.loc["C2", "flag"]
    np.testing.assert_allclose(by.loc[["I1", "C2"], "ratio"], [1.5, 0.75], rtol=1e-12)


def test_band_the_fit_gave_no_area_is_flagged():
    bands = _bands([200.0, 400.0, 100.0, 250.0], [100.0, 300.0, 150.0, 500.0])
    bands["note"] = ""
    bands.loc[(bands["sample"] == "C1") & (bands["target"] == "TNAP"), "note"] = (
        "the fit gave the band no area in this lane (its rows went to the fitted neighbours): "
        "volume is the data less them, unreliable")
    out, _ = normalize(bands, loading_control="actin", control_group="Control")
    assert "target volume unreliable: the joint fit gave the band no area" in \
        out.set_index("sample").loc["C1", "flag"]


@pytest.mark.parametrize("kind", ["fit", "bootstrap"])
def test_soft_volumes_are_flagged_but_still_divided(kind):
    # profile writes "fit sd", joint-model "bootstrap sd": both reach the flag
    bands = _bands([200.0, 400.0, 100.0, 250.0], [100.0, 300.0, 150.0, 500.0])
    bands["note"] = ""
    bands.loc[(bands["sample"] == "I2") & (bands["target"] == "TNAP"), "note"] = \
        f"uncertain volume: {kind} sd 14 % of the volume"
    out, _ = normalize(bands, loading_control="actin", control_group="Control")
    by = out.set_index("sample")
    assert f"target volume uncertain: its {kind} sd is 14 % of the volume" in by.loc["I2", "flag"]
    assert by.loc["I1", "flag"] == "" and by.loc["I2", "ratio"] == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("shares, flagged", [
    ([20, 21, 19, 22], []),            # every lane shares the split: it cancels in the fold change
    ([20, 21, 19, 33], ["I2"]),        # one lane gave away 12.5 points more than the control median
    ([0, 0, 9, 0], []),                # a small split alone is below the 10-point excess
    ([0, 0, 25, 25], ["I1", "I2"]),    # treated lanes only (e.g. an induced neighbour): does not cancel
    ([25, 25, 25, 10], ["I2"]),        # 15 points less than the controls
])
def test_split_flag_for_a_lane_whose_split_differs_from_the_control_median(shares, flagged):
    bands = _bands([200.0, 400.0, 100.0, 250.0], [100.0, 300.0, 150.0, 500.0])
    bands["note"] = ""
    tnap = bands.index[bands["target"] == "TNAP"]
    for i, share in zip(tnap, shares):
        if share:
            bands.loc[i, "note"] = (f"touching band separated by the fit: 1 counts ({share} % of the volume) "
                                    "in the band's rows assigned to the neighbour")
    out, params = normalize(bands, loading_control="actin", control_group="Control")
    got = out.loc[out["flag"].str.contains("split from a touching neighbour"), "sample"].tolist()
    assert got == flagged
    assert params["m1/TNAP"]["median_split_share"] == pytest.approx(np.median(shares[:2]) / 100)  # C1, C2
