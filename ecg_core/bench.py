"""Benchmarks, run as scripts (never as timed unit tests).

``python -m ecg_core.bench detect --data-dir ../shared/data/mitdb [--out-dir DIR] [--repeats 5]``

Runs our R-peak detector (:func:`ecg_core.peaks.detect_r_peaks`), NeuroKit2
(``nk.ecg_clean`` + ``nk.ecg_peaks``, default method) and wfdb's XQRS
(``wfdb.processing.xqrs_detect``) on every WFDB record with reference annotations in the
folder (lead ``MLII`` where the header names it, else the first signal), scores each against the
reference beats (AAMI beat symbols; detections inside ventricular flutter episodes ``[`` ... ``]``
left out; 150 ms matching, pooled over records) with :mod:`ecg_core.evaluate`, and prints:

- per method: sensitivity, positive predictivity, FN, FP, median and 95th percentile of the
  |offset| between matched detections and reference beats (ms), mean time per record (s,
  in-process wall time; for our detector and NeuroKit2 the median of ``--repeats`` runs per
  record, as other jobs may share the CPU), the same in CPU time of the process, and the speed
  ratio against NeuroKit2;
- per record, our detector's FN and FP, flagged (``!``) where errors exceed 0.5 % of the beats.

``python -m ecg_core.bench noise --data-dir ../shared/data/mitdb --noise-dir ../shared/data/noise [--write-dir DIR]``
runs the EC57 noise stress test (:func:`bench_noise`); ``python -m ecg_core.bench quality --records-dir DIR``
compares our signal quality with NeuroKit2's on those records (:func:`bench_quality`).

``--out-dir`` writes ``<rec>.peaks.csv`` (one column ``sample``) for our detector, which
``score.py detect`` can score independently.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .evaluate import DetectionScore, match_beats, outside_episodes, score_detection
from .io import Recording, load, load_annotations
from .peaks import detect_r_peaks

#: Per-record error rate above which the per-record table flags a record.
FLAG_ERROR_RATE = 0.005


@dataclass(frozen=True)
class Record:
    """One annotated recording: the chosen lead, its rate, reference beats, flutter episodes and a second lead.

    ``second``: :meth:`ecg_core.io.Recording.second_lead` (None for one lead), which our detector
    votes with in noise as the command line does; the peers detect on one lead.
    """

    name: str
    signal: np.ndarray
    fs: float
    lead: str
    reference: np.ndarray
    episodes: tuple
    second: np.ndarray | None = None


def load_record(hea: Path) -> Record:
    """Read a WFDB record (:func:`ecg_core.io.load`, its default lead) and its ``.atr`` reference."""
    return _record(load(hea), hea)


def _record(rec: Recording, hea: Path) -> Record:
    """The :class:`Record` of a loaded recording, with the reference beside its ``.hea``."""
    ann = load_annotations(hea.with_suffix(".atr"))
    return Record(hea.stem, np.array(rec.signal, dtype=np.float64), float(rec.sampling_rate), rec.lead,
                  ann.sample.astype(np.int64), ann.episodes, rec.second_lead())


def _ours(x, fs, second=None):
    return detect_r_peaks(x, fs, second_lead=second)


def _neurokit(x, fs, second=None):
    import neurokit2 as nk

    cleaned = nk.ecg_clean(x, sampling_rate=int(round(fs)))
    _, info = nk.ecg_peaks(cleaned, sampling_rate=int(round(fs)))
    return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)


def _pan_tompkins(x, fs, second=None):
    import neurokit2 as nk

    cleaned = nk.ecg_clean(x, sampling_rate=int(round(fs)), method="pantompkins1985")
    _, info = nk.ecg_peaks(cleaned, sampling_rate=int(round(fs)), method="pantompkins1985")
    return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)


def _xqrs(x, fs, second=None):
    from wfdb import processing

    return np.asarray(processing.xqrs_detect(x, fs=fs, verbose=False), dtype=np.int64)


#: name -> (detector ``(lead, rate, second lead)``: the peers use one lead, timing repeats are used)
METHODS = {
    "ours": (_ours, True),
    "neurokit2": (_neurokit, True),
    "xqrs": (_xqrs, False),
    "pantompkins": (_pan_tompkins, True),
}


def _timed(fn, x, fs, second, repeats: int):
    """Run ``fn`` ``repeats`` times: output, median wall time, median CPU time of this process."""
    wall, cpu = [], []
    out = None
    for _ in range(max(1, repeats)):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn(x, fs, second)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return out, float(np.median(wall)), float(np.median(cpu))


def _offsets_ms(rec: Record, peaks: np.ndarray) -> np.ndarray:
    det = peaks[outside_episodes(peaks, rec.episodes)]
    pairs = match_beats(rec.reference, det, rec.fs)
    return np.abs(det[pairs[:, 1]] - rec.reference[pairs[:, 0]]) * 1000.0 / rec.fs


def bench_detect(data_dir, *, out_dir=None, repeats: int = 5, methods=tuple(METHODS), stream=sys.stdout):
    """Run and score every method on every annotated record; print the tables; return the figures."""
    heas = sorted(h for h in Path(data_dir).glob("*.hea") if h.with_suffix(".atr").exists())
    if not heas:
        raise SystemExit(f"No WFDB records with .atr annotations in {data_dir}")
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    totals = {m: DetectionScore(0, 0, 0) for m in methods}
    times = {m: [] for m in methods}
    cpu = {m: [] for m in methods}
    offsets = {m: [] for m in methods}
    per_record = []
    for hea in heas:
        rec = load_record(hea)
        row = {"record": rec.name, "lead": rec.lead, "beats": int(rec.reference.size)}
        for m in methods:
            fn, repeat = METHODS[m]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                peaks, t_med, t_cpu = _timed(fn, rec.signal, rec.fs, rec.second, repeats if repeat else 1)
            score = score_detection(rec.reference, peaks, rec.fs, episodes=rec.episodes)
            totals[m] = totals[m] + score
            times[m].append(t_med)
            cpu[m].append(t_cpu)
            offsets[m].append(_offsets_ms(rec, peaks))
            row[m] = score
            if m == "ours" and out_dir is not None:
                np.savetxt(Path(out_dir) / f"{rec.name}.peaks.csv", peaks, fmt="%d", header="sample", comments="")
        per_record.append(row)
        print(f"  {rec.name} ({rec.lead}) done", file=sys.stderr)
    ref_time = float(np.mean(times["neurokit2"])) if "neurokit2" in times else float("nan")
    summary = {}
    print(f"\nR-peak detection on {len(heas)} records of {data_dir}: 150 ms matching, pooled, "
          "ventricular flutter episodes excluded", file=stream)
    print(f"(s/record: wall time, mean over records of the per-record median of {repeats} in-process runs for "
          f"ours and neurokit2, one run for xqrs; CPU s: the same for this process's CPU time, less sensitive to "
          f"other jobs; vs NK2: NeuroKit2's s/record over the method's; os.cpu_count()={os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f} at the end: other jobs may share the CPU)\n", file=stream)
    header = (f"{'method':<10} {'Se %':>7} {'+P %':>7} {'FN':>5} {'FP':>5} {'|off| med ms':>12} {'p95 ms':>7} "
              f"{'s/record':>9} {'CPU s':>7} {'vs NK2':>7}")
    print(header, file=stream)
    print("-" * len(header), file=stream)
    for m in methods:
        s = totals[m]
        off = np.concatenate(offsets[m]) if offsets[m] else np.zeros(0)
        t = float(np.mean(times[m]))
        summary[m] = {"se": s.sensitivity, "ppv": s.ppv, "fn": s.fn, "fp": s.fp, "tp": s.tp,
                      "offset_median_ms": float(np.median(off)) if off.size else float("nan"),
                      "offset_p95_ms": float(np.percentile(off, 95)) if off.size else float("nan"),
                      "seconds_per_record": t, "cpu_seconds_per_record": float(np.mean(cpu[m])),
                      "speedup_vs_neurokit2": ref_time / t if t > 0 else float("nan")}
        r = summary[m]
        print(f"{m:<10} {100 * r['se']:>7.3f} {100 * r['ppv']:>7.3f} {s.fn:>5d} {s.fp:>5d} "
              f"{r['offset_median_ms']:>12.1f} {r['offset_p95_ms']:>7.1f} {t:>9.4f} "
              f"{r['cpu_seconds_per_record']:>7.4f} {r['speedup_vs_neurokit2']:>6.2f}x", file=stream)
    if "ours" in methods:
        print("\nOur detector per record (! = FN+FP above "
              f"{100 * FLAG_ERROR_RATE:g}% of the record's beats):", file=stream)
        cells = []
        for row in per_record:
            s = row["ours"]
            flag = "!" if s.fn + s.fp > FLAG_ERROR_RATE * max(row["beats"], 1) else " "
            cells.append(f"{row['record']:>4} {s.fn:>3d}/{s.fp:<3d}{flag}")
        print("record FN/FP", file=stream)
        for k in range(0, len(cells), 6):
            print("   ".join(cells[k:k + 6]), file=stream)
    return {"methods": summary, "records": [{"record": r["record"], "lead": r["lead"], "beats": r["beats"],
                                             **{m: {"fn": r[m].fn, "fp": r[m].fp} for m in methods}}
                                            for r in per_record]}



# ---------------------------------------------------------------------------------------------
# Noise stress test (EC57 / nst(1) protocol) on records built from the shared clean records
# ---------------------------------------------------------------------------------------------

#: nst's standard protocol: a noise-free learning period, then noise on and off in equal blocks (s).
NST_LEARNING_S = 300.0
NST_BLOCK_S = 120.0
#: Half-width (s) of the window in which a reference beat's peak-to-peak QRS amplitude is measured.
NST_QRS_HALF_S = 0.05
#: Noise records the shared data holds, and a mixture of both (the default kinds).
NOISE_KINDS = ("ma", "bw", "ma+bw")
#: ... and ``ma-lp``: ``ma`` band-limited to ``LOWPASS_BAND``, a stand-in for electrode-motion noise (not in the
#: shared data), which looks like the ECG in 0.5-15 Hz and has almost nothing in 22-40 Hz.
EXTRA_NOISE_KINDS = ("ma-lp",)
LOWPASS_BAND = (0.5, 15.0)


def noise_bursts(n_samples: int, fs: float) -> list[tuple[int, int]]:
    """``(start, end)`` sample spans of the noisy blocks of nst's standard protocol."""
    spans, start = [], int(NST_LEARNING_S * fs)
    block = int(NST_BLOCK_S * fs)
    while start < n_samples:
        spans.append((start, min(start + block, n_samples)))
        start += 2 * block
    return spans


