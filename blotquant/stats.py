"""Group statistics: summaries, omnibus tests, post-hoc comparisons, assumption checks.

Every function takes a tidy table (one row per measurement, a group column and a value column)
and returns a tidy DataFrame. Test tables share one schema, :data:`CONTRACT_COLUMNS`::

    test, group_a, group_b, diff, se, statistic, df, df2, p_value, p_adjust,
    ci_low, ci_high, significant, note

followed by a few extra columns (:data:`EXTRA_COLUMNS`) that are NaN where they do not apply.
``significant`` is ``p < alpha`` on ``p_value``, except for Dunn's test where it uses the
Holm-adjusted p (``p_adj_holm``); for assumption rows (shapiro, levene, brown_forsythe) it means
the assumption is rejected. Figures that cannot be computed for the data (a Welch test with a zero-variance group, a
Shapiro-Wilk test on two values, ...) are NaN with the reason in ``note``, never an exception.

Where the numbers come from: scipy supplies the t, F, normal and studentized-range
distributions, Kruskal-Wallis, the t-tests, Mann-Whitney, Shapiro-Wilk, Levene and Dunnett's
many-to-one test. One-way ANOVA (for its sums of squares), Welch's ANOVA, Fisher's LSD,
Tukey-Kramer, Games-Howell and Dunn's test are written here from their textbook formulas (cited
next to each function) and checked against R in ``tests/test_stats.py``.

The defaults reproduce the study blotquant was built for: one-way ANOVA with Fisher's LSD
(SPSS "LSD"), alpha = 0.05.
"""

from __future__ import annotations

import logging
import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blotquant._testnames import (  # noqa: F401 - part of this module's interface
    ASSUMPTION_TESTS, OMNIBUS_TESTS, POSTHOC_TESTS, TESTS, TWO_GROUP_TESTS,
)
from blotquant.errors import StatsError

__all__ = [
    "CONTRACT_COLUMNS",
    "EXTRA_COLUMNS",
    "TESTS",
    "summarize",
    "compare_groups",
    "run_tests",
    "significance_stars",
    "compact_letters",
]

logger = logging.getLogger("blotquant")

#: Columns of every test table, in this order (the contract with the pipeline and the CLI).
CONTRACT_COLUMNS = [
    "test", "group_a", "group_b", "diff", "se", "statistic", "df", "df2",
    "p_value", "p_adjust", "ci_low", "ci_high", "significant", "note",
]
#: Extra columns after the contract ones: Dunn's adjusted p-values and ANOVA effect sizes.
EXTRA_COLUMNS = [
    "p_adj_bonferroni", "p_adj_holm", "p_adj_bh",
    "p_adj_vs_control_bonferroni", "p_adj_vs_control_holm",
    "ss_between", "ss_within", "eta_squared",
]


_COMPARE_TESTS = OMNIBUS_TESTS + ("auto",)
_COMPARE_POSTHOC = POSTHOC_TESTS + ("none", "auto")
# posthoc chosen when posthoc="auto" and the omnibus test is fixed
_MATCHING_POSTHOC = {"anova": "tukey", "welch_anova": "games_howell", "kruskal": "dunn"}
# fixed seed for scipy.stats.dunnett's quasi-Monte-Carlo integration: same data, same p
_DUNNETT_SEED = 20240603


# --------------------------------------------------------------------------------------------
# input handling


@dataclass(frozen=True)
class _Groups:
    names: list
    values: list  # list of 1-D float arrays, NaN removed
    control: object
    alpha: float

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def n(self) -> np.ndarray:
        return np.array([v.size for v in self.values], dtype=float)

    @property
    def means(self) -> np.ndarray:
        return np.array([v.mean() if v.size else np.nan for v in self.values])

    @property
    def variances(self) -> np.ndarray:
        return np.array([v.var(ddof=1) if v.size > 1 else np.nan for v in self.values])

    def pairs(self):
        """All (i, j) with i < j, in group order."""
        return [(i, j) for i in range(self.k) for j in range(i + 1, self.k)]


def _check_alpha(alpha) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        a = math.nan
    if not 0.0 < a < 1.0:
        raise StatsError(f"`alpha` must be a number between 0 and 1 (e.g. 0.05); got {alpha!r}")
    return a


