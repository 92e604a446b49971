"""Learn MasKD's receptive tokens on a distillation config's frozen teacher, and write the token file it names.

    python tools/learn_receptive_tokens.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--cfg-options k=v ...]
    torchrun --nproc_per_node=N tools/learn_receptive_tokens.py CONFIG --launcher pytorch [same options]

CONFIG is a distillation config with ``ReceptiveTokenMaskedDistillation`` terms (``distillation_configs/maskd/``).
The tokens are trained by mmengine's runner (progress, logs and checkpoints in the work dir, default
``./work_dirs/<config name>_tokens``; ``--resume`` continues an interrupted run) as the authors' first stage does
(hunto/MasKD ``segmentation/train_mask_module.py``): the cross-entropy of the token-masked teacher logits plus the
dice term between the tokens' masks, only the tokens optimised (SGD lr 0.1, momentum 0.9, weight decay 1e-3, poly
0.9 to 0, 10k iterations), on the config's training data and batch, the teacher under no_grad in train mode
(:class:`mmseg_kd.distillers.ReceptiveTokenLearner`). The config's ``receptive_token_learning`` dict overrides these
settings (keys of :data:`RELEASED_SETTINGS`, e.g. ``--cfg-options receptive_token_learning.max_iters=2000``). At the
end the tokens go to the file that the config's terms name in ``tokens=``.
"""
import argparse
import os

from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

import mmseg_kd  # noqa: F401  (registers the learner, the losses and safe checkpoint types)
from mmseg_kd.engine.data_checks import add_data_checks
from mmseg_kd.engine.runner_setup import (
    add_checkpoint_pairing_hook,
    add_training_hooks,
    apply_common_options,
    check_dataset_paths,
    finish_process_group,
    start_cpu_process_group,
)
from mmseg_kd.engine.tool_errors import run_tool
from mmseg_kd.losses import save_token_file
from mmseg_kd.utils.user_input_error import UserInputError

TOKEN_LOSS = 'ReceptiveTokenMaskedDistillation'
#: The first stage as released (train_mask_module.py's defaults and its script).
RELEASED_SETTINGS = dict(max_iters=10000, lr=0.1, momentum=0.9, weight_decay=1e-3, power=0.9, log_interval=10,
                         checkpoint_interval=400, teacher_train_mode=True, ignore_index=255)


def parse_args():
    parser = argparse.ArgumentParser(description="Learn MasKD's receptive tokens on a distillation config's teacher")
    parser.add_argument('config', help='distillation config with ReceptiveTokenMaskedDistillation terms')
    parser.add_argument('--work-dir', help='directory for logs and checkpoints '
                        '(default: ./work_dirs/<config name>_tokens)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
                        help='resume from CHECKPOINT, or from the latest checkpoint of the work dir when no path is '
                        'given')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override entries of the distillation config, e.g. '
                        'receptive_token_learning.max_iters=2000')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def token_settings(cfg: Config, config_path: str) -> dict:
    """The token file, ``num_tokens`` and ``num_classes`` that the config's MasKD terms share."""
    entries = {name: entry for name, entry in ((cfg.get('model') or {}).get('distill_losses') or {}).items()
               if entry.get('type') == TOKEN_LOSS}
    if not entries:
        raise UserInputError(f'{config_path} has no {TOKEN_LOSS} term in model.distill_losses: there are no tokens '
                             'to learn. Pass a MasKD config (distillation_configs/maskd/).')
    shared = {(entry.get('tokens'), entry.get('num_tokens', 8), entry.get('num_classes')) for entry in entries.values()}
    if len(shared) > 1:
        listed = '; '.join(f"{name}: tokens={entry.get('tokens')!r}, num_tokens={entry.get('num_tokens', 8)}, "
                           f"num_classes={entry.get('num_classes')}" for name, entry in entries.items())
        raise UserInputError(f'{config_path}: the {TOKEN_LOSS} terms name different token settings ({listed}). '
                             'They share one set of tokens learnt on the teacher: give them the same tokens, '
                             'num_tokens and num_classes.')
    tokens, num_tokens, num_classes = shared.pop()
    if not isinstance(tokens, str) or not tokens:
        raise UserInputError(f'{config_path}: the {TOKEN_LOSS} terms name no token file (tokens={tokens!r}); set '
                             "tokens='checkpoints/<name>.pth', where this tool writes them.")
    return dict(tokens=tokens, num_tokens=num_tokens, num_classes=num_classes)


