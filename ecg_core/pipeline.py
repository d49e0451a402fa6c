"""End-to-end analysis: signal -> R-peaks -> beats -> classes, as one call.

This is the call the CLI, the dashboard and the API share.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .beats import Beats, segment_beats
from .config import BEAT_WINDOW, CLASSES, FS
from .errors import ECGError, validate_signal
from .peaks import detect_r_peaks
from .quality import Quality, assess_quality

#: Beats whose top class probability is below this are reported as low-confidence.
LOW_CONFIDENCE = 0.8

#: An ectopic call (:data:`ECTOPIC`) with a share under ``DOUBTFUL_SHARE`` on a beat whose signal quality is
#: under ``DOUBTFUL_QUALITY`` is reported unreadable (``Q``) rather than as a diagnosis. On the 65 shared
#: MIT-BIH and SVDB records none of the 37 such calls was right (16 wrong class, 21 false detections).
ECTOPIC = ("SVEB", "VEB", "F")
DOUBTFUL_QUALITY = 0.75
DOUBTFUL_SHARE = 0.7

#: Names of the two classification paths, shown to users.
PATH_RHYTHM = "morphology+rhythm"
PATH_MORPHOLOGY = "morphology-only"

#: Columns of the events table (the CLI's ``<stem>.events.csv``, after ``first_sample``/``last_sample`` are added).
EVENT_COLUMNS = ("kind", "first_beat", "last_beat", "start_s", "end_s", "duration_s", "beats", "rate_bpm", "detail")

#: What the share of a beat's class is (:attr:`Analysis.score_kinds`): the network's calibrated probability ...
PROBABILITY = "probability"
#: ... or a decision score of the second stage or a rule (not calibrated) ...
DECISION_SCORE = "decision score"
#: ... or, for a beat labelled Q because the signal there cannot be read, the network's share kept for reference.
UNREADABLE_SCORE = "not used: signal unreadable"


@dataclass(frozen=True)
class Analysis:
    """Per-beat results.

    ``samples``: R-peak indices in the original signal (for segmented input: segment numbers);
    ``probabilities``: ``(n, len(CLASSES))`` calibrated class probabilities;
    ``path``: which classifier path labelled the beats;
    ``atrial_fibrillation``: ``(n,)`` bool, beats labelled N because they lie in atrial
    fibrillation, where no beat is called SVEB (:class:`ecg_core.model.RecordingPrediction`);
    None for segments; ``second_stage``: whether a second stage re-split the N and SVEB shares
    (otherwise only the atrial fibrillation rule re-decided beats); ``quality``: the signal quality of
    the beats (:class:`ecg_core.quality.Quality`; None for segments and where it was not assessed):
    unreadable beats are labelled ``Q`` whatever the network said, and left out of the confidence
    figures; ``decided``: ``(n,)`` bool, the beats whose shown share a step after the network set
    (:class:`ecg_core.model.RecordingPrediction`), or None (then read off the shares, :attr:`score_kinds`).
    """

    samples: np.ndarray
    probabilities: np.ndarray
    path: str
    sampling_rate: float | None
    n_samples: int | None
    model_version: str = ""
    atrial_fibrillation: np.ndarray | None = None
    second_stage: bool = True
    quality: Quality | None = None
    decided: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.samples.size)

    @property
    def unreadable(self) -> np.ndarray:
        """``(n,)`` bool: beats labelled ``Q``, not classified: in signal that cannot be read, or an ectopic call
        the network is unsure of (share under :data:`DOUBTFUL_SHARE`) where the signal is doubtful (quality
        under :data:`DOUBTFUL_QUALITY`)."""
        if self.quality is None or not len(self):
            return np.zeros(len(self), bool)
        p = self.probabilities
        ectopic = np.isin(self._network_labels(), ECTOPIC)
        doubtful = ((np.asarray(self.quality.beat_quality) < DOUBTFUL_QUALITY) & ectopic
                    & (p.max(axis=1) < DOUBTFUL_SHARE))
        return np.asarray(self.quality.unreadable, bool) | doubtful

    def _network_labels(self) -> np.ndarray:
        """The class of the highest share of each beat, before the signal quality has its say."""
        return np.asarray(CLASSES, dtype=object)[np.argmax(self.probabilities, axis=1)]

    @property
    def labels(self) -> np.ndarray:
        if not len(self):
            return np.array([], dtype=object)
        labels = self._network_labels()
        labels[self.unreadable] = "Q"
        return labels

    def most_confident(self) -> int | None:
        """Index of the readable beat with the highest share, or None when no beat is readable."""
        readable = np.flatnonzero(~self.unreadable)
        return int(readable[np.argmax(self.confidence[readable])]) if readable.size else None

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1) if len(self) else np.array([])

    @property
    def segmented(self) -> bool:
        return self.sampling_rate is None

    @property
    def score_kinds(self) -> np.ndarray:
        """Per beat, what its shown share (:attr:`confidence`) is: :data:`PROBABILITY` or :data:`DECISION_SCORE`.

        With the second stage (recordings; ``atrial_fibrillation`` not None) the share of a beat labelled
        N or SVEB is always the stage's or the atrial fibrillation rule's decision (they re-split the
        network's N + SVEB share of every beat it labels N or SVEB, and no other beat ends N or SVEB).
        A beat labelled VEB by the wide-QRS rule, or F by the fusion rule, got the share the rule moved
        (its SVEB, resp. VEB, share is then exactly 0, which a softmax never gives). Every other share is
        the network's calibrated probability; so is every share on the morphology-only path. Where the
        classifier said which beats' shares its steps set (``decided``: the recording's groups of beats
        weigh every VEB share), that is used instead of the rules above for the beats not labelled N or SVEB.
        """
        kinds = np.full(len(self), PROBABILITY, dtype=object)
        if self.atrial_fibrillation is None or not len(self):
            return kinds
        if not self.second_stage:  # only the atrial fibrillation rule re-decided beats
            kinds[np.asarray(self.atrial_fibrillation, bool)] = DECISION_SCORE
        else:
            p = self.probabilities
            labels = self._network_labels()
            moved = {"VEB": CLASSES.index("SVEB"), "F": CLASSES.index("VEB")}
            decided = np.isin(labels, ["N", "SVEB"])
            if self.decided is not None:
                decided |= np.asarray(self.decided, bool)
            for label, source in moved.items():
                decided |= (labels == label) & (p[:, source] == 0.0)
            kinds[decided] = DECISION_SCORE
        kinds[self.unreadable] = UNREADABLE_SCORE
        return kinds

    def events(self) -> tuple:
        """The rhythm events of these beats (:func:`ecg_core.events.find_events`); none for segments."""
        from .events import find_events

        if self.segmented:
            return ()
        quality = self.quality
        return find_events(self.samples, self.labels, self.sampling_rate, atrial_fibrillation=self.atrial_fibrillation,
                           readable=None if quality is None else ~self.unreadable,
                           unreadable_spans=() if quality is None else quality.spans)

    def hrv(self):
        """Time-domain HRV (SDNN, RMSSD, pNN50) of the N-N intervals (:func:`ecg_core.hrv.time_domain`); None for
        segments."""
        from .hrv import time_domain

        return None if self.segmented else time_domain(self.samples, self.labels, self.sampling_rate)

    def heart_rate_trend(self, **kwargs):
        """Heart rate in bpm over time (:func:`ecg_core.hrv.heart_rate_trend`); None for segments."""
        from .hrv import heart_rate_trend

        if self.segmented:
            return None
        return heart_rate_trend(self.samples, self.sampling_rate, duration_s=self.n_samples / self.sampling_rate,
                                **kwargs)

    def events_frame(self) -> pd.DataFrame:
        """:meth:`events` as the CLI's ``events.csv`` table (one row per event, :data:`EVENT_COLUMNS`)."""
        rows = [e.to_dict() for e in self.events()]
        frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS)) if rows else pd.DataFrame(columns=list(EVENT_COLUMNS))
        if len(frame):
            frame = frame[list(EVENT_COLUMNS)]
            frame.insert(list(EVENT_COLUMNS).index("last_beat") + 1, "first_sample",
                         self.samples[frame["first_beat"].to_numpy(dtype=np.int64)])
            frame.insert(list(EVENT_COLUMNS).index("last_beat") + 2, "last_sample",
                         self.samples[frame["last_beat"].to_numpy(dtype=np.int64)])
        else:
            frame.insert(3, "first_sample", [])
            frame.insert(4, "last_sample", [])
        return frame

    def to_frame(self) -> pd.DataFrame:
        """The CLI's table: ``sample|segment, label, probability, p_N ... p_Q``, and ``quality`` where assessed.

        ``quality`` (0-1, :mod:`ecg_core.quality`) is the last column; a beat under 0.5, or in an
        unreadable stretch, is labelled ``Q`` and its ``probability`` and ``p_*`` are the network's
        shares, kept for reference.
        """
        frame = pd.DataFrame({"segment" if self.segmented else "sample": self.samples,
                              "label": self.labels, "probability": self.confidence})
        for k, c in enumerate(CLASSES):
            frame[f"p_{c}"] = self.probabilities[:, k] if len(self) else []
        if self.quality is not None:
            frame["quality"] = np.asarray(self.quality.beat_quality, dtype=np.float64) if len(self) else []
        return frame

    def af_duration_s(self) -> float | None:
        """Seconds of suspected atrial fibrillation: the RR intervals that end on a beat in it; None for segments
        and where the atrial fibrillation rule did not run.

        Examples
        --------
        >>> a = Analysis(np.array([0, 360, 720, 1080]), np.full((4, len(CLASSES)), 0.2), PATH_RHYTHM, 360.0, 1440,
        ...              atrial_fibrillation=np.array([False, False, True, True]))
        >>> a.af_duration_s()
        2.0
        """
        af = self.atrial_fibrillation
        if af is None or self.segmented:
            return None
        af = np.asarray(af, bool)
        return float(np.sum(np.diff(self.samples)[af[1:]]) / self.sampling_rate) if len(self) > 1 else 0.0

    def highlights(self) -> list[tuple[str | None, int]]:
        """The beats worth showing first: the most confident readable beat (class None), then the most
        confident readable beat of each class in :data:`CLASSES` order, where it is another beat.

        Returns
        -------
        list of (str or None, int)
            ``(class, beat index)``; empty when no beat is readable.
        """
        best = self.most_confident()
        if best is None:
            return []
        out: list[tuple[str | None, int]] = [(None, best)]
        labels, conf, readable = self.labels, self.confidence, ~self.unreadable
        for c in CLASSES:
            k = np.flatnonzero((labels == c) & readable)
            if k.size and (j := int(k[np.argmax(conf[k])])) != best:
                out.append((c, j))
        return out

    def beat_table(self, score_kinds=None) -> pd.DataFrame:
        """The dashboard's beat table: :func:`beat_times` and :meth:`to_frame`'s classes and shares.

        Columns ``beat, time_s, sample, rr_before_ms, label, probability, score_kind``, ``af`` where
        some beat lies in suspected atrial fibrillation, then ``p_N ... p_Q``. ``score_kinds``: what
        each share is (default :attr:`score_kinds`; the dashboard passes its edited kinds).
        """
        table = beat_times(self.samples, self.sampling_rate)
        frame = self.to_frame()
        table["label"] = frame["label"].to_numpy()
        table["probability"] = frame["probability"].to_numpy()
        table["score_kind"] = self.score_kinds if score_kinds is None else score_kinds
        if self.atrial_fibrillation is not None and self.atrial_fibrillation.any():
            table["af"] = self.atrial_fibrillation
        for c in CLASSES:
            table[f"p_{c}"] = frame[f"p_{c}"].to_numpy()
        return table

    def summary(self) -> Summary:
        labels, unreadable = self.labels, self.unreadable
        counts = {c: int(np.sum(labels == c)) for c in CLASSES}
        hr = np.array([])
        duration = None
        if not self.segmented and self.n_samples:
            duration = self.n_samples / self.sampling_rate
            if len(self) >= 2:
                hr = 60.0 * self.sampling_rate / np.diff(self.samples)
        return Summary(
            beats=len(self), duration_s=duration,
            mean_hr=float(60 * (len(self) - 1) / (np.ptp(self.samples) / self.sampling_rate)) if hr.size else None,
            min_hr=float(hr.min()) if hr.size else None, max_hr=float(hr.max()) if hr.size else None,
            counts=counts, low_confidence=int(np.sum((self.confidence < LOW_CONFIDENCE) & ~unreadable)),
            path=self.path, model_version=self.model_version,
            atrial_fibrillation_beats=None if self.atrial_fibrillation is None
            else int(np.sum(self.atrial_fibrillation & ~unreadable)),
            unreadable_beats=None if self.quality is None else int(unreadable.sum()),
            unreadable_s=None if self.quality is None else self.quality.unreadable_s,
        )


