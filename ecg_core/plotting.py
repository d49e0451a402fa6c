"""All figures of the project: Plotly for the dashboard, a static PNG (matplotlib) for the API.

Compute modules never plot; pages and the API call these builders.
"""

from __future__ import annotations

import copy
import functools
import io

import numpy as np

from .beats import runs_of
from .config import FS


def beat_png(window, *, label: str, probability: float, units: str = "mV", sampling_rate: float = FS,
             score_kind: str = "probability") -> bytes:
    """PNG of one beat window: time in ms (R-peak at 0) against amplitude in ``units``.

    ``score_kind`` names the share in the title: ``"probability"`` (the network's, calibrated) or
    ``"decision score"`` (:attr:`ecg_core.pipeline.Analysis.score_kinds`).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    w = np.asarray(window, dtype=float)
    t = (np.arange(w.size) - w.size // 2) * 1000.0 / sampling_rate
    fig = Figure(figsize=(6, 3), dpi=100)
    ax = fig.add_subplot()
    ax.plot(t, w, color=CLASS_COLORS.get(label, "#1f77b4"), lw=1.5)
    ax.axvline(0, color="0.6", lw=0.8, ls="--")
    ax.set_xlabel("Time from R-peak (ms)")
    ax.set_ylabel(f"Amplitude ({units})")
    ax.set_title(f"{label} beat, {score_kind} {probability:.2f}")
    ax.grid(alpha=0.3)
    # fixed margins: tight_layout measured every text box and cost ~40% of the time
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.17, top=0.89)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Plotly figures for the dashboard. Pages only draw what these return.
# --------------------------------------------------------------------------------------------

#: One colour per AAMI class, used by every figure (colour-blind friendly, Tableau 10).
CLASS_COLORS: dict[str, str] = {"N": "#4c78a8", "SVEB": "#f58518", "VEB": "#e45756", "F": "#b279a2", "Q": "#54a24b"}
#: Plain-language names of the classes, for hover texts and legends.
CLASS_NAMES: dict[str, str] = {
    "N": "normal / bundle branch block",
    "SVEB": "supraventricular ectopic",
    "VEB": "ventricular ectopic",
    "F": "fusion",
    "Q": "paced / unclassifiable",
}
#: Short names for tight labels.
CLASS_SHORT: dict[str, str] = {"N": "normal", "SVEB": "supraventr.", "VEB": "ventricular", "F": "fusion",
                               "Q": "paced/unknown"}
TRACE_COLOR = "#334155"
#: Points drawn for a trace at most; longer spans are min-max downsampled (peaks stay visible).
MAX_TRACE_POINTS = 8000
#: Beats a figure draws as markers (clickable) at most. Each marker is an SVG element of its own (and
#: WebGL, which has no such cost, costs ~0.4 s per figure to start in a browser without a GPU), so a
#: figure with more beats draws them as lines instead (one SVG path each, see :func:`_beat_comb` and
#: :func:`tachogram_figure`): the hover still names every beat; beats are picked in the detail view
#: or the table.
MAX_BEAT_MARKERS = 600
#: Markers one class may have in a tachogram; beyond (hours of frequent ectopy), the class keeps the
#: beats with the shortest and longest RR of equal stretches (min-max, as :func:`minmax_downsample`).
MAX_CLASS_MARKERS = 2000
#: A trace figure without a range slider and with more points than this (a detail window of more
#: than ~11 s at 360 Hz) is drawn with WebGL (``Scattergl``); smaller ones, the overview (the range
#: slider draws SVG traces only) and the tachogram are SVG, which browsers without a GPU (software
#: WebGL, ~0.4 s to start per chart) draw much faster.
WEBGL_MIN_POINTS = 4000
#: Shading of stretches of suspected atrial fibrillation, and the most stretches one
#: chart shades (beyond, the stretches separated by the shortest gaps are merged).
AF_COLOR = "#9467bd"
MAX_SHADED_RUNS = 200


def _scatter_type(n_points: int):
    """``Scattergl`` for a figure of more than :data:`WEBGL_MIN_POINTS` points, else ``Scatter``."""
    import plotly.graph_objects as go

    return go.Scattergl if n_points > WEBGL_MIN_POINTS else go.Scatter
_FONT = {"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13, "color": "#1f2933"}
_MARGIN = {"l": 60, "r": 20, "t": 40, "b": 40}


@functools.cache
def _figure_class():
    import plotly.graph_objects as go

    class Figure(go.Figure):
        """A ``go.Figure`` whose dict form (what ``st.plotly_chart`` sends) keeps numpy arrays, which
        become JSON lists, instead of Plotly's base64-encoded typed arrays.

        Streamlit renders every figure twice. With ``layout.datarevision`` set, Plotly skips
        recomputing and redrawing list data that did not change, but it always recomputes typed
        arrays: lists halve the browser's work. Converting here, and not by assigning lists to the
        traces, also spares Plotly's Python side from validating every element of every list.
        """

        def to_dict(self):  # go.Figure.to_dict without its last step, the base64 conversion (no frames here)
            return {"data": copy.deepcopy(self._data), "layout": copy.deepcopy(self._layout)}

        def __reduce__(self):  # picklable although defined in a function (st.cache_data, processes)
            return _rebuilt, (self.to_dict(),)

    return Figure


def _figure(*args, **kwargs):
    """A new (empty or given) figure of the dashboard: see :func:`_figure_class`."""
    return _figure_class()(*args, **kwargs)


def _rebuilt(spec: dict):
    """The figure of ``spec`` (a :func:`_figure`'s ``to_dict()``) without the default template a new figure gets."""
    fig = _figure(spec)
    fig.layout.template = None
    return fig


def _round_arrays(fig) -> None:
    """Float data rounded to 6 decimals (shorter JSON; far below any visible difference)."""
    for trace in fig.data:
        for key in ("x", "y", "z", "customdata"):
            value = trace[key] if key in trace else None
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                trace[key] = np.round(value, 6)


def _layout(fig, *, title: str | None = None, height: int = 320, margin: dict | None = None, **kwargs):
    """Common layout, and data the browser can draw once (call after adding the traces).

    Margins are fixed: automatic margins (Streamlit's theme turns them on for every axis) make
    Plotly measure the tick labels after drawing and draw the whole figure again when they do not
    fit; the margins here fit the labels of these figures. ``datarevision`` (with plain-list data,
    see :func:`_figure_class`) tells Plotly that Streamlit's second render has the same data.
    """
    _round_arrays(fig)
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}} if title else None,
        height=height, margin={**_MARGIN, **(margin or {}), "autoexpand": False}, font=_FONT,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        hoverlabel={"font_size": 13, "bgcolor": "#ffffff", "bordercolor": "#d5dae0"}, datarevision=1,
        paper_bgcolor="#ffffff", plot_bgcolor="#ffffff", **kwargs,
    )
    # no template: Plotly recomputes a figure with any template on every render (see _figure_class);
    # the look that Streamlit's theme gave (light grid, no zero lines) is set here instead
    fig.layout.template = None
    fig.update_xaxes(automargin=False, showgrid=False, zeroline=False, linecolor="#d5dae0", ticks="outside",
                     tickcolor="#d5dae0")
    fig.update_yaxes(automargin=False, gridcolor="#e8ebef", zeroline=False)
    return fig


