"""Load test of the REST API: a real uvicorn on loopback, 16 concurrent clients, 30 s (or more).

    .venv/bin/python bench/load_api.py [--clients 16] [--duration 30] [--min-requests 1000]

Starts ``uvicorn api.app:app`` on 127.0.0.1 (a free port) in a subprocess, waits until ``/health``
says ready, warms up, then runs the clients (threads, one ``httpx.Client`` each), alternating a
realistic upload to ``/v1/analyze`` (``examples/208_excerpt.csv``: 60 s Kaggle-layout recording) and
to ``/predict`` (``examples/segments_208.csv``: 40 segments). It runs for ``--duration`` seconds and
on until at least ``--min-requests`` requests are done (never past ``--max-duration``), then prints
requests/s, p50/p99 latency per endpoint, errors, and the server's resident memory (VmRSS) before and
after, with the growth over the measured requests. Traffic goes to 127.0.0.1 only; the server is
stopped at the end. Exit code 1 when the bar (0 errors, memory growth < 10%) is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def rss_mib(pid: int) -> float:
    """Resident set size (VmRSS, /proc) of a process and its child processes (uvicorn workers), in MiB."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1])
    for kid in _children(pid):
        try:
            total += rss_mib(kid) * 1024
        except OSError:
            pass
    return total / 1024


def start_server(port: int, log_path: Path, workers: int = 1) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", HOST, "--port", str(port),
           "--log-level", "warning", "--no-access-log", "--workers", str(workers)]
    log = log_path.open("wb")
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(base: str, proc: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=5) as c:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with code {proc.returncode}")
            try:
                health = c.get("/health").json()
                if health["ready"]:
                    return health
                if "could not be loaded" in (health.get("detail") or ""):
                    raise RuntimeError(health["detail"])
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    raise RuntimeError(f"the server was not ready within {timeout:g} s")


JOBS = (
    ("/v1/analyze", "208_excerpt.csv",
     lambda b: b["summary"]["beats"] > 0 and len(b["beats"]) == b["summary"]["beats"]),
    ("/predict", "segments_208.csv", lambda b: len(b["output"]) == 5 and b["ecg_plot"] and b["beats"] == 40),
)


