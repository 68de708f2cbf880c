"""Many experiments at once, on every core: the engine of ``blotquant run A.yaml B.yaml configs/``.

Two steps, in this order:

1. :func:`plan` loads and validates every config and checks every results folder (no overwrite
   without ``force``, no two experiments writing into one folder) before any image is read. Every
   problem found is one line; if there is any, nothing is run.
2. :func:`run_batch` measures the images of all experiments on one shared pool of worker
   processes and writes each experiment's results folder as soon as its images are done.

The unit of work is one image file and every membrane or strip measured on it
(:func:`blotquant.pipeline.measure_task`), so 50 configs of one image each and one config of
50 images both keep every core busy. Each experiment is assembled from its images in config order
(:func:`blotquant.pipeline.assemble`) and written by :func:`blotquant.pipeline.write_results`:
its CSVs are the same, byte for byte, whatever the number of processes.

Where the work runs
-------------------
``jobs=1``
    In this process, one image after the other; no pool, nothing pickled.
``jobs=N``
    A :class:`concurrent.futures.ProcessPoolExecutor` of at most N workers, started by the
    *forkserver* (spawn where there is none). ``fork`` is cheaper still but copies a process that
    already runs threads (OpenBLAS, OpenCV, tqdm's monitor) into one that has only one, which
    can deadlock (Python 3.12 warns about it, 3.14 no longer uses it by default); the forkserver
    imports blotquant once (:mod:`blotquant._worker`, 1-2 s) and forks each worker from that clean
    process in milliseconds, with one BLAS thread per worker and OpenCV's threads shared out
    (cores // workers each: one with a worker per core).
    The worker that measures an image also draws its overlay and returns the PNG in place of the
    pixel arrays (a 12-megapixel float64 image through the pool's pipe costs ~0.7 s, its overlay
    ~0.1 s to draw, in parallel), so what travels back is small and the writer's serial share is
    the tables, the figures and the report. In a batch of several experiments, one whose images
    make up one task is measured *and written* by one worker; an experiment of several images is
    written by a worker. When it is the only experiment, nothing else could run meanwhile, so its
    tail is spread out instead: it is assembled on a worker (the overlays stay here), and written
    by this process while every worker draws one of its figure files after the other
    (:func:`blotquant.report.outputs.figure_calls`). ``jobs=1`` draws the overlays the same way,
    so the bytes are the same and no image's pixels are held until its experiment is written.
``scheduler=ADDRESS``
    The same functions on a Dask cluster (``pip install 'blotquant[dask]'``), through
    ``Client(ADDRESS).get_executor()``. Workers must see the images and the results folders at
    the same paths and run the same blotquant version. One task runs at a time in a worker
    process (logging, warning filters and matplotlib settings are process-wide), so start the
    workers with one thread each and as many processes as cores (``dask worker ADDRESS
    --nworkers N --nthreads 1``); a worker with more threads is still right, only slower.

Failures at run time
--------------------
An experiment that fails while running (an unreadable image found late, lanes that do not fit,
a full disk) writes nothing (outputs are written atomically); the other experiments are
finished and written. Each experiment's outcome, :class:`Written` or :class:`Failed`, is passed
to ``on_done`` as it finishes and returned in the order of the jobs. When an experiment has
several failing images, the error reported is the first image's in config order, as a run
in one process would report.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as _dt
import logging
import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from blotquant.errors import BlotquantError

# numpy and the pipeline are imported inside the functions: a worker started by spawn imports this
# module first and must reach blotquant._worker (which sets the BLAS thread count) before numpy

__all__ = ["Job", "Written", "Failed", "PlanError", "find_configs", "is_batch", "plan", "run_batch",
           "usable_cores"]

logger = logging.getLogger("blotquant")

CONFIG_SUFFIXES = (".yaml", ".yml")
_DASK_TIMEOUT_S = 5


@dataclass(frozen=True)
class Job:
    """One experiment of a batch: its config, where its results go and how they were asked for."""

    config: str  # the config file as given
    experiment: object  # validated Experiment
    out: Path  # its results folder
    force: bool = False  # replace an earlier results folder
    argv: tuple = ()  # a command that reproduces this experiment alone (recorded in run.json)


@dataclass(frozen=True)
class Written:
    """An experiment whose results folder was written."""

    job: Job
    n_bands: int
    n_images: int
    n_flags: int


@dataclass(frozen=True)
class Failed:
    """An experiment that failed at run time; nothing was written for it."""

    job: Job
    error: BaseException


class PlanError(BlotquantError):
    """Problems found before any work: ``problems`` holds one line per problem."""

    def __init__(self, problems):
        self.problems = list(problems)
        more = len(self.problems) - 1
        super().__init__(self.problems[0] + (f" (and {more} more)" if more else ""))


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def find_configs(paths) -> list[str]:
    """Config files named by ``paths``: files as they are, folders as every ``*.yaml`` / ``*.yml``
    directly inside them (sorted by name).

    Raises
    ------
    BlotquantError
        A folder holding no config.
    """
    configs = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in CONFIG_SUFFIXES and p.is_file())
            if not found:
                raise BlotquantError(f"{given}: folder holds no *.yaml or *.yml config; name config files "
                                     "or a folder that holds them")
            configs.extend(str(p) for p in found)
        else:
            configs.append(str(given))  # a missing file is reported by load_config
    return configs


def is_batch(paths) -> bool:
    """True when ``paths`` name several configs or any folder: then ``--out`` is the folder holding one
    ``<experiment>/`` per config, and messages name the config they are about."""
    return len(find_configs(paths)) > 1 or any(Path(p).is_dir() for p in paths)


def plan(paths, *, out=None, force=False) -> list[Job]:
    """Load and check every experiment of a batch before any work is done.

    Parameters
    ----------
    paths : sequence of str or path-like
        Config files and folders of them (see :func:`find_configs`).
    out : str or path-like, optional
        Results folder of a single experiment; for a batch (:func:`is_batch`), the folder holding
        one ``<experiment>/`` folder per config. Default: ``results/<experiment>/`` beside each config.
    force : bool, optional
        Allow replacing earlier results folders (only folders holding a ``run.json``).

    Returns
    -------
    list of Job
        In the order the configs were given (folders expanded in name order).

    Raises
    ------
    PlanError
        Every problem found, one line each: a config that does not load, two experiments that
        would write into one folder, a results folder that exists (without ``force``) or may not
        be replaced. Nothing has been written.
    """
    from blotquant.config import load_config
    from blotquant.io import check_output_dir

    configs = find_configs(paths)
    several = is_batch(paths)
    problems, jobs = [], []
    for config in configs:
        try:
            experiment = load_config(config)
        except BlotquantError as exc:
            problems.append(str(exc))
            continue
        if out is None:
            dest = Path(config).resolve().parent / "results" / experiment.experiment
        else:
            dest = Path(out) / experiment.experiment if several else Path(out)
        argv = ["blotquant", "run", config]
        if out is not None:
            argv += ["--out", str(dest) if several else str(out)]
        if force:
            argv.append("--force")
        jobs.append(Job(config, experiment, dest, force, tuple(argv)))
    owners = {}
    for job in jobs:
        key = job.out.resolve()
        if key in owners:
            problems.append(f"{owners[key].config} and {job.config} would both write to {job.out}; give the "
                            "experiments different `experiment:` names or run them separately")
            continue
        owners[key] = job
        try:
            check_output_dir(job.out, force=force)
        except BlotquantError as exc:
            problems.append(f"{job.config}: {exc}" if several else str(exc))
    if problems:
        raise PlanError(problems)
    return jobs


def run_batch(jobs, *, n_jobs=None, scheduler=None, progress=None, on_done=None) -> list:
    """Quantify every experiment of ``jobs`` and write its results folder.

    Parameters
    ----------
    jobs : sequence of Job
        From :func:`plan`.
    n_jobs : int, optional
        Worker processes (default: every usable core); 1 runs everything in this process.
        Never more workers than there are images.
    scheduler : str, optional
        Address of a Dask scheduler to run on instead (``tcp://host:8786``); excludes ``n_jobs``.
    progress : bool or None, optional
        Progress bars on stderr: None (default) shows them when stderr is a terminal, False never.
    on_done : callable, optional
        Called with each experiment's :class:`Written` or :class:`Failed` as it finishes.

    Returns
    -------
    list of Written or Failed
        One per job, in the order of ``jobs``.

    Raises
    ------
    BlotquantError
        ``scheduler`` given but Dask is not installed or the scheduler cannot be reached.
    """
    if scheduler is not None and n_jobs is not None:
        raise BlotquantError("give either a number of worker processes (--jobs) or a Dask scheduler "
                             "(--scheduler), not both")
    from blotquant.pipeline import image_tasks

    states = [_State(job, image_tasks(job.experiment)) for job in jobs]
    n_tasks = sum(len(st.tasks) for st in states)
    with contextlib.ExitStack() as stack:
        executor, workers = _open_executor(stack, n_jobs=n_jobs, scheduler=scheduler, n_tasks=n_tasks)
        bars = _Bars(stack, states, progress)
        runner = _Runner(states, executor, workers=workers, bars=bars, on_done=on_done,
                         remote=not isinstance(executor, _InlineExecutor))
        runner.run()
    return [st.outcome for st in states]


# -- how work is placed -------------------------------------------------------------------------

class _InlineExecutor(cf.Executor):
    """Runs each call when it is submitted, in this process (``--jobs 1``: no pool, no pickling)."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def _mp_context():
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["blotquant._worker"])  # imported once, before any worker forks
        return ctx
    return multiprocessing.get_context("spawn")


