"""Rhythm events from classified beats: the Holter event list.

One function, :func:`find_events`, turns the beats of one recording (R-peak samples, AAMI labels and
the atrial fibrillation flags of :class:`ecg_core.pipeline.Analysis`) into the events a clinician looks
for. The dashboard, the CLI (``<stem>.events.csv``) and the API (``events``) all call it.

Events
------
- **VEB couplet**: two VEB in a row. **VT**: three or more VEB in a row (three: a triplet), with its
  length and rate.
- **SVT**: three or more SVEB in a row, with its length and rate.
- **Bigeminy** / **trigeminy** (ventricular): at least :data:`MIN_CYCLES` VEB each after one (bigeminy)
  or two (trigeminy) N beats in a row.
- **Pause**: an RR interval longer than :data:`PAUSE_S`, with its duration.
- **AF**: a stretch of beats flagged as atrial fibrillation (gaps of up to :data:`AF_GAP_BEATS` other
  beats bridged), at least :data:`AF_MIN_BEATS` beats.
- **Bradycardia** / **tachycardia**: a stretch where the heart rate over :data:`RATE_BEATS` beats stays
  below :data:`BRADY_BPM` / above :data:`TACHY_BPM`, more than :data:`RATE_BEATS` beats long; stretches
  that overlap or lie at most :data:`RATE_BEATS` beats apart are one.

Reference rhythm annotations (MIT-BIH ``aux_note`` such as ``(VT``) are compared with events by
:func:`rhythm_kind` and :func:`overlapping`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

__all__ = ["EpisodeScore", "Event", "KINDS", "REFERENCE_RHYTHMS", "find_events", "overlapping", "reference_episodes",
           "rhythm_kind", "score_episodes"]

#: An RR interval longer than this is a pause (seconds).
PAUSE_S = 2.0
#: Heart rate below this is bradycardia, above :data:`TACHY_BPM` tachycardia (beats per minute).
BRADY_BPM = 50.0
TACHY_BPM = 100.0
#: Beats over which the heart rate of a brady- or tachycardia stretch is measured, and its shortest length.
RATE_BEATS = 8
#: Fewest ectopic beats of a bigeminy or trigeminy episode.
MIN_CYCLES = 3
#: Fewest flagged beats of an AF episode, and the most other beats bridged inside one.
AF_MIN_BEATS = 8
AF_GAP_BEATS = 3

#: Every kind of event, in the order tables show them.
KINDS = ("VT", "VEB couplet", "SVT", "bigeminy", "trigeminy", "pause", "AF", "bradycardia", "tachycardia")
#: MIT-BIH rhythm annotations (``aux_note``) and the event kind each corresponds to.
REFERENCE_RHYTHMS = {"(VT": "VT", "(SVTA": "SVT", "(B": "bigeminy", "(T": "trigeminy", "(AFIB": "AF",
                     "(AFL": "AF", "(SBR": "bradycardia"}


@dataclass(frozen=True)
class Event:
    """One rhythm event.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    first_beat, last_beat : int
        Indices of its first and last beat (inclusive) in the beats given to :func:`find_events`.
    start_s, end_s : float
        Times of those beats (seconds from the start of the recording).
    beats : int
        Beats in the event (for a pause: the two around it).
    rate_bpm : float or None
        Mean heart rate over the event's RR intervals (None for a pause).
    detail : str
        A short description, e.g. ``"5 beats at 152 bpm"`` or ``"pause of 2.4 s"``.
    """

    kind: str
    first_beat: int
    last_beat: int
    start_s: float
    end_s: float
    beats: int
    rate_bpm: float | None
    detail: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def centre_s(self) -> float:
        return 0.5 * (self.start_s + self.end_s)

    def to_dict(self) -> dict:
        """The event as plain values (the CLI's and the API's columns), ``duration_s`` included."""
        return {**asdict(self), "duration_s": self.duration_s}


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of the runs of True in ``mask``."""
    m = np.concatenate(([False], np.asarray(mask, bool), [False]))
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _rate(t: np.ndarray, a: int, b: int) -> float | None:
    return 60.0 * (b - a) / (t[b] - t[a]) if b > a and t[b] > t[a] else None


def _event(kind: str, t: np.ndarray, a: int, b: int, detail: str = "") -> Event:
    rate = _rate(t, a, b) if kind != "pause" else None
    n = b - a + 1
    if not detail:
        detail = f"{n} beats" + (f" at {rate:.0f} bpm" if rate is not None else "")
    return Event(kind, a, b, float(t[a]), float(t[b]), n, rate, detail)


