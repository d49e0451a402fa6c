"""The classifier's recording path, block by block (issue 19), gives the numbers of one pass over all beats.

``BeatClassifier.predict_recording`` builds the network inputs and runs the network ``inputs.CHUNK`` beats at
a time and keeps only each block's :class:`~ecg_core.classifier.features.BeatShapes`; templates are medians
taken a few columns at a time (``inputs.MEDIAN_BLOCK``). Here the same recording, long enough for several blocks, goes
through that path with small blocks and through one pass (one block as large as the recording, and the
whole-array functions that training uses); labels, probabilities and the atrial fibrillation flags must be
equal, not close.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_long_recording import long_signal

from ecg_core import model
from ecg_core.beats import segment_beats
from ecg_core.classifier import inputs, network
from ecg_core.peaks import detect_r_peaks

ONE_PASS = 1 << 30


@pytest.fixture(scope="module")
def classifier():
    return model.load_classifier()


@pytest.fixture(scope="module")
def beats():
    x = long_signal()
    return segment_beats(x, 360.0, detect_r_peaks(x, 360.0))


def whole_arrays(classifier, beats):
    """The recording path as one pass over whole arrays (the functions training and evaluation call)."""
    m, r = model.recording_inputs(beats.windows, beats.rr)
    probs = model.softmax(classifier.logits(m, r), classifier.temperatures["rhythm"])
    in_af = classifier.stage.atrial_fibrillation(probs, m, r)
    return classifier.stage.apply(probs, m, r, in_af=in_af), model.stage_beats(probs, in_af)[1]


@pytest.mark.parametrize(("batch", "chunk", "median_block"), [(model.BATCH, model.BATCH, 4096), (256, 768, 999)])
def test_blocks_give_the_numbers_of_one_pass(classifier, beats, monkeypatch, batch, chunk, median_block):
    monkeypatch.setattr(network, "BATCH", batch)  # the network's batches: the same in both paths
    monkeypatch.setattr(inputs, "CHUNK", ONE_PASS)
    monkeypatch.setattr(inputs, "MEDIAN_BLOCK", ONE_PASS)
    one = classifier.predict_recording(beats)
    reference = whole_arrays(classifier, beats)
    segments = classifier.predict_segments(beats.windows)
    monkeypatch.setattr(inputs, "CHUNK", chunk)
    monkeypatch.setattr(inputs, "MEDIAN_BLOCK", median_block)
    assert len(beats) > 3 * chunk  # several blocks, the last one partial
    chunked = classifier.predict_recording(beats)
    assert np.array_equal(chunked.probabilities, one.probabilities)
    assert np.array_equal(chunked.atrial_fibrillation, one.atrial_fibrillation)
    assert np.array_equal(chunked.probabilities, reference[0])
    assert np.array_equal(chunked.atrial_fibrillation, reference[1])
    assert np.array_equal(classifier.predict_segments(beats.windows), segments)
    labels = chunked.probabilities.argmax(axis=1)
    assert len(np.unique(labels)) >= 3  # the three records have N, SVEB and VEB beats: the rules all had work


def test_expanded_blocks_are_the_whole_inputs(beats, monkeypatch):
    monkeypatch.setattr(inputs, "CHUNK", 640)
    prepared = model.prepare_recording(beats.windows, beats.rr)
    whole, rhythm = model.recording_inputs(beats.windows, beats.rr)
    parts = list(prepared.blocks())
    assert [p[0] for p in parts] == list(range(0, len(beats), 640))
    assert np.array_equal(np.concatenate([p[2] for p in parts]), whole)
    assert np.array_equal(np.concatenate([p[3] for p in parts]), rhythm)
    shapes = model.BeatShapes.concatenate(model.BeatShapes.of(p[2]) for p in parts)
    assert np.array_equal(shapes.features, model.morphology_features(whole))
    assert np.array_equal(shapes.p_wave, model.p_wave_correlation(whole))
    with pytest.raises(ValueError, match="multiple of TEMPLATE_BLOCK"):
        prepared.morphology(10, 20)
