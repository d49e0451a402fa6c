"""Shared plumbing of the dashboard pages: uploads, cached loading and analysis, error display.

Pages stay thin: they read their widgets, call these helpers (which call ``ecg_core``) and draw
the figures that :mod:`ecg_core.plotting` builds. Nothing here computes ECG results itself.

Session-state keys shared by the pages (all set by the pages, never by widgets directly):

``recording_upload`` : :class:`Upload` or None
    The recording being analysed (None: the bundled example ``example_name``). The analysis page's
    uploader (widget key ``analyse_upload``) sets it; the tune page reads it.
``example_name`` : str
    Which of :data:`EXAMPLES` is shown when no recording is uploaded (default the first).
``reference_upload`` : :class:`Upload` or None
    Reference annotations for it (None: the example's own annotations when the example is shown).
``upload_refused`` : str or None
    The library's message when the recording uploader holds files that are not one recording
    (:func:`refused_upload`); nothing is analysed then.
``uploader_generation`` : int
    Bumped by :func:`clear_uploaders`: the uploaders' keys (:func:`widget_key`) change, so they are empty.
``detector_params`` : dict
    R-peak detector settings, set by the tune page's sliders and used by the analysis page.
``sampling_rate_setting`` / ``lead_setting``
    The rate used where a file states none (default ``config.DEFAULT_FS``) and the chosen lead.
"""

from __future__ import annotations

import hashlib
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

# the pages' tables and texts, used by the pages as app.<name>
from app_pages._tables import (  # noqa: F401
    clock,
    event_counts,
    events_table,
    hrv_figures,
    misses_table,
    parse_clock,
    rhythms_table,
    step_to_class,
    strip_note,
)
from ecg_core import config
from ecg_core.errors import ECGError
from ecg_core.jsonsafe import json_safe

log = logging.getLogger("ecg_workbench.app")


@dataclass(frozen=True)
class Example:
    """A bundled example recording (WFDB excerpt in ``examples/``) with its reference annotations."""

    record: str  # file stem in config.EXAMPLES_DIR
    title: str  # what the example selector shows
    note: str  # what the pages say about it

    @property
    def files(self) -> tuple[str, str]:
        return f"{self.record}.hea", f"{self.record}.dat"

    @property
    def annotations(self) -> str:
        return f"{self.record}.atr"


#: The bundled examples, the default first (examples/README.md says what is in each).
EXAMPLES = {e.record: e for e in (
    Example("208_excerpt", "208: VEB and fusion",
            "bundled example: first 5 min of MIT-BIH record 208 (PhysioNet), with its reference annotations"),
    Example("201_af_excerpt", "201: atrial fibrillation",
            "bundled example: 5 min of MIT-BIH record 201 (PhysioNet; atrial fibrillation, then sinus rhythm with "
            "premature beats), with its reference annotations"),
    Example("207_vt_excerpt", "207: VEB runs and pauses",
            "bundled example: 5 min of MIT-BIH record 207 (PhysioNet; 24:30-29:30: ventricular flutter, runs of "
            "ventricular beats, pauses, SVTA), with its reference annotations"),
    Example("118_noise_excerpt", "118: a burst of muscle noise",
            "bundled example: first 2 min of MIT-BIH record 118 (PhysioNet) with muscle noise (NSTDB record ma) "
            "added from 40 to 80 s at 0 dB, with its reference annotations"),
)}
DEFAULT_EXAMPLE = next(iter(EXAMPLES))
EXAMPLE_SEGMENTS = "segments_208.csv"
#: Upload limit in MB, the unit of ``server.maxUploadSize`` in .streamlit/config.toml.
MAX_UPLOAD_MB = config.MAX_UPLOAD_BYTES // (1024 * 1024)
#: Rows the beat table shows at most (a 24-h Holter has ~100,000 beats; the CSV download has them all).
TABLE_ROWS = 10_000
RECORDING_TYPES = ["csv", "tsv", "txt", "hea", "dat", "edf", "bdf"]
ANNOTATION_TYPES = ["atr", "txt"]
#: What each kind of share means (``ecg_core.pipeline.Analysis.score_kinds``), as the pages say it.
SCORE_HELP = {
    "probability": "Probability: the network's calibrated probability (right about as often as it says, "
                   "cross-validated).",
    "decision score": "Decision score: the class was re-decided by the second stage or a rule (N / SVEB split, "
                      "atrial fibrillation, wide QRS, fusion), whose shares are not calibrated probabilities.",
    "edited": "Edited: the class was given by you (relabelled or added beat), so its share is 1.",
}


