"""The dashboard's other charts: class counts, confidence, tachogram, heart rate, sweeps, one beat, confusion,
calibration."""

from __future__ import annotations

import numpy as np

from ._base import (
    AF_COLOR,
    CLASS_COLORS,
    CLASS_NAMES,
    MAX_BEAT_MARKERS,
    MAX_CLASS_MARKERS,
    TRACE_COLOR,
    _figure,
    _layout,
    minmax_downsample,
    runs,
)


def class_counts_figure(counts: dict, *, title: str = "Beats per class", height: int = 280):
    """Bar chart of beats per class, with count and percentage on each bar."""
    import plotly.graph_objects as go

    names = [c for c in CLASS_COLORS if c in counts]
    values = np.array([counts[c] for c in names], dtype=float)
    total = max(values.sum(), 1)
    fig = _figure(go.Bar(
        x=names, y=values, marker_color=[CLASS_COLORS[c] for c in names],
        text=[f"{int(v)} ({100 * v / total:.1f}%)" for v in values], textposition="outside", cliponaxis=False,
        customdata=[CLASS_NAMES[c] for c in names],
        hovertemplate="%{x} (%{customdata}): %{y} beats<extra></extra>",
    ))
    _layout(fig, title=title, height=height, showlegend=False)
    fig.update_yaxes(title_text="Beats", rangemode="tozero")
    fig.update_xaxes(title_text="Class")
    return fig


def confidence_figure(labels, confidence, *, threshold: float | None = None,
                      title: str = "Confidence per class", height: int = 280):
    """Distribution of the top-class probability for each predicted class (box plots, whiskers to the extremes;
    no outlier points: one SVG element each, and the low-confidence beats are counted and listed elsewhere)."""
    import plotly.graph_objects as go

    lab = np.asarray(labels).astype(str)
    conf = np.asarray(confidence, dtype=float)
    fig = _figure()
    for c, colour in CLASS_COLORS.items():
        v = conf[lab == c]
        if v.size:
            fig.add_trace(go.Box(x=v, name=c, marker_color=colour, boxpoints=False, orientation="h",
                                 hovertemplate=f"{c}: %{{x:.2f}}<extra></extra>"))
    if threshold is not None:
        fig.add_vline(x=threshold, line={"dash": "dash", "color": "#888"},
                      annotation_text=f"low confidence < {threshold:g}", annotation_position="top left")
    _layout(fig, title=title, height=height, showlegend=False)
    fig.update_xaxes(title_text="Score of the predicted class (probability or decision score)", range=[0, 1.02])
    fig.update_yaxes(autorange="reversed")
    return fig


def tachogram_figure(peaks, sampling_rate, labels=None, *, atrial_fibrillation=None, selected: int | None = None,
                     title: str = "RR tachogram", height: int = 280):
    """RR interval before each beat (ms) against time, coloured by the beat's class.

    The RR intervals ending in beats flagged in ``atrial_fibrillation`` (bool per beat) are shaded.

    Every beat is a marker (click one to select it) up to :data:`MAX_BEAT_MARKERS` beats. Beyond,
    N (or unlabelled) beats have no markers: the line itself carries every beat's hover. Lines of
    more than :data:`MAX_TRACE_POINTS` beats and classes of more than :data:`MAX_CLASS_MARKERS`
    markers are min-max downsampled (hours of recording).
    """
    import plotly.graph_objects as go

    p = np.asarray(peaks, dtype=np.int64)
    fs = float(sampling_rate)
    fig = _figure()
    if p.size >= 2:
        t = p[1:] / fs
        rr = np.diff(p) * 1000.0 / fs
        beat = np.arange(1, p.size)
        lab = np.asarray(labels).astype(str)[1:] if labels is not None else np.full(beat.size, "beats")
        classes = [*[c for c in CLASS_COLORS if c in set(lab)], *sorted(set(lab) - set(CLASS_COLORS))]
        hover = "%{customdata[1]} beat #%{customdata[0]}<br>RR %{y:.0f} ms<br>t = %{x:.2f} s<extra></extra>"
        # with many beats the line carries the hover of every beat, and N (or unlabelled) beats have no markers
        unmarked = {"N", "beats"} if beat.size > MAX_BEAT_MARKERS else set()
        li = minmax_downsample(rr)  # the line: min-max downsampled beyond MAX_TRACE_POINTS beats
        fig.add_trace(go.Scatter(x=t[li], y=rr[li], mode="lines", line={"color": "#cbd5e1", "width": 1},
                                 name="N (line)", showlegend="N" in unmarked and "N" in classes,
                                 **({"customdata": np.c_[beat[li].astype(object), lab[li]], "hovertemplate": hover}
                                    if unmarked else {"hoverinfo": "skip"})))
        for c in classes:
            if c in unmarked:
                continue
            k = np.flatnonzero(lab == c)
            k = k[minmax_downsample(rr[k], max_points=MAX_CLASS_MARKERS)]
            custom = np.empty((k.size, 2), dtype=object)
            custom[:, 0], custom[:, 1] = beat[k], c
            fig.add_trace(go.Scatter(x=t[k], y=rr[k], mode="markers", name=c, customdata=custom,
                                     marker={"color": CLASS_COLORS.get(c, "#d62728"), "size": 6},
                                     hovertemplate=hover))
        if selected is not None and 1 <= selected < p.size:
            fig.add_trace(go.Scatter(x=[t[selected - 1]], y=[rr[selected - 1]], mode="markers",
                                       marker={"symbol": "circle-open", "size": 16, "color": "#111111",
                                               "line": {"width": 2}}, hoverinfo="skip", showlegend=False))
        if atrial_fibrillation is not None and np.any(atrial_fibrillation):
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="atrial fibrillation?",
                                     marker={"symbol": "square", "size": 12, "color": AF_COLOR, "opacity": 0.3}))
            fig.update_layout(shapes=[
                {"type": "rect", "xref": "x", "yref": "paper", "x0": p[max(a - 1, 0)] / fs, "x1": p[b] / fs,
                 "y0": 0, "y1": 1,
                 "fillcolor": AF_COLOR, "opacity": 0.15, "line": {"width": 0}, "layer": "below"}
                for a, b in runs(atrial_fibrillation)])
    # the modes Streamlit gives a selectable chart: when the figure lacks them, it adds them after the
    # first draw, and Plotly draws the whole chart again
    _layout(fig, title=title, height=height, hovermode="closest", dragmode="zoom", clickmode="event+select")
    fig.update_xaxes(title_text="Time (s)")
    fig.update_yaxes(title_text="RR before beat (ms)")
    return fig


