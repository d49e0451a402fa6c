"""Beat segmentation and patient-relative RR-interval features.

Windows are cut at the internal rate ``FS`` (360 Hz): ``BEAT_WINDOW`` samples (1 s) with the
R-peak at index ``BEAT_WINDOW // 2``. A window that runs past either end of the recording is
padded by repeating the first or last sample (edge padding), so every beat gets a window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.signal import resample_poly

from .config import BEAT_WINDOW, FS
from .filters import bandpass_blocks, clean_ecg

#: Beats on each side of a beat that form its local rhythm (``local_rr``).
LOCAL_BEATS = 5
#: Beats on each side that form the recording's running rhythm (about 5 min at 60 bpm).
RUNNING_BEATS = 150
#: Half-widths (seconds) of the two time windows whose MEAN RR is a baseline too (1 min and 20 min in
#: all, after Llamedo & Martinez 2011). Unlike a median, a mean is pulled up by the long intervals that
#: follow ectopic beats, so where ectopic beats outnumber normal ones (frequent atrial ectopy,
#: bigeminy, long SVT runs) the premature beats still come early against it.
MEAN_SHORT_S = 30.0
MEAN_LONG_S = 600.0
#: The slow baseline: the ``SLOW_QUANTILE`` quantile of the RR intervals within ``SLOW_HALF_S`` seconds
#: on each side (evaluated every ``SLOW_STEP_S`` seconds, interpolated between). Premature beats only
#: shorten intervals, so while they are fewer than 80% of a half-hour the upper quantile stays on the
#: sinus rhythm: a run of supraventricular tachycardia lasting minutes, or runs of atrial ectopy between
#: the sinus beats of a bradycardia, stay premature against it.
SLOW_QUANTILE = 0.8
SLOW_HALF_S = 900.0
SLOW_STEP_S = 10.0


def to_internal_rate(signal, sampling_rate) -> np.ndarray:
    """Resample a signal to ``FS`` (polyphase); returns it unchanged at ``FS``."""
    x = np.asarray(signal, dtype=np.float64)
    if float(sampling_rate) == FS:
        return x
    from fractions import Fraction

    frac = Fraction(FS / float(sampling_rate)).limit_denominator(1000)
    return resample_poly(x, frac.numerator, frac.denominator)


def to_internal_positions(samples, sampling_rate) -> np.ndarray:
    """Map sample indices at ``sampling_rate`` to indices at ``FS``."""
    return np.rint(np.asarray(samples, dtype=np.float64) * FS / float(sampling_rate)).astype(np.int64)


def from_internal_positions(samples, sampling_rate, n_samples: int) -> np.ndarray:
    """Map indices at ``FS`` back to the original signal's indices, clipped to its length."""
    pos = np.rint(np.asarray(samples, dtype=np.float64) * float(sampling_rate) / FS).astype(np.int64)
    return np.clip(pos, 0, max(n_samples - 1, 0))


#: Beats per block of :func:`cut_windows` (the sample indices of a block: about 12 MB).
CUT_BLOCK = 4096


def cut_windows(signal_fs, positions, *, width: int = BEAT_WINDOW) -> np.ndarray:
    """Cut ``width``-sample windows centred on ``positions`` from a signal at ``FS``.

    Returns a ``(n_beats, width)`` float32 array; edges are padded with the end samples. Positions
    must lie in the signal (``pipeline.check_peaks`` refuses others); one outside gets the nearest
    window that fits. The windows are gathered ``CUT_BLOCK`` beats at a time straight from the
    signal, so besides the output no full-length copy of it is made (a 24-hour recording's float32
    and padded copies were 125 MB each); each sample is converted to float32 as it is copied, the
    same numbers as converting the whole signal first.
    """
    x = np.asarray(signal_fs)
    if x.ndim != 1 or x.size == 0:
        raise ValueError("cut_windows needs a non-empty 1-D signal.")
    return _cut_from_blocks([(0, x)], x.size, positions, width)


