"""The classifier, loaded once in a background thread when the server starts.

``/health`` answers at once (liveness) and says ``ready: true`` when the model is in memory;
requests that need the model meanwhile wait for it (up to ``Settings.model_wait_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from ecg_core.errors import ECGError

from .errors import ApiError

log = logging.getLogger("api")


class LockedClassifier:
    """The shipped :class:`ecg_core.model.BeatClassifier` with its network calls serialised by a lock.

    Several requests run in the thread pool at once; only the network evaluation itself is
    serialised (loading, filtering, detection and plotting of other requests go on meanwhile).
    """

    def __init__(self, classifier, *, lock: bool = True):
        self._classifier = classifier
        self._lock = threading.Lock() if lock else contextlib.nullcontext()
        self.version = classifier.version
        self.stage = classifier.stage  # read-only use: whether shares are the stage's decision scores

    def predict_recording(self, beats):
        with self._lock:
            return self._classifier.predict_recording(beats)

    def predict_segments(self, windows):
        with self._lock:
            return self._classifier.predict_segments(windows)


class ModelHolder:
    """Loads the classifier once (``start``), hands it out (``get``), reports readiness."""

    def __init__(self, path: Path, *, lock: bool = True):
        self.path = Path(path)
        self.lock = lock
        self._future: Future | None = None
        self._start_lock = threading.Lock()
        self.load_seconds: float | None = None

    def start(self) -> Future:
        """Begin loading in a daemon thread (idempotent); returns the future of the classifier."""
        with self._start_lock:
            if self._future is None:
                self._future = Future()
                threading.Thread(target=self._load, name="model-loader", daemon=True).start()
            return self._future

    def _load(self) -> None:
        t0 = time.perf_counter()
        try:
            from ecg_core.model import load_for_serving

            classifier = LockedClassifier(load_for_serving(self.path), lock=self.lock)
        except ECGError as exc:
            log.error("classifier not available: %s", exc)
            self._future.set_exception(exc)
        except Exception as exc:  # noqa: BLE001 - reported through /health and 503 answers
            log.exception("classifier failed to load")
            self._future.set_exception(exc)
        else:
            self.load_seconds = time.perf_counter() - t0
            log.info("classifier %s loaded in %.1f s", classifier.version, self.load_seconds)
            self._future.set_result(classifier)

    @property
    def ready(self) -> bool:
        f = self._future
        return f is not None and f.done() and f.exception() is None

    @property
    def status(self) -> tuple[bool, str | None, str | None]:
        """``(ready, model_version, detail)``; detail says why it is not ready."""
        f = self._future
        if f is None:
            return False, None, "The model has not started loading."
        if not f.done():
            return False, None, "The model is loading."
        if f.exception() is not None:
            return False, None, f"The model could not be loaded: {f.exception()}"
        return True, f.result().version, None

    async def get(self, timeout: float) -> LockedClassifier:
        """The loaded classifier; waits while it loads; :class:`ApiError` 503 if it is not available."""
        future = self.start()
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
        except TimeoutError:
            raise ApiError(503, f"The model is still loading after {timeout:g} s; retry in a moment.") from None
        except Exception as exc:  # noqa: BLE001 - the load failure is the server's, said plainly
            raise ApiError(503, f"The classifier is not available on this server: {exc}") from None
