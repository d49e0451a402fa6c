"""EDF / EDF+ recordings through ``edfio`` (annotation channels skipped, truncated files refused)."""

from __future__ import annotations

import warnings

from ..errors import ECGError
from ._common import _canonical_unit, _rate, _short
from .recording import Recording, _choose_lead, _dedupe, _make_recording, _stack


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
