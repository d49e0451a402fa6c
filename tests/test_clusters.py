"""The recording's own groups of beats (ecg_core.classifier.clusters), on seeded synthetic beats."""

from __future__ import annotations

import numpy as np

from ecg_core.classifier.clusters import (
    beat_clusters,
    cluster_veb_shares,
    ventricular_correlation,
)
from ecg_core.classifier.inputs import MORPH_LEN
from ecg_core.classifier.rules import fusion_beats
from ecg_core.config import CLASSES

VEB = CLASSES.index("VEB")


def _morphology(shapes: list[np.ndarray], seed: int = 0) -> np.ndarray:
    """Morphology inputs (beat, beat minus a narrow template) of the beats drawn as ``shapes``, with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(MORPH_LEN) - MORPH_LEN // 2
    template = np.exp(-0.5 * (t / 2.0) ** 2)
    beats = np.array(shapes) + 0.02 * rng.standard_normal((len(shapes), MORPH_LEN))
    return np.stack([beats, beats - template], axis=2).astype(np.float32)


def _shapes(n_narrow: int, n_wide: int, seed: int = 0):
    t = np.arange(MORPH_LEN) - MORPH_LEN // 2
    narrow, wide = np.exp(-0.5 * (t / 2.0) ** 2), -1.4 * np.exp(-0.5 * (t / 7.0) ** 2)
    order = np.random.default_rng(seed).permutation(n_narrow + n_wide)
    kinds = np.array([0] * n_narrow + [1] * n_wide)[order]
    return [wide if k else narrow for k in kinds], kinds


def test_beats_of_two_shapes_fall_in_different_groups_and_the_same_groups_every_time():
    shapes, kinds = _shapes(300, 60)
    m = _morphology(shapes)
    groups = beat_clusters(m)
    np.testing.assert_array_equal(groups, beat_clusters(m))  # seeded
    assert not set(groups[kinds == 0]) & set(groups[kinds == 1])  # no group holds both shapes
    assert np.all(beat_clusters(m[:10]) == 0)  # too few beats: one group


def test_a_group_called_ventricular_lifts_a_doubtful_beat_and_a_normal_group_lowers_a_lone_veb_call():
    shapes, kinds = _shapes(300, 60)
    groups = beat_clusters(_morphology(shapes))
    probs = np.where(kinds[:, None] == 1, [0.05, 0.02, 0.9, 0.02, 0.01], [0.95, 0.02, 0.01, 0.01, 0.01])
    doubtful = np.flatnonzero(kinds == 1)[0]
    lone = np.flatnonzero(kinds == 0)[0]
    probs[doubtful] = [0.5, 0.1, 0.35, 0.04, 0.01]
    probs[lone] = [0.3, 0.05, 0.6, 0.04, 0.01]
    out = cluster_veb_shares(probs, groups, weight=0.5)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-12)
    assert out[doubtful].argmax() == VEB and out[lone].argmax() == 0
    assert out[lone, 1] == probs[lone, 1]  # a lowered VEB share goes to N only
    np.testing.assert_array_equal(cluster_veb_shares(probs, groups, weight=0.0), probs)


def test_a_beat_shaped_like_the_patient_s_ventricular_beats_is_not_fusion():
    shapes, kinds = _shapes(300, 60)
    m = _morphology(shapes)
    labels = np.where(kinds == 1, VEB, 0)
    corr = ventricular_correlation(m, labels)
    assert np.all(corr[kinds == 1] > 0.95) and np.all(corr[kinds == 0] < 0.5)
    assert np.all(np.isnan(ventricular_correlation(m, np.zeros(len(m), int))))  # no VEB: no template
    # every VEB on time after a P wave like the template's: fusion by timing alone, none by shape
    rhythm = np.zeros((len(m), 16), np.float32)
    rhythm[:, -1] = 1
    assert not fusion_beats(m, rhythm, labels, p_correlation=-1.0).any()
    assert fusion_beats(m, rhythm, labels, p_correlation=-1.0, veb_correlation=2.0, sinus_correlation=-1.0).any()
