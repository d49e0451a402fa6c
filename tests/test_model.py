"""The shipped beat classifier: loads, labels the bundled example, calibrated, unit-invariant.

Record 208 (the bundled excerpt) is in DS1, so the shipped model was trained on it: the agreement
threshold below checks that the shipped file loads and works end to end, NOT how well it
generalises (that is the cross-validated figure in models/MODEL_CARD.md). No /work/shared needed.
"""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ecg_core.beats import rr_features, segment_beats
from ecg_core.classifier.rules import FusionRule, SupraventricularRunRule
from ecg_core.config import AAMI_MAP, BEAT_WINDOW, CLASSES, EXAMPLE_RECORD, FS, MODEL_CARD_JSON, MODEL_PATH
from ecg_core.errors import ECGError
from ecg_core.model import (
    FUSION_TIMING,
    MORPH_LEN,
    WIDE_QRS_WIDTH,
    load_classifier,
    local_templates,
    morphology_input,
    recording_template,
    regular_beats,
    rhythm_input,
)

#: Minimum share of the excerpt's reference beats the shipped model must label like the cardiologists.
MIN_AGREEMENT = 0.90
#: Minimum share of the excerpt's VEB beats labelled VEB.
MIN_VEB_SENSITIVITY = 0.90


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


@pytest.fixture(scope="module")
def example():
    base = str(EXAMPLE_RECORD.with_suffix(""))
    rec = wfdb.rdrecord(base)
    x = rec.p_signal[:, rec.sig_name.index("MLII")]
    ann = wfdb.rdann(base, "atr")
    keep = np.array([s in AAMI_MAP for s in ann.symbol])
    labels = np.array([AAMI_MAP[s] for s in np.asarray(ann.symbol)[keep]])
    return x, rec.fs, ann.sample[keep], labels


@pytest.fixture(scope="module")
def example_probs(classifier, example):
    x, fs, samples, _ = example
    return classifier.predict(segment_beats(x, fs, samples))


def test_model_files_are_small_and_versioned(classifier):
    assert MODEL_PATH.stat().st_size < 10e6
    assert MODEL_CARD_JSON.exists()
    assert classifier.version and classifier.version[:4].isdigit()


def test_labels_example_like_the_reference(example, example_probs):
    _, _, _, ref = example
    pred = np.asarray(CLASSES)[example_probs.argmax(axis=1)]
    assert np.mean(pred == ref) >= MIN_AGREEMENT
    assert np.mean(pred[ref == "VEB"] == "VEB") >= MIN_VEB_SENSITIVITY


def test_calibrated_probabilities_sum_to_one(example_probs, classifier):
    assert example_probs.shape[1] == len(CLASSES)
    assert np.all((example_probs >= 0) & (example_probs <= 1))
    np.testing.assert_allclose(example_probs.sum(axis=1), 1.0, atol=1e-6)
    assert classifier.temperatures["rhythm"] > 0 and classifier.temperatures["rhythm"] != 1.0


def test_predict_is_invariant_to_amplitude_units(classifier, example):
    x, fs, samples, _ = example
    mv = classifier.predict(segment_beats(x, fs, samples))
    adc = classifier.predict(segment_beats(x * 200 + 1024, fs, samples))
    assert np.mean(mv.argmax(1) == adc.argmax(1)) >= 0.999


def _segments(x, samples):
    half = BEAT_WINDOW // 2
    ok = (samples >= half) & (samples + half <= x.size)
    return np.stack([x[s - half:s + half] for s in samples[ok]]), ok


def test_segments_same_label_in_adc_units_and_mv(classifier, example):
    x, _, samples, ref = example
    seg, ok = _segments(x, samples)
    mv = classifier.predict_segments(seg)
    adc = classifier.predict_segments(seg * 200 + 1024)
    assert np.array_equal(mv.argmax(1), adc.argmax(1))
    np.testing.assert_allclose(mv.sum(axis=1), 1.0, atol=1e-6)
    # the morphology-only path still tells the excerpt's VEB from N beats
    pred = np.asarray(CLASSES)[mv.argmax(1)]
    assert np.mean(pred[ref[ok] == "VEB"] == "VEB") >= 0.8
    assert np.mean(pred[ref[ok] == "N"] == "N") >= 0.8


