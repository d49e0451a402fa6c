"""Benchmark the beat classifier: model load time, in-process beats/s, and a 30-min record end to end.

    python bench/bench_classify.py [--record ../shared/data/mitdb/208] [--repeats 5] [--update-card]

End to end = read the WFDB record (MLII), detect R-peaks, cut beats, classify (model already
loaded). Uses MIT-BIH 208 from the shared data when present, else the bundled 5-min example
repeated to 30 min. ``--update-card`` stores the figures in models/model_card.json and re-renders
models/MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ecg_core.config import EXAMPLE_RECORD, MODEL_CARD_JSON, ROOT  # noqa: E402

DEFAULT_RECORD = ROOT.parent / "shared" / "data" / "mitdb" / "208"


def _read(base: str, repeat: int = 1):
    import wfdb

    rec = wfdb.rdrecord(base)
    x = rec.p_signal[:, rec.sig_name.index("MLII")]
    return np.tile(x, repeat), float(rec.fs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", default=str(DEFAULT_RECORD), help="WFDB record base path (default %(default)s)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repetitions; the best is reported")
    ap.add_argument("--update-card", action="store_true", help="write the figures into the model card")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    import keras  # noqa: F401  (TensorFlow/Keras import, timed apart from the model file)

    import_s = time.perf_counter() - t0
    from ecg_core.model import load_classifier

    clf = load_classifier()
    load_s = time.perf_counter() - t0  # includes importing TensorFlow

    from ecg_core.beats import segment_beats
    from ecg_core.peaks import detect_r_peaks

    if Path(args.record + ".hea").exists():
        source, repeat = args.record, 1
    else:
        source, repeat = str(EXAMPLE_RECORD.with_suffix("")), 6
    x, fs = _read(source, repeat)
    peaks = detect_r_peaks(x, fs)
    beats = segment_beats(x, fs, peaks)
    clf.predict(beats)  # warm-up (traces the compiled call)
    clf.predict_segments(beats.windows)

    def best(fn):
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    t_predict = best(lambda: clf.predict(beats))
    t_segments = best(lambda: clf.predict_segments(beats.windows))
    t_network = best(lambda: clf.logits(*_inputs(beats)))
    bulk = np.tile(beats.windows, (10, 1))  # ~30,000 segments in one call
    clf.predict_segments(bulk)
    t_bulk = best(lambda: clf.predict_segments(bulk))

    def end_to_end():
        y, f = _read(source, repeat)
        p = detect_r_peaks(y, f)
        return clf.predict(segment_beats(y, f, p))

    t_e2e = best(end_to_end)
    n = len(beats)
    res = {
        "record": f"{Path(source).name} x{repeat}" if repeat > 1 else Path(source).name,
        "duration_s": round(x.size / fs, 1), "beats": n,
        "model_load_s": round(load_s, 3), "tensorflow_import_s": round(import_s, 3),
        "beats_per_s_predict": round(n / t_predict), "beats_per_s_segments": round(n / t_segments),
        "beats_per_s_network_only": round(n / t_network),
        "beats_per_s_segments_bulk": round(len(bulk) / t_bulk), "bulk_beats": len(bulk),
        "end_to_end_s": round(t_e2e, 3),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "command": "python bench/bench_classify.py" + (" " + " ".join(argv or sys.argv[1:])).rstrip(),
    }
    print(json.dumps(res, indent=1))
    print(f"load {load_s:.2f} s (TensorFlow import {import_s:.2f} s) | "
          f"predict {n / t_predict:,.0f} beats/s (rhythm path, inputs included) | "
          f"segments {n / t_segments:,.0f} beats/s | network alone {n / t_network:,.0f} beats/s | "
          f"{len(bulk):,} segments in one call {len(bulk) / t_bulk:,.0f} beats/s | "
          f"end to end ({res['record']}, {res['duration_s'] / 60:.0f} min, {n} beats) {t_e2e:.2f} s")
    if args.update_card:
        from ecg_core.train import write_model_card_md

        card = json.loads(MODEL_CARD_JSON.read_text())
        card["speed"] = res
        MODEL_CARD_JSON.write_text(json.dumps(card, indent=1) + "\n")
        write_model_card_md(card)
    return 0


def _inputs(beats):
    from ecg_core.model import recording_inputs

    return recording_inputs(beats.windows, beats.rr)


if __name__ == "__main__":
    raise SystemExit(main())
