"""Values made fit for strict JSON: the one home of NaN-to-null cleaning (the API's model card, the dashboard's
JSON summary)."""

from __future__ import annotations

import math

import numpy as np


def json_safe(value):
    """``value`` with NaN and infinities as ``None``, NumPy scalars as Python ones, tuples as lists, keys as str.

    JSON has no NaN or Infinity: an undefined figure (e.g. the +P of a class never predicted) becomes null.
    Dicts and lists (and tuples) are cleaned all the way down; anything else is returned as it is.

    Examples
    --------
    >>> import numpy as np
    >>> json_safe({"se": float("nan"), "n": np.int64(3), "p": [np.float32(0.5), float("inf")], 1: (2,)})
    {'se': None, 'n': 3, 'p': [0.5, None], '1': [2]}
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