@dataclass(frozen=True)
class Summary:
    """Recording-level figures; heart rates in beats per minute (None when undefined).

    ``counts`` counts labels (unreadable beats under ``Q``); ``low_confidence`` counts readable beats
    only; ``unreadable_beats`` and ``unreadable_s`` (the unreadable stretches' total duration) are None
    where the signal quality was not assessed.
    """

    beats: int
    duration_s: float | None
    mean_hr: float | None
    min_hr: float | None
    max_hr: float | None
    counts: dict
    low_confidence: int
    path: str
    model_version: str
    atrial_fibrillation_beats: int | None = None
    unreadable_beats: int | None = None
    unreadable_s: float | None = None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def beat_window(signal, sample: int, sampling_rate: float, half_s: float = 0.5) -> np.ndarray:
    """``signal`` from ``half_s`` before to ``half_s`` after ``sample`` (a beat), to draw it.

    ``2 * round(half_s * sampling_rate)`` samples, NaN where the window runs past either end of the
    signal.

    Examples
    --------
    >>> beat_window(np.arange(6.0), 1, 4.0).tolist()
    [nan, 0.0, 1.0, 2.0]
    """
    x = np.asarray(signal)
    half = int(round(half_s * sampling_rate))
    centre = int(sample)
    a, b = max(0, centre - half), min(len(x), centre + half)
    window = np.full(2 * half, np.nan)
    window[a - (centre - half): b - (centre - half)] = x[a:b]
    return window


