"""Run a distillation config's teacher once over its training images and store its logits (the offline teacher).

    python tools/cache_teacher.py CONFIG [--out DIR] [--top-k K] [--device cuda|cpu] [--cfg-options k=v ...]
    bash tools/dist_cache_teacher.sh CONFIG GPUS [same options]

Every image of the config's training datasets (labeled and unlabeled, inside ConcatDataset/RepeatDataset) is
rescaled, keeping its aspect ratio, to the reference scale of its pipeline's resize (``scale`` of ``RandomResize`` or
``Resize``; the stored size without one), normalised by the teacher's data preprocessor, and its logits (the output
of ``decode_head.conv_seg``, at the teacher's output resolution) stored as float16 with a manifest
(``mmseg_kd/datasets/teacher_logit_cache.py``). ``--out`` defaults to the config's ``model.teacher.cache``.
``--top-k K`` stores per pixel only the K largest logits, their classes and the log-sum-exp of the others
(``mmseg_kd/datasets/top_k_logits.py``).

Under a launcher (``--launcher pytorch`` from ``tools/dist_cache_teacher.sh``, ``slurm``, ``mpi``) each of the N
ranks computes the images ``todo[rank::N]`` on its own device (``mmseg_kd/engine/tool_process_group.py``) and
records them in its partial manifest; after a barrier rank 0 merges the partial manifests into the manifest. The
manifest records the cost: ``seconds`` (the image loops' wall time summed over ranks and runs), ``device``,
``device_name`` and ``images_computed``.

Resumable: each rank writes its partial manifest every few images; a run started again on the same folder, with any
number of ranks, merges what an interrupted run left, keeps the images whose stored file is whole (its SHA-256
matches the manifest) and computes the rest. A folder holding another teacher's cache, or a cache in another storage
(dense or another K), is refused. Training with the cache: ``teacher=dict(..., cache=DIR)`` and the pipeline steps
of ``docs/teacher_cache.md``.
"""
import argparse
import contextlib
import os
import os.path as osp
import platform
import time

import mmcv
import numpy as np
import torch
import torch.distributed as dist
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
    merged_manifest,
    partial_manifest_ranks,
    read_manifest,
    storage_name,
    storage_of,
    write_logit_map,
    write_manifest,
)
from mmseg_kd.datasets.top_k_logits import check_top_k
from mmseg_kd.distillers.cached_teacher import CACHED_TAP, teacher_identity
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.seg_distiller import is_distiller_config
from mmseg_kd.distillers.teacher_checkpoint import load_teacher_checkpoint
from mmseg_kd.engine.runner_setup import finish_process_group
from mmseg_kd.engine.tool_errors import run_tool
from mmseg_kd.engine.tool_process_group import start_tool_process_group
from mmseg_kd.utils.config_keys import merge_checked_options
from mmseg_kd.utils.progress import announce_step, track_progress
from mmseg_kd.utils.user_input_error import UserInputError

