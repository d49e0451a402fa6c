"""Batch command line: ``python -m ecg_core detect|classify INPUT... --out-dir DIR``.

This is a contract other tools call; keep options and output columns stable::

    python -m ecg_core detect   INPUT... --out-dir DIR [--fs HZ] [--lead NAME] [DETECTOR] [COHORT]
    python -m ecg_core classify INPUT... --out-dir DIR [--fs HZ] [--lead NAME] [--peaks-dir DIR] [--model PATH]
                                [DETECTOR] [COHORT]

    python -m ecg_core report   INPUT... --output-dir DIR [--fs HZ] [--lead NAME] [--peaks-dir DIR] [--model PATH]
                                [--png]

    COHORT: [--resume] [--workers [N] | --scheduler ADDRESS]
    DETECTOR: [--threshold X] [--refractory X] [--search-window X] [--lowcut X] [--highcut X] [--twave-window X]
              [--searchback X]    (ecg_core.peaks.PARAMETERS; absent: the default, and the output is unchanged)

``report`` writes ``DIR/<stem>.report.pdf`` (:mod:`ecg_core.report`; with ``--png`` its pages as PNG too).
``detect`` writes ``DIR/<stem>.peaks.csv`` (column ``sample``); ``classify`` writes
``DIR/<stem>.beats.csv`` (``sample,label,probability,p_N,p_SVEB,p_VEB,p_F,p_Q``; ``segment``
instead of ``sample`` for segmented input) and, for a recording, ``DIR/<stem>.events.csv`` (the rhythm
events of :func:`ecg_core.events.find_events`: ``kind,first_beat,last_beat,first_sample,last_sample,
start_s,end_s,duration_s,beats,rate_bpm,detail``). A bad file gets one line on stderr naming it; the
others are still processed and the exit code is 1. An INPUT may be a folder (its recordings) or
``@FILE`` (the paths listed in FILE, one per line). ``--resume`` skips inputs whose output exists.
``--workers``/``--scheduler`` run the files on a Dask cluster (:mod:`ecg_core.batch`) with the same
outputs, byte for byte, and write ``DIR/summary.csv``.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ECGError


def _stem(path: Path) -> str:
    return path.stem if path.suffix else path.name


def _read_peaks(peaks_dir: Path, stem: str, n_samples: int) -> np.ndarray:
    from .pipeline import check_peaks

    path = peaks_dir / f"{stem}.peaks.csv"
    if not path.exists():
        raise ECGError(f"no beat positions for it: {path} does not exist. Run `detect` first or fix --peaks-dir.")
    try:
        frame = pd.read_csv(path)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ECGError(f"{path} is not a readable CSV ({exc}).") from None
    if "sample" not in frame.columns:
        raise ECGError(f"{path} has no `sample` column.")
    try:
        return check_peaks(pd.to_numeric(frame["sample"], errors="coerce").to_numpy(dtype=np.float64), n_samples)
    except ECGError as exc:
        raise ECGError(f"{path}, column `sample`: {exc}") from None


def _detector_options(args) -> dict[str, float]:
    """The detector settings given as flags (``--threshold`` ...); none given: the defaults, as before the flags."""
    from .peaks import PARAMETERS

    return {p.name: v for p in PARAMETERS if (v := getattr(args, p.name, None)) is not None}


def _in_range(spec):
    """argparse type of one detector flag: a number within the parameter's documented range."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not spec.minimum <= value <= spec.maximum:
            raise argparse.ArgumentTypeError(f"{value:g} is outside {spec.minimum:g}-{spec.maximum:g}")
        return value

    return parse


def _add_detector_flags(parser: argparse.ArgumentParser) -> None:
    """One optional flag per detector parameter (:data:`ecg_core.peaks.PARAMETERS`); absent: the default."""
    from .peaks import PARAMETERS
    from .tuning import flag

    group = parser.add_argument_group("detector settings (as the API's and the Tune page's; default when absent)")
    for spec in PARAMETERS:
        unit = f" {spec.unit}" if spec.unit else ""
        group.add_argument(flag(spec.name), dest=spec.name, type=_in_range(spec), default=None,
                           metavar="X", help=f"{spec.label}: {spec.help} Default {spec.default:g}{unit}, range "
                                             f"{spec.minimum:g}-{spec.maximum:g}.")


def _detect_one(path: Path, args) -> pd.DataFrame:
    from .io import Segments, load
    from .peaks import detect_r_peaks

    rec = load(path, sampling_rate=args.fs, lead=args.lead)
    if isinstance(rec, Segments):
        raise ECGError("this is a segmented file (one beat per row): its beats are already cut. Use `classify`.")
    peaks = detect_r_peaks(rec.signal, rec.sampling_rate, second_lead=rec.second_lead(), **_detector_options(args))
    frame = pd.DataFrame({"sample": peaks})
    frame.attrs["duration_s"] = rec.duration_s  # for a cohort's summary.csv
    return frame


