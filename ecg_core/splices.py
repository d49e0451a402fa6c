"""Recordings where atrial ectopy outnumbers sinus beats, spliced from real beats (training lab and tests).

Where ectopic beats outnumber normal ones (frequent atrial ectopy in a bradycardia, long runs of
supraventricular tachycardia) the running median RR is the ectopic rhythm itself, and the training
records hold almost none of them (one patient, SVDB 865). This module makes such recordings from a
record's own beats: a rhythm is a list of ``(kind, RR before the beat in seconds)``; each beat is a
randomly chosen real beat of that kind (250 ms before to 450 ms after its R-peak), tapered at both
ends and added at its R time, so a short RR puts the beat's P wave on the previous T wave as in a
real premature beat. The product never imports it; ``tests/ectopy.py`` builds its test recordings
with it, and :func:`ectopy_records` the training lab's (:mod:`ecg_core.crossdb`).
"""

from __future__ import annotations

import numpy as np

#: Beat waveforms are cut this long before and after the R-peak (seconds).
BEFORE_S, AFTER_S = 0.25, 0.45
#: Minutes of each spliced recording, and the fewest beats of each kind a record must give.
MINUTES = 3.0
MIN_BEATS = 20


def cut_waves(signal, sampling_rate: float, peaks) -> np.ndarray:
    """``(n, width)`` waveforms around ``peaks`` (``BEFORE_S`` .. ``AFTER_S``), each minus its first sample."""
    x = np.asarray(signal, dtype=np.float64)
    before, width = int(round(BEFORE_S * sampling_rate)), int(round((BEFORE_S + AFTER_S) * sampling_rate))
    peaks = np.asarray(peaks, dtype=np.int64)
    peaks = peaks[(peaks >= before) & (peaks - before + width <= len(x))]
    waves = x[peaks[:, None] - before + np.arange(width)[None, :]]
    return waves - waves[:, :1]


