"""The evaluation grids the model card shows: the SVEB weight, the AF thresholds, the two heuristics' settings.

Each grid refits or re-applies the second stage leave one record out (:mod:`.stage_fit`) at settings
around the shipped ones; :func:`sveb_kinds` and :func:`af_detection` break the figures down by
reference symbol and rhythm.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..classifier import StackedStage, atrial_fibrillation
from ..config import CLASSES, FS
from ..evaluate import ClassificationScore, empty_classification_score
from .stage_fit import STAGE_SVEB_WEIGHT, StageRecord, _score_stage_record, evaluate_stage, loro_stages

#: Powers of the stage's SVEB weight (:func:`fit_stage`) whose leave-one-record-out figures the card
#: shows at the reference beat positions: the SVEB sensitivity / +P trade-off the weight moves along.
SVEB_WEIGHT_GRID = (0.5, 0.6, 0.7, 0.8, 1.0)
assert STAGE_SVEB_WEIGHT in SVEB_WEIGHT_GRID, "the grid must hold the shipped power (its row is the card's (e))"


def sveb_weight_grid(recs: list[StageRecord], *, shipped: dict | None = None) -> list[dict]:
    """Leave-one-record-out SVEB and VEB figures with the stage fitted at each power of ``SVEB_WEIGHT_GRID``.

    ``shipped``: the ``"stacked"`` score of :func:`evaluate_stage` at ``STAGE_SVEB_WEIGHT``, where already
    computed.
    """
    rows = []
    for power in SVEB_WEIGHT_GRID:
        if shipped is not None and power == STAGE_SVEB_WEIGHT:
            d = shipped
        else:
            d = evaluate_stage(recs, stages=loro_stages(recs, sveb_weight=power))["stacked"]
        rows.append({"power": power, "accuracy": d["accuracy"],
                     **{f"{c}_{k}": d["classes"][c][k] for c in ("SVEB", "VEB") for k in ("se", "ppv")}})
    return rows


#: Atrial fibrillation thresholds around the chosen ones whose leave-one-record-out figures the card shows.
AF_GRID = {"p_correlation": (0.3, 0.4, 0.5), "irregularity": (0.05, 0.1, 0.15)}
#: Reference rhythms counted as atrial fibrillation or flutter.
AF_RHYTHMS = ("(AFIB", "(AFL")


#: A kind of beat (MIT-BIH symbol) "comes from one record" where that record holds at least this
#: share of its DS1 beats: leave one record out, the training records then show almost none of it.
ONE_RECORD_SHARE = 0.9


def sveb_kinds(recs: list[StageRecord], probs: list[np.ndarray]) -> list[dict]:
    """The reference SVEB beats by MIT-BIH symbol, and what the shipped procedure called them.

    ``probs``: each record's probabilities from the procedure (:func:`stacked_probs` of
    :func:`loro_stages`, as :func:`evaluate_stage` scores them). Per symbol: its beats, records, the
    record holding most of them and their share, and the beats called each class (``"missed"``: no
    detection within 150 ms).
    """
    from ..evaluate import match_beats

    rows: dict[str, dict] = {}
    for rec, p in zip(recs, probs, strict=True):
        labels = p.argmax(axis=1)
        called = np.full(len(rec.ref_samples), "missed", dtype=object)
        pairs = match_beats(rec.ref_samples, rec.samples, FS)
        called[pairs[:, 0]] = np.asarray(CLASSES)[labels[pairs[:, 1]]]
        for i in np.flatnonzero(rec.ref_labels == "SVEB"):
            row = rows.setdefault(str(rec.ref_symbols[i]), {"per_record": {}, "called": {}})
            row["per_record"][rec.name] = row["per_record"].get(rec.name, 0) + 1
            row["called"][called[i]] = row["called"].get(called[i], 0) + 1
    out = []
    for symbol, row in sorted(rows.items(), key=lambda kv: -sum(kv[1]["per_record"].values())):
        beats = sum(row["per_record"].values())
        top = max(row["per_record"], key=row["per_record"].get)
        out.append({"symbol": symbol, "beats": beats, "records": len(row["per_record"]), "top_record": top,
                    "top_share": row["per_record"][top] / beats, "called": row["called"]})
    return out


def af_detection(recs: list[StageRecord]) -> dict:
    """How the atrial fibrillation rule (network labels, default thresholds) matches the reference rhythms.

    Per record: detected beats inside reference AF/flutter and how many the rule flags, and the
    flagged beats outside it by reference rhythm.
    """
    out = {}
    for r in recs:
        flag = atrial_fibrillation(r.morphology, r.rhythm, r.probs.argmax(axis=1))
        truth = np.isin(r.ref_rhythm, AF_RHYTHMS)
        other = {str(k): int(v) for k, v in zip(*np.unique(r.ref_rhythm[flag & ~truth], return_counts=True),
                                                strict=True)}
        out[r.name] = {"beats": int(len(flag)), "af_beats": int(truth.sum()), "af_flagged": int((flag & truth).sum()),
                       "other_flagged": other}
    return out


def af_grid(recs: list[StageRecord]) -> list[dict]:
    """Leave-one-record-out figures of the stage with the atrial fibrillation thresholds of :data:`AF_GRID`."""
    rows = []
    for pc in AF_GRID["p_correlation"]:
        for irr in AF_GRID["irregularity"]:
            d = evaluate_stage(recs, p_correlation=pc, irregularity=irr)["stacked"]
            rows.append({"p_correlation": pc, "irregularity": irr, "accuracy": d["accuracy"],
                         **{f"{c}_{k}": d["classes"][c][k] for c in ("SVEB", "VEB") for k in ("se", "ppv", "f1")}})
    return rows


#: Heuristic settings around the chosen ones whose leave-one-record-out figures the card shows
#: (:class:`~ecg_core.model.StackedStage` field -> values), and the setting that switches each off.
FUSION_GRID = {"fusion_p_correlation": (0.3, 0.5, 0.7), "fusion_timing": (0.05, 0.1, 0.15)}
WIDE_QRS_GRID = {"wide_qrs_width": (0.3, 0.5, 0.7), "wide_qrs_correlation": (-0.5, -1.0)}
_RULE_OFF = {"fusion": {"fusion_p_correlation": np.inf}, "wide_qrs": {"wide_qrs_width": np.inf}}


def rule_grid(recs: list[StageRecord], grid: dict, off: dict, target: str, *,
              stages: list[StackedStage] | None = None) -> list[dict]:
    """Leave-one-record-out figures of a heuristic of the stage with each combination of ``grid``'s settings.

    The heuristics act after the stage, so each record's stage is fitted once (on the other records)
    and only the settings vary; ``off`` switches the heuristic off. Each row also counts the net change
    of the beats labelled ``target``, by their reference class (``"none"``: a detection with no
    reference beat), as the scores count them. ``stages``: :func:`loro_stages` of ``recs`` where
    already fitted.
    """
    import itertools

    stages = loro_stages(recs) if stages is None else stages
    t = CLASSES.index(target)

    def score(**settings) -> ClassificationScore:
        total = empty_classification_score()
        for rec, stage in zip(recs, stages, strict=True):
            probs = dataclasses.replace(stage, **settings).apply(rec.probs, rec.morphology, rec.rhythm)
            total = total + _score_stage_record(rec, probs)
        return total

    without = score(**off)
    rows = []
    for values in itertools.product(*grid.values()):
        settings = dict(zip(grid, values, strict=True))
        with_rule = score(**settings)
        moved = with_rule.confusion[:len(CLASSES), t] - without.confusion[:len(CLASSES), t]
        relabelled = {**{c: int(k) for c, k in zip(CLASSES, moved, strict=True)},
                      "none": int(with_rule.false_detections[t] - without.false_detections[t])}
        d = with_rule.to_dict()
        rows.append({"settings": settings, "accuracy": d["accuracy"], "relabelled": relabelled,
                     **{f"{c}_{k}": d["classes"][c][k] for c in ("SVEB", "VEB", "F") for k in ("se", "ppv", "f1")}})
    return rows

