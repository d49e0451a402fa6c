"""AppTest of every dashboard page: the default views, each upload format, bad files, sliders.

Uploads go through the real ``st.file_uploader`` widgets (``AppTest.file_uploader(key=...)
.set_value(...)``), so the same callbacks run as in the browser. Widgets are found by their key.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import wfdb

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from ecg_core import config  # noqa: E402
from ecg_core import io as ecg_io  # noqa: E402
from ecg_core.errors import ECGError  # noqa: E402

EX = config.EXAMPLES_DIR
APP = str(ROOT / "streamlit_app.py")
needs_model = pytest.mark.skipif(not config.MODEL_PATH.exists(), reason="the trained model has not landed yet")
TIMEOUT = 60


def start(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}: {[m.label for m in at.metric]}"
    return values[0]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def uploader_key(at: AppTest, key: str) -> str:
    """The current key of an uploader that choosing the example empties (``app_pages._common.widget_key``)."""
    n = at.session_state["uploader_generation"] if "uploader_generation" in at.session_state else 0
    return key if n == 0 or key not in ("analyse_upload", "analyse_reference") else f"{key}_{n}"


def upload(at: AppTest, key: str, files: dict[str, bytes]) -> AppTest:
    at.file_uploader(key=uploader_key(at, key)).set_value(
        [(name, data, "application/octet-stream") for name, data in files.items()])
    return at.run()


def example_signal(seconds: float = 60.0):
    rec = wfdb.rdrecord(str(EX / "208_excerpt"), sampto=int(seconds * 360))
    return rec.p_signal[:, 0], rec


def reference_beats_in(seconds: float) -> int:
    ann = ecg_io.load_annotations(EX / "208_excerpt.atr")
    return int(np.sum(ann.sample < seconds * 360))


def ecg_column_csv() -> bytes:
    x, _ = example_signal()
    return ("ECG\n" + "\n".join(f"{v:.3f}" for v in x) + "\n").encode()


def headerless_csv() -> bytes:
    x, _ = example_signal()
    return "\n".join(f"{i};{v:.3f}" for i, v in enumerate(x)).encode()


def edf_bytes() -> bytes:
    from edfio import Edf, EdfSignal

    x, _ = example_signal()
    buf = io.BytesIO()
    Edf([EdfSignal(x, sampling_frequency=360, label="MLII", physical_dimension="mV")]).write(buf)
    return buf.getvalue()


def wfdb_pair() -> dict[str, bytes]:
    return {f: (EX / f).read_bytes() for f in ("208_excerpt.hea", "208_excerpt.dat")}


# ----------------------------------------------------------------------------- analyse page


def test_analyse_opens_on_the_analysed_example():
    at = start()
    assert "bundled example" in at.markdown[0].value
    beats = int(metric(at, "Beats"))
    assert abs(beats - reference_beats_in(300)) <= 5
    assert metric(at, "Duration") == "5.0 min"
    keys = {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}
    assert {"trace_overview", "trace_detail", "beat_view"} <= keys
    # the lower tabs run lazily: the beat table first; the class and rhythm charts once their tab is opened
    assert at.dataframe(key="beat_table") and "tachogram" not in keys
    at.session_state["analyse_tab"] = "Classes and rhythm"
    at.run()
    keys = {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}
    assert "tachogram" in keys and (not config.MODEL_PATH.exists() or {"class_counts", "confidence_dist"} <= keys)
    if config.MODEL_PATH.exists():  # heart rate in bpm over time; HRV on the N-N intervals
        trend = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-hr_trend")).proto.spec)
        assert trend["layout"]["yaxis"]["title"]["text"] == "Heart rate (bpm)" and len(trend["data"][0]["y"]) == 30
        analysis = at.session_state["analyse_result"].analysis
        expected = analysis.hrv()
        assert metric(at, "SDNN") == f"{expected.sdnn_ms:.0f} ms" and metric(at, "pNN50") == f"{expected.pnn50:.1f} %"
        assert metric(at, "RMSSD") == f"{expected.rmssd_ms:.0f} ms"
        assert int(metric(at, "N-N intervals")) == expected.nn_intervals < len(analysis) - 1
    assert "beat_table" not in [d.key for d in at.dataframe]
    assert not errors(at)


@needs_model
def test_analyse_example_classes_and_agreement():
    at = start()
    counts = {m.label.split(" ·")[0]: int(m.value) for m in at.metric if " · " in m.label}
    assert set(counts) == set(config.CLASSES)
    assert counts["VEB"] > 20 and counts["N"] > 200 and sum(counts.values()) == int(metric(at, "Beats"))
    assert float(metric(at, "Same class as the reference").rstrip("%")) > 80
    downloads = {b.proto.id.rsplit("-", 1)[-1]: b.proto for b in at.get("download_button")}
    assert {"download_csv", "download_json", "download_wfdb", "download_peaks", "download_report"} <= set(downloads)
    assert at.session_state["analyse_result"].analysis.summary().atrial_fibrillation_beats == 0  # sinus rhythm
    assert not [i for i in at.info if "fibrillation" in i.value]
    assert "af" not in at.dataframe(key="beat_table").value.columns


@needs_model
def test_analyse_atrial_fibrillation_is_reported_and_marked():
    at = start()
    upload(at, "analyse_upload", {f: (EX / f).read_bytes() for f in ("201_af_excerpt.hea", "201_af_excerpt.dat")})
    assert not at.exception and not errors(at), errors(at)
    note = [i.value for i in at.info if "Atrial fibrillation suspected" in i.value]
    assert len(note) == 1 and "No beat is called SVEB there" in note[0]
    table = at.dataframe(key="beat_table").value
    flagged = int(note[0].split(" in ")[1].split(" beats")[0])
    assert table["af"].sum() == flagged > 60
    assert not ((table["label"] == "SVEB") & table["af"]).any()
    at.session_state["analyse_tab"] = "Classes and rhythm"
    at.run()
    assert not at.exception
    tachogram = [c for c in at.get("plotly_chart") if c.proto.id.endswith("-tachogram")]
    assert len(tachogram) == 1 and json.loads(tachogram[0].proto.spec)["layout"]["shapes"]


UPLOADS = {
    "kaggle csv": lambda: {"208_excerpt.csv": (EX / "208_excerpt.csv").read_bytes()},
    "ECG column csv": lambda: {"ecg.csv": ecg_column_csv()},
    "headerless semicolon csv": lambda: {"plain.txt": headerless_csv()},
    "wfdb pair": wfdb_pair,
    "edf": lambda: {"208.edf": edf_bytes()},
}


@pytest.mark.parametrize("kind", list(UPLOADS))
def test_analyse_upload_each_format(kind):
    at = start()
    files = UPLOADS[kind]()
    upload(at, "analyse_upload", files)
    assert not at.exception and not errors(at), errors(at)
    assert "uploaded file" in at.markdown[0].value
    seconds = 300 if kind == "wfdb pair" else 60
    assert abs(int(metric(at, "Beats")) - reference_beats_in(seconds)) <= 4
    # the detail strip is on ECG paper wherever the file says the units; the Kaggle layout's ADC units are converted
    strip = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-trace_detail")).proto.spec)
    captions = " ".join(c.value for c in at.caption)
    in_mv = kind in ("kaggle csv", "wfdb pair", "edf")
    assert (strip["layout"]["yaxis"]["title"]["text"] == "Amplitude (mV)") == in_mv
    assert ("25 mm/s, 10 mm/mV" in captions) == in_mv
    assert ("200 units per mV, baseline 1024" in captions) == (kind == "kaggle csv")
    assert any(t["name"] == "calibration" for t in strip["data"]) == in_mv


def test_analyse_lead_and_sampling_rate_choice():
    at = start()
    upload(at, "analyse_upload", {"208_excerpt.csv": (EX / "208_excerpt.csv").read_bytes()})
    assert "lead **MLII**" in at.markdown[0].value
    at.selectbox(key="analyse_lead").set_value("V1").run()
    assert "lead **V1**" in at.markdown[0].value and not errors(at)
    # the Kaggle CSV states no rate: the rate setting applies (and halves the duration at 720 Hz)
    assert metric(at, "Duration") == "60 s"
    at.number_input(key="analyse_fs").set_value(720.0).run()
    assert metric(at, "Duration") == "30 s" and not errors(at)


REFERENCE_CASES = {
    "kaggle txt": ({"208_excerpt.csv": (EX / "208_excerpt.csv").read_bytes()}, "208_excerpt_annotations.txt", 60),
    "wfdb atr": (wfdb_pair(), "208_excerpt.atr", 300),
}


@pytest.mark.parametrize("case", list(REFERENCE_CASES))
def test_analyse_reference_annotations_upload(case):
    recording, reference, seconds = REFERENCE_CASES[case]
    at = start()
    upload(at, "analyse_upload", recording)
    upload(at, "analyse_reference", {reference: (EX / reference).read_bytes()})
    assert not errors(at)
    if config.MODEL_PATH.exists():
        assert int(metric(at, "Reference beats")) == reference_beats_in(seconds)
        assert float(metric(at, "Same class as the reference").rstrip("%")) > 80


def test_analyse_bad_reference_file_keeps_the_analysis():
    at = start()
    upload(at, "analyse_reference", {"notes.txt": b"this is not an annotation file\n"})
    assert not at.exception
    with pytest.raises(ECGError) as exc:
        ecg_io.load_annotations(b"this is not an annotation file\n", filename="notes.txt")
    assert str(exc.value) in errors(at)
    assert int(metric(at, "Beats")) > 400


def _noise_csv(values) -> bytes:
    """A one-lead ``ECG`` CSV of ``values`` (NaN written as ``NaN``). With a usable second lead the loader
    would fall back to it, so the bad lead is the only one."""
    return ("ECG\n" + "\n".join("NaN" if np.isnan(v) else f"{v:.4f}" for v in values) + "\n").encode()


_rng = np.random.default_rng(0)
_sine = np.sin(np.linspace(0, 200, 360 * 20))
BAD_FILES = {
    "empty": {"empty.csv": b""},
    "header only": {"header.csv": b"ECG\n"},
    "text in numbers": {"text.csv": b"ECG\n" + b"0.1\n" * 3000 + b"oops\n" + b"0.2\n" * 3000},
    "flat": {"flat.csv": _noise_csv(np.ones(360 * 20))},
    "too short": {"short.csv": _noise_csv(_sine[: 360 * 2])},
    "long NaN gap": {"gap.csv": _noise_csv(np.where((np.arange(_sine.size) > 2000) & (np.arange(_sine.size) < 4000),
                                                    np.nan, _sine))},
    "binary": {"binary.csv": _rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()},
    "dat without hea": {"208_excerpt.dat": (EX / "208_excerpt.dat").read_bytes()},
}


def _library_message(files: dict[str, bytes]) -> str:
    from ecg_core.peaks import detect_r_peaks

    try:
        rec = ecg_io.load_files(files)
        detect_r_peaks(rec.signal, rec.sampling_rate)
    except ECGError as exc:
        return str(exc)
    raise AssertionError("expected the library to refuse this file")


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_analyse_bad_file_shows_the_library_message_and_keeps_results(case):
    at = start()
    beats_before = metric(at, "Beats")
    upload(at, "analyse_upload", BAD_FILES[case])
    assert not at.exception
    assert _library_message(BAD_FILES[case]) in errors(at)
    assert metric(at, "Beats") == beats_before  # the previous results stay on screen
    assert any("Still showing the previous results" in c.value for c in at.caption)


def test_analyse_segmented_file_is_sent_to_the_segments_page():
    at = start()
    upload(at, "analyse_upload", {"segments_208.csv": (EX / "segments_208.csv").read_bytes()})
    assert any("Classify segments" in e for e in errors(at))


@needs_model
def test_analyse_offers_the_atrial_fibrillation_example():
    at = start()
    at.selectbox(key="analyse_example").set_value("201_af_excerpt").run()
    assert not at.exception and not errors(at), errors(at)
    assert "record 201" in at.markdown[0].value
    assert [i for i in at.info if "Atrial fibrillation suspected" in i.value]
    assert float(metric(at, "Same class as the reference").rstrip("%")) > 80  # the example's own annotations
    upload(at, "analyse_upload", wfdb_pair())  # an upload replaces it ...
    assert "uploaded file" in at.markdown[0].value
    at.button(key="analyse_use_example").click().run()  # ... and the button brings the chosen example back
    assert "record 201" in at.markdown[0].value
    at.selectbox(key="analyse_example").set_value("208_excerpt").run()
    assert "record 208" in at.markdown[0].value and not [i for i in at.info if "fibrillation" in i.value]


def test_analyse_mixed_upload_is_refused_until_one_recording_remains():
    """A WFDB pair, then an unrelated CSV added to the box: the library's message, no analysis of either."""
    at = start()
    upload(at, "analyse_upload", wfdb_pair())
    assert "**208_excerpt** · uploaded file" in at.markdown[0].value
    mixed = {**wfdb_pair(), "101.csv": (ROOT / "tests" / "data" / "101.csv").read_bytes()}
    upload(at, "analyse_upload", mixed)
    with pytest.raises(ECGError) as exc:
        ecg_io.recording_files(mixed)
    assert errors(at) == [str(exc.value)] and "remove 101.csv" in str(exc.value)
    assert not at.metric and not at.get("plotly_chart")  # nothing analysed: neither the pair nor the CSV
    assert not [c for c in at.caption if "Still showing" in c.value]
    at.switch_page("app_pages/tune.py").run()  # the Tune page says the same and shows nothing either
    assert errors(at) == [str(exc.value)] and not at.metric
    at.switch_page("app_pages/analyse.py").run()
    upload(at, "analyse_upload", {"101.csv": mixed["101.csv"]})  # the pair removed: the CSV is analysed
    assert not errors(at) and "**101** · uploaded file" in at.markdown[0].value and int(metric(at, "Beats")) > 10


