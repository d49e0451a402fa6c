"""Property-based runs against the API: never a 5xx, always the documented answer.

1. schemathesis against the app's own /openapi.json: every generated request, valid or not, gets a
   documented status and an answer that conforms to the documented schema (``{"error": ...}`` for
   every 4xx).
2. hypothesis near-valid CSV uploads (every layout the loader knows, then damaged) to /predict and
   /v1/analyze: 200 with the contract, or a 4xx ``{"error": ...}``.

Bounded in time: a few examples per endpoint, a deadline per example, derandomised. Needs the
shipped model (skips without it, since requests then answer 503 by design).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import Settings
from ecg_core.config import CLASSES

SETTINGS = Settings.from_env()
pytestmark = pytest.mark.skipif(not SETTINGS.model_path.exists(), reason=f"no trained model at {SETTINGS.model_path}")

APP = create_app(SETTINGS)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module", autouse=True)
def model_loaded():
    """Load the model before the timed examples (it is loaded once, in the background, at start-up)."""
    APP.state.model.start().result(timeout=180)


@schema.parametrize()
@settings(max_examples=12, deadline=timedelta(seconds=15), derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_conforms_to_its_openapi(case):
    case.call_and_validate(checks=CHECKS)


# ------------------------------------------------------------------------------------------------
# Near-valid uploads: schemathesis sends random bytes as files; these are CSVs that almost work
# (every layout the loader knows, then damaged), so the loader, detector and classifier see them.
# ------------------------------------------------------------------------------------------------

def synthetic_ecg(seed: int, seconds: float, fs: float, bpm: float, scale: float) -> np.ndarray:
    """Spiky QRS-like pulses at ``bpm`` with noise and wander (not a physiological model)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    beats = np.cumsum(rng.normal(60 / bpm, 0.03 * 60 / bpm, size=int(seconds * bpm / 60) + 2))
    x = 0.05 * np.sin(2 * np.pi * 0.3 * t) + rng.normal(0, 0.02, t.size)
    for b in beats:
        x += np.exp(-0.5 * ((t - b) / 0.012) ** 2) - 0.2 * np.exp(-0.5 * ((t - b - 0.25) / 0.05) ** 2)
    return x * scale


@st.composite
def near_valid_csv(draw) -> tuple[str, bytes, dict]:
    layout = draw(st.sampled_from(["ecg", "kaggle", "bare", "time", "segments"]))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    fs = draw(st.sampled_from([250.0, 360.0, 500.0]))
    seconds = draw(st.sampled_from([8.0, 12.0, 20.0, 6.0, 3.0])) + draw(st.floats(0, 1))
    scale = 200.0 if layout == "kaggle" else draw(st.sampled_from([1.0, 200.0, 0.001]))
    x = synthetic_ecg(draw(st.integers(0, 2**16)), seconds, fs, draw(st.floats(30, 200)), scale)
    if layout == "segments":
        width = draw(st.sampled_from([360, 360, 359, 361]))
        rows = max(1, x.size // width)
        table = np.resize(x, (rows, width))
        lines = [sep.join(f"sample_{i + 1}" for i in range(width))] + [sep.join(f"{v:.4f}" for v in r) for r in table]
    elif layout == "kaggle":
        lines = ["'sample #','MLII','V1'"] + [f"{i},{int(v + 1024)},{int(-v + 1000)}" for i, v in enumerate(x)]
    elif layout == "time":
        lines = [sep.join(["time", "ECG"])] + [f"{i / fs:.5f}{sep}{v:.5f}" for i, v in enumerate(x)]
    else:
        lines = (["ECG"] if layout == "ecg" else []) + [f"{v:.5f}" for v in x]
    damage = draw(st.sampled_from(["none", "none", "nan", "text", "truncate", "blank", "flat"]))
    k = draw(st.integers(1, max(1, len(lines) - 1)))
    if damage == "nan":
        lines[k] = sep.join(["NaN"] * len(lines[k].split(sep)))
    elif damage == "text":
        lines[k] = "oops"
    elif damage == "truncate":
        lines = lines[:k]
    elif damage == "blank":
        lines.insert(k, "")
    elif damage == "flat":
        lines = lines[:1] + ["1.0"] * (len(lines) - 1)
    options = {}
    if draw(st.booleans()):
        options["sampling_rate"] = str(fs)
    if draw(st.booleans()):
        options["threshold"] = str(draw(st.floats(0.05, 0.9)))
    return f"upload.{'tsv' if sep == chr(9) else 'csv'}", ("\r\n".join(lines)).encode(), options


@pytest.fixture(scope="module")
def client():
    with TestClient(APP) as c:
        yield c


@given(upload=near_valid_csv(), endpoint=st.sampled_from(["/predict", "/v1/analyze"]))
@settings(max_examples=30, deadline=timedelta(seconds=15), derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
def test_near_valid_uploads_never_fail_the_server(client, upload, endpoint):
    name, data, options = upload
    r = client.post(endpoint, files={"file": (name, data)}, data=options)
    assert r.status_code in (200, 400, 415, 422), (r.status_code, r.text[:300])
    body = r.json()
    if r.status_code == 200:
        if endpoint == "/predict":
            assert list(body)[:4] == ["output", "ecg_plot", "label", "probability"] and body["label"] in CLASSES
        else:
            assert len(body["beats"]) == body["summary"]["beats"]
    else:
        assert list(body) == ["error"] and "Traceback" not in body["error"]
