"""What every reader of :mod:`ecg_core.io` shares: the formats, reading a source, one message per failure."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from ..config import DEFAULT_FS
from ..errors import ECGError, validate_sampling_rate

#: More signal columns than this in a header-less table means "one beat per row", not leads.
MAX_LEADS = 16
TEXT_EXTENSIONS = (".csv", ".tsv", ".txt", ".tab")
EDF_EXTENSIONS = (".edf",)
WFDB_ANNOTATION_EXTENSIONS = (".atr", ".ann", ".qrs", ".ecg", ".ari", ".pwave", ".atruth")
SUPPORTED = "CSV/TSV/TXT tables, WFDB records (.hea + .dat), EDF (.edf) and segmented CSVs (sample_1 ... sample_360)"


def _rate(file_rate, caller_rate) -> tuple[float, bool]:
    """Apply the precedence: the file's rate, else the caller's, else DEFAULT_FS."""
    caller = validate_sampling_rate(caller_rate) if caller_rate is not None else None
    if file_rate is not None:
        try:
            return validate_sampling_rate(file_rate), True
        except ECGError as exc:
            raise ECGError(f"The file states a sampling rate of {float(file_rate):g} Hz: {exc}") from None
    return (caller if caller is not None else DEFAULT_FS), False


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


def _short(exc) -> str:
    msg = str(exc).strip().splitlines()
    return (msg[0][:200] if msg else type(exc).__name__).rstrip(".")


def _canonical_unit(unit) -> str:
    u = str(unit or "").strip().strip("'\"()[]").strip()
    return {"mv": "mV", "uv": "uV", "µv": "uV", "μv": "uV", "v": "V", "adu": "adu"}.get(u.casefold(), u)
