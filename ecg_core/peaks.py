"""R-peak detection: a Pan-Tompkins / Hamilton-style QRS detector, vectorised with numpy/scipy.

The detector works natively at the signal's own sampling rate (every duration is given in
seconds and converted to samples inside), so the positions it returns are always sample indices
of the ORIGINAL signal. Every decision is relative (levels, ratios, polarity), so amplitude
units (mV or ADC units) and lead polarity do not change the result.

Stages
------
1. *QRS energy* (Pan & Tompkins 1985): the lead is block-averaged down to about 90 Hz
   (``DETECTION_FS``; QRS energy lies below 30 Hz), band-passed to the QRS band
   ``lowcut``-``highcut`` (zero-phase Butterworth, which also removes baseline wander and mains
   hum), differentiated, and the RMS slope over a centred ``INTEGRATION_S`` (150 ms) window is
   the energy envelope. Its local maxima at least ``refractory`` apart are the candidates.
2. *Adaptive decision* (Hamilton & Tompkins 1986), one cheap step per candidate: the QRS level
   and the noise level are the medians of the last 8 QRS and noise peaks; a candidate is a beat
   when it rises ``threshold`` of the way from the noise level to the QRS level.
   T waves: a candidate within ``twave_window`` of the previous beat whose steepest slope is under
   half of that beat's is a T wave. P waves: a beat followed within ``PWAVE_S`` by a steeper beat
   with over 1/``PWAVE_RATIO`` times its energy (or within ``twave_window`` by one over twice as
   steep) was a P wave (or an artefact) and is replaced. Search-back: when no beat came for
   ``searchback`` times the median of the last 8 RR intervals, the largest candidate in the gap
   that is not a T wave is taken if it reaches half the threshold.
3. *R location*: within ``search_window`` around each detection, the largest deflection of the
   lead (3-sample mean, measured from the beat's isoelectric level: the median over +-0.2 s),
   polarity-aware: the recording's dominant QRS polarity is used unless the opposite deflection
   of that beat is over ``POLARITY_RATIO`` times larger (e.g. a ventricular beat of the other
   polarity). This is where MIT-BIH annotators mark beats and where beat windows are centred.

4. *Noise bumps* (:mod:`ecg_core.peaks_noise`): in a noisy stretch, a detection much smaller than
   the typical QRS that comes early, or that splits an RR interval in two (no pause after it) and
   does not look like the recording's QRS complexes (template correlation), is a bump of the noise,
   not a beat: dropped. Noise is measured both in 22-40 Hz (:mod:`ecg_core.quality`, muscle noise)
   and as excess QRS-band power between the beats (noise that looks like the ECG, e.g. electrode
   motion). A small premature ectopic beat in clean signal is kept (the noise condition), so is a
   normal-sized one in noise.

``python -m ecg_core.bench detect --data-dir ../shared/data/mitdb`` measures accuracy, R-peak
offsets and speed against NeuroKit2 and wfdb's XQRS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from .errors import ECGError, validate_signal
from .filters import bandpass, block_mean
from .peaks_leads import LEAD_NOISE_DB, needs_second_lead, noisy_spans, vote
from .peaks_noise import NoiseBumps, noise_bumps
from .quality import QRS_BAND

__all__ = ["PARAMETERS", "Parameter", "DEFAULTS", "check_parameters", "detect_r_peaks"]


@dataclass(frozen=True)
class Parameter:
    """One tunable detector parameter, described for documentation and for sliders.

    Attributes
    ----------
    name : str
        Keyword of :func:`detect_r_peaks`.
    default, minimum, maximum, step : float
        Default value and the sensible slider range.
    unit : str
        ``"s"``, ``"Hz"``, ``"x RR"`` (multiples of the recent RR interval) or ``""`` (dimensionless).
    label : str
        Short human label.
    help : str
        One-line explanation for users.
    """

    name: str
    default: float
    minimum: float
    maximum: float
    step: float
    unit: str
    label: str
    help: str


#: The detector's tunable parameters, in the order a settings page should show them.
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("threshold", 0.3, 0.05, 0.9, 0.01, "", "Threshold (sensitivity)",
              "How far from the noise level towards the QRS level a peak must rise to count as a beat; "
              "lower finds more beats (and more false ones)."),
    Parameter("refractory", 0.2, 0.1, 0.4, 0.01, "s", "Minimum RR / refractory period",
              "Shortest time between two beats; no second beat is accepted closer than this."),
    Parameter("search_window", 0.1, 0.03, 0.25, 0.01, "s", "R-peak search window",
              "Width of the window around each detected QRS in which the R-peak (largest deflection) is placed."),
    Parameter("lowcut", 5.0, 1.0, 15.0, 0.5, "Hz", "QRS band low cut",
              "Lower edge of the QRS band-pass; higher rejects more baseline wander and T waves."),
    Parameter("highcut", 20.0, 10.0, 40.0, 1.0, "Hz", "QRS band high cut",
              "Upper edge of the QRS band-pass; lower rejects more muscle noise and mains interference."),
    Parameter("twave_window", 0.36, 0.0, 0.5, 0.01, "s", "T-wave check window",
              "A peak this soon after a beat whose slope is under half that beat's is taken as a T wave."),
    Parameter("searchback", 1.66, 1.2, 3.0, 0.02, "x RR", "Search-back after",
              "When no beat came for this many median RR intervals, the largest peak above half the threshold "
              "in the gap is taken as a missed beat."),
)

#: ``{name: default}`` for every tunable parameter.
DEFAULTS: dict[str, float] = {p.name: p.default for p in PARAMETERS}

#: Moving-window integration length of the QRS energy (seconds), as in Pan & Tompkins.
INTEGRATION_S = 0.15
#: Target rate (Hz) of the QRS-energy stage; the signal is block-averaged to at least this.
DETECTION_FS = 90.0
#: The QRS level and the noise level are medians of this many recent peaks (Hamilton & Tompkins).
LEVEL_BEATS = 8
#: Search-back accepts a peak reaching this fraction of the detection threshold (Pan & Tompkins).
SEARCHBACK_FRACTION = 0.5
#: Number of recent RR intervals whose median sets the search-back delay.
RR_BEATS = 8
#: An opposite-polarity deflection this many times larger than the dominant one marks the R-peak.
POLARITY_RATIO = 1.6
#: Half-width (s) of the window whose median is a beat's isoelectric level.
BASELINE_S = 0.2

#: A detection less than ``PWAVE_S`` (s) before a steeper one with over 1/``PWAVE_RATIO`` times its
#: energy is a P wave (PR intervals are 0.12-0.2 s).
PWAVE_S = 0.25
PWAVE_RATIO = 0.8
#: Blocks (s) whose energy maxima give the typical QRS level; a beat comes in every block above 30 bpm.
LEVEL_BLOCK_S = 2.0
#: After this long (s) without a beat the QRS level is re-learnt from the next ``RELEARN_BLOCKS`` blocks.
RELEARN_S = 3.0
RELEARN_BLOCKS = 4
RELEARN_SNR = 3.0
#: Half-width (s) of the window in which a candidate's steepest slope is measured.
SLOPE_HALF_S = 0.03


def check_parameters(params: dict, fs: float) -> dict:
    """The detector settings ``params`` completed with :data:`DEFAULTS`, each checked against its range.

    Raises
    ------
    ECGError
        An unknown setting, one that is not a number or outside its range, or an empty QRS band.
    """
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise ECGError(
            f"Unknown R-peak detector setting(s): {', '.join(sorted(unknown))}. "
            f"Known settings: {', '.join(DEFAULTS)}."
        )
    p = {**DEFAULTS, **{k: v for k, v in params.items() if v is not None}}
    for spec in PARAMETERS:
        try:
            value = float(p[spec.name])
        except (TypeError, ValueError):
            raise ECGError(f"The detector setting {spec.name} must be a number, got {p[spec.name]!r}.") from None
        if not np.isfinite(value) or not spec.minimum <= value <= spec.maximum:
            raise ECGError(
                f"The detector setting {spec.name} = {p[spec.name]!r} {spec.unit} is outside its range "
                f"{spec.minimum:g}-{spec.maximum:g} {spec.unit}. Choose a value in that range."
            )
        p[spec.name] = value
    if p["lowcut"] >= p["highcut"]:
        raise ECGError(
            f"The QRS band is empty: low cut {p['lowcut']:g} Hz is not below high cut {p['highcut']:g} Hz."
        )
    return p


def _window_index(centres: np.ndarray, before: int, after: int, n: int) -> np.ndarray:
    """``(len(centres), before + after + 1)`` indices around ``centres``, clipped to ``[0, n)``."""
    idx = centres[:, None] + np.arange(-before, after + 1)[None, :]
    return np.clip(idx, 0, n - 1)


def _qrs_energy(x: np.ndarray, fs: float, p: dict):
    """QRS energy envelope at the detection rate.

    Returns the block-averaged lead, its RMS-slope envelope in the QRS band, the detection rate,
    the block length ``q`` (detection sample ``k`` covers samples ``k*q .. k*q+q-1``) and the
    band-passed lead (for stage 4).
    """
    low, fs_d, q = block_mean(x, fs, target_rate=DETECTION_FS)
    n = low.size
    qrs = bandpass(low, fs_d, lowcut=p["lowcut"], highcut=min(p["highcut"], 0.45 * fs_d))
    slope = np.empty_like(qrs)
    np.subtract(qrs[2:], qrs[:-2], out=slope[1:-1])
    slope[0], slope[-1] = slope[1], slope[-2]
    w = min(max(1, int(round(INTEGRATION_S * fs_d))), n)
    c = np.empty(n + 1)
    c[0] = 0.0
    np.cumsum(np.multiply(slope, slope, out=slope), out=c[1:])
    del slope
    # centred moving sum over w samples: energy[i] = c[i - w//2 + w] - c[i - w//2], clipped at the ends
    a = w // 2
    energy = np.empty(n)
    energy[a: n - w + a + 1] = c[w:] - c[: n - w + 1]
    energy[:a] = c[np.arange(a) - a + w] - c[0]
    energy[n - w + a + 1:] = c[n] - c[np.arange(n - w + a + 1, n) - a]
    np.sqrt(np.maximum(energy, 0.0, out=energy) * (0.25 / w), out=energy)  # RMS slope: amplitude domain
    return low, energy, fs_d, q, qrs


def _decide(t, h, s, fs_d, p, init_signal, init_noise, block_max, block):
    """Adaptive-threshold decision over candidates; returns indices of accepted candidates.

    ``t``, ``h``, ``s``: candidate positions (detection samples), energy peaks and steepest
    slopes, as Python lists (one cheap step per candidate). ``block_max``: the energy's maximum in
    consecutive blocks of ``block`` samples, for re-learning the QRS level after a long gap.
    """
    refractory = p["refractory"] * fs_d
    twave = p["twave_window"] * fs_d
    pwave = PWAVE_S * fs_d
    thr = p["threshold"]
    sb = p["searchback"]
    mid = LEVEL_BEATS // 2
    h_arr, t_arr, s_arr = np.asarray(h), np.asarray(t), np.asarray(s)
    qrs_peaks = [init_signal] * LEVEL_BEATS  # ring buffers of the last peak heights
    noise_peaks = [init_noise] * LEVEL_BEATS
    kq = kn = 0
    spk, npk = init_signal, init_noise
    level = npk + thr * (spk - npk)
    beats: list[int] = []
    rr: list[float] = []
    inf = float("inf")
    search_at = inf  # search back for a missed beat from here on (last beat + sb x median RR)
    relearn_gap = RELEARN_S * fs_d
    relearn_at = relearn_gap  # re-learn the QRS level from here on (last beat + RELEARN_S)
    last_t = -1e18
    last_s = 0.0
    last_i = -1
    i = 0
    n = len(t)
    while i < n:
        ti = t[i]
        if ti > search_at and i - last_i > 1:
            # search-back: largest candidate in the gap (not a T wave) above half the threshold
            lo = last_i + 1
            while lo < i and t[lo] - last_t < refractory:
                lo += 1
            if lo < i:
                gap = h_arr[lo:i].copy()
                gap[(t_arr[lo:i] - last_t < twave) & (s_arr[lo:i] < 0.5 * last_s)] = 0.0
                j = lo + int(np.argmax(gap))
                if gap[j - lo] > SEARCHBACK_FRACTION * level:
                    qrs_peaks[kq] = h[j]
                    kq = (kq + 1) % LEVEL_BEATS
                    spk = sorted(qrs_peaks)[mid]
                    level = npk + thr * (spk - npk)
                    rr.append(t[j] - last_t)
                    beats.append(j)
                    last_t, last_s, last_i = t[j], s[j], j
                    relearn_at = last_t + relearn_gap
                    recent = rr[-RR_BEATS:]
                    search_at = last_t + sb * sorted(recent)[len(recent) // 2]
                    i = j + 1
                    continue
        if ti > relearn_at:
            # no beat for a long time: the QRS level may be stale (amplitude drop, gain change);
            # re-learn it from the coming blocks (a true pause leaves it, as beats follow)
            b0 = int(ti // block)
            ahead = sorted(block_max[b0: b0 + RELEARN_BLOCKS]) or [spk]
            local = ahead[len(ahead) // 2]
            if RELEARN_SNR * npk < local < spk:  # only to a level that stands out of the noise
                spk = local
                qrs_peaks = [local] * LEVEL_BEATS
                level = npk + thr * (spk - npk)
            relearn_at = inf
            continue
        hi = h[i]
        dt = ti - last_t
        if hi > level and dt >= refractory and not (dt < twave and s[i] < 0.5 * last_s):
            if dt < twave and (
                (last_s < 0.5 * s[i] and h[last_i] < hi)
                or (dt < pwave and h[last_i] < PWAVE_RATIO * hi and last_s < s[i])
            ):
                # the previous "beat" was a P wave (or an artefact) before this steeper, stronger QRS
                beats.pop()
                if rr:
                    rr.pop()
                last_t = t[beats[-1]] if beats else -1e18
            qrs_peaks[kq] = hi
            kq = (kq + 1) % LEVEL_BEATS
            spk = sorted(qrs_peaks)[mid]
            level = npk + thr * (spk - npk)
            if beats:
                rr.append(ti - last_t)
                recent = rr[-RR_BEATS:]
                search_at = ti + sb * sorted(recent)[len(recent) // 2]
            beats.append(i)
            last_t, last_s, last_i = ti, s[i], i
            relearn_at = ti + relearn_gap
        else:
            noise_peaks[kn] = hi
            kn = (kn + 1) % LEVEL_BEATS
            npk = sorted(noise_peaks)[mid]
            level = npk + thr * (spk - npk)
        i += 1
    return np.asarray(beats, dtype=np.int64)


def _block_maxima(energy: np.ndarray, fs_d: float):
    """Maximum of the energy in consecutive ``LEVEL_BLOCK_S`` blocks (the last one partial)."""
    block = max(1, int(LEVEL_BLOCK_S * fs_d))
    nb = -(-energy.size // block)
    padded = np.zeros(nb * block)
    padded[: energy.size] = energy
    return padded.reshape(nb, block).max(axis=1), block


def _initial_levels(energy: np.ndarray, maxima: np.ndarray, block: int, fs_d: float):
    """Robust starting QRS and noise levels from the first minute: median of the block maxima."""
    span = min(energy.size, int(60 * fs_d))
    spk = float(np.median(maxima[: max(1, span // block)]))
    npk = float(np.median(energy[:span]))
    return spk, min(npk, 0.5 * spk)


def _locate(x: np.ndarray, low: np.ndarray, q: int, centres: np.ndarray, fs: float, search_window: float):
    """Place each beat on the largest deflection of ``x`` near ``centres``, polarity-aware.

    The deflection is measured from the beat's isoelectric level (median of the block-averaged
    lead ``low`` over +-``BASELINE_S``) in the lightly smoothed (3-sample mean) lead.
    """
    half = max(1, int(round(0.5 * search_window * fs)))
    idx = _window_index(centres, half + 1, half + 1, x.size)
    raw = x[idx]
    win = (raw[:, :-2] + raw[:, 1:-1] + raw[:, 2:]) * (1.0 / 3.0)
    idx = idx[:, 1:-1]
    b = max(1, int(round(BASELINE_S * fs / q)))
    around = low[_window_index(centres // q, b, b, low.size)[:, ::2]]
    base = np.partition(around, around.shape[1] // 2, axis=1)[:, around.shape[1] // 2]
    win -= base[:, None]
    up = win.max(axis=1)
    down = -win.min(axis=1)
    polarity = 1.0 if np.median(up - down) >= 0 else -1.0
    dominant = up if polarity > 0 else down
    other = down if polarity > 0 else up
    flip = other > POLARITY_RATIO * dominant
    sign = np.where(flip, -polarity, polarity)
    k = np.argmax(win * sign[:, None], axis=1)
    return idx[np.arange(idx.shape[0]), k]


def detect_r_peaks(signal, sampling_rate, *, second_lead=None, **params) -> np.ndarray:
    """Find the R-peaks of one ECG lead (with another lead of the same recording to vote in noise).

    Parameters
    ----------
    signal : array_like
        One lead, 1-D, any amplitude unit (mV or ADC units) and either polarity.
    sampling_rate : float
        Sampling rate in Hz (any plausible rate; the detector works natively at it).
    second_lead : array_like, optional
        Another lead of the same recording (same length). Where ``signal`` is noisy, its own
        detections confirm or reject the beats (stage 5, :mod:`ecg_core.peaks_leads`); elsewhere it
        changes nothing. The positions returned are still those of ``signal``'s R-peaks, except a
        beat only this lead shows, at its R-peak here.
    threshold : float, optional
        Sensitivity, 0.05-0.9 (default 0.3): how far from the running noise level towards the
        running QRS level a peak of the QRS energy must rise to count as a beat.
    refractory : float, optional
        Minimum RR interval / refractory period in seconds (default 0.2).
    search_window : float, optional
        Width in seconds of the window around each detected QRS in which the R-peak is placed
        (default 0.1).
    lowcut, highcut : float, optional
        QRS band-pass edges in Hz (defaults 5 and 20).
    twave_window : float, optional
        Seconds after a beat in which a peak with under half the beat's slope is a T wave
        (default 0.36; 0 disables the check).
    searchback : float, optional
        Search back for a missed beat after this many median RR intervals without one (default 1.66).

    Returns
    -------
    numpy.ndarray
        Sorted, unique ``int64`` sample indices of the R-peaks in the original signal.

    Raises
    ------
    ECGError
        Invalid signal or sampling rate (see :func:`ecg_core.errors.validate_signal`), or a
        setting outside its documented range.

    Notes
    -----
    The defaults are the physiologically motivated values of Pan & Tompkins (1985) and Hamilton &
    Tompkins (1986) (200 ms refractory period, 360 ms T-wave window, search-back after 1.66 RR,
    150 ms integration); the QRS band (5-20 Hz) and the threshold (0.3) were checked on the 26
    MIT-BIH records of the project's data (``python -m ecg_core.bench detect``), where neighbouring
    values trade sensitivity for positive predictivity smoothly. See :data:`PARAMETERS`.

    Examples
    --------
    >>> import numpy as np
    >>> fs = 360
    >>> t = np.arange(10 * fs) / fs
    >>> ecg = np.exp(-0.5 * (((t % 0.8) - 0.4) / 0.012) ** 2)  # one narrow "QRS" every 0.8 s
    >>> detect_r_peaks(ecg, fs)[:3]
    array([144, 432, 720])
    """
    x, fs = validate_signal(signal, sampling_rate)
    p = check_parameters(params, fs)
    if second_lead is None:
        return _detect(x, fs, p).peaks
    if np.shape(second_lead) != x.shape:
        raise ECGError(f"The second lead has {np.size(second_lead)} samples and the first {x.size}: give two "
                       "leads of the same recording.")
    first = _detect(x, fs, p, correlate_below_db=LEAD_NOISE_DB)
    if not needs_second_lead(first):
        return first.peaks
    y, _ = validate_signal(second_lead, fs)  # only where it is read: most recordings are clean
    return vote(first, _second_lead_beats(y, fs, p, first), fs)


def _second_lead_beats(y: np.ndarray, fs: float, p: dict, first) -> NoiseBumps:
    """Stages 1-4 on the second lead, in the spans around the first lead's suspects, every correlation measured."""
    spans = noisy_spans(first, fs, y.size)
    parts = [_detect(y[a:b], fs, p, correlate_below_db=np.inf) for a, b in spans]
    return NoiseBumps(np.concatenate([part.peaks + a for part, (a, _) in zip(parts, spans, strict=True)]),
                      np.concatenate([part.noise_db for part in parts]), np.concatenate([part.corr for part in parts]))


