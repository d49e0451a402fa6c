"""Stage 4 of the R-peak detector (ecg_core.peaks_noise): the excess noise measure, the QRS templates,
the split rule in noise that looks like the ECG (electrode-motion-like, band-limited to 0.5-15 Hz) and
the conflict rule in heavy noise."""

from __future__ import annotations

import numpy as np

from ecg_core.filters import bandpass, block_mean
from ecg_core.peaks_noise import (
    _resolve_conflicts,
    _unit_windows,
    drop_noise_bumps,
    excess_noise_db,
    shape_signal,
    template_match,
    templates,
)
from ecg_core.quality import QRS_BAND, QUALITY_FS, measure
from tests.synth import synthetic_ecg

FS = 360
BURST = (40.0, 80.0)


def _ecg_like_noise(n: int, fs: float, seed: int, std_mv: float) -> np.ndarray:
    """Seeded noise band-limited to 0.5-15 Hz: nothing in 22-40 Hz, where the muscle-noise measure looks."""
    rng = np.random.default_rng(seed)
    x = bandpass(rng.standard_normal(n), fs, lowcut=0.5, highcut=15.0, order=4)
    return std_mv * x / x.std()


def _add_wobbles(x, fs, at, seed: int, ptp_mv: float):
    """Add at every ``at`` a different random wobble (0.2 s of 0.5-15 Hz noise, windowed) of ``ptp_mv`` peak to peak."""
    rng = np.random.default_rng(seed)
    t = np.arange(-int(0.1 * fs), int(0.1 * fs) + 1)
    for m in at:
        w = bandpass(rng.standard_normal(4 * t.size), fs, lowcut=0.5, highcut=15.0)[t.size: 2 * t.size]
        w *= np.hanning(t.size)
        x[m + t] += ptp_mv * w / np.ptp(w)
    return x


def _bands(x, fs):
    low, fs_d, q = block_mean(x, fs, target_rate=QUALITY_FS)
    return low, fs_d, q, bandpass(low, fs_d, lowcut=QRS_BAND[0], highcut=QRS_BAND[1])


def test_excess_measure_sees_noise_in_the_qrs_band_that_the_muscle_noise_measure_does_not():
    syn = synthetic_ecg(120, FS, 70, seed=5, noise_mv=0.01)
    a, b = (int(s * FS) for s in BURST)
    x = syn.signal.copy()
    x[a:b] += _ecg_like_noise(b - a, FS, 5, std_mv=0.15)
    low, fs_d, q, band = _bands(x, FS)
    at = syn.r_peaks // q
    typical = float(np.median(np.ptp(band[np.clip(at[:, None] + np.arange(-5, 6), 0, band.size - 1)], axis=1)))
    excess = excess_noise_db(band, at, fs_d, typical)
    hf = measure(x, FS, syn.r_peaks, flat=False).beat_stretch_db
    inside = (syn.r_peaks > a + 2 * FS) & (syn.r_peaks < b - 2 * FS)
    outside = (syn.r_peaks < a - 2 * FS) | (syn.r_peaks > b + 2 * FS)
    assert np.median(excess[inside]) < 22.0 < np.min(excess[outside])  # seen, and only there
    assert np.min(hf[inside]) > 25.0  # the 22-40 Hz measure does not see it


def _shape_band(x, fs):
    low, fs_d, q = block_mean(x, fs, target_rate=QUALITY_FS)
    return shape_signal(low, fs_d), fs_d, q


def test_templates_learn_a_frequent_second_morphology():
    syn = synthetic_ecg(120, FS, 70, seed=2, noise_mv=0.01, pvc_every=5)
    shape, fs_d, q = _shape_band(syn.signal, FS)
    at = syn.r_peaks // q
    assert len(templates(_unit_windows(shape, at, int(round(0.15 * fs_d))))) == 2
    corr = template_match(shape, at, fs_d)
    pvc = np.asarray(syn.ventricular, bool)
    assert np.min(corr[~pvc]) > 0.9 and np.min(corr[pvc]) > 0.9


def test_random_wobbles_do_not_match_the_templates():
    syn = synthetic_ecg(120, FS, 70, seed=2, noise_mv=0.01)
    rng = np.random.default_rng(2)
    mids = (syn.r_peaks[:-1] + syn.r_peaks[1:]) // 2
    mids = mids[rng.random(mids.size) < 0.3]
    x = _add_wobbles(syn.signal.copy(), FS, mids, 2, ptp_mv=0.5)
    shape, fs_d, q = _shape_band(x, FS)
    given = np.sort(np.concatenate((syn.r_peaks, mids)))
    corr = template_match(shape, given // q, fs_d)
    wobble = np.isin(given, mids)
    assert np.min(corr[~wobble]) > 0.9 and np.median(corr[wobble]) < 0.6


def test_split_bumps_in_ecg_like_noise_are_dropped_and_beats_kept():
    syn = synthetic_ecg(120, FS, 70, seed=7, noise_mv=0.01)
    a, b = (int(s * FS) for s in BURST)
    x = syn.signal.copy()
    x[a:b] += _ecg_like_noise(b - a, FS, 7, std_mv=0.15)
    mids = ((syn.r_peaks[:-1] + syn.r_peaks[1:]) // 2)[3::4]
    x = _add_wobbles(x, FS, mids, 7, ptp_mv=0.7)  # mid-RR random wobbles, about half the QRS's size
    given = np.sort(np.concatenate((syn.r_peaks, mids)))
    kept = drop_noise_bumps(x, FS, given)
    assert set(syn.r_peaks) <= set(kept)  # every beat stays
    in_burst = mids[(mids > a + 2 * FS) & (mids < b - 2 * FS)]
    clean = mids[(mids < a - 2 * FS) | (mids > b + 5 * FS)]
    dropped = np.setdiff1d(in_burst, kept)
    assert in_burst.size >= 8 and dropped.size >= in_burst.size // 2  # in the noise: most dropped
    assert set(clean) <= set(kept)  # in clean signal a deflection that splits an RR may be a beat: kept


def _conflict_case(extra_corr: float, extra_amplitude: float, noisy: bool):
    """Beats every 300 samples (correlation 0.9, amplitude 1) and one extra detection 100 samples after beat 20."""
    peaks = np.sort(np.r_[np.arange(40) * 300, 20 * 300 + 100])
    extra = peaks == 20 * 300 + 100
    corr = np.where(extra, extra_corr, 0.9)
    amplitude = np.where(extra, extra_amplitude, 1.0)
    kept = _resolve_conflicts(peaks, np.ones(peaks.size, bool), np.full(peaks.size, noisy), corr, amplitude)
    return peaks[kept], peaks[extra][0]


def test_in_heavy_noise_the_smaller_less_qrs_like_of_two_close_detections_goes():
    kept, extra = _conflict_case(0.2, 0.8, noisy=True)
    assert extra not in kept and kept.size == 40  # the extra one goes, every beat stays
    assert extra in _conflict_case(0.2, 0.8, noisy=False)[0]  # not in clean signal: it may be a beat
    assert extra in _conflict_case(0.2, 1.3, noisy=True)[0]  # larger than its neighbour: kept
    assert extra in _conflict_case(0.8, 0.8, noisy=True)[0]  # as QRS-like as its neighbour: kept
