"""Signal quality: which beats and which stretches of a recording can be read at all.

A false beat in a noise burst, or a real beat buried in it, should be marked unreadable, not
given a diagnostic class. The measure is the one a reader applies by eye: how far each QRS stands
out of the noise around it. It is computed at about 90 Hz (:data:`QUALITY_FS`, block means):

- *noise level* around every point: the RMS over ``NOISE_HALF_S`` on each side of the lead in
  ``NOISE_BAND`` (22-40 Hz), scaled to the QRS band's width as for white noise, the
  ``MASK_HALF_S`` around every beat left out. The ECG has almost nothing there (T and P waves,
  fast rhythms and baseline wander do not count as noise; muscle noise does);
- *beat SNR* (dB): the beat's peak-to-peak amplitude in the QRS band (``QRS_BAND``, 5-20 Hz, the
  detector's) against that noise level, in the power ratio of the noise stress test
  (``(peak-to-peak)^2 / 8`` over the noise power, Moody et al. 1984), so 0 dB means noise as
  strong as the QRS;
- *stretch SNR*: the same with the recording's typical QRS amplitude (the median over its
  beats) instead of the beat's own, evaluated every ``STEP_S``;
- *amplitude plausibility*: in a stretch whose SNR is under ``PLAUSIBLE_STRETCH_DB``, a beat under
  ``PLAUSIBLE_SIZE`` of the typical QRS amplitude is more likely a bump of the noise than a beat;
- *flat line*: a stretch of at least ``FLAT_S`` where the lead barely moves (peak-to-peak under
  ``FLAT_FRACTION`` of the typical QRS), as a disconnected or saturated lead gives.

A beat's quality (0-1) is the lowest of: its beat SNR and its stretch SNR, each mapped linearly
from 0 at ``threshold - RAMP_DB`` to 1 at ``threshold + RAMP_DB`` (thresholds
``BEAT_UNREADABLE_DB``, ``STRETCH_UNREADABLE_DB``), and its plausibility; below 0.5, or inside a
flat stretch, it is unreadable. Unreadable stretches are where the stretch SNR is under
``STRETCH_UNREADABLE_DB`` or the lead is flat, joined across gaps under ``JOIN_S``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .errors import validate_signal
from .filters import bandpass, block_mean

#: Rate (Hz) at which the quality measures are computed (the detector's QRS-energy rate).
QUALITY_FS = 90.0
#: The QRS band (Hz): the detector's default band-pass.
QRS_BAND = (5.0, 20.0)
#: Band (Hz) in which the noise is measured (scaled to the QRS band's width, as for white noise).
NOISE_BAND = (22.0, 40.0)
#: Half-width (s) of the window in which a beat's peak-to-peak QRS amplitude is measured.
QRS_HALF_S = 0.06
#: Half-width (s) left out around every beat when the noise level is measured.
MASK_HALF_S = 0.1
#: Half-width (s) of the window over which the noise level is measured.
NOISE_HALF_S = 1.5
#: Stretch SNR is evaluated every ``STEP_S`` seconds.
STEP_S = 0.5
#: SNR (dB, noise-stress-test definition in the QRS band) below which a beat or stretch is unreadable,
#: and the half-width (dB) of the ramp from quality 0 to 1 around it.
BEAT_UNREADABLE_DB = 6.0
STRETCH_UNREADABLE_DB = 6.0
RAMP_DB = 6.0
#: Amplitude plausibility: where the stretch SNR is under ``PLAUSIBLE_STRETCH_DB``, a beat's quality is
#: at most its amplitude over twice ``PLAUSIBLE_SIZE`` of the typical QRS (0.5 at that size).
PLAUSIBLE_STRETCH_DB = 20.0
PLAUSIBLE_SIZE = 0.5
#: A flat line: at least ``FLAT_S`` seconds with peak-to-peak under ``FLAT_FRACTION`` of the typical QRS.
FLAT_S = 1.0
FLAT_FRACTION = 0.02
#: Unreadable stretches closer than this (s) are joined into one.
JOIN_S = 2.0


@dataclass(frozen=True)
class Quality:
    """Per-beat quality and the unreadable stretches of one recording.

    Attributes
    ----------
    beat_quality : numpy.ndarray
        ``(n_beats,)`` float in 0-1 (1: the QRS stands well out of the noise).
    unreadable : numpy.ndarray
        ``(n_beats,)`` bool: beats to report as unreadable (label ``Q``).
    spans : numpy.ndarray
        ``(k, 2)`` int64 ``[start, end)`` sample spans of the unreadable stretches, in the
        recording's own samples.
    sampling_rate : float
        Hz of ``spans``.
    """

    beat_quality: np.ndarray
    unreadable: np.ndarray
    spans: np.ndarray
    sampling_rate: float

    @property
    def unreadable_s(self) -> float:
        """Total duration of the unreadable stretches in seconds."""
        return float(np.sum(self.spans[:, 1] - self.spans[:, 0]) / self.sampling_rate) if self.spans.size else 0.0


def _window_sums(x: np.ndarray, half: int, points: np.ndarray, *, dtype=np.float64,
                 overwrite: bool = False) -> np.ndarray:
    """Sum of ``x`` over ``[i - half, i + half]`` (clipped at the ends) at each of ``points``.

    The running sum is built in ``dtype`` (an integer type for counts: exact, and half a float's
    memory), in ``x`` itself with ``overwrite`` (a long recording's measure is not copied).
    """
    c = np.cumsum(x, dtype=dtype, out=x if overwrite else None)

    def upto(k):  # sum of x[:k]
        return np.where(k > 0, c[np.maximum(k - 1, 0)], 0).astype(np.float64)

    return upto(np.minimum(points + half + 1, x.size)) - upto(np.maximum(points - half, 0))


def _spans(bad: np.ndarray) -> np.ndarray:
    """``(k, 2)`` ``[start, end)`` runs of True in a bool array."""
    edges = np.diff(np.concatenate(([0], bad.astype(np.int8), [0])))
    return np.column_stack((np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))).astype(np.int64)


def _join(spans: np.ndarray, gap: int) -> np.ndarray:
    if len(spans) < 2:
        return spans
    keep = np.concatenate(([True], spans[1:, 0] - spans[:-1, 1] >= gap))
    starts = spans[keep, 0]
    ends = np.maximum.reduceat(spans[:, 1], np.flatnonzero(keep))
    return np.column_stack((starts, ends))


def _snr_db(amplitude, noise_rms) -> np.ndarray:
    power = np.asarray(amplitude, dtype=np.float64) ** 2 / 8.0
    return 10.0 * np.log10(np.maximum(power, 1e-30) / np.maximum(np.asarray(noise_rms) ** 2, 1e-30))


def quality_index(snr_db, unreadable_db: float) -> np.ndarray:
    """Map SNR (dB) to quality 0-1: 0.5 at ``unreadable_db``, linear over +-:data:`RAMP_DB`."""
    return np.clip(0.5 + (np.asarray(snr_db, dtype=np.float64) - unreadable_db) / (2 * RAMP_DB), 0.0, 1.0)


#: Points of the flat-line filter's peak-to-peak computed at a time.
_FLAT_BLOCK = 1 << 20


def _flat(low: np.ndarray, fs_d: float, limit: float) -> np.ndarray:
    """Points in a window of ``FLAT_S`` whose peak-to-peak is under ``limit``."""
    n = low.size
    f = min(max(2, int(round(FLAT_S * fs_d))), n)
    origin = -(f // 2)  # the filters' window [i, i + f) rather than centred
    flat_start = np.empty(n, bool)
    block = max(_FLAT_BLOCK, 4 * f)
    for a in range(0, n, block):  # a block at a time, each with the f points either side its windows reach
        lo, b, hi = max(0, a - f), min(n, a + block), min(n, a + block + f)
        ptp = ndimage.maximum_filter1d(low[lo:hi], f, origin=origin, mode="nearest")
        ptp -= ndimage.minimum_filter1d(low[lo:hi], f, origin=origin, mode="nearest")
        flat_start[a:b] = ptp[a - lo:b - lo] < limit
    flat_start[n - f + 1:] = False
    return ndimage.maximum_filter1d(flat_start.astype(np.uint8), f, origin=(f - 1) // 2, mode="constant") > 0


@dataclass(frozen=True)
class Measures:
    """The raw measures behind :class:`Quality`, at the quality rate ``rate`` (``q`` input samples per point).

    ``beat_db`` and ``beat_stretch_db``: per beat (at point ``at``); ``stretch_db``: at the points
    ``grid`` (every ``STEP_S``); ``flat``: per point.
    """

    beat_db: np.ndarray
    beat_stretch_db: np.ndarray
    grid: np.ndarray
    stretch_db: np.ndarray
    flat: np.ndarray
    at: np.ndarray
    rate: float
    q: int


def measure(signal, sampling_rate, peaks, *, flat: bool = True, block_means=None, qrs_band=None) -> Measures:
    """Beat SNR (dB, per beat), stretch SNR (dB, at beats and every ``STEP_S``) and the flat-line mask.

    ``flat=False`` skips the flat-line mask (all False); ``block_means``: ``signal``'s
    :func:`ecg_core.filters.block_mean` at :data:`QUALITY_FS` where the caller has it already, and
    ``qrs_band`` their :data:`QRS_BAND` band-pass.
    """
    x = np.asarray(signal, dtype=np.float64)
    fs = float(sampling_rate)
    p = np.asarray(peaks, dtype=np.int64)
    low, fs_d, q = block_means if block_means is not None else block_mean(x, fs, target_rate=QUALITY_FS)
    n = low.size
    band = qrs_band if qrs_band is not None else bandpass(low, fs_d, lowcut=QRS_BAND[0],
                                                           highcut=min(QRS_BAND[1], 0.45 * fs_d))
    at = np.clip(p // q, 0, n - 1)
    h = max(1, int(round(QRS_HALF_S * fs_d)))
    idx = np.clip(at[:, None] + np.arange(-h, h + 1)[None, :], 0, n - 1)
    amplitude = np.ptp(band[idx], axis=1)
    typical = float(np.median(amplitude))
    del band

    m = max(1, int(round(MASK_HALF_S * fs_d)))
    starts, ends = np.clip(at - m, 0, n), np.clip(at + m + 1, 0, n)
    cover = np.zeros(n + 1, dtype=np.int32)  # +1 where a beat's mask starts, -1 where it ends
    np.add.at(cover, starts, 1)
    np.add.at(cover, ends, -1)
    keep = np.cumsum(cover[:-1], out=cover[:-1]) == 0
    del cover
    half = max(1, int(round(NOISE_HALF_S * fs_d)))
    hf = bandpass(low, fs_d, lowcut=NOISE_BAND[0], highcut=min(NOISE_BAND[1], 0.45 * fs_d))
    width = min(NOISE_BAND[1], 0.45 * fs_d) - NOISE_BAND[0]
    hf *= np.sqrt((QRS_BAND[1] - QRS_BAND[0]) / width)  # white noise of the same density in the QRS band
    np.multiply(hf, hf, out=hf)
    hf[~keep] = 0.0
    step = max(1, int(round(STEP_S * fs_d)))
    grid = np.arange(0, n, step)
    points = np.concatenate((at, grid))
    power = _window_sums(hf, half, points, overwrite=True)
    del hf
    count = _window_sums(keep, half, points, dtype=np.int32)
    noise = np.sqrt(power / np.maximum(count, 1.0))
    noise[count < 0.2 * half] = np.nan  # hardly any inter-beat signal: no measure here
    on_grid = noise[at.size:]
    fill = np.nanmedian(on_grid) if np.isfinite(on_grid).any() else 0.0
    noise = np.where(np.isnan(noise), fill, noise)

    flat_mask = _flat(low, fs_d, FLAT_FRACTION * typical) if flat else np.zeros(n, bool)
    beat_db = _snr_db(amplitude, noise[:at.size])
    stretch = _snr_db(typical, noise)
    return Measures(beat_db, stretch[:at.size], grid, stretch[at.size:], flat_mask, at, fs_d, q)


def assess_quality(signal, sampling_rate, peaks) -> Quality:
    """Quality of every beat and the unreadable stretches of one lead.

    Parameters
    ----------
    signal : array_like
        One lead, any amplitude unit.
    sampling_rate : float
        Hz.
    peaks : array_like of int
        The beats' R-peak sample indices (e.g. from :func:`ecg_core.peaks.detect_r_peaks`).

    Returns
    -------
    Quality

    Examples
    --------
    >>> import numpy as np
    >>> fs = 360
    >>> t = np.arange(60 * fs) / fs
    >>> ecg = np.exp(-0.5 * (((t % 0.8) - 0.4) / 0.012) ** 2)
    >>> peaks = np.arange(144, ecg.size, 288)
    >>> noisy = ecg + np.where((t > 20) & (t < 40), 2.0, 0.0) * np.random.default_rng(0).standard_normal(t.size)
    >>> q = assess_quality(noisy, fs, peaks)
    >>> bool(q.unreadable[peaks < 15 * fs].any()), bool(q.unreadable[(peaks > 25 * fs) & (peaks < 35 * fs)].all())
    (False, True)
    """
    x, fs = validate_signal(signal, sampling_rate)
    p = np.asarray(peaks, dtype=np.int64)
    empty = np.zeros((0, 2), dtype=np.int64)
    if p.size == 0 or x.size < 3 * fs / QUALITY_FS:
        return Quality(np.zeros(0), np.zeros(0, bool), empty, fs)
    m = measure(x, fs, p)
    stretch = m.beat_stretch_db
    beat_quality = np.minimum(quality_index(m.beat_db, BEAT_UNREADABLE_DB),
                              quality_index(stretch, STRETCH_UNREADABLE_DB))
    # in noise, a "beat" much smaller than the recording's QRS is more likely a bump of the noise
    size = 10.0 ** ((m.beat_db - stretch) / 20.0)
    plausible = np.where(stretch < PLAUSIBLE_STRETCH_DB, np.clip(size / (2 * PLAUSIBLE_SIZE), 0.0, 1.0), 1.0)
    beat_quality = np.minimum(beat_quality, plausible)
    beat_quality[m.flat[m.at]] = 0.0
    n, q, fs_d = m.flat.size, m.q, m.rate
    step = max(1, int(round(STEP_S * fs_d)))
    bad_grid = (m.stretch_db < STRETCH_UNREADABLE_DB) | m.flat[m.grid]
    bad = np.repeat(bad_grid, step)[:n] | m.flat
    spans = _join(_spans(bad), int(round(JOIN_S * fs_d)))
    spans = np.clip(spans * q, 0, x.size).astype(np.int64) if len(spans) else empty
    inside = np.zeros(p.size, bool)
    if len(spans):
        spans[-1, 1] = x.size if spans[-1, 1] >= n * q else spans[-1, 1]
        k = np.searchsorted(spans[:, 0], p, side="right") - 1
        inside = (k >= 0) & (p < spans[np.maximum(k, 0), 1])
    unreadable = (beat_quality < 0.5) | inside
    beat_quality = np.where(inside, np.minimum(beat_quality, 0.49), beat_quality)
    return Quality(beat_quality.round(3), unreadable, spans, fs)
