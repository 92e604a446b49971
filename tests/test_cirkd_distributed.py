"""CIRKD through the real tools with 2 gloo CPU processes: the repository's Cityscapes CIRKD config
(DeepLabV3-R101 -> DeepLabV3-R18) on generated Cityscapes-layout data trains, saves, resumes and evaluates,
and its memory queues are identical on both processes, filled by both, and restored on resume.

The two processes get distinguishable data: with an unshuffled sampler rank r trains on the images of
sorted index r, r+2, ...; the odd images' classes are renamed to classes no even image has. A small hook
(written by the test) makes every process save its queues before training and after every iteration.
The test recomputes the teacher's embeddings of every batch and replays the region queues exactly.
"""
import glob
import json
import os
import os.path as osp
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS
from PIL import Image

from conftest import REPO, build_model, save_checkpoint
from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout
from test_tools import free_port, run

CIRKD_CFG = REPO / 'distillation_configs/cirkd/cirkd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py'
TEACHER_CFG = REPO / 'configs/cityscapes/deeplabv3_r101-d8_cityscapes-512x1024.py'
# classes of the generated scenes (road, sidewalk, building, pole, vegetation, sky, person, car), renamed
# on odd images to classes the even images never have
RENAME_ON_ODD_IMAGES = {0: 3, 1: 4, 2: 6, 5: 7, 8: 9, 10: 12, 11: 14, 13: 15}
PIXEL_MEMORY, REGION_MEMORY, PIXELS_PER_CLASS = 40, 6, 16
ITERS, BATCH, STRIDE = 4, 2, 8
MEMORY = 'distill_losses.loss_memory.'  # state_dict prefix of the memory loss's buffers
BN = dict(type='BN', requires_grad=True)
CPU_OPTIONS = {'model.pretrained': None, 'model.data_preprocessor.size': (64, 128),
               'model.backbone.norm_cfg': BN, 'model.decode_head.norm_cfg': BN,
               'model.auxiliary_head.norm_cfg': BN}

QUEUE_DUMP_HOOK = '''
import os
import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class QueueDumpHook(Hook):
    """Test helper: every process saves its CIRKD queues before training and after every iteration."""

    def _dump(self, runner, tag):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        queues = {k: v.detach().clone() for k, v in model.state_dict().items() if '_queue.' in k}
        folder = os.path.join(runner.work_dir, 'queues')
        os.makedirs(folder, exist_ok=True)
        torch.save(queues, os.path.join(folder, f'rank{dist.get_rank()}_{tag}.pt'))

    def before_train(self, runner):
        self._dump(runner, 'start')

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._dump(runner, f'iter{runner.iter + 1}')
'''


def write_test_config(folder: Path, data_root: str, teacher_checkpoint: str) -> str:
    """The repository's CIRKD config, CPU-sized: 64x128 images, BN, small queues, 4 iterations."""
    (folder / 'queue_dump_hook.py').write_text(QUEUE_DUMP_HOOK)
    config = folder / 'cirkd_test.py'
    config.write_text(f"""
_base_ = ['{CIRKD_CFG}']
custom_imports = dict(imports=['mmseg_kd', 'queue_dump_hook'], allow_failed_imports=False)
data_preprocessor = dict(size=(64, 128))  # the runner gives the distiller this one (not the student's)
model = dict(
    student=dict(cfg_options={CPU_OPTIONS!r}),
    teacher=dict(checkpoint='{teacher_checkpoint}', checkpoint_sha256=None, cfg_options={CPU_OPTIONS!r}),
    distill_losses=dict(loss_memory=dict(
        pixel_memory_size={PIXEL_MEMORY}, region_memory_size={REGION_MEMORY}, pixel_contrast_size=95,
        region_contrast_size=38, norm_cfg={BN!r})))
pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
train_dataloader = dict(batch_size={BATCH}, num_workers=0, persistent_workers=False,
                        sampler=dict(type='InfiniteSampler', shuffle=False),
                        dataset=dict(data_root='{data_root}', pipeline=pipeline))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root='{data_root}', pipeline=pipeline))
test_dataloader = val_dataloader
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end={ITERS}, by_epoch=False)]
train_cfg = dict(max_iters={ITERS}, val_interval={ITERS})
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2, max_keep_ckpts=2))
custom_hooks = [dict(type='QueueDumpHook')]
randomness = dict(seed=0)
""")
    return str(config)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp('cirkd')
    root = write_cityscapes_layout(str(folder / 'cityscapes'), num_train=8, num_val=2, size=(64, 128), seed=1)
    images = sorted(glob.glob(osp.join(root, 'leftImg8bit/train/*/*_leftImg8bit.png')))  # mmseg's order
    labels = []
    for index, image in enumerate(images):
        path = image.replace('leftImg8bit', 'gtFine', 1).replace('_leftImg8bit.png',
                                                                  '_gtFine_labelTrainIds.png')
        label = np.array(Image.open(path))
        if index % 2:
            label = np.vectorize(lambda c: RENAME_ON_ODD_IMAGES.get(int(c), int(c)))(label).astype(np.uint8)
        label[:STRIDE] = 255  # an ignored top strip: never enqueued, never an anchor
        Image.fromarray(label).save(path)
        labels.append(torch.from_numpy(label.astype(np.int64)))
    torch.manual_seed(0)
    teacher = save_checkpoint(build_model(TEACHER_CFG, **CPU_OPTIONS), folder / 'teacher.pth')
    return dict(folder=folder, root=root, labels=labels, config=write_test_config(folder, root, teacher))


