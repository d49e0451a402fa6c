"""The REST API through FastAPI's test client: every endpoint, every error status, concurrency.

Tests that classify need the shipped model (``models/beat_classifier.keras``, or the file named by
``ECG_API_MODEL_PATH``) and skip without it; the error-handling tests run without it.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api import service
from api.app import create_app
from api.errors import INTERNAL_ERROR
from api.settings import Settings
from ecg_core.config import CLASSES, EXAMPLES_DIR, MODEL_CARD_JSON

SETTINGS = Settings.from_env()
HAS_MODEL = SETTINGS.model_path.exists()
needs_model = pytest.mark.skipif(not HAS_MODEL, reason=f"no trained model at {SETTINGS.model_path}")

SEGMENTS = EXAMPLES_DIR / "segments_208.csv"
KAGGLE = EXAMPLES_DIR / "208_excerpt.csv"
HEA, DAT, ATR = (EXAMPLES_DIR / f"208_excerpt.{e}" for e in ("hea", "dat", "atr"))
BEAT_COLUMNS = ["sample", "label", "probability", *(f"p_{c}" for c in CLASSES)]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def upload(*paths: Path) -> list:
    return [("file", (p.name, p.read_bytes())) for p in paths]


def wait_ready(client: TestClient, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        health = client.get("/health").json()
        if health["ready"] or "could not be loaded" in (health["detail"] or "") or time.monotonic() > deadline:
            return health
        time.sleep(0.2)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(SETTINGS)) as c:
        yield c


@pytest.fixture(scope="module")
def ready_client(client):
    if not HAS_MODEL:
        pytest.skip(f"no trained model at {SETTINGS.model_path}")
    health = wait_ready(client)
    assert health["ready"], health
    return client


@pytest.fixture(scope="module")
def classifier():
    if not HAS_MODEL:
        pytest.skip("no trained model")
    from ecg_core.model import load_classifier

    return load_classifier(SETTINGS.model_path)


def assert_error(response, status: int, *words: str) -> str:
    """The answer is exactly {"error": "<message>"} with this status, mentioning ``words``, no traceback."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"]
    assert "Traceback" not in body["error"] and 'File "' not in body["error"]
    for w in words:
        assert w.lower() in body["error"].lower(), body["error"]
    return body["error"]


# ------------------------------------------------------------------------------------ health, docs, model
def test_health_is_live_at_once_and_reports_readiness():
    app = create_app(Settings(model_path=Path("/nonexistent/model.keras")))
    with TestClient(app) as c:
        r = c.get("/health")
        assert r.status_code == 200
        assert r.json()["status"] == "ok"
        health = wait_ready(c, timeout=10)
        assert health["ready"] is False
        assert "could not be loaded" in health["detail"] and "missing" in health["detail"]
        # requests that need the missing model answer 503 with the reason, not 500
        r = c.post("/predict", files=upload(SEGMENTS))
        assert_error(r, 503, "not available")


@needs_model
def test_health_ready_once_model_loaded(ready_client):
    body = ready_client.get("/health").json()
    assert body == {"status": "ok", "ready": True, "model_version": body["model_version"], "detail": None}
    assert body["model_version"]


def test_openapi_describes_endpoints_with_examples(client):
    spec = client.get("/openapi.json").json()
    for path, method in (("/predict", "post"), ("/v1/analyze", "post"), ("/v1/model", "get"), ("/health", "get")):
        assert method in spec["paths"][path], path
    for path in ("/predict", "/v1/analyze"):
        responses = spec["paths"][path]["post"]["responses"]
        assert {"200", "400", "413", "415", "422", "503"} <= set(responses)
        assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's default 422 body is replaced by {"error": ...}
    assert list(schemas["PredictResponse"]["properties"])[:4] == ["output", "ecg_plot", "label", "probability"]
    assert schemas["PredictResponse"]["properties"]["label"]["examples"] == ["N"]
    query = {p["name"] for p in spec["paths"]["/v1/analyze"]["post"]["parameters"]}
    assert {"sampling_rate", "lead", "peaks", "threshold", "refractory"} <= query
    assert client.get("/docs").status_code == 200 and "swagger" in client.get("/docs").text.lower()


