"""What each command of ``python -m ecg_core.train`` does: train, cross-validate, fit the stage, render the card.

Each ``run_*`` function takes the parsed arguments (:mod:`.cli`) and reads and writes the model card
in ``args.out`` (``model_card.json``, ``MODEL_CARD.md``, ``classifier.json``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import time
from pathlib import Path

import numpy as np

from ..classifier import N_RHYTHM, P_WAVE_MS, RHYTHM_FEATURES, rules, softmax, weights_digest
from ..classifier.settings import stage_version
from ..config import CLASSES, MODEL_CARD_JSON, MODEL_CARD_MD
from ..errors import ECGError
from ..evaluate import empty_classification_score
from . import card as _card
from . import grids
from .cv import cross_validate, end_to_end, reference_scorer, summarise
from .data import Schedule, _relative, load_noise, load_record, write_beats_csv
from .fit import _ensemble, fit_temperature, train_network
from .stage_fit import (
    STAGE_L2,
    STAGE_SVEB_WEIGHT,
    _stage_training_rows,
    evaluate_stage,
    fit_stage_on,
    load_stage_record,
    loro_stages,
    stacked_probs,
)
from .tables import score_table

#: The heuristics' shipped settings (StackedStage field -> value), as the grids name them.
SHIPPED_RULES = {"fusion": {"fusion_p_correlation": rules.FUSION_P_CORRELATION, "fusion_timing": rules.FUSION_TIMING},
                 "wide_qrs": {"wide_qrs_width": rules.WIDE_QRS_WIDTH,
                              "wide_qrs_correlation": rules.WIDE_QRS_CORRELATION}}


def _rule_entries(recs, stages) -> dict:
    """The card's entries of the three rules: their settings, figures and leave-one-record-out grids."""
    af = {"beats_each_side": rules.AF_BEATS, "p_correlation": rules.AF_P_CORRELATION,
          "irregularity": rules.AF_IRREGULARITY, "p_wave_ms": list(P_WAVE_MS),
          "detection": grids.af_detection(recs), "grid": grids.af_grid(recs)}
    fusion = {"p_correlation": rules.FUSION_P_CORRELATION, "timing": rules.FUSION_TIMING,
              "max_run": rules.FUSION_MAX_RUN, "veb_correlation": rules.FUSION_VEB_CORRELATION,
              "sinus_correlation": rules.FUSION_SINUS_CORRELATION, "shipped": SHIPPED_RULES["fusion"],
              "grid": grids.rule_grid(recs, grids.FUSION_GRID, grids._RULE_OFF["fusion"], "F", stages=stages)}
    wide = {"width": rules.WIDE_QRS_WIDTH, "qrs_correlation": rules.WIDE_QRS_CORRELATION,
            "p_correlation": rules.WIDE_P_CORRELATION, "shipped": SHIPPED_RULES["wide_qrs"],
            "grid": grids.rule_grid(recs, grids.WIDE_QRS_GRID, grids._RULE_OFF["wide_qrs"], "VEB", stages=stages)}
    return {"af_rule": af, "fusion_rule": fusion, "wide_qrs_rule": wide}


def _reference_beat_entries(recs, stages, stacked, loro) -> dict:
    """The entries only the evaluation at the reference beats has: relabelled beats, SVEB weights and kinds."""
    off = {k: v for rule in grids._RULE_OFF.values() for k, v in rule.items()}
    return {"relabelled": {  # what each heuristic relabels at its shipped settings
                name: grids.rule_grid(recs, {k: (v,) for k, v in SHIPPED_RULES[name].items()},
                                      grids._RULE_OFF[name], target, stages=stages)[0]["relabelled"]
                for name, target in (("wide_qrs", "VEB"), ("fusion", "F"))},
            "sveb_weight_grid": grids.sveb_weight_grid(recs, shipped=loro["stacked"]),
            "sveb_kinds": grids.sveb_kinds(recs, stacked),
            "without_heuristics": evaluate_stage(recs, stages=[dataclasses.replace(s, **off) for s in stages])[
                "stacked"]}


