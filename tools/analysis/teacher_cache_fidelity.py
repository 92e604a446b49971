"""Measure a teacher cache against the teacher itself on augmented training crops.

    python tools/analysis/teacher_cache_fidelity.py CONFIG [--samples 64] [--seed 0] [--photometric] [--top-k K]
                                                    [--device cpu] [--cfg-options k=v ...]

CONFIG is a distillation config with ``teacher=dict(..., cache=DIR)`` and a complete cache (tools/cache_teacher.py).
For ``--samples`` training samples drawn with ``--seed``, its training pipeline gives the augmented crop and the
cached map resampled onto it; the teacher (its checkpoint loaded) runs on the same crop, and the tool prints the mean
KL divergence per pixel KL(online || cached) with its quartiles and the argmax agreement
(``mmseg_kd/analysis/cached_teacher_fidelity.py``). ``--photometric`` adds mmseg's ``PhotoMetricDistortion`` to the
pipelines before the packing step: the teacher then sees the distorted crop, the cache the undistorted image.
``--top-k K`` adds what the top-k storage alone loses: the same two measures of the teacher's output on the crops
against its top-k storage read back (``mmseg_kd/datasets/top_k_logits.py``; the argmax is kept by construction).
"""
import argparse
import random

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS

import mmseg_kd  # noqa: F401
from mmseg_kd.analysis.cached_teacher_fidelity import cached_map_fidelity
from mmseg_kd.datasets.dataset_configs import leaf_datasets
from mmseg_kd.datasets.top_k_logits import check_top_k, top_k_dense, top_k_split
from mmseg_kd.distillers.cached_teacher import CACHED_TAP
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.teacher_checkpoint import load_teacher_checkpoint
from mmseg_kd.engine.tool_errors import run_tool
from mmseg_kd.utils.config_keys import merge_checked_options
from mmseg_kd.utils.progress import track_progress
from mmseg_kd.utils.user_input_error import UserInputError


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--samples', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--photometric', action='store_true', help='add PhotoMetricDistortion to the pipelines')
    parser.add_argument('--top-k', type=int, metavar='K',
                        help="also measure the teacher's output against its top-k storage with this K")
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_checked_options(cfg, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if not cfg.model.get('teacher', {}).get('cache'):
        raise UserInputError(f'{args.config} has no model.teacher.cache: this tool measures a teacher cache.')
    if args.photometric:
        for _, dataset in leaf_datasets(cfg.train_dataloader.dataset):
            dataset.pipeline.insert(len(dataset.pipeline) - 1, dict(type='PhotoMetricDistortion'))
    teacher_cfg = resolve_model_config(cfg.model.teacher, 'teacher')
    teacher = MODELS.build(teacher_cfg)
    load_teacher_checkpoint(teacher, cfg.model.teacher)
    teacher.to(args.device).eval()
    if args.top_k is not None:
        check_top_k(args.top_k, teacher.decode_head.num_classes)
    recorded = []
    teacher.get_submodule(CACHED_TAP.module).register_forward_hook(
        lambda module, inputs, output: recorded.append(output))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    random.seed(args.seed)
    np.random.seed(args.seed)
    indices = random.sample(range(len(dataset)), min(args.samples, len(dataset)))
    kl, agree, top_k_kl, top_k_agree = [], [], [], []
    for index in track_progress(indices, total=len(indices), description=f'{len(indices)} augmented samples'):
        sample = dataset[index]
        data = teacher.data_preprocessor(dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']]),
                                         True)
        with torch.no_grad():
            teacher.decode_head(teacher.extract_feat(data['inputs'].to(args.device)))
        online = recorded.pop()
        cached = data['data_samples'][0].gt_teacher_logits.data[None].to(online.device)
        measured = cached_map_fidelity(online, cached)
        kl.append(measured['kl'])
        agree.append(measured['agree'])
        if args.top_k is not None:
            kept = top_k_dense(**top_k_split(online[0].cpu().numpy(), args.top_k), num_classes=online.shape[1])
            measured = cached_map_fidelity(online.cpu(), torch.from_numpy(kept)[None])
            top_k_kl.append(measured['kl'])
            top_k_agree.append(measured['agree'])
    kl, agree = torch.cat(kl), torch.cat(agree)
    low, median, high = torch.quantile(kl, torch.tensor([0.25, 0.5, 0.75])).tolist()
    print(f"\n{args.config}: {len(indices)} samples (seed {args.seed}){', photometric distortion' * args.photometric}"
          f'\nmean KL(online || cached) per pixel {kl.mean():.4f} nats (quartiles {low:.4f} / {median:.4f} / '
          f'{high:.4f}); argmax agreement {agree.float().mean() * 100:.2f}%')
    if args.top_k is not None:
        top_k_agreement = torch.cat(top_k_agree).float().mean() * 100
        print(f'top-{args.top_k} storage of the online map: mean KL(online || top-{args.top_k}) per pixel '
              f'{torch.cat(top_k_kl).mean():.4f} nats; argmax agreement {top_k_agreement:.2f}%')


if __name__ == '__main__':
    run_tool(main)
