"""Overhaul of feature distillation (Heo et al., "A Comprehensive Overhaul of Feature Distillation",
ICCV 2019; clovaai/overhaul-distillation, Segmentation/).

Pre-ReLU features: teacher t (B, C, H, W); student ŝ = connector(s) (B, C, H, W), the connector being a
1×1 conv + BN (``connector=dict(type='ConvBNConnector')``).

Margin, per teacher channel c, from the affine parameters (γ, β) of the teacher's batch norm that
produces the tapped pre-ReLU values (running statistics are not used, by design):

    σ_c = |γ_c|,  μ_c = β_c
    m_c = μ_c − σ_c · φ(μ_c/σ_c) / Φ(−μ_c/σ_c)    if Φ(−μ_c/σ_c) > 0.001   (= E[x | x < 0], x ~ N(μ_c, σ_c²))
        = −3 σ_c                                   otherwise

Partial L2 to the margin-clipped teacher:

    t̃ = max(t, m)                                   (channel-broadcast)
    d = (ŝ − t̃)² · 1[(ŝ > t̃) or (t̃ > 0)]
    L = (1/B) Σ_b Σ_{c,h,w} d[b, c, h, w] / divisor

The reference sums d over its whole batch, divides position i by div = [8, 4, 2, 1, 1, 16] (layer1,
layer2, layer3, layer4, ASPP, decoder: ``divisor``) and adds 1e-5 · Σ_i L_i to its CE, then divides the
total by the batch size B. Relative to a per-pixel-mean CE (mmseg) the reference's weight is therefore
1e-5 on the batch SUM, i.e. ``loss_weight = 1e-5 · B_ref`` on this per-image sum, with B_ref = 12 (6 images
× 2 GPUs under DataParallel). Taking the mean over images here keeps that balance when the same total
batch is split over any number of processes. The sum over C·H·W makes the weight depend on the feature
resolution: re-tune it when the crop size changes.

The margin is computed once at build time from the loaded teacher (``prepare``) and kept as the buffer
``margin`` (1, C, 1, 1), saved with the checkpoints. Which batch norm: the tapped module itself when it
is one; for ``record='pre_activation'`` on a ResNet stage or block, the last norm of its last block
(``norm3`` of a Bottleneck, ``norm2`` of a BasicBlock); for an mmcv ConvModule or a MobileNetV2
InvertedResidual, its last norm layer. ``teacher_norm='path.to.bn'`` names it explicitly.
"""
import math
from typing import Optional

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg_kd.losses.distill_loss import FeatureDistillLoss
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import positive_number, text


def teacher_bn_margin(weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """m (C,): E[x | x < 0] for x ~ N(β, γ²) per channel, or −3|γ| where Φ(−β/|γ|) ≤ 0.001 (float32)."""
    sigma = weight.detach().double().abs()
    mean = bias.detach().double()
    z = mean / sigma.clamp(min=1e-300)
    below_zero = torch.special.ndtr(-z)
    density = torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    conditional = mean - sigma * density / below_zero.clamp(min=1e-300)
    return torch.where(below_zero > 0.001, conditional, -3 * sigma).float()


def norm_before_activation(module: nn.Module, path: str, record: str) -> nn.Module:
    """The batch norm whose output is the pre-activation tensor recorded at ``path``."""
    if isinstance(module, _BatchNorm):
        return module
    if record == 'pre_activation':
        block = module[-1] if isinstance(module, nn.Sequential) and len(module) > 0 else module
        for name in ('norm3', 'norm2'):  # mmseg Bottleneck / BasicBlock
            norm = getattr(block, name, None)
            if isinstance(norm, _BatchNorm):
                return norm
    elif record == 'output':
        if getattr(module, 'with_activation', False):
            raise ValueError(
                f"the teacher tap '{path}' records the output of a ConvModule after its activation; "
                f"Overhaul distils pre-activation values: tap its norm layer, e.g. '{path}.bn'")
        last = module[-1] if isinstance(module, nn.Sequential) and len(module) > 0 else module
        if isinstance(getattr(last, 'relu', None), nn.Module):
            raise ValueError(
                f"the teacher tap '{path}' records a residual block's output after its ReLU; Overhaul "
                f"distils pre-activation values: tap dict(module='{path}', record='pre_activation')")
        norms = [m for m in module.modules() if isinstance(m, _BatchNorm)]
        if norms:  # e.g. a MobileNetV2 block, whose last norm is not followed by an activation
            return norms[-1]
    raise ValueError(
        f"OverhaulFeatureDistillation cannot tell which batch norm produces the teacher tap '{path}' "
        f"({record}); tap a norm layer, a ResNet stage/block with record='pre_activation', or name the "
        "norm with teacher_norm='path.to.bn'.")


@MODELS.register_module()
class OverhaulFeatureDistillation(FeatureDistillLoss):
    """Partial L2 between connected student features and margin-clipped teacher features (pre-ReLU).

    Args:
        divisor: the position's divisor, > 0 (reference: 8, 4, 2, 1, 1, 16 for layer1–4, ASPP, decoder).
        teacher_norm: module path (in the teacher) of the batch norm that gives the margin; ``None``
            finds it from the teacher tap (see the module docstring).
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, C, H, W) (after its connector), teacher (B, C, H, W) → scalar.
    """

    def __init__(self, divisor: float = 1.0, teacher_norm: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.divisor = positive_number(type(self).__name__, 'divisor', divisor)
        self.teacher_norm = text(type(self).__name__, 'teacher_norm', teacher_norm, allow_none=True, allow_empty=False)
        self.register_buffer('margin', None)

    def prepare(self, student_shape, teacher_shape, teacher, teacher_tap):
        modules = dict(teacher.named_modules())
        if self.teacher_norm is not None:
            if self.teacher_norm not in modules or not isinstance(modules[self.teacher_norm], _BatchNorm):
                raise ValueError(f'teacher_norm {self.teacher_norm!r} is not a batch norm of the teacher')
            norm = modules[self.teacher_norm]
        else:
            norm = norm_before_activation(modules[teacher_tap.module], teacher_tap.module, teacher_tap.record)
        if not norm.affine:
            raise ValueError('OverhaulFeatureDistillation needs an affine teacher batch norm (γ, β) for the '
                             'margin')
        if norm.num_features != teacher_shape[1]:
            raise ValueError(f'the teacher batch norm has {norm.num_features} channels but the teacher tap '
                             f'gives {teacher_shape[1]}; name the right one with teacher_norm=')
        self.margin = teacher_bn_margin(norm.weight, norm.bias).view(1, -1, 1, 1)

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        if self.margin is None:
            raise RuntimeError('OverhaulFeatureDistillation.prepare() was not called: the margin comes from '
                               "the teacher's batch norm, which the distiller passes at build time")
        student = student.float()
        target = torch.max(teacher.float(), self.margin)
        penalised = (student > target) | (target > 0)
        distance = (student - target).pow(2) * penalised
        return distance.sum() / (student.shape[0] * self.divisor)
