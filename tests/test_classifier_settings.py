"""The run-time file ``models/classifier.json``: what loading reads, written from the model card."""

from __future__ import annotations

import json
import shutil

import pytest

from ecg_core.classifier.settings import SETTINGS_FORMAT, read_card, read_settings, settings_from_card, write_settings
from ecg_core.config import CLASSIFIER_JSON, MODEL_CARD_JSON
from ecg_core.errors import ECGError


def test_the_shipped_file_is_the_cards_settings():
    shipped = json.loads(CLASSIFIER_JSON.read_text())
    assert shipped == settings_from_card(read_card())
    assert shipped["format"] == SETTINGS_FORMAT
    assert set(shipped["temperatures"]) == {"rhythm", "morphology"}
    assert shipped["stage"]["af_beats"] > 0  # the rule settings travel with the stage


def test_loading_reads_the_file_not_the_card(tmp_path):
    write_settings(read_card(), tmp_path)
    (tmp_path / MODEL_CARD_JSON.name).write_text(json.dumps({"version": "edited report"}))
    assert read_settings(tmp_path) == settings_from_card(read_card())


def test_a_model_with_a_card_only_is_loaded_from_its_card(tmp_path):
    shutil.copy(MODEL_CARD_JSON, tmp_path)
    assert read_settings(tmp_path) == json.loads(CLASSIFIER_JSON.read_text())
    assert read_settings(tmp_path / "empty") == {"format": SETTINGS_FORMAT, "version": "", "temperatures": {},
                                                 "stage": None}


def test_another_format_is_refused(tmp_path):
    (tmp_path / CLASSIFIER_JSON.name).write_text(json.dumps({"format": SETTINGS_FORMAT + 1}))
    with pytest.raises(ECGError, match="format"):
        read_settings(tmp_path)


def test_training_writes_the_file_with_the_card(tmp_path, monkeypatch):
    from ecg_core.train import card

    monkeypatch.setattr(card, "write_model_card_md", lambda card, path: None)  # the shipped card is crossdb's
    card.save_card(read_card(), tmp_path)
    assert json.loads((tmp_path / CLASSIFIER_JSON.name).read_text()) == json.loads(CLASSIFIER_JSON.read_text())