def test_bad_window_length_raises(classifier):
    with pytest.raises(ECGError, match="360 samples"):
        classifier.predict_segments(np.zeros((4, 187)))
    with pytest.raises(ECGError, match="NaN"):
        classifier.predict_segments(np.full((2, BEAT_WINDOW), np.nan))
    assert classifier.predict_segments(np.zeros((0, BEAT_WINDOW))).shape == (0, len(CLASSES))


def test_missing_model_file_gives_clear_error(tmp_path):
    with pytest.raises(ECGError, match="python -m ecg_core.train"):
        load_classifier(tmp_path / "absent.keras")


def test_inputs_are_patient_relative():
    rng = np.random.default_rng(0)
    t = np.sin(np.linspace(0, np.pi, BEAT_WINDOW)) ** 8
    windows = t[None, :] * rng.uniform(0.9, 1.1, (40, 1)) + rng.normal(0, 0.01, (40, BEAT_WINDOW))
    template, scale = recording_template(windows)
    a = morphology_input(windows, template, scale)
    b = morphology_input(windows * 200 + 1024, *recording_template(windows * 200 + 1024))
    np.testing.assert_allclose(a, b, atol=1e-4)
    peaks = np.cumsum(np.full(400, 300))
    peaks[200] -= 100  # one premature beat
    rr = rr_features(peaks, 360)
    feats = rhythm_input(rr)
    assert feats[200, 0] < -0.3 and abs(feats[100, 0]) < 1e-6 and feats[0, -1] == 1
    assert not regular_beats(rr)[200] and regular_beats(rr)[100]
    tmpl, _ = local_templates(np.tile(windows, (10, 1)), regular_beats(rr))
    assert tmpl.shape == (400, MORPH_LEN)
    assert np.all(rhythm_input(None, 3) == 0)


# ------------------------------------------------------------- the second stage (N / SVEB re-decision)

def _regular_rhythm(n=80, rr_s=0.8, fs=360.0):
    return np.round(np.arange(n) * rr_s * fs).astype(np.int64), fs


def _gaussian_beats(n, width=6.0):
    t = np.arange(BEAT_WINDOW) - BEAT_WINDOW // 2
    return np.tile(np.exp(-0.5 * (t / width) ** 2), (n, 1))


def test_morphology_features_are_relative_to_the_recording():
    from ecg_core.model import morphology_features, recording_inputs

    windows = _gaussian_beats(60)
    assert np.allclose(morphology_features(recording_inputs(windows, None)[0]), 0, atol=1e-9)
    windows[30] = _gaussian_beats(1, width=15.0)[0]  # one wide beat among narrow ones
    f = morphology_features(recording_inputs(windows, None)[0])
    corr, qrs_diff, _, _, _, width = f[30]
    assert corr < -0.5 and qrs_diff > 1.0 and width > 0.5
    assert np.allclose(np.delete(f, 30, axis=0), 0, atol=1e-9)
    # units do not matter: the same beats in ADC units give the same features
    np.testing.assert_allclose(morphology_features(recording_inputs(200 * windows, None)[0]), f, atol=1e-5)
    assert morphology_features(np.zeros((0, MORPH_LEN, 2))).shape == (0, 6)


def test_shipped_classifier_applies_the_second_stage(classifier, example, example_probs):
    from ecg_core.model import recording_inputs, softmax

    assert classifier.stage is not None
    x, fs, samples, _ = example
    beats = segment_beats(x, fs, samples)
    morphology, rhythm = recording_inputs(beats.windows, beats.rr)
    import dataclasses

    from ecg_core.classifier.clusters import beat_clusters, cluster_veb_shares

    network = softmax(classifier.logits(morphology, rhythm), classifier.temperatures["rhythm"])
    np.testing.assert_allclose(example_probs, classifier.stage.apply(network, morphology, rhythm), atol=1e-9)
    # before the last step (the recording's groups of beats) only the N/SVEB split of beats the network
    # labels N or SVEB may change
    staged = dataclasses.replace(classifier.stage, cluster_weight=0.0).apply(network, morphology, rhythm)
    other = ~np.isin(network.argmax(1), (0, 1))
    np.testing.assert_allclose(staged[other], network[other], atol=1e-12)
    np.testing.assert_allclose(staged[:, :2].sum(1), network[:, :2].sum(1), atol=1e-9)
    np.testing.assert_allclose(staged[:, 2:], network[:, 2:], atol=1e-12)
    assert not np.allclose(staged, network)  # it did re-decide some beats
    # the last step weighs the VEB shares by the groups
    groups = beat_clusters(morphology, clusters=classifier.stage.cluster_count)
    weighed = cluster_veb_shares(staged, groups, weight=classifier.stage.cluster_weight)
    np.testing.assert_allclose(example_probs, weighed, atol=1e-9)
    assert not np.allclose(weighed, staged)


