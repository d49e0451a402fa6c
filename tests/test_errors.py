import numpy as np
import pytest

from ecg_core.errors import ECGError, validate_sampling_rate, validate_signal


def sine(seconds=10, fs=360.0):
    t = np.arange(int(seconds * fs)) / fs
    return np.sin(2 * np.pi * 1.2 * t)


@pytest.mark.parametrize("fs", [0, -360, 5, 1e6, float("nan"), "fast", None])
def test_absurd_sampling_rate(fs):
    with pytest.raises(ECGError, match="sampling rate"):
        validate_sampling_rate(fs)


@pytest.mark.parametrize("fs", [float("nan"), float("inf"), "fast", None])
def test_non_numeric_sampling_rate_is_called_not_a_number(fs):
    with pytest.raises(ECGError, match="is not a number"):
        validate_sampling_rate(fs)


def test_valid_signal_is_float_copy():
    x, fs = validate_signal(sine().astype(np.float32), 360)
    assert x.dtype == np.float64 and fs == 360.0


@pytest.mark.parametrize(
    "signal, phrase",
    [
        (np.array([]), "empty"),
        (np.zeros(3600), "flat"),
        (sine(2), "only 2.0 s long"),
        (np.ones((3600, 2)), "one ECG lead"),
        (np.array(["a"] * 3600), "not numbers"),
        (np.clip(sine() * 3, -1, 1), "clipped"),
        (np.where(np.arange(3600) == 1000, 1e200, sine()), "far beyond any ECG amplitude"),
    ],
)
def test_bad_signals_get_clear_messages(signal, phrase):
    with pytest.raises(ECGError, match=phrase):
        validate_signal(signal, 360)


def test_short_gaps_are_filled_long_gaps_refused():
    x = sine()
    x[1000:1100] = np.nan  # 0.28 s
    filled, _ = validate_signal(x, 360)
    assert np.isfinite(filled).all()
    assert filled[1050] == pytest.approx(np.interp(1050, [999, 1100], [x[999], x[1100]]))
    x[1000:2000] = np.nan  # 2.8 s
    with pytest.raises(ECGError, match="gap of 2.8 s"):
        validate_signal(x, 360)
    with pytest.raises(ECGError, match="no numeric values"):
        validate_signal(np.full(3600, np.nan), 360)
