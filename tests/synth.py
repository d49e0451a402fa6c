"""Seeded synthetic ECG for tests: Gaussian P-Q-R-S-T waves on a jittered rhythm.

``synthetic_ecg(duration_s, sampling_rate, heart_rate, seed, ...)`` returns the signal (mV) and
the true R-peak sample indices. Options add the things a detector must survive: tall T or P
waves, premature wide ventricular beats, pacing spikes, baseline wander, noise, mains hum,
inverted polarity. Wave timings scale with the RR interval (QT ~ sqrt(RR), Bazett).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Synthetic:
    """A synthetic recording: ``signal`` in mV, true ``r_peaks`` (sample indices), ``ventricular`` flags."""

    signal: np.ndarray
    r_peaks: np.ndarray
    ventricular: np.ndarray
    sampling_rate: float


class _Canvas:
    """Adds Gaussian waves to a signal, each only within 6 sigma of its centre (fast)."""

    def __init__(self, n: int, fs: float):
        self.x = np.zeros(n)
        self.fs = fs

    def add(self, centre: float, sigma: float, amplitude: float) -> None:
        lo = max(int((centre - 6 * sigma) * self.fs), 0)
        hi = min(int((centre + 6 * sigma) * self.fs) + 2, self.x.size)
        if hi > lo:
            t = np.arange(lo, hi) / self.fs
            self.x[lo:hi] += amplitude * np.exp(-0.5 * ((t - centre) / sigma) ** 2)


def synthetic_ecg(
    duration_s: float,
    sampling_rate: float,
    heart_rate: float,
    seed: int,
    *,
    r_amplitude: float = 1.2,
    t_amplitude: float = 0.3,
    p_amplitude: float = 0.12,
    qrs_width_s: float = 0.09,
    rr_jitter: float = 0.03,
    pvc_every: int = 0,
    pause_every: int = 0,
    pause_s: float = 3.0,
    paced: bool = False,
    baseline_wander_mv: float = 0.0,
    noise_mv: float = 0.0,
    mains_mv: float = 0.0,
    mains_hz: float = 50.0,
    invert: bool = False,
) -> Synthetic:
    """Build a seeded synthetic single-lead ECG.

    Parameters
    ----------
    duration_s, sampling_rate, heart_rate : float
        Length (s), rate (Hz) and mean heart rate (beats per minute).
    seed : int
        Seed of every random choice (RR jitter, noise, wander phases).
    r_amplitude, t_amplitude, p_amplitude : float
        Wave amplitudes in mV (a "tall T wave" is ``t_amplitude`` near ``r_amplitude``).
    qrs_width_s : float
        Approximate QRS duration (s) of normal beats.
    rr_jitter : float
        Relative standard deviation of RR intervals.
    pvc_every : int
        Every ``pvc_every``-th beat is a premature (coupling 0.6 RR), wide (140 ms), inverted
        and 1.5x taller ventricular beat without a P wave, followed by a compensatory pause;
        0 for none.
    pause_every, pause_s : int, float
        Every ``pause_every``-th RR interval is a pause (sinus arrest) of ``pause_s`` seconds; 0 for none.
    paced : bool
        Each beat is a paced beat: a 2-ms pacing spike 40 ms before a wide (140 ms) QRS.
    baseline_wander_mv, noise_mv, mains_mv : float
        Amplitude of a 0.1-0.5 Hz baseline wander, std of white noise, amplitude of mains hum.
    mains_hz : float
        Mains frequency.
    invert : bool
        Flip the polarity (as a reversed lead would).

    Returns
    -------
    Synthetic
    """
    rng = np.random.default_rng(seed)
    fs = float(sampling_rate)
    n = int(round(duration_s * fs))
    t = np.arange(n) / fs
    canvas = _Canvas(n, fs)
    rr_mean = 60.0 / heart_rate
    r_times, ventricular = [], []
    now = 0.6 * rr_mean + 0.3
    k = 0
    while now < duration_s - 0.4:
        k += 1
        is_v = bool(pvc_every) and k % pvc_every == 0
        r_times.append(now)
        ventricular.append(is_v)
        step = rr_mean * (1 + rr_jitter * rng.standard_normal())
        if bool(pvc_every) and (k + 1) % pvc_every == 0:
            step *= 0.6
        elif is_v:
            step *= 1.4
        if pause_every and k % pause_every == 0:
            step = pause_s
        now += max(step, 0.2)
    for rt, is_v in zip(r_times, ventricular, strict=True):
        rr = rr_mean
        qt = 0.4 * np.sqrt(rr)  # Bazett
        if is_v:
            sig = 0.14 / 6
            canvas.add(rt, sig * 1.6, -1.5 * r_amplitude)
            canvas.add(rt + 0.25 * np.sqrt(rr) + 0.05, 0.06 * np.sqrt(rr), 0.6 * r_amplitude)
            continue
        width = 0.14 if paced else qrs_width_s
        sig = width / 6
        if paced:
            canvas.add(rt - 0.04, 0.0006, 1.5 * r_amplitude)  # pacing spike, about 2 ms
        canvas.add(rt - 1.6 * sig, 0.6 * sig, -0.12 * r_amplitude)  # Q
        canvas.add(rt, sig, r_amplitude)  # R
        canvas.add(rt + 1.6 * sig, 0.6 * sig, -0.2 * r_amplitude)  # S
        canvas.add(rt + qt - 0.08, 0.045 * np.sqrt(rr) + 0.01, t_amplitude)  # T
        if not paced:
            canvas.add(rt - min(0.16, 0.3 * rr), 0.02, p_amplitude)  # P
    x = canvas.x
    if baseline_wander_mv:
        for f in (0.1, 0.25, 0.5):
            x += baseline_wander_mv / 3 * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    if mains_mv:
        x += mains_mv * np.sin(2 * np.pi * mains_hz * t)
    if noise_mv:
        x += noise_mv * rng.standard_normal(n)
    if invert:
        x = -x
    r_idx = np.rint(np.asarray(r_times) * fs).astype(np.int64)
    return Synthetic(x, r_idx, np.asarray(ventricular, dtype=bool), fs)
