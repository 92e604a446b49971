"""One training run per work dir: a lock file held for the whole run.

Two runs started into the same ``--work-dir`` would overwrite each other's checkpoints and interleave their logs.
``tools/train.py`` holds :class:`WorkDirLock` around the whole run: the lock is the file ``<work_dir>/.train_lock``,
created exclusively (``O_CREAT | O_EXCL``), holding the owner's PID, host name and start time, and removed when the
run ends in any way that lets Python clean up (normal end, an exception, Ctrl-C, ``sys.exit``). A lock left by a run
that was killed (SIGKILL, a crash of the machine) names a process that no longer exists: on the same host that is
detected and the lock taken over; a lock held by a living process, or by another host (whose processes cannot be
checked from here), stops the second run naming that PID and host, except a lock of the same Slurm job
(``SLURM_JOB_ID``): a preempted job that Slurm requeued, possibly onto another node, takes over its own lock. In a
distributed run only rank 0 takes the lock.
"""
import json
import os
import os.path as osp
import socket
import time
from typing import Optional

from mmseg_kd.utils.user_input_error import UserInputError

LOCK_NAME = '.train_lock'


class WorkDirBusyError(UserInputError):
    """Another run holds the work dir."""


def process_is_alive(pid: int) -> bool:
    """Whether a process with this PID exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def read_lock(path: str) -> Optional[dict]:
    """The lock file's content, or ``None`` if it is gone; ``{}`` if it cannot be parsed (being written)."""
    try:
        with open(path) as file:
            return json.load(file)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


class WorkDirLock:
    """Hold ``<work_dir>/.train_lock`` from ``__enter__`` to ``__exit__``.

    Args:
        work_dir: the run's work dir (created if missing).
        resume: whether the run resumes (its refusal then explains that the run it would resume is still going).
    """

    def __init__(self, work_dir: str, resume: bool = False):
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self.resume = resume
        self.held = False

    def __enter__(self) -> 'WorkDirLock':
        os.makedirs(self.work_dir, exist_ok=True)
        owner = dict(pid=os.getpid(), host=socket.gethostname(), started=time.strftime('%Y-%m-%d %H:%M:%S %Z'),
                     slurm_job=os.environ.get('SLURM_JOB_ID'))
        for _ in range(3):
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._take_over_if_stale()
                continue
            with os.fdopen(descriptor, 'w') as file:
                json.dump(owner, file)
            self.held = True
            return self
        raise WorkDirBusyError(f'work dir {self.work_dir!r}: could not take its lock {self.path!r}, which other '
                               'processes keep creating. Start the run with another --work-dir.')

    def _take_over_if_stale(self) -> None:
        """Remove the lock if its owner is a process of this host that no longer runs; otherwise refuse."""
        owner = read_lock(self.path)
        if owner is None:  # released meanwhile
            return
        if not owner:  # being written by a starting run: give it a moment; still unreadable: left by a crash
            time.sleep(0.5)
            owner = read_lock(self.path)
            if owner == {}:
                os.remove(self.path)
            if not owner:
                return
        pid, host = owner.get('pid'), owner.get('host')
        same_host = host == socket.gethostname()
        dead = same_host and isinstance(pid, int) and not process_is_alive(pid)
        requeued = owner.get('slurm_job') is not None and owner.get('slurm_job') == os.environ.get('SLURM_JOB_ID')
        if dead or (requeued and not same_host):
            os.remove(self.path)
            return
        if same_host:
            what = (f'--resume continues a run from its checkpoints, and that run is still going: wait for it to end '
                    f'(or stop it: kill {pid}) and resume then. ' if self.resume else
                    f'Wait for it to end, stop it (kill {pid}), or give this run another --work-dir. ')
        else:
            what = (f'Give this run another --work-dir; if that process on {host} no longer runs (the machine went '
                    f'down), delete {self.path} and start again. ')
        raise WorkDirBusyError(
            f'work dir {self.work_dir!r} is in use by another training run: PID {pid} on host {host}, started '
            f"{owner.get('started')} (lock file {self.path}). Two runs in one work dir overwrite each other's "
            f'checkpoints and logs. {what}')

    def __exit__(self, *exc_info) -> None:
        if self.held:
            owner = read_lock(self.path)
            if owner and owner.get('pid') == os.getpid():
                os.remove(self.path)
            self.held = False
