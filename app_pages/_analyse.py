"""The analysis page's state and callbacks: one analysed recording (:class:`Result`, :func:`analyse`), what a
run of the page shows of it (:class:`View`, with the edits; :class:`Reference`, the agreement), and the widgets'
callbacks that move the beat view, the detail window and the edits (``app_pages/analyse.py`` draws the page)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import _common as app
from ecg_core import io as ecg_io
from ecg_core.edits import Edit, apply_edits, edited_score_kinds, snap_to_peak
from ecg_core.errors import ECGError
from ecg_core.evaluate import agreement, fit_annotations

state = st.session_state
#: The beat table's filter widgets: kept while their tab is closed (Streamlit drops the state of widgets
#: that are not drawn).
TABLE_FILTERS = ("table_classes", "table_conf", "table_sort")
#: Lengths of the detail window (s).
DETAIL_LENGTHS = [5, 10, 20, 30, 60]


@dataclass(frozen=True)
class Result:
    """What the page shows: one analysed recording (kept so that a failed upload leaves it on screen)."""

    key: tuple
    upload: app.Upload
    signal: np.ndarray
    sampling_rate: float
    rate_from_file: bool
    lead: str
    lead_names: tuple
    units: str
    peaks: np.ndarray
    analysis: object | None
    model_error: str | None
    params: dict
    shown: np.ndarray  # the lead as drawn: in mV where the file says how (ecg_core.io.to_millivolts)
    shown_units: str
    units_note: str  # what was converted, for the page to say


@dataclass(frozen=True)
class View:
    """What one run of the page shows: the analysed recording with the reviewer's edits replayed."""

    res: Result
    edits: tuple
    analysis: object | None  # ecg_core.pipeline.Analysis, edited; None where the beats were not classified
    kinds: np.ndarray | None  # per beat, what its share is (probability, decision score, edited)
    summary: object | None  # ecg_core.pipeline.Summary of the analysis
    fig_key: tuple  # figures that depend only on the analysed recording are built once per (recording, model)

    @property
    def fs(self) -> float:
        return self.res.sampling_rate

    @property
    def peaks(self) -> np.ndarray:
        return self.analysis.samples if self.analysis is not None else self.res.peaks

    @property
    def labels(self):
        return self.analysis.labels if self.analysis is not None else None

    @property
    def conf(self):
        return self.analysis.confidence if self.analysis is not None else None

    @property
    def duration(self) -> float:
        return len(self.res.signal) / self.fs

    def scored(self, k: int, digits: int = 3) -> str:
        """Beat ``k``'s share, named for what it is ("probability 0.972" or "decision score 0.992")."""
        return f"{self.kinds[k]} {self.conf[k]:.{digits}f}"


@dataclass(frozen=True)
class Reference:
    """The reference annotations of the recording and how the analysis agrees with them (None where absent)."""

    upload: app.Upload | None = None
    annotations: object | None = None
    fit: object | None = None
    score: object | None = None
    disagreements: pd.DataFrame | None = None

    @property
    def fits(self) -> bool:
        return self.annotations is not None and self.fit is not None and self.fit.fits


def analyse(upload: app.Upload, fs_setting: float, lead: str | None, params: dict, status=None) -> Result:
    """Read, detect and classify ``upload`` (each step cached in ``_common``), saying each step in ``status``."""
    def step(text):
        if status is not None:
            status.update(label=text)

    step(f"Reading {upload.name}…")
    rec = app.load_recording(upload, fs_setting, lead)
    x = np.asarray(rec.signal, dtype=np.float64)
    fs = float(rec.sampling_rate)
    pk = app.params_key(params)
    step(f"Finding beats in {x.size / fs / 60:.1f} min of ECG…")
    peaks = app.detect(upload.digest, rec.lead, fs, pk, x, rec)
    analysis, model_error = None, None
    step(f"Classifying {len(peaks)} beats…")
    try:
        analysis = app.classify(upload.digest, rec.lead, fs, pk, x, peaks)
    except ECGError as exc:
        model_error = str(exc)
    key = (upload.digest, rec.lead, fs, pk)
    units = getattr(rec, "units", "") or ""
    shown, shown_units, note = ecg_io.to_millivolts(x, units, rec.source_format)
    return Result(key, upload, x, fs, bool(rec.sampling_rate_from_file), rec.lead, tuple(rec.lead_names),
                  units, np.asarray(peaks), analysis, model_error, params, shown, shown_units, note)


