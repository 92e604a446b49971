"""Every feature/relation method trains through tools/train.py and tools/dist_train.sh (2 CPU processes).

One run distils DeepLabV3+-R101 into DeepLabV3+-R18 (mmseg's architectures, 64x64 crops of the generated
Cityscapes-layout scenes, random teacher) with the losses of one repository config per method at once:
the AICSD Cityscapes config is the base (its adaptive loss weighting included) and the losses of the
Overhaul, AttnFD, efficient-KD, SKD, IFVD, AT, FitNet, Af-DCD and MGD configs are added to it. The 2-process run also
goes through both connector phases of the Overhaul lineage (a connector-only first iteration, then frozen
connectors), where DDP sees parameters without gradient.
"""
import json

import pytest
import torch
from mmengine.config import Config

from conftest import PYTHON, REPO, without_large_input_losses
from test_tools import free_port, run

BASE_CONFIG = REPO / 'distillation_configs/aicsd/aicsd_deeplabv3plus-r101_deeplabv3plus-r18_99k_cityscapes.py'
ADDED_METHOD_CONFIGS = {
    'overhaul': 'overhaul/overhaul_deeplabv3plus-r101_deeplabv3plus-r18_44k_voc12aug.py',
    'attnfd': 'attnfd/attnfd_deeplabv3plus-r101_deeplabv3plus-r18_29k_voc12aug.py',
    'efficientkd': 'efficientkd/efficientkd_deeplabv3plus-r101_deeplabv3plus-r18_29k_voc12aug.py',
    'skd': 'skd/skd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py',
    'ifvd': 'ifvd/ifvd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py',
    'at': 'at/at_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py',
    'fitnet': 'fitnet/fitnet_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py',
    'afdcd': 'afdcd/afdcd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py',
    'mgd': 'mgd/mgd_pspnet-r101_pspnet-r18_40k_cityscapes.py',
}
# The generators of MGD and Af-DCD learn on the third stage here (128 -> 512 channels) rather than c4 (512 -> 2048,
# two 2048-channel conv3x3 per generator: 75M parameters); Af-DCD's contrast pools nothing (8x8 maps at 64x64).
GENERATOR_TAPS = dict(student='backbone.layer2', teacher='backbone.layer2')
CPU_MODEL_OPTIONS = {'model.pretrained': None, 'model.backbone.norm_cfg.type': 'BN',
                     'model.decode_head.norm_cfg.type': 'BN', 'model.auxiliary_head.norm_cfg.type': 'BN',
                     'model.data_preprocessor.size': (64, 64)}


def all_method_losses() -> dict:
    """The distill_losses of the base config plus those of every other method, as plain dicts (without the losses
    that need large inputs: the SKD and IFVD configs' adversarial term trains in its own test)."""
    losses = Config.fromfile(str(BASE_CONFIG)).model.distill_losses.to_dict()
    for method, path in ADDED_METHOD_CONFIGS.items():
        model = without_large_input_losses(Config.fromfile(str(REPO / 'distillation_configs' / path)).model)
        added = model.distill_losses.to_dict()
        for entry in added.values():
            if entry['type'] in ('MaskedFeatureGeneration', 'OmniContrastiveDistillation'):
                entry.update(GENERATOR_TAPS, **({'pool_size': 1} if 'contrast_weight' in entry else {}))
        losses.update({f'loss_{method}_{name[len("loss_"):]}': entry for name, entry in added.items()})
    return losses


def write_config(path, data_root, max_iters, model_options='', extra='find_unused_parameters = True'):
    path.write_text(f"""
_base_ = ['{BASE_CONFIG}']
{extra}
model = dict(
    {model_options}
    student=dict(cfg_options={CPU_MODEL_OPTIONS!r}),
    teacher=dict(checkpoint=None, cfg_options={CPU_MODEL_OPTIONS!r}),
    distill_losses={all_method_losses()!r})
crop_size = (64, 64)
data_preprocessor = dict(size=crop_size)  # the runner gives the top-level one to the model
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(128, 64), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 64), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root='{data_root}', pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root='{data_root}', pipeline=test_pipeline))
test_dataloader = val_dataloader
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end={max_iters}, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters={max_iters}, val_interval=1000)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={max_iters}))
log_processor = dict(window_size=1)
randomness = dict(seed=0)
""")
    return str(path)


def training_records(work_dir):
    (log,) = work_dir.glob('*/vis_data/scalars.json')
    return [record for record in map(json.loads, log.read_text().splitlines()) if 'decode.loss_ce' in record]


