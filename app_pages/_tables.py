"""The pages' tables and short texts: clock times, event and rhythm tables, misses, HRV figures, the strip's scale.

Plain functions of ``ecg_core`` results (no session state); :mod:`app_pages._common` re-exports them.
"""

from __future__ import annotations

import numpy as np


def clock(seconds: float) -> str:
    """``m:ss.s`` (``h:mm:ss`` from an hour on)."""
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def parse_clock(text: str) -> float | None:
    """Seconds of a typed time: ``754.2``, ``12:34.2`` or ``1:02:03`` (None if it is not one)."""
    parts = str(text).strip().split(":")
    if not 1 <= len(parts) <= 3:
        return None
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    if any(v < 0 or not np.isfinite(v) for v in values) or any(v >= 60 for v in values[1:]):
        return None
    seconds = 0.0
    for v in values:
        seconds = seconds * 60 + v
    return seconds


def step_to_class(labels, current: int | None, label: str, direction: int) -> int | None:
    """The nearest beat of class ``label`` before (``direction`` -1) or after (+1) beat ``current``; None if none."""
    k = np.flatnonzero(np.asarray(labels).astype(str) == label)
    if current is None or not k.size:
        return None
    if direction > 0:
        after = k[k > current]
        return int(after[0]) if after.size else None
    before = k[k < current]
    return int(before[-1]) if before.size else None


def event_counts(events) -> dict[str, int]:
    """Events per kind, in :data:`ecg_core.events.KINDS` order (kinds with none left out)."""
    from ecg_core.events import KINDS

    return {k: n for k in KINDS if (n := sum(1 for e in events if e.kind == k))}


def events_table(events, rhythms):
    """The events as the page's table; with reference rhythms, those overlapping each event (normal rhythm left out)."""
    import pandas as pd

    from ecg_core.events import overlapping

    table = pd.DataFrame({"kind": [e.kind for e in events], "start": [clock(e.start_s) for e in events],
                          "duration_s": [e.duration_s for e in events], "beats": [e.beats for e in events],
                          "rate_bpm": [e.rate_bpm for e in events], "detail": [e.detail for e in events]})
    if rhythms:
        table["reference rhythm"] = [", ".join(dict.fromkeys(r[2] for r in overlapping(e.start_s, e.end_s, rhythms)
                                                             if r[2] != "(N")) or "—" for e in events]
    return table


def rhythms_table(rhythms):
    """Reference rhythm episodes as a table, with the event kind each corresponds to."""
    import pandas as pd

    from ecg_core.events import rhythm_kind

    return pd.DataFrame({"start": [clock(a) for a, _, _ in rhythms], "end": [clock(b) for _, b, _ in rhythms],
                         "rhythm (aux_note)": [n for _, _, n in rhythms],
                         "event kind": [rhythm_kind(n) or "—" for _, _, n in rhythms]})


def misses_table(missed, extra, sampling_rate: float):
    """The missed reference beats and the extra detections of :func:`detection_check`, in time order."""
    import pandas as pd

    fs = float(sampling_rate)
    frame = pd.DataFrame({"kind": ["missed"] * len(missed) + ["extra"] * len(extra),
                          "sample": np.r_[np.asarray(missed, np.int64), np.asarray(extra, np.int64)]})
    frame = frame.sort_values("sample", kind="stable").reset_index(drop=True)
    frame.insert(1, "time", [clock(v) for v in frame["sample"] / fs])
    frame["time_s"] = frame["sample"] / fs
    return frame


def hrv_figures(hrv) -> list[tuple[str, float | None, str, str]]:
    """``(label, value, unit, help)`` of each HRV figure the page shows."""
    return [
        ("Mean N-N", hrv.mean_nn_ms, "ms", "Mean of the N-N intervals."),
        ("SDNN", hrv.sdnn_ms, "ms", "Standard deviation of the N-N intervals (overall variability)."),
        ("RMSSD", hrv.rmssd_ms, "ms", "Root mean square of successive differences of adjacent N-N intervals "
                                      "(beat-to-beat variability; never taken across an ectopic beat)."),
        ("pNN50", hrv.pnn50, "%", "Share of successive N-N differences above 50 ms, of all N-N intervals."),
    ]


def strip_note(units: str, length_s: float, conversion: str = "") -> str:
    """What the detail strip's scale is (ECG paper or not), and any unit conversion (``io.to_millivolts``)."""
    from ecg_core import plotting

    letters = ", ".join(f"{v} = {k}" for k, v in plotting.BEAT_LETTERS.items())
    if units == "mV":
        scale = (f"ECG paper: {plotting.PAPER_SPEED_MM_S:g} mm/s, {plotting.PAPER_GAIN_MM_MV:g} mm/mV (small squares "
                 "1 mm = 0.04 s and 0.1 mV, large squares 5 mm = 0.2 s and 0.5 mV); calibration pulse 1 mV, 200 ms. "
                 if length_s <= plotting.PAPER_ASPECT_MAX_S else
                 f"ECG paper grid of 5-mm squares (0.2 s, 0.5 mV); windows over {plotting.PAPER_ASPECT_MAX_S:g} s are "
                 "stretched to fit, not drawn at 25 mm/s; calibration pulse 1 mV, 200 ms. ")
    else:
        scale = ("The file states no amplitude units, so the amplitude is drawn as stored, not on a mV scale; the grid "
                 "marks 0.2 s. ")
    return scale + f"Letters above the beats name their class ({letters}). " + (conversion + " " if conversion else "")
