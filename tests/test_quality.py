"""Signal quality (ecg_core.quality): noise bursts and flat leads are unreadable, clean signal is not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecg_core import quality
from ecg_core.cli import main as cli_main
from ecg_core.io import load
from ecg_core.pipeline import analyze
from ecg_core.quality import assess_quality
from tests.synth import synthetic_ecg

FS = 360
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BURST = (60.0, 90.0)  # seconds


def _beats_in(peaks, fs, a, b):
    return (peaks >= a * fs) & (peaks < b * fs)


def _muscle_noise(n: int, fs: float, seed: int, std_mv: float) -> np.ndarray:
    """Seeded broadband noise with the 1/f-ish tilt of muscle artefact (white noise, lightly smoothed)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(n + 2)
    x = w[2:] + 0.5 * w[1:-1] + 0.25 * w[:-2]
    return std_mv * x / x.std()


def _noisy_recording(seed: int, fs: float = FS):
    """150 s of synthetic ECG with muscle noise as large as the QRS over :data:`BURST`; also the burst's samples."""
    syn = synthetic_ecg(150, fs, 72, seed=seed, noise_mv=0.01)
    x = syn.signal.copy()
    a, b = (int(s * fs) for s in BURST)
    x[a:b] += _muscle_noise(b - a, fs, seed, std_mv=0.8)  # about -1 dB
    return syn, x, a, b


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("fs", [128, 360])
def test_noise_burst_is_unreadable_and_clean_stretches_are_not(seed, fs):
    syn, x, a, b = _noisy_recording(seed, fs)
    q = assess_quality(x, fs, syn.r_peaks)
    inside = _beats_in(syn.r_peaks, fs, BURST[0] + 2, BURST[1] - 2)
    clean = ~_beats_in(syn.r_peaks, fs, BURST[0] - 3, BURST[1] + 3)
    assert q.unreadable[inside].mean() >= 0.95
    assert not q.unreadable[clean].any()
    assert q.beat_quality[clean].min() > 0.5 and np.all((q.beat_quality >= 0) & (q.beat_quality <= 1))
    # one unreadable stretch covering the burst, nothing elsewhere
    assert len(q.spans) == 1
    start, end = q.spans[0] / fs
    assert BURST[0] - 3 <= start <= BURST[0] + 2 and BURST[1] - 2 <= end <= BURST[1] + 3
    assert q.unreadable_s == pytest.approx(BURST[1] - BURST[0], abs=5)


def test_mild_noise_stays_readable():
    syn = synthetic_ecg(120, FS, 70, seed=4, noise_mv=0.01)
    x = syn.signal + _muscle_noise(syn.signal.size, FS, 4, std_mv=0.05)  # about 25 dB
    q = assess_quality(x, FS, syn.r_peaks)
    assert not q.unreadable.any() and len(q.spans) == 0


@pytest.mark.parametrize("value", ["constant", "zero"])
def test_flat_lead_inside_a_recording_is_unreadable(value):
    syn = synthetic_ecg(120, FS, 75, seed=5, noise_mv=0.01, baseline_wander_mv=0.1)
    x = syn.signal.copy()
    a, b = 40 * FS, 55 * FS
    x[a:b] = x[a] if value == "constant" else 0.0  # a disconnected or saturated lead
    peaks = syn.r_peaks
    q = assess_quality(x, FS, peaks)
    assert len(q.spans) == 1
    start, end = q.spans[0] / FS
    assert 39 <= start <= 40.5 and 54.5 <= end <= 56
    assert q.unreadable[_beats_in(peaks, FS, 40.5, 54.5)].all()
    assert not q.unreadable[~_beats_in(peaks, FS, 38, 57)].any()


def test_flat_line_mask_is_the_same_a_block_at_a_time(monkeypatch):
    syn = synthetic_ecg(120, FS, 75, seed=6, noise_mv=0.01)
    x = syn.signal.copy()
    x[:2 * FS], x[40 * FS:55 * FS], x[-3 * FS:] = 0.2, 0.0, x[-3 * FS]  # flat at both ends and inside
    whole = quality.measure(x, FS, syn.r_peaks).flat
    monkeypatch.setattr(quality, "_FLAT_BLOCK", 500)  # many blocks, and edges inside the flat stretches
    blocks = quality.measure(x, FS, syn.r_peaks).flat
    assert whole.any() and np.array_equal(whole, blocks)


def test_no_beats_or_tiny_signal():
    q = assess_quality(np.random.default_rng(0).standard_normal(10 * FS), FS, [])
    assert q.beat_quality.size == 0 and q.unreadable_s == 0.0


def test_quality_index_is_half_at_the_threshold():
    assert quality.quality_index(quality.BEAT_UNREADABLE_DB, quality.BEAT_UNREADABLE_DB) == pytest.approx(0.5)
    assert quality.quality_index(-50, 0) == 0.0 and quality.quality_index(50, 0) == 1.0


def test_real_excerpt_is_readable_throughout():
    rec = load(EXAMPLES / "208_excerpt.hea")
    analysis = analyze(rec.signal, rec.sampling_rate)
    assert analysis.quality is not None
    assert analysis.unreadable.mean() < 0.01
    assert analysis.summary().unreadable_s == 0.0


