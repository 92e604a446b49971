"""Check where a tool is about to write a checkpoint, before it reads or computes anything."""
import os.path as osp
from typing import Sequence

from mmseg_kd.utils.user_input_error import UserInputError


class OutputPathError(UserInputError):
    """An output path would overwrite an input or names a folder."""


def check_output_path(out: str, inputs: Sequence[str]) -> None:
    """Refuse an output path that is one of the tool's ``inputs`` (same file, links and relative spellings included)
    or an existing folder.

    Raises:
        OutputPathError: naming the output path, the problem and the fix.
    """
    if osp.isdir(out):
        raise OutputPathError(f'output {out!r} is an existing folder: give the path of the file to write inside it, '
                              f'e.g. {osp.join(out, "model.pth")!r}')
    for source in inputs:
        same = osp.exists(out) and osp.exists(source) and osp.samefile(out, source)
        if same or osp.realpath(out) == osp.realpath(source):
            raise OutputPathError(f'output {out!r} is the input {source!r}: writing it would replace the file being '
                                  'converted. Give another output path.')