def beat_times(samples, sampling_rate: float) -> pd.DataFrame:
    """Beats as a table: ``beat`` (index), ``time_s``, ``sample`` and ``rr_before_ms`` (NaN for the first).

    Examples
    --------
    >>> beat_times(np.array([0, 180, 540]), 360.0)["rr_before_ms"].tolist()
    [nan, 500.0, 1000.0]
    """
    peaks = np.asarray(samples)
    table = pd.DataFrame({"beat": np.arange(len(peaks)), "time_s": peaks / sampling_rate, "sample": peaks})
    table["rr_before_ms"] = np.concatenate(([np.nan], np.diff(peaks) * 1000.0 / sampling_rate)) if len(peaks) else []
    return table


def check_peaks(peaks, n_samples: int) -> np.ndarray:
    """Given beat positions as sorted ``int64`` sample numbers of a signal of ``n_samples``.

    Raises
    ------
    ECGError
        Not numbers, not whole, negative, beyond the signal, or repeated (never rounded or merged).
    """
    p = np.asarray(peaks)
    if p.ndim != 1 or (p.size and not np.issubdtype(p.dtype, np.number)):
        raise ECGError("Beat positions must be a list of sample numbers.")
    if p.size and (not np.all(np.isfinite(p)) or np.any(p % 1 != 0) or p.min() < 0 or p.max() >= n_samples):
        beyond = p[p >= n_samples] if np.all(np.isfinite(p)) else np.zeros(0)
        where = (f" {beyond.size} of them (e.g. {beyond[0]:g}) lie beyond the end of the signal." if beyond.size
                 else "")
        raise ECGError(f"Beat positions must be whole, non-negative sample numbers below {n_samples} "
                       f"(the signal's length).{where}")
    p = p.astype(np.int64)
    if np.unique(p).size != p.size:
        raise ECGError("Some beat positions appear twice; give each beat once.")
    return np.sort(p)


