"""Project-wide constants: the single home of classes, rates, window sizes and model paths."""

from __future__ import annotations

from pathlib import Path

#: AAMI EC57 beat classes, in the order every probability vector uses.
CLASSES: tuple[str, ...] = ("N", "SVEB", "VEB", "F", "Q")

#: Internal sampling rate (Hz). Signals at other rates are resampled to it internally.
FS: int = 360

#: Beat window length in samples at ``FS`` (1 s), centred on the R-peak.
BEAT_WINDOW: int = 360

#: Default sampling rate assumed for files that do not state one (MIT-BIH rate).
DEFAULT_FS: float = 360.0

#: Plausible sampling-rate range for an ECG (Hz).
MIN_FS: float = 100.0
MAX_FS: float = 10_000.0

#: Shortest recording the pipeline accepts (seconds).
MIN_DURATION_S: float = 5.0

#: MIT-BIH symbol -> AAMI class. Symbols not listed (``+ ~ | " x ! [ ]`` ...) are not beats.
AAMI_MAP: dict[str, str] = {
    **dict.fromkeys("NLRej", "N"),
    **dict.fromkeys("AaJS", "SVEB"),
    **dict.fromkeys("VE", "VEB"),
    "F": "F",
    **dict.fromkeys("/fQ", "Q"),
}

#: DS1 training records of the inter-patient split (de Chazal et al. 2004).
DS1_RECORDS: tuple[str, ...] = (
    "101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122",
    "124", "201", "203", "205", "207", "208", "209", "215", "220", "223", "230",
)
#: Paced MIT-BIH records: part of detection benchmarks, excluded from classification metrics.
PACED_RECORDS: tuple[str, ...] = ("102", "104", "107", "217")

#: Lead preference when the caller does not choose one.
LEAD_PREFERENCE: tuple[str, ...] = ("MLII", "ECG")

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "models"
#: The classifier: beat morphology + patient-relative RR features; its "rhythm unknown" input
#: serves segments without rhythm (the morphology-only path).
MODEL_PATH = MODELS_DIR / "beat_classifier.keras"
#: What loading the classifier reads beside the network: version, calibration temperatures, second
#: stage coefficients and rule settings (written from the model card: ``ecg_core.classifier.settings``).
CLASSIFIER_JSON = MODELS_DIR / "classifier.json"
#: Machine-readable model card (figures, calibration temperatures, version): a report; a model
#: without ``classifier.json`` (one passed with --model) is loaded from it.
MODEL_CARD_JSON = MODELS_DIR / "model_card.json"
MODEL_CARD_MD = MODELS_DIR / "MODEL_CARD.md"

EXAMPLES_DIR = ROOT / "examples"
#: Bundled example recording (WFDB excerpt of MIT-BIH 208 with its reference annotations).
EXAMPLE_RECORD = EXAMPLES_DIR / "208_excerpt.hea"

#: Largest upload accepted by the app and the API (bytes).
MAX_UPLOAD_BYTES: int = 200 * 1024 * 1024
