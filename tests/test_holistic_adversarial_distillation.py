"""HolisticAdversarialDistillation (SKD's holistic adversarial term, as CIRKD trains it) and its discriminator.

The hinge and generator terms against hand computations; one training forward against one step of a
``torch.optim.Adam`` run here on a copy of the discriminator, and the student's gradient against autograd on
−λ·mean D(z_s) with that updated copy; the discriminator's self-attention against loops and its spectral norm
against its definition; the optimizer state across a weights-only checkpoint; float32 under bf16 autocast; the
repository's adversarial configs (one of them run whole at 512x512); and training through tools/train.py (with
resume) and tools/dist_train.sh (2 CPU processes) with tiny UNets, whose logits are full resolution (64x64 crops).
"""
import copy
import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS
from torch import nn
from torch.nn.utils import parametrize

from conftest import PYTHON, REPO
from mmseg_kd.checkpoint.safe_loading import load_checkpoint_file
from mmseg_kd.layers import LogitDiscriminator
from mmseg_kd.layers.logit_discriminator import SelfAttention2d
from mmseg_kd.losses import HolisticAdversarialDistillation
from mmseg_kd.losses.holistic_adversarial_distillation import discriminator_hinge_loss, generator_loss
from test_config_zoo import fake_batch
from test_tools import free_port, run

BN = dict(type='BN', requires_grad=True)
LOGITS = 'decode_head.conv_seg'


def small_loss(num_classes=3, **kwargs):
    """The loss with a narrow discriminator (8-16-32-64 channels) and BN, for fast CPU tests."""
    settings = dict(num_classes=num_classes, discriminator_base_channels=8, norm_cfg=BN, loss_weight=0.001)
    return HolisticAdversarialDistillation(**dict(settings, **kwargs))


def logit_maps(seed, batch=2, classes=3, size=(64, 64)):
    generator = torch.Generator().manual_seed(seed)
    student = torch.randn(batch, classes, *size, generator=generator).requires_grad_(True)
    teacher = 2 * torch.randn(batch, classes, *size, generator=generator)
    return student, teacher


# ----------------------------------------------------------------------------- the two terms
def test_hinge_and_generator_terms_by_hand():
    teacher_scores = torch.tensor([[[[-0.5, 0.3], [1.7, 2.0]]]])
    student_scores = torch.tensor([[[[-2.0, -0.5], [0.4, 1.2]]]])
    # mean(ReLU(1 - t)) = (1.5 + 0.7 + 0 + 0) / 4; mean(ReLU(1 + s)) = (0 + 0.5 + 1.4 + 2.2) / 4
    assert discriminator_hinge_loss(teacher_scores, student_scores).item() == pytest.approx(0.55 + 1.025)
    assert generator_loss(student_scores).item() == pytest.approx(-(-2.0 - 0.5 + 0.4 + 1.2) / 4)


class ChannelDifference(nn.Module):
    """A stand-in discriminator whose scores are known: D(z) = z[:, 0] − z[:, 1] at every pixel."""

    def forward(self, logits):
        return logits[:, :1] - logits[:, 1:2]


def test_eval_forward_with_a_known_discriminator_matches_loops():
    """Without a discriminator step (eval mode), the two terms and the student's gradient, by loops."""
    loss = small_loss(num_classes=2, loss_weight=0.5).eval()
    loss.discriminator = ChannelDifference()
    student, teacher = logit_maps(seed=1, batch=2, classes=2, size=(2, 3))
    terms = loss(student, teacher)
    pixels = [(b, y, x) for b in range(2) for y in range(2) for x in range(3)]
    d_t = [float(teacher[b, 0, y, x] - teacher[b, 1, y, x]) for b, y, x in pixels]
    d_s = [float(student.detach()[b, 0, y, x] - student.detach()[b, 1, y, x]) for b, y, x in pixels]
    hinge = sum(max(0.0, 1 - d) for d in d_t) / 12 + sum(max(0.0, 1 + d) for d in d_s) / 12
    assert terms['discriminator_hinge'].item() == pytest.approx(hinge, rel=1e-6)
    assert terms['generator'].item() == pytest.approx(-0.5 * sum(d_s) / 12, rel=1e-6)
    terms['generator'].backward()
    expected = torch.zeros_like(student)
    expected[:, 0], expected[:, 1] = -0.5 / 12, 0.5 / 12  # d(−λ·mean(z0 − z1)) / dz
    torch.testing.assert_close(student.grad, expected)