def analyze(signal, sampling_rate, *, peaks=None, classifier=None, second_lead=None, **detector_options) -> Analysis:
    """Find and classify every beat of one ECG lead.

    Parameters
    ----------
    signal : array_like
        One lead, any amplitude unit.
    sampling_rate : float
        Hz.
    peaks : array_like of int, optional
        Classify the beats at these sample indices instead of detecting them.
    classifier : ecg_core.model.BeatClassifier, optional
        Defaults to the shipped model (loaded once).
    second_lead : array_like, optional
        Another lead of the recording, which the detector votes with in noise
        (:meth:`ecg_core.io.Recording.second_lead`; see :func:`ecg_core.peaks.detect_r_peaks`).
        Beats are cut and classified from ``signal`` only.
    **detector_options
        Passed to :func:`ecg_core.peaks.detect_r_peaks`.
    """
    x, fs = validate_signal(signal, sampling_rate)
    beats = _find_beats(x, fs, peaks, second_lead, detector_options)
    return classify_beats(beats, fs, x.size, classifier=classifier)


def find_beats(signal, sampling_rate, *, peaks=None, second_lead=None, **detector_options) -> Beats:
    """The first half of :func:`analyze`: validate, detect (unless ``peaks`` are given) and cut the beats.

    A caller that holds a long recording can let go of the signal before :func:`classify_beats`
    loads the classifier (TensorFlow), so the two never sit in memory together.
    """
    x, fs = validate_signal(signal, sampling_rate)
    return _find_beats(x, fs, peaks, second_lead, detector_options)