def logged_keys(name: str, entry: dict) -> set:
    """The log keys of one loss entry: one per term of a loss of several terms."""
    if entry['type'] == 'OmniContrastiveDistillation':
        return {f'distill.{name}_generation', f'distill.{name}_contrast'}
    return {f'distill.{name}'}


def check_every_loss_logged_and_finite(records, max_iters):
    expected = set().union(*(logged_keys(name, entry) for name, entry in all_method_losses().items()))
    methods = {method for method in ADDED_METHOD_CONFIGS if any(f'loss_{method}_' in key for key in expected)}
    assert methods == set(ADDED_METHOD_CONFIGS)
    assert [record['iter'] for record in records] == list(range(1, max_iters + 1))
    for record in records:
        assert expected <= set(record), expected - set(record)
        for key in expected | {'decode.loss_ce', 'aux.loss_ce'}:
            assert torch.isfinite(torch.tensor(record[key])), (key, record[key])
    # AICSD's adaptive weighting: alpha = 0 at the first iteration (no CE, no ICSD, full KD), > 0 after
    first, second = records[0], records[1]
    assert first['decode.loss_ce'] == 0.0 and first['distill.loss_icsd'] == 0.0
    assert first['distill.loss_kd'] > 0
    assert second['decode.loss_ce'] > 0 and second['distill.loss_icsd'] > 0
    for key in expected - {'distill.loss_icsd'}:
        assert any(record[key] != 0 for record in records), key


@pytest.fixture(scope='module')
def trained(tmp_path_factory, cityscapes_root):
    work = tmp_path_factory.mktemp('feature_kd')
    config = write_config(work / 'all_methods.py', cityscapes_root, max_iters=2)
    output = run(PYTHON, 'tools/train.py', config, '--work-dir', work / 'run')
    return dict(work_dir=work / 'run', output=output)


def test_train_py_logs_every_method_finite(trained):
    check_every_loss_logged_and_finite(training_records(trained['work_dir']), max_iters=2)
    assert 'TEACHER IS RANDOMLY INITIALISED' in trained['output']


def test_checkpoint_holds_connectors_and_loss_modules_not_the_teacher(trained):
    keys = set(torch.load(trained['work_dir'] / 'iter_2.pth', weights_only=True)['state_dict'])
    assert not [key for key in keys if key.startswith('teacher')]
    assert 'connectors.loss_overhaul_ofd_layer1.conv.weight' in keys  # Overhaul 1x1 conv + BN
    assert 'connectors.loss_overhaul_ofd_layer1.bn.running_var' in keys
    assert 'connectors.loss_fitnet_fitnet.conv.weight' in keys  # FitNet 1x1 conv
    assert 'distill_losses.loss_overhaul_ofd_layer1.margin' in keys
    assert 'distill_losses.loss_attnfd_attnfd_backbone.student_attention.spatial_conv.weight' in keys
    # MGD's and Af-DCD's align convs, generators and mask generators (a resumed run draws the same masks)
    for name in ('loss_mgd_mgd', 'loss_afdcd_afdcd'):
        assert {f'distill_losses.{name}.align.weight', f'distill_losses.{name}.projector.2.bias',
                f'distill_losses.{name}.keep_mask._extra_state'} <= keys, name


def test_train_py_clips_the_afdcd_loss_gradients(trained):
    """tools/train.py adds the hook that honours Af-DCD's max_grad_norm (otherwise the loss warns)."""
    assert 'max_grad_norm=15.0' in trained['output']  # the run's config, as mmengine prints it
    assert 'no DistillLossGradClipHook' not in trained['output']
    assert 'DistillLossGradClipHook' in trained['output']  # mmengine lists the run's hooks


def test_dist_train_two_processes_logs_every_method_finite_through_the_connector_phases(tmp_path, cityscapes_root):
    config = write_config(tmp_path / 'all_methods.py', cityscapes_root, max_iters=2,
                          model_options='connector_warmup=dict(iters=1, freeze_after=True),',
                          extra='find_unused_parameters = True')
    output = run('bash', 'tools/dist_train.sh', config, 2, '--work-dir', tmp_path / 'run', PORT=free_port())
    assert "'backend': 'gloo'" in output and 'Iter(train) [2/2]' in output
    check_every_loss_logged_and_finite(training_records(tmp_path / 'run'), max_iters=2)
