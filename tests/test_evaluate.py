import numpy as np
import pytest

from ecg_core.config import CLASSES
from ecg_core.evaluate import (
    DetectionScore,
    confusion_from_labels,
    match_beats,
    outside_episodes,
    score_classification,
    score_detection,
)


def reference_match(ref, det, tol):
    """The scorer's algorithm, written plainly: all candidate pairs, nearest first, ties to the earlier."""
    cand = sorted((abs(int(d) - int(r)), i, int(d), j) for i, r in enumerate(ref) for j, d in enumerate(det)
                  if abs(int(d) - int(r)) <= tol)
    ru, du, pairs = set(), set(), set()
    for _, i, _, j in cand:
        if i not in ru and j not in du:
            ru.add(i)
            du.add(j)
            pairs.add((i, j))
    return pairs


@pytest.mark.parametrize("seed", range(5))
def test_match_agrees_with_plain_greedy(seed):
    rng = np.random.default_rng(seed)
    ref = np.sort(rng.choice(20_000, 150, replace=False))
    det = np.concatenate([ref + rng.integers(-80, 80, ref.size), rng.integers(0, 20_000, 30)])
    rng.shuffle(det)
    pairs = match_beats(ref, det, 360)
    assert {tuple(p) for p in pairs} == reference_match(ref, det, 54)


def test_detection_score_counts():
    ref = np.array([100, 400, 700, 1000])
    det = np.array([105, 460, 700, 1300])  # 400 vs 460 is 60 samples > 54 (150 ms at 360 Hz)
    s = score_detection(ref, det, 360)
    assert (s.tp, s.fn, s.fp) == (2, 2, 2)
    assert s.sensitivity == pytest.approx(0.5) and s.ppv == pytest.approx(0.5)
    assert (s + DetectionScore(2, 0, 0)).tp == 4


def test_detections_inside_flutter_are_ignored():
    s = score_detection([100], [100, 500, 600], 360, episodes=[(400, 800)])
    assert (s.tp, s.fn, s.fp) == (1, 0, 0)
    assert outside_episodes([400, 500, 800], [(400, 800)]).tolist() == [True, False, True]


def test_classification_confusion_and_f1():
    ref = np.array([100, 400, 700, 1000, 1300])
    lab = np.array(["N", "N", "VEB", "SVEB", "N"])
    det = np.array([100, 400, 700, 1000, 2000])
    pred = np.array(["N", "VEB", "VEB", "N", "N"])
    s = score_classification(ref, lab, det, pred, 360)
    k = {c: i for i, c in enumerate(CLASSES)}
    assert s.confusion[k["N"], k["N"]] == 1 and s.confusion[k["N"], k["VEB"]] == 1
    assert s.confusion[k["N"], len(CLASSES)] == 1  # 1300 missed
    assert s.false_detections[k["N"]] == 1  # 2000 not a beat
    veb = s.per_class()[k["VEB"]]
    assert veb.sensitivity == 1.0 and veb.ppv == 0.5 and veb.f1 == pytest.approx(2 / 3)
    assert s.accuracy == pytest.approx(2 / 5)
    assert s.to_dict()["classes"]["SVEB"]["se"] == 0.0


def test_confusion_from_labels_pools():
    a = confusion_from_labels(["N", "VEB"], ["N", "N"])
    b = confusion_from_labels(["F"], ["F"])
    total = a + b
    assert total.beats == 3 and total.accuracy == pytest.approx(2 / 3)