def stage_card(data_dir: Path, pred_dir: Path, out_dir: Path, names, *, command: str, evaluate_only: bool = False,
               log=print) -> dict:
    """Evaluate the second stage leave-one-record-out, fit it on all records, and return its model-card entry.

    With ``evaluate_only``, only the leave-one-record-out evaluation (no final fit, no atrial
    fibrillation threshold grid). Also runs the reference scorer (``../shared/tools/score.py``) on
    the stacked files when present.
    """
    t0 = time.time()
    recs = [load_stage_record(data_dir, pred_dir, n) for n in names]
    stages = loro_stages(recs)  # shared by the evaluation and the heuristics' grids
    stacked = stacked_probs(recs, stages)  # shared by the evaluation and the SVEB-kinds table
    loro = evaluate_stage(recs, out_dir, probs=stacked)
    log("network alone (end to end, out of fold):\n" + score_table(loro["network"]))
    log("with the second stage (leave-one-record-out at the stage level):\n" + score_table(loro["stacked"]))
    entry = {"command": command, "pred_dir": _relative(pred_dir), "stacked_dir": _relative(out_dir),
             "records": list(names), "loro": loro}
    if evaluate_only:
        entry |= _reference_beat_entries(recs, stages, stacked, loro)
    else:
        entry |= {"stage": fit_stage_on(recs).to_dict(), "l2": STAGE_L2, "sveb_weight_power": STAGE_SVEB_WEIGHT,
                  **_rule_entries(recs, stages), "training_beats": int(len(_stage_training_rows(recs)[1]))}
    entry["seconds"] = round(time.time() - t0, 1)
    ref = reference_scorer(data_dir, out_dir)
    if ref:
        entry["reference_scorer"] = {"command": ref["command"], "summary": ref["summary"]}
        log(ref["summary"])
    return entry


def _read_card(out: Path) -> dict:
    """The model card in ``out`` (empty where there is none yet)."""
    path = out / MODEL_CARD_JSON.name
    return json.loads(path.read_text()) if path.exists() else {}


def run_card(args) -> int:
    """``card``: re-render ``MODEL_CARD.md`` from ``model_card.json`` in ``args.out``."""
    _card.write_model_card_md(json.loads((args.out / MODEL_CARD_JSON.name).read_text()), args.out / MODEL_CARD_MD.name)
    return 0


def run_fit_stage(args, command: str, log) -> int:
    """``fit-stage``: fit (or, with ``--evaluate-only``, only evaluate) the second stage and store it in the card."""
    card = _read_card(args.out)
    card_path = args.out / MODEL_CARD_JSON.name
    entry = stage_card(args.data_dir, args.fit_stage, args.stage_out_dir, args.records, command=command,
                       evaluate_only=args.evaluate_only, log=log)
    if args.evaluate_only:
        card["stage_at_reference_beats"] = entry
        _card.save_card(card, args.out)
        log(f"wrote the figures at the reference beats into {card_path}")
        return 0
    card["second_stage"] = entry
    card["version"] = stage_version(card.get("version", ""), card["second_stage"]["stage"])
    _card.save_card(card, args.out)
    log(f"wrote the second stage into {card_path} and {MODEL_CARD_MD.name}")
    return 0


def run_training(args, command: str, log, *, cv: bool) -> int:
    """``train`` (and ``cv`` with ``cv=True``): the shipped model unless ``--no-final``, then the cross-validation."""
    schedule = Schedule(epochs=args.epochs, **args.overrides)
    t0 = time.time()
    try:
        records = [load_record(args.data_dir, name) for name in args.records]
        noise = load_noise(args.noise_dir or args.data_dir.parent / "noise")
    except (OSError, ECGError) as exc:
        log(f"error: cannot read the training data: {exc}")
        return 2
    log(f"loaded {len(records)} records, {sum(len(r.labels) for r in records)} beats in {time.time() - t0:.0f} s")
    card = _read_card(args.out)
    if not getattr(args, "no_final", False):
        train_shipped(card, records, noise, schedule, args, command, log)
    if cv:
        cross_validation(card, records, noise, schedule, args, command, log)
    card.setdefault("classes", list(CLASSES))
    card["inputs"] = {"morphology": "beat and beat minus local template of regular beats, over template "
                                    "peak-to-peak, 120 Hz",
                      "rhythm": [*RHYTHM_FEATURES, "rhythm_known"], "n_rhythm": N_RHYTHM}
    _card.save_card(card, args.out)
    log(f"wrote {args.out / MODEL_CARD_JSON.name} and {MODEL_CARD_MD.name} ({time.time() - t0:.0f} s in all)")
    return 0


