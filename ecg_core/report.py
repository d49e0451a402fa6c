"""The printable report of one analysed recording: a PDF drawn with matplotlib.

Pages (A4): the recording and its summary (heart rates, HRV, classes, low-confidence beats, atrial
fibrillation), the heart-rate trend and the beats per class; the event table; then one ECG strip per
event kind, on ECG paper at true scale (25 mm/s, 10 mm/mV: 10 s are 250 mm on an A4 landscape page),
with a calibration pulse and a letter above each beat. The same figures give PNG pages
(:func:`report_pngs`), for a look without a PDF viewer. The dashboard's *Report (PDF)* download and
``python -m ecg_core report INPUT --output-dir DIR`` both call :func:`build_report`. This module only
draws: the figures' numbers come from :class:`ecg_core.pipeline.Analysis` (summary, events, HRV, trend).
"""

from __future__ import annotations

import datetime as _dt
import io as _io

import numpy as np

from .config import CLASSES
from .events import BRADY_BPM, KINDS, TACHY_BPM

__all__ = ["build_report", "report_figures", "report_pdf", "report_pngs"]

A4_PORTRAIT = (8.27, 11.69)
A4_LANDSCAPE = (11.69, 8.27)
MM = 1 / 25.4  # inches
#: Strips per landscape page, their length (s) and the amplitude span each shows (mV).
STRIPS_PER_PAGE = 3
STRIP_S = 10.0
STRIP_MV = 4.0
#: Event rows per page of the event table.
EVENT_ROWS_PER_PAGE = 38
DISCLAIMER = "Research software, not a medical device: every label needs a clinician's review."
_COLORS = {"N": "#4c78a8", "SVEB": "#f58518", "VEB": "#e45756", "F": "#b279a2", "Q": "#54a24b"}
_LETTERS = {"N": "N", "SVEB": "S", "VEB": "V", "F": "F", "Q": "Q"}
_PAPER = {"minor": "#f4c7c7", "major": "#e08a8a"}


def _fmt(value, spec: str = ".0f", unit: str = "") -> str:
    return "—" if value is None or (isinstance(value, float) and not np.isfinite(value)) else \
        f"{value:{spec}}{(' ' + unit) if unit else ''}"


def _clock(seconds: float) -> str:
    m, s = divmod(float(seconds), 60.0)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"


def _figure(size):
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=100)


def _footer(fig, name: str, page: int) -> None:
    fig.text(0.5, 0.012, f"{name} · page {page} · {DISCLAIMER}", ha="center", va="bottom", fontsize=7, color="0.4")


