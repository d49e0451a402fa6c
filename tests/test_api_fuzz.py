"""Property-based run of the API against its own /openapi.json (schemathesis).

Every generated request, valid or not, must get a documented status (never a 5xx) and an answer
that conforms to the documented schema (``{"error": ...}`` for every 4xx). Bounded in time:
a few examples per endpoint, a deadline per example. Needs the shipped model (skips without it,
since requests then answer 503 by design).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import Settings

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
