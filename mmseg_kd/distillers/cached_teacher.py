"""The teacher served from an offline cache: ``teacher=dict(cfg_path=..., checkpoint=..., cache=DIR)``.

With a cache (written by ``tools/cache_teacher.py``) the distiller does not run the teacher: the training pipeline's
``LoadCachedTeacherLogits``/``PackSegInputsWithTeacherLogits`` put each image's cached logits, aligned with the
augmented image, in ``data_sample.gt_teacher_logits``, and :class:`CachedTeacherLogits` hands them to the terms in
place of the teacher's recorded logit tap. The teacher's weights are not loaded.

Refused at build time, naming what differs: a cache made from another teacher config, checkpoint or class count,
an unfinished cache, and terms whose teacher tap is not the teacher's logits (:data:`CACHED_TAP`).
"""
import hashlib
import json
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch

from mmseg_kd.checkpoint.sha256 import file_sha256
from mmseg_kd.datasets.teacher_logit_cache import TeacherCacheError, read_manifest
from mmseg_kd.distillers.taps import Tap

CACHED_TAP = Tap('decode_head.conv_seg')  # the teacher's logits, the only tensor a cache holds


def plain_config(value):
    """``value`` with config dicts turned into dicts and tuples into lists (its JSON view)."""
    if isinstance(value, dict):
        return {str(key): plain_config(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_config(item) for item in value]
    return value


def teacher_config_sha256(teacher_cfg: dict) -> str:
    """A hash of the teacher's resolved model config (not of where its file lies)."""
    text = json.dumps(plain_config(teacher_cfg), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def checkpoint_sha256(entry: dict) -> str:
    """The SHA-256 of the teacher entry's checkpoint file, or its configured ``checkpoint_sha256`` when the file is
    not on this machine (a URL, or a cache used where the teacher is not), or ``''`` without either."""
    checkpoint = entry.get('checkpoint')
    if checkpoint and osp.isfile(checkpoint):
        return file_sha256(checkpoint)
    return entry.get('checkpoint_sha256') or ''


def teacher_identity(entry: dict, teacher_cfg: dict) -> Dict[str, str]:
    """What a cache records of its teacher: config hash, checkpoint path and hash."""
    return dict(config_sha256=teacher_config_sha256(teacher_cfg), checkpoint=str(entry.get('checkpoint')),
                checkpoint_sha256=checkpoint_sha256(entry))


def checked_cache_stride(cache: str, entry: dict, teacher_cfg: dict, num_classes: int) -> int:
    """The output stride of the cache in ``cache``, after checking that this teacher made it and that it is whole.

    Args:
        cache: the cache folder.
        entry: the distiller's ``teacher`` entry.
        teacher_cfg: the teacher's resolved model config.
        num_classes: the teacher decode head's number of classes.

    Raises:
        TeacherCacheError: the cache is missing, unfinished or was made from another teacher (naming what differs).
    """
    manifest = read_manifest(cache)
    recorded, expected = manifest['teacher'], teacher_identity(entry, teacher_cfg)
    differences = []
    if recorded['config_sha256'] != expected['config_sha256']:
        differences.append(f"the teacher config (cache made from {recorded.get('cfg_path')!r})")
    if expected['checkpoint_sha256'] and recorded['checkpoint_sha256'] != expected['checkpoint_sha256']:
        differences.append(f"the checkpoint (cache made from {recorded['checkpoint']!r}, SHA-256 "
                           f"{recorded['checkpoint_sha256'][:12]}..., this config's is "
                           f"{expected['checkpoint_sha256'][:12]}...)")
    if manifest['num_classes'] != num_classes:
        differences.append(f"the classes (cache: {manifest['num_classes']}, teacher: {num_classes})")
    if differences:
        raise TeacherCacheError(f"teacher.cache {cache!r} was made by another teacher: {'; '.join(differences)} "
                                'differ. Write a cache for this teacher: python tools/cache_teacher.py CONFIG '
                                '--out NEW_DIR.')
    if not manifest.get('complete'):
        raise TeacherCacheError(f'teacher.cache {cache!r} is unfinished (its writing was interrupted); run '
                                'tools/cache_teacher.py CONFIG --out DIR again: it continues where it stopped.')
    return manifest['output_stride']


class CachedTeacherLogits:
    """Serves the teacher's logit tap from ``data_sample.gt_teacher_logits`` (in place of a ``TapRecorder``).

    Args:
        stride: the teacher's output stride (the cache's ``output_stride``).
        cache: the distiller's ``teacher.cache``; every sample's map must come from this folder (``None``: from any).
    """

    def __init__(self, stride: int, cache: Optional[str] = None):
        self.stride = stride
        self.cache = cache
        self.logits = None

    @staticmethod
    def uncached_taps(teacher_taps: Dict[str, Tap]) -> List[str]:
        """``'<entry>: <tap>'`` for every entry whose teacher tap is not the teacher's logits."""
        return [f'{name}: {tap}' for name, tap in teacher_taps.items() if tap != CACHED_TAP]

    def load(self, data_samples: Sequence, input_shape: Sequence[int]) -> None:
        """Stack the samples' cached maps for a batch of ``input_shape`` (B, 3, H, W).

        Raises:
            TeacherCacheError: a sample has no cached map, or one smaller than the teacher's output on the padded
                batch (its image was smaller than the crop, and the data preprocessor padded it).
        """
        expected = (math.ceil(input_shape[2] / self.stride), math.ceil(input_shape[3] / self.stride))
        maps = []
        for sample in data_samples:
            if 'gt_teacher_logits' not in sample:
                raise TeacherCacheError(
                    f"{sample.metainfo.get('img_path')} has no cached teacher logits: with teacher.cache every "
                    'training pipeline needs LoadCachedTeacherLogits(cache=DIR) after its resize and '
                    'PackSegInputsWithTeacherLogits in place of PackSegInputs.')
            source = sample.gt_teacher_logits.metainfo.get('cache')
            if self.cache is not None and osp.realpath(source) != osp.realpath(self.cache):
                raise TeacherCacheError(
                    f"{sample.metainfo.get('img_path')}: the pipeline's LoadCachedTeacherLogits reads the cache "
                    f'{source!r}, the distiller checked teacher.cache {self.cache!r}. Give both the same folder.')
            logits = sample.gt_teacher_logits.data
            if tuple(logits.shape[1:]) != expected:
                raise TeacherCacheError(
                    f"{sample.metainfo.get('img_path')}: its cached teacher map is {list(logits.shape[1:])}, the "
                    f'teacher output on the batch is {list(expected)}: the image was smaller than the batch and the '
                    'data preprocessor padded it, where the cache has no values. Use a crop no larger than the '
                    "smallest resized image (or train with the online teacher).")
            maps.append(logits)
        self.logits = torch.stack(maps)

    def get(self, tap: Tap) -> torch.Tensor:
        """The batch's cached logits (B, C, ceil(H / s), ceil(W / s)); ``tap`` is the teacher's logit tap."""
        assert tap == CACHED_TAP and self.logits is not None, 'load() a batch before reading the cached logits'
        return self.logits

    def clear(self) -> None:
        self.logits = None
