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


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_failure_while_writing_leaves_no_partial_output(tmp_path, monkeypatch, jobs):
    """The report is rendered in this process whatever --jobs (with workers, a lone experiment's
    figures are drawn on them): failing there, after the CSVs, overlays and run.json were written
    into the temporary folder, leaves nothing."""
    cfg = _demo_copy(tmp_path)
    out = tmp_path / "out"

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("blotquant.report.render_html", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        main(["run", str(cfg), "--out", str(out), "--jobs", jobs])
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


def test_force_never_deletes_files_blotquant_did_not_write(tmp_path, capsys):
    """A folder with another program's run.json, or an earlier run the user added a file to, is
    refused by --force with the files named; everything stays where it was."""
    cfg = _demo_copy(tmp_path)
    other = tmp_path / "model"
    other.mkdir()
    (other / "run.json").write_text('{"model": "x"}')
    (other / "thesis.docx").write_text("years of work")
    assert main(["run", str(cfg), "--out", str(other), "--force"]) == 2
    assert "not a blotquant results folder" in capsys.readouterr().err
    assert (other / "thesis.docx").read_text() == "years of work"

    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out)]) == 0
    (out / "my_notes.txt").write_text("lane 3 was loaded twice")
    assert main(["run", str(cfg), "--out", str(out), "--force"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "my_notes.txt" in err[0] and "did not write" in err[0]
    assert (out / "my_notes.txt").exists() and (out / "bands.csv").exists()
    (out / "my_notes.txt").unlink()
    assert main(["run", str(cfg), "--out", str(out), "--force"]) == 0  # its own files only: replaced


def test_a_results_folder_that_cannot_be_made_is_an_error_before_any_image(tmp_path, capsys, monkeypatch):
    import blotquant.pipeline as pipeline

    cfg = _demo_copy(tmp_path)
    (tmp_path / "afile").write_text("")

    def no_measuring(*args, **kwargs):
        raise AssertionError("an image was measured")

    monkeypatch.setattr(pipeline, "measure_task", no_measuring)
    assert main(["run", str(cfg), "--out", str(tmp_path / "afile" / "sub")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "afile is a file, not a folder" in err[0] and "--out" in err[0]


def test_results_are_readable_as_the_umask_allows_and_flags_go_after_the_command(tmp_path, capsys):
    import os
    import stat

    cfg = _demo_copy(tmp_path)
    old = os.umask(0o022)
    try:
        assert main(["run", str(cfg), "--out", str(tmp_path / "out"), "-q"]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755  # not mkdtemp's private 0700
    assert capsys.readouterr().out == ""  # -q after the command is -q


def test_a_target_name_longer_than_a_file_name_may_be_is_written(tmp_path):
    long = "TNAP" + "x" * 300  # 304 characters: over the 255 bytes of a file name
    cfg = _demo_copy(tmp_path, lambda t: t.replace("TNAP: {rows", f"{long}: {{rows"))
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    figures = sorted(p.name for p in out.glob("figure_TNAP*"))
    assert len(figures) == 3 and all(len(name) <= 120 for name in figures)
    import pandas as pd

    bands = pd.read_csv(out / "bands.csv")
    assert (bands["target"] == long).sum() == (bands["target"] == "Runx2").sum() > 0  # the name is kept


def test_a_disk_error_while_writing_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import errno

    cfg = _demo_copy(tmp_path)
    real = Path.write_bytes

    def full_disk(self, data):
        if self.name == "report.html":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    assert main(["run", str(cfg), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0] and "free disk space" in err[0]
    assert not (tmp_path / "out").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["demo.yaml"]


def test_experiment_name_cannot_be_a_path(tmp_path, capsys):
    cfg = _demo_copy(tmp_path, lambda t: t.replace("experiment: il6-jak2-vsmc", "experiment: ../../escape"))
    assert main(["run", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "experiment" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path.parent / "escape").exists()
