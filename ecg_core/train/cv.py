"""Cross-validation: record-grouped folds, out-of-fold logits, end to end at detected beats, their summaries.

Evaluation is leave-record-out (grouped by record, never a random beat split); each fold's networks
are trained with the same fixed :class:`~ecg_core.train.data.Schedule` as the shipped model.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from ..classifier import recording_inputs, softmax
from ..config import CLASSES, FS, ROOT
from ..evaluate import ClassificationScore, confusion_from_labels
from .data import Record, Schedule, _relative, write_beats_csv
from .fit import _logits, heldout_logits, reliability, train_network


def folds_of(records: list[Record], n_folds: int) -> list[list[int]]:
    """Record-grouped folds: one record per fold (n_folds >= len(records)) or round-robin groups."""
    n = len(records)
    if n_folds >= n:
        return [[i] for i in range(n)]
    return [list(range(k, n, n_folds)) for k in range(n_folds)]


def _detect(signal, fs):
    """R-peaks of ``signal`` with the product's detector (default settings)."""
    from ..peaks import detect_r_peaks

    return detect_r_peaks(signal, fs)


def end_to_end(nets, rec: Record, temperature: float, out_dir: Path) -> ClassificationScore:
    """Classify one held-out record at DETECTED beats, write ``<rec>.beats.csv``, score it."""
    from ..beats import segment_beats
    from ..evaluate import score_classification

    peaks = _detect(rec.signal, FS)
    beats = segment_beats(rec.signal, FS, peaks)
    m, r = recording_inputs(beats.windows, beats.rr)
    probs = softmax(np.mean([_logits(n, m, r) for n in nets], axis=0), temperature)
    write_beats_csv(out_dir / f"{rec.name}.beats.csv", beats.samples, probs)
    labels = np.asarray(CLASSES)[probs.argmax(axis=1)]
    return score_classification(rec.samples, np.asarray(CLASSES)[rec.labels], beats.samples, labels, FS,
                                episodes=rec.episodes)



def cross_validate(records: list[Record], noise, schedule: Schedule, seeds: list[int], n_folds: int, *,
                   e2e_dir: Path | None = None, log=print) -> dict:
    """Record-grouped CV; returns out-of-fold logits per path and, optionally, the end-to-end score."""
    n = len(records)
    oof_rh = [None] * n
    oof_mo = [None] * n
    fold_nets = {}
    t0 = time.time()
    for f, test in enumerate(folds_of(records, n_folds)):
        train = [records[i] for i in range(n) if i not in test]
        nets = [train_network(train, noise, schedule, seed) for seed in seeds]
        for i in test:
            oof_rh[i], oof_mo[i] = heldout_logits(nets, records[i])
        names = " ".join(records[i].name for i in test)
        y = np.concatenate([records[i].labels for i in test])
        acc = np.mean(np.concatenate([oof_rh[i].argmax(1) for i in test]) == y)
        log(f"fold {f + 1}: held out {names}: acc {100 * acc:.1f}% ({time.time() - t0:.0f} s)")
        if e2e_dir is not None:
            for i in test:  # keep the fold's networks only as long as needed
                fold_nets[i] = nets
    return {"rhythm": oof_rh, "morphology": oof_mo, "nets": fold_nets}


def summarise(records: list[Record], oof: list[np.ndarray], temperature: float) -> dict:
    """Pooled score, calibration before/after ``temperature`` and per-record rows of out-of-fold logits ``oof``."""
    labels = np.concatenate([r.labels for r in records])
    logits = np.concatenate(oof)
    names = np.asarray(CLASSES)
    score = confusion_from_labels(names[labels], names[logits.argmax(1)])
    before = reliability(softmax(logits, 1.0), labels)
    after = reliability(softmax(logits, temperature), labels)
    per_record = {}
    for r, lg in zip(records, oof, strict=False):
        s = confusion_from_labels(names[r.labels], names[lg.argmax(1)])
        per_record[r.name] = record_entry(s)
    return {"score": score.to_dict(), "calibration": {"temperature": temperature, "ece_before": before["ece"],
                                                      "ece_after": after["ece"], "reliability_before": before["bins"],
                                                      "reliability_after": after["bins"]},
            "per_record": per_record}


def record_entry(s: ClassificationScore) -> dict:
    """One record's row of a card's per-record table: beats, accuracy and, per class present, ref/pred/tp."""
    return {"beats": s.beats, "accuracy": s.accuracy,
            **{c.label: {"ref": c.reference, "pred": c.predicted, "tp": int(s.confusion[k, k])}
               for k, c in enumerate(s.per_class()) if c.reference or c.predicted}}



def reference_scorer(data_dir: Path, pred_dir: Path) -> dict | None:
    """Run the project's reference scorer (``../shared/tools/score.py classify``) on ``pred_dir``, if present.

    Returns its JSON result with the ``command`` that reproduces it and its one-line ``summary``.
    """
    import subprocess
    import tempfile

    scorer = ROOT.parent / "shared" / "tools" / "score.py"
    if not scorer.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "score.json"
        res = subprocess.run([sys.executable, str(scorer), "classify", str(data_dir), "--pred-dir", str(pred_dir),
                              "--json-out", str(out)], capture_output=True, text=True, check=False)
        lines = res.stdout.strip().splitlines()
        if res.returncode != 0 or not lines or not out.exists():
            return None
        result = json.loads(out.read_text())
    return {**result, "command": f"python ../shared/tools/score.py classify ../shared/data/mitdb --pred-dir "
                                 f"{_relative(pred_dir)}", "summary": lines[-1]}