def test_interactive_docs_need_no_internet(client):
    import re

    for page in ("/docs", "/redoc"):
        r = client.get(page)
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert any(a.endswith(".js") for a in assets), assets
        for asset in assets:  # every script, style and icon comes from this server
            assert asset.startswith("/"), asset
            assert client.get(asset).status_code == 200, asset
    assert "/docs" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.skipif(not (SETTINGS.model_path.parent / MODEL_CARD_JSON.name).exists(), reason="no model card")
def test_model_card(client):
    r = client.get("/v1/model")
    assert r.status_code == 200
    assert r.json() == json.loads((SETTINGS.model_path.parent / MODEL_CARD_JSON.name).read_text())


def test_model_card_with_undefined_figures_is_valid_json(tmp_path):
    (tmp_path / MODEL_CARD_JSON.name).write_text('{"version": "x", "cv": {"F": {"ppv": NaN, "f1": Infinity}}}')
    with TestClient(create_app(Settings(model_path=tmp_path / "beat_classifier.keras"))) as c:
        r = c.get("/v1/model")
    assert r.status_code == 200 and r.json() == {"version": "x", "cv": {"F": {"ppv": None, "f1": None}}}


def test_model_card_missing_is_503():
    with TestClient(create_app(Settings(model_path=Path("/nonexistent/model.keras")))) as c:
        assert_error(c.get("/v1/model"), 503, "model card")


# ------------------------------------------------------------------------------------ /predict contract
def check_predict_contract(body: dict) -> int:
    assert list(body)[:4] == ["output", "ecg_plot", "label", "probability"]
    out = body["output"]
    assert isinstance(out, list) and len(out) == len(CLASSES) and all(isinstance(v, float) for v in out)
    assert abs(sum(out) - 1) < 1e-6 and min(out) >= 0
    assert isinstance(body["label"], str) and body["label"] == CLASSES[int(np.argmax(out))]
    assert isinstance(body["probability"], float) and body["probability"] == max(out)
    png = base64.b64decode(body["ecg_plot"], validate=True)
    assert png.startswith(PNG_MAGIC) and len(png) > 5000
    assert sum(body["counts"].values()) == body["beats"]
    return int(np.argmax(out))


@needs_model
def test_predict_segmented_csv_matches_library(ready_client, classifier):
    from ecg_core.io import load
    from ecg_core.pipeline import classify_segments

    r = ready_client.post("/predict", files=upload(SEGMENTS))
    assert r.status_code == 200, r.text
    body = r.json()
    check_predict_contract(body)
    expected = classify_segments(load(SEGMENTS).windows, classifier=classifier)
    i = int(np.argmax(expected.confidence))
    assert body["beats"] == len(expected) == 40
    assert body["position"] == i and body["path"] == "morphology-only"
    np.testing.assert_allclose(body["output"], expected.probabilities[i], rtol=1e-6)
    assert body["model_version"] == classifier.version


@needs_model
def test_predict_raw_kaggle_csv_matches_library(ready_client, classifier):
    from ecg_core.io import load
    from ecg_core.pipeline import analyze

    r = ready_client.post("/predict", files=upload(KAGGLE))
    assert r.status_code == 200, r.text
    body = r.json()
    check_predict_contract(body)
    rec = load(KAGGLE)
    expected = analyze(rec.signal, rec.sampling_rate, classifier=classifier)
    i = int(np.argmax(expected.confidence))
    assert body["beats"] == len(expected) > 60  # one minute of record 208
    assert body["position"] == int(expected.samples[i]) and body["path"] == "morphology+rhythm"
    np.testing.assert_allclose(body["output"], expected.probabilities[i], rtol=1e-6)
    assert body["score_kind"] == expected.score_kinds[i]  # says whether `probability` is calibrated


