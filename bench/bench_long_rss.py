"""Peak memory of a 24-hour recording through the command line, the REST API and the dashboard.

    nice -n 10 .venv/bin/python bench/bench_long_rss.py [--work /tmp/h24] [--repeats 3] [--skip-api] [--skip-dashboard]

Builds (once) the 24-hour single-lead recording of the README: 48 MIT-BIH half-hours end to end (12
shared records in turn, MLII), 31.2 M samples at 360 Hz, as a WFDB record (``h24.hea`` + ``h24.dat``,
format 212) and as a one-column CSV (``h24.csv``, mV). Then:

* ``python -m ecg_core classify`` on each, under ``/usr/bin/time -v``: peak RSS (``Maximum resident set
  size``) and wall time, ``--repeats`` times (the median is printed), outputs checked to be the same
  every time;
* the REST API (``uvicorn api.app:app`` on 127.0.0.1) given ``h24.hea`` + ``h24.dat`` on ``/v1/analyze``:
  the server process's peak RSS (``VmHWM`` in ``/proc/PID/status``) before and after the request;
* the dashboard (``streamlit run``, Debian's Chromium through Playwright) given the same pair through its
  upload (``bench/bench_dashboard_long.py``'s browser run, the *Classes and rhythm* tab opened too): the
  Streamlit process's ``VmHWM``, read every 0.5 s while it runs.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

MITDB = ROOT.parent / "shared" / "data" / "mitdb"
RECORDS = ("101", "106", "112", "115", "116", "118", "119", "122", "124", "201", "205", "208")


def make_h24(work: Path) -> tuple[Path, Path]:
    """``work/h24.hea`` (+ ``.dat``) and ``work/h24.csv``: 48 half-hours of ``RECORDS`` in turn (built once)."""
    import wfdb

    hea, csv = work / "h24.hea", work / "h24.csv"
    if hea.exists() and csv.exists():
        return hea, csv
    work.mkdir(parents=True, exist_ok=True)
    parts = [wfdb.rdrecord(str(MITDB / RECORDS[k % len(RECORDS)]), channel_names=["MLII"],
                           physical=False).d_signal[:, 0] for k in range(48)]
    d = np.concatenate(parts)
    wfdb.wrsamp("h24", fs=360, units=["mV"], sig_name=["MLII"], d_signal=d[:, None].astype(np.int64), fmt=["212"],
                adc_gain=[200.0], baseline=[1024], write_dir=str(work))
    with open(csv, "w") as f:
        f.write("ECG\n")
        np.savetxt(f, (d - 1024) / 200.0, fmt="%.3f")
    return hea, csv


def time_cli(path: Path, out: Path) -> tuple[float, float, bytes]:
    """Wall seconds and peak RSS (GB) of ``classify`` on ``path`` under ``/usr/bin/time -v``, and its outputs."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "ecg_core", "classify", str(path), "--out-dir", str(out)]
    err = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stderr
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", err)
    seconds = 3600 * int(wall.group(1) or 0) + 60 * int(wall.group(2)) + float(wall.group(3))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1e6
    return seconds, rss, b"".join(p.read_bytes() for p in sorted(out.glob("*.csv")))


def vm_hwm(pid: int) -> float:
    """Peak RSS (GB) of process ``pid`` so far (``VmHWM``)."""
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) / 1e6


def server_pid(name: str) -> int:
    """The pid of this process's child server (``uvicorn`` or ``streamlit``)."""
    import psutil

    return next(p.pid for p in psutil.Process().children(recursive=True) if name in " ".join(p.cmdline()))


def api(hea: Path) -> tuple[float, float, float, int]:
    """The API's peak RSS (GB) before and after analysing ``hea``, the request's seconds, and its status."""
    import httpx
    from screenshots import api_server

    with api_server() as url:
        pid = server_pid("uvicorn")
        before = vm_hwm(pid)
        t = time.perf_counter()
        files = [("file", (p.name, p.read_bytes())) for p in (hea, hea.with_suffix(".dat"))]
        r = httpx.post(f"{url}/v1/analyze", files=files, timeout=900)
        return before, vm_hwm(pid), time.perf_counter() - t, r.status_code


def dashboard(hea: Path) -> tuple[float, dict]:
    """The dashboard server's peak RSS (GB) while it analyses ``hea`` in the browser, and the browser timings."""
    import threading

    import bench_dashboard_long

    peak = {"rss": 0.0}
    done = threading.Event()

    def watch():  # the Streamlit process's VmHWM, read until the browser run ends (the server stops after it)
        while not done.is_set():
            try:
                peak["rss"] = max(peak["rss"], vm_hwm(server_pid("streamlit")))
            except (StopIteration, FileNotFoundError, ProcessLookupError):
                pass
            time.sleep(0.5)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        timings = bench_dashboard_long.browser(hea)
    finally:
        done.set()
        thread.join()
    return peak["rss"], timings


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/h24"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-api", action="store_true")
    ap.add_argument("--skip-dashboard", action="store_true")
    args = ap.parse_args(argv)
    hea, csv = make_h24(args.work)
    print(f"24-hour recording: {hea} + .dat, {csv}", flush=True)
    for path in (csv, hea):
        runs = [time_cli(path, args.work / f"out_{path.suffix[1:]}_{k}") for k in range(args.repeats)]
        assert len({r[2] for r in runs}) == 1, "outputs differ between runs"
        walls, peaks = [r[0] for r in runs], [r[1] for r in runs]
        print(f"classify {path.name}: wall {statistics.median(walls):.1f} s (runs "
              f"{', '.join(f'{w:.1f}' for w in walls)}), peak RSS {statistics.median(peaks):.3f} GB (runs "
              f"{', '.join(f'{p:.3f}' for p in peaks)})", flush=True)
    if not args.skip_api:
        before, after, seconds, status = api(hea)
        print(f"API /v1/analyze {hea.name}+.dat: HTTP {status} in {seconds:.1f} s; server peak RSS {before:.3f} GB "
              f"before, {after:.3f} GB after", flush=True)
    if not args.skip_dashboard:
        rss, t = dashboard(hea)
        print(f"dashboard upload {hea.name}+.dat: every chart drawn {t['idle']:.1f} s, 'Classes and rhythm' tab "
              f"{t['tab']:.1f} s; Streamlit server peak RSS {rss:.3f} GB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
