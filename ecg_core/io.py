"""Load ECG recordings, segmented beat files and reference annotations.

Every reader takes a path (``str`` / :class:`pathlib.Path`), ``bytes`` or a binary file-like object
(an uploaded file; ``filename`` then gives its name and extension) and returns a frozen dataclass.
Everything a user can get wrong raises :class:`~ecg_core.errors.ECGError` with one message that
says what was wrong and what to do; library errors (pandas, wfdb, edfio) are wrapped.

Formats read by :func:`load`
----------------------------
- **Text tables** (``.csv``, ``.tsv``, ``.txt``, ``.tab``; comma, semicolon, tab, ``|`` or
  whitespace separated, decimal comma with ``;``): one or more numeric signal columns, with or
  without a header line, with or without an index (sample number) column or a time column.
  A time column (``time``, ``t``, ``seconds``, ``ms``, ``Elapsed time`` ... or, without a header, an
  increasing non-integer first column; values in s, ms or ``[h:]m:ss.sss``) gives the sampling rate,
  as does a leading comment such as ``# sampling rate: 500 Hz``. A second header line of units
  (PhysioNet's CSV export: ``'hh:mm:ss.mmm','mV','mV'``) and units in column names (``ECG (mV)``)
  are read. The original app's format is a column named ``ECG``.
- **Kaggle MIT-BIH layout**: header ``'sample #','MLII','V1'`` with literal single quotes, raw
  ADC integers, CRLF. Units are ``"adu"``; the rate is 360 Hz unless the caller says otherwise.
- **WFDB** records: a ``.hea`` path with its signal file(s) beside it, or an uploaded pair
  (:func:`load_files`). Physical units (mV) and the rate from the header.
- **EDF / EDF+** (``.edf``) through ``edfio``: ordinary signals (annotation channels skipped); the
  chosen lead's rate is used and the recording holds the channels sharing that rate and length.
- **Segmented CSV** as the original app wrote it: one beat per row, header ``sample_1 ... sample_360``
  (an unnamed index column before them is ignored). Returns :class:`Segments`.

Decisions
---------
- **Lead**: the caller's ``lead`` (case-insensitive), else ``MLII``, else ``ECG``
  (:data:`~ecg_core.config.LEAD_PREFERENCE`), else lead ``II`` (``II``, ``Lead II``, ``ECG II``), else the
  first column whose name looks like an ECG lead (``ECG1``, ``EKG``, ``V1``, ``aVR`` ...), else the first
  signal column.
- **Sampling rate precedence**: the file's own statement (WFDB/EDF header, time column, rate
  comment) wins over the caller's ``sampling_rate``, and the recording says
  ``sampling_rate_from_file=True``; otherwise the caller's rate, else
  :data:`~ecg_core.config.DEFAULT_FS` (360 Hz). A caller's rate is always checked for plausibility.
  Nothing is resampled here.
- **Wide header-less tables**: a header-less table with more numeric columns than any ECG montage
  has (> ``MAX_LEADS``) is a table of beats, one per row; exactly 360 columns is the segmented
  layout and returns :class:`Segments`, any other width is refused. A header-less table of one row
  and more than 360 values is one recording written as a row. A header of consecutive integers
  (``0,1,...,359``, written by ``DataFrame.to_csv`` of a bare array) counts as a header.
- Only the chosen lead is validated (:func:`~ecg_core.errors.validate_signal`: short NaN gaps filled,
  long gaps, flat, clipped, too short or implausible rate refused); :meth:`Recording.with_lead`
  validates the new lead. Signal arrays are read-only.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .config import AAMI_MAP, BEAT_WINDOW, DEFAULT_FS, LEAD_PREFERENCE
from .errors import ECGError, validate_sampling_rate, validate_signal

__all__ = ["Annotations", "Recording", "Segments", "UploadedRecording", "load", "load_annotations", "load_files",
           "recording_files"]

#: More signal columns than this in a header-less table means "one beat per row", not leads.
MAX_LEADS = 16
TEXT_EXTENSIONS = (".csv", ".tsv", ".txt", ".tab")
EDF_EXTENSIONS = (".edf",)
WFDB_ANNOTATION_EXTENSIONS = (".atr", ".ann", ".qrs", ".ecg", ".ari", ".pwave", ".atruth")
SUPPORTED = "CSV/TSV/TXT tables, WFDB records (.hea + .dat), EDF (.edf) and segmented CSVs (sample_1 ... sample_360)"


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


@dataclass(frozen=True, eq=False)
class Annotations:
    """Reference beat annotations mapped to AAMI classes.

    Attributes
    ----------
    sample : numpy.ndarray
        int64 sample indices of the beats (symbols in :data:`~ecg_core.config.AAMI_MAP` only).
    symbol : numpy.ndarray
        MIT-BIH symbols of those beats.
    label : numpy.ndarray
        AAMI classes of those beats.
    episodes : tuple of (int, int)
        Ventricular flutter episodes ``[`` ... ``]`` as (start, end) samples. An episode still open at
        the last annotation ends there; one closed before any ``[`` starts at 0.
    sampling_rate : float or None
        From the file (WFDB annotation header, or the Kaggle text's times), else the caller's, else None.
    name : str
        The record the file names: its stem (``101`` for ``101.atr``), without the Kaggle copy's
        ``annotations`` suffix (``101`` for ``101annotations.txt``); ``""`` when unknown.
    rhythms : tuple of (int, int, str)
        Reference rhythm episodes: ``(start, end, aux_note)`` from each rhythm annotation (symbol ``+``,
        aux note such as ``(VT``, ``(AFIB``, ``(N``) to the next one (the last ends at the last annotation).
    """

    sample: np.ndarray
    symbol: np.ndarray
    label: np.ndarray
    episodes: tuple[tuple[int, int], ...]
    sampling_rate: float | None
    name: str = ""
    rhythms: tuple[tuple[int, int, str], ...] = ()

    def __len__(self) -> int:
        return int(self.sample.size)


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


def _rate(file_rate, caller_rate) -> tuple[float, bool]:
    """Apply the precedence: the file's rate, else the caller's, else DEFAULT_FS."""
    caller = validate_sampling_rate(caller_rate) if caller_rate is not None else None
    if file_rate is not None:
        try:
            return validate_sampling_rate(file_rate), True
        except ECGError as exc:
            raise ECGError(f"The file states a sampling rate of {float(file_rate):g} Hz: {exc}") from None
    return (caller if caller is not None else DEFAULT_FS), False


# --------------------------------------------------------------------------------------------- sources
def _read_bytes(source, filename):
    """Return (data or None, path or None, name, extension) for any accepted source."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.suffix == "" and not path.exists() and path.with_suffix(".hea").exists():
            path = path.with_suffix(".hea")  # a WFDB record name
        if not path.exists():
            raise ECGError(f"File not found: {path}. Check the path.")
        if path.is_dir():
            raise ECGError(f"{path} is a folder, not a file. Give the recording file itself.")
        return None, path, path.stem, path.suffix.lower()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            try:
                source.seek(0)
            except (OSError, ValueError):
                pass
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        filename = filename or getattr(source, "name", None)
    else:
        raise ECGError(f"Cannot read a recording from a {type(source).__name__}; give a file path, bytes or a file.")
    base = Path(str(filename)).name if filename else ""
    return data, None, (Path(base).stem or "recording"), Path(base).suffix.lower()


def _data(data, path) -> bytes:
    if data is not None:
        return data
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ECGError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def load(source, *, filename: str | None = None, sampling_rate: float | None = None,
         lead: str | None = None) -> Recording | Segments:
    """Load an ECG recording or a segmented beat file.

    Parameters
    ----------
    source : str, pathlib.Path, bytes or binary file-like
        The file. A WFDB record is given by its ``.hea`` path (signal file beside it); an uploaded
        WFDB pair goes through :func:`load_files`.
    filename : str, optional
        Name of an in-memory file (its extension selects the format); defaults to ``source.name``.
    sampling_rate : float, optional
        Rate in Hz for files that do not state one (default 360 Hz). The file's own rate wins.
    lead : str, optional
        Lead to analyse (case-insensitive); default ``MLII``, else ``ECG``, else the first signal.

    Returns
    -------
    Recording or Segments

    Raises
    ------
    ECGError
        Anything wrong with the file, with a message saying what and what to do.
    """
    data, path, name, ext = _read_bytes(source, filename)
    with _one_message(f"{name}{ext}"):
        return _dispatch(data, path, name, ext, sampling_rate, lead)


@contextmanager
def _one_message(what: str, hint: str = f"Check that it is a supported ECG file ({SUPPORTED})."):
    """Turn any failure we did not foresee into one ECGError (never a traceback for the user)."""
    try:
        yield
    except ECGError:
        raise
    except MemoryError:
        raise ECGError(f"{what} is too large to load in memory. Cut it into shorter recordings.") from None
    except Exception as exc:
        raise ECGError(f"Could not read {what}: {_short(exc)}. {hint}") from None


def _dispatch(data, path, name, ext, sampling_rate, lead):
    if ext == ".hea":
        if path is None:
            raise ECGError("A WFDB header (.hea) was uploaded without its signal file (.dat). "
                           "Upload both files of the record together.")
        return _load_wfdb_path(path, sampling_rate, lead)
    if ext == ".dat":
        hea = path.with_suffix(".hea") if path is not None else None
        if hea is not None and hea.exists():
            return _load_wfdb_path(hea, sampling_rate, lead)
        raise ECGError(f"{name}.dat is a WFDB signal file without its header {name}.hea, which says how to read "
                       "it (format, gain, rate). Upload or place the .hea file together with the .dat.")
    if ext in WFDB_ANNOTATION_EXTENSIONS:
        raise ECGError(f"{name}{ext} is a WFDB annotation file, not a recording. Load it as reference annotations.")
    data = _data(data, path)
    _refuse_compressed(data, f"{name}{ext}")
    if ext in EDF_EXTENSIONS or (ext == "" and data[:8] == b"0       "):
        return _load_edf(data, name, sampling_rate, lead)
    if ext == ".bdf":
        raise ECGError("BDF (24-bit) files are not supported. Convert the recording to EDF or CSV.")
    if ext and ext not in TEXT_EXTENSIONS:
        raise ECGError(f"Files of type {ext!r} are not supported. Upload one of: {SUPPORTED}.")
    return _load_table(data, name, sampling_rate, lead)


def _short(exc) -> str:
    msg = str(exc).strip().splitlines()
    return (msg[0][:200] if msg else type(exc).__name__).rstrip(".")


# --------------------------------------------------------------------------------------------- WFDB
def _load_wfdb_path(hea: Path, sampling_rate, lead) -> Recording:
    import wfdb

    header = _check_signal_files(hea)
    try:
        # digital first (small), so that the header's checksums can be checked, then to physical units
        rec = wfdb.rdrecord(str(hea.with_suffix("")), physical=False, return_res=_digital_res(header))
    except FileNotFoundError as exc:
        missing = Path(exc.filename).name if getattr(exc, "filename", None) else "its signal file (.dat)"
        raise ECGError(f"The WFDB header {hea.name} refers to {missing}, which is missing. Put the signal file "
                       "beside the .hea (or upload both files together).") from None
    except ECGError:
        raise
    except Exception as exc:
        raise ECGError(f"Could not read the WFDB record {hea.stem}: {_short(exc)}. Check that the .hea and .dat "
                       "files belong together and are complete.") from None
    if rec.d_signal is None or rec.d_signal.size == 0:
        raise ECGError(f"The WFDB record {hea.stem} has no samples. Check the .dat file.")
    _check_checksums(rec, header, hea)
    fs, _ = _rate(rec.fs, sampling_rate)
    units = [u if u else "" for u in (rec.units or [""] * rec.n_sig)]
    signals = rec.dac(return_res=64)
    del rec.d_signal
    return _make_recording(signals, rec.sig_name, units, fs, True, rec.record_name or hea.stem, lead, "wfdb")


def _digital_res(header) -> int:
    """Bits of the integer array wfdb reads the samples into (16 where every format fits in 16 bits)."""
    fmts = {str(f) for f in (header.fmt or [])} if header is not None else set()
    return 16 if fmts and fmts <= {"8", "16", "61", "80", "160", "212", "310", "311"} else 64


def _check_checksums(rec, header, hea: Path) -> None:
    """Refuse samples whose sum does not match the header's per-signal checksum (where the header gives one).

    A ``.dat`` of another record, or a damaged one, of the right length passes the length check but
    not this one (the checksum is the sum of the signal's samples modulo 65536, WFDB's own test).
    """
    expected = list(getattr(header, "checksum", None) or []) if header is not None else []
    if not expected or len(expected) != rec.d_signal.shape[1] or rec.d_signal.shape[0] != header.sig_len:
        return  # no checksums, or a part of the record was read: nothing to compare with
    got = np.sum(rec.d_signal, axis=0, dtype=np.int64) % 65536
    bad = [i for i, want in enumerate(expected) if want is not None and (int(got[i]) - int(want)) % 65536]
    if bad:
        names = ", ".join(str(rec.sig_name[i]) for i in bad)
        raise ECGError(f"The samples in {', '.join(sorted(set(header.file_name)))} do not match the header {hea.name}: "
                       f"the checksum of signal(s) {names} differs from the one the header gives. The signal file "
                       "belongs to another record or is damaged. Use the record's own .hea and .dat together.")


#: Bytes per sample of the uncompressed WFDB signal formats (to spot truncated .dat files).
_WFDB_BYTES = {"8": 1, "16": 2, "61": 2, "80": 1, "160": 2, "212": 1.5, "310": 4 / 3, "311": 4 / 3, "24": 3, "32": 4}


def _check_signal_files(hea: Path):
    """Refuse a missing, truncated or over-long signal file with a clear message (wfdb's own errors are cryptic).

    Returns the header (``wfdb.Record`` without samples), or None for what is left to wfdb to check.
    """
    import wfdb

    try:
        header = wfdb.rdheader(str(hea.with_suffix("")))
    except Exception as exc:
        raise ECGError(f"{hea.name} is not a valid WFDB header: {_short(exc)}. Use the record's own .hea file.") \
            from None
    if not header.sig_len or not header.file_name or getattr(header, "layout", None) == "variable":
        return None  # multi-segment records and headers without a length: let wfdb check them
    per_file: dict[str, float] = {}
    offset: dict[str, int] = {}
    for k, (fname, fmt) in enumerate(zip(header.file_name, header.fmt, strict=False)):
        if fname and fname != "~":
            per_file[fname] = per_file.get(fname, 0) + _WFDB_BYTES.get(str(fmt), 0)
            offset[fname] = int((header.byte_offset or [None] * (k + 1))[k] or 0)
    for fname, width in per_file.items():
        path = hea.parent / fname
        if not path.exists():
            raise ECGError(f"The WFDB header {hea.name} refers to {fname}, which is missing. Put the signal file "
                           "beside the .hea (or upload both files together).")
        need = offset[fname] + int(np.ceil(header.sig_len * width))
        have = path.stat().st_size
        if width and have < need:
            raise ECGError(f"The signal file {fname} is shorter than its header {hea.name} says ({have:,} of "
                           f"{need:,} bytes): it is truncated or belongs to another record. Use the complete .dat.")
        if width and have > need + int(np.ceil(width)):
            raise ECGError(f"The signal file {fname} is longer than its header {hea.name} says ({have:,} bytes for "
                           f"{header.sig_len:,} samples per signal, {need:,} bytes): it belongs to another record. "
                           "Use the record's own .hea and .dat together.")
    return header


@dataclass(frozen=True)
class UploadedRecording:
    """Which recording a set of uploaded files makes (:func:`recording_files`).

    Attributes
    ----------
    name : str
        The recording's name: the WFDB header's stem, else the file's stem.
    files : tuple of str
        The files that make it (one file, or a ``.hea`` and the signal files it names).
    ignored : tuple of str
        Reference annotation files in the set (``.atr`` ..., ``*annotations.txt``), set aside.
    """

    name: str
    files: tuple[str, ...]
    ignored: tuple[str, ...] = ()


def _is_annotation_file(name: str) -> bool:
    return Path(name).suffix.lower() in WFDB_ANNOTATION_EXTENSIONS or name.lower().endswith("annotations.txt")


def _listing(names) -> str:
    names = sorted(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def recording_files(files: Mapping[str, bytes]) -> UploadedRecording:
    """The one rule for "which recording does this set of uploaded files make".

    Used by :func:`load_files`, the dashboard and the API, so every mixed set is refused the same way.
    A set makes one recording when, reference annotation files set aside, it is

    - one recording file (CSV/TSV/TXT, EDF, segmented CSV), or
    - one WFDB header ``.hea`` with exactly the signal files it names. A single signal file whose name
      is the named one with a suffix (``208 (1).dat``, as a browser saves a second download) is taken
      as that file renamed; a signal file of another name is another record's.

    Parameters
    ----------
    files : mapping of str to bytes
        File name -> content of every uploaded file (names may carry folders; only the base name counts).

    Returns
    -------
    UploadedRecording

    Raises
    ------
    ECGError
        No recording, several recordings (two CSVs, a WFDB record and a CSV, two headers), or a
        header with the signal file of another record: the message names the files and says which to
        remove. Never a silent choice.
    """
    names = [Path(str(k)).name for k in files]
    ignored = tuple(n for n in names if _is_annotation_file(n))
    rest = [n for n in names if n not in ignored]
    if not rest:
        raise ECGError("No recording file was given. Upload a recording (CSV, EDF, or a WFDB .hea with its .dat).")
    heas = [n for n in rest if n.lower().endswith(".hea")]
    if len(heas) > 1:
        raise ECGError(f"The upload holds {len(heas)} WFDB headers ({_listing(heas)}): one recording at a time. "
                       f"Remove the files of all records but one ({_listing(rest)} were uploaded).")
    if not heas:
        if len(rest) > 1:
            raise ECGError(f"These files are not one recording: {_listing(rest)}. Upload one recording at a time: "
                           "remove all but one of them (a WFDB record is its .hea with its .dat).")
        return UploadedRecording(Path(rest[0]).stem, (rest[0],), ignored)
    hea = heas[0]
    needed = _signal_files(hea, files[next(k for k in files if Path(str(k)).name == hea)])
    others = [n for n in rest if n != hea]
    chosen = [n for n in needed if n in others]
    missing = [n for n in needed if n not in others]
    spare = [n for n in others if n not in chosen]
    if len(missing) == 1 and len(spare) == 1 and _renamed(missing[0], spare[0]):
        chosen, spare, missing = chosen + spare, [], []
    record = f"the WFDB record {Path(hea).stem} ({' + '.join([hea, *chosen])})"
    if spare and missing:
        raise ECGError(f"{hea} needs its signal file {_listing(missing)}, but {_listing(spare)} was uploaded, which "
                       f"belongs to another recording. Upload {_listing(missing)} with {hea} (remove "
                       f"{_listing(spare)}), or upload the other record's own .hea.")
    if spare:
        raise ECGError(f"These files are more than one recording: {record} and {_listing(spare)}. Upload one "
                       f"recording at a time: remove {_listing(spare)}, or remove {_listing([hea, *chosen])} to "
                       f"analyse {_listing(spare)}.")
    if missing:
        raise ECGError(f"The WFDB header {hea} needs the signal file {_listing(missing)}, which was not uploaded. "
                       "Upload the .hea and its .dat together.")
    return UploadedRecording(Path(hea).stem, (hea, *chosen), ignored)


def _renamed(expected: str, given: str) -> bool:
    """``given`` is ``expected`` saved again under a suffixed name (``208.dat`` -> ``208 (1).dat``, ``208-2.dat``)."""
    a, b = Path(expected), Path(given)
    return (a.suffix.lower() == b.suffix.lower() and b.stem.startswith(a.stem)
            and bool(re.fullmatch(r"[ _.-]*\(?\d+\)?", b.stem[len(a.stem):])))


def _signal_files(hea_name: str, data: bytes) -> list[str]:
    """The signal files an uploaded WFDB header names (refusing folders)."""
    import wfdb

    with tempfile.TemporaryDirectory(prefix="ecg_hea_") as tmp:
        path = Path(tmp) / hea_name
        path.write_bytes(data)
        try:
            header = wfdb.rdheader(str(path.with_suffix("")))
        except Exception as exc:
            raise ECGError(f"{hea_name} is not a valid WFDB header: {_short(exc)}. Upload the record's own .hea.") \
                from None
    needed = sorted({f for f in (header.file_name or []) if f and f != "~"})
    for fname in needed:
        if fname != Path(fname).name or fname in (".", ".."):
            raise ECGError(f"The WFDB header {hea_name} names its signal file {fname!r} with a folder; uploaded "
                           "records must name a file beside the header (e.g. 100.dat).")
    return needed


def load_files(files: Mapping[str, bytes], *, sampling_rate: float | None = None,
               lead: str | None = None) -> Recording | Segments:
    """Load uploaded files: one recording file, or a WFDB pair ``{'x.hea': ..., 'x.dat': ...}``.

    Which files make the recording is :func:`recording_files`'s rule: reference annotation files in the
    mapping are set aside, and a set of more than one recording is refused (never a silent choice).
    """
    with _one_message(", ".join(map(str, files)) or "the uploaded files"):
        return _load_files(files, sampling_rate, lead)


def _load_files(files, sampling_rate, lead):
    files = {Path(str(k)).name: (v.read() if hasattr(v, "read") else bytes(v)) for k, v in files.items()}
    chosen = recording_files(files)
    if len(chosen.files) == 1:
        fname = chosen.files[0]
        return load(files[fname], filename=fname, sampling_rate=sampling_rate, lead=lead)
    return _load_wfdb_upload(chosen.files, files, sampling_rate, lead)


def _load_wfdb_upload(names, files, sampling_rate, lead) -> Recording:
    """A WFDB record from its uploaded files: ``names[0]`` the header, then the signal files it names."""
    hea_name, *signal_names = names
    needed = _signal_files(hea_name, files[hea_name])
    renamed = [n for n in signal_names if n not in needed]
    with tempfile.TemporaryDirectory(prefix="ecg_wfdb_") as tmp:
        hea_path = Path(tmp) / f"{Path(hea_name).stem}.hea"
        hea_path.write_bytes(files[hea_name])
        for fname in needed:
            # a file renamed on the way (e.g. "208 (1).dat") is written under the name the header gives
            given = fname if fname in signal_names else renamed[0]
            (Path(tmp) / fname).write_bytes(files[given])
        return _load_wfdb_path(hea_path, sampling_rate, lead)


# --------------------------------------------------------------------------------------------- EDF
def _load_edf(data: bytes, name, sampling_rate, lead) -> Recording:
    import edfio

    try:
        with warnings.catch_warnings():  # edfio warns of a truncated file; _check_edf_complete says it in words
            warnings.simplefilter("ignore", UserWarning)
            edf = edfio.read_edf(data)
        signals = [s for s in edf.signals]
    except Exception as exc:
        raise ECGError(f"{name} is not a readable EDF file: {_short(exc)}. Export the recording again as EDF/EDF+ "
                       "or as CSV.") from None
    if not signals:
        raise ECGError(f"The EDF file {name} holds no signals (only annotations). Upload a file with an ECG channel.")
    _check_edf_complete(data, name)
    labels = _dedupe([s.label.strip() for s in signals])
    idx = _choose_lead(labels, lead)
    chosen = signals[idx]
    fs, _ = _rate(chosen.sampling_frequency, sampling_rate)
    n = len(chosen.data)
    group = [i for i, s in enumerate(signals) if s.sampling_frequency == chosen.sampling_frequency
             and len(s.data) == n]
    if n == 0:
        raise ECGError(f"The EDF channel {labels[idx]} has no samples. Upload a longer recording.")
    matrix = _stack([signals[i].data for i in group])
    units = [_canonical_unit(signals[i].physical_dimension) for i in group]
    return _make_recording(matrix, [labels[i] for i in group], units, fs, True, name, labels[idx], "edf")


def _check_edf_complete(data: bytes, name: str) -> None:
    """Refuse an EDF whose file holds fewer data records than its header says (edfio reads what is there).

    The fixed header gives the header size (bytes 184-192), the number of data records (236-244; -1
    while still recording), the record duration (244-252), the number of signals (252-256) and, per
    signal, the samples in each record (2 bytes each).
    """
    try:
        header_bytes, declared = int(data[184:192]), int(data[236:244])
        duration, ns = float(data[244:252]), int(data[252:256])
        start = 256 + ns * 216
        per_record = 2 * sum(int(data[start + 8 * i: start + 8 * i + 8]) for i in range(ns))
    except ValueError:
        return  # edfio has read it; a header field we cannot parse is not ours to judge
    if declared <= 0 or per_record <= 0:
        return
    have = (len(data) - header_bytes) / per_record
    if have < declared:
        raise ECGError(f"The EDF file {name} is truncated: its header says {declared:,} data records "
                       f"({declared * duration:g} s) but the file holds {have:.1f} ({int(have) * duration:g} s): "
                       "samples are missing. Use the complete file (copy or export it again).")


def _canonical_unit(unit) -> str:
    u = str(unit or "").strip().strip("'\"()[]").strip()
    return {"mv": "mV", "uv": "uV", "µv": "uV", "μv": "uV", "v": "V", "adu": "adu"}.get(u.casefold(), u)


# --------------------------------------------------------------------------------------------- text tables
#: Rows of a clock-string time column parsed to check the rate and the regularity.
_TIME_SUBSAMPLE = 4001
_TIME_STR = re.compile(r"^\s*(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)\s*$")
_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$|^\s*(nan|NaN|NA|n/a|)\s*$")
_INDEX_NAME = re.compile(r"^(sample ?#?|samples?|sample[ _]?(no|nr|num|number|index)|index|idx|n|#|no|nr|"
                         r"unnamed: ?0|row)$", re.IGNORECASE)
_TIME_NAME = re.compile(r"^(elapsed[ _]?)?(time|t|timestamp|zeit|tiempo|temps|secs?|seconds|s|ms|msec|millis|"
                        r"milliseconds)"
                        r"([ _]*[(\[]?(s|sec|seconds|ms|msec|milliseconds|hh:mm:ss(\.m+)?)[)\]]?)?$", re.IGNORECASE)
_UNIT_IN_NAME = re.compile(r"[ _]*[(\[]\s*(mv|uv|µv|μv|v|adu)\s*[)\]]$|[ _]+(mv|uv|µv|μv)$", re.IGNORECASE)
_RATE_COMMENT = re.compile(r"(sampling[ _-]?(rate|frequency)|sample[ _-]?rate|\bfs)\s*[:=]?\s*(\d+(\.\d+)?)",
                           re.IGNORECASE)
_SEGMENT_NAME = re.compile(r"^sample[_ ]?(\d+)$", re.IGNORECASE)
_KAGGLE_ANN_HEADER = re.compile(r"^\s*Time\s+Sample\s*#\s+Type", re.IGNORECASE)


#: Magic numbers of compressed files: such a file named ``.csv`` is neither text nor UTF-16.
_COMPRESSED = ((b"\x1f\x8b", "gzip", "gunzip"), (b"BZh", "bzip2", "bunzip2"), (b"\xfd7zXZ\x00", "xz", "unxz"),
               (b"\x28\xb5\x2f\xfd", "zstd", "unzstd"), (b"7z\xbc\xaf\x27\x1c", "7-Zip", "7z x"))


def _refuse_compressed(data: bytes, name: str) -> None:
    """Refuse a compressed file (e.g. ``x.csv`` that is really ``x.csv.gz``) with what to do instead."""
    for magic, kind, tool in _COMPRESSED:
        if data.startswith(magic) and not (kind == "bzip2" and not data[3:4].isdigit()):
            raise ECGError(f"{name} is a compressed ({kind}) file, not the recording itself. Decompress it first "
                           f"(e.g. `{tool}`, or your archive tool) and give the file inside.")


def _decode(data: bytes, name: str, *, limit: int | None = None) -> tuple[str, str]:
    """Check that ``data`` is a text table; return its text (the first ``limit`` bytes') and encoding."""
    head = data[:8192]
    if not data.strip():
        raise ECGError(f"{name} is empty. Upload a file with ECG samples.")
    _refuse_compressed(data, name)
    for magic, what in ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"%PDF", "a PDF document"),
                        (b"PK\x03\x04", "a ZIP archive or an Excel workbook (save it as CSV)"),
                        (b"\xd0\xcf\x11\xe0", "an old Excel/Office file (save it as CSV)")):
        if head.startswith(magic):
            raise ECGError(f"{name} is {what}, not a table of ECG samples. Upload a CSV/TXT file, a WFDB record "
                           "or an EDF file.")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) > 8 and head[1::2].count(0) > len(head) // 4):
        raise ECGError(f"{name} is encoded as UTF-16 text. Save it as UTF-8 (or plain ASCII) CSV and upload it again.")
    control = sum(head.count(bytes([c])) for c in (*range(0, 9), *range(14, 27), *range(28, 32)))
    if control > max(2, len(head) // 100):
        raise ECGError(f"{name} is a binary file, not a text table of ECG samples. Upload a CSV/TXT file, a WFDB "
                       "record (.hea + .dat) or an EDF file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        part = data if limit is None else data[:limit]
        return part.decode("latin-1"), "latin-1"  # header text in a legacy encoding; numbers are ASCII anyway
    if limit is None or len(data) <= limit:
        return text, "utf-8-sig"
    del text  # only the head is needed: the whole text of a 24-hour CSV is hundreds of MB
    return data[:limit].decode("utf-8-sig", errors="ignore"), "utf-8-sig"  # a character cut at the end: dropped


def _split(line: str, sep: str | None) -> list[str]:
    parts = line.split() if sep is None else line.split(sep)
    return [p.strip().strip("'\"").strip() for p in parts]


def _is_number(field: str, decimal: str) -> bool:
    if _TIME_STR.match(field):
        return True
    if decimal == "," or "," not in field:
        return bool(_NUMBER.match(field))
    return False


def _sniff(lines: list[str]) -> tuple[str | None, str]:
    """Pick the separator and the decimal mark from the first lines."""
    sample = lines[:50]
    for sep in ("\t", ";", ",", "|"):
        counts = [ln.count(sep) for ln in sample]
        if counts[-1] > 0 and sum(c == counts[-1] for c in counts) >= 0.8 * len(counts):
            decimal = "."
            if sep == ";" and re.search(r"\d,\d", sample[-1]) and not re.search(r"\d\.\d", sample[-1]):
                decimal = ","
            return sep, decimal
    widths = [len(ln.split()) for ln in sample]
    if widths[-1] > 1 and sum(w == widths[-1] for w in widths) >= 0.8 * len(widths):
        return None, "."
    return ",", "."


@dataclass
class _Table:
    names: list[str]
    units: list[str]
    columns: list  # numpy arrays or pandas Series (object)
    header: bool
    kaggle: bool
    file_rate: float | None
    n_lines_before: int


def _read_table(data: bytes, name: str) -> _Table:
    text, encoding = _decode(data, name, limit=4 * 200_000)  # at least 200,000 characters
    head = text[:200_000].splitlines()
    del text
    skip = 0
    file_rate = None
    while skip < len(head) and (not head[skip].strip() or head[skip].lstrip()[:1] in ("#", "%")):
        m = _RATE_COMMENT.search(head[skip])
        if m and not _KAGGLE_ANN_HEADER.match(head[skip]):
            file_rate = float(m.group(3))
        skip += 1
    body = [ln for ln in head[skip:] if ln.strip()]
    if not body:
        raise ECGError(f"{name} has no data: only comments or blank lines. Upload a file with ECG samples.")
    if _KAGGLE_ANN_HEADER.match(body[0]):
        raise ECGError(f"{name} is a Kaggle-style annotation file, not a recording. Load it as reference annotations.")
    sep, decimal = _sniff(body[1:] if len(body) > 1 else body)
    if (sep == "," and len(body) > 1 and "," not in body[0] and not _is_number(body[0].strip(), ",")
            and all(ln.count(",") == 1 and re.fullmatch(r"\s*-?\d*,\d+\s*", ln) for ln in body[1:50])):
        sep, decimal = ";", ","  # one named column with decimal commas ("ECG" / "0,125")
    first = _split(body[0], sep)
    header = not all(_is_number(f, decimal) for f in first)
    if not header and len(first) > MAX_LEADS and len(body) > 1:
        ints = [f.isdigit() and int(f) for f in first]
        header = ints in (list(range(len(first))), list(range(1, len(first) + 1)))
    names = first if header else []
    units: list[str] = []
    n_header = int(header)
    if header and len(body) > 1:
        second = _split(body[1], sep)
        if second and not any(_is_number(f, decimal) for f in second if f):
            units, n_header = [_canonical_unit(u) for u in second], 2
    kaggle = header and _norm(first[0]) == "sample #"
    quote = "'" if any(ln.lstrip()[:1] == "'" for ln in body[:3]) else '"'
    # locate the first data line in the full text (blank/comment lines were skipped above)
    lines_before = skip
    seen = 0
    while seen < n_header:
        if head[lines_before].strip():
            seen += 1
        lines_before += 1
    try:
        # low_memory: pandas tokenizes the text in blocks (a 24-hour CSV took 1.5 GB at once); a column whose
        # blocks differ in type (numbers, then text) comes back as objects, which _numeric reads the same way
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            frame = pd.read_csv(io.BytesIO(data), sep=r"\s+" if sep is None else sep, header=None,
                                skiprows=lines_before, encoding=encoding, decimal=decimal, quotechar=quote,
                                skipinitialspace=True, engine="c", low_memory=True, skip_blank_lines=False,
                                na_values=["n/a", "N/A", "-"])
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except pd.errors.ParserError as exc:
        raise ECGError(f"{name} has rows with different numbers of values: {_short(exc)}. Make every row the same "
                       "width (one value per column).") from None
    # a blank line inside the data is a missing sample (a gap, filled or refused later), not nothing
    filled = np.flatnonzero(frame.notna().any(axis=1).to_numpy())
    frame = frame.iloc[filled[0]:filled[-1] + 1] if filled.size else frame.iloc[:0]
    if frame.shape[0] == 0:
        what = f"a header ({', '.join(names)})" if header else "no rows"
        raise ECGError(f"{name} has {what} but no data rows. Upload a file with ECG samples.")
    if not header and frame.shape[0] == 1 and frame.shape[1] > MAX_LEADS and frame.shape[1] != BEAT_WINDOW:
        frame = frame.T.reset_index(drop=True)  # one recording written as a single row
        frame.columns = [0]
    ncol = frame.shape[1]
    names = [n.strip("'\" ") for n in names] + [""] * max(0, ncol - len(names))
    units = units + [""] * max(0, ncol - len(units))
    columns = [frame[j] for j in frame.columns]
    return _Table(names[:ncol], units[:ncol], columns, header, kaggle, file_rate, lines_before)


def _numeric(col: pd.Series, colname: str, table: _Table, required: bool):
    """Return a float64 array, or None for a text column; raise on stray text in a numeric column."""
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    as_num = pd.to_numeric(col, errors="coerce")
    text = col.astype("string").str.strip()
    bad = as_num.isna() & col.notna() & (text != "")
    n_values = int((col.notna() & (text != "")).sum())
    if n_values and bad.sum() > 0.5 * n_values and not required:
        return None
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ECGError(f"Column {colname} has text where numbers are expected: {str(col.iloc[row])!r} in data row "
                       f"{row + 1} (line {table.n_lines_before + row + 1} of the file). Fix or remove that value.")
    return as_num.to_numpy(dtype=np.float64, na_value=np.nan)


def _time_seconds(col, colname: str, unit_hint: str):
    """Time column -> seconds, or None when it is not a time column."""
    if not pd.api.types.is_numeric_dtype(col.dtype):
        values = col.to_numpy(dtype=object)
        probe = values[:: max(1, values.size // 1000)]
        if values.size < 2 or not all(isinstance(v, str) and _TIME_STR.match(v) for v in probe):
            return None
        # [h:]m:ss.sss, as PhysioNet's exports write it. Parsing 650,000 clock strings takes seconds, and only
        # the rate and the regularity are needed: parse an even subsample (first and last rows included).
        rows = np.unique(np.linspace(0, values.size - 1, min(values.size, _TIME_SUBSAMPLE)).round().astype(np.int64))
        try:
            t = np.fromiter((_clock_seconds(v) for v in values[rows]), dtype=np.float64, count=rows.size)
        except (AttributeError, ValueError):
            return None
        return (t, rows) if rows.size < values.size else t
    t = col.to_numpy(dtype=np.float64, na_value=np.nan)
    if t.size < 2 or not np.isfinite(t).all():
        return None
    span = t[-1] - t[0]
    if span <= 0:
        return None
    step = span / (t.size - 1)
    if unit_hint == "ms":
        return t / 1000.0
    if unit_hint == "s":
        return t
    # unit not stated: the one that gives a plausible ECG rate
    return t / 1000.0 if 1.0 / step < 50 else t


def _clock_seconds(text: str) -> float:
    parts = text.split(":")
    if len(parts) == 2:
        return int(parts[0]) * 60 + float(parts[1])
    if len(parts) == 3:
        return int(parts[0]) * 3600 + int(parts[1]) * 60 + float(parts[2])
    raise ValueError(text)


def _time_unit(name: str, unit: str) -> str:
    s = f"{name} {unit}".casefold()
    if re.search(r"ms|msec|milli", s):
        return "ms"
    if re.search(r"\bs\b|sec|hh:mm", s):
        return "s"
    return ""


def _rate_from_time(t, colname: str) -> float:
    """Sampling rate from a time column in seconds: all its values, or ``(values, rows)`` of a subsample."""
    subsample = isinstance(t, tuple)
    t, rows = t if subsample else (t, np.arange(len(t)))
    dt = np.diff(t)
    if (dt < 0).any():
        row = int(rows[np.flatnonzero(dt < 0)[0] + 1]) + 1
        raise ECGError(f"The time column {colname} goes backwards at data row {row}. Sort the file by time or remove "
                       "the time column and give the sampling rate.")
    mean = (t[-1] - t[0]) / (rows[-1] - rows[0])
    if mean <= 0:
        raise ECGError(f"The time column {colname} does not advance. Remove it and give the sampling rate.")
    step = dt / np.diff(rows)
    resolution = np.min(dt[dt > 0]) if (dt > 0).any() and not subsample else mean
    # in a subsample, a few missing samples hide in the mean step, but they delay every later time stamp
    late = np.abs(t - t[0] - (rows - rows[0]) * mean).max() if subsample else 0.0
    if step.max() > 2 * mean + resolution or late > 2 * mean + resolution:
        k = int(np.argmax(step)) + 1
        raise ECGError(f"The time column {colname} jumps from {t[k - 1]:g} to {t[k]:g} s near data row "
                       f"{int(rows[k]) + 1}: samples are missing. Upload an evenly sampled recording (or the parts "
                       "separately).")
    fs = 1.0 / mean
    # times are printed with limited resolution: snap to a whole rate within 0.05%
    return float(round(fs)) if abs(fs - round(fs)) <= 5e-4 * fs else fs


def _is_index(values: np.ndarray) -> bool:
    if values.size < 2 or not np.isfinite(values).all():
        return False
    d = np.diff(values)
    return bool(np.all(d == 1) and values[0] == np.round(values[0]))


def _load_table(data: bytes, name: str, sampling_rate, lead) -> Recording | Segments:
    table = _read_table(data, name)
    seg_cols = [j for j, n in enumerate(table.names) if _SEGMENT_NAME.match(n)]
    if table.header and len(seg_cols) >= 2:
        return _segments_from_table(table, seg_cols, name)

    time_col = None
    time_s = None
    signal_idx = []
    arrays = {}
    empty = [bool(c.isna().all()) for c in table.columns]
    first_col = empty.index(False) if False in empty else -1
    for j, col in enumerate(table.columns):
        nm, unit = table.names[j], table.units[j]
        label = repr(nm) if nm else f"{j + 1}"
        if empty[j]:
            continue  # an empty column (e.g. from a trailing separator)
        first = j == first_col
        named_time = bool(_TIME_NAME.match(nm)) or unit.casefold().startswith("hh:mm")
        if time_col is None and (named_time or (first and not table.header)):
            numeric = pd.api.types.is_numeric_dtype(col.dtype)
            if named_time or not (numeric and _is_index(col.to_numpy(dtype=np.float64, na_value=np.nan))):
                t = _time_seconds(col, label, _time_unit(nm, unit))
                if t is not None and (named_time or np.all(np.diff(t[0] if isinstance(t, tuple) else t) > 0)):
                    time_col, time_s = j, t
                    continue
        values = _numeric(col, label, table, required=False)
        if values is None:
            continue
        if (first or _INDEX_NAME.match(nm)) and _is_index(values) and (_INDEX_NAME.match(nm) or not nm
                                                                        or not table.header):
            continue
        arrays[j] = values
        signal_idx.append(j)
    if not signal_idx:
        cols = ", ".join(repr(n) for n in table.names if n) or "none"
        raise ECGError(f"{name} has no numeric signal column (columns: {cols}). Upload a table with the ECG samples "
                       "as numbers, one column per lead.")
    if len(signal_idx) > MAX_LEADS and time_s is None:
        matrix = np.column_stack([arrays[j] for j in signal_idx])
        return _segments(matrix, name)
    file_rate = table.file_rate
    if time_s is not None:
        file_rate = _rate_from_time(time_s, repr(table.names[time_col]) if table.names[time_col] else "1")
    fs, from_file = _rate(file_rate, sampling_rate)
    names = [table.names[j] or ("ECG" if len(signal_idx) == 1 else f"signal {k + 1}")
             for k, j in enumerate(signal_idx)]
    units = []
    for k, j in enumerate(signal_idx):
        m = _UNIT_IN_NAME.search(names[k])
        unit = table.units[j] or (_canonical_unit(m.group(1) or m.group(2)) if m else "")
        if m and _UNIT_IN_NAME.sub("", names[k]):
            names[k] = _UNIT_IN_NAME.sub("", names[k])
        units.append(unit or ("adu" if table.kaggle else ""))
    matrix = _stack([arrays[j] for j in signal_idx])
    return _make_recording(matrix, names, units, fs, from_file, name, lead, "kaggle-csv" if table.kaggle else "csv")


def _stack(columns: list[np.ndarray]) -> np.ndarray:
    """``(n, k)`` Fortran-ordered float64 of the columns: one column as it is (no copy), else one copy."""
    if len(columns) == 1:
        return np.asarray(columns[0], dtype=np.float64)[:, None]
    out = np.empty((columns[0].size, len(columns)), dtype=np.float64, order="F")
    for k, c in enumerate(columns):
        out[:, k] = c
    return out


def _segments_from_table(table: _Table, seg_cols, name) -> Segments:
    numbers = [int(_SEGMENT_NAME.match(table.names[j]).group(1)) for j in seg_cols]
    if len(seg_cols) != BEAT_WINDOW or numbers not in (list(range(1, BEAT_WINDOW + 1)), list(range(BEAT_WINDOW))):
        raise ECGError(f"{name} looks like a segmented file (columns sample_1 ... sample_{max(numbers)}) but its rows "
                       f"have {len(seg_cols)} samples; the classifier needs {BEAT_WINDOW} (1 s at 360 Hz) per row, "
                       f"sample_1 ... sample_{BEAT_WINDOW}.")
    matrix = np.column_stack([_numeric(table.columns[j], repr(table.names[j]), table, required=True)
                              for j in seg_cols])
    return _segments(matrix, name)


def _segments(matrix: np.ndarray, name: str) -> Segments:
    if matrix.shape[1] != BEAT_WINDOW:
        raise ECGError(f"{name} has {matrix.shape[1]} values per row: it looks like one beat per row, but segments "
                       f"must be {BEAT_WINDOW} samples long (1 s at 360 Hz, header sample_1 ... sample_{BEAT_WINDOW}).")
    bad = ~np.isfinite(matrix)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        n = int(np.isfinite(matrix[row]).sum())
        raise ECGError(f"Segment (row) {row + 1} of {name} has {n} values instead of {BEAT_WINDOW} (missing or "
                       f"empty cells). Every row must hold exactly {BEAT_WINDOW} samples.")
    windows = np.ascontiguousarray(matrix, dtype=np.float64)
    windows.flags.writeable = False
    return Segments(windows=windows, name=name)


# --------------------------------------------------------------------------------------------- annotations
_KAGGLE_ANN_LINE = re.compile(r"^\s*(\S+)\s+(\d+)\s+(\S+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)[ ]*(?:\t(.*))?$")


def load_annotations(source, *, filename: str | None = None, sampling_rate: float | None = None) -> Annotations:
    """Load reference annotations: WFDB (``.atr`` ...) or the Kaggle ``NNNannotations.txt`` text layout.

    Beats are the symbols of :data:`~ecg_core.config.AAMI_MAP`; other annotations are dropped, but
    ventricular flutter episodes ``[`` ... ``]`` are kept in ``episodes``. The sampling rate is the
    file's (WFDB annotation header, or the text's times against its sample numbers), else
    ``sampling_rate``, else None.
    """
    data, path, name, ext = _read_bytes(source, filename)
    hint = "Give a WFDB annotation file (.atr) or a Kaggle NNNannotations.txt."
    with _one_message(f"the annotations {name}{ext}", hint):
        ann = _load_annotations(data, path, name, ext, sampling_rate)
    record = re.sub(r"[ _.-]*annotations?$", "", name, flags=re.IGNORECASE) if filename or path else ""
    return replace(ann, name=record if record != "recording" else "")


def _load_annotations(data, path, name, ext, sampling_rate) -> Annotations:
    if ext in (".txt", ".csv", ".tsv", ".tab"):
        return _kaggle_annotations(_decode(_data(data, path), name)[0], name, sampling_rate)
    if ext in (".hea", ".dat", ".edf"):
        raise ECGError(f"{name}{ext} is a recording, not an annotation file. Give the reference annotations "
                       "(.atr or NNNannotations.txt).")
    raw = _data(data, path)
    if not raw.strip():
        raise ECGError(f"{name}{ext} is empty. Upload the reference annotation file (.atr or annotations.txt).")
    if _KAGGLE_ANN_HEADER.match(raw[:200].decode("latin-1")):
        return _kaggle_annotations(_decode(raw, name)[0], name, sampling_rate)
    return _wfdb_annotations(raw, path, name, ext or ".atr", sampling_rate)


def _wfdb_annotations(raw: bytes, path, name, ext, sampling_rate) -> Annotations:
    import wfdb

    with tempfile.TemporaryDirectory(prefix="ecg_ann_") as tmp:
        if path is None:
            path = Path(tmp) / f"{name}{ext}"
            path.write_bytes(raw)
        try:
            ann = wfdb.rdann(str(path.with_suffix("")), ext.lstrip("."))
        except Exception as exc:
            raise ECGError(f"{name}{ext} is not a readable WFDB annotation file ({_short(exc)}). Give the record's "
                           ".atr file.") from None
    fs = _ann_rate(ann.fs, sampling_rate)
    return _annotations(np.asarray(ann.sample, dtype=np.int64), list(ann.symbol), fs, aux=ann.aux_note)


def _ann_rate(file_rate, caller_rate) -> float | None:
    if file_rate:
        return float(file_rate)
    return validate_sampling_rate(caller_rate) if caller_rate is not None else None


def _kaggle_annotations(text: str, name: str, sampling_rate) -> Annotations:
    samples, symbols, times, aux = [], [], [], []
    rows = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or _KAGGLE_ANN_HEADER.match(line):
            continue
        m = _KAGGLE_ANN_LINE.match(line)
        if m is None:
            raise ECGError(f"Line {lineno} of {name} is not an annotation line ({line.strip()[:60]!r}); expected the "
                           "Kaggle layout 'Time  Sample #  Type  Sub  Chan  Num  Aux'.")
        rows += 1
        samples.append(int(m.group(2)))
        symbols.append(m.group(3))
        aux.append(m.group(7) or "")
        tm = _TIME_STR.match(m.group(1))
        times.append(float(tm.group(1) or 0) * 3600 + float(tm.group(2)) * 60 + float(tm.group(3)) if tm else np.nan)
    if not rows:
        raise ECGError(f"{name} holds no annotations. Give the reference annotation file of the record.")
    s = np.asarray(samples, dtype=np.int64)
    t = np.asarray(times)
    file_rate = None
    ok = np.isfinite(t)
    if ok.sum() >= 2 and np.ptp(t[ok]) >= 5.0:
        est = np.ptp(s[ok]) / np.ptp(t[ok])
        if abs(est - round(est)) <= 0.005 * est:
            file_rate = float(round(est))
    return _annotations(s, symbols, _ann_rate(file_rate, sampling_rate), aux=aux)


def _annotations(samples: np.ndarray, symbols, fs, aux=None) -> Annotations:
    symbols = np.asarray(symbols, dtype=object)
    order = np.argsort(samples, kind="stable")
    samples, symbols = samples[order], symbols[order]
    notes = np.asarray(["" if a is None else str(a).strip().rstrip("\x00") for a in aux], dtype=object)[order] \
        if aux is not None and len(aux) == len(order) else np.full(len(order), "", dtype=object)
    marks = [k for k in range(len(samples)) if symbols[k] == "+" and str(notes[k]).startswith("(")]
    rhythms = tuple((int(samples[k]), int(samples[marks[j + 1]]) if j + 1 < len(marks) else int(samples[-1]),
                     str(notes[k])) for j, k in enumerate(marks))
    episodes = []
    start = None
    for s, sym in zip(samples, symbols, strict=True):
        if sym == "[":
            start = int(s) if start is None else start
        elif sym == "]":
            episodes.append((0 if start is None else start, int(s)))
            start = None
    if start is not None:
        episodes.append((start, int(samples[-1])))
    beat = np.fromiter((sym in AAMI_MAP for sym in symbols), dtype=bool, count=symbols.size)
    sample = np.ascontiguousarray(samples[beat], dtype=np.int64)
    sym = symbols[beat].astype(str)
    label = np.asarray([AAMI_MAP[x] for x in sym], dtype=str)
    for arr in (sample, sym, label):
        arr.flags.writeable = False
    return Annotations(sample=sample, symbol=sym, label=label, episodes=tuple(episodes), sampling_rate=fs,
                       rhythms=rhythms)


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


# --------------------------------------------------------------------------------------------- writing beats
#: AAMI class -> MIT-BIH beat symbol written to WFDB annotation files (SVEB as A, an atrial premature beat).
WFDB_SYMBOL = {"N": "N", "SVEB": "A", "VEB": "V", "F": "F", "Q": "Q"}


def annotation_bytes(record_name: str, sampling_rate: float, samples, labels, *, extension: str = "atr") -> bytes:
    """Beats as a WFDB annotation file (``wfdb.wrann``), AAMI classes as MIT-BIH symbols (:data:`WFDB_SYMBOL`).

    Parameters
    ----------
    record_name : str
        The record the annotations belong to (characters other than letters, digits, ``_`` and ``-``
        become ``_``); ``wfdb.rdann(record_name, extension)`` reads the file back.
    sampling_rate : float
        Hz, stored in the file.
    samples : array_like of int
        Beat positions (sample numbers), in time order.
    labels : array_like of str
        AAMI class of each beat; unknown ones are written as ``Q``.
    extension : str
        Annotator name, the file's extension (``"atr"``: the reference annotator's).

    Returns
    -------
    bytes
        The file's contents.
    """
    import wfdb

    name = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in record_name) or "record"
    s = np.asarray(samples, dtype=np.int64)
    symbols = [WFDB_SYMBOL.get(str(lab), "Q") for lab in labels]
    if len(symbols) != s.size:
        raise ValueError("samples and labels must have the same length")
    with tempfile.TemporaryDirectory() as tmp:
        wfdb.wrann(name, extension, s, symbol=symbols, fs=float(sampling_rate), write_dir=tmp)
        return (Path(tmp) / f"{name}.{extension}").read_bytes()


def peaks_csv_bytes(samples, labels=None) -> bytes:
    """Beats as the CLI's ``<stem>.peaks.csv`` (column ``sample``; with ``labels``, a ``label`` column after it).

    ``python -m ecg_core classify INPUT --peaks-dir DIR`` classifies the beats at the ``sample`` column.
    """
    frame = pd.DataFrame({"sample": np.asarray(samples, dtype=np.int64)})
    if labels is not None:
        frame["label"] = np.asarray(labels).astype(str)
    return frame.to_csv(index=False).encode()