def test_analyse_failed_read_ends_the_status_and_sets_annotations_aside():
    at = start()
    upload(at, "analyse_upload", {"208_excerpt.dat": (EX / "208_excerpt.dat").read_bytes()})
    assert errors(at) and [s for s in at.status if s.label.startswith("Could not analyse")]
    assert not [s for s in at.status if s.label.startswith(("Reading", "Analysing"))]
    notes = "208_excerpt_annotations.txt"  # the box takes .txt, so a Kaggle annotation file can land in it
    upload(at, "analyse_upload", {**wfdb_pair(), notes: (EX / notes).read_bytes()})
    assert not errors(at) and any(f"{notes}: reference annotations" in i.value for i in at.info)


def test_choosing_the_example_empties_the_upload_boxes():
    at = start()
    upload(at, "analyse_upload", wfdb_pair())
    upload(at, "analyse_reference", {"208_excerpt.atr": (EX / "208_excerpt.atr").read_bytes()})
    assert [f for f in at.get("file_uploader") if f.value]
    at.button(key="analyse_use_example").click().run()
    assert "bundled example" in at.markdown[0].value
    assert not [f for f in at.get("file_uploader") if f.value]  # no file names of the previous upload left
    upload(at, "analyse_upload", {"208_excerpt.csv": (EX / "208_excerpt.csv").read_bytes()})  # one file, no mix
    assert not errors(at) and "**208_excerpt** · uploaded file" in at.markdown[0].value


