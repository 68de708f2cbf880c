"""Outputs for people: CSV formula safety, the self-contained HTML report, publication figures,
Prism tables, overlays. Run on a simulated experiment whose names are hostile (tests/reportcase.py)
and on hand-made inputs with known answers."""

import html
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
import reportcase as rc  # tests/ is on sys.path

from blotquant.config import load_config
from blotquant.pipeline import run, write_results
from blotquant.report.figures import figure_bytes, render_overlay, significance_marks, target_figure
from blotquant.report.outputs import safe_stem
from blotquant.report.tables import csv_text, escape_formulas, prism_table

CSVS = ("bands.csv", "normalized.csv", "summary.csv", "stats.csv")
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    cfg, _ = rc.build(folder)
    results = run(load_config(cfg))
    out = write_results(results, folder / "out", experiment_name=rc.EXPERIMENT)
    return results, out


# ------------------------------------------------------------------------------------------
# CSV formula injection


def test_escape_formulas_quotes_text_only():
    t = pd.DataFrame({"name": ["=1+1", "+x", "-1+2", "@SUM(A1)", "\tx", "\rx", "ok", "a=b", -2.5],
                      "value": [-1.0, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]})
    out = escape_formulas(t)
    assert list(out["name"]) == ["'=1+1", "'+x", "'-1+2", "'@SUM(A1)", "'\tx", "'\rx", "ok", "a=b", -2.5]
    assert out["value"].tolist() == t["value"].tolist()  # numbers untouched, negatives too
    assert t["name"].iloc[0] == "=1+1"  # the input is not changed
    assert list(escape_formulas(pd.DataFrame({"=x": [1]})).columns) == ["'=x"]  # headers too
    cat = pd.DataFrame({"group": pd.Categorical(["=A", "B", "=A"])})  # categorical text too
    assert list(escape_formulas(cat)["group"]) == ["'=A", "B", "'=A"]


def test_csvs_quote_formula_names_and_keep_negative_numbers_numeric(hostile):
    results, out = hostile
    bands = pd.read_csv(out / "bands.csv")
    assert set(bands["sample"]) >= {"'=HYPERLINK(\"x\")", "'-1+2", "'@SUM(A1)", "'+A&B"}
    for name in CSVS + tuple(p.name for p in out.glob("prism_*.csv")):
        table = pd.read_csv(out / name, keep_default_na=False)
        for col in table.columns:
            assert not str(col).startswith(FORMULA), (name, col)
            if table[col].dtype == object:
                cells = [v for v in table[col] if isinstance(v, str)]
                assert not [v for v in cells if v.startswith(FORMULA)], (name, col)
    # negative numbers are still numbers, at full precision: LSD differences of the stats table
    stats = pd.read_csv(out / "stats.csv")
    assert stats["diff"].dtype == float and (stats["diff"] < 0).any()
    np.testing.assert_array_equal(stats["diff"].to_numpy(), results.stats["diff"].to_numpy(dtype=float))
    norm = pd.read_csv(out / "normalized.csv")
    np.testing.assert_array_equal(norm["fold_change"].to_numpy(), results.normalized["fold_change"].to_numpy())


def test_csv_text_keeps_negative_numbers():
    text = csv_text(pd.DataFrame({"sample": ["-1+2"], "v": [-0.125]}))
    assert text == "sample,v\n'-1+2,-0.125\n"


