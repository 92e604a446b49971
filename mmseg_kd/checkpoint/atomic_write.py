"""Write a file so that its final path holds either the complete new file or nothing new: never a partial one.

The content is written to a temporary file in the same folder (``.<name>.partial-<host>-<pid>``), flushed to disk
(``fsync`` of the file), renamed over the final path with ``os.replace`` (atomic within one file system), and the
folder is ``fsync``-ed so that the rename itself survives a power loss. A process killed at any point (SIGTERM,
SIGKILL, the OOM killer) or a full disk leaves the previous file at the final path and, at worst, a partial temporary
file that nothing refers to; the next write into that folder removes such leftovers of dead processes of the same
host (another host's, on a shared file system, may still be written).

Every checkpoint the tools write goes through :func:`write_atomically`: training checkpoints
(``AtomicCheckpointHook``), ``tools/export_student.py`` and the model converters.

The environment variable ``MMSEG_KD_STOP_WRITE_AT=POINT@NAME`` (``POINT`` one of :data:`STOP_POINTS`, ``NAME`` a
file name such as ``iter_4.pth``) ends the process with ``os._exit`` at that point of the write of that file, as a
kill would; the tests use it to interrupt a run during a save.
"""
import os
import os.path as osp
import re
import socket
from typing import Callable

STOP_ENV = 'MMSEG_KD_STOP_WRITE_AT'
# before_write: nothing written yet; during_write: half of the temporary file written; before_rename: the temporary
# file complete and on disk; after_rename: the new file in place, nothing done after it yet.
STOP_POINTS = ('before_write', 'during_write', 'before_rename', 'after_rename')
PARTIAL_NAME = re.compile(r'^\.(?P<name>.+)\.partial-(?P<host>.+)-(?P<pid>\d+)$')
STOPPED_EXIT_STATUS = 75


def stop_if_asked(point: str, path: str, temporary: str) -> None:
    """End the process at ``point`` of the write of ``path`` when ``MMSEG_KD_STOP_WRITE_AT`` names both
    (``during_write`` cuts ``temporary`` to half its size first, as a write killed halfway leaves it)."""
    if os.environ.get(STOP_ENV) != f'{point}@{osp.basename(path)}':
        return
    if point == 'during_write' and osp.isfile(temporary):
        os.truncate(temporary, osp.getsize(temporary) // 2)
    os._exit(STOPPED_EXIT_STATUS)


def partial_path(path: str) -> str:
    """The temporary file :func:`write_atomically` writes before renaming it to ``path``."""
    folder, name = osp.split(osp.abspath(path))
    return osp.join(folder, f'.{name}.partial-{socket.gethostname()}-{os.getpid()}')


def is_partial_file(name: str) -> bool:
    """Whether the file name ``name`` is a temporary file of :func:`write_atomically`."""
    return PARTIAL_NAME.match(osp.basename(name)) is not None


def _process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_partial_files(folder: str) -> None:
    """Delete the temporary files that processes of this host which no longer run left in ``folder``."""
    for name in os.listdir(folder):
        match = PARTIAL_NAME.match(name)
        if (match and match.group('host') == socket.gethostname() and int(match.group('pid')) != os.getpid()
                and not _process_is_alive(int(match.group('pid')))):
            try:
                os.remove(osp.join(folder, name))
            except FileNotFoundError:
                pass


def fsync_folder(folder: str) -> None:
    """Flush a folder's entries (a rename, a new file) to disk; a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_atomically(path: str, write: Callable[[str], None]) -> None:
    """Call ``write(temporary_path)`` and move the complete result to ``path`` in one step.

    Args:
        path: the final file path; its folder is created if missing.
        write: writes the whole content to the path it is given (e.g. ``lambda tmp: torch.save(obj, tmp)``).

    The temporary file is removed if ``write`` raises (a full disk, an unpicklable object); ``path`` is untouched.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    remove_dead_partial_files(folder)
    temporary = partial_path(path)
    try:
        stop_if_asked('before_write', path, temporary)
        write(temporary)
        stop_if_asked('during_write', path, temporary)
        with open(temporary, 'rb+') as file:
            os.fsync(file.fileno())
        stop_if_asked('before_rename', path, temporary)
        os.replace(temporary, path)
    except BaseException:
        if osp.exists(temporary):
            os.remove(temporary)
        raise
    fsync_folder(folder)
    stop_if_asked('after_rename', path, temporary)


def write_text_atomically(path: str, text: str) -> None:
    """:func:`write_atomically` for a small text file (e.g. a work dir's ``last_checkpoint``)."""

    def write(temporary: str) -> None:
        with open(temporary, 'w') as file:
            file.write(text)

    write_atomically(path, write)