def test_reference_of_another_recording_is_not_scored_and_says_so():
    at = start()
    upload(at, "analyse_reference", {"101annotations.txt": (ROOT / "tests" / "data" / "101annotations.txt")
                                     .read_bytes()})
    warned = [w.value for w in at.warning if "do not fit this recording" in w.value]
    assert len(warned) == 1 and "named 101, the recording 208_excerpt" in warned[0]
    labels = [m.label for m in at.metric]
    assert "Same class as the reference" not in labels and "Beats" in labels
    at.switch_page("app_pages/tune.py").run()
    assert [w.value for w in at.warning if "do not fit this recording" in w.value]
    assert "Sensitivity" not in [m.label for m in at.metric] and "Beats found" in [m.label for m in at.metric]


def test_longer_reference_is_cut_to_the_recording():
    """A 5-min reference for the 60-s CSV of its start: only its first minute is compared, and the page says so."""
    at = start()
    upload(at, "analyse_upload", {"208_excerpt.csv": (EX / "208_excerpt.csv").read_bytes()})
    upload(at, "analyse_reference", {"208_excerpt.atr": (EX / "208_excerpt.atr").read_bytes()})
    assert [i.value for i in at.info if "left out" in i.value and "60.0 s" in i.value]
    assert not [w for w in at.warning if "do not fit" in w.value]
    if config.MODEL_PATH.exists():
        assert int(metric(at, "Reference beats")) == reference_beats_in(60)
        assert float(metric(at, "Same class as the reference").rstrip("%")) > 80
        agreement = [d.value for d in at.dataframe if "+P" in d.value.columns][0]
        assert not agreement.isna().any().any() and "None" not in agreement.astype(str).to_numpy()
        assert set(agreement["Se"]) - {"—"} and all(v == "—" or v.endswith("%") for v in agreement["Se"])


