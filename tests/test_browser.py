"""Real-browser test: Playwright drives Debian's Chromium (headless) against ``streamlit run``.

Opens the app, uploads the Kaggle-layout example CSV through the file input, waits for the
chart, checks the beat count and the classes shown, clicks a beat, moves a detector slider, and
saves screenshots in ``test-artifacts/browser`` (or ``$ARTIFACT_DIR``). Prints the measured times
(upload -> results, slider -> redraw). With the shared MIT-BIH data present, it also times a full
30-min record.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from screenshots import (
    CHROMIUM,
    api_server,
    browser_idle,
    choose,
    chromium_page,
    full_screenshot,
    streamlit_server,
    wait_idle,
)

from ecg_core import config
from ecg_core import io as ecg_io

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed; .ci/run installs it",
                allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("ARTIFACT_DIR", ROOT / "test-artifacts")) / "browser"
SHARED_208 = ROOT.parent / "shared" / "data" / "mitdb" / "208.hea"
TABLE_ROW_PX = 35  # st.dataframe's header and row height


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server() as url:
        yield url


@pytest.fixture()
def page():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_page(width=1400, height=1000) as p:
        yield p


def metric(page, label: str, *, timeout: float = 60.0) -> str:
    """The value of the metric called ``label`` (waits for it to appear)."""
    handle = page.wait_for_function(
        """(label) => { for (const m of document.querySelectorAll("[data-testid='stMetric']")) {
             const l = m.querySelector("[data-testid='stMetricLabel']")?.innerText.trim();
             if (l === label) return m.querySelector("[data-testid='stMetricValue']")?.innerText.trim(); }
           return null; }""", arg=label, timeout=timeout * 1000)
    return handle.json_value()


def chart_traces(page, key: str) -> list[str]:
    return page.evaluate(f"() => document.querySelector('.st-key-{key} .js-plotly-plot').data.map(t => t.name)")


def watch_runs(page) -> None:
    """Record the app's script-state changes in ``window.__runs`` and the last change of the page in
    ``window.__lastChange`` (wall-clock seconds). A MutationObserver callback runs after the task that
    changed the page, so it comes after a chart's synchronous drawing too."""
    page.evaluate("""() => { window.__runs = []; window.__lastChange = Date.now() / 1000;
        const app = document.querySelector("[data-testid='stApp']");
        new MutationObserver(() => window.__runs.push([Date.now() / 1000, app.getAttribute('data-test-script-state')]))
          .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
        new MutationObserver(() => { window.__lastChange = Date.now() / 1000; })
          .observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true}); }""")


def settle(page, *, timeout: float) -> float:
    """Wait for the app's run(s) to end and the page to stay unchanged for 0.3 s; returns the time the page
    last changed (the results were drawn then; the quiet wait itself is not counted)."""
    page.wait_for_function("() => window.__runs.some(r => r[1] === 'notRunning')", timeout=timeout * 1000)
    wait_idle(page, timeout=timeout, settle=0.3)
    browser_idle(page)
    return page.evaluate("() => window.__lastChange")


def upload_and_wait(page, files: list[Path], *, timeout: float = 120.0) -> dict:
    """Upload through the recording file input and wait until the new results are drawn.

    Returns seconds from the moment the upload had finished (the app starts its run) until
    ``visible`` (the new summary is on screen: beats found and classified) and ``drawn`` (every
    chart drawn, the browser idle), and ``total`` (from handing the files to the browser until drawn).
    """
    browser_idle(page)
    watch_runs(page)
    t0 = time.time()
    page.locator(".st-key-analyse_upload input[type=file]").set_input_files([str(f) for f in files])
    visible = page.wait_for_function(
        "() => document.body.innerText.includes('uploaded file') && "
        "document.querySelector(\"[data-testid='stMetric']\") && Date.now() / 1000",
        timeout=timeout * 1000, polling="raf").json_value()
    done = settle(page, timeout=timeout)
    page.wait_for_selector(".st-key-trace_detail .js-plotly-plot")
    started = min(t for t, state in page.evaluate("() => window.__runs") if state == "running")
    return {"visible": visible - started, "drawn": done - started, "total": done - t0}


