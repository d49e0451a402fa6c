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


#: The default band of :func:`bandpass` and :func:`clean_ecg` (Hz) and the Butterworth order.
LOWCUT, HIGHCUT, ORDER = 0.5, 40.0, 2


def bandpass(signal, sampling_rate, *, lowcut: float = LOWCUT, highcut: float = HIGHCUT, order: int = ORDER):
    """Zero-phase Butterworth band-pass.

    ``lowcut`` removes baseline wander (0 disables it), ``highcut`` muscle noise and mains
    interference above it (clipped to 0.45 x ``sampling_rate``).
    """
    sos = _bandpass_sos(float(lowcut), float(highcut), float(sampling_rate), int(order))
    return sosfiltfilt(sos, np.asarray(signal, dtype=np.float64))


def bandpass_blocks(signal, sampling_rate, *, lowcut: float = LOWCUT, highcut: float = HIGHCUT,
                    order: int = ORDER):
    """:func:`bandpass` of ``signal`` as ``(start, values)`` blocks from its end to its start.

    The same numbers (:func:`sosfiltfilt_blocks`), without a full-length output array: for a caller
    that needs each filtered sample once (e.g. to cut beat windows), however long the signal.
    """
    sos = _bandpass_sos(float(lowcut), float(highcut), float(sampling_rate), int(order))
    return sosfiltfilt_blocks(sos, np.asarray(signal, dtype=np.float64))


#: Samples per block of :func:`sosfiltfilt` (about 8 MB of float64).
BLOCK = 1 << 20


def sosfiltfilt(sos, x, *, block: int = BLOCK) -> np.ndarray:
    """``scipy.signal.sosfiltfilt(sos, x)`` of a 1-D float64 ``x``, computed in blocks: the same numbers.

    scipy's version holds the padded signal, the forward pass and its reversal at full length at
    once (four times a 24-hour recording); here the forward pass runs block by block into one
    output array, carrying the filter state across blocks (``sosfilt``'s ``zi``), and the backward
    pass runs over it in place from the end. The recursion is the same, sample by sample, so the
    result is identical (a test compares them); the extra memory is one block. The filter's initial
    state is computed once per filter (scipy's takes a third of the time of a short signal's filtering).
    """
    edge = _padlen(sos)
    if x.ndim != 1 or x.size <= edge:
        return sps.sosfiltfilt(sos, x)
    zi = _sosfilt_zi(sos)
    left, right = _odd_ends(x, edge)
    y = np.empty(x.size + 2 * edge)
    z = zi * left[0:1]
    pos = 0
    parts = [left, *(x[i:i + block] for i in range(0, x.size, block)), right]
    for part in parts:
        y[pos:pos + part.size], z = sps.sosfilt(sos, part, zi=z)
        pos += part.size
    z = zi * y[-1:]
    for stop in range(y.size, 0, -block):
        start = max(0, stop - block)
        out, z = sps.sosfilt(sos, y[start:stop][::-1], zi=z)
        y[start:stop] = out[::-1]
    return y[edge: edge + x.size]


def block_mean(signal, sampling_rate, *, target_rate: float) -> tuple[np.ndarray, float, int]:
    """Average consecutive blocks of ``q = sampling_rate // target_rate`` samples (a cheap anti-aliased decimation).

    Returns the block means (``len(signal) // q`` of them; sample ``k`` covers samples ``k*q .. k*q+q-1``),
    their rate ``sampling_rate / q`` and ``q``. With ``q == 1`` the signal itself is returned.
    """
    x = np.asarray(signal, dtype=np.float64)
    q = max(1, int(sampling_rate // target_rate))
    if q == 1:
        return x, float(sampling_rate), 1
    n = x.size // q
    low = x[0: n * q: q].copy()
    for k in range(1, q):
        low += x[k: n * q: q]
    low *= 1.0 / q
    return low, sampling_rate / q, q


def sosfiltfilt_blocks(sos, x, *, block: int = BLOCK):
    """:func:`sosfiltfilt` of a 1-D float64 ``x`` as ``(start, values)`` blocks of ``block`` samples, from its end.

    ``values`` is ``sosfiltfilt(sos, x)[start:start + len(values)]``, number for number. The forward
    pass runs once keeping only the filter state at the start of each block; the backward pass, from
    the end, recomputes each block's forward output from its state (the same recursion from the same
    state: the same numbers) and filters it backwards. Memory: a few blocks, however long ``x``; the
    price is a second forward pass. A signal of at most ``block`` samples comes as one block.
    """
    edge = _padlen(sos)
    if x.ndim != 1 or x.size <= max(edge, block):
        yield 0, sps.sosfiltfilt(sos, x)
        return
    zi = _sosfilt_zi(sos)
    left, right = _odd_ends(x, edge)
    starts = range(0, x.size, block)
    parts = [left, *(x[i:i + block] for i in starts), right]
    states = []
    z = zi * left[0:1]
    for part in parts:
        states.append(z)
        forward, z = sps.sosfilt(sos, part, zi=z)
    z = zi * forward[-1:]  # the backward pass starts from the last forward output (of ``right``)
    for k in range(len(parts) - 1, 0, -1):  # the odd extensions at either end are not part of the output
        if k < len(parts) - 1:
            forward = sps.sosfilt(sos, parts[k], zi=states[k])[0]
        out, z = sps.sosfilt(sos, forward[::-1], zi=z)
        if k < len(parts) - 1:
            yield starts[k - 1], out[::-1]


_ZI: dict[bytes, np.ndarray] = {}


def _sosfilt_zi(sos) -> np.ndarray:
    """``scipy.signal.sosfilt_zi(sos)``, kept per filter (read-only)."""
    key = np.ascontiguousarray(sos, dtype=np.float64).tobytes()
    if (zi := _ZI.get(key)) is None:
        if len(_ZI) >= 64:
            _ZI.clear()
        zi = _ZI[key] = sps.sosfilt_zi(sos)
        zi.flags.writeable = False
    return zi


def _padlen(sos) -> int:
    """scipy's default ``padlen`` of ``sosfiltfilt`` for ``sos``."""
    n_sections = sos.shape[0]
    ntaps = 2 * n_sections + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return 3 * ntaps


def _odd_ends(x: np.ndarray, edge: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``edge`` samples of scipy's odd extension before and after ``x``."""
    return 2 * x[0:1] - x[edge:0:-1], 2 * x[-1:] - x[-2:-(edge + 2):-1]


def notch(signal, sampling_rate, *, freq: float = 50.0, quality: float = 30.0):
    """Zero-phase IIR notch at the mains frequency ``freq`` (50 or 60 Hz)."""
    if freq >= sampling_rate / 2:
        return np.asarray(signal, dtype=np.float64)
    b, a = sps.iirnotch(freq, quality, fs=sampling_rate)
    return sps.filtfilt(b, a, np.asarray(signal, dtype=np.float64))


def clean_ecg(signal, sampling_rate, *, lowcut: float = LOWCUT, highcut: float = HIGHCUT,
              mains: float | None = None):
    """Default cleaning for display and beat morphology: optional mains notch, then band-pass."""
    x = np.asarray(signal, dtype=np.float64)
    if mains:
        x = notch(x, sampling_rate, freq=mains)
    return bandpass(x, sampling_rate, lowcut=lowcut, highcut=highcut)
