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


# ----------------------------------------------------------------------------- reference fit
def _beats(seconds: float, seed: int, fs: float = 360.0) -> np.ndarray:
    """Seeded beat positions: RR 0.6-1.0 s."""
    rr = np.random.default_rng(seed).uniform(0.6, 1.0, int(seconds))
    return np.rint(np.cumsum(rr) * fs).astype(np.int64)


def test_fit_reference_accepts_the_recordings_own_annotations():
    from ecg_core.evaluate import fit_reference

    ref = _beats(300, 1)
    jitter = np.random.default_rng(2).integers(-5, 6, ref.size)
    detected = np.delete(ref + jitter, np.arange(0, ref.size, 7))  # a detector that misses every 7th beat
    fit = fit_reference(ref, ["N"] * ref.size, detected, 360, n_samples=int(ref[-1]) + 360,
                        recording_name="119", reference_name="119")
    assert fit.fits and fit.position_share > 0.95 and not fit.problems and not fit.notes
    assert fit.samples.size == ref.size and fit.beats_after_end == 0 and fit.message("119") == ""


def test_fit_reference_refuses_another_recordings_annotations():
    from ecg_core.evaluate import fit_reference

    ref, detected = _beats(300, 1), _beats(300, 3)
    fit = fit_reference(ref, ["N"] * ref.size, detected, 360, n_samples=300 * 360, recording_name="119",
                        reference_name="101")
    assert not fit.fits and fit.position_share < 0.4
    text = fit.message("119")
    assert "do not fit" in text and "named 101, the recording 119" in text and "within 50 ms" in text
    assert "Upload the annotations of 119" in text
    # positions alone decide where no name is known
    unnamed = fit_reference(ref, ["N"] * ref.size, detected, 360, n_samples=300 * 360)
    assert not unnamed.fits and len(unnamed.problems) == 1


def test_fit_reference_cuts_a_longer_reference_to_the_recording():
    from ecg_core.evaluate import fit_reference

    ref = _beats(1800, 4)  # a 30-min reference ...
    n = 14 * 360  # ... for a 14-s excerpt of its start
    detected = ref[ref < n] + 2
    fit = fit_reference(ref, ["N"] * ref.size, detected, 360, n_samples=n, episodes=[(100, 200), (n + 10, n + 99)])
    assert fit.fits and fit.samples.size == np.sum(ref < n) and fit.beats_after_end == np.sum(ref >= n)
    assert fit.episodes == ((100, 200),)
    assert "left out" in fit.message() and "14.0 s" in fit.message()
    # none of its beats within the recording: it does not fit
    late = fit_reference(ref[ref > 2 * n], ["N"] * int(np.sum(ref > 2 * n)), detected, 360, n_samples=n)
    assert not late.fits and "none of their" in late.message()


def test_fit_reference_a_renamed_reference_that_lines_up_fits_with_a_note():
    from ecg_core.evaluate import fit_reference

    ref = _beats(60, 5)
    fit = fit_reference(ref, ["N"] * ref.size, ref, 360, n_samples=int(ref[-1]) + 1, recording_name="mine",
                        reference_name="208")
    assert fit.fits and not fit.problems and "line up" in fit.message()


def test_agreement_lists_wrong_class_missed_and_extra_beats_outside_flutter():
    from ecg_core.evaluate import agreement, fit_reference

    fs = 360.0
    ref = [100, 1000, 2000, 3000, 4000, 5000]
    fit = fit_reference(ref, ["N", "VEB", "N", "N", "N", "N"], ref, fs, n_samples=6000, episodes=[(5400, 5600)])
    det = [100, 1000, 2000, 3500, 4000, 5000, 5500]  # 3000 missed, 3500 extra, 5500 in flutter (not scored)
    score, table = agreement(fit, det, ["N", "N", "N", "N", "N", "N", "VEB"], fs)
    assert list(table.columns) == ["beat", "time_s", "reference", "predicted", "kind"]
    assert table["kind"].tolist() == ["different class", "missed (no beat detected)", "extra (not in reference)"]
    assert table["beat"].tolist() == [1, -1, 3]
    assert table["time_s"].is_monotonic_increasing
    assert score.beats == 6


def test_detection_check_names_the_missed_and_extra_samples():
    from ecg_core.evaluate import detection_check, fit_reference

    ref = np.arange(1, 9) * 360
    fit = fit_reference(ref, ["N"] * 8, ref, 360.0, n_samples=4000)
    score, missed, extra = detection_check(fit, np.r_[ref[:-1], 3900], 360.0)
    assert (score.tp, score.fn, score.fp) == (7, 1, 1)
    assert missed.tolist() == [2880] and extra.tolist() == [3900]


def test_fit_annotations_takes_the_beats_at_the_recording_rate():
    from ecg_core.evaluate import fit_annotations
    from ecg_core.io import Annotations

    ann = Annotations(np.arange(1, 9) * 720, np.array(["N"] * 8), np.array(["N"] * 8), ((1440, 2880),), 720.0,
                      name="100")
    fit = fit_annotations(ann, np.arange(1, 9) * 360, 360.0, n_samples=4000, recording_name="100")
    assert fit.fits and fit.samples.tolist() == (np.arange(1, 9) * 360).tolist()
    assert fit.episodes == ((720, 1440),)


def test_percent_is_a_dash_where_undefined():
    from ecg_core.evaluate import percent

    assert percent(0.5) == "50.0%" and percent(1.0, 2) == "100.00%"
    assert percent(float("nan")) == "—" and percent(None) == "—" and percent(np.float64("inf")) == "—"
