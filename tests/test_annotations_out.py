"""Drawing units and writing beats back: ``ecg_core.io.to_millivolts``, ``annotation_bytes``, ``peaks_csv_bytes``."""

from __future__ import annotations

import numpy as np

from ecg_core import io as ecg_io
from ecg_core.config import EXAMPLES_DIR as EX


def test_kaggle_adc_units_become_millivolts_and_say_so():
    from ecg_core.io import to_millivolts

    rec = ecg_io.load(EX / "208_excerpt.csv")
    wf = ecg_io.load(EX / "208_excerpt.hea")
    mv, units, note = to_millivolts(rec.signal, rec.units, rec.source_format)
    assert (rec.units, units) == ("adu", "mV") and "200 units per mV, baseline 1024" in note
    n = min(mv.size, wf.signal.size)
    assert np.allclose(mv[:n], wf.signal[:n], atol=1e-9)  # the same record in WFDB, in mV by its header
    same, units, note = to_millivolts(wf.signal, wf.units, wf.source_format)
    assert np.shares_memory(same, wf.signals) and units == "mV" and note == ""  # no copy
    uv, units, note = to_millivolts(np.array([1000.0, -500.0]), "uV")
    assert uv.tolist() == [1.0, -0.5] and units == "mV" and "uV" in note
    raw, units, note = to_millivolts(np.array([3.0]), "")
    assert raw.tolist() == [3.0] and units == "" and note == ""
