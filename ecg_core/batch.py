"""Cohort batch on ``dask.distributed``: ``python -m ecg_core detect|classify ... --workers N | --scheduler ADDR``.

The client lists the inputs (it never loads a recording); each task is one file, run on a worker by
the very functions of the serial command line (:func:`ecg_core.cli._detect_one`,
:func:`ecg_core.cli._classify_one`), so the outputs are byte for byte those of the serial CLI. A
worker is a process that loads the classifier once (``ecg_core.model.load_classifier`` caches it,
``--model`` included) and keeps it for every file it is given. A worker writes a file's outputs as
soon as it finishes it (to a temporary name, then renamed, so ``--resume`` never takes a half-written
file for a finished one) and sends the client only its summary row, so the client, which shares the
cores of a laptop with the workers, does next to nothing per file. The workers of a LocalCluster run
without dask's statistical profiler (``distributed.worker.profile.enabled``), which walks a busy
worker's stack every 10 ms on its event loop, in the same process as the work. One bad file gets
one line on stderr and the batch goes on; ``summary.csv`` (one row per recording) is written at the
end. The workers of another cluster (``--scheduler``) must see the inputs and ``--out-dir`` at the same
paths (a shared file system).

Inputs
------
:func:`list_inputs` expands each INPUT: a folder stands for the recordings in it (``.hea``, ``.edf``,
``.csv``, ``.tsv``, ``.txt``, ``.tab``, not recursive, by name; annotation files ``*annotations.txt``
left out), and ``@FILE`` for the paths listed in FILE, one per line (blank lines and ``#`` comments
skipped; relative paths are relative to FILE's folder). Anything else is a recording path, as before.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .config import CLASSES
from .errors import ECGError

__all__ = ["Job", "Options", "list_inputs", "plan", "run_cohort", "run_job", "run_one"]

#: Extensions of the recordings a folder INPUT stands for.
RECORDING_EXTENSIONS = (".hea", ".edf", ".csv", ".tsv", ".txt", ".tab")
#: Name of the cohort summary written into ``--out-dir``.
SUMMARY = "summary.csv"


@dataclass(frozen=True)
class Options:
    """What a worker needs besides the path: the CLI options that change an output."""

    command: str
    fs: float | None = None
    lead: str | None = None
    peaks_dir: Path | None = None
    model: Path | None = None


@dataclass(frozen=True)
class Job:
    """One recording of the cohort and where its output goes."""

    path: Path
    out: Path


# --------------------------------------------------------------------------------------------- listing
def list_inputs(inputs: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand folders and ``@list`` files into recording paths.

    Returns
    -------
    paths : list of pathlib.Path
        In the order given (a folder's recordings by name).
    problems : list of (pathlib.Path, str)
        Inputs that could not be expanded (an unreadable list file, an empty folder), with the message.
    """
    paths: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for item in inputs:
        text = str(item)
        if text.startswith("@"):
            listed = Path(text[1:])
            try:
                lines = listed.read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                problems.append((item, f"the list file {listed} cannot be read ({getattr(exc, 'strerror', exc)})."))
                continue
            for line in lines:
                line = line.strip()
                if line and not line.startswith("#"):
                    p = Path(line).expanduser()
                    paths.append(p if p.is_absolute() else listed.parent / p)
        elif item.is_dir():
            found = sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in RECORDING_EXTENSIONS
                           and not p.name.lower().endswith("annotations.txt"))
            if not found:
                problems.append((item, f"the folder holds no recordings ({', '.join(RECORDING_EXTENSIONS)})."))
            paths.extend(found)
        else:
            paths.append(item)
    return paths, problems


