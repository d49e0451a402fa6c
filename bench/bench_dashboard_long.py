"""Time the dashboard on a long recording in a real browser (Playwright + Debian Chromium, headless).

    python bench/bench_dashboard_long.py [--hours 24] [--record ../shared/data/mitdb/208]

Builds a single-lead WFDB record of ``--hours`` hours by repeating the record's MLII lead (the
bundled 5-min example when the shared data are absent), starts ``streamlit run``, uploads the
pair through the page's file input, and prints seconds from choosing the files until the summary
is on screen, until the page is idle (every chart drawn), and for opening the *Classes and
rhythm* tab. Also times the server-side steps (read, detect, classify) in-process.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from ecg_core.config import EXAMPLE_RECORD  # noqa: E402

DEFAULT_RECORD = ROOT.parent / "shared" / "data" / "mitdb" / "208"


def make_record(source: Path, hours: float, out_dir: Path) -> Path:
    """A ``hours``-long single-lead (MLII) WFDB record (format 16) repeating ``source``; returns its .hea path."""
    import wfdb

    rec = wfdb.rdrecord(str(source.with_suffix("")), channel_names=["MLII"])
    x = rec.p_signal[:, 0]
    n = int(np.ceil(hours * 3600 * rec.fs / x.size))
    wfdb.wrsamp("long", fs=rec.fs, units=["mV"], sig_name=["MLII"], p_signal=np.tile(x, n)[:, None], fmt=["16"],
                adc_gain=[200.0], baseline=[0], write_dir=str(out_dir))
    return out_dir / "long.hea"


def server_steps(hea: Path) -> dict:
    """Seconds for read, detect and classify (model loaded first) in this process."""
    from ecg_core import io, model, pipeline
    from ecg_core.peaks import detect_r_peaks

    clf = model.load_for_serving()
    t0 = time.perf_counter()
    rec = io.load(hea)
    t1 = time.perf_counter()
    peaks = detect_r_peaks(rec.signal, rec.sampling_rate)
    t2 = time.perf_counter()
    pipeline.analyze(rec.signal, rec.sampling_rate, peaks=peaks, classifier=clf)
    t3 = time.perf_counter()
    return {"beats": len(peaks), "read": t1 - t0, "detect": t2 - t1, "classify": t3 - t2}


def browser(hea: Path) -> dict:
    from screenshots import browser_idle, chromium_page, streamlit_server, wait_idle

    with streamlit_server() as url, chromium_page(width=1400, height=1000) as page:
        page.goto(url)
        wait_idle(page)
        browser_idle(page)
        t0 = time.time()
        files = [str(hea), str(hea.with_suffix(".dat"))]
        page.locator(".st-key-analyse_upload input[type=file]").set_input_files(files)
        page.wait_for_function("() => document.body.innerText.includes('uploaded file')", timeout=900_000)
        summary = time.time() - t0
        wait_idle(page, timeout=900, settle=1.0)
        idle = time.time() - t0 - 1.0
        t1 = time.time()
        page.get_by_role("tab", name="Classes and rhythm").click()
        page.wait_for_selector(".st-key-tachogram .js-plotly-plot", timeout=900_000)
        wait_idle(page, timeout=900, settle=1.0)
        return {"summary": summary, "idle": idle, "tab": time.time() - t1 - 1.0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--record", type=Path, default=DEFAULT_RECORD if DEFAULT_RECORD.with_suffix(".hea").exists()
                    else EXAMPLE_RECORD)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        hea = make_record(args.record, args.hours, Path(tmp))
        size = hea.with_suffix(".dat").stat().st_size / 1e6
        s = server_steps(hea)
        print(f"{args.hours:g} h from {args.record.name} ({size:.0f} MB, {s['beats']} beats): read {s['read']:.1f} s, "
              f"detect {s['detect']:.1f} s, classify {s['classify']:.1f} s (in-process, model loaded)")
        b = browser(hea)
        print(f"dashboard: files chosen -> summary on screen {b['summary']:.1f} s (upload included), "
              f"every chart drawn {b['idle']:.1f} s; 'Classes and rhythm' tab {b['tab']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
