"""The shipped classifier where ectopic beats outnumber normal ones, and at other sampling rates.

The recordings are spliced from real beats of MIT-BIH record 209 (``tests/ectopy.py``): a running
median RR there is the ectopic rhythm itself. Bigeminy the networks find; the runs of the other two,
the supraventricular runs (:class:`ecg_core.classifier.rules.SupraventricularRunRule`), measured
against the sinus beats between them.
"""

import ectopy
import numpy as np
import pytest
from scipy.signal import resample_poly

from ecg_core import io as ecg_io
from ecg_core.config import AAMI_MAP, EXAMPLES_DIR
from ecg_core.pipeline import analyze

#: Least share of the spliced atrial premature beats labelled SVEB, and of the normal beats labelled N.
MIN_SVEB_FOUND = 0.8
MIN_N_KEPT = 0.9


@pytest.mark.parametrize("rhythm", ["atrial_bigeminy", "frequent_ectopy_bradycardia", "svt_runs"])
def test_ectopy_dominant_recordings_are_labelled_right(rhythm):
    x, r, kinds = ectopy.splice(getattr(ectopy, rhythm)())
    labels = analyze(x, ectopy.FS, peaks=r).labels
    found = np.mean(labels[kinds == "A"] == "SVEB")
    kept = np.mean(labels[kinds == "N"] == "N")
    assert found >= MIN_SVEB_FOUND and kept >= MIN_N_KEPT, (found, kept)


def test_a_sinus_tachycardia_of_normal_beats_stays_normal():
    x, r, kinds = ectopy.splice(ectopy.sinus_tachycardia(fastest=0.5))
    assert (kinds == "N").all()
    assert np.mean(analyze(x, ectopy.FS, peaks=r).labels == "N") >= MIN_N_KEPT + 0.05


def test_ectopy_dominates_the_spliced_recordings():
    for rhythm, least in (("frequent_ectopy_bradycardia", 0.65), ("svt_runs", 0.7)):
        _, _, kinds = ectopy.splice(getattr(ectopy, rhythm)())
        assert np.mean(kinds == "A") >= least


@pytest.mark.parametrize("rate", [128, 250, 500])
def test_same_beats_give_the_same_labels_at_other_rates(rate):
    rec = ecg_io.load(EXAMPLES_DIR / "208_excerpt.hea")
    ann = ecg_io.load_annotations(EXAMPLES_DIR / "208_excerpt.atr")
    peaks = np.asarray(ann.sample, np.int64)
    peaks = peaks[(peaks > 0) & (peaks < rec.signal.size)]
    base = analyze(rec.signal, rec.sampling_rate, peaks=peaks).labels
    y = resample_poly(rec.signal, rate, 360)
    moved = np.minimum(np.rint(peaks * rate / 360).astype(np.int64), y.size - 1)
    labels = analyze(y, rate, peaks=moved).labels
    assert len(labels) == len(base) > 300
    assert np.mean(labels == base) >= 0.97
    assert set(AAMI_MAP.values()) >= set(labels)
