"""Heart-rate trend and time-domain HRV on N-N intervals (``ecg_core.hrv``)."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core import hrv

FS = 360.0


def _rr_beats(rr_s, labels=None):
    samples = np.concatenate(([360], 360 + np.cumsum(np.round(np.asarray(rr_s) * FS)))).astype(np.int64)
    return samples, np.asarray(labels if labels is not None else ["N"] * samples.size)


def test_time_domain_matches_neurokit2_on_normal_beats():
    nk = pytest.importorskip("neurokit2")
    rng = np.random.default_rng(3)
    rr = 0.8 + 0.05 * np.sin(np.arange(300) / 5) + rng.normal(0, 0.03, 300)
    samples, labels = _rr_beats(rr)
    mine = hrv.time_domain(samples, labels, FS)
    theirs = nk.hrv_time(samples, sampling_rate=FS).iloc[0]
    assert mine.nn_intervals == 300
    assert mine.mean_nn_ms == pytest.approx(theirs["HRV_MeanNN"], rel=1e-9)
    assert mine.sdnn_ms == pytest.approx(theirs["HRV_SDNN"], rel=1e-9)
    assert mine.rmssd_ms == pytest.approx(theirs["HRV_RMSSD"], rel=1e-9)
    assert mine.pnn50 == pytest.approx(theirs["HRV_pNN50"], rel=1e-9)


def test_ectopic_beats_and_their_intervals_are_left_out():
    # N N N V N N: the intervals around V go, and no difference is taken across the gap
    samples, labels = _rr_beats([1.0, 1.0, 0.5, 1.6, 1.06], ["N", "N", "N", "VEB", "N", "N"])
    nn, adjacent = hrv.nn_intervals(samples, labels, FS)
    assert np.allclose(nn, [1000, 1000, 1061.1], atol=0.2) and adjacent.tolist() == [True, False]
    out = hrv.time_domain(samples, labels, FS)
    assert out.rmssd_ms == pytest.approx(0.0) and out.pnn50 == 0.0  # only 1000 -> 1000 is a successive pair
    assert out.sdnn_ms == pytest.approx(np.std(nn, ddof=1))


def test_too_few_intervals_give_none_not_nan():
    out = hrv.time_domain(np.array([100]), np.array(["N"]), FS)
    assert out == hrv.HRV(0, None, None, None, None)
    samples, labels = _rr_beats([1.0, 1.0], ["N", "VEB", "N"])
    assert hrv.time_domain(samples, labels, FS).to_dict()["sdnn_ms"] is None


def test_heart_rate_trend_in_bpm_per_bin():
    samples, _ = _rr_beats([1.0] * 30 + [0.5] * 60)  # 60 bpm for 30 s, then 120 bpm for 30 s
    trend = hrv.heart_rate_trend(samples, FS, duration_s=62.0, bin_s=10.0)
    assert trend.bin_s == 10.0 and trend.time_s.tolist() == [5, 15, 25, 35, 45, 55, 65]
    assert np.allclose(trend.bpm[:3], 60.0) and np.allclose(trend.bpm[4:6], 120.0)
    assert hrv.trend_bin_s(300) == 10 and hrv.trend_bin_s(1800) == 60 and hrv.trend_bin_s(86400) == 300
    empty = hrv.heart_rate_trend(np.array([5]), FS, duration_s=20.0)
    assert np.isnan(empty.bpm).all()
