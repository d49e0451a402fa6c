"""The loaded results (:class:`Recording`, :class:`Segments`), the choice of lead, and a lead in millivolts."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from ..config import LEAD_PREFERENCE
from ..errors import ECGError, validate_signal


# --------------------------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class Recording:
    """A multi-lead ECG recording with one chosen lead.

    Attributes
    ----------
    signals : numpy.ndarray
        ``(n_samples, n_leads)`` float64, read-only; physical units when the file states them
        (WFDB: mV), else as stored. The chosen lead has had short NaN gaps filled.
    sampling_rate : float
        Hz.
    lead_names : tuple of str
        One name per column of ``signals``.
    lead : str
        The chosen lead (one of ``lead_names``).
    units : str
        Units of the chosen lead: ``"mV"``, ``"uV"``, ``"adu"`` (raw ADC units, e.g. the Kaggle CSV)
        or ``""`` when the file does not say.
    name : str
        Stem of the input file, or the WFDB record name.
    sampling_rate_from_file : bool
        True when the rate was stated by the file (WFDB/EDF header, time column, rate comment).
    lead_units : tuple of str
        Units of every lead (same order as ``lead_names``).
    source_format : str
        ``"wfdb"``, ``"edf"``, ``"kaggle-csv"`` or ``"csv"``.
    """

    signals: np.ndarray
    sampling_rate: float
    lead_names: tuple[str, ...]
    lead: str
    units: str
    name: str
    sampling_rate_from_file: bool
    lead_units: tuple[str, ...] = ()
    source_format: str = ""

    @property
    def signal(self) -> np.ndarray:
        """The chosen lead, 1-D (a contiguous read-only view)."""
        return self.signals[:, self.lead_names.index(self.lead)]

    @property
    def n_samples(self) -> int:
        return int(self.signals.shape[0])

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.n_samples / self.sampling_rate

    def second_lead(self) -> np.ndarray | None:
        """Another ECG lead for the detector to vote with in noise, or None.

        The first other lead named like an ECG lead (``ECG2``, ``V1``, ``III``, ...) that is usable (see
        :func:`ecg_core.errors.validate_signal`; short gaps filled), for
        :func:`ecg_core.peaks.detect_r_peaks`'s ``second_lead``.
        """
        for idx, name in enumerate(self.lead_names):
            if name == self.lead or not _ECG_LIKE.search(_norm(name)):
                continue
            try:
                return validate_signal(self.signals[:, idx], self.sampling_rate)[0]
            except ECGError:
                continue
        return None

    def with_lead(self, lead: str) -> Recording:
        """The same recording with another chosen lead (validated).

        Raises
        ------
        ECGError
            Unknown lead (the message lists the available ones) or an unusable signal in that lead.
        """
        idx = _match_lead(self.lead_names, lead)
        units = self.lead_units[idx] if self.lead_units else self.units
        signals = _validated(self.signals, idx, self.sampling_rate, self.lead_names)
        return replace(self, signals=signals, lead=self.lead_names[idx], units=units)


@dataclass(frozen=True, eq=False)
class Segments:
    """Beat windows from a segmented file: ``windows`` is ``(n_segments, 360)`` float64, read-only."""

    windows: np.ndarray
    name: str

    def __len__(self) -> int:
        return int(self.windows.shape[0])


# --------------------------------------------------------------------------------------------- leads
_LEAD_II = re.compile(r"^((lead|ecg|ekg)[ _-]?)?ii$", re.IGNORECASE)
_ECG_LIKE = re.compile(r"ecg|ekg|^(ml)?(i{1,3}|avr|avl|avf|v[1-6])$", re.IGNORECASE)


def _norm(name) -> str:
    return re.sub(r"\s+", " ", str(name).strip().strip("'\"").strip()).casefold()


def _match_lead(names, lead) -> int:
    want = _norm(lead)
    for i, n in enumerate(names):
        if _norm(n) == want:
            return i
    raise ECGError(
        f"There is no lead {str(lead)!r} in this recording. Available leads: {', '.join(names)}. Choose one of them."
    )


def _choose_lead(names, lead) -> int:
    if lead is not None and str(lead).strip():
        return _match_lead(names, lead)
    normed = [_norm(n) for n in names]
    for pref in LEAD_PREFERENCE:
        if pref.casefold() in normed:
            return normed.index(pref.casefold())
    for pattern in (_LEAD_II, _ECG_LIKE):  # lead II (the rhythm lead of a 12-lead ECG), then any ECG-like name
        for i, n in enumerate(normed):
            if pattern.search(n):
                return i
    return 0


def _dedupe(names) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, n in enumerate(names):
        n = n or f"column {i + 1}"
        k = seen.get(n.casefold(), 0)
        seen[n.casefold()] = k + 1
        out.append(n if k == 0 else f"{n}.{k}")
    return out


def _validated(signals: np.ndarray, idx: int, fs: float, names, *, copy: bool = True) -> np.ndarray:
    """Validate column ``idx``; return read-only Fortran-ordered signals with its gaps filled.

    ``copy=False`` for arrays the loader has just made (nobody else holds them): they are used as
    they are where they are already float64 and Fortran-ordered (a single lead always is), so a
    24-hour recording is not held twice.
    """
    try:
        col, _ = validate_signal(signals[:, idx], fs)
    except ECGError as exc:
        raise ECGError(f"Lead {names[idx]}: {exc}") from None
    if copy:
        out = np.array(signals, dtype=np.float64, order="F", copy=True)
    else:
        out = np.asfortranarray(signals, dtype=np.float64)
    if not np.may_share_memory(col, out):  # validate_signal filled gaps in a new array
        if not out.flags.writeable:
            out = np.array(out, order="F", copy=True)
        out[:, idx] = col
    out.flags.writeable = False
    return out


def _first_usable(signals: np.ndarray, preferred: int, fs: float, names) -> tuple[np.ndarray, int]:
    """The first lead after ``preferred`` that passes validation; ``preferred``'s error if none does."""
    for idx in [i for i in range(len(names)) if i != preferred]:
        try:
            return _validated(signals, idx, fs, names, copy=False), idx
        except ECGError:
            continue
    return _validated(signals, preferred, fs, names, copy=False), preferred


