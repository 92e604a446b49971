"""The distiller: ``SegDistiller`` and what it is made of (taps that record tensors by module path, the parts of a
segmentor a tap needs, one term per ``distill_losses`` entry, the build step that makes and checks them on a dry run,
student/teacher config resolution, the teacher's weights).

Layering: builds on ``losses``, ``layers``, ``schedules``, ``checkpoint`` and ``utils``; only ``engine``, ``analysis``
and the tools import it.
"""
from mmseg_kd.distillers.receptive_token_learner import ReceptiveTokenLearner
from mmseg_kd.distillers.seg_distiller import SegDistiller
from mmseg_kd.distillers.taps import Tap, TapRecorder, UnknownTapError

__all__ = ['ReceptiveTokenLearner', 'SegDistiller', 'Tap', 'TapRecorder', 'UnknownTapError']
