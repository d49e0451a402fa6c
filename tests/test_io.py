"""ecg_core.io: every supported format loads correctly, and every bad input gives one clear ECGError."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecg_core.config import AAMI_MAP, EXAMPLES_DIR
from ecg_core.errors import ECGError
from ecg_core.io import Annotations, Recording, Segments, load, load_annotations, load_files, recording_files

DATA = Path(__file__).parent / "data"
KAGGLE_101 = DATA / "101.csv"
KAGGLE_101_ANN = DATA / "101annotations.txt"
EXAMPLE_HEA = EXAMPLES_DIR / "208_excerpt.hea"


def ecg_like(seconds=10.0, fs=360.0, leads=1, seed=0):
    """Seeded, non-flat, unclipped test signal: a 1.2 Hz spike train plus noise (mV)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * fs))) / fs
    beat = np.exp(-(((t * 1.2) % 1 - 0.5) ** 2) / 0.001)
    return np.column_stack([beat * (1 + k) + 0.05 * rng.standard_normal(t.size) for k in range(leads)])


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def csv_text(columns: dict, header=True, sep=",", line_end="\n", fmt="{:.5f}"):
    rows = [sep.join(columns)] if header else []
    values = list(columns.values())
    for i in range(len(values[0])):
        rows.append(sep.join(v[i] if isinstance(v[i], str) else fmt.format(v[i]) for v in values))
    return line_end.join(rows) + line_end


# --------------------------------------------------------------------------------------------- formats
def test_kaggle_layout():
    rec = load(KAGGLE_101)
    assert isinstance(rec, Recording)
    assert rec.lead_names == ("MLII", "V1") and rec.lead == "MLII"
    assert rec.units == "adu" and rec.source_format == "kaggle-csv"
    assert rec.sampling_rate == 360.0 and not rec.sampling_rate_from_file
    assert rec.signals.shape == (5001, 2) and rec.signals.dtype == np.float64
    assert rec.signal[:3].tolist() == [955, 955, 955]
    assert rec.signals[0, 1] == 992
    assert rec.name == "101"
    assert rec.duration_s == pytest.approx(5001 / 360)


def test_kaggle_header_without_quotes(tmp_path):
    text = KAGGLE_101.read_text().replace("'", "")
    rec = load(write(tmp_path, "101.csv", text))
    assert rec.units == "adu" and rec.lead_names == ("MLII", "V1") and rec.signals.shape == (5001, 2)


def test_kaggle_layout_uses_callers_rate():
    rec = load(KAGGLE_101, sampling_rate=250)
    assert rec.sampling_rate == 250 and not rec.sampling_rate_from_file


@pytest.mark.parametrize("how", ["bytes", "bytesio", "named-file"])
def test_in_memory_equals_path(how):
    data = KAGGLE_101.read_bytes()
    if how == "bytes":
        rec = load(data, filename="101.csv")
    elif how == "bytesio":
        rec = load(io.BytesIO(data), filename="101.csv")
    else:
        buf = io.BytesIO(data)
        buf.name = "101.csv"  # like an uploaded file object
        rec = load(buf)
    ref = load(KAGGLE_101)
    assert np.array_equal(rec.signals, ref.signals)
    assert (rec.lead, rec.units, rec.name, rec.sampling_rate) == (ref.lead, ref.units, ref.name, ref.sampling_rate)


def test_example_csv_matches_example_wfdb():
    """The bundled Kaggle-layout CSV is the first minute of the bundled WFDB excerpt, in ADC units."""
    csv = load(EXAMPLES_DIR / "208_excerpt.csv")
    rec = load(EXAMPLE_HEA)
    assert csv.signals.shape == (21600, 2) and csv.units == "adu"
    mv = (csv.signals - 1024) / 200
    assert np.allclose(mv, rec.signals[:21600], atol=1e-9)


def test_ecg_column_original_app_format(tmp_path):
    x = ecg_like()[:, 0]
    rec = load(write(tmp_path, "patient.csv", csv_text({"ECG": x})))
    assert rec.lead == "ECG" and rec.lead_names == ("ECG",) and rec.units == ""
    assert rec.sampling_rate == 360 and rec.name == "patient"
    assert np.allclose(rec.signal, x, atol=1e-5)


