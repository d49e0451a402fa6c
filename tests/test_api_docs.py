"""The OpenAPI description types the upload field ``file`` as files, so /docs "Try it out" offers a file picker."""

from __future__ import annotations

from api.app import create_app


def test_upload_field_is_binary_in_the_openapi_schema():
    spec = create_app().openapi()
    for path in ("/predict", "/v1/analyze"):
        ref = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
        body = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        field = body["properties"]["file"]
        assert field["type"] == "array" and field["items"]["type"] == "string"
        assert field["items"]["format"] == "binary"  # Swagger UI's file picker
        assert "file" in body["required"]