def _summary_page(name, lead, sampling_rate, units_note, analysis, summary, hrv, trend, counts_by_kind, notes):
    fig = _figure(A4_PORTRAIT)
    fig.text(0.07, 0.955, f"ECG report: {name}", fontsize=17, weight="bold", va="top")
    fig.text(0.07, 0.925, f"Generated {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by the ECG arrhythmia "
                          f"workbench\nmodel {summary.model_version or '?'} ({summary.path} path)",
             fontsize=8.5, color="0.35", va="top", linespacing=1.4)
    duration = summary.duration_s or 0.0
    rows = [
        ("Recording", f"{name}, lead {lead or '?'}, {sampling_rate:g} Hz, "
                      + (f"{duration / 60:.1f} min" if duration >= 120 else f"{duration:.0f} s")),
        ("Beats", f"{summary.beats}"),
        ("Heart rate", f"mean {_fmt(summary.mean_hr)} bpm, min {_fmt(summary.min_hr)}, max {_fmt(summary.max_hr)} "
                       "(single RR intervals)"),
        ("HRV (N-N intervals)", f"{hrv.nn_intervals} intervals: mean {_fmt(hrv.mean_nn_ms, '.0f', 'ms')}, "
                                f"SDNN {_fmt(hrv.sdnn_ms, '.0f', 'ms')}, RMSSD {_fmt(hrv.rmssd_ms, '.0f', 'ms')}, "
                                f"pNN50 {_fmt(hrv.pnn50, '.1f', '%')}"),
        ("Classes", ", ".join(f"{c} {summary.counts[c]} ({100 * summary.counts[c] / max(summary.beats, 1):.1f}%)"
                              for c in CLASSES)),
        ("Low-confidence beats", f"{summary.low_confidence} (score of the class below 0.8: review these first)"),
    ]
    if summary.atrial_fibrillation_beats:
        rows.append(("Atrial fibrillation", f"suspected in {summary.atrial_fibrillation_beats} beats "
                                            "(no beat called SVEB there)"))
    rows.append(("Events", ", ".join(f"{n} {k}" for k, n in counts_by_kind.items()) or "none found"))
    rows += [("Note", n) for n in notes if n]
    y = 0.875
    for label, text in rows:
        fig.text(0.07, y, label, fontsize=9.5, weight="bold", va="top")
        fig.text(0.30, y, text, fontsize=9.5, va="top", wrap=True)
        y -= 0.028 if len(text) < 95 else 0.045
    ax = fig.add_axes((0.1, max(y - 0.30, 0.36), 0.85, 0.22))
    t = np.asarray(trend.time_s, float)
    minutes = t.size and t[-1] > 600
    ax.plot(t / 60 if minutes else t, trend.bpm, color=_COLORS["N"], lw=1.3, marker="o" if t.size <= 120 else None,
            ms=3)
    for value in (BRADY_BPM, TACHY_BPM):
        ax.axhline(value, color="0.6", ls=":", lw=0.8)
    ax.set_title(f"Heart rate trend (mean over {trend.bin_s:g} s bins)", fontsize=10, loc="left")
    ax.set_xlabel("Time (min)" if minutes else "Time (s)", fontsize=9)
    ax.set_ylabel("Heart rate (bpm)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    ax2 = fig.add_axes((0.1, 0.07, 0.85, 0.2))
    values = [summary.counts[c] for c in CLASSES]
    bars = ax2.bar(CLASSES, values, color=[_COLORS[c] for c in CLASSES])
    for bar, v in zip(bars, values, strict=True):
        ax2.annotate(f"{v} ({100 * v / max(summary.beats, 1):.1f}%)", (bar.get_x() + bar.get_width() / 2, v),
                     ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    ax2.set_ylim(0, max(max(values), 1) * 1.18)
    ax2.set_title("Beats per class", fontsize=10, loc="left")
    ax2.set_ylabel("Beats", fontsize=9)
    ax2.tick_params(labelsize=8)
    return fig


def _hline(fig, y: float):
    from matplotlib.lines import Line2D

    return Line2D([0.07, 0.95], [y, y], transform=fig.transFigure, color="0.7", lw=0.6)


def _event_pages(name, events, first_page: int):
    pages = []
    columns = ["#", "kind", "start", "duration (s)", "beats", "rate (bpm)", "detail"]  # start as m:ss.s
    chunks = [events[i: i + EVENT_ROWS_PER_PAGE] for i in range(0, len(events), EVENT_ROWS_PER_PAGE)] or [()]
    for j, chunk in enumerate(chunks):
        fig = _figure(A4_PORTRAIT)
        fig.text(0.07, 0.955, f"Events ({len(events)})" + (f", continued ({j + 1}/{len(chunks)})" if j else ""),
                 fontsize=14, weight="bold", va="top")
        if not chunk:
            fig.text(0.07, 0.9, "No events found.", fontsize=10, va="top")
        else:  # one text block per column (a matplotlib table draws each cell on its own: seconds per page)
            offset = j * EVENT_ROWS_PER_PAGE
            cells = [[str(offset + i + 1), e.kind, _clock(e.start_s), f"{e.duration_s:.1f}", str(e.beats),
                      _fmt(e.rate_bpm), e.detail] for i, e in enumerate(chunk)]
            x = 0.07
            for c, (title, width) in enumerate(zip(columns, (0.05, 0.13, 0.09, 0.11, 0.07, 0.09, 0.4), strict=True)):
                fig.text(x, 0.91, title, fontsize=8.5, weight="bold", va="top")
                fig.text(x, 0.89, "\n".join(row[c] for row in cells), fontsize=8.5, va="top", linespacing=1.6)
                x += width
            fig.add_artist(_hline(fig, 0.895))
        _footer(fig, name, first_page + j)
        pages.append(fig)
    return pages


def _strip(ax, signal, fs, samples, labels, event, units: str) -> None:
    """One strip on ECG paper: ``STRIP_S`` seconds centred on ``event`` (from its onset when longer)."""
    x = np.asarray(signal, float)
    centre = event.centre_s if event.duration_s + 2 <= STRIP_S else event.start_s - 1 + STRIP_S / 2
    t0 = max(0.0, min(centre - STRIP_S / 2, x.size / fs - STRIP_S))
    a, b = int(t0 * fs), min(int((t0 + STRIP_S) * fs) + 1, x.size)
    t = np.arange(a, b) / fs
    seg = x[a:b]
    finite = seg[np.isfinite(seg)]
    base = float(np.median(finite)) if finite.size else 0.0
    mv = units == "mV"
    if mv:
        lo = base - STRIP_MV * 0.4
        hi = lo + STRIP_MV
    else:
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        pad = 0.15 * max(hi - lo, 1e-9)
        lo, hi = lo - pad, hi + 2 * pad
    left = t0 - 0.4 if mv else t0
    ax.set_xlim(left, t0 + STRIP_S)
    ax.set_ylim(lo, hi)
    # ECG paper: 1-mm and 5-mm lines (0.04 s / 0.2 s; 0.1 mV / 0.5 mV), drawn as two line collections (a
    # matplotlib tick per grid line costs seconds a page)
    from matplotlib.collections import LineCollection

    for step_s, step_mv, colour, width in ((0.04, 0.1, _PAPER["minor"], 0.3), (0.2, 0.5, _PAPER["major"], 0.6)):
        xs = np.arange(np.ceil(left / step_s) * step_s, t0 + STRIP_S + 1e-9, step_s)
        lines = [[(v, lo), (v, hi)] for v in xs]
        if mv:
            lines += [[(left, v), (t0 + STRIP_S, v)] for v in np.arange(np.ceil(lo / step_mv) * step_mv, hi + 1e-9,
                                                                        step_mv)]
        ax.add_collection(LineCollection(lines, colors=colour, linewidths=width, zorder=0))
    seconds = np.arange(np.ceil(left), t0 + STRIP_S + 1e-9, 1.0) + 0.0  # + 0.0: no "-0"
    ax.set_xticks(seconds, [f"{v:.0f}" for v in seconds])
    if mv:
        ax.set_yticks(np.arange(np.ceil(lo), hi + 1e-9, 1.0))
    ax.tick_params(which="both", length=0, labelsize=7)
    ax.plot(t, np.clip(seg, lo, hi), color="#111111", lw=0.7)
    s = np.asarray(samples, np.int64)
    k = np.flatnonzero((s >= a) & (s < b))
    above = ax.get_xaxis_transform()  # x in seconds, y in axes fractions: the letters stand above the strip
    for j in k:
        lab = str(labels[j])
        ax.text(s[j] / fs, 1.02, _LETTERS.get(lab, lab), transform=above, ha="center", va="bottom", fontsize=8,
                color=_COLORS.get(lab, "#111111"), weight="bold" if lab != "N" else "normal", clip_on=False)
    ax.axvspan(event.start_s - 0.1, event.end_s + 0.1, color="#fde68a", alpha=0.35, lw=0)
    if mv:  # calibration pulse: 1 mV for 200 ms
        c0 = t0 - 0.35
        ax.plot([c0, c0 + 0.05, c0 + 0.05, c0 + 0.25, c0 + 0.25, c0 + 0.3],
                [base, base, base + 1, base + 1, base, base], color="#111111", lw=0.9)
    for spine in ax.spines.values():
        spine.set_color(_PAPER["major"])


def _strip_pages(name, signal, fs, analysis, events, units: str, first_page: int):
    """One strip for the first event of each kind, three to a landscape page, at 25 mm/s and 10 mm/mV."""
    chosen = [next(e for e in events if e.kind == kind) for kind in KINDS if any(e.kind == kind for e in events)]
    pages = []
    labels = analysis.labels
    width, height = STRIP_S * 25 * MM, STRIP_MV * 10 * MM  # inches on paper
    W, H = A4_LANDSCAPE
    for j in range(0, len(chosen), STRIPS_PER_PAGE):
        fig = _figure(A4_LANDSCAPE)
        fig.text(0.05, 0.965, "One strip per event kind" + (" (25 mm/s, 10 mm/mV; calibration pulse 1 mV, 200 ms)"
                                                            if units == "mV" else " (amplitude in the file's units, "
                                                            "not to scale)"), fontsize=11, weight="bold", va="top")
        for i, event in enumerate(chosen[j: j + STRIPS_PER_PAGE]):
            top = 0.9 - i * (height + 0.95) / H
            ax = fig.add_axes(((W - width) / 2 / W, top - height / H, width / W, height / H))
            _strip(ax, signal, fs, analysis.samples, labels, event, units)
            ax.set_title(f"{event.kind}: {event.detail}, at {_clock(event.start_s)} (shaded)", fontsize=9, loc="left",
                         pad=14)
        _footer(fig, name, first_page + j // STRIPS_PER_PAGE)
        pages.append(fig)
    return pages


def report_figures(signal, sampling_rate, analysis, *, name: str, lead: str = "", units: str = "",
                   units_note: str = "", events=None, notes=()) -> list:
    """The report's pages as matplotlib figures (see the module's docstring).

    Parameters
    ----------
    signal : array_like
        The analysed lead, in mV where known (:func:`ecg_core.io.to_millivolts`): the strips are drawn at true
        scale only then.
    sampling_rate : float
        Hz.
    analysis : ecg_core.pipeline.Analysis
        Its beats (with any edits applied, :func:`ecg_core.edits.apply_edits`).
    name, lead : str
        The recording's name and lead, printed on the first page.
    units : str
        ``signal``'s units.
    units_note : str
        A unit conversion to state (``to_millivolts``' note).
    events : sequence of ecg_core.events.Event, optional
        Default ``analysis.events()``.
    notes : sequence of str
        More lines for the first page (e.g. edits, detector settings).

    Returns
    -------
    list of matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg")
    events = tuple(analysis.events() if events is None else events)
    counts = {k: n for k in KINDS if (n := sum(1 for e in events if e.kind == k))}
    summary = analysis.summary()
    fs = float(sampling_rate)
    first = _summary_page(name, lead, fs, units_note, analysis, summary, analysis.hrv(), analysis.heart_rate_trend(),
                          counts, [units_note, *notes])
    _footer(first, name, 1)
    tables = _event_pages(name, events, 2)
    strips = _strip_pages(name, signal, fs, analysis, events, units, 2 + len(tables))
    return [first, *tables, *strips]


def report_pdf(figures, *, title: str = "ECG report") -> bytes:
    """The figures as the pages of one PDF."""
    from matplotlib.backends.backend_pdf import PdfPages

    buf = _io.BytesIO()
    with PdfPages(buf, metadata={"Title": title, "Creator": "ECG arrhythmia workbench"}) as pdf:
        for fig in figures:
            pdf.savefig(fig)
    return buf.getvalue()


def report_pngs(figures, *, dpi: int = 110) -> list[bytes]:
    """The same pages as PNG images (what the PDF shows, without a PDF renderer)."""
    out = []
    for fig in figures:
        buf = _io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        out.append(buf.getvalue())
    return out


def build_report(signal, sampling_rate, analysis, *, name: str, **kwargs) -> bytes:
    """The PDF report of one analysed recording: :func:`report_pdf` of :func:`report_figures`."""
    return report_pdf(report_figures(signal, sampling_rate, analysis, name=name, **kwargs), title=f"ECG report: {name}")
