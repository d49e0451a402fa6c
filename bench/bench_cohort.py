"""Cohort scaling benchmark: the serial CLI, a LocalCluster of 1 and 2 workers, and a separately started
``dask scheduler`` + 2 ``dask worker`` processes, on the same 40 recordings; outputs compared byte for byte.

    nice -n 10 .venv/bin/python bench/bench_cohort.py [--data-dir ../shared/data/mitdb] [--files 40]
                                                      [--command classify] [--work /tmp/ecg_cohort]

The 40 recordings are the shared MIT-BIH records (30 min each), repeated: headers under new names
beside links to the records' .dat files. Every run is the real command line (``python -m ecg_core
COMMAND FOLDER --out-dir ...``) timed from start to exit, so the figures include starting the
cluster and loading the model in every worker; for the runs on the separately started cluster the
scheduler's task stream also gives the time the workers took, from the first file's start to the last
one's end (``on workers``), the cluster's throughput without the command's own start-up. Only
127.0.0.1 is used. Nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DASK = str(Path(PYTHON).with_name("dask"))


def make_cohort(data_dir: Path, n: int, work: Path) -> Path:
    """``n`` recordings named ``rNN_<record>.hea`` (the records in turn), their .dat linked."""
    records = sorted(p.stem for p in data_dir.glob("*.hea"))
    if not records:
        sys.exit(f"no WFDB records in {data_dir}")
    src = work / "in"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for k in range(n):
        record = records[k % len(records)]
        (src / f"r{k:02d}_{record}.hea").write_text((data_dir / f"{record}.hea").read_text())
        dat = src / f"{record}.dat"
        if not dat.exists():
            dat.symlink_to((data_dir / f"{record}.dat").resolve())
    return src


def run_cli(command: str, src: Path, out: Path, *extra: str) -> float:
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    subprocess.run([PYTHON, "-m", "ecg_core", command, str(src), "--out-dir", str(out), *extra], cwd=ROOT, check=True)
    return time.perf_counter() - t


def run_side_by_side(command: str, src: Path, work: Path) -> float:
    """Two serial CLIs at once, each on every other recording (an ``@list`` file each); the time until both end."""
    headers = sorted(src.glob("*.hea"))
    procs = []
    t = time.perf_counter()
    for k in range(2):
        listed, out = work / f"half{k}.txt", work / f"half{k}_out"
        listed.write_text("".join(f"{h}\n" for h in headers[k::2]))
        shutil.rmtree(out, ignore_errors=True)
        procs.append(subprocess.Popen([PYTHON, "-m", "ecg_core", command, f"@{listed}", "--out-dir", str(out)],
                                      cwd=ROOT))
    if any(p.wait() for p in procs):
        sys.exit("a side-by-side serial CLI failed")
    return time.perf_counter() - t


LOOP = """
import sys, time
from pathlib import Path
from ecg_core.batch import Options, run_one
options, start, paths = Options(sys.argv[1]), float(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
run_one(paths[0], options)  # the model loaded and warm, as in a warm worker
while time.time() < start:
    time.sleep(0.01)
t = time.perf_counter()
for path in paths:
    assert run_one(path, options)[1] is None
print(time.perf_counter() - t)
"""


def run_loops(command: str, src: Path, n_processes: int) -> float:
    """The workers' own code (``batch.run_one``, one thread as a dask nanny sets it, model loaded) in a plain loop:
    one process on all recordings, or ``n_processes`` at once on a share each. The slowest one's time."""
    headers = sorted(src.glob("*.hea"))
    start = time.time() + 25  # every process has loaded and warmed the model by then
    one_thread = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    procs = [subprocess.Popen([PYTHON, "-c", LOOP, command, str(start), *map(str, headers[k::n_processes])],
                              cwd=ROOT, env=one_thread, stdout=subprocess.PIPE, text=True) for k in range(n_processes)]
    times = [float(p.communicate()[0].split()[-1]) for p in procs]
    return max(times)


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv")) if p.name != "summary.csv"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(n_workers: int):
    """``dask scheduler`` and ``n_workers`` ``dask worker`` processes on 127.0.0.1 (without the statistical
    profiler, as the README starts them); returns (address, processes)."""
    from dask.distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": ROOT}
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                               "--no-dashboard"], **quiet)]
    for _ in range(n_workers):
        procs.append(subprocess.Popen([DASK, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                       "--no-dashboard"], **quiet))
    with Client(address, timeout="60s") as client:
        client.wait_for_workers(n_workers, timeout=120)
    return address, procs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "mitdb")
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--command", choices=("classify", "detect"), default="classify")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ecg_cohort"))
    args = parser.parse_args(argv)
    src = make_cohort(args.data_dir, args.files, args.work)
    print(f"{args.files} recordings ({args.command}) in {src}; load before: {os.getloadavg()}", flush=True)

    results, same, spans, per_file = {}, {}, {}, {}
    results["serial CLI"] = run_cli(args.command, src, args.work / "serial")
    reference = outputs(args.work / "serial")
    assert len(reference) == args.files * (2 if args.command == "classify" else 1), f"{len(reference)} outputs"
    # the serial CLI already uses both cores in part: two of them side by side gain little
    results["2 serial CLIs side by side"] = run_side_by_side(args.command, src, args.work)
    same["2 serial CLIs side by side"] = {**outputs(args.work / "half0_out"),
                                          **outputs(args.work / "half1_out")} == reference

    def record(name: str, out: str, *extra: str, address: str | None = None) -> None:
        if address is None:
            results[name] = run_cli(args.command, src, args.work / out, *extra)
        else:  # the scheduler's task stream: from the first file's start to the last one's end on the workers
            from dask.distributed import Client, get_task_stream

            with Client(address, timeout="60s") as client, get_task_stream(client) as stream:
                results[name] = run_cli(args.command, src, args.work / out, *extra)
            by_worker: dict[str, list] = {}
            for task in stream.data:
                for s in task["startstops"]:
                    if s["action"] == "compute":
                        by_worker.setdefault(task["worker"], []).append((s["start"], s["stop"]))
            computes = [c for runs in by_worker.values() for c in runs]
            spans[name] = max(c[1] for c in computes) - min(c[0] for c in computes)
            gaps = [b[0] - a[1] for runs in map(sorted, by_worker.values()) for a, b in itertools.pairwise(runs)]
            per_file[name] = (statistics.median(c[1] - c[0] for c in computes), statistics.fmean(gaps or [0.0]))
        same[name] = outputs(args.work / out) == reference

    loops = {n: run_loops(args.command, src, n) for n in (1, 2)}  # what 2 cores give this work, without dask
    for n in (1, 2):  # what a user types: the cluster starts, and every worker loads the model, inside the wall time
        record(f"--workers {n} (cold)", f"w{n}", "--workers", str(n))
    for n in (1, 2):  # a separately started scheduler + n `dask worker`: a first run, then one with the model loaded
        address, procs = start_cluster(n)
        try:
            record(f"--scheduler, {n} dask worker (first)", f"s{n}a", "--scheduler", address, address=address)
            record(f"--scheduler, {n} dask worker (warm)", f"s{n}b", "--scheduler", address, address=address)
        finally:
            for p in reversed(procs):
                p.terminate()
            for p in procs:
                p.wait(timeout=60)
    print(f"load after: {os.getloadavg()}")
    print(f"{'run':38s} {'wall s':>8s} {'files/min':>10s} {'on workers s':>13s} {'files/min':>10s}  "
          "same bytes as serial")
    for name, wall in results.items():
        span = f"{spans[name]:13.1f} {60 * args.files / spans[name]:10.1f}" if name in spans else " " * 24
        print(f"{name:38s} {wall:8.1f} {60 * args.files / wall:10.1f} {span}  {same.get(name, '(reference)')}")
    print(f"serial CLI / 2 serial CLIs side by side (the serial CLI already uses both cores in part): "
          f"{results['serial CLI'] / results['2 serial CLIs side by side']:.2f}x")
    print(f"ceiling without dask, the workers' code in a plain loop, warm: 1 process {loops[1]:.1f} s, "
          f"2 processes {loops[2]:.1f} s: {loops[1] / loops[2]:.2f}x; per file {loops[1] / args.files:.3f} s "
          f"and {2 * loops[2] / args.files:.3f} s")
    for name, (median, gap) in per_file.items():
        print(f"{name}: a file takes {median:.3f} s on a worker (median), {1000 * gap:.0f} ms between a worker's files")
    for kind in ("--workers {} (cold)", "--scheduler, {} dask worker (first)", "--scheduler, {} dask worker (warm)"):
        one, two = kind.format(1), kind.format(2)
        print(f"2 workers / 1 worker throughput, {kind.format('N')}: wall {results[one] / results[two]:.2f}x"
              + (f", on the workers {spans[one] / spans[two]:.2f}x" if one in spans else ""))
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
