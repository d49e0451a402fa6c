"""The FastAPI application: ``/predict`` (the original contract), ``/v1/analyze``, ``/v1/model``, ``/health``.

Run: ``uvicorn api.app:app --host 127.0.0.1 --port 8000`` (``make api``); OpenAPI at ``/docs``.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Query, Request, Response, UploadFile
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ecg_core.config import CLASSES, MODEL_CARD_JSON
from ecg_core.jsonsafe import json_safe

from .errors import ApiError, BodySizeLimit, install_error_handlers
from .model_state import ModelHolder
from .schemas import AnalyzeOptions, AnalyzeResponse, ErrorResponse, Health, LoadOptions, PredictResponse
from .service import MAX_FILES, SUPPORTED_EXTENSIONS, Worker, safe_name
from .settings import Settings

log = logging.getLogger("api")

DESCRIPTION = f"""
Upload an ECG recording and get every heartbeat found and classified into the AAMI classes
{", ".join(CLASSES)} by the project's Keras model, with calibrated probabilities (decision scores where
its second stage or rules re-decide a beat: see the model card).

* `POST /predict`: the original app's contract: `{{"output", "ecg_plot", "label", "probability"}}`
  for the most confident beat (then extras).
* `POST /v1/analyze`: every beat (the CLI's `beats.csv` columns) and a summary.
* Uploads: multipart form field `file`: a CSV/TSV/TXT recording (`ECG` column, Kaggle MIT-BIH layout,
  other numeric columns), a segmented CSV (`sample_1 ... sample_360`, one beat per row), an EDF file, or a
  WFDB record (send the `.hea` and its `.dat` both in `file`). Accepted extensions:
  {", ".join(SUPPORTED_EXTENSIONS)}.
* Errors answer `{{"error": "<message>"}}`: 400 unreadable file, 413 too large, 415 unsupported type,
  422 bad parameters, 503 model not available.

Not a medical device: for research and education.
"""


def _error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {400: "The file could not be read as an ECG (message says why).",
            413: "The upload is larger than the server's limit.",
            415: "Unsupported request or file type.",
            422: "Bad parameters (message says which).",
            503: "The classifier is not available (still loading or missing)."}
    return {c: {"model": ErrorResponse, "description": text[c]} for c in codes}


UPLOAD_ERRORS = _error_responses(400, 413, 415, 422, 503)

FileField = Annotated[list[UploadFile], File(
    description=f"The ECG file; for a WFDB record send its .hea and .dat both under this name "
                f"(at most {MAX_FILES} files).")]


async def require_multipart(request: Request) -> None:
    """415 unless the body is ``multipart/form-data`` (the uploads are files)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise ApiError(415, f"Send the upload as multipart/form-data with the file in the field 'file' "
                            f"(got Content-Type '{content_type or 'none'}'), e.g. curl -F file=@recording.csv ...")


def _merge(model: type, query, form):
    """Form fields win over query parameters of the same name."""
    try:
        return model.model_validate({**query.model_dump(exclude_none=True), **form.model_dump(exclude_none=True)})
    except ValidationError as exc:  # both parts were valid alone, so this is not expected; still a 422
        raise ApiError(422, f"Invalid parameters: {exc.errors()[0].get('msg', 'invalid value')}.") from None


async def _read(files: list[UploadFile]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for i, f in enumerate(files):
        name = safe_name(f.filename, i)
        if name in out:
            raise ApiError(422, f"Two uploaded files are named '{name}'; give each file its own name.")
        out[name] = await f.read()
    return out


def _file_pickers(schema: dict) -> dict:
    """Upload fields typed as files for Swagger UI: ``format: binary`` beside FastAPI's ``contentMediaType``.

    FastAPI describes an ``UploadFile`` in OpenAPI 3.1 as a string with ``contentMediaType``, which the
    ``/docs`` page's "Try it out" shows as a text box; with ``format: binary`` it offers a file picker (one per
    file of the list). The schema stays valid: both keywords say the string is the file's bytes.
    """
    for component in schema.get("components", {}).get("schemas", {}).values():
        for prop in component.get("properties", {}).values():
            item = prop.get("items", prop) if prop.get("type") == "array" else prop
            if item.get("type") == "string" and "contentMediaType" in item:
                item["format"] = "binary"
    return schema


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app (``settings`` default: from the environment)."""
    settings = settings or Settings.from_env()
    holder = ModelHolder(settings.model_path, lock=settings.predict_lock)
    worker = Worker(settings.max_concurrent)
    card_path = settings.model_path.parent / MODEL_CARD_JSON.name

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        holder.start()  # in the background: /health answers at once, ready=false until loaded
        yield

    # FastAPIOffline: /docs and /redoc from files installed with it, not a CDN (works without internet)
    app = FastAPIOffline(
        title="ECG arrhythmia workbench API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
        form_limits={"max_files": MAX_FILES, "max_fields": 64, "max_part_size": 8 * 1024 * 1024},
    )
    app.state.settings = settings
    app.state.model = holder
    openapi = app.openapi
    app.openapi = lambda: app.openapi_schema or _file_pickers(openapi())
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, limit=settings.max_upload_bytes)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["*"])

    @app.post("/predict", response_model=PredictResponse, responses=UPLOAD_ERRORS, tags=["classify"],
              dependencies=[Depends(require_multipart)],
              summary="Classify the beats of an upload; answer for the most confident beat (original contract)")
    async def predict(file: FileField, form: Annotated[LoadOptions, Form()],
                      query: Annotated[LoadOptions, Query()]) -> Response:
        """A segmented CSV (rows of 360 samples) is classified row by row (morphology only); a raw
        recording is first searched for beats. The answer starts with the original app's four keys:
        `output` (probabilities N, SVEB, VEB, F, Q of the most confident beat), `ecg_plot` (base64 PNG
        of that beat), `label`, `probability`."""
        options = _merge(LoadOptions, query, form)
        job = await run_in_threadpool(worker.prepare, await _read(file), options)
        classifier = await holder.get(settings.model_wait_s)
        return Response(await run_in_threadpool(worker.predict, job, classifier), media_type="application/json")

    @app.post("/v1/analyze", response_model=AnalyzeResponse, responses=UPLOAD_ERRORS, tags=["classify"],
              dependencies=[Depends(require_multipart)], summary="Find and classify every beat of a recording")
    async def analyze(file: FileField, form: Annotated[AnalyzeOptions, Form()],
                      query: Annotated[AnalyzeOptions, Query()]) -> Response:
        """Options may be form fields or query parameters (form fields win). Give `peaks` to classify the
        beats at those R-peak positions instead of detecting them; otherwise the detector settings tune
        the R-peak detection."""
        options = _merge(AnalyzeOptions, query, form)
        job = await run_in_threadpool(worker.prepare, await _read(file), options)
        classifier = await holder.get(settings.model_wait_s)
        return Response(await run_in_threadpool(worker.analyze, job, classifier), media_type="application/json")

    @app.get("/v1/model", tags=["model"], responses=_error_responses(503),
             summary="The model card: data, protocol, cross-validated figures, calibration, limits")
    def model_card() -> dict[str, Any]:
        from ecg_core.model import read_card

        try:
            card = read_card(card_path)
        except (OSError, ValueError) as exc:
            log.error("model card %s unreadable: %s", card_path, exc)
            card = {}
        card = json_safe(card)  # undefined figures (e.g. a class never predicted) become null
        if not card:
            raise ApiError(503, "The model card is not available on this server (models/model_card.json is "
                                "missing or unreadable).")
        return card

    @app.get("/health", response_model=Health, tags=["service"], summary="Liveness and readiness")
    def health() -> dict:
        """Always 200 while the server runs; `ready` turns true once the model is loaded."""
        ready, version, detail = holder.status
        return {"status": "ok", "ready": ready, "model_version": version, "detail": detail}

    return app


app = create_app()
