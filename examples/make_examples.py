"""Regenerate the bundled example files from the shared MIT-BIH data.

Usage (from the repository root)::

    python examples/make_examples.py [--data-dir ../shared/data] [--out-dir examples]

Writes, from MIT-BIH Arrhythmia Database records 208 and 201 (PhysioNet, ODC-By 1.0):

- ``208_excerpt.hea/.dat/.atr``: the first 5 minutes, both leads, format 212 with the original
  gains and baselines, and the reference annotations of that span (all symbols, non-beat ones too).
- ``208_excerpt.csv``: the first 60 s in the Kaggle MIT-BIH CSV layout (header
  ``'sample #','MLII','V1'`` with literal quotes, raw ADC integers, CRLF line ends).
- ``208_excerpt_annotations.txt``: the annotations of those 60 s in the Kaggle text layout.
- ``segments_208.csv``: 40 beat windows (360 samples = 1 s at 360 Hz, centred on reference beats of
  the excerpt, MLII in mV) in the original app's segmented layout (header ``sample_1 ... sample_360``),
  and ``segments_208_labels.csv`` giving each row's reference beat (segment, sample, symbol, AAMI class).
- ``201_af_excerpt.hea/.dat/.atr``: record 201 from 5 to 10 minutes (atrial fibrillation, a nodal
  rhythm, sinus rhythm with atrial premature beats, a short fibrillation again, then sinus rhythm
  with ventricular trigeminy), written the same way, annotations shifted to the excerpt's start and
  the rhythm in force there as the first one.
- ``207_vt_excerpt.hea/.dat/.atr``: record 207 from 24:30 to 29:30 (runs of ventricular tachycardia and
  pauses over 2 s, with their rhythm annotations), written the same way.
- ``118_noise_excerpt.hea/.dat/.atr``: record 118's first 2 minutes, written the same way, with the muscle
  noise record ``ma`` of the MIT-BIH Noise Stress Test Database added to both leads from 40 to 80 s at
  0 dB SNR (nst's definition): the dashboard's example of unreadable signal.
- ``beat_bank_209.csv``: 30 normal (``N``) and 30 atrial premature (``A``) beats of record 209, MLII
  in mV, each from 250 ms before to 450 ms after its R-peak (252 samples at 360 Hz), the normal ones
  with both neighbouring intervals within 10% of each other. The tests splice them into recordings
  where atrial ectopy outnumbers the normal beats (``tests/ectopy.py``).

The output is deterministic: running the script again gives the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import wfdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecg_core.config import AAMI_MAP, BEAT_WINDOW  # noqa: E402

RECORD = "208"
NAME = "208_excerpt"
EXCERPT_S = 300  # WFDB excerpt: first 5 minutes
CSV_S = 60  # Kaggle-layout excerpt: first minute
#: Atrial fibrillation excerpt: record 201 from 5 to 10 min (fibrillation, a nodal rhythm, sinus rhythm
#: with atrial premature beats, a short fibrillation again, then sinus rhythm with ventricular trigeminy).
AF_RECORD, AF_NAME, AF_EXCERPT_S = "201", "201_af_excerpt", (300, 600)
#: Ventricular runs and pauses: record 207 from 1470 to 1770 s.
VT_RECORD, VT_NAME, VT_EXCERPT_S = "207", "207_vt_excerpt", (1470, 1770)
#: A noisy stretch: record 118's first 2 min with the NSTDB muscle-noise record ``ma`` added from 40 to 80 s at
#: 0 dB (nst's definition of SNR, :func:`ecg_core.bench.add_noise`).
NOISE_RECORD, NOISE_NAME, NOISE_EXCERPT_S, NOISE_SPAN_S, NOISE_SNR_DB = "118", "118_noise_excerpt", 120, (40, 80), 0
#: Segments per class in segments_208.csv (deterministic, evenly spread over the excerpt).
SEGMENTS_PER_CLASS = {"N": 20, "VEB": 16, "F": 4}


def _default_data_dir() -> Path:
    rel = ROOT.parent / "shared" / "data"
    return rel if rel.is_dir() else Path("/work/shared/data")


def kaggle_time(sample: int, fs: float) -> str:
    """Annotation time as the Kaggle copy writes it: ``m:ss.sss`` (``h:mm:ss.sss`` past an hour)."""
    ms = round(sample / fs * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s = rest / 1000
    return f"{h}:{m:02d}:{s:06.3f}" if h else f"{m}:{s:06.3f}"


def _rhythm_before(src: Path, record: str, start: int) -> str:
    """The rhythm annotation (``"(AFIB"`` ...) in force just before sample ``start`` ("" at the record's start)."""
    if start <= 0:
        return ""
    ann = wfdb.rdann(str(src / record), "atr", sampto=start)
    rhythms = [a.replace("\x00", "") for a, s, t in zip(ann.aux_note, ann.symbol, ann.sample, strict=True)
               if s == "+" and t < start]
    return rhythms[-1] if rhythms else ""


def write_wfdb_excerpt(src: Path, out: Path, n: int, *, record: str = RECORD, name: str = NAME, start: int = 0):
    rec = wfdb.rdrecord(str(src / record), sampfrom=start, sampto=start + n, physical=False)
    ann = wfdb.rdann(str(src / record), "atr", sampfrom=start, sampto=start + n, shift_samps=True)
    keep = (ann.sample >= 0) & (ann.sample < n)
    # keep every header field of the original (format, gain, baseline, ADC resolution and zero); only the
    # name, length, initial values, checksums and comments change
    rec.record_name, rec.sig_len, rec.file_name = name, n, [f"{name}.dat"] * rec.n_sig
    rec.init_value = [int(v) for v in rec.d_signal[0]]
    rec.checksum = [int(c) - 65536 if c > 32767 else int(c) for c in rec.d_signal.astype(np.int64).sum(0) % 65536]
    rec.comments = [f"Excerpt: samples {start}-{start + n - 1} ({start / rec.fs:g}-{(start + n) / rec.fs:g} s) of "
                    f"MIT-BIH Arrhythmia Database record {record}"]
    rec.comments += list(wfdb.rdheader(str(src / record)).comments)
    rec.wrsamp(write_dir=str(out))
    sample, symbol = ann.sample[keep], list(np.asarray(ann.symbol)[keep])
    subtype, chan, num = ann.subtype[keep], ann.chan[keep], ann.num[keep]
    aux = [a.replace("\x00", "") for a in np.asarray(ann.aux_note, dtype=object)[keep]]
    rhythm = _rhythm_before(src, record, start)
    if rhythm:  # the rhythm in force where the excerpt starts, as its first annotation
        sample, symbol, aux = np.r_[0, sample], ["+", *symbol], [rhythm, *aux]
        subtype, chan, num = np.r_[0, subtype], np.r_[0, chan], np.r_[0, num]
    wfdb.wrann(
        name, "atr", sample, symbol=symbol, subtype=subtype, chan=chan, num=num, aux_note=aux,
        fs=rec.fs, write_dir=str(out),
    )
    return rec, ann, keep


def write_noisy_excerpt(data_dir: Path, out: Path):
    """``118_noise_excerpt``: written like the other excerpts, then muscle noise added to both leads in one span."""
    from ecg_core.bench import add_noise

    src = data_dir / "mitdb"
    n = int(NOISE_EXCERPT_S * 360)
    rec, ann, keep = write_wfdb_excerpt(src, out, n, record=NOISE_RECORD, name=NOISE_NAME)
    noise = wfdb.rdrecord(str(data_dir / "noise" / "ma"), sampto=n).p_signal
    beats = ann.sample[keep][np.isin(np.asarray(ann.symbol)[keep], list(AAMI_MAP))]
    span = [(int(NOISE_SPAN_S[0] * rec.fs), int(NOISE_SPAN_S[1] * rec.fs))]
    d = rec.d_signal.astype(np.float64)
    for c in range(rec.n_sig):
        d[:, c] = add_noise(d[:, c], noise[:, c] * rec.adc_gain[c], rec.fs, beats, NOISE_SNR_DB, spans=span)
    half = 2 ** (rec.adc_res[0] - 1)  # the ADC's range around its zero (format 212 holds 12 bits)
    rec.d_signal = np.clip(np.rint(d), rec.adc_zero[0] - half, rec.adc_zero[0] + half - 1).astype(np.int64)
    rec.init_value = [int(v) for v in rec.d_signal[0]]
    rec.checksum = [int(c) - 65536 if c > 32767 else int(c) for c in rec.d_signal.sum(0) % 65536]
    rec.comments.insert(1, f"With muscle noise (MIT-BIH Noise Stress Test Database record ma) added from "
                           f"{NOISE_SPAN_S[0]} to {NOISE_SPAN_S[1]} s at {NOISE_SNR_DB} dB SNR")
    rec.wrsamp(write_dir=str(out))


def write_kaggle_csv(rec, path: Path, n: int):
    lines = ["'sample #'," + ",".join(f"'{s}'" for s in rec.sig_name)]
    d = rec.d_signal[:n]
    lines += [f"{i}," + ",".join(str(int(v)) for v in row) for i, row in enumerate(d)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))


