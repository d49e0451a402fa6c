"""Detector settings as flags of ``detect`` / ``classify`` / ``report``: the defaults without them (outputs
unchanged), the given settings with them, out-of-range values refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecg_core import io as ecg_io
from ecg_core.cli import build_parser, main
from ecg_core.config import EXAMPLES_DIR, MODEL_PATH
from ecg_core.peaks import DEFAULTS, PARAMETERS, detect_r_peaks

EXAMPLE = EXAMPLES_DIR / "208_excerpt.hea"


def test_every_detector_parameter_is_a_flag_absent_by_default():
    for command in ("detect", "classify", "report"):
        args = build_parser().parse_args([command, str(EXAMPLE), "--out-dir", "x"])
        assert all(getattr(args, p.name) is None for p in PARAMETERS)
    flags = ["--threshold", "0.5", "--refractory", "0.25", "--search-window", "0.12", "--lowcut", "6",
             "--highcut", "25", "--twave-window", "0.3", "--searchback", "2"]
    args = build_parser().parse_args(["detect", str(EXAMPLE), "--out-dir", "x", *flags])
    assert {p.name: getattr(args, p.name) for p in PARAMETERS} == dict(
        threshold=0.5, refractory=0.25, search_window=0.12, lowcut=6, highcut=25, twave_window=0.3, searchback=2)
    assert set(DEFAULTS) == {p.name for p in PARAMETERS}


def test_detect_with_flags_finds_the_beats_of_those_settings(tmp_path):
    rec = ecg_io.load(EXAMPLE)
    assert main(["detect", str(EXAMPLE), "--out-dir", str(tmp_path / "a"), "--threshold", "0.9",
                 "--refractory", "0.3"]) == 0
    got = pd.read_csv(tmp_path / "a" / "208_excerpt.peaks.csv")["sample"].to_numpy()
    assert np.array_equal(got, detect_r_peaks(rec.signal, rec.sampling_rate, threshold=0.9, refractory=0.3))
    assert main(["detect", str(EXAMPLE), "--out-dir", str(tmp_path / "b")]) == 0
    default = pd.read_csv(tmp_path / "b" / "208_excerpt.peaks.csv")["sample"].to_numpy()
    assert np.array_equal(default, detect_r_peaks(rec.signal, rec.sampling_rate)) and len(default) != len(got)


@pytest.mark.skipif(not MODEL_PATH.exists(), reason="needs the shipped model")
def test_classify_with_flags_classifies_the_beats_of_those_settings(tmp_path):
    rec = ecg_io.load(EXAMPLE)
    assert main(["classify", str(EXAMPLE), "--out-dir", str(tmp_path), "--threshold", "0.9"]) == 0
    got = pd.read_csv(tmp_path / "208_excerpt.beats.csv")["sample"].to_numpy()
    assert np.array_equal(got, detect_r_peaks(rec.signal, rec.sampling_rate, threshold=0.9))


def test_out_of_range_settings_are_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["detect", str(EXAMPLE), "--out-dir", "x", "--threshold", "5"])
    assert exc.value.code == 2 and "outside 0.05-0.9" in capsys.readouterr().err


def test_cohort_runs_refuse_detector_flags_rather_than_ignore_them(tmp_path, capsys):
    assert main(["detect", str(EXAMPLE), "--out-dir", str(tmp_path), "--workers", "1", "--threshold", "0.5"]) == 2
    assert "not passed to cohort workers" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.csv"))