def _prepare(data, group, value, groups, control, alpha=0.05, *, min_groups=2) -> _Groups:
    """Validate the tidy table and split it into per-group arrays (NaN values dropped)."""
    if not isinstance(data, pd.DataFrame):
        raise StatsError(f"`data` must be a pandas DataFrame (tidy: one row per value); "
                         f"got {type(data).__name__}")
    for role, col in (("group", group), ("value", value)):
        if col not in data.columns:
            raise StatsError(f"{role} column {col!r} not found; the table has columns "
                             f"{list(map(str, data.columns))}; choose one with {role}=... "
                             f"(--{role} on the command line)")
    if group == value:
        raise StatsError(f"the group and value columns are both {group!r}; pass two different "
                         "columns")
    alpha = _check_alpha(alpha)
    labels = data[group]
    if labels.isna().any():
        rows = list(data.index[labels.isna()][:5])
        raise StatsError(f"column {group!r} has missing group labels (rows {rows}); "
                         "fill them in or drop those rows")
    raw = data[value]
    numeric = pd.to_numeric(raw, errors="coerce")
    bad = numeric.isna() & raw.notna()
    if bad.any():
        raise StatsError(f"column {value!r} must hold numbers; got {raw[bad].iloc[0]!r} "
                         f"(row {data.index[bad][0]!r}); fix or remove that value")
    present = list(pd.unique(labels))
    if groups is None:
        names = present
    else:
        names = list(groups)
        if len(set(names)) != len(names):
            raise StatsError(f"`groups` lists a group twice: {names}")
        extra = [g for g in present if g not in names]
        if extra:
            raise StatsError(f"group {extra[0]!r} in column {group!r} is not in groups={names}; "
                             "add it to groups or remove its rows")
        missing = [g for g in names if g not in present]
        if missing:
            warnings.warn(f"group {missing[0]!r} from groups={names} has no rows in column "
                          f"{group!r}; it is left out", UserWarning, stacklevel=3)
            names = [g for g in names if g in present]
    arrays = []
    kept = []
    for g in names:
        v = numeric[labels == g].to_numpy(dtype=float)
        if np.isinf(v).any():
            warnings.warn(f"group {g!r} has {int(np.isinf(v).sum())} infinite value(s) in "
                          f"column {value!r} (a division by zero upstream?); they are dropped",
                          UserWarning, stacklevel=3)
        if np.isnan(v).any() and not np.isnan(v).all():
            logger.info("group %r: %d missing value(s) in column %r dropped",
                        g, int(np.isnan(v).sum()), value)
        v = v[np.isfinite(v)]
        if v.size == 0:
            warnings.warn(f"group {g!r} has no finite values in column {value!r}; "
                          "it is dropped from the statistics", UserWarning, stacklevel=3)
            continue
        kept.append(g)
        arrays.append(v)
    if control is None:
        if not kept:
            raise StatsError(f"no finite values in column {value!r}; nothing to test")
        control = kept[0]
    elif control not in kept:
        raise StatsError(f"control group {control!r} is not among the groups with data "
                         f"{kept}; pass control=<one of them>")
    if len(kept) < min_groups:
        raise StatsError(f"need at least {min_groups} groups with data in column {group!r} to "
                         f"compare; got {len(kept)} ({kept})")
    return _Groups(kept, arrays, control, alpha)


def _row(test, **kw) -> dict:
    row = {c: np.nan for c in CONTRACT_COLUMNS + EXTRA_COLUMNS}
    row.update(test=test, group_a=None, group_b=None, p_adjust="none", note="")
    row.update(kw)
    return row