def python_path(setup) -> str:
    """The test's folder (for the queue dump hook) in front of the inherited PYTHONPATH."""
    return os.pathsep.join(filter(None, [str(setup['folder']), os.environ.get('PYTHONPATH')]))


@pytest.fixture(scope='module')
def uninterrupted(setup):
    work = setup['folder'] / 'run'
    output = run('bash', 'tools/dist_train.sh', setup['config'], 2, '--work-dir', work, PORT=free_port(),
                 PYTHONPATH=python_path(setup))
    return dict(work=work, output=output)


@pytest.fixture(scope='module')
def resumed(setup, uninterrupted):
    work = setup['folder'] / 'resumed'
    output = run('bash', 'tools/dist_train.sh', setup['config'], 2, '--work-dir', work,
                 '--resume', uninterrupted['work'] / 'iter_2.pth', PORT=free_port(),
                 PYTHONPATH=python_path(setup))
    return dict(work=work, output=output)


def dump(work: Path, rank: int, tag: str) -> dict:
    return torch.load(work / 'queues' / f'rank{rank}_{tag}.pt', weights_only=True)


def checkpoint_queues(path: Path) -> dict:
    state_dict = torch.load(path, weights_only=True)['state_dict']
    return {k: v for k, v in state_dict.items() if '_queue.' in k}


def assert_same(first: dict, second: dict):
    assert first.keys() == second.keys() and first
    for key in first:
        assert torch.equal(first[key], second[key]), key


def batch_indices(iteration: int, rank: int):
    """Sorted dataset indices of rank's batch at 1-based iteration (unshuffled InfiniteSampler, 8 images)."""
    return [rank + 2 * ((BATCH * (iteration - 1) + q) % 4) for q in range(BATCH)]


@pytest.fixture(scope='module')
def teacher_embeddings(setup):
    """The teacher's L2-normalised bottleneck output (C_t, 8, 16) of every training image, recomputed
    here on the same batches as in training (data pipeline, preprocessor and teacher of the config)."""
    cfg = Config.fromfile(setup['config'], import_custom_modules=False)
    distiller = MODELS.build(cfg.model)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    embeddings = {}
    with torch.no_grad():
        for iteration in (1, 2):  # iterations 3 and 4 repeat the same batches
            for rank in (0, 1):
                indices = batch_indices(iteration, rank)
                data = distiller.data_preprocessor(pseudo_collate([dataset[i] for i in indices]), False)
                teacher = distiller.teacher
                features = teacher.decode_head._forward_feature(teacher.extract_feat(data['inputs']))
                for index, feature in zip(indices, F.normalize(features, dim=1)):
                    embeddings[index] = feature
    return embeddings


