"""Runner hooks that ``tools/train.py`` selects for every run."""
from mmseg_kd.engine.hooks.atomic_checkpoint_hook import AtomicCheckpointHook
from mmseg_kd.engine.hooks.resumed_schedule_hook import ResumedScheduleHook

__all__ = ['AtomicCheckpointHook', 'ResumedScheduleHook']
