"""The cross-database run's model card: ``MODEL_CARD.md`` rendered from ``model_card.json`` (training lab).

:func:`write_card_md` renders the card of a model shipped by :func:`ecg_core.crossdb.ship`;
:func:`card_from` replaces its cross-database figures by those of another run (e.g. one scored again
with ``python -m ecg_core.crossdb --rescore``).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..config import CLASSES
from ..errors import ECGError


def card_from(cv_dir: Path, model_dir: Path, *, log=print) -> None:
    """The shipped card's cross-database figures replaced by ``cv_dir``'s (after ``crossdb --rescore``).

    The stored stage is written again with every rule setting this version applies (defaults for rules
    newer than the card), and the version's stage digest follows it; a stage this version cannot apply
    (other features) is left as it was.
    """
    from ..classifier.settings import stage_version, write_settings
    from ..classifier.stage import StackedStage
    from ..jsonsafe import json_safe

    path = model_dir / "model_card.json"
    card = json.loads(path.read_text())
    card["crossdb"] = json.loads((cv_dir / "crossdb.json").read_text())
    stage = card.get("second_stage", {}).get("stage")
    try:  # with the settings of rules newer than the card, as this version applies them
        stage = StackedStage.from_dict(stage).to_dict() if stage else None
    except ECGError as e:  # a stage this version cannot apply: left as it is (loading says why)
        log(f"stage left as it was: {e}")
        stage = None
    if stage:
        card["second_stage"]["stage"] = stage
        card["version"] = stage_version(card.get("version", ""), stage)
    path.write_text(json.dumps(json_safe(card), indent=1, allow_nan=False) + "\n")
    write_card_md(card, model_dir / "MODEL_CARD.md")
    write_settings(card, model_dir)
    log(f"updated {path} and MODEL_CARD.md from {cv_dir / 'crossdb.json'}")


TEXT_INTENDED_USE = """## Intended use and limits

Labels every heartbeat of a single-lead ECG as N, SVEB, VEB, F or Q, for research, teaching and
second-look review of Holter-style recordings. **Not a medical device**: every label needs review.

- Trained on 61 patients of two databases and two recorders (MIT-BIH Arrhythmia DS1 at 360 Hz, lead
  MLII; 39 records of the MIT-BIH Supraventricular Arrhythmia Database at 128 Hz, lead ECG1), with
  the DS1 records seen a second time at 128 Hz. Other leads, children and 12-lead questions are
  outside what it was built for; paced recordings are out of scope.
- The figures below that matter are the cross-database ones: a network trained on one database
  and tested on the other. Choices were selected on figures spanning both databases; the held-out
  DS2 and SVDB records were never looked at.
- **F** (fusion) beats come almost all from one DS1 record (208) and SVDB has none: F figures say
  little. **Q** has a handful of beats: the model practically never outputs Q.
- **SVEB** relies on prematurity against the patient's own rhythm (median and mean baselines) and
  on the P wave; a regular run that starts abruptly well ahead of the patient's NN rhythm is SVEB
  throughout (the supraventricular runs), and inside what the atrial fibrillation rule recognises no
  beat is SVEB. A sudden regular tachycardia that the annotators call normal is called SVEB too
  (SVDB 867 is one). Treat every SVEB label as a candidate for review.
