"""Many configs at once: checked before any work, the same bytes with any number of processes,
one failing experiment does not stop the others, progress only on stderr."""

import base64
import concurrent.futures as cf
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blotquant.cli import main

CSVS = ("bands.csv", "normalized.csv", "summary.csv", "stats.csv")
TIMING = ("started_utc", "seconds")  # the only run.json fields allowed to differ between two runs


def _sim(seed, **kw):
    from blotquant.simulate import simulate_blot

    return simulate_blot(shape=(300, 700), n_lanes=6, lane_width=70, targets={"TNAP": 90, "actin": 210},
                         read_noise=5.0, seed=seed, **kw)


def _write_experiment(folder, name, seeds, *, strips=False):
    """A config ``<name>.yaml`` in ``folder`` with one membrane per seed (one image each), or, with
    ``strips``, the first two membranes as strips sharing one image without `region`.

    Returns the truth: {(membrane, target, lane): (row in image pixels, volume)}.
    """
    import tifffile
    import yaml

    images = folder / f"{name}-images"
    images.mkdir()
    sims = [_sim(s) for s in seeds]
    membranes, truth = [], {}
    offsets = {}
    if strips:
        tray = np.full((40, 700), 200, np.uint16)  # imager tray darker than the membranes
        canvas = np.vstack([tray, sims[0].image, np.full((60, 700), 200, np.uint16), sims[1].image, tray])
        tifffile.imwrite(images / "shared.tif", canvas)
        offsets = {0: ("shared.tif", 40), 1: ("shared.tif", 40 + 300 + 60)}
    for i, sim in enumerate(sims):
        file, off = offsets.get(i, (f"{name}_{i}.tif", 0))
        if file != "shared.tif":
            tifffile.imwrite(images / file, sim.image)
        membranes.append({
            "name": f"m{i}", "lanes": [f"s{j}" for j in range(6)],
            "images": [{"file": file, "targets": {t: {"rows": [int(w[0]) + off, int(w[1]) + off]}
                                                  for t, w in sim.windows.items()}}],
        })
        for rec in sim.truth[sim.truth["kind"] == "target"].itertuples():
            truth[(f"m{i}", rec.target, int(rec.lane))] = (float(rec.row) + off, float(rec.volume))
    cfg = {"experiment": name, "images": images.name, "loading_control": "actin", "control_group": "A",
           "groups": ["A", "B"], "samples": {f"s{j}": "AB"[j % 2] for j in range(6)}, "membranes": membranes}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return truth


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Three experiments: 3 images; 1 image; 2 strips sharing one image + 1 image (5 files)."""
    folder = tmp_path_factory.mktemp("configs")
    truth = {"alpha": _write_experiment(folder, "alpha", [1, 2, 3]),
             "beta": _write_experiment(folder, "beta", [4]),
             "gamma": _write_experiment(folder, "gamma", [5, 6, 7], strips=True)}
    return folder, truth


def _run_json(path):
    record = json.loads(path.read_text())
    for key in TIMING:
        record.pop(key)
    for image in record["images"]:
        image.pop("seconds")
    return record


def assert_same_files(one, two):
    """Every file of results folder ``two`` is the bytes of ``one``'s, run.json but for its timing
    fields and the command (which names its own --out); both hold the same files."""
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    for name in names:
        if name != "run.json":
            assert (one / name).read_bytes() == (two / name).read_bytes(), name
    a, b = _run_json(one / "run.json"), _run_json(two / "run.json")
    a.pop("command"), b.pop("command")
    assert a == b


def expected_files(folder, *, targets, overlays):
    """The files a results folder must hold, read from its own tables, and each figure's kind."""
    stems = list(targets)
    names = ["bands.csv", "normalized.csv", "summary.csv", "stats.csv", "fold_change.png", "report.html",
             "run.json", *overlays, *(f"prism_{t}.csv" for t in stems),
             *(f"figure_{t}.{fmt}" for t in stems for fmt in ("png", "svg", "pdf"))]
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)
    magic = {".png": b"\x89PNG\r\n\x1a\n", ".svg": b"<?xml", ".pdf": b"%PDF-"}
    for name in names:
        head = magic.get(Path(name).suffix)
        if head is not None:
            data = (folder / name).read_bytes()
            assert data.startswith(head) and len(data) > 1000, name


