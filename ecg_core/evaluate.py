"""Evaluation against reference annotations, AAMI EC57 style.

Detections match reference beats within a tolerance (150 ms by default), nearest pairs first,
each beat used once; beats inside ventricular flutter episodes (``[`` ... ``]``) are left out.
Figures pool TP/FN/FP (or the confusion matrix) over records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import CLASSES

#: Matching tolerance of EC57 (seconds).
MATCH_WINDOW_S = 0.15


def match_beats(reference, detected, sampling_rate, *, window: float = MATCH_WINDOW_S):
    """Pair detected beats with reference beats, nearest pairs first, each used once.

    Parameters
    ----------
    reference, detected : array_like of int
        Sample indices.
    sampling_rate : float
        Hz, to convert ``window`` to samples.
    window : float
        Tolerance in seconds.

    Returns
    -------
    numpy.ndarray
        ``(n_pairs, 2)`` int array of ``(reference_index, detected_index)`` into the inputs.
    """
    ref = np.asarray(reference, dtype=np.int64)
    det = np.asarray(detected, dtype=np.int64)
    tol = int(round(window * sampling_rate))
    if ref.size == 0 or det.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    order = np.argsort(det, kind="stable")
    det_sorted = det[order]
    lo = np.searchsorted(det_sorted, ref - tol, side="left")
    hi = np.searchsorted(det_sorted, ref + tol, side="right")
    counts = hi - lo
    ref_idx = np.repeat(np.arange(ref.size), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    sorted_j = np.repeat(lo, counts) + offsets
    dist = np.abs(det_sorted[sorted_j] - ref[ref_idx])
    cand = np.lexsort((sorted_j, ref_idx, dist))
    ref_used = np.zeros(ref.size, bool)
    det_used = np.zeros(det.size, bool)
    pairs = []
    for k in cand:
        i, j = ref_idx[k], sorted_j[k]
        if not ref_used[i] and not det_used[j]:
            ref_used[i] = det_used[j] = True
            pairs.append((i, order[j]))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def outside_episodes(samples, episodes) -> np.ndarray:
    """Boolean mask of ``samples`` strictly outside every ``(start, end)`` episode."""
    s = np.asarray(samples)
    ok = np.ones(s.shape, bool)
    for a, b in episodes:
        ok &= ~((s > a) & (s < b))
    return ok


@dataclass(frozen=True)
class DetectionScore:
    """Pooled beat-detection figures."""

    tp: int
    fn: int
    fp: int

    @property
    def sensitivity(self) -> float:
        return self.tp / max(self.tp + self.fn, 1)

    @property
    def ppv(self) -> float:
        return self.tp / max(self.tp + self.fp, 1)

    def __add__(self, other: DetectionScore) -> DetectionScore:
        return DetectionScore(self.tp + other.tp, self.fn + other.fn, self.fp + other.fp)


def score_detection(reference, detected, sampling_rate, *, window=MATCH_WINDOW_S, episodes=()):
    """Score detected R-peaks against reference beats of one record.

    ``episodes`` (e.g. ventricular flutter ``[``...``]``) remove detections inside them;
    reference beats inside them are expected to be absent already (annotators mark none).
    """
    det = np.asarray(detected, dtype=np.int64)
    det = det[outside_episodes(det, episodes)]
    ref = np.asarray(reference, dtype=np.int64)
    m = len(match_beats(ref, det, sampling_rate, window=window))
    return DetectionScore(tp=m, fn=ref.size - m, fp=det.size - m)


@dataclass(frozen=True)
class ClassScore:
    """Per-class figures."""

    label: str
    reference: int
    predicted: int
    sensitivity: float
    ppv: float
    f1: float


@dataclass(frozen=True)
class ClassificationScore:
    """Pooled classification figures in EC57 style.

    ``confusion[i, j]`` counts reference class ``CLASSES[i]`` labelled ``CLASSES[j]``; the
    last column counts reference beats with no matching detection (missed).
    ``false_detections[j]`` counts detections labelled ``CLASSES[j]`` with no reference beat.
    """

    confusion: np.ndarray
    false_detections: np.ndarray = field(default_factory=lambda: np.zeros(len(CLASSES), np.int64))

    def __add__(self, other: ClassificationScore) -> ClassificationScore:
        return ClassificationScore(self.confusion + other.confusion, self.false_detections + other.false_detections)

    @property
    def beats(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion[:, : len(CLASSES)]) / max(self.beats, 1))

    def per_class(self) -> list[ClassScore]:
        out = []
        for k, c in enumerate(CLASSES):
            tp = int(self.confusion[k, k])
            ref_n = int(self.confusion[k].sum())
            pred_n = int(self.confusion[:, k].sum() + self.false_detections[k])
            se = tp / ref_n if ref_n else float("nan")
            pp = tp / pred_n if pred_n else float("nan")
            f1 = 2 * se * pp / (se + pp) if ref_n and pred_n and (se + pp) else float("nan")
            out.append(ClassScore(c, ref_n, pred_n, se, pp, f1))
        return out

    def to_dict(self) -> dict:
        return {
            "beats": self.beats,
            "accuracy": self.accuracy,
            "classes": {s.label: {"ref": s.reference, "pred": s.predicted, "se": s.sensitivity,
                                  "ppv": s.ppv, "f1": s.f1} for s in self.per_class()},
            "confusion": {"rows_reference": list(CLASSES), "columns_predicted": [*CLASSES, "missed"],
                          "counts": self.confusion.astype(int).tolist()},
            "false_detections": dict(zip(CLASSES, self.false_detections.astype(int).tolist(), strict=True)),
        }


def empty_classification_score() -> ClassificationScore:
    return ClassificationScore(np.zeros((len(CLASSES), len(CLASSES) + 1), np.int64))


def score_classification(ref_samples, ref_labels, samples, labels, sampling_rate, *,
                         window=MATCH_WINDOW_S, episodes=()):
    """Confusion of predicted labels against reference labels for one record.

    Labels are AAMI class names; a predicted label outside ``CLASSES`` counts as missed.
    """
    index = {c: k for k, c in enumerate(CLASSES)}
    samples = np.asarray(samples, dtype=np.int64)
    labels = np.asarray(labels).astype(str)
    keep = outside_episodes(samples, episodes)
    samples, labels = samples[keep], labels[keep]
    ref_labels = np.asarray(ref_labels).astype(str)
    conf = np.zeros((len(CLASSES), len(CLASSES) + 1), np.int64)
    false_det = np.zeros(len(CLASSES), np.int64)
    pairs = match_beats(ref_samples, samples, sampling_rate, window=window)
    hit = np.zeros(len(ref_labels), bool)
    used = np.zeros(len(labels), bool)
    for i, j in pairs:
        hit[i] = used[j] = True
        conf[index[ref_labels[i]], index.get(labels[j], len(CLASSES))] += 1
    for c in ref_labels[~hit]:
        conf[index[c], len(CLASSES)] += 1
    for p in labels[~used]:
        if p in index:
            false_det[index[p]] += 1
    return ClassificationScore(conf, false_det)


def confusion_from_labels(ref_labels, pred_labels) -> ClassificationScore:
    """Confusion of beat-aligned label arrays (e.g. classification at reference positions)."""
    index = {c: k for k, c in enumerate(CLASSES)}
    conf = np.zeros((len(CLASSES), len(CLASSES) + 1), np.int64)
    r = np.array([index[c] for c in np.asarray(ref_labels).astype(str)], dtype=np.int64)
    p = np.array([index.get(c, len(CLASSES)) for c in np.asarray(pred_labels).astype(str)], dtype=np.int64)
    np.add.at(conf, (r, p), 1)
    return ClassificationScore(conf)


# --------------------------------------------------------------------------------------------- reference fit
#: Tolerance of the position check (seconds): R-peaks found here lie within ~15 ms of a matching reference's beats.
FIT_WINDOW_S = 0.05
#: Share of beats (reference or detected, the better) within :data:`FIT_WINDOW_S` of the other side for the
#: reference to fit. A matching reference scores above 0.9 even with a badly tuned detector; another
#: recording's, ~0.1-0.3 (beats line up by chance).
FIT_MIN_SHARE = 0.6
#: Fewer beats than this on either side: positions cannot be checked.
FIT_MIN_BEATS = 5


@dataclass(frozen=True)
class ReferenceFit:
    """Whether reference annotations belong to a recording, and the part of them that can be scored.

    Attributes
    ----------
    samples, labels : numpy.ndarray
        The reference beats within the recording (cut to its span), for scoring.
    episodes : tuple of (int, int)
        The reference's ventricular flutter episodes that overlap the recording.
    fits : bool
        False when the reference is another recording's (or cannot be checked and its name differs):
        do not score it.
    position_share : float or None
        The better of the shares of reference beats with a detected beat within :data:`FIT_WINDOW_S`
        and of detected beats with a reference beat there; None when too few beats to check.
    beats_after_end : int
        Reference beats after the recording's end, left out.
    problems : tuple of str
        Why it does not fit (each a clause a clinician can read); empty when it fits.
    notes : tuple of str
        What was done to make it fit (cut to the recording) or what differs but does not matter.
    """

    samples: np.ndarray
    labels: np.ndarray
    episodes: tuple[tuple[int, int], ...]
    fits: bool
    position_share: float | None
    beats_after_end: int
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def message(self, recording_name: str = "") -> str:
        """One plain sentence for the page: why the reference is not scored, else what was cut ('' if nothing)."""
        if not self.fits:
            own = f" Upload the annotations of {recording_name} itself." if recording_name else ""
            return ("These reference annotations do not fit this recording: " + "; ".join(self.problems)
                    + ". They are not compared with it." + own)
        return " ".join(self.notes)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.1f} s"


def _same_record(a: str, b: str) -> bool:
    a, b = a.strip().casefold(), b.strip().casefold()
    return not a or not b or a.startswith(b) or b.startswith(a)


def fit_reference(ref_samples, ref_labels, detected, sampling_rate, *, n_samples: int, episodes=(),
                  recording_name: str = "", reference_name: str = "") -> ReferenceFit:
    """Check that reference annotations fit a recording, and cut them to its span.

    Three checks: the record name where both are known (a different name alone is a note when the
    beats line up), the length (reference beats after the recording's end are left out, e.g. a 30-min
    reference for an excerpt of its start), and the beat positions against the beats found here
    (another recording's beats line up only by chance).

    Parameters
    ----------
    ref_samples, ref_labels : array_like
        Reference beats (sample numbers at ``sampling_rate``) and their classes.
    detected : array_like of int
        The beats found in the recording.
    sampling_rate : float
        Hz.
    n_samples : int
        Length of the recording in samples.
    episodes : sequence of (int, int)
        The reference's ventricular flutter episodes.
    recording_name, reference_name : str
        Record names where known ('' when not).

    Returns
    -------
    ReferenceFit
    """
    ref = np.asarray(ref_samples, dtype=np.int64)
    lab = np.asarray(ref_labels).astype(str)
    det = np.asarray(detected, dtype=np.int64)
    inside = (ref >= 0) & (ref < int(n_samples))
    after = int(np.sum(ref >= int(n_samples)))
    ref, lab = ref[inside], lab[inside]
    kept_episodes = tuple((int(a), int(min(b, n_samples))) for a, b in episodes if a < n_samples)
    problems, notes = [], []
    same_name = _same_record(recording_name, reference_name)
    if not same_name:
        problems.append(f"they are named {reference_name}, the recording {recording_name}")
    share = None
    if ref.size == 0:
        span = _duration(n_samples / sampling_rate)
        problems.append(f"none of their {after:,} beats lie within the recording's {span}" if after
                        else "they hold no beats")
    elif ref.size >= FIT_MIN_BEATS and det.size >= FIT_MIN_BEATS:
        m = len(match_beats(ref, det, sampling_rate, window=FIT_WINDOW_S))
        share = max(m / ref.size, m / det.size)
        if share < FIT_MIN_SHARE:
            problems.append(f"only {100 * m / ref.size:.0f}% of their beats lie within {1000 * FIT_WINDOW_S:.0f} ms of "
                            f"a beat found here (the annotations of this recording: over 90%)")
    if after and ref.size:
        last = (np.max(np.asarray(ref_samples)) + 1) / sampling_rate
        notes.append(f"The reference runs to {_duration(last)}, the recording {_duration(n_samples / sampling_rate)}: "
                     f"its {after:,} beats after the recording's end are left out and its first {ref.size:,} compared.")
    fits = not problems or (share is not None and share >= FIT_MIN_SHARE and ref.size > 0)
    if fits and not same_name:
        notes.append(f"The reference is named {reference_name} and the recording {recording_name}, but their beats "
                     "line up.")
        problems = []
    return ReferenceFit(ref, lab, kept_episodes, bool(fits), share, after, tuple(problems), tuple(notes))


def fit_annotations(ann, detected, sampling_rate, *, n_samples: int, recording_name: str = "") -> ReferenceFit:
    """:func:`fit_reference` of reference annotations read by :func:`ecg_core.io.load_annotations`.

    Parameters
    ----------
    ann : ecg_core.io.Annotations
        The reference; its beats and flutter episodes are taken at ``sampling_rate``
        (:meth:`~ecg_core.io.Annotations.beats_at`, :meth:`~ecg_core.io.Annotations.episodes_at`).
    detected : array_like of int
        The beats found in the recording.
    sampling_rate : float
        The recording's rate (Hz).
    n_samples : int
        Length of the recording in samples.
    recording_name : str
        The recording's record name ('' when unknown).

    Returns
    -------
    ReferenceFit
    """
    ref_s, ref_l = ann.beats_at(sampling_rate)
    return fit_reference(ref_s, ref_l, detected, sampling_rate, n_samples=n_samples,
                         episodes=ann.episodes_at(sampling_rate), recording_name=recording_name,
                         reference_name=getattr(ann, "name", "") or "")


#: Columns of :func:`disagreements`' table.
DISAGREEMENT_COLUMNS = ("beat", "time_s", "reference", "predicted", "kind")


def disagreements(fit: ReferenceFit, samples, labels, sampling_rate):
    """The beats where a classified recording and its reference disagree (EC57 matching, 150 ms).

    Parameters
    ----------
    fit : ReferenceFit
        The reference cut to the recording (:func:`fit_reference`); beats inside its flutter episodes
        are left out.
    samples, labels : array_like
        The recording's beats and their classes.
    sampling_rate : float
        Hz.

    Returns
    -------
    pandas.DataFrame
        One row per disagreement (:data:`DISAGREEMENT_COLUMNS`), in time order: a matched beat of
        another class (``"different class"``), a reference beat with no beat found
        (``beat`` -1, ``"missed (no beat detected)"``), or a beat not in the reference
        (``"extra (not in reference)"``).

    Examples
    --------
    >>> import numpy as np
    >>> fit = fit_reference([100, 400, 700], ["N", "VEB", "N"], [100, 400], 360.0, n_samples=1000)
    >>> disagreements(fit, [100, 400], ["N", "N"], 360.0)["kind"].tolist()
    ['different class', 'missed (no beat detected)']
    """
    import pandas as pd

    ref_s, ref_l = fit.samples, fit.labels
    samples = np.asarray(samples, dtype=np.int64)
    labels = np.asarray(labels).astype(str)
    keep = np.flatnonzero(outside_episodes(samples, fit.episodes))
    pairs = match_beats(ref_s, samples[keep], sampling_rate)
    rows = [(keep[j], samples[keep[j]] / sampling_rate, ref_l[i], labels[keep[j]], "different class")
            for i, j in pairs if ref_l[i] != labels[keep[j]]]
    hit_ref = np.zeros(ref_s.size, bool)
    hit_ref[pairs[:, 0]] = True
    hit_det = np.zeros(keep.size, bool)
    hit_det[pairs[:, 1]] = True
    rows += [(-1, ref_s[i] / sampling_rate, ref_l[i], "—", "missed (no beat detected)")
             for i in np.flatnonzero(~hit_ref)]
    rows += [(keep[j], samples[keep[j]] / sampling_rate, "—", labels[keep[j]], "extra (not in reference)")
             for j in np.flatnonzero(~hit_det)]
    frame = pd.DataFrame(rows, columns=list(DISAGREEMENT_COLUMNS))
    return frame.sort_values("time_s", kind="stable").reset_index(drop=True)


def agreement(fit: ReferenceFit, samples, labels, sampling_rate):
    """The classification score of a recording's beats against its reference, and where they disagree.

    Returns
    -------
    score : ClassificationScore
        :func:`score_classification` of the reference beats of ``fit`` (flutter episodes left out).
    disagreements : pandas.DataFrame
        :func:`disagreements`.
    """
    samples = np.asarray(samples, dtype=np.int64)
    labels = np.asarray(labels).astype(str)
    score = score_classification(fit.samples, fit.labels, samples, labels, sampling_rate, episodes=fit.episodes)
    return score, disagreements(fit, samples, labels, sampling_rate)


def detection_check(fit: ReferenceFit, peaks, sampling_rate):
    """Detection figures against the reference beats of ``fit``, with the missed and the extra beats.

    Returns
    -------
    score : DetectionScore
        :func:`score_detection` (flutter episodes left out).
    missed : numpy.ndarray
        Samples of the reference beats with no detected beat within 150 ms.
    extra : numpy.ndarray
        Samples of the detected beats (outside flutter episodes) with no reference beat.

    Examples
    --------
    >>> fit = fit_reference([100, 400, 700], ["N", "N", "N"], [100, 400], 360.0, n_samples=1000)
    >>> score, missed, extra = detection_check(fit, [100, 400, 900], 360.0)
    >>> missed.tolist(), extra.tolist()
    ([700], [900])
    """
    ref_s, episodes = fit.samples, fit.episodes
    score = score_detection(ref_s, peaks, sampling_rate, episodes=episodes)
    det = np.asarray(peaks, dtype=np.int64)
    det = det[outside_episodes(det, episodes)]
    pairs = match_beats(ref_s, det, sampling_rate)
    missed = np.delete(ref_s, pairs[:, 0]) if ref_s.size else ref_s
    extra = np.delete(det, pairs[:, 1]) if det.size else det
    return score, missed, extra


def percent(value, digits: int = 1) -> str:
    """A share (0-1) as a percentage with ``digits`` decimals; "—" where it is not defined (NaN or None).

    Examples
    --------
    >>> percent(0.9731), percent(0.9731, 2), percent(float("nan")), percent(None)
    ('97.3%', '97.31%', '—', '—')
    """
    return "—" if value is None or not np.isfinite(value) else f"{100 * value:.{digits}f}%"
