"""The project's one exception type and the shared input validation helper."""

from __future__ import annotations

import numpy as np

from .config import MAX_FS, MIN_DURATION_S, MIN_FS


class ECGError(ValueError):
    """Bad input a user can fix: the message says what was wrong and what to do."""


#: Longest run of missing samples that is filled by linear interpolation (seconds).
MAX_GAP_S = 1.0
#: Fraction of samples pinned at the extremes above which a signal counts as clipped.
MAX_CLIPPED_FRACTION = 0.05
#: Largest plausible sample magnitude in any unit (mV, uV, ADC counts of a 32-bit converter).
MAX_ABS_VALUE = 1e10


def validate_sampling_rate(sampling_rate) -> float:
    """Return ``sampling_rate`` as a float, or raise :class:`ECGError` if it is implausible."""
    try:
        fs = float(sampling_rate)
    except (TypeError, ValueError):
        fs = float("nan")
    if not np.isfinite(fs):
        raise ECGError(f"The sampling rate {sampling_rate!r} is not a number. Give it in Hz, e.g. 360.")
    if not MIN_FS <= fs <= MAX_FS:
        raise ECGError(
            f"The sampling rate {sampling_rate!r} Hz is outside the plausible ECG range "
            f"({MIN_FS:g}-{MAX_FS:g} Hz). Check the rate stated for this recording."
        )
    return fs


def _fill_gaps(x: np.ndarray, sampling_rate: float) -> np.ndarray:
    bad = ~np.isfinite(x)
    if not bad.any():
        return x
    if bad.all():
        raise ECGError("The signal has no numeric values at all. Check the column chosen as ECG lead.")
    # longest run of consecutive missing samples
    edges = np.diff(np.concatenate(([0], bad.view(np.int8), [0])))
    runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    longest = runs.max() / sampling_rate
    if longest > MAX_GAP_S:
        raise ECGError(
            f"The signal has a gap of {longest:.1f} s with no values (NaN or empty cells); gaps up to "
            f"{MAX_GAP_S:g} s are filled automatically. Cut the recording around the gap and upload "
            "the parts separately."
        )
    idx = np.arange(len(x))
    x = x.copy()
    x[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    return x


def validate_signal(signal, sampling_rate, *, min_duration: float = MIN_DURATION_S):
    """Check a single-lead ECG and its sampling rate before any processing.

    Parameters
    ----------
    signal : array_like
        One lead, 1-D, any amplitude unit (mV or ADC units).
    sampling_rate : float
        Sampling rate in Hz.
    min_duration : float, optional
        Shortest accepted duration in seconds.

    Returns
    -------
    signal : numpy.ndarray
        ``float64`` copy with short gaps (NaN, up to ``MAX_GAP_S``) linearly interpolated.
    sampling_rate : float

    Raises
    ------
    ECGError
        Empty, non-numeric, too short, flat or clipped signal, absurd values, long gaps, implausible rate.
    """
    fs = validate_sampling_rate(sampling_rate)
    try:
        x = np.asarray(signal, dtype=np.float64)
    except (TypeError, ValueError):
        raise ECGError("The signal contains values that are not numbers. Check the file's ECG column.") from None
    if x.ndim == 2 and 1 in x.shape:
        x = x.ravel()
    if x.ndim != 1:
        raise ECGError(f"Expected one ECG lead (a 1-D signal), got an array of shape {x.shape}. Choose one lead.")
    if x.size == 0:
        raise ECGError("The signal is empty: the file has no samples. Upload a recording with ECG samples.")
    x = _fill_gaps(x, fs)
    duration = x.size / fs
    if duration < min_duration:
        raise ECGError(
            f"The recording is only {duration:.1f} s long ({x.size} samples at {fs:g} Hz); at least "
            f"{min_duration:g} s are needed to find beats. Upload a longer recording or check the sampling rate."
        )
    lo, hi = np.min(x), np.max(x)
    if max(abs(lo), abs(hi)) > MAX_ABS_VALUE:
        big = lo if abs(lo) > abs(hi) else hi
        raise ECGError(
            f"The signal contains a value of {big:.3g}, far beyond any ECG amplitude (in mV, microvolts or "
            "converter units). Check the file's ECG column for a corrupt or mis-read value."
        )
    if hi - lo <= 1e-9 * max(1.0, abs(hi)):  # (a spread this wide has a non-zero standard deviation)
        raise ECGError("The signal is flat (all samples equal): no ECG to analyse. Check the lead or the electrodes.")
    clipped = (np.count_nonzero(x == hi) + np.count_nonzero(x == lo)) / x.size
    if clipped > MAX_CLIPPED_FRACTION:
        raise ECGError(
            f"The signal is clipped: {100 * clipped:.0f}% of its samples sit at the amplifier limits. "
            "Reduce the gain or check the electrodes and record again."
        )
    return x, fs
