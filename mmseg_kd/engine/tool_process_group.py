"""The process group of a tool that runs outside mmengine's runner (``tools/cache_teacher.py``) under a launcher.

``--launcher pytorch`` (torchrun, ``tools/dist_cache_teacher.sh``), ``slurm`` or ``mpi`` start one process per
device, as for training. Each joins the group the way ``tools/train.py`` does:

* on a machine with CUDA: mmengine's ``init_dist``, which puts each rank on its own GPU (``cuda:LOCAL_RANK``), with
  NCCL (gloo for ``--device cpu``);
* without CUDA: gloo, torchrun only (mmengine's ``slurm`` and ``mpi`` set a CUDA device), as
  ``mmseg_kd/engine/runner_setup.py`` does for training on such machines.

The tool then splits its work by :func:`start_tool_process_group`'s rank and world size and meets the other ranks
with ``torch.distributed.barrier``; ``mmseg_kd.engine.runner_setup.finish_process_group`` ends the group. mmengine's
messages (``print_log(..., logger='current')``) appear once: a logger made after the group exists, as the runner
makes its own, prints on rank 0 only.
"""
from datetime import timedelta
from typing import Tuple

import torch
import torch.distributed as dist
from mmengine.dist import init_dist
from mmengine.logging import MMLogger

from mmseg_kd.utils.user_input_error import UserInputError

# Ranks wait at a barrier while rank 0 checks the hash of every stored file of a resumed cache (tens of GiB for
# ADE20K); torch's NCCL default of 10 minutes could end the others first.
BARRIER_TIMEOUT_S = 4 * 3600


def start_tool_process_group(launcher: str, device: str) -> Tuple[int, int, str]:
    """Join the launcher's process group; ``(rank, world size, this rank's device)``.

    Args:
        launcher: ``'none'`` (one process: ``(0, 1, device)``, no group), ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        device: the tool's ``--device``: ``'cpu'``, or ``'cuda'``/``'cuda:N'`` (each rank then gets its own GPU).

    Raises:
        UserInputError: a CUDA device on a machine without one, or ``slurm``/``mpi`` on a machine without CUDA.
    """
    if launcher == 'none':
        return 0, 1, device
    on_gpu = torch.device(device).type == 'cuda'
    if on_gpu and not torch.cuda.is_available():
        raise UserInputError(f'--device {device}: torch sees no CUDA device on this machine; give --device cpu.')
    if torch.cuda.is_available():  # mmengine's way, as train.py: each rank on its own GPU
        init_dist(launcher, backend='nccl' if on_gpu else 'gloo', timeout=BARRIER_TIMEOUT_S)
    elif launcher == 'pytorch':
        dist.init_process_group(backend='gloo', timeout=timedelta(seconds=BARRIER_TIMEOUT_S))
    else:
        raise UserInputError(f'--launcher {launcher}: mmengine starts {launcher} process groups on machines with '
                             'CUDA only, and torch sees none here. On the CPU launch with torchrun: bash '
                             'tools/dist_cache_teacher.sh CONFIG N --device cpu (--launcher pytorch).')
    MMLogger.get_instance('tool_process_group')  # the current logger from now on: its console is rank 0's alone
    return dist.get_rank(), dist.get_world_size(), f'cuda:{torch.cuda.current_device()}' if on_gpu else device