def _find_beats(x: np.ndarray, fs: float, peaks, second_lead, detector_options: dict) -> Beats:
    if peaks is None:
        peaks = detect_r_peaks(x, fs, second_lead=second_lead, **detector_options)
    else:
        peaks = check_peaks(peaks, x.size)
    return replace(segment_beats(x, fs, peaks), quality=assess_quality(x, fs, peaks))


def classify_beats(beats: Beats, sampling_rate: float, n_samples: int, *, classifier=None) -> Analysis:
    """The second half of :func:`analyze`: classify the beats of :func:`find_beats` (of a signal of ``n_samples``).

    ``beats`` may also be their :func:`ecg_core.model.prepare_beats` (no windows: a long recording's
    are let go before the classifier is loaded).

    ``classifier`` defaults to the shipped model (loaded once).
    """
    if classifier is None:
        from .model import load_classifier

        classifier = load_classifier()
    pred = classifier.predict_recording(beats)
    return Analysis(beats.samples, pred.probabilities, PATH_RHYTHM, float(sampling_rate), int(n_samples),
                    classifier.version, pred.atrial_fibrillation, classifier.stage is not None, beats.quality,
                    pred.decided)


def classify_segments(windows, *, classifier=None) -> Analysis:
    """Classify pre-cut beats (rows of ``BEAT_WINDOW`` samples at ``FS``) by morphology alone."""
    w = np.asarray(windows, dtype=np.float32)
    if w.ndim != 2 or w.shape[1] != BEAT_WINDOW:
        raise ECGError(
            f"Segments must be rows of {BEAT_WINDOW} samples (1 s at {FS} Hz), got shape {w.shape}."
        )
    if classifier is None:
        from .model import load_classifier

        classifier = load_classifier()
    probs = classifier.predict_segments(w) if len(w) else np.zeros((0, len(CLASSES)))
    return Analysis(np.arange(len(w)), probs, PATH_MORPHOLOGY, None, None, classifier.version)
