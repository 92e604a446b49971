"""Stop a run whose loss becomes NaN or infinite, naming the loss term and the iteration.

mmengine would otherwise keep training on NaN weights for hours. The check reads the per-term values the runner
logs anyway (``outputs`` of ``after_train_iter``), which the logger reads back to the host every iteration too. The
step that produced the NaN has been applied to the in-memory model, but checkpoints on disk predate it.
"""
import math

from mmengine.hooks import Hook
from mmseg.registry import HOOKS


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` as soon as a logged loss term is not finite."""

    priority = 'HIGHEST'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        values = {key: float(value.item() if hasattr(value, 'item') else value)
                  for key, value in (outputs or {}).items() if 'loss' in key}
        bad = {key: value for key, value in values.items() if not math.isfinite(value)}
        if len(bad) > 1:
            bad.pop('loss', None)  # name the terms, not their sum
        if bad:
            terms = ', '.join(f'{key}={value}' for key, value in bad.items())
            raise NonFiniteLossError(
                f'non-finite loss at iteration {runner.iter + 1}: {terms}. Training stopped instead of continuing on '
                'garbage; the checkpoints already saved are from before this iteration. Lower the learning rate or '
                'that loss\'s loss_weight, or check the inputs (a teacher checkpoint that does not match, images '
                'with NaN), then resume from the last checkpoint.')
