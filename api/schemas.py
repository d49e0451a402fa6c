"""Request options and response bodies of the API (pydantic), with examples for OpenAPI.

Class names, probability columns and detector settings are generated from
``ecg_core.config.CLASSES`` and ``ecg_core.peaks.PARAMETERS``, their single homes.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from ecg_core.config import CLASSES, MAX_FS, MIN_FS
from ecg_core.peaks import PARAMETERS
from ecg_core.pipeline import LOW_CONFIDENCE, PATH_MORPHOLOGY, PATH_RHYTHM

Label = Literal[CLASSES]  # type: ignore[valid-type]
Path = Literal[PATH_RHYTHM, PATH_MORPHOLOGY]  # type: ignore[valid-type]

#: Most beat positions one request may give in ``peaks`` (24 h at 200 bpm).
MAX_PEAKS = 300_000

_EXAMPLE_P = (0.962, 0.004, 0.021, 0.012, 0.001)


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer."""

    error: str = Field(description="What was wrong and what to do about it.",
                       examples=["The file could not be read as an ECG recording: ..."])


# ---------------------------------------------------------------------------------------------
# Request options (the same model is read from the form fields and from the query string)
# ---------------------------------------------------------------------------------------------

class LoadOptions(BaseModel):
    """How to read the uploaded file."""

    model_config = ConfigDict(extra="ignore")

    sampling_rate: float | None = Field(
        None, ge=MIN_FS, le=MAX_FS, allow_inf_nan=False,
        description="Sampling rate in Hz, for files that do not state it (CSV without a time column). "
                    "Default 360 Hz. Ignored for WFDB and EDF, which state their own.",
        examples=[360.0])
    lead: str | None = Field(
        None, min_length=1, max_length=64,
        description="Lead (column or signal name) to analyse. Default: MLII if present, else ECG, else the first.",
        examples=["MLII"])


def _parse_peaks(value: Any) -> list[int] | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError("peaks is not a valid JSON list; give e.g. [370, 662, 948] or 370,662,948") from None
        else:
            value = [t for t in re.split(r"[\s,;]+", text) if t]
    if not isinstance(value, list):
        raise ValueError("peaks must be a list of sample numbers, e.g. 370,662,948 or [370, 662, 948]")
    if len(value) > MAX_PEAKS:
        raise ValueError(f"peaks has {len(value)} positions; at most {MAX_PEAKS} are accepted per request")
    out = []
    for v in value:
        try:
            f = float(v) if isinstance(v, int | float | str) and not isinstance(v, bool) else math.nan
        except ValueError:
            f = math.nan
        if not math.isfinite(f) or f != int(f) or f < 0:
            raise ValueError(f"peaks must be whole, non-negative sample numbers; {v!r} is not one")
        out.append(int(f))
    return out


_detector_fields = {
    p.name: (float | None, Field(None, ge=p.minimum, le=p.maximum, examples=[p.default],
                                 description=f"{p.label}: {p.help} Default {p.default:g}"
                                             f"{' ' + p.unit if p.unit else ''}; range {p.minimum:g}-{p.maximum:g}."))
    for p in PARAMETERS
}

_AnalyzeBase = create_model("_AnalyzeBase", __base__=LoadOptions, **_detector_fields)


class AnalyzeOptions(_AnalyzeBase):
    """Reading options, R-peak detector settings and optional given beat positions."""

    peaks: str | None = Field(
        None, max_length=4_000_000,
        description="Classify the beats at these R-peak positions (sample numbers of the uploaded signal) "
                    "instead of detecting them: comma/space separated or a JSON list. Detector settings "
                    "are then ignored.",
        examples=["370,662,948"])

    @field_validator("peaks")
    @classmethod
    def _check_peaks(cls, v):
        _parse_peaks(v)
        return v

    def peak_list(self) -> list[int] | None:
        return _parse_peaks(self.peaks)

    def detector_options(self) -> dict[str, float]:
        return {p.name: getattr(self, p.name) for p in PARAMETERS if getattr(self, p.name) is not None}


DETECTOR_NAMES = tuple(p.name for p in PARAMETERS)


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------

Counts = create_model(
    "Counts", __doc__="Number of beats of each AAMI class.",
    **{c: (int, Field(ge=0, examples=[n])) for c, n in zip(CLASSES, (240, 2, 68, 21, 0), strict=True)},
)

_prob_fields = {f"p_{c}": (float, Field(ge=0, le=1, examples=[p])) for c, p in zip(CLASSES, _EXAMPLE_P, strict=True)}
_row_fields = {"label": (Label, Field(examples=["N"])),
               "probability": (float, Field(ge=0, le=1, description="Probability of the label.", examples=[0.962])),
               **_prob_fields}
BeatAtSample = create_model(
    "BeatAtSample", __doc__="One beat of a recording (the CLI's beats.csv row).",
    sample=(int, Field(ge=0, description="R-peak sample index in the uploaded signal.", examples=[370])),
    **_row_fields,
    quality=(float, Field(ge=0, le=1, description="Signal quality at the beat (0-1; under 0.5, or in an unreadable "
                                                  "stretch, the beat is labelled Q and not classified).",
                          examples=[1.0])))
BeatAtSegment = create_model(
    "BeatAtSegment", __doc__="One row of a segmented upload (the CLI's beats.csv row).",
    segment=(int, Field(ge=0, description="Row number of the segment (0-based).", examples=[0])),
    **_row_fields)