def view_of(res: Result) -> View:
    """The result with the reviewer's corrections of its beats (:mod:`ecg_core.edits`) replayed."""
    edits = app.current_edits(res.key) if res.analysis is not None else ()
    analysis, edited = app.edited_analysis(res.key, edits, res.analysis)
    kinds = edited_score_kinds(analysis, edited) if analysis is not None else None
    view = View(res, edits, analysis, kinds, analysis.summary() if analysis is not None else None,
                (res.key, analysis.model_version if analysis is not None else None, edits))
    state.analyse_peaks = view.peaks  # the callbacks' beat numbers are those on screen
    return view


def reference_of(v: View) -> Reference:
    """The reference annotations (uploaded, or the example's own), whether they fit, and the agreement."""
    ref_upload = app.current_reference()
    if ref_upload is None:
        return Reference()
    annotations = fit = score = disagreements = None
    with app.user_errors(f"reading the reference annotations {ref_upload.name}"):
        annotations = app.load_reference(ref_upload.digest, v.fs, ref_upload)
        fit = fit_annotations(annotations, v.peaks, v.fs, n_samples=len(v.res.signal),
                              recording_name=v.res.upload.name)
        if v.analysis is not None and fit.fits:
            score, disagreements = agreement(fit, v.analysis.samples, v.labels, v.fs)
    return Reference(ref_upload, annotations, fit, score, disagreements)


# ----------------------------------------------------------------------------- callbacks


def on_recording_upload():
    for key in ("upload_error", "upload_refused", "upload_note"):
        state.pop(key, None)
    try:
        files = app.upload_from_widget(state.get(app.widget_key("analyse_upload")))
        ref = app.upload_from_widget(state.get(app.widget_key("analyse_reference")))
    except ECGError as exc:  # too large: the previous results stay
        state.upload_error = str(exc)
        return
    try:
        up, ignored = app.recording_of(files)
    except ECGError as exc:  # not one recording: nothing is analysed until the box holds one
        state.upload_refused = str(exc)
        return
    if ignored:
        state.upload_note = (f"{', '.join(ignored)}: reference annotations, not a recording, so set aside. Upload "
                             "them in the reference box to compare.")
    state.recording_upload = up
    state.reference_upload = ref
    state.pop("selected_beat", None)
    state.detail_start = 0.0


def on_reference_upload():
    app.take_upload(app.widget_key("analyse_reference"), "reference_upload", "upload_error")


def use_example():
    state.example_name = state.get("analyse_example", app.DEFAULT_EXAMPLE)
    state.recording_upload = None
    state.reference_upload = None
    app.clear_uploaders()  # the previous upload's file names leave the upload boxes
    for key in ("selected_beat", "upload_error", "upload_refused", "upload_note"):
        state.pop(key, None)
    state.detail_start = 0.0


def select_beat(k: int | None, fs: float | None = None, peaks=None):
    """Show beat ``k`` in the beat panel and centre the detail view on it."""
    if k is None:
        return
    state.selected_beat = int(k)
    if fs and peaks is not None and 0 <= k < len(peaks):
        length = float(state.get("detail_len", 10))
        state.detail_start = float(max(0.0, round(peaks[k] / fs - length / 2, 1)))


def on_chart_select(key: str):
    res = state.get("analyse_result")
    event = state.get(key)
    if res is None or not event:
        return
    for point in event.get("selection", {}).get("points", []):
        data = point.get("customdata")
        if isinstance(data, list | tuple):
            data = data[0] if data else None
        if data is not None:
            select_beat(int(data), res.sampling_rate, state.get("analyse_peaks", res.peaks))
            return


def show_span(t0: float, t1: float):
    """Move the detail window to the span ``[t0, t1]`` (s): the shortest window length that holds it, from ``t0``."""
    length = next((w for w in DETAIL_LENGTHS if w >= t1 - t0), DETAIL_LENGTHS[-1])
    state.detail_len = length
    state.detail_start = float(max(0.0, round(t0 if t1 - t0 >= length else (t0 + t1) / 2 - length / 2, 1)))


