"""Whether a checkpoint file is complete, and which checkpoint of its folder is the newest complete one.

``torch.save`` writes a zip archive whose directory sits at the end of the file: a file cut short (a run killed or a
disk filled during a save, a partial copy) has none, and ``zipfile`` refuses to open it. Checking that costs a read
of the file's last bytes, so the tools check every training checkpoint they are given (``--resume``, ``load_from``,
``tools/test.py``) before building anything, and name the previous complete checkpoint when one is incomplete.
"""
import os
import os.path as osp
import zipfile
from typing import Optional

from mmseg_kd.checkpoint.atomic_write import is_partial_file
from mmseg_kd.utils.user_input_error import UserFileError

CHECKPOINT_SUFFIXES = ('.pth', '.pt', '.ckpt')


class IncompleteCheckpointError(UserFileError):
    """A checkpoint file is cut short or is not a checkpoint at all."""


def is_complete_checkpoint(path: str) -> bool:
    """A zip archive with its directory (torch >= 1.6), or an older torch pickle stream (not checkable: assumed)."""
    try:
        with open(path, 'rb') as file:
            if file.read(1) == b'\x80':
                return True
        with zipfile.ZipFile(path) as archive:
            return bool(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def newest_complete_checkpoint(folder: str, other_than: str = '') -> Optional[str]:
    """The most recently modified complete checkpoint file in ``folder`` (not ``other_than``), or ``None``."""
    if not osp.isdir(folder):
        return None
    candidates = [osp.join(folder, name) for name in os.listdir(folder)
                  if name.endswith(CHECKPOINT_SUFFIXES) and not is_partial_file(name)]
    candidates = [path for path in candidates
                  if osp.isfile(path) and osp.abspath(path) != osp.abspath(other_than or '')]
    for path in sorted(candidates, key=osp.getmtime, reverse=True):
        if is_complete_checkpoint(path):
            return path
    return None


def check_complete_checkpoint(path: str, what: str) -> None:
    """Raise :class:`IncompleteCheckpointError` naming ``path``, the problem and the previous complete checkpoint of
    its folder if ``path`` is a local file that is cut short or not a checkpoint (remote URLs are not checked)."""
    if '://' in path or not osp.isfile(path) or is_complete_checkpoint(path):
        return
    previous = newest_complete_checkpoint(osp.dirname(osp.abspath(path)), other_than=path)
    fix = (f'The newest complete checkpoint of that folder is {previous!r}: give it instead (e.g. --resume '
           f'{previous}).' if previous else 'That folder holds no complete checkpoint to use instead.')
    raise IncompleteCheckpointError(
        f'{what} {path!r} is incomplete ({osp.getsize(path)} bytes, cut short or not a torch checkpoint): it was '
        f'probably being written when its run was killed or its disk filled up, or it was copied only in part. {fix}')
