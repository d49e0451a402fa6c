"""Tune detection: the R-peak detector's parameters as sliders, with live results."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import _common as app
from ecg_core import plotting, tuning
from ecg_core.evaluate import detection_check, fit_annotations, percent
from ecg_core.hrv import mean_rate
from ecg_core.peaks import PARAMETERS

app.keep_settings()
state = st.session_state


def _slider_key(name: str) -> str:
    return f"tune_{name}"


def _jump_to_miss():
    """A row of the missed / extra beats: centre the window on it."""
    event = state.get("tune_misses")
    rows = event.get("selection", {}).get("rows", []) if event else []
    times = state.get("tune_miss_times", [])
    if rows and rows[0] < len(times):
        length = float(state.get("tune_len", 10))
        state.tune_start = float(max(0.0, round(times[rows[0]] - length / 2, 1)))


def _run_sweep():
    state.tune_sweep_wanted = state.get("tune_sweep_param", PARAMETERS[0].name)


def _reset():
    defaults = app.detector_defaults()
    state.detector_params = defaults
    for spec in PARAMETERS:
        state[_slider_key(spec.name)] = float(defaults[spec.name])


st.title("Tune detection")
app.refused_upload()
upload = app.current_recording()
ref_upload = app.current_reference()
st.caption(
    f"Recording: **{upload.name}** ({app.example_note(upload) if upload.example else 'uploaded on the Analyse page'}). "
    "Move a slider and the beats are found again at once. These settings are used on the "
    "*Analyse a recording* page too."
)

def render_settings() -> None:
    """The detector's settings as sliders (they set ``detector_params``), and a reset button."""
    st.markdown("**Detector settings**")
    for spec in PARAMETERS:
        key = _slider_key(spec.name)
        if key not in state:
            state[key] = float(state.detector_params.get(spec.name, spec.default))
        unit = f" ({spec.unit})" if spec.unit else ""
        decimals = max(0, -int(np.floor(np.log10(spec.step)))) if spec.step < 1 else 0
        st.slider(f"{spec.label}{unit}", float(spec.minimum), float(spec.maximum), step=float(spec.step),
                  key=key, help=spec.help, format=f"%.{decimals}f")
    state.detector_params = {spec.name: float(state[_slider_key(spec.name)]) for spec in PARAMETERS}
    st.button("Reset to defaults", key="tune_reset", on_click=_reset, icon=":material/restart_alt:")


def find_beats(params: dict):
    """``(signal, rate, recording, peaks)`` with these settings; the last valid ones' where they fail."""
    found = None
    with app.user_errors(f"finding beats in {upload.name}"):
        rec = app.load_recording(upload, state.sampling_rate_setting, state.lead_setting)
        x = np.asarray(rec.signal, dtype=np.float64)
        fs = float(rec.sampling_rate)
        peaks = app.detect(upload.digest, rec.lead, fs, app.params_key(params), x, rec)
        found = (x, fs, rec, peaks)
        state.tune_last = found
    if found is None:
        found = state.get("tune_last")
        if found is None:
            st.stop()
        st.caption("Still showing the beats found with the last valid settings.")
    return found


def check_against_reference(x, fs, peaks):
    """``(fit, detection_check)`` against the reference annotations; ``(None, None)`` without one that fits."""
    fit, check = None, None
    if ref_upload is not None:
        with app.user_errors(f"reading the reference annotations {ref_upload.name}"):
            ann = app.load_reference(ref_upload.digest, fs, ref_upload)
            fit = fit_annotations(ann, peaks, fs, n_samples=len(x), recording_name=upload.name)
            if app.show_reference_fit(fit, upload.name):
                check = detection_check(fit, peaks, fs)
    return fit, check


def render_scores(x, fs, peaks, check) -> list:
    """Beats found, rate, and Se / +P against the reference; returns the missed / extra markers for the trace."""
    m = st.columns(3) + st.columns(3)
    m[0].metric("Beats found", f"{len(peaks)}")
    if len(peaks) > 1:
        m[3].metric("Mean heart rate", f"{mean_rate(peaks, fs):.0f} bpm")
    if check is None:
        if ref_upload is None:
            st.caption("Upload reference annotations on the Analyse page to see sensitivity and positive predictivity.")
        return []
    score, missed, extra = check
    m[1].metric("Sensitivity", percent(score.sensitivity, 2),
                help="Share of the reference beats found (within 150 ms).")
    m[2].metric("Positive predictivity", percent(score.ppv, 2),
                help="Share of the beats found that are real reference beats.")
    m[4].metric("Missed / extra", f"{score.fn} / {score.fp}",
                help="Reference beats not found (red ×) / beats found that are not in the reference "
                     "(orange ▽).")
    st.caption(f"Compared with the reference annotations {ref_upload.name} (EC57: 150 ms tolerance).")
    return [("missed reference beat", missed, "#d62728", "x-thin-open"),
            ("extra detection", extra, "#ff7f0e", "triangle-down-open")]


