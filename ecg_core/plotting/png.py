"""The static beat picture of the API (matplotlib PNG)."""

from __future__ import annotations

import io

import numpy as np

from ..config import FS
from ._base import CLASS_COLORS


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


