"""Connectors, and the distiller options of the feature methods, on the demo PSPNets (64x128)."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS

from conftest import STUDENT_CFG
from mmseg_kd.layers import ConvBNConnector, ConvConnector, ResizeConnector
from test_seg_distiller import batch


def distiller_cfg(checkpoint, losses, student_options=None, teacher_options=None, **kwargs):
    return dict(type='SegDistiller', student=dict(cfg_path=str(STUDENT_CFG), **(student_options or {})),
                teacher=dict(cfg_path=str(STUDENT_CFG), checkpoint=checkpoint, **(teacher_options or {})),
                distill_losses=losses, **kwargs)


LOGITS = 'decode_head.conv_seg'
# layer3 (256 channels) and layer4 (512) of the dilated R18 are both at 1/8; layer1 (64) is at 1/4
FITNET = dict(type='FeatureMSE', student='backbone.layer3', teacher='backbone.layer4')


# ----------------------------------------------------------------------------- the connectors alone
def test_conv_bn_connector_follows_the_overhaul_initialisation():
    torch.manual_seed(0)
    connector = ConvBNConnector(in_channels=512, out_channels=256)
    assert connector.conv.bias is None
    assert connector.conv.weight.std().item() == pytest.approx(math.sqrt(2 / 256), rel=0.02)
    assert connector.conv.weight.mean().item() == pytest.approx(0.0, abs=2e-3)
    assert torch.equal(connector.bn.weight, torch.ones(256))
    assert torch.equal(connector.bn.bias, torch.zeros(256))
    connector.eval()
    x = torch.randn(2, 512, 3, 4)
    assert torch.allclose(connector(x, (3, 4)), connector.bn(F.conv2d(x, connector.conv.weight)), atol=1e-6)


def test_conv_connector_and_resizing():
    connector = ConvConnector(in_channels=3, out_channels=5, resize_to_teacher=True)
    assert connector.conv.bias is None
    x = torch.randn(1, 3, 4, 4)
    resized = F.interpolate(x, size=(8, 6), mode='bilinear', align_corners=False)
    assert torch.allclose(connector(x, (8, 6)), F.conv2d(resized, connector.conv.weight), atol=1e-6)
    assert connector(x, (2, 2)).shape == (1, 5, 2, 2)
    assert ConvConnector(3, 5)(x, (8, 6)).shape == (1, 5, 4, 4)  # no resize unless asked
    assert torch.equal(ResizeConnector(3, 3)(x, (8, 6)), resized)
    assert list(ResizeConnector(3, 3).parameters()) == []


def test_cropping_cuts_the_centre_before_the_projection():
    """The lineage's MobileNetV2 expansion maps are the teacher's plus a 1-pixel border: the reference computes
    them on the unpadded input, i.e. the centre, and its connector's BN sees the centre only."""
    x = torch.arange(2 * 3 * 6 * 5, dtype=torch.float32).reshape(2, 3, 6, 5)
    connector = ConvBNConnector(in_channels=3, out_channels=4, crop_to_teacher=True).train()
    centre = x[:, :, 1:5, 1:4]  # 6x5 -> 4x3: one row and one column off each side
    assert centre[0, 0, 0].tolist() == [6., 7., 8.]
    conv = F.conv2d(centre, connector.conv.weight)
    mean, var = conv.mean(dim=(0, 2, 3), keepdim=True), conv.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    assert torch.allclose(connector(x, (4, 3)), (conv - mean) / torch.sqrt(var + 1e-5), atol=1e-4)
    with pytest.raises(ValueError, match=r'student map \(6, 5\) is not the teacher map \(5, 3\) plus such a border'):
        connector(x, (5, 3))
    with pytest.raises(ValueError, match='not both'):
        ConvConnector(3, 4, resize_to_teacher=True, crop_to_teacher=True)