# ----------------------------------------------------------------------------- the discriminator step
def test_each_forward_is_one_adam_step_then_the_generator_term_with_the_updated_discriminator():
    torch.manual_seed(0)
    loss = small_loss().train()
    reference = copy.deepcopy(loss.discriminator).requires_grad_(True)
    adam = torch.optim.Adam(reference.parameters(), lr=4e-4, betas=(0.9, 0.99))
    for step in range(3):
        student, teacher = logit_maps(seed=step)
        terms = loss(student, teacher)
        assert student.grad is None  # the discriminator step used the detached maps

        # the same step, by hand: D sees the teacher map, then the student map, as in the loss
        adam.zero_grad()
        hinge = F.relu(1 - reference(teacher)).mean() + F.relu(1 + reference(student.detach())).mean()
        (0.1 * hinge).backward()
        adam.step()
        assert terms['discriminator_hinge'].item() == pytest.approx(hinge.item(), rel=1e-6)
        assert not terms['discriminator_hinge'].requires_grad

        expected = -0.001 * reference(student).mean()  # D's third forward (BN statistics, power iteration)
        for (name, ours), theirs in zip(loss.discriminator.state_dict().items(), reference.state_dict().values()):
            torch.testing.assert_close(ours, theirs, msg=f'step {step}: {name}')
        assert terms['generator'].item() == pytest.approx(expected.item(), rel=1e-5)
        (expected_gradient,) = torch.autograd.grad(expected, student)
        terms['generator'].backward()
        torch.testing.assert_close(student.grad, expected_gradient)
        assert all(p.grad is None and not p.requires_grad for p in loss.discriminator.parameters())


def test_the_students_optimizer_lists_but_never_moves_the_discriminator():
    """mmengine's optimizer takes every parameter of the model; SGD (momentum, weight decay) skips those with no
    gradient, so only the inner Adam moves the discriminator."""
    torch.manual_seed(0)
    model = nn.ModuleDict(dict(student=nn.Conv2d(3, 3, 1), loss=small_loss()))
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.1)))
    listed = {id(p) for group in wrapper.optimizer.param_groups for p in group['params']}
    assert {id(p) for p in model['loss'].parameters()} <= listed
    student_before = model['student'].weight.detach().clone()
    _, teacher = logit_maps(seed=0)
    for _ in range(2):
        terms = model['loss'](model['student'](torch.randn(2, 3, 64, 64)), teacher)
        after_inner_step = copy.deepcopy(model['loss'].discriminator.state_dict())
        wrapper.update_params(terms['generator'])
        for name, value in model['loss'].discriminator.state_dict().items():
            assert torch.equal(value, after_inner_step[name]), name
    assert not torch.equal(model['student'].weight, student_before)
    assert not any(id(p) in {id(q) for q in model['loss'].parameters()} for p in wrapper.optimizer.state)


def test_zero_scheduled_weight_keeps_training_the_discriminator():
    loss = small_loss(weight_schedule=dict(type='LinearWarmupDecay', warmup_iters=10)).train()  # weight 0 at 0
    before = copy.deepcopy(loss.discriminator.state_dict())
    student, teacher = logit_maps(seed=0)
    terms = loss(student, teacher)
    assert terms['generator'].item() == 0 and terms['generator'].requires_grad
    assert any(not torch.equal(value, before[name]) for name, value in loss.discriminator.state_dict().items())


def test_float32_with_autocast_off_under_bfloat16_autocast():
    """Under bf16 autocast the step and the terms are those of float32 (autocast off inside the loss)."""
    torch.manual_seed(0)
    plain = small_loss().train()
    mixed = copy.deepcopy(plain)
    student, teacher = logit_maps(seed=0)
    expected = plain(student, teacher)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        terms = mixed(student, teacher)
        bf16_terms = copy.deepcopy(mixed)(student.bfloat16(), teacher.bfloat16())
    for key, value in terms.items():
        assert value.dtype == torch.float32 and bf16_terms[key].dtype == torch.float32, key
        torch.testing.assert_close(value, expected[key], rtol=0, atol=0)
    for name, value in mixed.discriminator.state_dict().items():
        assert value.dtype == plain.discriminator.state_dict()[name].dtype
        torch.testing.assert_close(value, plain.discriminator.state_dict()[name], rtol=0, atol=0, msg=name)


