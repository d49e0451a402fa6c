"""Shared fixtures."""

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def ds1_stage():
    """The second stage the DS1-only model shipped until 2026-12-06 (``tests/data/ds1_stage.json``).

    The shipped model no longer has a stage (it did not hold across databases), but a model card that
    carries one still loads and applies it: its mechanics and its rules are tested on this one.
    """
    from ecg_core.model import StackedStage

    return StackedStage.from_dict(json.loads((Path(__file__).parent / "data" / "ds1_stage.json").read_text()))