def _detect(x: np.ndarray, fs: float, p: dict, correlate_below_db=None):
    """Stages 1-4 on one validated lead: :class:`ecg_core.peaks_noise.NoiseBumps`."""
    low, energy, fs_d, q, qrs = _qrs_energy(x, fs, p)
    refr = max(1, int(round(p["refractory"] * fs_d)))
    cand, _ = sps.find_peaks(energy, distance=refr)
    none = np.empty(0, dtype=np.int64)
    if cand.size == 0:
        return noise_bumps(x, fs, none)
    half = max(1, int(round(SLOPE_HALF_S * fs_d)))
    steep = np.abs(np.diff(low[_window_index(cand, half, half, low.size)], axis=1)).max(axis=1)
    maxima, block = _block_maxima(energy, fs_d)
    spk, npk = _initial_levels(energy, maxima, block, fs_d)
    chosen = _decide(cand.tolist(), energy[cand].tolist(), steep.tolist(), fs_d, p, spk, npk, maxima.tolist(), block)
    if chosen.size == 0:
        return noise_bumps(x, fs, none)
    centres = cand[chosen] * q + (q - 1) // 2
    peaks = _locate(x, low, q, centres, fs, p["search_window"])
    peaks = np.unique(peaks)
    # two detections placed on (nearly) the same R-peak: keep one
    min_gap = max(1, int(round(0.5 * p["refractory"] * fs)))
    if peaks.size > 1:
        keep = np.concatenate(([True], np.diff(peaks) >= min_gap))
        peaks = peaks[keep]
    default_band = (p["lowcut"], p["highcut"]) == QRS_BAND
    return noise_bumps(x, fs, peaks.astype(np.int64), (low, fs_d, q), qrs if default_band else None,
                       correlate_below_db=correlate_below_db)