# ----------------------------------------------------------------------------- the discriminator
@pytest.mark.parametrize('size, scores', [((64, 64), (1, 1)), ((64, 96), (1, 3)), ((128, 80), (5, 2))])
def test_discriminator_scores_maps_of_at_least_64x64(size, scores):
    discriminator = LogitDiscriminator(3, base_channels=8)
    assert discriminator(torch.randn(2, 3, *size)).shape == (2, 1, *scores)


def test_discriminator_refuses_a_too_small_map_naming_the_minimum_and_the_fix():
    with pytest.raises(ValueError, match=r'at least 64x64 .* got 63x64.*tap_check_input_size=\(512, 512\)'):
        LogitDiscriminator(3, base_channels=8)(torch.randn(2, 3, 63, 64))


def test_layers_widths_and_which_convolutions_are_spectrally_normalised():
    discriminator = LogitDiscriminator(19)
    blocks = [discriminator.block1, discriminator.block2, discriminator.block3, discriminator.block4]
    assert [block[0].out_channels for block in blocks] == [64, 128, 256, 512]
    assert all(block[0].kernel_size == (4, 4) and block[0].stride == (2, 2) and block[0].padding == (1, 1)
               and block[1].negative_slope == 0.1 for block in blocks)
    assert all(parametrize.is_parametrized(block[0], 'weight') for block in blocks)
    assert discriminator.input_norm.num_features == 19
    assert [discriminator.attention3.value.in_channels, discriminator.attention4.value.in_channels] == [256, 512]
    assert discriminator.score.kernel_size == (4, 4) and discriminator.score.padding == (0, 0)
    assert not parametrize.is_parametrized(discriminator.score)
    assert not parametrize.is_parametrized(discriminator.attention3.query)


def test_spectral_norm_divides_by_the_power_iteration_estimate_and_reaches_unit_norm():
    torch.manual_seed(0)
    discriminator = LogitDiscriminator(3, base_channels=8).train()
    for _ in range(60):  # one power iteration per training forward
        discriminator(torch.randn(2, 3, 64, 64))
    discriminator.eval()
    for block in (discriminator.block1, discriminator.block2, discriminator.block3, discriminator.block4):
        conv = block[0]
        original = conv.parametrizations.weight.original.flatten(1)
        u, v = conv.parametrizations.weight[0]._u, conv.parametrizations.weight[0]._v
        torch.testing.assert_close(conv.weight.flatten(1), original / (u @ original @ v))
        assert torch.linalg.matrix_norm(conv.weight.flatten(1), ord=2).item() == pytest.approx(1.0, abs=0.02)


def test_self_attention_matches_loops():
    torch.manual_seed(0)
    attention = SelfAttention2d(16)
    assert attention.gamma.item() == 0
    x = torch.randn(1, 16, 2, 2)
    assert torch.equal(attention(x), x)  # γ = 0: the identity at the start
    with torch.no_grad():
        attention.gamma.fill_(0.7)
    positions = [(y, z) for y in range(2) for z in range(2)]

    def conv1x1(conv, y, z):
        weight, bias = conv.weight.detach(), conv.bias.detach()
        return [float(bias[o]) + sum(float(weight[o, c, 0, 0]) * float(x[0, c, y, z]) for c in range(16))
                for o in range(conv.out_channels)]

    queries = [conv1x1(attention.query, *p) for p in positions]
    keys = [conv1x1(attention.key, *p) for p in positions]
    values = [conv1x1(attention.value, *p) for p in positions]
    out = attention(x)
    for i, (y, z) in enumerate(positions):
        energies = [sum(q * k for q, k in zip(queries[i], keys[j])) for j in range(4)]
        top = max(energies)
        weights = [math.exp(e - top) for e in energies]
        weights = [w / sum(weights) for w in weights]
        for c in range(16):
            attended = sum(weights[j] * values[j][c] for j in range(4))
            assert out[0, c, y, z].item() == pytest.approx(0.7 * attended + float(x[0, c, y, z]), abs=1e-5)


