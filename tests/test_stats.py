"""Tests for blotquant.stats.

Reference numbers come from /work/shared/stats-cases (R 4.2.2: stats, multcomp, rstatix, emmeans,
plus deterministic quadrature recomputations; see its README). Tolerances are the README's:
relative 1e-9 for summaries, ANOVA, LSD, Welch ANOVA, Kruskal-Wallis, Dunn and Dunnett t/diff;
absolute 1e-9 for Tukey and Games-Howell p and CI (against ``*_quadrature``); absolute 1e-3 for
Dunnett p and 3e-3 for Dunnett CI (scipy.stats.dunnett is quasi-Monte-Carlo).
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from blotquant.errors import StatsError
from blotquant.stats import (
    CONTRACT_COLUMNS,
    EXTRA_COLUMNS,
    compact_letters,
    compare_groups,
    run_tests,
    significance_stars,
    summarize,
)

CASES_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "stats-cases"
CASES = sorted(p.stem for p in CASES_DIR.glob("*.json")) if CASES_DIR.is_dir() else []
needs_cases = pytest.mark.skipif(not CASES, reason=f"reference cases not found in {CASES_DIR}")

REL = 1e-9  # README: relative 1e-9 for the plain fields
ZERO = 1e-13  # absolute floor so that reference values of exactly 0 compare sensibly


def close(actual, expected, *, rtol=REL, atol=ZERO, what=""):
    """assert_allclose that treats JSON null as 'must be NaN'."""
    expected = np.array([np.nan if e is None else e for e in np.atleast_1d(expected)], float)
    np.testing.assert_allclose(np.asarray(actual, float), expected, rtol=rtol, atol=atol,
                               equal_nan=True, err_msg=what)


@functools.lru_cache(maxsize=None)
def load_case(name):
    ref = json.loads((CASES_DIR / f"{name}.json").read_text())
    data = pd.read_csv(CASES_DIR / ref["input"], dtype={"group": str})
    return data, ref


@functools.lru_cache(maxsize=None)
def all_tests(name):
    data, ref = load_case(name)
    return run_tests(data, group="group", value="value", control=ref["control"], tests="all")


def rows(table, test):
    return table[table["test"] == test].reset_index(drop=True)


def assert_matches_reference(table: pd.DataFrame, ref: dict) -> None:
    """Every figure of one reference case that run_tests(tests="all") produces.

    Shared with tests/test_stats_cli.py, which feeds it the table read back from the CLI's JSON.
    """
    levels = ref["levels"]
    pairs = list(itertools.combinations(levels, 2))

    a = ref["anova"]
    an = rows(table, "anova").iloc[0]
    close([an.statistic, an.df, an.df2, an.p_value, an.ss_between, an.ss_within,
           an.eta_squared],
          [a["F"], a["df1"], a["df2"], a["p"], a["ss_between"], a["ss_within"],
           a["eta_squared"]], what="anova")

    w = ref["welch_anova"]
    wr = rows(table, "welch_anova").iloc[0]
    close([wr.statistic, wr.df, wr.df2, wr.p_value], [w["F"], w["df1"], w["df2"], w["p"]],
          what="welch_anova")
    if not w["defined"]:
        assert "undefined" in wr.note and "variance" in wr.note

    kw = ref["kruskal_wallis"]
    kr = rows(table, "kruskal").iloc[0]
    close([kr.statistic, kr.df, kr.p_value], [kw["H"], kw["df"], kw["p"]], what="kruskal")

    lsd = rows(table, "lsd")
    assert list(zip(lsd.group_a, lsd.group_b)) == pairs
    for col, key in [("diff", "diff"), ("se", "se"), ("statistic", "t"), ("df", "df"),
                     ("p_value", "p"), ("ci_low", "lwr"), ("ci_high", "upr")]:
        close(lsd[col], [r[key] for r in ref["lsd"]], what=f"lsd {col}")
    assert set(lsd.p_adjust) == {"none"}

    tk = rows(table, "tukey")
    assert list(zip(tk.group_a, tk.group_b)) == pairs
    close(tk["diff"], [r["diff"] for r in ref["tukey"]], what="tukey diff")
    # R reports the q-scale SE sqrt(MSE/2 (1/nA+1/nB)); blotquant's se is the SE of the difference
    close(tk["se"], [r["se"] * math.sqrt(2) for r in ref["tukey"]], what="tukey se")
    close(tk["statistic"], [r["q"] for r in ref["tukey"]], what="tukey q")
    close(tk["df"], [r["df"] for r in ref["tukey"]], what="tukey df")
    for col, key in [("p_value", "p_adj_quadrature"), ("ci_low", "lwr_quadrature"),
                     ("ci_high", "upr_quadrature")]:
        close(tk[col], [r[key] for r in ref["tukey"]], rtol=0, atol=1e-9, what=f"tukey {col}")
    assert set(tk.p_adjust) == {"tukey"}

    dn = rows(table, "dunnett")
    assert list(dn.group_a) == [r["control"] for r in ref["dunnett"]]
    assert list(dn.group_b) == [r["group"] for r in ref["dunnett"]]
    for col, key in [("diff", "diff"), ("se", "se"), ("statistic", "t"), ("df", "df")]:
        close(dn[col], [r[key] for r in ref["dunnett"]], what=f"dunnett {col}")
    close(dn["p_value"], [r["p_adj_quadrature"] for r in ref["dunnett"]], rtol=0, atol=1e-3,
          what="dunnett p")
    close(dn["ci_low"], [r["lwr_quadrature"] for r in ref["dunnett"]], rtol=0, atol=3e-3,
          what="dunnett ci_low")
    close(dn["ci_high"], [r["upr_quadrature"] for r in ref["dunnett"]], rtol=0, atol=3e-3,
          what="dunnett ci_high")
    assert set(dn.p_adjust) == {"dunnett"}

    gh = rows(table, "games_howell")
    assert list(zip(gh.group_a, gh.group_b)) == pairs
    for col, key in [("diff", "diff"), ("se", "se"), ("statistic", "q"), ("df", "df")]:
        close(gh[col], [r[key] for r in ref["games_howell"]], what=f"games_howell {col}")
    for col, key in [("p_value", "p_adj_quadrature"), ("ci_low", "lwr_quadrature"),
                     ("ci_high", "upr_quadrature")]:
        close(gh[col], [r[key] for r in ref["games_howell"]], rtol=0, atol=1e-9,
              what=f"games_howell {col}")

    du = rows(table, "dunn")
    assert list(zip(du.group_a, du.group_b)) == pairs
    for col, key in [("diff", "mean_rank_diff"), ("statistic", "z"), ("p_value", "p"),
                     ("p_adj_bonferroni", "p_adj_bonferroni"), ("p_adj_holm", "p_adj_holm"),
                     ("p_adj_bh", "p_adj_BH")]:
        close(du[col], [r[key] for r in ref["dunn"]], what=f"dunn {col}")
    for col in ("p_adj_vs_control_bonferroni", "p_adj_vs_control_holm"):
        # R reference: the k - 1 control comparisons adjusted among themselves; null elsewhere
        want = [r.get(col) for r in ref["dunn"]]
        got = du[col].to_numpy(dtype=float)
        assert [w is None for w in want] == list(np.isnan(got)), col
        close(got[~np.isnan(got)], [w for w in want if w is not None], what=f"dunn {col}")
    assert set(du.p_adjust) == {"none"}
    # Dunn's decision uses the Holm-adjusted p
    assert list(du.significant) == [r["p_adj_holm"] < 0.05 for r in ref["dunn"]]

    for r in ref["groups"]:
        sw = table[(table.test == "shapiro") & (table.group_a == r["group"])]
        assert len(sw) == 1


# ------------------------------------------------------------------------------------------
# reference cases


@needs_cases
@pytest.mark.parametrize("name", CASES)
def test_reference_case_all_tests(name):
    _, ref = load_case(name)
    assert_matches_reference(all_tests(name), ref)


@needs_cases
@pytest.mark.parametrize("name", CASES)
def test_summary_matches_reference(name):
    data, ref = load_case(name)
    s = summarize(data, control=ref["control"])
    assert list(s.columns) == ["group", "n", "mean", "sd", "sem", "median", "ci_low", "ci_high",
                               "fold_change"]
    assert list(s.group) == ref["levels"]
    for col in ["n", "mean", "sd", "sem", "median", "fold_change"]:
        close(s[col], [g[col] for g in ref["groups"]], what=col)
    # 95 % CI of the mean: scipy's one-sample t-test interval
    for _, row in s.iterrows():
        v = data.value[data.group == row.group].to_numpy()
        if np.ptp(v) == 0:  # zero SD: the interval collapses onto the mean
            assert row.ci_low == row.ci_high == row["mean"]
            continue
        ci = sps.ttest_1samp(v, 0).confidence_interval(0.95)
        close([row.ci_low, row.ci_high], [ci.low, ci.high], rtol=1e-12, what=str(row.group))


@needs_cases
@pytest.mark.parametrize("name", CASES)
def test_compare_groups_default_is_anova_lsd(name):
    data, ref = load_case(name)
    table = compare_groups(data)
    assert list(table.columns) == CONTRACT_COLUMNS + EXTRA_COLUMNS
    assert list(pd.unique(table.test)) == ["shapiro", "brown_forsythe", "anova", "lsd"]
    close(rows(table, "lsd").p_value, [r["p"] for r in ref["lsd"]])
    close(rows(table, "anova").p_value, [ref["anova"]["p"]])


def test_anova_agrees_with_scipy_f_oneway():
    rng = np.random.default_rng(7)
    data = pd.DataFrame({"group": np.repeat(["a", "b", "c", "d"], [4, 6, 5, 3]),
                         "value": rng.normal(size=18)})
    row = rows(run_tests(data, tests="anova"), "anova").iloc[0]
    ref = sps.f_oneway(*[g.value.to_numpy() for _, g in data.groupby("group", sort=False)])
    close([row.statistic, row.p_value], [ref.statistic, ref.pvalue], rtol=1e-12)


@needs_cases
def test_paper_case_with_statsmodels_free_independent_lsd():
    # LSD by the textbook formula, computed here independently of blotquant
    data, _ = load_case("01_paper_balanced_n3")
    gs = [g.value.to_numpy() for _, g in data.groupby("group", sort=False)]
    mse = sum(((g - g.mean()) ** 2).sum() for g in gs) / (9 - 3)
    t = (gs[1].mean() - gs[0].mean()) / math.sqrt(mse * (2 / 3))
    lsd = rows(run_tests(data, tests="lsd"), "lsd").iloc[0]
    close([lsd.statistic, lsd.p_value], [t, 2 * sps.t.sf(abs(t), 6)], rtol=1e-12)


# ------------------------------------------------------------------------------------------
# two groups: every method collapses onto a textbook two-sample test


@pytest.fixture
def two_groups():
    return pd.DataFrame({"group": ["ctl"] * 5 + ["trt"] * 4,
                         "value": [1.0, 1.2, 0.9, 1.1, 1.3, 1.9, 2.4, 1.7, 2.2]})


def test_two_groups_anova_is_t_squared_and_posthocs_reduce(two_groups):
    t = run_tests(two_groups, tests="all")
    a, b = two_groups.value[:5].to_numpy(), two_groups.value[5:].to_numpy()
    # hand formulas: pooled and Welch two-sample t
    sp2 = ((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()
    sp2 /= a.size + b.size - 2
    t_pooled = (b.mean() - a.mean()) / math.sqrt(sp2 * (1 / 5 + 1 / 4))
    va, vb = a.var(ddof=1) / 5, b.var(ddof=1) / 4
    t_welch = (b.mean() - a.mean()) / math.sqrt(va + vb)
    df_welch = (va + vb) ** 2 / (va**2 / 4 + vb**2 / 3)
    p_pooled = 2 * sps.t.sf(abs(t_pooled), 7)
    p_welch = 2 * sps.t.sf(abs(t_welch), df_welch)

    tt = rows(t, "t_test").iloc[0]
    close([tt.statistic, tt.df, tt.p_value], [t_pooled, 7, p_pooled], rtol=1e-12)
    an = rows(t, "anova").iloc[0]
    close([an.statistic, an.p_value], [t_pooled**2, p_pooled], rtol=1e-12)
    wt = rows(t, "welch_t_test").iloc[0]
    close([wt.statistic, wt.df, wt.p_value], [t_welch, df_welch, p_welch], rtol=1e-12)
    close(rows(t, "welch_anova").statistic, [t_welch**2], rtol=1e-12)
    close(rows(t, "lsd").p_value, [p_pooled], rtol=1e-12)
    # studentized range with k = 2 is |t|·sqrt(2): Tukey and Games-Howell equal the t-tests
    close(rows(t, "tukey").p_value, [p_pooled], rtol=0, atol=1e-9)
    close(rows(t, "games_howell").p_value, [p_welch], rtol=0, atol=1e-9)
    close(rows(t, "dunnett").p_value, [p_pooled], rtol=0, atol=1e-3)
    # Dunn's z² equals the tie-corrected Kruskal-Wallis H for two groups
    close(rows(t, "dunn").statistic ** 2, rows(t, "kruskal").statistic, rtol=1e-12)
    # Mann-Whitney U of group_b, counted pair by pair
    mw = rows(t, "mann_whitney").iloc[0]
    u = sum((x > y) + 0.5 * (x == y) for x in b for y in a)
    assert mw.statistic == u
    assert (mw.group_a, mw.group_b) == ("ctl", "trt")


def test_two_group_tests_refuse_three_groups():
    data = pd.DataFrame({"group": list("aabbcc"), "value": [1.0, 2, 3, 4, 5, 6]})
    with pytest.raises(StatsError, match="exactly two groups"):
        run_tests(data, tests="t_test")
    assert "t_test" not in set(run_tests(data, tests="all").test)


# ------------------------------------------------------------------------------------------
# schema, ordering, inputs


def test_schema_and_omnibus_rows_leave_groups_empty(two_groups):
    t = run_tests(two_groups, tests="all")
    assert list(t.columns) == CONTRACT_COLUMNS + EXTRA_COLUMNS
    omni = t[t.test.isin(["anova", "welch_anova", "kruskal", "levene", "brown_forsythe"])]
    assert omni.group_a.isna().all() and omni.group_b.isna().all()
    assert t.significant.dtype == bool


def test_group_order_is_first_appearance_unless_given():
    data = pd.DataFrame({"group": list("zzaamm"), "value": [1.0, 2, 5, 6, 3, 4]})
    lsd = rows(run_tests(data, tests="lsd"), "lsd")
    assert list(zip(lsd.group_a, lsd.group_b)) == [("z", "a"), ("z", "m"), ("a", "m")]
    lsd2 = rows(run_tests(data, tests="lsd", groups=["a", "m", "z"]), "lsd")
    assert list(zip(lsd2.group_a, lsd2.group_b)) == [("a", "m"), ("a", "z"), ("m", "z")]
    # diff is group_b - group_a
    close(lsd2["diff"], [-2.0, -4.0, -2.0], rtol=1e-12)


def test_dunnett_uses_the_given_control():
    data = pd.DataFrame({"group": list("aabbcc"), "value": [1.0, 2, 5, 6, 3, 4]})
    dn = rows(run_tests(data, tests="dunnett", control="b"), "dunnett")
    assert list(dn.group_a) == ["b", "b"] and list(dn.group_b) == ["a", "c"]


def test_inputs_are_left_unchanged(two_groups):
    before = two_groups.copy()
    run_tests(two_groups, tests="all")
    summarize(two_groups)
    pd.testing.assert_frame_equal(two_groups, before)


@pytest.mark.parametrize("kwargs, match", [
    (dict(test="anova2"), "unknown test 'anova2'; valid: anova, welch_anova"),
    (dict(posthoc="scheffe"), "unknown posthoc 'scheffe'; valid: lsd, tukey"),
    (dict(value="volume"), "value column 'volume' not found"),
    (dict(group="condition"), "group column 'condition' not found"),
    (dict(control="IL6"), "control group 'IL6'"),
    (dict(alpha=1.5), "alpha"),
])
def test_user_errors_raise_stats_error(two_groups, kwargs, match):
    with pytest.raises(StatsError, match=match):
        compare_groups(two_groups, **kwargs)


def test_unknown_test_in_run_tests_lists_valid_names(two_groups):
    with pytest.raises(StatsError, match="unknown test 'tukee'.*tukey"):
        run_tests(two_groups, tests="anova,tukee")


def test_non_numeric_value_names_column_and_value():
    data = pd.DataFrame({"group": list("aabb"), "value": ["1", "2", "three", "4"]})
    with pytest.raises(StatsError, match="'value'.*'three'"):
        run_tests(data)


def test_fewer_than_two_groups():
    data = pd.DataFrame({"group": list("aaa"), "value": [1.0, 2, 3]})
    with pytest.raises(StatsError, match="at least 2 groups"):
        compare_groups(data)


# ------------------------------------------------------------------------------------------
# edge cases: a stated answer, not a crash


def test_all_nan_group_dropped_with_warning():
    data = pd.DataFrame({"group": list("aaabbbccc"),
                         "value": [1.0, 2, 3, np.nan, np.nan, np.nan, 4, 5, 7]})
    with pytest.warns(UserWarning, match="group 'b' has no finite values"):
        t = run_tests(data, tests="anova,lsd")
    lsd = rows(t, "lsd")
    assert list(zip(lsd.group_a, lsd.group_b)) == [("a", "c")]
    with pytest.warns(UserWarning, match="group 'b'"):
        assert list(summarize(data).group) == ["a", "c"]


def test_single_nan_values_are_dropped():
    data = pd.DataFrame({"group": list("aaabbb"), "value": [1.0, 2, np.nan, 4, 5, 6]})
    s = summarize(data)
    assert list(s.n) == [2, 3]


def test_all_values_equal_gives_nan_with_reason():
    data = pd.DataFrame({"group": list("aaabbb"), "value": [1.0] * 6})
    t = run_tests(data, tests="all")
    for test in ["anova", "kruskal", "lsd", "tukey", "dunnett", "dunn", "t_test",
                 "mann_whitney", "levene", "welch_anova"]:
        r = rows(t, test)
        assert r.p_value.isna().all(), test
        assert (r.note.str.len() > 0).all(), test
        assert not r.significant.any()


def test_group_with_n1():
    data = pd.DataFrame({"group": ["a", "a", "a", "b", "c", "c", "c"],
                         "value": [1.0, 1.2, 0.9, 2.0, 1.5, 1.7, 1.4]})
    s = summarize(data)
    assert s.n.tolist() == [3, 1, 3] and math.isnan(s.sd[1]) and math.isnan(s.ci_low[1])
    t = run_tests(data, tests="all")
    assert math.isfinite(rows(t, "anova").p_value[0])  # pooled MSE still exists
    assert rows(t, "lsd").p_value.notna().all()
    wa = rows(t, "welch_anova").iloc[0]
    assert math.isnan(wa.p_value) and "'b'" in wa.note
    gh = rows(t, "games_howell")
    assert gh.p_value.isna().tolist() == [True, False, True]
    assert "n = 1" in gh.note[0]
    assert "n = 1 < 3" in rows(t, "shapiro").note[1]


def test_every_group_n1_has_no_error_variance():
    data = pd.DataFrame({"group": list("abc"), "value": [1.0, 2.0, 4.0]})
    an = rows(run_tests(data, tests="anova"), "anova").iloc[0]
    assert math.isnan(an.p_value) and "N - k = 0" in an.note


@needs_cases
def test_zero_variance_control_welch_is_undefined():
    data, _ = load_case("05_zero_variance_control")
    wa = rows(all_tests("05_zero_variance_control"), "welch_anova").iloc[0]
    assert math.isnan(wa.statistic) and "'Control'" in wa.note


# ------------------------------------------------------------------------------------------
# auto mode


@needs_cases
def test_auto_chooses_anova_tukey_for_the_paper_case():
    data, _ = load_case("01_paper_balanced_n3")
    t = compare_groups(data, test="auto")
    assert list(pd.unique(t.test)) == ["shapiro", "brown_forsythe", "anova", "tukey"]
    assert "auto:" in rows(t, "anova").note[0] and "Tukey" in rows(t, "anova").note[0]


@needs_cases
def test_auto_chooses_welch_games_howell_when_variances_differ():
    data, _ = load_case("08_group_with_n2")
    t = compare_groups(data, test="auto")
    bf = rows(t, "brown_forsythe").p_value[0]
    assert bf < 0.05
    assert list(pd.unique(t.test))[-2:] == ["welch_anova", "games_howell"]
    assert "Brown-Forsythe" in rows(t, "welch_anova").note[0]


def test_auto_chooses_kruskal_dunn_when_not_normal():
    data = pd.DataFrame({"group": ["a"] * 8 + ["b"] * 8,
                         "value": [1, 1.1, 0.9, 1, 1.05, 0.95, 1, 9] + list(range(2, 10))})
    t = compare_groups(data, test="auto")
    assert list(pd.unique(t.test))[-2:] == ["kruskal", "dunn"]
    assert "Shapiro-Wilk p < 0.05 in group 'a'" in rows(t, "kruskal").note[0]


def test_posthoc_auto_matches_the_omnibus(two_groups):
    assert rows(compare_groups(two_groups, test="kruskal", posthoc="auto"), "dunn").shape[0] == 1
    assert "lsd" not in set(compare_groups(two_groups, posthoc="none").test)


# ------------------------------------------------------------------------------------------
# stars and letters


@pytest.mark.parametrize("p, stars", [(0.0009999, "***"), (0.001, "**"), (0.0099, "**"),
                                      (0.01, "*"), (0.049, "*"), (0.05, "ns"), (0.9, "ns"),
                                      (float("nan"), "")])
def test_significance_stars(p, stars):
    assert significance_stars(p) == stars


@needs_cases
def test_compact_letters_paper_case():
    data, ref = load_case("01_paper_balanced_n3")
    t = compare_groups(data)  # LSD: Control vs IL6 and IL6 vs IL6+CP690550 significant
    assert compact_letters(t, ref["levels"]) == {"Control": "a", "IL6": "b",
                                                 "IL6+CP690550": "a"}


def test_compact_letters_property_on_random_tables():
    rng = np.random.default_rng(3)
    groups = list("ABCDEF")
    for _ in range(50):
        pairs = list(itertools.combinations(groups, 2))
        p = rng.choice([0.001, 0.5], size=len(pairs))
        t = pd.DataFrame({"test": "tukey", "group_a": [a for a, _ in pairs],
                          "group_b": [b for _, b in pairs], "p_value": p})
        letters = compact_letters(t, groups)
        for (a, b), pv in zip(pairs, p):
            share = bool(set(letters[a]) & set(letters[b]))
            assert share == (pv >= 0.05), (a, b, letters)


def test_compact_letters_refuses_dunnett_and_missing_pairs():
    t = pd.DataFrame({"test": ["dunnett"] * 2, "group_a": ["A", "A"], "group_b": ["B", "C"],
                      "p_value": [0.01, 0.2]})
    with pytest.raises(StatsError, match="dunnett"):
        compact_letters(t, list("ABC"))
    t["test"] = "lsd"
    with pytest.raises(StatsError, match="'B' and 'C'"):
        compact_letters(t, list("ABC"))


def test_infinite_values_are_dropped_with_a_warning():
    data = pd.DataFrame({"group": list("aaabbb"), "value": [1.0, 2, 3, 4, np.inf, 6]})
    with pytest.warns(UserWarning, match="group 'b' has 1 infinite"):
        s = summarize(data)
    assert list(s.n) == [3, 2]
