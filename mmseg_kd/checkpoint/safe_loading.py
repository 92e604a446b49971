"""Safe checkpoint reading: ``torch.load(weights_only=True)`` everywhere, with readable errors.

Checkpoints are pickles, and a pickle can run arbitrary code when it is loaded. torch >= 2.6 loads with
``weights_only=True`` by default, which refuses any object outside an allow-list. Two things follow:

* Teacher and student weights (downloaded files) are read here with ``weights_only=True``. A file that
  needs more than tensors and plain containers is refused with an explanation and the explicit opt-in
  (``allow_unsafe_checkpoint=True``) for files the user trusts.
* mmengine 0.10.7's runner calls ``torch.load`` without ``weights_only`` when it resumes, and its
  training checkpoints hold numpy arrays and scalars (in the message hub) besides tensors.
  :func:`allow_mmengine_checkpoint_types` adds exactly those numpy types to torch's allow-list
  (``torch.serialization.add_safe_globals``, a public torch API), so resuming works while safety stays on
  for everything else. Importing ``mmseg_kd`` calls it. The message hub's ``HistoryBuffer`` objects
  would need ``getattr`` to unpickle, which is never allow-listed: ``WeightsOnlyCheckpointHook`` stores
  them as plain arrays instead.
"""
import os
import pickle
import re
import zipfile
from collections import OrderedDict
from typing import Dict, Mapping, Optional

import numpy as np
import torch

from mmseg_kd.checkpoint.sha256 import check_file_sha256
from mmseg_kd.utils.user_input_error import UserFileError, UserInputTypeError

# Prefixes that wrappers put in front of every key (DDP, distillers, NAS/KD frameworks).
WRAPPER_PREFIXES = ('module.', 'student.', 'architecture.')
# The class or function that torch's weights-only loader refused, in its error message.
REFUSED_GLOBAL = re.compile(r'GLOBAL ([\w.]+)')


def _numpy_types_in_mmengine_checkpoints() -> list:
    """numpy globals that mmengine's message hub and logger state pickle (arrays, scalars, dtypes).

    Files written under numpy 1.x name the array and scalar constructors ``numpy.core.multiarray.*``; numpy 2 moved
    them to ``numpy._core``. Under numpy 2 both names are allowed (torch's ``(function, name)`` form), so older
    training checkpoints and released teacher files that store a numpy scalar (e.g. a best score) still load.
    """
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    types = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    if multiarray.__name__ != 'numpy.core.multiarray':
        types += [(multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
                  (multiarray.scalar, 'numpy.core.multiarray.scalar')]
    types += [type(np.dtype(name)) for name in
              ('float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool')]
    return types


def allow_mmengine_checkpoint_types() -> None:
    """Allow-list the numpy types that mmengine 0.10 training checkpoints contain."""
    torch.serialization.add_safe_globals(_numpy_types_in_mmengine_checkpoints())


def load_checkpoint_file(path: str, *, what: str = 'checkpoint', allow_unsafe: bool = False,
                         sha256: Optional[str] = None) -> Mapping:
    """Read a checkpoint file on the CPU with ``weights_only=True``.

    Args:
        path: local file path.
        what: how the error messages name the file (e.g. ``'teacher checkpoint'``).
        allow_unsafe: ``True`` loads with ``weights_only=False``. Only for files you trust: unpickling can run
            arbitrary code. Only a real ``bool`` is accepted.
        sha256: the file's expected SHA-256 (whole, or its first 8 or more hex digits); checked before the file is
            unpickled.

    Raises:
        TypeError: ``allow_unsafe`` is not a ``bool``.
        FileNotFoundError: the file does not exist.
        IsADirectoryError: ``path`` is a directory.
        ChecksumMismatchError: the file's SHA-256 does not start with ``sha256``.
        RuntimeError: the file is not a readable checkpoint, or needs code to unpickle.
    """
    if not isinstance(allow_unsafe, bool):
        raise UserInputTypeError(
            f'allow_unsafe must be True or False, got {allow_unsafe!r} ({type(allow_unsafe).__name__})')
    if os.path.isdir(path):
        inside = sorted(name for name in os.listdir(path) if name.endswith(('.pth', '.pt', '.ckpt')))[:5]
        hint = f" such as {', '.join(repr(os.path.join(path, name)) for name in inside)}" if inside else ''
        raise IsADirectoryError(
            f'{what} {path!r} is a directory, not a checkpoint file. Point the config (e.g. teacher.checkpoint) '
            f'to the checkpoint file itself{hint}.')
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f'{what} {path!r} does not exist. Check the path in your config '
            '(e.g. teacher.checkpoint) or download the weights there first.')
    if sha256 is not None:
        check_file_sha256(path, sha256, what=what)
    unreadable = (f'{what} {path!r} could not be read as a torch checkpoint. Is the file complete (not a partial '
                  'download or an error page saved under that name) and a .pth file written by torch.save?')
    if not looks_like_torch_file(path):
        raise UserFileError(unreadable)
    try:
        return torch.load(path, map_location='cpu', weights_only=not allow_unsafe)
    except pickle.UnpicklingError as error:
        refusal = _code_refusal_message(what, path, str(error))
        if refusal is None:
            raise UserFileError(f'{unreadable} ({str(error).splitlines()[0]})') from error
        raise UserFileError(refusal) from error
    except (RuntimeError, EOFError, OSError) as error:
        raise UserFileError(f'{unreadable} ({error})') from error


