"""Analyse a recording: upload, find and classify every beat, explore them (the landing page).

The page is the ``render_*`` calls at the bottom, in the order drawn. The results come from ``ecg_core``
(:class:`ecg_core.pipeline.Analysis`, :mod:`ecg_core.evaluate`); the analysed recording and what a run shows of
it (``Result``, ``View``, ``Reference``) and the widgets' callbacks from ``app_pages/_analyse.py``.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import _analyse as cb
from app_pages import _common as app
from app_pages._analyse import DETAIL_LENGTHS, TABLE_FILTERS, Reference, View, select_beat
from app_pages._analyse_results import render_agreement, render_downloads, render_tables
from ecg_core import config, plotting
from ecg_core.config import CLASSES
from ecg_core.evaluate import percent
from ecg_core.events import BRADY_BPM, PAUSE_S, TACHY_BPM
from ecg_core.pipeline import LOW_CONFIDENCE, beat_window

app.keep_settings()
state = st.session_state
#: What a class means in this product, beyond its name (the class counts' help).
CLASS_HELP = {"F": ". Called by a heuristic where a beat that looks ventricular comes on time with the running "
                   "rhythm after a P wave like the usual one, and its QRS is partly the usual one (Model page). "
                   "On DS1 patients the model never saw, about 4 in 10 true fusion beats are found and about half "
                   "of the F calls are right; the others are mostly ventricular, so count F with VEB when "
                   "estimating the ventricular burden."}


def _span(seconds: float) -> str:
    """A duration as the summary shows it: minutes from 2 min on, else seconds."""
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"


# ----------------------------------------------------------------------------- inputs


def render_inputs():
    """The title, the upload boxes and settings; returns the rate setting and the slot of the lead selector."""
    st.title("Analyse a recording")
    st.caption(
        "Upload an ECG to find every heartbeat and classify it (AAMI classes N, SVEB, VEB, F, Q). "
        "Research software: **not a medical device**; a clinician must review every result."
    )
    with st.expander("Recording, reference annotations and settings", expanded=False, icon=":material/upload_file:"):
        c1, c2 = st.columns(2)
        c1.file_uploader(
            "Recording: CSV (ECG column, Kaggle MIT-BIH layout or numeric columns), WFDB pair (.hea + .dat) or EDF",
            type=app.RECORDING_TYPES, accept_multiple_files=True, key=app.widget_key("analyse_upload"),
            on_change=cb.on_recording_upload,
            help=f"One recording at a time; for a WFDB record select both its .hea and .dat files. Up to "
                 f"{app.MAX_UPLOAD_MB} MB.",
        )
        c2.file_uploader(
            "Reference annotations (optional): WFDB .atr or Kaggle NNNannotations.txt",
            type=app.ANNOTATION_TYPES, accept_multiple_files=False, key=app.widget_key("analyse_reference"),
            on_change=cb.on_reference_upload,
            help="The cardiologists' beat labels, to measure how well the detected and classified beats agree.",
        )
        s1, s2, s3, s4 = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
        if "analyse_fs" not in state:
            state.analyse_fs = float(state.sampling_rate_setting)
        fs_setting = s1.number_input(
            "Sampling rate (Hz) if the file does not state it", min_value=float(config.MIN_FS),
            max_value=float(config.MAX_FS), step=10.0, format="%g", key="analyse_fs",
            help=f"WFDB, EDF and CSVs with a time column state their rate. Other files are read at this rate "
                 f"(default {config.DEFAULT_FS:g} Hz, the MIT-BIH rate).",
        )
        state.sampling_rate_setting = float(fs_setting)
        lead_slot = s2.empty()
        if "analyse_example" not in state:
            state.analyse_example = state.get("example_name", app.DEFAULT_EXAMPLE)
        s3.selectbox("Bundled example", list(app.EXAMPLES), format_func=lambda k: app.EXAMPLES[k].title,
                     key="analyse_example", on_change=cb.use_example,
                     help="Excerpts of MIT-BIH records (PhysioNet) with the cardiologists' annotations.")
        s4.button("Show the bundled example", key="analyse_use_example", on_click=cb.use_example,
                  icon=":material/restart_alt:")
    if state.get("upload_error"):
        st.error(state.upload_error, icon=":material/error:")
    if state.get("upload_note"):
        st.info(state.upload_note, icon=":material/info:")
    app.refused_upload()
    return fs_setting, lead_slot


# ----------------------------------------------------------------------------- analysis


def render_source(fs_setting: float, lead_slot) -> cb.Result:
    """Analyse the current recording (with a status box when it is new), or keep the previous result on screen
    when it fails; stops the page when there is nothing to show."""
    upload = app.current_recording()
    params = dict(state.detector_params)
    result = None
    with app.user_errors(f"analysing {upload.name}"):
        previous = state.get("analyse_result")
        fresh = previous is None or previous.upload.digest != upload.digest or previous.params != params
        if fresh:
            with st.status(f"Analysing {upload.name}…", expanded=False) as status:
                try:
                    result = cb.analyse(upload, fs_setting, state.get("lead_setting"), params, status)
                except Exception:
                    status.update(label=f"Could not analyse {upload.name}: see the message below", state="error")
                    raise
                status.update(label=f"Analysed {upload.name}: {len(result.peaks)} beats", state="complete")
        else:
            result = cb.analyse(upload, fs_setting, state.get("lead_setting"), params)
    if result is None:
        result = state.get("analyse_result")
        if result is None:
            st.stop()
        st.caption(f"Still showing the previous results ({result.upload.name}).")
        # go back to what is on screen, so the next click does not retry the file that failed
        state.recording_upload = None if result.upload.example else result.upload
        if result.upload.example:
            state.example_name = result.upload.example
        state.lead_setting = result.lead
    else:
        if state.get("analyse_result") is None or state.analyse_result.key != result.key:
            for key in ("selected_beat", *TABLE_FILTERS):  # a new recording starts unfiltered
                state.pop(key, None)
        state.analyse_result = result
    if len(result.lead_names) > 1:
        lead_slot.selectbox("Lead", result.lead_names, index=result.lead_names.index(result.lead),
                            key="analyse_lead", on_change=lambda: state.update(lead_setting=state.analyse_lead))
    else:
        lead_slot.caption(f"Lead: {result.lead}")
    return result


def render_header(v: View) -> None:
    """The recording, its lead and rate, and the detector settings, in one line."""
    res, fs = v.res, v.fs
    custom = res.params != dict(app.detector_defaults())
    st.markdown(
        f"**{res.upload.name}** · " + app.example_note(res.upload)
        + f" · lead **{res.lead}** · {fs:g} Hz " + ("(from the file)" if res.rate_from_file else
                                                     f"(the file states no rate: set in the settings above, default "
                                                     f"{config.DEFAULT_FS:g} Hz)")
        + (" · detector: **custom settings** from *Tune detection*" if custom else " · detector: default settings")
    )
    if res.model_error:
        st.warning(f"Beats were found but not classified: {res.model_error}", icon=":material/warning:")


# ----------------------------------------------------------------------------- summary and events


def render_summary(v: View) -> None:
    """Duration, beats, rates, classes, HRV, and the atrial fibrillation note."""
    analysis, summary = v.analysis, v.summary
    m = st.columns(6)
    m[0].metric("Duration", _span(v.duration))
    m[1].metric("Beats", f"{len(v.peaks)}")
    if summary is not None and summary.mean_hr is not None:
        m[2].metric("Mean heart rate (bpm)", f"{summary.mean_hr:.0f}")
        m[3].metric("Min / max rate (bpm)", f"{summary.min_hr:.0f} / {summary.max_hr:.0f}",
                    help="From single RR intervals, so one ectopic beat sets the extremes.")
    if summary is None:
        return
    m[4].metric("Low-confidence beats", f"{summary.low_confidence}",
                help=f"Beats whose predicted class has a probability or decision score below {LOW_CONFIDENCE:g}: "
                     "review these first.")
    if summary.unreadable_s is not None:
        m[5].metric("Unreadable", _span(summary.unreadable_s), f"{summary.unreadable_beats} beats (Q)",
                    delta_color="off", delta_arrow="off",
                    help="Signal too noisy to read, or a flat lead: shaded grey on the traces. Its beats are labelled "
                         "Q (unreadable), not given a diagnosis, and left out of the low-confidence count and the "
                         "most confident beats; an unsure ectopic call where the signal is doubtful is Q too.")
    cm = st.columns(len(CLASSES))
    for col, c in zip(cm, CLASSES, strict=True):
        n = summary.counts[c]
        col.metric(f"{c} · {plotting.CLASS_SHORT[c]}", f"{n}", percent(n / max(summary.beats, 1)),
                   delta_color="off", delta_arrow="off", help=plotting.CLASS_NAMES[c] + CLASS_HELP.get(c, ""))
    hrv = app.hrv_of(v.fig_key, analysis)
    h = st.columns(5)
    h[0].metric("N-N intervals", f"{hrv.nn_intervals}",
                help="RR intervals between two beats labelled N (30-200 bpm): the HRV figures use only these.")
    for col, (label, value, unit, text) in zip(h[1:], app.hrv_figures(hrv), strict=True):
        col.metric(label, "—" if value is None else f"{value:.{1 if unit == '%' else 0}f}{' ' + unit}", help=text)
    if summary.atrial_fibrillation_beats:
        st.info(f"**Atrial fibrillation suspected** in {summary.atrial_fibrillation_beats} beats "
                f"({percent(summary.atrial_fibrillation_beats / max(summary.beats, 1), 0)}, about "
                + _span(analysis.af_duration_s())
                + "): an irregular rhythm without a consistent P wave (a run of ventricular tachycardia can look the "
                "same). No beat is called SVEB there: without sinus P waves there is no atrial rhythm for a beat to be "
                "premature to. The stretches are shaded in the RR tachogram "
                "(*Classes and rhythm*) and marked in the beat table; review them.", icon=":material/monitor_heart:")


def render_events(v: View, ref: Reference) -> tuple:
    """The rhythm events as a table (select one to show it), and the reference's rhythm annotations."""
    events = app.events_of(v.fig_key, v.analysis) if v.analysis is not None else ()
    state.analyse_events = events
    if v.analysis is None:
        return events
    rhythms = ref.annotations.rhythms_within(v.duration) if ref.fits else []
    st.subheader(f"Events ({len(events)})")
    counts = app.event_counts(events)
    st.caption((" · ".join(f"**{n}** {kind}" for kind, n in counts.items()) + ". " if events else
                "No events found. ")
               + "VT: three or more VEB in a row (three: a triplet); SVT: three or more SVEB; bigeminy / trigeminy: "
                 f"at least three VEB after one / two N beats; pauses over {PAUSE_S:g} s; AF: suspected atrial "
                 f"fibrillation; brady- / tachycardia: the rate over 8 beats below {BRADY_BPM:g} / above "
                 f"{TACHY_BPM:g} bpm. Select a row to show the event in the detail view below.")
    if events:
        st.dataframe(app.events_table(events, rhythms), key="events_table", on_select=cb.on_event_select,
                     selection_mode="single-row", hide_index=True, width="stretch",
                     height=min(300, 38 + 35 * len(events)),
                     column_config={"start": st.column_config.TextColumn("start (m:ss)"),
                                    "duration_s": st.column_config.NumberColumn("duration (s)", format="%.1f"),
                                    "rate_bpm": st.column_config.NumberColumn("rate (bpm)", format="%.0f")})
        current = int(state.get("event_index", -1))
        e1, e2, e3 = st.columns([1, 1, 4])
        e1.button("◀ Previous event", key="event_prev", disabled=current <= 0, on_click=cb.show_event,
                  args=(current - 1,))
        e2.button("Next event ▶", key="event_next", disabled=current + 1 >= len(events), on_click=cb.show_event,
                  args=(current + 1,))
        if 0 <= current < len(events):
            e3.caption(f"Showing event {current + 1} of {len(events)}: {events[current].kind}, "
                       f"{events[current].detail}, at {app.clock(events[current].start_s)}.")
    if rhythms:
        with st.expander(f"Reference rhythm annotations ({len(rhythms)})", icon=":material/fact_check:"):
            st.dataframe(app.rhythms_table(rhythms), hide_index=True, key="reference_rhythms", width="stretch")
            st.caption("The cardiologists' rhythm annotations (aux_note in the .atr): each from its mark to the next. "
                       "The events table names those that overlap each event.")
    return events


