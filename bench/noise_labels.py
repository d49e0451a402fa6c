"""What the classifier makes of noise: false VEB labels and unreadable beats on noise-stress records.

    python -m ecg_core.bench noise --data-dir ../shared/data/mitdb --noise-dir ../shared/data/noise --write-dir out/nst
    python -m ecg_core classify out/nst/*.hea --out-dir out/nst_cls
    python bench/noise_labels.py out/nst out/nst_cls

Per record, after the 5-min learning period: beats output, beats labelled Q (unreadable), beats
labelled VEB, and false VEB labels (VEB where the reference beat is not V/E, or where no reference
beat matches within 150 ms), the count the issue's bar is about.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ecg_core.bench import NST_LEARNING_S  # noqa: E402
from ecg_core.evaluate import match_beats  # noqa: E402
from ecg_core.io import load_annotations  # noqa: E402


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    import wfdb

    records, outputs = Path(args[0]), Path(args[1])
    print(f"{'record':<14} {'beats':>6} {'Q':>5} {'VEB':>5} {'false VEB':>9} {'of them unmatched':>17}")
    for beats_csv in sorted(outputs.glob("*.beats.csv")):
        stem = beats_csv.name[: -len(".beats.csv")]
        fs = wfdb.rdheader(str(records / stem)).fs
        ann = load_annotations(records / f"{stem}.atr")
        beats = pd.read_csv(beats_csv)
        learn = NST_LEARNING_S * fs
        beats = beats[beats["sample"] >= learn].reset_index(drop=True)
        keep = ann.sample >= learn
        ref, symbol = ann.sample[keep], np.asarray(ann.symbol)[keep]
        pairs = match_beats(ref, beats["sample"].to_numpy(), fs)
        matched = np.full(len(beats), "", dtype=object)
        matched[pairs[:, 1]] = symbol[pairs[:, 0]]
        veb = beats["label"].to_numpy() == "VEB"
        false = veb & ~np.isin(matched, ["V", "E"])
        print(f"{stem:<14} {len(beats):>6} {int((beats['label'] == 'Q').sum()):>5} {int(veb.sum()):>5} "
              f"{int(false.sum()):>9} {int((false & (matched == '')).sum()):>17}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