# ----------------------------------------------------------------------------- connectors in the distiller
def test_channel_mismatch_without_a_connector_names_the_fix(r18_checkpoint):
    with pytest.raises(ValueError, match=r"loss_fitnet: student tap 'backbone\.layer3' gives "
                                         r"\(1, 256, 8, 8\).*\(1, 512, 8, 8\).*"
                                         r"connector=dict\(type='ConvBNConnector'\)"):
        MODELS.build(distiller_cfg(r18_checkpoint, dict(loss_fitnet=FITNET)))


def test_size_mismatch_without_a_connector_names_the_fix(r18_checkpoint):
    losses = dict(loss_at=dict(type='AttentionTransfer', student='backbone.layer1',
                               teacher='backbone.layer4'))
    with pytest.raises(ValueError, match=r"same spatial size.*connector=dict\(type='ResizeConnector'\)"):
        MODELS.build(distiller_cfg(r18_checkpoint, losses))
    losses['loss_at']['connector'] = dict(type='ResizeConnector')
    distiller = MODELS.build(distiller_cfg(r18_checkpoint, losses))
    assert isinstance(distiller.connectors['loss_at'], ResizeConnector)


def test_bad_connector_entry_is_refused(r18_checkpoint):
    with pytest.raises(ValueError, match=r"connector must be a dict such as dict\(type='ConvBNConnector'\)"):
        MODELS.build(distiller_cfg(r18_checkpoint, dict(loss_fitnet=dict(FITNET, connector='ConvConnector'))))


@pytest.fixture(scope='module')
def fitnet_distiller(r18_checkpoint):
    losses = dict(loss_fitnet=dict(FITNET, connector=dict(type='ConvBNConnector')),
                  loss_ofd=dict(type='OverhaulFeatureDistillation', connector=dict(type='ConvConnector'),
                                student=dict(module='backbone.layer3', record='pre_activation'),
                                teacher=dict(module='backbone.layer4', record='pre_activation')))
    return MODELS.build(distiller_cfg(r18_checkpoint, losses))


def test_connectors_are_built_with_the_measured_channels_and_saved(fitnet_distiller):
    connector = fitnet_distiller.connectors['loss_fitnet']
    assert isinstance(connector, ConvBNConnector)
    assert (connector.in_channels, connector.out_channels) == (256, 512)
    keys = fitnet_distiller.state_dict()
    assert keys['connectors.loss_fitnet.conv.weight'].shape == (512, 256, 1, 1)
    assert 'connectors.loss_fitnet.bn.running_mean' in keys
    assert 'connectors.loss_ofd.conv.weight' in keys
    assert keys['distill_losses.loss_ofd.margin'].shape == (1, 512, 1, 1)  # from the teacher's layer4 norm2
    last_norm = fitnet_distiller.teacher.backbone.layer4[-1].norm2
    from mmseg_kd.losses import teacher_bn_margin
    assert torch.equal(keys['distill_losses.loss_ofd.margin'].flatten(),
                       teacher_bn_margin(last_norm.weight, last_norm.bias))


def test_connectors_train_with_the_student_and_get_their_own_learning_rate(fitnet_distiller):
    distiller = fitnet_distiller
    distiller.train()
    assert distiller.connectors['loss_fitnet'].training
    distiller.zero_grad()
    losses = distiller.loss(*batch())
    assert torch.isfinite(losses['distill.loss_fitnet']) and torch.isfinite(losses['distill.loss_ofd'])
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for connector in distiller.connectors.values():
        assert connector.conv.weight.grad.abs().sum() > 0
    wrapper = build_optim_wrapper(distiller, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
        paramwise_cfg=dict(custom_keys={'connectors': dict(lr_mult=10.)})))
    connector_params = {id(p) for p in distiller.connectors.parameters()}
    for group in wrapper.optimizer.param_groups:
        (param,) = group['params']
        assert group['lr'] == pytest.approx(0.1 if id(param) in connector_params else 0.01)
    assert connector_params <= {id(g['params'][0]) for g in wrapper.optimizer.param_groups}


