"""Filtering with scipy.signal: baseline wander, mains and muscle noise.

All functions take ``(signal, sampling_rate, *, options)`` with options in Hz and return a new
``float64`` array of the same length (zero-phase, so peaks do not shift).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal as sps


@lru_cache(maxsize=64)
def _bandpass_sos(lowcut: float, highcut: float, sampling_rate: float, order: int):
    nyq = sampling_rate / 2
    high = min(highcut, 0.45 * sampling_rate)
    if lowcut > 0:
        return sps.butter(order, [lowcut / nyq, high / nyq], btype="bandpass", output="sos")
    return sps.butter(order, high / nyq, btype="lowpass", output="sos")


def bandpass(signal, sampling_rate, *, lowcut: float = 0.5, highcut: float = 40.0, order: int = 2):
    """Zero-phase Butterworth band-pass.

    ``lowcut`` removes baseline wander (0 disables it), ``highcut`` muscle noise and mains
    interference above it (clipped to 0.45 x ``sampling_rate``).
    """
    sos = _bandpass_sos(float(lowcut), float(highcut), float(sampling_rate), int(order))
    return sps.sosfiltfilt(sos, np.asarray(signal, dtype=np.float64))


def notch(signal, sampling_rate, *, freq: float = 50.0, quality: float = 30.0):
    """Zero-phase IIR notch at the mains frequency ``freq`` (50 or 60 Hz)."""
    if freq >= sampling_rate / 2:
        return np.asarray(signal, dtype=np.float64)
    b, a = sps.iirnotch(freq, quality, fs=sampling_rate)
    return sps.filtfilt(b, a, np.asarray(signal, dtype=np.float64))


def clean_ecg(signal, sampling_rate, *, lowcut: float = 0.5, highcut: float = 40.0, mains: float | None = None):
    """Default cleaning for display and beat morphology: optional mains notch, then band-pass."""
    x = np.asarray(signal, dtype=np.float64)
    if mains:
        x = notch(x, sampling_rate, freq=mains)
    return bandpass(x, sampling_rate, lowcut=lowcut, highcut=highcut)
