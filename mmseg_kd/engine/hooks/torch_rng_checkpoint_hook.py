"""Resume to the same result: carry the torch random state across a checkpoint.

mmengine restores weights, optimizer, schedulers and the iteration, and on resume it replays the data loader up to
that iteration, which leaves the data pipeline's numpy/python random state where an uninterrupted run has it. Nothing
replays the forward passes, though, so the torch generator that dropout and other random layers draw from would
start from a different state. This hook saves the torch CPU (and CUDA) generator states with each checkpoint and
restores them right before the first training iteration after a resume, i.e. after the data replay. numpy/python
states are deliberately not restored: that would rewind the data pipeline to draws it has already replayed.
``tools/train.py`` adds the hook to every run.
"""
import torch
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

STATE_KEY = 'torch_rng_state'


@HOOKS.register_module()
class TorchRngCheckpointHook(Hook):
    """Save the torch generator states in checkpoints; restore them at the first iteration after a resume."""

    priority = 'VERY_LOW'

    def __init__(self):
        self._restore = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = {'cpu': torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint[STATE_KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._restore = checkpoint.get(STATE_KEY)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._restore is None:
            return
        torch.set_rng_state(self._restore['cpu'])
        if 'cuda' in self._restore and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(self._restore['cuda'])
        self._restore = None