def _code_refusal_message(what: str, path: str, torch_message: str) -> Optional[str]:
    """What a file that torch's weights-only loader refused asks for, or ``None`` if it names no global.

    The loader stops at the first class or function to import that is outside its allow-list, and its message
    names it as ``GLOBAL module.name``.
    """
    match = REFUSED_GLOBAL.search(torch_message)
    if match is None:
        return None
    name = match.group(1)
    danger = 'Loading it would run arbitrary code stored in the file.'
    if 'is blocked' in torch_message:
        danger += (f" {name!r} comes from {name.rsplit('.', 1)[0]!r}, a module that torch never allows: it reaches "
                   'the operating system (running commands, changing files), which no file of weights needs. Treat '
                   'the file as malicious unless you made it yourself.')
    return (f'{what} {path!r} was not loaded: unpickling it would import and call {name!r}, which is '
            f'neither a tensor nor a plain container, so torch\'s weights-only loader refused it. {danger} '
            'For a file you trust, opt in with allow_unsafe_checkpoint=True (e.g. teacher=dict(..., '
            'allow_unsafe_checkpoint=True)), or better, re-save its weights as a plain state dict in a session '
            "you trust: torch.save(torch.load(path, weights_only=False)['state_dict'], new_path).")


def looks_like_torch_file(path: str) -> bool:
    """A zip archive (torch >= 1.6) or a pickle stream (older torch.save)."""
    with open(path, 'rb') as file:
        return zipfile.is_zipfile(path) or file.read(1) == b'\x80'


def extract_state_dict(checkpoint: Mapping, *, what: str = 'checkpoint') -> Dict[str, torch.Tensor]:
    """The model weights inside a checkpoint, with wrapper prefixes removed.

    Accepts mmseg/mmengine checkpoints (``{'state_dict': ..., 'meta': ...}``), ``{'model': ...}``
    checkpoints and plain state dicts. A prefix from :data:`WRAPPER_PREFIXES` is removed when every key
    carries it (a DDP-wrapped model, a distilled student, an ``architecture.`` wrapper).
    """
    state_dict = checkpoint
    for key in ('state_dict', 'model'):
        if isinstance(state_dict, Mapping) and isinstance(state_dict.get(key), Mapping):
            state_dict = state_dict[key]
            break
    if not isinstance(state_dict, Mapping) or not all(
            isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise UserFileError(f'{what} holds no state dict (expected a dict of tensors, or one under '
                           f"'state_dict' or 'model'); top-level keys: {list(checkpoint)[:10]}")
    state_dict = OrderedDict(state_dict)
    for prefix in WRAPPER_PREFIXES:
        if state_dict and all(key.startswith(prefix) for key in state_dict):
            state_dict = OrderedDict((key[len(prefix):], v) for key, v in state_dict.items())
    return state_dict


class CheckpointMismatchError(UserFileError):
    """A checkpoint's keys or shapes do not match the model built from the config."""


def _listing(keys, limit: int = 12) -> str:
    keys = sorted(keys)
    shown = '\n'.join(f'    {key}' for key in keys[:limit])
    more = f'\n    ... and {len(keys) - limit} more' if len(keys) > limit else ''
    return shown + more


def load_state_dict_strictly(model: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], *,
                             what: str, config_hint: str = '') -> None:
    """Copy ``state_dict`` into ``model``; any missing, unexpected or mis-shaped key is an error.

    The error lists the keys, so a checkpoint for another architecture (or a config that builds a
    different model than the one the weights were trained with) is caught before training starts.
    """
    own = model.state_dict()
    missing = set(own) - set(state_dict)
    unexpected = set(state_dict) - set(own)
    mismatched = [f'{key}: checkpoint {tuple(state_dict[key].shape)} vs model {tuple(own[key].shape)}'
                  for key in set(own) & set(state_dict) if own[key].shape != state_dict[key].shape]
    if missing or unexpected or mismatched:
        report = [f'{what} does not match the model built from {config_hint or "its config"}:']
        if missing:
            report.append(f'  {len(missing)} key(s) the model needs are missing from the checkpoint:\n'
                          + _listing(missing))
        if unexpected:
            report.append(f'  {len(unexpected)} key(s) in the checkpoint are not in the model:\n'
                          + _listing(unexpected))
        if mismatched:
            report.append(f'  {len(mismatched)} key(s) have a different shape:\n' + _listing(mismatched))
        report.append('Check that the config describes the network the checkpoint was trained with '
                      '(architecture, depth, number of classes).')
        raise CheckpointMismatchError('\n'.join(report))
    model.load_state_dict(state_dict, strict=True)