def test_unreadable_beats_are_q_and_left_out_of_confidence():
    syn, x, a, b = _noisy_recording(6)
    analysis = analyze(x, FS)
    u = analysis.unreadable
    assert u.any() and (analysis.labels[u] == "Q").all()
    s = analysis.summary()
    assert s.unreadable_beats == int(u.sum()) and s.counts["Q"] >= s.unreadable_beats
    assert s.unreadable_s > 20
    assert not u[analysis.most_confident()]
    assert set(analysis.score_kinds[u]) == {"not used: signal unreadable"}
    frame = analysis.to_frame()
    assert list(frame.columns)[-1] == "quality"
    assert (frame.loc[frame["quality"] < 0.5, "label"] == "Q").all()


def test_cli_quality_column_is_last_and_the_scorer_columns_are_unchanged(tmp_path):
    syn, x, a, b = _noisy_recording(7)
    path = tmp_path / "noisy.csv"
    pd.DataFrame({"MLII": x}).to_csv(path, index=False)
    assert cli_main(["classify", str(path), "--out-dir", str(tmp_path / "out"), "--fs", str(FS)]) == 0
    beats = pd.read_csv(tmp_path / "out" / "noisy.beats.csv")
    assert list(beats.columns)[:3] == ["sample", "label", "probability"] and beats.columns[-1] == "quality"
    assert beats["quality"].between(0, 1).all()
    in_burst = beats["sample"].between(a + 2 * FS, b - 2 * FS)
    assert (beats.loc[in_burst, "label"] == "Q").mean() >= 0.95
    assert not (beats.loc[~beats["sample"].between(a - 3 * FS, b + 3 * FS), "label"] == "Q").any()


def test_edits_carry_the_quality_along():
    from ecg_core.edits import Edit, apply_edits

    syn, x, a, b = _noisy_recording(8)
    analysis = analyze(x, FS)
    u = np.flatnonzero(analysis.unreadable)
    clean = np.flatnonzero(~analysis.unreadable)
    relabel = int(analysis.samples[u[0]])
    edits = [Edit("relabel", relabel, "VEB"), Edit("delete", int(analysis.samples[clean[0]])),
             Edit("add", int(analysis.samples[clean[1]] + 0.4 * FS), "N")]
    edited, _ = apply_edits(analysis, edits)
    assert len(edited.quality.beat_quality) == len(edited.quality.unreadable) == len(edited)
    labels = dict(zip(edited.samples.tolist(), edited.labels, strict=True))
    assert labels[relabel] == "VEB"  # the reader's label stands over "unreadable"
    assert edited.unreadable.sum() == analysis.unreadable.sum() - 1
    assert edited.to_frame()["quality"].notna().all()


def test_an_unsure_ectopic_call_on_doubtful_signal_is_unreadable():
    from ecg_core.pipeline import DOUBTFUL_QUALITY, DOUBTFUL_SHARE, Analysis
    from ecg_core.quality import Quality

    sure, unsure = 0.95, DOUBTFUL_SHARE - 0.1
    p = np.array([[unsure, 0.0, 1 - unsure, 0, 0],   # N, unsure, doubtful signal: still N
                  [1 - unsure, 0, unsure, 0, 0],     # VEB, unsure, doubtful signal: Q
                  [1 - sure, 0, sure, 0, 0],         # VEB, sure, doubtful signal: VEB
                  [1 - unsure, 0, unsure, 0, 0]])    # VEB, unsure, good signal: VEB
    q = np.array([DOUBTFUL_QUALITY - 0.1] * 3 + [0.9])
    quality = Quality(q, np.zeros(4, bool), np.zeros((0, 2), np.int64), 360.0)
    analysis = Analysis(np.arange(4) * 300 + 100, p, "morphology+rhythm", 360.0, 1500, quality=quality)
    assert list(analysis.labels) == ["N", "Q", "VEB", "VEB"]
    assert analysis.summary().unreadable_beats == 1


def test_no_event_is_made_of_unreadable_signal():
    """A disconnected lead holds no beats: without the quality layer it would be a 15-s pause."""
    syn = synthetic_ecg(120, FS, 75, seed=9, noise_mv=0.01)
    x = syn.signal.copy()
    x[40 * FS: 55 * FS] = x[40 * FS]
    analysis = analyze(x, FS)
    kinds = [e.kind for e in analysis.events()]
    assert "pause" not in kinds
    from ecg_core.events import find_events

    blind = find_events(analysis.samples, analysis.labels, FS)
    assert "pause" in [e.kind for e in blind]


def test_events_keep_their_beat_indices_across_unreadable_stretches():
    from ecg_core.events import find_events

    fs = 100.0
    samples = np.arange(40) * 80  # 75 bpm
    labels = np.array(["N"] * 40, dtype=object)
    labels[[5, 6, 7, 30, 31, 32]] = "VEB"
    readable = np.ones(40, bool)
    readable[15:20] = False
    events = find_events(samples, labels, fs, readable=readable)
    assert [(e.kind, e.first_beat, e.last_beat) for e in events] == [("VT", 5, 7), ("VT", 30, 32)]