def test_ecg_preferred_over_first_column(tmp_path):
    x = ecg_like(leads=3)
    rec = load(write(tmp_path, "r.csv", csv_text({"resp": x[:, 0], "ecg": x[:, 1], "pleth": x[:, 2]})))
    assert rec.lead == "ecg" and rec.lead_names == ("resp", "ecg", "pleth")
    assert np.allclose(rec.signal, x[:, 1], atol=1e-5)


def test_twelve_lead_prefers_lead_ii(tmp_path):
    x = ecg_like(leads=12)
    names = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    rec = load(write(tmp_path, "r.csv", csv_text(dict(zip(names, x.T, strict=True)))))
    assert rec.lead == "II" and rec.lead_names == tuple(names)
    assert np.allclose(rec.signal, x[:, 1], atol=1e-5)


def test_headerless_multicolumn_with_index(tmp_path):
    x = ecg_like(leads=2)
    idx = [str(i) for i in range(len(x))]
    rec = load(write(tmp_path, "r.csv", csv_text({"i": idx, "a": x[:, 0], "b": x[:, 1]}, header=False)))
    assert rec.lead_names == ("signal 1", "signal 2") and rec.lead == "signal 1"
    assert rec.signals.shape == (len(x), 2)
    assert np.allclose(rec.signals, x, atol=1e-5)


def test_single_headerless_column(tmp_path):
    x = ecg_like()[:, 0]
    rec = load(write(tmp_path, "r.txt", "\n".join(f"{v:.4f}" for v in x)), sampling_rate=360)
    assert rec.lead_names == ("ECG",) and rec.signals.shape == (len(x), 1)


def test_named_index_column_dropped(tmp_path):
    x = ecg_like(leads=2)
    text = pd.DataFrame({"MLII": x[:, 0], "V5": x[:, 1]}).to_csv(index=True)  # unnamed first column
    rec = load(write(tmp_path, "r.csv", text))
    assert rec.lead_names == ("MLII", "V5") and rec.lead == "MLII"


@pytest.mark.parametrize("sep, decimal, ext", [("\t", ".", "tsv"), (";", ",", "csv"), (" ", ".", "txt"),
                                               ("|", ".", "csv")])
def test_separators_and_decimal_comma(tmp_path, sep, decimal, ext):
    x = ecg_like(leads=2)
    lines = [sep.join(["MLII", "V1"])]
    lines += [sep.join(f"{v:.5f}".replace(".", decimal) for v in row) for row in x]
    rec = load(write(tmp_path, f"r.{ext}", "\r\n".join(lines)))
    assert rec.lead_names == ("MLII", "V1")
    assert np.allclose(rec.signals, x, atol=1e-5)


def test_single_column_decimal_comma(tmp_path):
    x = ecg_like()[:, 0]
    rec = load(write(tmp_path, "r.csv", "EKG\r\n" + "\r\n".join(f"{v:.4f}".replace(".", ",") for v in x)))
    assert rec.lead_names == ("EKG",) and np.allclose(rec.signal, x, atol=1e-4)


def test_time_column_seconds_gives_rate_and_wins(tmp_path):
    x = ecg_like(fs=500)[:, 0]
    t = np.arange(len(x)) / 500
    rec = load(write(tmp_path, "r.csv", csv_text({"time": t, "ECG": x}, fmt="{:.4f}")), sampling_rate=360)
    assert rec.sampling_rate == 500 and rec.sampling_rate_from_file
    assert rec.lead_names == ("ECG",)


def test_time_column_milliseconds(tmp_path):
    x = ecg_like(fs=250)[:, 0]
    t = np.arange(len(x)) * 4.0
    rec = load(write(tmp_path, "r.csv", csv_text({"time_ms": t, "lead II": x}, fmt="{:.3f}")))
    assert rec.sampling_rate == 250 and rec.sampling_rate_from_file and rec.lead == "lead II"


def test_headerless_time_column(tmp_path):
    x = ecg_like(fs=1000)[:, 0]
    t = np.arange(len(x)) / 1000
    rec = load(write(tmp_path, "r.csv", csv_text({"t": t, "x": x}, header=False, fmt="{:.6f}")))
    assert rec.sampling_rate == 1000 and rec.sampling_rate_from_file and rec.signals.shape == (len(x), 1)


