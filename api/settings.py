"""API settings, read once from ``ECG_API_*`` environment variables.

==============================  ===========================================================
``ECG_API_MAX_UPLOAD_BYTES``    largest request body accepted, in bytes (``K``/``M``/``G``
                                suffixes allowed); default ``config.MAX_UPLOAD_BYTES``
``ECG_API_CORS_ORIGINS``        comma-separated origins allowed by CORS (``*`` for any);
                                empty (the default) switches CORS off
``ECG_API_MODEL_PATH``          ``.keras`` classifier to serve (its ``model_card.json``
                                beside it); default ``config.MODEL_PATH``
``ECG_API_MAX_CONCURRENT``      analyses run at once (others queue); default 4
``ECG_API_MODEL_WAIT_S``        how long a request waits for the model while it loads; 120
``ECG_API_PREDICT_LOCK``        ``1`` (default): one network evaluation at a time; ``0``: none
==============================  ===========================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ecg_core import config

_SUFFIXES = {"K": 1024, "M": 1024**2, "G": 1024**3}


def _parse_bytes(name: str, text: str) -> int:
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    factor = _SUFFIXES.get(t[-1:], 1)
    try:
        value = int(float(t[:-1] if factor > 1 else t) * factor)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a size in bytes (e.g. 52428800 or 50M).") from None
    if value <= 0:
        raise ValueError(f"{name}={text!r} must be a positive size.")
    return value


def _parse_positive(name: str, text: str, kind=int):
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number.") from None
    if value <= 0:
        raise ValueError(f"{name}={text!r} must be positive.")
    return value


@dataclass(frozen=True)
class Settings:
    """Run-time settings of the API (see the module docstring for the environment variables)."""

    max_upload_bytes: int = config.MAX_UPLOAD_BYTES
    cors_origins: tuple[str, ...] = ()
    model_path: Path = config.MODEL_PATH
    max_concurrent: int = 4
    model_wait_s: float = 120.0
    predict_lock: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``environ`` (default ``os.environ``); raises ``ValueError`` on a bad value."""
        env = os.environ if environ is None else environ
        kwargs = {}
        if v := env.get("ECG_API_MAX_UPLOAD_BYTES", "").strip():
            kwargs["max_upload_bytes"] = _parse_bytes("ECG_API_MAX_UPLOAD_BYTES", v)
        if v := env.get("ECG_API_CORS_ORIGINS", "").strip():
            kwargs["cors_origins"] = tuple(o.strip() for o in v.split(",") if o.strip())
        if v := env.get("ECG_API_MODEL_PATH", "").strip():
            kwargs["model_path"] = Path(v)
        if v := env.get("ECG_API_MAX_CONCURRENT", "").strip():
            kwargs["max_concurrent"] = _parse_positive("ECG_API_MAX_CONCURRENT", v)
        if v := env.get("ECG_API_MODEL_WAIT_S", "").strip():
            kwargs["model_wait_s"] = _parse_positive("ECG_API_MODEL_WAIT_S", v, float)
        if v := env.get("ECG_API_PREDICT_LOCK", "").strip().lower():
            if v not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(f"ECG_API_PREDICT_LOCK={v!r} must be 1 or 0.")
            kwargs["predict_lock"] = v in ("1", "true", "yes", "on")
        return cls(**kwargs)
