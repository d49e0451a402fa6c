"""The beat classifier: patient-relative inputs, the Keras network, and calibrated inference.

This is the only module of ``ecg_core`` that imports TensorFlow/Keras, and it does so lazily
(inside functions), so loading files and detecting beats stay fast.

Every beat is described *relative to its own recording*, which is what carries over to patients
the model never saw:

* morphology, two channels: the beat, and the beat minus the recording's median template beat,
  both divided by the template's peak-to-peak amplitude (so ADC units and mV give the same
  answer) and downsampled to 120 Hz;
* rhythm: RR intervals divided by the patient's own running and local rhythm (log ratios), the
  local RR irregularity, and a flag saying whether rhythm is known. Segmented uploads carry no
  rhythm: they go through the same network with the rhythm inputs set to their neutral value and
  the flag off (the network was trained with rhythm dropped out at random), and their template is
  the median of the uploaded segments.

The network outputs logits; probabilities are ``softmax(logits / T)`` with one temperature per
path fitted on out-of-fold predictions (``models/model_card.json``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from scipy import ndimage

# TensorFlow's C++ start-up notices (CPU features, absl) are noise on a user's terminal
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .beats import LOCAL_BEATS, Beats, RRFeatures, rr_features, running_median, runs_of
from .config import BEAT_WINDOW, CLASSES, FS, MODEL_CARD_JSON, MODEL_PATH
from .errors import ECGError

#: Morphology input: every ``DOWNSAMPLE`` samples of the window are averaged (360 Hz -> 120 Hz).
DOWNSAMPLE = 3
MORPH_LEN = BEAT_WINDOW // DOWNSAMPLE
MORPH_CHANNELS = 2
#: Rhythm input: patient-relative features and the "rhythm known" flag. The first six use the
#: running median rhythm; the others survive recordings where ectopic beats outnumber normal ones (a
#: running median is then the ectopic rhythm itself): RR over the MEAN RR of 1 and 20 min
#: (:func:`~ecg_core.beats.windowed_mean_rr`), a baseline-free share of the RR in its three
#: neighbouring intervals (``RR_i / (RR_i-1 + RR_i + RR_i+1)``, times 3), RR and the 20-min
#: mean in log seconds, and RR over the slow baseline (the upper quantile of a half-hour's RR,
#: :func:`~ecg_core.beats.windowed_quantile_rr`), which stays on the sinus rhythm through minutes of
#: tachycardia.
RHYTHM_FEATURES = ("log_pre_run", "log_post_run", "log_local_run", "log_pre_local", "log_post_pre", "irregularity",
                   "log_pre_mean_short", "log_pre_mean_long", "log_post_mean_long", "log_pre_share",
                   "log_pre_s", "log_mean_long_s", "log_pre_slow", "log_post_slow", "log_local_slow")
N_RHYTHM = len(RHYTHM_FEATURES) + 1
#: A beat is "regular" (used for the template) when both its RR intervals are within this
#: fraction of the running rhythm.
REGULAR_TOLERANCE = 0.15
#: Fewest regular beats needed for the regular-beat template; otherwise all beats are used.
MIN_TEMPLATE_BEATS = 8
#: Local templates: blocks of beats, and how many beats on each side feed a block's template.
TEMPLATE_BLOCK = 64
TEMPLATE_SPAN = 128
MIN_LOCAL_BEATS = 24
#: Morphology inputs are clipped to +-this many template amplitudes (guards against artefacts).
CLIP = 8.0
#: Beats per call of the network.
BATCH = 2048
#: Beats per block of the recording path (:class:`RecordingInputs`): the network inputs, the network and
#: the per-beat shape measures (:class:`BeatShapes`) are computed one block at a time, never for every
#: beat of a long recording at once. A multiple of ``BATCH`` and of ``TEMPLATE_BLOCK``, so the network
#: sees the very batches of one pass over the recording and every block starts a template block: the
#: numbers are those of one pass (``tests/test_chunked_inputs.py``).
CHUNK = BATCH
#: Values per column block of :func:`_median0` (about 4 MB of float32 for each copy it makes).
MEDIAN_BLOCK = 1 << 20


# ----------------------------------------------------------------------------------------------
# Patient-relative inputs (numpy only)
# ----------------------------------------------------------------------------------------------

def _median0(a: np.ndarray, rows=None) -> np.ndarray:
    """Lower median along axis 0 of ``a`` (of ``a[rows]`` where given), by np.partition.

    np.partition is several times faster than np.median; it runs over a few columns at a time
    (``MEDIAN_BLOCK`` values), so the rows are never copied whole. A lower median is one of the values,
    the same whichever columns are taken together.
    """
    n = a.shape[0] if rows is None else len(rows)
    k = (n - 1) // 2
    out = np.empty(a.shape[1:], dtype=a.dtype)
    step = max(1, MEDIAN_BLOCK // max(n, 1))
    for c in range(0, a.shape[1], step):
        block = a[:, c:c + step] if rows is None else a[rows, c:c + step]
        out[c:c + step] = np.partition(block, k, axis=0)[k]
    return out


def prepare_windows(windows) -> np.ndarray:
    """Windows ``(n, BEAT_WINDOW)`` at ``FS`` -> ``(n, MORPH_LEN)``: averaged to 120 Hz, each beat's median removed.

    Computed ``CHUNK`` beats at a time (each beat on its own: the same numbers), so a long recording's
    windows are not copied whole.
    """
    n = len(windows)
    out = np.empty((n, MORPH_LEN), dtype=np.float32)
    k = (MORPH_LEN - 1) // 2
    for a in range(0, n, CHUNK):
        w = np.asarray(windows[a:a + CHUNK], dtype=np.float32)
        d = w.reshape(len(w), MORPH_LEN, DOWNSAMPLE).mean(axis=2)
        out[a:a + CHUNK] = d - np.partition(d, k, axis=1)[:, k:k + 1]
    return out


def regular_beats(rr: RRFeatures) -> np.ndarray:
    """Mask of beats whose previous and next RR are both within ``REGULAR_TOLERANCE`` of the running rhythm."""
    run = np.maximum(rr.running, 1e-3)
    return (np.abs(rr.pre / run - 1) <= REGULAR_TOLERANCE) & (np.abs(rr.post / run - 1) <= REGULAR_TOLERANCE)


def _template(d: np.ndarray, regular=None) -> tuple[np.ndarray, float]:
    rows = None
    if regular is not None and np.count_nonzero(regular) >= MIN_TEMPLATE_BEATS:
        rows = np.flatnonzero(regular)
    template = _median0(d, rows).astype(np.float32)
    scale = float(np.ptp(template))
    if not np.isfinite(scale) or scale <= 0:
        ptp = np.ptp(d, axis=1) if rows is None else np.ptp(d, axis=1)[rows]
        scale = float(np.median(ptp)) if len(ptp) else 1.0
    if not np.isfinite(scale) or scale <= 0:
        scale = 1.0
    return template, scale


def _block_templates(d: np.ndarray, regular=None) -> tuple[np.ndarray, float]:
    """:func:`_local_templates`, one row per ``TEMPLATE_BLOCK`` beats: ``(ceil(n / TEMPLATE_BLOCK), MORPH_LEN)``."""
    n = len(d)
    template, scale = _template(d, regular)
    out = np.broadcast_to(template, (-(-n // TEMPLATE_BLOCK), MORPH_LEN)).copy()
    if regular is None or n < 2 * TEMPLATE_SPAN:
        return out, scale
    regular = np.asarray(regular, bool)
    for b, start in enumerate(range(0, n, TEMPLATE_BLOCK)):
        stop = min(start + TEMPLATE_BLOCK, n)
        lo, hi = max(0, start - TEMPLATE_SPAN), min(n, stop + TEMPLATE_SPAN)
        sel = np.flatnonzero(regular[lo:hi]) + lo
        if sel.size >= MIN_LOCAL_BEATS:
            out[b] = _median0(d, sel)
    return out, scale


def _local_templates(d: np.ndarray, regular=None) -> tuple[np.ndarray, float]:
    blocks, scale = _block_templates(d, regular)
    return np.repeat(blocks, TEMPLATE_BLOCK, axis=0)[:len(d)], scale


def recording_template(windows, regular=None) -> tuple[np.ndarray, float]:
    """Median template beat of one recording and its peak-to-peak amplitude.

    Parameters
    ----------
    windows : array_like, shape (n, BEAT_WINDOW)
        Beat windows of one recording (any amplitude unit).
    regular : array_like of bool, optional
        Beats to build the template from (e.g. :func:`regular_beats`); all beats are used when
        fewer than ``MIN_TEMPLATE_BEATS`` are marked.

    Returns
    -------
    template : numpy.ndarray, shape (MORPH_LEN,)
        Median of the prepared beats (:func:`prepare_windows`).
    scale : float
        Its peak-to-peak amplitude (the recording's amplitude unit for the network).
    """
    return _template(prepare_windows(windows), regular)


def local_templates(windows, regular=None) -> tuple[np.ndarray, float]:
    """Per-beat templates that follow slow changes of a recording's morphology.

    Beats (in time order) are taken in blocks of ``TEMPLATE_BLOCK``; each block's template is the
    median of the regular beats within ``TEMPLATE_SPAN`` beats of it, or the recording's template
    (:func:`recording_template`) where fewer than ``MIN_LOCAL_BEATS`` are regular there (e.g. during
    bigeminy). The scale is the recording's, so amplitude changes stay visible to the network.

    Returns
    -------
    templates : numpy.ndarray, shape (n, MORPH_LEN)
    scale : float
    """
    return _local_templates(prepare_windows(windows), regular)


def _morphology(d: np.ndarray, template, scale) -> np.ndarray:
    t = np.asarray(template, dtype=np.float32).reshape(-1, MORPH_LEN)  # one template, or one per beat
    s = np.asarray(scale, dtype=np.float32).reshape(-1, 1, 1)  # one scale, or one per beat
    x = np.stack([d, d - t], axis=2) / s
    return np.clip(x, -CLIP, CLIP).astype(np.float32)


def morphology_input(windows, template, scale) -> np.ndarray:
    """``(n, MORPH_LEN, 2)`` float32: [beat, beat - template], over ``scale``, at 120 Hz.

    ``template`` is one template ``(MORPH_LEN,)`` or one per beat ``(n, MORPH_LEN)``, as
    :func:`recording_template` / :func:`local_templates` return; ``scale`` a scalar or one per beat.
    """
    return _morphology(prepare_windows(windows), template, scale)


def rhythm_input(rr: RRFeatures | None, n: int | None = None) -> np.ndarray:
    """``(n, N_RHYTHM)`` float32 patient-relative rhythm features; neutral with flag 0 when ``rr`` is None."""
    if rr is None:
        return np.zeros((int(n or 0), N_RHYTHM), np.float32)
    eps = 1e-3
    pre, post = np.maximum(rr.pre, eps), np.maximum(rr.post, eps)
    run, local = np.maximum(rr.running, eps), np.maximum(rr.local, eps)
    succ = np.abs(np.diff(pre, prepend=pre[:1])) / run
    irregular = ndimage.median_filter(succ, size=2 * LOCAL_BEATS + 1, mode="nearest") if succ.size else succ
    short, long, slow = np.maximum(rr.mean_short, eps), np.maximum(rr.mean_long, eps), np.maximum(rr.slow, eps)
    before = np.r_[pre[:1], pre[:-1]]  # RR_i-1
    feats = np.stack([np.log(pre / run), np.log(post / run), np.log(local / run), np.log(pre / local),
                      np.log(post / pre), irregular,
                      np.log(pre / short), np.log(pre / long), np.log(post / long),
                      np.log(3 * pre / (before + pre + post)), np.log(pre), np.log(long),
                      np.log(pre / slow), np.log(post / slow), np.log(local / slow),
                      np.ones_like(pre)], axis=1)
    return np.clip(feats, -3.0, 3.0).astype(np.float32)


@dataclass(frozen=True)
class RecordingInputs:
    """The network inputs of ONE recording's beats (time order), kept compact and expanded a block at a time.

    ``prepared``: the beats at 120 Hz (:func:`prepare_windows`), ``(n, MORPH_LEN)`` float32;
    ``templates``: the template of every ``TEMPLATE_BLOCK`` beats, ``(ceil(n / TEMPLATE_BLOCK),
    MORPH_LEN)`` (local templates with rhythm; the one template of all segments without);
    ``scale``: the recording's template amplitude; ``rhythm``: :func:`rhythm_input`, ``(n, N_RHYTHM)``.
    The morphology input of beats ``start:stop`` (:meth:`morphology`) is that of :func:`recording_inputs`
    for them, number for number, at a third of the memory of all of it.
    """

    prepared: np.ndarray
    templates: np.ndarray
    scale: float
    rhythm: np.ndarray

    def __len__(self) -> int:
        return len(self.prepared)

    def morphology(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """``(stop - start, MORPH_LEN, 2)`` float32 morphology input of beats ``start:stop`` (all by default).

        ``start`` must be a multiple of ``TEMPLATE_BLOCK`` (as every block of :meth:`blocks` is).
        """
        stop = len(self) if stop is None else min(stop, len(self))
        if start % TEMPLATE_BLOCK:
            raise ValueError(f"start must be a multiple of TEMPLATE_BLOCK ({TEMPLATE_BLOCK}), got {start}")
        first = start // TEMPLATE_BLOCK
        last = -(-stop // TEMPLATE_BLOCK)
        templates = np.repeat(self.templates[first:last], TEMPLATE_BLOCK, axis=0)[:stop - start]
        return _morphology(self.prepared[start:stop], templates, self.scale)

    def blocks(self, size: int | None = None):
        """Yield ``(start, stop, morphology, rhythm)`` for consecutive blocks of ``size`` beats (default ``CHUNK``)."""
        size = CHUNK if size is None else size
        if size % TEMPLATE_BLOCK:
            raise ValueError(f"size must be a multiple of TEMPLATE_BLOCK ({TEMPLATE_BLOCK}), got {size}")
        for start in range(0, len(self), size):
            stop = min(start + size, len(self))
            yield start, stop, self.morphology(start, stop), self.rhythm[start:stop]


def prepare_recording(windows, rr: RRFeatures | None) -> RecordingInputs:
    """:class:`RecordingInputs` of the beats of ONE recording, in time order.

    With rhythm (``rr``): local templates of the regular beats. Without (segments, rr=None): one
    template, the median of all the segments.
    """
    d = prepare_windows(windows)
    if len(d) == 0:
        return RecordingInputs(d, np.zeros((0, MORPH_LEN), np.float32), 1.0, np.zeros((0, N_RHYTHM), np.float32))
    if rr is None:
        template, scale = _template(d)
        templates = np.broadcast_to(template, (-(-len(d) // TEMPLATE_BLOCK), MORPH_LEN))
    else:
        templates, scale = _block_templates(d, regular_beats(rr))
    return RecordingInputs(d, templates, scale, rhythm_input(rr, len(d)))


@dataclass(frozen=True)
class PreparedBeats:
    """The beats of ONE recording as the classifier needs them: positions and compact network inputs, no windows.

    What :func:`prepare_beats` makes of :class:`~ecg_core.beats.Beats` (``samples``: R-peak indices in
    the original signal; ``inputs``: :class:`RecordingInputs`), so that a caller holding a long
    recording can let go of its beat windows (4 bytes x 360 a beat) before the classifier
    (TensorFlow) is loaded. :meth:`BeatClassifier.predict_recording` takes either.
    """

    samples: np.ndarray
    inputs: RecordingInputs
    quality: object | None = None  # the beats' signal quality (ecg_core.quality.Quality), carried along

    def __len__(self) -> int:
        return int(self.samples.size)


def prepare_beats(beats: Beats | PreparedBeats) -> PreparedBeats:
    """:class:`PreparedBeats` of ``beats`` (numpy only: TensorFlow is not imported).

    Raises
    ------
    ECGError
        Windows that are not ``BEAT_WINDOW`` samples long or not finite.
    """
    if isinstance(beats, PreparedBeats):
        return beats
    return PreparedBeats(beats.samples, prepare_recording(_check_windows(beats.windows), beats.rr), beats.quality)


def recording_inputs(windows, rr: RRFeatures | None) -> tuple[np.ndarray, np.ndarray]:
    """Network inputs ``(morphology, rhythm)`` for the beats of ONE recording, in time order.

    All beats at once (training, evaluation): :func:`prepare_recording`, expanded. With rhythm
    (``rr``): local templates of the regular beats. Without (segments, rr=None): one template, the
    median of all the segments.
    """
    inputs = prepare_recording(windows, rr)
    return inputs.morphology(), inputs.rhythm


# ----------------------------------------------------------------------------------------------
# Stage 2: N / SVEB re-decision of the network's N and SVEB beats (numpy only)
# ----------------------------------------------------------------------------------------------

#: Features of the stacked second stage, in the order of its coefficients (see :func:`stage_features`).
STAGE_FEATURES = ("log_pre_run", "log_post_run", "log_pre_local", "log_post_pre", "log_local_run", "irregularity",
                 "irregular_x_log_pre_local", "cnn_log_sveb_n", "cnn_log_veb_n", "cnn_log_f_n",
                 "qrs_correlation_rel", "qrs_difference_rel", "p_wave_difference_rel", "t_wave_difference_rel",
                 "qrs_amplitude_rel", "qrs_width_rel")
#: Probability floor inside the stage's logarithms.
_P_FLOOR = 1e-6
#: Regions of the 120-Hz morphology input, in samples from the R-peak: QRS (-75..+83 ms), P wave
#: (-250..-75 ms), T wave (+100..+400 ms), and the span where the QRS width is measured (+-150 ms).
_CENTRE = MORPH_LEN // 2
_QRS, _P_WAVE, _T_WAVE, _WIDTH = (slice(_CENTRE + a, _CENTRE + b) for a, b in ((-9, 10), (-30, -9), (12, 48),
                                                                                (-18, 19)))
#: The P-wave region in ms from the R-peak (for reports).
P_WAVE_MS = tuple(round(1000 * (k - _CENTRE) * DOWNSAMPLE / FS) for k in (_P_WAVE.start, _P_WAVE.stop))
#: Morphology features are taken relative to their running median over this many beats on each side.
RELATIVE_BEATS = 150


def _rms(x: np.ndarray, region: slice) -> np.ndarray:
    return np.sqrt(np.mean(x[:, region] ** 2, axis=1))


def _width(x: np.ndarray) -> np.ndarray:
    a = np.abs(x[:, _WIDTH])
    return np.count_nonzero(a > 0.3 * a.max(axis=1, keepdims=True), axis=1)


def _correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of the rows of ``a`` with the rows of ``b``."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return np.sum(a * b, axis=1) / np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1) + 1e-12)


#: Columns of :func:`morphology_features` (the last ones of :func:`stage_features`).
N_MORPHOLOGY_FEATURES = 6


def morphology_features(morphology) -> np.ndarray:
    """``(n, 6)`` shape of each beat against its template, relative to the recording's usual values.

    From the network's morphology input (beat and beat minus template, over the template's amplitude)
    of ONE recording in time order: QRS correlation with the template (Fisher z), QRS, P-wave and
    T-wave difference from it, QRS amplitude and width ratios (logs); each minus its running median
    over ``RELATIVE_BEATS`` beats on each side (fewer near the ends: :func:`~ecg_core.beats.running_median`),
    so a noisy or variable recording does not make all of its beats look abnormal. ``morphology`` may
    also be the :class:`BeatShapes` of that input (its ``features``).
    """
    if isinstance(morphology, BeatShapes):
        return morphology.features
    return _relative_features(_shape_features(morphology))


def _shape_features(morphology) -> np.ndarray:
    """The per-beat half of :func:`morphology_features`: ``(n, 6)`` before the running medians (beat by beat)."""
    m = np.asarray(morphology, dtype=np.float64)
    if len(m) == 0:
        return np.zeros((0, N_MORPHOLOGY_FEATURES))
    beat, diff = m[:, :, 0], m[:, :, 1]
    template = beat - diff
    corr = _correlation(beat[:, _QRS], template[:, _QRS])
    log = lambda v: np.log(np.maximum(v, 1e-3))  # noqa: E731
    f = np.column_stack([np.arctanh(np.clip(corr, -0.999, 0.999)),
                         log(_rms(diff, _QRS) / np.maximum(_rms(template, _QRS), 1e-6)),
                         log(10 * _rms(diff, _P_WAVE)), log(10 * _rms(diff, _T_WAVE)),
                         log(np.ptp(beat[:, _QRS], axis=1) / np.maximum(np.ptp(template[:, _QRS], axis=1), 1e-6)),
                         log(_width(beat) / np.maximum(_width(template), 1))])
    return np.clip(np.nan_to_num(f), -10, 10)


def _relative_features(f: np.ndarray) -> np.ndarray:
    """The recording-wide half of :func:`morphology_features`: each column minus its running median."""
    if len(f) == 0:
        return f
    # column by column, over the beats there are near the ends (as the running rhythm: not padded)
    running = [running_median(col, RELATIVE_BEATS) for col in f.T]
    return f - np.column_stack(running)


@dataclass(frozen=True)
class BeatShapes:
    """What the second stage and the rules read from the morphology input of ONE recording's beats.

    ``p_wave``: :func:`p_wave_correlation`, ``(n,)``; ``shape``: the per-beat morphology measures
    before their running medians, ``(n, 6)``; ``features``: :func:`morphology_features` (computed
    from ``shape`` when first asked for). Built block by block (:meth:`of`: each beat on its own, the
    same numbers as from all of the input at once), so the full morphology input of a long recording
    never has to exist. Every function that takes ``morphology`` for these measures
    (:func:`atrial_fibrillation`, :func:`fusion_beats`, :func:`wide_qrs_beats`, :func:`stage_features`,
    :meth:`StackedStage.apply`) takes a ``BeatShapes`` in its place.
    """

    p_wave: np.ndarray
    shape: np.ndarray

    def __len__(self) -> int:
        return len(self.p_wave)

    @functools.cached_property
    def features(self) -> np.ndarray:
        return _relative_features(self.shape)

    @classmethod
    def of(cls, morphology) -> BeatShapes:
        """The measures of a (block of a) morphology input ``(n, MORPH_LEN, 2)``."""
        return cls(p_wave_correlation(morphology), _shape_features(morphology))

    @classmethod
    def concatenate(cls, parts) -> BeatShapes:
        """One recording's measures from those of its consecutive blocks."""
        parts = list(parts)
        if not parts:
            return cls(np.zeros(0), np.zeros((0, N_MORPHOLOGY_FEATURES)))
        return cls(np.concatenate([p.p_wave for p in parts]), np.concatenate([p.shape for p in parts]))


