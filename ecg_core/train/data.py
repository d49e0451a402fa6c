"""Training data: the MIT-BIH records and NSTDB noise read through :mod:`ecg_core.io`, and the augmented epochs.

:func:`load_record` cuts one record's reference beats into the windows, templates and rhythm inputs the
network trains on; :class:`Pool` concatenates several records once per training run and
:func:`make_epoch` draws one augmented, class-balanced pass over them with the fixed :class:`Schedule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..beats import RRFeatures, cut_windows, rr_features
from ..classifier import local_templates, morphology_input, recording_template, regular_beats, rhythm_input
from ..config import BEAT_WINDOW, CLASSES, FS, ROOT
from ..errors import ECGError
from ..filters import clean_ecg
from ..io import load, load_annotations

DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data" / "mitdb"
DEFAULT_NOISE_DIR = ROOT.parent / "shared" / "data" / "noise"

#: Training windows carry this many extra samples on each side for time-shift augmentation.
MARGIN = 8


@dataclass(frozen=True)
class Schedule:
    """The fixed training schedule (the same in CV and for the shipped model)."""

    epochs: int = 12
    batch_size: int = 512
    normal_fraction: float = 0.5  # balanced sampling: share of N beats drawn afresh each epoch (others: all)
    learning_rate: float = 3e-3
    final_learning_rate: float = 5e-5
    class_weight_power: float = 0.2  # class weight = (n_N / n_class) ** power, capped
    class_weight_cap: float = 10.0
    rhythm_dropout: float = 0.3  # fraction of beats trained as segments (no rhythm, raw windows)
    jitter: int = 5  # +- samples of R-peak misplacement
    noise_probability: float = 0.5
    snr_db: tuple[float, float] = (6.0, 30.0)
    amplitude_sigma: float = 0.2
    dropout: float = 0.3
    filters: tuple = (8, 16, 32)


@dataclass
class Record:
    """Cached beat arrays of one training record."""

    name: str
    samples: np.ndarray
    labels: np.ndarray  # class indices into CLASSES
    rr: RRFeatures
    clean: np.ndarray  # (n, BEAT_WINDOW + 2*MARGIN) windows of the band-passed signal
    raw: np.ndarray  # (n, BEAT_WINDOW + 2*MARGIN) windows of the unfiltered signal (segment uploads)
    rhythm: np.ndarray  # (n, N_RHYTHM)
    template: np.ndarray  # (n, BEAT_WINDOW) rhythm-path local templates (regular beats, band-passed)
    scale: float
    raw_template: np.ndarray  # segment-path template (all beats, raw)
    raw_scale: float
    signal: np.ndarray  # MLII, mV, unfiltered (for the end-to-end check)
    episodes: list


def _centre(w: np.ndarray) -> np.ndarray:
    """The :data:`BEAT_WINDOW` centre of windows cut with :data:`MARGIN` extra samples each side."""
    return w[:, MARGIN:MARGIN + BEAT_WINDOW]


def read_mlii(data_dir: Path, name: str) -> np.ndarray:
    """Lead MLII (picked by name) of one MIT-BIH record, in mV, read with :func:`ecg_core.io.load`."""
    rec = load(Path(data_dir) / f"{name}.hea")
    if "MLII" not in rec.lead_names:
        raise ECGError(f"Record {name} has no MLII lead (leads: {list(rec.lead_names)}).")
    if rec.sampling_rate != FS:
        raise ECGError(f"Record {name} is sampled at {rec.sampling_rate:g} Hz, expected {FS} Hz.")
    rec = rec if rec.lead == "MLII" else rec.with_lead("MLII")
    return np.nan_to_num(np.asarray(rec.signal, dtype=np.float64))


def load_record(data_dir: Path, name: str) -> Record:
    """Read one MIT-BIH record (lead MLII by name) and cut its reference beats."""
    from ..evaluate import outside_episodes

    base = str(Path(data_dir) / name)
    x = read_mlii(data_dir, name)

    ann = load_annotations(Path(base + ".atr"))
    episodes = list(ann.episodes)
    samples = ann.sample.astype(np.int64)
    labels = np.array([CLASSES.index(c) for c in ann.label], dtype=np.int64)
    keep = outside_episodes(samples, episodes)
    samples, labels = samples[keep], labels[keep]
    rr = rr_features(samples, FS)
    width = BEAT_WINDOW + 2 * MARGIN
    clean = cut_windows(clean_ecg(x, FS), samples, width=width)
    raw = cut_windows(x, samples, width=width)
    template, scale = local_templates(_centre(clean), regular_beats(rr))
    raw_template, raw_scale = recording_template(_centre(raw))
    return Record(name, samples, labels, rr, clean, raw, rhythm_input(rr), template, scale, raw_template,
                  raw_scale, x.astype(np.float32), episodes)


def load_noise(noise_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Real noise (MIT-BIH NSTDB bw and ma, both channels) normalised to unit std: (band-passed, raw)."""
    clean, raw = [], []
    for name in ("bw", "ma"):
        path = Path(noise_dir) / f"{name}.hea"
        if not path.exists():
            continue
        sig = np.asarray(load(path).signals)
        for ch in range(sig.shape[1]):
            r = np.nan_to_num(sig[:, ch])
            c = clean_ecg(r, FS)
            raw.append(((r - np.median(r)) / (np.std(r) + 1e-9)).astype(np.float32))
            clean.append((c / (np.std(c) + 1e-9)).astype(np.float32))
    if not raw:
        raise ECGError(f"No noise records (bw, ma) found in {noise_dir}.")
    return np.concatenate(clean), np.concatenate(raw)


