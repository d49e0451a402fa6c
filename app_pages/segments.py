"""Classify segments: the original app's flow for pre-cut beats (rows of 360 samples)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import _common as app
from ecg_core import plotting
from ecg_core.config import BEAT_WINDOW, CLASSES, FS
from ecg_core.errors import ECGError
from ecg_core.pipeline import LOW_CONFIDENCE, classify_segments

state = st.session_state


def _on_upload():
    app.take_upload("segments_upload", "segments_source", "segments_error")
    state.pop("segment_selected", None)


def _on_table_select():
    event = state.get("segments_table")
    rows = event.get("selection", {}).get("rows", []) if event else []
    index = state.get("segments_table_index", [])
    if rows and rows[0] < len(index):
        state.segment_selected = int(index[rows[0]])


@st.cache_data(max_entries=8, show_spinner="Classifying the segments…")
def classify(digest: str, _upload: app.Upload):
    segs = app.load_source(digest, None, _upload)
    if not hasattr(segs, "windows"):
        raise ECGError(
            f"{_upload.name} is a continuous recording, not pre-cut segments. Open it on the "
            "“Analyse a recording” page, which finds the beats itself."
        )
    return np.asarray(segs.windows), classify_segments(segs.windows, classifier=app.get_classifier())


def render_upload() -> None:
    """The title, what a segmented file is, and its upload box."""
    st.title("Classify segments")
    st.info(
        f"Upload a CSV of **pre-cut beats**, one per row: {BEAT_WINDOW} samples (1 s at {FS} Hz) with the R-peak in "
        f"the middle, header `sample_1 … sample_{BEAT_WINDOW}` (the original app's format). Segments carry **no "
        "rhythm** (no RR intervals), so they are labelled by the **morphology-only** model, which is less accurate "
        "for supraventricular (SVEB) beats than the full-recording analysis.",
        icon=":material/info:",
    )
    st.file_uploader("Segmented CSV", type=["csv", "tsv", "txt"], key="segments_upload", on_change=_on_upload,
                     help=f"Up to {app.MAX_UPLOAD_MB} MB. All rows should come from one recording: its median beat "
                          "is the reference the model compares each beat with.")
    if state.get("segments_error"):
        st.error(state.segments_error, icon=":material/error:")


def results():
    """``(upload, (windows, analysis))`` of the uploaded file (or the example); the last good one where it fails."""
    upload = state.get("segments_source") or app.example_segments()
    done = None
    with app.user_errors(f"classifying {upload.name}"):
        done = classify(upload.digest, upload)
        state.segments_last = (upload, done)
    if done is None:
        last = state.get("segments_last")
        if last is None:
            st.stop()
        upload, done = last
        st.caption(f"Still showing the previous results ({upload.name}).")
    return upload, done


def render_summary(upload, analysis) -> None:
    """The file, the model path, and the segment counts."""
    summary = analysis.summary()
    st.markdown(f"**{upload.name}** · " + ("bundled example: 40 beats of MIT-BIH record 208" if upload.example
                                          else "uploaded file") + f" · labelled by the **{analysis.path}** path of "
                f"model {analysis.model_version or '?'}")
    m = st.columns(3)
    m[0].metric("Segments", f"{len(analysis)}")
    m[1].metric("Low-confidence", f"{summary.low_confidence}", help=f"Probability below {LOW_CONFIDENCE:g}.")
    m[2].metric("Classes found", " ".join(c for c in CLASSES if summary.counts[c]) or "none")


def render_segment(windows, analysis) -> None:
    """The selected segment (at first the most confident) beside the counts per class."""
    labels, conf = analysis.labels, analysis.confidence
    best = analysis.most_confident()
    selected = state.get("segment_selected", best)
    selected = selected if 0 <= selected < len(analysis) else best
    c1, c2 = st.columns([3, 2])
    with c1:
        title = ("Most confident segment" if selected == best else "Selected segment") + \
            f" #{selected}: {labels[selected]}, probability {conf[selected]:.2f}"
        app.show_chart(plotting.beat_figure(windows[selected], FS, probabilities=analysis.probabilities[selected],
                                            classes=CLASSES, label=str(labels[selected]), title=title),
                       key="segment_view")
    with c2:
        app.show_chart(plotting.class_counts_figure(analysis.summary().counts, title="Segments per class"),
                       key="segments_counts")


def render_table(upload, analysis) -> None:
    """The per-segment table (select a row to draw it), the confidence chart and the CSV."""
    table = analysis.to_frame()
    state.segments_table_index = table["segment"].tolist()
    st.dataframe(
        table, key="segments_table", on_select=_on_table_select, selection_mode="single-row", hide_index=True,
        height=320, width="stretch",
        column_config={"probability": st.column_config.ProgressColumn("probability", min_value=0.0, max_value=1.0,
                                                                       format="%.3f"),
                       **{f"p_{c}": st.column_config.NumberColumn(f"p {c}", format="%.3f") for c in CLASSES}},
    )
    st.caption("Select a row to draw that segment.")
    app.show_chart(plotting.confidence_figure(analysis.labels, analysis.confidence, threshold=LOW_CONFIDENCE),
                   key="segments_confidence")
    st.download_button("Per-segment table (CSV)", table.to_csv(index=False).encode(),
                       file_name=f"{upload.name}.beats.csv", mime="text/csv", key="segments_download",
                       icon=":material/download:")


render_upload()
upload, (windows, analysis) = results()
render_summary(upload, analysis)
if not len(analysis):
    st.stop()
render_segment(windows, analysis)
render_table(upload, analysis)
