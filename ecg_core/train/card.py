"""The model card: ``model_card.json`` written, and ``MODEL_CARD.md`` rendered from it.

The fixed prose lives in ``model_card_template.md`` (one block per section, ``$name`` placeholders
filled from the training and classifier constants by :func:`prose_values`); the figures come from
the card dict.
"""

from __future__ import annotations

import json
import re
import string
from functools import cache
from pathlib import Path

import numpy as np

from ..beats import LOCAL_BEATS, RUNNING_BEATS
from ..classifier import AF_BEATS, DOWNSAMPLE, REGULAR_TOLERANCE, TEMPLATE_BLOCK, TEMPLATE_SPAN
from ..classifier.settings import write_settings
from ..config import BEAT_WINDOW, CLASSES, DS1_RECORDS, FS, MODEL_CARD_JSON, MODEL_CARD_MD
from ..filters import HIGHCUT, LOWCUT
from ..jsonsafe import json_safe
from .card_sections import _reference_beats_section, _stage_section
from .data import Schedule
from .fit import RELIABILITY_BINS
from .tables import _bars_table, _other_run, _pct, _per_record_table, _reliability_table, confusion_table, score_table

TEMPLATE = Path(__file__).with_name("model_card_template.md")


def _share(p: float) -> str:
    """A share in words where the card says it so (``half``), else as a percentage."""
    return "half" if p == 0.5 else f"{100 * p:g}%"


def prose_values(schedule: Schedule | None = None) -> dict:
    """The constants the template's prose names: the training ``schedule``'s and the classifier's settings.

    Parameters
    ----------
    schedule : Schedule, optional
        The training schedule the prose describes (default: :class:`~ecg_core.train.data.Schedule`'s defaults).

    Returns
    -------
    dict
        Placeholder name -> text.
    """
    s = Schedule() if schedule is None else schedule
    values = {"ds1_records": len(DS1_RECORDS), "window_s": BEAT_WINDOW / FS, "beat_window": BEAT_WINDOW, "fs": FS,
              "lowcut": LOWCUT, "highcut": HIGHCUT, "morph_rate": FS / DOWNSAMPLE,
              "regular_tolerance_pct": round(100 * REGULAR_TOLERANCE, 6), "template_block": TEMPLATE_BLOCK,
              "template_span": TEMPLATE_SPAN, "local_beats": LOCAL_BEATS, "running_beats": RUNNING_BEATS,
              "half_running_beats": RUNNING_BEATS // 2, "n_classes": len(CLASSES),
              "rhythm_dropout_pct": round(100 * s.rhythm_dropout, 6),
              "normal_fraction_pct": round(100 * s.normal_fraction, 6), "class_weight_power": s.class_weight_power,
              "class_weight_cap": s.class_weight_cap, "jitter": s.jitter, "amplitude_sigma": s.amplitude_sigma,
              "snr_low": s.snr_db[0], "snr_high": s.snr_db[1], "noise_share": _share(s.noise_probability),
              "af_beats": AF_BEATS}
    return {k: f"{v:g}" if isinstance(v, float) else str(v) for k, v in values.items()}


@cache
def _blocks() -> dict[str, str]:
    """The template's blocks, by name, with their placeholders filled in."""
    parts = re.split(r"^<!-- block: (\w+) -->\n", TEMPLATE.read_text(), flags=re.MULTILINE)
    values = prose_values()
    return {name: string.Template(text.rstrip("\n") + "\n").substitute(values)
            for name, text in zip(parts[1::2], parts[2::2], strict=True)}


def prose(name: str) -> str:
    """One block of the card's fixed prose (``intended_use``, ``method``, ``findings``, ``anchors``, ``credits``)."""
    return _blocks()[name]


def _header(version) -> list[str]:
    return [f"# Beat classifier model card\n\nVersion **{version}** "
            f"(`ecg_core.model.load_classifier().version`). Classes, in the order of every probability "
            f"vector: {', '.join(CLASSES)} (AAMI EC57).\n",
            "> **Not a medical device.** Research and teaching software: it must not be used to diagnose, "
            "treat or monitor patients. Every label needs review by a qualified clinician.\n",
            prose("intended_use")]


