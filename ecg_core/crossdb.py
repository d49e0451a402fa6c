"""Cross-database validation of the beat classifier: what it does on patients and recorders it never saw.

Part of the training lab (the dashboard, the API and the CLI never import it). Usage::

    python -m ecg_core.crossdb --out out/xdb                 # the three protocols, one seed
    python -m ecg_core.crossdb --out out/xdb --seeds 1 2 3   # an averaged ensemble per split

Two databases, each split by patient (one record is one patient in both):

* MIT-BIH Arrhythmia DS1 (22 records, 360 Hz, lead MLII by name);
* the shared records of the MIT-BIH Supraventricular Arrhythmia Database (128 Hz, lead ``ECG1``).

Protocols, each scored at the reference beat positions (EC57 classes, ventricular flutter left
out, pooled over records, per-record tables):

1. ``ds1->svdb``: networks trained on DS1 only, tested on every SVDB record;
2. ``svdb->ds1``: trained on SVDB only, tested on DS1;
3. ``both-cv``: grouped k-fold over both databases together (each fold holds out patients of
   both), out-of-fold outputs for every record.

On the out-of-fold outputs of (3) every post-processing choice is scored on the database it was
not designed on: the atrial fibrillation, wide-QRS and fusion rules on and off, and the second stage
fitted on one database's out-of-fold outputs and applied to the other's. Records are read and cut
through the same path as deployment (band-pass at the file's rate, then resampled to ``FS``), so a
record at 128 Hz is seen as a 128-Hz upload is. DS1 records also enter training a second time
resampled to 128 Hz (rate augmentation), so the networks see both recorders' bandwidths.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .beats import cut_windows, rr_features, to_internal_positions, to_internal_rate
from .classifier.rules import AtrialFibrillationRule, Decision, SupraventricularRunRule
from .classifier.settings import stage_version
from .config import BEAT_WINDOW, CLASSES, DS1_RECORDS, ROOT
from .evaluate import ClassificationScore, confusion_from_labels, empty_classification_score, outside_episodes
from .filters import clean_ecg
from .io import load_annotations
from .model import (
    local_templates,
    morphology_input,
    recording_template,
    regular_beats,
    rhythm_input,
    softmax,
)
from .train import (
    DEFAULT_DATA_DIR,
    DEFAULT_NOISE_DIR,
    MARGIN,
    Record,
    Schedule,
    _centre,
    _logits,
    fit_temperature,
    heldout_logits,
    load_noise,
    record_entry,
    train_network,
)

DEFAULT_SVDB_DIR = ROOT.parent / "shared" / "data" / "svdb"
#: Rate the DS1 records are also trained at (the SVDB recorder's).
AUGMENT_RATE = 128.0
_NAMES = np.asarray(CLASSES)


@dataclass
class XRecord(Record):
    """A training :class:`~ecg_core.train.Record` that knows its database and sampling rate."""

    database: str = ""
    fs: float = 360.0


def _lead(sig_names, preferred: tuple[str, ...]) -> int:
    for name in preferred:
        if name in sig_names:
            return sig_names.index(name)
    return 0


def load_xrecord(path: Path, database: str, *, rate: float | None = None) -> XRecord:
    """One WFDB record's reference beats, cut as deployment cuts them (``rate``: resample the file first)."""
    import wfdb
    from scipy.signal import resample_poly

    rec = wfdb.rdrecord(str(path))
    x = np.nan_to_num(rec.p_signal[:, _lead(rec.sig_name, ("MLII", "ECG1"))].astype(np.float64))
    fs = float(rec.fs)
    ann = load_annotations(Path(str(path) + ".atr"))
    samples = ann.sample.astype(np.int64)
    labels = np.array([CLASSES.index(c) for c in ann.label], dtype=np.int64)
    keep = outside_episodes(samples, list(ann.episodes))
    samples, labels = samples[keep], labels[keep]
    name = Path(path).name
    if rate is not None and rate != fs:
        from fractions import Fraction

        frac = Fraction(rate / fs).limit_denominator(1000)
        x = resample_poly(x, frac.numerator, frac.denominator)
        samples = np.rint(samples * rate / fs).astype(np.int64)
        fs, name = float(rate), f"{name}@{rate:g}"
    return xrecord_from_signal(x, fs, samples, labels, name, database, list(ann.episodes))