class Summary(BaseModel):
    """Recording-level figures; heart rates in beats per minute (null where undefined)."""

    beats: int = Field(ge=0, examples=[331])
    duration_s: float | None = Field(None, description="Duration of the recording (null for segments).",
                                     examples=[300.0])
    mean_hr: float | None = Field(None, examples=[66.4])
    min_hr: float | None = Field(None, examples=[41.2])
    max_hr: float | None = Field(None, examples=[118.9])
    counts: Counts
    low_confidence: int = Field(ge=0, description=f"Beats whose probability is below {LOW_CONFIDENCE:g}.",
                                examples=[9])
    low_confidence_threshold: float = Field(LOW_CONFIDENCE, examples=[LOW_CONFIDENCE])
    path: Path = Field(description="Which classifier path labelled the beats: morphology+rhythm for recordings, "
                                   "morphology-only for segments (no rhythm information).")
    model_version: str
    atrial_fibrillation_beats: int | None = Field(
        None, ge=0, description="Beats labelled N because they lie in suspected atrial fibrillation (an irregular "
                                "rhythm without a consistent P wave), where no beat is called SVEB; null for segments "
                                "or a model without the second stage.", examples=[0])
    unreadable_beats: int | None = Field(
        None, ge=0, description="Beats in signal too noisy to read (or a flat lead): labelled Q, not classified; "
                                "null for segments.", examples=[0])
    unreadable_s: float | None = Field(
        None, ge=0, description="Total duration of the unreadable stretches (s); null for segments.", examples=[0.0])


class EventItem(BaseModel):
    """One rhythm event (:func:`ecg_core.events.find_events`; the CLI's events.csv columns)."""

    kind: str = Field(description="VT, VEB couplet, SVT, bigeminy, trigeminy, pause, AF, bradycardia or tachycardia.",
                      examples=["VT"])
    first_beat: int = Field(ge=0, description="Index of its first beat in `beats`.", examples=[120])
    last_beat: int = Field(ge=0, description="Index of its last beat (inclusive).", examples=[124])
    first_sample: int = Field(ge=0, description="R-peak sample of its first beat.", examples=[43510])
    last_sample: int = Field(ge=0, description="R-peak sample of its last beat.", examples=[45120])
    start_s: float = Field(description="Time of its first beat (s).", examples=[120.86])
    end_s: float = Field(description="Time of its last beat (s).", examples=[125.33])
    duration_s: float = Field(ge=0, examples=[4.47])
    beats: int = Field(ge=1, examples=[5])
    rate_bpm: float | None = Field(None, description="Mean heart rate over the event (null for a pause).",
                                   examples=[152.0])
    detail: str = Field(examples=["5 beats at 152 bpm"])


class AnalyzeResponse(BaseModel):
    """Per-beat results and summary of one upload."""

    name: str = Field(description="Record name (from the file name).", examples=["208_excerpt"])
    kind: Literal["recording", "segments"]
    sampling_rate: float | None = Field(description="Hz (null for segments, which are at 360 Hz).",
                                        examples=[360.0])
    lead: str | None = Field(None, examples=["MLII"])
    units: str | None = Field(None, description="Amplitude unit of the signal: mV, adu (ADC units) or '' (unknown).",
                              examples=["mV"])
    peaks_given: bool = Field(description="True when the beats are the given peaks, not detected.")
    detector: dict[str, float] | None = Field(
        None, description="Detector settings used (defaults plus the ones given); null when peaks were given.",
        examples=[{p.name: p.default for p in PARAMETERS}])
    model_version: str = Field(examples=["2026-11-27-3f9a1c2b7d"])
    summary: Summary
    beats: list[BeatAtSample] | list[BeatAtSegment] = Field(  # type: ignore[valid-type]
        description="One row per beat in time order, the CLI's beats.csv columns: sample (or segment), "
                    "label, probability, p_N, p_SVEB, p_VEB, p_F, p_Q (and quality for a recording).")
    events: list[EventItem] = Field(
        default_factory=list, description="Rhythm events in time order (VEB couplets, VT, SVT, bigeminy, "
                                          "trigeminy, pauses > 2 s, AF, brady-/tachycardia; the CLI's events.csv); "
                                          "empty for segments.")


class PredictResponse(BaseModel):
    """The original app's answer (first four keys, unchanged), then extras."""

    output: list[float] = Field(min_length=len(CLASSES), max_length=len(CLASSES),
                                description=f"Class probabilities of the most confident beat, in the order "
                                            f"{', '.join(CLASSES)}.", examples=[list(_EXAMPLE_P)])
    ecg_plot: str = Field(description="Base64 PNG of that beat: time from the R-peak in ms, amplitude in the "
                                      "file's unit.", examples=["iVBORw0KGgoAAAANSUhEUgAA..."])
    label: Label = Field(description="Class of the most confident beat.", examples=["N"])
    probability: float = Field(ge=0, le=1, description="Its probability.", examples=[0.962])
    beats: int = Field(ge=1, description="Number of beats classified.", examples=[40])
    counts: Counts
    position: int = Field(ge=0, description="The plotted beat: segment row (segmented upload) or R-peak sample "
                                            "(recording).", examples=[12])
    path: Path
    model_version: str
    score_kind: Literal["probability", "decision score", "not used: signal unreadable"] = Field(
        "probability", description="What `probability` (and `output`) is: the network's calibrated probability, or "
                                   "a decision score where the second stage or a rule re-decided the beat (not "
                                   "calibrated).",
        examples=["probability"])


class Health(BaseModel):
    """Liveness (the answer itself) and readiness (the model is loaded)."""

    status: Literal["ok"] = "ok"
    ready: bool = Field(description="True once the classifier is loaded and requests can be served at once.")
    model_version: str | None = None
    detail: str | None = Field(None, description="Why the server is not ready yet.",
                               examples=["The model is loading."])
