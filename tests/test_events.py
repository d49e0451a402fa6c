"""ecg_core.events: the event list from seeded synthetic beat sequences, and its episode scoring."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.events import KINDS, find_events, rhythm_kind, score_episodes

FS = 360.0


def beats(pattern: str, rr_s: float = 0.8, seed: int = 0):
    """Beat samples and labels from a pattern ('N', 'V' = VEB, 'S' = SVEB), seeded RR jitter of +-10 ms."""
    rng = np.random.default_rng(seed)
    rr = rr_s + rng.uniform(-0.01, 0.01, len(pattern))
    samples = np.rint(np.cumsum(rr) * FS).astype(np.int64)
    labels = np.array([{"N": "N", "V": "VEB", "S": "SVEB"}[c] for c in pattern])
    return samples, labels


def kinds_of(events) -> list[str]:
    return [e.kind for e in events]


def test_sinus_rhythm_has_no_events():
    s, lab = beats("N" * 200)
    assert find_events(s, lab, FS) == ()


def test_veb_runs_couplet_triplet_and_vt_with_length_and_rate():
    s, lab = beats("N" * 20 + "VV" + "N" * 20 + "VVV" + "N" * 20 + "VVVVVV" + "N" * 20, rr_s=0.5)
    events = find_events(s, lab, FS)
    assert "tachycardia" in kinds_of(events)  # 120 bpm throughout
    assert [k for k in kinds_of(events) if k != "tachycardia"] == ["VEB couplet", "VT", "VT"]
    couplet, triplet, vt = [e for e in events if e.kind in ("VEB couplet", "VT")]
    assert couplet.beats == 2 and triplet.beats == 3 and "triplet" in triplet.detail
    assert vt.beats == 6 and vt.first_beat == 65 and vt.last_beat == 70
    assert vt.rate_bpm == pytest.approx(120, abs=3) and "6 beats at 12" in vt.detail
    assert vt.start_s == pytest.approx(s[65] / FS) and vt.end_s == pytest.approx(s[70] / FS)


def test_svt_needs_three_sveb():
    s, lab = beats("N" * 20 + "SS" + "N" * 20 + "SSSS" + "N" * 20)
    assert kinds_of(find_events(s, lab, FS)) == ["SVT"]


def test_bigeminy_and_trigeminy():
    s, lab = beats("N" * 10 + "NV" * 5 + "N" * 10 + "NNV" * 4 + "N" * 10 + "NV" * 2 + "N" * 10)
    events = find_events(s, lab, FS)
    assert kinds_of(events) == ["bigeminy", "trigeminy"]  # two cycles are too few
    big, tri = events
    assert lab[big.first_beat] == "N" and lab[big.last_beat] == "VEB" and big.beats == 10
    assert tri.beats == 12


def test_pause_with_its_duration():
    s, lab = beats("N" * 30)
    s[15:] += int(1.9 * FS)  # RR 15 becomes ~2.7 s
    events = find_events(s, lab, FS)
    assert kinds_of(events) == ["pause"]
    pause = events[0]
    assert (pause.first_beat, pause.last_beat) == (14, 15) and pause.duration_s == pytest.approx(2.7, abs=0.02)
    assert pause.rate_bpm is None and pause.detail == "pause of 2.7 s"


def test_bradycardia_and_tachycardia_stretches():
    slow, lab_slow = beats("N" * 30, rr_s=1.5)
    fast, lab_fast = beats("N" * 40, rr_s=0.5)
    s = np.concatenate((slow, slow[-1] + int(0.8 * FS) + fast))
    lab = np.concatenate((lab_slow, lab_fast))
    events = find_events(s, lab, FS)
    assert kinds_of(events) == ["bradycardia", "tachycardia"]
    assert events[0].rate_bpm == pytest.approx(40, abs=2) and events[0].first_beat == 0
    assert events[1].rate_bpm > 100 and events[1].last_beat == len(s) - 1


def test_af_episodes_bridge_short_gaps_and_need_enough_beats():
    s, lab = beats("N" * 100)
    af = np.zeros(100, bool)
    af[10:30] = True
    af[20:22] = False  # a VEB inside the episode, not flagged: bridged
    af[60:65] = True  # too short
    events = find_events(s, lab, FS, atrial_fibrillation=af)
    assert kinds_of(events) == ["AF"] and (events[0].first_beat, events[0].last_beat) == (10, 29)
    assert find_events(s, lab, FS) == ()  # no AF flags: no AF events


def test_events_in_time_order_and_known_kinds():
    rng = np.random.default_rng(3)
    pattern = "".join(rng.choice(list("NNNNNNVS"), 2000))
    s, lab = beats(pattern, seed=3)
    events = find_events(s, lab, FS)
    assert events and all(e.kind in KINDS for e in events)
    assert [e.start_s for e in events] == sorted(e.start_s for e in events)
    assert all(set(e.to_dict()) >= {"kind", "start_s", "end_s", "duration_s", "beats", "rate_bpm"} for e in events)


def test_score_episodes_against_reference_rhythms():
    s, lab = beats("N" * 20 + "VVVVV" + "N" * 40 + "VVV" + "N" * 20)
    events = find_events(s, lab, FS)
    rhythms = [(0, int(s[19]), "(N"), (int(s[20]), int(s[24]), "(VT"), (int(s[25]), int(s[-1]), "(N"),
               (int(s[40]), int(s[45]), "(VT")]  # a second reference VT that no event overlaps
    score = score_episodes(events, rhythms, FS)["VT"]
    assert (score.reference, score.found, score.events, score.true_events) == (2, 1, 2, 1)
    assert score.sensitivity == 0.5 and score.ppv == 0.5
    assert rhythm_kind("(SVTA") == "SVT" and rhythm_kind("(AFIB\x00") == "AF" and rhythm_kind("(N") is None


def test_reference_rhythms_are_read_from_atr_and_kaggle_text():
    from ecg_core.config import EXAMPLES_DIR
    from ecg_core.io import load_annotations

    ann = load_annotations(EXAMPLES_DIR / "201_af_excerpt.atr")
    notes = [r[2] for r in ann.rhythms]
    assert "(AFIB" in notes and all(a <= b for a, b, _ in ann.rhythms)
    assert all(ann.rhythms[k][1] == ann.rhythms[k + 1][0] for k in range(len(ann.rhythms) - 1))  # one to the next
    text = ("      Time   Sample #  Type  Sub Chan  Num\tAux\r\n"
            "    0:00.050       18     +    0    0    0\t(N\r\n"
            "    0:00.500      180     N    0    0    0\r\n"
            "    0:01.000      360     +    0    0    0\t(VT\r\n"
            "    0:01.500      540     V    0    0    0\r\n"
            "    0:02.000      720     V    0    0    0\r\n")
    kaggle = load_annotations(text.encode(), filename="999annotations.txt", sampling_rate=360)
    assert kaggle.rhythms == ((18, 360, "(N"), (360, 720, "(VT")) and kaggle.name == "999"
