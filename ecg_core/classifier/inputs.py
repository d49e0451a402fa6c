"""Patient-relative network inputs of one recording's beats (numpy only).

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..beats import LOCAL_BEATS, Beats, RRFeatures
from ..config import BEAT_WINDOW, FS
from ..errors import ECGError

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
#: Beats per block of the recording path (:class:`RecordingInputs`): the network inputs, the network and
#: the per-beat shape measures (:class:`~ecg_core.classifier.features.BeatShapes`) are computed one block
#: at a time, never for every beat of a long recording at once. A multiple of the network's batch
#: (:data:`ecg_core.classifier.network.BATCH`) and of ``TEMPLATE_BLOCK``, so the network sees the very
#: batches of one pass over the recording and every block starts a template block: the numbers are
#: those of one pass (``tests/test_chunked_inputs.py``).
CHUNK = 2048
#: Values per column block of :func:`_median0` (about 4 MB of float32 for each copy it makes).
MEDIAN_BLOCK = 1 << 20


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
    (TensorFlow) is loaded. :meth:`~ecg_core.classifier.inference.BeatClassifier.predict_recording` takes either.
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
    return PreparedBeats(beats.samples, prepare_recording(check_windows(beats.windows), beats.rr), beats.quality)


def recording_inputs(windows, rr: RRFeatures | None) -> tuple[np.ndarray, np.ndarray]:
    """Network inputs ``(morphology, rhythm)`` for the beats of ONE recording, in time order.

    All beats at once (training, evaluation): :func:`prepare_recording`, expanded. With rhythm
    (``rr``): local templates of the regular beats. Without (segments, rr=None): one template, the
    median of all the segments.
    """
    inputs = prepare_recording(windows, rr)
    return inputs.morphology(), inputs.rhythm


def check_windows(windows) -> np.ndarray:
    """``windows`` as a float32 array of finite ``BEAT_WINDOW``-sample rows.

    Raises
    ------
    ECGError
        Values that are not numbers, rows of another length, or values that are not finite.
    """
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
