"""Stage 4 of the R-peak detector (:mod:`ecg_core.peaks`): noise bumps.

In a noisy stretch, a detection much smaller than the typical QRS that breaks the rhythm (it comes
early, or it splits an RR interval in two with no pause after it) is a bump of the noise, not a
beat, and is dropped. Two noise measures decide whether a stretch is noisy, and a template match
whether a detection looks like the recording's beats:

- *noise*: the lower (noisier) of two stretch SNRs (dB, the noise stress test's definition against
  the recording's typical QRS amplitude in the QRS band): :mod:`ecg_core.quality`'s, whose noise is
  measured in 22-40 Hz (muscle noise), and the *excess* one, whose noise is the power in the QRS band
  between the beats (``MASK_HALF_S`` around every detection left out, over ``NOISE_HALF_S`` on each
  side) above the recording's own inter-beat level (its ``EXCESS_REFERENCE`` percentile: the P and T
  waves' share, which is not noise). The second sees noise that looks like the ECG in the QRS band
  (electrode motion, low-pass muscle noise) that the first does not;
- *template match*: each detection's correlation with the recording's QRS templates, best over +-1
  sample of lag, in windows of +-``TEMPLATE_HALF_S`` of :func:`shape_signal` (the block means less
  their ``TEMPLATE_BASELINE_S`` moving mean). The templates: the median of the windows that match it
  (of up to ``TEMPLATE_BEATS`` detections), and a second one for a frequent other morphology (e.g.
  ventricular beats).

Rules (a detection is dropped when one holds; ``size``: its QRS-band amplitude over the typical one):

- *early bump*: muscle-noise SNR (:mod:`ecg_core.quality`'s) under ``NOISE_STRETCH_DB``, size under
  ``NOISE_AMPLITUDE`` and its RR under ``NOISE_PREMATURE`` of the median RR of the ``NOISE_RR_BEATS``
  around it;
- *split*: it splits an RR interval in two, with no pause after it as an ectopic beat has (its RR
  before and after together under ``NOISE_SPLIT_RR`` of the median RR, the shorter under
  ``NOISE_PREMATURE``), size under ``MISMATCH_AMPLITUDE`` and the noise SNR (the lower of the two)
  under ``NOISE_SPLIT_STRETCH_DB``; unless the muscle-noise SNR alone is under it and the size under
  ``NOISE_SPLIT_AMPLITUDE``, its template correlation must also be under ``MISMATCH_CORR``: the excess
  measure cannot tell noise from unusual ECG (multiform ventricular beats, wide T waves), and a
  larger deflection is more often a beat, so they only drop what does not look like a QRS;
- *conflict*: in heavy noise (the lower noise SNR under ``CONFLICT_NOISE_DB``), of two detections too
  close together for one rhythm (under ``CONFLICT_RR`` of the median RR), the one that looks least like
  a QRS (template correlation under ``CONFLICT_CORR`` and ``CONFLICT_MARGIN`` below its neighbour's)
  and is the smaller goes. At 0 dB nearly every false detection lies within 0.75 RR of another one;
  ``CONFLICT_NOISE_DB`` is the highest level tried (6, 7, 8, 10, 12, 22 dB) at which no detection of
  the 26 MIT-BIH and 39 SVDB clean records changes: from 7 dB on it took a true beat between the
  artefacts of MIT-BIH 203, at 22 dB 72 true beats of the clean MIT-BIH records.

A small premature ectopic beat in clean signal is kept (the noise condition), so is a normal-sized
one in noise. The thresholds were chosen on the project's shared records (MIT-BIH 118 and 119 with
the NSTDB ``ma`` and ``bw`` noise; the 26 MIT-BIH and 39 SVDB clean records for no loss), not on
held-out data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d

from .filters import bandpass, block_mean
from .quality import MASK_HALF_S, NOISE_HALF_S, QRS_BAND, QRS_HALF_S, QUALITY_FS, measure

#: Early bump: noise SNR (dB), size and prematurity limits, and the beats around it whose median RR counts.
NOISE_STRETCH_DB = 18.0
NOISE_AMPLITUDE = 0.5
NOISE_PREMATURE = 0.8
NOISE_RR_BEATS = 17
#: Split: noise SNR (dB), size limit, and the RR before and after together (x median RR).
NOISE_SPLIT_STRETCH_DB = 22.0
NOISE_SPLIT_AMPLITUDE = 0.45
NOISE_SPLIT_RR = 1.15
#: ... or a larger split that does not look like the recording's QRS complexes.
MISMATCH_AMPLITUDE = 0.7
MISMATCH_CORR = 0.6
#: Conflict: two detections under ``CONFLICT_RR`` of the median RR apart where the noise SNR is under
#: ``CONFLICT_NOISE_DB``; the one under ``CONFLICT_CORR`` of template correlation, ``CONFLICT_MARGIN`` below
#: the other's and smaller, goes.
CONFLICT_RR = 0.75
CONFLICT_CORR = 0.5
CONFLICT_MARGIN = 0.2
CONFLICT_NOISE_DB = 6.0
#: Detections on either side of a noisy one whose template correlation is measured for the conflict rule.
CONFLICT_NEIGHBOURS = 3
#: Percentile of the recording's inter-beat QRS-band power (every ``EXCESS_STEP_S``) that is its own level.
EXCESS_REFERENCE = 20.0
EXCESS_STEP_S = 0.5
#: Baseline window (s: a moving mean taken out of the block means) and half-width (s) of the window a
#: template covers; correlation a template's members reach;
#: a second template needs ``SECOND_MIN_BEATS`` (and ``SECOND_MIN_SHARE`` of the beats) under ``OTHER_CORR``.
TEMPLATE_BASELINE_S = 1.0
TEMPLATE_HALF_S = 0.15
MEMBER_CORR = 0.8
OTHER_CORR = 0.6
SECOND_MIN_BEATS = 20
SECOND_MIN_SHARE = 0.02
TEMPLATE_BEATS = 600


def _unit_windows(band: np.ndarray, at: np.ndarray, half: int, lag: int = 0) -> np.ndarray:
    """``(len(at), 2 * half + 1)`` windows of ``band`` around ``at + lag``, zero-mean, unit norm."""
    idx = np.clip(at[:, None] + (lag + np.arange(-half, half + 1))[None, :], 0, band.size - 1)
    w = band[idx]
    w -= w.mean(axis=1, keepdims=True)
    w /= np.linalg.norm(w, axis=1, keepdims=True) + 1e-12
    return w


def _unit(v: np.ndarray) -> np.ndarray:
    v = v - v.mean()
    return v / (np.linalg.norm(v) + 1e-12)


def _refine(w: np.ndarray, among: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A template refined twice to the median of the windows (of ``among``) that match it; its members."""
    t = start
    members = among
    for _ in range(2):
        members = among & (w @ t > MEMBER_CORR)
        if members.sum() < SECOND_MIN_BEATS:
            break
        t = _unit(np.median(w[members], axis=0))
    return t, among & (w @ t > MEMBER_CORR)


