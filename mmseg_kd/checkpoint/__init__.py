"""Checkpoint files: fetching them by URL into a cache, checking their SHA-256, reading them safely
(``weights_only=True``) and loading their weights strictly.

Layering: depends on torch, numpy and mmengine's logger only; everything else in ``mmseg_kd`` may use it.
"""
from mmseg_kd.checkpoint.download import (
                                          CheckpointDownloadError,
                                          NotACheckpointError,
                                          cache_path,
                                          default_cache_dir,
                                          download_checkpoint,
                                          is_url,
)
from mmseg_kd.checkpoint.safe_loading import (
                                          CheckpointMismatchError,
                                          allow_mmengine_checkpoint_types,
                                          extract_state_dict,
                                          load_checkpoint_file,
                                          load_state_dict_strictly,
)
from mmseg_kd.checkpoint.sha256 import ChecksumMismatchError, check_file_sha256, expected_sha256, file_sha256

__all__ = ['CheckpointDownloadError', 'CheckpointMismatchError', 'ChecksumMismatchError', 'NotACheckpointError',
           'allow_mmengine_checkpoint_types', 'cache_path', 'check_file_sha256', 'default_cache_dir',
           'download_checkpoint', 'expected_sha256', 'extract_state_dict', 'file_sha256', 'is_url',
           'load_checkpoint_file', 'load_state_dict_strictly']
