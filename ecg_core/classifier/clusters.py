"""The recording's own beat shapes as evidence: clusters of its beats, and its ventricular template (numpy/scipy).

A ventricular beat is recognised by its shape, and one patient's ventricular beats look alike. The
network judges each beat alone; here the beats of ONE recording are grouped by the shape of their QRS
(k-means on the leading principal components of :data:`~ecg_core.classifier.features.QRS_REGION`,
seeded, so the same beats give the same groups), and each beat's VEB odds are weighed by the VEB
odds of its group (:class:`ClusterEvidence`): a beat the network doubts in a group it calls
ventricular gains, a lone VEB call in a group of normal beats loses (its share goes to N: whether a
supraventricular beat is premature is for the rhythm steps to say). Chosen across databases: on the
out-of-fold outputs of both databases it raised VEB F1 on DS1 (stage fitted on SVDB) and on SVDB
(stage fitted on DS1); README "Beat classification".

:func:`ventricular_correlation` compares each beat's QRS with the recording's ventricular template
(the median of its beats labelled VEB), which the fusion rule reads: a fusion beat is a mix of the
patient's normal and ventricular shapes, unlike both.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from ..config import CLASSES
from .features import QRS_IN_REGION, BeatShapes

#: Groups of beats per recording, the principal components they are found in, and the power of the
#: group's VEB odds that multiplies each beat's VEB share (0: no effect).
CLUSTERS = 8
CLUSTER_COMPONENTS = 8
CLUSTER_WEIGHT = 0.5
#: Beats the principal components are fitted on at most (every k-th beat of a long recording).
_PCA_BEATS = 2000
#: Beats projected on the components at a time.
_BLOCK = 8192
_VEB, _N = CLASSES.index("VEB"), CLASSES.index("N")


def _qrs(shapes) -> np.ndarray:
    """The QRS regions of ``shapes`` (:class:`BeatShapes` or the morphology input) as ``(n, 36, 2)``."""
    return (shapes if isinstance(shapes, BeatShapes) else BeatShapes.of(shapes)).qrs


def beat_clusters(shapes, *, clusters: int = CLUSTERS, components: int = CLUSTER_COMPONENTS) -> np.ndarray:
    """``(n,)`` group of each beat of ONE recording by the shape of its QRS (k-means, seeded).

    Fewer than ``2 * clusters`` beats: all in group 0.
    """
    x = _qrs(shapes).reshape(len(shapes), -1)
    if len(x) < 2 * clusters:
        return np.zeros(len(x), int)
    from scipy.cluster.vq import kmeans2

    sample = x[:: max(1, len(x) // _PCA_BEATS)].astype(np.float64)
    mean = sample.mean(axis=0)
    basis = np.linalg.svd(sample - mean, full_matrices=False)[2][:components]
    # the components of every beat, a block at a time (a long recording's beats are never all copied)
    z = np.concatenate([(x[i:i + _BLOCK].astype(np.float64) - mean) @ basis.T for i in range(0, len(x), _BLOCK)])
    with warnings.catch_warnings():  # a group that empties is allowed: its beats went to the others
        warnings.simplefilter("ignore")
        _, labels = kmeans2(z, clusters, seed=np.random.default_rng(0), minit="++")
    return labels


def cluster_veb_shares(probs: np.ndarray, groups: np.ndarray, *, weight: float = CLUSTER_WEIGHT) -> np.ndarray:
    """``probs`` with each beat's VEB odds times its group's VEB odds to the power ``weight``.

    The group's VEB odds are its mean VEB share over one minus it (clipped to 0.001-0.999). A share
    that grows is taken from the other classes in proportion; one that shrinks goes to N. Rows still
    sum to 1.
    """
    p = np.array(probs, dtype=np.float64)
    if weight == 0 or len(p) == 0:
        return p
    q = np.clip(np.bincount(groups, weights=p[:, _VEB]) / np.maximum(np.bincount(groups), 1), 1e-3, 1 - 1e-3)
    veb = p[:, _VEB]
    odds = veb * (q / (1 - q))[groups] ** weight
    new = odds / (odds + 1 - veb)
    out = p.copy()
    down = new < veb
    out[down, _N] += veb[down] - new[down]
    up = ~down
    rest = np.maximum(1 - veb[up], 1e-12)
    out[up] *= ((1 - new[up]) / rest)[:, None]
    out[:, _VEB] = new
    return out


@dataclass(frozen=True)
class ClusterEvidence:
    """The step after the rules: each beat's VEB share weighed by its group's (:func:`cluster_veb_shares`)."""

    clusters: int = CLUSTERS
    weight: float = CLUSTER_WEIGHT

    def apply(self, decision):
        """``decision`` with the VEB shares weighed by the recording's groups of beats."""
        d = decision
        if self.weight == 0 or len(d.probabilities) == 0:
            return d
        groups = beat_clusters(d.shapes, clusters=self.clusters)
        return replace(d, probabilities=cluster_veb_shares(d.probabilities, groups, weight=self.weight))


def ventricular_correlation(shapes, labels, exclude=None) -> np.ndarray:
    """``(n,)`` correlation of each beat's QRS with the recording's ventricular template (NaN without one).

    The template is the median QRS (first channel: the beat itself) of the beats ``labels`` calls VEB,
    leaving out ``exclude`` where at least three others remain; fewer than three VEB beats: no template.
    """
    beat = _qrs(shapes)[:, QRS_IN_REGION, 0].astype(np.float64)
    veb = np.asarray(labels) == _VEB
    source = veb & ~np.asarray(exclude, bool) if exclude is not None else veb
    if source.sum() < 3:
        source = veb
    if source.sum() < 3:
        return np.full(len(beat), np.nan)
    template = np.median(beat[source], axis=0)
    a = beat - beat.mean(axis=1, keepdims=True)
    b = template - template.mean()
    return (a @ b) / np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b) + 1e-12)
