"""Episode-level check of the event list against the MIT-BIH reference rhythm annotations (``aux_note``).

    .venv/bin/python bench/events_vs_reference.py [--data-dir ../shared/data/mitdb] [--records 101 106 ...]

Each record is analysed as the dashboard does (default detector, the shipped classifier, MLII where present),
:func:`ecg_core.events.find_events` lists its events, and :func:`ecg_core.events.score_episodes` counts, per kind,
the reference episodes ``(VT``, ``(SVTA``, ``(B``, ``(T``, ``(AFIB``/``(AFL`` overlapped by an event of that kind
(sensitivity) and the events overlapping one (positive predictivity), pooled over the records. The shipped
networks were trained on the DS1 records, so on them these figures are in-sample (optimistic).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ecg_core import io  # noqa: E402
from ecg_core.events import find_events, score_episodes  # noqa: E402
from ecg_core.pipeline import analyze  # noqa: E402

DS1 = "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230".split()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "mitdb")
    parser.add_argument("--records", nargs="+", default=DS1)
    args = parser.parse_args(argv)
    from ecg_core.model import load_classifier

    classifier = load_classifier()
    total, t0 = {}, time.perf_counter()
    for name in args.records:
        rec = io.load(args.data_dir / f"{name}.hea")
        ann = io.load_annotations(args.data_dir / f"{name}.atr")
        analysis = analyze(rec.signal, rec.sampling_rate, classifier=classifier)
        events = find_events(analysis.samples, analysis.labels, rec.sampling_rate,
                             atrial_fibrillation=analysis.atrial_fibrillation)
        for kind, score in score_episodes(events, ann.rhythms, rec.sampling_rate).items():
            total[kind] = total[kind] + score if kind in total else score
            if score.reference or score.events:
                print(f"  {name} {kind:10s} reference {score.reference:3d} found {score.found:3d}   "
                      f"events {score.events:3d} true {score.true_events:3d}")
    print(f"\n{len(args.records)} records, {time.perf_counter() - t0:.0f} s")
    print(f"{'kind':10s} {'ref':>5s} {'found':>6s} {'Se %':>6s} {'events':>7s} {'true':>5s} {'+P %':>6s}")
    for kind, s in total.items():
        print(f"{kind:10s} {s.reference:5d} {s.found:6d} {100 * s.sensitivity:6.1f} {s.events:7d} {s.true_events:5d} "
              f"{100 * s.ppv:6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
