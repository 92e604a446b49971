"""How the tools stop on a mistake in the command, the config or the data: one short block, printed last.

A config or data mistake found by mmseg-kd (a :class:`~mmseg_kd.utils.UserInputError` or one of the error classes of
:data:`USER_ERRORS`), or one of a few well-known ones from torch and mmengine, is the user's to fix, and its message
says what, where and how; a 30-line traceback after mmengine's config dump would bury it.
:func:`run_tool` runs a tool's ``main`` and turns such an error into a block on stderr and exit status 1::

    ==== train.py stopped: CheckpointMismatchError ====
    resume checkpoint 'work_dirs/x/iter_4.pth' does not match the model built from ...
      ...
    (the traceback is in work_dirs/x/20240101_120000/20240101_120000.log; MMSEG_KD_DEBUG=1 prints it here)

The traceback goes to the run's log file when mmengine has opened one; ``MMSEG_KD_DEBUG=1`` lets the exception
propagate as usual. Any other exception is unexpected and keeps its full traceback.

Under torchrun (or srun) every rank usually fails the same way: rank 0 prints the block at once, the other ranks wait
:data:`OTHER_RANKS_WAIT_S` seconds first. When rank 0 failed too, the launcher stops them (torchrun ends the other
workers as soon as one exits, as does ``srun --kill-on-bad-exit``) and the block appears once; when only that rank
failed (its share of the data, say), its block appears after the wait. Torchrun's own report of the failed worker
(a ``ChildFailedError`` traceback) would follow and bury it, so the launch scripts (``tools/dist_launch.sh``, which
``dist_train.sh``, ``dist_test.sh`` and ``dist_cache_teacher.sh`` share) name a folder in
:data:`ERROR_DIR_VARIABLE`: there each rank writes its block, as the file ``<rank>``, instead of printing it, and the
script prints the lowest rank's block once torchrun has exited, as the last thing printed.

A tool uses it as::

    from mmseg_kd.engine.tool_errors import run_tool

    if __name__ == '__main__':
        run_tool(main)
"""
import logging
import os
import re
import sys
import time
import traceback
from typing import Callable, NoReturn, Optional

from mmengine.logging import MMLogger

from mmseg_kd.engine.hooks.non_finite_loss_hook import NonFiniteLossError
from mmseg_kd.utils.user_input_error import UserInputError

DEBUG_VARIABLE = 'MMSEG_KD_DEBUG'
# A folder (set by the distributed launch scripts) where each rank writes its error block, as the file ``<rank>``.
ERROR_DIR_VARIABLE = 'MMSEG_KD_ERROR_DIR'
OTHER_RANKS_WAIT_S = 10
# Errors whose messages name the problem and the fix: mmseg-kd's (a missing file or dataset folder included).
USER_ERRORS = (UserInputError, NonFiniteLossError, FileNotFoundError, IsADirectoryError)
REGISTRY_MISS = re.compile(r'(\S+) is not in the (\S+) registry')
BATCH_NORM_SINGLE_VALUE = re.compile(r'Expected more than 1 value per channel when training, got input size (.*)')


def user_facing_message(error: BaseException) -> Optional[str]:
    """The message to show for a mistake the user can fix; ``None`` for an unexpected error."""
    if isinstance(error, USER_ERRORS):
        return str(error)
    text = error.args[0] if error.args and isinstance(error.args[0], str) else str(error)
    if isinstance(error, KeyError) and REGISTRY_MISS.search(text):
        return (f'{text}\nCheck the spelling of that type in the config; if a package registers it, import it with '
                "custom_imports = dict(imports=['package'], allow_failed_imports=False).")
    if isinstance(error, SyntaxError) and 'config file' in text:
        return text
    single_value = BATCH_NORM_SINGLE_VALUE.search(text) if isinstance(error, ValueError) else None
    if single_value:
        return (f'A batch-norm layer got one value per channel in training (input of size {single_value.group(1)}): '
                'with one image per process, a branch that pools to 1x1 (PSPNet\'s pyramid pooling, DeepLabV3\'s '
                'image pooling) leaves batch norm nothing to normalise. Train with at least 2 images per process, '
                'e.g. --cfg-options train_dataloader.batch_size=2 (SyncBN counts the images of all processes).')
    return None


def debug_requested() -> bool:
    """Whether ``MMSEG_KD_DEBUG`` asks for plain tracebacks (``1``; ``0`` or unset: no)."""
    value = os.environ.get(DEBUG_VARIABLE, '0')
    if value not in ('0', '1'):
        raise UserInputError(f'{DEBUG_VARIABLE} must be 1 (print tracebacks) or 0, got {value!r}')
    return value == '1'


def process_rank() -> int:
    """The rank a launcher gave this process (torchrun: ``RANK``; Slurm: ``SLURM_PROCID``), 0 otherwise."""
    return int(os.environ.get('RANK', os.environ.get('SLURM_PROCID', '0')))


def process_count() -> int:
    """The number of processes the launcher started (torchrun: ``WORLD_SIZE``; Slurm: ``SLURM_NTASKS``), 1 otherwise."""
    return int(os.environ.get('WORLD_SIZE', os.environ.get('SLURM_NTASKS', '1')))


def _log_traceback(error: BaseException) -> Optional[str]:
    """Write the traceback to the log file of mmengine's current logger; its path, or None without one."""
    logger = MMLogger.get_current_instance()
    if not logger.log_file:
        return None
    text = ''.join(traceback.format_exception(type(error), error, error.__traceback__))
    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 0, f'stopped with:\n{text}', None, None,
                               func='run_tool')
    for handler in logger.handlers:
        if getattr(handler, 'baseFilename', None):
            handler.handle(record)
    return logger.log_file


def error_block(tool: str, error: BaseException, message: str, rank: int, log_file: Optional[str]) -> str:
    """The block printed for a user-facing error."""
    where = f' on rank {rank}' if rank else ''
    hint = (f'the traceback is in {log_file}; {DEBUG_VARIABLE}=1 prints it here' if log_file
            else f'{DEBUG_VARIABLE}=1 prints the traceback')
    return f'\n==== {tool} stopped{where}: {type(error).__name__} ====\n{message}\n({hint})\n'


def stop_with_block(tool: str, error: BaseException, message: str) -> NoReturn:
    """Print the block of a user-facing error (other ranks after their wait) and exit with status 1."""
    rank = process_rank()
    log_file = _log_traceback(error)
    block = error_block(tool, error, message, rank, log_file)
    error_dir = os.environ.get(ERROR_DIR_VARIABLE)
    if error_dir and os.path.isdir(error_dir):  # the launch script prints it after torchrun's report
        with open(os.path.join(error_dir, str(rank)), 'w', encoding='utf-8') as file:
            file.write(block)
    if rank != 0 and process_count() > 1:
        time.sleep(OTHER_RANKS_WAIT_S)
    if not error_dir:
        sys.stderr.write(block)
        sys.stderr.flush()
    sys.exit(1)


def run_tool(main: Callable[[], None], tool: Optional[str] = None) -> None:
    """Run ``main``; a user-facing error becomes a block on stderr and exit status 1 (see the module docstring).

    Args:
        main: the tool's main function.
        tool: how the block names the tool (default: the script's file name).
    """
    tool = tool or os.path.basename(sys.argv[0])
    try:
        debug = debug_requested()
    except UserInputError as error:
        stop_with_block(tool, error, str(error))
    try:
        main()
    except Exception as error:  # noqa: BLE001  (anything unexpected is re-raised unchanged)
        message = user_facing_message(error)
        if message is None or debug:
            raise
        stop_with_block(tool, error, message)