def on_overview_select():
    """A span dragged on the overview moves the detail window there; a clicked beat is shown and centred."""
    event = state.get("trace_overview") or {}
    boxes = event.get("selection", {}).get("box", [])
    xs = boxes[0].get("x", []) if boxes else []
    if len(xs) >= 2:
        show_span(float(min(xs)), float(max(xs)))
        return
    on_chart_select("trace_overview")


def on_goto_time():
    """The time box: centre the detail window on the time typed (seconds, m:ss or h:mm:ss)."""
    state.pop("goto_error", None)
    text = str(state.get("goto_time", "")).strip()
    if not text:
        return
    seconds = app.parse_clock(text)
    if seconds is None:
        state.goto_error = f"“{text}” is not a time: type seconds (754.2), m:ss (12:34.2) or h:mm:ss (1:02:03)."
        return
    length = float(state.get("detail_len", 10))
    state.detail_start = float(max(0.0, round(seconds - length / 2, 1)))


def step_class(direction: int):
    """Select the previous (``-1``) or next (``+1``) beat of the class chosen in ``nav_class`` and centre it."""
    res, peaks, labels = state.get("analyse_result"), state.get("analyse_peaks"), state.get("analyse_labels")
    if res is None or labels is None or peaks is None:
        return
    k = app.step_to_class(labels, int(state.get("selected_beat", 0)), state.get("nav_class", "VEB"), direction)
    if k is not None:
        select_beat(k, res.sampling_rate, peaks)


def on_table_select():
    event = state.get("beat_table")
    rows = event.get("selection", {}).get("rows", []) if event else []
    index = state.get("beat_table_index", [])
    res = state.get("analyse_result")
    if rows and res is not None and rows[0] < len(index):
        select_beat(index[rows[0]], res.sampling_rate, state.get("analyse_peaks", res.peaks))
    state.rerun_page = True  # the table is in the tabs fragment; the beat view above must follow


def on_tachogram_select():
    on_chart_select("tachogram")
    state.rerun_page = True  # in the tabs fragment, like the table


def show_event(k: int):
    """Select event ``k``'s first beat and centre the detail view (widened to hold it) on the event (from its
    onset when it is longer than the longest window)."""
    res, events = state.get("analyse_result"), state.get("analyse_events") or ()
    if res is None or not 0 <= k < len(events):
        return
    event = events[k]
    state.event_index = int(k)
    state.selected_beat = int(event.first_beat)
    length = float(state.get("detail_len", 10))
    if event.duration_s + 2 > length:
        length = next((w for w in DETAIL_LENGTHS if w >= event.duration_s + 2), DETAIL_LENGTHS[-1])
        state.detail_len = length
    # centred on the event; one longer than the longest window is shown from its onset
    centre = event.centre_s if event.duration_s + 2 <= length else event.start_s - 1 + length / 2
    state.detail_start = float(max(0.0, round(centre - length / 2, 1)))


def edit_beats(action: str):
    """Apply one correction to the selected beat (``relabel``, ``delete``) or add a missed one (``add``)."""
    res, peaks = state.get("analyse_result"), state.get("analyse_peaks")
    state.pop("edit_error", None)
    if res is None or res.analysis is None or peaks is None:
        return
    fs = res.sampling_rate
    if action == "add":
        sample = snap_to_peak(res.shown, fs, int(round(float(state.get("edit_add_time", 0.0)) * fs)))
        edit = Edit("add", sample, state.get("edit_add_label", "N"))
    else:
        k = int(state.get("selected_beat", 0))
        edit = Edit(action, int(peaks[k]), state.get("edit_label", "N") if action == "relabel" else "")
    edits = (*state.get("beat_edits", ()), edit)
    try:
        after, _ = apply_edits(res.analysis, edits)
    except ECGError as exc:
        state.edit_error = str(exc)
        return
    state.beat_edits = edits
    samples = after.samples
    if action == "delete":
        state.selected_beat = min(int(state.get("selected_beat", 0)), max(len(samples) - 1, 0))
    else:
        select_beat(int(np.searchsorted(samples, edit.sample)), fs, samples)


def on_event_select():
    event = state.get("events_table")
    rows = event.get("selection", {}).get("rows", []) if event else []
    if rows:
        show_event(int(rows[0]))
