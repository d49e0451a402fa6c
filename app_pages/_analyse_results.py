"""The analysis page's lower half: the beat table, classes and rhythm, agreement with a reference, downloads.

Rendered by :mod:`app_pages.analyse` from its :class:`~app_pages._analyse.View`; like the page, these
functions read widgets and draw what ``ecg_core`` computed.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _analyse as cb
from app_pages import _common as app
from app_pages._analyse import TABLE_FILTERS, Reference, View
from ecg_core import io as ecg_io
from ecg_core import plotting, report
from ecg_core.config import CLASSES
from ecg_core.evaluate import percent
from ecg_core.events import BRADY_BPM, TACHY_BPM
from ecg_core.pipeline import LOW_CONFIDENCE, beat_times

state = st.session_state


def beat_table(v: View) -> None:
    """The beats as a table: filter, sort, and select a row to show that beat above."""
    analysis = v.analysis
    table = analysis.beat_table(v.kinds) if analysis is not None else beat_times(v.peaks, v.fs)
    if analysis is not None:
        f1, f2, f3 = st.columns([2, 2, 1])
        present = [c for c in CLASSES if v.summary.counts[c]]
        if "table_classes" in state:  # a chip only for a class this recording has
            kept = [c for c in state.table_classes if c in present]
            state.table_classes = kept if kept or not state.table_classes else present
        chosen = f1.multiselect("Classes", present, default=None if "table_classes" in state else present,
                                key="table_classes")
        lo, hi = f2.slider("Score of the predicted class", 0.0, 1.0, (0.0, 1.0), step=0.01, key="table_conf",
                           help="The probability or decision score of each beat's class (column “score is”).")
        order = f3.selectbox("Sort by", ["time", "least confident first", "most confident first", "class"],
                             key="table_sort")
        table = table[table["label"].isin(chosen) & table["probability"].between(lo, hi)]
        table = {"time": table,
                 "least confident first": table.sort_values("probability", kind="stable"),
                 "most confident first": table.sort_values("probability", ascending=False, kind="stable"),
                 "class": table.sort_values(["label", "probability"], ascending=[True, False], kind="stable")}[order]
    matching = len(table)
    table = table.head(app.TABLE_ROWS)
    state.beat_table_index = table["beat"].tolist()
    st.caption(f"{matching} of {len(v.peaks)} beats. Select a row to show the beat above."
               + (f" The table shows the first {app.TABLE_ROWS:,} in this order: narrow the filters, change the order, "
                  "or download the per-beat CSV below for all of them." if matching > app.TABLE_ROWS else ""))
    prob_cols = {f"p_{c}": st.column_config.NumberColumn(f"p {c}", format="%.3f",
                                                         help=f"Share of class {c} (a probability or a decision "
                                                              "score, as “score is” says).") for c in CLASSES}
    st.dataframe(
        table, key="beat_table", on_select=cb.on_table_select, selection_mode="single-row", hide_index=True,
        height=300, width="stretch",
        column_config={
            "time_s": st.column_config.NumberColumn("time (s)", format="%.3f"),
            "rr_before_ms": st.column_config.NumberColumn("RR before (ms)", format="%.0f"),
            "probability": st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0, format="%.3f",
                                                           help="The share of the beat's class: see “score is”."),
            "score_kind": st.column_config.TextColumn("score is", help=app.SCORE_HELP["probability"] + " "
                                                      + app.SCORE_HELP["decision score"]),
            "af": st.column_config.CheckboxColumn("AF?", help="Inside suspected atrial fibrillation "
                                                              "(no beat is called SVEB there)."),
            **prob_cols,
        },
    )


def classes_and_rhythm(v: View) -> None:
    """Beats per class, confidence per class and the RR tachogram."""
    analysis, fig_key = v.analysis, v.fig_key
    if analysis is not None and len(analysis):
        g1, g2 = st.columns(2)
        app.show_chart(app.cached_figure("class_counts_figure", fig_key, v.summary.counts),
                       key="class_counts", where=g1)
        app.show_chart(app.cached_figure("confidence_figure", fig_key, v.labels, v.conf, threshold=LOW_CONFIDENCE),
                       key="confidence_dist", where=g2)
    if analysis is not None and len(analysis) >= 2:
        app.show_chart(app.cached_figure("heart_rate_figure", fig_key, analysis.heart_rate_trend(),
                                         brady_bpm=BRADY_BPM, tachy_bpm=TACHY_BPM), key="hr_trend")
    af = analysis.atrial_fibrillation if analysis is not None else None
    app.show_chart(app.cached_figure("tachogram_figure", fig_key, v.peaks, v.fs, v.labels, atrial_fibrillation=af),
                   key="tachogram", on_select=cb.on_tachogram_select, selection_mode="points")


@st.fragment
def render_tables(v: View) -> None:
    """The beat table and the class and rhythm charts, as tabs.

    Only the open tab runs and is drawn (``on_change="rerun"``), and a fragment: switching tabs or
    filtering the table reruns only this part. A beat picked here reruns the whole page, whose beat
    view and detail window show it.
    """
    if state.pop("rerun_page", False):
        st.rerun(scope="app")
    for key in TABLE_FILTERS:
        if key in state:
            state[key] = state[key]  # assigned by the page, the value outlives the widget
    tab_beats, tab_classes = st.tabs(["Beats", "Classes and rhythm"], key="analyse_tab", on_change="rerun")
    if tab_beats.open:
        with tab_beats:
            beat_table(v)
    if tab_classes.open:
        with tab_classes:
            classes_and_rhythm(v)


# ----------------------------------------------------------------------------- agreement and downloads


def render_agreement(v: View, ref: Reference) -> None:
    """How the beats agree with the reference annotations: accuracy, confusion, per class, disagreeing beats."""
    if ref.fit is not None and v.analysis is not None:
        st.subheader(f"Agreement with the reference annotations ({ref.upload.name})")
        app.show_reference_fit(ref.fit, v.res.upload.name)
    score = ref.score
    if score is None:
        if ref.upload is None and v.analysis is not None:
            st.caption("Upload reference annotations above to see the agreement with a cardiologist's labels.")
        return
    a1, a2, a3 = st.columns(3)
    a1.metric("Reference beats", f"{score.beats}")
    a2.metric("Same class as the reference", percent(score.accuracy),
              help="Reference beats matched within 150 ms by a detected beat of the same class.")
    a3.metric("Disagreeing beats", f"{len(ref.disagreements)}")
    c1, c2 = st.columns([1, 1])
    app.show_chart(plotting.confusion_figure(score.confusion, CLASSES, [*CLASSES, "missed"],
                                             title="Reference (rows) vs. this analysis (columns)"),
                   key="agreement_confusion", where=c1)
    c2.dataframe(
        pd.DataFrame([{"class": s.label, "reference": s.reference, "predicted": s.predicted,
                       "Se": percent(s.sensitivity), "+P": percent(s.ppv)} for s in score.per_class()]),
        hide_index=True, key="agreement_table", width="stretch",
        column_config={
            "Se": st.column_config.TextColumn(help="Sensitivity: share of the reference beats of this class given "
                                                   "this class here."),
            "+P": st.column_config.TextColumn(help="Positive predictivity: share of the beats given this class that "
                                                   "have it in the reference."),
        },
    )
    c2.caption("EC57 matching: a detected beat within 150 ms of a reference beat; beats inside ventricular "
               "flutter episodes are left out. “—”: not defined (Se: no reference beat of the class; +P: no beat "
               "given the class here).")
    with st.expander(f"Disagreeing beats ({len(ref.disagreements)})", expanded=False):
        st.dataframe(ref.disagreements, hide_index=True, key="disagreements", width="stretch",
                     column_config={"time_s": st.column_config.NumberColumn("time (s)", format="%.3f")})


def render_downloads(v: View, ref: Reference, events: tuple) -> None:
    """The per-beat CSV, the JSON summary, the beats as WFDB annotations and peaks CSV, and the PDF report."""
    analysis, res, fs, edits = v.analysis, v.res, v.fs, v.edits
    if analysis is None:
        return
    st.subheader("Downloads")
    stem = res.upload.name.replace(" ", "_")
    labels = v.labels
    payload = {"recording": res.upload.name, "lead": res.lead, "sampling_rate": fs, "detector": res.params,
               "summary": v.summary.to_dict(), "hrv": app.hrv_of(v.fig_key, analysis).to_dict(),
               "agreement": ref.score.to_dict() if ref.score is not None else None,
               "events": [e.to_dict() for e in events]}
    w1, w2, w3, w4, w5 = st.columns(5)
    # files are made when clicked (deferred), so reruns do not pay for them
    w1.download_button("Per-beat table", lambda: analysis.to_frame().to_csv(index=False),
                       file_name=f"{stem}.beats.csv", mime="text/csv", key="download_csv", icon=":material/download:",
                       help="CSV with the columns of the CLI's beats.csv.")
    w2.download_button("Summary (JSON)", lambda: app.json_bytes(payload), file_name=f"{stem}.summary.json",
                       mime="application/json", key="download_json", icon=":material/download:")
    edited_note = " With your edits." if edits else ""
    w3.download_button(
        "Beats (WFDB .atr)",
        lambda: ecg_io.annotation_bytes(stem, fs, analysis.samples, labels, extension="atr"),
        file_name=f"{stem}.atr", mime="application/octet-stream", key="download_wfdb", icon=":material/download:",
        help="Open with wfdb.rdann(record, 'atr') or WAVE; classes as MIT-BIH symbols N, A (SVEB), V, F, Q."
             + edited_note,
    )
    w4.download_button(
        "Beats (peaks.csv)", lambda: ecg_io.peaks_csv_bytes(analysis.samples, labels),
        file_name=f"{stem}.peaks.csv", mime="text/csv", key="download_peaks", icon=":material/download:",
        help="Columns sample, label: `python -m ecg_core classify INPUT --peaks-dir DIR` classifies the beats at "
             "these positions." + edited_note,
    )
    w5.download_button(
        "Report (PDF)",
        lambda: report.build_report(res.shown, fs, analysis, name=res.upload.name, lead=res.lead,
                                    units=res.shown_units, units_note=res.units_note, events=events,
                                    notes=[f"{len(edits)} beat edits by the reviewer: "
                                           + "; ".join(e.describe(fs) for e in edits)] if edits else ()),
        file_name=f"{stem}.report.pdf", mime="application/pdf", key="download_report", icon=":material/picture_as_pdf:",
        help="A printable report: the recording, summary, heart-rate trend, classes, the event table and one ECG "
             "strip per event kind at 25 mm/s, 10 mm/mV." + edited_note,
    )

