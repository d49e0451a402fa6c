"""Figure builders: what the dashboard sends to the browser (seeded synthetic beats)."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio

from ecg_core import plotting

FS = 360.0


def _beats(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    peaks = np.cumsum(rng.integers(250, 350, n))
    labels = np.where(rng.random(n) < 0.1, "VEB", "N")
    signal = rng.standard_normal(int(peaks[-1]) + 400) * 0.05
    signal[peaks] += 1.0
    return signal, peaks, labels, rng.uniform(0.5, 1.0, n)


def _spec(fig) -> dict:
    """What ``st.plotly_chart`` sends: ``to_dict()`` encoded without validation."""
    return json.loads(pio.to_json(fig.to_dict(), validate=False))


def test_figures_send_plain_lists_not_typed_arrays():
    signal, peaks, labels, conf = _beats(50)
    text = pio.to_json(plotting.trace_figure(signal, FS, peaks=peaks, labels=labels, confidence=conf).to_dict(),
                       validate=False)
    assert "bdata" not in text  # base64 typed arrays make Plotly recompute on Streamlit's second render
    assert isinstance(json.loads(text)["data"][0]["x"], list)


def test_few_beats_are_clickable_markers():
    signal, peaks, labels, conf = _beats(100)
    spec = _spec(plotting.trace_figure(signal, FS, peaks=peaks, labels=labels, confidence=conf))
    n_and_veb = [t for t in spec["data"] if t.get("name") in ("N", "VEB")]
    assert {t["mode"] for t in n_and_veb} == {"markers"}
    assert sum(len(t["x"]) for t in n_and_veb) == peaks.size
    tach = _spec(plotting.tachogram_figure(peaks, FS, labels))
    assert {t["name"] for t in tach["data"] if t.get("mode") == "markers"} == {"N", "VEB"}


def test_many_beats_become_one_comb_per_class_with_every_beat_in_the_hover():
    n = plotting.MAX_BEAT_MARKERS + 200
    signal, peaks, labels, conf = _beats(n)
    spec = _spec(plotting.trace_figure(signal, FS, peaks=peaks, labels=labels, confidence=conf))
    combs = {t["name"]: t for t in spec["data"] if t.get("name") in ("N", "VEB")}
    assert {t["mode"] for t in combs.values()} == {"lines"}
    for name, t in combs.items():
        beats = {c[0] for c in t["customdata"]}
        assert beats == set(np.flatnonzero(labels == name).tolist())
        assert None not in t["x"]  # no gaps: a broken line is one SVG element per piece
    # the class rows sit above the trace, N on top
    assert min(combs["VEB"]["y"]) > signal.max() and min(combs["N"]["y"]) > max(combs["VEB"]["y"])

    tach = _spec(plotting.tachogram_figure(peaks, FS, labels))
    marker_traces = {t["name"] for t in tach["data"] if t.get("mode") == "markers"}
    assert marker_traces == {"VEB"}  # N beats are the line's, which carries the hover of every beat
    line = tach["data"][0]
    assert line["mode"] == "lines" and len(line["customdata"]) == n - 1
    assert tach["layout"]["clickmode"] == "event+select"  # set, so Streamlit does not add it after drawing


def test_nice_ticks():
    assert plotting._nice_ticks(-1.7, 2.3) == [-1.0, 0.0, 1.0, 2.0]
    assert plotting._nice_ticks(-300, 1200) == [0.0, 500.0, 1000.0]
    assert plotting._nice_ticks(5.0, 5.0) == [5.0]


def test_hours_of_beats_are_thinned_for_drawing_but_keep_the_extremes():
    n = 50_000  # ~12 h, ~5,000 VEB
    signal, peaks, labels, conf = _beats(n, seed=1)
    spec = _spec(plotting.trace_figure(signal, FS, peaks=peaks, labels=labels, confidence=conf))
    combs = {t["name"]: t for t in spec["data"] if t.get("name") in ("N", "VEB")}
    for name, t in combs.items():
        ticks = len(t["x"]) // 3
        assert 0 < ticks <= plotting.MAX_TRACE_POINTS // 2 < int(np.sum(labels == name))
    tach = _spec(plotting.tachogram_figure(peaks, FS, labels))
    line, veb = tach["data"][0], next(t for t in tach["data"] if t.get("name") == "VEB")
    assert len(line["x"]) <= plotting.MAX_TRACE_POINTS
    assert len(veb["x"]) <= plotting.MAX_CLASS_MARKERS < int(np.sum(labels == "VEB"))
    rr = np.diff(peaks) * 1000.0 / FS
    veb_rr = rr[labels[1:] == "VEB"]
    assert np.isclose(min(veb["y"]), veb_rr.min()) and np.isclose(max(veb["y"]), veb_rr.max())
    assert np.isclose(min(line["y"]), rr.min()) and np.isclose(max(line["y"]), rr.max())


def test_edge_cases_build_and_pickle():
    import pickle

    signal, peaks, labels, conf = _beats(plotting.MAX_BEAT_MARKERS + 50)
    signal[100] = np.nan  # a public builder: a gap in the signal must not break the overview
    fig = plotting.trace_figure(signal, FS, peaks=peaks, labels=labels, confidence=conf)
    assert all(np.isfinite(fig.layout.yaxis.tickvals))
    again = _spec(pickle.loads(pickle.dumps(fig)))
    assert again["data"] == _spec(fig)["data"] and "template" not in again["layout"]
    # many unlabelled beats (Tune page): the line alone, no legend entry
    tach = _spec(plotting.tachogram_figure(peaks, FS))
    assert [t["mode"] for t in tach["data"]] == ["lines"] and not tach["data"][0]["showlegend"]
    for n in (0, 1, 2):  # no beats, one, two
        _spec(plotting.tachogram_figure(peaks[:n], FS, labels[:n]))
        _spec(plotting.trace_figure(signal, FS, peaks=peaks[:n], labels=labels[:n], confidence=conf[:n]))


def test_runs_of_a_mask_and_their_merging():
    m = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    np.testing.assert_array_equal(plotting.runs(m), [[1, 2], [5, 5], [7, 9]])
    np.testing.assert_array_equal(plotting.runs(m, max_runs=2), [[1, 2], [5, 9]])  # the shortest gap goes
    np.testing.assert_array_equal(plotting.runs(m, max_runs=1), [[1, 9]])
    assert plotting.runs(np.zeros(5, bool)).shape == (0, 2)
    assert plotting.runs(np.zeros(0, bool)).shape == (0, 2)


def test_tachogram_shades_atrial_fibrillation():
    peaks = np.arange(100) * 300
    labels = np.array(["N"] * 100)
    af = np.zeros(100, bool)
    af[20:50] = True
    af[70] = True  # one beat: its RR interval is shaded
    shapes = plotting.tachogram_figure(peaks, 360, labels, atrial_fibrillation=af).layout.shapes
    assert [(s.x0, s.x1) for s in shapes] == [(peaks[19] / 360, peaks[49] / 360), (peaks[69] / 360, peaks[70] / 360)]
    assert not plotting.tachogram_figure(peaks, 360, labels, atrial_fibrillation=np.zeros(100, bool)).layout.shapes
    assert not plotting.tachogram_figure(peaks, 360, labels).layout.shapes


def test_hover_names_each_beats_share_probability_or_decision_score():
    signal, peaks, labels, conf = _beats(40)
    kinds = np.where(labels == "N", "decision score", "probability")
    spec = _spec(plotting.trace_figure(signal, FS, peaks=peaks, labels=labels, confidence=conf, score_kinds=kinds,
                                       highlights={"most confident beat": 3}))
    for t in (t for t in spec["data"] if t.get("name") in ("N", "VEB")):
        hover = t["hovertemplate"]
        assert "%{customdata[3]} %{customdata[2]:.2f}" in hover and "probability %" not in hover
        assert {c[3] for c in t["customdata"]} == {"decision score" if t["name"] == "N" else "probability"}
    star = [t for t in spec["data"] if t.get("name") == "most confident"][0]
    assert star["customdata"][0][3] == kinds[3] and star["customdata"][0][4] == "most confident beat"
    # without kinds (e.g. the morphology-only path) every share is the network's probability
    plain = _spec(plotting.trace_figure(signal, FS, peaks=peaks, labels=labels, confidence=conf))
    assert {c[3] for t in plain["data"] if t.get("name") == "N" for c in t["customdata"]} == {"probability"}
    beat = _spec(plotting.beat_figure(signal[:360], FS, probabilities=[0.9, 0.1, 0, 0, 0], classes=list("NSVFQ"),
                                      score_kind="decision score"))
    assert beat["layout"]["xaxis2"]["title"]["text"] == "Decision score (share)"


# ----------------------------------------------------------------------------- the detail strip: ECG paper


def test_strip_is_ecg_paper_with_calibration_pulse_and_beat_letters():
    signal, peaks, labels, conf = _beats(40)
    labels = np.array(["N", "SVEB", "VEB", "F", "Q"] * 8)
    stop = peaks[12] / FS
    spec = _spec(plotting.ecg_strip_figure(signal, FS, peaks=peaks, labels=labels, confidence=conf, units="mV",
                                           start_s=0.0, stop_s=stop))
    x, y = spec["layout"]["xaxis"], spec["layout"]["yaxis"]
    # 5-mm lines every 0.2 s and 0.5 mV, 1-mm lines every 0.04 s and 0.1 mV
    assert np.allclose(np.diff(x["tickvals"]), 0.2) and x["minor"]["dtick"] == 0.04 and x["minor"]["showgrid"]
    assert y["dtick"] == 0.5 and y["minor"]["dtick"] == 0.1 and y["minor"]["showgrid"]
    # 10 mm/mV against 25 mm/s: one mV is drawn 0.4 times as long as one second
    assert y["scaleanchor"] == "x" and y["scaleratio"] == 0.4
    # whole seconds are labelled, the other grid lines are not
    assert [t for t in x["ticktext"] if t] == [f"{v:.0f}" for v in x["tickvals"] if abs(v - round(v)) < 1e-9]
    cal = next(t for t in spec["data"] if t["name"] == "calibration")
    assert max(cal["y"]) - min(cal["y"]) == 1.0  # 1 mV
    assert np.isclose(cal["x"][3] - cal["x"][1], 0.2) and max(cal["x"]) < 0.0  # 200 ms, before the strip
    letters = next(t for t in spec["data"] if t.get("mode") == "text")
    inside = peaks / FS <= stop
    assert letters["text"] == [plotting.BEAT_LETTERS[c] for c in labels[inside]]
    assert set(letters["text"]) == {"N", "S", "V", "F", "Q"}
    assert min(letters["y"]) > signal[: int(stop * FS) + 1].max()  # above the beats


def test_strip_hover_names_the_class_time_score_and_rr():
    signal, peaks, labels, conf = _beats(20)
    spec = _spec(plotting.ecg_strip_figure(signal, FS, peaks=peaks, labels=labels, confidence=conf, units="mV",
                                           stop_s=peaks[-1] / FS + 0.1))
    veb = next(t for t in spec["data"] if t.get("name") == "VEB")
    assert "ventricular ectopic" in veb["customdata"][0][4] and "RR before" in veb["hovertemplate"]
    k = veb["customdata"][0][0]
    assert veb["customdata"][0][6] == (f"{1000 * (peaks[k] - peaks[k - 1]) / FS:.0f} ms" if k else "—")
    assert veb["customdata"][0][5] == plotting._clock(peaks[k] / FS)


def test_strip_without_millivolts_has_no_pulse_and_no_paper_aspect():
    signal, peaks, labels, conf = _beats(20)
    spec = _spec(plotting.ecg_strip_figure(signal * 200 + 1024, FS, peaks=peaks, labels=labels, confidence=conf,
                                           units="adu", stop_s=5.0))
    assert not any(t["name"] == "calibration" for t in spec["data"])
    assert "scaleanchor" not in spec["layout"]["yaxis"]


def test_long_strip_keeps_the_5_mm_grid_only_and_fills_the_chart():
    signal, peaks, labels, conf = _beats(200)
    spec = _spec(plotting.ecg_strip_figure(signal, FS, peaks=peaks, labels=labels, confidence=conf, units="mV",
                                           stop_s=plotting.PAPER_ASPECT_MAX_S + 10))
    assert not spec["layout"]["xaxis"]["minor"]["showgrid"] and "scaleanchor" not in spec["layout"]["yaxis"]


def test_heart_rate_figure_in_bpm_with_the_rate_limits():
    from ecg_core.hrv import heart_rate_trend

    _, peaks, _, _ = _beats(400)
    trend = heart_rate_trend(peaks, FS)
    spec = _spec(plotting.heart_rate_figure(trend, brady_bpm=50, tachy_bpm=100))
    assert spec["layout"]["yaxis"]["title"]["text"] == "Heart rate (bpm)"
    assert np.allclose(spec["data"][0]["y"], np.round(trend.bpm, 6), equal_nan=True)
    assert sorted(s["y0"] for s in spec["layout"]["shapes"]) == [50, 100]