@needs_model
def test_predict_original_client_style_upload(ready_client):
    """The original app's clients post one CSV with requests' default content type."""
    r = ready_client.post("/predict", files={"file": ("beats.csv", SEGMENTS.read_bytes(), "text/csv")})
    assert r.status_code == 200
    check_predict_contract(r.json())


# ------------------------------------------------------------------------------------ /v1/analyze
@needs_model
def test_analyze_wfdb_pair_matches_library(ready_client, classifier):
    from ecg_core.io import load
    from ecg_core.pipeline import analyze

    r = ready_client.post("/v1/analyze", files=upload(HEA, DAT, ATR))  # the .atr beside them is ignored
    assert r.status_code == 200, r.text
    body = r.json()
    rec = load(HEA)
    expected = analyze(rec.signal, rec.sampling_rate, classifier=classifier)
    assert body["kind"] == "recording" and body["name"] == "208_excerpt" and body["lead"] == "MLII"
    assert body["units"] == "mV" and body["sampling_rate"] == 360.0 and body["peaks_given"] is False
    assert [list(b) for b in body["beats"][:1]] == [[*BEAT_COLUMNS, "quality"]]
    assert [b["sample"] for b in body["beats"]] == expected.samples.tolist()
    assert [b["label"] for b in body["beats"]] == expected.labels.tolist()
    summary = body["summary"]
    assert summary["beats"] == len(expected) == sum(summary["counts"].values())
    assert summary["duration_s"] == 300.0 and 40 < summary["mean_hr"] < 140
    assert summary["counts"] == expected.summary().counts
    assert body["model_version"] == summary["model_version"] == classifier.version
    assert summary["atrial_fibrillation_beats"] == 0  # 208 is in sinus rhythm
    # the event list: the library's, with the CLI's events.csv columns
    events = expected.events()
    assert [e["kind"] for e in body["events"]] == [e.kind for e in events] and events
    assert list(body["events"][0]) == list(expected.events_frame().columns)
    first = body["events"][0]
    assert first["first_sample"] == body["beats"][first["first_beat"]]["sample"]
    assert first["detail"] == events[0].detail and first["duration_s"] == pytest.approx(events[0].duration_s)


@needs_model
def test_analyze_reports_atrial_fibrillation(ready_client, classifier):
    from ecg_core.io import load
    from ecg_core.pipeline import analyze

    hea, dat = (EXAMPLES_DIR / f"201_af_excerpt.{e}" for e in ("hea", "dat"))
    r = ready_client.post("/v1/analyze", files=upload(hea, dat))
    assert r.status_code == 200, r.text
    rec = load(hea)
    expected = analyze(rec.signal, rec.sampling_rate, classifier=classifier)
    flagged = r.json()["summary"]["atrial_fibrillation_beats"]
    assert flagged == int(expected.atrial_fibrillation.sum()) > 60
    assert not np.any(expected.labels[expected.atrial_fibrillation] == "SVEB")


@needs_model
@pytest.mark.parametrize("where", ["form", "query"])
@pytest.mark.parametrize("peaks", ["370, 662 948", "[370, 662, 948]"])
def test_analyze_given_peaks(ready_client, where, peaks):
    options = {"peaks": peaks}
    kwargs = {"data": options} if where == "form" else {"params": options}
    r = ready_client.post("/v1/analyze", files=upload(KAGGLE), **kwargs)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [b["sample"] for b in body["beats"]] == [370, 662, 948]
    assert body["peaks_given"] is True and body["detector"] is None


@needs_model
def test_analyze_detector_settings_change_detection(ready_client):
    default = ready_client.post("/v1/analyze", files=upload(KAGGLE)).json()
    strict = ready_client.post("/v1/analyze", files=upload(KAGGLE), params={"threshold": 0.9},
                               data={"refractory": "0.4"}).json()
    assert default["detector"]["threshold"] == 0.3 or default["detector"]["threshold"] != 0.9
    assert strict["detector"]["threshold"] == 0.9 and strict["detector"]["refractory"] == 0.4
    # a 0.4 s refractory period cannot keep beats closer than 0.4 s
    samples = np.array([b["sample"] for b in strict["beats"]])
    assert np.diff(samples).min() >= 0.4 * 360 - 1