def report(what: str, t: dict) -> None:
    print(f"\n{what}: upload finished -> summary visible {t['visible']:.2f} s, all charts drawn {t['drawn']:.2f} s "
          f"(from file chosen: {t['total']:.2f} s)")


def click_beat(page, key: str, beat_index_in_trace: int = 3) -> int:
    """Click one R-peak marker of a chart; returns the beat number it carries."""
    target = page.evaluate(
        """([key, i]) => { const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
             const k = gd.data.findIndex(t => t.mode === 'markers' && t.customdata && t.customdata.length > i);
             const fd = gd._fullData[k], pt = {x: fd.x[i], y: fd.y[i]}, L = gd._fullLayout;
             const box = gd.getBoundingClientRect();
             return {beat: Number(gd.data[k].customdata[i][0]),
                     x: box.left + L._size.l + L.xaxis.l2p(pt.x), y: box.top + L._size.t + L.yaxis.l2p(pt.y)}; }""",
        [key, beat_index_in_trace])
    page.mouse.move(target["x"], target["y"])
    page.wait_for_timeout(300)
    page.mouse.click(target["x"], target["y"])
    return target["beat"]


def test_upload_kaggle_csv_and_explore(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    assert "bundled example" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "01_example.png"))

    report("Kaggle CSV (60 s of ECG)", upload_and_wait(page, [config.EXAMPLES_DIR / "208_excerpt.csv"]))
    reference = int((ecg_io.load_annotations(config.EXAMPLES_DIR / "208_excerpt_annotations.txt").sample
                     < 60 * 360).sum())
    beats = int(metric(page, "Beats"))
    assert abs(beats - reference) <= 4, (beats, reference)
    names = chart_traces(page, "trace_overview")
    if config.MODEL_PATH.exists():
        shown = {n for n in names if n in config.CLASSES}
        assert {"N", "VEB"} <= shown, names
        labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
        assert {"N", "VEB"} <= {m.split(" ·")[0] for m in labels}
    else:
        assert "R-peaks" in names
    full_screenshot(page, ARTIFACTS / "02_uploaded.png")
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.locator(".st-key-trace_detail").scroll_into_view_if_needed()
    wait_idle(page)
    beat = click_beat(page, "trace_detail")
    page.wait_for_function(f"() => document.body.innerText.includes('Beat #{beat}')", timeout=30_000)
    wait_idle(page)
    page.locator(".st-key-beat_view").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "03_clicked_beat.png"))
    assert re.search(rf"Beat #{beat}\b", page.inner_text("body"))

    # select a row of the beat table (in the tabs fragment): the whole page follows
    row = 5 if beat != 5 else 6
    grid = page.locator(".st-key-beat_table")
    grid.scroll_into_view_if_needed()
    wait_idle(page)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + TABLE_ROW_PX * (row + 1.5))  # the row's selection box
    page.wait_for_function(f"() => document.body.innerText.includes('Beat #{row}')", timeout=30_000)