def write_kaggle_annotations(ann, keep, fs: float, path: Path, n: int):
    lines = ["      Time   Sample #  Type  Sub Chan  Num\tAux"]
    for i in np.flatnonzero(keep & (ann.sample < n)):
        line = (f"{kaggle_time(int(ann.sample[i]), fs):>12}{int(ann.sample[i]):>9}{ann.symbol[i]:>6}"
                f"{int(ann.subtype[i]):>5}{int(ann.chan[i]):>5}{int(ann.num[i]):>5}")
        aux = ann.aux_note[i].replace("\x00", "")
        lines.append(line + (f"\t{aux}" if aux else ""))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))


def write_segments(rec, ann, keep, out: Path):
    mlii = rec.sig_name.index("MLII")
    x = (rec.d_signal[:, mlii].astype(np.float64) - rec.baseline[mlii]) / rec.adc_gain[mlii]
    half = BEAT_WINDOW // 2
    samples = ann.sample[keep]
    labels = np.array([AAMI_MAP.get(s, "") for s in np.asarray(ann.symbol)[keep]])
    symbols = np.asarray(ann.symbol)[keep]
    inside = (samples - half >= 0) & (samples + half <= x.size)
    chosen = []
    for cls, k in SEGMENTS_PER_CLASS.items():
        idx = np.flatnonzero((labels == cls) & inside)
        chosen += list(idx[np.linspace(0, idx.size - 1, k).round().astype(int)])
    chosen = sorted(set(chosen), key=lambda i: samples[i])
    rows = [",".join(f"sample_{j + 1}" for j in range(BEAT_WINDOW))]
    meta = ["segment,sample,symbol,label"]
    for seg, i in enumerate(chosen):
        w = x[samples[i] - half: samples[i] + half]
        rows.append(",".join(f"{v:.3f}" for v in w))
        meta.append(f"{seg},{samples[i]},{symbols[i]},{labels[i]}")
    (out / "segments_208.csv").write_text("\n".join(rows) + "\n")
    (out / "segments_208_labels.csv").write_text("\n".join(meta) + "\n")


