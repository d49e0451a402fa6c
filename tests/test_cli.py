"""The command-line contract: file names, columns, batch behaviour, exit codes."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import wfdb

from ecg_core.cli import main
from ecg_core.config import AAMI_MAP, CLASSES, EXAMPLES_DIR, ROOT

EXAMPLE = EXAMPLES_DIR / "208_excerpt.hea"
BEAT_COLUMNS = ["label", "probability"] + [f"p_{c}" for c in CLASSES]


def reference_beats():
    ann = wfdb.rdann(str(EXAMPLE.with_suffix("")), "atr")
    return np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in AAMI_MAP])


def test_detect_writes_peaks_close_to_reference(tmp_path):
    assert main(["detect", str(EXAMPLE), "--out-dir", str(tmp_path)]) == 0
    peaks = pd.read_csv(tmp_path / "208_excerpt.peaks.csv")
    assert list(peaks.columns) == ["sample"]
    ref = reference_beats()
    assert abs(len(peaks) - len(ref)) <= 0.01 * len(ref)
    assert peaks["sample"].is_monotonic_increasing


def test_bad_file_is_reported_and_the_batch_goes_on(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    out = tmp_path / "out"
    code = main(["detect", str(empty), str(EXAMPLES_DIR / "208_excerpt.csv"), "--out-dir", str(out)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "empty.csv" in err[0] and "Traceback" not in err[0]
    assert (out / "208_excerpt.peaks.csv").exists() and not (out / "empty.peaks.csv").exists()


def test_detect_refuses_segmented_input(tmp_path, capsys):
    assert main(["detect", str(EXAMPLES_DIR / "segments_208.csv"), "--out-dir", str(tmp_path)]) == 1
    assert "Use `classify`" in capsys.readouterr().err


def test_detect_does_not_import_tensorflow(tmp_path):
    code = (
        "import sys; from ecg_core.cli import main; "
        f"rc = main(['detect', {str(EXAMPLE)!r}, '--out-dir', {str(tmp_path)!r}]); "
        "assert rc == 0; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_classify_raw_recording_columns(tmp_path):
    assert main(["classify", str(EXAMPLE), "--out-dir", str(tmp_path)]) == 0
    beats = pd.read_csv(tmp_path / "208_excerpt.beats.csv")
    assert list(beats.columns) == ["sample", *BEAT_COLUMNS, "quality"]
    assert set(beats["label"]) <= set(CLASSES)
    np.testing.assert_allclose(beats[[f"p_{c}" for c in CLASSES]].sum(axis=1), 1.0, atol=1e-4)
    assert beats["sample"].is_monotonic_increasing


def test_classify_writes_events_beside_unchanged_beats(tmp_path):
    from ecg_core.io import load
    from ecg_core.pipeline import analyze

    assert main(["classify", str(EXAMPLE), "--out-dir", str(tmp_path)]) == 0
    rec = load(EXAMPLE)
    analysis = analyze(rec.signal, rec.sampling_rate)
    # beats.csv: the same bytes as before the events were added (the library's table, the CLI's format)
    assert (tmp_path / "208_excerpt.beats.csv").read_text() == analysis.to_frame().to_csv(index=False,
                                                                                          float_format="%.6g")
    events = pd.read_csv(tmp_path / "208_excerpt.events.csv")
    assert list(events.columns) == ["kind", "first_beat", "last_beat", "first_sample", "last_sample", "start_s",
                                    "end_s", "duration_s", "beats", "rate_bpm", "detail"]
    expected = analysis.events()
    assert len(events) == len(expected) > 0 and events["kind"].tolist() == [e.kind for e in expected]
    beats = pd.read_csv(tmp_path / "208_excerpt.beats.csv")
    assert (beats["sample"].to_numpy()[events["first_beat"]] == events["first_sample"]).all()
    couplets = events[events["kind"] == "VEB couplet"]  # record 208 has VEB couplets in its first 5 minutes
    assert len(couplets) and (beats["label"].to_numpy()[couplets["first_beat"]] == "VEB").all()
    # segments carry no rhythm: no events file
    assert main(["classify", str(EXAMPLES_DIR / "segments_208.csv"), "--out-dir", str(tmp_path)]) == 0
    assert not (tmp_path / "segments_208.events.csv").exists()


def test_classify_with_peaks_dir_uses_given_positions(tmp_path):
    peaks_dir = tmp_path / "peaks"
    peaks_dir.mkdir()
    given = reference_beats()[::7]
    pd.DataFrame({"sample": given}).to_csv(peaks_dir / "208_excerpt.peaks.csv", index=False)
    assert main(["classify", str(EXAMPLE), "--out-dir", str(tmp_path), "--peaks-dir", str(peaks_dir)]) == 0
    beats = pd.read_csv(tmp_path / "208_excerpt.beats.csv")
    assert beats["sample"].tolist() == sorted(given.tolist())


def test_classify_with_missing_peaks_file_fails_clearly(tmp_path, capsys):
    assert main(["classify", str(EXAMPLE), "--out-dir", str(tmp_path), "--peaks-dir", str(tmp_path)]) == 1
    assert "Run `detect` first" in capsys.readouterr().err


def test_classify_segments(tmp_path):
    src = EXAMPLES_DIR / "segments_208.csv"
    assert main(["classify", str(src), "--out-dir", str(tmp_path)]) == 0
    beats = pd.read_csv(tmp_path / "segments_208.beats.csv")
    assert list(beats.columns) == ["segment", *BEAT_COLUMNS]
    assert len(beats) == len(pd.read_csv(src))


@pytest.mark.parametrize("argv", [["detect", "x.csv"], ["bogus", "x.csv", "--out-dir", "o"]])
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


@pytest.mark.parametrize("values, phrase", [("100.7\n500", "whole, non-negative"), ("-1\n500", "whole, non-negative"),
                                            ("inf\n500", "whole, non-negative"), ("500\n500", "appear twice")])
def test_bad_peaks_files_are_refused_not_rounded(tmp_path, capsys, values, phrase):
    (tmp_path / "208_excerpt.peaks.csv").write_text(f"sample\n{values}\n")
    assert main(["classify", str(EXAMPLE), "--out-dir", str(tmp_path / "o"), "--peaks-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert phrase in err and len(err.strip().splitlines()) == 1


def test_out_dir_that_is_a_file_is_one_clear_line(tmp_path, capsys):
    target = tmp_path / "f"
    target.write_text("")
    assert main(["detect", str(EXAMPLE), "--out-dir", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot be used as an output folder" in err[0]


def test_inputs_with_the_same_stem_do_not_overwrite_each_other(tmp_path, capsys):
    code = main(["detect", str(EXAMPLE), str(EXAMPLES_DIR / "208_excerpt.csv"), "--out-dir", str(tmp_path)])
    assert code == 1
    assert "already taken" in capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "208_excerpt.peaks.csv")) > 400  # the 5-min WFDB record's, not the 60-s CSV's


def test_model_option_classifies_with_the_given_model_and_refuses_a_missing_one(tmp_path, capsys):
    from ecg_core.config import MODEL_PATH

    shipped, chosen = tmp_path / "shipped", tmp_path / "chosen"
    assert main(["classify", str(EXAMPLE), "--out-dir", str(shipped)]) == 0
    assert main(["classify", str(EXAMPLE), "--out-dir", str(chosen), "--model", str(MODEL_PATH)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(shipped / "208_excerpt.beats.csv"),
                                  pd.read_csv(chosen / "208_excerpt.beats.csv"))
    capsys.readouterr()
    code = main(["classify", str(EXAMPLE), "--out-dir", str(tmp_path / "x"), "--model", str(tmp_path / "no.keras")])
    err = capsys.readouterr().err
    assert code == 2 and "no.keras" in err and "missing" in err and "Traceback" not in err
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a model")
    code = main(["classify", str(EXAMPLE), "--out-dir", str(tmp_path / "y"), "--model", str(junk)])
    err = capsys.readouterr().err
    assert code == 2 and "junk.keras" in err and "could not be read" in err and "Traceback" not in err
    assert not (tmp_path / "y" / "208_excerpt.beats.csv").exists()
