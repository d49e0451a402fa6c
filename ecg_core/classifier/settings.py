"""The classifier's run-time file: what loading reads beside the network (numpy and json only).

``classifier.json`` (:data:`~ecg_core.config.CLASSIFIER_JSON`) holds the model's version, the
calibration temperature of each path and the second stage (its coefficients and the settings of the
hand rules, as :meth:`~ecg_core.classifier.stage.StackedStage.to_dict` writes them; null without a
stage). It is written from the model card (:func:`write_settings`, which training calls whenever it
writes the card), so the card is a report: editing it does not change the model. A model that comes
with a card only (one passed with ``--model``) is loaded from its card (:func:`read_settings`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..config import CLASSIFIER_JSON, MODEL_CARD_JSON
from ..errors import ECGError

#: Version of the layout of ``classifier.json``.
SETTINGS_FORMAT = 1


def read_card(path: Path | str = MODEL_CARD_JSON) -> dict:
    """The machine-readable model card (empty dict if absent)."""
    p = Path(path)
    return json.loads(p.read_text()) if p.exists() else {}


def settings_from_card(card: dict) -> dict:
    """The run-time settings in ``card``: ``{"format", "version", "temperatures", "stage"}``.

    Parameters
    ----------
    card : dict
        A model card (``model_card.json``): its ``version``, the ``temperature`` of each path under
        ``calibration`` and the stage under ``second_stage``/``stage``.

    Returns
    -------
    dict
        ``temperatures`` maps each calibrated path to its temperature; ``stage`` is the stored
        stage, or None without one.
    """
    cal = card.get("calibration", {})
    temperatures = {k: float(v["temperature"]) for k, v in cal.items() if isinstance(v, dict) and "temperature" in v}
    return {"format": SETTINGS_FORMAT, "version": card.get("version", ""), "temperatures": temperatures,
            "stage": card.get("second_stage", {}).get("stage") or None}


def stage_version(version: str, stage: dict) -> str:
    """``version``'s network part (before any ``+``) with ``+stage-`` and a digest of ``stage`` (its ``to_dict``).

    The labels change with the stage and the rules' settings it stores, so the version does too.
    """
    digest = hashlib.sha256(json.dumps(stage, sort_keys=True).encode()).hexdigest()[:6]
    return f"{(version or 'unversioned').split('+')[0]}+stage-{digest}"


def write_settings(card: dict, directory: Path | str) -> Path:
    """Write ``classifier.json`` of ``card`` (:func:`settings_from_card`) into ``directory``; its path."""
    path = Path(directory) / CLASSIFIER_JSON.name
    path.write_text(json.dumps(settings_from_card(card), indent=1, allow_nan=False) + "\n")
    return path


def read_settings(directory: Path | str) -> dict:
    """The run-time settings of the model in ``directory``: its ``classifier.json``, else its model card.

    Raises
    ------
    ECGError
        ``classifier.json`` is of another format than this version of the software reads.
    """
    path = Path(directory) / CLASSIFIER_JSON.name
    if not path.exists():
        return settings_from_card(read_card(Path(directory) / MODEL_CARD_JSON.name))
    settings = json.loads(path.read_text())
    if settings.get("format") != SETTINGS_FORMAT:
        raise ECGError(f"{path} is of format {settings.get('format')!r}; this version of the software reads format "
                       f"{SETTINGS_FORMAT}. Write it again from the model card "
                       "(ecg_core.classifier.settings.write_settings).")
    return settings