@pytest.mark.parametrize("seconds", [10, 70])  # 70 s: more rows than the time subsample, minutes roll over
def test_physionet_export_with_time_strings_and_units_row(tmp_path, seconds):
    x = ecg_like(seconds=seconds, leads=2)
    lines = ["'Elapsed time','MLII','V5'", "'hh:mm:ss.mmm','mV','mV'"]
    for i, row in enumerate(x):
        ms = round(i * 1000 / 360)
        lines.append(f"'{ms // 60000}:{ms % 60000 / 1000:06.3f}',{row[0]:.3f},{row[1]:.3f}")
    rec = load(write(tmp_path, "r.csv", "\n".join(lines)))
    assert rec.sampling_rate == 360 and rec.sampling_rate_from_file
    assert rec.lead_names == ("MLII", "V5") and rec.units == "mV" and rec.signals.shape == (len(x), 2)
    with pytest.raises(ECGError, match="samples are missing"):
        load(write(tmp_path, "gap.csv", "\n".join(lines[:1000] + lines[1000 + 360:])))  # 1 s cut out


def test_rate_comment_and_units_in_name(tmp_path):
    x = ecg_like(fs=500)[:, 0]
    rec = load(write(tmp_path, "r.csv", "# device export\n# Sampling rate: 500 Hz\n" + csv_text({"ECG (uV)": x})))
    assert rec.sampling_rate == 500 and rec.sampling_rate_from_file
    assert rec.lead == "ECG" and rec.units == "uV"


def test_lead_override_and_with_lead():
    rec = load(KAGGLE_101, lead="v1")
    assert rec.lead == "V1" and rec.signal[0] == 992
    back = rec.with_lead("mlii")
    assert back.lead == "MLII" and back.signal[0] == 955 and back.units == "adu"
    assert rec.lead == "V1"  # frozen: with_lead returns a new recording
    with pytest.raises(ECGError, match="Available leads: MLII, V1"):
        rec.with_lead("V5")
    with pytest.raises(ECGError, match="no lead 'aVR'.*MLII, V1"):
        load(KAGGLE_101, lead="aVR")


def test_signals_are_read_only():
    rec = load(KAGGLE_101)
    with pytest.raises(ValueError):
        rec.signal[0] = 0.0


def test_short_nan_gap_filled(tmp_path):
    x = ecg_like()[:, 0]
    cells = [f"{v:.5f}" for v in x]
    cells[100:120] = [""] * 20  # 56 ms gap: blank lines of a one-column file are missing samples
    rec = load(write(tmp_path, "r.csv", "ECG\n" + "\n".join(cells) + "\n\n\n"))
    assert np.isfinite(rec.signal).all()
    assert rec.signal.size == x.size  # the gap is filled in place, not closed up; trailing blank lines add nothing
    np.testing.assert_allclose(rec.signal[120:], x[120:], atol=1e-5)
    np.testing.assert_allclose(rec.signal[100:120], np.linspace(x[99], x[120], 22)[1:-1], atol=1e-4)


# --------------------------------------------------------------------------------------------- WFDB
def test_wfdb_by_header_path():
    rec = load(EXAMPLE_HEA)
    assert rec.lead_names == ("MLII", "V1") and rec.lead == "MLII" and rec.units == "mV"
    assert rec.sampling_rate == 360 and rec.sampling_rate_from_file and rec.source_format == "wfdb"
    assert rec.signals.shape == (108000, 2) and rec.name == "208_excerpt"
    assert rec.signal[0] == pytest.approx((1003 - 1024) / 200)


def test_wfdb_by_record_name_and_by_dat_path():
    ref = load(EXAMPLE_HEA)
    for source in (EXAMPLES_DIR / "208_excerpt", str(EXAMPLES_DIR / "208_excerpt.dat")):
        assert np.array_equal(load(source).signals, ref.signals)


def test_wfdb_rate_from_file_wins():
    rec = load(EXAMPLE_HEA, sampling_rate=500, lead="V1")
    assert rec.sampling_rate == 360 and rec.sampling_rate_from_file and rec.lead == "V1"


def test_uploaded_wfdb_pair_ignores_atr():
    files = {p.name: p.read_bytes() for p in EXAMPLES_DIR.glob("208_excerpt.*") if p.suffix in (".hea", ".dat", ".atr")}
    assert set(files) == {"208_excerpt.hea", "208_excerpt.dat", "208_excerpt.atr"}
    rec = load_files(files, lead="V1")
    ref = load(EXAMPLE_HEA)
    assert rec.lead == "V1" and np.array_equal(rec.signals, ref.signals) and rec.sampling_rate_from_file


