"""Stage 2: the N / SVEB re-decision of the network's N and SVEB beats, fitted on its out-of-fold outputs.

:func:`load_stage_record` reads one record's out-of-fold ``<rec>.beats.csv`` and matches it to the
reference; :func:`fit_stage` is the logistic regression; :func:`loro_stages` and
:func:`evaluate_stage` give the leave-one-record-out figures the card reports.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..classifier import (
    AF_BEATS,
    AF_IRREGULARITY,
    AF_P_CORRELATION,
    STAGE_CLASSES,
    StackedStage,
    atrial_fibrillation,
    recording_inputs,
    stage_beats,
    stage_features,
)
from ..config import CLASSES, FS
from ..evaluate import ClassificationScore, empty_classification_score
from ..io import load_annotations
from .data import read_mlii, reference_rhythm, write_beats_csv

#: L2 penalty of the second stage (on standardised coefficients, summed log-loss; fixed a priori).
STAGE_L2 = 1.0
#: SVEB beats weigh (n_N / n_SVEB) ** this in the stage's log-loss; N beats weigh 1.
STAGE_SVEB_WEIGHT = 0.5


@dataclass
class StageRecord:
    """One record's detected beats with the network's out-of-fold probabilities and reference labels."""

    name: str
    samples: np.ndarray
    probs: np.ndarray  # (n, len(CLASSES)) out-of-fold, calibrated
    morphology: np.ndarray  # (n, MORPH_LEN, MORPH_CHANNELS) network input at the detected beats
    rhythm: np.ndarray  # (n, N_RHYTHM) network input at the detected beats
    features: np.ndarray  # (n, len(STAGE_FEATURES))
    target: np.ndarray  # reference class index of the matched beat, -1 if none
    ref_samples: np.ndarray
    ref_labels: np.ndarray  # AAMI names
    episodes: list
    ref_rhythm: np.ndarray  # reference rhythm (e.g. "(N", "(AFIB") at each detected beat
    ref_symbols: np.ndarray  # MIT-BIH symbols of the reference beats (as ref_labels)


def load_stage_record(data_dir: Path, pred_dir: Path, name: str) -> StageRecord:
    """Read ``pred_dir/<name>.beats.csv`` (out-of-fold network output) and match it to the reference beats."""
    import pandas as pd

    from ..beats import segment_beats
    from ..evaluate import match_beats, outside_episodes

    frame = pd.read_csv(Path(pred_dir) / f"{name}.beats.csv")
    samples = frame["sample"].to_numpy(np.int64)
    probs = frame[[f"p_{c}" for c in CLASSES]].to_numpy(np.float64)
    ann = load_annotations(Path(data_dir) / f"{name}.atr")
    episodes = list(ann.episodes)
    ref_samples = ann.sample.astype(np.int64)
    ref_labels, ref_symbols = np.asarray(ann.label), np.asarray(ann.symbol)
    keep = outside_episodes(ref_samples, episodes)
    ref_samples, ref_labels, ref_symbols = ref_samples[keep], ref_labels[keep], ref_symbols[keep]
    target = np.full(len(samples), -1, np.int64)
    pairs = match_beats(ref_samples, samples, FS)
    target[pairs[:, 1]] = [CLASSES.index(c) for c in ref_labels[pairs[:, 0]]]
    beats = segment_beats(read_mlii(data_dir, name), FS, samples)
    morphology, rhythm = recording_inputs(beats.windows, beats.rr)
    features = stage_features(morphology, rhythm, probs)
    return StageRecord(name, samples, probs, morphology, rhythm, features, target, ref_samples, ref_labels, episodes,
                       reference_rhythm(data_dir, name, samples), ref_symbols)



def _stage_training_rows(recs: list[StageRecord], **af_options) -> tuple[np.ndarray, np.ndarray]:
    """The beats the stage decides (:func:`~ecg_core.model.stage_beats`) whose reference is in STAGE_CLASSES.

    Returns their features and reference classes as indices into STAGE_CLASSES. ``af_options`` go to
    :func:`~ecg_core.model.atrial_fibrillation`.
    """
    rows = [stage_rows(r.morphology, r.rhythm, r.probs, r.features, r.target, **af_options) for r in recs]
    return np.concatenate([x for x, _ in rows]), np.concatenate([y for _, y in rows])


def stage_rows(morphology, rhythm, probs, features, target, **af_options) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_stage_training_rows` for ONE record's network inputs, probabilities, stage features and targets."""
    in_af = atrial_fibrillation(morphology, rhythm, probs.argmax(axis=1), **af_options)
    sel = stage_beats(probs, in_af)[0] & np.isin(target, STAGE_CLASSES)
    return features[sel], np.searchsorted(STAGE_CLASSES, target[sel])