@needs_model
def test_analyze_form_field_wins_over_query(ready_client):
    r = ready_client.post("/v1/analyze", files=upload(KAGGLE), params={"lead": "MLII"}, data={"lead": "V1"})
    assert r.status_code == 200 and r.json()["lead"] == "V1"


@needs_model
def test_analyze_segments(ready_client):
    body = ready_client.post("/v1/analyze", files=upload(SEGMENTS)).json()
    assert body["events"] == []  # segments carry no rhythm
    assert body["kind"] == "segments" and body["sampling_rate"] is None and body["summary"]["duration_s"] is None
    assert [b["segment"] for b in body["beats"]] == list(range(40))
    assert body["summary"]["path"] == "morphology-only" and body["summary"]["atrial_fibrillation_beats"] is None
    # the cardiologists' classes of these 40 beats (20 N, 16 VEB, 4 F)
    reference = pd.read_csv(EXAMPLES_DIR / "segments_208_labels.csv").sort_values("segment")["label"].tolist()
    agreement = np.mean([b["label"] == ref for b, ref in zip(body["beats"], reference, strict=True)])
    assert agreement >= 0.9, agreement


# ------------------------------------------------------------------------------------ errors
GARBAGE = [
    ("notes.csv", b"hello\nworld\n", "header"),
    ("empty.csv", b"", "empty"),
    ("binary.csv", bytes(range(256)) * 40, ""),
    ("short.csv", b"ECG\n1\n2\n3\n", "long"),
    ("rows.csv", b"sample_1,sample_2\n1,2\n", ""),
]


@pytest.mark.parametrize(("name", "data", "word"), GARBAGE, ids=[g[0] for g in GARBAGE])
@pytest.mark.parametrize("endpoint", ["/predict", "/v1/analyze"])
def test_unreadable_content_is_400(client, endpoint, name, data, word):
    assert_error(client.post(endpoint, files={"file": (name, data)}), 400, word)


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=XX"])
def test_malformed_multipart_is_400(client, content_type):
    assert_error(client.post("/predict", content=b"garbage", headers={"content-type": content_type}), 400, "multipart")


def test_wfdb_header_without_dat_is_400(client):
    assert_error(client.post("/v1/analyze", files=upload(HEA)), 400, ".dat")


@pytest.mark.parametrize("endpoint", ["/predict", "/v1/analyze"])
@pytest.mark.parametrize(("paths", "words"), [
    ((HEA, DAT, KAGGLE), ("more than one recording", "remove 208_excerpt.csv")),
    ((HEA, KAGGLE), ("needs its signal file 208_excerpt.dat", "208_excerpt.csv", "another recording")),
    ((HEA, EXAMPLES_DIR / "201_af_excerpt.dat"), ("201_af_excerpt.dat", "another recording")),
    ((KAGGLE, SEGMENTS), ("not one recording", "remove all but one")),
], ids=["pair+csv", "hea+csv", "hea+other-dat", "two-csvs"])
def test_mixed_upload_is_refused_by_the_library_rule(client, endpoint, paths, words):
    """The API refuses a set of files that is not one recording, with the same message as the dashboard."""
    assert_error(client.post(endpoint, files=upload(*paths)), 400, *words)