def plan(paths: list[Path], out_dir: Path, suffix: str, *, resume: bool = False):
    """Outputs for ``paths``: the jobs to run, the inputs skipped by ``resume`` and output-name clashes.

    Returns
    -------
    jobs : list of Job
    skipped : list of Job
        Inputs whose output exists (only with ``resume``).
    clashes : list of (pathlib.Path, str)
        Inputs whose output name is taken by an earlier input (the serial CLI's message).
    """
    from .cli import _stem

    jobs, skipped, clashes = [], [], []
    taken: dict[str, Path] = {}
    for path in paths:
        stem = _stem(path)
        if stem in taken:
            clashes.append((path, f"its output name {stem}.{suffix}.csv is already taken by {taken[stem]}; "
                                  "rename one of the inputs."))
            continue
        taken[stem] = path
        job = Job(path, out_dir / f"{stem}.{suffix}.csv")
        (skipped if resume and job.out.exists() else jobs).append(job)
    return jobs, skipped, clashes


# --------------------------------------------------------------------------------------------- one file
def run_one(path: Path, options: Options):
    """Process one file on a worker: ``(frame, None)``, or ``(None, message)`` for a bad file.

    Never raises for a bad file (its message is the serial CLI's), so one file never fails the batch.
    """
    from . import cli
    from .classifier.network import set_parallel_calls
    from .memory import reuse_freed_memory

    reuse_freed_memory()
    set_parallel_calls(1)  # a worker has one thread (``--nthreads 1``): one network call at a time
    run = cli._detect_one if options.command == "detect" else cli._classify_one
    try:
        return run(path, options), None
    except ECGError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return None, f"could not be processed ({type(exc).__name__}: {exc})"


def run_job(job: Job, options: Options) -> dict:
    """Process one file on a worker and write its outputs there: its :func:`summary_row` (``error`` set if bad)."""
    from .cli import _write

    frame, error = run_one(job.path, options)
    if frame is not None:
        try:
            _write(frame, job.out)
        except OSError as exc:
            frame, error = None, f"its output {job.out} cannot be written ({exc.strerror or exc})."
    duration = frame.attrs.get("duration_s") if frame is not None else None
    return summary_row(job.path, frame, error, options.command, duration)


def event_columns() -> list[str]:
    """The event columns of a ``classify`` summary: ``events`` (all), then ``events_<kind>`` per event kind."""
    from .events import KINDS

    return ["events", *(f"events_{k.replace(' ', '_')}" for k in KINDS)]


def summary_row(path: Path, frame: pd.DataFrame | None, error: str | None, command: str,
                duration_s: float | None = None) -> dict:
    """One row of ``summary.csv``: file, beats, duration_s, counts per class and of events (classify), error.

    The events are those of the beats table (``frame.attrs["events"]``, its ``events.csv``): their number
    and the number of each kind of :data:`ecg_core.events.KINDS`; a segmented file has none (0).
    """
    from .events import KINDS

    row: dict = {"file": str(path), "beats": None if frame is None else len(frame), "duration_s": duration_s}
    if command == "classify":
        labels = frame["label"] if frame is not None and "label" in frame else None
        row.update({c: None if labels is None else int((labels == c).sum()) for c in CLASSES})
        events = None if frame is None else frame.attrs.get("events")
        kinds = None if frame is None else (events["kind"] if isinstance(events, pd.DataFrame) else pd.Series([]))
        counts = [None if kinds is None else len(kinds), *(None if kinds is None else int((kinds == k).sum())
                                                           for k in KINDS)]
        row.update(dict(zip(event_columns(), counts, strict=True)))
    row["error"] = error or ""
    return row


def _resumed_row(job: Job, previous: dict, command: str) -> dict:
    """The summary row of a skipped file: its row of the previous summary, else counted from its output."""
    if str(job.path) in previous:
        return previous[str(job.path)]
    try:
        frame = pd.read_csv(job.out)
        events = job.out.with_name(job.out.name[: -len(".beats.csv")] + ".events.csv")
        if command == "classify" and events.exists():
            frame.attrs["events"] = pd.read_csv(events)
        return summary_row(job.path, frame, None, command)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        return summary_row(job.path, None, f"its existing output {job.out} cannot be read ({exc}).", command)