def _classify_one(path: Path, args) -> pd.DataFrame:
    """The beats table; for a recording its events ride along in ``attrs["events"]`` (segments have none)."""
    from .io import Segments, load
    from .memory import give_back_freed_memory
    from .model import prepare_beats
    from .pipeline import classify_beats, classify_segments, find_beats

    rec = load(path, sampling_rate=args.fs, lead=args.lead)
    if isinstance(rec, Segments):
        return classify_segments(rec.windows, classifier=_classifier(args.model)).to_frame()
    peaks = _read_peaks(args.peaks_dir, _stem(path), rec.signal.size) if args.peaks_dir else None
    second = rec.second_lead() if peaks is None else None
    beats = prepare_beats(find_beats(rec.signal, rec.sampling_rate, peaks=peaks, second_lead=second,
                                     **_detector_options(args)))
    del second
    fs, n, duration = rec.sampling_rate, rec.n_samples, rec.duration_s
    del rec  # the signal goes before the classifier (TensorFlow) comes: a 24-hour recording is 250 MB a lead
    gc.collect()  # (the loader's objects refer to each other: freed only by the collector)
    give_back_freed_memory()
    analysis = classify_beats(beats, fs, n, classifier=_classifier(args.model))
    frame = analysis.to_frame()
    frame.attrs["duration_s"] = duration  # for a cohort's summary.csv
    frame.attrs["events"] = analysis.events_frame()  # written beside it as <stem>.events.csv
    return frame


def _write(frame: pd.DataFrame, path: Path, float_format: str | None = "%.6g") -> None:
    """Write an output CSV under a temporary name, then rename it (a finished file is never half-written).

    A beats table carrying its recording's events (``frame.attrs["events"]``) gets them written first as
    ``<stem>.events.csv`` beside it, so a finished ``beats.csv`` always has its events.
    """
    events = frame.attrs.get("events")
    if isinstance(events, pd.DataFrame) and path.name.endswith(".beats.csv"):
        _write(events, path.with_name(path.name[: -len(".beats.csv")] + ".events.csv"), float_format)
    tmp = path.with_name(f".{path.name}.part")
    frame.to_csv(tmp, index=False, float_format=float_format)
    os.replace(tmp, path)


def _classifier(model: Path | None):
    """The classifier at ``--model`` (its card beside it), or None for the shipped one."""
    if model is None:
        return None
    from .model import load_classifier

    return load_classifier(model.resolve())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ecg_core", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("detect", "find R-peaks, write <stem>.peaks.csv"),
                           ("classify", "find and classify beats, write <stem>.beats.csv and <stem>.events.csv")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                       help="recordings (CSV/TSV, WFDB .hea, EDF) or segmented CSVs")
        p.add_argument("--out-dir", type=Path, required=True, help="folder for the output CSVs (created)")
        p.add_argument("--fs", type=float, default=None,
                       help="sampling rate in Hz for files that do not state it (default 360)")
        p.add_argument("--lead", default=None, help="lead name (default MLII, else ECG, else the first)")
        if name == "classify":
            p.add_argument("--peaks-dir", type=Path, default=None,
                           help="classify the beats at DIR/<stem>.peaks.csv instead of detecting them")
            p.add_argument("--model", type=Path, default=None, metavar="PATH",
                           help="a .keras model (with the model_card.json written beside it by training) "
                                "instead of the shipped models/beat_classifier.keras")
        _add_detector_flags(p)
        p.add_argument("--resume", action="store_true", help="skip inputs whose output file already exists")
        where = p.add_mutually_exclusive_group()
        where.add_argument("--workers", type=int, nargs="?", const=0, default=None, metavar="N",
                           help="run as a cohort on a local Dask cluster of N worker processes (default: one per "
                                "core) and write DIR/summary.csv")
        where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                           help="run as a cohort on the running Dask cluster at ADDRESS (e.g. tcp://127.0.0.1:8786) "
                                "and write DIR/summary.csv")
    p = sub.add_parser("report", help="analyse recordings and write a printable report, <stem>.report.pdf")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="recordings (CSV/TSV, WFDB .hea, EDF)")
    p.add_argument("--output-dir", "--out-dir", dest="out_dir", type=Path, required=True,
                   help="folder for the reports (created)")
    p.add_argument("--fs", type=float, default=None,
                   help="sampling rate in Hz for files that do not state it (default 360)")
    p.add_argument("--lead", default=None, help="lead name (default MLII, else ECG, else the first)")
    p.add_argument("--peaks-dir", type=Path, default=None,
                   help="report on the beats at DIR/<stem>.peaks.csv (e.g. edited in the dashboard) instead of "
                        "detecting them")
    p.add_argument("--model", type=Path, default=None, metavar="PATH", help="another trained .keras model")
    p.add_argument("--png", action="store_true", help="also write each page as <stem>.report-<page>.png")
    _add_detector_flags(p)
    return parser


