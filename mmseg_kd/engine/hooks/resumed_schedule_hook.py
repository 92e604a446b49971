"""On ``--resume``, the config's parameter schedule wins over the checkpoint's.

mmengine restores every parameter scheduler from the checkpoint with ``load_state_dict``, which replaces the whole
scheduler, its bounds included (``begin``, ``end``, ``T_max``, ``eta_min``, ``power`` ...). Resuming a finished 40k
run with ``max_iters=80000`` and ``PolyLR(end=80000)`` therefore keeps ``end=40000``, and the added iterations run at
``eta_min`` without a word. When a resumed checkpoint's schedulers differ from the config's in any such value, this hook
replays the config's schedulers from the optimizer's initial values up to the checkpoint's iteration (epoch, for
epoch-based schedulers) and puts their state, and the parameter values they reach, into the checkpoint before the
runner restores it: the run continues on the curve the new config describes, as if it had been trained with it from the
start. A checkpoint whose schedule equals the config's is restored untouched. Runs with several optimizers (a dict of
scheduler lists) are restored as mmengine does. ``tools/train.py`` adds the hook to every
run.
"""
import warnings
from typing import List

from mmengine.hooks import Hook
from mmseg.registry import HOOKS

# Scheduler attributes that record progress, not the schedule.
PROGRESS_KEYS = frozenset(('last_step', '_global_step', '_get_value_called_within_step', '_last_value', 'base_values',
                           'verbose', 'optimizer'))


def schedule_bounds(state: dict) -> dict:
    """The values of a scheduler's state dict that describe its schedule (``end``, ``eta_min``, ...)."""
    return {key: value for key, value in state.items() if key not in PROGRESS_KEYS}


@HOOKS.register_module()
class ResumedScheduleHook(Hook):
    """Make a resumed run follow the parameter schedule of its config, not the checkpoint's."""

    priority = 'VERY_LOW'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        schedulers = runner.param_schedulers
        saved = checkpoint.get('param_schedulers')
        if not runner.cfg.get('resume', False) or not isinstance(schedulers, list) or not isinstance(saved, list):
            return
        changes = self._changes(schedulers, saved)
        if not changes:
            return
        meta = checkpoint.get('meta', {})
        self._replay(schedulers, int(meta.get('iter', 0)), int(meta.get('epoch', 0)))
        checkpoint['param_schedulers'] = [scheduler.state_dict() for scheduler in schedulers]
        names = {scheduler.param_name for scheduler in schedulers}
        for saved_group, group in zip(checkpoint['optimizer']['param_groups'],
                                      runner.optim_wrapper.optimizer.param_groups):
            for name in names:
                saved_group[name] = group[name]
        runner.logger.warning('resume: the config changes the parameter schedule of the checkpoint; the run continues '
                              'on the config\'s schedule:\n' + '\n'.join(f'  {change}' for change in changes))

    @staticmethod
    def _changes(schedulers: list, saved: List[dict]) -> List[str]:
        if len(schedulers) != len(saved):
            return [f'{len(saved)} scheduler(s) in the checkpoint, {len(schedulers)} in the config']
        changes = []
        for index, (scheduler, state) in enumerate(zip(schedulers, saved)):
            now, before = schedule_bounds(scheduler.state_dict()), schedule_bounds(state)
            for key in sorted(set(now) | set(before)):
                if now.get(key) != before.get(key):
                    changes.append(f'param_scheduler[{index}] ({type(scheduler).__name__}).{key}: '
                                   f'{before.get(key)!r} -> {now.get(key)!r}')
        return changes

    @staticmethod
    def _replay(schedulers: list, iterations: int, epochs: int) -> None:
        """Step freshly built ``schedulers`` from the optimizers' initial values to ``iterations``/``epochs``."""
        for scheduler in schedulers:
            for group in scheduler.optimizer.param_groups:
                group[scheduler.param_name] = group[f'initial_{scheduler.param_name}']
        with warnings.catch_warnings():  # torch's "scheduler.step() before optimizer.step()": intended here
            warnings.simplefilter('ignore', UserWarning)
            for scheduler in schedulers:  # as their constructors do
                scheduler.last_step = scheduler._global_step = -1
                scheduler.step()
            for step in range(max(iterations, epochs)):  # in the order ParamSchedulerHook steps them
                for scheduler in schedulers:
                    if step < (epochs if scheduler.by_epoch else iterations):
                        scheduler.step()