def stage_features(morphology, rhythm, probs) -> np.ndarray:
    """``(n, len(STAGE_FEATURES))`` features of the second stage for the beats of ONE recording.

    From the network's inputs for those beats (``morphology, rhythm`` as :func:`recording_inputs`
    returns them) and its calibrated probabilities ``probs``.
    Only what deployment has: RR intervals of the detected beats (prematurity relative to the
    running and local rhythm, the compensatory pause, the local RR irregularity that marks atrial
    fibrillation, where prematurity means little, and their product), the network's calibrated
    probabilities (log ratios to p_N) and :func:`morphology_features` of the network's morphology
    input (a premature beat with an unusual P wave but a usual QRS is the classic SVEB; a wide QRS
    unlike the template's is the classic VEB).
    """
    r = np.asarray(rhythm)
    p = np.maximum(np.asarray(probs, dtype=np.float64), _P_FLOOR)
    log_pre_run, log_post_run, log_local_run, log_pre_local, log_post_pre, irregular = (r[:, k] for k in range(6))
    return np.column_stack([log_pre_run, log_post_run, log_pre_local, log_post_pre, log_local_run, irregular,
                            irregular * log_pre_local, np.log(p[:, 1] / p[:, 0]), np.log(p[:, 2] / p[:, 0]),
                            np.log(p[:, 3] / p[:, 0]), morphology_features(morphology)])


