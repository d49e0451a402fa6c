"""The printable report (``ecg_core.report``) and ``python -m ecg_core report``."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ecg_core import io as ecg_io
from ecg_core import report
from ecg_core.config import CLASSES, EXAMPLES_DIR, MODEL_PATH
from ecg_core.pipeline import Analysis

FS = 360.0


def _example_analysis(labels_every: dict[int, str]):
    rec = ecg_io.load(EXAMPLES_DIR / "208_excerpt.hea")
    from ecg_core.peaks import detect_r_peaks

    peaks = detect_r_peaks(rec.signal, rec.sampling_rate)
    labels = np.array(["N"] * peaks.size, dtype=object)
    for k, c in labels_every.items():
        labels[k] = c
    probs = np.zeros((peaks.size, len(CLASSES)))
    probs[np.arange(peaks.size), [CLASSES.index(c) for c in labels]] = 0.95
    probs[:, 4] += 0.05
    return rec, Analysis(peaks, probs, "morphology+rhythm", FS, rec.n_samples, "test", np.zeros(peaks.size, bool), True)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def test_report_pages_summary_events_and_one_strip_per_kind():
    rec, analysis = _example_analysis({**{k: "VEB" for k in (20, 21, 22, 60, 61)}, 100: "SVEB", 101: "SVEB",
                                       102: "SVEB"})
    events = analysis.events()
    kinds = {e.kind for e in events}
    assert {"VT", "VEB couplet", "SVT"} <= kinds
    figures = report.report_figures(rec.signal, FS, analysis, name="208_excerpt", lead=rec.lead, units="mV")
    strips = -(-len(kinds) // report.STRIPS_PER_PAGE)
    assert len(figures) == 1 + 1 + strips  # summary, events (one page), strips
    text = " ".join(t.get_text() for t in figures[0].texts)
    assert "ECG report: 208_excerpt" in text and "SDNN" in text and "RMSSD" in text and "pNN50" in text
    table = " ".join(t.get_text() for t in figures[1].texts)
    assert all(e.detail in table for e in events)
    titles = [ax.get_title(loc="left") for fig in figures[2:] for ax in fig.axes]
    assert sorted(t.split(":")[0] for t in titles) == sorted(kinds)
    # true scale: a 10-s strip is 250 mm wide and 4 mV are 40 mm high
    ax = figures[2].axes[0]
    w, h = ax.get_position().width * figures[2].get_figwidth(), ax.get_position().height * figures[2].get_figheight()
    assert w * 25.4 == pytest.approx(250, abs=0.5) and h * 25.4 == pytest.approx(40, abs=0.5)
    assert np.diff(ax.get_xlim())[0] == pytest.approx(report.STRIP_S + 0.4)
    pdf = report.report_pdf(figures)
    assert pdf.startswith(b"%PDF") and _pages(pdf) == len(figures)
    pngs = report.report_pngs(figures, dpi=40)
    assert len(pngs) == len(figures) and all(p.startswith(b"\x89PNG") for p in pngs)


def test_report_without_events_or_units_says_so():
    rec, analysis = _example_analysis({})
    figures = report.report_figures(rec.signal * 200, FS, analysis, name="x", units="")
    assert "No events found." in " ".join(t.get_text() for t in figures[1].texts) or analysis.events()


@pytest.mark.skipif(not MODEL_PATH.exists(), reason="needs the shipped model")
def test_cli_report_writes_a_pdf_and_png_pages(tmp_path, capsys):
    from ecg_core import cli

    out = tmp_path / "reports"
    assert cli.main(["report", str(EXAMPLES_DIR / "208_excerpt.hea"), "--output-dir", str(out), "--png"]) == 0
    pdf = (out / "208_excerpt.report.pdf").read_bytes()
    pngs = sorted(out.glob("208_excerpt.report-*.png"))
    assert pdf.startswith(b"%PDF") and _pages(pdf) == len(pngs) >= 3
    assert str(out / "208_excerpt.report.pdf") in capsys.readouterr().out
    # a bad file: one line naming it, exit code 1, the others still written
    bad = tmp_path / "bad.csv"
    bad.write_text("not,an,ecg\n")
    assert cli.main(["report", str(bad), str(EXAMPLES_DIR / "208_excerpt.csv"), "--output-dir", str(out)]) == 1
    assert "bad.csv" in capsys.readouterr().err and (out / "208_excerpt.report.pdf").exists()
