"""Beat edits (``ecg_core.edits``) and the corrected beats written back: WFDB ``.atr`` and the CLI's peaks CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import wfdb

from ecg_core import io as ecg_io
from ecg_core.config import CLASSES
from ecg_core.edits import EDITED, Edit, apply_edits, edited_score_kinds, snap_to_peak
from ecg_core.errors import ECGError
from ecg_core.events import find_events
from ecg_core.pipeline import Analysis

FS = 360.0


def _analysis(labels, rr: int = 300) -> Analysis:
    labels = list(labels)
    probs = np.zeros((len(labels), len(CLASSES)))
    probs[np.arange(len(labels)), [CLASSES.index(c) for c in labels]] = 0.9
    probs[:, 0] += 0.1 * (probs[:, 0] == 0)
    samples = 200 + rr * np.arange(len(labels))
    return Analysis(samples.astype(np.int64), probs, "morphology+rhythm", FS, int(samples[-1] + 400), "test",
                    np.zeros(len(labels), bool), True)


def test_relabel_delete_add_follow_into_summary_and_events():
    a = _analysis(["N"] * 10)
    assert not find_events(a.samples, a.labels, FS)
    edits = [Edit("relabel", int(a.samples[k]), "VEB") for k in (3, 4, 5)]  # a triplet
    b, edited = apply_edits(a, edits)
    assert b.labels[3:6].tolist() == ["VEB"] * 3 and edited.tolist() == [k in (3, 4, 5) for k in range(10)]
    assert b.summary().counts["VEB"] == 3 and b.probabilities[4].tolist() == [0, 0, 1, 0, 0]
    assert [e.kind for e in b.events()] == ["VT"]
    assert edited_score_kinds(b, edited)[3] == EDITED and edited_score_kinds(b, edited)[0] != EDITED

    c, edited = apply_edits(a, [*edits, Edit("delete", int(a.samples[4]))])
    assert len(c) == 9 and [e.kind for e in c.events()] == ["VEB couplet"]  # the triplet less its middle beat
    assert c.labels[3:5].tolist() == ["VEB", "VEB"] and edited.sum() == 2
    d, edited = apply_edits(a, [Edit("add", int(a.samples[2]) + 150, "SVEB")])
    assert len(d) == 11 and d.samples[3] == a.samples[2] + 150 and d.labels[3] == "SVEB" and edited[3]
    assert d.atrial_fibrillation.tolist() == [False] * 11  # per-beat arrays follow
    assert a.labels.tolist() == ["N"] * 10  # the original is untouched


def test_impossible_edits_are_refused_with_a_message():
    a = _analysis(["N"] * 5)
    with pytest.raises(ECGError, match="No beat at sample 201"):
        apply_edits(a, [Edit("relabel", 201, "VEB")])
    with pytest.raises(ECGError, match="already"):
        apply_edits(a, [Edit("add", int(a.samples[1]) + 20, "N")])
    with pytest.raises(ECGError, match="outside the recording"):
        apply_edits(a, [Edit("add", a.n_samples + 5, "N")])
    with pytest.raises(ECGError, match="Unknown class"):
        apply_edits(a, [Edit("relabel", int(a.samples[0]), "X")])


def test_snap_to_peak_finds_the_r_peak_of_either_polarity():
    x = np.zeros(2000)
    x[1000] = 1.5
    x[1500] = -2.0
    assert snap_to_peak(x, FS, 990) == 1000 and snap_to_peak(x, FS, 1510) == 1500


def test_edited_beats_read_back_from_atr_and_from_the_cli(tmp_path):
    a = _analysis(["N"] * 8)
    b, _ = apply_edits(a, [Edit("relabel", int(a.samples[2]), "VEB"), Edit("delete", int(a.samples[5])),
                           Edit("add", int(a.samples[6]) + 150, "SVEB")])
    (tmp_path / "rec.atr").write_bytes(ecg_io.annotation_bytes("rec", FS, b.samples, b.labels))
    ann = wfdb.rdann(str(tmp_path / "rec"), "atr")
    assert ann.sample.tolist() == b.samples.tolist() and ann.symbol[2] == "V" and "A" in ann.symbol
    assert ecg_io.load_annotations(tmp_path / "rec.atr").label.tolist() == b.labels.tolist()
    (tmp_path / "rec.peaks.csv").write_bytes(ecg_io.peaks_csv_bytes(b.samples, b.labels))
    frame = pd.read_csv(tmp_path / "rec.peaks.csv")
    assert frame.columns.tolist() == ["sample", "label"] and frame["sample"].tolist() == b.samples.tolist()


def test_cli_classifies_at_the_edited_positions(tmp_path):
    """The peaks CSV download is the `--peaks-dir` format: classify reads it back."""
    from ecg_core import cli
    from ecg_core.config import EXAMPLES_DIR, MODEL_PATH

    if not MODEL_PATH.exists():
        pytest.skip("needs the shipped model")
    rec = ecg_io.load(EXAMPLES_DIR / "208_excerpt.hea")
    samples = np.arange(400, rec.n_samples - 400, 300)
    peaks_dir = tmp_path / "peaks"
    peaks_dir.mkdir()
    (peaks_dir / "208_excerpt.peaks.csv").write_bytes(ecg_io.peaks_csv_bytes(samples, ["N"] * samples.size))
    assert cli.main(["classify", str(EXAMPLES_DIR / "208_excerpt.hea"), "--out-dir", str(tmp_path / "out"),
                     "--peaks-dir", str(peaks_dir)]) == 0
    assert pd.read_csv(tmp_path / "out" / "208_excerpt.beats.csv")["sample"].tolist() == samples.tolist()
