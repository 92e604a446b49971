from mmseg_kd.distillers.seg_distiller import SegDistiller
from mmseg_kd.distillers.taps import Tap, TapRecorder, UnknownTapError

__all__ = ['SegDistiller', 'Tap', 'TapRecorder', 'UnknownTapError']
