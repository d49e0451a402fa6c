"""Model: the shipped classifier's model card (data, protocol, figures, calibration, limits)."""

from __future__ import annotations

import json
import re

import pandas as pd
import streamlit as st

from app_pages import _common as app
from ecg_core import config, plotting

st.title("Model")
st.warning("**Not a medical device.** Research and teaching software: it must not be used to diagnose, treat or "
           "monitor patients. Every label needs review by a qualified clinician.",
           icon=":material/health_and_safety:")


@st.cache_data(show_spinner=False)
def read_card(mtime: float) -> tuple[dict, str]:
    card = json.loads(config.MODEL_CARD_JSON.read_text())
    md = config.MODEL_CARD_MD.read_text() if config.MODEL_CARD_MD.exists() else ""
    return card, md


def md_section(md: str, heading: str) -> str:
    """The body of the ``## heading`` section of the Markdown card ('' if absent)."""
    m = re.search(rf"^## {re.escape(heading)}.*?$(.*?)(?=^## |\Z)", md, flags=re.M | re.S)
    return m.group(1).strip() if m else ""


def pct(v) -> str:
    return "n/a" if v is None or v != v else f"{100 * v:.1f}%"


def score_view(score: dict, key: str, caption: str) -> None:
    """Accuracy, per-class table and confusion heatmap of one ClassificationScore dict."""
    st.caption(caption)
    c1, c2 = st.columns([1, 1])
    with c1:
        st.metric("Overall accuracy", pct(score["accuracy"]), help=f"{score['beats']:,} beats, pooled over folds.")
        st.dataframe(
            pd.DataFrame([{"class": c, "reference beats": v["ref"], "predicted": v["pred"], "Se": pct(v["se"]),
                           "+P": pct(v["ppv"]), "F1": pct(v["f1"])} for c, v in score["classes"].items()]),
            hide_index=True, key=f"{key}_table", width="stretch",
        )
        st.caption("Se: sensitivity (share of the class's beats found); +P: positive predictivity (share of the "
                   "beats given this label that are right).")
    conf = score["confusion"]
    app.show_chart(plotting.confusion_figure(conf["counts"], conf["rows_reference"], conf["columns_predicted"],
                                             title="Confusion matrix (rows: reference, columns: predicted)"),
                   key=f"{key}_confusion", where=c2)


if not config.MODEL_CARD_JSON.exists():
    st.error("The model card (models/model_card.json) is missing: the classifier has not been trained yet. "
             "Train it with `make train`.", icon=":material/error:")
    st.stop()

card, md = read_card(config.MODEL_CARD_JSON.stat().st_mtime)
tr, ev, cal, sp = card.get("training", {}), card.get("evaluation", {}), card.get("calibration", {}), card.get("speed")

st.markdown(f"Version **{card.get('version', '?')}** · classes {', '.join(card.get('classes', config.CLASSES))} "
            "(AAMI EC57) · Keras 1D CNN on beat morphology plus patient-relative RR-interval features.")
if tr:
    m = st.columns(4)
    m[0].metric("Training records (MIT-BIH DS1)", f"{len(tr.get('records', []))}")
    m[1].metric("Training beats", f"{tr.get('beats', 0):,}")
    m[2].metric("Parameters", f"{tr.get('parameters', 0):,}")
    m[3].metric("Model file", f"{tr.get('model_bytes', 0) / 1e6:.2f} MB")

limits = md_section(md, "Intended use and limits")
if limits:
    with st.container(border=True):
        st.markdown("#### Intended use and limits\n\n" + limits)

if ev:
    st.subheader("Cross-validated performance")
    st.markdown(f"**Protocol:** {ev.get('protocol', '?')}: each fold's model never saw the held-out patients' "
                f"records; figures pool the out-of-fold predictions (EC57 style). Reproduce with "
                f"`{ev.get('command', 'make train')}`.")
    views = [("rhythm", "Morphology + rhythm (recordings)",
              "The path used for recordings, at the reference beat positions."),
             ("morphology", "Morphology only (segments)",
              "The path used for pre-cut segments, which carry no rhythm: weaker for SVEB by construction."),
             ("end_to_end", "End to end (detected beats)",
              "Beats found by the detector at default settings, matched to the reference within 150 ms "
              "(missed reference beats in the last column).")]
    views = [v for v in views if isinstance(ev.get(v[0]), dict) and "score" in ev[v[0]]]
    for tab, (path, _, caption) in zip(st.tabs([v[1] for v in views]), views, strict=True):
        with tab:
            score_view(ev[path]["score"], f"model_{path}", caption)

if cal:
    st.subheader("Calibration")
    rows = [{"path": p, "temperature": v.get("temperature"), "ECE before": v.get("ece_before"),
             "ECE after": v.get("ece_after")} for p, v in cal.items()]
    st.markdown("The networks' probabilities are calibrated by temperature scaling fitted on out-of-fold "
                "predictions: a “probability 0.97” should be right about 97% of the time. ECE: expected "
                "calibration error (lower is better). Where the second stage or the rules re-decide a beat (N / "
                "SVEB outside atrial fibrillation, VEB from the wide-QRS rule, F from the fusion rule), its shares "
                "are decision scores, not calibrated probabilities.")
    c1, c2 = st.columns([2, 3])
    c1.dataframe(pd.DataFrame(rows), hide_index=True, key="model_calibration_table", width="stretch",
                 column_config={k: st.column_config.NumberColumn(format="%.4f") for k in ("ECE before", "ECE after")}
                 | {"temperature": st.column_config.NumberColumn(format="%.3f")})
    path = st.session_state.get("model_cal_path") or next(iter(cal))
    c1.radio("Path", list(cal), key="model_cal_path", horizontal=True)
    curves = {"after scaling": cal[path].get("reliability", []),
              "before scaling": cal[path].get("reliability_uncalibrated", [])}
    app.show_chart(plotting.calibration_figure({k: v for k, v in curves.items() if v},
                                               title=f"Reliability diagram, {path} path (out of fold)"),
                   key="model_calibration", where=c2)

if sp:
    st.subheader("Speed")
    st.dataframe(pd.DataFrame([{"figure": k.replace("_", " "), "value": v} for k, v in sp.items()
                               if isinstance(v, int | float)]), hide_index=True, key="model_speed")

if md:
    with st.expander("Full model card (models/MODEL_CARD.md)", icon=":material/description:"):
        st.markdown(md)