def train_shipped(card: dict, records, noise, schedule: Schedule, args, command: str, log) -> None:
    """Train the shipped networks on all ``records``, save ``beat_classifier.keras`` and its card entry."""
    t_tr = time.time()
    nets = [train_network(records, noise, schedule, seed) for seed in args.seeds]
    net = _ensemble(nets)
    args.out.mkdir(parents=True, exist_ok=True)
    model_path = args.out / "beat_classifier.keras"
    net.save(model_path)
    card["version"] = f"{_dt.date.today().isoformat()}-{weights_digest(net)}"
    if card.pop("second_stage", None) is not None:
        log("the second stage was fitted on the previous network's outputs and is dropped: refit it with "
            "--cv --e2e-dir DIR, then --fit-stage DIR")
    card["training"] = {"command": command, "records": [r.name for r in records],
                        "beats": int(sum(len(r.labels) for r in records)), "seeds": args.seeds,
                        "schedule": schedule.__dict__, "seconds": round(time.time() - t_tr, 1),
                        "class_counts": dict(zip(CLASSES, np.bincount(np.concatenate(
                            [r.labels for r in records]), minlength=len(CLASSES)).tolist(), strict=False)),
                        "model_file": model_path.name, "model_bytes": model_path.stat().st_size,
                        "parameters": int(net.count_params())}
    log(f"saved {model_path} ({model_path.stat().st_size / 1e6:.2f} MB), version {card['version']}")
    _card.save_card(card, args.out)


def cross_validation(card: dict, records, noise, schedule: Schedule, args, command: str, log) -> None:
    """Record-grouped CV, temperatures, optional out-of-fold files; the card's evaluation and calibration."""
    t_cv = time.time()
    cv = cross_validate(records, noise, schedule, args.seeds, args.folds, e2e_dir=args.e2e_dir, log=log)
    labels = np.concatenate([r.labels for r in records])
    evaluation = {"protocol": ("leave-one-record-out" if args.folds >= len(records) else
                               f"{args.folds}-fold grouped by record") + " cross-validation on DS1",
                  "command": command, "seeds": args.seeds, "records": [r.name for r in records]}
    temps = {}
    for path in ("rhythm", "morphology"):
        temps[path] = fit_temperature(np.concatenate(cv[path]), labels)
        evaluation[path] = summarise(records, cv[path], temps[path])
    if args.ref_dir is not None:
        for rec, logits in zip(records, cv["rhythm"], strict=True):
            write_beats_csv(args.ref_dir / f"{rec.name}.beats.csv", rec.samples, softmax(logits, temps["rhythm"]))
        log(f"wrote the out-of-fold probabilities at the reference beats to {args.ref_dir}")
    if args.e2e_dir is not None:
        total = empty_classification_score()
        for i, rec in enumerate(records):
            total = total + end_to_end(cv["nets"][i], rec, temps["rhythm"], args.e2e_dir)
        evaluation["end_to_end"] = {"score": total.to_dict(), "pred_dir": _relative(args.e2e_dir)}
        ref = reference_scorer(args.data_dir, args.e2e_dir)
        if ref:
            evaluation["end_to_end"]["reference_scorer"] = ref
    evaluation["cv_seconds"] = round(time.time() - t_cv, 1)
    card["evaluation"] = evaluation
    card["calibration"] = {p: {"temperature": temps[p], "ece_before": evaluation[p]["calibration"]["ece_before"],
                               "ece_after": evaluation[p]["calibration"]["ece_after"],
                               "reliability": evaluation[p]["calibration"]["reliability_after"],
                               "reliability_uncalibrated": evaluation[p]["calibration"]["reliability_before"]}
                           for p in temps}
    for p in temps:
        log(f"{p} path (CV):\n" + score_table(evaluation[p]["score"]))
        log(f"  temperature {temps[p]:.3f}; ECE {evaluation[p]['calibration']['ece_before']:.4f} -> "
            f"{evaluation[p]['calibration']['ece_after']:.4f}")
    if "end_to_end" in evaluation:
        log("end-to-end (detected beats):\n" + score_table(evaluation["end_to_end"]["score"]))
