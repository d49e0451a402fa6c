"""The shipped classifier on the spliced ectopy-dominant recordings of ``tests/test_ectopy.py``.

    .venv/bin/python bench/ectopy_splices.py     # a few seconds; needs only the bundled examples

For each rhythm of ``tests/ectopy.py`` (real normal and atrial premature beats of MIT-BIH record 209), the
share of beats that are atrial premature, the share of those labelled SVEB and the share of the normal
beats labelled N, at the spliced beat positions. The tests assert bounds on the same numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import ectopy  # noqa: E402
import numpy as np  # noqa: E402

from ecg_core.pipeline import analyze  # noqa: E402

RHYTHMS = {"atrial bigeminy": ectopy.atrial_bigeminy(),
           "bradycardia with atrial runs": ectopy.frequent_ectopy_bradycardia(),
           "SVT runs": ectopy.svt_runs(),
           "sinus tachycardia (all normal)": ectopy.sinus_tachycardia(fastest=0.5)}


def main() -> int:
    print(f"{'rhythm':32s} {'beats':>6s} {'ectopic':>8s} {'SVEB found':>11s} {'N kept':>7s}")
    for name, rhythm in RHYTHMS.items():
        x, r, kinds = ectopy.splice(rhythm)
        labels = analyze(x, ectopy.FS, peaks=r).labels
        a, n = kinds == "A", kinds == "N"
        found = f"{100 * np.mean(labels[a] == 'SVEB'):.0f}%" if a.any() else "-"
        print(f"{name:32s} {len(kinds):6d} {100 * a.mean():7.0f}% {found:>11s} {100 * np.mean(labels[n] == 'N'):6.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