def test_without_a_stage_only_the_atrial_fibrillation_rule_and_the_runs_apply(classifier, example):
    from ecg_core.model import BeatClassifier, atrial_fibrillation_rule, recording_inputs, softmax

    plain = BeatClassifier(classifier.network, classifier.temperatures, "plain", None)
    x, fs, samples, _ = example
    beats = segment_beats(x, fs, samples)
    morphology, rhythm = recording_inputs(beats.windows, beats.rr)
    network = softmax(plain.logits(morphology, rhythm), plain.temperatures["rhythm"])
    pred = plain.predict_recording(beats)
    np.testing.assert_allclose(pred.probabilities, atrial_fibrillation_rule(network, morphology, rhythm).probabilities)
    np.testing.assert_allclose(pred.probabilities[~pred.atrial_fibrillation], network[~pred.atrial_fibrillation])


def test_stage_premature_beat_gets_more_sveb_than_on_time(ds1_stage):
    import dataclasses

    from ecg_core.model import recording_inputs

    stage = dataclasses.replace(ds1_stage, cluster_weight=0.0)  # the stage and rules alone
    on_time, fs = _regular_rhythm()
    premature = on_time.copy()
    premature[40] -= int(0.3 * fs)  # 0.3 s early in a regular 75 bpm rhythm, followed by a long pause
    row = np.array([0.90, 0.08, 0.01, 0.005, 0.005])
    probs = np.tile(row, (len(on_time), 1))
    morphology = recording_inputs(_gaussian_beats(len(on_time)), None)[0]  # identical beats
    p_on = stage.apply(probs, morphology, rhythm_input(rr_features(on_time, fs)))
    p_pre = stage.apply(probs, morphology, rhythm_input(rr_features(premature, fs)))
    assert p_pre[40, 1] > p_on[40, 1] + 0.2
    assert p_on[40, 0] > p_on[40, 1]  # an on-time beat with a low network SVEB share stays N
    for p in (p_on, p_pre):
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
        assert np.all(p >= 0)
    # a beat the network calls VEB keeps the network's probabilities
    veb = np.tile([0.1, 0.05, 0.8, 0.03, 0.02], (len(on_time), 1))
    np.testing.assert_allclose(stage.apply(veb, morphology, rhythm_input(rr_features(premature, fs))), veb)


def test_stage_leaves_the_network_s_veb_share_and_calls_a_premature_narrow_beat_sveb(ds1_stage):
    from ecg_core.model import recording_inputs

    beats, fs = _regular_rhythm()
    beats[40] -= int(0.3 * fs)
    rr = rr_features(beats, fs)
    probs = np.tile([0.3, 0.6, 0.08, 0.01, 0.01], (len(beats), 1))  # the network leans SVEB
    narrow = _gaussian_beats(len(beats))
    wide = narrow.copy()
    wide[40] = _gaussian_beats(1, width=18.0)[0] * 1.5  # wide, tall QRS unlike the template
    import dataclasses

    stage = dataclasses.replace(ds1_stage, cluster_weight=0.0)  # the stage and rules alone
    for shapes in (narrow, wide):
        p = stage.apply(probs, *recording_inputs(shapes, rr))
        np.testing.assert_array_equal(p[:, 2:], probs[:, 2:])  # VEB is the network's decision
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    assert stage.apply(probs, *recording_inputs(narrow, rr))[40].argmax() == 1