#: Classes the second stage decides between (indices into ``CLASSES``): N and SVEB. The network's
#: VEB share stands (a re-decided beat whose N and SVEB shares both fall below it becomes VEB; only
#: the heuristics move shares: :func:`wide_qrs_beats` SVEB to VEB, :func:`fusion_beats` VEB to F): a
#: stage that also re-decided VEB raised VEB Se but lowered its +P more (cross-validated VEB F1
#: 86.7% vs 88.2%, README "Beat classification").
STAGE_CLASSES = (0, 1)
#: Beats the second stage re-decides: those the network labels N or SVEB.
STAGE_INPUT_LABELS = (0, 1)


#: Atrial fibrillation: beats are taken to be in it where, over ``AF_BEATS`` beats on each side,
#: the median correlation of the supraventricular beats' P-wave region with their template's is
#: below ``AF_P_CORRELATION`` (no consistent P wave) AND the median local RR irregularity is above
#: ``AF_IRREGULARITY`` (README "Beat classification"). The stage stores the values it was fitted with.
AF_BEATS = 30
AF_P_CORRELATION = 0.4
AF_IRREGULARITY = 0.1


def p_wave_correlation(morphology: np.ndarray) -> np.ndarray:
    """``(n,)`` correlation of each beat's P-wave region with its template's (the network's morphology input).

    Near 1 in sinus rhythm, and mostly positive for atrial premature beats (a P wave is present,
    if shaped differently); near 0 without P waves (the fibrillatory waves of atrial fibrillation
    follow no pattern from beat to beat).
    """
    if isinstance(morphology, BeatShapes):
        return morphology.p_wave
    m = np.asarray(morphology)
    if len(m) == 0:
        return np.zeros(0)
    beat = m[:, _P_WAVE, 0].astype(np.float64)
    return _correlation(beat, beat - m[:, _P_WAVE, 1])


