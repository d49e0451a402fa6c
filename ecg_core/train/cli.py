"""The command line of the training lab: ``python -m ecg_core.train COMMAND ...``.

Commands: ``train`` (the shipped model), ``cv`` (leave-record-out cross-validation and calibration,
then the shipped model unless ``--no-final``), ``fit-stage PRED_DIR`` (the second stage), ``card``
(re-render ``MODEL_CARD.md``). The flag forms of earlier versions still work: no command is
``train``, ``--cv`` is ``cv``, ``--fit-stage PRED_DIR`` is ``fit-stage``, ``--card-only`` is ``card``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import DS1_RECORDS, ROOT
from .data import DEFAULT_DATA_DIR, Schedule
from .runs import run_card, run_fit_stage, run_training

COMMANDS = ("train", "cv", "fit-stage", "card")
PROG = "python -m ecg_core.train"
DESCRIPTION = "Train, cross-validate and calibrate the beat classifier on the DS1 records of MIT-BIH."


def _data_options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="MIT-BIH WFDB folder (default %(default)s)")
    ap.add_argument("--records", nargs="+", default=list(DS1_RECORDS), help=argparse.SUPPRESS)


def _out_option(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--out", type=Path, default=ROOT / "models", help="output folder (default %(default)s)")


def _training_options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--noise-dir", type=Path, default=None, help="NSTDB noise folder (default: ../noise beside data)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1], help="seeds; several = an averaged ensemble")
    ap.add_argument("--epochs", type=int, default=Schedule.epochs)
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="override a training-schedule field (see Schedule), e.g. --set class_weight_power=0.7")


def _cv_options(ap: argparse.ArgumentParser, flag: str = "") -> None:
    ap.add_argument("--folds", type=int, default=22, help="CV folds grouped by record (22 = leave-one-record-out)")
    ap.add_argument("--e2e-dir", type=Path, default=None,
                    help=f"{flag}write out-of-fold <rec>.beats.csv at detected beats here and score them")
    ap.add_argument("--ref-dir", type=Path, default=None,
                    help=f"{flag}write the out-of-fold probabilities at the REFERENCE beat positions (rhythm "
                         "path, calibrated) as <rec>.beats.csv here, e.g. for fit-stage")
    ap.add_argument("--no-final", action="store_true", help="skip training the shipped model")


def _stage_options(ap: argparse.ArgumentParser, flag: str = "") -> None:
    ap.add_argument("--evaluate-only", action="store_true",
                    help=f"{flag}only evaluate (e.g. on --ref-dir outputs at the reference beats) and store "
                         "the figures as the card's 'at the reference beat positions'; the shipped stage stays")
    ap.add_argument("--stage-out-dir", type=Path, default=ROOT / "out" / "e2e_stage2",
                    help=f"{flag}where the stacked out-of-fold <rec>.beats.csv go (default %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    """The parser of the four commands (``train``, ``cv``, ``fit-stage``, ``card``)."""
    ap = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION,
                                 epilog="Flag forms of earlier versions still work: no command = train, --cv = cv, "
                                        "--fit-stage PRED_DIR = fit-stage, --card-only = card.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True)
    train = sub.add_parser("train", help="train the shipped model on all DS1 records")
    cv = sub.add_parser("cv", help="leave-record-out cross-validation, calibration, model card, then train")
    stage = sub.add_parser("fit-stage", help="fit the second stage on out-of-fold outputs; no training")
    card = sub.add_parser("card", help="only re-render MODEL_CARD.md from model_card.json")
    for p in (train, cv, stage):
        _data_options(p)
    for p in (train, cv, stage, card):
        _out_option(p)
    for p in (train, cv):
        _training_options(p)
    _cv_options(cv)
    stage.add_argument("fit_stage", type=Path, metavar="PRED_DIR",
                       help="the network's out-of-fold <rec>.beats.csv (from cv --e2e-dir); evaluated "
                            "leave-one-record-out, stored in model_card.json")
    _stage_options(stage)
    return ap


def legacy_parser() -> argparse.ArgumentParser:
    """The flag forms of earlier versions (``--cv``, ``--fit-stage PRED_DIR``, ``--card-only``)."""
    ap = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    _data_options(ap)
    _out_option(ap)
    _training_options(ap)
    ap.add_argument("--cv", action="store_true", help="run leave-record-out cross-validation first")
    _cv_options(ap, "with --cv: ")
    ap.add_argument("--card-only", action="store_true", help="only re-render MODEL_CARD.md from model_card.json")
    ap.add_argument("--fit-stage", dest="fit_stage", type=Path, default=None, metavar="PRED_DIR",
                    help="fit the second stage on the network's out-of-fold <rec>.beats.csv in PRED_DIR (from --cv "
                         "--e2e-dir), evaluate it leave-one-record-out, store it in model_card.json; no training")
    _stage_options(ap, "with --fit-stage: ")
    return ap


def _legacy_command(ap: argparse.ArgumentParser, args) -> str:
    """The command an old flag form stands for (refusing the combinations it refused)."""
    if args.evaluate_only and args.fit_stage is None:
        ap.error("--evaluate-only needs --fit-stage PRED_DIR (the out-of-fold files to evaluate the stage on)")
    if args.ref_dir is not None and not args.cv:
        ap.error("--ref-dir needs --cv (it writes the cross-validation's out-of-fold probabilities)")
    if args.card_only:
        return "card"
    if args.fit_stage is not None:
        return "fit-stage"
    return "cv" if args.cv else "train"


def _command(argv: list[str]) -> str:
    """The command line that reproduces the figures (``--out``, which only picks the folder, left out)."""
    args, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--out":
            skip = True
        elif not a.startswith("--out="):
            args.append(a)
    return " ".join([PROG, *args])


def _overrides(items) -> dict:
    """``FIELD=VALUE`` items (values in JSON) as :class:`~ecg_core.train.data.Schedule` field overrides."""
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in Schedule.__dataclass_fields__:
            raise SystemExit(f"unknown schedule field {key!r}; fields: {', '.join(Schedule.__dataclass_fields__)}")
        out[key] = json.loads(value)
    return out


def _log(*a) -> None:
    print(*a, file=sys.stderr, flush=True)


def main(argv=None) -> int:
    """Run ``python -m ecg_core.train`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help")):
        args = build_parser().parse_args(argv)
    else:
        ap = legacy_parser()
        args = ap.parse_args(argv)
        args.command = _legacy_command(ap, args)
    if args.command == "card":
        return run_card(args)
    command = _command(argv)
    if args.command == "fit-stage":
        return run_fit_stage(args, command, _log)
    args.overrides = _overrides(args.set)
    return run_training(args, command, _log, cv=args.command == "cv")
