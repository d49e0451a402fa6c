"""R-peak detector: seeded synthetic edge cases and a real annotated excerpt (MIT-BIH 208)."""

import inspect

import numpy as np
import pytest
from synth import synthetic_ecg

from ecg_core.config import AAMI_MAP, EXAMPLE_RECORD
from ecg_core.errors import ECGError
from ecg_core.evaluate import match_beats, score_detection
from ecg_core.peaks import DEFAULTS, PARAMETERS, detect_r_peaks


def _check(syn, peaks, *, tol_s=0.02):
    """Every true R-peak found within ``tol_s`` and nothing else detected."""
    assert peaks.dtype == np.int64
    assert np.all(np.diff(peaks) > 0), "positions must be sorted and unique"
    assert peaks.size == 0 or (peaks[0] >= 0 and peaks[-1] < syn.signal.size)
    pairs = match_beats(syn.r_peaks, peaks, syn.sampling_rate, window=tol_s)
    assert len(pairs) == syn.r_peaks.size == peaks.size, (
        f"{syn.r_peaks.size} true beats, {peaks.size} detected, {len(pairs)} within {tol_s * 1000:g} ms"
    )


@pytest.mark.parametrize("bpm", [30, 60, 100, 150, 220])
def test_rhythms_from_very_slow_to_very_fast(bpm):
    syn = synthetic_ecg(60, 360, bpm, seed=bpm)
    _check(syn, detect_r_peaks(syn.signal, 360))


def test_inverted_polarity_gives_the_same_peaks():
    syn = synthetic_ecg(40, 360, 75, seed=1, noise_mv=0.02)
    up = detect_r_peaks(syn.signal, 360)
    down = detect_r_peaks(-syn.signal, 360)
    _check(syn, up)
    np.testing.assert_array_equal(up, down)


def test_adc_units_and_millivolts_give_the_same_peaks():
    syn = synthetic_ecg(40, 360, 80, seed=2, noise_mv=0.02, baseline_wander_mv=0.3)
    mv = detect_r_peaks(syn.signal, 360)
    adc = detect_r_peaks(np.rint(syn.signal * 200 + 1024), 360)  # MIT-BIH: 200 units/mV, baseline 1024
    _check(syn, mv)
    assert adc.size == mv.size
    assert np.abs(adc - mv).max() <= 1  # integer quantisation may move a flat-topped peak by one sample


def test_baseline_wander_and_noise():
    syn = synthetic_ecg(60, 360, 72, seed=3, baseline_wander_mv=2.0, noise_mv=0.08, mains_mv=0.1)
    _check(syn, detect_r_peaks(syn.signal, 360), tol_s=0.03)


def test_tall_t_and_p_waves_are_not_beats():
    syn = synthetic_ecg(60, 360, 60, seed=4, t_amplitude=1.0, p_amplitude=0.5)
    _check(syn, detect_r_peaks(syn.signal, 360))


def test_tall_t_waves_at_a_slow_rate():
    syn = synthetic_ecg(60, 360, 35, seed=5, t_amplitude=1.1)
    _check(syn, detect_r_peaks(syn.signal, 360))


def test_premature_wide_inverted_ventricular_beats():
    syn = synthetic_ecg(60, 360, 70, seed=6, pvc_every=4)
    assert syn.ventricular.sum() >= 10
    peaks = detect_r_peaks(syn.signal, 360)
    _check(syn, peaks)


@pytest.mark.parametrize("noise_mv", [0.0, 0.05])
def test_long_pauses_add_no_false_beats(noise_mv):
    syn = synthetic_ecg(90, 360, 55, seed=8, pause_every=6, pause_s=4.5, noise_mv=noise_mv, p_amplitude=0.2)
    assert np.diff(syn.r_peaks).max() >= 4 * 360
    _check(syn, detect_r_peaks(syn.signal, 360))