RESIZE_TYPES = ('RandomResize', 'Resize')
MANIFEST_EVERY = 20  # images between two writes of a rank's partial manifest (what an interrupted run computes again)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Store a distillation config's teacher logits for every training "
                                     'image (the offline teacher, teacher=dict(..., cache=DIR))')
    parser.add_argument('config', help='distillation config (model.type SegDistiller)')
    parser.add_argument('--out', help="cache folder (default: the config's model.teacher.cache)")
    parser.add_argument('--top-k', type=int, metavar='K',
                        help='store per pixel only the K largest logits, their classes and the log-sum-exp of the '
                        'others (1 <= K < classes; default: every logit)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='cuda or cpu; under a launcher each rank uses its own GPU')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


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


def check_same_cache(out: str, name: str, manifest: dict, identity: dict, classes, top_k) -> None:
    """Refuse to continue the cache ``manifest`` (the file ``name`` in ``out``) if another teacher, class list or
    storage made it."""
    recorded = {key: manifest['teacher'].get(key) for key in identity}
    if recorded != identity or manifest['classes'] != classes:
        raise TeacherCacheError(f'--out {out!r} holds the cache of another teacher or class list (config hash, '
                                f'checkpoint hash or classes differ in its {name}); give another --out folder or '
                                'delete this one.')
    wanted = ('dense', None) if top_k is None else ('top_k', top_k)
    if storage_of(manifest) != wanted:
        same = 'no --top-k' if storage_of(manifest)[0] == 'dense' else f'--top-k {storage_of(manifest)[1]}'
        raise TeacherCacheError(f'--out {out!r} holds a cache in {storage_name(*storage_of(manifest))} storage (its '
                                f'{name}), this run asks for {storage_name(*wanted)} storage: resume it with {same}, '
                                'or give another --out folder (or delete this one).')


def start_manifest(out: str, identity: dict, cfg_path: str, classes, top_k=None) -> dict:
    """The manifest to continue, or a new one.

    The folder's manifest and the partial manifests an interrupted run left (any number of ranks) are merged, each
    checked by :func:`check_same_cache`; of their images, those whose file is whole (its SHA-256 matches) are kept.

    Args:
        out: the cache folder.
        identity: the teacher's (``teacher_identity``).
        cfg_path: the teacher's config file, recorded with it.
        classes: the dataset's class names.
        top_k: K of the top-k storage, ``None`` for the dense one.
    """
    manifest = dict(format=CACHE_FORMAT, teacher=dict(identity, cfg_path=cfg_path), classes=classes,
                    num_classes=len(classes), dtype='float16', storage='dense' if top_k is None else 'top_k',
                    top_k=top_k, output_stride=None, images={}, complete=False, seconds=0.0, images_computed=0,
                    device=None, device_name=None)
    ranks = ([None] if osp.isfile(manifest_path(out)) else []) + partial_manifest_ranks(out)
    for rank in ranks:
        found, name = read_manifest(out, rank), osp.basename(manifest_path(out, rank))
        check_same_cache(out, name, found, identity, classes, top_k)
        manifest = merged_manifest(manifest, found, name)
    intact = {name: entry for name, entry in manifest['images'].items()
              if osp.isfile(osp.join(out, entry['file'])) and file_sha256(osp.join(out, entry['file'])) ==
              entry['sha256']}
    return dict(manifest, images=intact, complete=False)


def remove_partial_manifests(out: str) -> None:
    """Delete the partial manifests in ``out`` (once merged into its manifest)."""
    for rank in partial_manifest_ranks(out):
        os.remove(manifest_path(out, rank))


def device_name(device: str) -> str:
    """The GPU's name, or the CPU's architecture and core count."""
    if torch.device(device).type == 'cuda':
        return torch.cuda.get_device_name(torch.device(device))
    return f'{platform.machine()} CPU, {os.cpu_count()} cores'


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


def cache_images(names, images: dict, out: str, logits_of, part: dict, rank: int, top_k) -> None:
    """Store the logits of ``names`` in ``out`` and record them, with the loop's wall time, in ``part`` (this rank's
    partial manifest, written every :data:`MANIFEST_EVERY` images and at the end)."""
    for done, name in enumerate(track_progress(names, total=len(names), enabled=rank == 0,
                                               description=f'caching teacher logits in {out}')):
        start = time.perf_counter()
        path, scale = images[name]
        image = mmcv.imread(path)
        resized = image if scale is None else mmcv.imrescale(image, scale, interpolation='bilinear')
        logits = logits_of(resized)
        stride = round(resized.shape[0] / logits.shape[1])
        if part['output_stride'] not in (None, stride):
            raise TeacherCacheError(f"{path}: the teacher's output stride is {stride} here, "
                                    f"{part['output_stride']} on the other images; the cache needs one stride.")
        part['output_stride'] = stride
        part['images'][name] = dict(write_logit_map(out, path, logits, top_k), image_shape=list(image.shape[:2]),
                                    reference_shape=list(resized.shape[:2]))
        part['seconds'] += time.perf_counter() - start
        part['images_computed'] += 1
        if (done + 1) % MANIFEST_EVERY == 0:
            write_manifest(out, part, rank)
    write_manifest(out, part, rank)


def finish_manifest(out: str, manifest: dict) -> dict:
    """``manifest`` (as the run started) with every rank's partial manifest merged, complete; written to ``out``,
    whose partial manifests are then deleted."""
    for rank in partial_manifest_ranks(out):
        manifest = merged_manifest(manifest, read_manifest(out, rank), osp.basename(manifest_path(out, rank)))
    manifest = dict(manifest, complete=True)
    write_manifest(out, manifest)
    remove_partial_manifests(out)
    return manifest


def main(argv=None):
    args = parse_args(argv)
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
    rank, world_size, device = start_tool_process_group(args.launcher, args.device)
    images, classes = training_images(cfg)
    if args.top_k is not None:
        check_top_k(args.top_k, len(classes))
    teacher_cfg = resolve_model_config(entry, 'teacher')
    announce = announce_step('building the teacher and loading its weights') if rank == 0 else contextlib.nullcontext()
    with announce, DefaultScope.overwrite_default_scope('mmseg'):
        teacher = MODELS.build(teacher_cfg)
        load_teacher_checkpoint(teacher, entry)
        teacher.to(device).eval()
        preprocessor_cfg = dict(teacher_cfg.get('data_preprocessor') or cfg.model.get('data_preprocessor') or {},
                                size=None, size_divisor=None, pad_val=0, seg_pad_val=255)
        preprocessor = MODELS.build(preprocessor_cfg)
    if rank == 0:  # the others wait: they read what rank 0 kept of an earlier run
        os.makedirs(out, exist_ok=True)
        write_manifest(out, start_manifest(out, teacher_identity(entry, teacher_cfg), str(entry.get('cfg_path')),
                                           classes, args.top_k))
        remove_partial_manifests(out)
    if world_size > 1:
        dist.barrier()
    manifest = read_manifest(out)
    todo = sorted(name for name in images if name not in manifest['images'])
    if rank == 0:
        ranks = f', {world_size} processes' if world_size > 1 else ''
        print(f'{len(images)} training images, {len(images) - len(todo)} already cached in {out}{ranks}', flush=True)
    part = dict(manifest, images={}, seconds=0.0, images_computed=0, device=torch.device(device).type,
                device_name=device_name(device))
    cache_images(todo[rank::world_size], images, out, TeacherLogits(teacher, preprocessor, device), part, rank,
                 args.top_k)
    if world_size > 1:
        dist.barrier()
    if rank == 0:
        manifest = finish_manifest(out, manifest)
        size = sum(os.path.getsize(osp.join(out, entry['file'])) for entry in manifest['images'].values())
        print(f"teacher cache complete: {len(manifest['images'])} images, {size / 2**20:.1f} MiB in {out} "
              f"({manifest['images_computed']} teacher forwards in {manifest['seconds']:.1f} device-seconds over all "
              'its runs)', flush=True)
    finish_process_group()


if __name__ == '__main__':
    run_tool(main)
