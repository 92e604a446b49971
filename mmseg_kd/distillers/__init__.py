"""The distiller: ``SegDistiller`` and what it is made of (taps that record tensors by module path, the parts of a
segmentor a tap needs, student/teacher config resolution).

Layering: builds on ``losses``, ``layers``, ``schedules`` and ``checkpoint``; only ``engine``, ``analysis`` and the
tools import it.
"""
from mmseg_kd.distillers.receptive_token_learner import ReceptiveTokenLearner
from mmseg_kd.distillers.seg_distiller import SegDistiller
from mmseg_kd.distillers.taps import Tap, TapRecorder, UnknownTapError

__all__ = ['ReceptiveTokenLearner', 'SegDistiller', 'Tap', 'TapRecorder', 'UnknownTapError']