def xrecord_from_signal(x: np.ndarray, fs: float, samples, labels, name: str, database: str,
                        episodes=()) -> XRecord:
    """A recording's beats at ``samples`` (classes ``labels``) cut as deployment cuts them."""
    rr = rr_features(samples, fs)
    width = BEAT_WINDOW + 2 * MARGIN
    pos = to_internal_positions(samples, fs)
    clean = cut_windows(to_internal_rate(clean_ecg(x, fs), fs), pos, width=width)
    raw = cut_windows(to_internal_rate(x, fs), pos, width=width)
    template, scale = local_templates(_centre(clean), regular_beats(rr))
    raw_template, raw_scale = recording_template(_centre(raw))
    return XRecord(name, np.asarray(samples), np.asarray(labels), rr, clean, raw, rhythm_input(rr), template, scale,
                   raw_template, raw_scale, np.asarray(x, np.float32), list(episodes), database=database, fs=fs)


def spliced_records(records: list[XRecord], *, seed: int = 0) -> list[XRecord]:
    """Ectopy-dominant recordings spliced from each record's own N and SVEB beats (:mod:`ecg_core.splices`).

    Atrial bigeminy, atrial runs in a bradycardia or long runs of supraventricular tachycardia (in turn),
    one per record that has enough of both kinds, what the training records hold almost none of; and a
    sinus tachycardia of its normal beats (fast, every beat normal), so that a fast rate alone is not
    taken for ectopy.
    """
    from .splices import ectopy_records

    sveb, normal = CLASSES.index("SVEB"), CLASSES.index("N")
    out = []
    for i, r in enumerate(records):
        turn = ("bigeminy", "bradycardia", "svt")[i % 3]
        for kind, x, peaks, labels in ectopy_records(r.signal, r.fs, r.samples, r.labels, sveb=sveb, normal=normal,
                                                     seed=seed + 10 * i, kinds=(turn, "tachycardia")):
            out.append(xrecord_from_signal(x, r.fs, peaks, labels, f"{r.name}~{kind}", r.database))
    return out


def load_databases(mitdb_dir: Path, svdb_dir: Path, *, augment: bool = True, log=print) -> dict[str, list[XRecord]]:
    """``{"ds1": [...], "ds1@128": [...], "svdb": [...]}`` (the augmented copies only with ``augment``)."""
    t0 = time.time()
    out = {"ds1": [load_xrecord(Path(mitdb_dir) / n, "ds1") for n in DS1_RECORDS]}
    if augment:
        out["ds1@128"] = [load_xrecord(Path(mitdb_dir) / n, "ds1", rate=AUGMENT_RATE) for n in DS1_RECORDS]
    svdb = sorted(p.with_suffix("") for p in Path(svdb_dir).glob("*.hea"))
    out["svdb"] = [load_xrecord(p, "svdb") for p in svdb]
    log(f"loaded {', '.join(f'{k}: {len(v)} records' for k, v in out.items())} in {time.time() - t0:.0f} s")
    return out


#: Train with the spliced ectopy-dominant recordings of the training records (:func:`spliced_records`;
#: ``--splices``). Off: neither with nor without the sinus tachycardias did they improve both directions
#: (README "Where ectopy dominates"; branch ``exp/sinus-features``).
SPLICES = False


def _training_set(records: list[XRecord], augmented: dict[str, XRecord]) -> list[XRecord]:
    """``records`` plus the 128-Hz copies of the DS1 records among them (and, with ``SPLICES``, the
    ectopy-dominant recordings spliced from all of them)."""
    out = records + [augmented[r.name] for r in records if r.name in augmented]
    return out + spliced_records(out) if SPLICES else out


def network_logits(nets, rec: XRecord) -> np.ndarray:
    """Ensemble-mean logits of the rhythm path at one record's reference beats."""
    m = morphology_input(_centre(rec.clean), rec.template, rec.scale)
    return np.mean([_logits(n, m, rec.rhythm) for n in nets], axis=0)


