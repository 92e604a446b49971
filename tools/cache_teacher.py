"""Run a distillation config's teacher once over its training images and store its logits (the offline teacher).

    python tools/cache_teacher.py CONFIG [--out DIR] [--device cuda|cpu] [--cfg-options k=v ...]

Every image of the config's training datasets (labeled and unlabeled, inside ConcatDataset/RepeatDataset) is
rescaled, keeping its aspect ratio, to the reference scale of its pipeline's resize (``scale`` of ``RandomResize`` or
``Resize``; the stored size without one), normalised by the teacher's data preprocessor, and its logits (the output
of ``decode_head.conv_seg``, at the teacher's output resolution) stored as float16 with a manifest
(``mmseg_kd/datasets/teacher_logit_cache.py``). ``--out`` defaults to the config's ``model.teacher.cache``.

Resumable: the manifest is written every few images; a run started again on the same folder skips the images whose
stored file is whole (its SHA-256 matches the manifest) and computes the rest. A folder holding another teacher's
cache is refused. Training with the cache: ``teacher=dict(..., cache=DIR)`` and the pipeline steps of
``docs/teacher_cache.md``.
"""
import argparse
import os
import os.path as osp

import mmcv
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope, init_default_scope
from mmseg.registry import DATASETS, MODELS

import mmseg_kd  # noqa: F401  (registers the distiller and the cache's pipeline steps)
from mmseg_kd.datasets.dataset_configs import leaf_datasets
from mmseg_kd.datasets.teacher_logit_cache import (
    CACHE_FORMAT,
    TeacherCacheError,
    file_sha256,
    manifest_path,
    read_manifest,
    write_logit_map,
    write_manifest,
)
from mmseg_kd.distillers.cached_teacher import CACHED_TAP, teacher_identity
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.seg_distiller import is_distiller_config
from mmseg_kd.distillers.teacher_checkpoint import load_teacher_checkpoint
from mmseg_kd.engine.tool_errors import run_tool
from mmseg_kd.utils.config_keys import merge_checked_options
from mmseg_kd.utils.progress import announce_step, track_progress
from mmseg_kd.utils.user_input_error import UserInputError

RESIZE_TYPES = ('RandomResize', 'Resize')
MANIFEST_EVERY = 20  # images between two manifest writes (what an interrupted run computes again at most)


def parse_args():
    parser = argparse.ArgumentParser(description="Store a distillation config's teacher logits for every training "
                                     'image (the offline teacher, teacher=dict(..., cache=DIR))')
    parser.add_argument('config', help='distillation config (model.type SegDistiller)')
    parser.add_argument('--out', help="cache folder (default: the config's model.teacher.cache)")
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    return parser.parse_args()


def reference_scale(dataset_cfg: dict):
    """The ``scale`` (w, h) of the first resize of the dataset's pipeline, or ``None`` (the stored size)."""
    for step in dataset_cfg.get('pipeline', []):
        if step.get('type') in RESIZE_TYPES:
            return tuple(step['scale'])
    return None


def training_images(cfg: Config):
    """``{file name: (image path, reference scale)}`` over every training dataset, and the class names."""
    images, classes = {}, None
    for _, dataset_cfg in leaf_datasets(cfg.train_dataloader.dataset):
        scale = reference_scale(dataset_cfg)
        dataset = DATASETS.build(dict(dataset_cfg, pipeline=[], lazy_init=False))
        classes = classes or list(dataset.metainfo['classes'])
        for index in range(len(dataset)):
            path = dataset.get_data_info(index)['img_path']
            name = osp.basename(path)
            if name in images and images[name][0] != path:
                raise UserInputError(f'two training images are named {name} ({images[name][0]} and {path}); the '
                                     'teacher cache keys images by file name. Rename one of them.')
            images[name] = (path, scale)
    return images, classes