def _report_one(path: Path, args) -> list[Path]:
    """Analyse one recording and write its report (and with ``--png`` its pages as PNG); returns the files."""
    from .io import Segments, load, to_millivolts
    from .pipeline import analyze
    from .report import report_figures, report_pdf, report_pngs

    rec = load(path, sampling_rate=args.fs, lead=args.lead)
    if isinstance(rec, Segments):
        raise ECGError("this is a segmented file (one beat per row): a report needs a continuous recording.")
    stem = _stem(path)
    peaks = _read_peaks(args.peaks_dir, stem, rec.signal.size) if args.peaks_dir else None
    detector = {} if peaks is not None else {"second_lead": rec.second_lead(), **_detector_options(args)}
    analysis = analyze(rec.signal, rec.sampling_rate, peaks=peaks, classifier=_classifier(args.model), **detector)
    shown, units, note = to_millivolts(rec.signal, rec.units, rec.source_format)
    figures = report_figures(shown, rec.sampling_rate, analysis, name=rec.name or stem, lead=rec.lead, units=units,
                             units_note=note, notes=[f"Beats from {args.peaks_dir / (stem + '.peaks.csv')}."]
                             if args.peaks_dir else ())
    out = args.out_dir / f"{stem}.report.pdf"
    tmp = out.with_name(f".{out.name}.part")
    tmp.write_bytes(report_pdf(figures, title=f"ECG report: {rec.name or stem}"))
    os.replace(tmp, out)
    written = [out]
    if args.png:
        for k, png in enumerate(report_pngs(figures), start=1):
            written.append(args.out_dir / f"{stem}.report-{k}.png")
            written[-1].write_bytes(png)
    return written


def _report_main(args) -> int:
    from . import batch

    inputs, problems = batch.list_inputs(args.inputs)
    failures = len(problems)
    for path, message in problems:
        print(f"error: {path}: {message}", file=sys.stderr)
    for path in inputs:
        try:
            for written in _report_one(path, args):
                print(written)
        except ECGError as exc:
            failures += 1
            print(f"error: {path}: {exc}", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
            failures += 1
            print(f"error: {path}: could not be processed ({type(exc).__name__}: {exc})", file=sys.stderr)
    return 1 if failures else 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: --out-dir {args.out_dir}: cannot be used as an output folder ({exc.strerror}).", file=sys.stderr)
        return 2
    if getattr(args, "model", None) is not None:
        try:
            _classifier(args.model)
        except ECGError as exc:
            print(f"error: --model {args.model}: {exc}", file=sys.stderr)
            return 2
    if args.command == "report":
        return _report_main(args)
    from . import batch

    inputs, problems = batch.list_inputs(args.inputs)
    if (args.workers is not None or args.scheduler) and _detector_options(args):
        print("error: detector settings (--threshold ...) are not passed to cohort workers yet; run without "
              "--workers/--scheduler.", file=sys.stderr)
        return 2
    if args.workers is not None or args.scheduler:
        options = batch.Options(args.command, args.fs, args.lead, *(None if p is None else p.absolute() for p in (
            getattr(args, "peaks_dir", None), getattr(args, "model", None))))
        return batch.run_cohort(inputs, args.out_dir, options, workers=args.workers, scheduler=args.scheduler,
                                resume=args.resume, problems=problems)
    run, suffix = (_detect_one, "peaks") if args.command == "detect" else (_classify_one, "beats")
    from tqdm import tqdm

    failures = len(problems)
    for path, message in problems:
        print(f"error: {path}: {message}", file=sys.stderr)
    written: dict[str, Path] = {}
    bar = tqdm(inputs, unit="file", disable=not sys.stderr.isatty(), leave=False)
    for path in bar:
        bar.set_description(path.name)
        try:
            stem = _stem(path)
            if stem in written:
                raise ECGError(f"its output name {stem}.{suffix}.csv is already taken by {written[stem]}; "
                               "rename one of the inputs.")
            out = args.out_dir / f"{stem}.{suffix}.csv"
            if not (args.resume and out.exists()):
                _write(run(path, args), out)
            written[stem] = path
        except ECGError as exc:
            failures += 1
            tqdm.write(f"error: {path}: {exc}", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            failures += 1
            tqdm.write(f"error: {path}: could not be processed ({type(exc).__name__}: {exc})", file=sys.stderr)
    return 1 if failures else 0