def _finish(rows: list[dict], alpha: float) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=CONTRACT_COLUMNS + EXTRA_COLUMNS)
    if table.empty:
        return table.astype({"significant": bool})
    decision = _decision_p(table)
    with np.errstate(invalid="ignore"):
        table["significant"] = (decision < alpha).to_numpy(dtype=bool)
    for col in ("group_a", "group_b"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    table["note"] = table["note"].fillna("").astype(str)
    table["p_adjust"] = table["p_adjust"].astype(str)
    return table.reset_index(drop=True)


def _decision_p(table: pd.DataFrame) -> pd.Series:
    """The p-value a significance decision uses: Holm-adjusted for Dunn, p_value otherwise."""
    p = table["p_value"].astype(float).copy()
    if "p_adj_holm" in table:
        is_dunn = table["test"] == "dunn"
        p[is_dunn] = table.loc[is_dunn, "p_adj_holm"].astype(float)
    return p


# --------------------------------------------------------------------------------------------
# summary


def summarize(data, *, group="group", value="value", groups=None, control=None) -> pd.DataFrame:
    """Describe each group: n, mean, SD, SEM, median, 95 % CI of the mean, fold change.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy table, one row per measurement. Rows whose value is NaN are dropped.
    group, value : str
        Names of the group-label column and the value column.
    groups : sequence, optional
        Group order. Defaults to the order of first appearance in ``data``.
    control : optional
        Reference group for ``fold_change``. Defaults to the first group.

    Returns
    -------
    summary : pandas.DataFrame
        One row per group in order, columns ``group, n, mean, sd, sem, median, ci_low, ci_high,
        fold_change``.

    Notes
    -----
    ``sd`` is the sample SD (ddof = 1) and ``sem = sd / sqrt(n)``; both are NaN for n = 1. The
    confidence interval is ``mean ± t(0.975, n - 1) · sem``. ``fold_change = mean / mean(control)``
    (NaN when the control mean is 0).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"group": ["C", "C", "T", "T"], "value": [1.0, 3.0, 4.0, 6.0]})
    >>> summarize(df)[["group", "n", "mean", "fold_change"]]
      group  n  mean  fold_change
    0     C  2   2.0          1.0
    1     T  2   5.0          2.5
    """
    from scipy import stats

    g = _prepare(data, group, value, groups, control, min_groups=1)
    rows = []
    control_mean = g.means[g.names.index(g.control)]
    for name, v in zip(g.names, g.values):
        n = v.size
        mean = float(v.mean())
        sd = float(v.std(ddof=1)) if n > 1 else math.nan
        sem = sd / math.sqrt(n) if n > 1 else math.nan
        half = stats.t.ppf(0.975, n - 1) * sem if n > 1 else math.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            fold = mean / control_mean if control_mean != 0 else math.nan
        rows.append(dict(group=name, n=n, mean=mean, sd=sd, sem=sem, median=float(np.median(v)),
                         ci_low=mean - half, ci_high=mean + half, fold_change=fold))
    if control_mean == 0:
        warnings.warn(f"control group {g.control!r} has mean 0; fold change is undefined (NaN)",
                      UserWarning, stacklevel=2)
    return pd.DataFrame(rows, columns=["group", "n", "mean", "sd", "sem", "median",
                                       "ci_low", "ci_high", "fold_change"])


# --------------------------------------------------------------------------------------------
# assumption checks


def _shapiro(g: _Groups) -> list[dict]:
    """Shapiro-Wilk per group (scipy.stats.shapiro); needs n >= 3 and some spread."""
    from scipy import stats

    rows = []
    for name, v in zip(g.names, g.values):
        if v.size < 3:
            rows.append(_row("shapiro", group_a=name,
                             note=f"not computed: n = {v.size} < 3"))
        elif np.ptp(v) == 0:
            rows.append(_row("shapiro", group_a=name, note="not computed: all values equal"))
        else:
            res = stats.shapiro(v)
            note = ("p < alpha: departure from normality" if res.pvalue < g.alpha else "")
            rows.append(_row("shapiro", group_a=name, statistic=float(res.statistic),
                             p_value=float(res.pvalue), note=note))
    return rows


def _levene(g: _Groups, center: str) -> list[dict]:
    """Levene (center='mean') or Brown-Forsythe (center='median') via scipy.stats.levene."""
    from scipy import stats

    test = "levene" if center == "mean" else "brown_forsythe"
    N, k = int(g.n.sum()), g.k
    if N - k < 1:
        return [_row(test, df=k - 1, df2=N - k, note="not computed: no replicates (N - k = 0)")]
    centred = [np.abs(v - (v.mean() if center == "mean" else np.median(v))) for v in g.values]
    if sum(((c - c.mean()) ** 2).sum() for c in centred) == 0:
        # the F statistic's denominator is the spread of the absolute deviations
        return [_row(test, df=k - 1, df2=N - k,
                     note="not computed: absolute deviations do not vary within any group")]
    res = stats.levene(*g.values, center=center)
    note = "p < alpha: variances differ" if res.pvalue < g.alpha else ""
    return [_row(test, statistic=float(res.statistic), df=k - 1, df2=N - k,
                 p_value=float(res.pvalue), note=note)]


# --------------------------------------------------------------------------------------------
# omnibus tests


def _pooled(g: _Groups):
    """Pooled within-group mean square and its df (N - k)."""
    df_w = g.n.sum() - g.k
    ss_w = float(sum(((v - v.mean()) ** 2).sum() for v in g.values))
    mse = ss_w / df_w if df_w > 0 else math.nan
    return mse, df_w, ss_w


def _anova(g: _Groups) -> list[dict]:
    """Classic one-way ANOVA (F = MS_between / MS_within) with sums of squares and eta²."""
    from scipy import stats

    n, means = g.n, g.means
    k = g.k
    grand = float(np.concatenate(g.values).mean())
    ss_b = float((n * (means - grand) ** 2).sum())
    mse, df_w, ss_w = _pooled(g)
    ss_t = ss_b + ss_w
    extra = dict(ss_between=ss_b, ss_within=ss_w,
                 eta_squared=ss_b / ss_t if ss_t > 0 else math.nan)
    if df_w < 1:
        return [_row("anova", df=k - 1, df2=df_w, note="not computed: no replicates (N - k = 0)",
                     **extra)]
    if ss_w == 0:
        note = ("not computed: all values equal" if ss_b == 0 else
                "not computed: zero variance within every group (F infinite)")
        return [_row("anova", df=k - 1, df2=df_w, note=note, **extra)]
    F = (ss_b / (k - 1)) / mse
    p = float(stats.f.sf(F, k - 1, df_w))
    return [_row("anova", statistic=F, df=k - 1, df2=df_w, p_value=p, **extra)]


def _welch_anova(g: _Groups) -> list[dict]:
    """Welch's heteroscedastic one-way ANOVA.

    Welch, B. L. (1951) Biometrika 38, 330-336; the same formulas as R's ``oneway.test``:
    w = n / s², F = [Σw(m - m̄w)² / (k - 1)] / [1 + 2(k - 2)/(k² - 1) · Λ],
    Λ = Σ(1 - w/Σw)² / (n - 1), df2 = (k² - 1) / (3Λ).
    """
    from scipy import stats

    k = g.k
    n, means, var = g.n, g.means, g.variances
    if np.any(n < 2) or np.any(~(var > 0)):
        bad = [nm for nm, ni, vi in zip(g.names, n, var) if ni < 2 or not vi > 0]
        return [_row("welch_anova", df=k - 1,
                     note=f"undefined: group {bad[0]!r} has zero (or undefined) variance")]
    w = n / var
    W = w.sum()
    mw = (w * means).sum() / W
    lam = (((1 - w / W) ** 2) / (n - 1)).sum()
    F = ((w * (means - mw) ** 2).sum() / (k - 1)) / (1 + 2 * (k - 2) / (k**2 - 1) * lam)
    df2 = (k**2 - 1) / (3 * lam)
    p = float(stats.f.sf(F, k - 1, df2))
    return [_row("welch_anova", statistic=F, df=k - 1, df2=df2, p_value=p)]


def _kruskal(g: _Groups) -> list[dict]:
    """Kruskal-Wallis H with tie correction (scipy.stats.kruskal)."""
    from scipy import stats

    allv = np.concatenate(g.values)
    if np.ptp(allv) == 0:
        return [_row("kruskal", df=g.k - 1, note="not computed: all values equal")]
    res = stats.kruskal(*g.values)
    return [_row("kruskal", statistic=float(res.statistic), df=g.k - 1,
                 p_value=float(res.pvalue), note="H corrected for ties")]


def _two_group(g: _Groups, test: str) -> list[dict]:
    """Student / Welch t-test (scipy.stats.ttest_ind) or Mann-Whitney U (two-sided)."""
    from scipy import stats

    if g.k != 2:
        raise StatsError(f"{test} compares exactly two groups; the data have {g.k} "
                         f"({g.names}). Use anova with a post-hoc test, or pass groups=[a, b]")
    (a, b), (na, nb) = g.values, g.names
    base = dict(group_a=na, group_b=nb)
    if test == "mann_whitney":
        if np.ptp(np.concatenate(g.values)) == 0:
            return [_row(test, **base, diff=0.0, note="not computed: all values equal")]
        res = stats.mannwhitneyu(b, a, alternative="two-sided")
        return [_row(test, **base, diff=float(np.median(b) - np.median(a)),
                     statistic=float(res.statistic), p_value=float(res.pvalue),
                     note="diff is the difference of medians; statistic is U of group_b")]
    equal_var = test == "t_test"
    diff = float(b.mean() - a.mean())
    if equal_var:
        mse, df, _ = _pooled(g)
        se = math.sqrt(mse * (1 / a.size + 1 / b.size)) if df > 0 else math.nan
    else:
        va = a.var(ddof=1) if a.size > 1 else math.nan
        vb = b.var(ddof=1) if b.size > 1 else math.nan
        se = math.sqrt(va / a.size + vb / b.size)
        df = math.nan
    if not se > 0:
        why = "no replicates" if math.isnan(se) else "zero variance"
        return [_row(test, **base, diff=diff, se=se, note=f"not computed: {why}")]
    res = stats.ttest_ind(b, a, equal_var=equal_var)
    ci = res.confidence_interval(1 - g.alpha)
    return [_row(test, **base, diff=diff, se=se, statistic=float(res.statistic),
                 df=float(res.df), p_value=float(res.pvalue),
                 ci_low=float(ci.low), ci_high=float(ci.high))]


# --------------------------------------------------------------------------------------------
# post-hoc tests


def _lsd(g: _Groups) -> list[dict]:
    """Fisher's LSD (SPSS "LSD"): t = diff / sqrt(MSE (1/nA + 1/nB)), df = N - k, unadjusted."""
    from scipy import stats

    mse, df, _ = _pooled(g)
    n, m = g.n, g.means
    rows = []
    for i, j in g.pairs():
        diff = m[j] - m[i]
        base = dict(group_a=g.names[i], group_b=g.names[j], diff=diff, df=df)
        se = math.sqrt(mse * (1 / n[i] + 1 / n[j])) if df > 0 else math.nan
        if not se > 0:
            why = "no replicates (N - k = 0)" if df < 1 else "zero pooled variance"
            rows.append(_row("lsd", se=se, note=f"not computed: {why}", **base))
            continue
        t = diff / se
        half = stats.t.ppf(1 - g.alpha / 2, df) * se
        rows.append(_row("lsd", se=se, statistic=t, p_value=float(2 * stats.t.sf(abs(t), df)),
                         ci_low=diff - half, ci_high=diff + half, **base))
    return rows


@functools.lru_cache(maxsize=256)
def _q_critical(alpha: float, k: int, df: float) -> float:
    """Upper-alpha studentized-range quantile; cached because its root-finding costs ~70 ms and
    every target of a run asks for the same (alpha, k, df)."""
    from scipy import stats

    return float(stats.studentized_range.isf(alpha, k, df))


def _tukey(g: _Groups) -> list[dict]:
    """Tukey-Kramer HSD: q = |diff| / sqrt(MSE/2 (1/nA + 1/nB)), studentized range (k, N - k).

    Tukey (1953); Kramer (1956) for unequal n. ``se`` is the SE of the difference (t scale);
    ``statistic`` is q.
    """
    from scipy import stats

    mse, df, _ = _pooled(g)
    n, m, k = g.n, g.means, g.k
    ok = df > 0 and mse > 0
    qcrit = _q_critical(float(g.alpha), int(k), float(df)) if ok else math.nan
    rows = []
    for i, j in g.pairs():
        diff = m[j] - m[i]
        base = dict(group_a=g.names[i], group_b=g.names[j], diff=diff, df=df,
                    p_adjust="tukey")
        if not ok:
            why = "no replicates (N - k = 0)" if df < 1 else "zero pooled variance"
            rows.append(_row("tukey", note=f"not computed: {why}", **base))
            continue
        se = math.sqrt(mse * (1 / n[i] + 1 / n[j]))
        q = abs(diff) / (se / math.sqrt(2))
        p = float(stats.studentized_range.sf(q, k, df))
        half = qcrit / math.sqrt(2) * se
        rows.append(_row("tukey", se=se, statistic=q, p_value=min(p, 1.0),
                         ci_low=diff - half, ci_high=diff + half,
                         note="statistic is the studentized range q", **base))
    return rows


def _dunnett(g: _Groups) -> list[dict]:
    """Dunnett's two-sided many-to-one test vs the control (scipy.stats.dunnett, fixed rng)."""
    from scipy import stats

    mse, df, _ = _pooled(g)
    c = g.names.index(g.control)
    others = [i for i in range(g.k) if i != c]
    n, m = g.n, g.means
    rows = []
    if not (df > 0 and mse > 0):
        why = "no replicates (N - k = 0)" if df < 1 else "zero pooled variance"
        for i in others:
            rows.append(_row("dunnett", group_a=g.control, group_b=g.names[i],
                             diff=m[i] - m[c], df=df, p_adjust="dunnett",
                             note=f"not computed: {why}"))
        return rows
    with warnings.catch_warnings():
        # scipy warns about precision loss when a group's values are identical; the pooled
        # variance used for the test is still exact
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.dunnett(*[g.values[i] for i in others], control=g.values[c],
                            rng=np.random.default_rng(_DUNNETT_SEED))
        ci = res.confidence_interval(1 - g.alpha)
    for idx, i in enumerate(others):
        se = math.sqrt(mse * (1 / n[i] + 1 / n[c]))
        rows.append(_row("dunnett", group_a=g.control, group_b=g.names[i], diff=m[i] - m[c],
                         se=se, statistic=float(res.statistic[idx]), df=df,
                         p_value=float(res.pvalue[idx]), p_adjust="dunnett",
                         ci_low=float(ci.low[idx]), ci_high=float(ci.high[idx]),
                         note="p and CI by quasi-Monte-Carlo integration (fixed seed; ~1e-4)"))
    return rows


def _games_howell(g: _Groups) -> list[dict]:
    """Games-Howell: Welch SE and Welch-Satterthwaite df per pair, studentized range (k, df).

    Games & Howell (1976) J. Educ. Stat. 1, 113-125; as rstatix::games_howell_test.
    ``statistic`` is q = |t| · sqrt(2).
    """
    from scipy import stats

    n, m, var, k = g.n, g.means, g.variances, g.k
    rows = []
    for i, j in g.pairs():
        diff = m[j] - m[i]
        base = dict(group_a=g.names[i], group_b=g.names[j], diff=diff, p_adjust="games_howell")
        if n[i] < 2 or n[j] < 2:
            rows.append(_row("games_howell", note="not computed: a group has n = 1", **base))
            continue
        vi, vj = var[i] / n[i], var[j] / n[j]
        se = math.sqrt(vi + vj)
        if se == 0:
            rows.append(_row("games_howell", se=se,
                             note="not computed: both groups have zero variance", **base))
            continue
        df = (vi + vj) ** 2 / (vi**2 / (n[i] - 1) + vj**2 / (n[j] - 1))
        q = abs(diff) / se * math.sqrt(2)
        p = float(stats.studentized_range.sf(q, k, df))
        half = _q_critical(float(g.alpha), int(k), float(df)) / math.sqrt(2) * se
        note = "statistic is the studentized range q"
        if df < 2:
            note += f"; Welch df = {df:.3g} < 2, p and CI are very wide"
        rows.append(_row("games_howell", se=se, statistic=q, df=df, p_value=min(p, 1.0),
                         ci_low=diff - half, ci_high=diff + half, note=note, **base))
    return rows


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment (as R's p.adjust(method = "holm"))."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p)
    m = p.size
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def _dunn(g: _Groups) -> list[dict]:
    """Dunn's test on mean ranks with tie correction; p adjusted over all pairs.

    Dunn (1964) Technometrics 6, 241-252: z = (R̄b - R̄a) / sqrt((N(N+1)/12 - T) (1/na + 1/nb)),
    T = Σ(t³ - t) / (12 (N - 1)); as rstatix::dunn_test / FSA::dunnTest.
    """
    from scipy import stats

    allv = np.concatenate(g.values)
    N = allv.size
    ranks = stats.rankdata(allv)
    bounds = np.cumsum([0] + [v.size for v in g.values])
    mean_ranks = [ranks[bounds[i]:bounds[i + 1]].mean() for i in range(g.k)]
    _, counts = np.unique(allv, return_counts=True)
    ties = float((counts**3 - counts).sum()) / (12 * (N - 1))
    s2 = N * (N + 1) / 12 - ties
    pairs = g.pairs()
    rows = []
    for i, j in pairs:
        diff = mean_ranks[j] - mean_ranks[i]
        se = math.sqrt(s2 * (1 / g.n[i] + 1 / g.n[j])) if s2 > 0 else math.nan
        z = diff / se if se > 0 else math.nan
        p = float(2 * stats.norm.sf(abs(z))) if se > 0 else math.nan
        rows.append(_row("dunn", group_a=g.names[i], group_b=g.names[j], diff=diff, se=se,
                         statistic=z, p_value=p, note="diff is the mean-rank difference; "
                         "significant uses the Holm-adjusted p"))
    p = np.array([r["p_value"] for r in rows])
    if np.all(np.isfinite(p)):
        bonf = np.minimum(p * len(p), 1.0)
        holm = _holm(p)
        bh = stats.false_discovery_control(p, method="bh")
    else:
        bonf = holm = bh = np.full(len(p), np.nan)
        for r in rows:
            r["note"] = "not computed: all values equal"
    for r, a, b, c in zip(rows, bonf, holm, bh):
        r.update(p_adj_bonferroni=float(a), p_adj_holm=float(b), p_adj_bh=float(c))
    # Many-to-one: the k - 1 comparisons with the control adjusted among themselves only
    # (as the reference's p_adj_vs_control_*); NaN on pairs without the control.
    vs = [i for i, r in enumerate(rows) if g.control in (r["group_a"], r["group_b"])]
    pv = p[vs]
    if vs and np.all(np.isfinite(pv)):
        for i, a, b in zip(vs, np.minimum(pv * len(pv), 1.0), _holm(pv)):
            rows[i].update(p_adj_vs_control_bonferroni=float(a), p_adj_vs_control_holm=float(b))
    return rows


_RUNNERS = {
    "shapiro": _shapiro,
    "levene": lambda g: _levene(g, "mean"),
    "brown_forsythe": lambda g: _levene(g, "median"),
    "anova": _anova,
    "welch_anova": _welch_anova,
    "kruskal": _kruskal,
    "t_test": lambda g: _two_group(g, "t_test"),
    "welch_t_test": lambda g: _two_group(g, "welch_t_test"),
    "mann_whitney": lambda g: _two_group(g, "mann_whitney"),
    "lsd": _lsd,
    "tukey": _tukey,
    "dunnett": _dunnett,
    "games_howell": _games_howell,
    "dunn": _dunn,
}


# --------------------------------------------------------------------------------------------
# public entry points


def _choose(g: _Groups, assumption_rows: list[dict]):
    """The auto rule: normal & equal variances -> ANOVA + Tukey; normal & unequal -> Welch +
    Games-Howell; otherwise Kruskal-Wallis + Dunn. Returns (test, posthoc, reason)."""
    a = g.alpha
    sw = [r for r in assumption_rows if r["test"] == "shapiro"]
    tested = [r for r in sw if np.isfinite(r["p_value"])]
    non_normal = [r["group_a"] for r in tested if r["p_value"] < a]
    bf = next(r for r in assumption_rows if r["test"] == "brown_forsythe")
    if non_normal:
        return "kruskal", "dunn", (f"Shapiro-Wilk p < {a:g} in group {non_normal[0]!r} "
                                   "-> Kruskal-Wallis + Dunn")
    if not tested:
        normal_txt = "normality not testable (n < 3 or no spread in every group)"
    else:
        normal_txt = f"Shapiro-Wilk p >= {a:g} in {len(tested)} of {len(sw)} groups"
    bf_p = bf["p_value"]
    if np.isfinite(bf_p) and bf_p < a:
        welch = _welch_anova(g)[0]
        if np.isfinite(welch["p_value"]):
            return "welch_anova", "games_howell", (
                f"{normal_txt}; Brown-Forsythe p = {bf_p:.3g} < {a:g} -> Welch ANOVA + "
                "Games-Howell")
        return "kruskal", "dunn", (f"{normal_txt}; Brown-Forsythe p = {bf_p:.3g} < {a:g} but "
                                   "Welch ANOVA undefined (zero variance) -> Kruskal-Wallis + Dunn")
    bf_txt = (f"Brown-Forsythe p = {bf_p:.3g} >= {a:g}" if np.isfinite(bf_p)
              else "equal variances not testable")
    return "anova", "tukey", f"{normal_txt}; {bf_txt} -> one-way ANOVA + Tukey"


def compare_groups(data, *, group="group", value="value", groups=None, control=None,
                   test="anova", posthoc=None, alpha=0.05) -> pd.DataFrame:
    """Compare groups: assumption checks, one omnibus test and one post-hoc test.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy table, one row per measurement. Rows whose value is NaN are dropped; a group with
        no finite value is dropped with a warning.
    group, value : str
        Names of the group-label column and the value column.
    groups : sequence, optional
        Group order (pairs follow it). Defaults to the order of first appearance.
    control : optional
        Control group for Dunnett's test. Defaults to the first group.
    test : {"anova", "welch_anova", "kruskal", "auto"}
        Omnibus test. ``"auto"`` chooses from Shapiro-Wilk and Brown-Forsythe (see Notes).
    posthoc : {"lsd", "tukey", "dunnett", "games_howell", "dunn", "none", "auto"}, optional
        Pairwise test. ``"auto"`` takes the one matching the omnibus test (anova → tukey,
        welch_anova → games_howell, kruskal → dunn). Default: ``"lsd"``, or ``"auto"`` when
        ``test="auto"``.
    alpha : float
        Significance level for ``significant`` and the confidence intervals (1 - alpha).

    Returns
    -------
    table : pandas.DataFrame
        :data:`CONTRACT_COLUMNS` then :data:`EXTRA_COLUMNS`: Shapiro-Wilk rows (one per group),
        a Brown-Forsythe row, the omnibus row and the post-hoc rows.

    Raises
    ------
    StatsError
        Unknown test name, missing column, fewer than two groups with data.

    Notes
    -----
    The auto rule: if Shapiro-Wilk rejects normality (p < alpha) in any group with n >= 3,
    Kruskal-Wallis + Dunn; else if Brown-Forsythe rejects equal variances, Welch's ANOVA +
    Games-Howell (Kruskal-Wallis + Dunn when Welch is undefined); else ANOVA + Tukey. With
    n = 3 per group these checks have little power; the choice and its reason are written in
    the omnibus row's ``note``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"group": list("CCCTTT"), "value": [1.0, 1.1, 0.9, 2.0, 2.2, 1.9]})
    >>> table = compare_groups(df)
    >>> row = table[table.test == "lsd"].iloc[0]
    >>> row["group_a"], row["group_b"], round(float(row["diff"]), 3), bool(row["significant"])
    ('C', 'T', 1.033, True)
    """
    if test not in _COMPARE_TESTS:
        raise StatsError(f"unknown test {test!r}; valid: {', '.join(_COMPARE_TESTS)}")
    if posthoc is None:
        posthoc = "auto" if test == "auto" else "lsd"
    if posthoc not in _COMPARE_POSTHOC:
        raise StatsError(f"unknown posthoc {posthoc!r}; valid: {', '.join(_COMPARE_POSTHOC)}")
    g = _prepare(data, group, value, groups, control, alpha)
    rows = _shapiro(g) + _levene(g, "median")
    reason = ""
    if test == "auto":
        test, auto_posthoc, reason = _choose(g, rows)
        reason = "auto: " + reason
        logger.info("stats %s", reason)
        if posthoc == "auto":
            posthoc = auto_posthoc
    elif posthoc == "auto":
        posthoc = _MATCHING_POSTHOC[test]
    omnibus = _RUNNERS[test](g)
    if not reason and test == "anova":
        # assumptions are reported, not enforced: flag them where the reader looks
        flags = [r for r in rows if np.isfinite(r["p_value"]) and r["p_value"] < g.alpha]
        if flags:
            reason = "assumption flagged: " + "; ".join(
                f"{r['test']}{'(' + str(r['group_a']) + ')' if r['group_a'] is not None else ''}"
                f" p = {r['p_value']:.3g}" for r in flags)
    if reason:
        omnibus[0]["note"] = "; ".join(x for x in (reason, omnibus[0]["note"]) if x)
    rows += omnibus
    if posthoc != "none":
        rows += _RUNNERS[posthoc](g)
    return _finish(rows, g.alpha)


def _parse_tests(tests) -> list[str]:
    if isinstance(tests, str):
        tests = [t.strip() for t in tests.split(",") if t.strip()]
    tests = [str(t).strip().lower() for t in tests]
    if not tests:
        raise StatsError(f"no test given; valid: all, {', '.join(TESTS)}")
    if "all" in tests:
        return ["all"]
    unknown = [t for t in tests if t not in TESTS]
    if unknown:
        raise StatsError(f"unknown test {unknown[0]!r}; valid: all, {', '.join(TESTS)}")
    return list(dict.fromkeys(tests))


def run_tests(data, *, group="group", value="value", groups=None, control=None,
              tests=("anova", "lsd"), alpha=0.05) -> pd.DataFrame:
    """Run any list of tests on the same groups and stack their rows in one table.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy table, one row per measurement (see :func:`compare_groups`).
    group, value : str
        Names of the group-label column and the value column.
    groups : sequence, optional
        Group order; defaults to the order of first appearance.
    control : optional
        Control group for Dunnett's test; defaults to the first group.
    tests : str or sequence of str
        Names from :data:`TESTS`, a comma-separated string, or ``"all"``. ``"all"`` runs every
        test that fits the design: the two-group tests only when there are exactly two groups.
    alpha : float
        Significance level.

    Returns
    -------
    table : pandas.DataFrame
        :data:`CONTRACT_COLUMNS` then :data:`EXTRA_COLUMNS`; rows in the order of :data:`TESTS`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"group": list("AABBB"), "value": [1.0, 2.0, 4.0, 5.0, 6.0]})
    >>> run_tests(df, tests="t_test,anova")[["test", "statistic"]].round(3)
         test  statistic
    0   anova      17.64
    1  t_test       4.20
    """
    names = _parse_tests(tests)
    g = _prepare(data, group, value, groups, control, alpha)
    if names == ["all"]:
        names = [t for t in TESTS if g.k == 2 or t not in TWO_GROUP_TESTS]
    rows = []
    for t in TESTS:
        if t in names:
            rows += _RUNNERS[t](g)
    return _finish(rows, g.alpha)


# --------------------------------------------------------------------------------------------
# significance for figures


def significance_stars(p) -> str:
    """Stars for a p-value: ``***`` p < 0.001, ``**`` < 0.01, ``*`` < 0.05, else ``ns``.

    NaN (a test that could not be computed) gives an empty string.

    Examples
    --------
    >>> [significance_stars(p) for p in (0.0004, 0.004, 0.04, 0.4)]
    ['***', '**', '*', 'ns']
    """
    p = float(p)
    if math.isnan(p):
        return ""
    if p < 0.001:
        return "***"
    if p < 0.01:
        return "**"
    if p < 0.05:
        return "*"
    return "ns"


def compact_letters(table: pd.DataFrame, groups: Sequence, *, alpha=0.05) -> dict:
    """Compact letter display: groups sharing a letter do not differ significantly.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of one all-pairs post-hoc test (lsd, tukey, games_howell or dunn), e.g. from
        :func:`compare_groups`; other tests' rows are ignored.
    groups : sequence
        Group order; the first letter goes to the first group.
    alpha : float
        Significance level (Dunn's test uses the Holm-adjusted p, others ``p_value``; an
        undefined p counts as not significant).

    Returns
    -------
    letters : dict
        Group -> letters, e.g. ``{"Control": "a", "IL6": "b", "IL6+CP690550": "a"}``.

    Notes
    -----
    Piepho's insert-and-absorb algorithm (Piepho 2004, J. Comput. Graph. Stat. 13, 456-466):
    two groups share a letter exactly when they are not significantly different.

    Examples
    --------
    >>> t = pd.DataFrame({"test": ["lsd"] * 3, "group_a": ["A", "A", "B"],
    ...                   "group_b": ["B", "C", "C"], "p_value": [0.2, 0.01, 0.3]})
    >>> compact_letters(t, ["A", "B", "C"])
    {'A': 'a', 'B': 'ab', 'C': 'b'}
    """
    alpha = _check_alpha(alpha)
    groups = list(groups)
    if "test" not in table or "p_value" not in table:
        raise StatsError("compact_letters needs a test table with columns test, group_a, "
                         "group_b, p_value (from compare_groups or run_tests)")
    pair_tests = [t for t in pd.unique(table["test"]) if t in ("lsd", "tukey", "games_howell",
                                                                "dunn")]
    if "dunnett" in set(table["test"]) and not pair_tests:
        raise StatsError("compact letters need all pairwise comparisons; dunnett only compares "
                         "with the control: use significance_stars instead")
    if len(pair_tests) != 1:
        raise StatsError(f"compact_letters needs the rows of exactly one all-pairs post-hoc test "
                         f"(lsd, tukey, games_howell, dunn); found {pair_tests}: filter the "
                         "table first")
    rows = table[table["test"] == pair_tests[0]]
    p = _decision_p(rows)
    sig = {}
    for a, b, pv in zip(rows["group_a"], rows["group_b"], p):
        sig[frozenset((a, b))] = bool(pv < alpha)  # NaN -> False
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:
            if frozenset((a, b)) not in sig:
                raise StatsError(f"the table has no {pair_tests[0]} comparison of {a!r} and "
                                 f"{b!r}; pass groups that were tested")
    idx = {gname: i for i, gname in enumerate(groups)}
    columns = [set(range(len(groups)))]
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:
            if not sig[frozenset((a, b))]:
                continue
            ia, ib = idx[a], idx[b]
            new = []
            for col in columns:
                if ia in col and ib in col:
                    new += [col - {ia}, col - {ib}]
                else:
                    new.append(col)
            # absorb: drop columns contained in another column
            uniq = []
            for c in new:
                if c and c not in uniq:
                    uniq.append(c)
            columns = [c for c in uniq if not any(c < o for o in uniq)]
    columns.sort(key=lambda c: sorted(c))
    letters = {gname: "" for gname in groups}
    for n_col, col in enumerate(columns):
        letter = _letter(n_col)
        for i in sorted(col):
            letters[groups[i]] += letter
    return letters


def _letter(i: int) -> str:
    s = "abcdefghijklmnopqrstuvwxyz"
    return s[i] if i < 26 else _letter(i // 26 - 1) + s[i % 26]