# ----------------------------------------------------------------------------- trace and beat


def highlights_of(v: View) -> dict[str, int]:
    """The starred beats (:meth:`ecg_core.pipeline.Analysis.highlights`), named as the traces' legend says."""
    if v.analysis is None:
        return {}
    return {(f"most confident beat ({v.labels[k]}, {v.scored(k)})" if c is None
             else f"most confident {c} beat ({v.scored(k)})"): k for c, k in v.analysis.highlights()}


def render_trace(v: View) -> int | None:
    """The overview of the whole recording and the detail window with its navigation; returns the selected beat."""
    res, fs, peaks, labels, analysis = v.res, v.fs, v.peaks, v.labels, v.analysis
    highlights = highlights_of(v)
    unreadable_spans = analysis.quality.spans if analysis is not None and analysis.quality is not None else None
    if state.get("selected_beat") is None or not 0 <= state.selected_beat < len(peaks):
        # the beat view opens on the most confident beat; the detail view opens at 0 s
        select_beat(next(iter(highlights.values()), 0 if len(peaks) else None))
    selected = state.get("selected_beat") if len(peaks) else None

    st.subheader("ECG trace")
    st.caption("Overview of the whole recording: **drag across it** to show that span in the detail view below (the "
               "range slider under it zooms the overview). Click a beat to inspect it; "
               "★ marks the most confident beat overall and of each class."
               + (f" With more than {plotting.MAX_BEAT_MARKERS} beats the overview shows each class as a row of ticks "
                  "above the trace (hover names each beat): click beats in the detail view below."
                  if len(peaks) > plotting.MAX_BEAT_MARKERS else ""))
    app.show_chart(
        app.cached_figure("trace_figure", ("overview", v.fig_key), res.shown, fs, peaks=peaks, labels=labels,
                          confidence=v.conf, highlights=highlights, units=res.shown_units, rangeslider=True,
                          height=300, score_kinds=v.kinds, unreadable=unreadable_spans,
                          title="Whole recording (downsampled)" if len(res.signal) > plotting.MAX_TRACE_POINTS
                          else "Whole recording", dragmode="select"),
        key="trace_overview", on_select=cb.on_overview_select, selection_mode=("points", "box"))

    d1, d2 = st.columns([3, 1])
    with d2:
        if "detail_len" not in state:
            state.detail_len = 10
        st.select_slider("Detail window (s)", options=DETAIL_LENGTHS, key="detail_len")
    detail_len = float(state.detail_len)
    max_start = max(0.0, float(np.floor((v.duration - detail_len) * 10) / 10))
    state.detail_start = min(float(state.get("detail_start", 0.0)), max_start)
    with d1:
        if max_start > 0:
            st.slider("Detail window start (s)", 0.0, max_start, step=0.1, key="detail_start")
    start = float(state.detail_start)
    n1, n2, n3, n4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    n1.text_input("Go to time", key="goto_time", on_change=cb.on_goto_time, placeholder="seconds, m:ss or h:mm:ss",
                  help="Centre the detail window on this time.")
    if labels is not None and len(peaks):
        state.analyse_labels = labels
        present = [c for c in CLASSES if np.any(labels == c)]
        if state.get("nav_class") not in present:
            state.nav_class = "VEB" if "VEB" in present else present[0]
        n2.selectbox("Beat class", present, key="nav_class")
        n3.button(f"◀ Previous {state.nav_class}", key="nav_class_prev", on_click=cb.step_class, args=(-1,),
                  disabled=app.step_to_class(labels, selected, state.nav_class, -1) is None)
        n4.button(f"Next {state.nav_class} ▶", key="nav_class_next", on_click=cb.step_class, args=(1,),
                  disabled=app.step_to_class(labels, selected, state.nav_class, 1) is None)
    if state.get("goto_error"):
        st.error(state.goto_error, icon=":material/error:")
    app.show_chart(
        plotting.ecg_strip_figure(res.shown, fs, peaks=peaks, labels=labels, confidence=v.conf, highlights=highlights,
                                  selected=selected, units=res.shown_units, start_s=start,
                                  stop_s=start + detail_len, score_kinds=v.kinds, height=300,
                                  unreadable=unreadable_spans,
                                  title=f"Full detail: {start:.1f}–{start + detail_len:.1f} s"),
        key="trace_detail", on_select=lambda: cb.on_chart_select("trace_detail"), selection_mode="points")
    st.caption(app.strip_note(res.shown_units, detail_len, res.units_note))
    return selected