def test_a_heavier_sveb_weight_makes_the_stage_call_more_beats_sveb():
    """The weight the card's operating-point table varies: more weight, more SVEB calls (seeded, synthetic)."""
    from ecg_core.model import STAGE_FEATURES
    from ecg_core.train import fit_stage

    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, len(STAGE_FEATURES)))
    y = (x[:, 0] + rng.standard_normal(3000) > 2.5).astype(int)  # a rare class that the features only half explain
    calls = [int(np.count_nonzero(fit_stage(x, y, sveb_weight=w).probability(x).argmax(axis=1) == 1))
             for w in (0.0, 0.5, 1.0)]
    assert calls[0] < calls[1] < calls[2]


def test_stage_round_trips_through_the_card(ds1_stage):
    from ecg_core.model import StackedStage

    stage = ds1_stage
    again = StackedStage.from_dict(stage.to_dict())
    np.testing.assert_array_equal(again.coef, stage.coef)
    np.testing.assert_array_equal(again.intercept, stage.intercept)
    assert (again.af_p_correlation, again.af_irregularity) == (stage.af_p_correlation, stage.af_irregularity)
    bad = {**stage.to_dict(), "features": ["something", "else"]}
    with pytest.raises(ECGError, match="Refit"):
        StackedStage.from_dict(bad)
    assert again.fusion_rule == stage.fusion_rule
    before_heuristics = {k: v for k, v in stage.to_dict().items() if not k.startswith(("fusion_", "wide_", "svt_"))}
    older = StackedStage.from_dict(before_heuristics)  # not fitted: the defaults
    assert (older.fusion_timing, older.wide_qrs_width) == (FUSION_TIMING, WIDE_QRS_WIDTH)
    assert older.svt_rule == SupraventricularRunRule() and older.fusion_rule == FusionRule()
    assert {"svt_beats", "svt_prematurity", "svt_shortest", "svt_irregularity"} <= set(stage.to_dict())
    assert StackedStage.from_dict({**stage.to_dict(), "svt_prematurity": 0.5}).svt_rule.prematurity == 0.5
    with pytest.raises(ECGError, match="svt_beats"):
        StackedStage.from_dict({**stage.to_dict(), "svt_beats": 0})
    for key in ("fusion_sinus_correlation", "svt_beats"):  # a hand-edited setting that is not a number
        with pytest.raises(ECGError, match=f"{key} to 'abc', which is not a number"):
            StackedStage.from_dict({**stage.to_dict(), key: "abc"})
    for missing in ("af_beats", "af_p_correlation", "af_irregularity"):
        older = {k: v for k, v in stage.to_dict().items() if k != missing}
        with pytest.raises(ECGError, match="atrial fibrillation"):
            StackedStage.from_dict(older)


def test_stage_and_prediction_edge_cases(classifier, ds1_stage, example):
    from ecg_core.beats import Beats
    from ecg_core.model import BeatClassifier

    empty = np.zeros((0, MORPH_LEN, 2)), np.zeros((0, 7))
    assert ds1_stage.apply([], *empty).shape == (0, len(CLASSES))
    beats = Beats(np.zeros(0, np.int64), np.zeros((0, BEAT_WINDOW), np.float32), rr_features([], 360))
    pred = classifier.predict_recording(beats)
    assert pred.probabilities.shape == (0, len(CLASSES)) and pred.atrial_fibrillation.shape == (0,)
    # with a stage, the stage decides atrial fibrillation (its own settings); without, the rule alone
    staged = BeatClassifier(classifier.network, classifier.temperatures, "staged", ds1_stage)
    x, fs, samples, _ = example
    assert staged.predict_recording(segment_beats(x, fs, samples)).atrial_fibrillation.shape == (len(samples),)


@pytest.mark.parametrize("argv, needs", [(["--evaluate-only"], "--fit-stage"), (["--ref-dir", "out/x"], "--cv")])
def test_train_options_that_need_another_say_so(argv, needs, capsys):
    from ecg_core.train import main

    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--out", "/nonexistent-never-written"])
    assert exit_.value.code == 2
    assert needs in capsys.readouterr().err


