"""REST API of the ECG arrhythmia workbench (FastAPI).

Serve it with ``uvicorn api.app:app --host 127.0.0.1 --port 8000``; the OpenAPI description is
at ``/docs`` and ``/openapi.json``. Settings come from ``ECG_API_*`` environment variables
(:mod:`api.settings`).
"""