def _cut_from_blocks(blocks, n: int, positions, width: int) -> np.ndarray:
    """:func:`cut_windows` of a signal of ``n`` samples given as ``(start, values)`` blocks from its end to its start.

    ``positions`` must be sorted. A window is cut when the block holding its first sample comes (the
    block after it supplies the rest: blocks are longer than a window).
    """
    half = width // 2
    # the window of position p starts at p - half in the signal padded by repeating its end samples
    starts = np.clip(np.asarray(positions, dtype=np.int64), 0, n) - half
    out = np.empty((starts.size, width), dtype=np.float32)
    offsets = np.arange(width)
    stop, later = starts.size, None
    for a, values in blocks:
        first = 0 if a == 0 else int(np.searchsorted(starts, a, side="left"))
        buffer = values if later is None else np.concatenate([values, later[:width]])
        for k in range(first, stop, CUT_BLOCK):
            rows = slice(k, min(k + CUT_BLOCK, stop))
            out[rows] = buffer[np.clip(starts[rows, None] + offsets, 0, n - 1) - a]
        stop, later = first, values
    return out


@dataclass(frozen=True)
class RRFeatures:
    """RR intervals around each beat, in seconds.

    ``pre``: from the previous beat; ``post``: to the next beat (the first beat's ``pre`` and the
    last beat's ``post`` copy their other neighbour); ``local``: mean RR over ``LOCAL_BEATS``
    intervals on each side; ``running``: median RR over ``RUNNING_BEATS`` on each side (over
    the beats there are near the ends: :func:`running_median`), the patient's own running rhythm;
    ``mean_short`` and ``mean_long``: mean RR over ``MEAN_SHORT_S`` and ``MEAN_LONG_S`` seconds on
    each side (:func:`windowed_mean_rr`); ``slow``: the slow baseline (:func:`windowed_quantile_rr`).
    """

    pre: np.ndarray
    post: np.ndarray
    local: np.ndarray
    running: np.ndarray
    mean_short: np.ndarray
    mean_long: np.ndarray
    slow: np.ndarray

    def normalised(self) -> np.ndarray:
        """``(n, 4)`` float32: pre, post, local over running rhythm, and pre over local."""
        run = np.maximum(self.running, 1e-3)
        return np.stack(
            [self.pre / run, self.post / run, self.local / run, self.pre / np.maximum(self.local, 1e-3)],
            axis=1,
        ).astype(np.float32)


def runs_of(mask) -> np.ndarray:
    """``(k, 2)`` first and last index of each run of True in the per-beat ``mask``, in order."""
    m = np.r_[False, np.asarray(mask, dtype=bool), False]
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return np.c_[edges[0::2], edges[1::2] - 1]


def rr_features(peaks, sampling_rate) -> RRFeatures:
    """RR features of the beats at ``peaks`` (sample indices at ``sampling_rate``).

    With fewer than two beats the intervals are undefined and set to 1 s (60 bpm).
    """
    p = np.asarray(peaks, dtype=np.float64)
    n = p.size
    if n < 2:
        one = np.ones(n)
        return RRFeatures(one, one, one, one, one, one, one)
    t = p / float(sampling_rate)
    rr = np.diff(t)
    pre = np.concatenate(([rr[0]], rr))
    post = np.concatenate((rr, [rr[-1]]))
    size = 2 * LOCAL_BEATS + 1
    local = ndimage.uniform_filter1d(pre, size=size, mode="nearest")
    return RRFeatures(pre, post, local, running_median(pre, RUNNING_BEATS),
                      windowed_mean_rr(t, MEAN_SHORT_S), windowed_mean_rr(t, MEAN_LONG_S),
                      windowed_quantile_rr(t, pre, SLOW_HALF_S))


def windowed_quantile_rr(times, rr, half_s: float, *, quantile: float = SLOW_QUANTILE,
                         step_s: float = SLOW_STEP_S) -> np.ndarray:
    """The ``quantile`` of the intervals ``rr`` within ``half_s`` seconds of each beat at ``times`` (s).

    Computed on a grid every ``step_s`` seconds (coarser on long recordings: at most ~300 grid points,
    every ~5 min in 24 hours, well inside the half-hour window) and interpolated linearly between
    grid points, so a long recording costs a few hundred quantiles, not one per beat.
    """
    t, x = np.asarray(times, dtype=np.float64), np.asarray(rr, dtype=np.float64)
    step_s = max(step_s, (t[-1] - t[0]) / 300)
    grid = np.arange(t[0], t[-1] + step_s, step_s)
    lo = np.searchsorted(t, grid - half_s, side="left")
    hi = np.searchsorted(t, grid + half_s, side="right")
    values = np.array([np.quantile(x[a:b], quantile) if b > a else np.nan for a, b in zip(lo, hi, strict=True)])
    ok = np.isfinite(values)
    return np.interp(t, grid[ok], values[ok]) if ok.any() else x.copy()


