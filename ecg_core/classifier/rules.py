"""The hand rules applied around the second stage: atrial fibrillation, wide QRS, fusion (numpy only).

Each rule is a function of one recording's beats (which beats it picks) and a small frozen dataclass
with its settings whose ``apply`` takes a :class:`Decision` (the probabilities as the steps before
left them) and returns the next one: :class:`AtrialFibrillationRule` (N/SVEB-labelled beats inside
atrial fibrillation are N), :class:`WideQRSRule` (SVEB with a wide, unusual QRS and no usual P wave
is VEB), :class:`FusionRule` (VEB with a fusion beat's timing and P wave, and a QRS partly the normal one and unlike
the recording's other VEB, is F) and
:class:`SupraventricularRunRule` (N-labelled beats of a regular run that starts abruptly well ahead of the
patient's own NN rhythm are SVEB). The order in which they run is
:func:`ecg_core.classifier.stage.pipeline`'s.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from ..beats import runs_of
from ..config import CLASSES
from .clusters import ventricular_correlation
from .features import BeatShapes, morphology_features, p_wave_correlation, qrs_correlation
from .inputs import MIN_TEMPLATE_BEATS, N_RHYTHM, RHYTHM_FEATURES

#: Classes the second stage decides between (indices into ``CLASSES``): N and SVEB. The network's
#: VEB share stands (a re-decided beat whose N and SVEB shares both fall below it becomes VEB; only
#: the heuristics move shares: :func:`wide_qrs_beats` SVEB to VEB, :func:`fusion_beats` VEB to F): a
#: stage that also re-decided VEB raised VEB Se but lowered its +P more (cross-validated VEB F1
#: 86.7% vs 88.2%, README "Beat classification").
STAGE_CLASSES = (0, 1)
#: Beats the second stage re-decides: those the network labels N or SVEB.
STAGE_INPUT_LABELS = (0, 1)


#: Atrial fibrillation: beats are taken to be in it where, over ``AF_BEATS`` beats on each side,
#: the median correlation of the supraventricular beats' P-wave region with their template's is
#: below ``AF_P_CORRELATION`` (no consistent P wave) AND the median local RR irregularity is above
#: ``AF_IRREGULARITY`` (README "Beat classification"). The stage stores the values it was fitted with.
AF_BEATS = 30
AF_P_CORRELATION = 0.4
AF_IRREGULARITY = 0.1


def atrial_fibrillation(morphology, rhythm, labels, *, beats: int = AF_BEATS, p_correlation: float = AF_P_CORRELATION,
                        irregularity: float = AF_IRREGULARITY) -> np.ndarray:
    """``(n,)`` bool: beats of ONE recording (time order) inside atrial fibrillation.

    The textbook ECG signs, both required: no consistent P wave (median :func:`p_wave_correlation`
    over ``beats`` supraventricular beats on each side below ``p_correlation``) and an irregular
    rhythm (median local irregularity, the ``irregularity`` rhythm input, over as many beats above
    ``irregularity``). Atrial flutter is caught where its conduction varies (irregular RR), not
    where it is fixed. Ventricular beats (``labels`` VEB, F or Q: indices into ``CLASSES``) are left
    out of the P-wave median, so ventricular bigeminy, whose premature beats have no P wave, does
    not look like fibrillation; they are flagged like their neighbours, and a run of ventricular
    tachycardia or flutter (no P waves, irregular) is flagged too. Without rhythm (segments)
    nothing is flagged.
    """
    labels = np.asarray(labels)
    n = len(labels)
    sv = np.flatnonzero(np.isin(labels, STAGE_INPUT_LABELS))
    if n == 0 or sv.size == 0:
        return np.zeros(n, bool)
    size = 2 * beats + 1
    # "reflect": near the ends the median sees real beats, not copies of the first or last one
    corr = ndimage.median_filter(p_wave_correlation(morphology)[sv], size=size, mode="reflect")
    corr = corr[np.minimum(np.searchsorted(sv, np.arange(n)), sv.size - 1)]  # a ventricular beat: the next one's
    irregular = ndimage.median_filter(np.asarray(rhythm, dtype=np.float64)[:, RHYTHM_FEATURES.index("irregularity")],
                                      size=size, mode="reflect")
    return (corr < p_correlation) & (irregular > irregularity)


#: Fusion heuristic: a beat labelled VEB (not in a ventricular run) is relabelled F where it comes
#: on the running rhythm's time (``|log(previous RR / running RR)|`` below ``FUSION_TIMING``) after a
#: P wave like its template's (:func:`p_wave_correlation` above ``FUSION_P_CORRELATION``), the timing and P wave
#: of a fusion beat (README "Beat classification"). The stage stores the values it is applied with;
#: a card without them gets these.
FUSION_P_CORRELATION = 0.5
FUSION_TIMING = 0.1
#: ... and where its QRS is unlike the recording's ventricular template (correlation below this,
#: :func:`~ecg_core.classifier.clusters.ventricular_correlation`): a fusion beat mixes the normal and
#: the ventricular shape. Without it the rule took the late, uniform VEB of SVDB records for fusion
#: (of 0.95, 0.9, 0.8 and 0.7, the value that kept F on DS1 and gave SVDB the most VEB back).
FUSION_VEB_CORRELATION = 0.8
#: ... and where its QRS is still partly the normal one: its correlation with the template (the regular
#: beats' median, :func:`~ecg_core.classifier.features.qrs_correlation`) is at least this. A QRS unlike
#: the normal one is a ventricular beat that comes on time, not a mix of the two (SVDB 884's late VEB:
#: correlation about -0.2; DS1 208's fusion beats: 0.65 and more).
FUSION_SINUS_CORRELATION = 0.3
#: VEB-labelled beats in a run of this many or more (ventricular tachycardia, idioventricular
#: rhythm) are never taken as fusion: there the template and the running rhythm can be the run's own.
FUSION_MAX_RUN = 3


def fusion_beats(morphology, rhythm, labels, *, p_correlation: float = FUSION_P_CORRELATION,
                 timing: float = FUSION_TIMING, veb_correlation: float = FUSION_VEB_CORRELATION,
                 sinus_correlation: float = FUSION_SINUS_CORRELATION) -> np.ndarray:
    """``(n,)`` bool: beats of ONE recording labelled VEB that have the timing and P wave of a fusion beat.

    A ventricular-looking beat (``labels``, indices into ``CLASSES``, is VEB) that arrives when the
    next sinus beat was due (its previous RR within ``timing``, as a log ratio, of the running
    rhythm) and after a P wave shaped like its template's (correlation above ``p_correlation``):
    the timing and P wave of a fusion beat, or of a late ventricular beat that the sinus impulse
    met. A premature ventricular beat has no time for a sinus P wave before it. Beats in a run of
    ``FUSION_MAX_RUN`` or more VEB are not taken (there the template and the running rhythm can be
    the run's own), nor the first and last beats, nor recordings of fewer than
    ``MIN_TEMPLATE_BEATS`` beats; without rhythm (segments) nothing is flagged. Where the recording
    has a ventricular template (the other VEB beats' median QRS), a beat shaped like it (correlation
    ``veb_correlation`` or more) is a ventricular beat, not a fusion; so is a beat whose QRS correlates
    less than ``sinus_correlation`` with the template's (:func:`qrs_correlation`): a fusion beat is
    partly the normal beat.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if n < MIN_TEMPLATE_BEATS:
        return np.zeros(n, bool)
    r = np.asarray(rhythm, dtype=np.float64)
    known = r[:, N_RHYTHM - 1] > 0
    on_time = np.abs(r[:, RHYTHM_FEATURES.index("log_pre_run")]) < timing
    veb = labels == CLASSES.index("VEB")
    first, last = runs_of(veb).T
    lengths = last - first + 1
    run = np.zeros(n, int)
    run[veb] = np.repeat(lengths, lengths)  # each VEB beat: the length of its run
    eligible = run < FUSION_MAX_RUN
    eligible[[0, -1]] = False
    fused = veb & eligible & known & on_time & (p_wave_correlation(morphology) > p_correlation)
    if fused.any():
        fused &= qrs_correlation(morphology) >= sinus_correlation
    if fused.any():
        fused &= ~(ventricular_correlation(morphology, labels, exclude=fused) >= veb_correlation)
    return fused


#: Wide-QRS heuristic: a beat labelled SVEB is relabelled VEB where its QRS is wider than usual
#: (log width ratio above ``WIDE_QRS_WIDTH``) and unlike the template's (Fisher z of the QRS
#: correlation below ``WIDE_QRS_CORRELATION``), both relative to their running medians
#: (:func:`morphology_features`), and no P wave like the template's precedes it
#: (:func:`p_wave_correlation` below ``WIDE_P_CORRELATION``). The stage stores the values it is
#: applied with; a card without them gets these.
WIDE_QRS_WIDTH = 0.5
WIDE_QRS_CORRELATION = -0.5
WIDE_P_CORRELATION = 0.2


def wide_qrs_beats(morphology, labels, *, width: float = WIDE_QRS_WIDTH,
                   qrs_correlation: float = WIDE_QRS_CORRELATION, p_correlation: float = WIDE_P_CORRELATION,
                   features=None) -> np.ndarray:
    """``(n,)`` bool: beats of ONE recording labelled SVEB whose QRS and missing P wave look ventricular.

    A supraventricular beat reaches the ventricles through the normal conduction system, so its QRS
    is normally narrow and shaped like the usual one; a wide QRS unlike the template, with no P
    wave like the usual one before it, is the classic ventricular beat. An aberrantly conducted
    supraventricular beat can look the same, which is why a P wave like the template's keeps the
    beat SVEB. ``labels``: indices into ``CLASSES``; ``features``: :func:`morphology_features` of
    ``morphology`` where already computed.
    """
    labels = np.asarray(labels)
    sveb = labels == CLASSES.index("SVEB")
    if not sveb.any():
        return np.zeros(len(labels), bool)
    f = morphology_features(morphology) if features is None else np.asarray(features)
    return sveb & (f[:, 5] > width) & (f[:, 0] < qrs_correlation) & (p_wave_correlation(morphology) < p_correlation)


def stage_beats(probs, in_af) -> tuple[np.ndarray, np.ndarray]:
    """Which beats of ONE recording the second stage decides, and which become N as atrial fibrillation.

    Of the beats the network labels N or SVEB (``probs``, its calibrated probabilities), those
    inside atrial fibrillation (``in_af``, from :func:`atrial_fibrillation`) are not SVEB: without
    sinus P waves there is no atrial rhythm for a beat to be premature to, and the MIT-BIH
    annotators label the irregular beats of fibrillation normal. The stage decides the others; it is
    fitted on the same beats.

    Returns
    -------
    decided, to_n : numpy.ndarray of bool, shape (n,)
    """
    p = np.asarray(probs)
    candidates = np.isin(p.argmax(axis=1), STAGE_INPUT_LABELS) if len(p) else np.zeros(0, bool)
    to_n = candidates & np.asarray(in_af, bool)
    return candidates & ~to_n, to_n


@dataclass(frozen=True)
class Decision:
    """ONE recording's beats on their way through the steps after the network.

    ``probabilities``: ``(n, len(CLASSES))`` float64, as the steps so far left them (the network's
    calibrated probabilities at first); ``shapes``: the :class:`~ecg_core.classifier.features.BeatShapes`
    of the network's morphology input (or that input itself); ``rhythm``: the rhythm input
    ``(n, N_RHYTHM)``. What the steps found: ``in_af``, the beats inside atrial fibrillation (given
    beforehand, or set by :class:`AtrialFibrillationRule`); ``atrial_fibrillation``, those of them the
    network labels N or SVEB, made N (:func:`stage_beats`); ``wide``, the beats :class:`WideQRSRule`
    made VEB.
    """

    probabilities: np.ndarray
    shapes: object
    rhythm: np.ndarray
    in_af: np.ndarray | None = None
    atrial_fibrillation: np.ndarray | None = None
    wide: np.ndarray | None = None

    @classmethod
    def start(cls, probs, morphology, rhythm, *, in_af=None) -> Decision:
        """The decision before any step: a float64 copy of ``probs`` and the shapes of ``morphology``.

        ``morphology``: the network's morphology input or its :class:`BeatShapes` (the same numbers
        either way); ``in_af``: :meth:`AtrialFibrillationRule.flags` where already computed.
        """
        p = np.array(probs, dtype=np.float64).reshape(-1, len(CLASSES))
        shapes = morphology if isinstance(morphology, BeatShapes) else BeatShapes.of(morphology)
        return cls(p, shapes, rhythm, None if in_af is None else np.asarray(in_af, bool))

    @property
    def labels(self) -> np.ndarray:
        """``(n,)`` the current labels (indices into ``CLASSES``)."""
        p = self.probabilities
        return p.argmax(axis=1) if len(p) else np.zeros(0, int)


def move_share(probs: np.ndarray, rows, source: int, target: int) -> np.ndarray:
    """``probs`` (a copy) with the ``source`` class's share of ``rows`` added to ``target``'s; rows still sum to 1."""
    p = probs.copy()
    p[rows, target] += p[rows, source]
    p[rows, source] = 0.0
    return p


@dataclass(frozen=True)
class AtrialFibrillationRule:
    """No beat inside atrial fibrillation is SVEB: :func:`atrial_fibrillation` with its settings.

    Beats the current labels call N or SVEB inside fibrillation get their N + SVEB share as N (a
    decision, not a calibrated probability); it runs on the network's labels, before the stage.
    """

    beats: int = AF_BEATS
    p_correlation: float = AF_P_CORRELATION
    irregularity: float = AF_IRREGULARITY

    def flags(self, probs, morphology, rhythm) -> np.ndarray:
        """:func:`atrial_fibrillation` with these settings and the labels of ``probs``."""
        labels = np.asarray(probs).argmax(axis=1) if len(probs) else np.zeros(0, int)
        return atrial_fibrillation(morphology, rhythm, labels, beats=self.beats,
                                   p_correlation=self.p_correlation, irregularity=self.irregularity)

    def apply(self, decision: Decision) -> Decision:
        """``decision`` with ``in_af`` (unless given) and its N/SVEB beats made N."""
        d = decision
        in_af = self.flags(d.probabilities, d.shapes, d.rhythm) if d.in_af is None else d.in_af
        to_n = stage_beats(d.probabilities, in_af)[1]
        n, sveb = STAGE_CLASSES
        return replace(d, probabilities=move_share(d.probabilities, to_n, sveb, n), in_af=in_af,
                       atrial_fibrillation=to_n)


@dataclass(frozen=True)
class WideQRSRule:
    """Beats labelled SVEB that :func:`wide_qrs_beats` (with these settings) picks get their SVEB share as VEB."""

    width: float = WIDE_QRS_WIDTH
    qrs_correlation: float = WIDE_QRS_CORRELATION
    p_correlation: float = WIDE_P_CORRELATION

    def apply(self, decision: Decision) -> Decision:
        """``decision`` with the wide-QRS beats (``wide``) made VEB."""
        d = decision
        wide = wide_qrs_beats(d.shapes, d.labels, width=self.width, qrs_correlation=self.qrs_correlation,
                              p_correlation=self.p_correlation)
        sveb, veb = CLASSES.index("SVEB"), CLASSES.index("VEB")
        return replace(d, probabilities=move_share(d.probabilities, wide, sveb, veb), wide=wide)


@dataclass(frozen=True)
class FusionRule:
    """Beats labelled VEB that :func:`fusion_beats` (with these settings) picks get their VEB share as F.

    Not inside atrial fibrillation (no sinus P wave there), nor the beats :class:`WideQRSRule` made VEB.
    """

    p_correlation: float = FUSION_P_CORRELATION
    timing: float = FUSION_TIMING
    veb_correlation: float = FUSION_VEB_CORRELATION
    sinus_correlation: float = FUSION_SINUS_CORRELATION

    def apply(self, decision: Decision) -> Decision:
        """``decision`` with the fusion beats made F."""
        d = decision
        fused = fusion_beats(d.shapes, d.rhythm, d.labels, p_correlation=self.p_correlation, timing=self.timing,
                             veb_correlation=self.veb_correlation, sinus_correlation=self.sinus_correlation)
        for mask in (d.in_af, d.wide):
            if mask is not None:
                fused &= ~mask
        veb, f = CLASSES.index("VEB"), CLASSES.index("F")
        return replace(d, probabilities=move_share(d.probabilities, fused, veb, f))


#: Supraventricular runs: a run starts where a supraventricular beat's RR falls below ``SVT_PREMATURITY``
#: of the reference rhythm, the median of the ``SVT_REFERENCE_BEATS`` last NN intervals before it (beats
#: labelled N or SVEB after a beat so labelled, not in a run already found); it lasts while the RR stays
#: below that fraction of the SAME reference, and counts when it has ``SVT_SHORTEST`` beats or more and
#: is regular (median ``|log(RR_i / RR_i-1)|`` within it at most ``SVT_IRREGULARITY``). Found runs stay
#: out of the reference, so runs that outnumber the sinus beats between them are measured against those
#: sinus beats, not against themselves (README "Where ectopy dominates"). The settings sit on a plateau
#: of the cross-database figure (README "Beat classification").
SVT_REFERENCE_BEATS = 16
SVT_PREMATURITY = 0.7
SVT_SHORTEST = 3
SVT_IRREGULARITY = 0.15


class _Reference:
    """The median of the last ``size`` RR intervals pushed (a sorted window; None until full)."""

    def __init__(self, size: int):
        self.size, self.order, self.sorted = size, deque(), []

    def push(self, rr: float) -> None:
        self.order.append(rr)
        bisect.insort(self.sorted, rr)
        if len(self.order) > self.size:
            self.sorted.pop(bisect.bisect_left(self.sorted, self.order.popleft()))

    def median(self) -> float | None:
        if len(self.order) < self.size:
            return None
        s, h = self.sorted, self.size // 2
        return s[h] if self.size % 2 else 0.5 * (s[h - 1] + s[h])


def supraventricular_runs(rhythm, labels, *, in_af=None, beats: int = SVT_REFERENCE_BEATS,
                          prematurity: float = SVT_PREMATURITY, shortest: int = SVT_SHORTEST,
                          irregularity: float = SVT_IRREGULARITY) -> np.ndarray:
    """``(n,)`` bool: beats of ONE recording (time order) in runs of supraventricular tachycardia.

    A paroxysmal supraventricular run starts abruptly, well ahead of the sinus rhythm, and goes on
    regularly at its own fast rate: inside it every beat is on time against the run itself, so a
    running median there is the run's rhythm and the premature beats look normal. Here each run is
    measured against the rhythm BEFORE it (see :data:`SVT_PREMATURITY` for the settings): the median
    of the last ``beats`` NN intervals (a beat labelled N or SVEB, ``labels`` indices into ``CLASSES``,
    after one so labelled: ventricular beats and their compensatory pauses stay out) outside the runs
    found before it, so runs that outnumber the sinus beats between them are still measured against
    those. Regularity is measured over the run's intervals, its first (the coupling interval)
    included: measured from the second beat on, more runs passed and the cross-database SVEB +P was
    lower. A gradual sinus tachycardia never falls below ``prematurity`` of its own recent beats at
    once; an abrupt lasting rate step does (a 2:1 block returning to 1:1 conduction), and its beats
    are flagged until the rate slows again. Beats without a finite RR count like ventricular ones.
    Beats in atrial fibrillation (``in_af``) are taken out of the runs found, and what is left of a
    run shorter than ``shortest`` with them (ending runs at fibrillation instead, and keeping its
    beats out of the reference, lowered SVDB's SVEB +P). One pass over the beats; without rhythm
    (segments) nothing is flagged.

    Raises
    ------
    ValueError
        ``beats`` is under 1.
    """
    if beats < 1:
        raise ValueError(f"beats must be at least 1, got {beats}")
    labels = np.asarray(labels)
    r = np.asarray(rhythm, dtype=np.float64)
    n = len(labels)
    runs = np.zeros(n, bool)
    if n <= beats or not (r[:, N_RHYTHM - 1] > 0).all():
        return runs
    rr_all = np.exp(r[:, RHYTHM_FEATURES.index("log_pre_s")])
    eligible = np.isin(labels, STAGE_INPUT_LABELS) & np.isfinite(rr_all) & (rr_all > 0)
    rr, sv = rr_all.tolist(), eligible.tolist()
    reference = _Reference(beats)
    start, limit = -1, 0.0  # the open run's first beat (-1: none) and its RR limit

    def close(stop: int) -> None:
        run = np.log(rr[start:stop])
        if stop - start >= shortest and (run.size < 2 or np.median(np.abs(np.diff(run))) <= irregularity):
            runs[start:stop] = True
        else:  # not a run: its beats are ordinary NN intervals after all
            for i in range(max(start, 1), stop):
                if sv[i - 1]:
                    reference.push(rr[i])

    for i in range(1, n):
        if start >= 0:
            if sv[i] and rr[i] < limit:
                continue
            close(i)
            start = -1
        if not sv[i]:
            continue
        ref = reference.median()
        if ref is not None and rr[i] < prematurity * ref:
            start, limit = i, prematurity * ref
        elif sv[i - 1]:
            reference.push(rr[i])
    if start >= 0:
        close(n)
    if in_af is not None and runs.any():
        runs &= ~np.asarray(in_af, bool)
        for first, last in runs_of(runs):
            if last - first + 1 < shortest:
                runs[first:last + 1] = False
    return runs


@dataclass(frozen=True)
class SupraventricularRunRule:
    """N-labelled beats in the runs :func:`supraventricular_runs` finds get their N share as SVEB.

    Not inside atrial fibrillation (``decision.in_af``): its beats are taken out of the runs found, and with
    them what is left of a run shorter than ``shortest``.
    """

    beats: int = SVT_REFERENCE_BEATS
    prematurity: float = SVT_PREMATURITY
    shortest: int = SVT_SHORTEST
    irregularity: float = SVT_IRREGULARITY

    def apply(self, decision: Decision) -> Decision:
        """``decision`` with the N beats of supraventricular runs made SVEB."""
        d = decision
        labels = d.labels
        runs = supraventricular_runs(d.rhythm, labels, in_af=d.in_af, beats=self.beats, prematurity=self.prematurity,
                                     shortest=self.shortest, irregularity=self.irregularity)
        n, sveb = STAGE_CLASSES
        return replace(d, probabilities=move_share(d.probabilities, runs & (labels == n), n, sveb))