def test_jobs_2_writes_the_same_bytes_as_jobs_1_and_the_true_volumes(batch, tmp_path, capsys):
    folder, truth = batch
    outs = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        assert main(["run", str(folder), "--out", str(out), "--jobs", str(jobs)]) == 0
        outs[jobs] = out
        lines = capsys.readouterr().out.strip().splitlines()
        # one line per experiment, then the total
        assert sorted(lines[:-1]) == sorted(f"blotquant: {n} bands from {k} images -> {out / name}"
                                            for name, n, k in (("alpha", 36, 3), ("beta", 12, 1), ("gamma", 36, 3)))
        assert lines[-1] == "blotquant: 3 of 3 experiments written"
    for name in truth:
        for csv in CSVS:
            assert (outs[1] / name / csv).read_bytes() == (outs[2] / name / csv).read_bytes(), (name, csv)
        one, two = _run_json(outs[1] / name / "run.json"), _run_json(outs[2] / name / "run.json")
        one_cmd, two_cmd = one.pop("command"), two.pop("command")  # differ by the --out folder only
        assert (one_cmd[:-1], one_cmd[-1], two_cmd[-1]) == (two_cmd[:-1], str(outs[1] / name), str(outs[2] / name))
        assert one == two, name
    # the numbers are right, not only equal: every band where the simulator put it, volume within 3 %
    for name, true in truth.items():
        bands = pd.read_csv(outs[2] / name / "bands.csv")
        assert len(bands) == len(true)
        for rec in bands.itertuples():
            row, volume = true[(rec.membrane, rec.target, int(rec.lane))]
            assert abs(rec.band_row - row) < 2.0, (name, rec)
            assert abs(rec.volume / volume - 1) < 0.03, (name, rec)
    record = json.loads((outs[2] / "gamma" / "run.json").read_text())
    assert record["strips"]["shared.tif"]["membranes"] == ["m0", "m1"]
    assert record["command"] == ["blotquant", "run", str(folder / "gamma.yaml"), "--out", str(outs[2] / "gamma")]


def test_one_config_on_workers_writes_every_file_as_one_process(batch, tmp_path, capsys):
    """A lone experiment of several images is assembled on a worker, its figures drawn on every
    worker: each file (figures and report too, not only the CSVs) is the bytes one process writes,
    and no figure is missing."""
    folder, _ = batch
    outs = {}
    for jobs in ("1", "2"):
        outs[jobs] = tmp_path / f"jobs{jobs}"
        assert main(["-q", "run", str(folder / "alpha.yaml"), "--out", str(outs[jobs]), "--jobs", jobs]) == 0
    assert capsys.readouterr().err == ""
    expected_files(outs["2"], targets=["TNAP"], overlays=[f"overlay_m{i}_alpha_{i}.png" for i in range(3)])
    assert_same_files(outs["1"], outs["2"])
    record = json.loads((outs["2"] / "run.json").read_text())
    assert sorted(record["outputs"]) == sorted(p.name for p in outs["2"].iterdir())
    assert set(record["figures"]["captions"]) == {"fold_change.png", "figure_TNAP.png", "figure_TNAP.svg",
                                                  "figure_TNAP.pdf"}


class _Recording(cf.ThreadPoolExecutor):
    """Two threads standing in for worker processes; records what each item runs."""

    def __init__(self):
        super().__init__(2)
        self.ran = []

    def submit(self, fn, /, *args, **kwargs):
        self.ran.append(args[0].__name__ if fn.__name__ == "_in_worker" else fn.__name__)
        return super().submit(fn, *args, **kwargs)


def test_a_lone_experiment_is_assembled_and_drawn_on_the_workers_and_written_here(batch, tmp_path, monkeypatch):
    import blotquant.batch as batch_mod
    from blotquant.batch import Written, plan, run_batch

    folder, _ = batch
    assert main(["-q", "run", str(folder / "alpha.yaml"), "--out", str(tmp_path / "one"), "--jobs", "1"]) == 0
    pool = _Recording()
    monkeypatch.setattr(batch_mod, "_open_executor", lambda stack, **kw: (stack.enter_context(pool), 2))
    [job] = plan([str(folder / "alpha.yaml")], out=tmp_path / "pool")
    [done] = run_batch([job], progress=False)
    assert isinstance(done, Written) and done.n_images == 3
    # 3 images, then the tables, then the fold-change plot and TNAP's figure in 3 formats (the
    # slowest first); the writing is not sent (only this process holds the overlays)
    assert pool.ran == ["_measure"] * 3 + ["_assemble", "fold_change_file"] + ["target_figure_file"] * 3
    assert_same_files(tmp_path / "one", tmp_path / "pool")