def _pool_size(n_jobs):
    """Worker processes asked for: ``n_jobs``, or every usable core."""
    return usable_cores() if n_jobs is None else int(n_jobs)


def start_workers_early(n_jobs=None, scheduler=None) -> None:
    """Start the forkserver now, so that its imports (:mod:`blotquant._worker`, 1-2 s on one core)
    run while this process reads the configs, instead of after it.

    Nothing happens where no pool would be opened (one worker: ``n_jobs`` 1, or one usable core
    by default; a Dask ``scheduler``) or where there is no forkserver. Where the plan then needs fewer than two
    workers, the server was started for nothing: it exits with this process.
    """
    if scheduler is not None or _pool_size(n_jobs) <= 1:
        return
    ctx = _mp_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()  # returns at once; the preload runs in the server


def _open_executor(stack, *, n_jobs, scheduler, n_tasks):
    """(executor, number of workers); closed by ``stack``."""
    if scheduler is not None:
        client = _dask_client(scheduler)
        stack.callback(client.close)
        workers = max(1, len(client.nthreads()))  # worker processes: each runs one task at a time
        executor = client.get_executor(pure=False)  # every call runs: no deduplication by arguments
        stack.callback(executor.shutdown, wait=False)
        return executor, workers
    n_jobs = _pool_size(n_jobs)
    if n_jobs < 1:
        raise BlotquantError(f"--jobs must be at least 1; got {n_jobs}")
    workers = min(n_jobs, n_tasks)
    if workers <= 1:
        return _InlineExecutor(), 1
    executor = cf.ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(), initializer=_init_worker,
                                      initargs=(max(1, usable_cores() // workers),))
    stack.callback(executor.shutdown, wait=True, cancel_futures=True)
    return executor, workers


def _init_worker(threads):
    """Pool initializer: blotquant's worker imports (already done where the forkserver preloaded
    them), and OpenCV's own thread pool cut to ``threads`` (cores / workers)."""
    from blotquant import _worker  # noqa: F401 - sets the BLAS threads before numpy loads (spawn)
    import cv2

    cv2.setNumThreads(int(threads))


def _dask_client(address):
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise BlotquantError("--scheduler needs Dask: pip install 'blotquant[dask]' (or use --jobs)") from exc
    try:
        return Client(address, timeout=_DASK_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BlotquantError(f"cannot reach the Dask scheduler at {address} within {_DASK_TIMEOUT_S} s "
                             f"({type(exc).__name__}: {exc}); check the address, or start one with "
                             f"`dask scheduler` and workers with `dask worker ADDRESS`") from exc


# -- what a worker runs -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Reply:
    """A worker's result with the log lines and warnings it emitted, shown again by the parent."""

    value: object
    logs: list
    warnings: list


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append((record.levelno, record.getMessage()))


_ONE_TASK = threading.Lock()  # a Dask worker may run tasks in threads; the settings below are global


def _in_worker(fn, log_level, filters, *args):
    """Run ``fn(*args)`` in a worker as it would run in the parent.

    blotquant's log records (at the parent's level) and the warnings shown are collected and
    returned with the value, for the parent to show; the parent's warning filters apply here, so
    a warning the parent turns into an error fails here too. If ``fn`` raises, the lines and
    warnings travel with the exception (its ``worker_reply``), so the parent still shows them.
    One call at a time per process: the logger, the warning filters and matplotlib's settings
    are shared by every thread.
    """
    with _ONE_TASK:
        handler = _ListHandler()
        saved = (logger.level, logger.propagate)
        logger.addHandler(handler)
        logger.setLevel(log_level)
        logger.propagate = False
        value, error = None, None
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.filters[:] = filters
                try:
                    value = fn(*args)
                except Exception as exc:  # noqa: BLE001 - returned with its log lines, raised by the parent
                    error = exc
        finally:
            logger.removeHandler(handler)
            logger.level, logger.propagate = saved
        reply = _Reply(value, handler.lines, [(w.message, w.category, w.filename, w.lineno) for w in caught])
    if error is not None:
        error.worker_reply = replace(reply, value=None)  # pickled with the exception (its __dict__)
        raise error
    return reply


def _measure(experiment, task):
    """One image file of an experiment, each image with its overlay drawn and without its pixel
    arrays (the overlay is all the writer needs of them)."""
    from blotquant.pipeline import measure_task
    from blotquant.report.outputs import overlay_png

    result = measure_task(experiment, task)
    return replace(result, images=tuple(replace(res, overlay=overlay_png(res),
                                                blot=replace(res.blot, data=None, saturated=None, mask=None,
                                                             marks=None))
                                        for res in result.images))


def _assemble(job, measured, started, seconds):
    """The tables, statistics and record of an experiment from its measured images."""
    from blotquant.pipeline import assemble

    return assemble(job.experiment, measured, started=started, seconds=seconds)


def _write(job, results, figures=None):
    """Write an experiment's results folder (``figures``: figure files already rendered)."""
    from blotquant.pipeline import write_results

    write_results(results, job.out, force=job.force, experiment_name=job.experiment.experiment,
                  argv=list(job.argv), figures=figures)
    return Written(job, len(results.bands), len(results.images), len(results.notes))


def _finish(job, measured, started, seconds):
    """Assemble an experiment from its measured images and write its results folder."""
    return _write(job, _assemble(job, measured, started, seconds))


def _whole(job):
    """Measure and write an experiment whose images make up one task, all in this process."""
    from blotquant.pipeline import image_tasks

    started, t0 = _dt.datetime.now(_dt.timezone.utc), time.perf_counter()
    measured = [_measure(job.experiment, task) for task in image_tasks(job.experiment)]
    lines = [_image_line(job, res) for tr in measured for res in tr.images]
    return lines, _finish(job, measured, started, time.perf_counter() - t0)


def _image_line(job, res):
    """The log line of a measured image: file, bands found, seconds."""
    import numpy as np

    found = int(np.asarray(res.bands["found"], dtype=bool).sum()) if "found" in res.bands else len(res.bands)
    return (f"{job.experiment.experiment}: {res.file} (membrane {res.membrane}): {found} of "
            f"{len(res.bands)} bands found in {res.choices['seconds']:.2f} s")


# -- the parent's bookkeeping -------------------------------------------------------------------

def _overlays_back(results, measured):
    """``results``, assembled from the images of ``measured`` sent without their overlays, with
    each image's overlay again (its images are in config order, as :func:`assemble` sorts them)."""
    by_entry = {entry: res for tr in measured for entry, res in zip(tr.task.entries, tr.images)}
    images = []
    for entry, res in zip(sorted(by_entry), results.images, strict=True):
        kept = by_entry[entry]
        if (kept.membrane, kept.file) != (res.membrane, res.file):  # pragma: no cover - a bug, not an input
            raise RuntimeError(f"image {res.membrane}/{res.file} came back where {kept.membrane}/{kept.file} was")
        images.append(replace(res, overlay=kept.overlay))
    return replace(results, images=images)


def _show(value):
    """Log the lines and show the warnings a worker collected (:func:`_in_worker`); the value."""
    if not isinstance(value, _Reply):
        return value
    for level, line in value.logs:
        logger.log(level, "%s", line)
    for message, category, filename, lineno in value.warnings:
        warnings.showwarning(message, category, filename, lineno)
    return value.value


class _Drawn(Mapping):
    """Figure files being drawn on the workers, by file name: looking one up waits for it and
    shows what its worker logged (:func:`_show`); a figure that failed raises its error (with the
    worker's lines as its ``worker_reply``)."""

    def __init__(self, futures):
        self.futures, self.done = futures, {}

    def __getitem__(self, name):
        if name not in self.done:  # an error raises with its worker's lines, shown by whoever handles it
            self.done[name] = _show(self.futures[name].result())
        return self.done[name]

    def __contains__(self, name):  # without waiting
        return name in self.futures

    def __iter__(self):
        return iter(self.futures)

    def __len__(self):
        return len(self.futures)


@dataclass(eq=False)
class _State:
    """One experiment while the batch runs."""

    job: Job
    tasks: list
    measured: dict = field(default_factory=dict)  # task index -> TaskResult
    outstanding: int = 0  # its work items queued or running
    failure: tuple | None = None  # (position, exception): task index, or len(tasks) when writing
    results: object = None  # assembled on a worker, to be written here
    started: object = None
    t0: float = 0.0
    outcome: object = None

    def entries(self, indices=None):
        """Number of config image entries in these tasks (all by default)."""
        return sum(len(self.tasks[i].entries) for i in (range(len(self.tasks)) if indices is None else indices))


class _Bars:
    """tqdm bars on stderr: images measured, experiments written (shown only on a terminal by
    default: tqdm's ``disable=None``)."""

    def __init__(self, stack, states, progress):
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        disable = None if progress is None else not progress
        self.images = stack.enter_context(tqdm(total=sum(st.entries() for st in states), desc="images measured",
                                               unit="image", disable=disable, position=0, dynamic_ncols=True))
        self.written = stack.enter_context(tqdm(total=len(states), desc="experiments done", unit="exp",
                                                disable=disable, position=1, dynamic_ncols=True))
        if not self.images.disable:
            stack.enter_context(logging_redirect_tqdm())  # log lines above the bars, not through them


class _Runner:
    """Feeds the executor from a queue in config order, a few items ahead of the workers, so the
    measured images (tables and overlay PNGs) wait for their own experiment only, never for the
    batch.

    Work items are ``(kind, experiment index, k)``: ``measure`` (task k), ``whole`` (measure and
    write a one-task experiment), ``finish`` (assemble and write). A lone experiment on workers is
    finished in two steps instead, so that its tail does not leave all but one core idle:
    ``assemble`` on a worker (where the statistics' imports are loaded already; the overlays stay
    here), then ``write`` here, which sends every figure file to the workers
    (:func:`blotquant.report.outputs.figure_calls`) and writes the files that need no figure
    while they are drawn.
    """

    def __init__(self, states, executor, *, workers, bars, on_done, remote):
        self.states, self.executor, self.bars = states, executor, bars
        self.on_done, self.remote = on_done, remote
        self.window = 2 * workers if remote else 1
        # several experiments are written by the workers, in parallel; a single one in steps
        self.finish_remote = remote and len(states) > 1
        self.steps = remote and not self.finish_remote
        self.level = logger.getEffectiveLevel()
        self.queue = deque()
        for ei, st in enumerate(states):
            if self.finish_remote and len(st.tasks) == 1:
                items = [("whole", ei, 0)]  # measured and written by one worker: nothing travels
            else:
                items = [("measure", ei, k) for k in range(len(st.tasks))]
            self.queue.extend(items)
            st.outstanding = len(items)

    def run(self):
        running = {}
        while self.queue or running:
            while self.queue and len(running) < self.window:
                kind, ei, k = item = self.queue.popleft()
                st = self.states[ei]
                if st.started is None:
                    st.started, st.t0 = _dt.datetime.now(_dt.timezone.utc), time.perf_counter()
                running[self._submit(kind, ei, k)] = item
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in sorted(done, key=running.get):  # a deterministic order within one wake-up
                self._handle(future, *running.pop(future))

    def _submit(self, kind, ei, k):
        st = self.states[ei]
        if kind == "measure":
            fn, args = _measure, (st.job.experiment, st.tasks[k])
        elif kind == "whole":
            fn, args = _whole, (st.job,)
        elif kind == "write":
            fn, args = self._write_here, (st,)
        else:  # finish, assemble
            measured = [st.measured[i] for i in range(len(st.tasks))]
            if kind == "assemble":  # the tables need no overlay: those PNGs (~18 MB for 50 images) stay here
                measured = [replace(tr, images=tuple(replace(res, overlay=None) for res in tr.images))
                            for tr in measured]
            fn = _finish if kind == "finish" else _assemble
            args = (st.job, measured, st.started, time.perf_counter() - st.t0)
        if not self.remote or kind == "write":
            return _InlineExecutor().submit(fn, *args)
        return self._send(fn, *args)

    def _send(self, fn, *args):
        """``fn(*args)`` on a worker (:func:`_in_worker`): its future."""
        try:
            return self.executor.submit(_in_worker, fn, self.level, list(warnings.filters), *args)
        except cf.BrokenExecutor as exc:  # a worker died (killed, out of memory): this item fails too
            future = cf.Future()
            future.set_exception(exc)
            return future

    def _write_here(self, st):
        """Write a lone experiment's results folder here, its figures drawn on the workers meanwhile."""
        from blotquant.report.outputs import figure_calls

        futures = {name: self._send(fn, *args) for name, fn, args in figure_calls(st.results)}
        try:
            return _write(st.job, st.results, _Drawn(futures))
        finally:
            for future in futures.values():  # those not needed any more (when writing failed)
                future.cancel()

    def _handle(self, future, kind, ei, k):
        st = self.states[ei]
        st.outstanding -= 1
        if kind in ("measure", "whole"):
            self.bars.images.update(st.entries([k]) if kind == "measure" else st.entries())
        try:
            try:
                value = future.result()
            except Exception as exc:  # noqa: BLE001 - show what the worker logged, then fail
                _show(getattr(exc, "worker_reply", None))
                raise
            value = _show(value)
        except Exception as exc:  # noqa: BLE001 - this experiment fails; the others go on
            self._fail(ei, k if kind == "measure" else len(st.tasks), exc)
        else:
            if kind == "whole":
                lines, value = value
                for line in lines:
                    logger.info("%s", line)
            if kind in ("whole", "finish", "write"):
                self._close(ei, value)
            elif st.failure is None:
                try:
                    self._next(ei, kind, k, value)
                except Exception as exc:  # noqa: BLE001 - as a failure of the item itself
                    self._fail(ei, k if kind == "measure" else len(st.tasks), exc)
        if st.outcome is None and st.failure is not None and st.outstanding == 0:
            self._close(ei, Failed(st.job, st.failure[1]))

    def _next(self, ei, kind, k, value):
        """Keep what a measure or assemble item gave; queue what follows from it."""
        st = self.states[ei]
        if kind == "measure":
            st.measured[k] = value
            for res in value.images:
                logger.info("%s", _image_line(st.job, res))
            if len(st.measured) == len(st.tasks):
                # first in line: frees its images soonest
                self._first(ei, ["assemble" if self.steps else "finish"])
        else:  # assemble
            st.results = _overlays_back(value, st.measured.values())
            st.measured.clear()
            self._first(ei, ["write"])

    def _first(self, ei, kinds):
        """Put items of experiment ``ei`` first in line, in this order (k: their place in it)."""
        self.queue.extendleft(reversed([(kind, ei, k) for k, kind in enumerate(kinds)]))
        self.states[ei].outstanding += len(kinds)

    def _fail(self, ei, position, exc):
        """Record a failure; the experiment's later images are not started. Earlier ones still
        run, so the error reported is the first in config order, as in a run in one process."""
        st = self.states[ei]
        if st.failure is None or position < st.failure[0]:
            st.failure = (position, exc)
        later = [item for item in self.queue if item[1] == ei and item[0] == "measure" and item[2] > st.failure[0]]
        if later:
            self.queue = deque(item for item in self.queue if item not in later)
            st.outstanding -= len(later)
            self.bars.images.update(st.entries([item[2] for item in later]))

    def _close(self, ei, outcome):
        st = self.states[ei]
        st.outcome = outcome
        st.measured.clear()
        st.results = None
        self.bars.written.update(1)
        if self.on_done is not None:
            self.on_done(outcome)
