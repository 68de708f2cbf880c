"""The command line: one-line errors with exit 2, no partial output, no silent overwrite."""

from pathlib import Path

import pytest

from blotquant.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "il6-jak2.yaml"


def _demo_copy(tmp_path, edit=None):
    cfg = tmp_path / "demo.yaml"
    text = DEMO.read_text().replace("../fixtures/il6-jak2", str(ROOT / "fixtures" / "il6-jak2"))
    if edit:
        text = edit(text)
    cfg.write_text(text)
    return cfg


def test_run_writes_results_and_refuses_to_overwrite(tmp_path, capsys):
    cfg = _demo_copy(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out)]) == 0
    first = (out / "bands.csv").read_bytes()
    assert main(["run", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already exists" in err[0] and "--force" in err[0]
    assert (out / "bands.csv").read_bytes() == first
    assert main(["run", str(cfg), "--out", str(out), "--force"]) == 0
    assert (out / "bands.csv").read_bytes() == first  # deterministic


def test_default_output_folder_is_beside_the_config(tmp_path):
    cfg = _demo_copy(tmp_path)
    assert main(["run", str(cfg)]) == 0
    assert (tmp_path / "results" / "il6-jak2-vsmc" / "summary.csv").is_file()


def test_config_error_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    cfg = _demo_copy(tmp_path, lambda t: t.replace("loading_control:", "loading_controll:"))
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "loading_controll" in err[0] and str(cfg.name) in err[0]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [cfg]


def test_failure_while_writing_leaves_no_partial_output(tmp_path, monkeypatch):
    import blotquant.report.figures as figures

    cfg = _demo_copy(tmp_path)
    out = tmp_path / "out"

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(figures, "render_plot", boom)
    monkeypatch.setattr("blotquant.report.render_plot", boom)
    with pytest.raises(RuntimeError):
        main(["run", str(cfg), "--out", str(out)])
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.yaml"]


def test_missing_image_names_the_file(tmp_path, capsys):
    cfg = _demo_copy(tmp_path, lambda t: t.replace("m1_TNAP.tif", "m1_TNAP_missing.tif"))
    assert main(["run", str(cfg), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "m1_TNAP_missing.tif" in err


def test_python_dash_m_entry_point():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "blotquant", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("blotquant ")


def test_force_never_replaces_a_folder_that_is_not_a_results_folder(tmp_path, capsys):
    """--force on a folder holding the user's own files (no run.json) is refused; nothing is lost."""
    cfg = _demo_copy(tmp_path)
    precious = tmp_path / "mydata"
    precious.mkdir()
    (precious / "notes.txt").write_text("raw data")
    assert main(["run", str(cfg), "--out", str(precious), "--force"]) == 2
    assert "not a blotquant results folder" in capsys.readouterr().err
    assert (precious / "notes.txt").read_text() == "raw data"


def test_experiment_name_cannot_be_a_path(tmp_path, capsys):
    cfg = _demo_copy(tmp_path, lambda t: t.replace("experiment: il6-jak2-vsmc", "experiment: ../../escape"))
    assert main(["run", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "experiment" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path.parent / "escape").exists()