def test_a_figure_failing_on_a_worker_fails_its_experiment_and_writes_nothing(batch, tmp_path, monkeypatch):
    import blotquant.batch as batch_mod
    import blotquant.report.outputs as outputs

    def broken(*args):
        raise RuntimeError("no fonts")

    folder, _ = batch
    monkeypatch.setattr(batch_mod, "_open_executor", lambda stack, **kw: (stack.enter_context(_Recording()), 2))
    monkeypatch.setattr(outputs, "target_figure_file", broken)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="no fonts"):  # a bug in one config: raised, as a run in one process
        main(["run", str(folder / "alpha.yaml"), "--out", str(out), "--jobs", "2"])
    assert list(tmp_path.iterdir()) == []  # no results folder, no temporary one left beside it


def test_figures_rendered_elsewhere_are_the_ones_written(batch, tmp_path):
    """render_outputs takes figure files already rendered (by name) and renders only the others."""
    from blotquant.config import load_config
    from blotquant.pipeline import run
    from blotquant.report.outputs import figure_calls, render_outputs

    folder, _ = batch
    results = run(load_config(folder / "beta.yaml"))
    calls = figure_calls(results)
    assert [name for name, _, _ in calls] == ["fold_change.png", "figure_TNAP.pdf", "figure_TNAP.png",
                                              "figure_TNAP.svg"]
    own = dict(render_outputs(results))
    for name, fn, args in calls:
        assert fn(*args) == own[name], name
    given = dict(render_outputs(results, figures={"figure_TNAP.png": b"\x89PNG given"}))
    assert given["figure_TNAP.png"] == b"\x89PNG given"
    assert base64.b64encode(b"\x89PNG given").decode() in given["report.html"].decode()
    assert {k: v for k, v in given.items() if k not in ("figure_TNAP.png", "report.html", "run.json")} == \
        {k: v for k, v in own.items() if k not in ("figure_TNAP.png", "report.html", "run.json")}


def test_pipeline_run_on_an_executor_equals_the_serial_run(batch):
    from concurrent.futures import ThreadPoolExecutor

    from blotquant.config import load_config
    from blotquant.pipeline import run

    folder, _ = batch
    experiment = load_config(folder / "gamma.yaml")
    serial = run(experiment)
    with ThreadPoolExecutor(2) as pool:
        parallel = run(experiment, executor=pool)
    pd.testing.assert_frame_equal(serial.bands, parallel.bands, check_exact=True)
    pd.testing.assert_frame_equal(serial.stats, parallel.stats, check_exact=True)
    assert serial.record["strips"] == parallel.record["strips"]
    # both keep each image's display copy only, not its full-size arrays
    assert all(res.blot.data is None and res.pixels is not None
               for res in serial.images + parallel.images)