def test_uploaded_wfdb_pair_with_renamed_dat():
    files = {"208_excerpt.hea": EXAMPLE_HEA.read_bytes(),
             "208_excerpt (1).dat": (EXAMPLES_DIR / "208_excerpt.dat").read_bytes()}
    assert load_files(files).signals.shape == (108000, 2)


@pytest.mark.parametrize("target", ["../ecg_io_evil.dat", "sub/ecg_io_evil.dat"])
def test_uploaded_wfdb_header_cannot_write_outside(target):
    import tempfile

    hea = EXAMPLE_HEA.read_text().replace("208_excerpt.dat", target)
    with pytest.raises(ECGError, match="not a valid WFDB header|with a folder"):
        load_files({"208_excerpt.hea": hea.encode(), "x.dat": (EXAMPLES_DIR / "208_excerpt.dat").read_bytes()})
    assert not (Path(tempfile.gettempdir()) / "ecg_io_evil.dat").exists()


def test_uploaded_header_renamed():
    files = {"mine.hea": EXAMPLE_HEA.read_bytes(), "208_excerpt.dat": (EXAMPLES_DIR / "208_excerpt.dat").read_bytes()}
    assert load_files(files).signals.shape == (108000, 2)


def _files(*names) -> dict[str, bytes]:
    where = {"101.csv": KAGGLE_101, "101annotations.txt": KAGGLE_101_ANN}
    return {n: (where.get(n) or EXAMPLES_DIR / n).read_bytes() for n in names}


PAIR = ("208_excerpt.hea", "208_excerpt.dat")


def test_recording_files_takes_one_recording_and_sets_annotations_aside():
    chosen = recording_files(_files(*PAIR, "208_excerpt.atr", "101annotations.txt"))
    assert chosen.name == "208_excerpt" and chosen.files == PAIR
    assert set(chosen.ignored) == {"208_excerpt.atr", "101annotations.txt"}
    assert recording_files(_files("101.csv")).files == ("101.csv",)
    renamed = {"208_excerpt.hea": EXAMPLE_HEA.read_bytes(), "208_excerpt (1).dat": b"x"}
    assert recording_files(renamed).files == ("208_excerpt.hea", "208_excerpt (1).dat")


@pytest.mark.parametrize("names, says", [
    # a WFDB pair plus an unrelated CSV: used to analyse the pair silently
    ((*PAIR, "101.csv"), r"more than one recording: the WFDB record 208_excerpt \(208_excerpt\.hea \+ "
                         r"208_excerpt\.dat\) and 101\.csv.*remove 101\.csv"),
    # a .hea with an unrelated CSV: the CSV's bytes used to be read as the signal file
    (("208_excerpt.hea", "101.csv"), r"208_excerpt\.hea needs its signal file 208_excerpt\.dat, but 101\.csv was "
                                     r"uploaded, which belongs to another recording"),
    # .hea + .dat of different records
    (("208_excerpt.hea", "201_af_excerpt.dat"), r"needs its signal file 208_excerpt\.dat, but 201_af_excerpt\.dat"),
    (("101.csv", "208_excerpt.csv"), r"not one recording: 101\.csv and 208_excerpt\.csv.*remove all but one"),
    (("101.csv", "201_af_excerpt.dat"), r"not one recording: 101\.csv and 201_af_excerpt\.dat"),
    ((*PAIR, "201_af_excerpt.hea", "201_af_excerpt.dat"), r"2 WFDB headers \(201_af_excerpt\.hea and "
                                                          r"208_excerpt\.hea\)"),
    ((*PAIR, "201_af_excerpt.dat"), r"more than one recording.*remove 201_af_excerpt\.dat"),
])
def test_recording_files_refuses_every_mixed_set(names, says):
    files = _files(*names)
    for call in (recording_files, load_files):
        with pytest.raises(ECGError, match=says):
            call(files)


def test_load_files_single_csv():
    rec = load_files({"101.csv": KAGGLE_101.read_bytes()})
    assert rec.lead == "MLII" and rec.units == "adu"


