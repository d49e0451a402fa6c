"""The ECG traces: the interactive trace with its beats (overview and tuning) and the ECG-paper strip."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._base import (
    _FONT,
    _RICH_HOVER,
    _RICH_HOVER_PEAKS,
    CLASS_COLORS,
    CLASS_NAMES,
    MAX_BEAT_MARKERS,
    MAX_TRACE_POINTS,
    TRACE_COLOR,
    _beat_comb,
    _beat_hover,
    _clock,
    _figure,
    _first_per_bin,
    _layout,
    _nice_ticks,
    _scatter_type,
    minmax_downsample,
)


def trace_figure(signal, sampling_rate, *, peaks=None, labels=None, confidence=None, start_s: float = 0.0,
                 stop_s: float | None = None, highlights: dict | None = None, selected: int | None = None,
                 markers: list | None = None, units: str = "", title: str | None = None, rangeslider: bool = False,
                 height: int = 340, max_points: int = MAX_TRACE_POINTS, score_kinds=None, rich_hover: bool = False,
                 dragmode: str = "zoom", unreadable=None):
    """Interactive ECG trace with its R-peaks, as a Plotly figure (SVG, or WebGL for many points).

    Parameters
    ----------
    signal : array_like
        One lead in its own units.
    sampling_rate : float
        Hz; the x axis is in seconds.
    peaks : array_like of int, optional
        R-peak sample indices; beat ``k`` is ``peaks[k]`` and its marker (hover, and clicks as a
        selection) carries ``k`` as ``customdata[0]``. The ticks of a comb (below) hover but cannot be
        selected: Plotly selects markers only.
    labels, confidence : array_like, optional
        Predicted class and its probability per beat: peaks are coloured by class (one legend entry
        per class) and the hover shows both. Spans with more than :data:`MAX_BEAT_MARKERS` beats
        show them as one row of ticks per class above the trace (a comb) instead of markers; a
        class with more beats than the line has bins (``max_points // 2``) keeps the first beat of each.
    start_s, stop_s : float
        Span drawn, in seconds (whole recording by default). Spans longer than ``max_points``
        samples are min-max downsampled.
    highlights : dict of str to int, optional
        Beats to mark with a star, e.g. ``{"most confident beat": 12}``.
    selected : int, optional
        Beat to ring (the one shown in detail).
    markers : list of (name, samples, colour, symbol), optional
        Extra marker sets on the trace, e.g. reference beats missed by the detector.
    rangeslider : bool
        Show a range slider under the x axis.
    score_kinds : array_like of str, optional
        What each beat's ``confidence`` is, named in the hover: ``"probability"`` (the default) or
        ``"decision score"`` (:attr:`ecg_core.pipeline.Analysis.score_kinds`).
    rich_hover : bool
        Beat markers' hover also names the class in words, the time as ``m:ss.sss`` and the RR interval
        before the beat (the detail strip; three more ``customdata`` columns, so not for the overview).
    dragmode : str
        ``"zoom"`` (drag to zoom) or ``"select"`` (drag to select a span of time, reported to the page as a
        box selection; the overview uses it to move the detail window).
    unreadable : array_like, optional
        ``(k, 2)`` ``[start, end)`` sample spans of unreadable signal (:attr:`ecg_core.quality.Quality.spans`),
        shaded grey; at most :data:`MAX_SHADED_SPANS` are drawn in a span (the closest ones joined).
    """
    import plotly.graph_objects as go

    x = np.asarray(signal, dtype=np.float64)
    fs = float(sampling_rate)
    a = max(int(start_s * fs), 0)
    b = x.size if stop_s is None else min(int(np.ceil(stop_s * fs)) + 1, x.size)
    idx = minmax_downsample(x, a, b, max_points=max_points)
    fig = _figure()
    p_all = np.asarray(peaks, dtype=np.int64) if peaks is not None else np.zeros(0, np.int64)
    n_beats = int(np.count_nonzero((p_all >= a) & (p_all < b)))
    ticks = n_beats > MAX_BEAT_MARKERS
    n_markers = 0 if ticks else n_beats
    # the range slider draws SVG traces only: with it, everything is SVG
    scatter = line = go.Scatter if rangeslider else _scatter_type(idx.size + n_markers)
    fig.add_trace(line(x=idx / fs, y=x[idx], mode="lines", name="ECG", line={"color": TRACE_COLOR, "width": 1},
                       hoverinfo="skip", showlegend=False))
    view = _View(x, idx, a, b, fs, scatter)
    if peaks is not None:
        p = np.asarray(peaks, dtype=np.int64)
        conf = np.asarray(confidence, dtype=float) if confidence is not None else np.full(p.size, np.nan)
        kinds = np.asarray(score_kinds, dtype=object) if score_kinds is not None else np.full(p.size, "probability",
                                                                                                 dtype=object)
        rows, lo, hi = _beat_traces(fig, view, p, labels, conf, kinds, ticks=ticks, rich_hover=rich_hover,
                                    max_points=max_points)
        _highlight_traces(fig, view, p, labels, conf, kinds, highlights, selected)
    for name, samples, colour, symbol in markers or []:
        s = np.asarray(samples, dtype=np.int64)
        s = s[(s >= a) & (s < b)]
        fig.add_trace(scatter(
            x=s / fs, y=x[s], mode="markers", name=f"{name} ({s.size})",
            marker={"symbol": symbol, "size": 13, "color": colour, "line": {"width": 2, "color": colour}},
            hovertemplate=f"{name}<br>t = %{{x:.3f}} s<extra></extra>",
        ))
    # room under the plot for the tick labels, the range slider and the axis title
    _layout(fig, title=title, height=height, hovermode="closest", dragmode=dragmode, clickmode="event+select",
            uirevision=True, margin={"b": 100} if rangeslider else None,
            **({"selectdirection": "h"} if dragmode == "select" else {}))
    fig.update_xaxes(title_text="Time (s)", range=[a / fs, (b - 1) / fs], showspikes=False,
                     rangeslider={"visible": rangeslider, "thickness": 0.12})
    fig.update_yaxes(title_text=f"Amplitude ({units})" if units else "Amplitude", fixedrange=False)
    if peaks is not None and ticks:  # amplitude ticks for the trace only; the class rows are named instead
        fig.update_yaxes(tickvals=_nice_ticks(lo, hi))
        for name, y, colour in rows:
            fig.add_annotation(x=0, xref="paper", xanchor="right", y=y, text=name, showarrow=False,
                               font={"size": 10, "color": colour})
    _shade_unreadable(fig, unreadable, a, b, fs)
    return fig


@dataclass(frozen=True)
class _View:
    """What the beat traces of :func:`trace_figure` draw on: the signal, its drawn samples, the span, the trace type."""

    x: np.ndarray
    idx: np.ndarray  # samples the line draws (downsampled)
    a: int
    b: int
    fs: float
    scatter: type


def _beat_traces(fig, v: _View, p, labels, conf, kinds, *, ticks: bool, rich_hover: bool, max_points: int):
    """One trace of markers (or, with ``ticks``, one row of ticks) per class; returns the rows and the y range."""
    inside = np.flatnonzero((p >= v.a) & (p < v.b))
    beat_no = np.arange(p.size)
    if labels is None:
        groups = [("R-peaks", inside, "#d62728")]
    else:
        lab = np.asarray(labels).astype(str)
        groups = [(c, inside[lab[inside] == c], col) for c, col in CLASS_COLORS.items() if np.any(lab == c)]
    finite = v.x[v.idx][np.isfinite(v.x[v.idx])]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    row = max(hi - lo, 1e-9) * 0.1
    rows = []
    for j, (name, k, colour) in enumerate(groups):
        if ticks:  # at most one tick per bin of the line's
            k = k[_first_per_bin(p[k], v.a, v.b, max_points // 2)]
        custom = np.empty((k.size, 7 if rich_hover else 4), dtype=object)
        custom[:, 0] = beat_no[k]
        custom[:, 1] = name
        custom[:, 2] = conf[k]
        custom[:, 3] = kinds[k]
        hover = _beat_hover(labels is not None)
        if rich_hover:
            custom[:, 4] = CLASS_NAMES.get(name, "")
            custom[:, 5] = [_clock(t) for t in p[k] / v.fs]
            custom[:, 6] = [f"{1000 * (p[i] - p[i - 1]) / v.fs:.0f} ms" if i > 0 else "—" for i in k]
            hover = _RICH_HOVER if labels is not None else _RICH_HOVER_PEAKS
        style = {"name": name, "customdata": custom, "hovertemplate": hover}
        if ticks:  # one row of ticks per class above the trace
            y0 = hi + row * (1.2 + 1.2 * (len(groups) - 1 - j))
            fig.add_trace(_beat_comb(p[k] / v.fs, y0, y0 + row, line={"color": colour, "width": 1}, **style))
            rows.append((name, y0 + row / 2, colour))
        else:
            fig.add_trace(v.scatter(x=p[k] / v.fs, y=v.x[p[k]], mode="markers", **style,
                                    marker={"color": colour, "size": 8, "line": {"width": 1, "color": "white"}}))
    return rows, lo, hi


def _highlight_traces(fig, v: _View, p, labels, conf, kinds, highlights, selected) -> None:
    """The starred beats (one trace for all) and the ring around the selected beat, where inside the span."""
    stars = [(name, k) for name, k in (highlights or {}).items() if k is not None and v.a <= p[k] < v.b]
    if stars:
        ks = [k for _, k in stars]
        fig.add_trace(v.scatter(
            x=p[ks] / v.fs, y=v.x[p[ks]], mode="markers", name="most confident", showlegend=False,
            customdata=[[k, str(labels[k]) if labels is not None else "", conf[k], kinds[k], name]
                        for name, k in stars],
            marker={"symbol": "star", "size": 18, "line": {"width": 1.5, "color": "#111111"},
                    "color": [CLASS_COLORS.get(str(labels[k]), "#111111") if labels is not None else "#111111"
                              for k in ks]},
            hovertemplate="<b>%{customdata[4]}</b><br>" + _beat_hover(labels is not None).replace(
                "<b>", "").replace("</b>", ""),
        ))
    if selected is not None and 0 <= selected < p.size and v.a <= p[selected] < v.b:
        fig.add_trace(v.scatter(
            x=[p[selected] / v.fs], y=[v.x[p[selected]]], mode="markers", name="selected beat",
            marker={"symbol": "circle-open", "size": 22, "color": "#111111", "line": {"width": 2.5}},
            hoverinfo="skip", showlegend=False,
        ))


#: Most unreadable spans shaded in one figure (more are joined across their shortest gaps).
MAX_SHADED_SPANS = 100
UNREADABLE_FILL = "rgba(120, 120, 120, 0.22)"


def _shade_unreadable(fig, spans, a: int, b: int, fs: float) -> None:
    """Shade the unreadable ``spans`` (samples) that overlap ``[a, b)``, with one legend entry."""
    if spans is None or not len(spans):
        return
    s = np.clip(np.asarray(spans, dtype=np.int64).reshape(-1, 2), a, b)
    s = s[s[:, 1] > s[:, 0]]
    if len(s) > MAX_SHADED_SPANS:  # join across the shortest gaps (leaves exactly MAX_SHADED_SPANS)
        gaps = s[1:, 0] - s[:-1, 1]
        join = np.argsort(gaps, kind="stable")[: len(s) - MAX_SHADED_SPANS]
        keep = np.ones(len(s), bool)
        keep[join + 1] = False
        ends = np.maximum.reduceat(s[:, 1], np.flatnonzero(keep))
        s = np.column_stack((s[keep, 0], ends))
    for start, end in s:
        fig.add_vrect(x0=start / fs, x1=end / fs, fillcolor=UNREADABLE_FILL, line_width=0, layer="below")
    if len(s):
        import plotly.graph_objects as go

        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="unreadable signal (Q)",
                                 marker={"symbol": "square", "size": 12, "color": UNREADABLE_FILL},
                                 hoverinfo="skip"))


#: ECG paper: 25 mm/s and 10 mm/mV, small squares of 1 mm (0.04 s, 0.1 mV) and large ones of 5 mm (0.2 s, 0.5 mV).
PAPER_SPEED_MM_S = 25.0
PAPER_GAIN_MM_MV = 10.0
PAPER_MINOR = (0.04, 0.1)
PAPER_MAJOR = (0.2, 0.5)
PAPER_COLORS = {"minor": "#f7d9d9", "major": "#e6a5a5", "background": "#fffbfb"}
#: Strips up to this long (s) keep the paper's aspect (a 1-mm square is square) and draw the 1-mm squares;
#: longer ones fill the chart and draw the 5-mm squares only (1-mm lines would be closer than pixels).
PAPER_ASPECT_MAX_S = 20.0
#: The calibration pulse drawn before the strip: 1 mV for 200 ms.
CALIBRATION_MV = 1.0
CALIBRATION_S = 0.2
#: The letter written above each beat (SVEB as S, VEB as V, as on a Holter strip).
BEAT_LETTERS: dict[str, str] = {"N": "N", "SVEB": "S", "VEB": "V", "F": "F", "Q": "Q"}


def ecg_strip_figure(signal, sampling_rate, *, peaks=None, labels=None, units: str = "", start_s: float = 0.0,
                     stop_s: float | None = None, title: str | None = None, height: int = 360, **kwargs):
    """A stretch of ECG drawn like an ECG: paper grid, calibration pulse and a letter above every beat.

    The trace, its beat markers (coloured by class, clickable, with a readable hover) and the marked beats are
    those of :func:`trace_figure` (``kwargs`` go to it). In millivolts (``units == "mV"``, see
    :func:`ecg_core.io.to_millivolts`) the grid is ECG paper at :data:`PAPER_SPEED_MM_S` and
    :data:`PAPER_GAIN_MM_MV`: lines every 1 mm (0.04 s, 0.1 mV) and heavier ones every 5 mm (0.2 s,
    0.5 mV), and a strip of up to :data:`PAPER_ASPECT_MAX_S` keeps the paper's aspect (the y axis scaled
    to the x axis, 10 mm/mV against 25 mm/s); a calibration pulse of :data:`CALIBRATION_MV` for
    :data:`CALIBRATION_S` stands before the strip. In other units (unknown, ADC units without a known gain) the
    time grid is drawn and the amplitude is not scaled, with neither aspect nor pulse.

    Parameters
    ----------
    signal, sampling_rate, peaks, labels, start_s, stop_s, title, height
        As :func:`trace_figure`.
    units : str
        The signal's units; ``"mV"`` gives the paper's scale.
    **kwargs
        More :func:`trace_figure` arguments (``confidence``, ``score_kinds``, ``highlights``, ``selected`` ...).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    fs = float(sampling_rate)
    x = np.asarray(signal, dtype=np.float64)
    fig = trace_figure(x, fs, peaks=peaks, labels=labels, units=units, start_s=start_s, stop_s=stop_s, title=title,
                       height=height, rich_hover=True, **kwargs)
    a = max(int(start_s * fs), 0)
    b = x.size if stop_s is None else min(int(np.ceil(stop_s * fs)) + 1, x.size)
    t0, t1 = a / fs, (b - 1) / fs
    seg = x[a:b][np.isfinite(x[a:b])]
    lo, hi = (float(seg.min()), float(seg.max())) if seg.size else (0.0, 1.0)
    mv = units == "mV"
    span = max(hi - lo, CALIBRATION_MV if mv else 1e-9)
    letters_y = hi + 0.12 * span
    if peaks is not None and labels is not None:
        p = np.asarray(peaks, dtype=np.int64)
        k = np.flatnonzero((p >= a) & (p < b))
        lab = np.asarray(labels).astype(str)[k]
        if k.size <= MAX_BEAT_MARKERS:  # one text element per beat (a comb's span has its class rows instead)
            fig.add_trace(go.Scatter(
                x=p[k] / fs, y=np.full(k.size, letters_y), mode="text", text=[BEAT_LETTERS.get(c, c) for c in lab],
                textfont={"color": [CLASS_COLORS.get(c, TRACE_COLOR) for c in lab], "size": 13,
                          "family": _FONT["family"]},
                hoverinfo="skip", showlegend=False, name="beat letters"))
    left = t0
    if mv:  # the calibration pulse, in a margin before the strip, from the strip's baseline
        base = float(np.median(seg)) if seg.size else 0.0
        c0 = t0 - 2.0 * CALIBRATION_S
        c = [c0, c0 + 0.25 * CALIBRATION_S, c0 + 0.25 * CALIBRATION_S, c0 + 1.25 * CALIBRATION_S,
             c0 + 1.25 * CALIBRATION_S, c0 + 1.5 * CALIBRATION_S]
        fig.add_trace(go.Scatter(
            x=c, y=[base, base, base + CALIBRATION_MV, base + CALIBRATION_MV, base, base], mode="lines",
            line={"color": "#111111", "width": 1.5}, name="calibration", showlegend=False,
            hovertemplate=f"calibration: {CALIBRATION_MV:g} mV, {1000 * CALIBRATION_S:.0f} ms<extra></extra>"))
        left = c0 - 0.5 * CALIBRATION_S
    for trace in fig.data:  # the ECG itself in black ink on the paper
        if trace.name == "ECG":
            trace.line.color = "#111111"
    length = t1 - t0
    fine = length <= PAPER_ASPECT_MAX_S
    minor_s, minor_mv = PAPER_MINOR
    major_s, major_mv = PAPER_MAJOR
    # grid at the 5-mm lines; tick labels at whole seconds only
    first = np.ceil(left / major_s) * major_s
    grid_s = np.round(np.arange(first, t1 + 1e-9, major_s), 6)
    whole = np.isclose(grid_s, np.round(grid_s))
    fig.update_xaxes(range=[left, t1], tickmode="array", tickvals=grid_s.tolist(),
                     ticktext=[f"{v:.0f}" if w else "" for v, w in zip(grid_s, whole, strict=True)],
                     showgrid=True, gridcolor=PAPER_COLORS["major"], gridwidth=1, ticks="",
                     minor={"dtick": minor_s, "showgrid": fine, "gridcolor": PAPER_COLORS["minor"], "gridwidth": 0.5,
                            "tick0": 0})
    if mv:
        fig.update_yaxes(dtick=major_mv, tick0=0, showgrid=True, gridcolor=PAPER_COLORS["major"], gridwidth=1,
                         minor={"dtick": minor_mv, "showgrid": fine, "gridcolor": PAPER_COLORS["minor"],
                                "gridwidth": 0.5, "tick0": 0},
                         range=[lo - 0.1 * span, letters_y + 0.12 * span], tickvals=None)
        if fine:  # 10 mm per mV against 25 mm per s: the y unit is 0.4 of the x unit on screen
            fig.update_yaxes(scaleanchor="x", scaleratio=PAPER_GAIN_MM_MV / PAPER_SPEED_MM_S, constrain="range")
            fig.update_xaxes(constrain="domain")
    else:
        fig.update_yaxes(range=[lo - 0.1 * span, letters_y + 0.12 * span])
    fig.update_layout(plot_bgcolor=PAPER_COLORS["background"])
    return fig