def test_connector_output_is_what_the_loss_sees(fitnet_distiller):
    distiller = fitnet_distiller
    distiller.eval()
    inputs, samples = batch(seed=3)
    losses = distiller.loss(inputs, samples)
    with torch.no_grad():
        student = distiller.student.backbone(inputs)[2]
        teacher = distiller.teacher.backbone(inputs)[3]
        expected = F.mse_loss(distiller.connectors['loss_fitnet'](student, teacher.shape[-2:]), teacher)
    assert losses['distill.loss_fitnet'].item() == pytest.approx(expected.item(), rel=1e-5)
    distiller.train()


# ----------------------------------------------------------------------------- distiller options
def test_teacher_bn_train_puts_only_the_teacher_norms_in_train_mode(r18_checkpoint):
    losses = dict(loss_kd=dict(type='KLDivergence', student=LOGITS, teacher=LOGITS))
    distiller = MODELS.build(distiller_cfg(r18_checkpoint, losses, teacher_options=dict(bn_train=True)))
    distiller.train()
    norms = [m for m in distiller.teacher.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    others = [m for m in distiller.teacher.modules() if not isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.training for m in norms)
    assert not any(m.training for m in others)  # dropout stays off
    before = norms[0].running_mean.clone()
    distiller.loss(*batch())
    assert not torch.equal(norms[0].running_mean, before)  # batch statistics
    distiller.eval()
    assert not any(m.training for m in distiller.teacher.modules())
    default = MODELS.build(distiller_cfg(r18_checkpoint, losses))
    default.train()
    assert not any(m.training for m in default.teacher.modules())


def test_student_loss_weight_schedule_scales_the_students_own_losses(r18_checkpoint):
    """AICSD's ALW: the student's CE is multiplied by alpha = iteration / max_iters."""
    losses = dict(loss_kd=dict(type='KLDivergence', student=LOGITS, teacher=LOGITS))
    distiller = MODELS.build(distiller_cfg(
        r18_checkpoint, losses, student_options=dict(loss_weight_schedule=dict(type='TrainingProgress'))))
    distiller.eval()  # deterministic
    inputs, samples = batch(seed=4)
    with torch.no_grad():
        unscaled = distiller.student.loss(inputs, samples)
    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', 8)
    try:
        for iteration, alpha in ((0, 0.0), (2, 0.25), (6, 0.75)):
            hub.update_info('iter', iteration)
            with torch.no_grad():
                scaled = distiller.loss(inputs, samples)
            for key in ('decode.loss_ce', 'aux.loss_ce'):
                assert scaled[key].item() == pytest.approx(alpha * unscaled[key].item(), rel=1e-5, abs=1e-8)
            assert scaled['decode.acc_seg'].item() == pytest.approx(unscaled['decode.acc_seg'].item())
            assert scaled['distill.loss_kd'].item() > 0  # not scheduled
    finally:
        hub.update_info('max_iters', None)
        hub.update_info('iter', 0)


# ----------------------------------------------------------------------------- connector-only warm-up
def sgd_step(distiller, iteration):
    """One training step of the whole distiller at ``iteration`` (SGD with momentum and weight decay)."""
    MessageHub.get_current_instance().update_info('iter', iteration)
    wrapper = build_optim_wrapper(distiller, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.1)))
    losses = distiller.loss(*batch(seed=iteration))
    wrapper.update_params(sum(v for k, v in losses.items() if 'loss' in k))
    return losses


def parameters(module):
    return {name: param.detach().clone() for name, param in module.named_parameters()}


def changed(before, module):
    return {name for name, param in module.named_parameters() if not torch.equal(before[name], param)}