def windowed_mean_rr(times, half_s: float) -> np.ndarray:
    """Mean RR interval (s) of the beats within ``half_s`` seconds of each beat at ``times`` (s, sorted).

    The span from the first to the last beat of the window over the intervals between them; at least
    the two neighbours of a beat are in its window, so a long pause still gives an interval.
    """
    t = np.asarray(times, dtype=np.float64)
    n = t.size
    i = np.arange(n)
    lo = np.minimum(np.searchsorted(t, t - half_s, side="left"), np.maximum(i - 1, 0))
    hi = np.maximum(np.searchsorted(t, t + half_s, side="right") - 1, np.minimum(i + 1, n - 1))
    return (t[hi] - t[lo]) / np.maximum(hi - lo, 1)


def running_median(x, half: int) -> np.ndarray:
    """Median of ``x`` over ``half`` values on each side, over the values there are near the ends.

    Not padded: repeating the first or last value makes a run of fast beats at the start or end of a
    recording its own baseline, and mirroring counts the end beats twice. Here a run at either end
    stays premature to the rhythm before it while it is shorter than about ``half / 2`` beats.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    out = ndimage.median_filter(x, size=2 * half + 1, mode="nearest")
    edge = np.unique(np.r_[np.arange(min(half, n)), np.arange(max(n - half, 0), n)])
    if edge.size:  # the windows that reach past an end: NaN there, sorted last, and not counted
        padded = np.r_[np.full(half, np.nan), x, np.full(half, np.nan)]
        w = np.sort(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)[edge], axis=1)
        m = np.count_nonzero(~np.isnan(w), axis=1)
        rows = np.arange(edge.size)
        out[edge] = 0.5 * (w[rows, (m - 1) // 2] + w[rows, m // 2])
    return out


@dataclass(frozen=True)
class Beats:
    """Beats of one recording, ready for the classifier.

    ``samples``: R-peak indices in the original signal; ``windows``: ``(n, BEAT_WINDOW)`` at ``FS``;
    ``rr``: the beats' :class:`RRFeatures`; ``quality``: their :class:`ecg_core.quality.Quality`, where
    the signal was assessed (:func:`ecg_core.pipeline.find_beats`), else None.
    """

    samples: np.ndarray
    windows: np.ndarray
    rr: RRFeatures
    quality: object | None = None

    def __len__(self) -> int:
        return int(self.samples.size)


def segment_beats(signal, sampling_rate, peaks, *, clean: bool = True) -> Beats:
    """Cut one window per R-peak and compute RR features.

    Parameters
    ----------
    signal : array_like
        One lead at ``sampling_rate``.
    sampling_rate : float
        Hz; windows are cut after resampling to ``FS``.
    peaks : array_like of int
        R-peak sample indices in ``signal``.
    clean : bool
        Band-pass the signal first (:func:`ecg_core.filters.clean_ecg`, 0.5-40 Hz), as the
        classifier was trained.
    """
    samples = np.sort(np.asarray(peaks, dtype=np.int64))
    positions = to_internal_positions(samples, sampling_rate)
    if clean and float(sampling_rate) == FS and np.size(signal):
        # at FS the cleaned signal is cut as the filter yields it (:func:`~ecg_core.filters.bandpass_blocks`:
        # the numbers of clean_ecg), so it never exists at full length (250 MB in 24 hours)
        windows = _cut_from_blocks(bandpass_blocks(signal, FS), np.size(signal), positions, BEAT_WINDOW)
    else:
        x = to_internal_rate(clean_ecg(signal, sampling_rate) if clean else signal, sampling_rate)
        windows = cut_windows(x, positions)
    return Beats(samples=samples, windows=windows, rr=rr_features(samples, sampling_rate))
