"""Stage 5 of the R-peak detector (:mod:`ecg_core.peaks`): a second lead decides in noise.

Noise rarely hides or mimics a beat in two leads at once: each lead has its own electrodes, so its
own noise (the noise stress test adds a separate noise channel to each lead, at each lead's own
SNR). Where the detecting lead is noisy (the noise SNR of stage 4, the lower of its two measures,
under ``LEAD_NOISE_DB``), the other lead's own detections (stages 1-4 run on it) and their QRS
template correlations (:func:`ecg_core.peaks_noise.template_match`, in that lead's templates) vote:

- *drop*: a detection that does not look like the recording's QRS complexes (template correlation
  under ``LEAD_SUSPECT_CORR``) and that the other lead does not confirm (no detection of it within
  ``LEAD_MATCH_S`` whose correlation reaches ``LEAD_CONFIRM_CORR``) is dropped, the least QRS-like
  first, unless that would leave a pause: its kept neighbours ``LEAD_PAUSE_RR`` median RR apart or more
  (a real beat hidden in the noise is better kept than lost);
- *add*: a detection of the other lead that looks like its QRS complexes (correlation at least
  ``LEAD_ADD_CORR``), where the detecting lead has none within ``LEAD_MATCH_S``, is added where it fills
  a gap of ``LEAD_GAP_RR`` median RR or more, at least ``LEAD_ADD_MIN_RR`` median RR from either side.

The median RR is that of ``NOISE_RR_BEATS`` detections around (of the detecting lead). Nothing is
done where the detecting lead is cleaner than ``LEAD_NOISE_DB`` (the lead is not even read there
unless it holds a suspect), so clean recordings keep stage 4's beats. The thresholds were chosen on
the project's noise-stress records (MIT-BIH 118 and 119 with the NSTDB ``ma`` noise, ``ma`` + ``bw`` and
``ma`` band-limited to 0.5-15 Hz, 0-12 dB; ``python -m ecg_core.bench noise``), and checked on the 26
MIT-BIH and 39 SVDB clean records for no loss; none on held-out data.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from .peaks_noise import NOISE_RR_BEATS, NoiseBumps

#: The detecting lead's noise SNR (dB) under which the second lead votes.
LEAD_NOISE_DB = 15.0
#: Detections of the two leads this close (s) are the same beat.
LEAD_MATCH_S = 0.08
#: Drop: template correlation under which a detection is a suspect, the other lead's correlation
#: that confirms it, and the gap (x median RR) its removal may not leave.
LEAD_SUSPECT_CORR = 0.6
LEAD_CONFIRM_CORR = 0.3
LEAD_PAUSE_RR = 1.7
#: The second lead is read around the detecting lead's suspects (:func:`noisy_spans`), this far (s) on either side.
LEAD_MARGIN_S = 10.0
#: Add: the other lead's correlation, the gap it fills (x median RR), and its distance from either side.
LEAD_ADD_CORR = 0.7
LEAD_GAP_RR = 1.4
LEAD_ADD_MIN_RR = 0.4


def _nearest(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``a``: the index of the nearest of sorted ``b`` and the distance to it."""
    if b.size == 0:
        return np.zeros(a.size, np.int64), np.full(a.size, np.iinfo(np.int64).max)
    j = np.clip(np.searchsorted(b, a), 1, max(1, b.size - 1))
    left = np.abs(a - b[j - 1])
    right = np.abs(b[np.minimum(j, b.size - 1)] - a)
    k = np.where(right < left, np.minimum(j, b.size - 1), j - 1)
    return k, np.minimum(left, right)


def _suspect(first: NoiseBumps) -> np.ndarray:
    """Detections in noise that do not look like the recording's QRS complexes (either polarity)."""
    return (first.noise_db < LEAD_NOISE_DB) & (np.abs(first.corr) < LEAD_SUSPECT_CORR)


def needs_second_lead(first: NoiseBumps) -> bool:
    """Whether stage 5 can change anything: a suspect."""
    return bool(_suspect(first).any())


def noisy_spans(first: NoiseBumps, fs: float, n_samples: int) -> list[tuple[int, int]]:
    """``(start, end)`` sample spans, ``LEAD_MARGIN_S`` around every suspect (a detection in noise that does
    not look like a QRS), joined where they overlap."""
    margin = int(round(LEAD_MARGIN_S * fs))
    spans: list[tuple[int, int]] = []
    for at in first.peaks[_suspect(first)].tolist():
        a, b = max(0, at - margin), min(n_samples, at + margin + 1)
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def vote(first: NoiseBumps, second: NoiseBumps, fs: float) -> np.ndarray:
    """Stage 5: the detecting lead's beats ``first`` with the second lead's ``second`` voting in noise.

    Both come from :func:`ecg_core.peaks_noise.noise_bumps` on their own lead, with the template
    correlation measured under ``LEAD_NOISE_DB`` (``first``) and everywhere (``second``).
    """
    p = first.peaks
    c0, c1 = np.abs(first.corr), np.abs(second.corr)
    if p.size < NOISE_RR_BEATS:
        return p
    tol = LEAD_MATCH_S * fs
    k, d = _nearest(p, second.peaks)
    confirmed = (d <= tol) & (c1[k] >= LEAD_CONFIRM_CORR) if second.peaks.size else np.zeros(p.size, bool)
    rr = np.diff(p)
    median = median_filter(np.concatenate(([rr[0]], rr)).astype(np.float64), NOISE_RR_BEATS, mode="nearest")
    keep = np.ones(p.size, bool)
    suspects = np.flatnonzero(_suspect(first) & ~confirmed)
    for i in suspects[np.argsort(c0[suspects], kind="stable")].tolist():
        a, b = i - 1, i + 1
        while a >= 0 and not keep[a]:
            a -= 1
        while b < p.size and not keep[b]:
            b += 1
        if a >= 0 and b < p.size and p[b] - p[a] < LEAD_PAUSE_RR * median[i]:
            keep[i] = False
    kept = p[keep]
    # the second lead's beats where the detecting lead is noisy and has none
    q = second.peaks
    if q.size == 0 or kept.size < 2:
        return kept
    _, d = _nearest(q, p)
    around = np.interp(q, p, first.noise_db)
    candidates = q[(d > tol) & (around < LEAD_NOISE_DB) & (c1 >= LEAD_ADD_CORR)]
    for c in candidates.tolist():
        j = int(np.searchsorted(kept, c))
        if j == 0 or j == kept.size:
            continue
        m = float(np.interp(c, p, median))
        if kept[j] - kept[j - 1] >= LEAD_GAP_RR * m and min(c - kept[j - 1], kept[j] - c) >= LEAD_ADD_MIN_RR * m:
            kept = np.insert(kept, j, c)
    return kept
