"""ecg_core: the pure signal and classification library of the ECG arrhythmia workbench.

Loading and peak detection import no TensorFlow; the model module loads it lazily.
"""

from .config import BEAT_WINDOW, CLASSES, FS
from .errors import ECGError

__all__ = ["BEAT_WINDOW", "CLASSES", "FS", "ECGError", "detect_r_peaks"]


def __getattr__(name):
    if name == "detect_r_peaks":
        from .peaks import detect_r_peaks

        return detect_r_peaks
    raise AttributeError(name)
