"""Per-beat shape measures read from the network's morphology input (numpy only).

What the second stage and the hand rules read of each beat: its QRS, P-wave and T-wave regions
against its template, relative to the recording's usual values (:func:`morphology_features`), and
the correlation of its QRS and P-wave regions with the template's (:func:`qrs_correlation`,
:func:`p_wave_correlation`).
:class:`BeatShapes` keeps them block by block for a long recording.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..beats import running_median
from ..config import FS
from .inputs import DOWNSAMPLE, MORPH_LEN

#: Regions of the 120-Hz morphology input, in samples from the R-peak: QRS (-75..+83 ms), P wave
#: (-250..-75 ms), T wave (+100..+400 ms), and the span where the QRS width is measured (+-150 ms).
_CENTRE = MORPH_LEN // 2
_QRS, _P_WAVE, _T_WAVE, _WIDTH = (slice(_CENTRE + a, _CENTRE + b) for a, b in ((-9, 10), (-30, -9), (12, 48),
                                                                                (-18, 19)))
#: The QRS region the recording's beats are clustered on and compared with its ventricular template
#: (+-150 ms, both channels of the morphology input), kept for every beat in :class:`BeatShapes`.
QRS_REGION = slice(_CENTRE - 18, _CENTRE + 18)
#: :data:`_QRS` within :data:`QRS_REGION`.
QRS_IN_REGION = slice(_QRS.start - QRS_REGION.start, _QRS.stop - QRS_REGION.start)
#: The P-wave region in ms from the R-peak (for reports).
P_WAVE_MS = tuple(round(1000 * (k - _CENTRE) * DOWNSAMPLE / FS) for k in (_P_WAVE.start, _P_WAVE.stop))
#: Morphology features are taken relative to their running median over this many beats on each side.
RELATIVE_BEATS = 150


def _rms(x: np.ndarray, region: slice) -> np.ndarray:
    return np.sqrt(np.mean(x[:, region] ** 2, axis=1))


def _width(x: np.ndarray) -> np.ndarray:
    a = np.abs(x[:, _WIDTH])
    return np.count_nonzero(a > 0.3 * a.max(axis=1, keepdims=True), axis=1)


def _correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of the rows of ``a`` with the rows of ``b``."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return np.sum(a * b, axis=1) / np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1) + 1e-12)


#: Columns of :func:`morphology_features` (the last ones of :func:`~ecg_core.classifier.stage.stage_features`).
N_MORPHOLOGY_FEATURES = 6


def morphology_features(morphology) -> np.ndarray:
    """``(n, 6)`` shape of each beat against its template, relative to the recording's usual values.

    From the network's morphology input (beat and beat minus template, over the template's amplitude)
    of ONE recording in time order: QRS correlation with the template (Fisher z), QRS, P-wave and
    T-wave difference from it, QRS amplitude and width ratios (logs); each minus its running median
    over ``RELATIVE_BEATS`` beats on each side (fewer near the ends: :func:`~ecg_core.beats.running_median`),
    so a noisy or variable recording does not make all of its beats look abnormal. ``morphology`` may
    also be the :class:`BeatShapes` of that input (its ``features``).
    """
    if isinstance(morphology, BeatShapes):
        return morphology.features
    return _relative_features(_shape_features(morphology))


def _shape_features(morphology) -> np.ndarray:
    """The per-beat half of :func:`morphology_features`: ``(n, 6)`` before the running medians (beat by beat)."""
    m = np.asarray(morphology, dtype=np.float64)
    if len(m) == 0:
        return np.zeros((0, N_MORPHOLOGY_FEATURES))
    beat, diff = m[:, :, 0], m[:, :, 1]
    template = beat - diff
    corr = _correlation(beat[:, _QRS], template[:, _QRS])
    log = lambda v: np.log(np.maximum(v, 1e-3))  # noqa: E731
    f = np.column_stack([np.arctanh(np.clip(corr, -0.999, 0.999)),
                         log(_rms(diff, _QRS) / np.maximum(_rms(template, _QRS), 1e-6)),
                         log(10 * _rms(diff, _P_WAVE)), log(10 * _rms(diff, _T_WAVE)),
                         log(np.ptp(beat[:, _QRS], axis=1) / np.maximum(np.ptp(template[:, _QRS], axis=1), 1e-6)),
                         log(_width(beat) / np.maximum(_width(template), 1))])
    return np.clip(np.nan_to_num(f), -10, 10)


def _relative_features(f: np.ndarray) -> np.ndarray:
    """The recording-wide half of :func:`morphology_features`: each column minus its running median."""
    if len(f) == 0:
        return f
    # column by column, over the beats there are near the ends (as the running rhythm: not padded)
    running = [running_median(col, RELATIVE_BEATS) for col in f.T]
    return f - np.column_stack(running)


@dataclass(frozen=True)
class BeatShapes:
    """What the second stage and the rules read from the morphology input of ONE recording's beats.

    ``p_wave``: :func:`p_wave_correlation`, ``(n,)``; ``shape``: the per-beat morphology measures
    before their running medians, ``(n, 6)``; ``qrs``: the morphology input over :data:`QRS_REGION`,
    ``(n, 36, 2)`` float16 (what the beats are clustered on, :mod:`ecg_core.classifier.clusters`);
    ``features``: :func:`morphology_features` (computed from ``shape`` when first asked for).
    Built block by block (:meth:`of`: each beat on its own, the
    same numbers as from all of the input at once), so the full morphology input of a long recording
    never has to exist. Every function that takes ``morphology`` for these measures
    (the rules of :mod:`ecg_core.classifier.rules`, :func:`~ecg_core.classifier.stage.stage_features`,
    :meth:`~ecg_core.classifier.stage.StackedStage.apply`) takes a ``BeatShapes`` in its place.
    """

    p_wave: np.ndarray
    shape: np.ndarray
    qrs: np.ndarray

    def __len__(self) -> int:
        return len(self.p_wave)

    @functools.cached_property
    def features(self) -> np.ndarray:
        return _relative_features(self.shape)

    @classmethod
    def of(cls, morphology) -> BeatShapes:
        """The measures of a (block of a) morphology input ``(n, MORPH_LEN, 2)``."""
        m = np.asarray(morphology)
        return cls(p_wave_correlation(m), _shape_features(m), m[:, QRS_REGION].astype(np.float16))

    @classmethod
    def concatenate(cls, parts) -> BeatShapes:
        """One recording's measures from those of its consecutive blocks."""
        parts = list(parts)
        if not parts:
            width = QRS_REGION.stop - QRS_REGION.start
            return cls(np.zeros(0), np.zeros((0, N_MORPHOLOGY_FEATURES)), np.zeros((0, width, 2), np.float16))
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("p_wave", "shape", "qrs")))


def qrs_correlation(morphology) -> np.ndarray:
    """``(n,)`` correlation of each beat's QRS region with its template's (the network's morphology input).

    The first of :func:`morphology_features` before its running median, as a correlation: near 1 for
    the recording's usual beats, low or negative for a QRS of another shape.
    """
    shape = morphology.shape if isinstance(morphology, BeatShapes) else _shape_features(morphology)
    return np.tanh(shape[:, 0])


def p_wave_correlation(morphology: np.ndarray) -> np.ndarray:
    """``(n,)`` correlation of each beat's P-wave region with its template's (the network's morphology input).

    Near 1 in sinus rhythm, and mostly positive for atrial premature beats (a P wave is present,
    if shaped differently); near 0 without P waves (the fibrillatory waves of atrial fibrillation
    follow no pattern from beat to beat).
    """
    if isinstance(morphology, BeatShapes):
        return morphology.p_wave
    m = np.asarray(morphology)
    if len(m) == 0:
        return np.zeros(0)
    beat = m[:, _P_WAVE, 0].astype(np.float64)
    return _correlation(beat, beat - m[:, _P_WAVE, 1])