BANK_RECORD = "209"
BANK_BEATS = 30
BANK_SPAN = (90, 162)  # samples before / after the R-peak at 360 Hz (250 ms, 450 ms)


def write_beat_bank(src: Path, out: Path):
    rec = wfdb.rdrecord(str(src / BANK_RECORD), physical=False)
    ann = wfdb.rdann(str(src / BANK_RECORD), "atr")
    mlii = rec.sig_name.index("MLII")
    x = (rec.d_signal[:, mlii].astype(np.float64) - rec.baseline[mlii]) / rec.adc_gain[mlii]
    sym = np.asarray(ann.symbol)
    beats = np.flatnonzero(np.isin(sym, list(AAMI_MAP)))
    rows = ["symbol,sample," + ",".join(f"s{j}" for j in range(sum(BANK_SPAN)))]
    for kind in ("N", "A"):
        taken = 0
        for k in range(1, beats.size - 1):
            i = beats[k]
            prev, nxt = ann.sample[i] - ann.sample[beats[k - 1]], ann.sample[beats[k + 1]] - ann.sample[i]
            regular = sym[beats[k - 1]] == sym[beats[k + 1]] == "N" and abs(nxt / prev - 1) < 0.1
            if sym[i] != kind or (kind == "N" and not regular) or ann.sample[i] < BANK_SPAN[0]:
                continue
            w = x[ann.sample[i] - BANK_SPAN[0]: ann.sample[i] + BANK_SPAN[1]]
            rows.append(f"{kind},{ann.sample[i]}," + ",".join(f"{v:.3f}" for v in w))
            taken += 1
            if taken == BANK_BEATS:
                break
    (out / f"beat_bank_{BANK_RECORD}.csv").write_text("\n".join(rows) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=_default_data_dir(), help="folder holding mitdb/")
    p.add_argument("--out-dir", type=Path, default=ROOT / "examples")
    args = p.parse_args(argv)
    src = args.data_dir / "mitdb"
    if not (src / f"{RECORD}.hea").exists():
        p.error(f"{src / RECORD}.hea not found: point --data-dir at the shared data folder")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    rec, ann, keep = write_wfdb_excerpt(src, args.out_dir, int(EXCERPT_S * 360))
    n_csv = int(CSV_S * rec.fs)
    write_kaggle_csv(rec, args.out_dir / f"{NAME}.csv", n_csv)
    write_kaggle_annotations(ann, keep, rec.fs, args.out_dir / f"{NAME}_annotations.txt", n_csv)
    write_segments(rec, ann, keep, args.out_dir)
    write_wfdb_excerpt(src, args.out_dir, int(AF_EXCERPT_S[1] - AF_EXCERPT_S[0]) * 360, record=AF_RECORD,
                       name=AF_NAME, start=int(AF_EXCERPT_S[0] * 360))
    write_wfdb_excerpt(src, args.out_dir, int(VT_EXCERPT_S[1] - VT_EXCERPT_S[0]) * 360, record=VT_RECORD,
                       name=VT_NAME, start=int(VT_EXCERPT_S[0] * 360))
    write_beat_bank(src, args.out_dir)
    write_noisy_excerpt(args.data_dir, args.out_dir)
    for f in sorted(args.out_dir.glob("*")):
        if f.suffix != ".py":
            print(f"{f.name:32s} {f.stat().st_size:>8d} bytes")


if __name__ == "__main__":
    main()