# --------------------------------------------------------------------------------------------- EDF
def make_edf(tmp_path, ecg_label="ECG II"):
    import edfio

    ecg = ecg_like(seconds=10, fs=256)[:, 0]
    eeg = np.random.default_rng(1).standard_normal(1000) * 20
    signals = [
        edfio.EdfSignal(eeg, sampling_frequency=100, label="EEG Fpz-Cz", physical_dimension="uV"),
        edfio.EdfSignal(ecg, sampling_frequency=256, label=ecg_label, physical_dimension="mV"),
        edfio.EdfSignal(ecg * 0.5, sampling_frequency=256, label="Resp", physical_dimension="mV"),
    ]
    path = tmp_path / "night.edf"
    edfio.Edf(signals).write(path)
    return path, ecg


def test_edf_picks_ecg_channel_and_its_rate(tmp_path):
    path, ecg = make_edf(tmp_path)
    rec = load(path, sampling_rate=360)
    assert rec.lead == "ECG II" and rec.sampling_rate == 256 and rec.sampling_rate_from_file
    assert rec.units == "mV" and rec.source_format == "edf" and rec.name == "night"
    assert rec.lead_names == ("ECG II", "Resp")  # the channels sharing the chosen lead's rate
    assert np.allclose(rec.signal, ecg, atol=1e-3 * np.ptp(ecg))
    same = load(path.read_bytes(), filename="night.edf")
    assert np.array_equal(same.signals, rec.signals)


def test_edf_lead_override_other_rate(tmp_path):
    path, _ = make_edf(tmp_path)
    rec = load(path, lead="eeg fpz-cz")
    assert rec.lead == "EEG Fpz-Cz" and rec.sampling_rate == 100 and rec.units == "uV"


# --------------------------------------------------------------------------------------------- segments
def test_segmented_example():
    seg = load(EXAMPLES_DIR / "segments_208.csv")
    assert isinstance(seg, Segments) and seg.windows.shape == (40, 360) and seg.name == "segments_208"
    labels = pd.read_csv(EXAMPLES_DIR / "segments_208_labels.csv")
    rec = load(EXAMPLE_HEA)
    s = int(labels["sample"].iloc[0])
    assert np.allclose(seg.windows[0], rec.signal[s - 180:s + 180], atol=1e-3)
    assert set(labels["label"]) >= {"N", "VEB"}


def test_segmented_with_index_column_and_headerless(tmp_path):
    w = ecg_like(seconds=1, fs=360 * 30)[:, 0].reshape(30, 360)
    frame = pd.DataFrame(w, columns=[f"sample_{i + 1}" for i in range(360)])
    with_index = load(write(tmp_path, "a.csv", frame.to_csv(index=True)))
    assert isinstance(with_index, Segments) and np.allclose(with_index.windows, w)
    headerless = load(write(tmp_path, "b.csv", frame.to_csv(index=False, header=False)))
    assert isinstance(headerless, Segments) and headerless.windows.shape == (30, 360)
    numbered = load(write(tmp_path, "c.csv", pd.DataFrame(w).to_csv(index=False)))  # header 0,1,...,359
    assert isinstance(numbered, Segments) and np.allclose(numbered.windows, w)


def test_headerless_single_long_row_is_a_recording(tmp_path):
    x = ecg_like()[:, 0]
    rec = load(write(tmp_path, "row.csv", ",".join(f"{v:.4f}" for v in x)))
    assert isinstance(rec, Recording) and rec.signals.shape == (len(x), 1)


# --------------------------------------------------------------------------------------------- annotations
def test_kaggle_annotations_lf():
    ann = load_annotations(KAGGLE_101_ANN)
    rows = [line.split() for line in KAGGLE_101_ANN.read_text().splitlines()[1:]]
    beats = [int(r[1]) for r in rows if r[2] in AAMI_MAP]
    assert isinstance(ann, Annotations) and len(ann) == len(beats) > 1800
    assert ann.sample.tolist() == beats
    assert ann.sample.dtype == np.int64 and ann.sample[0] == 83 and ann.symbol[0] == "N" and ann.label[0] == "N"
    assert ann.sampling_rate == 360 and ann.episodes == ()


