"""The work behind the endpoints: read the upload, analyse it, build the answers.

Everything here is synchronous and runs in the server's thread pool, never on the event loop.
Client mistakes become :class:`api.errors.ApiError` with a clear message (400 unreadable
content, 415 unsupported type, 422 bad parameters).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import PurePath

from ecg_core import io as ecg_io
from ecg_core.beats import cut_windows
from ecg_core.config import FS
from ecg_core.errors import ECGError
from ecg_core.peaks import check_parameters
from ecg_core.pipeline import Analysis, analyze, check_peaks, classify_segments
from ecg_core.plotting import beat_png

from .errors import ApiError
from .schemas import AnalyzeOptions, AnalyzeResponse, LoadOptions, PredictResponse

log = logging.getLogger("api")

#: File name extensions the loader reads (recordings, segmented CSVs, WFDB pairs).
SUPPORTED_EXTENSIONS: tuple[str, ...] = (*ecg_io.TEXT_EXTENSIONS, *ecg_io.EDF_EXTENSIONS, ".hea", ".dat")
#: Reference annotation files: ignored beside a record, refused alone (the API does not compare).
ANNOTATION_EXTENSIONS: tuple[str, ...] = ecg_io.WFDB_ANNOTATION_EXTENSIONS
#: Most files in one upload (a WFDB record is a .hea and one or more .dat).
MAX_FILES = 8

_UNITS = {"mV": "mV", "uV": "µV", "adu": "ADC units", "": "unit as uploaded"}
#: matplotlib is not thread-safe: one figure at a time.
_PLOT_LOCK = threading.Lock()


def check_upload(files: dict[str, bytes]) -> None:
    """415 for an extension the loader does not read; 422 for too many files; 400 for empty files."""
    if not files:
        raise ApiError(422, "No file was uploaded: send the ECG file in the form field 'file'.")
    if len(files) > MAX_FILES:
        raise ApiError(422, f"{len(files)} files were uploaded; send one recording (at most {MAX_FILES} files, "
                            "e.g. a WFDB .hea with its .dat).")
    exts = {name: PurePath(name).suffix.lower() for name in files}
    for name, ext in exts.items():
        if ext and ext not in SUPPORTED_EXTENSIONS + ANNOTATION_EXTENSIONS:
            raise ApiError(415, f"'{name}': files of type '{ext}' are not supported. Supported: {ecg_io.SUPPORTED}.")
    if all(ext in ANNOTATION_EXTENSIONS for ext in exts.values()):
        raise ApiError(415, f"{', '.join(files)}: reference annotation files are not recordings. Upload the "
                            "recording itself (e.g. the WFDB .hea and .dat).")
    for name, data in files.items():
        if not data:
            raise ApiError(400, f"'{name}' is empty (0 bytes). Upload the file with the ECG samples.")


def safe_name(filename: str | None, index: int) -> str:
    """The base name of an uploaded file (no folders); ``upload<i>`` when the client gave none."""
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    return name or f"upload{index}"


def load_upload(files: dict[str, bytes], options: LoadOptions):
    """Read the upload with :func:`ecg_core.io.load_files`: a Recording or Segments.

    An unreadable file is a 400; a lead the recording does not have (or whose signal is unusable)
    is a bad parameter, 422.
    """
    check_upload(files)
    rate = options.sampling_rate
    try:
        source = ecg_io.load_files(files, sampling_rate=rate)
    except ECGError as exc:
        if not options.lead:
            raise ApiError(400, str(exc)) from None
        # the default lead may be the unusable one: read the chosen lead directly
        try:
            return ecg_io.load_files(files, sampling_rate=rate, lead=options.lead)
        except ECGError as exc2:
            raise ApiError(400, str(exc2)) from None
    if options.lead and not is_segments(source):
        try:
            source = source.with_lead(options.lead)
        except ECGError as exc:
            raise ApiError(422, str(exc)) from None
    return source


def is_segments(source) -> bool:
    return isinstance(source, ecg_io.Segments)


@dataclass(frozen=True)
class Job:
    """A read and checked upload, ready for the classifier.

    ``peaks``: given beat positions (None: detect); ``detector``: the full detector settings used
    (None for segments and given peaks).
    """

    source: ecg_io.Recording | ecg_io.Segments
    peaks: list[int] | None
    detector: dict[str, float] | None

    @property
    def segmented(self) -> bool:
        return is_segments(self.source)


def prepare(files: dict[str, bytes], options: LoadOptions) -> Job:
    """Read the upload and check every option against it, before any model work (all client errors here)."""
    if not isinstance(options, AnalyzeOptions):
        options = AnalyzeOptions.model_validate(options.model_dump())
    source = load_upload(files, options)
    peaks = options.peak_list()
    if is_segments(source):
        if peaks is not None:
            raise ApiError(422, "peaks apply to recordings; this upload is a segmented file (one beat per row), "
                                "whose beats are already cut. Leave peaks empty.")
        return Job(source, None, None)
    try:  # the core's own checks, so the API and the library say the same
        if peaks is not None:
            return Job(source, check_peaks(peaks, int(source.signal.size)).tolist(), None)
        return Job(source, None, check_parameters(options.detector_options(), source.sampling_rate))
    except ECGError as exc:
        raise ApiError(422, str(exc)) from None


def run_analysis(job: Job, classifier) -> Analysis:
    """Classify a prepared upload: segments by morphology; a recording's detected (or given) beats."""
    try:
        if job.segmented:
            return classify_segments(job.source.windows, classifier=classifier)
        detector = {} if job.peaks is not None else {"second_lead": job.source.second_lead(), **(job.detector or {})}
        return analyze(job.source.signal, job.source.sampling_rate, peaks=job.peaks, classifier=classifier,
                       **detector)
    except ECGError as exc:
        raise ApiError(400, str(exc)) from None