def class_weights(labels: np.ndarray, schedule: Schedule) -> np.ndarray:
    """Per-class loss weights from the class counts of one (balanced-sampled) epoch."""
    counts = np.bincount(labels, minlength=len(CLASSES)).astype(np.float64)
    counts[0] *= schedule.normal_fraction
    ref = counts[0]
    w = np.where(counts > 0, (ref / np.maximum(counts, 1)) ** schedule.class_weight_power, 1.0)
    return np.minimum(w, schedule.class_weight_cap)


@dataclass
class Pool:
    """The training beats of several records, concatenated once per training run."""

    clean: np.ndarray
    raw: np.ndarray
    rhythm: np.ndarray
    labels: np.ndarray
    rec_idx: np.ndarray
    templates: np.ndarray
    raw_templates: np.ndarray
    scales: np.ndarray
    raw_scales: np.ndarray

    @classmethod
    def of(cls, records: list[Record]) -> Pool:
        return cls(np.concatenate([r.clean for r in records]), np.concatenate([r.raw for r in records]),
                   np.concatenate([r.rhythm for r in records]), np.concatenate([r.labels for r in records]),
                   np.concatenate([np.full(len(r.labels), i) for i, r in enumerate(records)]),
                   np.concatenate([r.template for r in records]), np.stack([r.raw_template for r in records]),
                   np.array([r.scale for r in records], np.float32),
                   np.array([r.raw_scale for r in records], np.float32))



def make_epoch(pool: Pool, noise: tuple[np.ndarray, np.ndarray], schedule: Schedule, rng: np.random.Generator):
    """One augmented, class-balanced pass over the training beats: (morphology, rhythm), labels.

    All minority-class beats and a fresh random ``normal_fraction`` of the N beats; a random
    ``rhythm_dropout`` share is presented as a segmented upload would be (raw window, template =
    median of the raw beats, rhythm unknown); every beat gets a random R-peak shift, amplitude
    change, baseline slope and, with ``noise_probability``, real NSTDB noise at a random SNR.
    """
    take = np.flatnonzero((pool.labels != 0) | (rng.random(len(pool.labels)) < schedule.normal_fraction))
    labels, rec_idx = pool.labels[take], pool.rec_idx[take]
    n = len(take)
    seg = rng.random(n) < schedule.rhythm_dropout
    shift = rng.integers(-schedule.jitter, schedule.jitter + 1, n)
    cols = (MARGIN + shift)[:, None] + np.arange(BEAT_WINDOW)[None, :]
    rows = take[:, None]
    w = np.where(seg[:, None], pool.raw[rows, cols], pool.clean[rows, cols]).astype(np.float32)
    t = np.where(seg[:, None], pool.raw_templates[rec_idx], pool.templates[take])
    s = np.where(seg, pool.raw_scales[rec_idx], pool.scales[rec_idx])
    # amplitude change of the beat relative to its recording
    w *= np.exp(rng.normal(0, schedule.amplitude_sigma, n)).astype(np.float32)[:, None]
    # baseline: offset (removed by the per-beat median) and a slope, larger for raw segments
    ramp = np.linspace(-0.5, 0.5, BEAT_WINDOW, dtype=np.float32)[None, :]
    slope = rng.normal(0, 1, n).astype(np.float32) * np.where(seg, 0.15, 0.03).astype(np.float32) * s
    w += slope[:, None] * ramp + (rng.normal(0, 1, n) * s)[:, None].astype(np.float32)
    # real noise at random SNR (relative to the template's peak-to-peak amplitude)
    k = np.flatnonzero(rng.random(n) < schedule.noise_probability)
    if k.size:
        nclean, nraw = noise
        start = rng.integers(0, nraw.size - BEAT_WINDOW, k.size)
        idx = start[:, None] + np.arange(BEAT_WINDOW)[None, :]
        excerpt = np.where(seg[k, None], nraw[idx], nclean[idx])
        snr = rng.uniform(*schedule.snr_db, k.size)
        w[k] += excerpt * (s[k] * 10 ** (-snr / 20)).astype(np.float32)[:, None]
    m = morphology_input(w, t, s)
    r = np.where(seg[:, None], rhythm_input(None, n), pool.rhythm[take])
    return m, r.astype(np.float32), labels



def reference_rhythm(data_dir: Path, name: str, samples) -> np.ndarray:
    """The reference rhythm (MIT-BIH ``+`` annotations' aux text, e.g. ``"(AFIB"``) at each of ``samples``."""
    rhythms = load_annotations(Path(data_dir) / f"{name}.atr").rhythms
    starts = np.array([start for start, _, _ in rhythms], dtype=np.int64)
    names = np.array(["?"] + [note for _, _, note in rhythms], dtype=object)
    return names[np.searchsorted(starts, np.asarray(samples), side="right")]


def write_beats_csv(path: Path, samples, probs) -> None:
    """Write ``<rec>.beats.csv``: sample, label, top probability and one ``p_<class>`` column per class."""
    import pandas as pd

    frame = pd.DataFrame({"sample": samples, "label": np.asarray(CLASSES)[probs.argmax(axis=1)],
                          "probability": probs.max(axis=1)})
    for k, c in enumerate(CLASSES):
        frame[f"p_{c}"] = probs[:, k]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.6f")


def _relative(path) -> str:
    """``path`` relative to the project folder when inside it (the card must not carry machine paths)."""
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(path)