@dataclass(frozen=True)
class Upload:
    """Files of one upload (a single file, or a WFDB .hea + .dat pair) and their content digest."""

    name: str
    files: tuple[tuple[str, bytes], ...]
    digest: str
    example: str = ""  # the bundled example's record name; "" for the user's own files

    @classmethod
    def from_files(cls, files: dict[str, bytes], *, example: str = "", name: str = "") -> Upload:
        h = hashlib.sha256()
        for fname in sorted(files):
            h.update(fname.encode() + b"\0" + hashlib.sha256(files[fname]).digest())
        stems = sorted({Path(f).stem for f in files})
        name = name or (stems[0] if len(stems) == 1 else ", ".join(sorted(files)))
        return cls(name, tuple(sorted(files.items())), h.hexdigest()[:24], example)

    @property
    def size(self) -> int:
        return sum(len(b) for _, b in self.files)

    def as_dict(self) -> dict[str, bytes]:
        return dict(self.files)


def check_size(files: dict[str, bytes]) -> None:
    """Refuse uploads above ``config.MAX_UPLOAD_BYTES`` with a clear message."""
    total = sum(len(b) for b in files.values())
    if total > config.MAX_UPLOAD_BYTES:
        raise ECGError(
            f"The upload is {total / 1e6:.0f} MB; the limit is {MAX_UPLOAD_MB} MB. "
            "Cut the recording into shorter parts (e.g. one hour each) and upload them one at a time."
        )


def upload_from_widget(value) -> Upload | None:
    """Turn a ``st.file_uploader`` value (one file or a list) into an :class:`Upload` (None if empty)."""
    if not value:
        return None
    files = value if isinstance(value, list) else [value]
    data = {f.name: f.getvalue() for f in files}
    check_size(data)
    return Upload.from_files(data)


def recording_of(upload: Upload | None) -> tuple[Upload | None, tuple[str, ...]]:
    """The recording in a recording uploader's files, by the library's rule (:func:`ecg_core.io.recording_files`).

    Returns the :class:`Upload` of the files that make the recording (None if the box is empty) and the
    reference annotation files set aside. A set of files that is not one recording (a WFDB pair and a
    CSV, two CSVs, a header with another record's signal file) raises :class:`ECGError` naming the files
    to remove: never a silent choice.
    """
    from ecg_core import io

    if upload is None:
        return None, ()
    data = upload.as_dict()
    chosen = io.recording_files(data)
    return Upload.from_files({f: data[f] for f in chosen.files}, name=chosen.name), chosen.ignored


def widget_key(base: str) -> str:
    """The key of an uploader that :func:`clear_uploaders` empties: ``base``, then ``base_1``, ``base_2`` ...

    Streamlit cannot empty a file uploader from the script, so a new key gives an empty one.
    """
    n = int(st.session_state.get("uploader_generation", 0))
    return base if n == 0 else f"{base}_{n}"


def clear_uploaders() -> None:
    """Empty every uploader keyed with :func:`widget_key` (their files' names leave the screen)."""
    st.session_state.uploader_generation = int(st.session_state.get("uploader_generation", 0)) + 1


def refused_upload() -> None:
    """Where the recording uploader holds files that are not one recording: say so and draw nothing else."""
    message = st.session_state.get("upload_refused")
    if message:
        st.error(message, icon=":material/error:")
        st.caption("Nothing is analysed until the upload box holds one recording: remove the files named above "
                   "(× beside each), or choose the bundled example.")
        st.stop()


def take_upload(widget_key: str, target_key: str, error_key: str) -> bool:
    """Uploader callback: store the widget's files as an :class:`Upload` under ``target_key``.

    A refused upload (e.g. too large) leaves ``target_key`` as it was and puts the message under
    ``error_key`` instead; returns whether the upload was taken.
    """
    state = st.session_state
    state.pop(error_key, None)
    try:
        state[target_key] = upload_from_widget(state.get(widget_key))
    except ECGError as exc:
        state[error_key] = str(exc)
        return False
    return True


@st.cache_resource(show_spinner=False)
def example_upload(name: str = DEFAULT_EXAMPLE) -> Upload:
    return Upload.from_files({f: (config.EXAMPLES_DIR / f).read_bytes() for f in EXAMPLES[name].files}, example=name)


@st.cache_resource(show_spinner=False)
def example_reference(name: str = DEFAULT_EXAMPLE) -> Upload:
    f = EXAMPLES[name].annotations
    return Upload.from_files({f: (config.EXAMPLES_DIR / f).read_bytes()}, example=name)