def test_trains_on_two_processes_saves_and_evaluates(uninterrupted):
    output = uninterrupted['output']
    assert "'backend': 'gloo'" in output and f'Iter(train) [{ITERS}/{ITERS}]' in output
    assert 'teacher weights loaded from' in output
    assert 'mIoU' in output
    (log,) = uninterrupted['work'].glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in log.read_text().splitlines()]
    records = [r for r in records if 'distill.loss_memory_pixel' in r]
    assert [r['iter'] for r in records] == list(range(1, ITERS + 1))
    for record in records:
        for key in ('distill.loss_kd', 'distill.loss_minibatch', 'distill.loss_memory_pixel',
                    'distill.loss_memory_region'):
            assert np.isfinite(record[key]) and record[key] > 0, (key, record)
    assert (uninterrupted['work'] / 'iter_4.pth').is_file()


def test_queues_are_identical_on_both_processes_and_saved(uninterrupted):
    work = uninterrupted['work']
    for tag in ['start'] + [f'iter{n}' for n in range(1, ITERS + 1)]:
        assert_same(dump(work, 0, tag), dump(work, 1, tag))
    for n in (2, 4):
        assert_same(checkpoint_queues(work / f'iter_{n}.pth'), dump(work, 0, f'iter{n}'))


def test_queues_hold_the_embeddings_of_both_processes(setup, uninterrupted, teacher_embeddings):
    """Replay: region entries (exact, in rank, image, class order) and pointers; pixel entries must be
    teacher embeddings of their class from the batches seen so far."""
    work, labels = uninterrupted['work'], setup['labels']
    small = {i: label[::STRIDE, ::STRIDE] for i, label in enumerate(labels)}  # nearest, 64x128 -> 8x16
    start = dump(work, 0, 'start')
    region = start[MEMORY + 'region_queue.embeddings'].clone()
    region_pointer = [0] * 19
    pixel_pointer = [0] * 19
    seen = {k: [] for k in range(19)}
    for iteration in range(1, ITERS + 1):
        for rank in (0, 1):
            for index in batch_indices(iteration, rank):
                for k in sorted(set(small[index].unique().tolist()) - {255}):
                    mask = small[index] == k
                    members = teacher_embeddings[index][:, mask]
                    region[k, region_pointer[k]] = F.normalize(members.mean(dim=1), dim=0)
                    region_pointer[k] = (region_pointer[k] + 1) % REGION_MEMORY
                    enqueued = min(int(mask.sum()), PIXELS_PER_CLASS)
                    pixel_pointer[k] = (pixel_pointer[k] + enqueued) % PIXEL_MEMORY
                    seen[k].append(members.t())
        queues = dump(work, 0, f'iter{iteration}')
        assert queues[MEMORY + 'region_queue.pointers'].tolist() == region_pointer
        assert queues[MEMORY + 'pixel_queue.pointers'].tolist() == pixel_pointer
        assert torch.allclose(queues[MEMORY + 'region_queue.embeddings'], region, atol=1e-5)
        pixel = queues[MEMORY + 'pixel_queue.embeddings']
        changed = (pixel != start[MEMORY + 'pixel_queue.embeddings']).any(dim=2)
        for k in range(19):
            if changed[k].any():
                candidates = torch.cat(seen[k])
                differences = (pixel[k][changed[k]][:, None] - candidates[None]).abs().amax(dim=2)
                assert differences.min(dim=1).values.max() < 1e-5, (iteration, k)
    # both processes' classes are in the queues: even images (rank 0) and renamed odd images (rank 1)
    assert region_pointer[0] > 0 and region_pointer[3] > 0


def test_resume_restores_the_queues_and_continues_like_the_uninterrupted_run(uninterrupted, resumed):
    output = resumed['output']
    assert 'resumed epoch: 0, iter: 2' in output and f'Iter(train) [{ITERS}/{ITERS}]' in output
    assert 'mIoU' in output
    saved = checkpoint_queues(uninterrupted['work'] / 'iter_2.pth')
    for rank in (0, 1):
        assert_same(dump(resumed['work'], rank, 'start'), saved)
        for n in (3, 4):
            assert_same(dump(resumed['work'], rank, f'iter{n}'),
                        dump(uninterrupted['work'], rank, f'iter{n}'))