def splice(waves: dict[str, np.ndarray], rhythm, sampling_rate: float, *, seed: int = 0,
           noise: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signal, R-peak samples and kinds of a recording spliced from ``waves`` (``{kind: (k, width)}``).

    ``rhythm``: sequence of ``(kind, rr_s)``, the RR interval from the previous beat (the first beat's
    is its offset from the start); ``noise``: standard deviation of the white noise added, in the
    waves' units.
    """
    rng = np.random.default_rng(seed)
    fs = float(sampling_rate)
    before = int(round(BEFORE_S * fs))
    kinds = np.array([k for k, _ in rhythm])
    r = np.rint(np.cumsum([rr for _, rr in rhythm]) * fs).astype(np.int64) + before
    width = next(iter(waves.values())).shape[1]
    taper = np.ones(width)
    edge = max(2, int(0.1 * fs))
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, edge))
    taper[:edge], taper[-edge:] = ramp, ramp[::-1]
    x = np.zeros(int(r[-1]) + width + int(fs))
    for k, pos in zip(kinds, r, strict=True):
        bank = waves[k]
        x[pos - before: pos - before + width] += bank[rng.integers(len(bank))] * taper
    x += noise * rng.standard_normal(x.size)
    return x, r, kinds


def _until(out: list, minutes: float) -> bool:
    return sum(rr for _, rr in out) < 60 * minutes


def atrial_bigeminy(minutes: float = 3.0, sinus_s: float = 0.9, *, coupling: float = 0.6,
                    pause: float = 1.15) -> list[tuple[str, float]]:
    """N A N A ...: every other beat atrial premature (``coupling`` of the sinus cycle), a non-compensatory
    pause after it (``pause`` of it), after 20 sinus beats."""
    out = [("N", sinus_s)] * 20
    while _until(out, minutes):
        out += [("A", coupling * sinus_s), ("N", pause * sinus_s)]
    return out


def frequent_ectopy_bradycardia(minutes: float = 4.0, sinus_s: float = 1.4, seed: int = 1) -> list[tuple[str, float]]:
    """Sinus bradycardia whose beats are mostly atrial premature: after each sinus beat, a run of 2-5
    premature beats at 55-65% of the sinus cycle, then a pause; about 70% of the beats are ectopic."""
    rng = np.random.default_rng(seed)
    out = [("N", sinus_s)] * 20
    while _until(out, minutes):
        out += [("A", rng.uniform(0.55, 0.65) * sinus_s) for _ in range(rng.integers(2, 6))]
        out += [("N", rng.uniform(1.2, 1.6) * sinus_s)]
    return out


def svt_runs(minutes: float = 4.0, sinus_s: float = 0.85, seed: int = 2, *, longest: int = 20,
             cycle: float = 0.5) -> list[tuple[str, float]]:
    """Runs of supraventricular tachycardia (8 to ``longest`` beats at ``cycle`` of the sinus cycle)
    separated by 2-4 sinus beats; about 80% of the beats are in the runs."""
    rng = np.random.default_rng(seed)
    out = [("N", sinus_s)] * 30
    while _until(out, minutes):
        out += [("A", cycle * sinus_s) for _ in range(rng.integers(8, longest + 1))]
        out += [("N", 1.1 * sinus_s)] + [("N", sinus_s)] * int(rng.integers(1, 4))
    return out


def sinus_tachycardia(minutes: float = 4.0, sinus_s: float = 0.85, seed: int = 3, *,
                      fastest: float = 0.6) -> list[tuple[str, float]]:
    """Sinus rhythm that speeds up gradually (over 30-60 s) to ``fastest`` of its cycle, stays there 1-2
    min and slows down again, every beat normal: fast is not ectopic by itself."""
    rng = np.random.default_rng(seed)
    out = [("N", sinus_s)] * 30
    while _until(out, minutes):
        up, stay = rng.uniform(30, 60), rng.uniform(60, 120)
        k = max(2, int(up / (sinus_s * (1 + fastest) / 2)))  # beats of the ramp, a geometric one
        ramp = sinus_s * fastest ** (np.arange(1, k + 1) / k)
        cycle = ramp[-1]
        out += [("N", rr) for rr in ramp] + [("N", cycle * rng.uniform(0.97, 1.03))
                                             for _ in range(int(stay / cycle))] + [("N", rr) for rr in ramp[::-1]]
    return out


def rhythms(sinus_s: float, seed: int) -> list[tuple[str, list]]:
    """The three ectopy-dominant rhythms and a sinus tachycardia, with random rates and lengths, for a sinus
    cycle of ``sinus_s``."""
    rng = np.random.default_rng(seed)
    return [("bigeminy", atrial_bigeminy(MINUTES, sinus_s, coupling=rng.uniform(0.55, 0.75),
                                         pause=rng.uniform(1.05, 1.3))),
            ("bradycardia", frequent_ectopy_bradycardia(MINUTES, sinus_s * rng.uniform(1.1, 1.5), seed + 1)),
            ("svt", svt_runs(MINUTES, sinus_s, seed + 2, longest=int(rng.integers(20, 200)),
                             cycle=rng.uniform(0.45, 0.7))),
            ("tachycardia", sinus_tachycardia(MINUTES, sinus_s, seed + 3, fastest=rng.uniform(0.45, 0.7)))]


def ectopy_records(signal, sampling_rate: float, peaks, labels, *, sveb: int, normal: int = 0, seed: int = 0,
                   kinds=None):
    """Spliced ectopy-dominant recordings from ONE record's own normal and SVEB beats.

    ``labels`` (class indices, ``sveb`` and ``normal`` the two used) at ``peaks`` of ``signal``. Yields
    ``(kind, signal, peaks, labels)`` for each rhythm of :func:`rhythms` (those named in ``kinds``, or
    all) at the record's median normal RR; nothing when the record has fewer than ``MIN_BEATS`` of either
    kind.
    """
    peaks, labels = np.asarray(peaks), np.asarray(labels)
    waves = {"N": cut_waves(signal, sampling_rate, peaks[labels == normal]),
             "A": cut_waves(signal, sampling_rate, peaks[labels == sveb])}
    if min(len(w) for w in waves.values()) < MIN_BEATS:
        return
    rr = np.diff(peaks) / float(sampling_rate)
    sinus = float(np.median(rr[(labels[1:] == normal) & (labels[:-1] == normal)])) if len(rr) else 0.8
    sinus = float(np.clip(sinus, 0.5, 1.3))
    scale = float(np.median(np.ptp(waves["N"], axis=1)))
    for i, (kind, rhythm) in enumerate(rhythms(sinus, seed)):
        if kinds is not None and kind not in kinds:
            continue
        x, r, made = splice(waves, rhythm, sampling_rate, seed=seed + i, noise=0.01 * scale)
        yield kind, x, r, np.where(made == "A", sveb, normal)
