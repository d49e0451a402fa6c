"""Supraventricular runs: regular runs that start abruptly ahead of the patient's own NN rhythm are SVEB.

Seeded synthetic RR sequences: runs that outnumber the sinus beats between them are still found (the
reference keeps to the sinus beats), while a gradual sinus tachycardia, an irregular fast rhythm,
ventricular bigeminy's compensatory pauses and couplets are not taken for runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.beats import rr_features
from ecg_core.classifier.inputs import RHYTHM_FEATURES
from ecg_core.classifier.rules import Decision, SupraventricularRunRule, supraventricular_runs
from ecg_core.config import CLASSES
from ecg_core.model import rhythm_input

FS = 360
N, SVEB, VEB = (CLASSES.index(c) for c in ("N", "SVEB", "VEB"))


def _rhythm(rr_s) -> np.ndarray:
    peaks = np.rint(np.cumsum(np.r_[1.0, rr_s]) * FS).astype(np.int64)
    return rhythm_input(rr_features(peaks, FS))


def _svt(rng, *, sinus=0.85, runs=15) -> tuple[list[float], np.ndarray]:
    """30 sinus beats, then runs of 10-30 beats at about half the cycle with 2-3 sinus beats between."""
    rr, run = [sinus] * 30, [False] * 30
    for _ in range(runs):
        k = int(rng.integers(10, 31))
        cycle = sinus * rng.uniform(0.45, 0.6)
        rr += list(cycle * rng.uniform(0.98, 1.02, k))
        run += [True] * k
        m = int(rng.integers(2, 4))
        rr += [1.1 * sinus] + [sinus * rng.uniform(0.97, 1.03) for _ in range(m - 1)]
        run += [False] * m
    return rr, np.array([False, *run])  # the first beat has no RR


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_runs_that_outnumber_the_sinus_beats_are_found(seed):
    rr, truth = _svt(np.random.default_rng(seed))
    assert truth.mean() > 0.75  # ectopy dominates
    found = supraventricular_runs(_rhythm(rr), np.zeros(len(truth), int))
    assert (found == truth).all()


def test_a_gradual_sinus_tachycardia_is_not_a_run():
    ramp = list(0.85 * 0.5 ** (np.arange(1, 61) / 60))  # to half the cycle over 60 beats
    rr = [0.85] * 40 + ramp + [ramp[-1]] * 200 + ramp[::-1] + [0.85] * 40
    assert not supraventricular_runs(_rhythm(rr), np.zeros(len(rr) + 1, int)).any()


def test_an_irregular_fast_rhythm_is_not_a_run():
    rng = np.random.default_rng(3)
    rr = [0.85] * 40 + list(0.5 * rng.uniform(0.7, 1.3, 200)) + [0.85] * 40
    assert not supraventricular_runs(_rhythm(rr), np.zeros(len(rr) + 1, int)).any()


def test_pauses_after_ventricular_beats_do_not_make_the_sinus_rhythm_look_fast():
    # ventricular bigeminy (coupling 0.55, compensatory pause 1.3), then plain sinus rhythm at 0.88
    rr = [0.88] * 20 + [0.55, 1.3] * 60 + [0.88] * 60
    labels = np.array([N] * 21 + [VEB, N] * 60 + [N] * 60)
    assert not supraventricular_runs(_rhythm(rr), labels).any()


def test_couplets_and_segments_are_not_runs():
    rr = ([0.85] * 20 + [0.45, 0.45]) * 10 + [0.85] * 20
    rhythm = _rhythm(rr)
    assert not supraventricular_runs(rhythm, np.zeros(len(rr) + 1, int)).any()
    assert not supraventricular_runs(np.zeros_like(rhythm), np.zeros(len(rr) + 1, int)).any()  # no rhythm


def test_the_rule_moves_only_n_shares_and_spares_fibrillation():
    rr, truth = _svt(np.random.default_rng(4))
    n = len(truth)
    probs = np.tile([0.9, 0.05, 0.05, 0.0, 0.0], (n, 1))
    ventricular = np.flatnonzero(truth)[5]  # a VEB-labelled beat inside a run: not sv, so it ends that run
    probs[ventricular] = [0.1, 0.0, 0.9, 0.0, 0.0]
    in_af = np.zeros(n, bool)
    in_af[np.flatnonzero(truth)[-5:]] = True
    out = SupraventricularRunRule().apply(Decision.start(probs, np.zeros((n, 120, 2), np.float32), _rhythm(rr),
                                                         in_af=in_af))
    labels = out.labels
    assert labels[ventricular] == VEB
    assert (labels[in_af] == N).all()
    assert (labels[~truth] == N).all()
    assert np.mean(labels[truth & ~in_af] == SVEB) > 0.95
    np.testing.assert_allclose(out.probabilities.sum(axis=1), 1.0)


def test_prematurity_zero_turns_the_rule_off_and_settings_are_checked():
    rr, truth = _svt(np.random.default_rng(5))
    rhythm, labels = _rhythm(rr), np.zeros(len(truth), int)
    assert not supraventricular_runs(rhythm, labels, prematurity=0.0).any()
    with pytest.raises(ValueError, match="beats"):
        supraventricular_runs(rhythm, labels, beats=0)


def test_no_run_inside_fibrillation_nor_across_unknown_intervals():
    rr, truth = _svt(np.random.default_rng(6))
    rhythm, labels = _rhythm(rr), np.zeros(len(truth), int)
    assert supraventricular_runs(rhythm, labels).any()
    first = np.flatnonzero(truth)[0]
    in_af = np.zeros(len(truth), bool)
    in_af[first + 2:] = True  # fibrillation from the first run's third beat on: two beats left, fewer than 3, dropped
    assert not supraventricular_runs(rhythm, labels, in_af=in_af).any()
    broken = rhythm.copy()
    broken[first + 2:, RHYTHM_FEATURES.index("log_pre_s")] = np.nan
    assert not supraventricular_runs(broken, labels)[first:].any()