def test_example_annotations_txt_crlf_matches_atr():
    txt = load_annotations(EXAMPLES_DIR / "208_excerpt_annotations.txt")
    atr = load_annotations(EXAMPLES_DIR / "208_excerpt.atr")
    n = len(txt)
    assert n > 100 and set(txt.label) == {"N", "VEB", "F"}
    assert np.array_equal(txt.sample, atr.sample[:n]) and list(txt.symbol) == list(atr.symbol[:n])
    assert atr.sampling_rate == 360 and len(atr) == 518
    raw = wfdb.rdann(str(EXAMPLES_DIR / "208_excerpt"), "atr")
    assert len(raw.symbol) > len(atr)  # non-beat annotations (+, ~) exist in the file and were dropped


def test_atr_with_episodes_from_bytes(tmp_path):
    symbols = ["+", "N", "N", "[", "!", "!", "]", "N", "V", "A", "~", "F", "/", "Q", "x"]
    samples = np.arange(len(symbols)) * 300 + 50
    wfdb.wrann("rec", "atr", samples, symbol=symbols, fs=250, write_dir=str(tmp_path))
    for source, kw in ((tmp_path / "rec.atr", {}), ((tmp_path / "rec.atr").read_bytes(), {"filename": "rec.atr"})):
        ann = load_annotations(source, **kw)
        assert list(ann.symbol) == ["N", "N", "N", "V", "A", "F", "/", "Q"]
        assert list(ann.label) == ["N", "N", "N", "VEB", "SVEB", "F", "Q", "Q"]
        assert ann.episodes == ((950, 1850),)
        assert ann.sampling_rate == 250


def test_unclosed_episode_ends_at_last_annotation(tmp_path):
    text = ("      Time   Sample #  Type  Sub Chan  Num\tAux\n"
            "    0:00.100       36     N    0    0    0\n"
            "    0:00.500      180     [    0    0    0\n"
            "    0:01.000      360     !    0    0    0\n")
    ann = load_annotations(text.encode(), filename="x_annotations.txt", sampling_rate=360)
    assert ann.episodes == ((180, 360),) and ann.sample.tolist() == [36] and ann.sampling_rate == 360


# --------------------------------------------------------------------------------------------- bad input
BAD_TEXT = [
    ("empty", b"", "empty"),
    ("blank", b"  \r\n\r\n ", "empty"),
    ("header-only", b"'sample #','MLII','V1'\r\n", "no data rows"),
    ("no-numeric", b"name,comment\nalice,hello\nbob,world\ncarol,bye\n", "no numeric signal column"),
    ("png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "PNG image"),
    ("utf16", "ECG\r\n0.1\r\n0.2\r\n0.3\r\n".encode("utf-16"), "UTF-16"),
    ("binary", bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)), "binary"),
    ("xlsx", b"PK\x03\x04" + b"\x00" * 100, "Excel"),
    ("ragged", b"a,b\n1,2\n3,4\n5,6,7,8\n", "different numbers of values"),
    ("kaggle-ann", KAGGLE_101_ANN.read_bytes(), "annotation file"),
]


@pytest.mark.parametrize("content, phrase", [c[1:] for c in BAD_TEXT], ids=[c[0] for c in BAD_TEXT])
def test_bad_file_content(tmp_path, content, phrase):
    with pytest.raises(ECGError, match=phrase):
        load(write(tmp_path, "bad.csv", content))
    with pytest.raises(ECGError, match=phrase):
        load(content, filename="bad.csv")


def test_text_in_numbers_names_column_and_row(tmp_path):
    x = [f"{v:.4f}" for v in ecg_like(leads=2)[:, 1]]
    x[41] = "12..5"
    rec_text = "MLII,V1\n" + "\n".join(f"0.{i % 7},{v}" for i, v in enumerate(x))
    with pytest.raises(ECGError, match=r"Column 'V1' has text .*'12\.\.5' in data row 42 \(line 43"):
        load(write(tmp_path, "r.csv", rec_text))


def test_long_nan_gap(tmp_path):
    cells = [f"{v:.5f}" for v in ecg_like(seconds=20)[:, 0]]
    cells[1000:2500] = ["nan"] * 1500  # 4.2 s
    with pytest.raises(ECGError, match="gap of 4.2 s"):
        load(write(tmp_path, "r.csv", "ECG\n" + "\n".join(cells)))


def test_flat_signal(tmp_path):
    with pytest.raises(ECGError, match="flat"):
        load(write(tmp_path, "r.csv", "ECG\n" + "1024\n" * 3600))