def start_manifest(out: str, identity: dict, cfg_path: str, classes) -> dict:
    """The manifest to continue (same teacher and classes) or a new one; another teacher's cache is refused."""
    fresh = dict(format=CACHE_FORMAT, teacher=dict(identity, cfg_path=cfg_path), classes=classes,
                 num_classes=len(classes), dtype='float16', output_stride=None, images={}, complete=False)
    if not osp.isfile(manifest_path(out)):
        return fresh
    manifest = read_manifest(out)
    recorded = {key: manifest['teacher'].get(key) for key in identity}
    if recorded != identity or manifest['classes'] != classes:
        raise TeacherCacheError(f'--out {out!r} holds the cache of another teacher or class list (config hash, '
                                'checkpoint hash or classes differ); give another --out folder or delete this one.')
    intact = {name: entry for name, entry in manifest['images'].items()
              if osp.isfile(osp.join(out, entry['file'])) and file_sha256(osp.join(out, entry['file'])) ==
              entry['sha256']}
    return dict(manifest, images=intact, complete=False)


class TeacherLogits:
    """The teacher's logits (``decode_head.conv_seg`` output) for one image (H, W, 3) BGR uint8."""

    def __init__(self, teacher, preprocessor, device):
        self.teacher, self.preprocessor, self.device = teacher, preprocessor, device
        self.recorded = None
        teacher.get_submodule(CACHED_TAP.module).register_forward_hook(self._record)

    def _record(self, module, inputs, output):
        self.recorded = output

    @torch.no_grad()
    def __call__(self, image: np.ndarray) -> np.ndarray:
        data = self.preprocessor(dict(inputs=[torch.from_numpy(image).permute(2, 0, 1).contiguous()]), False)
        self.teacher.decode_head(self.teacher.extract_feat(data['inputs'].to(self.device)))
        return self.recorded[0].float().cpu().numpy()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_checked_options(cfg, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if not is_distiller_config(cfg.model):
        raise UserInputError(f'{args.config}: model.type is {cfg.model.get("type")!r}; cache_teacher.py needs a '
                             'distillation config (model.type SegDistiller) whose teacher it runs.')
    entry = cfg.model.teacher
    out = args.out or entry.get('cache')
    if not out:
        raise UserInputError('no cache folder: give --out DIR or set model.teacher.cache in the config.')
    teacher_cfg = resolve_model_config(entry, 'teacher')
    with announce_step('building the teacher and loading its weights'), DefaultScope.overwrite_default_scope('mmseg'):
        teacher = MODELS.build(teacher_cfg)
        load_teacher_checkpoint(teacher, entry)
        teacher.to(args.device).eval()
        preprocessor_cfg = dict(teacher_cfg.get('data_preprocessor') or cfg.model.get('data_preprocessor') or {},
                                size=None, size_divisor=None, pad_val=0, seg_pad_val=255)
        preprocessor = MODELS.build(preprocessor_cfg)
    images, classes = training_images(cfg)
    os.makedirs(out, exist_ok=True)
    manifest = start_manifest(out, teacher_identity(entry, teacher_cfg), str(entry.get('cfg_path')), classes)
    logits_of = TeacherLogits(teacher, preprocessor, args.device)
    todo = sorted(name for name in images if name not in manifest['images'])
    print(f'{len(images)} training images, {len(images) - len(todo)} already cached in {out}', flush=True)
    for done, name in enumerate(track_progress(todo, total=len(todo), description=f'caching teacher logits in {out}')):
        path, scale = images[name]
        image = mmcv.imread(path)
        resized = image if scale is None else mmcv.imrescale(image, scale, interpolation='bilinear')
        logits = logits_of(resized)
        stride = round(resized.shape[0] / logits.shape[1])
        if manifest['output_stride'] not in (None, stride):
            raise TeacherCacheError(f"{path}: the teacher's output stride is {stride} here, "
                                    f"{manifest['output_stride']} on the other images; the cache needs one stride.")
        manifest['output_stride'] = stride
        manifest['images'][name] = dict(write_logit_map(out, path, logits), image_shape=list(image.shape[:2]),
                                        reference_shape=list(resized.shape[:2]))
        if (done + 1) % MANIFEST_EVERY == 0:
            write_manifest(out, manifest)
    manifest['complete'] = True
    write_manifest(out, manifest)
    size = sum(os.path.getsize(osp.join(out, entry['file'])) for entry in manifest['images'].values())
    print(f"teacher cache complete: {len(manifest['images'])} images, {size / 2**20:.1f} MiB in {out}", flush=True)


if __name__ == '__main__':
    run_tool(main)
