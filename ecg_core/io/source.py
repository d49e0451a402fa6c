"""Loading a file or a set of uploaded files: :func:`load`, :func:`load_files` and the rule of
:func:`recording_files` (which recording a set of files makes)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ECGError
from ._common import (
    EDF_EXTENSIONS,
    SUPPORTED,
    TEXT_EXTENSIONS,
    WFDB_ANNOTATION_EXTENSIONS,
    _data,
    _one_message,
    _read_bytes,
)
from .edf import _load_edf
from .recording import Recording, Segments
from .table import _load_table, _refuse_compressed
from .wfdb import _load_wfdb_path, _load_wfdb_upload, _signal_files


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

    Examples
    --------
    >>> import numpy as np
    >>> text = "ECG\\n" + "\\n".join(f"{v:.4f}" for v in np.sin(np.arange(3600) / 20))
    >>> rec = load(text.encode(), filename="x.csv")
    >>> rec.lead, rec.sampling_rate, rec.sampling_rate_from_file, rec.n_samples, rec.source_format
    ('ECG', 360.0, False, 3600, 'csv')
    """
    data, path, name, ext = _read_bytes(source, filename)
    with _one_message(f"{name}{ext}"):
        return _dispatch(data, path, name, ext, sampling_rate, lead)


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

    Examples
    --------
    >>> recording_files({"a.csv": b"", "a.atr": b""})
    UploadedRecording(name='a', files=('a.csv',), ignored=('a.atr',))
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