def test_clipped_signal(tmp_path):
    x = np.clip(ecg_like()[:, 0], -0.1, 0.4)
    with pytest.raises(ECGError, match="clipped"):
        load(write(tmp_path, "r.csv", csv_text({"ECG": x})))


def test_too_short(tmp_path):
    with pytest.raises(ECGError, match=r"only 2\.0 s long"):
        load(write(tmp_path, "r.csv", csv_text({"ECG": ecg_like(seconds=2)[:, 0]})))


@pytest.mark.parametrize("fs", [5, 1e6, -360, float("nan"), "fast"])
def test_absurd_callers_rate(fs):
    with pytest.raises(ECGError, match="sampling rate"):
        load(KAGGLE_101, sampling_rate=fs)


def test_absurd_rate_from_time_column(tmp_path):
    x = ecg_like(seconds=60, fs=20)[:, 0]
    with pytest.raises(ECGError, match="states a sampling rate of 20 Hz"):
        load(write(tmp_path, "r.csv", csv_text({"time (s)": np.arange(len(x)) / 20, "ECG": x})))


def test_time_column_backwards_or_jumping(tmp_path):
    x = ecg_like()[:, 0]
    t = np.arange(len(x)) / 360
    back = t.copy()
    back[[100, 101]] = back[[101, 100]]
    with pytest.raises(ECGError, match="goes backwards at data row 102"):
        load(write(tmp_path, "r.csv", csv_text({"time": back, "ECG": x}, fmt="{:.6f}")))
    jump = t.copy()
    jump[2000:] += 5
    with pytest.raises(ECGError, match="samples are missing"):
        load(write(tmp_path, "r.csv", csv_text({"time": jump, "ECG": x}, fmt="{:.6f}")))


def test_dat_without_hea(tmp_path):
    dat = (EXAMPLES_DIR / "208_excerpt.dat").read_bytes()
    with pytest.raises(ECGError, match=r"without its header 208_excerpt\.hea"):
        load(write(tmp_path, "208_excerpt.dat", dat))
    with pytest.raises(ECGError, match="without its header"):
        load(dat, filename="208_excerpt.dat")
    with pytest.raises(ECGError, match="without its header"):
        load_files({"208_excerpt.dat": dat, "208_excerpt.atr": b""})


def test_hea_without_dat(tmp_path):
    write(tmp_path, "208_excerpt.hea", EXAMPLE_HEA.read_bytes())
    with pytest.raises(ECGError, match=r"refers to 208_excerpt\.dat, which is missing"):
        load(tmp_path / "208_excerpt.hea")
    with pytest.raises(ECGError, match=r"needs the signal file 208_excerpt\.dat, which was not uploaded"):
        load_files({"208_excerpt.hea": EXAMPLE_HEA.read_bytes(), "208_excerpt.atr": b"x"})
    with pytest.raises(ECGError, match="without its signal file"):
        load(EXAMPLE_HEA.read_bytes(), filename="208_excerpt.hea")


def test_truncated_dat():
    files = {"208_excerpt.hea": EXAMPLE_HEA.read_bytes(),
             "208_excerpt.dat": (EXAMPLES_DIR / "208_excerpt.dat").read_bytes()[:100_000]}
    with pytest.raises(ECGError, match=r"208_excerpt\.dat is shorter than its header .* truncated"):
        load_files(files)


def test_corrupt_wfdb_header(tmp_path):
    with pytest.raises(ECGError, match="not a valid WFDB header"):
        load_files({"x.hea": b"this is not a header\n", "x.dat": b"\x00" * 30})
    write(tmp_path, "y.dat", b"\x00\x01")
    with pytest.raises(ECGError, match="truncated"):
        load(write(tmp_path, "y.hea", "y 1 360 1000\ny.dat 212 200 11 1024 0 0 0 ECG\n"))
    with pytest.raises(ECGError, match="not a valid WFDB header"):
        load(write(tmp_path, "z.hea", "z one 360 1000\ny.dat 212 200 11 1024 0 0 0 ECG\n"))


def test_corrupt_edf(tmp_path):
    with pytest.raises(ECGError, match="not a readable EDF"):
        load(write(tmp_path, "x.edf", b"0       " + b"garbage" * 50))


