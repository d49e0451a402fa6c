"""A reviewer's corrections to the beats of an analysis: relabel or delete a beat, add a missed one.

Edits name beats by their sample number (which stays when other beats are added or deleted), and
:func:`apply_edits` replays them on an :class:`ecg_core.pipeline.Analysis`, giving a new analysis whose
summary, events, tables and files (:func:`ecg_core.io.annotation_bytes`, :func:`ecg_core.io.peaks_csv_bytes`)
are those of the corrected beats. A relabelled or added beat gets the whole share of its class (it is the
reviewer's decision, :data:`EDITED`, not a model's score). Per-beat arrays of the analysis other than the
classes (the atrial fibrillation flags, and any that later versions add) follow deletions and additions: an
added beat gets False, NaN or 0.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .config import CLASSES
from .errors import ECGError

__all__ = ["EDITED", "Edit", "apply_edits", "edited_score_kinds", "snap_to_peak"]

#: What the share of an edited beat is (in place of ``Analysis.score_kinds``' probability / decision score).
EDITED = "edited"
ACTIONS = ("relabel", "delete", "add")
#: An added beat closer than this to a beat already there (seconds) is refused: it is the same beat.
MIN_GAP_S = 0.15


@dataclass(frozen=True)
class Edit:
    """One correction.

    Attributes
    ----------
    action : str
        ``"relabel"``, ``"delete"`` or ``"add"``.
    sample : int
        The beat's R-peak sample (for ``"add"``: where the new beat is).
    label : str
        The class (``"relabel"`` and ``"add"``; one of :data:`ecg_core.config.CLASSES`).
    """

    action: str
    sample: int
    label: str = ""

    def describe(self, sampling_rate: float) -> str:
        """E.g. ``"beat at 12.345 s relabelled VEB"``."""
        at = f"beat at {self.sample / float(sampling_rate):.3f} s"
        return {"relabel": f"{at} relabelled {self.label}", "delete": f"{at} deleted",
                "add": f"{at} added as {self.label}"}[self.action]


def _one_hot(label: str) -> np.ndarray:
    if label not in CLASSES:
        raise ECGError(f"Unknown class {label!r}; choose one of {', '.join(CLASSES)}.")
    row = np.zeros(len(CLASSES))
    row[CLASSES.index(label)] = 1.0
    return row


def _per_beat_fields(analysis) -> list[str]:
    """Names of the analysis's per-beat arrays (first axis as long as its beats), samples and probabilities first."""
    n = len(analysis)
    names = [f.name for f in dataclasses.fields(analysis)
             if isinstance(getattr(analysis, f.name), np.ndarray) and getattr(analysis, f.name).ndim >= 1
             and getattr(analysis, f.name).shape[0] == n]
    return sorted(names, key=lambda k: (k != "samples", k != "probabilities"))


#: Keys of the signal quality's per-beat arrays while edits are replayed.
_QUALITY, _UNREADABLE = "_quality.beat_quality", "_quality.unreadable"


def _filler(array: np.ndarray):
    kind = array.dtype.kind
    return False if kind == "b" else np.nan if kind in "fc" else "" if kind in "OUS" else 0


