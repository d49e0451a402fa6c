"""Cohort batch on a real Dask cluster (``ecg_core.batch``): the same bytes as the serial CLI, a bad file in
the middle of a cohort, ``--resume``, folders and ``@list`` files, ``summary.csv``.

One LocalCluster of 2 worker processes (127.0.0.1) serves the module through ``--scheduler``; one test
starts its own through ``--workers 1``.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from ecg_core.batch import event_columns
from ecg_core.cli import main
from ecg_core.config import CLASSES, EXAMPLES_DIR, MODEL_PATH, ROOT


@pytest.fixture(scope="module")
def scheduler():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def cohort(tmp_path):
    """Three recordings and, in the middle of the list, a bad file; ``@list.txt`` lists them (relative paths)."""
    src = tmp_path / "in"
    src.mkdir()
    for record, stem in (("208_excerpt", "a208"), ("201_af_excerpt", "c201")):
        shutil.copy(EXAMPLES_DIR / f"{record}.dat", src / f"{record}.dat")
        (src / f"{stem}.hea").write_text((EXAMPLES_DIR / f"{record}.hea").read_text())
    shutil.copy(EXAMPLES_DIR / "208_excerpt.csv", src / "d208.csv")
    (src / "b_bad.csv").write_text("ECG\n1\n2\nthree\n")
    listed = ["a208.hea", "b_bad.csv", "c201.hea", "d208.csv"]
    (src / "list.txt").write_text("# the cohort\n" + "\n".join(listed) + "\n\n")
    return src, [src / n for n in listed]


def outputs(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv")) if p.name != "summary.csv"}


def test_classify_on_the_cluster_is_the_serial_cli_byte_for_byte(cohort, scheduler, tmp_path, capsys):
    src, files = cohort
    assert main(["classify", *map(str, files), "--out-dir", str(tmp_path / "serial")]) == 1
    serial_err = capsys.readouterr().err
    assert main(["classify", f"@{src / 'list.txt'}", "--out-dir", str(tmp_path / "dask"),
                 "--scheduler", scheduler]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    # the bad file in the middle: one line naming it (the serial CLI's), the files after it are done
    assert err == serial_err.strip().splitlines() and len(err) == 1 and err[0].startswith(f"error: {files[1]}: ")
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "serial")
    assert sorted(outputs(tmp_path / "dask")) == sorted(f"{s}.{k}.csv" for s in ("a208", "c201", "d208")
                                                        for k in ("beats", "events"))
    summary = pd.read_csv(tmp_path / "dask" / "summary.csv")
    assert list(summary.columns) == ["file", "beats", "duration_s", *CLASSES, *event_columns(), "error"]
    assert list(summary["file"]) == list(map(str, files))
    beats = pd.read_csv(tmp_path / "serial" / "c201.beats.csv")
    row = summary.iloc[2]
    assert row["beats"] == len(beats) and row["duration_s"] == 300.0 and pd.isna(row["error"])
    assert [row[c] for c in CLASSES] == [int((beats["label"] == c).sum()) for c in CLASSES]
    events = pd.read_csv(tmp_path / "serial" / "c201.events.csv")  # 201: atrial fibrillation, among others
    assert row["events"] == len(events) > 0 and row["events_AF"] == int((events["kind"] == "AF").sum()) > 0
    assert sum(row[c] for c in event_columns()[1:]) == row["events"]
    assert pd.isna(summary.iloc[1]["beats"]) and "three" in summary.iloc[1]["error"]


def test_workers_honour_model(cohort, scheduler, tmp_path, monkeypatch):
    src, files = cohort
    monkeypatch.chdir(ROOT)
    good = [str(f) for f in files if "bad" not in f.name][:2]
    model = ["--model", str(MODEL_PATH.relative_to(ROOT))]  # relative: the workers get it absolute
    assert main(["classify", *good, "--out-dir", str(tmp_path / "serial"), *model]) == 0
    assert main(["classify", *good, "--out-dir", str(tmp_path / "dask"), "--scheduler", scheduler, *model]) == 0
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "serial")


def test_resume_skips_finished_files_and_does_the_rest(cohort, scheduler, tmp_path, capsys):
    src, files = cohort
    out = tmp_path / "out"
    args = ["detect", str(src), "--out-dir", str(out), "--scheduler", scheduler]
    assert main(args) == 1  # the folder: its recordings by name, list.txt (not a recording) and b_bad.csv fail
    first = outputs(out)
    assert sorted(first) == ["a208.peaks.csv", "c201.peaks.csv", "d208.peaks.csv"]
    (out / "a208.peaks.csv").write_text("sample\n1\n")  # "finished": must be left as it is
    (out / "c201.peaks.csv").unlink()  # not finished: must be done again
    capsys.readouterr()
    assert main([*args, "--resume"]) == 1
    again = outputs(out)
    assert again["a208.peaks.csv"] == b"sample\n1\n"
    assert again["c201.peaks.csv"] == first["c201.peaks.csv"] and again["d208.peaks.csv"] == first["d208.peaks.csv"]
    summary = pd.read_csv(out / "summary.csv").set_index("file")
    assert summary.loc[str(src / "a208.hea"), "duration_s"] == 300.0  # from the first run's summary
    assert summary.loc[str(src / "c201.hea"), "beats"] == len(pd.read_csv(out / "c201.peaks.csv"))


def test_local_cluster_workers_option_gives_the_serial_outputs(cohort, tmp_path, capsys):
    src, files = cohort
    good = [str(f) for f in files if "bad" not in f.name]
    assert main(["detect", *good, "--out-dir", str(tmp_path / "serial")]) == 0
    assert main(["detect", *good, "--out-dir", str(tmp_path / "local"), "--workers", "1"]) == 0
    assert outputs(tmp_path / "local") == outputs(tmp_path / "serial")
    assert capsys.readouterr().err == ""


def test_serial_resume_and_list_file_problems(cohort, tmp_path, capsys):
    src, files = cohort
    out = tmp_path / "out"
    out.mkdir()
    (out / "a208.peaks.csv").write_text("sample\n7\n")
    assert main(["detect", str(files[0]), str(files[2]), "--out-dir", str(out), "--resume"]) == 0
    assert (out / "a208.peaks.csv").read_text() == "sample\n7\n" and (out / "c201.peaks.csv").exists()
    assert not (out / "summary.csv").exists()  # the serial path writes what it always wrote
    capsys.readouterr()
    assert main(["detect", f"@{tmp_path / 'missing.txt'}", str(files[0]), "--out-dir", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.txt" in err[0] and "cannot be read" in err[0]