# --------------------------------------------------------------------------------------------- cohort
def _client(workers: int | None, scheduler: str | None):
    """A client of the cluster at ``scheduler``, or of a new LocalCluster of ``workers`` processes on 127.0.0.1."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="30s"), None
    import dask

    n = workers if workers and workers > 0 else (os.cpu_count() or 1)
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    return Client(cluster), cluster


def run_cohort(paths: list[Path], out_dir: Path, options: Options, *, workers: int | None = None,
               scheduler: str | None = None, resume: bool = False, problems=()) -> int:
    """Run ``options.command`` over ``paths`` on a Dask cluster; return the exit code (1 if any file failed).

    Parameters
    ----------
    paths : list of pathlib.Path
        Recordings (listed by :func:`list_inputs`; never loaded here).
    out_dir : pathlib.Path
        Existing folder for ``<stem>.peaks.csv`` / ``<stem>.beats.csv`` and ``summary.csv``.
    options : Options
    workers : int, optional
        Processes of a LocalCluster (0 or None: one per core). Ignored with ``scheduler``.
    scheduler : str, optional
        Address of a running scheduler (``tcp://127.0.0.1:8786``); its workers must see the same files.
    resume : bool
        Skip files whose output exists.
    problems : sequence of (path, message)
        Inputs that failed before the batch (reported and counted like bad files).
    """
    from tqdm import tqdm

    from .cli import _write

    suffix = "peaks" if options.command == "detect" else "beats"
    jobs, skipped, clashes = plan(paths, out_dir, suffix, resume=resume)
    failures = 0
    rows: dict[str, dict] = {}
    for path, message in [*problems, *clashes]:
        failures += 1
        print(f"error: {path}: {message}", file=sys.stderr)
        rows[str(path)] = summary_row(path, None, message, options.command)
    previous = _previous_summary(out_dir / SUMMARY) if skipped else {}
    for job in skipped:
        rows[str(job.path)] = _resumed_row(job, previous, options.command)
    if jobs:
        failures += _run_jobs(jobs, options, workers, scheduler, rows, tqdm)
    order = [str(p) for p, _ in problems] + [str(p) for p in paths]
    table = pd.DataFrame([rows[k] for k in dict.fromkeys(order) if k in rows])
    for column in ("beats", *CLASSES, *event_columns()):  # counts stay whole where a failed file leaves them empty
        if column in table:
            table[column] = pd.to_numeric(table[column]).astype("Int64")
    _write(table, out_dir / SUMMARY, float_format=None)
    return 1 if failures else 0


def _run_jobs(jobs: list[Job], options: Options, workers, scheduler, rows: dict, tqdm) -> int:
    from dask.distributed import as_completed

    failures = 0
    client, cluster = _client(workers, scheduler)
    try:
        # absolute paths: a worker of another cluster may run in another folder (of the same file system)
        futures = {client.submit(run_job, Job(job.path.absolute(), job.out.absolute()), options, pure=False,
                                 key=f"ecg-{k}-{job.path.name}"): job for k, job in enumerate(jobs)}
        bar = tqdm(total=len(jobs), unit="file", disable=not sys.stderr.isatty(), leave=False)
        for future in as_completed(futures):
            job = futures.pop(future)
            try:
                row = {**future.result(), "file": str(job.path)}  # the path as the user gave it
            except Exception as exc:  # noqa: BLE001 - a lost worker (e.g. out of memory) fails that file only
                row = summary_row(job.path, None, f"could not be processed on the cluster ({type(exc).__name__}: "
                                                  f"{exc})", options.command)
            future.release()
            if row["error"]:
                failures += 1
                tqdm.write(f"error: {job.path}: {row['error']}", file=sys.stderr)
            rows[str(job.path)] = row
            bar.update(1)
        bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return failures


def _previous_summary(path: Path) -> dict:
    """Rows of an earlier ``summary.csv`` by file (for files that ``--resume`` skips)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)  # as written: text in, the same text out
    except (OSError, ValueError, pd.errors.ParserError):
        return {}
    if "file" not in frame.columns:
        return {}
    return {r["file"]: r for r in frame.to_dict("records") if not r.get("error")}
