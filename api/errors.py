"""Every error answer of the API has one shape, ``{"error": "<clear message>"}``.

* 400 unreadable content, 413 too large, 415 unsupported type, 422 bad parameters,
  503 model not available; FastAPI's own validation errors are rewritten to the same shape.
* Anything unexpected answers 500 with a generic message (the traceback goes to the log only).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("api")

INTERNAL_ERROR = "Internal error while processing the request; it has been logged. Please try again or report it."


class ApiError(Exception):
    """A client-facing error: HTTP ``status`` and a message saying what was wrong and what to do."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def too_large_message(limit: int) -> str:
    return (f"The upload is larger than this server's limit of {limit / 1024**2:g} MB. "
            "Upload a shorter excerpt of the recording (or ask the operator to raise ECG_API_MAX_UPLOAD_BYTES).")


_FRIENDLY_HTTP = {
    400: "The request body could not be parsed: send the file as multipart/form-data in the form field 'file'.",
    404: "No such endpoint. See /docs for the endpoints of this API.",
    405: "This method is not allowed on this endpoint. See /docs.",
}


def _where(loc) -> str:
    parts = [str(p) for p in loc]
    source = {"query": "query parameter", "body": "form field", "path": "path parameter",
              "header": "header"}.get(parts[0], "parameter") if parts else "parameter"
    name = ".".join(parts[1:]) or "body"
    return f"{source} '{name}'"


def validation_message(exc: RequestValidationError) -> str:
    """One readable sentence per problem of a FastAPI/pydantic validation error."""
    problems = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "missing" and loc[-1:] == ("file",):
            problems.append("The form field 'file' is missing: upload the ECG file as multipart/form-data "
                            "in the field 'file' (e.g. curl -F file=@recording.csv ...).")
        elif err.get("type") == "missing":
            problems.append(f"The {_where(loc)} is required.")
        else:
            msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            problems.append(f"Invalid {_where(loc)}: {msg}.")
    return " ".join(dict.fromkeys(problems)) or "Invalid request parameters."


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the ``{"error": ...}`` shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_response(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return error_response(422, validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code in _FRIENDLY_HTTP and detail in (None, "There was an error parsing the body",
                                                             "Not Found", "Method Not Allowed"):
            detail = _FRIENDLY_HTTP[exc.status_code]
        return error_response(exc.status_code, detail or "Request failed.", headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, INTERNAL_ERROR)


class BodySizeLimit:
    """ASGI middleware: answer 413 for a body over ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused before any byte is read; a body
    without one (chunked) is counted while it is read and refused as soon as it passes the limit.
    """

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        try:
            declared = int(declared) if declared is not None else None
        except ValueError:
            declared = None
        if declared is not None and declared > self.limit:
            response = error_response(413, too_large_message(self.limit), headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # FastAPI re-raises HTTPExceptions raised while it reads the body.
                    raise StarletteHTTPException(413, too_large_message(self.limit))
            return message

        await self.app(scope, limited_receive, send)
