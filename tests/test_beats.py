import numpy as np
import pytest

from ecg_core.beats import (
    cut_windows,
    from_internal_positions,
    rr_features,
    running_median,
    segment_beats,
    to_internal_positions,
    to_internal_rate,
)
from ecg_core.config import BEAT_WINDOW, FS


def test_windows_are_centred_and_edge_padded():
    x = np.arange(1000, dtype=float)
    w = cut_windows(x, [0, 500, 999])
    assert w.shape == (3, BEAT_WINDOW)
    assert w[1, BEAT_WINDOW // 2] == 500 and w[1, 0] == 500 - BEAT_WINDOW // 2
    assert w[0, : BEAT_WINDOW // 2].tolist() == [0] * (BEAT_WINDOW // 2)  # padded with the first sample
    assert w[2, -1] == 999


def test_rr_features_are_relative_to_the_patient():
    fs = 250.0
    peaks = np.arange(0, 200) * 200  # 0.8 s rhythm
    peaks[100] -= 60  # one premature beat
    rr = rr_features(peaks, fs)
    assert rr.pre[0] == rr.post[0] == pytest.approx(0.8)
    assert rr.pre[100] == pytest.approx(0.56) and rr.post[100] == pytest.approx(1.04)
    assert np.median(rr.running) == pytest.approx(0.8)
    f = rr.normalised()
    assert f.shape == (200, 4) and f[100, 0] == pytest.approx(0.7) and f[50, 0] == pytest.approx(1.0)
    # doubling the rate of everything changes nothing relative
    np.testing.assert_allclose(rr_features(peaks * 2, fs * 2).normalised(), f)


def test_a_fast_run_at_the_end_is_premature_to_the_rhythm_before_it():
    """The running rhythm is not padded: 60 fast beats at the end do not become their own baseline."""
    fs = 360.0
    rr = np.r_[np.full(200, 1.0), np.full(60, 0.5)]  # 200 s of 60 bpm, then a run at 120 bpm to the end
    run = rr_features(np.r_[0, np.cumsum(rr)] * fs, fs)
    assert np.all(run.running == pytest.approx(1.0))  # padding with the last RR would have made the end 0.5
    assert np.all(run.normalised()[-60:, 0] == pytest.approx(0.5))
    longer = rr_features(np.r_[0, np.cumsum(np.r_[np.full(200, 1.0), np.full(100, 0.5)])] * fs, fs)
    assert longer.running[-1] == pytest.approx(0.5)  # the documented limit: past ~75 beats a run is its own baseline
    x = np.array([5.0, 1.0, 2.0, 9.0, 3.0])
    assert running_median(x, 1).tolist() == [3.0, 2.0, 2.0, 3.0, 6.0]  # the ends: medians of two values
    assert running_median(x, 10).tolist() == [3.0] * 5  # shorter than the window: the median of all
    assert running_median(np.zeros(0), 3).shape == (0,)


def test_rr_features_of_one_beat():
    assert rr_features([10], 360).normalised().tolist() == [[1, 1, 1, 1]]


@pytest.mark.parametrize("fs", [250.0, 360.0, 500.0, 1000.0])
def test_positions_map_between_rates(fs):
    pos = np.array([0, 123, 4567])
    back = from_internal_positions(to_internal_positions(pos, fs), fs, 10_000)
    assert np.abs(back - pos).max() <= np.ceil(fs / FS / 2)
    assert to_internal_rate(np.zeros(int(fs * 10)), fs).size == 3600


def test_segment_beats_at_other_rate_keeps_original_positions():
    fs = 500.0
    t = np.arange(int(fs * 10)) / fs
    x = np.zeros_like(t)
    peaks = np.arange(1, 10) * int(fs)
    x[peaks] = 1.0
    beats = segment_beats(x, fs, peaks, clean=False)
    assert beats.samples.tolist() == peaks.tolist()
    assert beats.windows.shape == (9, BEAT_WINDOW)
    assert np.argmax(beats.windows, axis=1).tolist() == [BEAT_WINDOW // 2] * 9
