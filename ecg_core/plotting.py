"""All figures of the project: Plotly for the dashboard, a static PNG (matplotlib) for the API.

Compute modules never plot; pages and the API call these builders.
"""

from __future__ import annotations

import io

import numpy as np

from .config import FS


def beat_png(window, *, label: str, probability: float, units: str = "mV", sampling_rate: float = FS) -> bytes:
    """PNG of one beat window: time in ms (R-peak at 0) against amplitude in ``units``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    w = np.asarray(window, dtype=float)
    t = (np.arange(w.size) - w.size // 2) * 1000.0 / sampling_rate
    fig = Figure(figsize=(6, 3), dpi=100)
    ax = fig.add_subplot()
    ax.plot(t, w, color="#1f77b4", lw=1.5)
    ax.axvline(0, color="0.6", lw=0.8, ls="--")
    ax.set_xlabel("Time from R-peak (ms)")
    ax.set_ylabel(f"Amplitude ({units})")
    ax.set_title(f"{label} beat, probability {probability:.2f}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
