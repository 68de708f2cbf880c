"""``blotquant run --scheduler ADDRESS``: the same bytes on a real Dask cluster, clear errors without one."""

import socket
import sys
import time

import pytest

from blotquant.cli import main

from test_batch import CSVS, _run_json, _write_experiment, assert_same_files, expected_files


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster


def test_dask_cluster_writes_the_same_bytes_as_one_process(cluster, tmp_path, capsys):
    folder = tmp_path / "configs"
    folder.mkdir()
    names = {"one": _write_experiment(folder, "one", [11, 12]), "two": _write_experiment(folder, "two", [13]),
             "strips": _write_experiment(folder, "strips", [14, 15], strips=True)}
    serial, dask = tmp_path / "serial", tmp_path / "dask"
    assert main(["-q", "run", str(folder), "--out", str(serial), "--jobs", "1"]) == 0
    assert main(["-q", "run", str(folder), "--out", str(dask), "--scheduler", cluster.scheduler_address]) == 0
    assert capsys.readouterr().err == ""
    for name in names:
        for csv in CSVS:
            assert (serial / name / csv).read_bytes() == (dask / name / csv).read_bytes(), (name, csv)
        one, two = _run_json(serial / name / "run.json"), _run_json(dask / name / "run.json")
        one.pop("command"), two.pop("command")
        assert one == two


def test_one_config_on_dask_writes_every_file_as_one_process(cluster, tmp_path, capsys):
    """A lone experiment is assembled and its figures drawn on the cluster, written here."""
    folder = tmp_path / "configs"
    folder.mkdir()
    _write_experiment(folder, "one", [11, 12])
    serial, dask = tmp_path / "serial", tmp_path / "dask"
    assert main(["-q", "run", str(folder / "one.yaml"), "--out", str(serial), "--jobs", "1"]) == 0
    assert main(["-q", "run", str(folder / "one.yaml"), "--out", str(dask), "--scheduler",
                 cluster.scheduler_address]) == 0
    assert capsys.readouterr().err == ""
    expected_files(dask, targets=["TNAP"], overlays=["overlay_m0_one_0.png", "overlay_m1_one_1.png"])
    assert_same_files(serial, dask)


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys):
    pytest.importorskip("distributed")
    folder = tmp_path / "configs"
    folder.mkdir()
    _write_experiment(folder, "one", [11])
    address = f"tcp://127.0.0.1:{_closed_port()}"
    t0 = time.monotonic()
    assert main(["run", str(folder), "--out", str(tmp_path / "o"), "--scheduler", address]) == 2
    assert time.monotonic() - t0 < 60  # a short connection timeout, not a hang (not a timing test: 12x slack)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and address in err[0] and "cannot reach the Dask scheduler" in err[0]
    assert not (tmp_path / "o").exists()


def test_scheduler_without_dask_installed_names_the_extra(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "configs"
    folder.mkdir()
    _write_experiment(folder, "one", [11])
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as if not installed
    assert main(["run", str(folder), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'blotquant[dask]'" in err[0]
    assert not (tmp_path / "o").exists()