def beat_plot(source, analysis: Analysis, index: int) -> str:
    """Base64 PNG of beat ``index`` of ``analysis``: 1 s around its R-peak, time in ms, amplitude units."""
    if is_segments(source):
        window, fs = source.windows[index], FS
        units = getattr(source, "units", "")
    else:
        fs = float(source.sampling_rate)
        window = cut_windows(source.signal, [int(analysis.samples[index])], width=int(round(fs)))[0]
        units = source.units
    label = str(analysis.labels[index])
    with _PLOT_LOCK:
        png = beat_png(window, label=label, probability=float(analysis.confidence[index]),
                       units=_UNITS.get(units, units or _UNITS[""]), sampling_rate=fs,
                       score_kind=str(analysis.score_kinds[index]))
    return base64.b64encode(png).decode("ascii")


def predict_answer(job: Job, analysis: Analysis) -> dict:
    """The original ``/predict`` answer for the most confident beat, then extras."""
    source = job.source
    if len(analysis) == 0:
        raise ApiError(400, "No heartbeats were found in this recording, so there is nothing to classify. Check "
                            "the lead and the sampling rate, or upload a longer or cleaner recording.")
    i = analysis.most_confident()
    if i is None:
        raise ApiError(400, "Every beat found lies in signal too noisy to read (or a flat lead), so none is "
                            "classified. Check the electrodes and upload a cleaner stretch.")
    summary = analysis.summary()
    return {
        "output": [float(v) for v in analysis.probabilities[i]],
        "ecg_plot": beat_plot(source, analysis, i),
        "label": str(analysis.labels[i]),
        "probability": float(analysis.confidence[i]),
        "beats": len(analysis),
        "counts": summary.counts,
        "position": int(analysis.samples[i]),
        "path": analysis.path,
        "model_version": analysis.model_version,
        "score_kind": str(analysis.score_kinds[i]),
    }


def analyze_answer(job: Job, analysis: Analysis) -> dict:
    """The ``/v1/analyze`` answer: upload facts, summary and the CLI's per-beat table."""
    source = job.source
    return {
        "name": str(getattr(source, "name", "") or ""),
        "kind": "segments" if job.segmented else "recording",
        "sampling_rate": None if job.segmented else float(source.sampling_rate),
        "lead": None if job.segmented else source.lead,
        "units": getattr(source, "units", None),
        "peaks_given": job.peaks is not None,
        "detector": job.detector,
        "model_version": analysis.model_version,
        "summary": analysis.summary().to_dict(),
        "beats": analysis.to_frame().to_dict(orient="records"),
        "events": analysis.events_frame().to_dict(orient="records"),
    }


class Worker:
    """Runs the steps in the calling (thread-pool) thread, at most ``max_concurrent`` at once."""

    def __init__(self, max_concurrent: int):
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def prepare(self, files: dict[str, bytes], options: LoadOptions) -> Job:
        with self._slots:
            return prepare(files, options)

    def predict(self, job: Job, classifier) -> bytes:
        """The ``/predict`` answer as JSON bytes (validated and serialised here, off the event loop)."""
        return self._answer(job, classifier, predict_answer, PredictResponse)

    def analyze(self, job: Job, classifier) -> bytes:
        """The ``/v1/analyze`` answer as JSON bytes."""
        return self._answer(job, classifier, analyze_answer, AnalyzeResponse)

    def _answer(self, job: Job, classifier, build, model) -> bytes:
        with self._slots:
            t0 = time.perf_counter()
            analysis = run_analysis(job, classifier)
            body = model.model_validate(build(job, analysis)).model_dump_json().encode()
            log.info("%s %s: %d beats in %.3f s", model.__name__, job.source.name, len(analysis),
                     time.perf_counter() - t0)
            return body


__all__ = ["SUPPORTED_EXTENSIONS", "Job", "Worker", "load_upload", "prepare", "run_analysis", "safe_name"]