def _data_section(tr: dict) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in tr["class_counts"].items())
    return (f"## Data\n\nThe {len(DS1_RECORDS)} DS1 records of the MIT-BIH Arrhythmia Database (inter-patient "
            f"split of de Chazal et al. 2004): {', '.join(tr['records'])}; {tr['beats']} reference beats "
            f"({counts}). Lead MLII chosen by name (record 114 has it second). Beats are the "
            "cardiologists' reference annotations mapped to AAMI classes; beats inside ventricular "
            "flutter episodes (`[`...`]`, record 207) are left out. Paced records (102, 104, 107, 217) "
            "are not classification data. DS2 (the other 22 records) was never looked at.\n")


def _shipped_model(tr: dict) -> str:
    return (f"Shipped model: trained on all {len(DS1_RECORDS)} DS1 records with the same fixed schedule as in "
            f"cross-validation (seeds {tr['seeds']}; {tr['parameters']:,} parameters, "
            f"{tr['model_bytes'] / 1e6:.2f} MB, {tr['seconds']:.0f} s on this machine). Schedule: "
            f"`{json.dumps(tr['schedule'])}`.\n\nReproduce: `{tr['command']}` (from the project "
            "folder). Seeds fix numpy and Keras, but TensorFlow's multi-threaded CPU kernels are not "
            "bit-for-bit deterministic: a rerun gives a model whose labels differ on a few beats and "
            "figures that move by a few tenths of a percent.\n")


def _end_to_end_sections(e2e: dict) -> list[str]:
    out = ["### (c) End to end: detected beats\n\nOut-of-fold predictions at the beats found by "
           "`ecg_core.peaks.detect_r_peaks` (default settings), written as `<rec>.beats.csv` to "
           f"`{e2e['pred_dir']}` and matched to the reference within 150 ms (missed reference beats "
           "in the last column; detections with no reference beat count against +P).\n\n"
           + score_table(e2e["score"]) + "\n\n" + confusion_table(e2e["score"]) + "\n"]
    ref = e2e.get("reference_scorer")
    if ref:
        out.append(f"The reference scorer agrees: `{ref['command']}` gives accuracy "
                   f"{_pct(ref['accuracy'])}; " + ", ".join(
                       f"{c} Se {_pct(v['se'])} +P {_pct(v['ppv'])}" for c, v in ref["classes"].items()) + ".\n")
    return out


def _evaluation_sections(card: dict, ev: dict) -> list[str]:
    out = [f"## Evaluation: {ev['protocol']}\n\nEach fold's networks never saw the held-out records; "
           f"figures pool the out-of-fold predictions of all {len(ev['records'])} records (EC57 style). "
           f"Reproduce: `{ev['command']}` ({ev.get('cv_seconds', 0) / 60:.0f} min here). Seeds: "
           f"{ev['seeds']}.\n",
           "### (a) Morphology + rhythm path, at the reference beat positions\n\n"
           + score_table(ev["rhythm"]["score"]) + "\n\nConfusion (rows reference, columns predicted):\n\n"
           + confusion_table(ev["rhythm"]["score"]) + "\n\nAgainst the project's bars:\n\n"
           + _bars_table(ev["rhythm"]["score"]) + "\n\n" + prose("anchors"),
           "### (b) Morphology-only path (segmented uploads, no rhythm)\n\nThe held-out record's raw "
           "(unfiltered) windows, template = their median, rhythm inputs off: what a segmented upload "
           "gets.\n\n" + score_table(ev["morphology"]["score"]) + "\n\n"
           + confusion_table(ev["morphology"]["score"]) + "\n"]
    if ev.get("end_to_end"):
        out += _end_to_end_sections(ev["end_to_end"])
    if card.get("second_stage"):
        out.append(_stage_section(card["second_stage"]))
    if card.get("stage_at_reference_beats"):
        out.append(_reference_beats_section(card["stage_at_reference_beats"]))
    out += [_other_run(run) for run in card.get("other_runs", [])]
    if card.get("other_runs"):
        out.append("Runs differ by more than the gap to several bars: figures on 22 patients move by about a "
                   "point of accuracy and several points of VEB/SVEB with the seed and the record grouping "
                   "(record 106's VEB beats, for one, were found 482/520 in one single-network run and 262/520 "
                   "in another); the shipped model averages several networks to damp that.\n")
    out.append("### Per record (rhythm path, out of fold)\n\n" + _per_record_table(ev["rhythm"]["per_record"])
               + "\n\n" + prose("findings"))
    return out