def test_segmented_rows_not_360(tmp_path):
    header = ",".join(f"sample_{i + 1}" for i in range(300))
    with pytest.raises(ECGError, match="rows have 300 samples; the classifier needs 360"):
        load(write(tmp_path, "s.csv", header + "\n" + ",".join(["0.1"] * 300) + "\n"))
    w = ecg_like(seconds=1, fs=360 * 5)[:, 0].reshape(5, 360)
    lines = [",".join(f"sample_{i + 1}" for i in range(360))] + [",".join(f"{v:.3f}" for v in row) for row in w]
    lines[3] = ",".join(lines[3].split(",")[:200])  # segment 3 is cut short
    with pytest.raises(ECGError, match=r"Segment \(row\) 3 .* has 200 values instead of 360"):
        load(write(tmp_path, "s.csv", "\n".join(lines)))


def test_headerless_wide_table_not_360(tmp_path):
    w = ecg_like(seconds=1, fs=187 * 5)[:, 0].reshape(5, 187)
    with pytest.raises(ECGError, match="187 values per row"):
        load(write(tmp_path, "beats.csv", pd.DataFrame(w).to_csv(index=False, header=False)))


@pytest.mark.parametrize("filename, phrase", [("x.png", "not supported"), ("x.xlsx", "not supported"),
                                              ("x.bdf", "BDF"), ("208.atr", "annotation file, not a recording")])
def test_unsupported_extension(filename, phrase):
    with pytest.raises(ECGError, match=phrase):
        load(b"whatever", filename=filename)


def test_missing_path_and_bad_source(tmp_path):
    with pytest.raises(ECGError, match="File not found"):
        load(tmp_path / "nope.csv")
    with pytest.raises(ECGError, match="folder"):
        load(tmp_path)
    with pytest.raises(ECGError, match="Cannot read a recording from a int"):
        load(42)


@pytest.mark.parametrize("content, filename, phrase", [
    (b"", "x_annotations.txt", "empty"),
    (b"", "x.atr", "empty"),
    (b"   Time  Sample # Type\nthis is not it\n", "x_annotations.txt", "not an annotation line"),
    (bytes(range(256)) * 3, "x.atr", "not a readable WFDB annotation file"),
    ((EXAMPLES_DIR / "208_excerpt.csv").read_bytes(), "x.hea", "is a recording, not an annotation file"),
    ("ECG\r\n".encode("utf-16"), "x.txt", "UTF-16"),
])
def test_bad_annotations(content, filename, phrase):
    with pytest.raises(ECGError, match=phrase):
        load_annotations(content, filename=filename)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.one_of(st.binary(max_size=600),
                         st.text(alphabet="0123456789.,;-e \t\n\r'\"#abcNa", max_size=600).map(str.encode)),
       ext=st.sampled_from([".csv", ".txt", ".tsv", ".edf", ".hea", ".dat", ".atr", ""]))
def test_fuzz_only_ecgerror(content, ext):
    """Whatever bytes a user uploads, the loaders either succeed or raise ECGError."""
    for call in (lambda: load(content, filename=f"f{ext}"), lambda: load_annotations(content, filename=f"f{ext}")):
        try:
            call()
        except ECGError as exc:
            assert str(exc) and "Traceback" not in str(exc)


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "mitdb" / "208.hea").exists(), reason="needs the shared MIT-BIH data")
def test_examples_regenerate_byte_for_byte(tmp_path):
    """examples/make_examples.py rebuilds the bundled files exactly from the shared data."""
    import subprocess
    import sys

    subprocess.run([sys.executable, str(EXAMPLES_DIR / "make_examples.py"), "--data-dir", str(SHARED),
                    "--out-dir", str(tmp_path)], check=True, capture_output=True)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.is_file() and p.suffix not in (".py", ".md"))
    for name in made:
        assert (tmp_path / name).read_bytes() == (EXAMPLES_DIR / name).read_bytes(), name


def test_unusable_default_lead_falls_back_to_a_usable_one():
    rng = np.random.default_rng(3)
    v1 = np.sin(np.arange(3600) / 30.0) + 0.01 * rng.standard_normal(3600)
    text = "MLII,V1\n" + "\n".join(f"0,{v:.5f}" for v in v1)
    rec = load(text.encode(), filename="flat_mlii.csv")
    assert rec.lead == "V1"
    with pytest.raises(ECGError, match="Lead MLII: .*flat"):
        load(text.encode(), filename="flat_mlii.csv", lead="MLII")
