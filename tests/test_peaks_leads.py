"""Stage 5 of the R-peak detector (ecg_core.peaks_leads): a second lead votes where the first is noisy."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.errors import ECGError
from ecg_core.evaluate import score_detection
from ecg_core.io import load
from ecg_core.peaks import detect_r_peaks
from ecg_core.peaks_leads import LEAD_NOISE_DB, needs_second_lead, vote
from ecg_core.peaks_noise import NoiseBumps
from tests.synth import synthetic_ecg
from tests.test_peaks_noise import _ecg_like_noise
from tests.test_quality import _muscle_noise

FS = 360
BURST = (60.0, 120.0)


def _two_leads(seed: int, noise_mv: float):
    """Two leads of one synthetic heart (the second a smaller, other-shaped projection), each with its own
    noise in the same burst: muscle noise and noise that looks like the ECG (0.5-15 Hz)."""
    syn = synthetic_ecg(180, FS, 72, seed=seed, noise_mv=0.01)
    a, b = (int(s * FS) for s in BURST)
    leads = []
    for k, gain in enumerate((1.0, 0.6)):
        x = gain * syn.signal.copy()
        x[a:b] += gain * (_muscle_noise(b - a, FS, seed + 10 * k, noise_mv)
                          + _ecg_like_noise(b - a, FS, seed + 10 * k + 1, 0.5 * noise_mv))
        leads.append(x)
    return syn, leads[0], leads[1]


def _in_burst(p):
    return p[(p >= BURST[0] * FS) & (p < BURST[1] * FS)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_second_lead_removes_false_beats_in_noise_without_losing_true_ones(seed):
    syn, x, y = _two_leads(seed, noise_mv=0.25)
    one = detect_r_peaks(x, FS)
    two = detect_r_peaks(x, FS, second_lead=y)
    s1 = score_detection(_in_burst(syn.r_peaks), _in_burst(one), FS)
    s2 = score_detection(_in_burst(syn.r_peaks), _in_burst(two), FS)
    assert s1.fp >= 10  # the burst is heavy enough for one lead to be fooled
    assert s2.fp <= 0.7 * s1.fp
    assert s2.tp >= s1.tp - 1
    clean = lambda p: p[(p < (BURST[0] - 15) * FS) | (p >= (BURST[1] + 15) * FS)]  # noqa: E731
    assert np.array_equal(clean(one), clean(two))  # away from the noise, nothing changes


def test_a_clean_recording_is_left_alone_and_its_second_lead_not_read():
    syn = synthetic_ecg(120, FS, 70, seed=4, noise_mv=0.01)
    unusable = np.full(syn.signal.size, np.nan)  # would be refused if it were read
    assert np.array_equal(detect_r_peaks(syn.signal, FS, second_lead=unusable), detect_r_peaks(syn.signal, FS))


def test_a_second_lead_of_another_length_is_refused_plainly():
    syn = synthetic_ecg(30, FS, 70, seed=5)
    with pytest.raises(ECGError, match="same recording"):
        detect_r_peaks(syn.signal, FS, second_lead=syn.signal[:-10])


def _bumps(peaks, corr, noise_db=0.0):
    peaks = np.asarray(peaks, dtype=np.int64)
    return NoiseBumps(peaks, np.full(peaks.size, float(noise_db)), np.asarray(corr, dtype=float))


def test_vote_drops_an_unconfirmed_unlike_detection_but_never_leaves_a_pause():
    rr = 288
    beats = np.arange(20) * rr + 100
    extra = beats[10] + rr // 2  # mid-RR, unlike a QRS, not in the second lead
    p = np.sort(np.r_[beats, extra])
    corr = np.where(p == extra, 0.1, 0.9)
    second = _bumps(beats, np.full(beats.size, 0.9))
    assert needs_second_lead(_bumps(p, corr))
    assert extra not in vote(_bumps(p, corr), second, FS)
    # the same unlike detection as the only beat between two others 2 RR apart: kept (a beat hidden in noise)
    alone = np.r_[beats[:10], beats[11:]]
    p2 = np.sort(np.r_[alone, beats[10]])
    corr2 = np.where(p2 == beats[10], 0.1, 0.9)
    assert beats[10] in vote(_bumps(p2, corr2), _bumps(alone, np.full(alone.size, 0.9)), FS)
    # in clean signal (noise SNR above the stage's limit) nothing is a suspect
    assert not needs_second_lead(_bumps(p, corr, noise_db=LEAD_NOISE_DB + 1))


def test_vote_adds_a_beat_only_the_second_lead_shows_where_the_first_has_a_gap():
    rr = 288
    beats = np.arange(20) * rr + 100
    missed = beats[10]
    first = _bumps(beats[beats != missed], np.full(19, 0.9))
    assert missed in vote(first, _bumps(beats, np.full(20, 0.9)), FS)
    # not where the second lead's detection does not look like its QRS complexes
    assert missed not in vote(first, _bumps(beats, np.where(beats == missed, 0.2, 0.9)), FS)


def test_second_lead_of_a_recording(tmp_path):
    fs = 250
    t = np.arange(20 * fs) / fs
    ecg = np.exp(-0.5 * (((t % 0.8) - 0.4) / 0.012) ** 2)
    path = tmp_path / "leads.csv"
    flat = np.zeros_like(t)
    np.savetxt(path, np.c_[ecg, 0.5 * ecg + 0.01 * np.sin(t), flat], delimiter=",", header="ECG1,RESP,V2",
               comments="")
    rec = load(path, sampling_rate=fs)
    assert rec.lead == "ECG1"
    assert rec.second_lead() is None  # RESP is not an ECG lead; V2 is flat
    np.savetxt(path, np.c_[ecg, 0.5 * ecg + 0.01 * np.sin(t)], delimiter=",", header="ECG1,ECG2", comments="")
    second = load(path, sampling_rate=fs).second_lead()
    assert second is not None and np.allclose(second, 0.5 * ecg + 0.01 * np.sin(t))
    np.savetxt(path, ecg, delimiter=",", header="ECG", comments="")
    assert load(path, sampling_rate=fs).second_lead() is None


def test_the_command_line_detects_with_the_second_lead(tmp_path):
    import pandas as pd
    import wfdb

    from ecg_core.cli import main

    syn, x, y = _two_leads(3, noise_mv=0.25)
    wfdb.wrsamp("two", fs=FS, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=np.c_[x, y],
                fmt=["16", "16"], write_dir=str(tmp_path))
    assert main(["detect", str(tmp_path / "two.hea"), "--out-dir", str(tmp_path / "out")]) == 0
    got = pd.read_csv(tmp_path / "out" / "two.peaks.csv")["sample"].to_numpy()
    rec = load(tmp_path / "two.hea")
    assert np.array_equal(got, detect_r_peaks(rec.signal, FS, second_lead=rec.second_lead()))
    assert not np.array_equal(got, detect_r_peaks(rec.signal, FS))
