"""Config handling shared by ``tools/train.py`` and ``tools/test.py``."""
import os.path as osp
from datetime import timedelta

import torch
import torch.distributed as dist
from mmengine.config import Config


def apply_common_options(cfg: Config, config_path: str, launcher: str, work_dir=None,
                         cfg_options=None) -> Config:
    """Launcher, ``--cfg-options`` and work dir (default ``./work_dirs/<config name>``)."""
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])
    return cfg


def start_cpu_process_group(cfg: Config) -> None:
    """Start a gloo process group when launched by torchrun on a machine without CUDA.

    mmengine 0.10.7's pytorch launcher always calls ``torch.cuda.set_device``, which fails without CUDA.
    The runner skips its own initialisation when a process group exists, so starting one here lets CPU
    machines (CI, the tests, laptops) run ``dist_train.sh``/``dist_test.sh`` with the gloo backend.
    ``env_cfg.dist_cfg.timeout`` (seconds) is honoured. DDP is told to use no device ids (CPU modules).
    """
    if cfg.launcher != 'pytorch' or torch.cuda.is_available() or dist.is_initialized():
        return
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    dist_cfg['backend'] = 'gloo'
    cfg.setdefault('env_cfg', {})['dist_cfg'] = dist_cfg
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False)))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    timeout = dist_cfg.get('timeout')
    dist.init_process_group(backend='gloo',
                            **({'timeout': timedelta(seconds=timeout)} if timeout else {}))
