"""Experiment (not shipped): can a second look at the beats called VEB raise VEB +P without losing VEB Se?

Takes the shipped procedure's leave-one-record-out labels at the reference beat positions (the
model card's section (e)) and, among the beats called VEB, fits a verifier "is this really VEB?"
leave one record out: a logistic regression or gradient-boosted trees on the second stage's
features, with or without the same six template-relative shape features from the record's second
lead (V1 in 20 of the 22 DS1 records, V4 in 124, V5 in 114). A beat the verifier rejects is no
longer VEB. Prints VEB Se / +P at several rejection thresholds, and which records gain and lose.

Needs the out-of-fold network outputs at the reference beats of ``make train``'s CV command
(``--ref-dir out/ref_ens3b``) and scikit-learn, which the pinned ``neurokit2`` brings into ``.venv``.
Run from the project root (~30 s on 2 cores)::

    python docs/experiments/veb_verifier.py --pred-dir out/ref_ens3b

The first line must reproduce the card's (e) VEB figures (91.6 / 89.0 for ``out/ref_ens3b``).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ecg_core import train as T  # noqa: E402
from ecg_core.beats import segment_beats  # noqa: E402
from ecg_core.config import CLASSES, FS  # noqa: E402
from ecg_core.model import morphology_features, recording_inputs  # noqa: E402

VEB = CLASSES.index("VEB")
THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5)


def second_lead_features(data_dir: Path, rec: T.StageRecord) -> np.ndarray:
    """The six shape features of :func:`morphology_features` from the record's other lead."""
    import wfdb

    raw = wfdb.rdrecord(str(data_dir / rec.name))
    other = next(i for i, s in enumerate(raw.sig_name) if s != "MLII")
    beats = segment_beats(np.nan_to_num(raw.p_signal[:, other]), FS, rec.samples)
    return morphology_features(recording_inputs(beats.windows, beats.rr)[0])


def verifier(kind: str):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_leaf_nodes=15, random_state=0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pred-dir", type=Path, default=Path("out/ref_ens3b"))
    ap.add_argument("--data-dir", type=Path, default=T.DEFAULT_DATA_DIR)
    args = ap.parse_args(argv)

    recs = [T.load_stage_record(args.data_dir, args.pred_dir, n) for n in T.DS1_RECORDS]
    labels = [p.argmax(axis=1) for p in T.stacked_probs(recs, T.loro_stages(recs))]
    lead2 = [second_lead_features(args.data_dir, r) for r in recs]
    called = [(lab == VEB) & (r.target >= 0) for r, lab in zip(recs, labels, strict=True)]
    group = np.concatenate([np.full(c.sum(), r.name) for r, c in zip(recs, called, strict=True)]).astype(object)
    truth = np.concatenate([r.target[c] == VEB for r, c in zip(recs, called, strict=True)])
    reference = sum(int(np.sum(r.ref_labels == "VEB")) for r in recs)

    def line(keep):
        tp, fp = int(np.sum(truth & keep)), int(np.sum(~truth & keep))
        return f"VEB Se {100 * tp / reference:.1f} +P {100 * tp / max(tp + fp, 1):.1f}"

    print(f"shipped procedure (card (e)): {line(np.ones(len(truth), bool))}")
    for use_lead2 in (False, True):
        x = np.concatenate([np.column_stack([r.features] + ([f2] if use_lead2 else []))[c]
                            for r, f2, c in zip(recs, lead2, called, strict=True)])
        for kind in ("logistic", "trees"):
            score = np.zeros(len(truth))
            for name in np.unique(group):
                out = group == name
                score[out] = verifier(kind).fit(x[~out], truth[~out]).predict_proba(x[out])[:, 1]
            print(f"\n{kind} verifier, {'with' if use_lead2 else 'without'} the second lead's shape features")
            for th in THRESHOLDS:
                keep = score >= th
                fixed = Counter(group[~keep & ~truth])
                lost = Counter(group[~keep & truth])
                print(f"  reject below {th:.2f}: {line(keep)}  false VEB removed {dict(fixed.most_common(4))} "
                      f"true VEB lost {dict(lost.most_common(4))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