def render_trace(x, fs, rec, peaks, markers, params) -> None:
    """The window of the trace with the beats found (and the missed / extra ones), and the settings as CLI flags."""
    w1, w2 = st.columns([3, 1])
    w2.select_slider("Window (s)", options=[5, 10, 20, 30, 60], value=10, key="tune_len")
    length = float(state.tune_len)
    max_start = max(0.0, float(np.floor((len(x) / fs - length) * 10) / 10))
    if float(state.get("tune_start", 0.0)) > max_start:
        state.tune_start = max_start
    start = w1.slider("Window start (s)", 0.0, max_start, step=0.1, key="tune_start") if max_start > 0 else 0.0
    app.show_chart(
        plotting.trace_figure(x, fs, peaks=peaks, markers=markers, units=getattr(rec, "units", ""), start_s=start,
                              stop_s=start + length, height=340,
                              title=f"Lead {rec.lead}: {start:.1f}–{start + length:.1f} s"),
        key="tune_trace")
    flags = tuning.cli_flags(params)
    st.caption("The same settings on the command line: "
               + (f"`python -m ecg_core classify INPUT --out-dir OUT {flags}`" if flags else
                  "the defaults (no flags)."))


def render_misses(misses) -> None:
    """The missed and extra beats as a table (off by default): a row moves the window there."""
    shown = st.toggle(f"List the missed and extra beats ({len(misses)}): select a row to show it in the "
                      "window above", key="tune_show_misses",
                      help="Off by default: a long list costs a slider move a few tenths of a second.")
    if shown and len(misses):
        st.dataframe(misses, key="tune_misses", on_select=_jump_to_miss, selection_mode="single-row",
                     hide_index=True, width="stretch", height=250,  # fixed: a slider move keeps the layout
                     column_config={"time_s": st.column_config.NumberColumn("time (s)", format="%.3f"),
                                    "time": st.column_config.TextColumn("time (m:ss)")})


def render_sweep(x, fs, rec, fit, params) -> None:
    """Se and +P over one setting's range, the others as set."""
    with st.container(border=True, key="tune_sweep"):
        st.markdown("**Sweep one setting**: sensitivity and positive predictivity over its range, the "
                    "others as set.")
        s1, s2 = st.columns([2, 1], vertical_alignment="bottom")
        s1.selectbox("Setting", [p.name for p in PARAMETERS], key="tune_sweep_param",
                     format_func=lambda n: tuning.parameter(n).label)
        s2.button("Run the sweep", key="tune_sweep_run", on_click=_run_sweep, icon=":material/tune:")
        name = state.get("tune_sweep_wanted")
        if name:
            spec = tuning.parameter(name)
            points = app.sweep(upload.digest, ref_upload.digest, rec.lead, fs, app.params_key(params), name, x, fit,
                               rec)
            app.show_chart(plotting.sweep_figure(points, label=spec.label, unit=spec.unit,
                                                 current=float(params[name])), key="tune_sweep_chart")
            best = max(points, key=lambda p: (p.sensitivity + p.ppv, -abs(p.value - spec.default)))
            st.caption(f"Best sum of Se and +P at {spec.label.lower()} {best.value:g}: Se "
                       f"{percent(best.sensitivity, 2)}, +P {percent(best.ppv, 2)} ({best.fn} missed, "
                       f"{best.fp} extra) on this recording: tuned on one recording, it may not carry to "
                       "others.")


@st.fragment
def tuner():
    """Sliders, results and charts: a slider move reruns only this part of the page."""
    left, right = st.columns([1, 2.6], gap="large")
    with left:
        render_settings()
    params = state.detector_params
    with right:
        x, fs, rec, peaks = find_beats(params)
        fit, check = check_against_reference(x, fs, peaks)
        markers = render_scores(x, fs, peaks, check)
        if check is not None:
            misses = app.misses_table(check[1], check[2], fs)
            state.tune_miss_times = misses["time_s"].tolist()
        render_trace(x, fs, rec, peaks, markers, params)
        if check is not None:
            render_misses(misses)
            render_sweep(x, fs, rec, fit, params)
        app.show_chart(
            plotting.tachogram_figure(peaks, fs, title="RR tachogram of the beats found (outliers show missed or "
                                                       "extra beats)", height=240),
            key="tune_tachogram")


tuner()