def apply_edits(analysis, edits) -> tuple[object, np.ndarray]:
    """The analysis with ``edits`` applied in order, and which of its beats were relabelled or added.

    Parameters
    ----------
    analysis : ecg_core.pipeline.Analysis
        Beats of a recording (not segments).
    edits : sequence of Edit
        Applied in order; a later edit of a beat overrides an earlier one.

    Returns
    -------
    analysis : ecg_core.pipeline.Analysis
        The corrected beats (same type, the other fields unchanged).
    edited : numpy.ndarray of bool
        Per beat of the result: relabelled or added by an edit.

    Raises
    ------
    ECGError
        No beat at an edit's sample, a beat added beyond the recording or within :data:`MIN_GAP_S` of
        another, an unknown class or action.
    """
    if analysis.segmented:
        raise ECGError("Segments (pre-cut beats) cannot be edited: they have no positions in a recording.")
    fields = _per_beat_fields(analysis)
    arrays = {k: np.array(getattr(analysis, k)) for k in fields}
    quality = analysis.quality
    if quality is not None:  # the signal quality's per-beat arrays follow the beats too
        arrays[_QUALITY] = np.array(quality.beat_quality, dtype=np.float64)
        arrays[_UNREADABLE] = np.array(quality.unreadable, dtype=bool)
    edited = np.zeros(len(analysis), bool)
    fs = float(analysis.sampling_rate)
    for e in edits:
        s = arrays["samples"]
        sample = int(e.sample)
        if e.action not in ACTIONS:
            raise ECGError(f"Unknown edit {e.action!r}; one of {', '.join(ACTIONS)}.")
        if e.action == "add":
            if not 0 <= sample < int(analysis.n_samples):
                raise ECGError(f"A beat at sample {sample} would lie outside the recording "
                               f"(0 to {int(analysis.n_samples) - 1}).")
            near = np.flatnonzero(np.abs(s - sample) < MIN_GAP_S * fs)
            if near.size:
                raise ECGError(f"There is a beat at {s[near[0]] / fs:.3f} s already, within {1000 * MIN_GAP_S:.0f} ms "
                               f"of {sample / fs:.3f} s: relabel it instead.")
            k = int(np.searchsorted(s, sample))
            row = _one_hot(e.label)
            for name, a in arrays.items():
                value = sample if name == "samples" else row if name == "probabilities" else _filler(a)
                value = 1.0 if name == _QUALITY else value  # a beat the reader placed is read
                arrays[name] = np.insert(a, k, value, axis=0)
            edited = np.insert(edited, k, True)
            continue
        k = int(np.searchsorted(s, sample))
        if k >= s.size or s[k] != sample:
            raise ECGError(f"No beat at sample {sample} ({sample / fs:.3f} s) to {e.action}.")
        if e.action == "delete":
            arrays = {name: np.delete(a, k, axis=0) for name, a in arrays.items()}
            edited = np.delete(edited, k)
        else:
            arrays["probabilities"][k] = _one_hot(e.label)
            if _UNREADABLE in arrays:  # the reader's label stands, even in noise
                arrays[_UNREADABLE][k] = False
            edited[k] = True
    arrays["samples"] = arrays["samples"].astype(np.int64)
    if quality is not None:
        arrays["quality"] = dataclasses.replace(quality, beat_quality=arrays.pop(_QUALITY),
                                                unreadable=arrays.pop(_UNREADABLE))
    return dataclasses.replace(analysis, **arrays), edited


def edited_score_kinds(analysis, edited) -> np.ndarray:
    """``analysis.score_kinds`` with the edited beats' share named :data:`EDITED` (``edited`` None: no edits)."""
    kinds = np.asarray(analysis.score_kinds, dtype=object).copy()
    if edited is not None:
        kinds[np.asarray(edited, bool)] = EDITED
    return kinds


def snap_to_peak(signal, sampling_rate: float, sample: int, *, window_s: float = 0.075) -> int:
    """The sample of the largest deflection from the local median within ``window_s`` of ``sample``.

    Where a reviewer adds a missed beat by its time, the beat goes to its R peak (either polarity).
    """
    x = np.asarray(signal, dtype=np.float64)
    half = max(int(round(window_s * float(sampling_rate))), 1)
    a, b = max(int(sample) - half, 0), min(int(sample) + half + 1, x.size)
    if a >= b:
        return int(np.clip(sample, 0, max(x.size - 1, 0)))
    seg = x[a:b]
    finite = np.isfinite(seg)
    if not finite.any():
        return int(sample)
    dev = np.where(finite, np.abs(seg - np.median(seg[finite])), -1.0)
    return a + int(np.argmax(dev))