def templates(w: np.ndarray) -> list[np.ndarray]:
    """The recording's QRS templates from its unit windows ``w``: the dominant shape, and another if frequent."""
    everyone = np.ones(w.shape[0], bool)
    first, _ = _refine(w, everyone, _unit(np.median(w, axis=0)))
    out = [first]
    rest = w @ first < OTHER_CORR
    if rest.sum() >= max(SECOND_MIN_BEATS, SECOND_MIN_SHARE * w.shape[0]):
        second, members = _refine(w, rest, _unit(np.median(w[rest], axis=0)))
        if members.sum() >= max(SECOND_MIN_BEATS, SECOND_MIN_SHARE * w.shape[0]):
            out.append(second)
    return out


def shape_signal(low: np.ndarray, fs_d: float) -> np.ndarray:
    """The block means ``low`` less their ``TEMPLATE_BASELINE_S`` moving mean: the signal templates are learnt in."""
    return low - uniform_filter1d(low, max(3, int(round(TEMPLATE_BASELINE_S * fs_d))), mode="nearest")


def template_match(band: np.ndarray, at: np.ndarray, fs_d: float, only=None) -> np.ndarray:
    """Best correlation (over the templates and +-1 sample of lag) of detections ``at[only]`` with the QRS templates.

    The templates are learnt from at most ``TEMPLATE_BEATS`` detections spread evenly over the recording.
    """
    half = max(2, int(round(TEMPLATE_HALF_S * fs_d)))
    learn = at[:: max(1, -(-at.size // TEMPLATE_BEATS))]
    shapes = np.stack(templates(_unit_windows(band, learn, half)), axis=1)
    these = at if only is None else at[only]
    best = np.full(these.size, -1.0)
    for lag in (-1, 0, 1):
        np.maximum(best, (_unit_windows(band, these, half, lag) @ shapes).max(axis=1), out=best)
    return best


def excess_noise_db(band: np.ndarray, at: np.ndarray, fs_d: float, typical: float) -> np.ndarray:
    """Per detection: typical QRS amplitude against the inter-beat QRS-band power above the recording's level, dB."""
    n = band.size
    m = max(1, int(round(MASK_HALF_S * fs_d)))
    cover = (np.bincount(np.clip(at - m, 0, n), minlength=n + 1)
             - np.bincount(np.clip(at + m + 1, 0, n), minlength=n + 1))
    keep = np.cumsum(cover[:-1]) == 0
    power = np.concatenate(([0.0], np.cumsum(np.where(keep, band * band, 0.0))))
    count = np.concatenate(([0], np.cumsum(keep)))
    half = max(1, int(round(NOISE_HALF_S * fs_d)))

    def level(points):
        lo, hi = np.maximum(points - half, 0), np.minimum(points + half + 1, n)
        return (power[hi] - power[lo]) / np.maximum(count[hi] - count[lo], 1)

    grid = np.arange(0, n, max(1, int(round(EXCESS_STEP_S * fs_d))))
    reference = np.percentile(level(grid), EXCESS_REFERENCE)
    signal_power = typical ** 2 / 8.0
    excess = np.maximum(level(at) - reference, 1e-12 * max(signal_power, 1e-30))
    return 10.0 * np.log10(max(signal_power, 1e-30) / excess)


@dataclass(frozen=True)
class NoiseBumps:
    """Stage 4's result: the kept detections with what it measured at each.

    ``noise_db``: the lower of the two noise SNRs (dB); ``corr``: the template correlation, NaN where
    no rule asked for it (and the caller did not, see :func:`noise_bumps`).
    """

    peaks: np.ndarray
    noise_db: np.ndarray
    corr: np.ndarray


def drop_noise_bumps(x: np.ndarray, fs: float, peaks: np.ndarray, block_means=None, qrs_band=None) -> np.ndarray:
    """Stage 4: drop small detections that break the rhythm in noisy stretches (see the module's rules).

    ``block_means``, ``qrs_band``: the detector's block means and their QRS band-pass, reused
    (at :data:`ecg_core.quality.QUALITY_FS` only).
    """
    return noise_bumps(x, fs, peaks, block_means, qrs_band).peaks


def noise_bumps(x: np.ndarray, fs: float, peaks: np.ndarray, block_means=None, qrs_band=None, *,
                correlate_below_db: float | None = None) -> NoiseBumps:
    """:func:`drop_noise_bumps` with its measures; ``correlate_below_db``: also measure the template
    correlation of every detection whose noise SNR is under it."""
    if peaks.size < NOISE_RR_BEATS:
        return NoiseBumps(peaks, np.full(peaks.size, np.inf), np.full(peaks.size, np.nan))
    low, fs_d, q = block_means if block_means is not None else block_mean(x, fs, target_rate=QUALITY_FS)
    band = qrs_band if qrs_band is not None else bandpass(low, fs_d, lowcut=QRS_BAND[0],
                                                          highcut=min(QRS_BAND[1], 0.45 * fs_d))
    rr = np.diff(peaks)
    pre = np.concatenate(([rr[0]], rr)).astype(np.float64)
    post = np.concatenate((rr, [rr[-1]])).astype(np.float64)
    median = median_filter(pre, NOISE_RR_BEATS, mode="nearest")
    m = measure(x, fs, peaks, flat=False, block_means=(low, fs_d, q), qrs_band=band)
    at = m.at
    h = max(1, int(round(QRS_HALF_S * fs_d)))
    amplitude = np.ptp(band[np.clip(at[:, None] + np.arange(-h, h + 1)[None, :], 0, band.size - 1)], axis=1)
    hf = m.beat_stretch_db
    excess = excess_noise_db(band, at, fs_d, float(np.median(amplitude)))
    noise = np.minimum(hf, excess)
    size_db = m.beat_db - hf  # the beat's amplitude against the typical QRS, in dB
    early = pre < NOISE_PREMATURE * median
    splits = (np.minimum(pre, post) < NOISE_PREMATURE * median) & (pre + post < NOISE_SPLIT_RR * median)
    bump = (hf < NOISE_STRETCH_DB) & (size_db < 20.0 * np.log10(NOISE_AMPLITUDE)) & early
    split = (noise < NOISE_SPLIT_STRETCH_DB) & splits & (size_db < 20.0 * np.log10(MISMATCH_AMPLITUDE))
    # where only the excess measure sees noise, or the split is larger, it must also not look like a QRS
    weak = split & ((hf >= NOISE_SPLIT_STRETCH_DB) | (size_db >= 20.0 * np.log10(NOISE_SPLIT_AMPLITUDE)))
    noisy = noise < CONFLICT_NOISE_DB
    wanted = noise < correlate_below_db if correlate_below_db is not None else np.zeros(at.size, bool)
    # correlations only where a rule asks: the weak splits, the noisy detections and their neighbours
    # (NaN elsewhere: no rule acts on it)
    near = (np.convolve(noisy, np.ones(2 * CONFLICT_NEIGHBOURS + 1, bool), mode="same") > 0 if noisy.any()
            else noisy)
    corr = np.full(at.size, np.nan)
    if (asked := weak | near | wanted).any():
        corr[asked] = template_match(shape_signal(low, fs_d), at, fs_d, asked)
    weak &= corr >= MISMATCH_CORR
    kept = ~((bump | split) & ~weak)
    if noisy.any():
        kept = _resolve_conflicts(peaks, kept, noisy, corr, amplitude)
    return NoiseBumps(peaks[kept], noise[kept], corr[kept])


def _resolve_conflicts(peaks, kept, noisy, corr, amplitude) -> np.ndarray:
    """``kept`` less the detections that lose a conflict: of two kept detections too close together for one
    rhythm (under ``CONFLICT_RR`` of the median RR), in noise, the one that looks less like a QRS and is smaller.

    Suspects (noisy, correlation under ``CONFLICT_CORR``) are decided from the least QRS-like up, each
    against its nearest kept neighbours.
    """
    idx = np.flatnonzero(kept)
    if idx.size < NOISE_RR_BEATS or not noisy[idx].any():  # no conflict outside heavy noise
        return kept
    p, c, a = peaks[idx], corr[idx], amplitude[idx]
    rr = np.diff(p)
    median = median_filter(np.concatenate(([rr[0]], rr)).astype(np.float64), NOISE_RR_BEATS, mode="nearest")
    keep = np.ones(idx.size, bool)
    suspects = np.flatnonzero(noisy[idx] & (c < CONFLICT_CORR))
    for k in suspects[np.argsort(c[suspects], kind="stable")].tolist():
        for step in (-1, 1):
            j = k + step
            while 0 <= j < idx.size and not keep[j]:
                j += step
            if (0 <= j < idx.size and abs(p[j] - p[k]) < CONFLICT_RR * median[k]
                    and c[j] > c[k] + CONFLICT_MARGIN and a[k] < a[j]):
                keep[k] = False
                break
    kept = kept.copy()
    kept[idx[~keep]] = False
    return kept
