"""Keep mmengine training checkpoints loadable with ``torch.load(weights_only=True)``.

mmengine 0.10.7 saves the message hub's log scalars as ``HistoryBuffer`` objects whose pickled state holds
references to their statistics functions; unpickling those needs ``builtins.getattr``, which no safe
allow-list can contain (a ``getattr`` chain reaches arbitrary code). This hook stores each buffer as plain
arrays when a checkpoint is saved and rebuilds the ``HistoryBuffer`` after a checkpoint is loaded, before
the runner restores its message hub, so the smoothed log values resume exactly. ``tools/train.py`` adds it
to every run.
"""
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmseg.registry import HOOKS

PLAIN_BUFFER_KEYS = ('log_history', 'count_history', 'max_length')


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Store the message hub's ``HistoryBuffer``s as plain data in checkpoints, and rebuild them."""

    priority = 'VERY_LOW'  # after other hooks have added to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        scalars = checkpoint.get('message_hub', {}).get('log_scalars', {})
        for key, buffer in list(scalars.items()):
            if isinstance(buffer, HistoryBuffer):
                log_history, count_history = buffer.data
                scalars[key] = dict(log_history=log_history, count_history=count_history,
                                    max_length=int(buffer.max_length))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        scalars = checkpoint.get('message_hub', {}).get('log_scalars', {})
        for key, value in list(scalars.items()):
            if isinstance(value, dict) and set(value) == set(PLAIN_BUFFER_KEYS):
                scalars[key] = HistoryBuffer(value['log_history'], value['count_history'],
                                             value['max_length'])