@needs_model
def test_class_filter_offers_only_classes_the_recording_has():
    at = start()
    at.selectbox(key="analyse_example").set_value("201_af_excerpt").run()
    counts = at.session_state["analyse_result"].analysis.summary().counts
    absent = [c for c in config.CLASSES if not counts[c]]
    assert absent
    at.session_state["table_classes"] = [absent[0], "N"]  # e.g. chips left from another recording
    at.run()
    chips = at.multiselect(key="table_classes")
    assert chips.value == ["N"] and absent[0] not in chips.options


@needs_model
def test_shares_are_named_probability_or_decision_score():
    from ecg_core.pipeline import DECISION_SCORE, PROBABILITY

    at = start()
    analysis = at.session_state["analyse_result"].analysis
    kinds = analysis.score_kinds
    table = at.dataframe(key="beat_table").value
    assert list(table["score_kind"]) == list(kinds) and {PROBABILITY, DECISION_SCORE} == set(kinds)
    for kind in (PROBABILITY, DECISION_SCORE):
        at.session_state["selected_beat"] = int(np.flatnonzero(kinds == kind)[0])
        at.run()
        panel = [m.value for m in at.markdown if m.value.startswith("**Class**")][0]
        assert f"**{kind.capitalize()}** {analysis.confidence[at.session_state['selected_beat']]:.3f}" in panel
        assert [c for c in at.caption if c.value.startswith(kind.capitalize() + ":")]
        beat = [c for c in at.get("plotly_chart") if c.proto.id.endswith("-beat_view")][0]
        assert f"beat, {kind} " in json.loads(beat.proto.spec)["layout"]["title"]["text"]
    decided = int(np.flatnonzero(kinds == DECISION_SCORE)[0])
    at.session_state["selected_beat"] = decided
    at.run()
    assert "**Probability**" not in [m.value for m in at.markdown if m.value.startswith("**Class**")][0]


