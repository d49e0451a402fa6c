"""Recordings where atrial ectopy outnumbers normal beats, spliced from real beats of MIT-BIH record 209.

``examples/beat_bank_209.csv`` holds 30 normal and 30 atrial premature beats (250 ms before to
450 ms after the R-peak, MLII in mV; ``examples/make_examples.py`` writes it). The rhythms and the
splicing are :mod:`ecg_core.splices`'s (the training lab makes its ectopy-dominant records the same way,
from the training records' own beats).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecg_core import splices
from ecg_core.config import EXAMPLES_DIR
from ecg_core.splices import (  # noqa: F401 - the tests' rhythms
    atrial_bigeminy,
    frequent_ectopy_bradycardia,
    sinus_tachycardia,
    svt_runs,
)

FS = 360
BANK = EXAMPLES_DIR / "beat_bank_209.csv"


def beat_bank() -> dict[str, np.ndarray]:
    """``{"N": (30, 252), "A": (30, 252)}`` beats in mV, each beat's first sample as its baseline."""
    frame = pd.read_csv(BANK)
    waves = frame.drop(columns=["symbol", "sample"]).to_numpy(np.float64)
    waves -= waves[:, :1]
    return {k: waves[(frame["symbol"] == k).to_numpy()] for k in ("N", "A")}


def splice(rhythm, *, seed: int = 0, noise_mv: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signal (mV at 360 Hz), R-peak samples and kinds (``"N"``/``"A"``) of a recording spliced from the bank.

    ``rhythm``: sequence of ``(kind, rr_s)`` (:func:`ecg_core.splices.splice`).
    """
    return splices.splice(beat_bank(), rhythm, FS, seed=seed, noise=noise_mv)
