"""The run-time beat classifier, for inference only: one module a step.

=================  ==============================================================================
``inputs``         patient-relative network inputs of one recording's beats (:func:`prepare_beats`)
``features``       the per-beat shape measures the stage and the rules read (:class:`BeatShapes`)
``rules``          the hand rules, each a frozen dataclass with an ``apply``: atrial fibrillation,
                   wide QRS, fusion, supraventricular runs
``stage``          the stacked second stage (:class:`StackedStage`) and :func:`pipeline`, the order
                   of the steps after the network
``network``        the Keras network: build, load, batched logits, ``softmax`` (the only module
                   that imports TensorFlow, lazily)
``inference``      :class:`BeatClassifier` (network, then the steps), :func:`load_classifier`
``settings``       the run-time file ``classifier.json`` (version, temperatures, stage) that
                   loading reads, written from the model card
=================  ==============================================================================

Importing the package does not import TensorFlow.
"""

from .features import (
    N_MORPHOLOGY_FEATURES,
    P_WAVE_MS,
    RELATIVE_BEATS,
    BeatShapes,
    morphology_features,
    p_wave_correlation,
)
from .inference import (
    BeatClassifier,
    RecordingPrediction,
    atrial_fibrillation_rule,
    load_classifier,
    load_for_serving,
)
from .inputs import (
    CHUNK,
    CLIP,
    DOWNSAMPLE,
    MEDIAN_BLOCK,
    MIN_LOCAL_BEATS,
    MIN_TEMPLATE_BEATS,
    MORPH_CHANNELS,
    MORPH_LEN,
    N_RHYTHM,
    REGULAR_TOLERANCE,
    RHYTHM_FEATURES,
    TEMPLATE_BLOCK,
    TEMPLATE_SPAN,
    PreparedBeats,
    RecordingInputs,
    local_templates,
    morphology_input,
    prepare_beats,
    prepare_recording,
    prepare_windows,
    recording_inputs,
    recording_template,
    regular_beats,
    rhythm_input,
)
from .network import (
    BATCH,
    build_network,
    softmax,
    weights_digest,
)
from .rules import (
    AF_BEATS,
    AF_IRREGULARITY,
    AF_P_CORRELATION,
    FUSION_MAX_RUN,
    FUSION_P_CORRELATION,
    FUSION_TIMING,
    STAGE_CLASSES,
    STAGE_INPUT_LABELS,
    WIDE_P_CORRELATION,
    WIDE_QRS_CORRELATION,
    WIDE_QRS_WIDTH,
    AtrialFibrillationRule,
    Decision,
    FusionRule,
    SupraventricularRunRule,
    WideQRSRule,
    atrial_fibrillation,
    fusion_beats,
    stage_beats,
    supraventricular_runs,
    wide_qrs_beats,
)
from .settings import SETTINGS_FORMAT, read_card, read_settings, settings_from_card, write_settings
from .stage import (
    STAGE_FEATURES,
    StackedStage,
    StageStep,
    pipeline,
    stage_features,
)

__all__ = [
    "AF_BEATS",
    "AF_IRREGULARITY",
    "AF_P_CORRELATION",
    "AtrialFibrillationRule",
    "BATCH",
    "BeatClassifier",
    "BeatShapes",
    "CHUNK",
    "CLIP",
    "DOWNSAMPLE",
    "Decision",
    "FUSION_MAX_RUN",
    "FUSION_P_CORRELATION",
    "FUSION_TIMING",
    "FusionRule",
    "MEDIAN_BLOCK",
    "MIN_LOCAL_BEATS",
    "MIN_TEMPLATE_BEATS",
    "MORPH_CHANNELS",
    "MORPH_LEN",
    "N_MORPHOLOGY_FEATURES",
    "N_RHYTHM",
    "P_WAVE_MS",
    "PreparedBeats",
    "REGULAR_TOLERANCE",
    "RELATIVE_BEATS",
    "RHYTHM_FEATURES",
    "RecordingInputs",
    "SETTINGS_FORMAT",
    "RecordingPrediction",
    "STAGE_CLASSES",
    "STAGE_FEATURES",
    "STAGE_INPUT_LABELS",
    "StackedStage",
    "StageStep",
    "SupraventricularRunRule",
    "TEMPLATE_BLOCK",
    "TEMPLATE_SPAN",
    "WIDE_P_CORRELATION",
    "WIDE_QRS_CORRELATION",
    "WIDE_QRS_WIDTH",
    "WideQRSRule",
    "atrial_fibrillation",
    "atrial_fibrillation_rule",
    "build_network",
    "fusion_beats",
    "load_classifier",
    "load_for_serving",
    "local_templates",
    "morphology_features",
    "morphology_input",
    "p_wave_correlation",
    "pipeline",
    "prepare_beats",
    "prepare_recording",
    "prepare_windows",
    "read_card",
    "recording_inputs",
    "recording_template",
    "read_settings",
    "regular_beats",
    "rhythm_input",
    "settings_from_card",
    "softmax",
    "stage_beats",
    "stage_features",
    "supraventricular_runs",
    "weights_digest",
    "wide_qrs_beats",
    "write_settings",
]
