"""Network training and calibration: one network on a fixed schedule, held-out logits, temperatures, reliability.

Seeds fix numpy and Keras; TensorFlow's multi-threaded CPU kernels are not bit-for-bit deterministic,
so reruns agree to within a few beats, not exactly.
"""

from __future__ import annotations

import sys

import numpy as np

from ..classifier import MORPH_CHANNELS, MORPH_LEN, N_RHYTHM, build_network, morphology_input, rhythm_input, softmax
from .data import Pool, Record, Schedule, _centre, class_weights, make_epoch

#: Equal-width confidence bins of the reliability curve and its expected calibration error.
RELIABILITY_BINS = 15
#: Beats per network call when computing logits.
LOGIT_BATCH = 8192


def train_network(records: list[Record], noise, schedule: Schedule, seed: int, *, verbose: int = 0):
    """Train one network on ``records`` with the fixed schedule; returns the Keras model."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    net = build_network(dropout=schedule.dropout, filters=tuple(schedule.filters))
    pool = Pool.of(records)
    labels = pool.labels
    cw = class_weights(labels, schedule)
    per_epoch = np.count_nonzero(labels) + schedule.normal_fraction * np.count_nonzero(labels == 0)
    steps = int(np.ceil(per_epoch / schedule.batch_size)) * schedule.epochs
    lr = keras.optimizers.schedules.CosineDecay(schedule.learning_rate, steps,
                                                alpha=schedule.final_learning_rate / schedule.learning_rate)
    net.compile(optimizer=keras.optimizers.Adam(lr),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    for epoch in range(schedule.epochs):
        m, r, y = make_epoch(pool, noise, schedule, rng)
        hist = net.fit([m, r], y, sample_weight=cw[y].astype(np.float32), batch_size=schedule.batch_size,
                       epochs=1, shuffle=True, verbose=0)
        if verbose:
            print(f"    epoch {epoch + 1}/{schedule.epochs} loss {hist.history['loss'][-1]:.4f}", file=sys.stderr)
    return net



def _logits(net, m, r) -> np.ndarray:
    """``net``'s logits of morphology ``m`` and rhythm ``r``, :data:`LOGIT_BATCH` beats a call."""
    out = [np.asarray(net([m[i:i + LOGIT_BATCH], r[i:i + LOGIT_BATCH]], training=False))
           for i in range(0, len(m), LOGIT_BATCH)]
    return np.concatenate(out)


def heldout_logits(nets, rec: Record) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold logits of one record at its reference beats: (rhythm path, morphology-only path).

    The rhythm path sees band-passed windows with the recording's regular-beat template; the
    morphology-only path sees the raw (unfiltered) windows with no rhythm, template = median of them,
    as a segmented upload would.
    """
    m = morphology_input(_centre(rec.clean), rec.template, rec.scale)
    m_seg = morphology_input(_centre(rec.raw), rec.raw_template, rec.raw_scale)
    rh = np.mean([_logits(n, m, rec.rhythm) for n in nets], axis=0)
    mo = np.mean([_logits(n, m_seg, rhythm_input(None, len(m_seg))) for n in nets], axis=0)
    return rh, mo


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood of ``labels``."""
    from scipy.optimize import minimize_scalar

    def nll(log_t):
        p = softmax(logits, np.exp(log_t))
        return -np.mean(np.log(np.maximum(p[np.arange(len(labels)), labels], 1e-12)))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = RELIABILITY_BINS) -> dict:
    """Expected calibration error (top-label, equal-width bins) and the reliability-curve bins."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    out, ece = [], 0.0
    for b in range(bins):
        sel = which == b
        cnt = int(sel.sum())
        if cnt:
            acc, mc = float(correct[sel].mean()), float(conf[sel].mean())
            ece += abs(acc - mc) * cnt / len(labels)
        else:
            acc = mc = None
        out.append({"lower": float(edges[b]), "upper": float(edges[b + 1]), "count": cnt,
                    "confidence": mc, "accuracy": acc})
    return {"ece": float(ece), "bins": out}


def _ensemble(nets):
    """One Keras model averaging the logits of several networks (a single net is returned as is)."""
    if len(nets) == 1:
        return nets[0]
    import keras

    morph = keras.Input((MORPH_LEN, MORPH_CHANNELS), name="morphology")
    rhythm = keras.Input((N_RHYTHM,), name="rhythm")
    outs = []
    for k, n in enumerate(nets):
        n.name = f"member_{k}"
        outs.append(n([morph, rhythm]))
    return keras.Model([morph, rhythm], keras.layers.Average(name="logits")(outs), name="beat_classifier_ensemble")
