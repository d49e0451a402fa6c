"""Model: the shipped classifier's model card (data, protocol, figures, calibration, limits)."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from app_pages import _common as app
from ecg_core import config, plotting
from ecg_core.evaluate import percent
from ecg_core.model import read_card

st.title("Model")
st.warning("**Not a medical device.** Research and teaching software: it must not be used to diagnose, treat or "
           "monitor patients. Every label needs review by a qualified clinician.",
           icon=":material/health_and_safety:")


@st.cache_data(show_spinner=False)
def card_and_markdown(path: str, mtime: float) -> tuple[dict, str]:
    """The model card (:func:`ecg_core.model.read_card`) and its Markdown, read again when the file changes."""
    card = read_card(path)
    md = config.MODEL_CARD_MD.read_text() if config.MODEL_CARD_MD.exists() else ""
    return card, md


def md_section(md: str, heading: str) -> str:
    """The body of the ``## heading`` section of the Markdown card ('' if absent)."""
    m = re.search(rf"^## {re.escape(heading)}.*?$(.*?)(?=^## |\Z)", md, flags=re.M | re.S)
    return m.group(1).strip() if m else ""


def is_score(value) -> bool:
    """Whether a card section is a ClassificationScore dict this page can draw (a retrained card may lack some)."""
    try:
        conf = value["confusion"]
        return (isinstance(value["accuracy"], int | float) and isinstance(value["classes"], dict)
                and all(isinstance(v, dict) for v in value["classes"].values())
                and all(k in conf for k in ("counts", "rows_reference", "columns_predicted")))
    except (KeyError, TypeError):
        return False


def section(card: dict, *path: str):
    """``card[path[0]][path[1]]...``, or None where any part is absent."""
    value = card
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


#: The card's figures, in the sections of MODEL_CARD.md: (section, tab title, where in the card, caption).
#: The shipped pipeline first: it is what the dashboard, the API and the CLI run.
PIPELINE_VIEWS = (
    ("d", "(d) Shipped pipeline, detected beats", ("second_stage", "loro", "stacked"),
     "What the dashboard runs: the networks, the atrial fibrillation rule, the second stage (N / SVEB) and the "
     "wide-QRS and fusion rules, on the beats the detector finds at default settings (matched within 150 ms; "
     "missed reference beats in the last column). The second stage is fitted leaving each record out."),
    ("e", "(e) Shipped pipeline, reference beat positions", ("stage_at_reference_beats", "loro", "stacked"),
     "The same procedure at the cardiologists' beat positions (the project's bars are measured this way)."),
)
NETWORK_VIEWS = (
    ("a", "(a) Networks: morphology + rhythm", ("evaluation", "rhythm", "score"),
     "The networks alone (no second stage, no rules), at the reference beat positions."),
    ("b", "(b) Networks: morphology only (segments)", ("evaluation", "morphology", "score"),
     "The path used for pre-cut segments, which carry no rhythm: weaker for SVEB by construction."),
    ("c", "(c) Networks: detected beats", ("evaluation", "end_to_end", "score"),
     "The networks alone on the beats found by the detector at default settings, matched to the reference "
     "within 150 ms (missed reference beats in the last column)."),
)


def score_tabs(card: dict, views) -> None:
    """One tab per view whose figures the card holds; views it lacks are left out."""
    present = []
    for letter, title, where, caption in views:
        if is_score(section(card, *where)):
            command = section(card, where[0], "command")
            caption += f" Reproduce: `{command}`." if isinstance(command, str) and where[0] != "evaluation" else ""
            present.append((title, section(card, *where), caption, f"model_{letter}"))
    if not present:
        return
    for tab, (_, score, caption, key) in zip(st.tabs([v[0] for v in present]), present, strict=True):
        with tab:
            score_view(score, key, caption)


