"""Does muscle noise make the atrial fibrillation rule fire in sinus rhythm, and cost SVEB beats?

    .venv/bin/python bench/af_noise_stress.py [--records 209 220 118 223 101 112] [--snr 12 6 0]

Adds the MIT-BIH Noise Stress Test record ``ma`` (muscle artefact, lead 1, repeated to length) to
the MLII lead of DS1 records in sinus rhythm at each signal-to-noise ratio (std of the clean lead
over std of the scaled noise, in dB), detects and classifies the beats with the shipped model, and
prints per record and SNR: detected / reference beats, beats reported as atrial fibrillation, and
SVEB found / predicted with the rule and with the same stage without it. The shipped networks were
trained on these records, so the SVEB counts show the rule's effect, not generalisation.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecg_core.config import AAMI_MAP, FS  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def _sveb(analysis, ref_labels, pairs) -> tuple[int, int]:
    labels = analysis.labels
    found = np.sum((ref_labels[pairs[:, 0]] == "SVEB") & (labels[pairs[:, 1]] == "SVEB"))
    return int(found), int(np.sum(labels == "SVEB"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=DATA, help="shared data folder (mitdb/, noise/)")
    ap.add_argument("--records", nargs="+", default=["209", "220", "118", "223", "101", "112"])
    ap.add_argument("--snr", type=float, nargs="+", default=[12.0, 6.0, 0.0], help="dB")
    args = ap.parse_args(argv)
    import wfdb

    from ecg_core.evaluate import match_beats
    from ecg_core.model import BeatClassifier, load_for_serving
    from ecg_core.peaks import detect_r_peaks
    from ecg_core.pipeline import analyze

    classifier = load_for_serving()
    without_rule = BeatClassifier(classifier.network, classifier.temperatures, "no AF rule",
                                  dataclasses.replace(classifier.stage, af_p_correlation=-2.0))  # r is never < -1
    noise = wfdb.rdrecord(str(args.data_dir / "noise" / "ma")).p_signal[:, 0]
    print("record  SNR dB  beats found/ref  reported AF  SVEB ref  SVEB found/predicted: rule | no rule")
    for name in args.records:
        rec = wfdb.rdrecord(str(args.data_dir / "mitdb" / name))
        x = rec.p_signal[:, rec.sig_name.index("MLII")]
        ann = wfdb.rdann(str(args.data_dir / "mitdb" / name), "atr")
        symbols = np.asarray(ann.symbol)
        keep = np.isin(symbols, list(AAMI_MAP))
        ref_samples, ref_labels = ann.sample[keep], np.array([AAMI_MAP[s] for s in symbols[keep]])
        for snr in [None, *args.snr]:
            y = x
            if snr is not None:
                n = np.resize(noise, x.size)
                y = x + n * np.std(x) / np.std(n) * 10 ** (-snr / 20)
            peaks = detect_r_peaks(y, FS)
            on = analyze(y, FS, peaks=peaks, classifier=classifier)
            off = analyze(y, FS, peaks=peaks, classifier=without_rule)
            pairs = match_beats(ref_samples, on.samples, FS)
            (f1, p1), (f0, p0) = _sveb(on, ref_labels, pairs), _sveb(off, ref_labels, pairs)
            print(f"{name:>6}  {'clean' if snr is None else f'{snr:g}':>6}  {len(peaks):>6}/{len(ref_samples):<6}  "
                  f"{int(on.atrial_fibrillation.sum()):>11}  {int(np.sum(ref_labels == 'SVEB')):>8}  "
                  f"{f1}/{p1} | {f0}/{p0}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