def _trimmed_mean(values: np.ndarray, trim: float = 0.05) -> float:
    v = np.sort(np.asarray(values, dtype=np.float64))
    k = int(trim * v.size)
    return float(v[k: v.size - k].mean()) if v.size > 2 * k else float(v.mean())


def signal_power(clean: np.ndarray, fs: float, beats: np.ndarray) -> float:
    """nst's signal power: (mean peak-to-peak QRS amplitude)^2 / 8, largest and smallest 5 % left out."""
    half = max(1, int(round(NST_QRS_HALF_S * fs)))
    beats = beats[(beats >= half) & (beats < clean.size - half)]
    idx = beats[:, None] + np.arange(-half, half + 1)[None, :]
    pp = np.ptp(clean[idx], axis=1)
    return _trimmed_mean(pp) ** 2 / 8.0


def noise_power(noise: np.ndarray, fs: float) -> float:
    """nst's noise power: mean square of the noise's RMS in 1-s windows (mean removed), 5 % trimmed."""
    w = int(round(fs))
    chunks = noise[: noise.size // w * w].reshape(-1, w)
    rms = np.sqrt(np.mean((chunks - chunks.mean(axis=1, keepdims=True)) ** 2, axis=1))
    return _trimmed_mean(rms) ** 2


def add_noise(clean: np.ndarray, noise: np.ndarray, fs: float, beats: np.ndarray, snr_db: float,
              spans=None) -> np.ndarray:
    """Add ``noise`` scaled to ``snr_db`` in the noisy blocks of nst's protocol.

    As nst does, an offset cancels the step at the start and the end of every block (it stays on
    the clean stretch after it until the next block). ``spans``: other ``(start, end)`` sample blocks.
    """
    if noise.size < clean.size:
        noise = np.resize(noise, clean.size)  # nst rewinds the noise record
    noise = noise[: clean.size] - np.mean(noise[: clean.size])
    gain = np.sqrt(signal_power(clean, fs, beats) / (noise_power(noise, fs) * 10.0 ** (snr_db / 10.0)))
    out = clean.copy()
    offset, last = 0.0, 0
    for a, b in noise_bursts(clean.size, fs) if spans is None else spans:
        out[last:a] += offset
        seg = gain * (noise[a:b] - noise[a]) + offset  # nst: offsets cancel the step at every gain change
        out[a:b] += seg
        offset, last = float(seg[-1]), b
    out[last:] += offset
    return out


def load_noise(noise_dir: Path, kind: str) -> tuple[np.ndarray, float]:
    """The two channels of a noise record (``ma``, ``bw``, ``ma+bw``: their sum at equal power; ``ma-lp``)."""
    import wfdb

    from .filters import bandpass

    parts = []
    for name in kind.split("+"):
        rec = wfdb.rdrecord(str(Path(noise_dir) / name.removesuffix("-lp")))
        x = rec.p_signal.astype(np.float64)
        if name.endswith("-lp"):
            x = np.column_stack([bandpass(x[:, c], rec.fs, lowcut=LOWPASS_BAND[0], highcut=LOWPASS_BAND[1])
                                 for c in range(x.shape[1])])
        parts.append((x - x.mean(axis=0)) / x.std(axis=0))
    return sum(parts), float(rec.fs)


def bench_noise(data_dir, noise_dir, *, records=("118", "119"), kinds=NOISE_KINDS, snrs=(24, 18, 12, 6, 0),
                methods=tuple(METHODS), write_dir=None, stream=sys.stdout):
    """Run every method on the clean records with noise added at every SNR; print one table per noise kind.

    Each lead ``i`` of a record gets channel ``i`` of the noise record, scaled to the SNR in that lead
    (as nst pairs and scales them; the lead that is scored is the record's default one, and our
    detector votes with the other noisy lead as the command line does). Beats are scored over the whole record after the
    learning period (EC57 scores the noisy records from minute 5), so every reference beat inside
    the bursts counts. ``write_dir``
    keeps the noisy records as WFDB (two leads where the record has two) with the reference beats,
    for ``python -m ecg_core detect|classify`` and ``score.py``.
    """
    rows = []
    heas = {name: Path(data_dir) / f"{name}.hea" for name in records}
    loaded = {name: load(hea) for name, hea in heas.items()}  # each record read once, all its leads
    for kind in kinds:
        noise, noise_fs = load_noise(Path(noise_dir), kind)
        for name, hea in heas.items():
            full = loaded[name]
            rec = _record(full, hea)
            if abs(noise_fs - rec.fs) > 0.1 * rec.fs:
                raise SystemExit(f"noise at {noise_fs} Hz, record {name} at {rec.fs} Hz: resample first")
            learn = int(NST_LEARNING_S * rec.fs)
            ref = rec.reference[rec.reference >= learn]
            for snr in snrs:
                leads = np.array(full.signals, dtype=np.float64)
                for c in range(leads.shape[1]):
                    leads[:, c] = add_noise(leads[:, c], noise[:, c % noise.shape[1]], rec.fs, rec.reference, snr)
                x = leads[:, full.lead_names.index(rec.lead)]
                second = replace(full, signals=leads).second_lead()
                tag = f"{name}_{kind.replace('+', '').replace('-', '')}_{snr:+d}".replace("+", "p").replace("-", "m")
                if write_dir is not None:
                    _write_noisy(Path(write_dir), tag, full, leads, hea)
                row = {"kind": kind, "record": name, "snr": snr}
                for m in methods:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        t0 = time.perf_counter()
                        peaks = METHODS[m][0](x, rec.fs, second)
                        row[f"{m}_s"] = time.perf_counter() - t0
                    row[m] = score_detection(ref, peaks[peaks >= learn], rec.fs, episodes=rec.episodes)
                rows.append(row)
                print(f"  {kind} {name} {snr:+d} dB done", file=sys.stderr)
    for kind in kinds:
        print(f"\nNoise stress test, noise {kind} (nst protocol: {NST_LEARNING_S / 60:g}-min learning period, then "
              f"{NST_BLOCK_S / 60:g} min on / off; records {', '.join(records)}; scored after the learning period, "
              "150 ms matching, pooled over records): Se % / +P %", file=stream)
        header = f"{'SNR dB':>6} " + " ".join(f"{m:>17}" for m in methods)
        print(header, file=stream)
        print("-" * len(header), file=stream)
        for snr in snrs:
            cells = []
            for m in methods:
                s = sum((r[m] for r in rows if r["kind"] == kind and r["snr"] == snr), DetectionScore(0, 0, 0))
                cells.append(f"{100 * s.sensitivity:7.2f} / {100 * s.ppv:6.2f}")
            print(f"{snr:>6} " + " ".join(f"{c:>17}" for c in cells), file=stream)
    return rows


def _neurokit_quality(x: np.ndarray, fs: float, peaks: np.ndarray) -> np.ndarray:
    """NeuroKit2's ``ecg_quality`` (``averageQRS``: each beat's correlation with the average beat) at ``peaks``."""
    import neurokit2 as nk

    cleaned = nk.ecg_clean(x, sampling_rate=int(round(fs)))
    return np.asarray(nk.ecg_quality(cleaned, rpeaks=peaks, sampling_rate=int(round(fs)), method="averageQRS"))[peaks]


def bench_quality(records_dir, *, stream=sys.stdout):
    """Signal quality on noise-stress records (``bench noise --write-dir``): ours against NeuroKit2's.

    For every record, on our detector's beats after the learning period: the share marked unreadable
    by :func:`ecg_core.quality.assess_quality` inside the noise bursts and outside them, and the same
    for NeuroKit2's ``averageQRS`` quality under 0.5, with its mean inside and outside.
    """
    from .quality import assess_quality

    heas = sorted(Path(records_dir).glob("*.hea"))
    if not heas:
        raise SystemExit(f"No WFDB records in {records_dir}: run `bench noise --write-dir {records_dir}` first")
    header = (f"{'record':<14} {'beats':>6} {'ours: unreadable in / out %':>28} "
              f"{'NK2 < 0.5 in / out %':>21} {'NK2 mean in / out':>18}")
    print(f"Signal quality on the noise-stress records of {records_dir} (our detector's beats after the learning "
          "period; in = inside the noise bursts)\n", file=stream)
    print(header, file=stream)
    print("-" * len(header), file=stream)
    rows = []
    for hea in heas:
        rec = load_record(hea)
        peaks = detect_r_peaks(rec.signal, rec.fs)
        peaks = peaks[peaks >= NST_LEARNING_S * rec.fs]
        inside = np.zeros(peaks.size, bool)
        for a, b in noise_bursts(rec.signal.size, rec.fs):
            inside |= (peaks >= a) & (peaks < b)
        ours = assess_quality(rec.signal, rec.fs, peaks).unreadable
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nk = _neurokit_quality(rec.signal, rec.fs, peaks)
        row = {"record": rec.name, "beats": int(peaks.size),
               "ours_in": float(ours[inside].mean()), "ours_out": float(ours[~inside].mean()),
               "nk_in": float((nk[inside] < 0.5).mean()), "nk_out": float((nk[~inside] < 0.5).mean()),
               "nk_mean_in": float(np.nanmean(nk[inside])), "nk_mean_out": float(np.nanmean(nk[~inside]))}
        rows.append(row)
        print(f"{rec.name:<14} {row['beats']:>6} {100 * row['ours_in']:>16.1f} / {100 * row['ours_out']:<9.1f} "
              f"{100 * row['nk_in']:>11.1f} / {100 * row['nk_out']:<7.1f} "
              f"{row['nk_mean_in']:>9.2f} / {row['nk_mean_out']:<6.2f}", file=stream)
    return rows


def _write_noisy(out: Path, tag: str, full: Recording, leads: np.ndarray, hea: Path) -> None:
    import shutil

    import wfdb

    out.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(tag, fs=full.sampling_rate, units=list(full.lead_units), sig_name=list(full.lead_names),
                p_signal=leads, fmt=["16"] * leads.shape[1], write_dir=str(out))
    shutil.copyfile(hea.with_suffix(".atr"), out / f"{tag}.atr")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ecg_core.bench", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    d = sub.add_parser("detect", help="R-peak detection: ours vs NeuroKit2 vs XQRS on annotated WFDB records")
    d.add_argument("--data-dir", required=True, type=Path, help="folder of WFDB records with .atr annotations")
    d.add_argument("--out-dir", type=Path, help="write <rec>.peaks.csv of our detector here")
    d.add_argument("--repeats", type=int, default=5, help="timed runs per record for ours and NeuroKit2")
    d.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of: " + ", ".join(METHODS))
    n = sub.add_parser("noise", help="R-peak detection in noise: the EC57 noise stress test, ours vs the peers")
    n.add_argument("--data-dir", required=True, type=Path, help="folder of clean WFDB records with .atr annotations")
    n.add_argument("--noise-dir", required=True, type=Path, help="folder with the NSTDB noise records ma and bw")
    n.add_argument("--records", nargs="+", default=["118", "119"], help="clean records (default: 118 119, as NSTDB)")
    n.add_argument("--noise", nargs="+", default=list(NOISE_KINDS), choices=NOISE_KINDS + EXTRA_NOISE_KINDS,
                   help="noise kinds (ma-lp: ma band-limited to 0.5-15 Hz, an electrode-motion stand-in)")
    n.add_argument("--snr", nargs="+", type=int, default=[24, 18, 12, 6, 0], help="SNRs in dB")
    n.add_argument("--write-dir", type=Path, help="keep the noisy records here (WFDB, with the reference .atr)")
    n.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of: " + ", ".join(METHODS))
    qa = sub.add_parser("quality", help="signal quality on noise-stress records: ours vs NeuroKit2's ecg_quality")
    qa.add_argument("--records-dir", required=True, type=Path, help="the folder `bench noise --write-dir` wrote")
    args = ap.parse_args(argv)
    if args.what == "quality":
        bench_quality(args.records_dir)
        return 0
    methods = tuple(m for m in args.methods.split(",") if m)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        ap.error(f"unknown method(s): {', '.join(unknown)}")
    if args.what == "noise":
        bench_noise(args.data_dir, args.noise_dir, records=args.records, kinds=args.noise, snrs=args.snr,
                    methods=methods, write_dir=args.write_dir)
        return 0
    bench_detect(args.data_dir, out_dir=args.out_dir, repeats=args.repeats, methods=methods)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