@needs_model
def test_event_list_counts_and_jump_to_an_event():
    at = start()
    analysis = at.session_state["analyse_result"].analysis
    expected = analysis.events()
    assert expected and f"Events ({len(expected)})" in [h.value for h in at.subheader]
    table = [d.value for d in at.dataframe if "kind" in d.value.columns][0]
    assert table["kind"].tolist() == [e.kind for e in expected] and table["detail"].tolist() == [e.detail for e in
                                                                                                  expected]
    counts = [c.value for c in at.caption if "VT: three or more VEB" in c.value][0]
    n_couplets = sum(e.kind == "VEB couplet" for e in expected)
    assert f"**{n_couplets}** VEB couplet" in counts
    at.button(key="event_next").click().run()  # the first event
    at.button(key="event_next").click().run()  # the second
    event = expected[1]
    assert at.session_state["selected_beat"] == event.first_beat and f"Beat #{event.first_beat}" in [
        h.value for h in at.subheader]
    start_s = at.session_state["detail_start"]
    length = at.session_state["detail_len"]
    assert start_s <= event.start_s and event.end_s <= start_s + length  # the strip holds the event ...
    assert abs(start_s + length / 2 - event.centre_s) < 0.1 or start_s == 0.0  # ... centred on it
    assert any(c.value.startswith(f"Showing event 2 of {len(expected)}") for c in at.caption)
    at.button(key="event_prev").click().run()
    assert at.session_state["selected_beat"] == expected[0].first_beat


@needs_model
def test_af_example_lists_its_af_episode_beside_the_reference_rhythm():
    at = start()
    at.selectbox(key="analyse_example").set_value("201_af_excerpt").run()
    table = [d.value for d in at.dataframe if "kind" in d.value.columns][0]
    af = table[table["kind"] == "AF"]
    assert len(af) >= 1 and af["reference rhythm"].str.contains("AFIB").any()
    rhythms = [d.value for d in at.dataframe if "rhythm (aux_note)" in d.value.columns][0]
    assert "(AFIB" in rhythms["rhythm (aux_note)"].tolist()
    assert rhythms.loc[rhythms["rhythm (aux_note)"] == "(AFIB", "event kind"].eq("AF").all()


@needs_model
def test_beat_edits_relabel_delete_add_and_everything_follows():
    at = start()
    original = at.session_state["analyse_result"].analysis
    n, n_veb = len(original), int(metric(at, "VEB · ventricular"))
    k = int(np.flatnonzero(original.labels == "N")[5])
    at.session_state["selected_beat"] = k
    at.run()
    at.selectbox(key="edit_label").set_value("VEB").run()
    at.button(key="edit_relabel").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert int(metric(at, "VEB · ventricular")) == n_veb + 1 and int(metric(at, "Beats")) == n
    table = at.dataframe(key="beat_table").value
    row = table[table["beat"] == k].iloc[0]
    assert (row["label"], row["score_kind"], row["probability"]) == ("VEB", "edited", 1.0)
    assert any("1 edit of the beats" in i.value for i in at.info)
    # delete it, then add a beat back where it was (snapped to its R peak)
    at.button(key="edit_delete").click().run()
    assert int(metric(at, "Beats")) == n - 1 and int(metric(at, "VEB · ventricular")) == n_veb
    at.number_input(key="edit_add_time").set_value(float(original.samples[k]) / 360 + 0.02).run()
    at.selectbox(key="edit_add_label").set_value("SVEB").run()
    at.button(key="edit_add").click().run()
    edited = at.session_state["analyse_peaks"]
    assert int(metric(at, "Beats")) == n and abs(int(edited[k]) - int(original.samples[k])) <= 3
    # a second beat in the same place is refused with a message, and nothing changes
    at.button(key="edit_add").click().run()
    assert any("already" in e for e in errors(at)) and int(metric(at, "Beats")) == n
    at.button(key="edit_undo").click().run()  # undo the add
    assert int(metric(at, "Beats")) == n - 1
    at.button(key="edit_discard").click().run()
    assert int(metric(at, "Beats")) == n and int(metric(at, "VEB · ventricular")) == n_veb
    assert not [i for i in at.info if "edit" in i.value and "of the beats" in i.value]