def render_beat(v: View, selected: int | None) -> None:
    """The selected beat: its 1-s window, class, share and RR intervals, stepping, and the beat editor."""
    peaks, fs, analysis, kinds, conf = v.peaks, v.fs, v.analysis, v.kinds, v.conf
    if selected is None or not len(peaks):
        return
    st.subheader(f"Beat #{selected}")
    b1, b2 = st.columns([3, 1])
    lab = str(v.labels[selected]) if v.labels is not None else ""
    with b1:
        window = beat_window(v.res.shown, peaks[selected], fs, 0.5)
        app.show_chart(
            plotting.beat_figure(window, fs, probabilities=analysis.probabilities[selected] if analysis else None,
                                 classes=CLASSES, label=lab, units=v.res.shown_units,
                                 score_kind=kinds[selected] if lab else "probability",
                                 title=f"{lab} beat, {v.scored(selected, 2)}" if lab else "Beat"),
            key="beat_view")
    with b2:
        t = peaks[selected] / fs
        st.markdown(f"**Time** {int(t // 60)}:{t % 60:06.3f} ({t:.3f} s)  \n**Sample** {peaks[selected]}")
        if lab:
            st.markdown(f"**Class** {lab}: {plotting.CLASS_NAMES[lab]}  \n**{kinds[selected].capitalize()}** "
                        f"{conf[selected]:.3f}"
                        + ("  \n:orange[low confidence: review]" if conf[selected] < LOW_CONFIDENCE else ""))
            st.caption(app.SCORE_HELP[kinds[selected]])
            st.caption(f"Labelled by the {analysis.path} path of model {analysis.model_version or '?'}.")
        if selected > 0:
            st.markdown(f"**RR before** {1000 * (peaks[selected] - peaks[selected - 1]) / fs:.0f} ms")
        if selected + 1 < len(peaks):
            st.markdown(f"**RR after** {1000 * (peaks[selected + 1] - peaks[selected]) / fs:.0f} ms")
        nav = st.columns(2)
        nav[0].button("◀ Previous", key="beat_prev", disabled=selected == 0,
                      on_click=select_beat, args=(selected - 1, fs, peaks))
        nav[1].button("Next ▶", key="beat_next", disabled=selected + 1 >= len(peaks),
                      on_click=select_beat, args=(selected + 1, fs, peaks))
    if analysis is not None:
        render_editor(lab)


