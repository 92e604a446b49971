"""What ``tools/train.py --resume`` checks before it builds the runner.

* :func:`latest_checkpoint`: the checkpoint ``<work_dir>/last_checkpoint`` names, resolved relative to the work dir
  (``AtomicCheckpointHook`` writes it relative; an absolute path written by mmengine's own hook is replaced by the work
  dir's file of the same name when the work dir was copied elsewhere), so a copied work dir resumes from its own files.
* :func:`check_resume`: a run that already reached ``max_iters`` is explained (how to train longer), a changed optimizer
  type is refused (it cannot take over the saved optimizer state; ``load_from`` starts a new schedule), and every other
  difference between the config and the checkpoint's is listed for the log.
"""
import os.path as osp
import zipfile
from typing import Any, Dict, List, Optional

import torch
from mmengine.config import Config

from mmseg_kd.checkpoint.complete_checkpoint import newest_complete_checkpoint
from mmseg_kd.checkpoint.safe_loading import load_checkpoint_file
from mmseg_kd.utils.user_input_error import UserInputError

# Entries that differ between a run and its resumption by design.
NOT_COMPARED = ('work_dir', 'resume', 'load_from', 'launcher')


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume from: ``last_checkpoint``'s entry resolved against ``work_dir``; ``None`` if the work
    dir has no ``last_checkpoint`` (nothing to resume: the run starts from scratch, as mmengine's does).

    Raises:
        UserInputError: ``last_checkpoint`` names a file that does not exist (the newest complete one is named).
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as file:
        entry = file.read().strip()
    path = entry if osp.isabs(entry) else osp.join(work_dir, entry)
    own_copy = osp.join(work_dir, osp.basename(entry))
    if osp.isabs(entry) and osp.dirname(osp.abspath(entry)) != osp.abspath(work_dir) and osp.isfile(own_copy):
        path = own_copy  # a work dir copied from elsewhere: its own file, not the original folder's
    if not osp.isfile(path):
        newest = newest_complete_checkpoint(osp.dirname(path))
        hint = (f'The newest complete checkpoint there is {newest!r}: resume with --resume {newest}.' if newest else
                'No complete checkpoint is left there: start the run again without --resume.')
        raise UserInputError(f'--resume: {pointer} names the checkpoint {entry!r}, which does not exist '
                             f'(deleted or moved). {hint}')
    return path


def flat_entries(value: Any, prefix: str = '') -> Dict[str, Any]:
    """``{'a.b.c': value}`` for every leaf of nested dicts (lists are leaves)."""
    if isinstance(value, dict):
        entries = {}
        for key, inner in value.items():
            entries.update(flat_entries(inner, f'{prefix}.{key}' if prefix else str(key)))
        return entries
    return {prefix: value}


def config_differences(saved: dict, current: dict) -> List[str]:
    """``'key: saved -> current'`` for every entry that differs (``<absent>`` for a missing one)."""
    before, after = flat_entries(saved), flat_entries(current)
    lines = []
    for key in sorted(set(before) | set(after)):
        if key.split('.')[0] in NOT_COMPARED or before.get(key, '<absent>') == after.get(key, '<absent>'):
            continue
        lines.append(f'{key}: {before.get(key, "<absent>")!r} -> {after.get(key, "<absent>")!r}')
    return lines


def read_checkpoint_meta(path: str) -> dict:
    """A checkpoint's ``meta``, read without loading its tensors when the file allows (``mmap``: a zip archive)."""
    if zipfile.is_zipfile(path):
        checkpoint = torch.load(path, map_location='cpu', weights_only=True, mmap=True)
    else:
        checkpoint = load_checkpoint_file(path, what='resume checkpoint')
    return checkpoint.get('meta') or {}


def optimizer_type(cfg: dict) -> Optional[str]:
    return ((cfg.get('optim_wrapper') or {}).get('optimizer') or {}).get('type')


def check_resume(cfg: Config, path: str) -> List[str]:
    """Check that the run of checkpoint ``path`` can go on with ``cfg``; returns the config differences to log.

    Raises:
        UserInputError: the run already reached ``train_cfg.max_iters``, or the optimizer type changed.
    """
    meta = read_checkpoint_meta(path)
    if not meta.get('cfg'):
        return []
    saved = Config.fromstring(meta['cfg'], '.py').to_dict()
    current = cfg.to_dict()
    max_iters = (current.get('train_cfg') or {}).get('max_iters')
    if max_iters is not None and meta.get('iter', 0) >= max_iters:
        raise UserInputError(
            f'--resume: the run of {path!r} has finished: it trained {meta.get("iter")} iterations and the config '
            f'asks for train_cfg.max_iters={max_iters}. To train it longer, raise max_iters and the schedule\'s end '
            f'(e.g. --cfg-options train_cfg.max_iters={2 * max_iters}); the learning rate then follows the new '
            "schedule. To evaluate it, run tools/test.py CONFIG CHECKPOINT.")
    before, after = optimizer_type(saved), optimizer_type(current)
    if before != after:
        raise UserInputError(
            f'--resume: the config changes the optimizer from {before} (in {path!r}) to {after}: the saved optimizer '
            'state belongs to the old one and cannot continue the run. To train with the new optimizer from these '
            f'weights, start a new schedule: --cfg-options load_from={path} (without --resume).')
    return config_differences(saved, current)
