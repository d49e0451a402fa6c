"""Reference annotations read (WFDB ``.atr`` ..., Kaggle ``NNNannotations.txt``) and beats written back
(a WFDB annotation file, the CLI's peaks CSV)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import AAMI_MAP, CLASSES
from ..errors import ECGError, validate_sampling_rate
from ._common import _data, _one_message, _read_bytes, _short
from .table import _KAGGLE_ANN_HEADER, _TIME_STR, _decode


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

    def _scale(self, sampling_rate: float) -> float:
        """The factor from this file's sample numbers to ``sampling_rate`` (1 where the file's rate is unknown)."""
        fs = self.sampling_rate
        return float(sampling_rate) / float(fs) if fs else 1.0

    def beats_at(self, sampling_rate: float) -> tuple[np.ndarray, np.ndarray]:
        """The beats with an AAMI class, as sample numbers at ``sampling_rate``.

        Parameters
        ----------
        sampling_rate : float
            The recording's rate (Hz); the samples are rescaled (rounded) where the file's rate differs.

        Returns
        -------
        samples : numpy.ndarray
            int64 sample numbers.
        labels : numpy.ndarray
            Their classes (``str``).

        Examples
        --------
        >>> ann = Annotations(np.array([360, 720]), np.array(["N", "V"]), np.array(["N", "VEB"]), (), 360.0)
        >>> ann.beats_at(180.0)[0].tolist()
        [180, 360]
        """
        labels = np.asarray(self.label, dtype=object)
        keep = np.array([lab in CLASSES for lab in labels], dtype=bool)
        samples = np.asarray(self.sample, dtype=np.int64)[keep]
        fs = self.sampling_rate
        if fs and float(fs) != float(sampling_rate):
            samples = np.rint(samples * float(sampling_rate) / float(fs)).astype(np.int64)
        return samples, labels[keep].astype(str)

    def episodes_at(self, sampling_rate: float) -> list[tuple[int, int]]:
        """The ventricular flutter episodes as ``(start, end)`` sample numbers at ``sampling_rate`` (truncated)."""
        scale = self._scale(sampling_rate)
        return [(int(a * scale), int(b * scale)) for a, b in (self.episodes or ())]

    def rhythms_within(self, duration_s: float) -> list[tuple[float, float, str]]:
        """The rhythm episodes (:attr:`rhythms`) that start within a recording of ``duration_s``, in seconds.

        Each is ``(start_s, end_s, aux_note)``, its end cut to the recording's; none where the file's rate
        is unknown.

        Examples
        --------
        >>> ann = Annotations(np.array([0]), np.array(["N"]), np.array(["N"]), (), 100.0,
        ...                   rhythms=((0, 500, "(N"), (500, 2000, "(AFIB"), (2000, 3000, "(N")))
        >>> ann.rhythms_within(12.0)
        [(0.0, 5.0, '(N'), (5.0, 12.0, '(AFIB')]
        """
        fs = self.sampling_rate
        if not fs:
            return []
        return [(a / fs, min(b / fs, duration_s), note) for a, b, note in self.rhythms if a / fs < duration_s]


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

    Examples
    --------
    >>> peaks_csv_bytes([10, 370], ["N", "VEB"])
    b'sample,label\\n10,N\\n370,VEB\\n'
    """
    frame = pd.DataFrame({"sample": np.asarray(samples, dtype=np.int64)})
    if labels is not None:
        frame["label"] = np.asarray(labels).astype(str)
    return frame.to_csv(index=False).encode()