def atrial_fibrillation(morphology, rhythm, labels, *, beats: int = AF_BEATS, p_correlation: float = AF_P_CORRELATION,
                        irregularity: float = AF_IRREGULARITY) -> np.ndarray:
    """``(n,)`` bool: beats of ONE recording (time order) inside atrial fibrillation.

    The textbook ECG signs, both required: no consistent P wave (median :func:`p_wave_correlation`
    over ``beats`` supraventricular beats on each side below ``p_correlation``) and an irregular
    rhythm (median local irregularity, the ``irregularity`` rhythm input, over as many beats above
    ``irregularity``). Atrial flutter is caught where its conduction varies (irregular RR), not
    where it is fixed. Ventricular beats (``labels`` VEB, F or Q: indices into ``CLASSES``) are left
    out of the P-wave median, so ventricular bigeminy, whose premature beats have no P wave, does
    not look like fibrillation; they are flagged like their neighbours, and a run of ventricular
    tachycardia or flutter (no P waves, irregular) is flagged too. Without rhythm (segments)
    nothing is flagged.
    """
    labels = np.asarray(labels)
    n = len(labels)
    sv = np.flatnonzero(np.isin(labels, STAGE_INPUT_LABELS))
    if n == 0 or sv.size == 0:
        return np.zeros(n, bool)
    size = 2 * beats + 1
    # "reflect": near the ends the median sees real beats, not copies of the first or last one
    corr = ndimage.median_filter(p_wave_correlation(morphology)[sv], size=size, mode="reflect")
    corr = corr[np.minimum(np.searchsorted(sv, np.arange(n)), sv.size - 1)]  # a ventricular beat: the next one's
    irregular = ndimage.median_filter(np.asarray(rhythm, dtype=np.float64)[:, RHYTHM_FEATURES.index("irregularity")],
                                      size=size, mode="reflect")
    return (corr < p_correlation) & (irregular > irregularity)