def minmax_downsample(signal, start: int = 0, stop: int | None = None, *, max_points: int = MAX_TRACE_POINTS):
    """Indices of a min-max downsampled view of ``signal[start:stop]``.

    Each of ``max_points // 2`` equal bins keeps its lowest and its highest sample, in time order,
    so QRS spikes survive in the overview. Spans that already fit are returned whole.

    Returns
    -------
    numpy.ndarray
        Sorted sample indices into ``signal``.
    """
    x = np.asarray(signal)
    stop = x.size if stop is None else min(int(stop), x.size)
    start = max(int(start), 0)
    n = stop - start
    if n <= max_points:
        return np.arange(start, stop)
    bins = max(max_points // 2, 1)
    width = int(np.ceil(n / bins))
    bins = int(np.ceil(n / width))
    seg = x[start:stop]
    padded = np.pad(seg, (0, bins * width - n), mode="edge").reshape(bins, width)
    base = start + np.arange(bins) * width
    lo = base + np.argmin(padded, axis=1)
    hi = base + np.argmax(padded, axis=1)
    idx = np.sort(np.concatenate([lo, hi]))
    return np.unique(np.minimum(idx, stop - 1))


def _first_per_bin(times, lo: float, hi: float, bins: int) -> np.ndarray:
    """Indices of the first of the sorted ``times`` in each occupied one of ``bins`` equal bins of ``[lo, hi]``."""
    t = np.asarray(times, dtype=float)
    if t.size <= bins:
        return np.arange(t.size)
    k = np.minimum(((t - lo) * bins / max(hi - lo, 1e-12)).astype(np.int64), bins - 1)
    return np.unique(k, return_index=True)[1]


def _beat_comb(x, low, high, *, customdata, **kwargs):
    """One SVG line trace drawing a comb: a tick from ``low`` up to ``high`` at each ``x``, joined along ``low``.

    One path for any number of beats (a line broken by gaps costs as much as separate markers), and
    every tick's vertices carry its beat's ``customdata`` for the hover.
    """
    import plotly.graph_objects as go

    xs = np.repeat(np.asarray(x, dtype=float), 3)
    ys = np.tile([low, high, low], xs.size // 3)
    return go.Scatter(x=xs, y=ys, mode="lines", customdata=np.repeat(np.asarray(customdata, dtype=object), 3, axis=0),
                      **kwargs)


def _nice_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """About ``n`` round tick values (steps of 1, 2 or 5 times a power of ten) between ``lo`` and ``hi``."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return []
    span = max(hi - lo, 1e-12)
    base = 10.0 ** np.floor(np.log10(span / n))
    step = next((m * base for m in (1, 2, 5) if span / (m * base) <= n + 1), 10 * base)
    ticks = np.round(np.arange(np.ceil(lo / step) * step, hi + step * 1e-9, step), 12) + 0.0  # no -0.0
    return [float(v) for v in ticks] or [float(lo)]


def _beat_hover(labels: bool) -> str:
    if labels:
        return ("<b>%{customdata[1]}</b> beat #%{customdata[0]}<br>%{customdata[3]} %{customdata[2]:.2f}"
                "<br>t = %{x:.3f} s<extra></extra>")
    return "R-peak #%{customdata[0]}<br>t = %{x:.3f} s<extra></extra>"


#: The detail strip's hover: class in words, beat number and time, score and its kind, RR before.
_RICH_HOVER = ("<b>%{customdata[1]}</b> · %{customdata[4]}<br>beat #%{customdata[0]} at %{customdata[5]}"
               "<br>%{customdata[3]} %{customdata[2]:.2f}<br>RR before %{customdata[6]}<extra></extra>")
_RICH_HOVER_PEAKS = "R-peak #%{customdata[0]} at %{customdata[5]}<br>RR before %{customdata[6]}<extra></extra>"


def _clock(seconds: float) -> str:
    """``m:ss.sss`` (``h:mm:ss.sss`` from an hour on)."""
    m, sec = divmod(float(seconds), 60.0)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{sec:06.3f}" if h else f"{m}:{sec:06.3f}"


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
    if peaks is not None:
        p = np.asarray(peaks, dtype=np.int64)
        inside = np.flatnonzero((p >= a) & (p < b))
        beat_no = np.arange(p.size)
        if labels is None:
            groups = [("R-peaks", inside, "#d62728")]
        else:
            lab = np.asarray(labels).astype(str)
            groups = [(c, inside[lab[inside] == c], col) for c, col in CLASS_COLORS.items() if np.any(lab == c)]
        conf = np.asarray(confidence, dtype=float) if confidence is not None else np.full(p.size, np.nan)
        kinds = np.asarray(score_kinds, dtype=object) if score_kinds is not None else np.full(p.size, "probability",
                                                                                                 dtype=object)
        finite = x[idx][np.isfinite(x[idx])]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        row = max(hi - lo, 1e-9) * 0.1
        rows = []
        for j, (name, k, colour) in enumerate(groups):
            if ticks:  # at most one tick per bin of the line's
                k = k[_first_per_bin(p[k], a, b, max_points // 2)]
            custom = np.empty((k.size, 7 if rich_hover else 4), dtype=object)
            custom[:, 0] = beat_no[k]
            custom[:, 1] = name
            custom[:, 2] = conf[k]
            custom[:, 3] = kinds[k]
            hover = _beat_hover(labels is not None)
            if rich_hover:
                custom[:, 4] = CLASS_NAMES.get(name, "")
                custom[:, 5] = [_clock(v) for v in p[k] / fs]
                custom[:, 6] = [f"{1000 * (p[j] - p[j - 1]) / fs:.0f} ms" if j > 0 else "—" for j in k]
                hover = _RICH_HOVER if labels is not None else _RICH_HOVER_PEAKS
            style = {"name": name, "customdata": custom, "hovertemplate": hover}
            if ticks:  # one row of ticks per class above the trace
                y0 = hi + row * (1.2 + 1.2 * (len(groups) - 1 - j))
                fig.add_trace(_beat_comb(p[k] / fs, y0, y0 + row, line={"color": colour, "width": 1}, **style))
                rows.append((name, y0 + row / 2, colour))
            else:
                fig.add_trace(scatter(x=p[k] / fs, y=x[p[k]], mode="markers", **style,
                                      marker={"color": colour, "size": 8, "line": {"width": 1, "color": "white"}}))
        stars = [(name, k) for name, k in (highlights or {}).items() if k is not None and a <= p[k] < b]
        if stars:  # one trace for all the stars
            ks = [k for _, k in stars]
            fig.add_trace(scatter(
                x=p[ks] / fs, y=x[p[ks]], mode="markers", name="most confident", showlegend=False,
                customdata=[[k, str(labels[k]) if labels is not None else "", conf[k], kinds[k], name]
                            for name, k in stars],
                marker={"symbol": "star", "size": 18, "line": {"width": 1.5, "color": "#111111"},
                        "color": [CLASS_COLORS.get(str(labels[k]), "#111111") if labels is not None else "#111111"
                                  for k in ks]},
                hovertemplate="<b>%{customdata[4]}</b><br>" + _beat_hover(labels is not None).replace(
                    "<b>", "").replace("</b>", ""),
            ))
        if selected is not None and 0 <= selected < p.size and a <= p[selected] < b:
            fig.add_trace(scatter(
                x=[p[selected] / fs], y=[x[p[selected]]], mode="markers", name="selected beat",
                marker={"symbol": "circle-open", "size": 22, "color": "#111111", "line": {"width": 2.5}},
                hoverinfo="skip", showlegend=False,
            ))
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


def runs(mask, *, max_runs: int = MAX_SHADED_RUNS) -> np.ndarray:
    """``(k, 2)`` first and last index of each run of True in ``mask``, at most ``max_runs`` runs.

    Beyond ``max_runs``, the runs separated by the shortest gaps are merged.
    """
    r = runs_of(mask)
    if len(r) > max_runs >= 1:
        gaps = r[1:, 0] - r[:-1, 1]
        cut = np.sort(np.argsort(gaps, kind="stable")[len(gaps) - (max_runs - 1):])
        r = np.c_[np.r_[r[0, 0], r[cut + 1, 0]], np.r_[r[cut, 1], r[-1, 1]]]
    return r


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