def test_too_large_is_413_by_content_length_and_while_reading():
    with TestClient(create_app(Settings(max_upload_bytes=50_000))) as c:
        # declared Content-Length over the limit: refused before reading
        assert_error(c.post("/predict", files=upload(KAGGLE)), 413, "limit")
        # no Content-Length (chunked): counted while reading

        def chunks():
            boundary_start = b'--B\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n\r\n'
            yield boundary_start
            for _ in range(100):
                yield b"1,2,3\n" * 200
            yield b"\r\n--B--\r\n"

        r = c.post("/v1/analyze", content=chunks(), headers={"content-type": "multipart/form-data; boundary=B"})
        assert "content-length" not in {k.lower() for k in r.request.headers}
        assert_error(r, 413, "limit")
        # under the limit still works up to the loader
        assert c.post("/v1/analyze", files={"file": ("x.csv", b"ECG\n1\n")}).status_code == 400


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"files": {"file": ("report.pdf", b"%PDF-1.4")}}, ".pdf"),
    ({"files": {"file": ("208_excerpt.atr", b"\x00\x01")}}, "annotation"),
    ({"json": {"file": "1,2,3"}}, "multipart"),
    ({"content": b"1,2,3", "headers": {"content-type": "text/csv"}}, "multipart"),
    ({"data": {"lead": "MLII"}}, "multipart"),
])
@pytest.mark.parametrize("endpoint", ["/predict", "/v1/analyze"])
def test_unsupported_type_is_415(client, endpoint, kwargs, word):
    assert_error(client.post(endpoint, **kwargs), 415, word)


BAD_PARAMETERS = [
    ({}, {"sampling_rate": "fast"}, "sampling_rate"),
    ({}, {"sampling_rate": "5"}, "sampling_rate"),
    ({"sampling_rate": "1e9"}, {}, "sampling_rate"),
    ({}, {"sampling_rate": "nan"}, "finite number"),
    ({"sampling_rate": "inf"}, {}, "finite number"),
    ({}, {"threshold": "2"}, "threshold"),
    ({"refractory": "-1"}, {}, "refractory"),
    ({}, {"lowcut": "14", "highcut": "10"}, "QRS band"),
    ({}, {"lead": "V9"}, "V9"),
    ({}, {"peaks": "1,2,x"}, "peaks"),
    ({"peaks": "[1, 2.5]"}, {}, "peaks"),
    ({}, {"peaks": "[1, 2"}, "JSON"),
    ({}, {"peaks": "-5"}, "peaks"),
    ({}, {"peaks": "10,99999999"}, "beyond the end"),
]


@pytest.mark.parametrize(("params", "data", "word"), BAD_PARAMETERS)
def test_bad_parameters_are_422(client, params, data, word):
    r = client.post("/v1/analyze", files=upload(KAGGLE), params=params, data=data)
    assert_error(r, 422, word)


@pytest.mark.parametrize("endpoint", ["/predict", "/v1/analyze"])
def test_missing_file_is_422(client, endpoint):
    r = client.post(endpoint, files={"other": ("x.csv", b"1")})
    assert_error(r, 422, "'file'")


def test_other_422s(client):
    assert_error(client.post("/v1/analyze", files=upload(SEGMENTS), data={"peaks": "1,2"}), 422, "segmented")
    assert_error(client.post("/v1/analyze", files=[("file", ("a.csv", b"1")), ("file", ("a.csv", b"2"))]),
                 422, "named")
    r = client.post("/v1/analyze", files=[("file", (f"{i}.csv", b"1")) for i in range(service.MAX_FILES + 1)])
    assert r.status_code in (400, 422) and list(r.json()) == ["error"]


def test_predict_with_no_beats_found_is_400():
    """A recording in which no beat is found has no most-confident beat: a clear 400, not an IndexError."""
    from ecg_core.io import load
    from ecg_core.pipeline import PATH_RHYTHM, Analysis

    job = service.Job(load(KAGGLE), None, None)
    empty = Analysis(np.array([], dtype=np.int64), np.zeros((0, len(CLASSES))), PATH_RHYTHM, 360.0, 21600)
    with pytest.raises(service.ApiError) as err:
        service.predict_answer(job, empty)
    assert err.value.status == 400 and "No heartbeats were found" in err.value.message


