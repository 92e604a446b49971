"""Shared fixtures: a generated Cityscapes-layout dataset, teacher checkpoints the tests save, and the
repository configs the tests exercise."""
import copy
import sys
from pathlib import Path

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_kd  # noqa: F401
from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout
from mmseg_kd.distillers.model_config import resolve_model_config

REPO = Path(__file__).resolve().parents[1]
STUDENT_CFG = REPO / 'configs/demo/pspnet_r18-d8_demo-cityscapes-64x128.py'
TEACHER_CFG = REPO / 'configs/demo/pspnet_r101-d8_demo-cityscapes-64x128.py'
CWD_DISTILL_CFG = REPO / 'distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py'
PYTHON = sys.executable

init_default_scope('mmseg')  # as mmseg's runner and init_model do

# Losses that need larger inputs than the config tests' 32 to 64 px: the adversarial discriminator needs 1/8 logits of
# at least 64x64, i.e. 512x512 inputs (about 35 s per CIRKD-protocol config on 2 CPU cores). The config tests run
# the other losses of such configs small; tests/test_holistic_adversarial_distillation.py runs one such config whole
# at 512x512 and checks the adversarial entries of all of them.
LARGE_INPUT_LOSSES = ('HolisticAdversarialDistillation',)


def without_large_input_losses(model_cfg):
    """A distiller's model config without its LARGE_INPUT_LOSSES entries and with the default 64x64 dry run if it
    had any (the config itself is left unchanged)."""
    model_cfg = copy.deepcopy(model_cfg)
    losses = model_cfg['distill_losses']
    large = [name for name, loss in losses.items() if loss['type'] in LARGE_INPUT_LOSSES]
    for name in large:
        losses.pop(name)
    if large:
        model_cfg.pop('tap_check_input_size', None)
    return model_cfg


# `make test` runs the tests on 2 workers with pytest-xdist's --dist loadgroup. A file's tests stay together on one
# worker (their module fixtures train models and run tools once), except in these files of many independent tests,
# whose tests are spread over the workers.
SPREAD_OVER_WORKERS = ('test_config_zoo.py', 'test_paper_protocol_configs.py')


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name not in SPREAD_OVER_WORKERS:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


@pytest.fixture(autouse=True)
def iteration_zero():
    """Every test starts at training iteration 0 in mmengine's message hub (loss-weight schedules read it)."""
    MessageHub.get_current_instance().update_info('iter', 0)


def build_model(cfg_path, **cfg_options):
    return MODELS.build(resolve_model_config(dict(cfg_path=str(cfg_path), cfg_options=cfg_options),
                                             'student'))


def save_checkpoint(model, path, prefix=''):
    state_dict = {prefix + key: value for key, value in model.state_dict().items()}
    torch.save({'state_dict': state_dict, 'meta': {'note': 'saved by the mmseg-kd tests'}}, path)
    return str(path)


@pytest.fixture(scope='session')
def cityscapes_root(tmp_path_factory):
    return write_cityscapes_layout(str(tmp_path_factory.mktemp('data') / 'cityscapes'),
                                   num_train=8, num_val=4, size=(64, 128), seed=0)


@pytest.fixture(scope='session')
def r18_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    return save_checkpoint(build_model(STUDENT_CFG), tmp_path_factory.mktemp('ckpt') / 'pspnet_r18.pth')


@pytest.fixture(scope='session')
def r101_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    return save_checkpoint(build_model(TEACHER_CFG), tmp_path_factory.mktemp('ckpt') / 'pspnet_r101.pth')