"""


def _variant_rows(title: str, variants: dict) -> list[str]:
    rows = []
    for name, v in variants.items():
        c, a = v["score"]["classes"], v["score"]["accuracy"]
        pct = lambda x: "n/a" if x is None or x != x else f"{100 * x:.1f}"  # noqa: E731
        rows.append(f"| {title} | {name} | {100 * a:.2f}% | " + " | ".join(
            f"{pct(c[k]['se'])} / {pct(c[k]['ppv'])}" for k in ("N", "SVEB", "VEB", "F")) + " |")
    return rows


def _per_record_rows(per: dict) -> list[str]:
    rows = ["| record | beats | accuracy | SVEB found / ref (called) | VEB found / ref (called) |",
            "|---|---:|---:|---:|---:|"]
    for name, r in per.items():
        cells = [f"{r.get(k, {}).get('tp', 0)} / {r.get(k, {}).get('ref', 0)} ({r.get(k, {}).get('pred', 0)})"
                 for k in ("SVEB", "VEB")]
        rows.append(f"| {name} | {r['beats']} | {100 * r['accuracy']:.1f}% | {cells[0]} | {cells[1]} |")
    return rows


def write_card_md(card: dict, path: Path) -> None:
    """Render ``MODEL_CARD.md`` of a model shipped by :func:`ship` from its ``model_card.json``."""
    tr, cross, cal = card.get("training", {}), card.get("crossdb", {}), card.get("calibration", {})
    out = [f"# Beat classifier model card\n\nVersion **{card.get('version', '?')}**. Classes, in the order of "
           f"every probability vector: {', '.join(CLASSES)} (AAMI EC57).\n", TEXT_INTENDED_USE]
    if tr:
        counts = ", ".join(f"{k} {v}" for k, v in tr["class_counts"].items())
        out.append(f"## Data and training\n\nDS1 records {', '.join(tr['databases']['ds1'])}; SVDB records "
                   f"{', '.join(tr['databases']['svdb'])}: {tr['beats']:,} reference beats, and with the DS1 "
                   f"records again at 128 Hz {tr['training_beats']:,} training beats ({counts}). Seeds "
                   f"{tr['seeds']} (their logits averaged), {tr['parameters']:,} parameters, "
                   f"{tr['model_bytes'] / 1e6:.2f} MB, {tr['seconds']:.0f} s here. Schedule: "
                   f"`{json.dumps(tr['schedule'])}`.\n\nReproduce: `{cross.get('command', '?')}` (the "
                   f"figures below), then `{tr['command']}` (this model).\n")
    if cross:
        out.append("## How well it does on patients it never saw\n\nAt the reference beat positions, EC57 "
                   "classes, ventricular flutter left out, pooled over records. `network`: the networks' labels; "
                   "`network+af`: and no beat SVEB inside atrial fibrillation (`ecg_core.model.atrial_fibrillation`); "
                   "`+runs`: and the supraventricular runs (`ecg_core.classifier.rules.supraventricular_runs`); "
                   "`stage fitted on X`: the second stage, the wide-QRS and fusion rules, the groups of beats and "
                   "the runs as well, the stage fitted on the other database's out-of-fold outputs.\n")
        rows = ["| protocol | procedure | accuracy | N Se / +P | SVEB Se / +P | VEB Se / +P | F Se / +P |",
                "|---|---|---:|---:|---:|---:|---:|"]
        for proto in ("ds1->svdb", "svdb->ds1"):
            if proto in cross:
                rows += _variant_rows(f"trained on {proto.split('->')[0]}, tested on {proto.split('->')[1]}",
                                      cross[proto])
        both = cross.get("both-cv", {})
        for db in ("ds1", "svdb"):
            if db in both:
                rows += _variant_rows(f"{both.get('protocol', 'both-cv')}: {db}", both[db])
        out.append("\n".join(rows) + "\n")
        for proto, v in [(p, cross[p]) for p in ("ds1->svdb", "svdb->ds1") if p in cross] + [
                (f"both-cv {db}", both[db]) for db in ("ds1", "svdb") if db in both]:
            name = next(iter(reversed(v)))
            out.append(f"### Per record: {proto}, {name}\n\n" + "\n".join(_per_record_rows(v[name]["per_record"]))
                       + "\n")
    if cal:
        out.append("## Calibration\n\nOne temperature per path fitted on the out-of-fold logits of the "
                   "cross-validation over both databases; where the stage or a rule re-decides a beat its "
                   "shares are decision scores, not calibrated probabilities.\n\n| path | temperature | ECE before "
                   "| ECE after |\n|---|---:|---:|---:|\n" + "\n".join(
                       f"| {k} | {v['temperature']:.3f} | {v['ece_before']:.4f} | {v['ece_after']:.4f} |"
                       for k, v in cal.items()) + "\n")
    out.append("## Credits\n\nMIT-BIH Arrhythmia and Supraventricular Arrhythmia Databases (PhysioNet, ODC-By "
               "1.0): Moody & Mark 2001; Greenwald, Patil & Mark 1990; Goldberger et al. 2000.\n")
    path.write_text("\n".join(out))
