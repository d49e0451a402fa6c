"""Atrial fibrillation rule: no consistent P wave AND an irregular rhythm, and no SVEB inside it.

Synthetic beat windows (seeded) check that both signs are needed; the bundled excerpt of MIT-BIH
record 201 (atrial fibrillation, then sinus rhythm with atrial premature beats) checks the rule and
the shipped classifier against the cardiologists' rhythm annotations. Record 201 is in DS1, so the
shipped model was trained on it: this checks that the rule works end to end, not how well it
generalises (models/MODEL_CARD.md, section (d)).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import wfdb

from ecg_core.beats import rr_features, segment_beats
from ecg_core.config import AAMI_MAP, BEAT_WINDOW, CLASSES, ROOT
from ecg_core.model import AF_BEATS, atrial_fibrillation, p_wave_correlation, recording_inputs

FS = 360
AF_EXCERPT = ROOT / "examples" / "201_af_excerpt"
N, SVEB, VEB = (CLASSES.index(c) for c in ("N", "SVEB", "VEB"))


def _peaks(n: int, rng, *, irregular: bool) -> np.ndarray:
    rr = 0.8 * (1 + (0.25 if irregular else 0.02) * rng.uniform(-1, 1, n))
    return (np.cumsum(rr) * FS).astype(int) + FS


def _windows(n: int, rng, *, p_wave: bool, no_p=()) -> np.ndarray:
    """Narrow QRS at the centre; a P wave 160 ms before it, or fibrillatory waves (4-8 Hz, random phase)."""
    t = (np.arange(BEAT_WINDOW) - BEAT_WINDOW // 2) / FS
    qrs = np.exp(-0.5 * (t / 0.012) ** 2)
    p = 0.15 * np.exp(-0.5 * ((t + 0.16) / 0.025) ** 2)
    out = np.empty((n, BEAT_WINDOW))
    for i in range(n):
        f = sum(0.05 * np.sin(2 * np.pi * rng.uniform(4, 8) * t + rng.uniform(0, 2 * np.pi)) for _ in range(3))
        out[i] = qrs + (p if p_wave and i not in no_p else f * (t < -0.05)) + 0.005 * rng.standard_normal(BEAT_WINDOW)
    return out


def _flagged(windows, peaks, labels=None) -> np.ndarray:
    morphology, rhythm = recording_inputs(windows, rr_features(peaks, FS))
    return atrial_fibrillation(morphology, rhythm, np.zeros(len(peaks), int) if labels is None else labels)


@pytest.mark.parametrize("seed", [0, 1])
def test_both_signs_are_needed(seed):
    rng = np.random.default_rng(seed)
    n = 200
    irregular, regular = _peaks(n, rng, irregular=True), _peaks(n, rng, irregular=False)
    with_p, without_p = _windows(n, rng, p_wave=True), _windows(n, rng, p_wave=False)
    assert _flagged(without_p, irregular).mean() > 0.95  # fibrillation: irregular, no P wave
    assert not _flagged(with_p, irregular).any()  # sinus rhythm with frequent premature beats
    assert not _flagged(without_p, regular).any()  # junctional rhythm: no P wave, but regular


def test_ventricular_beats_without_p_waves_do_not_make_fibrillation():
    rng = np.random.default_rng(2)
    n = 200
    peaks = _peaks(n, rng, irregular=True)
    veb = {i for i in range(n) if i % 3}  # two of every three beats ventricular, without a P wave
    windows = _windows(n, rng, p_wave=True, no_p=veb)
    labels = np.array([VEB if i in veb else N for i in range(n)])
    assert not _flagged(windows, peaks, labels).any()


def test_segments_without_rhythm_are_never_flagged():
    rng = np.random.default_rng(3)
    morphology, rhythm = recording_inputs(_windows(80, rng, p_wave=False), None)
    assert not atrial_fibrillation(morphology, rhythm, np.zeros(80, int)).any()
    assert atrial_fibrillation(morphology[:0], rhythm[:0], np.zeros(0, int)).shape == (0,)
    assert p_wave_correlation(morphology[:0]).shape == (0,)


@pytest.fixture(scope="module")
def excerpt():
    from ecg_core.train import reference_rhythm

    base = str(AF_EXCERPT)
    rec = wfdb.rdrecord(base)
    ann = wfdb.rdann(base, "atr")
    symbols = np.asarray(ann.symbol)
    keep = np.isin(symbols, list(AAMI_MAP))
    samples = ann.sample[keep]
    labels = np.array([CLASSES.index(AAMI_MAP[s]) for s in symbols[keep]])
    rhythm = reference_rhythm(AF_EXCERPT.parent, AF_EXCERPT.name, samples)
    return rec.p_signal[:, rec.sig_name.index("MLII")], rec.fs, samples, labels, rhythm


def _settled_af(rhythm) -> np.ndarray:
    """Beats in atrial fibrillation more than AF_BEATS beats from a change of rhythm (the rule's window)."""
    change = np.flatnonzero(rhythm[1:] != rhythm[:-1]) + 0.5
    distance = np.abs(np.arange(len(rhythm))[:, None] - change[None, :]).min(axis=1)
    return (rhythm == "(AFIB") & (distance > AF_BEATS)


def test_excerpt_rule_follows_the_reference_rhythm(excerpt):
    x, fs, samples, labels, rhythm = excerpt
    beats = segment_beats(x, fs, samples)
    morphology, rr_input = recording_inputs(beats.windows, beats.rr)
    flag = atrial_fibrillation(morphology, rr_input, labels)
    af, sinus = _settled_af(rhythm), rhythm == "(N"
    assert af.sum() > 50 and sinus.sum() > 100
    assert flag[af].mean() > 0.9
    assert flag[rhythm == "(AFIB"].mean() > 0.5  # within AF_BEATS of sinus rhythm, about half
    assert flag[sinus].mean() < 0.05


def test_shipped_classifier_calls_no_sveb_in_fibrillation_and_the_same_in_sinus_rhythm(excerpt):
    from ecg_core.model import load_classifier, softmax

    x, fs, samples, labels, rhythm = excerpt
    classifier = load_classifier()
    beats = segment_beats(x, fs, samples)
    morphology, rr_input = recording_inputs(beats.windows, beats.rr)
    network = softmax(classifier.logits(morphology, rr_input), classifier.temperatures["rhythm"])
    with_rule = classifier.stage.apply(network, morphology, rr_input).argmax(axis=1) == SVEB
    never_af = dataclasses.replace(classifier.stage, af_p_correlation=-2.0)  # no correlation is below -1
    without_rule = never_af.apply(network, morphology, rr_input).argmax(axis=1) == SVEB
    np.testing.assert_array_equal(classifier.predict(beats).argmax(axis=1) == SVEB, with_rule)
    settled, af, sinus = _settled_af(rhythm), rhythm == "(AFIB", rhythm == "(N"
    # Nearly none: in the second episode the P-wave median sits at the rule's threshold (0.4), and the
    # 2026-12-03 model leaves 1 of its 166 settled beats unflagged and SVEB (13 without the rule): allow 2.
    assert without_rule[settled].sum() >= 5
    assert with_rule[settled].sum() <= min(0.02 * settled.sum(), 0.2 * without_rule[settled].sum())
    assert with_rule[af].sum() <= 0.6 * without_rule[af].sum()  # the edges of a short episode stay
    # in sinus rhythm the rule changes nothing (the last step, the recording's groups of beats, left out:
    # it weighs each beat by its group, and a group spans both rhythms)
    alone = dataclasses.replace(classifier.stage, cluster_weight=0.0)
    with_alone = alone.apply(network, morphology, rr_input).argmax(axis=1) == SVEB
    without_alone = dataclasses.replace(alone, af_p_correlation=-2.0).apply(network, morphology, rr_input)
    np.testing.assert_array_equal(with_alone[sinus], without_alone.argmax(axis=1)[sinus] == SVEB)
    assert with_rule[sinus].any()
