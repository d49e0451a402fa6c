"""Calibrated inference: the network, then the hand rules and the second stage, in order.

:class:`BeatClassifier` runs, for the beats of one recording, the network (block by block, with its
calibration) and then the steps of :func:`~ecg_core.classifier.stage.pipeline`: the atrial
fibrillation rule, the stacked stage, the wide-QRS and fusion rules, the groups of beats and the
supraventricular runs (the atrial fibrillation rule and the runs without a stage).
:func:`load_classifier` reads the shipped model and its calibration.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..beats import Beats
from ..config import BEAT_WINDOW, CLASSES, MODEL_PATH
from ..memory import give_back_freed_memory
from .features import BeatShapes
from .inputs import PreparedBeats, RecordingInputs, check_windows, prepare_beats, prepare_recording
from .network import batched_logits, inference_call, load_network, softmax, weights_digest
from .rules import Decision
from .settings import read_settings
from .stage import StackedStage, pipeline, run


@dataclass(frozen=True)
class RecordingPrediction:
    """Per-beat output of :meth:`BeatClassifier.predict_recording` for ONE recording.

    ``probabilities``: ``(n, len(CLASSES))``; ``atrial_fibrillation``: ``(n,)`` bool, the beats the
    network labels N or SVEB that lie in atrial fibrillation and so are N (:func:`stage_beats`),
    with or without a second stage (:func:`atrial_fibrillation_rule`); ``decided``: ``(n,)`` bool, the
    beats whose top share is no longer the network's calibrated probability of that class (a step after
    the network moved it), or None where not tracked.
    """

    probabilities: np.ndarray
    atrial_fibrillation: np.ndarray | None
    decided: np.ndarray | None = None


def atrial_fibrillation_rule(probs, morphology, rhythm) -> RecordingPrediction:
    """The network's probabilities after the steps without a second stage (``pipeline(None)``).

    Beats the network labels N or SVEB that :func:`~ecg_core.classifier.rules.atrial_fibrillation`
    (default settings) puts in fibrillation get their N + SVEB share as N, and N-labelled beats of the
    runs :func:`~ecg_core.classifier.rules.supraventricular_runs` finds get their N share as SVEB
    (decisions, not calibrated probabilities); every other beat keeps the network's calibrated
    probabilities.
    """
    d = run(pipeline(None), Decision.start(probs, morphology, rhythm))
    return RecordingPrediction(d.probabilities, d.atrial_fibrillation)


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
        network's probabilities go through :func:`atrial_fibrillation_rule` (the atrial fibrillation
        rule and the supraventricular runs) alone.
    """

    def __init__(self, network, temperatures: dict | None = None, version: str = "",
                 stage: StackedStage | None = None):
        self.network = network
        self.stage = stage
        self.temperatures = {"rhythm": 1.0, "morphology": 1.0, **(temperatures or {})}
        self.version = version or f"unversioned-{weights_digest(network)}"
        #: The steps after the network, in order (:func:`~ecg_core.classifier.stage.pipeline`).
        self.steps = pipeline(stage)
        self._call = inference_call(network)

    def logits(self, morphology: np.ndarray, rhythm: np.ndarray) -> np.ndarray:
        """Raw network logits for prepared inputs, computed in batches."""
        return batched_logits(self._call, morphology, rhythm)

    def predict(self, beats: Beats) -> np.ndarray:
        """``(n, 5)`` class probabilities for the beats of ONE recording (morphology + rhythm).

        The network's calibrated probabilities; where the second stage is loaded, the N+SVEB
        share of beats the network labels N or SVEB is then split by it, no beat inside atrial
        fibrillation is called SVEB, SVEB beats with a wide, unusual QRS and no usual P wave are
        VEB, and VEB beats with the timing, P wave and QRS of a fusion beat are F (:meth:`StackedStage.apply`).
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
            empty = None if self.stage is None else np.zeros(0, bool)
            return RecordingPrediction(np.zeros((0, len(CLASSES))), empty, empty)
        logits, shapes = self._run(inputs, shapes=True)
        probs = softmax(logits, self.temperatures["rhythm"])  # the network, calibrated
        d = run(self.steps, Decision.start(probs, shapes, inputs.rhythm))  # then the rules and the stage
        top = d.probabilities.argmax(axis=1)
        rows = np.arange(len(top))
        decided = d.probabilities[rows, top] != probs[rows, top]
        return RecordingPrediction(d.probabilities, d.atrial_fibrillation, decided)

    def _run(self, inputs: RecordingInputs, *, shapes: bool = False) -> tuple[np.ndarray, BeatShapes | None]:
        """The network's logits for ``inputs`` and, with ``shapes``, their :class:`BeatShapes`, block by block."""
        logits = np.empty((len(inputs), len(CLASSES)), dtype=np.float32)
        parts = []
        for start, stop, m, r in inputs.blocks():
            logits[start:stop] = self.logits(m, r)
            if shapes:
                parts.append(BeatShapes.of(m))
        if not shapes:
            return logits, None
        if len(parts) > 1:
            give_back_freed_memory()  # the blocks' freed temporaries, before the steps allocate their own
        return logits, BeatShapes.concatenate(parts)

    def predict_segments(self, windows) -> np.ndarray:
        """Calibrated ``(n, 5)`` probabilities for pre-cut beats without rhythm (morphology only).

        ``windows``: rows of ``BEAT_WINDOW`` samples at ``FS`` centred on the R-peak, all from the
        same recording (their median is the template), in any amplitude unit.
        """
        windows = check_windows(windows)
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


@functools.lru_cache(maxsize=4)
def load_classifier(path: Path | str | None = None) -> BeatClassifier:
    """Load the shipped classifier once (cached per path).

    Parameters
    ----------
    path : path-like, optional
        ``.keras`` file; defaults to ``config.MODEL_PATH``. Version, temperatures and second stage
        come from ``classifier.json`` beside it, or from ``model_card.json`` where there is none
        (:func:`~ecg_core.classifier.settings.read_settings`).

    Raises
    ------
    ECGError
        The model file is missing or unreadable.
    """
    p = Path(path) if path is not None else MODEL_PATH
    network = load_network(p)
    settings = read_settings(p.parent)
    stage = settings["stage"]
    return BeatClassifier(network, settings["temperatures"], settings["version"],
                          StackedStage.from_dict(stage) if stage else None)


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