def test_mixed_upload_is_refused_and_a_foreign_reference_is_warned_about(app_url, page):
    """Upload a WFDB pair, then add an unrelated CSV to the same box: the library's message naming the file to
    remove, no analysis of either, the status not stuck; remove it and upload another record's annotations: the
    page warns that they do not fit and scores nothing."""
    page.goto(app_url)
    wait_idle(page)
    page.get_by_text("Recording, reference annotations and settings").click()
    pair = [config.EXAMPLES_DIR / "208_excerpt.hea", config.EXAMPLES_DIR / "208_excerpt.dat"]
    upload_and_wait(page, pair)
    assert "208_excerpt" in page.inner_text("body") and int(metric(page, "Beats")) > 300
    box = page.locator(".st-key-analyse_upload input[type=file]")
    box.set_input_files([str(ROOT / "tests" / "data" / "101.csv")])  # the box adds it to the pair
    page.wait_for_function("() => document.body.innerText.includes('more than one recording')", timeout=60_000)
    wait_idle(page)
    body = page.inner_text("body")
    assert "remove 101.csv" in body and "Nothing is analysed until the upload box holds one recording" in body
    assert page.locator("[data-testid='stMetric']").count() == 0  # neither the pair nor the CSV is analysed
    assert page.locator(".js-plotly-plot").count() == 0
    assert "Reading " not in body and "Still showing" not in body
    page.screenshot(path=str(ARTIFACTS / "06_mixed_upload_refused.png"))

    # remove the CSV (its × in the box): the pair is analysed again
    page.locator(".st-key-analyse_upload [data-testid='stFileChip']").filter(has_text="101.csv") \
        .locator("[data-testid='stFileChipDeleteBtn'] button, button[data-testid='stFileChipDeleteBtn']").first.click()
    page.wait_for_function("() => document.querySelector(\"[data-testid='stMetric']\")", timeout=60_000)
    wait_idle(page)
    assert "more than one recording" not in page.inner_text("body")

    page.locator(".st-key-analyse_reference input[type=file]").set_input_files(
        [str(ROOT / "tests" / "data" / "101annotations.txt")])
    page.wait_for_function("() => document.body.innerText.includes('do not fit this recording')", timeout=60_000)
    wait_idle(page)
    body = page.inner_text("body")
    assert "named 101, the recording 208_excerpt" in body and "Same class as the reference" not in body
    page.screenshot(path=str(ARTIFACTS / "07_foreign_reference.png"))


def test_event_row_jumps_to_a_strip_centred_on_the_event(app_url, page):
    """The bundled example's event list: select a row, and the detail view shows that event at its centre."""
    if not config.MODEL_PATH.exists():
        pytest.skip("events need the classifier's labels")
    page.goto(app_url)
    wait_idle(page)
    grid = page.locator(".st-key-events_table")
    grid.scroll_into_view_if_needed()
    wait_idle(page)
    row = 2
    page.wait_for_timeout(1000)  # the grid's canvas lays out after the scroll
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + TABLE_ROW_PX * (row + 1.5))  # the row's selection box
    # a rerun on a loaded 2-core machine (the whole suite at once) may take long: wait generously
    page.wait_for_function(f"() => document.body.innerText.includes('Showing event {row + 1} of')", timeout=90_000)
    wait_idle(page)
    shown = re.search(r"Showing event \d+ of \d+: ([^,]+), .*?, at (\d+):(\d+\.\d)", page.inner_text("body"))
    start = int(shown.group(2)) * 60 + float(shown.group(3))
    title = page.evaluate("() => document.querySelector('.st-key-trace_detail .js-plotly-plot').layout.title.text")
    a, b = map(float, re.search(r"([\d.]+)–([\d.]+) s", title).groups())
    assert a <= start <= b, (title, shown.group(0))
    page.locator(".st-key-trace_detail").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "08_event_jump.png"))


def test_tune_slider_redraw(app_url, page):
    page.goto(f"{app_url}/tune")
    wait_idle(page)
    before = int(metric(page, "Beats found"))
    thumb = page.locator(".st-key-tune_threshold input[type=range]")
    thumb.focus()
    times = []
    for key in ("End", "ArrowLeft", "ArrowLeft", "Home"):
        browser_idle(page)
        watch_runs(page)
        t0 = time.time()
        thumb.press(key)
        times.append(settle(page, timeout=60) - t0)
        if key == "ArrowLeft":
            assert int(metric(page, "Beats found")) < before  # threshold near its maximum: fewer beats
    page.screenshot(path=str(ARTIFACTS / "04_tune.png"))
    print(f"\nslider -> redraw drawn (tune page, 5-min example): {', '.join(f'{t:.2f}' for t in times)} s")