def _make_recording(signals, names, units, fs, from_file, name, lead, fmt) -> Recording:
    signals = np.asarray(signals, dtype=np.float64)
    if signals.ndim == 1:
        signals = signals[:, None]
    names = _dedupe([str(n).strip() for n in names])
    idx = _choose_lead(names, lead)
    try:
        signals = _validated(signals, idx, fs, names, copy=False)
    except ECGError:
        if lead is not None and str(lead).strip():
            raise
        # the default lead is unusable (flat, clipped, gaps): fall back to the next usable lead
        signals, idx = _first_usable(signals, idx, fs, names)
    units = tuple(units) if units else ("",) * len(names)
    return Recording(signals=signals, sampling_rate=float(fs), lead_names=tuple(names), lead=names[idx],
                     units=units[idx], name=name, sampling_rate_from_file=bool(from_file),
                     lead_units=units, source_format=fmt)


def _stack(columns: list[np.ndarray]) -> np.ndarray:
    """``(n, k)`` Fortran-ordered float64 of the columns: one column as it is (no copy), else one copy."""
    if len(columns) == 1:
        return np.asarray(columns[0], dtype=np.float64)[:, None]
    out = np.empty((columns[0].size, len(columns)), dtype=np.float64, order="F")
    for k, c in enumerate(columns):
        out[:, k] = c
    return out


# --------------------------------------------------------------------------------------------- physical units
#: The Kaggle MIT-BIH CSV layout stores the records' raw ADC values: 200 units per mV around a baseline of 1024
#: (the MIT-BIH Arrhythmia Database's header values for its MLII and V leads).
KAGGLE_ADC_GAIN = 200.0
KAGGLE_ADC_BASELINE = 1024.0
#: Factors from the units a file may state to millivolts.
TO_MILLIVOLTS = {"mV": 1.0, "uV": 1e-3, "V": 1e3}


def to_millivolts(signal, units: str, source_format: str = "") -> tuple[np.ndarray, str, str]:
    """One lead in millivolts where its file says how (for drawing it on ECG paper).

    WFDB records are read in physical units already (the header's gain and baseline applied by ``wfdb``), and
    EDF files state theirs; ``uV`` and ``V`` are scaled. The Kaggle MIT-BIH layout's raw ADC values (units
    ``"adu"``) are converted with :data:`KAGGLE_ADC_GAIN` and :data:`KAGGLE_ADC_BASELINE`. Anything else
    (a table that states no units) is returned as it is.

    Parameters
    ----------
    signal : array_like
        One lead as loaded (:attr:`Recording.signal`).
    units : str
        Its units (:attr:`Recording.units`).
    source_format : str
        :attr:`Recording.source_format`.

    Returns
    -------
    signal : numpy.ndarray
        float64, in mV where converted (the input itself when it already is).
    units : str
        ``"mV"`` or the input's units (``""`` when unknown).
    note : str
        What was done, for the page to say (``""`` when the file was in mV already or nothing is known).

    Examples
    --------
    >>> import numpy as np
    >>> mv, units, note = to_millivolts(np.array([1024.0, 1224.0]), "adu", "kaggle-csv")
    >>> mv.tolist(), units
    ([0.0, 1.0], 'mV')
    """
    x = np.asarray(signal, dtype=np.float64)
    if units == "adu" and source_format == "kaggle-csv":
        return ((x - KAGGLE_ADC_BASELINE) / KAGGLE_ADC_GAIN, "mV",
                f"ADC units converted to mV as the Kaggle MIT-BIH layout stores them: {KAGGLE_ADC_GAIN:g} units "
                f"per mV, baseline {KAGGLE_ADC_BASELINE:g}.")
    factor = TO_MILLIVOLTS.get(units)
    if factor is None:
        return x, units, ""
    if factor == 1.0:
        return x, "mV", ""
    return x * factor, "mV", f"Converted from {units} to mV."