def _calibration_section(cal: dict) -> str:
    return ("## Calibration\n\nTemperature scaling, one temperature per path, fitted on the out-of-fold "
            "logits (minimum negative log-likelihood); `predict()` returns softmax(logits / T). Expected "
            f"calibration error (top label, {RELIABILITY_BINS} equal-width bins), out of fold:\n\n"
            "| path | temperature | ECE before | ECE after |\n|---|---:|---:|---:|\n" + "\n".join(
                f"| {p} | {v['temperature']:.3f} | {v['ece_before']:.4f} | {v['ece_after']:.4f} |"
                for p, v in cal.items())
            + "\n\nThe ECE is dominated by the N class (most beats); the class weights used in training "
            "push probability towards the rare classes, which a single temperature cannot fully undo. "
            "The temperature is fitted on the same out-of-fold predictions the ECE is measured on (one "
            "parameter over ~51,000 beats, so the optimism is small but not zero). "
            "Reliability curve of the rhythm path after scaling (the JSON card holds both paths' bins, "
            "before and after):\n\n" + _reliability_table(cal["rhythm"]["reliability"]) + "\n")


def _speed_section(sp: dict) -> str:
    return (f"## Speed\n\n`{sp['command']}` on {sp['machine']} (shared with other work, so figures vary):"
            f"\n\n| figure | value |\n|---|---:|\n| model load, TensorFlow import included | "
            f"{sp['model_load_s']:.2f} s (import alone {sp.get('tensorflow_import_s', 0):.2f} s) |\n"
            "| classify, rhythm path (inputs + network) | "
            f"{sp['beats_per_s_predict']:,} beats/s |\n| classify, segments | {sp['beats_per_s_segments']:,} "
            f"beats/s |\n| network alone | {sp['beats_per_s_network_only']:,} beats/s |\n| segments, "
            f"{sp.get('bulk_beats', 0):,} in one call | {sp.get('beats_per_s_segments_bulk', 0):,} beats/s |\n"
            f"| end to end, "
            f"{sp['record']} ({sp['duration_s'] / 60:.0f} min, {sp['beats']} beats): read WFDB, detect, "
            f"classify | {sp['end_to_end_s']:.2f} s |\n")


def write_model_card_md(card: dict, path: Path = MODEL_CARD_MD) -> None:
    """Render the human-readable model card from the machine-readable one.

    Parameters
    ----------
    card : dict
        The contents of ``model_card.json`` as training writes it (sections without their entry are left out).
    path : pathlib.Path, optional
        Where ``MODEL_CARD.md`` goes (default the shipped model's).
    """
    ev, tr = card.get("evaluation", {}), card.get("training", {})
    out = _header(card.get("version", "?"))
    if tr:
        out.append(_data_section(tr))
    out.append(prose("method"))
    if tr:
        out.append(_shipped_model(tr))
    if ev:
        out += _evaluation_sections(card, ev)
    if card.get("calibration"):
        out.append(_calibration_section(card["calibration"]))
    if card.get("speed"):
        out.append(_speed_section(card["speed"]))
    out.append(prose("credits"))
    path.write_text("\n".join(out))


def _json_default(o):
    """JSON for numpy scalars and tuples (``json.dumps(default=...)``)."""
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(type(o))


def save_card(card: dict, out: Path) -> None:
    """Write model_card.json, MODEL_CARD.md and the run-time classifier.json (:func:`write_settings`) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / MODEL_CARD_JSON.name).write_text(
        json.dumps(json_safe(card), indent=1, allow_nan=False, default=_json_default) + "\n")
    write_model_card_md(card, out / MODEL_CARD_MD.name)
    write_settings(card, out)