def test_card_operating_points_say_whether_any_meets_both_sveb_bars():
    from ecg_core.train import STAGE_SVEB_WEIGHT, _sveb_weight_section, _without_line

    def row(power, se, ppv):
        return {"power": power, "accuracy": 0.97, "SVEB_se": se, "SVEB_ppv": ppv, "VEB_se": 0.9, "VEB_ppv": 0.9}

    short = _sveb_weight_section([row(STAGE_SVEB_WEIGHT, 0.7, 0.7), row(1.0, 0.0, None)])  # None: nothing called
    assert "no operating point" in short and "**shipped**" in short and "n/a" in short
    assert "some operating point" in _sveb_weight_section([row(STAGE_SVEB_WEIGHT, 0.85, 0.65)])
    assert _sveb_weight_section(None) == "" and _without_line(None) == ""
    classes = {c: {"se": 0.5, "ppv": None} for c in ("SVEB", "VEB", "F")}
    assert "SVEB Se/+P 50.0%/n/a" in _without_line({"accuracy": 0.9, "classes": classes})


def test_sveb_kinds_count_what_each_symbol_was_called_and_the_one_record_limit():
    from ecg_core.model import StackedStage, recording_inputs, stage_features
    from ecg_core.train import StageRecord, _sveb_kinds_section, stacked_probs, sveb_kinds

    n = 40
    samples = np.arange(n) * 288 + 500
    morphology, rhythm = recording_inputs(_gaussian_beats(n), rr_features(samples, FS))
    probs = np.tile([0.9, 0.05, 0.03, 0.01, 0.01], (n, 1))
    probs[5] = [0.01, 0.01, 0.96, 0.01, 0.01]  # the network calls beat 5 VEB; the stage leaves it
    # a stage that calls every beat it decides SVEB
    stage = StackedStage(np.zeros(16), np.ones(16), np.zeros((16, 2)), np.array([0.0, 5.0]))

    def record(name, symbols):  # reference beats 0..n-1 at the detections, plus one more nobody detected
        ref_symbols = np.array([*symbols, "A"])
        labels = np.where(np.isin(ref_symbols, ["A", "a", "J"]), "SVEB", "N")
        return StageRecord(name, samples, probs, morphology, rhythm, stage_features(morphology, rhythm, probs),
                           np.zeros(n, int), np.r_[samples, samples[-1] + 5000], labels, [], np.full(n, "(N"),
                           ref_symbols)

    first = ["N"] * n
    first[3], first[5], first[7] = "a", "a", "J"
    second = ["N"] * n
    second[2] = "J"
    recs = [record("201", first), record("124", second)]
    kinds = {k["symbol"]: k for k in sveb_kinds(recs, stacked_probs(recs, [stage, stage]))}
    assert kinds["a"] == {"symbol": "a", "beats": 2, "records": 1, "top_record": "201", "top_share": 1.0,
                          "called": {"SVEB": 1, "VEB": 1}}
    assert kinds["J"]["beats"] == 2 and kinds["J"]["top_share"] == 0.5 and kinds["J"]["called"] == {"SVEB": 2}
    assert kinds["A"]["called"] == {"missed": 2}  # the undetected reference beat of each record
    text = _sveb_kinds_section(list(kinds.values()))
    # only `a` comes from one record; its beat called VEB is lost: (6 - 1) / 6 found at most
    assert "`a` (201)" in text and "`J` (" not in text and "SVEB Se would be 83.3%" in text
    assert _sveb_kinds_section(None) == ""


def test_network_numbers_do_not_depend_on_batching_or_parallel_calls(classifier, example):
    """A beat's logits are the same alone, in a long recording, and with calls run one or several at a time."""
    from ecg_core.classifier import network
    from ecg_core.classifier.inputs import recording_inputs

    x, fs, samples, _ = example
    beats = segment_beats(x, fs, samples)
    m, r = recording_inputs(beats.windows, beats.rr)
    assert len(m) > network.BATCH  # at least two calls, the last one padded
    before = network.PARALLEL_CALLS
    try:
        network.set_parallel_calls(1)
        one = classifier.logits(m, r)
        network.set_parallel_calls(3)
        several = classifier.logits(m, r)
    finally:
        network.set_parallel_calls(before)
    np.testing.assert_array_equal(one, several)
    np.testing.assert_array_equal(classifier.logits(m[5:8], r[5:8]), one[5:8])
    np.testing.assert_array_equal(classifier.logits(m[-3:], r[-3:]), one[-3:])