def heart_rate_figure(trend, *, brady_bpm: float | None = None, tachy_bpm: float | None = None,
                      title: str = "Heart rate trend", height: int = 260):
    """Heart rate in bpm over time (:class:`ecg_core.hrv.HeartRateTrend`), with the brady- and tachycardia limits.

    The x axis is in minutes for trends of more than ten minutes, else in seconds.
    """
    import plotly.graph_objects as go

    t = np.asarray(trend.time_s, dtype=float)
    minutes = t.size and t[-1] > 600
    x = t / 60.0 if minutes else t
    fig = _figure(go.Scatter(
        x=x, y=np.asarray(trend.bpm, dtype=float), mode="lines+markers" if t.size <= 200 else "lines",
        line={"color": CLASS_COLORS["N"], "width": 1.5}, marker={"size": 5}, name="heart rate", connectgaps=False,
        hovertemplate=f"%{{y:.0f}} bpm (mean over {trend.bin_s:g} s)<br>t = %{{x:.1f}} "
                      + ("min" if minutes else "s") + "<extra></extra>"))
    for value, name in ((brady_bpm, "bradycardia"), (tachy_bpm, "tachycardia")):
        if value is not None:
            fig.add_hline(y=value, line={"dash": "dot", "color": "#9ca3af", "width": 1},
                          annotation_text=f"{name} {value:g}", annotation_position="top left",
                          annotation_font={"size": 10, "color": "#6b7280"})
    _layout(fig, title=title, height=height, showlegend=False, hovermode="closest")
    fig.update_xaxes(title_text="Time (min)" if minutes else "Time (s)")
    fig.update_yaxes(title_text="Heart rate (bpm)")
    return fig


def sweep_figure(points, *, label: str, unit: str = "", current: float | None = None, title: str | None = None,
                 height: int = 280):
    """Sensitivity and positive predictivity (%) against the value of one detector parameter
    (:func:`ecg_core.tuning.sweep_parameter`), the current value marked."""
    import plotly.graph_objects as go

    v = np.array([p.value for p in points], dtype=float)
    fig = _figure()
    for name, values, colour in (("Sensitivity", [p.sensitivity for p in points], CLASS_COLORS["N"]),
                                 ("Positive predictivity", [p.ppv for p in points], CLASS_COLORS["SVEB"])):
        fig.add_trace(go.Scatter(
            x=v, y=100 * np.asarray(values, dtype=float), mode="lines+markers", name=name, line={"color": colour},
            customdata=np.c_[[p.beats for p in points], [p.fn for p in points], [p.fp for p in points]],
            hovertemplate=f"{label} %{{x:g}}<br>{name} %{{y:.2f}}%<br>%{{customdata[0]}} beats, "
                          "%{customdata[1]} missed, %{customdata[2]} extra<extra></extra>"))
    if current is not None:
        fig.add_vline(x=current, line={"dash": "dot", "color": "#6b7280"}, annotation_text="current",
                      annotation_position="top")
    _layout(fig, title=title or f"Sensitivity and positive predictivity against {label}", height=height,
            hovermode="x unified")
    fig.update_xaxes(title_text=f"{label} ({unit})" if unit else label)
    fig.update_yaxes(title_text="%")
    return fig