def _score(records: list[XRecord], labels: list[np.ndarray]) -> tuple[ClassificationScore, dict]:
    total, per = empty_classification_score(), {}
    for r, lab in zip(records, labels, strict=True):
        s = confusion_from_labels(_NAMES[r.labels], _NAMES[lab])
        total = total + s
        per[r.name] = record_entry(s)
    return total, per


def score_variants(records: list[XRecord], logits: list[np.ndarray], temperature: float,
                   stages: dict | None = None) -> dict:
    """Figures of each post-processing variant on ``records`` (out-of-fold ``logits``).

    ``stages``: ``{variant name: StackedStage}`` to apply after the network (the stage and every step
    after it: rules, groups of beats, runs).
    """
    variants: dict[str, list[np.ndarray]] = {"network": [], "network+af": [], "network+af+runs": []}
    for name in stages or {}:
        variants[name] = []
    for r, lg in zip(records, logits, strict=True):
        p = softmax(lg, temperature)
        m = morphology_input(_centre(r.clean), r.template, r.scale)
        variants["network"].append(p.argmax(axis=1))
        af = AtrialFibrillationRule().apply(Decision.start(p, m, r.rhythm))
        variants["network+af"].append(af.labels)
        variants["network+af+runs"].append(SupraventricularRunRule().apply(af).labels)
        for name, stage in (stages or {}).items():
            variants[name].append(stage.apply(p, m, r.rhythm).argmax(axis=1))
    out = {}
    for name, labels in variants.items():
        total, per = _score(records, labels)
        out[name] = {"score": total.to_dict(), "per_record": per}
    return out


def _fit_stage_on_oof(records: list[XRecord], logits: list[np.ndarray], temperature: float):
    """The second stage fitted on out-of-fold outputs at the reference beats of ``records``."""
    from .model import stage_features
    from .train import fit_stage, stage_rows

    rows = []
    for r, lg in zip(records, logits, strict=True):
        p = softmax(lg, temperature)
        m = morphology_input(_centre(r.clean), r.template, r.scale)
        rows.append(stage_rows(m, r.rhythm, p, stage_features(m, r.rhythm, p), r.labels))
    return fit_stage(np.concatenate([x for x, _ in rows]), np.concatenate([y for _, y in rows]))


def grouped_folds(records: list[XRecord], n_folds: int) -> list[list[int]]:
    """Folds of whole records (patients), each database dealt round-robin so every fold holds both."""
    folds: list[list[int]] = [[] for _ in range(n_folds)]
    k = 0
    for db in dict.fromkeys(r.database for r in records):
        for i, r in enumerate(records):
            if r.database == db:
                folds[k % n_folds].append(i)
                k += 1
    return folds


def train_split(train: list[XRecord], noise, schedule: Schedule, seeds, log=print) -> list:
    t0 = time.time()
    nets = [train_network(train, noise, schedule, seed) for seed in seeds]
    log(f"  trained {len(nets)} network(s) on {len(train)} records, {sum(len(r.labels) for r in train)} beats "
        f"({time.time() - t0:.0f} s)")
    return nets


def run_protocols(dbs: dict[str, list[XRecord]], noise, schedule: Schedule, seeds, n_folds: int, *,
                  log=print, protocols=("ds1->svdb", "svdb->ds1", "both-cv")) -> dict:
    """The three protocols of the module docstring; returns their figures (and the CV's out-of-fold logits)."""
    aug = {r.name.split("@")[0]: r for r in dbs.get("ds1@128", [])}
    results: dict = {}
    for proto in protocols:
        if proto == "both-cv":
            continue
        src, dst = proto.split("->")
        log(f"{proto}:")
        nets = train_split(_training_set(dbs[src], aug), noise, schedule, seeds, log)
        logits = [network_logits(nets, r) for r in dbs[dst]]
        results[proto] = score_variants(dbs[dst], logits, 1.0)
        _log_line(log, proto, results[proto])
    if "both-cv" in protocols:
        everything = dbs["ds1"] + dbs["svdb"]
        oof: list = [None] * len(everything)
        oof_morph: list = [None] * len(everything)
        for f, test in enumerate(grouped_folds(everything, n_folds)):
            log(f"both-cv fold {f + 1}/{n_folds}:")
            train = [everything[i] for i in range(len(everything)) if i not in test]
            nets = train_split(_training_set(train, aug), noise, schedule, seeds, log)
            for i in test:
                oof[i], oof_morph[i] = heldout_logits(nets, everything[i])
        results["both-cv"] = score_both_cv(dbs, oof, n_folds, log=log)
        results["_oof"] = {r.name: lg for r, lg in zip(everything, oof, strict=True)}
        results["_oof_morphology"] = {r.name: lg for r, lg in zip(everything, oof_morph, strict=True)}
    return results