def _pattern_episodes(labels: np.ndarray, step: int) -> list[tuple[int, int]]:
    """Bigeminy (``step`` 2) or trigeminy (3): VEB every ``step`` beats with N between, >= MIN_CYCLES VEB."""
    veb = np.flatnonzero(labels == "VEB")
    if veb.size < MIN_CYCLES:
        return []
    ok = np.diff(veb) == step
    for k in np.flatnonzero(ok):
        ok[k] = bool(np.all(labels[veb[k] + 1: veb[k + 1]] == "N"))
    out = []
    for a, b in _runs(ok):  # gaps a..b join VEB a..b+1
        first, last = veb[a], veb[b + 1]
        if b + 2 - a >= MIN_CYCLES and first - (step - 1) >= 0 and np.all(labels[first - step + 1: first] == "N"):
            out.append((int(first - step + 1), int(last)))
    return out


def _bridged(mask: np.ndarray, gap: int) -> np.ndarray:
    """``mask`` with runs of up to ``gap`` False between two True set True."""
    out = np.asarray(mask, bool).copy()
    for a, b in _runs(~out):
        if a > 0 and b < out.size - 1 and b - a + 1 <= gap:
            out[a: b + 1] = True
    return out


def readable_stretches(samples, readable, spans=()) -> list[tuple[int, int]]:
    """``[lo, hi)`` index ranges of consecutive readable beats with no unreadable span between two of them.

    Parameters
    ----------
    samples : array_like of int
        R-peak sample numbers, in time order.
    readable : array_like of bool
        Per beat: False for a beat in signal that cannot be read.
    spans : array_like, optional
        ``(k, 2)`` ``[start, end)`` sample spans of unreadable signal (a flat lead holds no beats to mark).

    Examples
    --------
    >>> readable_stretches([10, 20, 30, 40, 50, 60], [True, True, False, True, True, True], [[42, 48]])
    [(0, 2), (3, 4), (4, 6)]
    """
    s = np.asarray(samples, dtype=np.int64)
    ok = np.asarray(readable, bool)
    cut = np.zeros(s.size, bool)  # cut[k]: no event may run from beat k - 1 to beat k
    sp = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    if s.size > 1 and len(sp):
        # a span overlapping the interval (s[k-1], s[k]) lies between the two beats
        first = np.searchsorted(sp[:, 1], s[:-1], side="right")  # first span ending after s[k-1]
        cut[1:] = (first < len(sp)) & (sp[np.minimum(first, len(sp) - 1), 0] < s[1:])
    # a stretch starts at a readable beat after an unreadable one or a cut, and ends before the next such
    starts = np.flatnonzero(ok & (np.concatenate(([True], ~ok[:-1])) | cut))
    ends = np.flatnonzero(ok & (np.concatenate((~ok[1:], [True])) | np.concatenate((cut[1:], [False])))) + 1
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def find_events(samples, labels, sampling_rate, *, atrial_fibrillation=None, readable=None,
                unreadable_spans=()) -> tuple[Event, ...]:
    """The rhythm events of one recording's classified beats, in time order.

    Parameters
    ----------
    samples : array_like of int
        R-peak sample numbers, in time order.
    labels : array_like of str
        AAMI class of each beat (``N``, ``SVEB``, ``VEB``, ``F``, ``Q``).
    sampling_rate : float
        Hz.
    atrial_fibrillation : array_like of bool, optional
        Beats flagged as suspected atrial fibrillation (:attr:`ecg_core.pipeline.Analysis.atrial_fibrillation`);
        None: no AF events.
    readable : array_like of bool, optional
        Per beat: False for a beat in unreadable signal (:attr:`ecg_core.pipeline.Analysis.unreadable`). Events
        are then found in each stretch of :func:`readable_stretches` alone: none contains an unreadable beat or
        runs across unreadable signal (no pause, tachycardia or AF made of noise).
    unreadable_spans : array_like, optional
        ``(k, 2)`` sample spans of unreadable signal, for :func:`readable_stretches`.

    Returns
    -------
    tuple of Event
        Sorted by start time, then by :data:`KINDS` order.
    """
    s = np.asarray(samples, dtype=np.int64)
    lab = np.asarray(labels).astype(str)
    if s.size != lab.size:
        raise ValueError("samples and labels must have the same length")
    af = None if atrial_fibrillation is None else np.asarray(atrial_fibrillation, bool)
    stretches = [(0, s.size)] if readable is None else readable_stretches(s, readable, unreadable_spans)
    events = []
    for lo, hi in stretches:
        part = _events(s[lo:hi], lab[lo:hi], float(sampling_rate), None if af is None else af[lo:hi])
        events += [replace(e, first_beat=e.first_beat + lo, last_beat=e.last_beat + lo) for e in part]
    order = {k: i for i, k in enumerate(KINDS)}
    return tuple(sorted(events, key=lambda e: (e.start_s, order[e.kind])))