def beat_figure(window, sampling_rate, *, probabilities=None, classes=None, label: str = "",
                units: str = "", title: str | None = None, height: int = 300, score_kind: str = "probability"):
    """One beat's waveform (time from R-peak in ms) beside its per-class shares.

    ``score_kind`` says what the shares are: ``"probability"`` (the network's, calibrated) or
    ``"decision score"`` (re-decided by the second stage or a rule; :attr:`ecg_core.pipeline.Analysis.score_kinds`).
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    w = np.asarray(window, dtype=float)
    t = (np.arange(w.size) - w.size // 2) * 1000.0 / float(sampling_rate)
    colour = CLASS_COLORS.get(label, TRACE_COLOR)
    with_probs = probabilities is not None
    fig = _figure(make_subplots(rows=1, cols=2 if with_probs else 1, horizontal_spacing=0.12,
                                column_widths=[0.68, 0.32] if with_probs else None))
    fig.add_trace(go.Scatter(x=t, y=w, mode="lines", line={"color": colour, "width": 2}, name="beat",
                             hovertemplate="%{x:.0f} ms: %{y:.3f}<extra></extra>"), row=1, col=1)
    fig.add_vline(x=0, line={"dash": "dot", "color": "#999"}, row=1, col=1)
    fig.update_xaxes(title_text="Time from R-peak (ms)", row=1, col=1)
    fig.update_yaxes(title_text=f"Amplitude ({units})" if units else "Amplitude", row=1, col=1)
    if with_probs:
        names = list(classes)
        pr = np.asarray(probabilities, dtype=float)
        fig.add_trace(go.Bar(x=pr, y=names, orientation="h", marker_color=[CLASS_COLORS.get(c, "#888") for c in names],
                             text=[f"{v:.2f}" for v in pr], textposition="outside", cliponaxis=False,
                             hovertemplate="%{y}: %{x:.3f}<extra></extra>"), row=1, col=2)
        fig.update_xaxes(title_text="Probability" if score_kind == "probability" else "Decision score (share)",
                         range=[0, 1.15], row=1, col=2)
        fig.update_yaxes(autorange="reversed", row=1, col=2)
    _layout(fig, title=title, height=height, showlegend=False)
    return fig


def confusion_figure(confusion, rows, columns, *, title: str = "Confusion matrix",
                     x_title: str = "Predicted", y_title: str = "Reference", height: int = 360):
    """Heatmap of a confusion matrix: colour is the row share, text the count."""
    import plotly.graph_objects as go

    m = np.asarray(confusion, dtype=float)
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    text = [[f"{int(v)}" for v in row] for row in m]
    fig = _figure(go.Heatmap(
        z=share, x=list(columns), y=list(rows), text=text, texttemplate="%{text}", colorscale="Blues",
        zmin=0, zmax=1, colorbar={"title": {"text": "share", "side": "right"}, "thickness": 12},
        hovertemplate=f"{y_title} %{{y}}, {x_title.lower()} %{{x}}: %{{text}} (%{{z:.1%}} of row)<extra></extra>",
    ))
    _layout(fig, title=title, height=height, margin={"l": 85, "r": 90})  # class names left, colour bar right
    fig.update_xaxes(title_text=x_title, side="bottom", type="category")
    fig.update_yaxes(title_text=y_title, autorange="reversed", type="category")
    return fig


def calibration_figure(curves: dict, *, title: str = "Calibration (reliability diagram)", height: int = 360):
    """Reliability diagram: observed accuracy against mean predicted probability per bin.

    Parameters
    ----------
    curves : dict of str to list of dict
        Curve name -> bins, each a dict with ``confidence`` (mean top-class probability),
        ``accuracy`` (share correct) and ``count``; empty bins (``None`` values) are skipped.
        Marker area follows the bin's beat count.
    """
    import plotly.graph_objects as go

    palette = [CLASS_COLORS["N"], "#9ca3af", CLASS_COLORS["SVEB"], CLASS_COLORS["Q"]]
    fig = _figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration",
                             line={"dash": "dash", "color": "#999"}, hoverinfo="skip"))
    for k, (name, bins) in enumerate(curves.items()):
        rows = [b for b in bins if b.get("confidence") is not None and b.get("accuracy") is not None]
        conf = np.array([b["confidence"] for b in rows], dtype=float)
        acc = np.array([b["accuracy"] for b in rows], dtype=float)
        n = np.array([b.get("count", 1) for b in rows], dtype=float)
        size = 6 + 18 * np.sqrt(n / max(n.max(), 1)) if n.size else []
        fig.add_trace(go.Scatter(
            x=conf, y=acc, mode="lines+markers", name=name, customdata=n,
            line={"color": palette[k % len(palette)]}, marker={"size": size, "color": palette[k % len(palette)]},
            hovertemplate=f"{name}<br>predicted %{{x:.3f}}<br>observed %{{y:.3f}}<br>%{{customdata:.0f}} beats"
                          "<extra></extra>",
        ))
    _layout(fig, title=title, height=height)
    fig.update_layout(legend={"orientation": "v", "x": 0.98, "xanchor": "right", "y": 0.04, "yanchor": "bottom",
                              "bgcolor": "rgba(255,255,255,0.8)"})
    fig.update_xaxes(title_text="Mean predicted probability (top class)", range=[0, 1.02])
    fig.update_yaxes(title_text="Observed accuracy", range=[0, 1.02])
    return fig