@pytest.mark.skipif(not SHARED_208.exists(), reason="needs the shared MIT-BIH data (../shared/data/mitdb)")
def test_thirty_minute_record_timing(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    report("MIT-BIH 208 (30 min, WFDB pair)", upload_and_wait(page, [SHARED_208, SHARED_208.with_suffix(".dat")]))
    assert int(metric(page, "Beats")) > 2500
    full_screenshot(page, ARTIFACTS / "05_thirty_minutes.png")
    page.set_viewport_size({"width": 1400, "height": 1000})

    # the class and rhythm charts are drawn when their tab is opened
    browser_idle(page)
    watch_runs(page)
    t0 = time.time()
    page.get_by_role("tab", name="Classes and rhythm").click()
    page.wait_for_selector(".st-key-tachogram .js-plotly-plot", timeout=60_000)
    opened = settle(page, timeout=60) - t0
    print(f"30-min record: 'Classes and rhythm' tab opened -> charts drawn {opened:.2f} s")
    assert "VEB" in chart_traces(page, "tachogram")


def test_deep_link_as_first_request_keeps_the_app_navigation(page):
    """A fresh server whose first request is /tune must still run streamlit_app.py's st.navigation."""
    with streamlit_server() as url:
        page.goto(f"{url}/tune")
        wait_idle(page)
        nav = page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()
        assert [n.split("\n")[-1] for n in nav] == ["Analyse a recording", "Tune detection", "Classify segments",
                                                    "Model"]
        assert "Tune detection" in page.inner_text("h1")


def test_api_docs_render_without_internet(page):
    """Swagger UI at /docs of a real API server renders with every request outside it refused."""
    with api_server() as url:
        outside = []

        def only_local(route):
            if route.request.url.startswith(url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.goto(f"{url}/docs")
        title = page.wait_for_selector(".swagger-ui .info .title", timeout=30_000).inner_text()
        assert "ECG arrhythmia workbench API" in title
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert {"/predict", "/v1/analyze", "/health"} <= {p.strip() for p in paths}
        assert outside == []
        page.screenshot(path=str(ARTIFACTS / "api_docs.png"))
        # "Try it out" on /v1/analyze offers a file picker for `file`, not a text box
        op = page.locator(".opblock").filter(has=page.locator(".opblock-summary-path", has_text="/v1/analyze")).first
        op.locator(".opblock-summary").click()
        op.get_by_role("button", name="Try it out").click()
        picker = op.locator("tr[data-property-name='file'] input[type='file']")
        picker.first.wait_for(timeout=30_000)
        assert picker.count() >= 1
        picker.first.set_input_files(str(config.EXAMPLES_DIR / "208_excerpt.csv"))
        op.get_by_role("button", name="Execute").click()
        cell = op.locator(".live-responses-table tr.response .response-col_status").first
        cell.wait_for(timeout=60_000)
        status = cell.inner_text().strip()
        assert status in ("200", "503"), status  # 503 until the model has loaded
        op.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "api_docs_try_it_out.png"))


def detail_span(page) -> tuple[float, float]:
    title = page.evaluate("() => document.querySelector('.st-key-trace_detail .js-plotly-plot').layout.title.text")
    return tuple(map(float, re.search(r"([\d.]+)–([\d.]+) s", title).groups()))