def test_predict_with_every_beat_unreadable_is_400(ready_client):
    """Beats found only in noise as strong as the QRS: no readable beat to show, a clear 400 (not an IndexError)."""
    from tests.synth import synthetic_ecg
    from tests.test_quality import _muscle_noise

    syn = synthetic_ecg(30, 360, 72, seed=3, noise_mv=0.01)
    x = syn.signal + _muscle_noise(syn.signal.size, 360, 3, 1.0)
    body = pd.DataFrame({"MLII": x}).to_csv(index=False).encode()
    assert_error(ready_client.post("/predict", files={"file": ("noise.csv", body, "text/csv")}), 400,
                 "too noisy to read")


def test_unknown_path_and_method(client):
    assert_error(client.get("/nope"), 404, "/docs")
    assert_error(client.get("/predict"), 405, "method")


def test_unexpected_failure_is_generic_500_without_traceback(monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "load_upload", boom)
    with TestClient(create_app(SETTINGS), raise_server_exceptions=False) as c, caplog.at_level(logging.ERROR):
        r = c.post("/v1/analyze", files=upload(KAGGLE))
    assert r.status_code == 500 and r.json() == {"error": INTERNAL_ERROR}
    assert "secret" not in r.text
    assert any("secret internal detail" in (rec.exc_text or str(rec.exc_info)) for rec in caplog.records)


# ------------------------------------------------------------------------------------ concurrency, CORS
@needs_model
def test_concurrent_requests_get_correct_answers(ready_client):
    jobs = [("/predict", SEGMENTS), ("/v1/analyze", KAGGLE), ("/predict", KAGGLE), ("/v1/analyze", SEGMENTS)]
    expected = [ready_client.post(ep, files=upload(p)).json() for ep, p in jobs]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda k: ready_client.post(jobs[k % 4][0], files=upload(jobs[k % 4][1])),
                                range(12)))
    for k, r in enumerate(results):
        assert r.status_code == 200, r.text
        assert r.json() == expected[k % 4]


@needs_model
def test_inference_does_not_block_the_event_loop(ready_client, monkeypatch):
    """While one request is stuck inside the analysis, /health still answers."""
    started, release, order = threading.Event(), threading.Event(), []
    original = service.run_analysis

    def slow(*args, **kwargs):
        started.set()
        release.wait(30)
        order.append("analysis")
        return original(*args, **kwargs)

    monkeypatch.setattr(service, "run_analysis", slow)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(ready_client.post, "/predict", files=upload(SEGMENTS))
        assert started.wait(30)
        assert ready_client.get("/health").status_code == 200
        order.append("health")
        release.set()
        assert pending.result().status_code == 200
    assert order == ["health", "analysis"]


def test_cors_off_by_default_and_configurable(client):
    origin = {"Origin": "https://example.org"}
    assert "access-control-allow-origin" not in client.get("/health", headers=origin).headers
    with TestClient(create_app(Settings(cors_origins=("https://example.org",)))) as c:
        r = c.get("/health", headers=origin)
        assert r.headers["access-control-allow-origin"] == "https://example.org"
        pre = c.options("/predict", headers={**origin, "Access-Control-Request-Method": "POST"})
        assert pre.status_code == 200


def test_settings_from_env():
    s = Settings.from_env({"ECG_API_MAX_UPLOAD_BYTES": "50M", "ECG_API_CORS_ORIGINS": "https://a.org, https://b.org",
                           "ECG_API_MAX_CONCURRENT": "2"})
    assert s.max_upload_bytes == 50 * 1024**2 and s.cors_origins == ("https://a.org", "https://b.org")
    assert s.max_concurrent == 2 and Settings.from_env({}).cors_origins == ()
    assert Settings.from_env({}).predict_lock is True
    assert Settings.from_env({"ECG_API_PREDICT_LOCK": "0"}).predict_lock is False
    for bad in ({"ECG_API_MAX_UPLOAD_BYTES": "lots"}, {"ECG_API_MAX_UPLOAD_BYTES": "-1"},
                {"ECG_API_MAX_CONCURRENT": "0"}, {"ECG_API_PREDICT_LOCK": "maybe"}):
        with pytest.raises(ValueError):
            Settings.from_env(bad)
