"""detect_lanes / detect_band_rows on simulated blots with known truth (count, kinds, centres)."""

import json

import numpy as np
import pytest

from blotquant.discover import detect_band_rows, detect_lanes
from blotquant.errors import LayoutError
from blotquant.simulate import simulate_blot

LADDER_ROWS = (150, 250, 350, 450, 550, 680, 780)


def _blot(n, empty, seed):
    pitch = 1200.0 / n
    return simulate_blot(n_lanes=n, lane_width=0.65 * pitch, empty_lanes=(1, empty),
                         extra_bands=[(1, r, 1.5e7) for r in LADDER_ROWS], seed=seed)


@pytest.mark.parametrize("n, empty, seed", [(8, 5, 1), (10, 4, 2), (12, 7, 3), (14, 9, 4)])
def test_count_kinds_and_centres(n, empty, seed):
    sim = _blot(n, empty, seed)
    image = sim.image.copy()
    lanes, kinds, params = detect_lanes(sim.image)
    np.testing.assert_array_equal(sim.image, image)          # input unchanged
    expected = ["marker"] + ["sample"] * (n - 1)
    expected[empty - 1] = "empty"
    assert kinds == expected
    # centres within 2 px of the truth (the empty lane is placed on the pitch)
    assert np.abs(lanes.centers - sim.lanes.centers).max() <= 2.0
    json.dumps(params)


def test_band_rows_and_windows():
    sim = _blot(10, 4, 5)
    lanes, kinds, _ = detect_lanes(sim.image)
    table, params = detect_band_rows(sim.image, lanes, kinds=kinds)
    truth = sim.truth[sim.truth["kind"] == "target"].groupby("target")["row"].median()
    assert len(table) == len(truth)
    np.testing.assert_allclose(np.sort(table["row"]), np.sort(truth.to_numpy()), atol=2.0)
    assert (table["n_lanes"] == 8).all()                     # 10 lanes - ladder - empty
    for (_, r), (top, bottom) in zip(table.iterrows(), sorted(sim.windows.values())):
        assert r["window_top"] % 5 == 0 and r["window_bottom"] % 5 == 0
        assert r["window_top"] <= top + 5 and r["window_bottom"] >= bottom - 5
        assert r["window_top"] < r["row"] < r["window_bottom"]
    json.dumps(params)
    # marker bands never become band rows
    assert not any(abs(r - 350) < 10 for r in table["row"])


def test_row_offset_shifts_rows_and_rounds_windows():
    sim = _blot(8, 5, 6)
    lanes, kinds, _ = detect_lanes(sim.image)
    t0, _ = detect_band_rows(sim.image, lanes, kinds=kinds)
    t1, _ = detect_band_rows(sim.image, lanes, kinds=kinds, row_offset=123)
    np.testing.assert_allclose(t1["row"], t0["row"] + 123)
    assert (t1["window_top"] % 5 == 0).all()


def test_rows_argument_and_errors():
    sim = _blot(8, 5, 7)
    lanes, kinds, params = detect_lanes(sim.image, rows=[tuple(w) for w in sim.windows.values()])
    assert len(kinds) == 8
    with pytest.raises(LayoutError, match="rows"):
        detect_lanes(sim.image, rows=[(5000, 5100)])
    with pytest.raises(LayoutError, match="method_kwargs"):
        detect_lanes(sim.image, method_kwargs={"bogus": 1})
    with pytest.raises(LayoutError, match="no lane-like column"):
        detect_lanes(np.full((200, 300), 100.0))
