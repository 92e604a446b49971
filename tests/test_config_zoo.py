"""Every config in the repository builds, resolves its taps and runs one loss-mode forward at 64x64.

Distillation configs are built with a random teacher (``teacher.checkpoint=None``); SyncBN is reverted to BN so
the training-mode forward runs on the CPU; memory-bank losses get small queues (CIRKD's ADE20K queues alone take
6.8 GB); Af-DCD's contrast pools nothing (its max-pool 4 and 4x4 patches need 128x128 inputs); MasKD's terms read
random tokens of the configured shape from a temporary token file (as the teacher is random;
tests/test_receptive_tokens.py learns real ones); losses that need larger inputs (the adversarial discriminator:
512x512) are left out here and run whole in their own test (``conftest.LARGE_INPUT_LOSSES``). Fragments (no
``model``: schedules, the distillation runtime, the method bases of ``distillation_configs/_base_/methods/``) must
parse and hold what a leaf takes from them.
"""
import tempfile
import warnings
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from conftest import REPO, without_large_input_losses
from mmseg_kd.losses import save_token_file

CONFIGS = sorted(str(p.relative_to(REPO)) for folder in ('configs', 'distillation_configs')
                 for p in (REPO / folder).rglob('*.py'))
SCHEDULE_FRAGMENTS = [c for c in CONFIGS if '_base_/schedules/' in c]
DATASET_FRAGMENTS = [c for c in CONFIGS if '_base_/datasets/' in c]
METHOD_FRAGMENTS = [c for c in CONFIGS if c.startswith('distillation_configs/_base_/methods/')]
RUNTIME_FRAGMENTS = ['distillation_configs/_base_/default_runtime.py']
FRAGMENTS = SCHEDULE_FRAGMENTS + DATASET_FRAGMENTS + METHOD_FRAGMENTS + RUNTIME_FRAGMENTS
# models, data, schedule and runtime of a distillation, without losses (the leaves add them)
PROTOCOL_BASES = [c for c in CONFIGS if c.startswith('distillation_configs/_base_/') and c not in FRAGMENTS]
MODEL_CONFIGS = [c for c in CONFIGS if c not in FRAGMENTS + PROTOCOL_BASES]
DISTILLATION_CONFIGS = [c for c in MODEL_CONFIGS if c.startswith('distillation_configs/')]
PAPER_ARCHITECTURE_PREFIXES = ('cirkd-', 'jfzhang95-', 'nvlabs-')  # tests/test_paper_architectures.py checks these


def test_the_zoo_is_complete():
    """Issue #3: 14 teacher/student architectures on each of ADE20K, Cityscapes and VOC 2012 aug."""
    for dataset, suffix in (('ade20k', 'ade20k-512x512'), ('cityscapes', 'cityscapes-512x1024'),
                            ('voc12aug', 'voc12aug-512x512')):
        names = sorted(p.name for p in (REPO / 'configs' / dataset).glob('*.py')
                       if not p.name.startswith(PAPER_ARCHITECTURE_PREFIXES))
        assert len(names) == 14, names
        assert all(name.endswith(f'_{suffix}.py') for name in names)


def test_every_method_has_configs():
    methods = {path.name for path in (REPO / 'distillation_configs').iterdir() if path.is_dir()} - {'_base_'}
    assert methods == {'afdcd', 'aicsd', 'at', 'attnfd', 'cgd', 'cirkd', 'cwd', 'dist', 'efficientkd', 'fitnet', 'ifvd',
                       'kd', 'maskd', 'mgd', 'overhaul', 'skd'}
    assert all(list((REPO / 'distillation_configs' / method).glob('*.py')) for method in methods)


@pytest.mark.parametrize('path', DISTILLATION_CONFIGS + PROTOCOL_BASES + RUNTIME_FRAGMENTS)
def test_distillation_configs_log_to_tensorboard(path):
    backends = [backend['type'] for backend in Config.fromfile(REPO / path).visualizer.vis_backends]
    assert 'TensorboardVisBackend' in backends and 'LocalVisBackend' in backends, backends


@pytest.mark.parametrize('path', DISTILLATION_CONFIGS + PROTOCOL_BASES)
def test_distillation_configs_state_the_batch_their_learning_rate_is_for(path):
    """tools/train.py --auto-scale-lr needs it; off by default, and a whole number of per-GPU batches."""
    cfg = Config.fromfile(REPO / path)
    total, per_gpu = cfg.auto_scale_lr.base_batch_size, cfg.train_dataloader.batch_size
    assert cfg.auto_scale_lr.enable is False
    assert total >= per_gpu and total % per_gpu == 0, (total, per_gpu)


@pytest.mark.parametrize('path', SCHEDULE_FRAGMENTS)
def test_schedule_fragment_parses(path):
    cfg = Config.fromfile(REPO / path)
    assert 'optim_wrapper' in cfg and 'param_scheduler' in cfg


@pytest.mark.parametrize('path', DATASET_FRAGMENTS)
def test_dataset_fragment_parses(path):
    """A dataset piece (dataloaders, evaluator) or the pipelines it takes its steps from."""
    cfg = Config.fromfile(REPO / path)
    if 'train_dataloader' in cfg:
        assert cfg.train_dataloader.dataset and cfg.val_dataloader.dataset.pipeline and cfg.val_evaluator
    else:
        assert [key for key in cfg if key.endswith('_pipeline')], sorted(cfg)