def test_event_list_of_a_record_with_veb_runs_and_pauses(app_url, page):
    """The bundled excerpt of MIT-BIH 207 (runs of VEB, pauses): its event list counts both, a VT row jumps the
    detail strip (ECG paper, beat letters) to that run, and a span dragged on the overview moves the strip there."""
    if not config.MODEL_PATH.exists():
        pytest.skip("events need the classifier's labels")
    page.goto(app_url)
    wait_idle(page)
    page.get_by_text("Recording, reference annotations and settings").click()
    choose(page, "analyse_example", "207: VEB runs and pauses")
    page.wait_for_function("() => document.body.innerText.includes('record 207')", timeout=60_000)
    wait_idle(page)
    body = page.inner_text("body")
    assert re.search(r"\d+ VT", body) and re.search(r"\d+ pause", body), body[:2000]
    assert detail_span(page)[0] == 0.0  # the detail view opens at 0 s
    grid = page.locator(".st-key-events_table")
    grid.scroll_into_view_if_needed()
    wait_idle(page)
    row = 1  # the second event: a run of VEB
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + TABLE_ROW_PX * (row + 1.5))
    page.wait_for_function(f"() => document.body.innerText.includes('Showing event {row + 1} of')", timeout=30_000)
    wait_idle(page)
    shown = re.search(r"Showing event \d+ of \d+: ([^,]+), .*?, at (\d+):(\d+\.\d)", page.inner_text("body"))
    assert shown.group(1) == "VT"
    at = int(shown.group(2)) * 60 + float(shown.group(3))
    a, b = detail_span(page)
    assert a <= at <= b
    letters = page.evaluate("() => document.querySelector('.st-key-trace_detail .js-plotly-plot').data"
                            ".find(t => t.mode === 'text').text")
    assert letters.count("V") >= 3
    page.locator(".st-key-trace_detail").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "09_vt_event.png"))

    # drag across the overview from 200 s to 215 s: the detail strip shows that span
    overview = page.locator(".st-key-trace_overview")
    overview.scroll_into_view_if_needed()
    wait_idle(page)
    ends = page.evaluate("""() => { const gd = document.querySelector('.st-key-trace_overview .js-plotly-plot');
        const L = gd._fullLayout, r = gd.getBoundingClientRect();
        const px = t => r.left + L._size.l + L.xaxis.l2p(t);
        return {x0: px(200), x1: px(215), y: r.top + L._size.t + L._size.h * 0.6}; }""")
    page.mouse.move(ends["x0"], ends["y"])
    page.mouse.down()
    page.mouse.move(ends["x1"], ends["y"], steps=8)
    page.mouse.up()
    page.wait_for_function("(before) => document.querySelector('.st-key-trace_detail .js-plotly-plot')?.layout"
                           ".title.text !== before", arg=f"Full detail: {a:.1f}–{b:.1f} s", timeout=30_000)
    wait_idle(page)
    a, b = detail_span(page)
    assert a <= 200.5 and b >= 214.5 and b - a <= 20, (a, b)


def test_relabel_a_beat_and_download_annotations_and_report(app_url, page, tmp_path):
    """Relabel the beat shown, download the .atr (read back by wfdb.rdann with the change) and the peaks CSV, and
    the PDF report (non-empty)."""
    if not config.MODEL_PATH.exists():
        pytest.skip("needs the classifier's labels")
    import wfdb

    page.goto(app_url)
    wait_idle(page)
    heading = page.locator("h3").filter(has_text="Beat #").first.inner_text()
    beat = int(re.search(r"Beat #(\d+)", heading).group(1))
    page.locator(".st-key-beat_editor").scroll_into_view_if_needed()
    current = re.search(r"Class\s+(\w+):", page.inner_text("body")).group(1)
    new = "Q" if current != "Q" else "N"
    choose(page, "edit_label", f"{new} ({'paced/unknown' if new == 'Q' else 'normal'})")
    wait_idle(page)
    page.locator(".st-key-edit_relabel button:visible").first.click()
    page.wait_for_function("() => document.body.innerText.includes('1 edit of the beats')", timeout=30_000)
    wait_idle(page)
    assert f"relabelled {new}" in page.inner_text("body")

    def download(key: str) -> bytes:
        button = page.locator(f".st-key-{key} button:visible").first
        button.scroll_into_view_if_needed()
        with page.expect_download(timeout=60_000) as info:
            button.click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        return path

    atr = download("download_wfdb")
    assert atr.name == "208_excerpt.atr"
    ann = wfdb.rdann(str(atr.with_suffix("")), "atr")
    assert ann.symbol[beat] == ecg_io.WFDB_SYMBOL[new]
    peaks = download("download_peaks")
    lines = peaks.read_text().splitlines()
    assert lines[0] == "sample,label" and lines[beat + 1].endswith(f",{new}")
    pdf = download("download_report")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000 and b"/Type /Page" in data
    page.screenshot(path=str(ARTIFACTS / "10_edited_downloads.png"))