def test_linked_navigation_time_box_and_beats_of_a_class():
    at = start()
    assert at.session_state["detail_start"] == 0.0  # the detail view opens at 0 s
    at.text_input(key="goto_time").set_value("1:40").run()
    assert at.session_state["detail_start"] == pytest.approx(100 - at.session_state["detail_len"] / 2)
    at.text_input(key="goto_time").set_value("soon").run()
    assert any("is not a time" in e for e in errors(at))
    if not config.MODEL_PATH.exists():
        return
    labels = at.session_state["analyse_result"].analysis.labels
    at.session_state["selected_beat"] = 0
    at.run()
    at.selectbox(key="nav_class").set_value("VEB").run()
    at.button(key="nav_class_next").click().run()
    first = int(np.flatnonzero(labels == "VEB")[0])
    assert at.session_state["selected_beat"] == first and f"Beat #{first}" in [h.value for h in at.subheader]
    at.button(key="nav_class_next").click().run()
    second = int(np.flatnonzero(labels == "VEB")[1])
    assert at.session_state["selected_beat"] == second
    at.button(key="nav_class_prev").click().run()
    assert at.session_state["selected_beat"] == first
    assert at.button(key="nav_class_prev").disabled


def test_parse_clock_and_step_to_class():
    from app_pages._common import parse_clock, step_to_class

    assert parse_clock("754.2") == 754.2 and parse_clock("12:34.5") == 754.5 and parse_clock("1:02:03") == 3723
    assert parse_clock("1:75") is None and parse_clock("x") is None and parse_clock("-3") is None
    labels = np.array(["N", "VEB", "N", "N", "VEB"])
    assert step_to_class(labels, 1, "VEB", 1) == 4 and step_to_class(labels, 4, "VEB", 1) is None
    assert step_to_class(labels, 4, "VEB", -1) == 1 and step_to_class(labels, 0, "SVEB", 1) is None


def test_analyse_refuses_uploads_over_the_limit(monkeypatch):
    at = start()
    monkeypatch.setattr(config, "MAX_UPLOAD_BYTES", 1000)
    upload(at, "analyse_upload", {"208_excerpt.csv": (EX / "208_excerpt.csv").read_bytes()})
    assert any("the limit is" in e for e in errors(at))
    assert "bundled example" in at.markdown[0].value


def test_analyse_beat_navigation_and_table_filters():
    at = start()
    first = [s.value for s in at.subheader if s.value.startswith("Beat #")][0]
    at.session_state["selected_beat"] = 10
    at.run()
    assert "Beat #10" in [s.value for s in at.subheader]
    at.button(key="beat_next").click().run()
    assert "Beat #11" in [s.value for s in at.subheader]
    assert first != "Beat #11"
    if config.MODEL_PATH.exists():
        n_all = len(at.dataframe(key="beat_table").value)
        at.multiselect(key="table_classes").set_value(["VEB"]).run()
        veb = at.dataframe(key="beat_table").value
        assert 0 < len(veb) < n_all and set(veb["label"]) == {"VEB"}


def test_analyse_table_filters_survive_a_tab_switch():
    at = start()
    if not config.MODEL_PATH.exists():
        pytest.skip("needs the classifier's labels")
    at.multiselect(key="table_classes").set_value(["VEB"]).run()
    at.selectbox(key="table_sort").set_value("class").run()
    n_veb = len(at.dataframe(key="beat_table").value)
    at.session_state["analyse_tab"] = "Classes and rhythm"
    at.run()
    at.session_state["analyse_tab"] = "Beats"
    at.run()
    assert at.multiselect(key="table_classes").value == ["VEB"]
    assert at.selectbox(key="table_sort").value == "class"
    assert len(at.dataframe(key="beat_table").value) == n_veb


def test_analyse_beat_table_shows_at_most_table_rows(monkeypatch):
    from app_pages import _common

    monkeypatch.setattr(_common, "TABLE_ROWS", 50)
    at = start()
    beats = int(metric(at, "Beats"))
    shown = at.dataframe(key="beat_table").value
    assert len(shown) == 50 < beats
    assert any("shows the first 50" in c.value for c in at.caption)
    at.selectbox(key="table_sort").set_value("least confident first").run()
    shown = at.dataframe(key="beat_table").value
    assert len(shown) == 50 and shown["probability"].is_monotonic_increasing


# ----------------------------------------------------------------------------- tune page