@pytest.mark.parametrize("factor", [0.1, 0.3, 5.0])
def test_sudden_amplitude_change_is_followed(factor):
    # e.g. a gain change or an electrode moving: the levels must re-adapt, even after a 10x drop
    syn = synthetic_ecg(120, 360, 70, seed=15, noise_mv=0.01)
    x = syn.signal.copy()
    x[x.size // 2:] *= factor
    _check(syn, detect_r_peaks(x, 360))


def test_paced_beats_are_found_once():
    syn = synthetic_ecg(60, 360, 70, seed=7, paced=True, noise_mv=0.02)
    _check(syn, detect_r_peaks(syn.signal, 360), tol_s=0.05)


@pytest.mark.parametrize("fs", [128, 250, 500, 1000])
def test_other_sampling_rates_return_original_indices(fs):
    syn = synthetic_ecg(40, fs, 75, seed=fs, noise_mv=0.02, pvc_every=5)
    peaks = detect_r_peaks(syn.signal, fs)
    # a 20 ms tolerance is 2.6 samples at 128 Hz and 20 samples at 1000 Hz: indices are at fs
    _check(syn, peaks, tol_s=0.02)


def test_same_rhythm_at_two_rates_lands_at_the_same_times():
    a = synthetic_ecg(30, 360, 75, seed=9)
    b = synthetic_ecg(30, 1000, 75, seed=9)
    pa, pb = detect_r_peaks(a.signal, 360) / 360, detect_r_peaks(b.signal, 1000) / 1000
    assert pa.size == pb.size
    assert np.abs(pa - pb).max() < 0.006


def test_parameters_change_the_result():
    # every other beat at half the height: a high threshold drops the small beats
    syn = synthetic_ecg(60, 360, 70, seed=10, noise_mv=0.01)
    x = syn.signal.copy()
    small = syn.r_peaks[::2]
    for r in small:
        x[max(r - 40, 0): r + 40] *= 0.5
    all_beats = detect_r_peaks(x, 360)
    strict = detect_r_peaks(x, 360, threshold=0.9)
    assert all_beats.size == syn.r_peaks.size
    assert strict.size < 0.8 * all_beats.size
    # at 180 bpm (RR 0.33 s) a 0.4 s refractory period must drop beats
    fast = synthetic_ecg(30, 360, 180, seed=11)
    assert detect_r_peaks(fast.signal, 360).size == fast.r_peaks.size
    assert detect_r_peaks(fast.signal, 360, refractory=0.4).size < 0.75 * fast.r_peaks.size
    # a taller, narrow deflection 70 ms before each R-wave: a wide search window lands on it
    base = synthetic_ecg(30, 360, 70, seed=12)
    x = base.signal.copy()
    k = np.arange(-10, 11)
    for r in base.r_peaks:
        x[r - 25 + k] += 2.0 * np.exp(-0.5 * (k / 2.0) ** 2)
    narrow = detect_r_peaks(x, 360, search_window=0.03)
    wide = detect_r_peaks(x, 360, search_window=0.25)
    assert narrow.size == wide.size == base.r_peaks.size
    assert np.median(wide - base.r_peaks) == -25
    assert np.mean(narrow - base.r_peaks == -25) < 0.5


def test_parameter_table_matches_the_function():
    names = [p.name for p in PARAMETERS]
    assert len(set(names)) == len(names)
    for p in PARAMETERS:
        assert p.minimum <= p.default <= p.maximum and p.step > 0 and p.help and p.label
        assert p.unit in ("", "s", "Hz", "x RR")
    syn = synthetic_ecg(20, 360, 70, seed=12)
    np.testing.assert_array_equal(detect_r_peaks(syn.signal, 360), detect_r_peaks(syn.signal, 360, **DEFAULTS))
    assert "sampling_rate" in inspect.signature(detect_r_peaks).parameters


@pytest.mark.parametrize("bad", [{"threshold": 2.0}, {"refractory": 0.0}, {"lowcut": 15.0, "highcut": 10.0},
                                 {"sensitivity": 0.5}, {"threshold": "high"}])
def test_bad_settings_raise_clear_errors(bad):
    syn = synthetic_ecg(20, 360, 70, seed=13)
    with pytest.raises(ECGError):
        detect_r_peaks(syn.signal, 360, **bad)


def test_bad_signals_raise_clear_errors():
    with pytest.raises(ECGError, match="flat"):
        detect_r_peaks(np.zeros(3600), 360)
    with pytest.raises(ECGError, match="long"):
        detect_r_peaks(np.random.default_rng(0).standard_normal(500), 360)
    with pytest.raises(ECGError, match="sampling rate"):
        detect_r_peaks(np.random.default_rng(0).standard_normal(5000), 5)


def test_pure_noise_respects_the_refractory_period():
    x = np.random.default_rng(14).standard_normal(360 * 20) * 0.05
    for refractory in (0.2, 0.35):
        peaks = detect_r_peaks(x, 360, refractory=refractory)
        assert peaks.dtype == np.int64
        assert peaks.size == 0 or np.diff(peaks).min() >= 0.5 * refractory * 360


@pytest.mark.skipif(not EXAMPLE_RECORD.exists(), reason="bundled MIT-BIH 208 excerpt not present")
def test_accuracy_on_the_bundled_mitbih_208_excerpt():
    wfdb = pytest.importorskip("wfdb")
    base = str(EXAMPLE_RECORD.with_suffix(""))
    rec = wfdb.rdrecord(base)
    lead = rec.sig_name.index("MLII") if "MLII" in rec.sig_name else 0
    ann = wfdb.rdann(base, "atr")
    ref = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in AAMI_MAP])
    x = rec.p_signal[:, lead]
    peaks = detect_r_peaks(x, rec.fs)
    score = score_detection(ref, peaks, rec.fs)
    assert score.sensitivity >= 0.995 and score.ppv >= 0.995, score
    # the positions land on the R-peaks the annotators marked: median offset within 10 ms
    pairs = match_beats(ref, peaks, rec.fs)
    offset_ms = np.abs(peaks[pairs[:, 1]] - ref[pairs[:, 0]]) * 1000 / rec.fs
    assert np.median(offset_ms) <= 10
    # ADC units give the same beats
    adc = detect_r_peaks(rec.adc()[:, lead] if hasattr(rec, "adc") else np.rint(x * 200 + 1024), rec.fs)
    assert abs(adc.size - peaks.size) <= 2