def test_the_fragments_are_found():
    assert len(METHOD_FRAGMENTS) >= 5 and len(SCHEDULE_FRAGMENTS) >= 9 and DATASET_FRAGMENTS, FRAGMENTS
    assert len(PROTOCOL_BASES) >= 10 and all((REPO / path).is_file() for path in RUNTIME_FRAGMENTS), PROTOCOL_BASES


@pytest.mark.parametrize('path', PROTOCOL_BASES)
def test_protocol_base_is_a_distiller_without_losses(path):
    """A protocol base gives the models, data, schedule and runtime; its leaves add the losses (an empty
    distill_losses does not build), and every leaf that uses it is built below."""
    cfg = Config.fromfile(REPO / path)
    assert cfg.model.type == 'SegDistiller' and cfg.model.distill_losses == {}
    assert cfg.model.student.cfg_path and cfg.model.teacher.cfg_path and cfg.model.teacher.checkpoint
    assert cfg.train_dataloader.dataset and cfg.val_evaluator and cfg.train_cfg.max_iters
    assert any(f'/{Path(path).name}' in (REPO / leaf).read_text() for leaf in DISTILLATION_CONFIGS), \
        f'no leaf config uses {path}'


@pytest.mark.parametrize('path', METHOD_FRAGMENTS)
def test_method_base_losses_name_registered_losses_and_both_taps(path):
    """A method base's ``*_losses`` dicts (and ``*_loss`` entries) are what leaves put into
    ``model.distill_losses``: every entry is a registered loss with a student and a teacher tap."""
    cfg = Config.fromfile(REPO / path)
    loss_sets = {name: value for name, value in cfg.items() if name.endswith('_losses')}
    loss_sets.update({name: {'loss_' + name: value} for name, value in cfg.items() if name.endswith('_loss')})
    assert loss_sets and 'model' not in cfg, sorted(cfg)
    for set_name, losses in loss_sets.items():
        for name, entry in losses.items():
            assert name.startswith('loss_') and MODELS.get(entry['type']) is not None, (set_name, name)
            assert entry['student'] and entry['teacher'], (set_name, name)


def fake_batch(num_classes: int, size: int = 64):
    samples = []
    for seed in range(2):
        generator = torch.Generator().manual_seed(seed)
        labels = torch.randint(0, num_classes, (1, size, size), generator=generator)
        labels[:, :4] = 255  # an ignored band, as real labels have
        sample = SegDataSample(gt_sem_seg=PixelData(data=labels))
        sample.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size)))
        samples.append(sample)
    return torch.randn(2, 3, size, size), samples


def num_classes_of(model) -> int:
    segmentor = getattr(model, 'student', model)
    head = segmentor.decode_head
    return (head[-1] if isinstance(head, torch.nn.ModuleList) else head).num_classes


def random_token_file(num_tokens: int, num_classes: int) -> str:
    """A token file of random (num_tokens, num_classes) tokens, in place of the one the token-learning tool writes."""
    path = Path(tempfile.mkdtemp(prefix='zoo-tokens-')) / f'tokens_{num_tokens}x{num_classes}.pth'
    save_token_file(torch.randn(num_tokens, num_classes, generator=torch.Generator().manual_seed(0)), str(path))
    return str(path)


def build_for_test(path: str):
    """The config's model as the tests run it: random teacher (run online: a teacher cache, which only a cached
    teacher's run writes, is tested in tests/test_teacher_cache.py), BN instead of SyncBN, small memory banks, no
    large-input losses."""
    cfg = Config.fromfile(REPO / path)
    if cfg.model.type == 'SegDistiller':
        cfg.model = without_large_input_losses(cfg.model)
        cfg.model.teacher.checkpoint = None
        cfg.model.teacher.pop('cache', None)
        for loss in cfg.model.distill_losses.values():
            if loss.type == 'MemoryPixelRegionContrast':
                loss.update(pixel_memory_size=64, region_memory_size=16, pixel_contrast_size=64,
                            region_contrast_size=16)
            if loss.type == 'OmniContrastiveDistillation':  # 8x8 maps at 64x64 inputs: 4x4 patches, no pooling
                loss.update(pool_size=1)
                cfg.model.pop('tap_check_input_size', None)
            if loss.type == 'ReceptiveTokenMaskedDistillation':
                loss.tokens = random_token_file(loss.get('num_tokens', 8), loss.num_classes)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='.*RANDOMLY INITIALISED.*')
        model = revert_sync_batchnorm(MODELS.build(cfg.model))
    return cfg, model.train()


@pytest.mark.parametrize('path', MODEL_CONFIGS)
def test_config_builds_and_runs_a_loss_forward(path):
    cfg, model = build_for_test(path)
    inputs, samples = fake_batch(num_classes_of(model))
    losses = model.loss(inputs, samples)
    loss_terms = {key: value for key, value in losses.items() if 'loss' in key}
    assert loss_terms and all(torch.isfinite(value).all() for value in loss_terms.values()), loss_terms
    if cfg.model.type == 'SegDistiller':
        for name in cfg.model.distill_losses:  # a loss of several terms logs distill.<name>_<term>
            assert any(key == f'distill.{name}' or key.startswith(f'distill.{name}_') for key in losses), name
        assert not any(p.requires_grad for p in model.teacher.parameters())
