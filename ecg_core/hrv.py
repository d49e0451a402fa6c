"""Heart rate over time and the time-domain heart rate variability of one recording's classified beats.

:func:`heart_rate_trend` is the heart rate in beats per minute in equal time bins (from every RR interval);
:func:`time_domain` gives SDNN, RMSSD and pNN50 (Task Force of the ESC and NASPE, 1996) on the **N-N
intervals**: the RR intervals whose both beats are labelled N, so an ectopic beat and the intervals around
it are left out, and a successive difference is taken only between two adjacent N-N intervals (never across
an ectopic beat). NeuroKit2's ``hrv_time`` computes the same figures from a list of intervals, but it would
difference across the gaps that ectopic beats leave; the formulas are three lines of numpy, and
``tests/test_hrv.py`` checks them against NeuroKit2 0.3.0 on a recording of N beats only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["HRV", "HeartRateTrend", "heart_rate_trend", "mean_rate", "nn_intervals", "time_domain"]

#: N-N intervals outside this range (seconds; 30-200 bpm) are left out as implausible (missed or extra beats).
NN_RANGE_S = (0.3, 2.0)
#: Successive N-N differences above this (ms) count for pNN50.
NN50_MS = 50.0


@dataclass(frozen=True)
class HRV:
    """Time-domain heart rate variability over the N-N intervals (None where there are too few).

    Attributes
    ----------
    nn_intervals : int
        N-N intervals used.
    mean_nn_ms : float or None
        Their mean (ms).
    sdnn_ms : float or None
        Their standard deviation (ms, ``ddof=1``).
    rmssd_ms : float or None
        Root mean square of the successive differences of adjacent N-N intervals (ms).
    pnn50 : float or None
        Share of those differences above :data:`NN50_MS`, in percent of the N-N intervals.
    """

    nn_intervals: int
    mean_nn_ms: float | None
    sdnn_ms: float | None
    rmssd_ms: float | None
    pnn50: float | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class HeartRateTrend:
    """Heart rate in bins of ``bin_s`` seconds: ``time_s`` (bin centres) and ``bpm`` (NaN in a bin without beats)."""

    time_s: np.ndarray
    bpm: np.ndarray
    bin_s: float


def nn_intervals(samples, labels, sampling_rate) -> tuple[np.ndarray, np.ndarray]:
    """The N-N intervals of a recording and which of them follow one another.

    Parameters
    ----------
    samples : array_like of int
        R-peak sample numbers in time order.
    labels : array_like of str
        AAMI class of each beat.
    sampling_rate : float
        Hz.

    Returns
    -------
    intervals_ms : numpy.ndarray
        Every RR interval between two N beats, within :data:`NN_RANGE_S`, in ms.
    adjacent : numpy.ndarray of bool
        ``adjacent[i]``: interval ``i + 1`` starts where interval ``i`` ends (length ``len(intervals_ms) - 1``).
    """
    s = np.asarray(samples, dtype=np.int64)
    n = np.asarray(labels).astype(str) == "N"
    if s.size < 2:
        return np.zeros(0), np.zeros(0, bool)
    rr = np.diff(s) / float(sampling_rate)
    keep = n[:-1] & n[1:] & (rr >= NN_RANGE_S[0]) & (rr <= NN_RANGE_S[1])
    k = np.flatnonzero(keep)  # interval k runs from beat k to beat k + 1
    return 1000.0 * rr[k], np.diff(k) == 1


def time_domain(samples, labels, sampling_rate) -> HRV:
    """SDNN, RMSSD and pNN50 of a recording's N-N intervals (:func:`nn_intervals`); see :class:`HRV`.

    SDNN needs two intervals; RMSSD and pNN50 need one pair of adjacent ones.
    """
    nn, adjacent = nn_intervals(samples, labels, sampling_rate)
    diffs = np.diff(nn)[adjacent] if nn.size >= 2 else np.zeros(0)
    return HRV(
        nn_intervals=int(nn.size),
        mean_nn_ms=float(nn.mean()) if nn.size else None,
        sdnn_ms=float(nn.std(ddof=1)) if nn.size >= 2 else None,
        rmssd_ms=float(np.sqrt(np.mean(diffs ** 2))) if diffs.size else None,
        pnn50=float(100.0 * np.count_nonzero(np.abs(diffs) > NN50_MS) / nn.size) if diffs.size else None,
    )


def mean_rate(samples, sampling_rate) -> float | None:
    """The mean heart rate in bpm from the first beat to the last (every beat counted); None under two beats.

    Examples
    --------
    >>> mean_rate([0, 360, 720], 360.0)
    60.0
    """
    s = np.asarray(samples)
    return float(60 * (s.size - 1) / (np.ptp(s) / float(sampling_rate))) if s.size >= 2 else None


def trend_bin_s(duration_s: float) -> float:
    """The trend's bin: 10 s up to 10 min of recording, 1 min up to 2 h, 5 min beyond."""
    return 10.0 if duration_s <= 600 else 60.0 if duration_s <= 7200 else 300.0


def heart_rate_trend(samples, sampling_rate, *, duration_s: float | None = None,
                     bin_s: float | None = None) -> HeartRateTrend:
    """Heart rate in beats per minute over time, in equal bins.

    Each bin's rate is 60 over the mean of the RR intervals that end in it (every beat, ectopic ones included:
    the rate the heart beat at).

    Parameters
    ----------
    samples : array_like of int
        R-peak sample numbers in time order.
    sampling_rate : float
        Hz.
    duration_s : float, optional
        The recording's length (default: up to its last beat).
    bin_s : float, optional
        Bin width in seconds (default :func:`trend_bin_s` of the duration).

    Returns
    -------
    HeartRateTrend
    """
    s = np.asarray(samples, dtype=np.int64)
    fs = float(sampling_rate)
    duration = float(duration_s) if duration_s is not None else (s[-1] / fs if s.size else 0.0)
    width = float(bin_s) if bin_s else trend_bin_s(duration)
    n_bins = max(int(np.ceil(duration / width)), 1)
    centres = (np.arange(n_bins) + 0.5) * width
    bpm = np.full(n_bins, np.nan)
    if s.size >= 2:
        rr = np.diff(s) / fs
        k = np.minimum((s[1:] / fs // width).astype(np.int64), n_bins - 1)
        total = np.bincount(k, weights=rr, minlength=n_bins)
        count = np.bincount(k, minlength=n_bins)
        has = count > 0
        bpm[has] = 60.0 * count[has] / total[has]
    return HeartRateTrend(centres, bpm, width)