def render_editor(label: str) -> None:
    """Relabel or delete the selected beat, or add a missed one at a time."""
    with st.container(border=True, key="beat_editor"):
        st.markdown("**Correct the beats**: relabel or delete this beat, or add one the detector missed.")
        left, right = st.columns(2, gap="large")
        left.selectbox("Class", CLASSES, index=CLASSES.index(label) if label in CLASSES else 0, key="edit_label",
                       format_func=lambda c: f"{c} ({plotting.CLASS_SHORT[c]})")
        c1, c2 = left.columns(2)
        c1.button("Relabel", key="edit_relabel", on_click=cb.edit_beats, args=("relabel",),
                  help="Give this beat the class.")
        c2.button("Delete beat", key="edit_delete", on_click=cb.edit_beats, args=("delete",),
                  help="Not a beat (noise, a T wave): remove it.")
        a1, a2 = right.columns(2)
        a1.number_input("Add a missed beat at (s)", min_value=0.0, step=0.1, format="%.3f", key="edit_add_time",
                        help="The beat goes to the largest deflection within 75 ms of this time.")
        a2.selectbox("Its class", CLASSES, key="edit_add_label")
        right.button("Add beat", key="edit_add", on_click=cb.edit_beats, args=("add",))


def render_edits(v: View) -> None:
    """The edits made so far, with undo and discard."""
    if v.analysis is None:
        return
    if state.get("edit_error"):
        st.error(state.edit_error, icon=":material/error:")
    edits = v.edits
    if edits:
        st.info(f"**{len(edits)} edit{'s' if len(edits) > 1 else ''} of the beats** (summary, events, tables and "
                "downloads show the corrected beats): " + "; ".join(e.describe(v.fs) for e in edits[-5:])
                + (" …" if len(edits) > 5 else "") + ".", icon=":material/edit_note:")
        u1, u2, _ = st.columns([1, 1, 3])
        u1.button("Undo last edit", key="edit_undo", on_click=app.undo_edit, icon=":material/undo:")
        u2.button("Discard all edits", key="edit_discard", on_click=app.discard_edits, icon=":material/delete_sweep:")


# ----------------------------------------------------------------------------- the page

fs_setting, lead_slot = render_inputs()
view = cb.view_of(render_source(fs_setting, lead_slot))
render_header(view)
reference = cb.reference_of(view)
render_summary(view)
events = render_events(view, reference)
render_beat(view, render_trace(view))
render_edits(view)
render_tables(view)
render_agreement(view, reference)
render_downloads(view, reference, events)
