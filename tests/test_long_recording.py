"""Long recordings in bounded memory (issue 19): the blockwise zero-phase filter is scipy's, number for number,
also as blocks from the end (the beat windows are cut from those), so the beats of a long recording are those of
the one-pass path; the classifier comes after the signal is gone.
"""

from __future__ import annotations

import numpy as np
import pytest
import wfdb
from scipy import signal as sps

from ecg_core import filters
from ecg_core.config import EXAMPLES_DIR
from ecg_core.model import prepare_beats
from ecg_core.peaks import detect_r_peaks
from ecg_core.pipeline import analyze, classify_beats, find_beats

MITDB = EXAMPLES_DIR.parent.parent / "shared" / "data" / "mitdb"


def long_signal() -> np.ndarray:
    """Three real records end to end (about 1.9 M samples, two blocks and a part)."""
    if (MITDB / "101.hea").exists():
        parts = [wfdb.rdrecord(str(MITDB / r), channel_names=["MLII"]).p_signal[:, 0] for r in ("101", "208", "119")]
    else:  # the bundled excerpts, repeated
        parts = [wfdb.rdrecord(str(EXAMPLES_DIR / r)).p_signal[:, 0] for r in ("208_excerpt", "201_af_excerpt")] * 9
    return np.concatenate(parts)


@pytest.mark.parametrize("band", [(0.5, 40.0, 360.0), (5.0, 20.0, 90.0), (0.0, 40.0, 360.0)])
@pytest.mark.parametrize("block", [filters.BLOCK, 100_003, 997])
def test_blockwise_filter_is_scipys_number_for_number(band, block):
    x = long_signal() if block == filters.BLOCK else long_signal()[:300_000]
    sos = filters._bandpass_sos(*band, 2)
    expected = sps.sosfiltfilt(sos, x)
    assert np.array_equal(filters.sosfiltfilt(sos, x, block=block), expected)
    # the same numbers as blocks from the end, with no full-length output array
    pieces = list(filters.sosfiltfilt_blocks(sos, x, block=block))
    assert [a for a, _ in pieces] == list(range(0, x.size, block))[::-1]
    assert np.array_equal(np.concatenate([v for _, v in pieces[::-1]]), expected)


def test_long_recording_beats_are_the_one_pass_beats():
    x = long_signal()
    assert x.size > 1.5 * filters.BLOCK
    peaks = detect_r_peaks(x, 360.0)
    # the one-pass path: scipy's sosfiltfilt over the whole signal, computed here by hand
    sos = filters._bandpass_sos(0.5, 40.0, 360.0, 2)
    clean = sps.sosfiltfilt(sos, x)
    beats = find_beats(x, 360.0, peaks=peaks)
    half = 180
    padded = np.pad(clean.astype(np.float32), (half, half), mode="edge")
    assert np.array_equal(beats.windows, np.stack([padded[p:p + 360] for p in peaks]))
    assert peaks.size > 6000


def test_find_then_classify_is_analyze():
    rec = wfdb.rdrecord(str(EXAMPLES_DIR / "208_excerpt"))
    x = rec.p_signal[:, 0]
    one = analyze(x, 360.0)
    two = classify_beats(find_beats(x, 360.0), 360.0, x.size)
    assert np.array_equal(one.samples, two.samples) and np.array_equal(one.probabilities, two.probabilities)
    assert (one.n_samples, one.sampling_rate) == (two.n_samples, two.sampling_rate)
    # the command line's way: the windows reduced to the network inputs before the classifier loads
    three = classify_beats(prepare_beats(find_beats(x, 360.0)), 360.0, x.size)
    assert np.array_equal(one.samples, three.samples) and np.array_equal(one.probabilities, three.probabilities)
    assert np.array_equal(one.atrial_fibrillation, three.atrial_fibrillation)
