"""MGD's MaskedFeatureGeneration and Af-DCD's OmniContrastiveDistillation against naive loop implementations
written here and tiny hand cases; the seeded keep-masks across a resume; the clipping of the loss's own gradients."""
import io
import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from mmseg_kd.engine.hooks import DistillLossGradClipHook
from mmseg_kd.layers import KeepMaskSampler, TwoBranchProjector
from mmseg_kd.losses import MaskedFeatureGeneration, OmniContrastiveDistillation, omni_contrastive_loss


def random_maps(student_shape, teacher_shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(student_shape, generator=generator), torch.randn(teacher_shape, generator=generator)


# ----------------------------------------------------------------------------- the omni-contrastive term
def naive_omni_contrast(generated, teacher, tau, num_groups, pool_size, patch_size):
    """L_ctr by loops: per image, patch and anchor (position, group), the cross-entropy of the positive against
    the vectors of the other groups."""
    if pool_size > 1:
        generated = nn.functional.max_pool2d(generated, pool_size)
        teacher = nn.functional.max_pool2d(teacher, pool_size)
    B, C, H, W = teacher.shape
    width = C // num_groups
    total = 0.0
    for b in range(B):
        for top in range(0, H, patch_size):
            for left in range(0, W, patch_size):
                positions = [(top + i, left + j) for i in range(patch_size) for j in range(patch_size)]

                def vector(features, position, group):
                    return [float(features[b, group * width + k, position[0], position[1]]) for k in range(width)]

                def similarity(position_i, group_i, position_j, group_j):
                    u, v = vector(generated, position_i, group_i), vector(teacher, position_j, group_j)
                    return -sum(abs(x - y) for x, y in zip(u, v)) / tau

                for position in positions:
                    for group in range(num_groups):
                        positive = similarity(position, group, position, group)
                        others = [similarity(position, group, other, other_group) for other in positions
                                  for other_group in range(num_groups) if other_group != group]
                        top_value = max([positive] + others)
                        log_sum = top_value + math.log(sum(math.exp(s - top_value) for s in [positive] + others))
                        total += log_sum - positive
    return total / (B * H * W)


def test_omni_contrast_hand_case():
    # C = 2 channels in M = 2 groups, one pixel, no pooling, 1x1 patches: u^G = (0, 1), u^t = (0, 2), tau 1.
    # anchor 0: s00 = 0, its negative s01 = -|0 - 2| = -2 -> log(1 + e^-2); anchor 1: s11 = -1, s10 = -1 -> log 2
    generated = torch.tensor([0.0, 1.0]).view(1, 2, 1, 1)
    teacher = torch.tensor([0.0, 2.0]).view(1, 2, 1, 1)
    value = omni_contrastive_loss(generated, teacher, tau=1.0, num_groups=2, pool_size=1, patch_size=1)
    assert value.item() == pytest.approx(math.log(1 + math.exp(-2)) + math.log(2), rel=1e-6)


@pytest.mark.parametrize('num_groups,pool_size,patch_size', [(4, 2, 2), (2, 1, 4), (8, 3, 1)])
def test_omni_contrast_matches_a_naive_loop(num_groups, pool_size, patch_size):
    generated, teacher = random_maps((2, 8, 12, 12), (2, 8, 12, 12), seed=num_groups)
    expected = naive_omni_contrast(generated.double(), teacher.double(), 0.5, num_groups, pool_size, patch_size)
    value = omni_contrastive_loss(generated, teacher, 0.5, num_groups, pool_size, patch_size)
    assert value.item() == pytest.approx(expected, rel=1e-5)


# ----------------------------------------------------------------------------- the generation term
def constant_projector(loss, bias):
    """Make the loss's projector output ``bias`` (C,) everywhere: zero weights, zero first bias."""
    with torch.no_grad():
        for parameter in loss.projector.parameters():
            parameter.zero_()
        loss.projector[2].bias.copy_(bias)


def test_generation_is_the_sum_of_squares_over_the_batch_size():
    loss = MaskedFeatureGeneration(3, 3, loss_weight=0.5)
    assert isinstance(loss.align, nn.Identity)
    bias = torch.tensor([1.0, -1.0, 0.5])
    constant_projector(loss, bias)
    student, teacher = random_maps((2, 3, 2, 2), (2, 3, 2, 2))
    expected = sum(float(teacher[b, c, h, w] - bias[c]) ** 2 for b in range(2) for c in range(3)
                   for h in range(2) for w in range(2)) / 2
    assert loss(student, teacher).item() == pytest.approx(0.5 * expected, rel=1e-6)


def naive_generation(loss, student, teacher, keep):
    """Σ (projector(align(S) ⊙ M) − T)² / B, with the mask applied by a loop over pixels."""
    aligned = loss.align(student)
    masked = aligned.clone()
    for b in range(keep.shape[0]):
        for h in range(keep.shape[2]):
            for w in range(keep.shape[3]):
                if keep[b, 0, h, w] == 0:
                    masked[b, :, h, w] = 0
    return ((loss.projector(masked) - teacher) ** 2).sum() / student.shape[0]


@pytest.mark.parametrize('projector', ['plain', 'enhanced'])
def test_generation_with_a_fixed_mask_matches_a_naive_computation(projector):
    torch.manual_seed(0)
    loss = MaskedFeatureGeneration(4, 6, projector=projector)
    assert isinstance(loss.align, nn.Conv2d) and loss.align.bias is not None and loss.align.kernel_size == (1, 1)
    student, teacher = random_maps((2, 4, 5, 7), (2, 6, 5, 7))
    keep = (torch.rand(2, 1, 5, 7) > 0.5).float()
    assert loss(student, teacher, mask=keep).item() == pytest.approx(
        naive_generation(loss, student, teacher, keep).item(), rel=1e-6)


def test_the_enhanced_projector_has_the_released_layers_in_order():
    names = [name for name, _ in TwoBranchProjector(4).named_parameters()]
    assert names == ['block_1.0.weight', 'block_1.0.bias', 'block_2.0.weight', 'block_2.0.bias',
                     'adaptor_1.weight', 'adaptor_1.bias', 'adaptor_2.weight', 'adaptor_2.bias']
    projector = TwoBranchProjector(2)
    x = torch.randn(1, 2, 3, 3)
    first = projector.block_1(x)
    expected = (projector.adaptor_1(first) + projector.adaptor_2(projector.block_2(first))) / 2
    torch.testing.assert_close(projector(x), expected)


def test_channels_come_from_the_taps_and_must_agree_with_given_ones():
    loss = MaskedFeatureGeneration()
    assert loss.projector is None
    loss.prepare((2, 8, 4, 4), (2, 16, 4, 4), teacher=None, teacher_tap=None)
    assert loss.align.in_channels == 8 and loss.projector[0].in_channels == 16
    with pytest.raises(ValueError, match=r'teacher_channels=32 but the taps give 8 and 16'):
        MaskedFeatureGeneration(8, 32).prepare((2, 8, 4, 4), (2, 16, 4, 4), teacher=None, teacher_tap=None)


# ----------------------------------------------------------------------------- keep-masks
def test_center_mask_zeroes_the_centre_third():
    keep = KeepMaskSampler(mask_type='center')((2, 5, 6, 9), torch.device('cpu'))
    expected = torch.ones(2, 1, 6, 9)
    expected[:, :, 2:4, 3:6] = 0
    torch.testing.assert_close(keep, expected)


def test_random_masks_drop_the_ratio_and_change_every_step():
    sampler = KeepMaskSampler(mask_ratio=0.75, seed=3)
    first, second = sampler((4, 1, 64, 64), torch.device('cpu')), sampler((4, 1, 64, 64), torch.device('cpu'))
    assert set(first.unique().tolist()) == {0.0, 1.0} and not torch.equal(first, second)
    assert first.mean().item() == pytest.approx(0.25, abs=0.02)


def test_a_resumed_loss_draws_the_masks_of_an_uninterrupted_one():
    loss = OmniContrastiveDistillation(16, 16, pool_size=1, patch_size=2, seed=7)
    student, teacher = random_maps((1, 16, 4, 4), (1, 16, 4, 4))
    loss(student, teacher)  # one step before the checkpoint
    buffer = io.BytesIO()
    torch.save(loss.state_dict(), buffer)
    uninterrupted = [loss.keep_mask(teacher.shape, teacher.device) for _ in range(2)]
    resumed = OmniContrastiveDistillation(16, 16, pool_size=1, patch_size=2, seed=99)
    buffer.seek(0)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert all(torch.equal(a, resumed.keep_mask(teacher.shape, teacher.device)) for a in uninterrupted)


def test_a_wrongly_shaped_mask_is_refused():
    with pytest.raises(ValueError, match=r'\(B, 1, H, W\) = \(1, 1, 4, 4\)'):
        MaskedFeatureGeneration(2, 2)(*random_maps((1, 2, 4, 4), (1, 2, 4, 4)), mask=torch.ones(1, 2, 4, 4))


# ----------------------------------------------------------------------------- Af-DCD
def test_afdcd_returns_both_weighted_terms_from_one_mask():
    torch.manual_seed(0)
    loss = OmniContrastiveDistillation(4, 8, num_groups=2, pool_size=2, patch_size=2, generation_weight=0.1,
                                       contrast_weight=3.0, loss_weight=2.0)
    student, teacher = random_maps((2, 4, 8, 8), (2, 8, 8, 8))
    keep = (torch.rand(2, 1, 8, 8) > 0.75).float()
    terms = loss(student, teacher, mask=keep)
    generated = loss.generate(student, teacher, keep)
    assert set(terms) == {'generation', 'contrast'}
    assert terms['generation'].item() == pytest.approx(
        2.0 * 0.1 * naive_generation(loss, student, teacher, keep).item(), rel=1e-6)
    expected = naive_omni_contrast(generated.detach().double(), teacher.double(), 0.07, 2, 2, 2)
    assert terms['contrast'].item() == pytest.approx(2.0 * 3.0 * expected, rel=1e-5)


def test_afdcd_refuses_widths_and_sizes_it_cannot_group():
    with pytest.raises(ValueError, match=r"teacher tap's 24 channels are not divisible by num_groups=16"):
        OmniContrastiveDistillation().check_shapes((1, 8, 16, 16), (1, 24, 16, 16))
    with pytest.raises(ValueError, match=r"\(8, 8\) map, max-pooled by pool_size=4, is \(2, 2\), not divisible into "
                                         r"patch_size=4"):
        OmniContrastiveDistillation().check_shapes((1, 8, 8, 8), (1, 32, 8, 8))


# ----------------------------------------------------------------------------- gradient clipping
class StudentWithLoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.student = nn.Conv2d(3, 4, 1)
        self.loss = OmniContrastiveDistillation(4, 16, num_groups=4, pool_size=1, patch_size=2,
                                                max_grad_norm=15.0, seed=0)


def test_clip_hook_clips_the_loss_parameters_only():
    torch.manual_seed(0)
    model = StudentWithLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    DistillLossGradClipHook().before_train(SimpleNamespace(model=model,
                                                           optim_wrapper=SimpleNamespace(optimizer=optimizer)))
    assert model.loss.grad_clip_hook_installed
    seen = {}

    def record(optimizer, args, kwargs):  # runs after the clip (pre-hooks run in registration order)
        seen['loss'] = torch.nn.utils.get_total_norm([p.grad for p in model.loss.parameters()]).item()
        seen['student'] = [p.grad.clone() for p in model.student.parameters()]

    optimizer.register_step_pre_hook(record)
    image, teacher = random_maps((2, 3, 4, 4), (2, 16, 4, 4))
    terms = model.loss(model.student(image), teacher * 100)
    (terms['generation'] + terms['contrast']).backward()
    unclipped_loss = torch.nn.utils.get_total_norm([p.grad for p in model.loss.parameters()]).item()
    student_before = [p.grad.clone() for p in model.student.parameters()]
    assert unclipped_loss > 15
    optimizer.step()
    assert seen['loss'] == pytest.approx(15.0, rel=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(seen['student'], student_before))
