"""Text tables: CSV/TSV/TXT with or without header, index, time column or units, the Kaggle MIT-BIH layout,
and segmented CSVs (one beat per row)."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import BEAT_WINDOW
from ..errors import ECGError
from ._common import MAX_LEADS, _canonical_unit, _rate, _short
from .recording import Recording, Segments, _make_recording, _norm, _stack

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
