"""Tuning the R-peak detector against reference beats: a sweep of one parameter, and the settings as CLI flags.

:func:`sweep_parameter` runs :func:`ecg_core.peaks.detect_r_peaks` over values of one parameter
(:data:`ecg_core.peaks.PARAMETERS`), the others held, and scores each against the reference beats
(:func:`ecg_core.evaluate.score_detection`, EC57's 150 ms). :func:`cli_flags` writes settings as the
``detect`` / ``classify`` flags that reproduce them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evaluate import score_detection
from .peaks import DEFAULTS, PARAMETERS, detect_r_peaks

__all__ = ["SweepPoint", "cli_flags", "flag", "parameter", "sweep_parameter", "sweep_values"]


@dataclass(frozen=True)
class SweepPoint:
    """Detection figures at one value of the swept parameter."""

    value: float
    beats: int
    sensitivity: float
    ppv: float
    fn: int
    fp: int


def parameter(name: str):
    """The :class:`ecg_core.peaks.Parameter` called ``name``."""
    for spec in PARAMETERS:
        if spec.name == name:
            return spec
    raise KeyError(f"no detector parameter {name!r}; one of {', '.join(p.name for p in PARAMETERS)}")


def sweep_values(name: str, n: int = 11, *, include=()) -> np.ndarray:
    """``n`` values spread over the parameter's range, on its step, with ``include`` (e.g. the current value)."""
    spec = parameter(name)
    values = np.linspace(spec.minimum, spec.maximum, n)
    values = np.round(np.round(values / spec.step) * spec.step, 6)
    extra = [float(v) for v in include if spec.minimum <= float(v) <= spec.maximum]
    return np.unique(np.r_[values, extra, spec.default])


def sweep_parameter(signal, sampling_rate, reference, name: str, values=None, *, params=None,
                    episodes=(), second_lead=None) -> list[SweepPoint]:
    """Sensitivity and positive predictivity of the detector over values of one parameter.

    Parameters
    ----------
    signal : array_like
        One lead.
    sampling_rate : float
        Hz.
    reference : array_like of int
        Reference beat samples (cut to the recording).
    name : str
        The parameter swept (:data:`ecg_core.peaks.PARAMETERS`).
    values : array_like of float, optional
        Default :func:`sweep_values` (with the current value).
    params : dict, optional
        The other settings (default: the defaults).
    episodes : sequence of (int, int)
        Spans left out of the scoring (ventricular flutter), as :func:`ecg_core.evaluate.score_detection`.
    second_lead : array_like, optional
        Another lead, which the detector votes with in noise (:func:`ecg_core.peaks.detect_r_peaks`).

    Returns
    -------
    list of SweepPoint
        In the order of ``values``.
    """
    base = {**DEFAULTS, **(params or {})}
    parameter(name)
    values = sweep_values(name, include=(base[name],)) if values is None else np.asarray(values, dtype=float)
    out = []
    for v in values:
        peaks = detect_r_peaks(signal, sampling_rate, second_lead=second_lead, **{**base, name: float(v)})
        score = score_detection(reference, peaks, sampling_rate, episodes=episodes)
        out.append(SweepPoint(float(v), int(peaks.size), score.sensitivity, score.ppv, score.fn, score.fp))
    return out


def flag(name: str) -> str:
    """The command-line flag of a detector parameter: ``search_window`` -> ``--search-window``."""
    return f"--{name.replace('_', '-')}"


def cli_flags(params: dict) -> str:
    """The ``detect`` / ``classify`` flags of the settings that differ from the defaults (``""`` for none)."""
    return " ".join(f"{flag(spec.name)} {float(params[spec.name]):g}" for spec in PARAMETERS
                    if spec.name in params and not np.isclose(float(params[spec.name]), spec.default))