def test_tune_slider_changes_peaks_and_carries_over():
    at = start("tune")
    found = int(metric(at, "Beats found"))
    assert abs(found - reference_beats_in(300)) <= 5
    assert float(metric(at, "Sensitivity").rstrip("%")) > 98
    assert float(metric(at, "Positive predictivity").rstrip("%")) > 98
    at.slider(key="tune_threshold").set_value(0.85).run()
    fewer = int(metric(at, "Beats found"))
    assert fewer < found
    at.slider(key="tune_refractory").set_value(0.4).run()
    assert not errors(at) and int(metric(at, "Beats found")) != found
    tuned = metric(at, "Beats found")
    at.switch_page("app_pages/analyse.py").run()
    assert "custom settings" in at.markdown[0].value
    assert metric(at, "Beats") == tuned
    at.switch_page("app_pages/tune.py").run()
    assert at.slider(key="tune_threshold").value == pytest.approx(0.85)
    at.button(key="tune_reset").click().run()
    assert int(metric(at, "Beats found")) == found


def test_tune_lists_missed_and_extra_beats_sweeps_a_setting_and_gives_the_cli_flags():
    at = start("tune")
    at.slider(key="tune_threshold").set_value(0.85).run()  # fewer beats: some reference beats are missed
    at.toggle(key="tune_show_misses").set_value(True).run()
    table = at.dataframe(key="tune_misses").value
    missed, extra = metric(at, "Missed / extra").split(" / ")
    assert (table["kind"] == "missed").sum() == int(missed) > 0 and (table["kind"] == "extra").sum() == int(extra)
    assert table["time_s"].is_monotonic_increasing
    assert any("--threshold 0.85" in c.value for c in at.caption)
    # the sweep: Se and +P over the threshold's range, the current value marked
    at.selectbox(key="tune_sweep_param").set_value("threshold").run()
    at.button(key="tune_sweep_run").click().run()
    assert not at.exception and not errors(at), errors(at)
    chart = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-tune_sweep_chart")).proto.spec)
    se, ppv = chart["data"]
    assert se["name"] == "Sensitivity" and 0.05 in se["x"] and 0.85 in se["x"] and 0.9 in se["x"]
    assert se["y"][0] >= se["y"][-1]  # a lower threshold finds more of the reference beats
    assert any("Best sum of Se and +P" in c.value for c in at.caption)
    at.button(key="tune_reset").click().run()
    assert any("the defaults (no flags)" in c.value for c in at.caption)


def test_sweep_and_flags_library():
    from ecg_core import tuning

    x, rec = example_signal(60)
    ref = ecg_io.load_annotations(EX / "208_excerpt.atr")
    ref_s = ref.sample[ref.sample < x.size]
    points = tuning.sweep_parameter(x, 360.0, ref_s, "threshold", [0.1, 0.3, 0.9])
    assert [p.value for p in points] == [0.1, 0.3, 0.9] and points[1].sensitivity > 0.98
    assert points[0].beats >= points[2].beats
    assert tuning.cli_flags({"threshold": 0.3, "search_window": 0.12}) == "--search-window 0.12"
    assert 0.3 in tuning.sweep_values("threshold") and tuning.sweep_values("lowcut", 5).size >= 5


# ----------------------------------------------------------------------------- segments page


@needs_model
def test_segments_example_and_upload():
    at = start("segments")
    assert metric(at, "Segments") == "40"
    assert any("morphology-only" in i.value for i in at.info) or "morphology-only" in at.markdown[0].value
    table = at.dataframe(key="segments_table").value
    assert len(table) == 40 and set(table["label"]) <= set(config.CLASSES)
    upload(at, "segments_upload", {"segs.csv": (EX / "segments_208.csv").read_bytes()})
    assert not errors(at) and "uploaded file" in at.markdown[0].value


SEGMENT_BAD = {
    "rows not 360 long": {"short_rows.csv": ("\n".join([",".join(f"sample_{i}" for i in range(1, 101))]
                                                      + [",".join("0.1" for _ in range(100))] * 5)).encode()},
}


@pytest.mark.parametrize("case", list(SEGMENT_BAD))
def test_segments_bad_file_message(case):
    at = start("segments")
    upload(at, "segments_upload", SEGMENT_BAD[case])
    assert not at.exception
    msgs = errors(at)
    assert msgs, "expected an error message"
    try:
        ecg_io.load_files(SEGMENT_BAD[case])
    except ECGError as exc:
        assert str(exc) in msgs


def test_segments_page_refuses_a_continuous_recording():
    at = start("segments")
    upload(at, "segments_upload", {"208_excerpt.csv": (EX / "208_excerpt.csv").read_bytes()})
    assert not at.exception
    if config.MODEL_PATH.exists():
        assert any("not pre-cut segments" in e for e in errors(at))
    else:
        assert errors(at)