#: The post-processing without the supraventricular runs (:class:`~ecg_core.classifier.rules.SupraventricularRunRule`),
#: scored beside the current one.
WITHOUT_RUNS = {"svt_prematurity": 0.0}


def score_both_cv(dbs: dict[str, list[XRecord]], oof: list[np.ndarray], n_folds: int, *, log=print) -> dict:
    """Figures of ``both-cv`` from its out-of-fold logits (DS1 records first, then SVDB).

    The temperature is fitted on all of them; the second stage on one database's, applied (with the
    rules and the groups of beats after it) to the other's, and beside it the same without the
    supraventricular runs (:data:`WITHOUT_RUNS`).
    """
    everything = dbs["ds1"] + dbs["svdb"]
    temperature = fit_temperature(np.concatenate(oof), np.concatenate([r.labels for r in everything]))
    n1 = len(dbs["ds1"])
    ds1, svdb = everything[:n1], everything[n1:]
    stage_ds1 = _fit_stage_on_oof(ds1, oof[:n1], temperature)
    stage_svdb = _fit_stage_on_oof(svdb, oof[n1:], temperature)
    old = "{}, without the supraventricular runs"
    out = {"protocol": f"{n_folds}-fold cross-validation grouped by patient over DS1 + SVDB",
           "temperature": temperature}
    for db, recs, logits, other, stage in (("ds1", ds1, oof[:n1], "svdb", stage_svdb),
                                           ("svdb", svdb, oof[n1:], "ds1", stage_ds1)):
        name = f"stage fitted on {other}"
        out[db] = score_variants(recs, logits, temperature, {
            old.format(name): dataclasses.replace(stage, **WITHOUT_RUNS), name: stage})
        _log_line(log, f"both-cv {db}", out[db])
    return out


def rescore(dbs: dict[str, list[XRecord]], cv_dir: Path, out: Path, *, command: str, log=print) -> dict:
    """``crossdb.json`` of an earlier run (``cv_dir``) with ``both-cv`` scored again by this version's code.

    Its out-of-fold logits (``oof_logits.npz``) are read, not recomputed: the post-processing after the
    networks is what changes. The one-way protocols (their logits were not kept) are copied as they were.
    """
    cross = json.loads((cv_dir / "crossdb.json").read_text())
    store = np.load(cv_dir / "oof_logits.npz")
    everything = dbs["ds1"] + dbs["svdb"]
    folds = int(str(cross.get("both-cv", {}).get("protocol", "5-")).split("-")[0] or 5)
    cross["both-cv"] = score_both_cv(dbs, [store[r.name] for r in everything], folds, log=log)
    cross["rescored"] = {"from": str(cv_dir), "command": command}
    out.mkdir(parents=True, exist_ok=True)
    (out / "crossdb.json").write_text(json.dumps(cross, indent=1, default=float) + "\n")
    for name in ("oof_logits.npz", "oof_logits_morphology.npz"):
        if (cv_dir / name).exists() and cv_dir.resolve() != out.resolve():
            (out / name).write_bytes((cv_dir / name).read_bytes())
    log(f"wrote {out / 'crossdb.json'}")
    return cross


def _fmt(d: dict) -> str:
    c = d["classes"]
    pct = lambda v: "n/a" if v is None or v != v else f"{100 * v:.1f}"  # noqa: E731
    return (f"acc {100 * d['accuracy']:.2f}% SVEB {pct(c['SVEB']['se'])}/{pct(c['SVEB']['ppv'])} "
            f"VEB {pct(c['VEB']['se'])}/{pct(c['VEB']['ppv'])} F {pct(c['F']['se'])}/{pct(c['F']['ppv'])}")


