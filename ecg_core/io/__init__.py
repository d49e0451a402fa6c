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

Modules
-------
- :mod:`~ecg_core.io.source`: :func:`load`, :func:`load_files`, :func:`recording_files`.
- :mod:`~ecg_core.io.recording`: :class:`Recording`, :class:`Segments`, the choice of lead, :func:`to_millivolts`.
- :mod:`~ecg_core.io.wfdb`, :mod:`~ecg_core.io.edf`, :mod:`~ecg_core.io.table`: one reader per format.
- :mod:`~ecg_core.io.annotations`: :func:`load_annotations`, and beats written back (:func:`annotation_bytes`,
  :func:`peaks_csv_bytes`).
"""

from ._common import EDF_EXTENSIONS, MAX_LEADS, SUPPORTED, TEXT_EXTENSIONS, WFDB_ANNOTATION_EXTENSIONS
from .annotations import WFDB_SYMBOL, Annotations, annotation_bytes, load_annotations, peaks_csv_bytes
from .recording import KAGGLE_ADC_BASELINE, KAGGLE_ADC_GAIN, TO_MILLIVOLTS, Recording, Segments, to_millivolts
from .source import UploadedRecording, load, load_files, recording_files

__all__ = ["Annotations", "Recording", "Segments", "UploadedRecording", "load", "load_annotations", "load_files",
           "recording_files", "to_millivolts", "annotation_bytes", "peaks_csv_bytes", "WFDB_SYMBOL",
           "TEXT_EXTENSIONS", "EDF_EXTENSIONS", "WFDB_ANNOTATION_EXTENSIONS", "SUPPORTED", "MAX_LEADS",
           "KAGGLE_ADC_GAIN", "KAGGLE_ADC_BASELINE", "TO_MILLIVOLTS"]