def score_view(score: dict, key: str, caption: str) -> None:
    """Accuracy, per-class table and confusion heatmap of one ClassificationScore dict."""
    st.caption(caption)
    c1, c2 = st.columns([1, 1])
    with c1:
        st.metric("Overall accuracy", percent(score["accuracy"]),
                  help=f"{score.get('beats', 0):,} beats, pooled over folds.")
        st.dataframe(
            pd.DataFrame([{"class": c, "reference beats": v.get("ref"), "predicted": v.get("pred"),
                           "Se": percent(v.get("se")), "+P": percent(v.get("ppv")),
                           "F1": percent(v.get("f1"))} for c, v in score["classes"].items()]),
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

try:
    card, md = card_and_markdown(str(config.MODEL_CARD_JSON), config.MODEL_CARD_JSON.stat().st_mtime)
except (OSError, ValueError) as exc:
    st.error(f"The model card (models/model_card.json) cannot be read ({exc}). Train the model again with "
             "`make train`.", icon=":material/error:")
    st.stop()
card = card if isinstance(card, dict) else {}
tr, ev, cal, sp = (section(card, k) if isinstance(section(card, k), dict) else {}
                   for k in ("training", "evaluation", "calibration", "speed"))

st.markdown(f"Version **{card.get('version', '?')}** · classes {', '.join(card.get('classes', config.CLASSES))} "
            "(AAMI EC57) · Keras 1D CNN on beat morphology plus patient-relative RR-interval features.")
if tr:
    m = st.columns(4)
    dbs = tr.get("databases") if isinstance(tr.get("databases"), dict) else {"ds1": tr.get("records", [])}
    m[0].metric("Training records", f"{len(tr.get('records', []))}",
                help=" + ".join(f"{len(v)} {k.upper()}" for k, v in dbs.items()))
    m[1].metric("Training beats", f"{tr.get('beats', 0):,}")
    m[2].metric("Parameters", f"{tr.get('parameters', 0):,}")
    m[3].metric("Model file", f"{tr.get('model_bytes', 0) / 1e6:.2f} MB")

limits = md_section(md, "Intended use and limits")
if limits:
    with st.container(border=True):
        st.markdown("#### Intended use and limits\n\n" + limits)

cross = section(card, "crossdb")
if isinstance(cross, dict):
    st.subheader("On patients and databases it never saw")
    st.markdown("Networks trained on one database and tested on the other, and a cross-validation grouped by "
                "patient over both, at the reference beat positions (EC57 classes, pooled). `network+af` is "
                f"what ships. Reproduce: `{cross.get('command', 'python -m ecg_core.crossdb --out out/xdb')}`.")
    runs = [(p, p, cross.get(p)) for p in ("ds1->svdb", "svdb->ds1")]
    runs += [(f"both-cv {db}", db, section(cross, "both-cv", db)) for db in ("ds1", "svdb")]
    rows = [{"protocol": title, "procedure": name, "accuracy": percent(section(v, "score", "accuracy")),
             **{f"{c} Se / +P": f"{percent(section(v, 'score', 'classes', c, 'se'))} / "
                                f"{percent(section(v, 'score', 'classes', c, 'ppv'))}" for c in ("SVEB", "VEB")}}
            for title, _, variants in runs if isinstance(variants, dict)
            for name, v in variants.items() if isinstance(v, dict) and is_score(v.get("score"))]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="model_crossdb", width="stretch")

if any(is_score(section(card, *v[2])) for v in PIPELINE_VIEWS + NETWORK_VIEWS):
    st.subheader("Cross-validated performance")
    st.markdown(f"**Protocol:** {ev.get('protocol', 'cross-validation grouped by record')}: each fold's model never "
                f"saw the held-out patients' records; figures pool the out-of-fold predictions (EC57 style). "
                f"Reproduce with `{ev.get('command', 'make train')}`. The letters are the sections of the full model "
                "card below.")
    for heading, views in (("The shipped pipeline", PIPELINE_VIEWS), ("The networks alone", NETWORK_VIEWS)):
        if any(is_score(section(card, *v[2])) for v in views):
            st.markdown(f"#### {heading}")
            score_tabs(card, views)
cal = {k: v for k, v in cal.items() if isinstance(v, dict)} if isinstance(cal, dict) else {}
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