def _events(s: np.ndarray, lab: np.ndarray, sampling_rate: float, atrial_fibrillation) -> list[Event]:
    """The events of one stretch of beats (indices from its first beat), unsorted."""
    t = s / sampling_rate
    events: list[Event] = []
    for a, b in _runs(lab == "VEB"):
        if b > a:
            kind = "VT" if b - a >= 2 else "VEB couplet"
            ev = _event(kind, t, a, b)
            events.append(ev if b - a != 2 else Event(**{**asdict(ev), "detail": ev.detail + " (triplet)"}))
    events += [_event("SVT", t, a, b) for a, b in _runs(lab == "SVEB") if b - a >= 2]
    for kind, step in (("bigeminy", 2), ("trigeminy", 3)):
        events += [_event(kind, t, a, b) for a, b in _pattern_episodes(lab, step)]
    if s.size >= 2:
        rr = np.diff(t)
        events += [_event("pause", t, int(k), int(k) + 1, f"pause of {rr[k]:.1f} s")
                   for k in np.flatnonzero(rr > PAUSE_S)]
    if atrial_fibrillation is not None and s.size:
        af = _bridged(np.asarray(atrial_fibrillation, bool), AF_GAP_BEATS)
        events += [_event("AF", t, a, b) for a, b in _runs(af) if b - a + 1 >= AF_MIN_BEATS]
    if s.size > RATE_BEATS:
        # heart rate over RATE_BEATS intervals ending at each beat
        span = t[RATE_BEATS:] - t[:-RATE_BEATS]
        hr = np.full(s.size, np.nan)
        hr[RATE_BEATS:] = 60.0 * RATE_BEATS / np.maximum(span, 1e-9)
        for kind, mask in (("bradycardia", hr < BRADY_BPM), ("tachycardia", hr > TACHY_BPM)):
            stretches: list[list[int]] = []
            for a, b in _runs(mask):
                a = max(0, a - RATE_BEATS)  # the stretch starts where its first window starts
                if stretches and a <= stretches[-1][1] + RATE_BEATS:  # overlapping or a few beats apart: one
                    stretches[-1][1] = b
                else:
                    stretches.append([a, b])
            events += [_event(kind, t, a, b) for a, b in stretches if b - a + 1 > RATE_BEATS]
    return events


def rhythm_kind(aux_note: str) -> str | None:
    """The event kind a reference rhythm annotation (MIT-BIH ``aux_note``, e.g. ``"(VT"``) corresponds to."""
    return REFERENCE_RHYTHMS.get(str(aux_note).strip().rstrip("\x00"))


def overlapping(start_s: float, end_s: float, episodes) -> list:
    """The ``(start_s, end_s, ...)`` episodes that overlap the span ``[start_s, end_s]``."""
    return [e for e in episodes if e[0] <= end_s and e[1] >= start_s]


@dataclass(frozen=True)
class EpisodeScore:
    """Episode-level agreement of events of one kind with reference rhythm episodes (pooled counts)."""

    kind: str
    reference: int  # reference episodes
    found: int  # reference episodes overlapped by an event of the kind
    events: int  # events of the kind
    true_events: int  # events overlapping a reference episode of the kind

    @property
    def sensitivity(self) -> float:
        return self.found / self.reference if self.reference else float("nan")

    @property
    def ppv(self) -> float:
        return self.true_events / self.events if self.events else float("nan")

    def __add__(self, other: EpisodeScore) -> EpisodeScore:
        return EpisodeScore(self.kind, self.reference + other.reference, self.found + other.found,
                            self.events + other.events, self.true_events + other.true_events)


def reference_episodes(rhythms, sampling_rate) -> list[tuple[float, float, str]]:
    """``(start_s, end_s, kind)`` of the reference rhythm episodes (``Annotations.rhythms``) an event kind has."""
    fs = float(sampling_rate)
    return [(a / fs, b / fs, rhythm_kind(note)) for a, b, note in rhythms if rhythm_kind(note)]


def score_episodes(events, rhythms, sampling_rate, *, kinds=("VT", "SVT", "bigeminy", "trigeminy", "AF")):
    """Episode sensitivity and positive predictivity of ``events`` against reference rhythm episodes.

    A reference episode (MIT-BIH ``aux_note``, :data:`REFERENCE_RHYTHMS`) is found when an event of its
    kind overlaps it; an event is true when it overlaps a reference episode of its kind.

    Parameters
    ----------
    events : sequence of Event
        :func:`find_events` of one recording.
    rhythms : sequence of (int, int, str)
        ``Annotations.rhythms`` of the same recording (samples at ``sampling_rate``).
    sampling_rate : float
        Hz.
    kinds : sequence of str
        Event kinds to score.

    Returns
    -------
    dict of str to EpisodeScore
    """
    ref = reference_episodes(rhythms, sampling_rate)
    out = {}
    for kind in kinds:
        episodes = [e for e in ref if e[2] == kind]
        mine = [e for e in events if e.kind == kind]
        found = sum(1 for a, b, _ in episodes if any(e.start_s <= b and e.end_s >= a for e in mine))
        true = sum(1 for e in mine if overlapping(e.start_s, e.end_s, episodes))
        out[kind] = EpisodeScore(kind, len(episodes), found, len(mine), true)
    return out
