"""The classifier network (Keras): its build, loading, batched logits and calibration.

The only module of ``ecg_core`` that imports TensorFlow/Keras, and it does so lazily (inside
functions), so loading files and detecting beats stay fast.

The network outputs logits; probabilities are ``softmax(logits / T)`` with one temperature per
path fitted on out-of-fold predictions.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..config import CLASSES
from ..errors import ECGError
from .inputs import CHUNK, MORPH_CHANNELS, MORPH_LEN, N_RHYTHM

# TensorFlow's C++ start-up notices (CPU features, absl) are noise on a user's terminal
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One thread per kernel: how TensorFlow splits a kernel over threads changes the last digits of its
# sums, so with more threads the same file would give other digits on a machine with other cores, and a
# one-thread cohort worker other digits than the serial command. Batches run side by side instead.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

#: Beats per call of the network, every call padded to it (the same kernels whatever the recording's
#: length). :data:`~ecg_core.classifier.inputs.CHUNK` is a multiple of it, so the recording path's
#: blocks hold whole batches.
BATCH = 512
#: Calls of the network run side by side (threads): one per core, at most 4. A cohort worker runs
#: with one (:func:`set_parallel_calls`); the numbers are the same either way.
PARALLEL_CALLS = max(1, min(4, os.cpu_count() or 1))
_pool: dict = {}
assert CHUNK % BATCH == 0


def build_network(*, dropout: float = 0.3, filters: tuple[int, ...] = (8, 16, 32)):
    """The classifier network: a small 1-D CNN on the morphology plus an MLP on the rhythm; outputs logits."""
    import keras
    from keras import layers

    morph = keras.Input((MORPH_LEN, MORPH_CHANNELS), name="morphology")
    rhythm = keras.Input((N_RHYTHM,), name="rhythm")
    x = morph
    for n_filters, kernel in zip(filters, (7, 5, 5, 3), strict=False):
        x = layers.Conv1D(n_filters, kernel, padding="same", activation="relu")(x)
        x = layers.MaxPooling1D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(32, activation="relu")(x)
    r = layers.Dense(16, activation="relu")(rhythm)
    h = layers.Concatenate()([x, r, rhythm])
    h = layers.Dense(32, activation="relu")(h)
    h = layers.Dropout(dropout / 2)(h)
    logits = layers.Dense(len(CLASSES), name="logits")(h)
    return keras.Model([morph, rhythm], logits, name="beat_classifier")


def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` (float64, rows sum to 1)."""
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def weights_digest(network) -> str:
    """Short SHA-256 of the network's weights (part of the version string)."""
    h = hashlib.sha256()
    for w in network.get_weights():
        h.update(np.ascontiguousarray(w, dtype=np.float32).tobytes())
    return h.hexdigest()[:10]


def load_network(path: Path):
    """The Keras network saved at ``path`` (not compiled).

    Raises
    ------
    ECGError
        The file is missing or cannot be read.
    """
    if not path.exists():
        raise ECGError(
            f"The beat classifier model file {path} is missing. Train it with `python -m ecg_core.train` "
            "(from the project folder) or restore models/ from the repository."
        )
    import keras
    import tensorflow as tf

    try:  # as TF_NUM_INTRAOP_THREADS above, where TensorFlow was imported before this module
        tf.config.threading.set_intra_op_parallelism_threads(1)
    except RuntimeError:  # its runtime has started: the setting it started with stays
        pass
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # noqa: BLE001 - any load failure becomes one clear message
        raise ECGError(f"The beat classifier model file {path} could not be read ({exc}). "
                       "Retrain it with `python -m ecg_core.train`.") from None


def inference_call(network):
    """``network`` as a traced TensorFlow function of ``(morphology, rhythm)`` in inference mode."""
    import tensorflow as tf

    return tf.function(lambda m, r: network([m, r], training=False), reduce_retracing=True)


def set_parallel_calls(n: int) -> None:
    """Run at most ``n`` network calls side by side in this process (e.g. 1 in a one-thread cohort worker)."""
    global PARALLEL_CALLS
    PARALLEL_CALLS = max(1, int(n))


def _padded(a: np.ndarray) -> np.ndarray:
    return a if len(a) == BATCH else np.concatenate([a, np.zeros((BATCH - len(a), *a.shape[1:]), a.dtype)])


def batched_logits(call, morphology: np.ndarray, rhythm: np.ndarray) -> np.ndarray:
    """``call``'s logits for prepared inputs, ``BATCH`` beats a call: ``(n, len(CLASSES))``.

    A shorter last batch is padded with zeros (their logits are dropped); up to :data:`PARALLEL_CALLS`
    calls run at once. Each call runs on one thread, so the numbers do not depend on either.
    """
    starts = range(0, len(morphology), BATCH)
    if not starts:
        return np.zeros((0, len(CLASSES)), np.float32)

    def one(i: int) -> np.ndarray:
        m, r = morphology[i:i + BATCH], rhythm[i:i + BATCH]
        return np.asarray(call(_padded(m), _padded(r)))[:len(m)]

    if PARALLEL_CALLS == 1 or len(starts) == 1:
        return np.concatenate([one(i) for i in starts])
    from concurrent.futures import ThreadPoolExecutor

    pool = _pool.get(PARALLEL_CALLS)
    if pool is None:
        pool = _pool[PARALLEL_CALLS] = ThreadPoolExecutor(PARALLEL_CALLS, thread_name_prefix="ecg-network")
    return np.concatenate(list(pool.map(one, starts)))