# ------------------------------------------------------------------------------------------
# report.html: self-contained and escaped


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def test_report_html_embeds_everything_and_escapes_every_name(hostile):
    results, out = hostile
    page = (out / "report.html").read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(page)
    # only these elements: no script, iframe, object, link, or markup injected by a name
    assert set(parsed.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "nav", "a", "p",
                                "ul", "li", "div", "table", "thead", "tbody", "tr", "th", "td", "figure",
                                "img", "figcaption", "b"}
    srcs = [v for tag, k, v in parsed.attrs if k == "src"]
    assert len(srcs) == 1 + 2 + 1  # overlay, two target figures, fold_change.png
    assert all(v.startswith("data:image/png;base64,") for v in srcs)
    assert all(v.startswith("#") for tag, k, v in parsed.attrs if k == "href")
    assert not [a for a in parsed.attrs if a[1].startswith("on")]  # no event handlers
    text = "".join(parsed.text)
    for name in [rc.EXPERIMENT, rc.GROUP_SCRIPT, rc.GROUP_AMP, rc.MEMBRANE, rc.TARGET, rc.TARGET_2, rc.LOADING,
                 rc.IMAGE, *rc.SAMPLES]:
        assert name in text, name  # shown as the literal text
    for raw in ("<script>", "<img src=x", "<b>bold</b>", "<i>TNAP</i>"):
        assert raw not in page
    assert html.escape(rc.GROUP_SCRIPT) in page
    # flags come first, and repeat the saturated band's names
    assert page.index("id='flags'") < page.index("id='summary'") < page.index("id='stats'") \
        < page.index("id='figures'") < page.index("id='bands'")
    flags = page[page.index("id='flags'"):page.index("id='summary'")]
    assert "saturated" in flags and html.escape(rc.TARGET) in flags


def test_report_tables_have_the_csv_rows(hostile):
    _, out = hostile
    page = (out / "report.html").read_text(encoding="utf-8")
    for name in CSVS:
        m = re.search(rf"<table data-csv='{re.escape(name)}'>.*?<tbody>(.*?)</tbody>", page, re.S)
        assert m, name
        assert m.group(1).count("<tr>") == len(pd.read_csv(out / name)), name


# ------------------------------------------------------------------------------------------
# publication figures


def _known_inputs():
    # group means 2, 5, 10 and SDs 1, 2, 3 (values chosen by hand: x, x +- sd)
    groups = ["ctl", "A&B", "<x>"]
    values = {"ctl": [1.0, 2.0, 3.0], "A&B": [3.0, 5.0, 7.0], "<x>": [7.0, 10.0, 13.0]}
    ps = pd.DataFrame([{"target": "T", "sample": f"{g}{i}", "group": g, "fold_change": v}
                       for g in groups for i, v in enumerate(values[g])])
    summary = pd.DataFrame({"target": "T", "group": groups, "n": 3, "mean": [2.0, 5.0, 10.0], "sd": [1.0, 2.0, 3.0]})
    return groups, values, ps, summary


def test_target_figure_draws_means_sds_samples_and_marks():
    groups, values, ps, summary = _known_inputs()
    fig = target_figure(ps, summary, "T", groups=groups, marks={"ctl": "a", "A&B": "ab", "<x>": "b"})
    from matplotlib.container import BarContainer

    ax = fig.axes[0]
    bars = next(c for c in ax.containers if isinstance(c, BarContainer))
    np.testing.assert_allclose([p.get_height() for p in bars.patches], [2.0, 5.0, 10.0], rtol=0, atol=1e-12)
    # error bars: vertical segments from mean - sd to mean + sd
    segs = bars.errorbar.lines[2][0].get_segments()
    np.testing.assert_allclose([(s[0][1], s[1][1]) for s in segs], [(1, 3), (3, 7), (7, 13)], atol=1e-12)
    dots = np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets()) == 3])
    np.testing.assert_allclose(np.sort(dots[:, 1]), np.sort(sum(values.values(), [])), atol=1e-12)
    assert [t.get_text() for t in ax.texts] == ["a", "ab", "b"]
    assert [t.get_text() for t in ax.get_xticklabels()] == groups


