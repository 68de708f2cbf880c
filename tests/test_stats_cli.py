"""Tests for ``blotquant stats`` (blotquant.stats_cli through blotquant.cli.main).

The reference figures and tolerances are those of tests/test_stats.py (R 4.2.2 via
/work/shared/stats-cases; see its README), checked here on the table the CLI prints.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from blotquant.cli import main
from blotquant.stats import CONTRACT_COLUMNS, EXTRA_COLUMNS, run_tests
from test_stats import CASES, CASES_DIR, assert_matches_reference, load_case, needs_cases


def run_cli(capsys, *argv):
    code = main(["stats", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def read_json(text):
    return pd.read_json(io.StringIO(text), orient="records", dtype=False, precise_float=True)


@needs_cases
@pytest.mark.parametrize("name", CASES)
def test_cli_json_matches_reference(capsys, name):
    _, ref = load_case(name)
    code, out, err = run_cli(capsys, CASES_DIR / ref["input"], "--group", "group", "--value",
                             "value", "--tests", "all", "--format", "json")
    assert code == 0 and err == ""
    assert "NaN" not in out  # NaN is written as null
    table = read_json(out)
    assert list(table.columns) == CONTRACT_COLUMNS + EXTRA_COLUMNS
    assert_matches_reference(table, ref)


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"condition": ["Ctl"] * 4 + ["IL6"] * 3 + ["Both"] * 4,
                  "fold": [1.0, 0.9, 1.1, 1.05, 2.2, 2.6, 2.4, 1.2, 1.4, 1.1, 1.3]}
                 ).to_csv(path, index=False)
    return path


def test_json_round_trips(capsys, csv_file):
    code, out, _ = run_cli(capsys, csv_file, "--group", "condition", "--value", "fold",
                           "--tests", "all", "--format", "json")
    assert code == 0
    back = read_json(out)
    direct = run_tests(pd.read_csv(csv_file), group="condition", value="fold", tests="all")
    # text columns: pandas may read missing labels back as NaN instead of None
    for col in ("group_a", "group_b", "note", "p_adjust", "test"):
        back[col] = back[col].astype(object).where(back[col].notna(), None)
        direct[col] = direct[col].astype(object)
    pd.testing.assert_frame_equal(back, direct, check_dtype=False, rtol=0, atol=0)
    assert json.loads(out)[0]["diff"] is None


def test_csv_output_full_precision(capsys, csv_file):
    code, out, _ = run_cli(capsys, csv_file, "--group", "condition", "--value", "fold",
                           "--format", "csv")
    assert code == 0
    back = pd.read_csv(io.StringIO(out), keep_default_na=False, na_values=[""])
    assert list(back.columns) == CONTRACT_COLUMNS + EXTRA_COLUMNS
    direct = run_tests(pd.read_csv(csv_file), group="condition", value="fold")
    # default --tests is anova,lsd
    assert back.test.tolist() == ["anova", "lsd", "lsd", "lsd"]
    np.testing.assert_array_equal(back.p_value.to_numpy(), direct.p_value.to_numpy())


def test_table_format_is_readable(capsys, csv_file):
    code, out, _ = run_cli(capsys, csv_file, "--group", "condition", "--value", "fold",
                           "--tests", "anova,tukey", "--format", "table")
    assert code == 0
    header = out.splitlines()[0].split()
    assert header[:13] == CONTRACT_COLUMNS[:13] and header[-1] == "note"
    assert "tukey" in out and "nan" not in out.lower()


def test_groups_and_control_options(capsys, csv_file):
    code, out, _ = run_cli(capsys, csv_file, "--group", "condition", "--value", "fold",
                           "--groups", "Both,Ctl,IL6", "--control", "IL6", "--tests",
                           "lsd,dunnett", "--format", "json")
    assert code == 0
    t = read_json(out)
    lsd = t[t.test == "lsd"]
    assert list(zip(lsd.group_a, lsd.group_b)) == [("Both", "Ctl"), ("Both", "IL6"),
                                                    ("Ctl", "IL6")]
    assert set(t[t.test == "dunnett"].group_a) == {"IL6"}


def test_numeric_looking_group_labels_stay_text(capsys, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("group,value\n1,1.0\n1,1.2\n1,\n2,2.0\n2,2.1\n")
    code, out, _ = run_cli(capsys, path, "--format", "json")
    assert code == 0
    lsd = json.loads(out)[1]
    assert (lsd["group_a"], lsd["group_b"]) == ("1", "2")


@pytest.mark.parametrize("argv, message", [
    (["{missing}"], "not found"),
    (["{csv}", "--group", "condition", "--value", "volume"], "value column 'volume' not found"),
    (["{csv}", "--group", "condition", "--value", "fold", "--tests", "anova,foo"],
     "unknown test 'foo'"),
    (["{csv}", "--group", "condition", "--value", "fold", "--control", "Nope"],
     "control group 'Nope'"),
    (["{csv}", "--group", "condition", "--value", "fold", "--alpha", "5"], "alpha"),
])
def test_user_errors_are_one_line_and_exit_2(capsys, csv_file, tmp_path, argv, message):
    argv = [a.format(csv=csv_file, missing=tmp_path / "missing.csv") for a in argv]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("blotquant: error:") and message in err
