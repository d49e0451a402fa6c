"""The training lab: train, cross-validate and calibrate the beat classifier on the DS1 records of MIT-BIH.

The product (pipeline, CLI, API, dashboard) never imports this package. Usage (from the project folder)::

    python -m ecg_core.train train                     # train the shipped model on all 22 DS1 records
    python -m ecg_core.train cv                        # leave-one-record-out CV, calibration, model card, then train
    python -m ecg_core.train cv --e2e-dir out/         # ... and write out-of-fold <rec>.beats.csv at detected beats
    python -m ecg_core.train fit-stage out/            # fit the second stage on those files
    python -m ecg_core.train card                      # re-render MODEL_CARD.md from model_card.json

The flag forms of earlier versions (``--cv``, ``--fit-stage DIR``, ``--card-only``) still work.

Protocol: beats come from the reference annotations (AAMI classes, ventricular flutter episodes
``[``...``]`` left out), lead MLII chosen by name. Evaluation is leave-record-out (grouped by
record, never a random beat split); the shipped model is trained on all DS1 records with the same
fixed schedule (fixed epochs, cosine learning-rate decay, no early stopping). Temperatures are
fitted on the out-of-fold logits. Seeds fix numpy and Keras; TensorFlow's multi-threaded CPU
kernels are not bit-for-bit deterministic, so reruns agree to within a few beats, not exactly.

=====================  ==========================================================================
module                 what it holds
=====================  ==========================================================================
:mod:`.data`           records and noise (read through :mod:`ecg_core.io`), the schedule, epochs
:mod:`.fit`            network training, held-out logits, temperature, reliability
:mod:`.stage_fit`      the second stage: stage records, its fit, leave-one-record-out evaluation
:mod:`.grids`          the card's evaluation grids (SVEB weight, AF thresholds, heuristics)
:mod:`.cv`             cross-validation, end to end at detected beats, summaries
:mod:`.tables`         Markdown tables of score dicts
:mod:`.card_sections`  the card's second-stage sections
:mod:`.card`           ``model_card.json`` and ``MODEL_CARD.md`` (prose in ``model_card_template.md``)
:mod:`.runs`           what each command does
:mod:`.cli`            the command line (``train``, ``cv``, ``fit-stage``, ``card``)
=====================  ==========================================================================
"""

from .card import _json_default, prose, prose_values, save_card, write_model_card_md
from .card_sections import (
    _SVEB_SYMBOLS,
    _af_section,
    _fusion_section,
    _reference_beats_section,
    _relabelled_line,
    _rule_grid_table,
    _stage_per_record_table,
    _stage_section,
    _sveb_kinds_section,
    _sveb_weight_section,
    _wide_qrs_section,
    _without_line,
)
from .cli import _command, _overrides, main
from .cv import _detect, cross_validate, end_to_end, folds_of, record_entry, reference_scorer, summarise
from .data import (
    DEFAULT_DATA_DIR,
    DEFAULT_NOISE_DIR,
    MARGIN,
    Pool,
    Record,
    Schedule,
    _centre,
    _relative,
    class_weights,
    load_noise,
    load_record,
    make_epoch,
    read_mlii,
    reference_rhythm,
    write_beats_csv,
)
from .fit import RELIABILITY_BINS, _ensemble, _logits, fit_temperature, heldout_logits, reliability, train_network
from .grids import (
    _RULE_OFF,
    AF_GRID,
    AF_RHYTHMS,
    FUSION_GRID,
    ONE_RECORD_SHARE,
    SVEB_WEIGHT_GRID,
    WIDE_QRS_GRID,
    af_detection,
    af_grid,
    rule_grid,
    sveb_kinds,
    sveb_weight_grid,
)
from .runs import stage_card
from .stage_fit import (
    STAGE_L2,
    STAGE_SVEB_WEIGHT,
    StageRecord,
    _score_stage_record,
    _stage_training_rows,
    _sveb_veb_counts,
    evaluate_stage,
    fit_stage,
    fit_stage_on,
    load_stage_record,
    loro_stages,
    stacked_probs,
    stage_rows,
)
from .tables import (
    BARS,
    _bars_table,
    _other_run,
    _pct,
    _per_record_table,
    _reliability_table,
    _score_line,
    confusion_table,
    score_table,
)
