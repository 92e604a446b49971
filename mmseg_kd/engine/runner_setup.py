"""Config handling shared by ``tools/train.py`` and ``tools/test.py``."""
import os
import os.path as osp
from datetime import timedelta
from typing import Sequence

import torch
import torch.distributed as dist
from mmengine.config import Config

from mmseg_kd.datasets.dataset_configs import default_image_suffix, leaf_datasets
from mmseg_kd.utils.config_keys import merge_checked_options
from mmseg_kd.utils.user_input_error import UserInputError


def apply_common_options(cfg: Config, config_path: str, launcher: str, work_dir=None,
                         cfg_options=None) -> Config:
    """Launcher, ``--cfg-options`` (every key checked: ``mmseg_kd/utils/config_keys.py``) and work dir (default
    ``./work_dirs/<config name>``)."""
    cfg.launcher = launcher
    merge_checked_options(cfg, cfg_options)
    if work_dir:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])
    return cfg


def ddp_finds_unused_parameters(cfg: Config) -> bool:
    """Whether mmengine's runner will build DDP with ``find_unused_parameters``: a ``model_wrapper_cfg`` is taken
    as it is (the top-level ``find_unused_parameters`` is then ignored), otherwise the top-level key counts."""
    wrapper = cfg.get('model_wrapper_cfg')
    if wrapper:
        return bool(wrapper.get('find_unused_parameters', False))
    return bool(cfg.get('find_unused_parameters', False))


def check_unused_parameters_allowed(cfg: Config) -> None:
    """A distiller whose connectors or student sit out some iterations needs DDP's unused-parameter search.

    Without it DDP fails on the next iteration with "Expected to have finished reduction in the prior
    iteration"; this names the cause and the fix before anything is built.
    """
    warmup = (cfg.get('model') or {}).get('connector_warmup') or {}
    sits_out = warmup.get('iters', 0) or warmup.get('freeze_after', False)
    if cfg.launcher != 'none' and sits_out and not ddp_finds_unused_parameters(cfg):
        raise UserInputError('model.connector_warmup (iters > 0 or freeze_after=True) leaves parameters without '
                             'gradient in some iterations, which DDP refuses: add `find_unused_parameters = True` to '
                             'the config (or to its model_wrapper_cfg, if it has one)')


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
        find_unused_parameters=ddp_finds_unused_parameters(cfg)))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    timeout = dist_cfg.get('timeout')
    dist.init_process_group(backend='gloo',
                            **({'timeout': timedelta(seconds=timeout)} if timeout else {}))


# Hooks every training run gets (see their modules): weights-only-loadable checkpoints, torch RNG carried across a
# resume, a stop on NaN/inf losses, the config's parameter schedule on a resume, and the clipping of losses' own
# gradients where a loss sets max_grad_norm.
TRAINING_HOOKS = ('WeightsOnlyCheckpointHook', 'TorchRngCheckpointHook', 'NonFiniteLossHook', 'ResumedScheduleHook',
                  'DistillLossGradClipHook')


def finish_process_group() -> None:
    """Tear the process group down in step on every rank before the interpreter exits.

    mmengine never destroys it; left to interpreter shutdown, a gloo group whose peer has already closed its
    connections can abort the process ("terminate called without an active exception") after the work is done.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def add_training_hooks(cfg: Config) -> None:
    """Append the hooks of :data:`TRAINING_HOOKS` that the config does not already list."""
    hooks = list(cfg.get('custom_hooks', None) or [])
    listed = {hook.get('type') for hook in hooks}
    cfg.custom_hooks = hooks + [dict(type=name) for name in TRAINING_HOOKS if name not in listed]


def use_atomic_checkpoint_hook(cfg: Config) -> None:
    """Save training checkpoints with ``AtomicCheckpointHook`` (same arguments) where the config uses mmengine's
    ``CheckpointHook``."""
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if checkpoint and checkpoint.get('type') in ('CheckpointHook', 'mmengine.CheckpointHook'):
        checkpoint['type'] = 'AtomicCheckpointHook'


def add_checkpoint_pairing_hook(cfg: Config, partial_load: bool) -> None:
    """Load ``load_from``/resume checkpoints strictly (``CheckpointPairingHook``); ``partial_load`` (``--partial-load``)
    loads what matches instead. A config that lists the hook keeps its entry, and its own ``allow_partial_load``
    unless ``partial_load`` is True."""
    hooks = list(cfg.get('custom_hooks', None) or [])
    listed = [hook for hook in hooks if hook.get('type') == 'CheckpointPairingHook']
    if not listed:
        listed = [dict(type='CheckpointPairingHook')]
        hooks += listed
    if partial_load:
        for hook in listed:
            hook['allow_partial_load'] = True
    cfg.custom_hooks = hooks


class DatasetPathError(FileNotFoundError):
    """A dataset folder or list file named by the config does not exist or is empty."""


def holds_file_ending_in(folder: str, suffix: str) -> bool:
    """Whether ``folder`` or one of its subfolders (symbolic links followed, as mmengine lists them) holds a file
    whose name ends in ``suffix``; stops at the first one."""
    for _, _, files in os.walk(folder, followlinks=True):
        if any(name.endswith(suffix) for name in files):
            return True
    return False


def check_dataset_paths(cfg: Config, loaders: Sequence[str]) -> None:
    """Fail before building anything when a dataloader's image folder or list file is missing, or its image folder
    holds no image (with the dataset's ``img_suffix``, in any subfolder)."""
    for loader in loaders:
        if not cfg.get(loader):
            continue
        for _, dataset in leaf_datasets(cfg[loader]['dataset']):
            root = dataset.get('data_root') or ''
            if '://' in root:  # remote storage (backend_args): not checkable here
                continue
            image_dir = osp.join(root, (dataset.get('data_prefix') or {}).get('img_path', ''))
            hint = (f'Prepare the dataset as data/README.md describes, or point the config at it, e.g. '
                    f'--cfg-options {loader}.dataset.data_root=PATH')
            if not osp.isdir(image_dir):
                raise DatasetPathError(f'{loader}: image folder {image_dir!r} does not exist '
                                       f'(data_root {root!r}). {hint}')
            if not any(os.scandir(image_dir)):
                raise DatasetPathError(f'{loader}: image folder {image_dir!r} is empty. {hint}')
            suffix = default_image_suffix(dataset)
            if suffix and not holds_file_ending_in(image_dir, suffix):
                raise DatasetPathError(
                    f"{loader}: image folder {image_dir!r} holds no image ending in {suffix!r}, in none of its "
                    f"subfolders either (the dataset lists '*{suffix}' files recursively). Put the images there, or "
                    f'set {loader}.dataset.img_suffix if they are named otherwise. {hint}')
            ann_file = dataset.get('ann_file')
            if ann_file and not osp.isfile(osp.join(root, ann_file)):
                raise DatasetPathError(f'{loader}: list file {osp.join(root, ann_file)!r} does not exist. {hint}')
