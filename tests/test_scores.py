"""Which shares the dashboard may call probabilities: ``Analysis.score_kinds`` against the network's own output."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ecg_core import config
from ecg_core.beats import segment_beats
from ecg_core.pipeline import DECISION_SCORE, PROBABILITY, Analysis, analyze

pytestmark = pytest.mark.skipif(not config.MODEL_PATH.exists(), reason="needs the shipped model")


@pytest.fixture(scope="module")
def classifier():
    from ecg_core.model import load_classifier

    return load_classifier()


@pytest.mark.parametrize("record", ["208_excerpt", "201_af_excerpt"])
def test_a_share_is_called_a_probability_exactly_where_it_is_the_networks(classifier, record):
    from ecg_core.model import recording_inputs, softmax

    x = wfdb.rdrecord(str(config.EXAMPLES_DIR / record)).p_signal[:, 0]
    analysis = analyze(x, 360.0, classifier=classifier)
    beats = segment_beats(x, 360.0, analysis.samples)
    morphology, rhythm = recording_inputs(beats.windows, beats.rr)
    network = softmax(classifier.logits(morphology, rhythm), classifier.temperatures["rhythm"])
    top = analysis.probabilities.argmax(axis=1)
    own = np.isclose(analysis.confidence, network[np.arange(len(top)), top], rtol=0, atol=1e-12)
    kinds = analysis.score_kinds
    assert DECISION_SCORE in set(kinds) and set(kinds) <= {PROBABILITY, DECISION_SCORE}
    assert np.array_equal(kinds == PROBABILITY, own)
    assert (kinds[np.isin(analysis.labels, ["N", "SVEB"])] == DECISION_SCORE).all()


def test_without_the_second_stage_every_share_is_a_probability():
    probs = np.array([[0.9, 0.05, 0.03, 0.01, 0.01], [0.1, 0.1, 0.7, 0.05, 0.05]])
    segments = Analysis(np.arange(2), probs, "morphology-only", None, None)
    assert list(segments.score_kinds) == [PROBABILITY, PROBABILITY]
    with_stage = Analysis(np.array([10, 400]), probs, "morphology+rhythm", 360.0, 800,
                          atrial_fibrillation=np.zeros(2, bool))
    assert list(with_stage.score_kinds) == [DECISION_SCORE, PROBABILITY]
