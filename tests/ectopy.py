"""Recordings where atrial ectopy outnumbers normal beats, spliced from real beats of MIT-BIH record 209.

``examples/beat_bank_209.csv`` holds 30 normal and 30 atrial premature beats (250 ms before to
450 ms after the R-peak, MLII in mV; ``examples/make_examples.py`` writes it). A rhythm is a list of
(kind, RR before the beat in seconds); each beat is a randomly chosen real beat of that kind, tapered
at both ends and added at its R time, so a short RR puts the beat's P wave on the previous T wave as
in a real premature beat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecg_core.config import EXAMPLES_DIR

FS = 360
BANK = EXAMPLES_DIR / "beat_bank_209.csv"
_BEFORE = 90  # samples before the R-peak in the bank


def beat_bank() -> dict[str, np.ndarray]:
    """``{"N": (30, 252), "A": (30, 252)}`` beats in mV, each beat's first sample as its baseline."""
    frame = pd.read_csv(BANK)
    waves = frame.drop(columns=["symbol", "sample"]).to_numpy(np.float64)
    waves -= waves[:, :1]
    return {k: waves[(frame["symbol"] == k).to_numpy()] for k in ("N", "A")}


def splice(rhythm, *, seed: int = 0, noise_mv: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signal (mV at 360 Hz), R-peak samples and kinds (``"N"``/``"A"``) of a spliced recording.

    ``rhythm``: sequence of ``(kind, rr_s)``, the RR interval from the previous beat (the first
    beat's is its offset from the start).
    """
    rng = np.random.default_rng(seed)
    bank = beat_bank()
    kinds = np.array([k for k, _ in rhythm])
    r = np.rint(np.cumsum([rr for _, rr in rhythm]) * FS).astype(np.int64) + _BEFORE
    width = bank["N"].shape[1]
    taper = np.ones(width)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, 36))
    taper[:36], taper[-36:] = ramp, ramp[::-1]
    x = np.zeros(int(r[-1]) + width + FS)
    for k, pos in zip(kinds, r, strict=True):
        beats = bank[k]
        x[pos - _BEFORE: pos - _BEFORE + width] += beats[rng.integers(len(beats))] * taper
    x += noise_mv * rng.standard_normal(x.size)
    return x, r, kinds


def atrial_bigeminy(minutes: float = 3.0, sinus_s: float = 0.9) -> list[tuple[str, float]]:
    """N A N A ...: every other beat an atrial premature beat (coupling 60% of the sinus cycle) with a
    non-compensatory pause after it, preceded by 20 sinus beats."""
    out = [("N", sinus_s)] * 20
    while sum(rr for _, rr in out) < 60 * minutes:
        out += [("A", 0.6 * sinus_s), ("N", 1.15 * sinus_s)]
    return out


def frequent_ectopy_bradycardia(minutes: float = 4.0, sinus_s: float = 1.4, seed: int = 1) -> list[tuple[str, float]]:
    """Sinus bradycardia whose beats are mostly atrial premature: after each sinus beat, a run of 2-5
    premature beats at 55-65% of the sinus cycle, then a pause; about 70% of the beats are ectopic."""
    rng = np.random.default_rng(seed)
    out = [("N", sinus_s)] * 20
    while sum(rr for _, rr in out) < 60 * minutes:
        out += [("A", rng.uniform(0.55, 0.65) * sinus_s) for _ in range(rng.integers(2, 6))]
        out += [("N", rng.uniform(1.2, 1.6) * sinus_s)]
    return out


def svt_runs(minutes: float = 4.0, sinus_s: float = 0.85, seed: int = 2) -> list[tuple[str, float]]:
    """Runs of supraventricular tachycardia (8-20 beats at 50% of the sinus cycle) separated by 2-4
    sinus beats; about 80% of the beats are in the runs."""
    rng = np.random.default_rng(seed)
    out = [("N", sinus_s)] * 30
    while sum(rr for _, rr in out) < 60 * minutes:
        out += [("A", 0.5 * sinus_s) for _ in range(rng.integers(8, 21))]
        out += [("N", 1.1 * sinus_s)] + [("N", sinus_s)] * int(rng.integers(1, 4))
    return out