@st.cache_resource(show_spinner=False)
def example_segments() -> Upload:
    return Upload.from_files({EXAMPLE_SEGMENTS: (config.EXAMPLES_DIR / EXAMPLE_SEGMENTS).read_bytes()},
                             example=DEFAULT_EXAMPLE)


def example_note(upload: Upload) -> str:
    """What the pages say about a recording: the bundled example's note, or that it is the user's."""
    return EXAMPLES[upload.example].note if upload.example in EXAMPLES else "uploaded file"


def current_recording() -> Upload:
    name = st.session_state.get("example_name", DEFAULT_EXAMPLE)
    return st.session_state.get("recording_upload") or example_upload(name if name in EXAMPLES else DEFAULT_EXAMPLE)


def current_reference() -> Upload | None:
    """Reference annotations for the current recording: uploaded ones, else the example's own."""
    ref = st.session_state.get("reference_upload")
    if ref is not None:
        return ref
    rec = current_recording()
    return example_reference(rec.example) if rec.example in EXAMPLES else None


def keep_settings() -> None:
    """Set the shared, non-widget session-state defaults once per session."""
    st.session_state.setdefault("detector_params", detector_defaults())
    st.session_state.setdefault("sampling_rate_setting", float(config.DEFAULT_FS))
    st.session_state.setdefault("lead_setting", None)


# ----------------------------------------------------------------------------- cached work
# Cached functions take the upload's digest (hashed) and the upload itself with a leading
# underscore (not hashed), so a rerun never re-hashes or re-reads the file's bytes.


@st.cache_resource(show_spinner="Loading the beat classifier…")
def get_classifier():
    from ecg_core.model import load_for_serving

    return load_for_serving()


@st.cache_data(max_entries=8, show_spinner=False)
def load_source(digest: str, sampling_rate: float | None, _upload: Upload):
    """Read an upload into a Recording (or Segments), cached on its content and the rate."""
    from ecg_core import io

    return io.load_files(_upload.as_dict(), sampling_rate=sampling_rate)


def load_recording(upload: Upload, sampling_rate: float, lead: str | None):
    """The upload as a Recording at the chosen lead; the user's rate applies only where the file has none."""
    rec = load_source(upload.digest, None, upload)
    if not hasattr(rec, "signals"):
        raise ECGError(
            "This file holds pre-cut beat segments (rows of 360 samples), not a continuous recording. "
            "Open it on the “Classify segments” page."
        )
    if not rec.sampling_rate_from_file and float(sampling_rate) != float(rec.sampling_rate):
        rec = load_source(upload.digest, float(sampling_rate), upload)
    if lead and lead in rec.lead_names and lead != rec.lead:
        rec = rec.with_lead(lead)
    return rec


@st.cache_data(max_entries=64, show_spinner=False)
def detect(digest: str, lead: str, sampling_rate: float, params: tuple, _signal, _rec=None) -> np.ndarray:
    """R-peaks of one lead, cached on (recording, lead, rate, detector settings); ``_rec``'s second lead votes in
    noise (:meth:`ecg_core.io.Recording.second_lead`), as in the command line and the API."""
    from ecg_core.peaks import detect_r_peaks

    second = _rec.second_lead() if _rec is not None else None
    return detect_r_peaks(_signal, sampling_rate, second_lead=second, **dict(params))


@st.cache_data(max_entries=16, show_spinner=False)
def classify(digest: str, lead: str, sampling_rate: float, params: tuple, _signal, _peaks):
    """Classify the beats at ``_peaks`` (found with ``params``); cached like :func:`detect`."""
    from ecg_core.pipeline import analyze

    return analyze(_signal, sampling_rate, peaks=_peaks, classifier=get_classifier())


@st.cache_data(max_entries=16, show_spinner=False)
def load_reference(digest: str, sampling_rate: float, _upload: Upload):
    """Reference annotations, restricted to beats with an AAMI class."""
    from ecg_core import io

    name, data = _upload.files[0]
    for fname, content in _upload.files:
        if fname.lower().endswith((".atr", ".txt")):
            name, data = fname, content
    return io.load_annotations(data, filename=name, sampling_rate=sampling_rate)


def json_bytes(payload: dict) -> bytes:
    """``payload`` as strict JSON (NaN as null, :func:`ecg_core.jsonsafe.json_safe`), indented."""
    return json.dumps(json_safe(payload), indent=2).encode()


# ----------------------------------------------------------------------------- errors


