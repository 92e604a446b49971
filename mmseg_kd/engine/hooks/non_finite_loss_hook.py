"""Stop a run whose loss becomes NaN or infinite, naming the loss term, the iteration and the checkpoint to go back to.

mmengine would otherwise keep training on NaN weights for hours. The check reads the per-term values the runner
logs anyway (``outputs`` of ``after_train_iter``), which the logger reads back to the host every iteration too. The
step that produced the NaN has been applied to the in-memory model, but checkpoints on disk predate it.

Not every checkpoint on disk is worth going back to: a run that diverges (a learning rate far too high) usually
passes through huge but finite losses before the first NaN, and the checkpoints saved meanwhile hold the diverging
weights. The evidence the hook has is the total loss of every iteration. It takes the run's initial level as the
lowest total loss of its first :data:`INITIAL_ITERS` iterations and counts a run as diverging from the first
iteration whose total loss exceeds ``explosion_factor`` times that level (healthy training lowers its loss from the
initial level; a warm-up of distillation weights raises it by far less than 100x; a run whose initial total loss
is not positive, e.g. with an adversarial term, is not judged). A checkpoint is worth going back
to when no iteration up to it was non-finite or diverging. The hook learns which checkpoints exist from the
``last_ckpt`` entry that mmengine's ``CheckpointHook`` writes to the message hub, and keeps its own record there too,
so the verdicts survive a resume.
"""
import math
import os.path as osp
from typing import Optional

from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from mmseg_kd.utils.user_input_error import UserInputError

INITIAL_ITERS = 10
STATE_KEY = 'loss_health'


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite."""


def _fresh_state() -> dict:
    return dict(initial_losses=[], diverged_at=None, checkpoint_seen=None, last_healthy=None, first_unhealthy=None)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` as soon as a logged loss term is not finite.

    Args:
        explosion_factor: a total loss above this multiple of the run's initial level counts as diverging; the
            checkpoints saved from then on are not suggested for resuming.
    """

    priority = 'HIGHEST'

    def __init__(self, explosion_factor: float = 100.0):
        if isinstance(explosion_factor, bool) or not isinstance(explosion_factor, (int, float)) \
                or not explosion_factor > 1:
            raise UserInputError(f'NonFiniteLossHook: explosion_factor must be a number > 1, got {explosion_factor!r}')
        self.explosion_factor = float(explosion_factor)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        hub = runner.message_hub
        state = hub.get_info(STATE_KEY) or _fresh_state()
        self._note_saved_checkpoint(state, hub.get_info('last_ckpt'), runner.iter)
        iteration = runner.iter + 1
        values = {key: float(value.item() if hasattr(value, 'item') else value)
                  for key, value in (outputs or {}).items() if 'loss' in key}
        total = values.get('loss', sum(values.values()))
        bad = {key: value for key, value in values.items() if not math.isfinite(value)}
        if len(bad) > 1:
            bad.pop('loss', None)  # name the terms, not their sum
        if bad:
            terms = ', '.join(f'{key}={value}' for key, value in bad.items())
            raise NonFiniteLossError(
                f'non-finite loss at iteration {iteration}: {terms}. Training stopped instead of continuing on '
                f'garbage.\n{self._advice(state)}')
        self._note_loss(state, iteration, total)
        hub.update_info(STATE_KEY, state)

    @staticmethod
    def _note_saved_checkpoint(state: dict, last_checkpoint: Optional[str], saved_at: int) -> None:
        """Record the checkpoint ``CheckpointHook`` saved after the previous iteration (``saved_at``), if any."""
        if not last_checkpoint or last_checkpoint == state['checkpoint_seen']:
            return
        state['checkpoint_seen'] = last_checkpoint
        if state['diverged_at'] is None:
            state['last_healthy'] = [last_checkpoint, saved_at]
        elif state['first_unhealthy'] is None:
            state['first_unhealthy'] = [last_checkpoint, saved_at]

    def _note_loss(self, state: dict, iteration: int, total: float) -> None:
        if len(state['initial_losses']) < INITIAL_ITERS:
            state['initial_losses'].append(total)
        initial = min(state['initial_losses'])
        if state['diverged_at'] is None and initial > 0 and total > self.explosion_factor * initial:
            state['diverged_at'] = [iteration, total]

    def _advice(self, state: dict) -> str:
        """Which checkpoint to go back to, and how; one sentence per line."""
        causes = ('Lower the learning rate or that loss\'s loss_weight, or check the inputs (a teacher checkpoint '
                  'that does not match, images with NaN)')
        initial = min(state['initial_losses']) if state['initial_losses'] else None
        lines = []
        if state['diverged_at'] is not None:
            at, value = state['diverged_at']
            lines.append(f'The run diverged before: its total loss reached {value:.3g} at iteration {at}, over '
                         f'{self.explosion_factor:g}x its initial {initial:.3g}'
                         + (f'; {state["first_unhealthy"][0]} and later checkpoints hold the diverging run.'
                            if state['first_unhealthy'] is not None else '.'))
        healthy = state['last_healthy']
        if healthy is None or not osp.isfile(healthy[0]):
            start = ('No checkpoint of this run was saved before its losses went wrong' if state['checkpoint_seen']
                     else 'No checkpoint has been saved yet')
            return '\n'.join(lines + [f'{start}. {causes}, then start the run again.'])
        path, saved_at = healthy
        lines += [f'Last checkpoint whose logged losses were all finite and below {self.explosion_factor:g}x the '
                  f'initial loss ({initial:.3g}): {path} (iteration {saved_at}).',
                  f'{causes}, then continue from it:',
                  f'  tools/train.py CONFIG --resume {path} restores its optimizer state and learning-rate schedule '
                  '(a learning rate changed in the config does not apply);',
                  f'  tools/train.py CONFIG --cfg-options load_from={path} starts a new schedule from its weights.']
        return '\n'.join(lines)
