"""Every distillation config of the feature/relation methods builds (teacher checkpoint None, BN instead of
SyncBN, no ImageNet weights) and runs one loss-mode forward on a small batch with finite losses."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from conftest import REPO, without_large_input_losses

METHODS = ('overhaul', 'aicsd', 'attnfd', 'efficientkd', 'skd', 'ifvd', 'at', 'fitnet')
CONFIGS = sorted(path for method in METHODS for path in (REPO / 'distillation_configs' / method).glob('*.py'))
CPU_MODEL_OPTIONS = {'model.pretrained': None, 'model.backbone.norm_cfg.type': 'BN',
                     'model.decode_head.norm_cfg.type': 'BN', 'model.auxiliary_head.norm_cfg.type': 'BN'}


def cpu_distiller_cfg(config_path: Path) -> dict:
    """The config's model with a random teacher, BN and no pretrained weights, for a CPU check at 32x32 (without
    the losses that need large inputs, tested in their own file)."""
    model = without_large_input_losses(Config.fromfile(str(config_path)).model)
    model.teacher.checkpoint = None
    model.tap_check_input_size = (32, 32)
    for role in ('student', 'teacher'):
        model[role].cfg_options = dict(CPU_MODEL_OPTIONS)
    return model


def labelled_batch(num_classes: int, size=(32, 32), batch=2):
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(batch, 3, *size, generator=generator)
    samples = []
    for _ in range(batch):
        labels = torch.randint(0, num_classes, (1, *size), generator=generator)
        labels[:, :4] = 255
        sample = SegDataSample(gt_sem_seg=PixelData(data=labels))
        sample.set_metainfo(dict(img_shape=size, ori_shape=size, pad_shape=size))
        samples.append(sample)
    return inputs, samples


def test_every_method_has_configs():
    assert {path.parent.name for path in CONFIGS} == set(METHODS)


@pytest.mark.parametrize('config_path', CONFIGS, ids=[path.stem for path in CONFIGS])
def test_config_builds_and_runs_one_loss_forward(config_path):
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match='TEACHER IS RANDOMLY INITIALISED'):
        distiller = MODELS.build(cpu_distiller_cfg(config_path))
    distiller.train()
    inputs, samples = labelled_batch(distiller.student.decode_head.num_classes)
    losses = distiller.loss(inputs, samples)
    distill_keys = [key for key in losses if key.startswith('distill.')]
    assert len(distill_keys) == len(distiller.distill_losses)
    for key in distill_keys:
        assert torch.isfinite(losses[key]), key
