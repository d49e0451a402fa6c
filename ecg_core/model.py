"""The beat classifier's former home, kept so that ``from ecg_core.model import ...`` still works.

Everything lives in :mod:`ecg_core.classifier` now (one module a step: inputs, features, rules,
stage, network, inference); this module re-exports the package's public names and ``rr_features``.
New code imports from :mod:`ecg_core.classifier` (or its modules).
"""

from .beats import rr_features
from .classifier import *  # noqa: F403 - the package's public names, as callers of this module import them
from .classifier import __all__ as _CLASSIFIER_NAMES

__all__ = [*_CLASSIFIER_NAMES, "rr_features"]