def fit_stage(x: np.ndarray, y: np.ndarray, *, l2: float = STAGE_L2,
              sveb_weight: float = STAGE_SVEB_WEIGHT) -> StackedStage:
    """L2-regularised (multinomial) logistic regression; ``y`` indexes :data:`STAGE_CLASSES`.

    SVEB beats weigh ``(n_N / n_SVEB) ** sveb_weight`` (without it the stage would almost never
    call the rare SVEB); the label is the argmax, no threshold is searched.
    """
    from scipy.optimize import minimize
    from scipy.special import log_softmax

    k = len(STAGE_CLASSES)
    mean = x.mean(axis=0)
    scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    z = np.column_stack([(x - mean) / scale, np.ones(len(x))])
    onehot = np.eye(k)[y]
    counts = np.maximum(np.bincount(y, minlength=k), 1)
    weight = np.ones(k)
    weight[STAGE_CLASSES.index(1)] = (counts[0] / counts[STAGE_CLASSES.index(1)]) ** sveb_weight
    w_row = weight[y][:, None]

    def loss(flat):
        w = flat.reshape(z.shape[1], k)
        logp = log_softmax(z @ w, axis=1)
        value = -np.sum(w_row * onehot * logp) + 0.5 * l2 * np.sum(w[:-1] ** 2)
        grad = z.T @ (w_row * (np.exp(logp) - onehot))
        grad[:-1] += l2 * w[:-1]
        return value, grad.ravel()

    res = minimize(loss, np.zeros(z.shape[1] * k), jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    w = res.x.reshape(z.shape[1], k)
    return StackedStage(mean, scale, w[:-1].copy(), w[-1].copy())


def fit_stage_on(recs: list[StageRecord], *, p_correlation: float = AF_P_CORRELATION,
                 irregularity: float = AF_IRREGULARITY, sveb_weight: float = STAGE_SVEB_WEIGHT) -> StackedStage:
    """Fit the second stage on the beats it decides in ``recs``, with these atrial fibrillation thresholds.

    ``sveb_weight``: as :func:`fit_stage`. The fusion and wide-QRS rules, applied after the stage,
    take no part in the fit; they keep the default settings.
    """
    stage = fit_stage(*_stage_training_rows(recs, p_correlation=p_correlation, irregularity=irregularity),
                      sveb_weight=sveb_weight)
    return dataclasses.replace(stage, af_beats=AF_BEATS, af_p_correlation=p_correlation, af_irregularity=irregularity)


def loro_stages(recs: list[StageRecord], **options) -> list[StackedStage]:
    """One stage per record, fitted on the other records (``options``: as :func:`fit_stage_on`)."""
    return [fit_stage_on([r for j, r in enumerate(recs) if j != i], **options) for i in range(len(recs))]


def _score_stage_record(rec: StageRecord, probs: np.ndarray) -> ClassificationScore:
    from ..evaluate import score_classification

    labels = np.asarray(CLASSES)[probs.argmax(axis=1)]
    return score_classification(rec.ref_samples, rec.ref_labels, rec.samples, labels, FS, episodes=rec.episodes)


def _sveb_veb_counts(score: ClassificationScore) -> dict:
    """One record's SVEB and VEB beats (reference, found, predicted) and accuracy, for the card's table."""
    out = {"accuracy": score.accuracy}
    for k, c in enumerate(score.per_class()):
        if c.label in ("SVEB", "VEB"):
            name = c.label.lower()
            out |= {f"{name}_ref": c.reference, f"{name}_tp": int(score.confusion[k, k]), f"{name}_pred": c.predicted}
    return out


def stacked_probs(recs: list[StageRecord], stages: list[StackedStage]) -> list[np.ndarray]:
    """Each record's network probabilities with its stage (and the heuristics after it) applied."""
    return [stage.apply(rec.probs, rec.morphology, rec.rhythm) for rec, stage in zip(recs, stages, strict=True)]


def evaluate_stage(recs: list[StageRecord], out_dir: Path | None = None, *, stages: list[StackedStage] | None = None,
                   probs: list[np.ndarray] | None = None, **af_options) -> dict:
    """Leave-one-record-out at the stage level: fit on the other records, apply to the held-out one.

    Returns the pooled scores of the network alone and with the stage, per-record SVEB counts, and
    writes the stacked ``<rec>.beats.csv`` files to ``out_dir``. ``af_options``: the atrial
    fibrillation thresholds of :func:`fit_stage_on`; ``stages``: :func:`loro_stages` of ``recs``
    with them, where already fitted; ``probs``: :func:`stacked_probs` of those, where already computed.
    """
    before, after = empty_classification_score(), empty_classification_score()
    per_record = {}
    if probs is None:
        probs = stacked_probs(recs, loro_stages(recs, **af_options) if stages is None else stages)
    for rec, p in zip(recs, probs, strict=True):
        if out_dir is not None:
            write_beats_csv(Path(out_dir) / f"{rec.name}.beats.csv", rec.samples, p)
        b, a = _score_stage_record(rec, rec.probs), _score_stage_record(rec, p)
        before, after = before + b, after + a
        per_record[rec.name] = {"network": _sveb_veb_counts(b), "stacked": _sveb_veb_counts(a)}
    return {"network": before.to_dict(), "stacked": after.to_dict(), "per_record": per_record}