def test_every_config_and_folder_is_checked_before_any_work(batch, tmp_path, capsys):
    folder, _ = batch
    bad = tmp_path / "bad.yaml"
    bad.write_text((folder / "beta.yaml").read_text().replace("loading_control:", "loading_controll:")
                   .replace("images: beta-images", f"images: {folder / 'beta-images'}"))
    taken = tmp_path / "out" / "alpha"
    taken.mkdir(parents=True)
    (taken / "notes.txt").write_text("mine")
    out = tmp_path / "out"
    assert main(["run", str(folder / "alpha.yaml"), str(bad), str(folder / "beta.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # one line per problem: the bad key of bad.yaml, the existing folder of alpha
    assert len(err) == 2
    assert str(bad) in err[0] and "loading_controll" in err[0]
    assert "alpha.yaml" in err[1] and "already exists" in err[1] and "--force" in err[1]
    assert sorted(p.name for p in out.iterdir()) == ["alpha"]  # beta, good, was not run either
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]


def test_two_configs_writing_to_one_folder_are_an_error(batch, tmp_path, capsys):
    folder, _ = batch
    twin = tmp_path / "twin.yaml"
    twin.write_text((folder / "beta.yaml").read_text().replace("images: beta-images",
                                                               f"images: {folder / 'beta-images'}"))
    out = tmp_path / "out"
    assert main(["run", str(folder / "beta.yaml"), str(twin), "--out", str(out), "--jobs", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "beta.yaml" in err[0] and "twin.yaml" in err[0] and "both write" in err[0]
    assert not out.exists()


def test_a_folder_without_configs_is_an_error(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("no configs here")
    assert main(["run", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(tmp_path) in err[0] and "*.yaml" in err[0]


def test_folders_give_their_yaml_and_yml_files_in_name_order(tmp_path):
    from blotquant.batch import find_configs

    for name in ("b.yml", "a.yaml", "c.YAML", "notes.txt", "d.yaml.bak"):
        (tmp_path / name).write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.yaml").write_text("")
    assert find_configs([tmp_path, "x.yaml"]) == [str(tmp_path / n) for n in ("a.yaml", "b.yml", "c.YAML")] + ["x.yaml"]


def _truncate_one_image(folder, tmp_path):
    """A copy of ``alpha`` whose second image has a valid header (the config check passes) but
    lost its pixels: the failure is found only while running."""
    import shutil

    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copytree(folder / "alpha-images", broken / "alpha-images")
    (broken / "alpha.yaml").write_text((folder / "alpha.yaml").read_text())
    image = broken / "alpha-images" / "alpha_1.tif"
    with open(image, "r+b") as fh:
        fh.truncate(image.stat().st_size // 2)
    return broken / "alpha.yaml"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_experiment_failing_at_run_time_writes_nothing_and_the_others_finish(batch, tmp_path, capsys, jobs):
    folder, _ = batch
    broken = _truncate_one_image(folder, tmp_path)
    out = tmp_path / "out"
    code = main(["run", str(broken), str(folder / "beta.yaml"), str(folder / "gamma.yaml"), "--out", str(out),
                 "--jobs", jobs])
    assert code == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and str(broken) in err[0] and "alpha_1.tif" in err[0]
    assert sorted(p.name for p in out.iterdir()) == ["beta", "gamma"]  # no alpha, no temporary folder
    assert all((out / name / "run.json").is_file() for name in ("beta", "gamma"))
    assert captured.out.strip().splitlines()[-1] == ("blotquant: 2 of 3 experiments written; 1 failed, nothing "
                                                     "written for them (listed above)")


def test_a_single_failing_config_reports_as_before(batch, tmp_path, capsys):
    """One config: the error line is the error itself (no config prefix), exit 2, nothing written."""
    folder, _ = batch
    broken = _truncate_one_image(folder, tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(broken), "--out", str(out), "--jobs", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("blotquant: error: ") and "alpha_1.tif" in err[0]
    assert str(broken) not in err[0]
    assert not out.exists()


def test_quiet_prints_nothing_and_progress_changes_no_byte(batch, tmp_path, capsys):
    from blotquant.batch import plan, run_batch

    folder, _ = batch
    configs = [str(folder / "alpha.yaml"), str(folder / "beta.yaml")]
    assert main(["-q", "run", *configs, "--out", str(tmp_path / "quiet"), "--jobs", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    # the same batch with the progress bars forced on (stderr is not a terminal here)
    outcomes = run_batch(plan(configs, out=tmp_path / "bars"), n_jobs=2, progress=True)
    assert [type(o).__name__ for o in outcomes] == ["Written", "Written"]
    captured = capsys.readouterr()
    assert "images measured" in captured.err and "4/4" in captured.err and "experiments done" in captured.err
    assert captured.out == ""
    for name in ("alpha", "beta"):
        for csv in CSVS:
            assert (tmp_path / "quiet" / name / csv).read_bytes() == (tmp_path / "bars" / name / csv).read_bytes()


def test_verbose_logs_one_line_per_image_from_the_workers(batch, tmp_path, caplog):
    folder, _ = batch
    with caplog.at_level(logging.INFO, logger="blotquant"):
        assert main(["-v", "run", str(folder), "--out", str(tmp_path / "o"), "--jobs", "2"]) == 0
    lines = [r.getMessage() for r in caplog.records if " bands found in " in r.getMessage()]
    # 3 + 1 + 3 config image entries (gamma's two strips share one file: two lines)
    assert len(lines) == 7
    assert sum("alpha: alpha_" in line for line in lines) == 3
    assert sum("gamma: shared.tif" in line for line in lines) == 2
    # a log line emitted inside a worker (strip detection) reaches the parent's log
    assert any("strips assigned top to bottom" in r.getMessage() for r in caplog.records)


def test_jobs_must_be_positive_and_excludes_scheduler(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "x.yaml", "--jobs", "0"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["run", "x.yaml", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_usable_cores_follows_the_affinity():
    import os

    from blotquant.batch import usable_cores

    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert usable_cores() == expected


_STARTUP = """
import sys
from multiprocessing import forkserver
from blotquant.batch import start_workers_early
from blotquant.cli import build_parser

build_parser()
print("pandas" in sys.modules)
start_workers_early({jobs})
print(forkserver._forkserver._forkserver_pid is not None)
"""


@pytest.mark.parametrize("jobs, started", [(2, True), (None, True), (1, False)])
def test_the_workers_imports_start_before_the_configs_are_read(jobs, started):
    """`blotquant run` starts the forkserver (whose imports take 1-2 s) before it plans, and building
    the command line loads no pandas first (0.3 s before anything else could start)."""
    import multiprocessing
    import subprocess
    import sys

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no forkserver on this platform")
    from blotquant.batch import usable_cores

    if usable_cores() < 2 and jobs != 1:
        pytest.skip("one usable core: no pool is started")
    done = subprocess.run([sys.executable, "-c", _STARTUP.format(jobs=jobs)], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.split() == ["False", str(started)]


def test_overlays_drawn_in_the_workers_are_the_bytes_a_single_run_draws(batch, tmp_path):
    """Workers draw each image's overlay and send it back without the pixel arrays: the PNGs
    (and the report that embeds them) are the bytes that rendering from the pixels gives."""
    from blotquant.config import load_config
    from blotquant.pipeline import run, write_results

    folder, _ = batch
    assert main(["run", str(folder / "alpha.yaml"), str(folder / "gamma.yaml"), "--out", str(tmp_path / "b"),
                 "--jobs", "2"]) == 0
    for name in ("alpha", "gamma"):
        results = run(load_config(folder / f"{name}.yaml"), keep_pixels=True)
        assert all(res.overlay is None and res.blot.data is not None for res in results.images)
        single = write_results(results, tmp_path / f"s-{name}", experiment_name=name)  # drawn from the pixels
        # a run keeps only the display copy of each image by default: the same overlays from it
        slim = run(load_config(folder / f"{name}.yaml"))
        assert all(res.blot.data is None and res.pixels is not None for res in slim.images)
        from_copy = write_results(slim, tmp_path / f"c-{name}", experiment_name=name)
        pngs = sorted(p.name for p in single.glob("overlay_*.png"))
        assert len(pngs) == len(results.images) >= 1
        for png in pngs + ["report.html"]:
            assert (tmp_path / "b" / name / png).read_bytes() == (single / png).read_bytes(), (name, png)
            assert (from_copy / png).read_bytes() == (single / png).read_bytes(), (name, png)


def test_python_dash_m_runs_a_batch_on_worker_processes(batch, tmp_path):
    """The real command in a fresh process (forkserver started from it, blotquant preloaded there)
    writes what one process writes, and nothing on a stderr that is not a terminal."""
    import os
    import subprocess
    import sys

    folder, _ = batch
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    outs = {}
    for jobs in ("1", "2"):
        outs[jobs] = tmp_path / f"o{jobs}"
        done = subprocess.run([sys.executable, "-m", "blotquant", "run", str(folder / "alpha.yaml"),
                               str(folder / "beta.yaml"), "--out", str(outs[jobs]), "--jobs", jobs],
                              cwd=root, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""  # stderr is not a terminal: no progress bar
        assert done.stdout.strip().splitlines()[-1] == "blotquant: 2 of 2 experiments written"
    for name in ("alpha", "beta"):
        for csv in CSVS:
            assert (outs["1"] / name / csv).read_bytes() == (outs["2"] / name / csv).read_bytes()


def test_an_unexpected_error_in_one_experiment_is_exit_1_and_the_others_are_written(batch, tmp_path, capsys,
                                                                                     monkeypatch):
    """A bug (not a user mistake) in one experiment: one line naming it, the others finish, exit 1."""
    import blotquant.pipeline as pipeline

    folder, _ = batch
    real = pipeline.write_results

    def flaky(results, out_dir, **kwargs):
        if kwargs.get("experiment_name") == "beta":
            raise RuntimeError("disk full")
        return real(results, out_dir, **kwargs)

    monkeypatch.setattr(pipeline, "write_results", flaky)  # --jobs 1: writing happens in this process
    out = tmp_path / "out"
    assert main(["run", str(folder / "alpha.yaml"), str(folder / "beta.yaml"), "--out", str(out), "--jobs", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "beta.yaml" in err[0] and "unexpected RuntimeError" in err[0] and "disk full" in err[0]
    assert sorted(p.name for p in out.iterdir()) == ["alpha"]


def test_a_dead_worker_pool_fails_every_experiment_left_with_one_line_each(batch, tmp_path, capsys, monkeypatch):
    """A worker killed (by the out-of-memory killer, say) breaks the pool: every experiment not yet
    done gets its own line, the summary line is printed, exit 1; no traceback, nothing written."""
    import concurrent.futures as cf
    from concurrent.futures.process import BrokenProcessPool

    import blotquant.batch as batch_mod

    class DeadPool(cf.Executor):
        def submit(self, fn, /, *args, **kwargs):
            raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    monkeypatch.setattr(batch_mod, "_open_executor", lambda stack, **kw: (DeadPool(), 2))
    folder, _ = batch
    out = tmp_path / "out"
    assert main(["run", str(folder), "--out", str(out), "--jobs", "2"]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 3 and all("a worker process died" in line and "fewer --jobs" in line for line in err)
    assert sorted(line.split(": ")[2] for line in err) == sorted(str(folder / f"{n}.yaml")
                                                               for n in ("alpha", "beta", "gamma"))
    assert captured.out.strip().splitlines()[-1].startswith("blotquant: 0 of 3 experiments written")
    assert not out.exists() or not any(out.iterdir())
    # one config: the same sentence as its one error line
    assert main(["run", str(folder / "beta.yaml"), "--out", str(out / "b"), "--jobs", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a worker process died" in err[0]


def test_a_failing_task_brings_its_log_lines_back_and_threads_keep_their_own(caplog):
    """What a worker logged before failing is shown by the parent (it is what -v is for); in a
    Dask worker running tasks in threads, each task's reply holds its own lines and warnings only."""
    import logging
    import threading
    import time
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    from blotquant.batch import _in_worker, _show

    log = logging.getLogger("blotquant")

    def fails():
        log.info("read blot7.tif")
        raise ValueError("lanes do not fit")

    with pytest.raises(ValueError, match="lanes do not fit") as info:
        _in_worker(fails, logging.INFO, list(warnings.filters))
    with caplog.at_level(logging.INFO, logger="blotquant"):
        _show(info.value.worker_reply)
    assert [r.getMessage() for r in caplog.records] == ["read blot7.tif"]

    start = threading.Barrier(4, timeout=30)

    def task(k):
        for i in range(5):
            log.info("task %d line %d", k, i)
            time.sleep(0.002)
        warnings.warn(f"task {k}", UserWarning)
        return k

    def run(k):
        try:
            start.wait()
        except threading.BrokenBarrierError:
            pass
        return _in_worker(task, logging.INFO, [("always", None, Warning, None, 0)], k)

    level, propagate = log.level, log.propagate
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(run, range(4)))
    for k, reply in enumerate(replies):
        assert reply.value == k
        assert [line for _, line in reply.logs] == [f"task {k} line {i}" for i in range(5)]
        assert [str(w[0]) for w in reply.warnings] == [f"task {k}"]
    assert (log.level, log.propagate) == (level, propagate)  # the worker's logger as it was
