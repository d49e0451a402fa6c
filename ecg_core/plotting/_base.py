"""What every dashboard figure shares: class colours and names, limits, the figure class, layout, hovers."""

from __future__ import annotations

import copy
import functools

import numpy as np

from ..beats import runs_of

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