def learning_settings(cfg: Config, config_path: str) -> dict:
    """The released settings with the config's ``receptive_token_learning`` overrides."""
    overrides = dict(cfg.get('receptive_token_learning') or {})
    unknown = sorted(set(overrides) - set(RELEASED_SETTINGS))
    if unknown:
        raise UserInputError(f'{config_path}: receptive_token_learning has unknown keys {unknown}; the keys are '
                             f'{sorted(RELEASED_SETTINGS)}.')
    return dict(RELEASED_SETTINGS, **overrides)


def build_config(args) -> Config:
    """The distillation config turned into the token-learning run: the learner as model, its optimizer and
    schedule, the config's training data, runtime and randomness; no validation."""
    cfg = apply_common_options(Config.fromfile(args.config), args.config, args.launcher, args.work_dir,
                               args.cfg_options)
    if not args.work_dir and not (args.cfg_options or {}).get('work_dir'):
        cfg.work_dir = os.path.join('./work_dirs', os.path.splitext(os.path.basename(args.config))[0] + '_tokens')
    tokens = token_settings(cfg, args.config)
    settings = learning_settings(cfg, args.config)
    cfg.model = dict(type='ReceptiveTokenLearner', teacher=cfg.model.teacher, num_classes=tokens['num_classes'],
                     num_tokens=tokens['num_tokens'], ignore_index=settings['ignore_index'],
                     teacher_train_mode=settings['teacher_train_mode'])
    cfg.optim_wrapper = dict(type='OptimWrapper', optimizer=dict(
        type='SGD', lr=settings['lr'], momentum=settings['momentum'], weight_decay=settings['weight_decay']))
    # mmengine's PolyLR reaches eta_min at iteration end - 1; end = max_iters + 1 gives the released
    # lr · (1 − i / max_iters)^power at iteration i = 0 .. max_iters − 1
    cfg.param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=settings['power'], begin=0,
                                end=settings['max_iters'] + 1, by_epoch=False)]
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=settings['max_iters'], val_interval=settings['max_iters'])
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    hooks = cfg.get('default_hooks') or {}
    hooks.pop('visualization', None)
    hooks['logger'] = dict(type='LoggerHook', interval=settings['log_interval'], log_metric_by_epoch=False)
    hooks['checkpoint'] = dict(type='CheckpointHook', by_epoch=False, interval=settings['checkpoint_interval'],
                               max_keep_ckpts=2)
    cfg.default_hooks = hooks
    cfg.custom_hooks = []
    cfg.token_file = tokens['tokens']
    cfg.load_from = None  # the distillation config's load_from holds a distiller's weights, not tokens
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    add_training_hooks(cfg)
    add_checkpoint_pairing_hook(cfg, partial_load=False)
    check_dataset_paths(cfg, ('train_dataloader',))
    add_data_checks(cfg, ('train_dataloader',))
    start_cpu_process_group(cfg)
    return cfg


def main():
    args = parse_args()
    cfg = build_config(args)
    runner = Runner.from_cfg(cfg)
    runner.train()
    if is_main_process():
        learner = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if os.path.exists(cfg.token_file):
            runner.logger.info(f'replacing the token file {cfg.token_file}')
        save_token_file(learner.tokens, cfg.token_file)
        runner.logger.info(f'receptive tokens {tuple(learner.tokens.shape)} written to {cfg.token_file}, the file '
                           f'that {args.config} reads')
    finish_process_group()


if __name__ == '__main__':
    run_tool(main)
