"""All figures of the project: Plotly for the dashboard, a static PNG (matplotlib) for the API.

Compute modules never plot; pages and the API call these builders. Pages only draw what they return.

- :mod:`~ecg_core.plotting._base`: class colours and names, limits, the figure class, layout, downsampling.
- :mod:`~ecg_core.plotting.trace`: :func:`trace_figure` (the trace with its beats) and :func:`ecg_strip_figure`.
- :mod:`~ecg_core.plotting.charts`: class counts, confidence, tachogram, heart rate, sweeps, one beat,
  confusion, calibration.
- :mod:`~ecg_core.plotting.png`: :func:`beat_png` for the API.
"""

from ._base import (
    _FONT,
    _MARGIN,
    _RICH_HOVER,
    _RICH_HOVER_PEAKS,
    AF_COLOR,
    CLASS_COLORS,
    CLASS_NAMES,
    CLASS_SHORT,
    MAX_BEAT_MARKERS,
    MAX_CLASS_MARKERS,
    MAX_SHADED_RUNS,
    MAX_TRACE_POINTS,
    TRACE_COLOR,
    WEBGL_MIN_POINTS,
    _beat_comb,
    _beat_hover,
    _clock,
    _figure,
    _figure_class,
    _first_per_bin,
    _layout,
    _nice_ticks,
    _rebuilt,
    _round_arrays,
    _scatter_type,
    minmax_downsample,
    runs,
)
from .charts import (
    beat_figure,
    calibration_figure,
    class_counts_figure,
    confidence_figure,
    confusion_figure,
    heart_rate_figure,
    sweep_figure,
    tachogram_figure,
)
from .png import (
    beat_png,
)
from .trace import (
    BEAT_LETTERS,
    CALIBRATION_MV,
    CALIBRATION_S,
    MAX_SHADED_SPANS,
    PAPER_ASPECT_MAX_S,
    PAPER_COLORS,
    PAPER_GAIN_MM_MV,
    PAPER_MAJOR,
    PAPER_MINOR,
    PAPER_SPEED_MM_S,
    UNREADABLE_FILL,
    _shade_unreadable,
    ecg_strip_figure,
    trace_figure,
)