# ----------------------------------------------------------------------------- checkpoints
def test_optimizer_state_survives_a_weights_only_checkpoint(tmp_path):
    torch.manual_seed(0)
    trained = small_loss().train()
    for step in range(2):
        trained(*logit_maps(seed=step))
    saved = trained.state_dict()
    # one tensor per entry (mmengine broadcasts each state_dict value as a tensor in distributed runs)
    assert all(isinstance(value, torch.Tensor) for value in saved.values())
    path = tmp_path / 'loss.pth'
    torch.save({'state_dict': saved}, path)

    torch.manual_seed(1)
    restored = small_loss().train()
    restored.load_state_dict(load_checkpoint_file(str(path))['state_dict'])  # weights_only=True
    ours, theirs = restored.discriminator_optimizer.state_dict(), trained.discriminator_optimizer.state_dict()
    assert ours['param_groups'] == theirs['param_groups']
    assert ours['state'].keys() == theirs['state'].keys()
    for index, state in theirs['state'].items():
        assert int(state['step']) == 2
        for key, value in state.items():
            assert torch.equal(ours['state'][index][key], value), (index, key)

    student, teacher = logit_maps(seed=5)
    expected, terms = trained(student, teacher), restored(student, teacher)
    for key in expected:
        assert torch.equal(terms[key], expected[key]), key
    for name, value in trained.discriminator.state_dict().items():
        assert torch.equal(restored.discriminator.state_dict()[name], value), name


