"""Checkpoint files: reading them safely (``weights_only=True``) and loading their weights strictly.

Layering: depends on torch and numpy only; everything else in ``mmseg_kd`` may use it.
"""
from mmseg_kd.checkpoint.safe_loading import (CheckpointMismatchError, allow_mmengine_checkpoint_types,
                                              extract_state_dict, load_checkpoint_file, load_state_dict_strictly)

__all__ = ['CheckpointMismatchError', 'allow_mmengine_checkpoint_types', 'extract_state_dict',
           'load_checkpoint_file', 'load_state_dict_strictly']