class Recorder:
    """Thread-safe record of (endpoint, seconds, ok, note) per request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows: list[tuple[str, float, bool, str]] = []

    def add(self, endpoint: str, seconds: float, ok: bool, note: str = "") -> int:
        with self.lock:
            self.rows.append((endpoint, seconds, ok, note))
            return len(self.rows)

    def __len__(self) -> int:
        with self.lock:
            return len(self.rows)


def one_request(client: httpx.Client, k: int, payloads: dict, rec: Recorder) -> None:
    endpoint, name, valid = JOBS[k % len(JOBS)]
    t0 = time.perf_counter()
    try:
        r = client.post(endpoint, files={"file": (name, payloads[name], "text/csv")})
        dt = time.perf_counter() - t0
        ok = r.status_code == 200 and valid(r.json())
        rec.add(endpoint, dt, ok, "" if ok else f"HTTP {r.status_code}: {r.text[:200]}")
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        rec.add(endpoint, time.perf_counter() - t0, False, f"{type(exc).__name__}: {exc}")


def run_clients(base: str, n_clients: int, payloads: dict, *, duration: float, min_requests: int,
                max_duration: float, rec: Recorder) -> float:
    stop_at = time.monotonic() + duration
    hard_stop = time.monotonic() + max_duration

    def keep_going() -> bool:
        now = time.monotonic()
        return now < hard_stop and (now < stop_at or len(rec) < min_requests)

    def client_loop(i: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            k = i
            while keep_going():
                one_request(client, k, payloads, rec)
                k += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max_duration + 150)
    return time.monotonic() - t0


def stats(rows) -> dict:
    lat = np.array([r[1] for r in rows]) * 1000
    return {"requests": len(rows), "errors": sum(not r[2] for r in rows),
            "p50_ms": float(np.percentile(lat, 50)) if lat.size else None,
            "p99_ms": float(np.percentile(lat, 99)) if lat.size else None,
            "max_ms": float(lat.max()) if lat.size else None}


def trajectory(samples: list[tuple[int, float]], total: int, points: int = 5) -> list[tuple[int, float]]:
    """RSS (MiB) at about every ``total / points`` requests, from the 1 s samples."""
    out = []
    for k in range(1, points + 1):
        target = total * k // points
        after = [s for s in samples if s[0] >= target]
        if after:
            out.append((after[0][0], round(after[0][1], 1)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    ap.add_argument("--min-requests", type=int, default=1000,
                    help="keep going past --duration until this many requests are done (default 1000)")
    ap.add_argument("--max-duration", type=float, default=480.0, help="hard stop of the load phase (s)")
    ap.add_argument("--warmup", type=int, default=64,
                    help="concurrent warm-up requests before the memory baseline (default 64)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    args = ap.parse_args(argv)

    payloads = {name: (EXAMPLES / name).read_bytes() for _, name, _ in JOBS}
    port = free_port()
    base = f"http://{HOST}:{port}"
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"load_api_server_{port}.log"
    proc = start_server(port, log_path, args.workers)
    try:
        t0 = time.monotonic()
        health = wait_ready(base, proc, timeout=300)
        startup_s = time.monotonic() - t0
        rss_ready = rss_mib(proc.pid)
        warm = Recorder()  # warm-up with the same concurrency, so the baseline holds steady-state buffers
        run_clients(base, args.clients, payloads, duration=0, min_requests=args.warmup, max_duration=300, rec=warm)
        rss_before = rss_mib(proc.pid)
        rec = Recorder()
        samples: list[tuple[int, float]] = []
        sampling = threading.Event()

        def sample_rss() -> None:
            while not sampling.wait(1.0):
                samples.append((len(rec), rss_mib(proc.pid)))

        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        elapsed = run_clients(base, args.clients, payloads, duration=args.duration, min_requests=args.min_requests,
                              max_duration=args.max_duration, rec=rec)
        sampling.set()
        sampler.join(5)
        rss_after = rss_mib(proc.pid)
        alive = proc.poll() is None
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    rows = rec.rows
    overall = stats(rows)
    growth = (rss_after - rss_before) / rss_before * 100
    result = {
        "host": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "model_version": health.get("model_version"), "startup_to_ready_s": round(startup_s, 1),
        "clients": args.clients, "workers": args.workers, "elapsed_s": round(elapsed, 1),
        "requests_per_s": round(len(rows) / elapsed, 2), **overall,
        "per_endpoint": {ep: stats([r for r in rows if r[0] == ep]) for ep, _, _ in JOBS},
        "warmup_errors": sum(not r[2] for r in warm.rows),
        "rss_mib": {"ready": round(rss_ready, 1), "before": round(rss_before, 1), "after": round(rss_after, 1),
                    "peak_sampled": round(max([s[1] for s in samples] + [rss_after]), 1),
                    "trajectory": trajectory(samples, len(rows))},
        "rss_growth_pct": round(growth, 2), "server_alive_at_end": alive,
        "first_errors": [r[3] for r in rows if not r[2]][:5],
    }
    print(f"API load test: {args.clients} clients, {elapsed:.1f} s, uvicorn ({args.workers} worker(s)) on {base} "
          f"({os.cpu_count()} CPUs), "
          f"model {result['model_version']}")
    print(f"  requests      {len(rows)} ({result['requests_per_s']:.1f} req/s), errors {overall['errors']}")
    for ep, s in result["per_endpoint"].items():
        print(f"  {ep:<12}  {s['requests']:>5} requests, p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, "
              f"errors {s['errors']}")
    print(f"  all           p50 {overall['p50_ms']:.0f} ms, p99 {overall['p99_ms']:.0f} ms, "
          f"max {overall['max_ms']:.0f} ms")
    r = result["rss_mib"]
    print(f"  server RSS    ready {r['ready']:.0f} MiB, after {len(warm.rows)} warm-up requests {r['before']:.0f} MiB, "
          f"after {len(rows)} requests {r['after']:.0f} MiB (growth {growth:+.1f}%), peak {r['peak_sampled']:.0f} MiB")
    print("  RSS by requests done: " + ", ".join(f"{n}: {m:.0f} MiB" for n, m in r["trajectory"]))
    for e in result["first_errors"]:
        print(f"  error: {e}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    passed = overall["errors"] == 0 and result["warmup_errors"] == 0 and growth < 10 and alive \
        and len(rows) >= args.min_requests
    print(f"  bar (0 errors, RSS growth < 10% over {len(rows)} requests): {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