def test_svg_keeps_labels_and_letters_as_text_escaped():
    groups, _, ps, summary = _known_inputs()
    fig = target_figure(ps, summary, "T", groups=groups, marks={"ctl": "a", "A&B": "ab", "<x>": "b"})
    svg = figure_bytes(fig, "svg")
    texts = [el.text for el in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    for word in groups + ["a", "ab", "b", "T"]:
        assert word in texts, word


def test_dollar_signs_in_names_are_text_not_mathtext():
    """Names are drawn as typed: "$5" is not italic maths, and "$\\frac$" (invalid TeX) draws."""
    from blotquant.report.figures import render_plot

    groups = ["ctl", "cost $5 vs $6", "a$\\frac$b"]
    ps = pd.DataFrame([{"target": "x_$^$", "sample": f"s{g}{i}", "group": g, "fold_change": 1.0 + i}
                       for g in groups for i in range(3)])
    summary = pd.DataFrame({"target": "x_$^$", "group": groups, "n": 3, "mean": 2.0, "sd": 1.0})
    render_plot(ps, summary, groups=groups)  # raised ValueError on the invalid TeX before
    fig = target_figure(ps, summary, "x_$^$", groups=groups, ylabel="x_$^$ / $actin$",
                        legend=f"{groups[1]} differs from {groups[2]}")
    for fmt in ("png", "pdf"):
        assert figure_bytes(fig, fmt)
    texts = " ".join(el.text or "" for el in ET.fromstring(figure_bytes(fig, "svg")).iter(
        "{http://www.w3.org/2000/svg}text"))
    for word in [*groups, "x_$^$", "x_$^$ / $actin$"]:
        assert word in texts, word


def test_significance_marks_letters_from_lsd_and_stars_from_dunnett():
    # LSD: ctl-A p = 0.2 (same), ctl-B p = 0.01 (differ), A-B p = 0.3 (same) -> a, ab, b (Piepho)
    lsd = pd.DataFrame({"target": "T", "test": ["anova", "lsd", "lsd", "lsd"], "group_a": [None, "ctl", "ctl", "A"],
                        "group_b": [None, "A", "B", "B"], "statistic": [5.0, 1.0, 3.0, 1.0], "df": [2.0, 6, 6, 6],
                        "df2": [6.0, None, None, None], "p_value": [0.04, 0.2, 0.01, 0.3], "selection": "configured"})
    s = significance_marks(lsd, "T", groups=["ctl", "A", "B"], control="ctl", alpha=0.05)
    assert s["kind"] == "letters" and s["marks"] == {"ctl": "a", "A": "ab", "B": "b"}
    assert s["omnibus"] == "one-way ANOVA, F(2, 6) = 5, p = 0.04"
    assert "Fisher's LSD" in s["legend"] and "0.05" in s["legend"]
    # Dunnett: stars against the control; p >= alpha is ns even where a star threshold is met
    dun = pd.DataFrame({"target": "T", "test": "dunnett", "group_a": "ctl", "group_b": ["A", "B", "C"],
                        "statistic": 1.0, "df": 6.0, "df2": None, "p_value": [0.0004, 0.03, 0.2],
                        "selection": "configured"})
    s = significance_marks(dun, "T", groups=["ctl", "A", "B", "C"], control="ctl", alpha=0.05)
    assert s["kind"] == "stars" and s["marks"] == {"A": "***", "B": "*", "C": "ns"}
    s = significance_marks(dun, "T", groups=["ctl", "A", "B", "C"], control="ctl", alpha=0.01)
    assert s["marks"] == {"A": "***", "B": "ns", "C": "ns"}
    # auto rows are not the configured test
    assert significance_marks(dun.assign(selection="auto"), "T", groups=["ctl", "A"], control="ctl",
                              alpha=0.05)["kind"] == "none"


def test_written_figures_match_summary_and_stats(hostile):
    results, out = hostile
    record = __import__("json").loads((out / "run.json").read_text())
    sig = record["figures"]["significance"]
    assert set(sig) == {rc.TARGET, rc.TARGET_2}
    for target, stem in ((rc.TARGET, "i_TNAP_i_p"), (rc.TARGET_2, "i_TNAP_i_p_2")):
        for fmt in ("png", "svg", "pdf"):
            assert (out / f"figure_{stem}.{fmt}").stat().st_size > 1000
        lsd = results.stats[(results.stats["target"] == target) & (results.stats["test"] == "lsd")]
        assert sig[target]["kind"] == "letters" and len(lsd) == 3
        # two groups share a letter exactly when their LSD p >= alpha
        marks = sig[target]["marks"]
        for r in lsd.itertuples():
            share = bool(set(marks[r.group_a]) & set(marks[r.group_b]))
            assert share == (r.p_value >= 0.05), (target, r.group_a, r.group_b)
        svg = (out / f"figure_{stem}.svg").read_text(encoding="utf-8")
        texts = [el.text for el in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
        assert set(rc.GROUPS) <= set(texts) and set(marks.values()) <= set(texts)
        caption = record["figures"]["captions"][f"figure_{stem}.png"]
        assert "mean ± SD" in caption and "Fisher's LSD" in caption and "0.05" in caption


def test_dunnett_run_puts_stars_in_the_figure(tmp_path):
    cfg, _ = rc.build(tmp_path, posthoc="dunnett")
    results = run(load_config(cfg))
    out = write_results(results, tmp_path / "out")
    record = __import__("json").loads((out / "run.json").read_text())
    for target in (rc.TARGET, rc.TARGET_2):
        s = record["figures"]["significance"][target]
        dun = results.stats[(results.stats["target"] == target) & (results.stats["test"] == "dunnett")]
        assert s["kind"] == "stars" and set(s["marks"]) == set(dun["group_b"]) == {rc.GROUP_SCRIPT, rc.GROUP_AMP}
        for r in dun.itertuples():
            assert (s["marks"][r.group_b] == "ns") == (r.p_value >= 0.05)
    assert "Dunnett" in record["figures"]["captions"]["figure_i_TNAP_i_p.svg"]


def test_outputs_are_byte_identical_across_runs(hostile, tmp_path):
    results, out = hostile
    again = write_results(results, tmp_path / "again", experiment_name=rc.EXPERIMENT)
    names = sorted(p.name for p in out.iterdir() if p.name != "run.json")
    assert names == sorted(p.name for p in again.iterdir() if p.name != "run.json")
    for name in names:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
    pdf = (out / "figure_i_TNAP_i_p.pdf").read_bytes()
    svg = (out / "figure_i_TNAP_i_p.svg").read_text(encoding="utf-8")
    assert b"CreationDate" not in pdf and "<dc:date>" not in svg


# ------------------------------------------------------------------------------------------
# Prism tables and file names


def test_prism_table_columns_are_groups_and_means_equal_summary(hostile):
    results, out = hostile
    for target, stem in ((rc.TARGET, "i_TNAP_i_p"), (rc.TARGET_2, "i_TNAP_i_p_2")):
        wide = pd.read_csv(out / f"prism_{stem}.csv")
        assert list(wide.columns) == rc.GROUPS  # config order; none of these starts like a formula
        summary = results.summary[results.summary["target"] == target].set_index("group")
        np.testing.assert_allclose(wide.mean().to_numpy(), summary.loc[rc.GROUPS, "mean"].to_numpy(),
                                   rtol=0, atol=1e-12)
        assert wide.count().tolist() == summary.loc[rc.GROUPS, "n"].tolist()
    ps = pd.DataFrame({"target": "T", "group": ["b", "a", "b"], "fold_change": [1.0, 2.0, np.nan]})
    assert prism_table(ps, "T", groups=["a", "b"]).to_dict("list") == {"a": [2.0], "b": [1.0]}


def test_safe_stem_numbers_collisions_ignoring_case():
    taken = set()
    assert [safe_stem(t, taken=taken) for t in ["a/b", "a b", "A_B", "..", "-rf"]] == ["a_b", "a_b_2", "A_B_3",
                                                                                     "x", "rf"]


# ------------------------------------------------------------------------------------------
# overlays


@pytest.mark.parametrize("from_copy", [False, True])
def test_overlay_shows_every_saturated_and_marked_pixel_and_the_outlines(from_copy):
    """Single saturated / marked pixels at positions a stride-3 subsample skips still show, and
    found / not-found bands are outlined yellow, saturated ones red: drawn from the full-size
    arrays, and from the display-size copy a run keeps of them instead."""
    import cv2

    from blotquant.lanes import lanes_from_centers
    from blotquant.report.figures import overlay_pixels

    rows, cols = 1800, 4200  # display step 3
    data = np.zeros((rows, cols))
    sat = np.zeros((rows, cols), bool)
    sat[1001, 2002] = True  # neither index divisible by 3
    marks = np.zeros((rows, cols), bool)
    marks[401, 3301] = True
    lanes = lanes_from_centers([1000.0, 2000.0, 3000.0], 400.0)
    bands = pd.DataFrame({"target": "T", "lane": [1, 2, 3], "band_top": 300.0, "band_bottom": 360.0,
                          "x_left": [850.0, 1850.0, 2850.0], "x_right": [1150.0, 2150.0, 3150.0],
                          "band_row": 330.0, "saturated": [False, True, False], "found": [True, True, False]})
    if from_copy:
        kept = overlay_pixels(data, sat, marks)
        assert kept.shown.nbytes * 9 <= data.nbytes  # (the point of keeping it instead)
        png = render_overlay(kept, None, lanes, bands, title="t", lane_labels=["a", "b", "c"])
    else:
        png = render_overlay(data, sat, lanes, bands, title="t", lane_labels=["a", "b", "c"], marks=marks)
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
    red = np.all(img == (255, 0, 0), axis=2)
    magenta = np.all(img == (255, 0, 255), axis=2)
    yellow = np.all(img == (255, 230, 0), axis=2)
    assert magenta.sum() == 1
    # red: the saturated band's outline (display rows ~100-120 below the header) and, ~210 rows
    # further down, the single saturated pixel
    ry, rx = np.nonzero(red)
    lone = (ry > ry.min() + 100)
    assert lone.sum() == 1 and rx[lone][0] - rx[~lone].min() == pytest.approx(2002 // 3 - (1850 + 0.5) / 3, abs=2)
    # yellow: lane 1's solid outline (display x ~283-383) and lane 3's dotted one (~950-1050)
    ys, xs = np.nonzero(yellow)
    solid, dotted = (xs < 700).sum(), (xs > 700).sum()
    assert np.ptp(xs[xs < 700]) == pytest.approx(100, abs=2) and np.ptp(xs[xs > 700]) == pytest.approx(100, abs=2)
    assert 0.2 * solid < dotted < 0.7 * solid


def test_stats_cli_csv_quotes_formula_group_names(tmp_path, capsys):
    import io

    from blotquant.cli import main

    path = tmp_path / "d.csv"
    pd.DataFrame({"g": ["=ctl"] * 3 + ["-1+2"] * 3, "v": [1.0, 1.1, 0.9, 2.0, 2.2, 2.1]}).to_csv(path, index=False)
    assert main(["stats", str(path), "--group", "g", "--value", "v", "--format", "csv"]) == 0
    back = pd.read_csv(io.StringIO(capsys.readouterr().out))
    lsd = back[back["test"] == "lsd"].iloc[0]
    assert (lsd["group_a"], lsd["group_b"]) == ("'=ctl", "'-1+2")
    assert lsd["diff"] == pytest.approx(1.1, abs=1e-12)  # mean 2.1 - mean 1.0, still a number


def test_overlay_lane_labels_shortened_and_staggered_only_when_they_would_overlap():
    from blotquant.report.figures import _FONT_PX, _font, _lane_labels

    font = _font(_FONT_PX)
    labels, rows = _lane_labels(["C1", "C2", "C3"], [50.0, 150.0, 250.0], font)
    assert (labels, rows) == (["C1", "C2", "C3"], 1)
    long = "<img src=x onerror=alert(2)>"
    labels, rows = _lane_labels(["C1", long, "C3"], [50.0, 110.0, 170.0], font)
    assert rows == 2 and labels[0] == "C1" and labels[1].endswith("…")
    assert long.startswith(labels[1][:-1]) and font.getlength(labels[1]) <= 2 * 60 - 6


def test_overlay_display_copy_averages_the_blocks_the_overlay_draws():
    # display pixel (i, j) is the mean of image rows i*step.. and columns j*step.. (the ragged
    # last row / column of blocks holds what is left), as render_overlay maps coordinates
    from blotquant.report.figures import _block_mean, overlay_pixels

    rng = np.random.default_rng(3)
    for rows, cols, step in [(9, 12, 3), (10, 11, 3), (7, 5, 2), (2, 2, 3), (3001, 3998, 4)]:
        data = rng.uniform(0, 60000, (rows, cols))
        got = _block_mean(data, step)
        h, w = -(-rows // step), -(-cols // step)
        assert got.shape == (h, w)
        picks = [(0, 0), (h - 1, w - 1), (h // 2, w - 1), (h - 1, 0), (h // 2, w // 2)]
        for i, j in picks:
            want = data[i * step:(i + 1) * step, j * step:(j + 1) * step].mean()
            assert got[i, j] == pytest.approx(want, rel=1e-6)  # (OpenCV averages in float32 weights)
    px = overlay_pixels(rng.uniform(0, 10, (3200, 100)))
    assert px.step == 2 and px.shown.shape == (1600, 50)