def _with_bumps(signal, fs, peaks, every: int, height_mv: float):
    """Add a narrow bump of ``height_mv`` halfway between every ``every``-th pair of beats; return signal, bumps."""
    x = signal.copy()
    mids = ((peaks[:-1] + peaks[1:]) // 2)[every::every]
    t = np.arange(-int(0.05 * fs), int(0.05 * fs) + 1)
    shape = height_mv * np.exp(-0.5 * (t / (0.012 * fs)) ** 2)
    for m in mids:
        x[m + t] += shape
    return x, mids


@pytest.mark.parametrize("noise_mv", [0.0, 0.15])
def test_stage4_drops_small_bumps_in_noise_and_keeps_them_in_clean_signal(noise_mv):
    from ecg_core.peaks_noise import drop_noise_bumps
    from tests.test_quality import _muscle_noise

    fs = 360
    syn = synthetic_ecg(120, fs, 70, seed=3, noise_mv=0.01)
    x = syn.signal + (_muscle_noise(syn.signal.size, fs, 3, noise_mv) if noise_mv else 0.0)
    x, bumps = _with_bumps(x, fs, syn.r_peaks, every=6, height_mv=0.25)  # a fifth of the R wave, mid-RR
    given = np.sort(np.concatenate((syn.r_peaks, bumps)))
    kept = drop_noise_bumps(x, fs, given, None)
    assert set(syn.r_peaks) <= set(kept)  # every beat stays
    if noise_mv:  # within 18 dB of the QRS: the bumps are noise
        assert not set(bumps) & set(kept)
    else:  # clean signal: a small early deflection may be a real ectopic beat, so it stays
        assert set(bumps) <= set(kept)