@contextmanager
def user_errors(doing: str):
    """Show any failure inside the block as one message in the page, never a traceback.

    ``ECGError`` messages (bad file, bad setting) are shown as they are; anything else gets a
    generic message and is logged for the developers. Streamlit's own rerun/stop signals pass.
    """
    try:
        yield
    except ECGError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception:  # noqa: BLE001 - the user must never see a traceback
        log.exception("unexpected failure while %s", doing)
        st.error(
            f"Something unexpected went wrong while {doing}. The file may be in a layout this app does not "
            "know yet; check it opens in another ECG viewer, or try the bundled example.",
            icon=":material/error:",
        )


@st.cache_data(max_entries=16, show_spinner=False)
def events_of(key, _analysis) -> tuple:
    """The analysis's rhythm events (:meth:`ecg_core.pipeline.Analysis.events`), cached on ``key``."""
    return _analysis.events()


@st.cache_data(max_entries=16, show_spinner=False)
def hrv_of(key, _analysis):
    """The analysis's time-domain HRV (:meth:`ecg_core.pipeline.Analysis.hrv`), cached on ``key``."""
    return _analysis.hrv()


def current_edits(key) -> tuple:
    """The beat edits of the recording analysed as ``key`` (a new recording or setting starts with none)."""
    state = st.session_state
    if state.get("beat_edits_key") != key:
        state.beat_edits_key = key
        state.beat_edits = ()
    return tuple(state.get("beat_edits", ()))


def undo_edit() -> None:
    """Drop the last beat edit (button callback)."""
    st.session_state.beat_edits = tuple(st.session_state.get("beat_edits", ()))[:-1]
    st.session_state.pop("edit_error", None)


def discard_edits() -> None:
    """Drop every beat edit of the recording (button callback)."""
    st.session_state.beat_edits = ()
    st.session_state.pop("edit_error", None)


@st.cache_data(max_entries=8, show_spinner=False)
def edited_analysis(key, edits: tuple, _analysis):
    """``ecg_core.edits.apply_edits`` of ``edits`` (and the edited mask; None without edits), cached on ``key``."""
    from ecg_core.edits import apply_edits

    if _analysis is None or not edits:
        return _analysis, None
    return apply_edits(_analysis, edits)


def params_key(params: dict) -> tuple:
    """Detector settings as a hashable, ordered key of the caches."""
    return tuple(sorted((k, float(v)) for k, v in params.items()))


def detector_defaults() -> dict:
    """A copy of the detector's default settings (:data:`ecg_core.peaks.DEFAULTS`)."""
    from ecg_core.peaks import DEFAULTS

    return dict(DEFAULTS)


@st.cache_data(max_entries=16, show_spinner="Sweeping the setting…")
def sweep(digest: str, reference_digest: str, lead: str, sampling_rate: float, params: tuple, name: str, _signal,
          _fit, _rec=None):
    """:func:`ecg_core.tuning.sweep_parameter` against the reference beats of ``_fit``, cached on the recording, the
    reference and the settings; ``_rec``'s second lead votes as in :func:`detect`."""
    from ecg_core.tuning import sweep_parameter

    second = _rec.second_lead() if _rec is not None else None
    return sweep_parameter(_signal, sampling_rate, _fit.samples, name, params=dict(params), episodes=_fit.episodes,
                           second_lead=second)


def show_reference_fit(fit, recording_name: str) -> bool:
    """Warn plainly when the reference does not fit the recording (and say what was cut); returns ``fit.fits``."""
    text = fit.message(recording_name)
    if not fit.fits:
        st.warning(text, icon=":material/warning:")
    elif text:
        st.info(text, icon=":material/content_cut:")
    return fit.fits


@st.cache_resource(max_entries=48, show_spinner=False)
def _figure(builder: str, key, _args: tuple, _kwargs: dict):
    from ecg_core import plotting

    return getattr(plotting, builder)(*_args, **_kwargs)


def cached_figure(builder: str, key, *args, **kwargs):
    """``ecg_core.plotting.<builder>(*args, **kwargs)``, built once per ``key`` (never mutate the result).

    For figures that depend only on the analysed recording (``key``), so a click or a filter
    does not rebuild them.
    """
    return _figure(builder, key, args, kwargs)


def show_chart(fig, *, key: str, where=st, **kwargs):
    """``where.plotly_chart(fig)`` without Streamlit's theme (``ecg_core.plotting`` styles its figures).

    Streamlit's theme adds a template to each figure, and Plotly recomputes and redraws a figure
    with a template on every render, so the theme made the browser draw each chart twice.
    """
    return where.plotly_chart(fig, key=key, theme=None, config={"displaylogo": False}, **kwargs)
