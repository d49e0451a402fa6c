"""WFDB records (``.hea`` with its signal files) from a path or uploaded, with their length and checksums checked."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..errors import ECGError
from ._common import _rate, _short
from .recording import Recording, _make_recording


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
