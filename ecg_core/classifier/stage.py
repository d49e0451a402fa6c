"""The stacked second stage: N / SVEB re-decided for the beats the network labels N or SVEB (numpy only).

:class:`StackedStage` holds the fitted logistic regression and the settings of the hand rules it was
fitted and is applied with; :func:`pipeline` is the order of the steps after the network.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from ..config import CLASSES
from ..errors import ECGError
from .clusters import CLUSTER_WEIGHT, CLUSTERS, ClusterEvidence
from .features import morphology_features
from .network import softmax
from .rules import (
    AF_BEATS,
    AF_IRREGULARITY,
    AF_P_CORRELATION,
    FUSION_P_CORRELATION,
    FUSION_SINUS_CORRELATION,
    FUSION_TIMING,
    FUSION_VEB_CORRELATION,
    STAGE_CLASSES,
    SVT_IRREGULARITY,
    SVT_PREMATURITY,
    SVT_REFERENCE_BEATS,
    SVT_SHORTEST,
    WIDE_P_CORRELATION,
    WIDE_QRS_CORRELATION,
    WIDE_QRS_WIDTH,
    AtrialFibrillationRule,
    Decision,
    FusionRule,
    SupraventricularRunRule,
    WideQRSRule,
    stage_beats,
)

#: Features of the stacked second stage, in the order of its coefficients (see :func:`stage_features`).
STAGE_FEATURES = ("log_pre_run", "log_post_run", "log_pre_local", "log_post_pre", "log_local_run", "irregularity",
                 "irregular_x_log_pre_local", "cnn_log_sveb_n", "cnn_log_veb_n", "cnn_log_f_n",
                 "qrs_correlation_rel", "qrs_difference_rel", "p_wave_difference_rel", "t_wave_difference_rel",
                 "qrs_amplitude_rel", "qrs_width_rel")
#: Probability floor inside the stage's logarithms.
_P_FLOOR = 1e-6


def stage_features(morphology, rhythm, probs) -> np.ndarray:
    """``(n, len(STAGE_FEATURES))`` features of the second stage for the beats of ONE recording.

    From the network's inputs for those beats (``morphology, rhythm`` as
    :func:`~ecg_core.classifier.inputs.recording_inputs` returns them) and its calibrated probabilities ``probs``.
    Only what deployment has: RR intervals of the detected beats (prematurity relative to the
    running and local rhythm, the compensatory pause, the local RR irregularity that marks atrial
    fibrillation, where prematurity means little, and their product), the network's calibrated
    probabilities (log ratios to p_N) and :func:`morphology_features` of the network's morphology
    input (a premature beat with an unusual P wave but a usual QRS is the classic SVEB; a wide QRS
    unlike the template's is the classic VEB).
    """
    r = np.asarray(rhythm)
    p = np.maximum(np.asarray(probs, dtype=np.float64), _P_FLOOR)
    log_pre_run, log_post_run, log_local_run, log_pre_local, log_post_pre, irregular = (r[:, k] for k in range(6))
    return np.column_stack([log_pre_run, log_post_run, log_pre_local, log_post_pre, log_local_run, irregular,
                            irregular * log_pre_local, np.log(p[:, 1] / p[:, 0]), np.log(p[:, 2] / p[:, 0]),
                            np.log(p[:, 3] / p[:, 0]), morphology_features(morphology)])


@dataclass(frozen=True)
class StackedStage:
    """Second stage: logistic regression over :data:`STAGE_CLASSES` (N / SVEB) on standardised :data:`STAGE_FEATURES`.

    It re-decides the beats the network labels N or SVEB outside atrial fibrillation (an N beat may
    be a barely premature SVEB with a P wave unlike the template's; a beat the network took for SVEB
    may be an irregular N beat). ``mean``/``scale`` standardise the features; ``coef``
    ``(n_features, k)`` and ``intercept`` ``(k,)``, ``k = len(STAGE_CLASSES)``, are the fitted
    coefficients (``models/model_card.json`` key ``"second_stage"``). SVEB beats were up-weighted in
    the fit, so its output is a decision score, not a calibrated probability. ``af_beats``,
    ``af_p_correlation`` and ``af_irregularity`` are the settings of the atrial fibrillation rule
    it was fitted and is applied with (:attr:`af_rule`); ``wide_qrs_width``, ``wide_qrs_correlation``
    and ``wide_p_correlation`` those of the wide-QRS rule (:attr:`wide_qrs_rule`), and
    ``fusion_*`` those of the fusion rule (:attr:`fusion_rule`),
    the heuristics applied after it (:mod:`ecg_core.classifier.rules`); ``svt_*`` those of the
    supraventricular runs (:attr:`svt_rule`; ``svt_prematurity`` 0 turns it off).
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    af_beats: int = AF_BEATS
    af_p_correlation: float = AF_P_CORRELATION
    af_irregularity: float = AF_IRREGULARITY
    fusion_p_correlation: float = FUSION_P_CORRELATION
    fusion_timing: float = FUSION_TIMING
    fusion_veb_correlation: float = FUSION_VEB_CORRELATION
    fusion_sinus_correlation: float = FUSION_SINUS_CORRELATION
    cluster_count: int = CLUSTERS
    cluster_weight: float = CLUSTER_WEIGHT
    wide_qrs_width: float = WIDE_QRS_WIDTH
    wide_qrs_correlation: float = WIDE_QRS_CORRELATION
    wide_p_correlation: float = WIDE_P_CORRELATION
    svt_beats: int = SVT_REFERENCE_BEATS
    svt_prematurity: float = SVT_PREMATURITY
    svt_shortest: int = SVT_SHORTEST
    svt_irregularity: float = SVT_IRREGULARITY

    @classmethod
    def from_dict(cls, d: dict) -> StackedStage:
        """The stage as :meth:`to_dict` wrote it (a card from before the fusion and wide-QRS rules: their defaults).

        Raises
        ------
        ECGError
            The stage was fitted on other features, or before the atrial fibrillation rule, a rule
            setting is not a number, or its supraventricular runs' reference is under one beat.
        """
        refit = "Refit it with `python -m ecg_core.train --fit-stage`."
        if list(d.get("features", [])) != list(STAGE_FEATURES) or np.shape(d.get("coef")) != (
                len(STAGE_FEATURES), len(STAGE_CLASSES)):
            raise ECGError("The second stage in model_card.json was fitted on other features than this version "
                           f"of the software computes. {refit}")
        if not {"af_beats", "af_p_correlation", "af_irregularity"} <= set(d):
            raise ECGError("The second stage in model_card.json predates the atrial fibrillation rule of this version "
                           f"of the software. {refit}")
        # the fusion, wide-QRS, cluster and run steps are not fitted: a card from before them gets the default settings
        d = {**{f.name: f.default for f in fields(cls) if f.name.startswith(("fusion_", "wide_", "cluster_", "svt_"))},
             **d}
        settings = {}
        for k, t in _RULE_SETTINGS.items():
            try:
                settings[k] = t(d[k])
            except (TypeError, ValueError):
                raise ECGError(f"The second stage in model_card.json sets {k} to {d[k]!r}, which is not a number. "
                               "Set it to a number, or refit it with `python -m ecg_core.train --fit-stage`.") from None
        if settings["svt_beats"] < 1:
            raise ECGError(f"The second stage in model_card.json sets svt_beats to {d['svt_beats']}: the "
                           "supraventricular runs need a reference of at least one beat. Set it to 1 or more "
                           f"(the default is {SVT_REFERENCE_BEATS}).")
        return cls(np.asarray(d["mean"], float), np.asarray(d["scale"], float), np.asarray(d["coef"], float),
                   np.asarray(d["intercept"], float), **settings)

    def to_dict(self) -> dict:
        """The stage as plain JSON values: features, classes, coefficients and rule settings."""
        return {"features": list(STAGE_FEATURES), "classes": [CLASSES[k] for k in STAGE_CLASSES],
                "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept.tolist(), **{k: getattr(self, k) for k in _RULE_SETTINGS}}

    def probability(self, features) -> np.ndarray:
        """``(n, len(STAGE_CLASSES))`` the stage's shares of :data:`STAGE_CLASSES` for feature rows."""
        z = ((np.asarray(features, float) - self.mean) / self.scale) @ self.coef + self.intercept
        return softmax(z)

    @property
    def af_rule(self) -> AtrialFibrillationRule:
        """The atrial fibrillation rule with the settings this stage was fitted with."""
        return AtrialFibrillationRule(self.af_beats, self.af_p_correlation, self.af_irregularity)

    @property
    def wide_qrs_rule(self) -> WideQRSRule:
        """The wide-QRS rule with this stage's settings."""
        return WideQRSRule(self.wide_qrs_width, self.wide_qrs_correlation, self.wide_p_correlation)

    @property
    def svt_rule(self) -> SupraventricularRunRule:
        """The supraventricular-run rule with this stage's settings."""
        return SupraventricularRunRule(self.svt_beats, self.svt_prematurity, self.svt_shortest, self.svt_irregularity)

    @property
    def fusion_rule(self) -> FusionRule:
        """The fusion rule with this stage's settings."""
        return FusionRule(self.fusion_p_correlation, self.fusion_timing, self.fusion_veb_correlation,
                          self.fusion_sinus_correlation)

    @property
    def cluster_evidence(self) -> ClusterEvidence:
        """The step that weighs VEB shares by the recording's groups of beats, with this stage's settings."""
        return ClusterEvidence(self.cluster_count, self.cluster_weight)

    def atrial_fibrillation(self, probs, morphology, rhythm) -> np.ndarray:
        """The beats inside atrial fibrillation, with this stage's settings (:meth:`AtrialFibrillationRule.flags`)."""
        return self.af_rule.flags(probs, morphology, rhythm)

    def apply(self, probs, morphology, rhythm, *, in_af=None) -> np.ndarray:
        """Class probabilities of the network's ``probs`` after every step of :func:`pipeline` with this stage.

        ``morphology, rhythm`` are the network's inputs for the same beats
        (:func:`~ecg_core.classifier.inputs.recording_inputs`; or the
        :class:`~ecg_core.classifier.features.BeatShapes` of the morphology); ``in_af``,
        :meth:`atrial_fibrillation` of them where already computed. N/SVEB-labelled beats inside
        atrial fibrillation get the whole N+SVEB share as N; the stage splits the N+SVEB share of the
        other beats the network labels N or SVEB; then beats labelled SVEB that
        :func:`~ecg_core.classifier.rules.wide_qrs_beats` picks get their SVEB share as VEB, and beats
        labelled VEB outside atrial fibrillation that :func:`~ecg_core.classifier.rules.fusion_beats`
        picks get their VEB share as F, the groups of beats weigh each VEB share, and N-labelled beats of
        the runs :func:`~ecg_core.classifier.rules.supraventricular_runs` finds get their N share as
        SVEB (heuristics' decisions, not calibrated probabilities); other beats keep the network's
        probabilities. Every row still sums to 1.
        """
        return run(pipeline(self), Decision.start(probs, morphology, rhythm, in_af=in_af)).probabilities


@dataclass(frozen=True)
class StageStep:
    """The stacked stage as a step of :func:`pipeline`: it splits the N+SVEB share of the beats it decides.

    Those the labels call N or SVEB outside atrial fibrillation (``decision.in_af``, which
    :class:`~ecg_core.classifier.rules.AtrialFibrillationRule` sets before this step).
    """

    stage: StackedStage

    def apply(self, decision: Decision) -> Decision:
        """``decision`` with the stage's shares of N and SVEB for the beats it decides."""
        d = decision
        p = d.probabilities
        in_af = np.zeros(len(p), bool) if d.in_af is None else d.in_af
        decided = stage_beats(p, in_af)[0]
        if not np.any(decided):
            return d
        cols = list(STAGE_CLASSES)
        q = self.stage.probability(stage_features(d.shapes, d.rhythm, p)[decided])
        p = p.copy()
        p[np.ix_(decided, cols)] = q * p[np.ix_(decided, cols)].sum(axis=1, keepdims=True)
        return replace(d, probabilities=p)


def pipeline(stage: StackedStage | None) -> tuple:
    """The steps after the network, in the order they run, each with an ``apply(decision) -> decision``.

    With a stage: the atrial fibrillation rule (on the network's labels), the stage, the wide-QRS
    rule, the fusion rule and the recording's groups of beats
    (:class:`~ecg_core.classifier.clusters.ClusterEvidence`), with the stage's settings. Without: the
    atrial fibrillation rule with the default settings. Last in both, the supraventricular runs
    (:class:`~ecg_core.classifier.rules.SupraventricularRunRule`): it reads the labels every step before left.
    """
    if stage is None:
        return (AtrialFibrillationRule(), SupraventricularRunRule())
    return (stage.af_rule, StageStep(stage), stage.wide_qrs_rule, stage.fusion_rule, stage.cluster_evidence,
            stage.svt_rule)


def run(steps, decision: Decision) -> Decision:
    """``decision`` after each of ``steps`` in turn."""
    for step in steps:
        decision = step.apply(decision)
    return decision


#: The rule settings a :class:`StackedStage` stores, with their types.
_RULE_SETTINGS = {"af_beats": int, "af_p_correlation": float, "af_irregularity": float,
                  "fusion_p_correlation": float, "fusion_timing": float, "fusion_veb_correlation": float,
                  "fusion_sinus_correlation": float,
                  "cluster_count": int, "cluster_weight": float, "wide_qrs_width": float,
                  "wide_qrs_correlation": float, "wide_p_correlation": float, "svt_beats": int,
                  "svt_prematurity": float, "svt_shortest": int, "svt_irregularity": float}