#: Fusion heuristic: a beat labelled VEB (not in a ventricular run) is relabelled F where it comes
#: on the running rhythm's time (``|log(previous RR / running RR)|`` below ``FUSION_TIMING``) after a
#: P wave like its template's (:func:`p_wave_correlation` above ``FUSION_P_CORRELATION``), the timing and P wave
#: of a fusion beat (README "Beat classification"). The stage stores the values it is applied with;
#: a card without them gets these.
FUSION_P_CORRELATION = 0.5
FUSION_TIMING = 0.1
#: VEB-labelled beats in a run of this many or more (ventricular tachycardia, idioventricular
#: rhythm) are never taken as fusion: there the template and the running rhythm can be the run's own.
FUSION_MAX_RUN = 3


def fusion_beats(morphology, rhythm, labels, *, p_correlation: float = FUSION_P_CORRELATION,
                 timing: float = FUSION_TIMING) -> np.ndarray:
    """``(n,)`` bool: beats of ONE recording labelled VEB that have the timing and P wave of a fusion beat.

    A ventricular-looking beat (``labels``, indices into ``CLASSES``, is VEB) that arrives when the
    next sinus beat was due (its previous RR within ``timing``, as a log ratio, of the running
    rhythm) and after a P wave shaped like its template's (correlation above ``p_correlation``):
    the timing and P wave of a fusion beat, or of a late ventricular beat that the sinus impulse
    met. A premature ventricular beat has no time for a sinus P wave before it. Beats in a run of
    ``FUSION_MAX_RUN`` or more VEB are not taken (there the template and the running rhythm can be
    the run's own), nor the first and last beats, nor recordings of fewer than
    ``MIN_TEMPLATE_BEATS`` beats; without rhythm (segments) nothing is flagged.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if n < MIN_TEMPLATE_BEATS:
        return np.zeros(n, bool)
    r = np.asarray(rhythm, dtype=np.float64)
    known = r[:, N_RHYTHM - 1] > 0
    on_time = np.abs(r[:, RHYTHM_FEATURES.index("log_pre_run")]) < timing
    veb = labels == CLASSES.index("VEB")
    first, last = runs_of(veb).T
    lengths = last - first + 1
    run = np.zeros(n, int)
    run[veb] = np.repeat(lengths, lengths)  # each VEB beat: the length of its run
    eligible = run < FUSION_MAX_RUN
    eligible[[0, -1]] = False
    return veb & eligible & known & on_time & (p_wave_correlation(morphology) > p_correlation)


#: Wide-QRS heuristic: a beat labelled SVEB is relabelled VEB where its QRS is wider than usual
#: (log width ratio above ``WIDE_QRS_WIDTH``) and unlike the template's (Fisher z of the QRS
#: correlation below ``WIDE_QRS_CORRELATION``), both relative to their running medians
#: (:func:`morphology_features`), and no P wave like the template's precedes it
#: (:func:`p_wave_correlation` below ``WIDE_P_CORRELATION``). The stage stores the values it is
#: applied with; a card without them gets these.
WIDE_QRS_WIDTH = 0.5
WIDE_QRS_CORRELATION = -0.5
WIDE_P_CORRELATION = 0.2


def wide_qrs_beats(morphology, labels, *, width: float = WIDE_QRS_WIDTH,
                   qrs_correlation: float = WIDE_QRS_CORRELATION, p_correlation: float = WIDE_P_CORRELATION,
                   features=None) -> np.ndarray:
    """``(n,)`` bool: beats of ONE recording labelled SVEB whose QRS and missing P wave look ventricular.

    A supraventricular beat reaches the ventricles through the normal conduction system, so its QRS
    is normally narrow and shaped like the usual one; a wide QRS unlike the template, with no P
    wave like the usual one before it, is the classic ventricular beat. An aberrantly conducted
    supraventricular beat can look the same, which is why a P wave like the template's keeps the
    beat SVEB. ``labels``: indices into ``CLASSES``; ``features``: :func:`morphology_features` of
    ``morphology`` where already computed.
    """
    labels = np.asarray(labels)
    sveb = labels == CLASSES.index("SVEB")
    if not sveb.any():
        return np.zeros(len(labels), bool)
    f = morphology_features(morphology) if features is None else np.asarray(features)
    return sveb & (f[:, 5] > width) & (f[:, 0] < qrs_correlation) & (p_wave_correlation(morphology) < p_correlation)


@dataclass(frozen=True)
class StackedStage:
    """Second stage: logistic regression over :data:`STAGE_CLASSES` (N / SVEB) on standardised :data:`STAGE_FEATURES`.

    It re-decides the beats the network labels N or SVEB outside atrial fibrillation (an N beat may
    be a barely premature SVEB with a P wave unlike the template's; a beat the network took for SVEB
    may be an irregular N beat). ``mean``/``scale`` standardise the features; ``coef``
    ``(n_features, k)`` and ``intercept`` ``(k,)``, ``k = len(STAGE_CLASSES)``, are the fitted
    coefficients (``models/model_card.json`` key ``"second_stage"``). SVEB beats were up-weighted in
    the fit, so its output is a decision score, not a calibrated probability. ``af_beats``,
    ``af_p_correlation`` and ``af_irregularity`` are the settings of :func:`atrial_fibrillation` it
    was fitted and is applied with; ``wide_qrs_width``, ``wide_qrs_correlation`` and
    ``wide_p_correlation`` those of :func:`wide_qrs_beats`, and ``fusion_p_correlation`` and
    ``fusion_timing`` those of :func:`fusion_beats`, the heuristics applied after it.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    af_beats: int = AF_BEATS
    af_p_correlation: float = AF_P_CORRELATION
    af_irregularity: float = AF_IRREGULARITY
    fusion_p_correlation: float = FUSION_P_CORRELATION
    fusion_timing: float = FUSION_TIMING
    wide_qrs_width: float = WIDE_QRS_WIDTH
    wide_qrs_correlation: float = WIDE_QRS_CORRELATION
    wide_p_correlation: float = WIDE_P_CORRELATION

    @classmethod
    def from_dict(cls, d: dict) -> StackedStage:
        refit = "Refit it with `python -m ecg_core.train --fit-stage`."
        if list(d.get("features", [])) != list(STAGE_FEATURES) or np.shape(d.get("coef")) != (
                len(STAGE_FEATURES), len(STAGE_CLASSES)):
            raise ECGError("The second stage in model_card.json was fitted on other features than this version "
                           f"of the software computes. {refit}")
        if not {"af_beats", "af_p_correlation", "af_irregularity"} <= set(d):
            raise ECGError("The second stage in model_card.json predates the atrial fibrillation rule of this version "
                           f"of the software. {refit}")
        # the fusion and wide-QRS rules are not fitted: a card from before them gets the default settings
        d = {**{f.name: f.default for f in fields(cls) if f.name.startswith(("fusion_", "wide_"))}, **d}
        return cls(np.asarray(d["mean"], float), np.asarray(d["scale"], float), np.asarray(d["coef"], float),
                   np.asarray(d["intercept"], float), **{k: t(d[k]) for k, t in _RULE_SETTINGS.items()})

    def to_dict(self) -> dict:
        return {"features": list(STAGE_FEATURES), "classes": [CLASSES[k] for k in STAGE_CLASSES],
                "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept.tolist(), **{k: getattr(self, k) for k in _RULE_SETTINGS}}

    def probability(self, features) -> np.ndarray:
        """``(n, len(STAGE_CLASSES))`` the stage's shares of :data:`STAGE_CLASSES` for feature rows."""
        z = ((np.asarray(features, float) - self.mean) / self.scale) @ self.coef + self.intercept
        return softmax(z)

    def atrial_fibrillation(self, probs, morphology, rhythm) -> np.ndarray:
        """:func:`atrial_fibrillation` with this stage's settings and the labels of the network's ``probs``."""
        labels = np.asarray(probs).argmax(axis=1) if len(probs) else np.zeros(0, int)
        return atrial_fibrillation(morphology, rhythm, labels, beats=self.af_beats,
                                   p_correlation=self.af_p_correlation, irregularity=self.af_irregularity)

    def apply(self, probs, morphology, rhythm, *, in_af=None) -> np.ndarray:
        """Class probabilities with the N+SVEB share of the beats :func:`stage_beats` picks split by the stage.

        ``morphology, rhythm`` are the network's inputs for the same beats (:func:`recording_inputs`);
        ``in_af``, :meth:`atrial_fibrillation` of them where already computed. N/SVEB-labelled beats
        inside atrial fibrillation get the whole N+SVEB share as N; then beats labelled SVEB that
        :func:`wide_qrs_beats` picks get their SVEB share as VEB, and beats labelled VEB outside
        atrial fibrillation that :func:`fusion_beats` picks get their VEB share as F (heuristics'
        decisions, not calibrated probabilities); other beats keep the network's probabilities.
        Every row still sums to 1.
        """
        p = np.array(probs, dtype=np.float64).reshape(-1, len(CLASSES))
        in_af = self.atrial_fibrillation(p, morphology, rhythm) if in_af is None else np.asarray(in_af, bool)
        decided, to_n = stage_beats(p, in_af)
        n, sveb = STAGE_CLASSES
        features = None
        if np.any(decided):
            cols = [n, sveb]
            features = stage_features(morphology, rhythm, p)
            q = self.probability(features[decided])
            p[np.ix_(decided, cols)] = q * p[np.ix_(decided, cols)].sum(axis=1, keepdims=True)
        p[to_n, n] += p[to_n, sveb]
        p[to_n, sveb] = 0.0
        veb, f = CLASSES.index("VEB"), CLASSES.index("F")
        wide = wide_qrs_beats(morphology, p.argmax(axis=1),
                              width=self.wide_qrs_width, qrs_correlation=self.wide_qrs_correlation,
                              p_correlation=self.wide_p_correlation,
                              features=None if features is None else features[:, -N_MORPHOLOGY_FEATURES:])
        p[wide, veb] += p[wide, sveb]
        p[wide, sveb] = 0.0
        fused = fusion_beats(morphology, rhythm, p.argmax(axis=1),
                             p_correlation=self.fusion_p_correlation, timing=self.fusion_timing) & ~in_af & ~wide
        p[fused, f] += p[fused, veb]
        p[fused, veb] = 0.0
        return p


#: The rule settings a :class:`StackedStage` stores, with their types.
_RULE_SETTINGS = {"af_beats": int, "af_p_correlation": float, "af_irregularity": float,
                  "fusion_p_correlation": float, "fusion_timing": float, "wide_qrs_width": float,
                  "wide_qrs_correlation": float, "wide_p_correlation": float}


def stage_beats(probs, in_af) -> tuple[np.ndarray, np.ndarray]:
    """Which beats of ONE recording the second stage decides, and which become N as atrial fibrillation.

    Of the beats the network labels N or SVEB (``probs``, its calibrated probabilities), those
    inside atrial fibrillation (``in_af``, from :func:`atrial_fibrillation`) are not SVEB: without
    sinus P waves there is no atrial rhythm for a beat to be premature to, and the MIT-BIH
    annotators label the irregular beats of fibrillation normal. The stage decides the others; it is
    fitted on the same beats.

    Returns
    -------
    decided, to_n : numpy.ndarray of bool, shape (n,)
    """
    p = np.asarray(probs)
    candidates = np.isin(p.argmax(axis=1), STAGE_INPUT_LABELS) if len(p) else np.zeros(0, bool)
    to_n = candidates & np.asarray(in_af, bool)
    return candidates & ~to_n, to_n


# ----------------------------------------------------------------------------------------------
# The network (Keras, imported lazily)
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# Inference
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordingPrediction:
    """Per-beat output of :meth:`BeatClassifier.predict_recording` for ONE recording.

    ``probabilities``: ``(n, len(CLASSES))``; ``atrial_fibrillation``: ``(n,)`` bool, the beats the
    network labels N or SVEB that lie in atrial fibrillation and so are N (:func:`stage_beats`),
    with or without a second stage (:func:`atrial_fibrillation_rule`).
    """

    probabilities: np.ndarray
    atrial_fibrillation: np.ndarray | None


def atrial_fibrillation_rule(probs, morphology, rhythm) -> RecordingPrediction:
    """The network's probabilities with no beat SVEB inside atrial fibrillation (no second stage).

    Beats the network labels N or SVEB that :func:`atrial_fibrillation` (default settings) puts in
    fibrillation get their N + SVEB share as N (a decision, not a calibrated probability); every other
    beat keeps the network's calibrated probabilities.
    """
    p = np.array(probs, dtype=np.float64).reshape(-1, len(CLASSES))
    labels = p.argmax(axis=1) if len(p) else np.zeros(0, int)
    to_n = stage_beats(p, atrial_fibrillation(morphology, rhythm, labels))[1]
    n, sveb = STAGE_CLASSES
    p[to_n, n] += p[to_n, sveb]
    p[to_n, sveb] = 0.0
    return RecordingPrediction(p, to_n)


class BeatClassifier:
    """The trained classifier with its calibration.

    Parameters
    ----------
    network : keras.Model
        Maps ``[morphology, rhythm]`` to logits.
    temperatures : dict
        ``{"rhythm": T, "morphology": T}`` temperature per path.
    version : str
        Model version (training date + short hash of the weights).
    stage : StackedStage, optional
        Second stage applied by :meth:`predict` (beats of a recording, not segments); without it the
        network's probabilities go through :func:`atrial_fibrillation_rule` alone.
    """

    def __init__(self, network, temperatures: dict | None = None, version: str = "",
                 stage: StackedStage | None = None):
        import tensorflow as tf

        self.network = network
        self.stage = stage
        self.temperatures = {"rhythm": 1.0, "morphology": 1.0, **(temperatures or {})}
        self.version = version or f"unversioned-{weights_digest(network)}"
        self._call = tf.function(lambda m, r: network([m, r], training=False), reduce_retracing=True)

    def logits(self, morphology: np.ndarray, rhythm: np.ndarray) -> np.ndarray:
        """Raw network logits for prepared inputs, computed in batches."""
        out = []
        for i in range(0, len(morphology), BATCH):
            out.append(np.asarray(self._call(morphology[i:i + BATCH], rhythm[i:i + BATCH])))
        return np.concatenate(out) if out else np.zeros((0, len(CLASSES)), np.float32)

    def predict(self, beats: Beats) -> np.ndarray:
        """``(n, 5)`` class probabilities for the beats of ONE recording (morphology + rhythm).

        The network's calibrated probabilities; where the second stage is loaded, the N+SVEB
        share of beats the network labels N or SVEB is then split by it, no beat inside atrial
        fibrillation is called SVEB, SVEB beats with a wide, unusual QRS and no usual P wave are
        VEB, and VEB beats with the timing and P wave of a fusion beat are F (:meth:`StackedStage.apply`).
        """
        return self.predict_recording(beats).probabilities

    def predict_recording(self, beats: Beats | PreparedBeats) -> RecordingPrediction:
        """:meth:`predict`'s probabilities and which of its N beats are N as atrial fibrillation.

        ``beats``: :class:`~ecg_core.beats.Beats`, or the :class:`PreparedBeats` of them. The network
        inputs are built, and the network run, ``CHUNK`` beats at a time
        (:meth:`RecordingInputs.blocks`), keeping of each block only the measures the rules and the
        second stage read (:class:`BeatShapes`), so a 24-hour recording's inputs are never all in
        memory; the numbers are those of one pass over all of them (``tests/test_chunked_inputs.py``).
        """
        inputs = prepare_beats(beats).inputs
        if len(inputs) == 0:
            return RecordingPrediction(np.zeros((0, len(CLASSES))), None if self.stage is None else np.zeros(0, bool))
        logits, shapes = self._run(inputs, shapes=True)
        if len(inputs) > CHUNK:
            _give_back_freed_memory()  # the blocks' freed temporaries, before the stage allocates its own
        r = inputs.rhythm
        probs = softmax(logits, self.temperatures["rhythm"])
        if self.stage is None:
            return atrial_fibrillation_rule(probs, shapes, r)
        in_af = self.stage.atrial_fibrillation(probs, shapes, r)
        return RecordingPrediction(self.stage.apply(probs, shapes, r, in_af=in_af), stage_beats(probs, in_af)[1])

    def _run(self, inputs: RecordingInputs, *, shapes: bool = False) -> tuple[np.ndarray, BeatShapes | None]:
        """The network's logits for ``inputs`` and, with ``shapes``, their :class:`BeatShapes`, block by block."""
        logits = np.empty((len(inputs), len(CLASSES)), dtype=np.float32)
        parts = []
        for start, stop, m, r in inputs.blocks():
            logits[start:stop] = self.logits(m, r)
            if shapes:
                parts.append(BeatShapes.of(m))
        return logits, BeatShapes.concatenate(parts) if shapes else None

    def predict_segments(self, windows) -> np.ndarray:
        """Calibrated ``(n, 5)`` probabilities for pre-cut beats without rhythm (morphology only).

        ``windows``: rows of ``BEAT_WINDOW`` samples at ``FS`` centred on the R-peak, all from the
        same recording (their median is the template), in any amplitude unit.
        """
        windows = _check_windows(windows)
        if len(windows) == 0:
            return np.zeros((0, len(CLASSES)))
        return softmax(self._run(prepare_recording(windows, None))[0], self.temperatures["morphology"])

    def warm_up(self) -> None:
        """Run the network on two batch sizes so TensorFlow traces its shape-generic graph now.

        Otherwise the first real request after loading (a new batch size) pays seconds of tracing.
        """
        t = np.arange(BEAT_WINDOW) - BEAT_WINDOW // 2
        rng = np.random.default_rng(0)
        for n in (3, 7):
            self.predict_segments(np.exp(-0.5 * (t / 6.0) ** 2)[None, :] + 0.02 * rng.standard_normal((n, BEAT_WINDOW)))


def _give_back_freed_memory() -> None:
    """Return the C heap's free pages to the system (glibc ``malloc_trim``; nothing elsewhere).

    The blocks' temporaries, freed, stay in the allocator's arenas (TensorFlow's threads have their
    own) and count in the process's resident memory; on a 24-hour recording that is ~0.1 GB.
    """
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _check_windows(windows) -> np.ndarray:
    try:
        w = np.asarray(windows, dtype=np.float32)
    except (TypeError, ValueError):
        raise ECGError("Beat segments must be numbers: check the file's values.") from None
    if w.ndim != 2 or w.shape[1] != BEAT_WINDOW:
        raise ECGError(
            f"Each beat segment must have {BEAT_WINDOW} samples (1 s at {FS} Hz, R-peak in the middle); "
            f"got an array of shape {w.shape}. Resample or re-cut the segments."
        )
    if not all(np.isfinite(w[a:a + CHUNK]).all() for a in range(0, len(w), CHUNK)):  # no full-size mask
        raise ECGError("Some beat segments contain empty or non-numeric values (NaN). Remove or fix those rows.")
    return w


def read_card(path: Path | str = MODEL_CARD_JSON) -> dict:
    """The machine-readable model card (empty dict if absent)."""
    p = Path(path)
    return json.loads(p.read_text()) if p.exists() else {}


@functools.lru_cache(maxsize=4)
def load_classifier(path: Path | str | None = None) -> BeatClassifier:
    """Load the shipped classifier once (cached per path).

    Parameters
    ----------
    path : path-like, optional
        ``.keras`` file; defaults to ``config.MODEL_PATH``. Temperatures and version come from
        ``model_card.json`` beside it.

    Raises
    ------
    ECGError
        The model file is missing or unreadable.
    """
    p = Path(path) if path is not None else MODEL_PATH
    if not p.exists():
        raise ECGError(
            f"The beat classifier model file {p} is missing. Train it with `python -m ecg_core.train` "
            "(from the project folder) or restore models/ from the repository."
        )
    import keras

    try:
        network = keras.saving.load_model(p, compile=False)
    except Exception as exc:  # noqa: BLE001 - any load failure becomes one clear message
        raise ECGError(f"The beat classifier model file {p} could not be read ({exc}). "
                       "Retrain it with `python -m ecg_core.train`.") from None
    card = read_card(p.parent / MODEL_CARD_JSON.name)
    cal = card.get("calibration", {})
    temps = {k: float(v["temperature"]) for k, v in cal.items() if isinstance(v, dict) and "temperature" in v}
    stage = card.get("second_stage", {}).get("stage")
    return BeatClassifier(network, temps, card.get("version", ""), StackedStage.from_dict(stage) if stage else None)


def load_for_serving(path: Path | str | None = None) -> BeatClassifier:
    """:func:`load_classifier` for a long-running server (the dashboard, the REST API).

    The classifier is warmed up (:meth:`BeatClassifier.warm_up`), then the objects alive at that point
    (TensorFlow's, ~400k, living as long as the process) are moved out of the garbage collector's way:
    otherwise every full collection scans them and stalls a request by hundreds of ms (Streamlit
    triggers one after each run when it clears the Keras session).
    """
    import gc

    classifier = load_classifier(path)
    classifier.warm_up()
    gc.collect()
    gc.freeze()
    return classifier


__all__ = ["BeatClassifier", "StackedStage",
           "atrial_fibrillation_rule", "STAGE_FEATURES", "STAGE_CLASSES", "stage_features", "load_classifier",
           "atrial_fibrillation", "p_wave_correlation", "stage_beats", "load_for_serving", "RecordingPrediction",
           "recording_inputs", "prepare_recording", "RecordingInputs", "BeatShapes", "PreparedBeats", "prepare_beats",
           "morphology_input", "morphology_features", "rhythm_input",
           "recording_template", "local_templates", "regular_beats", "prepare_windows", "build_network", "softmax",
           "rr_features"]