# ----------------------------------------------------------------------------- model page


def test_model_page_renders():
    at = start("model")
    assert not at.exception
    text = " ".join(w.value for w in at.warning) + " ".join(m.value for m in at.markdown)
    assert "not a medical device" in text.lower()
    if config.MODEL_CARD_JSON.exists():
        card = json.loads(config.MODEL_CARD_JSON.read_text())
        assert card.get("version", "?") in " ".join(m.value for m in at.markdown)
        expected = sum(1 for p in ("rhythm", "morphology", "end_to_end") if p in card.get("evaluation", {}))
        d = (card.get("second_stage") or {}).get("loro", {}).get("stacked")
        e = (card.get("stage_at_reference_beats") or {}).get("loro", {}).get("stacked")
        expected += (d is not None) + (e is not None)
        expected += "calibration" in card
        assert len(at.get("plotly_chart")) == expected  # a confusion matrix per path, the calibration curve
        if d is not None:  # the shipped pipeline's figures, section (d) of the card, are shown
            assert f"{100 * d['accuracy']:.1f}%" in [m.value for m in at.metric if m.label == "Overall accuracy"]
            assert [t.label for t in at.tabs][0].startswith("(d) Shipped pipeline")
        if "crossdb" in card:  # the cross-database figures, one row per protocol and procedure
            assert "On patients and databases it never saw" in [h.value for h in at.subheader]
            table = at.dataframe[0].value  # the first table on the page
            assert {"ds1->svdb", "svdb->ds1", "both-cv ds1", "both-cv svdb"} == set(table["protocol"])
            assert "network+af" in set(table["procedure"])


def test_model_page_skips_what_a_retrained_card_lacks(tmp_path, monkeypatch):
    card = json.loads(config.MODEL_CARD_JSON.read_text()) if config.MODEL_CARD_JSON.exists() else {}
    score = (card.get("second_stage") or {}).get("loro", {}).get("stacked")
    if score is None:
        pytest.skip("the card has no shipped-pipeline figures")
    lean = {"version": "lean-1", "second_stage": {"loro": {"stacked": score}}, "evaluation": {"rhythm": "gone"},
            "calibration": "not a dict", "training": []}
    path = tmp_path / "model_card.json"
    path.write_text(json.dumps(lean))
    monkeypatch.setattr(config, "MODEL_CARD_JSON", path)
    monkeypatch.setattr(config, "MODEL_CARD_MD", tmp_path / "absent.md")
    at = start("model")
    assert not at.exception and not errors(at)
    assert [t.label for t in at.tabs] == ["(d) Shipped pipeline, detected beats"]
    assert len(at.get("plotly_chart")) == 1 and "lean-1" in " ".join(m.value for m in at.markdown)
    path.write_text("{not json")
    at = start("model")
    assert not at.exception and any("cannot be read" in e for e in errors(at))


# ----------------------------------------------------------------------------- downloads


def test_wfdb_annotation_download_reads_back_with_wfdb(tmp_path):
    from ecg_core.io import WFDB_SYMBOL, annotation_bytes

    samples = np.array([100, 460, 800, 1200, 1500])
    labels = np.array(["N", "VEB", "SVEB", "F", "Q"])
    (tmp_path / "rec.ecg").write_bytes(annotation_bytes("rec", 360.0, samples, labels, extension="ecg"))
    ann = wfdb.rdann(str(tmp_path / "rec"), "ecg")
    assert ann.sample.tolist() == samples.tolist()
    assert ann.symbol == [WFDB_SYMBOL[c] for c in labels] == ["N", "V", "A", "F", "Q"]
    assert ann.fs == 360
    back = ecg_io.load_annotations(tmp_path / "rec.ecg")
    assert back.label.tolist() == labels.tolist()  # the AAMI classes survive the round trip


def test_json_summary_is_strict_json():
    from app_pages._common import json_bytes

    text = json_bytes({"a": float("nan"), "b": np.float32(0.5), "c": [np.int64(3)], "d": {"x": float("inf")}})
    assert json.loads(text) == {"a": None, "b": 0.5, "c": [3], "d": {"x": None}}


@needs_model
def test_noisy_example_shows_its_unreadable_stretches():
    at = start()
    at.selectbox(key="analyse_example").set_value("118_noise_excerpt").run()
    assert not at.exception, [e.value for e in at.exception]
    analysis = at.session_state["analyse_result"].analysis
    assert analysis.summary().unreadable_s > 10 and analysis.unreadable.any()
    value = metric(at, "Unreadable")
    assert value.endswith(" s") and float(value[:-2]) == round(analysis.summary().unreadable_s)
    # the most confident beats are readable ones
    assert not analysis.unreadable[analysis.most_confident()]