# ----------------------------------------------------------------------------- inside SegDistiller
def tiny_unet(width: int) -> dict:
    """A 3-stage UNet with an FCN head: 19-class logits at full resolution (64x64 crops give 64x64 logits)."""
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, seg_pad_val=255,
                               size=(64, 64)),
        backbone=dict(type='UNet', in_channels=3, base_channels=width, num_stages=3, strides=(1, 1, 1),
                      enc_num_convs=(1, 1, 1), dec_num_convs=(1, 1), downsamples=(True, True),
                      enc_dilations=(1, 1, 1), dec_dilations=(1, 1), norm_cfg=BN,
                      upsample_cfg=dict(type='InterpConv')),
        decode_head=dict(type='FCNHead', in_channels=width, in_index=2, channels=width, num_convs=1,
                         concat_input=False, dropout_ratio=0.1, num_classes=19, norm_cfg=BN, align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


def adversarial_entry() -> dict:
    """The SKD config's adversarial entry, with BN (SyncBN needs CUDA in multi-process runs)."""
    skd = Config.fromfile(str(REPO / 'distillation_configs/skd/skd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py'))
    return dict(skd.model.distill_losses.loss_adv.to_dict(), norm_cfg=BN)


def tiny_distiller_cfg(name='loss_adv', tap_check_input_size=(64, 64)) -> dict:
    return dict(type='SegDistiller', student=tiny_unet(8), teacher=dict(model=tiny_unet(16), checkpoint=None),
                distill_losses={name: adversarial_entry()}, tap_check_input_size=tap_check_input_size)


@pytest.mark.filterwarnings('ignore:.*RANDOMLY INITIALISED')
def test_distiller_logs_the_discriminator_hinge_outside_the_total_loss():
    torch.manual_seed(0)
    distiller = MODELS.build(tiny_distiller_cfg()).train()
    losses = distiller.loss(*fake_batch(19))
    assert {'distill.loss_adv_generator', 'distill.adv_discriminator_hinge'} <= set(losses)
    assert not losses['distill.adv_discriminator_hinge'].requires_grad
    total, _ = distiller.parse_losses(losses)  # mmengine: the sum of the keys containing 'loss'
    assert total.item() == pytest.approx(losses['decode.loss_ce'].item()
                                         + losses['distill.loss_adv_generator'].item(), rel=1e-6)


@pytest.mark.filterwarnings('ignore:.*RANDOMLY INITIALISED')
def test_build_refuses_logits_below_64x64_naming_the_minimum_and_the_fix():
    with pytest.raises(ValueError, match=r"distill_losses.loss_adv: .*32x32 input.*at least 64x64.*got 32x32.*"
                                         r"tap_check_input_size=\(512, 512\)"):
        MODELS.build(tiny_distiller_cfg(tap_check_input_size=(32, 32)))


@pytest.mark.filterwarnings('ignore:.*RANDOMLY INITIALISED')
def test_an_entry_name_that_would_put_the_hinge_into_the_total_is_refused():
    with pytest.raises(ValueError, match=r"'distill\.adv_loss_discriminator_hinge', which contains 'loss'"):
        MODELS.build(tiny_distiller_cfg(name='loss_adv_loss'))


# ----------------------------------------------------------------------------- the repository's configs
ADVERSARIAL_CONFIGS = sorted(
    str(path.relative_to(REPO)) for pattern in ('skd/*.py', 'ifvd/*.py', 'cwd/cwd_*deeplabv3-r101_*.py')
    for path in (REPO / 'distillation_configs').glob(pattern))  # CIRKD's SKD, IFVD and CWD baselines, both families


def test_the_adversarial_configs_are_found():
    assert len(ADVERSARIAL_CONFIGS) == 14, ADVERSARIAL_CONFIGS


@pytest.mark.parametrize('path', ADVERSARIAL_CONFIGS)
def test_adversarial_config_entry_weights_and_sizes(path):
    """CIRKD's weights and optimizer on the 1/8 logits; dry run and training batches of at least 512x512."""
    cfg = Config.fromfile(str(REPO / path))
    (entry,) = [loss for loss in cfg.model.distill_losses.values() if loss.type == 'HolisticAdversarialDistillation']
    assert entry.to_dict() == dict(
        type='HolisticAdversarialDistillation', loss_weight=0.001, discriminator_loss_weight=0.1,
        discriminator_optimizer=dict(type='Adam', lr=4e-4, betas=(0.9, 0.99)), student=LOGITS, teacher=LOGITS)
    assert tuple(cfg.model.tap_check_input_size) == (512, 512)
    assert min(cfg.data_preprocessor.size) >= 512  # every training batch is padded to at least this


@pytest.mark.filterwarnings('ignore:.*RANDOMLY INITIALISED')
def test_a_cirkd_protocol_config_runs_whole_at_its_512x512_crops():
    """CWD on VOC (512x512 crops: 1/8 logits of exactly the discriminator's minimum), random teacher, BN."""
    cfg = Config.fromfile(str(REPO / 'distillation_configs/cwd/cwd_deeplabv3-r101_deeplabv3-r18_40k_voc12aug.py'))
    cfg.model.teacher.checkpoint = None
    torch.manual_seed(0)
    distiller = revert_sync_batchnorm(MODELS.build(cfg.model)).train()
    losses = distiller.loss(*fake_batch(21, size=512))
    assert {'distill.loss_cwd', 'distill.loss_adv_generator', 'distill.adv_discriminator_hinge'} <= set(losses)
    assert all(torch.isfinite(value) for value in losses.values())
    sum(value for key, value in losses.items() if 'loss' in key).backward()
    assert distiller.student.decode_head.conv_seg.weight.grad is not None
    assert all(p.grad is None for p in distiller.distill_losses.loss_adv.parameters())


# ----------------------------------------------------------------------------- training through the tools
DUMP_HOOK = '''
import os
import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class DiscriminatorDumpHook(Hook):
    """Test helper: every process saves its discriminator and its optimizer state after training."""

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = {k: v for k, v in model.state_dict().items() if k.startswith('distill_losses.loss_adv.')}
        rank = dist.get_rank() if dist.is_initialized() else 0
        torch.save(state, os.path.join(runner.work_dir, f'discriminator_rank{rank}.pth'))
'''


def write_training_config(folder: Path, data_root: str, max_iters: int) -> str:
    """Tiny UNets (full-resolution logits) with the SKD config's adversarial entry and pixel KD, 64x64 crops."""
    (folder / 'discriminator_dump_hook.py').write_text(DUMP_HOOK)
    losses = dict(loss_adv=adversarial_entry(),
                  loss_kd=dict(type='KLDivergence', tau=1.0, student=LOGITS, teacher=LOGITS))
    config = folder / 'adversarial.py'
    config.write_text(f"""
_base_ = ['{REPO}/distillation_configs/skd/skd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']
custom_imports = dict(imports=['mmseg_kd', 'discriminator_dump_hook'], allow_failed_imports=False)
model = dict(_delete_=True, type='SegDistiller', student={tiny_unet(8)!r},
             teacher=dict(model={tiny_unet(16)!r}, checkpoint=None), distill_losses={losses!r})
crop_size = (64, 64)
data_preprocessor = dict(size=crop_size)  # the runner gives the distiller this one
train_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='RandomCrop', crop_size=crop_size), dict(type='PackSegInputs')]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root='{data_root}', pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root='{data_root}', pipeline=test_pipeline))
test_dataloader = val_dataloader
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end={max_iters}, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters={max_iters}, val_interval=1000)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
custom_hooks = [dict(type='DiscriminatorDumpHook')]
log_processor = dict(window_size=1)
randomness = dict(seed=0)
""")
    return str(config)


def training_records(work_dir: Path):
    records = []
    for log in sorted(work_dir.glob('*/vis_data/scalars.json')):
        records += [json.loads(line) for line in log.read_text().splitlines()]
    return [record for record in records if 'decode.loss_ce' in record]


def check_records(records, iterations):
    assert [record['iter'] for record in records] == list(iterations)
    for record in records:
        for key in ('distill.loss_adv_generator', 'distill.adv_discriminator_hinge', 'distill.loss_kd'):
            assert math.isfinite(record[key]), (key, record)
        terms = sum(value for key, value in record.items() if 'loss' in key and key != 'loss')
        assert record['loss'] == pytest.approx(terms, rel=1e-4, abs=1e-6)  # the hinge is not in it


def adam_steps(state_dict) -> int:
    """The discriminator Adam's step count saved in a distiller's state_dict (the same for every parameter)."""
    prefix = 'distill_losses.loss_adv.discriminator_optimizer_state.'
    steps = {int(value) for key, value in state_dict.items() if key.startswith(prefix) and key.endswith('.step')}
    assert len(steps) == 1, steps
    return steps.pop()


def python_path(folder: Path) -> str:
    import os
    return os.pathsep.join(filter(None, [str(folder), os.environ.get('PYTHONPATH')]))


def test_train_py_logs_both_terms_and_resumes_the_discriminator(tmp_path, cityscapes_root):
    config = write_training_config(tmp_path, cityscapes_root, max_iters=2)
    run(PYTHON, 'tools/train.py', config, '--work-dir', tmp_path / 'run', PYTHONPATH=python_path(tmp_path))
    check_records(training_records(tmp_path / 'run'), range(1, 3))
    checkpoint = load_checkpoint_file(str(tmp_path / 'run' / 'iter_2.pth'))  # weights_only=True
    assert adam_steps(checkpoint['state_dict']) == 2
    # the student's SGD never stepped the discriminator: no momentum state beyond the student's parameters
    buffers = ('running_mean', 'running_var', 'num_batches_tracked')
    student_parameters = sum(1 for key in checkpoint['state_dict']
                             if key.startswith('student.') and not key.endswith(buffers))
    assert len(checkpoint['optimizer']['state']) == student_parameters

    output = run(PYTHON, 'tools/train.py', config, '--work-dir', tmp_path / 'run', '--resume',
                 tmp_path / 'run' / 'iter_2.pth', '--cfg-options', 'train_cfg.max_iters=4',
                 'param_scheduler.0.end=4', PYTHONPATH=python_path(tmp_path))
    assert 'resumed epoch: 0, iter: 2' in output
    check_records(training_records(tmp_path / 'run'), range(1, 5))
    assert adam_steps(load_checkpoint_file(str(tmp_path / 'run' / 'iter_4.pth'))['state_dict']) == 4


def test_dist_train_two_processes_keep_one_discriminator(tmp_path, cityscapes_root):
    """Gradients of the discriminator are averaged over the processes: after training on different batches both
    hold the same discriminator and optimizer state; DDP (which does not see the discriminator) trains."""
    config = write_training_config(tmp_path, cityscapes_root, max_iters=2)
    output = run('bash', 'tools/dist_train.sh', config, 2, '--work-dir', tmp_path / 'run', PORT=free_port(),
                 PYTHONPATH=python_path(tmp_path))
    assert "'backend': 'gloo'" in output and 'Iter(train) [2/2]' in output
    check_records(training_records(tmp_path / 'run'), range(1, 3))
    rank0, rank1 = (torch.load(tmp_path / 'run' / f'discriminator_rank{rank}.pth', weights_only=True)
                    for rank in (0, 1))
    assert adam_steps(rank0) == 2 and rank0.keys() == rank1.keys()
    for key, value in rank0.items():
        if not key.endswith(('running_mean', 'running_var')):  # BN statistics are per process (as the student's)
            torch.testing.assert_close(rank1[key], value, msg=key)
