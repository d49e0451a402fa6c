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


def test_annotations_rescaled_to_the_recording_rate():
    ann = ecg_io.Annotations(np.array([360, 720, 1080]), np.array(["N", "V", "~"]), np.array(["N", "VEB", "X"]),
                             ((360, 1081),), 360.0, rhythms=((0, 700, "(N"), (700, 5000, "(VT")))
    samples, labels = ann.beats_at(250.0)
    assert samples.tolist() == [250, 500] and labels.tolist() == ["N", "VEB"]
    assert ann.beats_at(360.0)[0].tolist() == [360, 720]
    assert ann.episodes_at(180.0) == [(180, 540)]
    assert ann.rhythms_within(3.0) == [(0.0, 700 / 360, "(N"), (700 / 360, 3.0, "(VT")]
    assert ecg_io.Annotations(np.array([1]), np.array(["N"]), np.array(["N"]), (), None).rhythms_within(9) == []