def _log_line(log, title: str, variants: dict) -> None:
    for name, v in variants.items():
        log(f"  {title:16s} {name:24s} {_fmt(v['score'])}")


def ship(dbs: dict[str, list[XRecord]], noise, schedule: Schedule, seeds, cv_dir: Path, out: Path, *,
         stage: bool, command: str, reuse: bool = False, log=print) -> dict:
    """Train the shipped networks on every record of both databases; calibrate and fit the stage out of fold.

    The temperatures and the second stage come from the out-of-fold outputs of ``both-cv``
    (``cv_dir``, from an earlier run with the same settings): they never see a network's own training
    beats. Writes ``beat_classifier.keras``, ``model_card.json`` and ``MODEL_CARD.md`` into ``out``.
    """
    import datetime as _dt

    from .model import weights_digest
    from .train import _ensemble, reliability

    everything = dbs["ds1"] + dbs["svdb"]
    aug = {r.name.split("@")[0]: r for r in dbs.get("ds1@128", [])}
    t0 = time.time()
    train = _training_set(everything, aug)
    model_path = out / "beat_classifier.keras"
    if reuse and model_path.exists():  # refit the card's stage on the networks already trained there
        import keras

        net = keras.saving.load_model(model_path, compile=False)
        seconds = json.loads((out / "model_card.json").read_text())["training"]["seconds"]
    else:
        net = _ensemble([train_network(train, noise, schedule, seed) for seed in seeds])
        out.mkdir(parents=True, exist_ok=True)
        net.save(model_path)
        seconds = round(time.time() - t0, 1)
    while not (cv_dir / "crossdb.json").exists():  # the cross-validation may still be running beside
        log(f"waiting for {cv_dir / 'crossdb.json'}")
        time.sleep(30)
    cross = json.loads((cv_dir / "crossdb.json").read_text())
    oof = np.load(cv_dir / "oof_logits.npz")
    oof_morph = np.load(cv_dir / "oof_logits_morphology.npz")
    labels = np.concatenate([r.labels for r in everything])
    card: dict = {"classes": list(CLASSES), "calibration": {}}
    for path, store in (("rhythm", oof), ("morphology", oof_morph)):
        logits = np.concatenate([store[r.name] for r in everything])
        t = fit_temperature(logits, labels)
        before, after = reliability(softmax(logits, 1.0), labels), reliability(softmax(logits, t), labels)
        card["calibration"][path] = {"temperature": t, "ece_before": before["ece"], "ece_after": after["ece"],
                                     "reliability": after["bins"], "reliability_uncalibrated": before["bins"]}
        total, per = _score(everything, [lg.argmax(axis=1) for lg in (store[r.name] for r in everything)])
        card.setdefault("evaluation", {})[path] = {"score": total.to_dict(), "per_record": per}
    card["evaluation"].update(protocol=cross["both-cv"].get("protocol", "grouped k-fold over DS1 + SVDB"),
                              command=cross.get("command", ""), records=[r.name for r in everything])
    version = f"{_dt.date.today().isoformat()}-{weights_digest(net)}"
    if stage:
        st = _fit_stage_on_oof(everything, [oof[r.name] for r in everything],
                               card["calibration"]["rhythm"]["temperature"])
        card["second_stage"] = {"stage": st.to_dict(), "fitted_on": "out-of-fold outputs of both-cv, both databases"}
        version = stage_version(version, card["second_stage"]["stage"])
    card["version"] = version
    counts = np.bincount(np.concatenate([r.labels for r in train]), minlength=len(CLASSES))
    card["training"] = {"command": command, "databases": {"ds1": [r.name for r in dbs["ds1"]],
                                                          "svdb": [r.name for r in dbs["svdb"]]},
                        "records": [r.name for r in everything], "augmented": sorted(aug),
                        "beats": int(sum(len(r.labels) for r in everything)), "training_beats": int(counts.sum()),
                        "seeds": list(seeds), "schedule": schedule.__dict__, "seconds": seconds,
                        "class_counts": dict(zip(CLASSES, counts.tolist(), strict=True)),
                        "model_file": model_path.name, "model_bytes": model_path.stat().st_size,
                        "parameters": int(net.count_params())}
    card["crossdb"] = cross
    from .model import N_RHYTHM, RHYTHM_FEATURES

    card["inputs"] = {"morphology": "beat and beat minus local template of regular beats, over template "
                                    "peak-to-peak, 120 Hz", "rhythm": [*RHYTHM_FEATURES, "rhythm_known"],
                      "n_rhythm": N_RHYTHM}
    from .classifier.settings import write_settings
    from .jsonsafe import json_safe
    from .train import _json_default

    (out / "model_card.json").write_text(
        json.dumps(json_safe(card), indent=1, allow_nan=False, default=_json_default) + "\n")
    from .train.crossdb_card import write_card_md

    write_card_md(card, out / "MODEL_CARD.md")
    write_settings(card, out)  # what loading reads: the card is a report
    log(f"saved {model_path} ({model_path.stat().st_size / 1e6:.2f} MB), version {version}")
    return card


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ecg_core.crossdb", description=__doc__.split("\n\n")[0])
    ap.add_argument("--mitdb-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--svdb-dir", type=Path, default=DEFAULT_SVDB_DIR)
    ap.add_argument("--noise-dir", type=Path, default=DEFAULT_NOISE_DIR)
    ap.add_argument("--out", type=Path, required=True, help="folder for crossdb.json")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--protocols", nargs="+", default=["ds1->svdb", "svdb->ds1", "both-cv"])
    ap.add_argument("--no-augment", action="store_true", help="train without the DS1 copies at 128 Hz")
    ap.add_argument("--splices", action="store_true",
                    help="train with spliced ectopy-dominant recordings too (ecg_core.splices; not the shipped choice)")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="training-schedule overrides")
    ap.add_argument("--ship", type=Path, default=None, metavar="CV_DIR",
                    help="train the shipped model on both databases into --out, calibrated (and its stage fitted) "
                         "on the out-of-fold outputs of an earlier run in CV_DIR")
    ap.add_argument("--no-stage", action="store_true", help="with --ship: no second stage")
    ap.add_argument("--reuse-networks", action="store_true",
                    help="with --ship: keep the networks already in --out, redo only calibration, stage and card")
    ap.add_argument("--rescore", type=Path, default=None, metavar="CV_DIR",
                    help="score both-cv of an earlier run in CV_DIR again (its saved out-of-fold logits) with this "
                         "version's post-processing; crossdb.json into --out")
    ap.add_argument("--card-from", type=Path, default=None, metavar="CV_DIR",
                    help="replace the cross-database figures of the card in --out (a shipped model's folder) by "
                         "CV_DIR's crossdb.json, and render MODEL_CARD.md again")
    args = ap.parse_args(argv)
    from .train import _overrides

    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    schedule = Schedule(**_overrides(args.set))
    global SPLICES
    SPLICES = args.splices
    if args.card_from is not None:
        from .train.crossdb_card import card_from

        card_from(args.card_from, args.out, log=log)
        return 0
    t0 = time.time()
    dbs = load_databases(args.mitdb_dir, args.svdb_dir, augment=not args.no_augment, log=log)
    noise = load_noise(args.noise_dir)
    command = " ".join(["python -m ecg_core.crossdb", *(argv if argv is not None else sys.argv[1:])])
    if args.rescore is not None:
        rescore(dbs, args.rescore, args.out, command=command, log=log)
        return 0
    if args.ship is not None:
        ship(dbs, noise, schedule, args.seeds, args.ship, args.out, stage=not args.no_stage, command=command,
             reuse=args.reuse_networks, log=log)
        return 0
    results = run_protocols(dbs, noise, schedule, args.seeds, args.folds, log=log, protocols=args.protocols)
    oof, oof_morph = results.pop("_oof", None), results.pop("_oof_morphology", None)
    args.out.mkdir(parents=True, exist_ok=True)
    if oof is not None:
        np.savez_compressed(args.out / "oof_logits.npz", **oof)
        np.savez_compressed(args.out / "oof_logits_morphology.npz", **oof_morph)
    results["command"] = command
    results["seconds"] = round(time.time() - t0, 1)
    (args.out / "crossdb.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    log(f"wrote {args.out / 'crossdb.json'} ({results['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