def test_connector_warmup_trains_only_the_connectors_then_everything(r18_checkpoint):
    losses = dict(loss_fitnet=dict(FITNET, connector=dict(type='ConvBNConnector')),
                  loss_kd=dict(type='KLDivergence', student=LOGITS, teacher=LOGITS))
    distiller = MODELS.build(distiller_cfg(r18_checkpoint, losses, connector_warmup=dict(iters=2)))
    distiller.train()
    student, connectors = parameters(distiller.student), parameters(distiller.connectors)
    for iteration in (0, 1):
        logged = sgd_step(distiller, iteration)
        assert not changed(student, distiller.student)  # no gradient: no step, no decay, no momentum
        assert changed(connectors, distiller.connectors) == set(connectors)
        assert not logged['decode.loss_ce'].requires_grad and logged['decode.loss_ce'] > 0
        assert not logged['distill.loss_kd'].requires_grad
        assert logged['distill.loss_fitnet'].requires_grad
        connectors = parameters(distiller.connectors)
    sgd_step(distiller, 2)
    assert changed(student, distiller.student) == set(student)
    assert changed(connectors, distiller.connectors) == set(connectors)


def test_connectors_frozen_after_warmup_still_pass_gradient_to_the_student(r18_checkpoint):
    losses = dict(loss_fitnet=dict(FITNET, connector=dict(type='ConvBNConnector')))
    distiller = MODELS.build(distiller_cfg(r18_checkpoint, losses,
                                           connector_warmup=dict(iters=1, freeze_after=True)))
    distiller.train()
    connectors = parameters(distiller.connectors)
    sgd_step(distiller, 0)
    assert changed(connectors, distiller.connectors) == set(connectors)
    connectors = parameters(distiller.connectors)
    MessageHub.get_current_instance().update_info('iter', 1)
    distiller.zero_grad()
    distiller.loss(*batch())['distill.loss_fitnet'].backward()
    assert all(param.grad is None for param in distiller.connectors.parameters())
    assert distiller.student.backbone.layer3[0].conv1.weight.grad.abs().sum() > 0
    assert distiller.student.backbone.layer4[0].conv1.weight.grad is None  # after the tap
    sgd_step(distiller, 1)
    assert not changed(connectors, distiller.connectors)


def test_connector_phases_need_a_connector_with_parameters(r18_checkpoint):
    logits_kd = dict(loss_kd=dict(type='KLDivergence', student=LOGITS, teacher=LOGITS))
    with pytest.raises(ValueError, match=r"no distillation loss has a connector.*"
                                         r"connector=dict\(type='ConvBNConnector'\)"):
        MODELS.build(distiller_cfg(r18_checkpoint, logits_kd, connector_warmup=dict(iters=10)))
    with pytest.raises(ValueError, match='connector_warmup.iters must be an integer >= 0'):
        MODELS.build(distiller_cfg(r18_checkpoint, dict(loss_fitnet=dict(
            FITNET, connector=dict(type='ConvBNConnector'))), connector_warmup=dict(iters=-1)))


@pytest.mark.parametrize('model, options, refused', [
    (dict(connector_warmup=dict(iters=100)), {}, True),
    (dict(connector_warmup=dict(freeze_after=True)), {}, True),
    (dict(connector_warmup=dict(iters=100)), dict(find_unused_parameters=True), False),
    (dict(connector_warmup=dict(iters=100)), dict(model_wrapper_cfg=dict(find_unused_parameters=True)), False),
    (dict(connector_warmup=dict(iters=100)),  # mmengine ignores the top-level key when model_wrapper_cfg is given
     dict(find_unused_parameters=True, model_wrapper_cfg=dict(type='MMDistributedDataParallel')), True),
    (dict(connector_warmup=dict(iters=0)), {}, False),
])
def test_distributed_warmup_without_unused_parameter_search_is_refused(model, options, refused):
    from mmengine.config import Config

    from mmseg_kd.engine.runner_setup import check_unused_parameters_allowed
    cfg = Config(dict(model=dict(type='SegDistiller', **model), launcher='pytorch', **options))
    if refused:
        with pytest.raises(ValueError, match='find_unused_parameters = True'):
            check_unused_parameters_allowed(cfg)
    else:
        check_unused_parameters_allowed(cfg)
    cfg.launcher = 'none'
    check_unused_parameters_allowed(cfg)
