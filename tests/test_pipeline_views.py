"""What the dashboard shows of an analysis, computed by ``Analysis``: AF time, highlights, beat window, table."""

from __future__ import annotations

import numpy as np

from ecg_core.config import CLASSES
from ecg_core.pipeline import PATH_RHYTHM, Analysis, beat_times, beat_window
from ecg_core.quality import Quality


def probs(*rows):
    """One row of shares per beat, a class's name giving it ``share`` (the rest spread evenly)."""
    out = []
    for label, share in rows:
        p = np.full(len(CLASSES), (1 - share) / (len(CLASSES) - 1))
        p[CLASSES.index(label)] = share
        out.append(p)
    return np.array(out)


def analysis(rows, *, af=None, quality=None, fs=360.0):
    samples = np.arange(1, len(rows) + 1) * 360
    return Analysis(samples, probs(*rows), PATH_RHYTHM, fs, int(samples[-1] + 360), "t", af, True, quality)


def test_af_duration_counts_the_intervals_ending_in_af():
    a = analysis([("N", 0.9)] * 5, af=np.array([False, True, True, False, True]))
    assert a.af_duration_s() == 3.0
    assert analysis([("N", 0.9)]).af_duration_s() is None
    assert analysis([("N", 0.9)], af=np.array([True])).af_duration_s() == 0.0
    assert Analysis(np.arange(2), probs(("N", 0.9), ("N", 0.9)), "morphology-only", None, None).af_duration_s() is None


def test_highlights_are_the_most_confident_readable_beats():
    rows = [("N", 0.95), ("N", 0.99), ("VEB", 0.7), ("VEB", 0.9), ("SVEB", 0.6)]
    assert analysis(rows).highlights() == [(None, 1), ("SVEB", 4), ("VEB", 3)]
    beat_quality = np.array([1.0, 0.1, 1.0, 1.0, 1.0])  # beat 1 unreadable: left out (and labelled Q)
    quality = Quality(beat_quality, beat_quality < 0.5, (), 360.0)
    assert analysis(rows, quality=quality).highlights() == [(None, 0), ("SVEB", 4), ("VEB", 3)]
    none_readable = Quality(np.zeros(2), np.ones(2, bool), (), 360.0)
    assert analysis([("N", 0.9)] * 2, quality=none_readable).highlights() == []


def test_beat_window_is_padded_with_nan_at_the_ends():
    x = np.arange(4 * 360, dtype=float)
    w = beat_window(x, 360, 360.0, 0.5)
    assert w.shape == (360,) and np.array_equal(w, x[180:540])
    last = beat_window(x[:1100], 1080, 360.0)  # 20 samples after the beat
    assert np.isnan(last[200:]).all() and np.array_equal(last[:200], x[900:1100])


def test_beat_table_extends_to_frame():
    a = analysis([("N", 0.9), ("VEB", 0.8), ("N", 0.7)], af=np.array([False, False, True]))
    table = a.beat_table()
    assert list(table.columns) == ["beat", "time_s", "sample", "rr_before_ms", "label", "probability", "score_kind",
                                   "af", *(f"p_{c}" for c in CLASSES)]
    frame = a.to_frame()
    for col in ("sample", "label", "probability", *(f"p_{c}" for c in CLASSES)):
        assert table[col].tolist() == frame[col].tolist()
    assert table["rr_before_ms"].tolist()[1:] == [1000.0, 1000.0]
    assert "af" not in analysis([("N", 0.9)] * 2, af=np.zeros(2, bool)).beat_table().columns
    assert a.beat_table(np.array(["x", "y", "z"]))["score_kind"].tolist() == ["x", "y", "z"]
    assert list(beat_times(np.array([], np.int64), 360.0).columns) == ["beat", "time_s", "sample", "rr_before_ms"]
