"""The names of the statistical tests, importable without pandas or SciPy.

:mod:`blotquant.stats` runs them; the command line lists them in ``blotquant stats --help``,
and building that parser should not load pandas (about 0.3 s) before ``blotquant run`` has even
started its worker processes.
"""

ASSUMPTION_TESTS = ("shapiro", "levene", "brown_forsythe")
OMNIBUS_TESTS = ("anova", "welch_anova", "kruskal")
TWO_GROUP_TESTS = ("t_test", "welch_t_test", "mann_whitney")
POSTHOC_TESTS = ("lsd", "tukey", "dunnett", "games_howell", "dunn")
#: Every test name :func:`blotquant.stats.run_tests` accepts, in the order rows are written.
TESTS = ASSUMPTION_TESTS + OMNIBUS_TESTS + TWO_GROUP_TESTS + POSTHOC_TESTS
